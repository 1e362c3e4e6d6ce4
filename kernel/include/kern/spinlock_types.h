#pragma once
/*
 * spinlock_types.h - spinlock and lock-statistics layouts (no functions,
 * so that struct hart can embed the statistics without a header cycle)
 */
#include <kern/types.h>

/*
 * Lock classes: every spinlock belongs to one, and statistics are kept per
 * class. Add new classes here and a name in kernel/sync/spinlock.c.
 */
enum lock_class {
	LOCK_CLASS_MISC = 0,	/* locks not worth a class of their own */
	LOCK_CLASS_CONSOLE,	/* console_lock */
	LOCK_CLASS_TEST,	/* in-kernel and host lock tests */
	LOCK_CLASS_PT,		/* page-table page locks (split mode) */
	LOCK_CLASS_AS,		/* address-space locks */
	LOCK_CLASS_FRAME,	/* frame allocator pools */
	LOCK_CLASS_ASID,	/* ASID allocator */
	LOCK_CLASS_KMAP,	/* kernel mappings (ioremap) */
	LOCK_CLASS_UART,	/* console receive ring */
	LOCK_CLASS_SCHED,	/* per-hart run queues */
	LOCK_CLASS_REGION,	/* address-space regions (struct as_region) */
	LOCK_CLASS_IPC,		/* endpoints and notifications */
	LOCK_CLASS_HANDLE,	/* per-process handle tables */
	LOCK_CLASS_MAX = 16,
};

/* Locks a hart can hold at once, for the lock-order checker. */
#define LOCK_HELD_MAX	8

/*
 * struct spinlock - a ticket lock, 8 bytes in every configuration
 *
 * ticket: low 16 bits "owner" (ticket now served), high 16 bits "next"
 *         (next ticket to hand out). Atomic; see spinlock.c for ordering.
 * cls:    enum lock_class; immutable after spin_init().
 * holder: logical id + 1 of the holding hart, 0 when free, with
 *         CONFIG_DEBUG_SPINLOCK (else never written: two stores less per
 *         lock, for what only the debug checks read). Written by the holder
 *         only (relaxed atomics); read for assert_held(), spin_held() and
 *         recursion checks. In every build, so the size, and so the frame
 *         record holding a page-table lock, never changes.
 */
struct spinlock {
	uint32_t ticket;
	uint16_t cls;
	uint16_t holder;
};

/* Per-hart, per-class counters. Written by the owner hart only. */
struct lockstat {
	uint64_t acquired;	/* all acquisitions */
	uint64_t contended;	/* acquisitions that had to wait */
	uint64_t wait_ticks;	/* arch_time() ticks spent waiting */
	uint64_t max_wait;	/* longest single wait, ticks */
};
