#pragma once
/*
 * abi/syscall.h - the system-call ABI, shared by the kernel and userland
 * (docs/abi.md). User code traps with `ecall`: a7 = call number, a0..a5 =
 * arguments; the kernel returns in a0 a value >= 0, or a negative error
 * code -E_* (kern/errno.h values, which never change). Other registers are
 * preserved.
 */

#define SYS_EXIT	0	/* (int status): ends the process; no return */
#define SYS_DEBUG_WRITE	1	/* (const char *buf, size_t len): bytes written */
#define SYS_YIELD	2	/* (): 0 */
#define SYS_GETPID	3	/* (): process id */
#define SYS_CLOCK	4	/* (): nanoseconds since boot */
#define SYS_MAP		5	/* (void *addr, size_t len, int prot): addr */
#define SYS_UNMAP	6	/* (void *addr, size_t len): 0 */
/* (pc, a0, a1, sp, hart or -1): thread id. The thread starts at pc with
 * a0, a1 and sp as given, in the caller's process, pinned to a hart or
 * not; it must end with SYS_THREAD_EXIT. */
#define SYS_THREAD_CREATE 7
#define SYS_THREAD_EXIT	8	/* (int status): no return */
#define SYS_THREAD_JOIN	9	/* (tid): its status, once it has ended */
#define SYS_STATS	10	/* (struct rivet_stats *): 0 */
/* (const char *name, const char *args or 0, void *share, size_t len): pid
 * of a new process running bin/NAME of the boot archive, a child of the
 * caller. With len != 0 the child starts with a copy-on-write view of the
 * caller's region [share, share+len) (exactly one SYS_MAP region). */
#define SYS_SPAWN	11
#define SYS_WAIT	12	/* (pid): the child's status once it ended */
#define SYS_KILL	13	/* (pid): 0; the process ends with status -1 */
#define SYS_SLEEP	14	/* (nanoseconds): 0, after at least that long */
/* (void *addr, size_t len, int prot): 0; the range must cover whole
 * regions (from SYS_MAP); their pages and later faults get @prot. */
#define SYS_PROTECT	15
#define SYS_NR		16

/* SYS_MAP prot bits (the same values as the kernel's AS_PROT_*). */
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4

#define STATS_MAX_HARTS	64

#ifndef __ASSEMBLER__
struct rivet_lockstat {
	unsigned long acquired;		/* acquisitions, all harts */
	unsigned long contended;	/* of which had to wait */
	unsigned long wait_ns;		/* time spent waiting */
};

/* SYS_STATS: the memory system's counters, summed or per hart. */
struct rivet_stats {
	unsigned int nharts;		/* harts online */
	unsigned int ptlock_split;	/* 1: split page-table locks */
	unsigned long free_frames;	/* free 4 KiB frames (pool + caches) */
	unsigned long faults[STATS_MAX_HARTS];	   /* page faults handled */
	unsigned long ad_fixups[STATS_MAX_HARTS];  /* A/D-bit fix-ups */
	unsigned long spurious[STATS_MAX_HARTS];   /* already resolved */
	struct rivet_lockstat pt;	/* page-table-page locks */
	struct rivet_lockstat as;	/* address-space locks */
	struct rivet_lockstat frame;	/* frame pool lock */
};
#endif

/* Lowest user address the kernel hands out or accepts for code. */
#define USER_BASE	0x10000
/* The main thread's stack: [USER_STACK_TOP - USER_STACK_SIZE, TOP). */
#define USER_STACK_TOP	0x3fff000000UL
#define USER_STACK_SIZE	(1UL << 20)
