/*
 * pagertest.c - the pager and the name server from a client's side, as
 * one KTAP suite "pagertest" (uktap.h). Run by the shell (`run
 * pagertest`) or by init (`-- names pager test=pagertest`), which both
 * hand it the name-server endpoint as HANDLE_SPAWN (docs/servers.md).
 *
 * It looks the pager up, has it create a memory object, maps it with
 * SYS_MAP_PAGER and faults it from 8 threads spread over every hart at
 * once (all see each other's writes: the pages are shared); evicts pages
 * while other threads fault and write elsewhere and in the same range
 * (contents kept), discards some (zero after), shares the object with a
 * child process, and checks that a fault beyond the object kills only the
 * faulting child. Threads that fault on one absent page at once (the
 * pager holding the first one's fault, PAGER_REQ_DELAY) ask the pager
 * once, the others wait; a child killed while its threads fault there
 * ends at once. Bad requests get error codes. Names belong to the
 * process that registered them: another may take one only once it ended.
 *
 *   pagertest               the suite; exit status = failed cases
 *   pagertest child KEY     (its child) opens KEY, checks, writes a mark
 *   pagertest beyond KEY    (its child) touches past the object's end
 *   pagertest slow KEY      (its child) faults page 0 of KEY from 8
 *                           threads and waits for them (it is killed)
 *   pagertest owner NAME    (its child) registers NAME, answers one call
 *                           and exits
 */
#include <proto.h>
#include <uktap.h>

#define MS		1000000UL
#define NTHREADS	8
/* 1 MiB. Small: on a loaded host a fault served on another hart can take
 * many milliseconds. */
#define OBJ_PAGES	256UL
#define HALF		(OBJ_PAGES / 2)
#define DISCARDED	16UL		/* pages [0, 16) get discarded */
#define ROUNDS		3
#define MAX_PASSES	6	/* eviction passes while they run */
#define WORDS		(PAGE_SIZE / sizeof(unsigned long))
#define MAGIC		0x5a17c0de00000000UL
#define CHILD_MARK	0xc41dUL
#define TIMEOUT		(5000 * MS)
#define SLOW_PAGES	4UL		/* the slow object's size */
/* How long a fault on it is held at most (it is let go as soon as the
 * others wait): longer than WAITS_TIMEOUT, so that it is still held
 * while they are waited for. Without the kernel's table of faults in
 * flight every fault is held, which may hold every pager thread: then
 * the case fails after WAITS_TIMEOUT and at most SLOW_HOLD_MS more. */
#define SLOW_HOLD_MS	30000UL
#define WAITS_TIMEOUT	(15000 * MS)
#define SLOW_MARK	0x510e00000000UL
#define OWNER_NAME	"pagertest-owner"
#define OWNER_QUIT	PROTO_LABEL('q', 'u', 'i', 't')

static long ns = HANDLE_SPAWN;
static long pager = -1, pgh = -1;	/* lookup; from PAGER_REQ_CREATE */
static unsigned long key;
static char *region;
static unsigned long slow_key;		/* the slow object (PAGER_REQ_DELAY) */
static long slow_h = -1;
static char *slow_region;
static unsigned long *buf;
static unsigned int nharts = 1;

static unsigned long *page(unsigned long p)
{
	return (unsigned long *)(region + p * PAGE_SIZE);
}

static unsigned long faults_served(void)
{
	struct ipc_msg m;

	return proto_call(pager, PAGER_REQ_STAT, 0, 0, &m, TIMEOUT) ? 0
								     : m.w[3];
}

/* Faults that waited for another thread's pager call (SYS_STATS). */
static unsigned long pager_waits(void)
{
	static struct rivet_stats st;

	return sys_stats(&st) ? 0 : st.pager_waits;
}

/* PAGER_REQ_DELAY: each fault on object @k is answered @ms after it
 * came, or once this is called again with 0. */
static long delay_faults(unsigned long k, unsigned long ms)
{
	struct ipc_msg m;

	return proto_call(pager, PAGER_REQ_DELAY, k, ms, &m, TIMEOUT);
}

static long slow_delay(unsigned long ms)
{
	return delay_faults(slow_key, ms);
}

