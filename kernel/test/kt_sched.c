/*
 * kt_sched.c - in-kernel tests of kernel threads and the scheduler:
 * create/join on every hart, preemption of threads that never yield,
 * sleeping, yielding, spreading over harts, guard pages of thread stacks,
 * and no frames lost across many thread lifetimes.
 */
#include <arch/probe.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/ktest.h>
#include <kern/sched_park.h>
#include <kern/panic.h>
#include <kern/smp.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <mm/frame.h>

static uint64_t ms_ticks(unsigned int ms)
{
	return arch_time_hz() / 1000 * ms;
}

static void report_hart(void *arg)
{
	*(unsigned int *)arg = hart_self() + 1;
}

KTEST(create_join_on_every_hart)
{
	static unsigned int seen[CONFIG_MAX_HARTS];
	struct thread *t[CONFIG_MAX_HARTS];

	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < nr_harts; i++) {
		t[i] = thread_create("kt-pin", report_hart, &seen[i],
				     SCHED_PRIO_DEFAULT, (int)i);
		KT_ASSERT(t[i]);
	}
	for (unsigned int i = 0; i < nr_harts; i++) {
		KT_EXPECT_EQ(thread_join(t[i]), 0);
		KT_EXPECT_EQ(seen[i], i + 1);	/* ran where it was pinned */
	}
}

KTEST(bad_arguments_refused)
{
	KT_EXPECT(!thread_create("x", report_hart, NULL, -1, -1));
	KT_EXPECT(!thread_create("x", report_hart, NULL, SCHED_PRIOS, -1));
	KT_EXPECT(!thread_create("x", report_hart, NULL, 0, (int)nr_harts));
	KT_EXPECT(!thread_create("x", report_hart, NULL, 0, -2));
	KT_EXPECT(!thread_create("x", NULL, NULL, 0, -1));
}

/* Two threads on one hart that never yield: the tick must share it. */
struct spinner {
	uint64_t deadline;
	uint64_t count;		/* owner thread; read after join */
	unsigned int *other_started;	/* atomic */
};

static void spin_fn(void *arg)
{
	struct spinner *s = arg;

	__atomic_fetch_add(s->other_started, 1, __ATOMIC_RELAXED);
	while (arch_time() < s->deadline)
		__atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
}

KTEST(preemption_shares_a_hart)
{
	static unsigned int started;
	struct spinner s[2];
	struct thread *t[2];
	int hart = nr_harts > 1 ? 1 : 0;
	struct sched_stats before, after;

	started = 0;
	sched_stats_sum(&before);
	for (int i = 0; i < 2; i++) {
		s[i] = (struct spinner){ arch_time() + ms_ticks(300), 0,
					 &started };
		t[i] = thread_create("kt-spin", spin_fn, &s[i],
				     SCHED_PRIO_DEFAULT, hart);
		KT_ASSERT(t[i]);
	}
	for (int i = 0; i < 2; i++)
		thread_join(t[i]);
	sched_stats_sum(&after);
	/* Both ran before either's deadline passed: one was preempted. */
	KT_EXPECT(s[0].count > 0 && s[1].count > 0);
	KT_EXPECT(after.preemptions > before.preemptions);
	KT_INFO("hart %d: %lu and %lu rounds, %lu preemptions", hart,
		(unsigned long)s[0].count, (unsigned long)s[1].count,
		(unsigned long)(after.preemptions - before.preemptions));
}

static void sleeper_fn(void *arg)
{
	uint64_t *slept = arg, t0 = arch_time();

	thread_sleep_ns(20 * 1000000ULL);
	*slept = arch_time() - t0;
}

KTEST(sleep_lasts_at_least_the_time_asked)
{
	uint64_t slept[4] = { 0 };
	struct thread *t[4];

	for (int i = 0; i < 4; i++)
		KT_ASSERT((t[i] = thread_create("kt-sleep", sleeper_fn,
						&slept[i], SCHED_PRIO_DEFAULT,
						-1)));
	for (int i = 0; i < 4; i++) {
		thread_join(t[i]);
		KT_EXPECT(slept[i] >= ms_ticks(20));
	}
}

struct pingpong {
	unsigned int iters;	/* atomic: loop iterations (diagnostics) */
	unsigned int turn;	/* atomic: whose turn, 0 or 1 */
	unsigned int rounds;	/* atomic */
	unsigned int me;
	struct pingpong *shared;
};

