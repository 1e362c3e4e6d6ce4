/*
 * kt_ipc.c - in-kernel tests of IPC state that user programs cannot race
 * on purpose: the lockless handle checks (handle_names, and its memo,
 * handle_names_memo) against a hart that closes and reinstalls handles in
 * the same table.
 */
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/ipc.h>
#include <kern/handle.h>
#include <kern/ktest.h>
#include <abi/syscall.h>

#define NAMES_MS	300

/*
 * Hart 0 installs one of two objects in a table (always slot 0, with a
 * new generation each time), publishes the handle, closes it again and
 * publishes it as closed, for NAMES_MS (longer if need be: NAMES_SEEN_ALL).
 * The other harts meanwhile check,
 * without the table's lock:
 *   - the published handle never names the other object, nor grants a
 *     right it was not installed with (a torn read of a slot, say the
 *     generation before a close with the object of the next install,
 *     would);
 *   - a handle published as closed names nothing any more;
 *   - the same with the memo (handle_names_memo): the memos the closed
 *     handle is checked through are the ones that remembered it while it
 *     was published, so a memo that outlived a close would say yes.
 *     The memos asked on every pass lose the closed handle as soon as
 *     they are asked about it again; so each reader also keeps a memo
 *     per object that is asked once per published handle, which still
 *     holds it when the close is seen (without it, a run where every
 *     reader kept up saw no such case at all: 8 harts, 10 s).
 * Whether the published handle names its own object depends on timing
 * (it may be closing); the harts count the times it did.
 */
static struct handle_table names_ht;
static struct kobj *names_obj[2];
static long names_cur;		/* atomic: handle << 1 | object, or 0 */
static long names_closed;	/* atomic: a handle closed for good */
static unsigned int names_bad;	/* atomic */
static unsigned long names_yes;	/* atomic */
static unsigned long names_stale;	/* atomic: closed handles asked
					 * through a memo that held them */
static unsigned int names_ack;	/* atomic: a reader saw names_cur name
				 * its object */
static unsigned int names_arrived;	/* atomic: start barrier */
static unsigned int names_stop;	/* atomic */
static unsigned int names_seen;	/* atomic: NAMES_SEEN_* */
static uint64_t names_deadline;	/* written before the run */

/* What the run must have seen (with more than one hart) before it ends:
 * the published handle named, and a closed handle asked through a memo
 * that held it. On a loaded host the vCPUs may seldom overlap, so the
 * writer goes on past names_deadline, up to NAMES_LIMIT_MS, until both
 * happened. */
#define NAMES_SEEN_YES		0x1
#define NAMES_SEEN_STALE	0x2
#define NAMES_SEEN_ALL		0x3
#define NAMES_LIMIT_MS		10000

static bool names_more(uint64_t limit)
{
	uint64_t now = arch_time();

	if (now < names_deadline)
		return true;
	return nr_harts > 1 && now < limit &&
	       __atomic_load_n(&names_seen, __ATOMIC_RELAXED) != NAMES_SEEN_ALL;
}