/* Until pager_waits() reaches @n (up to WAITS_TIMEOUT): did it? */
static bool waits_reach(unsigned long n)
{
	for (long t0 = sys_clock(); sys_clock() - t0 < (long)WAITS_TIMEOUT;
	     sys_sleep(MS))
		if (pager_waits() >= n)
			return true;
	return false;
}

static bool ready(void)
{
	if (region)
		return true;
	EXPECT(region, "no pager-backed region (an earlier case failed)");
	return false;
}

/* ---- the name server ----------------------------------------------------- */

static void lookup_pager(void)
{
	pager = ns_lookup_wait(ns, buf, "pager", TIMEOUT);
	EXPECT(pager > 0, "lookup pager: %ld (%s)", pager,
	       uktap_ret_name(pager));
	if (pager > 0)
		EXPECT_RET(sys_handle_info(pager),
			   HANDLE_T_ENDPOINT << 16 | HANDLE_R_SEND |
				   HANDLE_R_GRANT);
}

/* SYS_HANDLE_INFO of the handle the name server keeps under @name
 * (NS_LIST), or -E_NOENT. */
static long name_info(const char *name)
{
	char listed[NS_NAME_MAX + 1];
	unsigned long info;

	for (unsigned long i = 0; !ns_list(ns, buf, i, listed, &info, TIMEOUT);
	     i++)
		if (!strcmp(listed, name))
			return (long)info;
	return -E_NOENT;
}

