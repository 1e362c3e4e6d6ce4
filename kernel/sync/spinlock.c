/*
 * spinlock.c - ticket spinlocks with per-hart, per-class statistics
 *
 * Ordering (RVWMO): taking a ticket is an atomic add with acquire
 * semantics (amoadd.w.aq); waiting loads the "owner" half with acquire;
 * unlocking stores owner+1 with release (fence rw,w; sh). The release store
 * pairs with the acquire load of the next holder, so everything written in
 * the critical section is visible to it. The halfword store to the low half
 * of a word that others update with 32-bit AMOs is the same mixed-size
 * pattern as Linux's RISC-V ticket locks; it is well defined under RVWMO.
 *
 * Statistics are counted in this hart's struct hart (no shared write):
 * every acquisition, and for those that found the lock taken, the time
 * spent spinning. Readers sum over harts (lockstat_sum).
 */
#include <kern/spinlock.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/string.h>

static const char *const lock_class_names[LOCK_CLASS_MAX] = {
	[LOCK_CLASS_MISC] = "misc",
	[LOCK_CLASS_CONSOLE] = "console",
	[LOCK_CLASS_TEST] = "test",
	[LOCK_CLASS_PT] = "pt",
	[LOCK_CLASS_AS] = "as",
	[LOCK_CLASS_FRAME] = "frame",
	[LOCK_CLASS_ASID] = "asid",
	[LOCK_CLASS_KMAP] = "kmap",
	[LOCK_CLASS_UART] = "uart_rx",
	[LOCK_CLASS_SCHED] = "runqueue",
	[LOCK_CLASS_REGION] = "region",
	[LOCK_CLASS_IPC] = "ipc",
	[LOCK_CLASS_HANDLE] = "handle",
};

#ifdef CONFIG_DEBUG_LOCK_ORDER
static void order_check_push(struct hart *h, unsigned int cls)
{
	unsigned int n = h->nheld < LOCK_HELD_MAX ? h->nheld : LOCK_HELD_MAX;

	/* Past LOCK_HELD_MAX locks are counted, not recorded (nor checked). */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int held = h->held[i];

		if (lock_class_rank[held] > lock_class_rank[cls] ||
		    (held == cls && cls != LOCK_CLASS_TEST &&
		     cls != LOCK_CLASS_MISC))
			panic("lockorder: hart %u takes a %s lock (rank %u) "
			      "while holding a %s lock (rank %u)", h->id,
			      lock_class_name(cls), lock_class_rank[cls],
			      lock_class_name(held), lock_class_rank[held]);
	}
	if (h->nheld < LOCK_HELD_MAX)
		h->held[h->nheld] = (uint8_t)cls;
	h->nheld++;
}

static void order_check_pop(struct hart *h, unsigned int cls)
{
	unsigned int n = h->nheld < LOCK_HELD_MAX ? h->nheld : LOCK_HELD_MAX;

	if (!h->nheld)
		return;
	/* Locks need not be released in reverse order: drop the most
	 * recent entry of this class. */
	for (unsigned int i = n; i-- > 0;) {
		if (h->held[i] == cls) {
			for (; i + 1 < n; i++)
				h->held[i] = h->held[i + 1];
			break;
		}
	}
	h->nheld--;
}
#else
static inline void order_check_push(struct hart *h, unsigned int cls) {}
static inline void order_check_pop(struct hart *h, unsigned int cls) {}
#endif

unsigned int lock_class_rank_of(unsigned int cls)
{
	return cls < LOCK_CLASS_MAX ? lock_class_rank[cls] : 0;
}

const char *lock_class_name(unsigned int cls)
{
	if (cls < LOCK_CLASS_MAX && lock_class_names[cls])
		return lock_class_names[cls];
	return "?";
}

void irq_pop_bad(void)
{
	if (arch_irqs_enabled())
		panic("spin: irq_pop with interrupts enabled");
	panic("spin: irq_pop without irq_push");
}

void spin_init(struct spinlock *l, enum lock_class cls)
{
	l->ticket = 0;
	l->cls = cls;
	l->holder = 0;
}

