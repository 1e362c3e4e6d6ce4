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
/* (const char *name, const char *args or 0, void *share, size_t len,
 * handle or 0): pid of a new process running bin/NAME of the boot
 * archive, a child of the caller. With len != 0 the child starts with a
 * copy-on-write view of the caller's region [share, share+len) (exactly
 * one SYS_MAP region); with a handle (which needs HANDLE_R_GRANT) the
 * child starts holding the same object with the same rights, as its
 * handle HANDLE_SPAWN. */
#define SYS_SPAWN	11
#define HANDLE_SPAWN	0x101	/* a child's first handle (slot 0, gen 1) */
#define SPAWN_NAME_MAX	31	/* bytes of NAME, its NUL not counted */
#define SYS_WAIT	12	/* (pid): the child's status once it ended */
#define SYS_KILL	13	/* (pid, flags): 0; the process ends with status
				 * -1; with KILL_TREE its descendants too */
#define KILL_TREE	1	/* SYS_KILL: and every process it started,
				 * theirs, and so on */
#define SYS_SLEEP	14	/* (nanoseconds): 0, after at least that long;
				 * a kill of the process ends it at once */
/* (void *addr, size_t len, int prot): 0; the range must cover whole
 * regions (from SYS_MAP); their pages and later faults get @prot. */
#define SYS_PROTECT	15

/*
 * Handles and IPC (docs/abi.md, "Capabilities and IPC"). A handle is a
 * positive int naming a kernel object in the caller's process, with
 * rights (HANDLE_R_*). A value that was never given out, or was closed,
 * is invalid: -E_BADH. An object of the wrong type: -E_TYPE. A right
 * that is missing: -E_PERM.
 */
#define SYS_HANDLE_CLOSE  16	/* (h): 0 */
/* (h, rights): a new handle to the same object with rights & the old
 * ones (never more; needs HANDLE_R_DUP). */
#define SYS_HANDLE_DUP	  17
/* (h): the object's type (HANDLE_T_*) << 16 | the handle's rights. */
#define SYS_HANDLE_INFO	  18
#define SYS_ENDPOINT_CREATE 19	/* (): handle with every endpoint right */
#define SYS_NOTIFY_CREATE 20	/* (): handle with every notification right */
#define SYS_NOTIFY_SIGNAL 21	/* (h, bits): 0; ORs bits in, wakes a waiter */
/* (h, timeout_ns): 0 and in a1 the bits that were set (now cleared),
 * waiting while none is; -E_TIMEDOUT. Timeouts: 0 waits forever, IPC_POLL
 * not at all. */
#define SYS_NOTIFY_WAIT	  22
/*
 * Messages: info (IPC_INFO_*), four words w0..w3 in registers, and up to
 * IPC_BUF_WORDS more words in the thread's IPC buffer (SYS_IPC_BUFFER).
 *
 * SYS_IPC_CALL (h, info, w0, w1, w2, w3, timeout_ns): send, then wait for
 *   the reply. Returns 0 in a0 with the reply's info in a1 and words in
 *   a2..a5 (and its payload in the buffer), or an error: -E_PEER (no
 *   receiver will ever answer: every holder of the receive right is gone,
 *   or the server ended before replying), -E_TIMEDOUT, -E_INTR (the
 *   process is being killed), -E_MSGSIZE.
 * SYS_IPC_RECV (h, timeout_ns): wait for a call. Returns 0, info in a1,
 *   words in a2..a5, and the sender's identity (pid << 32 | thread id) in
 *   a6. The thread now owes that caller a reply (one at a time: a receive
 *   with a reply still owed ends the old call with -E_PEER).
 * SYS_IPC_REPLY (info, w0, w1, w2, w3): answer the call this thread
 *   received. 0, or -E_PEER (the caller is gone or gave up), -E_NOENT (no
 *   call is owed).
 * SYS_IPC_REPLY_RECV (h, info, w0, w1, w2, w3, timeout_ns): reply (if a
 *   reply is owed; its failure is not reported), then receive on h.
 * SYS_IPC_BUFFER (addr): make the page at addr (page aligned, writable,
 *   in a region) this thread's IPC buffer; 0 to have none. 0.
 */