static void name_server_errors(void)
{
	long ep = sys_endpoint_create(), h;
	struct ipc_msg m;

	EXPECT_RET(ns_lookup(ns, buf, "no-such-service", TIMEOUT), -E_NOENT);
	EXPECT_RET(ns_lookup(ns, buf, "", TIMEOUT), -E_RANGE);
	EXPECT_RET(ns_lookup(ns, buf, "a-name-of-thirty-two-characters!",
			     TIMEOUT), -E_RANGE);
	/* What the client library would not send: unterminated, spaces. */
	memset(buf, 'x', NS_NAME_WORDS * sizeof(long));
	m = (struct ipc_msg){ .info = IPC_INFO(NS_LOOKUP, NS_NAME_WORDS, 0) };
	EXPECT_RET(ipc_call(ns, &m, TIMEOUT), 0);
	EXPECT_RET((long)m.w[0], -E_INVAL);
	ns_name_put(buf, "two words");
	m = (struct ipc_msg){ .info = IPC_INFO(NS_LOOKUP, NS_NAME_WORDS, 0) };
	EXPECT_RET(ipc_call(ns, &m, TIMEOUT), 0);
	EXPECT_RET((long)m.w[0], -E_INVAL);
	m = (struct ipc_msg){ .info = IPC_INFO(NS_LOOKUP, 1, 0) };
	EXPECT_RET(ipc_call(ns, &m, TIMEOUT), 0);
	EXPECT_RET((long)m.w[0], -E_INVAL);
	/* Registering needs a handle, one with GRANT. */
	ns_name_put(buf, "pagertest");
	m = (struct ipc_msg){ .info = IPC_INFO(NS_REGISTER, NS_NAME_WORDS, 0) };
	EXPECT_RET(ipc_call(ns, &m, TIMEOUT), 0);
	EXPECT_RET((long)m.w[0], -E_INVAL);
	EXPECT_RET(ns_register(ns, buf, "pagertest", ep, HANDLE_R_SEND,
			       TIMEOUT), -E_PERM);
	EXPECT_RET(ns_lookup(ns, buf, "pagertest", TIMEOUT), -E_NOENT);
	/* An unknown request. */
	EXPECT_RET(proto_call(ns, PROTO_LABEL('n', 'o', 'p', 'e'), 0, 0, &m,
			      TIMEOUT), -E_NOSYS);
	/* Register, find it listed, look it up: SEND | GRANT, never RECV. */
	EXPECT_RET(ns_register(ns, buf, "pagertest", ep,
			       HANDLE_R_SEND | HANDLE_R_GRANT | HANDLE_R_RECV,
			       TIMEOUT), 0);
	h = ns_lookup(ns, buf, "pagertest", TIMEOUT);
	EXPECT(h > 0, "lookup pagertest: %ld", h);
	EXPECT_RET(sys_handle_info(h), HANDLE_T_ENDPOINT << 16 |
					       HANDLE_R_SEND | HANDLE_R_GRANT);
	EXPECT(name_info("pagertest") >= 0, "pagertest not in NS_LIST");
	EXPECT_RET(ns_unregister(ns, buf, "pagertest", TIMEOUT), 0);
	EXPECT_RET(ns_unregister(ns, buf, "pagertest", TIMEOUT), -E_NOENT);
	EXPECT_RET(ns_lookup(ns, buf, "pagertest", TIMEOUT), -E_NOENT);
	if (h > 0)
		EXPECT_RET(sys_handle_close(h), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* "pager" still names the pager: it answers (our endpoint would not). */
static void expect_pager_named(void)
{
	long h = ns_lookup(ns, buf, "pager", TIMEOUT);
	struct ipc_msg m;

	EXPECT(h > 0, "lookup pager: %ld (%s)", h, uktap_ret_name(h));
	if (h <= 0)
		return;
	EXPECT_RET(proto_call(h, PAGER_REQ_STAT, 0, 0, &m, TIMEOUT), 0);
	EXPECT_RET(sys_handle_close(h), 0);
}

/* The pager's name is the pager's: we may neither take nor remove it. Our
 * own name we may register again (servers refresh theirs). */
static void names_of_others(void)
{
	long ep = sys_endpoint_create();

	EXPECT_RET(ns_register(ns, buf, "pager", ep,
			       HANDLE_R_SEND | HANDLE_R_GRANT, TIMEOUT),
		   -E_PERM);
	expect_pager_named();
	EXPECT_RET(ns_unregister(ns, buf, "pager", TIMEOUT), -E_PERM);
	expect_pager_named();
	EXPECT_RET(ns_register(ns, buf, "pagertest", ep,
			       HANDLE_R_SEND | HANDLE_R_GRANT, TIMEOUT), 0);
	EXPECT_RET(ns_register(ns, buf, "pagertest", ep,
			       HANDLE_R_SEND | HANDLE_R_GRANT | HANDLE_R_RECV,
			       TIMEOUT), 0);
	EXPECT_RET(name_info("pagertest"),
		   HANDLE_T_ENDPOINT << 16 | HANDLE_R_SEND | HANDLE_R_GRANT |
			   HANDLE_R_RECV);
	EXPECT_RET(ns_unregister(ns, buf, "pagertest", TIMEOUT), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* Is child @pid listed as exiting (ended, not waited for)? Waits for it
 * up to TIMEOUT. */
static bool ended_unwaited(long pid)
{
	struct rivet_proc_info pi;

	for (long t0 = sys_clock(); sys_clock() - t0 < (long)TIMEOUT;
	     sys_sleep(MS))
		if (sys_proc_find(pid, &pi) == 0 && pi.exiting)
			return true;
	return false;
}

/*
 * A child registers OWNER_NAME: nobody else may take it while the child
 * lives. Once it has ended, we may: before we waited for it (it is still
 * listed, as exiting) and after.
 */
static void names_of_ended_processes(void)
{
	long ep = sys_endpoint_create(), h, pid;
	struct ipc_msg m;

	for (int waited = 0; waited < 2; waited++) {
		pid = sys_spawn_handle("pagertest", "owner " OWNER_NAME, ns);
		EXPECT(pid > 0, "spawn pagertest owner: %ld", pid);
		if (pid <= 0)
			break;
		h = ns_lookup_wait(ns, buf, OWNER_NAME, TIMEOUT);
		EXPECT(h > 0, "lookup %s: %ld", OWNER_NAME, h);
		if (h <= 0) {
			sys_kill(pid);
			sys_wait(pid);
			break;
		}
		EXPECT_RET(ns_register(ns, buf, OWNER_NAME, ep,
				       HANDLE_R_SEND | HANDLE_R_GRANT, TIMEOUT),
			   -E_PERM);
		EXPECT_RET(proto_call(h, OWNER_QUIT, 0, 0, &m, TIMEOUT), 0);
		EXPECT_RET(sys_handle_close(h), 0);
		if (waited)
			EXPECT_RET(sys_wait(pid), 0);
		else
			EXPECT(ended_unwaited(pid), "child %ld not ending", pid);
		EXPECT_RET(ns_register(ns, buf, OWNER_NAME, ep,
				       HANDLE_R_SEND | HANDLE_R_GRANT, TIMEOUT),
			   0);
		if (!waited)
			EXPECT_RET(sys_wait(pid), 0);
		EXPECT_RET(ns_unregister(ns, buf, OWNER_NAME, TIMEOUT), 0);
	}
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- objects and regions ---------------------------------------------------- */

static void create_object(void)
{
	unsigned long k;
	long h = 0;
	struct ipc_msg m;

	if (pager <= 0) {
		EXPECT(pager > 0, "no pager");
		return;
	}
	EXPECT_RET(pager_create(pager, 0, &k, &h), -E_INVAL);
	EXPECT_RET(pager_create(pager, PAGER_OBJ_PAGES + 1, &k, &h), -E_INVAL);
	EXPECT_RET(proto_call(pager, PROTO_LABEL('n', 'o', 'p', 'e'), 0, 0,
			      &m, TIMEOUT), -E_NOSYS);
	EXPECT_RET(pager_create(pager, OBJ_PAGES, &key, &pgh), 0);
	EXPECT_RET(sys_handle_info(pgh), HANDLE_T_ENDPOINT << 16 |
						 HANDLE_R_SEND);
	EXPECT_RET(pager_open(pager, key + 1, &k, &h), -E_NOENT);
	EXPECT_RET(pager_open(pager, key, &k, &h), 0);
	EXPECT_RET(k, OBJ_PAGES);
	if (h > 0)
		EXPECT_RET(sys_handle_close(h), 0);
}

static void map_region(void)
{
	long n = sys_notify_create(), r;

	EXPECT_RET(sys_map_pager(0, OBJ_PAGES * PAGE_SIZE,
				 PROT_READ | PROT_WRITE, n, key), -E_TYPE);
	EXPECT_ERR(sys_map_pager(0, 0, PROT_READ | PROT_WRITE, pgh, key));
	EXPECT_ERR(sys_map_pager((void *)0x1001, PAGE_SIZE,
				 PROT_READ | PROT_WRITE, pgh, key));
	EXPECT_RET(sys_handle_close(n), 0);
	r = sys_map_pager(0, OBJ_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  pgh, key);
	EXPECT(r > 0, "map_pager: %ld (%s)", r, uktap_ret_name(r));
	if (r > 0)
		region = (char *)r;
}

/* ---- many threads ------------------------------------------------------------ */

struct worker {
	unsigned int id;
	unsigned long bad;		/* wrong words seen */
	unsigned long first_bad;	/* page of the first */
	long tid;
} __attribute__((aligned(64)));

static struct worker workers[NTHREADS];
static int arrived, written, finished;	/* atomic */

/* Sleep (not spin: spinning harts slow everything down on a loaded
 * host) until @counter reaches @n; the waiters then go on at the same
 * tick. */
static void wait_for(int *counter, int n)
{
	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < n)
		sys_sleep(MS);
}

static void bad_word(struct worker *w, unsigned long p)
{
	if (!w->bad++)
		w->first_bad = p;
}

/* Write my pages (every NTHREADS-th), then read everybody's. */
static void writer_fn(void *arg)
{
	struct worker *w = arg;

	__atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
	wait_for(&arrived, NTHREADS);
	for (unsigned long p = w->id; p < OBJ_PAGES; p += NTHREADS) {
		page(p)[0] = MAGIC | p;
		page(p)[WORDS - 1] = w->id;
	}
	__atomic_fetch_add(&written, 1, __ATOMIC_RELEASE);
	wait_for(&written, NTHREADS);
	for (unsigned long p = 0; p < OBJ_PAGES; p++)
		if (page(p)[0] != (MAGIC | p) ||
		    page(p)[WORDS - 1] != p % NTHREADS)
			bad_word(w, p);
}

static unsigned long start_workers(void (*fn)(void *), unsigned int n)
{
	unsigned long started = 0;

	arrived = written = finished = 0;
	for (unsigned int i = 0; i < n; i++) {
		workers[i] = (struct worker){ .id = i };
		workers[i].tid = thread_spawn(fn, &workers[i],
					      (int)(i % nharts));
		EXPECT(workers[i].tid > 0, "thread %u: %ld", i,
		       workers[i].tid);
		started += workers[i].tid > 0;
	}
	return started;
}

static void join_workers(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (workers[i].tid > 0)
			EXPECT_RET(thread_join(workers[i].tid), 0);
		EXPECT(!workers[i].bad, "thread %u: %lu wrong words, the "
		       "first in page %lu", i, workers[i].bad,
		       workers[i].first_bad);
	}
}

static void fault_from_8_threads(void)
{
	unsigned long f0, f1;
	long t0;

	if (!ready())
		return;
	f0 = faults_served();
	t0 = sys_clock();
	if (start_workers(writer_fn, NTHREADS) != NTHREADS)
		return;		/* the barrier would wait forever */
	join_workers(NTHREADS);
	f1 = faults_served();
	/* Each page faulted at least once, by its writer. */
	EXPECT(f1 - f0 >= OBJ_PAGES, "the pager served %lu faults for %lu "
	       "pages", f1 - f0, OBJ_PAGES);
	printf(UKTAP_DIAG "%lu pages by %d threads on %u harts: %lu pager "
	       "faults, %ld us\n", OBJ_PAGES, NTHREADS, nharts, f1 - f0,
	       (sys_clock() - t0) / 1000);
}

/* Bump the counter (word 1) of my pages in the upper half each round. */
static void counter_fn(void *arg)
{
	struct worker *w = arg;

	for (unsigned long r = 0; r < ROUNDS; r++) {
		for (unsigned long p = HALF + w->id; p < OBJ_PAGES;
		     p += NTHREADS - 1) {
			if (page(p)[1] != r || page(p)[0] != (MAGIC | p))
				bad_word(w, p);
			page(p)[1] = r + 1;
		}
		sys_sleep(10 * MS);	/* a pass of evictions meanwhile */
	}
	__atomic_fetch_add(&finished, 1, __ATOMIC_RELEASE);
}

static void evict_while_faulting(void)
{
	unsigned long f0, f1, evicted = 0, passes = 0, bad = 0;
	long r;

	if (!ready())
		return;
	/* Everything out first: every page the workers touch faults. */
	r = pager_evict(pager, key, 0, OBJ_PAGES * PAGE_SIZE, 0);
	EXPECT(r >= (long)OBJ_PAGES, "evict all: %ld", r);
	f0 = faults_served();
	start_workers(counter_fn, NTHREADS - 1);
	/* Evict the lower half (nobody's) and the upper one (theirs) while
	 * they fault and write there. */
	while (passes < MAX_PASSES && __atomic_load_n(&finished,
			__ATOMIC_ACQUIRE) < NTHREADS - 1) {
		r = pager_evict(pager, key, 0, HALF * PAGE_SIZE, 0);
		EXPECT(r >= 0, "evict lower: %ld", r);
		evicted += r > 0 ? (unsigned long)r : 0;
		r = pager_evict(pager, key, HALF * PAGE_SIZE,
				HALF * PAGE_SIZE, 0);
		EXPECT(r >= 0, "evict upper: %ld", r);
		evicted += r > 0 ? (unsigned long)r : 0;
		passes++;
		sys_sleep(20 * MS);
	}
	join_workers(NTHREADS - 1);
	EXPECT(evicted > 0, "%lu passes unmapped nothing", passes);
	/* Kept: the first case's words and every counter increment. */
	for (unsigned long p = 0; p < OBJ_PAGES; p++) {
		bool ok = page(p)[0] == (MAGIC | p) &&
			  page(p)[WORDS - 1] == p % NTHREADS &&
			  page(p)[1] == (p < HALF ? 0 : ROUNDS);

		if (!ok && !bad++)
			EXPECT(ok, "page %lu: %#lx %lu %lu", p, page(p)[0],
			       page(p)[1], page(p)[WORDS - 1]);
	}
	EXPECT(!bad, "%lu pages changed by eviction", bad);
	f1 = faults_served();
	EXPECT(f1 - f0 >= OBJ_PAGES, "only %lu faults after evicting %lu "
	       "pages", f1 - f0, OBJ_PAGES);
	printf(UKTAP_DIAG "%lu eviction passes unmapped %lu pages; %lu "
	       "faults\n", passes, evicted, f1 - f0);
}

static void evict_discard(void)
{
	long r;
	unsigned long bad = 0;

	if (!ready())
		return;
	r = pager_evict(pager, key, 0, DISCARDED * PAGE_SIZE,
			PAGER_EVICT_DISCARD);
	EXPECT(r >= 0, "discard: %ld", r);
	for (unsigned long p = 0; p < DISCARDED; p++)
		for (unsigned long k = 0; k < WORDS; k++)
			bad += page(p)[k] != 0;
	EXPECT(!bad, "%lu words not zero after a discard", bad);
	EXPECT_RET(page(DISCARDED)[0], MAGIC | DISCARDED);
}

static void bad_evictions(void)
{
	unsigned long size = OBJ_PAGES * PAGE_SIZE;

	EXPECT_RET(pager_evict(pager, key + 256, 0, PAGE_SIZE, 0), -E_NOENT);
	EXPECT_RET(pager_evict(pager, key, 0, 0, 0), -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, 1, PAGE_SIZE, 0), -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, 0, PAGE_SIZE + 1, 0), -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, size, PAGE_SIZE, 0), -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, PAGE_SIZE, size, 0), -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, PAGE_SIZE, ~0UL & ~0xfffUL, 0),
		   -E_INVAL);
	EXPECT_RET(pager_evict(pager, key, 0, PAGE_SIZE, 0x80), -E_INVAL);
	/* Only the pager may evict: we hold SEND, not RECV. */
	EXPECT_RET(sys_pager_evict(pgh, key, 0, PAGE_SIZE), -E_PERM);
}