static void pingpong_fn(void *arg)
{
	struct pingpong *p = arg, *s = p->shared;
	uint64_t deadline = arch_time() + ms_ticks(2000);

	while (__atomic_load_n(&s->rounds, __ATOMIC_ACQUIRE) < 200 &&
	       arch_time() < deadline) {
		__atomic_fetch_add(&p->iters, 1, __ATOMIC_RELAXED);
		if (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) == p->me) {
			__atomic_fetch_add(&s->rounds, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&s->turn, 1 - p->me, __ATOMIC_RELEASE);
		}
		thread_yield();
	}
}

KTEST(yield_alternates_two_threads)
{
	struct pingpong shared = { 0 }, a = { 0, 0, 0, 0, &shared },
			b = { 0, 0, 0, 1, &shared };
	int hart = nr_harts > 1 ? 1 : 0;
	struct thread *ta = thread_create("kt-ping", pingpong_fn, &a, 1, hart);
	struct thread *tb = thread_create("kt-pong", pingpong_fn, &b, 1, hart);
	uint64_t t0 = arch_time();

	KT_ASSERT(ta && tb);
	thread_join(ta);
	thread_join(tb);
	if (!KT_EXPECT(shared.rounds >= 200))
		KT_INFO("%u rounds in %lu ms on hart %d (iterations %u, %u)",
			shared.rounds,
			(unsigned long)((arch_time() - t0) / ms_ticks(1)), hart,
			a.iters, b.iters);
}

static unsigned int spread_seen[CONFIG_MAX_HARTS];	/* atomic */

static void spread_fn(void *arg)
{
	uint64_t deadline = arch_time() + ms_ticks(100);

	while (arch_time() < deadline)
		__atomic_store_n(&spread_seen[hart_self()], 1,
				 __ATOMIC_RELAXED);
}

KTEST(unpinned_threads_spread_over_harts)
{
	struct thread *t[2 * CONFIG_MAX_HARTS];
	unsigned int n = 2 * nr_harts, used = 0;

	memset(spread_seen, 0, sizeof(spread_seen));
	for (unsigned int i = 0; i < n; i++)
		KT_ASSERT((t[i] = thread_create("kt-spread", spread_fn, NULL,
						SCHED_PRIO_DEFAULT, -1)));
	for (unsigned int i = 0; i < n; i++)
		thread_join(t[i]);
	for (unsigned int i = 0; i < nr_harts; i++)
		used += spread_seen[i];
	KT_EXPECT(used >= MIN(nr_harts, 2u));
	KT_INFO("%u threads ran on %u of %u harts", n, used, nr_harts);
}

static void guard_fn(void *arg)
{
	struct thread *me = thread_current();
	uint64_t v;

	*(int *)arg = probe_read_u64((void *)(me->kstack.lo - 8), &v) ==
			      -E_FAULT &&
		      probe_read_u64((void *)me->kstack.lo, &v) == 0;
}

KTEST(thread_stacks_have_guard_pages)
{
	int ok = 0;
	struct thread *t = thread_create("kt-guard", guard_fn, &ok, 1, -1);

	KT_ASSERT(t);
	thread_join(t);
	KT_EXPECT(ok);
}

static void nothing_fn(void *arg)
{
}

static void drain_fn(void *arg)
{
	frame_cache_drain();
}

KTEST(thread_lifetimes_lose_no_frames)
{
	uint64_t before, after;

	hart_run_all(drain_fn, NULL);
	before = frame_free_count();
	for (int round = 0; round < 40; round++) {
		struct thread *t = thread_create("kt-life", nothing_fn, NULL,
						 SCHED_PRIO_DEFAULT, -1);

		KT_ASSERT(t);
		thread_join(t);
	}
	hart_run_all(drain_fn, NULL);
	after = frame_free_count();
	KT_EXPECT_EQ(after, before);
}

/*
 * Joins against exits on every hart: thread_wait_dead names the joiner in
 * the ending thread and blocks; thread_exit wakes it. Each round, a
 * target on each hart runs for a different short while and exits with
 * its own code, and a joiner on the next hart joins it: the joiner may
 * come before the exit, during it, or after it. A lost wake-up leaves a
 * joiner blocked for good (the test hangs); a join that frees a thread
 * still on its stack unmaps it under the thread (kstack_free), which
 * faults.
 */
