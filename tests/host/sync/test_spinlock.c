/*
 * test_spinlock.c - the kernel's ticket lock on pthreads "harts", built
 * under ThreadSanitizer (which checks the acquire/release pairing: a
 * missing barrier shows as a data race on the counter) and under ASan.
 */
#include <host.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/spinlock.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void host_hart_enter(unsigned int id);

#define THREADS 8
#define ROUNDS 20000

static struct spinlock lock = SPINLOCK_INIT(LOCK_CLASS_TEST);
static uint64_t counter;		/* lock */
static int inside;			/* lock; must stay 0 or 1 */
static unsigned int violations;		/* atomic */
static unsigned int irq_wrong;		/* atomic */
static pthread_barrier_t start;

struct arg {
	unsigned int id;
	bool trylock;
};

static void *torture(void *p)
{
	struct arg *a = p;

	host_hart_enter(a->id);
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++) {
		if (a->trylock) {
			while (!spin_trylock(&lock))
				arch_cpu_relax();
		} else {
			spin_lock(&lock);
		}
		if (arch_irqs_enabled())
			__atomic_fetch_add(&irq_wrong, 1, __ATOMIC_RELAXED);
		if (inside++ != 0)
			__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
		counter++;
		inside--;
		spin_unlock(&lock);
		if (!arch_irqs_enabled() || this_hart()->irq_depth != 0)
			__atomic_fetch_add(&irq_wrong, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run(struct ktest_ctx *kt, bool mixed)
{
	pthread_t th[THREADS];
	struct arg args[THREADS];
	struct lockstat st;

	counter = 0;
	violations = irq_wrong = 0;
	nr_harts = THREADS;
	for (int i = 0; i < THREADS; i++)
		memset(harts[i].lockstat, 0, sizeof(harts[i].lockstat));
	pthread_barrier_init(&start, NULL, THREADS);
	for (unsigned int i = 0; i < THREADS; i++) {
		args[i] = (struct arg){ i, mixed && (i % 2) };
		pthread_create(&th[i], NULL, torture, &args[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	lockstat_sum(LOCK_CLASS_TEST, &st);
	KT_EXPECT_EQ(counter, (uint64_t)THREADS * ROUNDS);
	KT_EXPECT_EQ(violations, 0);
	KT_EXPECT_EQ(irq_wrong, 0);
	KT_EXPECT_EQ(st.acquired, (uint64_t)THREADS * ROUNDS);
	KT_EXPECT(st.contended <= st.acquired);
	KT_EXPECT(!spin_is_locked(&lock));
	KT_INFO("%d threads x %d: %lu contended, %lu ns waited", THREADS,
		ROUNDS, (unsigned long)st.contended,
		(unsigned long)st.wait_ticks);
}

KTEST(ticket_lock_excludes)
{
	run(kt, false);
}

KTEST(trylock_and_lock_mixed)
{
	run(kt, true);
}

KTEST(irq_nesting_restores_state)
{
	struct spinlock a = SPINLOCK_INIT(LOCK_CLASS_TEST);
	struct spinlock b = SPINLOCK_INIT(LOCK_CLASS_TEST);

	host_hart_enter(0);
	spin_lock(&a);
	spin_lock(&b);
	KT_EXPECT_EQ(this_hart()->irq_depth, 2);
	KT_EXPECT(spin_held(&a) && spin_held(&b));
	spin_unlock(&b);
	KT_EXPECT(!arch_irqs_enabled());
	spin_unlock(&a);
	KT_EXPECT(arch_irqs_enabled());
	/* Interrupts already off stay off after the last unlock. */
	arch_irq_disable();
	spin_lock(&a);
	spin_unlock(&a);
	KT_EXPECT(!arch_irqs_enabled());
	arch_irq_enable();
	KT_EXPECT_EQ(this_hart()->irq_depth, 0);
}

KTEST(ticket_wraps_around)
{
	struct spinlock l = SPINLOCK_INIT(LOCK_CLASS_TEST);

	host_hart_enter(0);
	/* 70000 acquisitions: both 16-bit halves wrap past 65535. */
	for (int i = 0; i < 70000; i++) {
		spin_lock(&l);
		spin_unlock(&l);
	}
	KT_EXPECT(!spin_is_locked(&l));
	KT_EXPECT(spin_trylock(&l));
	spin_unlock(&l);
}

KTEST(size_is_fixed)
{
	/* The frame record embeds a page-table lock: its size must not
	 * depend on the configuration. */
	KT_EXPECT_EQ(sizeof(struct spinlock), 8);
}

KTEST_SUITE(spin_suite, "spinlock", KTEST_CASE(ticket_lock_excludes),
	    KTEST_CASE(trylock_and_lock_mixed),
	    KTEST_CASE(irq_nesting_restores_state),
	    KTEST_CASE(ticket_wraps_around), KTEST_CASE(size_is_fixed));

const struct ktest_suite *const host_suites[] = { &spin_suite };
const size_t host_nsuites = ARRAY_SIZE(host_suites);