/* ---- other processes ---------------------------------------------------------- */

static long child(const char *mode)
{
	char args[48];
	long pid;

	snprintf(args, sizeof(args), "%s %lu", mode, key);
	pid = sys_spawn_handle("pagertest", args, ns);
	EXPECT(pid > 0, "spawn pagertest %s: %ld", args, pid);
	return pid > 0 ? sys_wait(pid) : pid;
}

static void shared_with_a_process(void)
{
	if (!ready())
		return;
	EXPECT_RET(child("child"), 0);
	EXPECT_RET(page(20)[2], CHILD_MARK);
}

static void fault_beyond_object(void)
{
	unsigned long f0 = faults_served();

	if (!ready())
		return;
	/* The pager has no page there: the kernel ends that process. */
	EXPECT_RET(child("beyond"), -1);
	EXPECT(faults_served() == f0, "a page was served beyond the end");
	EXPECT_RET(page(DISCARDED)[0], MAGIC | DISCARDED);
}

/* ---- faults in flight ---------------------------------------------------------- */

/* Read the slow object's page 0: it holds SLOW_MARK. */
static void slow_reader_fn(void *arg)
{
	struct worker *w = arg;
	unsigned long *pg = (unsigned long *)slow_region;

	__atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
	wait_for(&arrived, NTHREADS);
	if (__atomic_load_n(&pg[0], __ATOMIC_RELAXED) != SLOW_MARK ||
	    __atomic_load_n(&pg[WORDS - 1], __ATOMIC_RELAXED) != ~SLOW_MARK)
		bad_word(w, 0);
}

