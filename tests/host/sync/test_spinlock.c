/*
 * test_spinlock.c - the kernel's ticket lock on pthreads "harts", built
 * under ThreadSanitizer (which checks the acquire/release pairing: a
 * missing barrier shows as a data race on the counter) and under ASan;
 * and the lock-order checker (built in here: test.mk), whose usual cases
 * are inline in kern/spinlock.h and the rest in spinlock.c.
 */
#include <host.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/spinlock.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- the lock-order checker ---------------------------------------------
 *
 * h->held lists the classes this hart holds, in the order taken; the
 * inline cases (kern/spinlock.h) push when the new class ranks above the
 * last entry and pop the last or the one before it; everything else goes
 * through spinlock.c. Each case below checks the list after every step.
 */

/* Does this hart hold exactly the classes @want, in that order? */
static bool held_is(const enum lock_class *want, unsigned int n)
{
	const struct hart *h = this_hart();

	if (h->nheld != n)
		return false;
	for (unsigned int i = 0; i < n && i < LOCK_HELD_MAX; i++)
		if (h->held[i] != want[i])
			return false;
	return true;
}

#define HELD(...)                                                             \
	held_is((const enum lock_class[]){ __VA_ARGS__ },                     \
		sizeof((const enum lock_class[]){ __VA_ARGS__ }) /            \
			sizeof(enum lock_class))

KTEST(order_list_follows_takes_and_releases)
{
	struct spinlock region = SPINLOCK_INIT(LOCK_CLASS_REGION);
	struct spinlock as = SPINLOCK_INIT(LOCK_CLASS_AS);
	struct spinlock pt = SPINLOCK_INIT(LOCK_CLASS_PT);
	struct spinlock frame = SPINLOCK_INIT(LOCK_CLASS_FRAME);
	struct spinlock ipc = SPINLOCK_INIT(LOCK_CLASS_IPC);
	struct spinlock rq = SPINLOCK_INIT(LOCK_CLASS_SCHED);
	struct spinlock con = SPINLOCK_INIT(LOCK_CLASS_CONSOLE);

	host_hart_enter(0);
	KT_ASSERT_EQ(this_hart()->nheld, 0);
	spin_lock(&region);
	spin_lock(&as);
	spin_lock(&pt);
	spin_lock(&frame);
	/* The fast path's way: constant classes, interrupts already off. */
	irq_push();
	spin_lock_raw_as(this_hart(), &ipc, LOCK_CLASS_IPC);
	spin_lock_raw_as(this_hart(), &rq, LOCK_CLASS_SCHED);
	KT_EXPECT(HELD(LOCK_CLASS_REGION, LOCK_CLASS_AS, LOCK_CLASS_PT,
		       LOCK_CLASS_FRAME, LOCK_CLASS_IPC, LOCK_CLASS_SCHED));
	spin_unlock_raw(&ipc);		/* the one before the last */
	KT_EXPECT(HELD(LOCK_CLASS_REGION, LOCK_CLASS_AS, LOCK_CLASS_PT,
		       LOCK_CLASS_FRAME, LOCK_CLASS_SCHED));
	spin_unlock_raw(&rq);		/* the last */
	irq_pop();
	KT_EXPECT(HELD(LOCK_CLASS_REGION, LOCK_CLASS_AS, LOCK_CLASS_PT,
		       LOCK_CLASS_FRAME));
	spin_unlock(&as);		/* from the middle: spinlock.c */
	KT_EXPECT(HELD(LOCK_CLASS_REGION, LOCK_CLASS_PT, LOCK_CLASS_FRAME));
	spin_unlock(&region);		/* the first */
	KT_EXPECT(HELD(LOCK_CLASS_PT, LOCK_CLASS_FRAME));
	spin_lock(&con);
	KT_EXPECT(HELD(LOCK_CLASS_PT, LOCK_CLASS_FRAME, LOCK_CLASS_CONSOLE));
	spin_unlock(&frame);
	spin_unlock(&con);
	KT_EXPECT(HELD(LOCK_CLASS_PT));
	spin_unlock(&pt);
	KT_EXPECT_EQ(this_hart()->nheld, 0);
	KT_EXPECT_EQ(this_hart()->irq_depth, 0);
}

KTEST(order_test_class_nests_past_the_list)
{
	/* The test class may nest with itself; more than the list holds
	 * are counted, not recorded. */
	struct spinlock l[LOCK_HELD_MAX + 2];

	host_hart_enter(0);
	for (unsigned int i = 0; i < ARRAY_SIZE(l); i++)
		spin_init(&l[i], LOCK_CLASS_TEST);
	for (unsigned int i = 0; i < ARRAY_SIZE(l); i++)
		spin_lock(&l[i]);
	KT_EXPECT_EQ(this_hart()->nheld, ARRAY_SIZE(l));
	/* Released first-taken first, this time. */
	for (unsigned int i = 0; i < ARRAY_SIZE(l); i++)
		spin_unlock(&l[i]);
	KT_EXPECT_EQ(this_hart()->nheld, 0);
	KT_EXPECT_EQ(this_hart()->irq_depth, 0);
}