#define SYS_IPC_CALL	  23
#define SYS_IPC_RECV	  24
#define SYS_IPC_REPLY	  25
#define SYS_IPC_REPLY_RECV 26
#define SYS_IPC_BUFFER	  27
/*
 * External pagers (docs/abi.md, "Pagers").
 *
 * SYS_MAP_PAGER (addr, len, prot, h, key): like SYS_MAP, but the region's
 *   pages come from the pager behind endpoint h (needs HANDLE_R_SEND): a
 *   fault on an absent page suspends the thread and calls h with label
 *   PAGER_FAULT, w0 = key, w1 = offset of the page in the region, w2 =
 *   access (PAGER_READ/WRITE/EXEC), sender = the faulting thread. The
 *   pager answers with IPC_INFO_PAGE set and w0 = the address of a page
 *   of its own (readable; writable if prot has PROT_WRITE): that frame is
 *   mapped at the fault address, shared with the pager, and the thread
 *   resumes. Any other answer, or a pager that is gone, kills the faulting
 *   process with the usual report line.
 * SYS_PAGER_EVICT (h, key, offset, len): unmap the pages [offset,
 *   offset+len) of every region backed by (h, key) (needs HANDLE_R_RECV:
 *   only the pager); the next touch faults to the pager again. Returns
 *   the number of pages unmapped.
 */
#define SYS_MAP_PAGER	  28
#define SYS_PAGER_EVICT	  29
/* (char *buf, size_t len, timeout_ns): console input bytes (at least one,
 * waiting for it; -E_TIMEDOUT), until the console server exists. */
#define SYS_DEBUG_READ	  30
/* (index, struct rivet_proc_info *): 0 and the index-th live process
 * (0, 1, ... in table order); -E_NOENT past the last. */
#define SYS_PROC_INFO	  31
/*
 * Devices (docs/abi.md, "Devices"). The first process gets a handle
 * (HANDLE_T_DEVICE, rights MAP|GRANT|DUP) for every device of the device
 * tree the kernel does not keep for itself (it keeps the interrupt
 * controller and timers), the console UART included.
 *
 * SYS_DEVICE_INFO (h, struct rivet_device_info *): 0.
 * SYS_DEVICE_MAP (h, addr): map the device's registers (addr 0: the
 *   kernel picks) read/write into the caller; returns the address. Mapping
 *   the console UART hands the console over: from then on the kernel
 *   writes its messages only to its log (SYS_KLOG_READ), except a panic.
 * SYS_IRQ_BIND (h, notify_h, bits): the device's interrupt signals bits
 *   on the notification (needs SIGNAL), then stays masked until
 *   SYS_IRQ_ACK (h). Both need HANDLE_R_MAP on h.
 * SYS_KLOG_READ (char *buf, size_t len): kernel log bytes written since
 *   the console was handed over and not read yet (0 if none).
 * SYS_KLOG_BIND (notify_h, bits): signal bits when the log has new text.
 */
#define SYS_DEVICE_INFO	  32
#define SYS_DEVICE_MAP	  33
#define SYS_IRQ_BIND	  34
#define SYS_IRQ_ACK	  35
#define SYS_KLOG_READ	  36
#define SYS_KLOG_BIND	  37
/* (pid, struct rivet_proc_info *): 0 and process @pid, if it is in the
 * table (alive, or ended and not waited for: exiting set); -E_NOENT if
 * not, -E_INVAL for pid <= 0. One look, unlike a SYS_PROC_INFO scan, which
 * a process leaving the table can make skip another. */
#define SYS_PROC_FIND	  38
/* (index, char *buf, size_t len): the name's length, and in buf the
 * NUL-terminated NAME of the index-th program of the boot archive (0, 1,
 * ... in archive order): a member bin/NAME that SYS_SPAWN can start. NAME
 * is not empty, has no '/' and at most SPAWN_NAME_MAX bytes; a name that
 * occurs more than once counts once, where it occurs last, and only if
 * that last member (the one SYS_SPAWN runs) is a regular file. -E_NOENT
 * past the last, -E_INVAL for index < 0, -E_RANGE if len is not more than
 * the name's length (nothing written), -E_FAULT for a bad buf, -E_BADFMT
 * for a damaged archive. */