/*
 * 8 threads on every hart fault on one absent page of a pager-backed
 * region at once. The pager holds the first fault it gets (a delay of
 * 30 s on the object) until the other 7 wait for it in the kernel, then
 * lets it go: it must have served the page once, and every thread reads
 * what is in it.
 */
static void one_page_from_8_threads(void)
{
	unsigned long f0, f1, w0, w1;
	bool all_waited;
	long r, t0;

	if (pager <= 0) {
		EXPECT(pager > 0, "no pager");
		return;
	}
	EXPECT_RET(pager_create(pager, SLOW_PAGES, &slow_key, &slow_h), 0);
	EXPECT_RET(delay_faults(slow_key + 256, 1), -E_NOENT);
	EXPECT_RET(delay_faults(slow_key, PAGER_DELAY_MAX_MS + 1), -E_INVAL);
	r = sys_map_pager(0, SLOW_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  slow_h, slow_key);
	EXPECT(r > 0, "map_pager: %ld (%s)", r, uktap_ret_name(r));
	if (r <= 0)
		return;
	slow_region = (char *)r;
	/* The contents, then the page out of our mapping (kept). */
	((unsigned long *)slow_region)[0] = SLOW_MARK;
	((unsigned long *)slow_region)[WORDS - 1] = ~SLOW_MARK;
	EXPECT_RET(pager_evict(pager, slow_key, 0, PAGE_SIZE, 0), 1);
	EXPECT_RET(slow_delay(SLOW_HOLD_MS), 0);
	f0 = faults_served();
	w0 = pager_waits();
	t0 = sys_clock();
	if (start_workers(slow_reader_fn, NTHREADS) != NTHREADS) {
		slow_delay(0);
		return;		/* the barrier would wait forever */
	}
	all_waited = waits_reach(w0 + NTHREADS - 1);
	EXPECT_RET(slow_delay(0), 0);	/* the first fault's answer goes */
	join_workers(NTHREADS);
	f1 = faults_served();
	w1 = pager_waits();
	EXPECT(f1 - f0 == 1, "the pager served %lu faults for one page",
	       f1 - f0);
	EXPECT(all_waited && w1 - w0 >= NTHREADS - 1, "only %lu of %d "
	       "faults waited for the first one's pager call", w1 - w0,
	       NTHREADS - 1);
	printf(UKTAP_DIAG "one page by %d threads on %u harts: the pager "
	       "served %lu faults, %lu waited, %ld us\n", NTHREADS, nharts,
	       f1 - f0, w1 - w0, (sys_clock() - t0) / 1000);
}