static void names_writer(void)
{
	uint64_t limit = names_deadline +
			 arch_time_hz() / 1000 * (NAMES_LIMIT_MS - NAMES_MS);

	for (unsigned int i = 0; names_more(limit); i++) {
		unsigned int which = i & 1;
		long h = handle_install(&names_ht, names_obj[which],
					HANDLE_R_SEND);
		uint64_t until;

		if (h <= 0) {
			__atomic_fetch_add(&names_bad, 1, __ATOMIC_RELAXED);
			break;
		}
		until = arch_time() + arch_time_hz() / 1000;
		__atomic_store_n(&names_ack, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&names_cur, h << 1 | which, __ATOMIC_RELEASE);
		/* Until a reader saw it, up to 1 ms: the harts may be vCPUs
		 * that an over-subscribed host runs late (with a fixed pause
		 * of 16, a loaded host once saw no round named at all). */
		for (int k = 0; k < 16 ||
		     (!__atomic_load_n(&names_ack, __ATOMIC_RELAXED) &&
		      arch_time() < until); k++)
			arch_cpu_relax();
		if (handle_close(&names_ht, h)) {
			__atomic_fetch_add(&names_bad, 1, __ATOMIC_RELAXED);
			break;
		}
		__atomic_store_n(&names_closed, h, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&names_stop, 1, __ATOMIC_RELEASE);
}

static void names_reader(void)
{
	unsigned long yes = 0, stale = 0;
	unsigned int bad = 0;
	/* [object]: the checks that may say yes; [2 + object]: the other
	 * object's, which never may; [4 + object]: asked once per published
	 * handle, kept until its close is seen. */
	struct handle_memo memo[6] = { 0 };
	long last = 0;

	while (!__atomic_load_n(&names_stop, __ATOMIC_ACQUIRE)) {
		long cur = __atomic_load_n(&names_cur, __ATOMIC_ACQUIRE);
		long closed = __atomic_load_n(&names_closed, __ATOMIC_ACQUIRE);

		if (cur) {
			long h = cur >> 1;
			unsigned int which = cur & 1;

			if (cur != last) {
				last = cur;
				handle_names_memo(&names_ht, &memo[4 + which],
						  h, names_obj[which],
						  HANDLE_R_SEND);
			}

			bad += handle_names(&names_ht, h, names_obj[!which], 0);
			bad += handle_names(&names_ht, h, names_obj[which],
					    HANDLE_R_RECV);
			bad += handle_names_memo(&names_ht, &memo[2 + !which],
						 h, names_obj[!which], 0);
			if (handle_names(&names_ht, h, names_obj[which],
					 HANDLE_R_SEND)) {
				if (!yes++)
					__atomic_fetch_or(&names_seen,
							  NAMES_SEEN_YES,
							  __ATOMIC_RELAXED);
				__atomic_store_n(&names_ack, 1,
						 __ATOMIC_RELAXED);
			}
			/* Twice: the second usually answers from the memo. */
			handle_names_memo(&names_ht, &memo[which], h,
					  names_obj[which], HANDLE_R_SEND);
			handle_names_memo(&names_ht, &memo[which], h,
					  names_obj[which], HANDLE_R_SEND);
		}
		if (closed) {
			bad += handle_names(&names_ht, closed, names_obj[0], 0);
			bad += handle_names(&names_ht, closed, names_obj[1], 0);
			/* How often a memo still held the closed handle (the
			 * case this is about). */
			unsigned long held = 0;

			for (int m = 0; m < 6; m += m == 1 ? 3 : 1)
				held += memo[m].h == closed;
			if (held && !stale)
				__atomic_fetch_or(&names_seen, NAMES_SEEN_STALE,
						  __ATOMIC_RELAXED);
			stale += held;
			for (int m = 0; m < 6; m += m == 1 ? 3 : 1)
				bad += handle_names_memo(&names_ht, &memo[m],
							 closed,
							 names_obj[m & 1],
							 HANDLE_R_SEND);
		}
	}
	__atomic_fetch_add(&names_bad, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&names_yes, yes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&names_stale, stale, __ATOMIC_RELAXED);
}

static void names_fn(void *arg)
{
	__atomic_fetch_add(&names_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&names_arrived, __ATOMIC_ACQUIRE) < nr_harts)
		arch_cpu_relax();
	if (hart_self() == 0)
		names_writer();
	else
		names_reader();
}