#define SYS_PROGRAM_INFO  39
#define SYS_NR		  40

#define PAGER_FAULT	0x70666c74	/* label of a pager fault message */
#define PAGER_READ	0
#define PAGER_WRITE	1
#define PAGER_EXEC	2
#define IPC_INFO_PAGE	0x1000		/* a reply to PAGER_FAULT: w0 = page */

/* Handle rights. */
#define HANDLE_R_SEND	0x01	/* endpoint: call */
#define HANDLE_R_RECV	0x02	/* endpoint: receive and reply */
#define HANDLE_R_GRANT	0x04	/* may be passed in a message */
#define HANDLE_R_DUP	0x08	/* may be duplicated */
#define HANDLE_R_SIGNAL	0x10	/* notification: signal */
#define HANDLE_R_WAIT	0x20	/* notification: wait */
#define HANDLE_R_MAP	0x40	/* device: map, bind and ack its interrupt */
#define HANDLE_R_ALL	0x7f

/* Object types (SYS_HANDLE_INFO). */
#define HANDLE_T_ENDPOINT	1
#define HANDLE_T_NOTIFY		2
#define HANDLE_T_DEVICE		3

/* Message info word: IPC_INFO(label, payload words, flags). */
#define IPC_BUF_WORDS		 512	/* one 4 KiB page of 8-byte words */
#define IPC_INFO_LEN(i)		 ((i) & 0x3ff)	/* payload words, 0..512 */
#define IPC_INFO_HANDLE		 0x400	/* w3 carries a handle */
#define IPC_INFO_HANDLE_DROPPED	 0x800	/* (received) no room for it */
#define IPC_INFO_RIGHTS(i)	 (((i) >> 16) & 0xff) /* kept of the handle */
#define IPC_INFO_LABEL(i)	 ((unsigned long)(i) >> 32)
#define IPC_INFO(label, len, flags)                                          \
	(((unsigned long)(label) << 32) | ((unsigned long)(len) & 0x3ff) |   \
	 (flags))
#define IPC_INFO_GRANT(rights)	 ((unsigned long)((rights) & 0xff) << 16)
#define IPC_POLL		 (~0UL)	/* timeout: do not wait for a partner
					 * (a call that finds a receiver
					 * waits for its answer) */

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
	unsigned long total_frames;	/* frames the allocator manages */
	unsigned long ipc_fast;		/* calls and reply-receives done by
					 * the IPC fast path, all harts */
	unsigned long pager_waits;	/* faults on a pager-backed page that
					 * waited for another thread's call
					 * to the pager for it instead of
					 * calling, all harts */
};

/* SYS_DEVICE_INFO */
struct rivet_device_info {
	char compatible[32];		/* the node's first compatible */
	char path[64];			/* its path in the device tree */
	unsigned long base, size;	/* registers (size page aligned) */
	unsigned int irq;		/* interrupt source, 0 if none */
	unsigned int console;		/* 1: the kernel's console UART */
	unsigned int reg_shift;		/* reg-shift (UARTs), default 0 */
	unsigned int reg_io_width;	/* reg-io-width, default 1 */
};

/* SYS_PROC_INFO */
struct rivet_proc_info {
	int pid;
	int parent;			/* 0 for init */
	unsigned int threads;		/* live threads, the main one too */
	unsigned int exiting;		/* 1: ending (killed or exited) */
	char name[32];
};
#endif

/* Lowest user address the kernel hands out or accepts for code. */
#define USER_BASE	0x10000
/* The main thread's stack: [USER_STACK_TOP - USER_STACK_SIZE, TOP). */
#define USER_STACK_TOP	0x3fff000000UL
#define USER_STACK_SIZE	(1UL << 20)