/*
 * A child faults on the slow object's page 0 from 8 threads: one asks
 * (held by the pager), the others wait for it. Killed then, the child
 * must end at once (within TIMEOUT, not when the pager answers, 30 s
 * later), quietly (status -1, no report line: tests/system), and the
 * object must still serve faults.
 */
static void kill_while_waiting(void)
{
	unsigned long f0, w0, w1;
	char args[48];
	long pid, r, t0, dt;
	bool all_waited;

	if (!slow_region) {
		EXPECT(slow_region, "no slow object (an earlier case failed)");
		return;
	}
	EXPECT_RET(slow_delay(SLOW_HOLD_MS), 0);
	f0 = faults_served();
	w0 = pager_waits();
	snprintf(args, sizeof(args), "slow %lu", slow_key);
	pid = sys_spawn_handle("pagertest", args, ns);
	EXPECT(pid > 0, "spawn pagertest %s: %ld", args, pid);
	if (pid <= 0) {
		slow_delay(0);
		return;
	}
	all_waited = waits_reach(w0 + NTHREADS - 1);
	w1 = pager_waits();
	EXPECT(all_waited, "only %lu of the child's faults waited", w1 - w0);
	t0 = sys_clock();
	EXPECT_RET(sys_kill(pid), 0);
	r = sys_wait(pid);
	dt = sys_clock() - t0;
	EXPECT_RET(r, -1);
	/* The held call ends only when we let it go below. */
	EXPECT(dt < (long)TIMEOUT, "the killed child took %ld ms to end",
	       dt / (long)MS);
	EXPECT_RET(slow_delay(0), 0);
	/* The child's one ask is answered now (to nobody). */
	for (long t1 = sys_clock(); faults_served() - f0 < 1 &&
	     sys_clock() - t1 < (long)TIMEOUT; sys_sleep(MS))
		;
	EXPECT(faults_served() - f0 == 1, "the pager served %ld faults for "
	       "the child's page", (long)(faults_served() - f0));
	/* The object still serves: our page 0 out, and in again. */
	EXPECT_RET(pager_evict(pager, slow_key, 0, PAGE_SIZE, 0), 1);
	EXPECT_RET(((unsigned long *)slow_region)[0], SLOW_MARK);
	EXPECT(faults_served() - f0 == 2, "%ld faults served, expected 2",
	       (long)(faults_served() - f0));
	printf(UKTAP_DIAG "a child with %lu faults waiting for its pager "
	       "call ended %ld us after its kill\n", w1 - w0, dt / 1000);
}

