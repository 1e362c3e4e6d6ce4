/*
 * mm.c (host) - the memory-management arch hooks for the host tests
 *
 * What the RISC-V side does with satp, sfence.vma and SBI RFENCE, the
 * host records: every TLB call appends an event to a per-hart log, so a
 * test can check that a shootdown really reached the harts that ran an
 * address space, and that it came before the frame went back (STYLE.md 8).
 * "Physical memory" is one aligned mmap'd arena (arch/memlayout.h).
 *
 * The cross-hart call and its grace period. tlb_sync_all() frees page-table
 * pages after xcall_all() returns, relying on this: a hart runs a
 * cross-hart call only with interrupts on, and every lockless page-table
 * walk keeps them off (pt.c). Here a hart is a pthread and an interrupt a
 * signal: the sender queues its request in slots[target][sender] and
 * sends SIGUSR1; the handler runs queued calls only if the thread has
 * interrupts on (host_irq_on set, no irq_push nesting). Because the handler
 * runs on the interrupted thread itself, reading that thread's interrupt
 * state needs no cross-thread ordering, as on a real hart. Signals that
 * find interrupts off are dropped and the sender sends again; the thread
 * also serves its queue at host_hart_poll() (test loops, between mm
 * operations) and while it waits in its own xcall (as kernel/sched/xcall.c
 * does). Either way the call runs at a point where the hart is outside
 * every walk, and the sender's acquire of "pending == 0" orders everything
 * after it (the frees) after those points. ThreadSanitizer holds signals
 * back until the thread enters one of its interceptors; that only delays
 * a call, it never runs one at a point the thread did not allow.
 *
 * Interrupt state is changed by arch.h's inline helpers, on the thread
 * itself; the handler reads it on the same thread, so only compiler
 * ordering matters: each helper is a signal fence (a compiler barrier
 * against this thread's own handler), so the loads of a walk that starts
 * with irq_push() (kernel/include/kern/spinlock.h, inline) stay after it.
 */
#include <arch/memlayout.h>
#include <arch/pte.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <mm/memmap.h>
#include <mm_host.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

extern _Thread_local struct hart *host_this_hart;
void host_hart_enter(unsigned int id);

/* ---- the arena ------------------------------------------------------- */

char *host_ram;			/* immutable between init and fini */
size_t host_ram_size;
static void *arena_map;		/* what to munmap */
static size_t arena_map_size;

void host_mem_fini(void)
{
	if (arena_map)
		munmap(arena_map, arena_map_size);
	arena_map = NULL;
	host_ram = NULL;
	host_ram_size = 0;
}

int host_mem_init(size_t mib, const struct mem_range *rsv, int nrsv)
{
	const size_t align = PAGE_SIZE << FRAME_MAX_ORDER;
	struct mem_range bank, usable[MEMMAP_MAX];
	size_t size = mib << 20;
	uintptr_t p;
	int n;

	host_mem_fini();
	arena_map_size = size + align;
	arena_map = mmap(NULL, arena_map_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena_map == MAP_FAILED) {
		arena_map = NULL;
		return -E_NOMEM;
	}
	p = ALIGN_UP((uintptr_t)arena_map, align);
	host_ram = (char *)p;
	host_ram_size = size;
	bank = (struct mem_range){ HOST_RAM_BASE, HOST_RAM_BASE + size };
	n = memmap_build(&bank, 1, rsv, nrsv, 0, usable, MEMMAP_MAX);
	if (n < 0)
		return n;
	return frame_init(usable, n, bank.start, bank.end);
}

/* ---- statistics ------------------------------------------------------ */

struct host_mm_stats host_mm_stats;

