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
#include <kern/arch.h>
#include <kern/hart.h>

#define SPINLOCK_INIT(c) { .ticket = 0, .cls = (c), .holder = 0 }

void spin_init(struct spinlock *l, enum lock_class cls);
static inline void spin_lock(struct spinlock *l);
static inline void spin_unlock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
static inline void spin_lock_raw(struct spinlock *l);
static inline void spin_unlock_raw(struct spinlock *l);
bool spin_is_locked(const struct spinlock *l);
/* True if this hart holds @l (meaningful with CONFIG_DEBUG_SPINLOCK). */
bool spin_held(const struct spinlock *l);
const char *lock_class_name(unsigned int cls);
unsigned int lock_class_rank_of(unsigned int cls);

/* Interrupt-disable nesting used by spin_lock; usable on its own. */
static inline void irq_push(void);
static inline void irq_pop(void);

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

/*
 * The fast paths are inline (every page fault takes a lock and keeps
 * interrupts off a few times: docs/performance.md); what is rare or only
 * for debug builds stays out of line in spinlock.c:
 */
/* Wait for ticket @me of a lock found taken; count the wait. */
void spin_wait(struct spinlock *l, uint16_t me);
/* CONFIG_DEBUG_SPINLOCK: recursion and lock-order checks before taking
 * @l, owner check and order bookkeeping before releasing it (the general
 * case; spin_debug_lock/unlock below do the usual one inline). */
void spin_debug_acquire(struct spinlock *l);
void spin_debug_release(struct spinlock *l);
/* CONFIG_DEBUG_SPINLOCK: spin_lock_raw_as named the wrong class. */
__noreturn void spin_class_bad(const struct spinlock *l, unsigned int cls);
/* CONFIG_DEBUG: irq_pop with interrupts on, or without irq_push. */
__noreturn void irq_pop_bad(void);

static inline void irq_push(void)
{
	unsigned long was = arch_irq_disable();
	struct hart *h = this_hart();

	if (h->irq_depth++ == 0)
		h->irq_was_on = was;
}

static inline void irq_pop(void)
{
	struct hart *h = this_hart();

#ifdef CONFIG_DEBUG
	if (arch_irqs_enabled() || h->irq_depth <= 0)
		irq_pop_bad();
#endif
	if (--h->irq_depth == 0 && h->irq_was_on)
		arch_irq_enable();
}

/*
 * Ranks (docs/locking.md): a hart may take a lock only if its class ranks
 * above every lock it holds. Two locks of one class are never nested
 * (page-table locks: "never two siblings"), except the test and misc
 * classes. Here, not in spinlock.c, so that the rank of a class named as
 * a constant (spin_lock_raw_as) is a constant too.
 */
static const uint8_t lock_class_rank[LOCK_CLASS_MAX] = {
	[LOCK_CLASS_REGION] = 5,
	[LOCK_CLASS_AS] = 10,
	[LOCK_CLASS_PT] = 20,
	[LOCK_CLASS_FRAME] = 30,
	[LOCK_CLASS_TEST] = 50,
	[LOCK_CLASS_MISC] = 60,
	[LOCK_CLASS_IPC] = 64,
	[LOCK_CLASS_HANDLE] = 66,
	[LOCK_CLASS_SCHED] = 70,
	[LOCK_CLASS_ASID] = 75,
	[LOCK_CLASS_KMAP] = 80,
	[LOCK_CLASS_UART] = 85,
	[LOCK_CLASS_CONSOLE] = 90,
};

#ifdef CONFIG_DEBUG_SPINLOCK
/*
 * The debug checks' usual cases inline; anything else, and every panic,
 * goes through spinlock.c.
 *
 * Taking @l (of class @cls): this hart does not hold it and, with the
 * lock-order checker, @cls ranks above the last class in h->held. That
 * is enough: every entry was checked against all those before it when it
 * was pushed, and removing one keeps the rest in order, so h->held is in
 * rank order and its last entry ranks highest. Equal ranks (a second lock
 * of one class) go the long way, which knows the exceptions.
 */
static __always_inline void spin_debug_lock(struct hart *h,
					    struct spinlock *l,
					    unsigned int cls)
{
#ifdef CONFIG_DEBUG_LOCK_ORDER
	unsigned long n = h->nheld;
#endif

	if (unlikely(__atomic_load_n(&l->holder, __ATOMIC_RELAXED) ==
		     h->id + 1)
#ifdef CONFIG_DEBUG_LOCK_ORDER
	    || n >= LOCK_HELD_MAX ||
	    (n && lock_class_rank[h->held[n - 1]] >= lock_class_rank[cls])
#endif
	) {
		spin_debug_acquire(l);
		return;
	}
#ifdef CONFIG_DEBUG_LOCK_ORDER
	h->held[n] = (uint8_t)cls;
	h->nheld = (uint8_t)(n + 1);
#endif
}