static inline uint16_t *owner_half(struct spinlock *l)
{
	return (uint16_t *)&l->ticket;	/* little endian: low half first */
}

static inline void stat_add(uint64_t *c, uint64_t v)
{
	/* Owner hart only; relaxed atomics so remote readers see whole
	 * values (and ThreadSanitizer agrees). */
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

void spin_wait(struct spinlock *l, uint16_t me)
{
	uint64_t t0 = arch_time(), waited;

	while (__atomic_load_n(owner_half(l), __ATOMIC_ACQUIRE) != me)
		arch_cpu_relax();
	waited = arch_time() - t0;
#ifdef CONFIG_LOCK_STATS
	struct lockstat *s = &this_hart()->lockstat[l->cls];

	stat_add(&s->contended, 1);
	stat_add(&s->wait_ticks, waited);
	if (waited > s->max_wait)
		__atomic_store_n(&s->max_wait, waited, __ATOMIC_RELAXED);
#else
	(void)waited;
#endif
}

void spin_debug_acquire(struct spinlock *l)
{
	struct hart *h = this_hart();

	if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == h->id + 1)
		panic("spin: hart %u takes %s lock %p it already holds", h->id,
		      lock_class_name(l->cls), (void *)l);
	order_check_push(h, l->cls);
}

void spin_debug_release(struct spinlock *l)
{
	if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) != hart_self() + 1)
		panic("spin: hart %u releases %s lock %p held by %d",
		      hart_self(), lock_class_name(l->cls), (void *)l,
		      (int)l->holder - 1);
	order_check_pop(this_hart(), l->cls);
}

void spin_class_bad(const struct spinlock *l, unsigned int cls)
{
	panic("spin: lock %p of class %s taken as class %s", (void *)l,
	      lock_class_name(l->cls), lock_class_name(cls));
}

bool spin_trylock(struct spinlock *l)
{
	uint32_t old = __atomic_load_n(&l->ticket, __ATOMIC_RELAXED);

	if ((uint16_t)old != (uint16_t)(old >> 16))
		return false;
	irq_push();
	if (!__atomic_compare_exchange_n(&l->ticket, &old, old + (1U << 16),
					 false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		irq_pop();
		return false;
	}
#ifdef CONFIG_LOCK_STATS
	stat_add(&this_hart()->lockstat[l->cls].acquired, 1);
#endif
	order_check_push(this_hart(), l->cls);
#ifdef CONFIG_DEBUG_SPINLOCK
	__atomic_store_n(&l->holder, (uint16_t)(hart_self() + 1),
			 __ATOMIC_RELAXED);
#endif
	return true;
}

bool spin_is_locked(const struct spinlock *l)
{
	uint32_t t = __atomic_load_n(&l->ticket, __ATOMIC_RELAXED);

	return (uint16_t)t != (uint16_t)(t >> 16);
}

bool spin_held(const struct spinlock *l)
{
	return __atomic_load_n(&l->holder, __ATOMIC_RELAXED) ==
	       hart_self() + 1;
}

void lockstat_sum(unsigned int cls, struct lockstat *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < nr_harts; i++) {
		const struct lockstat *s = &harts[i].lockstat[cls];
		uint64_t mw = __atomic_load_n(&s->max_wait, __ATOMIC_RELAXED);

		out->acquired += __atomic_load_n(&s->acquired,
						 __ATOMIC_RELAXED);
		out->contended += __atomic_load_n(&s->contended,
						  __ATOMIC_RELAXED);
		out->wait_ticks += __atomic_load_n(&s->wait_ticks,
						   __ATOMIC_RELAXED);
		if (mw > out->max_wait)
			out->max_wait = mw;
#ifdef CONFIG_LOCK_STATS
		/* Each IPC fast-path call takes an endpoint lock and a
		 * run-queue lock, counted in one (spin_lock_raw_uncounted). */
		if (cls == LOCK_CLASS_IPC || cls == LOCK_CLASS_SCHED)
			out->acquired += __atomic_load_n(&harts[i].ipc_fast,
							 __ATOMIC_RELAXED);
#endif
	}
}