static void stat_inc(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

void host_mm_stats_reset(void)
{
	uint64_t *c = (uint64_t *)&host_mm_stats;

	for (size_t i = 0; i < sizeof(host_mm_stats) / sizeof(*c); i++)
		__atomic_store_n(&c[i], 0, __ATOMIC_RELAXED);
}

/* ---- the TLB log ----------------------------------------------------- */

/*
 * One ring per hart. Appended to by its own hart (local flushes) and by
 * senders of remote flushes (the SBI RFENCE the kernel would use runs in
 * M-mode whatever the target's interrupt state), so slots are reserved
 * with an atomic add and every field is a relaxed atomic store; the
 * event's seq is stored last with release, and readers load it first with
 * acquire.
 */
struct tlb_log {
	uint64_t n;
	struct host_tlb_ev ev[HOST_TLB_LOG];
} __cacheline_aligned;

static struct tlb_log tlb_logs[CONFIG_MAX_HARTS];
static uint64_t tlb_seq;			/* atomic */
static const struct frame *tlb_watched;		/* atomic */
static struct as *cur_as[CONFIG_MAX_HARTS];	/* owner writes, atomic */
static unsigned int asid_bits = 16;
static uint64_t asid_next;			/* atomic */

#define ST(field, v) __atomic_store_n(&e->field, (v), __ATOMIC_RELAXED)

/*
 * The watched frame's flags, read while another hart may be freeing it:
 * that is the point (was it still in use when this flush happened?). The
 * kernel writes flags with plain stores, so the read is left out of
 * ThreadSanitizer's view instead of being reported as the kernel's race.
 */
__attribute__((no_sanitize_thread)) static uint16_t
watch_flags(const struct frame *w)
{
	return *(const volatile uint16_t *)&w->flags;
}

static void tlb_log(unsigned int hart, unsigned int kind, const struct as *as,
		    vaddr_t va, size_t len)
{
	struct tlb_log *l = &tlb_logs[hart];
	const struct frame *w;
	struct host_tlb_ev *e;
	unsigned long irq;
	uint64_t seq;

	/* An IPI arriving on this thread must not append in the middle. */
	irq = arch_irq_disable();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	e = &l->ev[__atomic_fetch_add(&l->n, 1, __ATOMIC_RELAXED) %
		   HOST_TLB_LOG];
	seq = __atomic_add_fetch(&tlb_seq, 1, __ATOMIC_RELAXED);
	w = __atomic_load_n(&tlb_watched, __ATOMIC_RELAXED);
	ST(kind, kind);
	ST(from, hart_self());
	ST(as, as);
	ST(asid, as ? __atomic_load_n(&as->asid, __ATOMIC_RELAXED) : 0);
	ST(va, va);
	ST(len, len);
	ST(watched, w != NULL);
	ST(watch_flags, w ? watch_flags(w) : 0);
	__atomic_store_n(&e->seq, seq, __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	arch_irq_restore(irq);
}

#undef ST
#define LD(field) __atomic_load_n(&e->field, __ATOMIC_RELAXED)

bool host_tlb_log_get(unsigned int hart, uint64_t i, struct host_tlb_ev *ev)
{
	struct tlb_log *l = &tlb_logs[hart];
	uint64_t n = __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);
	struct host_tlb_ev *e = &l->ev[i % HOST_TLB_LOG];

	if (i >= n || n - i > HOST_TLB_LOG)
		return false;
	ev->seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if (!ev->seq)
		return false;
	ev->kind = LD(kind);
	ev->from = LD(from);
	ev->as = LD(as);
	ev->asid = LD(asid);
	ev->va = LD(va);
	ev->len = LD(len);
	ev->watched = LD(watched);
	ev->watch_flags = LD(watch_flags);
	return true;
}

#undef LD

void host_tlb_log_reset(void)
{
	for (unsigned int h = 0; h < CONFIG_MAX_HARTS; h++) {
		struct tlb_log *l = &tlb_logs[h];

		for (unsigned int i = 0; i < HOST_TLB_LOG; i++)
			__atomic_store_n(&l->ev[i].seq, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&l->n, 0, __ATOMIC_RELEASE);
	}
}

uint64_t host_tlb_log_count(unsigned int hart)
{
	return __atomic_load_n(&tlb_logs[hart].n, __ATOMIC_ACQUIRE);
}

bool host_tlb_ev_covers(const struct host_tlb_ev *ev, const struct as *as,
			vaddr_t va)
{
	switch (ev->kind) {
	case HOST_TLB_ALL:
		return true;
	case HOST_TLB_LOCAL:
	case HOST_TLB_REMOTE:
		if (ev->as != as)
			return false;
		return ev->len == 0 ||
		       (va >= ev->va && va - ev->va < ev->len);
	}
	return false;
}

bool host_tlb_flushed(unsigned int hart, const struct as *as, vaddr_t va,
		      uint64_t from, uint64_t to, bool local)
{
	struct host_tlb_ev ev;

	for (uint64_t i = from; i < to; i++)
		if (host_tlb_log_get(hart, i, &ev) &&
		    (ev.kind != HOST_TLB_LOCAL || local) &&
		    host_tlb_ev_covers(&ev, as, va))
			return true;
	return false;
}

void host_tlb_watch(const struct frame *f)
{
	__atomic_store_n(&tlb_watched, f, __ATOMIC_RELAXED);
}

struct as *host_current_as(unsigned int hart)
{
	return __atomic_load_n(&cur_as[hart], __ATOMIC_ACQUIRE);
}

void host_set_asid_bits(unsigned int bits)
{
	asid_bits = bits;
}

/* ---- the kern/arch.h mm hooks ---------------------------------------- */

void arch_as_init(struct as *as)
{
	/* No kernel half on the host: the upper root entries stay empty.
	 * Every address space gets its own number, never reused, so log
	 * entries of different address spaces cannot be confused. */
	as->asid = __atomic_add_fetch(&asid_next, 1, __ATOMIC_RELAXED);
	memset(as->harts, 0, sizeof(as->harts));
}

void arch_as_fini(struct as *as)
{
	tlb_log(hart_self(), HOST_TLB_FINI, as, 0, 0);
}

void arch_as_activate(struct as *as)
{
	unsigned int self = hart_self();

	/* Full barrier, as the RISC-V amoor.aqrl: pairs with the fence in
	 * tlb_shootdown before it reads as->harts. */
	__atomic_fetch_or(&as->harts[self / 64], 1ULL << (self % 64),
			  __ATOMIC_SEQ_CST);
	__atomic_store_n(&cur_as[self], as, __ATOMIC_RELEASE);
	tlb_log(self, HOST_TLB_ACTIVATE, as, 0, 0);
}

void arch_as_deactivate(void)
{
	unsigned int self = hart_self();

	__atomic_store_n(&cur_as[self], NULL, __ATOMIC_RELEASE);
	tlb_log(self, HOST_TLB_DEACTIVATE, NULL, 0, 0);
}

void arch_tlb_flush_local(struct as *as, vaddr_t va, size_t len)
{
	tlb_log(hart_self(), HOST_TLB_LOCAL, as, va, len);
}

void arch_tlb_flush_remote(struct as *as, const uint64_t *mask, vaddr_t va,
			   size_t len)
{
	/* Waiting for other harts with a lock held is what STYLE.md 3
	 * forbids; count it so tests can insist it never happens. (With
	 * interrupts merely off it is fine: the firmware's remote fence does
	 * not need the targets' S-mode interrupts, and tlb_shootdown keeps
	 * them off so that it cannot migrate.) */
	if (this_hart()->nheld)
		stat_inc(&host_mm_stats.remote_irqoff);
	for (unsigned int i = 0; i < nr_harts; i++)
		if (mask[i / 64] & (1ULL << (i % 64)))
			tlb_log(i, HOST_TLB_REMOTE, as, va, len);
}

void arch_tlb_flush_all_local(void)
{
	tlb_log(hart_self(), HOST_TLB_ALL, NULL, 0, 0);
}

unsigned int arch_asid_bits(void)
{
	return asid_bits;
}

/* ---- cross-hart calls ------------------------------------------------- */

struct host_call {
	void (*fn)(void *);
	void *arg;
	unsigned int pending;	/* atomic: targets yet to finish */
} __cacheline_aligned;

/* calls[s]: owned by hart s; read by targets that took it from a slot. */
static struct host_call calls[CONFIG_MAX_HARTS];
/* slots[t][s]: set by sender s (release), emptied by t or, if t went
 * offline, by s (acquire exchange either way: one of them wins). */
static struct host_call *slots[CONFIG_MAX_HARTS][CONFIG_MAX_HARTS];
static bool in_call[CONFIG_MAX_HARTS];		/* owner hart only */
/* Thread of each online hart: written before online is set (release). */
static pthread_t threads[CONFIG_MAX_HARTS];
static pthread_once_t ipi_once = PTHREAD_ONCE_INIT;

static bool hart_online(unsigned int id)
{
	return __atomic_load_n(&harts[id].online, __ATOMIC_ACQUIRE);
}

/* Run every call queued for @self, as an interrupt handler would:
 * with interrupts off. Return: calls run. */
static unsigned int serve(unsigned int self)
{
	unsigned int n = nr_harts, done = 0;
	unsigned long irq = arch_irq_disable();

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (unsigned int s = 0; s < n; s++) {
		struct host_call *r;

		if (!__atomic_load_n(&slots[self][s], __ATOMIC_RELAXED))
			continue;
		r = __atomic_exchange_n(&slots[self][s], NULL,
					__ATOMIC_ACQUIRE);
		if (!r)
			continue;
		r->fn(r->arg);
		/* Release: what fn did, and the point we were at, happen
		 * before the sender's acquire of pending == 0. */
		__atomic_fetch_sub(&r->pending, 1, __ATOMIC_RELEASE);
		done++;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	arch_irq_restore(irq);
	return done;
}

/* The IPI. Takes no locks; runs the queue only with interrupts on. */
static void ipi_handler(int sig)
{
	struct hart *h = host_this_hart;
	int saved = errno;

	(void)sig;
	if (h && arch_irqs_enabled() && h->irq_depth == 0 &&
	    hart_online(h->id)) {
		unsigned int k = serve(h->id);

		if (k)
			__atomic_fetch_add(&host_mm_stats.served_signal, k,
					   __ATOMIC_RELAXED);
	} else {
		stat_inc(&host_mm_stats.deferred_signal);
	}
	errno = saved;
}

static void ipi_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ipi_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		panic("host: sigaction(SIGUSR1) failed");
}

static void host_ipi(unsigned int t)
{
	stat_inc(&host_mm_stats.ipis);
	pthread_kill(threads[t], SIGUSR1);
}

void host_hart_online(unsigned int id)
{
	pthread_once(&ipi_once, ipi_setup);
	host_hart_enter(id);
	threads[id] = pthread_self();
	__atomic_store_n(&harts[id].online, 1, __ATOMIC_RELEASE);
}

void host_hart_offline(void)
{
	__atomic_store_n(&harts[hart_self()].online, 0, __ATOMIC_RELEASE);
}

void host_hart_poll(void)
{
	struct hart *h = this_hart();
	unsigned int k;

	if (!arch_irqs_enabled() || h->irq_depth)
		panic("host: hart %u at a quiescent point with interrupts off "
		      "(depth %d)", h->id, h->irq_depth);
	k = serve(h->id);
	if (k)
		__atomic_fetch_add(&host_mm_stats.served_poll, k,
				   __ATOMIC_RELAXED);
}

int xcall_mask(const hartmask_t mask, void (*fn)(void *), void *arg)
{
	unsigned int self = hart_self(), n = nr_harts, count = 0;
	struct host_call *r = &calls[self];
	hartmask_t targets;
	bool me = false;

	stat_inc(&host_mm_stats.xcalls);
	if (this_hart()->irq_depth || !arch_irqs_enabled())
		stat_inc(&host_mm_stats.xcall_irqoff);
	if (in_call[self])
		panic("xcall: nested cross-hart call on hart %u", self);
	in_call[self] = true;
	memset(targets, 0, sizeof(targets));
	for (unsigned int t = 0; t < n; t++) {
		if (!hartmask_test(mask, t))
			continue;
		if (t == self) {
			me = true;
			continue;
		}
		if (!hart_online(t))
			continue;
		hartmask_set(targets, t);
		count++;
	}
	r->fn = fn;
	r->arg = arg;
	__atomic_store_n(&r->pending, count, __ATOMIC_RELAXED);
	for (unsigned int t = 0; t < n; t++) {
		if (!hartmask_test(targets, t))
			continue;
		__atomic_store_n(&slots[t][self], r, __ATOMIC_RELEASE);
		host_ipi(t);
	}
	if (me)
		fn(arg);
	for (unsigned long spin = 1;
	     __atomic_load_n(&r->pending, __ATOMIC_ACQUIRE); spin++) {
		unsigned int k = serve(self);	/* calls aimed at us */

		if (k)
			__atomic_fetch_add(&host_mm_stats.served_wait, k,
					   __ATOMIC_RELAXED);
		if (spin % 32)
			goto relax;
		for (unsigned int t = 0; t < n; t++) {
			if (!hartmask_test(targets, t) ||
			    __atomic_load_n(&slots[t][self],
					    __ATOMIC_RELAXED) != r)
				continue;
			if (hart_online(t)) {
				host_ipi(t);	/* it had interrupts off */
			} else if (__atomic_exchange_n(&slots[t][self], NULL,
						       __ATOMIC_ACQUIRE)) {
				/* Went offline first: an offline hart runs
				 * nothing, so it is quiescent. */
				__atomic_fetch_sub(&r->pending, 1,
						   __ATOMIC_RELAXED);
				stat_inc(&host_mm_stats.reclaimed);
			}
		}
relax:
		arch_cpu_relax();
	}
	in_call[self] = false;
	return (int)count + me;
}

int xcall_all(void (*fn)(void *), void *arg)
{
	hartmask_t all;

	memset(all, 0xff, sizeof(all));
	return xcall_mask(all, fn, arg);
}