KTEST(handle_names_lockless)
{
	long h;

	handle_table_init(&names_ht);
	names_obj[0] = notify_create();
	names_obj[1] = notify_create();
	KT_ASSERT(names_obj[0] && names_obj[1]);

	/* One hart first: what the answer must be. */
	h = handle_install(&names_ht, names_obj[0], HANDLE_R_SEND);
	KT_ASSERT(h > 0);
	KT_EXPECT(handle_names(&names_ht, h, names_obj[0], HANDLE_R_SEND));
	KT_EXPECT(handle_names(&names_ht, h, names_obj[0], 0));
	KT_EXPECT(!handle_names(&names_ht, h, names_obj[0], HANDLE_R_RECV));
	KT_EXPECT(!handle_names(&names_ht, h, names_obj[1], 0));
	KT_EXPECT(!handle_names(&names_ht, h + 1, names_obj[0], 0));
	KT_EXPECT(!handle_names(&names_ht, -1, names_obj[0], 0));
	KT_EXPECT(!handle_names(&names_ht, 0, names_obj[0], 0));
	/* The memo: remembered, answered from while the table stands
	 * still, checked again when it moved, and forgotten with a close. */
	{
		struct handle_memo m = { 0 };
		long other;

		KT_EXPECT(handle_names_memo(&names_ht, &m, h, names_obj[0],
					    HANDLE_R_SEND));
		KT_EXPECT(m.obj == names_obj[0] && m.h == h &&
			  m.seq == names_ht.seq);
		KT_EXPECT(handle_names_memo(&names_ht, &m, h, names_obj[0],
					    HANDLE_R_SEND));
		KT_EXPECT(!handle_names_memo(&names_ht, &m, h, names_obj[1],
					     HANDLE_R_SEND));
		/* Other handles, the table unchanged: the same slot with
		 * another generation, the next slot (empty). */
		KT_EXPECT(!handle_names_memo(&names_ht, &m, h + (1L << 8),
					     names_obj[0], HANDLE_R_SEND));
		KT_EXPECT(!handle_names_memo(&names_ht, &m, h + 1,
					     names_obj[0], HANDLE_R_SEND));
		other = handle_install(&names_ht, names_obj[1], 0);
		KT_ASSERT(other > 0);
		KT_EXPECT(m.seq != names_ht.seq);
		KT_EXPECT(handle_names_memo(&names_ht, &m, h, names_obj[0],
					    HANDLE_R_SEND));
		KT_EXPECT(m.seq == names_ht.seq);
		KT_EXPECT_EQ(handle_close(&names_ht, other), 0);
		KT_EXPECT_EQ(handle_close(&names_ht, h), 0);
		KT_EXPECT(!handle_names_memo(&names_ht, &m, h, names_obj[0],
					     HANDLE_R_SEND));
	}
	KT_EXPECT(!handle_names(&names_ht, h, names_obj[0], 0));

	/* Then every hart. */
	names_cur = names_closed = 0;
	names_bad = names_arrived = names_stop = 0;
	names_yes = names_ack = names_stale = names_seen = 0;
	names_deadline = arch_time() + arch_time_hz() / 1000 * NAMES_MS;
	hart_run_all(names_fn, NULL);
	KT_EXPECT_EQ(__atomic_load_n(&names_bad, __ATOMIC_RELAXED), 0);
	if (nr_harts > 1) {
		KT_EXPECT(__atomic_load_n(&names_yes, __ATOMIC_RELAXED) > 0);
		KT_EXPECT(__atomic_load_n(&names_stale, __ATOMIC_RELAXED) > 0);
	}
	KT_INFO("%u harts: the published handle named its object %lu times; "
		"closed handles asked through a memo that held them %lu times",
		nr_harts, __atomic_load_n(&names_yes, __ATOMIC_RELAXED),
		__atomic_load_n(&names_stale, __ATOMIC_RELAXED));

	/* A closed table names nothing. */
	h = handle_install(&names_ht, names_obj[1], HANDLE_R_SEND);
	KT_ASSERT(h > 0);
	handle_table_close(&names_ht);
	KT_EXPECT(!handle_names(&names_ht, h, names_obj[1], 0));
	kobj_put(names_obj[0]);
	kobj_put(names_obj[1]);
}

KTEST_SUITE(kt_ipc_suite, "ipc", KTEST_CASE(handle_names_lockless));