/*
 * Releasing @l: this hart holds it and, with the lock-order checker, the
 * most recent entry of its class in h->held is the last or the one before
 * the last (the IPC fast path drops its endpoint's lock before the run
 * queue's, taken after it).
 */
static __always_inline void spin_debug_unlock(struct hart *h,
					      struct spinlock *l)
{
#ifdef CONFIG_DEBUG_LOCK_ORDER
	unsigned long n = h->nheld;
	unsigned int cls = l->cls;
#endif

	if (unlikely(__atomic_load_n(&l->holder, __ATOMIC_RELAXED) !=
		     h->id + 1)) {
		spin_debug_release(l);
		return;
	}
#ifdef CONFIG_DEBUG_LOCK_ORDER
	if (likely(n && n <= LOCK_HELD_MAX && h->held[n - 1] == cls)) {
		h->nheld = (uint8_t)(n - 1);
		return;
	}
	if (n >= 2 && n <= LOCK_HELD_MAX && h->held[n - 2] == cls) {
		h->held[n - 2] = h->held[n - 1];
		h->nheld = (uint8_t)(n - 1);
		return;
	}
	spin_debug_release(l);
#endif
}
#endif

/* One more acquisition of a lock of class @cls by this hart @h. */
static __always_inline void lockstat_count(struct hart *h, unsigned int cls)
{
#ifdef CONFIG_LOCK_STATS
	/* Owner hart only; relaxed atomics so that remote readers see whole
	 * values (and ThreadSanitizer agrees); no AMO on riscv. */
	arch_counter_inc_u64(&h->lockstat[cls].acquired);
#else
	(void)h;
	(void)cls;
#endif
}

/*
 * spin_lock_raw_uncounted - spin_lock_raw_as but for the count of
 * acquisitions, which the caller keeps: the IPC fast path, whose
 * committed calls count both their locks (endpoint and run queue) in
 * h->ipc_fast, which lockstat_sum adds, and which counts those it takes
 * and declines after with lockstat_count. Waits are counted as usual.
 */
static __always_inline void spin_lock_raw_uncounted(struct hart *h,
						    struct spinlock *l,
						    unsigned int cls)
{
	uint32_t old;

#ifdef CONFIG_DEBUG_SPINLOCK
	if (unlikely(l->cls != cls))
		spin_class_bad(l, cls);
	spin_debug_lock(h, l, cls);
#endif
	old = __atomic_fetch_add(&l->ticket, 1U << 16, __ATOMIC_ACQUIRE);
	if (unlikely((uint16_t)old != (uint16_t)(old >> 16)))
		spin_wait(l, (uint16_t)(old >> 16));
#ifdef CONFIG_DEBUG_SPINLOCK
	__atomic_store_n(&l->holder, (uint16_t)(h->id + 1), __ATOMIC_RELAXED);
#endif
	(void)h;
}

/*
 * spin_lock_raw_as - spin_lock_raw for a lock whose class @cls the caller
 * names as a constant: the statistics' counter is then at a fixed offset
 * from the hart (three instructions instead of seven). Debug builds check
 * @cls. @h is this hart, which the caller has at hand (this_hart() reads
 * tp again each time: one instruction a lock).
 */
static __always_inline void spin_lock_raw_as(struct hart *h, struct spinlock *l,
					     unsigned int cls)
{
	spin_lock_raw_uncounted(h, l, cls);
	lockstat_count(h, cls);
}

static inline void spin_lock_raw(struct spinlock *l)
{
	spin_lock_raw_as(this_hart(), l, l->cls);
}

/*
 * spin_unlock_raw_begin - spin_unlock_raw but for its last store, for a
 * lock released from assembly (sched_park_switch's run-queue lock, once
 * off the stack it was taken on): the debug bookkeeping, now. Return: the
 * owner half of @l, to be given the low 16 bits of *@next with release
 * order.
 */
static __always_inline uint16_t *spin_unlock_raw_begin(struct spinlock *l,
						       unsigned int *next)
{
	/* Little endian: the low half of the ticket word is "owner". */
	uint16_t *owner = (uint16_t *)&l->ticket;

#ifdef CONFIG_DEBUG_SPINLOCK
	spin_debug_unlock(this_hart(), l);
	__atomic_store_n(&l->holder, 0, __ATOMIC_RELAXED);
#endif
	/* Only the holder writes the owner half: a plain read is enough. */
	*next = __atomic_load_n(owner, __ATOMIC_RELAXED) + 1U;
	return owner;
}

static __always_inline void spin_unlock_raw(struct spinlock *l)
{
	unsigned int next;
	uint16_t *owner = spin_unlock_raw_begin(l, &next);

	__atomic_store_n(owner, (uint16_t)next, __ATOMIC_RELEASE);
}

static inline void spin_lock(struct spinlock *l)
{
	irq_push();
	spin_lock_raw(l);
}

static inline void spin_unlock(struct spinlock *l)
{
	spin_unlock_raw(l);
	irq_pop();
}
