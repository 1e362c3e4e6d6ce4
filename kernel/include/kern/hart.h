#pragma once
/*
 * hart.h - per-hart data, reached through the tp register
 *
 * Logical hart ids (0..nr_harts-1) are dense; RISC-V hart ids from the FDT
 * (hartid) may be sparse. The boot hart is always logical 0.
 *
 * Locking: a struct hart is written only by its own hart ("owner hart
 * only"), except the fields in the "remote" group, which other harts write
 * with atomics. That group sits on its own cache line so that a hart's
 * private counters never share a line with what others write.
 */
#include <kern/types.h>

/* Offsets used by entry.S; pinned by static_asserts in kernel/main.c. */
#define HART_SCRATCH0	0
#define HART_SCRATCH1	8
#define HART_STACK_LO	16
#define HART_EMERG_SP	24
#define HART_KSTACK_TOP	32
#define HART_CURRENT	40
#define HART_IPC_FAST_FN	48

#ifndef __ASSEMBLER__
#include <kern/spinlock_types.h>

struct trap_frame;
struct thread;

enum ipi_kind {
	IPI_CALL = 1 << 0,	/* run queued cross-hart calls (xcall.c) */
	IPI_STOP = 1 << 1,	/* park for good (panic, shutdown) */
	IPI_PING = 1 << 2,	/* test: answer with IPI_PONG */
	IPI_PONG = 1 << 3,	/* test: answer to IPI_PING */
	IPI_WAKE = 1 << 4,	/* leave wfi and look for work */
};

struct runqueue;

struct hart {
	/* entry.S scratch and stack bounds: owner hart only */
	unsigned long scratch0, scratch1;
	unsigned long stack_lo;		/* lowest usable byte of the stack */
	unsigned long emerg_sp;		/* stack for a kernel-stack overflow */
	/* Just past the stack's top: its upper bound, and where a trap from
	 * user mode puts its frame (below it). */
	unsigned long kstack_top;
	/* The running thread (owner hart only; sched.c sets it at every
	 * switch). thread_current() reads it with one load through tp, so
	 * no preemption can fall between finding the hart and reading it. */
	struct thread *current;
	/* What entry.S calls for SYS_IPC_CALL and SYS_IPC_REPLY_RECV: the
	 * IPC fast path's ipc_fast_call and ipc_fast_reply_recv, or
	 * ipc_fast_none for a call the ipcfast boot option keeps off it
	 * (kern/ipc.h). Set by ipc_fast_set before user mode (every hart's,
	 * by the boot hart); immutable after. Here, one load from tp, rather
	 * than a global mode tested in C. */
	void (*ipc_fast_fn[2])(long, unsigned long, unsigned long,
			       unsigned long, unsigned long, unsigned long,
			       unsigned long, struct trap_frame *);

	uint32_t id;			/* logical id; immutable after boot */
	uint64_t hartid;		/* RISC-V hart id; immutable */
	int plic_ctx;			/* PLIC S-mode context, -1; immutable */
	struct runqueue *rq;		/* its run queue; set by sched_init,
					 * before any thread runs; immutable */

	/* owner hart only */
	int irq_depth;			/* nested spin_lock/irq_save */
	bool need_resched;		/* a wake-up, the tick or an IPI asks
					 * for a switch at the end of the trap
					 * (set by this hart only) */
	bool irq_was_on;		/* SIE before the outermost save */
	bool in_panic;
	uint64_t ticks;			/* timer interrupts taken */
	uint64_t next_tick;		/* deadline, in time units */
	uint64_t irq_count[16];		/* interrupts by scause code */
	uint64_t ipi_pings, ipi_pongs;	/* test counters */
	uint64_t mm_faults;		/* as_fault calls */
	uint64_t mm_ad_fixups;		/* of which A/D bit fix-ups */
	uint64_t mm_spurious;		/* of which already resolved */
	uint64_t ipc_fast;		/* calls the IPC fast path did */
	uint64_t mm_region_retries;	/* faults that looked again because
					 * their region changed meanwhile */
	uint64_t pager_waits;		/* pager faults that waited for
					 * another thread's ask for their
					 * page instead of asking
					 * (kern/faultwait.h) */
	struct lockstat lockstat[LOCK_CLASS_MAX];
	uint8_t held[LOCK_HELD_MAX];	/* classes held, in order taken */
	uint8_t nheld;

	/* remote: written by other harts, with atomics */
	unsigned int ipi_pending __cacheline_aligned;	/* enum ipi_kind */
	int ping_from;			/* logical id to answer IPI_PING */
	volatile int online;		/* set by the hart when it runs */
	void (*work_fn)(void *);	/* hart_run_on(): idle-loop work */
	void *work_arg;
	unsigned int work_done;		/* bumped when work_fn returns */
} __cacheline_aligned;

extern struct hart harts[];
extern unsigned int nr_harts;		/* online harts; set once at boot */

static inline struct hart *this_hart(void)
{
#ifdef HOST_TEST
	extern _Thread_local struct hart *host_this_hart;
	return host_this_hart;
#else
	struct hart *h;

	/* Volatile: a thread may move to another hart inside any call (a
	 * switch), so tp must be read again each time, never reused from
	 * before a call. */
	__asm__ __volatile__("mv %0, tp" : "=r"(h));
	return h;
#endif
}

static inline unsigned int hart_self(void)
{
	return this_hart()->id;
}

/*
 * hart_run_on - run @fn(@arg) on hart @id's idle loop, interrupts enabled
 *
 * Only for harts sitting in the boot-time idle loop (the in-kernel tests
 * use it). Returns at once; hart_wait_work() waits for the end.
 */
void hart_run_on(unsigned int id, void (*fn)(void *), void *arg);
void hart_wait_work(unsigned int id);
/* Run @fn on every online hart (including this one), wait for all. */
void hart_run_all(void (*fn)(void *), void *arg);
/* The idle loop of a hart with nothing to do; never returns. */
__noreturn void hart_idle(void);
/* Boot hart, first thing in kmain. */
void smp_init_boot_hart(uint64_t hartid, int plic_ctx);
#endif
