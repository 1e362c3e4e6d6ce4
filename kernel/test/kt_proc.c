/*
 * kt_proc.c - in-kernel tests of what processes keep that user programs
 * cannot drive step by step: the table of pager faults in flight
 * (kern/faultwait.h), with kernel threads standing in for the faulting
 * threads. pagertest checks the same from user space (one ask for 8
 * faulting threads, a kill while they wait); here every step is held.
 */
#include <kern/arch.h>
#include <kern/faultwait.h>
#include <kern/hart.h>
#include <kern/ktest.h>
#include <kern/spinlock.h>
#include <kern/thread.h>

#define KT_WAITERS	3
#define PAGE_A		0x1000000000UL
#define MS		1000000UL

static struct faultwait_table table;

struct waiter {
	vaddr_t va;
	const bool *give_up;
	int role;		/* atomic: -1 until faultwait_enter returned */
};

static void waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct faultwait_entry *e;

	__atomic_store_n(&w->role,
			 (int)faultwait_enter(&table, w->va, w->give_up, &e),
			 __ATOMIC_RELEASE);
}

/* Threads waiting on @e (under the table's lock). */
static int waiters_on(struct faultwait_entry *e)
{
	int n = 0;

	spin_lock(&table.lock);
	for (struct faultwait_waiter *w = e->waiters; w; w = w->next)
		n++;
	spin_unlock(&table.lock);
	return n;
}

/* Until @n threads wait on @e, up to 5 s: did they? */
static bool wait_for_waiters(struct faultwait_entry *e, int n)
{
	for (int ms = 0; ms < 5000; ms++) {
		if (waiters_on(e) >= n)
			return true;
		thread_sleep_ns(MS);
	}
	return false;
}

static uint64_t pager_waits(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nr_harts; i++)
		n += __atomic_load_n(&harts[i].pager_waits, __ATOMIC_RELAXED);
	return n;
}

/* 16 pages in flight at once; the 17th asks without an entry. */
KTEST(faultwait_full_table_asks_untracked)
{
	static const bool no = false;
	struct faultwait_entry *e[FAULTWAIT_ENTRIES + 1];

	faultwait_init(&table);
	for (int i = 0; i < FAULTWAIT_ENTRIES; i++)
		KT_EXPECT_EQ(faultwait_enter(&table, PAGE_A + i * 4096UL, &no,
					     &e[i]), FAULTWAIT_LEAD);
	KT_EXPECT_EQ(faultwait_enter(&table, PAGE_A + 99 * 4096UL, &no,
				     &e[FAULTWAIT_ENTRIES]), FAULTWAIT_FULL);
	faultwait_leave(&table, e[3]);
	KT_EXPECT_EQ(faultwait_enter(&table, PAGE_A + 99 * 4096UL, &no,
				     &e[FAULTWAIT_ENTRIES]), FAULTWAIT_LEAD);
	KT_EXPECT(e[FAULTWAIT_ENTRIES] == e[3]);	/* the freed one */
	for (int i = 0; i <= FAULTWAIT_ENTRIES; i++)
		if (i != 3)
			faultwait_leave(&table, e[i]);
	for (int i = 0; i < FAULTWAIT_ENTRIES; i++)
		KT_EXPECT(!table.entry[i].leader);
}

/*
 * We lead page A; threads on other harts fault on it too: they wait
 * (blocked, counted) until we leave, and not a moment before.
 */
KTEST(faultwait_others_wait_for_the_leader)
{
	static const bool no = false;
	static struct waiter w[KT_WAITERS];
	struct thread *t[KT_WAITERS];
	struct faultwait_entry *e;
	uint64_t w0 = pager_waits();

	faultwait_init(&table);
	KT_ASSERT_EQ(faultwait_enter(&table, PAGE_A, &no, &e), FAULTWAIT_LEAD);
	for (int i = 0; i < KT_WAITERS; i++) {
		w[i] = (struct waiter){ PAGE_A, &no, -1 };
		t[i] = thread_create("kt-fwait", waiter_fn, &w[i],
				     SCHED_PRIO_DEFAULT,
				     (int)((i + 1) % nr_harts));
		KT_ASSERT(t[i]);
	}
	KT_EXPECT(wait_for_waiters(e, KT_WAITERS));
	thread_sleep_ns(20 * MS);	/* blocked: none may return */
	for (int i = 0; i < KT_WAITERS; i++)
		KT_EXPECT_EQ(__atomic_load_n(&w[i].role, __ATOMIC_ACQUIRE), -1);
	KT_EXPECT_EQ(pager_waits() - w0, KT_WAITERS);
	faultwait_leave(&table, e);
	for (int i = 0; i < KT_WAITERS; i++) {
		thread_join(t[i]);
		KT_EXPECT_EQ(w[i].role, FAULTWAIT_WAITED);
	}
	KT_EXPECT(!e->leader && !e->waiters);
	/* The page is free to lead again. */
	KT_EXPECT_EQ(faultwait_enter(&table, PAGE_A, &no, &e), FAULTWAIT_LEAD);
	faultwait_leave(&table, e);
}

/*
 * A waiter whose process ends (its give-up flag set, then a wake, as
 * set_exiting_locked does) leaves at once, unlinked; the leader's entry
 * stays until the leader leaves.
 */
KTEST(faultwait_waiter_gives_up)
{
	static bool give_up;
	static struct waiter w;
	struct faultwait_entry *e;
	struct thread *t;

	faultwait_init(&table);
	give_up = false;
	KT_ASSERT_EQ(faultwait_enter(&table, PAGE_A, &give_up, &e),
		     FAULTWAIT_LEAD);
	w = (struct waiter){ PAGE_A, &give_up, -1 };
	t = thread_create("kt-fwait", waiter_fn, &w, SCHED_PRIO_DEFAULT,
			  (int)(1 % nr_harts));
	KT_ASSERT(t);
	KT_EXPECT(wait_for_waiters(e, 1));
	__atomic_store_n(&give_up, true, __ATOMIC_RELEASE);
	thread_wake(t);
	thread_join(t);
	KT_EXPECT_EQ(w.role, FAULTWAIT_WAITED);
	KT_EXPECT(e->leader == thread_current());
	KT_EXPECT_EQ(waiters_on(e), 0);
	faultwait_leave(&table, e);
	KT_EXPECT(!e->leader);
}

KTEST_SUITE(kt_proc_suite, "proc",
	    KTEST_CASE(faultwait_full_table_asks_untracked),
	    KTEST_CASE(faultwait_others_wait_for_the_leader),
	    KTEST_CASE(faultwait_waiter_gives_up));