#define JOIN_ROUNDS	24

struct join_pair {
	struct thread *target;	/* written before the joiner is created */
	unsigned int spin;
	int code;		/* the target's exit code */
	int got;		/* the joiner's thread_join result */
};

static void join_target_fn(void *arg)
{
	struct join_pair *jp = arg;

	for (unsigned int i = 0; i < jp->spin; i++)
		arch_cpu_relax();
	thread_exit(jp->code);
}

static void join_joiner_fn(void *arg)
{
	struct join_pair *jp = arg;

	jp->got = thread_join(jp->target);
}

KTEST(join_races_exit)
{
	static struct join_pair jp[CONFIG_MAX_HARTS];
	struct thread *j[CONFIG_MAX_HARTS];
	static const unsigned int spins[] = { 0, 30, 300, 3000 };
	unsigned int wrong = 0;

	for (int round = 0; round < JOIN_ROUNDS; round++) {
		for (unsigned int i = 0; i < nr_harts; i++) {
			jp[i] = (struct join_pair){
				.spin = spins[(round + i) % 4],
				.code = round * 100 + (int)i,
				.got = -1 };
			jp[i].target = thread_create("kt-end",
						     join_target_fn, &jp[i],
						     SCHED_PRIO_DEFAULT,
						     (int)i);
			KT_ASSERT(jp[i].target);
			j[i] = thread_create("kt-join", join_joiner_fn,
					     &jp[i], SCHED_PRIO_DEFAULT,
					     (int)((i + 1) % nr_harts));
			KT_ASSERT(j[i]);
		}
		for (unsigned int i = 0; i < nr_harts; i++) {
			KT_EXPECT_EQ(thread_join(j[i]), 0);
			wrong += jp[i].got != jp[i].code;
		}
	}
	KT_EXPECT_EQ(wrong, 0);
}

/*
 * A wait that gives up (thread_wait_dead with a flag, as SYS_THREAD_JOIN
 * does when its process ends): the waiter leaves with false while the
 * thread lives on, and the thread is joined later as usual. Then the
 * give-up against the exit, many times, the give-up coming a varied
 * while after the release: both answers must come up, so both sides of
 * the race (the waiter takes its name back; thread_exit took it first,
 * and the waiter finishes the join) are taken.
 */
#define GIVE_UP_LIMIT_S	10

struct give_up {
	struct thread *target;
	bool flag;		/* atomic: give up */
	unsigned int release;	/* atomic: the target may exit */
	int answer;		/* the waiter's: 1 true, 0 false */
};