static void destroy_object(void)
{
	unsigned long k;
	long h;

	if (!ready())
		return;
	EXPECT_RET(sys_unmap(region, OBJ_PAGES * PAGE_SIZE), 0);
	region = NULL;
	EXPECT_RET(pager_destroy(pager, key), 0);
	EXPECT_RET(pager_destroy(pager, key), -E_NOENT);
	EXPECT_RET(pager_open(pager, key, &k, &h), -E_NOENT);
	EXPECT_RET(sys_handle_close(pgh), 0);
	if (!slow_region)
		return;
	EXPECT_RET(sys_unmap(slow_region, SLOW_PAGES * PAGE_SIZE), 0);
	slow_region = NULL;
	EXPECT_RET(pager_destroy(pager, slow_key), 0);
	EXPECT_RET(sys_handle_close(slow_h), 0);
}

static const struct uktap_case cases[] = {
	{ "lookup_pager", lookup_pager },
	{ "name_server_errors", name_server_errors },
	{ "names_of_others", names_of_others },
	{ "names_of_ended_processes", names_of_ended_processes },
	{ "create_object", create_object },
	{ "map_region", map_region },
	{ "fault_from_8_threads", fault_from_8_threads },
	{ "evict_while_faulting", evict_while_faulting },
	{ "evict_discard", evict_discard },
	{ "bad_evictions", bad_evictions },
	{ "shared_with_a_process", shared_with_a_process },
	{ "fault_beyond_object", fault_beyond_object },
	{ "one_page_from_8_threads", one_page_from_8_threads },
	{ "kill_while_waiting", kill_while_waiting },
	{ "destroy_object", destroy_object },
};

