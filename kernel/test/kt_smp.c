/*
 * kt_smp.c - in-kernel tests that need every hart: spinlock torture, IPI
 * round trips between every pair, the cross-hart call, timer ticks, and
 * an external interrupt through the PLIC.
 */
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/ktest.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <plat/uart.h>

extern uint64_t riscv_timebase_hz;

static uint64_t timeout_ticks(unsigned int ms)
{
	return arch_time_hz() / 1000 * ms;
}

/* ---- lock torture ---- */

/*
 * Every hart takes the lock TORTURE_ROUNDS times or until the deadline,
 * whichever comes first, and counts its own rounds; the shared counter must
 * equal the sum. The deadline bounds the test's time under QEMU with more
 * harts than host cores, where a ticket handed to a descheduled vCPU waits
 * for the host to run it (lock-waiter preemption) and rounds get slow.
 */
#define TORTURE_ROUNDS 20000
#define TORTURE_MS 1500

static struct spinlock torture_lock = SPINLOCK_INIT(LOCK_CLASS_TEST);
static uint64_t torture_counter;	/* torture_lock */
static uint64_t torture_in_cs;		/* torture_lock; must stay 0/1 */
static unsigned int torture_bad;	/* atomic */
static unsigned int torture_arrived;	/* atomic: start barrier */
static uint64_t torture_deadline;	/* written before the run */
static uint64_t torture_done[CONFIG_MAX_HARTS];	/* owner hart only */

static void torture_fn(void *arg)
{
	uint64_t n = 0;

	/* Start together, or the harts woken last find the work done. */
	__atomic_fetch_add(&torture_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&torture_arrived, __ATOMIC_ACQUIRE) < nr_harts)
		arch_cpu_relax();
	for (; n < TORTURE_ROUNDS && arch_time() < torture_deadline; n++) {
		spin_lock(&torture_lock);
		if (torture_in_cs++ != 0 || arch_irqs_enabled())
			__atomic_fetch_add(&torture_bad, 1, __ATOMIC_RELAXED);
		/* Read-modify-write spread over several instructions so a
		 * broken lock loses updates. */
		uint64_t v = torture_counter;

		arch_cpu_relax();
		torture_counter = v + 1;
		torture_in_cs--;
		spin_unlock(&torture_lock);
	}
	__atomic_store_n(&torture_done[hart_self()], n, __ATOMIC_RELEASE);
}

KTEST(lock_torture_all_harts)
{
	struct lockstat before, after;
	uint64_t total = 0;

	lockstat_sum(LOCK_CLASS_TEST, &before);
	torture_counter = 0;
	torture_arrived = 0;
	torture_deadline = arch_time() + timeout_ticks(TORTURE_MS);
	hart_run_all(torture_fn, NULL);
	lockstat_sum(LOCK_CLASS_TEST, &after);
	for (unsigned int i = 0; i < nr_harts; i++)
		total += __atomic_load_n(&torture_done[i], __ATOMIC_ACQUIRE);
	KT_EXPECT_EQ(torture_counter, total);
	KT_EXPECT(total >= nr_harts);
	KT_EXPECT_EQ(__atomic_load_n(&torture_bad, __ATOMIC_RELAXED), 0);
	KT_EXPECT_EQ(after.acquired - before.acquired, total);
	KT_EXPECT(after.contended - before.contended <= total);
	KT_EXPECT(arch_irqs_enabled());
	KT_INFO("%u harts, %lu acquisitions: %lu contended, %lu ticks "
		"waited, longest %lu", nr_harts, (unsigned long)total,
		(unsigned long)(after.contended - before.contended),
		(unsigned long)(after.wait_ticks - before.wait_ticks),
		(unsigned long)after.max_wait);
}

KTEST(lock_irq_nesting)
{
	struct spinlock a = SPINLOCK_INIT(LOCK_CLASS_TEST);
	struct spinlock b = SPINLOCK_INIT(LOCK_CLASS_TEST);

	KT_ASSERT(arch_irqs_enabled());
	spin_lock(&a);
	KT_EXPECT(!arch_irqs_enabled());
	KT_EXPECT(spin_is_locked(&a));
#ifdef CONFIG_DEBUG_SPINLOCK
	KT_EXPECT(spin_held(&a));	/* holder is kept in debug builds */
#endif
	spin_lock(&b);
	KT_EXPECT(!spin_trylock(&b));
	spin_unlock(&b);
	KT_EXPECT(!arch_irqs_enabled());	/* a still held */
	spin_unlock(&a);
	KT_EXPECT(arch_irqs_enabled());
	KT_EXPECT(!spin_is_locked(&a));
#ifdef CONFIG_DEBUG_SPINLOCK
	KT_EXPECT(!spin_held(&a));
#endif
	KT_EXPECT(spin_trylock(&a));
	spin_unlock(&a);
	KT_EXPECT_EQ(this_hart()->irq_depth, 0);
}

/* ---- IPI round trips between every ordered pair ---- */

static unsigned int ipi_failures;	/* atomic */
static unsigned int ipi_trips;		/* atomic */

static void ping_everyone(void *arg)
{
	struct hart *me = this_hart();

	for (unsigned int b = 0; b < nr_harts; b++) {
		uint64_t before, deadline;

		if (b == me->id)
			continue;
		before = __atomic_load_n(&me->ipi_pongs, __ATOMIC_ACQUIRE);
		__atomic_store_n(&harts[b].ping_from, (int)me->id,
				 __ATOMIC_RELEASE);
		ipi_send(b, IPI_PING);
		deadline = arch_time() + timeout_ticks(2000);
		while (__atomic_load_n(&me->ipi_pongs, __ATOMIC_ACQUIRE) ==
		       before) {
			if (arch_time() > deadline) {
				__atomic_fetch_add(&ipi_failures, 1,
						   __ATOMIC_RELAXED);
				break;
			}
			arch_cpu_relax();
		}
		__atomic_fetch_add(&ipi_trips, 1, __ATOMIC_RELAXED);
	}
}

