/*
 * xcall.c - run a function on other harts and wait (cross-hart call)
 *
 * Lock-free, because it runs in IPI handlers (which take no locks). Callers
 * hold no spinlock a target may spin on (tlb_sync_all and kstack_free are
 * called with none held). A waiting hart serves calls aimed at it with
 * interrupts off; that counts as passing a quiescent point for
 * tlb_sync_all only because no lockless page-table walk ever makes a
 * cross-hart call. Each hart owns one request record for its outgoing call; a matrix
 * of slots[target][sender] carries pointers to requests. The sender
 * publishes its request in each target's slot with a release store, then
 * sends IPI_CALL; the target takes the pointer with an acquire exchange,
 * runs the function and decrements the request's pending count with
 * release; the sender's acquire load of pending == 0 pairs with that, so
 * everything the functions wrote is visible to it when it returns.
 */
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>

struct xcall_req {
	void (*fn)(void *);
	void *arg;
	unsigned int pending;	/* atomic: targets yet to finish */
} __cacheline_aligned;

/* reqs[s]: owned by hart s; read by targets while pending. */
static struct xcall_req reqs[CONFIG_MAX_HARTS];
/* slots[t][s]: written by sender s (release), emptied by target t. */
static struct xcall_req *slots[CONFIG_MAX_HARTS][CONFIG_MAX_HARTS];
/* in_call[h]: owner hart only; catches a call made from a called fn. */
static bool in_call[CONFIG_MAX_HARTS];

void xcall_init(void)
{
	memset(slots, 0, sizeof(slots));
}

void xcall_handle(void)
{
	unsigned int self = hart_self();
	unsigned int n = __atomic_load_n(&nr_harts, __ATOMIC_ACQUIRE);

	for (unsigned int s = 0; s < n; s++) {
		struct xcall_req *r;

		if (!__atomic_load_n(&slots[self][s], __ATOMIC_RELAXED))
			continue;
		r = __atomic_exchange_n(&slots[self][s], NULL,
					__ATOMIC_ACQUIRE);
		if (!r)
			continue;
		r->fn(r->arg);
		__atomic_fetch_sub(&r->pending, 1, __ATOMIC_RELEASE);
	}
}

int xcall_mask(const hartmask_t mask, void (*fn)(void *), void *arg)
{
	unsigned int self, n = nr_harts, count = 0;
	struct xcall_req *r;
	bool me = false;

	/* No preemption (and so no migration) while this hart's request
	 * record is in use: interrupts stay off, and the wait loop below
	 * serves calls aimed at this hart itself. */
	irq_push();
	self = hart_self();
	r = &reqs[self];
	if (in_call[self])
		panic("xcall: nested cross-hart call on hart %u", self);
	in_call[self] = true;
	for (unsigned int t = 0; t < n; t++)
		if (hartmask_test(mask, t) && t != self && harts[t].online)
			count++;
	r->fn = fn;
	r->arg = arg;
	__atomic_store_n(&r->pending, count, __ATOMIC_RELAXED);
	for (unsigned int t = 0; t < n; t++) {
		if (!hartmask_test(mask, t))
			continue;
		if (t == self) {
			me = true;
			continue;
		}
		if (!harts[t].online)
			continue;
		__atomic_store_n(&slots[t][self], r, __ATOMIC_RELEASE);
		ipi_send(t, IPI_CALL);
	}
	if (me)
		fn(arg);
	while (__atomic_load_n(&r->pending, __ATOMIC_ACQUIRE)) {
		xcall_handle();		/* serve calls aimed at us */
		arch_cpu_relax();
	}
	in_call[self] = false;
	irq_pop();
	return (int)count + me;
}

int xcall_all(void (*fn)(void *), void *arg)
{
	hartmask_t all;

	memset(all, 0xff, sizeof(all));
	return xcall_mask(all, fn, arg);
}