static void give_up_target_fn(void *arg)
{
	struct give_up *g = arg;

	while (!__atomic_load_n(&g->release, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	thread_exit(7);
}

static void give_up_waiter_fn(void *arg)
{
	struct give_up *g = arg;

	g->answer = thread_wait_dead(g->target, &g->flag);
}

/* One round: the target on the last hart, the waiter on hart 0; the
 * release comes @lead spins before the give-up, or (lead < 0) only after
 * the waiter gave up and left. */
static void give_up_round(struct give_up *g, int lead)
{
	unsigned int last = nr_harts - 1;
	struct thread *w;

	*g = (struct give_up){ .answer = -1 };
	g->target = thread_create("kt-gvt", give_up_target_fn, g,
				  SCHED_PRIO_DEFAULT, (int)last);
	w = thread_create("kt-gvw", give_up_waiter_fn, g, SCHED_PRIO_DEFAULT,
			  0);
	if (!g->target || !w)
		panic("kt: no threads for give_up_round");
	if (lead < 0) {
		thread_sleep_ns(20 * 1000 * 1000);	/* the waiter blocks */
	} else {
		__atomic_store_n(&g->release, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < lead; i++)
			arch_cpu_relax();
	}
	__atomic_store_n(&g->flag, true, __ATOMIC_RELEASE);
	thread_wake(w);
	thread_join(w);
	__atomic_store_n(&g->release, 1, __ATOMIC_RELEASE);
}

KTEST(join_gives_up)
{
	static const int leads[] = { 0, 10, 100, 1000, 10000, 100000 };
	/* More rounds until both answers came, up to GIVE_UP_LIMIT_S: on a
	 * loaded host a vCPU may run late by more than the longest lead
	 * (sifive_u on 4 harts once saw 240 false), or be early every time. */
	static const int late[] = { 1000000, 10000000 }, early[] = { 0, 10 };
	static struct give_up g;
	unsigned int trues = 0, falses = 0, rounds = 0;
	uint64_t limit;

	if (nr_harts < 2)	/* the target spins: it needs its own hart */
		KT_SKIP("one hart");
	give_up_round(&g, -1);
	KT_EXPECT_EQ(g.answer, 0);
	KT_EXPECT_EQ(thread_join(g.target), 7);
	limit = arch_time() + arch_time_hz() * GIVE_UP_LIMIT_S;
	for (;; rounds++) {
		int lead;

		if (rounds < 240)
			lead = leads[rounds % 6];
		else if (trues && falses)
			break;
		else if (arch_time() >= limit)
			break;
		else
			lead = !trues ? late[rounds % 2] : early[rounds % 2];
		give_up_round(&g, lead);
		trues += g.answer == 1;
		falses += g.answer == 0;
		KT_EXPECT_EQ(thread_join(g.target), 7);
	}
	KT_EXPECT_EQ(trues + falses, rounds);
	KT_EXPECT(trues > 0 && falses > 0);
	KT_INFO("%u harts: %u give-ups against exits: %u waits ended true, "
		"%u false", nr_harts, rounds, trues, falses);
}

/*
 * A steal is one step: the thread an idle hart takes off another hart's
 * queue is on its own queue before anything can switch that idle thread
 * out. The stolen thread S waits, at the lowest priority, on the test's
 * hart (every other hart busy, so it is queued there, and the test, at
 * a higher priority, keeps it waiting); then one hart, the thief, is let
 * go idle. The hook holds the thief in the window between take and queue
 * for several ticks after waking W, a thread pinned to the thief at S's
 * priority. A tick taken in the window would switch to W, which waits
 * for S to run: S, on no queue, never would. With the window closed to
 * interrupts, S is queued first and shares the thief with W.
 */
#ifdef CONFIG_DEBUG
#define STEAL_HOLD_MS	50
#define STEAL_WAIT_MS	5000	/* long: an over-subscribed host may not run a
				 * vCPU for a while */

struct steal_test {
	struct thread *stolen;
	struct thread *waker[CONFIG_MAX_HARTS];
	unsigned int thief;		/* atomic: the hart that took it + 1 */
	unsigned int stolen_ran;	/* atomic */
	unsigned int release_busy;	/* atomic: busy threads may end */
	unsigned int release_wakers;	/* atomic */
	unsigned int woken[CONFIG_MAX_HARTS];	/* atomic */
	int waker_saw;			/* 1: W saw S run, 0: gave up */
};

static struct steal_test st;

static void steal_stolen_fn(void *arg)
{
	__atomic_store_n(&st.stolen_ran, 1, __ATOMIC_RELEASE);
}

static void steal_busy_fn(void *arg)
{
	unsigned int *release = arg;

	while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
}

/* W: blocked until the hook wakes it on the thief (or the test ends). */
static void steal_waker_fn(void *arg)
{
	unsigned int h = hart_self();
	uint64_t deadline;

	while (!__atomic_load_n(&st.woken[h], __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&st.release_wakers, __ATOMIC_ACQUIRE))
			return;
		thread_block(NULL, 0);
	}
	deadline = arch_time() + ms_ticks(STEAL_WAIT_MS);
	while (!__atomic_load_n(&st.stolen_ran, __ATOMIC_ACQUIRE) &&
	       arch_time() < deadline)
		arch_cpu_relax();
	st.waker_saw = (int)__atomic_load_n(&st.stolen_ran, __ATOMIC_ACQUIRE);
}

static void steal_hold(struct thread *stolen)
{
	unsigned int h = hart_self();
	uint64_t until;

	if (stolen != st.stolen)
		return;
	__atomic_store_n(&sched_debug_steal_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&st.thief, h + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&st.woken[h], 1, __ATOMIC_RELEASE);
	thread_wake(st.waker[h]);
	until = arch_time() + ms_ticks(STEAL_HOLD_MS);
	while (arch_time() < until)
		arch_cpu_relax();
}
#endif /* CONFIG_DEBUG */

KTEST(steal_is_one_step)
{
#ifndef CONFIG_DEBUG
	KT_SKIP("the window's hook needs CONFIG_DEBUG");
#else
	unsigned int home = hart_self(), thief = (home + 1) % nr_harts;
	static unsigned int release[CONFIG_MAX_HARTS];	/* atomic */
	struct thread *busy[CONFIG_MAX_HARTS] = { 0 };
	uint64_t deadline;

	if (nr_harts < 2)
		KT_SKIP("one hart: nothing to steal from");
	if (thread_current()->affinity != (int)home)
		KT_SKIP("the test thread is not pinned");
	memset(&st, 0, sizeof(st));
	memset(release, 0, sizeof(release));
	st.waker_saw = -1;
	for (unsigned int h = 0; h < nr_harts; h++) {
		if (h == home)
			continue;
		KT_ASSERT((st.waker[h] = thread_create("kt-stw",
						       steal_waker_fn, NULL,
						       SCHED_PRIOS - 1,
						       (int)h)));
		KT_ASSERT((busy[h] = thread_create("kt-stb", steal_busy_fn,
						   &release[h],
						   SCHED_PRIO_DEFAULT,
						   (int)h)));
	}
	/* Every other hart runs its busy thread: S goes on this hart's
	 * queue, behind the test (which outranks it and does not block). */
	deadline = arch_time() + ms_ticks(STEAL_WAIT_MS);
	for (unsigned int h = 0; h < nr_harts; h++)
		while (h != home && harts[h].rq->current != busy[h] &&
		       arch_time() < deadline)
			arch_cpu_relax();
	__atomic_store_n(&sched_debug_steal_hook, steal_hold,
			 __ATOMIC_RELEASE);
	KT_ASSERT((st.stolen = thread_create("kt-sts", steal_stolen_fn, NULL,
					     SCHED_PRIOS - 1, -1)));
	KT_EXPECT_EQ(st.stolen->hart, home);
	__atomic_store_n(&release[thief], 1, __ATOMIC_RELEASE);
	/* The thief's W reports once S ran or it gave up (without the fix,
	 * after STEAL_WAIT_MS); the test spins meanwhile, keeping S off
	 * this hart if it was not taken. */
	deadline = arch_time() + ms_ticks(3 * STEAL_WAIT_MS);
	while (__atomic_load_n(&st.waker_saw, __ATOMIC_ACQUIRE) < 0 &&
	       arch_time() < deadline)
		arch_cpu_relax();
	__atomic_store_n(&sched_debug_steal_hook, NULL, __ATOMIC_RELEASE);
	KT_EXPECT_EQ(__atomic_load_n(&st.thief, __ATOMIC_ACQUIRE),
		     thief + 1);
	KT_EXPECT_EQ(st.waker_saw, 1);
	for (unsigned int h = 0; h < nr_harts; h++)
		__atomic_store_n(&release[h], 1, __ATOMIC_RELEASE);
	__atomic_store_n(&st.release_wakers, 1, __ATOMIC_RELEASE);
	for (unsigned int h = 0; h < nr_harts; h++) {
		if (h == home)
			continue;
		thread_wake(st.waker[h]);
		thread_join(st.waker[h]);
		thread_join(busy[h]);
	}
	thread_join(st.stolen);
	KT_EXPECT_EQ(__atomic_load_n(&st.stolen_ran, __ATOMIC_ACQUIRE), 1);
	KT_INFO("%u harts: hart %u took the thread off hart %u; held %u ms",
		nr_harts, thief, home, STEAL_HOLD_MS);
#endif
}

KTEST_SUITE(kt_sched_suite, "sched", KTEST_CASE(create_join_on_every_hart),
	    KTEST_CASE(join_races_exit),
	    KTEST_CASE(join_gives_up),
	    KTEST_CASE(bad_arguments_refused),
	    KTEST_CASE(preemption_shares_a_hart),
	    KTEST_CASE(sleep_lasts_at_least_the_time_asked),
	    KTEST_CASE(yield_alternates_two_threads),
	    KTEST_CASE(unpinned_threads_spread_over_harts),
	    KTEST_CASE(thread_stacks_have_guard_pages),
	    KTEST_CASE(thread_lifetimes_lose_no_frames),
	    KTEST_CASE(steal_is_one_step));