KTEST(ipi_round_trip_every_pair)
{
	ipi_failures = ipi_trips = 0;
	if (nr_harts < 2)
		KT_SKIP("needs 2 harts");
	/* One sender at a time, so each answer can be matched. */
	for (unsigned int a = 0; a < nr_harts; a++) {
		if (a == hart_self()) {
			ping_everyone(NULL);
		} else {
			hart_run_on(a, ping_everyone, NULL);
			hart_wait_work(a);
		}
	}
	KT_EXPECT_EQ(ipi_trips, nr_harts * (nr_harts - 1));
	KT_EXPECT_EQ(ipi_failures, 0);
}

/* ---- cross-hart call ---- */

static unsigned int xc_count[CONFIG_MAX_HARTS];	/* atomic */
static unsigned int xc_wrong_irq;			/* atomic */

static void xc_inc(void *arg)
{
	__atomic_fetch_add(&xc_count[hart_self()], 1, __ATOMIC_RELAXED);
	if (arch_irqs_enabled() && arg)
		__atomic_fetch_add(&xc_wrong_irq, 1, __ATOMIC_RELAXED);
}

static void xc_from_here(void *arg)
{
	xcall_all(xc_inc, NULL);
}

KTEST(xcall_reaches_every_hart)
{
	memset(xc_count, 0, sizeof(xc_count));
	KT_EXPECT_EQ(xcall_all(xc_inc, NULL), (int)nr_harts);
	for (unsigned int i = 0; i < nr_harts; i++)
		KT_EXPECT_EQ(xc_count[i], 1);
}

KTEST(xcall_mask_subset)
{
	hartmask_t m;

	memset(m, 0, sizeof(m));
	memset(xc_count, 0, sizeof(xc_count));
	for (unsigned int i = 0; i < nr_harts; i += 2)
		hartmask_set(m, i);
	KT_EXPECT_EQ(xcall_mask(m, xc_inc, NULL), (int)(nr_harts + 1) / 2);
	for (unsigned int i = 0; i < nr_harts; i++)
		KT_EXPECT_EQ(xc_count[i], i % 2 == 0 ? 1 : 0);
}

KTEST(xcall_all_harts_at_once)
{
	/* Every hart calls every hart at the same time: each must serve
	 * the others' calls while it waits for its own. */
	memset(xc_count, 0, sizeof(xc_count));
	hart_run_all(xc_from_here, NULL);
	for (unsigned int i = 0; i < nr_harts; i++)
		KT_EXPECT_EQ(xc_count[i], nr_harts);
}

KTEST(xcall_with_irqs_off)
{
	unsigned long s = arch_irq_disable();

	memset(xc_count, 0, sizeof(xc_count));
	KT_EXPECT_EQ(xcall_all(xc_inc, NULL), (int)nr_harts);
	arch_irq_restore(s);
	for (unsigned int i = 0; i < nr_harts; i++)
		KT_EXPECT_EQ(xc_count[i], 1);
}

/* ---- timer ---- */

KTEST(timer_ticks_on_every_hart)
{
	uint64_t start[CONFIG_MAX_HARTS], deadline;
	unsigned int late;

	for (unsigned int i = 0; i < nr_harts; i++)
		start[i] = __atomic_load_n(&harts[i].ticks, __ATOMIC_RELAXED);
	deadline = arch_time() + timeout_ticks(5000);
	do {
		late = 0;
		for (unsigned int i = 0; i < nr_harts; i++)
			if (__atomic_load_n(&harts[i].ticks,
					    __ATOMIC_RELAXED) < start[i] + 3)
				late++;
		if (!late)
			break;
		arch_cpu_relax();
	} while (arch_time() < deadline);
	KT_EXPECT_EQ(late, 0);
	for (unsigned int i = 0; i < nr_harts && late; i++)
		if (harts[i].ticks < start[i] + 3)
			KT_INFO("hart %u: %lu ticks in 5 s", i,
				(unsigned long)(harts[i].ticks - start[i]));
}

KTEST(time_is_monotonic)
{
	uint64_t prev = arch_time();

	for (int i = 0; i < 1000; i++) {
		uint64_t now = arch_time();

		KT_ASSERT(now >= prev);
		prev = now;
	}
}

/* ---- external interrupt through the PLIC ---- */

#include <plat/plic.h>

KTEST(plic_delivers_uart_interrupt)
{
	uint64_t before = uart_irq_count(), deadline;

	if (!plic_present())
		KT_SKIP("no PLIC or no UART interrupt in the device tree");
	uart_irq_test_enable(true);
	deadline = arch_time() + timeout_ticks(2000);
	while (uart_irq_count() == before && arch_time() < deadline)
		arch_cpu_relax();
	uart_irq_test_enable(false);
	KT_EXPECT(uart_irq_count() > before);
}

KTEST_SUITE(kt_smp_suite, "smp", KTEST_CASE(lock_irq_nesting),
	    KTEST_CASE(lock_torture_all_harts),
	    KTEST_CASE(ipi_round_trip_every_pair),
	    KTEST_CASE(xcall_reaches_every_hart), KTEST_CASE(xcall_mask_subset),
	    KTEST_CASE(xcall_all_harts_at_once), KTEST_CASE(xcall_with_irqs_off),
	    KTEST_CASE(timer_ticks_on_every_hart), KTEST_CASE(time_is_monotonic),
	    KTEST_CASE(plic_delivers_uart_interrupt));