/* What a child does to break the rules. */
enum order_bad {
	BAD_LOWER_RANK,		/* as, then region */
	BAD_LOWER_RANK_CONST,	/* ipc, then as, both constant classes */
	BAD_LOWER_THAN_LAST,	/* as and ipc, then pt: below the last only */
	BAD_TWO_OF_A_CLASS,	/* pt, then another pt */
	BAD_SAME_LOCK,		/* one lock twice */
	BAD_RELEASE_UNHELD,	/* a lock nobody took */
};

static void order_child(enum order_bad bad)
{
	struct spinlock region = SPINLOCK_INIT(LOCK_CLASS_REGION);
	struct spinlock as = SPINLOCK_INIT(LOCK_CLASS_AS);
	struct spinlock pt = SPINLOCK_INIT(LOCK_CLASS_PT);
	struct spinlock pt2 = SPINLOCK_INIT(LOCK_CLASS_PT);
	struct spinlock ipc = SPINLOCK_INIT(LOCK_CLASS_IPC);

	host_hart_enter(0);
	switch (bad) {
	case BAD_LOWER_RANK:
		spin_lock(&as);
		spin_lock(&region);
		break;
	case BAD_LOWER_RANK_CONST:
		irq_push();
		spin_lock_raw_as(this_hart(), &ipc, LOCK_CLASS_IPC);
		spin_lock_raw_as(this_hart(), &as, LOCK_CLASS_AS);
		break;
	case BAD_LOWER_THAN_LAST:
		spin_lock(&as);
		spin_lock(&ipc);
		spin_lock(&pt);
		break;
	case BAD_TWO_OF_A_CLASS:
		spin_lock(&pt);
		spin_lock(&pt2);
		break;
	case BAD_SAME_LOCK:
		spin_lock(&as);
		spin_lock(&as);
		break;
	case BAD_RELEASE_UNHELD:
		spin_lock(&as);
		spin_unlock(&pt);
		break;
	}
	printf("not stopped\n");
}

/* Run order_child(@bad) in a child process: it must panic with @needle. */
static void expect_panic(struct ktest_ctx *kt, enum order_bad bad,
			 const char *needle)
{
	char out[1024];
	size_t len = 0;
	int fds[2], status;
	ssize_t k;
	pid_t pid;

	KT_ASSERT_EQ(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	KT_ASSERT(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		order_child(bad);
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < sizeof(out) &&
	       (k = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)k;
	out[len] = '\0';
	for (char sink[256]; read(fds[0], sink, sizeof(sink)) > 0;)
		;
	close(fds[0]);
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!strstr(out, needle))
		KT_INFO("wanted '%s'; the child printed: %s", needle, out);
	KT_EXPECT(strstr(out, needle) != NULL);
	KT_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

KTEST(order_violations_panic)
{
	expect_panic(kt, BAD_LOWER_RANK,
		     "lockorder: hart 0 takes a region lock (rank 5) while "
		     "holding a as lock (rank 10)");
	expect_panic(kt, BAD_LOWER_RANK_CONST,
		     "lockorder: hart 0 takes a as lock (rank 10) while "
		     "holding a ipc lock (rank 64)");
	expect_panic(kt, BAD_LOWER_THAN_LAST,
		     "lockorder: hart 0 takes a pt lock (rank 20) while "
		     "holding a ipc lock (rank 64)");
	expect_panic(kt, BAD_TWO_OF_A_CLASS,
		     "lockorder: hart 0 takes a pt lock (rank 20) while "
		     "holding a pt lock (rank 20)");
	expect_panic(kt, BAD_SAME_LOCK,
		     "spin: hart 0 takes as lock");
	expect_panic(kt, BAD_RELEASE_UNHELD,
		     "spin: hart 0 releases pt lock");
}

KTEST_SUITE(spin_suite, "spinlock", KTEST_CASE(ticket_lock_excludes),
	    KTEST_CASE(trylock_and_lock_mixed),
	    KTEST_CASE(irq_nesting_restores_state),
	    KTEST_CASE(ticket_wraps_around), KTEST_CASE(size_is_fixed),
	    KTEST_CASE(order_list_follows_takes_and_releases),
	    KTEST_CASE(order_test_class_nests_past_the_list),
	    KTEST_CASE(order_violations_panic));

const struct ktest_suite *const host_suites[] = { &spin_suite };
const size_t host_nsuites = ARRAY_SIZE(host_suites);
