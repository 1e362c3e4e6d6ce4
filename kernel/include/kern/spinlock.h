#pragma once
/*
 * spinlock.h - ticket spinlocks (fair under contention)
 *
 * spin_lock() disables interrupts on this hart before it spins and
 * spin_unlock() restores them when the last lock held is dropped (a
 * per-hart nesting count, as in xv6's push_off/pop_off). The _raw variants
 * leave interrupts alone: only for callers that already run with them off.
 *
 * Never wait for another hart's acknowledgement (a cross-hart call, a TLB
 * shootdown) while holding a lock that hart might be spinning on.
 */
#include <kern/spinlock_types.h>

#define SPINLOCK_INIT(c) { .ticket = 0, .cls = (c), .holder = 0 }

void spin_init(struct spinlock *l, enum lock_class cls);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
void spin_lock_raw(struct spinlock *l);
void spin_unlock_raw(struct spinlock *l);
bool spin_is_locked(const struct spinlock *l);
/* True if this hart holds @l (meaningful with CONFIG_DEBUG_SPINLOCK). */
bool spin_held(const struct spinlock *l);
const char *lock_class_name(unsigned int cls);
unsigned int lock_class_rank_of(unsigned int cls);

/* Interrupt-disable nesting used by spin_lock; usable on its own. */
void irq_push(void);
void irq_pop(void);

#ifdef CONFIG_DEBUG_SPINLOCK
#define assert_held(l)                                                        \
	do {                                                                  \
		if (!spin_held(l))                                            \
			panic("%s:%d: lock %p not held by this hart",         \
			      __FILE__, __LINE__, (void *)(l));               \
	} while (0)
#else
#define assert_held(l) do { (void)(l); } while (0)
#endif

/* Sum of every hart's counters for @cls. */
void lockstat_sum(unsigned int cls, struct lockstat *out);
void lockstat_reset(void);