/* The owner mode: register @name, answer one call, end. */
static int owner_main(const char *name)
{
	long ep = sys_endpoint_create(), r;
	struct ipc_msg m;

	r = ns_register(ns, buf, name, ep, HANDLE_R_SEND | HANDLE_R_GRANT,
			TIMEOUT);
	if (!r)
		r = ipc_recv(ep, &m, 4 * TIMEOUT);
	if (r) {
		printf("pagertest owner: %s: %s\n", name, errno_name((int)r));
		return 2;
	}
	m = (struct ipc_msg){ .w = { 0 } };
	return ipc_reply(&m) ? 3 : 0;
}

/* The child modes: map object @key_s of the pager and touch it. */
static int child_main(const char *mode, const char *key_s)
{
	unsigned long pages, bad = 0;
	uint64_t k;
	long h, r;

	pager = ns_lookup_wait(ns, buf, "pager", TIMEOUT);
	if (kstrtou64(key_s, &k) || pager < 0 ||
	    pager_open(pager, k, &pages, &h)) {
		printf("pagertest %s: no object %s\n", mode, key_s);
		return 2;
	}
	r = sys_map_pager(0, 2 * pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  h, k);
	if (r < 0) {
		printf("pagertest %s: map_pager: %s\n", mode,
		       errno_name((int)r));
		return 3;
	}
	region = (char *)r;
	if (!strcmp(mode, "beyond")) {
		page(pages)[0] = 1;	/* killed here */
		return 4;
	}
	if (!strcmp(mode, "slow")) {
		/* Every thread faults on page 0, which the pager holds:
		 * killed while they wait. */
		slow_region = region;
		if (start_workers(slow_reader_fn, NTHREADS) != NTHREADS)
			return 6;
		for (unsigned int i = 0; i < NTHREADS; i++)
			thread_join(workers[i].tid);
		return 7;
	}
	for (unsigned long p = DISCARDED; p < pages / 2; p += 7)
		bad += page(p)[0] != (MAGIC | p);
	page(20)[2] = CHILD_MARK;
	if (bad)
		printf("pagertest child: %lu pages not as written\n", bad);
	return bad ? 5 : 0;
}

int main(int argc, char **argv)
{
	static struct rivet_stats st;
	long info = sys_handle_info(ns);

	if (info < 0 || (info >> 16) != HANDLE_T_ENDPOINT) {
		printf("pagertest: no name-server handle: run it from the "
		       "shell (run pagertest) or by init (test=pagertest)\n");
		return 2;
	}
	buf = ipc_buffer_new();
	if (!buf) {
		printf("pagertest: no IPC buffer\n");
		return 3;
	}
	if (sys_stats(&st) == 0)
		nharts = st.nharts;
	if (argc == 3 && !strcmp(argv[1], "owner"))
		return owner_main(argv[2]);
	if (argc == 3)
		return child_main(argv[1], argv[2]);
	return uktap_run("pagertest", cases, ARRAY_SIZE(cases));
}
