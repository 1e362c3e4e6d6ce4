#pragma once
/*
 * ulock.h - user-space locks for the threads of one process
 *
 * Spinning locks that yield the hart while they wait (a holder may have
 * been preempted, and the harts are shared with everything else). They
 * guard short critical sections only: never hold one across a blocking
 * IPC call.
 *
 *   struct ulock    mutual exclusion
 *   struct urwlock  many readers or one writer; a waiting writer keeps new
 *                   readers out, so a stream of readers cannot starve it
 */
#include <rivet.h>

struct ulock {
	int held;		/* atomic: 1 while held */
};

static inline void ulock_lock(struct ulock *l)
{
	/* Acquire: pairs with the release in ulock_unlock. */
	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			sys_yield();
}

static inline void ulock_unlock(struct ulock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

#define URW_PENDING	0x40000000u	/* a writer waits for the readers */
#define URW_WRITER	0x80000000u	/* a writer holds it */

struct urwlock {
	unsigned int v;		/* atomic: readers | URW_PENDING | URW_WRITER */
};

static inline void urw_read_lock(struct urwlock *l)
{
	for (;;) {
		unsigned int v = __atomic_load_n(&l->v, __ATOMIC_RELAXED);

		if (!(v & (URW_PENDING | URW_WRITER)) &&
		    __atomic_compare_exchange_n(&l->v, &v, v + 1, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		sys_yield();
	}
}

static inline void urw_read_unlock(struct urwlock *l)
{
	__atomic_fetch_sub(&l->v, 1, __ATOMIC_RELEASE);
}

static inline void urw_write_lock(struct urwlock *l)
{
	unsigned int v;

	/* Claim the pending bit (one writer at a time)... */
	for (;;) {
		v = __atomic_load_n(&l->v, __ATOMIC_RELAXED);
		if (!(v & (URW_PENDING | URW_WRITER)) &&
		    __atomic_compare_exchange_n(&l->v, &v, v | URW_PENDING,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
		sys_yield();
	}
	/* ...then wait for the readers inside to leave. Acquire: pairs
	 * with their release in urw_read_unlock. */
	for (;;) {
		v = URW_PENDING;
		if (__atomic_compare_exchange_n(&l->v, &v, URW_WRITER, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		sys_yield();
	}
}

static inline void urw_write_unlock(struct urwlock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
