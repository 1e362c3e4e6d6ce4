/*
 * crashtest.c - a server that crashes is restarted by init, and its
 * clients get errors, not hangs: one KTAP suite "crashtest" (uktap.h)
 * against the test server crashy (proto.h, CRASHY_*), which init must be
 * keeping (`-- names crashy shell`, or `test=crashtest` after it).
 *
 * Cases: crashy answers; it crashes (a bad store) while one client's call
 * is being served and others wait behind the crash request: the crash
 * request fails with -E_PEER, the calls queued behind it too, none hangs;
 * its old handle fails at once; init starts it again (a new pid) and a
 * new lookup reaches it; the same once more for a plain exit. And a
 * process whose parent ended is reaped by init.
 */
#include <proto.h>
#include <uktap.h>

#define MS		1000000UL
#define TIMEOUT		(10000 * MS)
#define BACK_WITHIN	(15000 * MS)	/* init's back-off is at most 5 s */

static long ns = HANDLE_SPAWN;
static unsigned long *buf;
static long crashy = -1;
static long crashy_pid;

/* Ping @h: crashy's pid, or -E_*. */
static long ping(long h, unsigned long timeout)
{
	struct ipc_msg m;
	long r = proto_call(h, CRASHY_PING, 41, 0, &m, timeout);

	if (r)
		return r;
	return m.w[1] == 42 ? (long)m.w[2] : -E_INVAL;
}

static void crashy_answers(void)
{
	crashy = ns_lookup_wait(ns, buf, "crashy", TIMEOUT);
	EXPECT(crashy > 0, "lookup crashy: %ld (%s)", crashy,
	       uktap_ret_name(crashy));
	if (crashy <= 0)
		return;
	crashy_pid = ping(crashy, TIMEOUT);
	EXPECT(crashy_pid > 0, "ping: %ld (%s)", crashy_pid,
	       uktap_ret_name(crashy_pid));
}

struct caller {
	unsigned long label, arg;
	unsigned long delay;	/* ms before the call */
	long result;
	long ns;		/* how long the call took */
};

static void caller_fn(void *arg)
{
	struct caller *c = arg;
	struct ipc_msg m;
	long t0;

	sys_sleep(c->delay * MS);
	t0 = sys_clock();
	c->result = proto_call(crashy, c->label, c->arg, 0, &m, TIMEOUT);
	c->ns = sys_clock() - t0;
}

/* Crash crashy with CRASHY_CRASH @how while calls are in flight. */
static void crash_with_calls(unsigned long how)
{
	/* One call being served (1 s), two queued behind the crash. */
	static struct caller c[3];
	long tids[3], t0, r;
	struct ipc_msg m;

	c[0] = (struct caller){ CRASHY_SLOW, 1000, 0, 0, 0 };
	c[1] = (struct caller){ CRASHY_SLOW, 10, 300, 0, 0 };
	c[2] = (struct caller){ CRASHY_PING, 41, 300, 0, 0 };
	tids[0] = thread_spawn(caller_fn, &c[0], -1);
	sys_sleep(100 * MS);
	tids[1] = thread_spawn(caller_fn, &c[1], -1);
	tids[2] = thread_spawn(caller_fn, &c[2], -1);
	t0 = sys_clock();
	r = proto_call(crashy, CRASHY_CRASH, how, 0, &m, TIMEOUT);
	EXPECT_RET(r, -E_PEER);
	for (int i = 0; i < 3; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		/* Served before the crash, or told the server is gone. */
		EXPECT(c[i].result == 0 || c[i].result == -E_PEER,
		       "call %d: %ld (%s) after %ld ms", i, c[i].result,
		       uktap_ret_name(c[i].result), c[i].ns / (long)MS);
	}
	EXPECT_RET(c[0].result, 0);
	printf(UKTAP_DIAG "crash request failed after %ld ms; the calls: "
	       "%s, %s, %s\n", (sys_clock() - t0) / (long)MS,
	       uktap_ret_name(c[0].result), uktap_ret_name(c[1].result),
	       uktap_ret_name(c[2].result));
	/* The old handle names a dead endpoint: errors at once. */
	t0 = sys_clock();
	EXPECT_RET(ping(crashy, TIMEOUT), -E_PEER);
	EXPECT(sys_clock() - t0 < (long)(1000 * MS), "took %ld ms",
	       (sys_clock() - t0) / (long)MS);
}

/* Wait for init to bring crashy back; a new lookup reaches it. */
static void back_again(void)
{
	long t0 = sys_clock(), pid = -E_NOENT, h = -1;

	while (sys_clock() - t0 < (long)BACK_WITHIN) {
		h = ns_lookup(ns, buf, "crashy", TIMEOUT);
		pid = h > 0 ? ping(h, 1000 * MS) : h;
		if (pid > 0)
			break;
		if (h > 0)
			sys_handle_close(h);
		sys_sleep(50 * MS);
	}
	EXPECT(pid > 0, "crashy not back after %lu ms: %ld (%s)",
	       BACK_WITHIN / MS, pid, uktap_ret_name(pid));
	EXPECT(pid != crashy_pid, "the same pid %ld", pid);
	if (pid > 0)
		printf(UKTAP_DIAG "crashy is back as pid %ld after %ld ms\n",
		       pid, (sys_clock() - t0) / (long)MS);
	if (crashy > 0)
		sys_handle_close(crashy);
	crashy = pid > 0 ? h : -1;
	crashy_pid = pid;
}

static void crash_bad_store(void)
{
	if (crashy > 0)
		crash_with_calls(0);
	else
		EXPECT(crashy > 0, "no crashy");
}

static void crash_exit(void)
{
	if (crashy > 0)
		crash_with_calls(7);
	else
		EXPECT(crashy > 0, "no crashy");
}

/*
 * A grandchild whose parent ends first goes to init, which reaps it:
 * `crashtest orphan` starts hello and exits with its pid without waiting
 * for it; once we have waited for that child, hello is init's, and it
 * must leave the process table (only its parent can free it).
 */
static void orphan_reaped_by_init(void)
{
	struct rivet_proc_info pi;
	long pid = sys_spawn_handle("crashtest", "orphan", ns), orphan, t0;
	bool seen = true;

	EXPECT(pid > 0, "spawn crashtest orphan: %ld", pid);
	if (pid <= 0)
		return;
	orphan = sys_wait(pid);
	EXPECT(orphan > 0, "crashtest orphan: status %ld", orphan);
	t0 = sys_clock();
	while (seen && sys_clock() - t0 < (long)TIMEOUT) {
		/* In the table until init waits for it (then gone for good). */
		seen = sys_proc_find(orphan, &pi) == 0;
		if (seen) {
			EXPECT(pi.parent == 1, "the orphan's parent is %d",
			       pi.parent);
			sys_sleep(50 * MS);
		}
	}
	EXPECT(!seen, "pid %ld still there after %lu ms", orphan,
	       TIMEOUT / MS);
	EXPECT_RET(sys_wait(orphan), -E_NOENT);	/* not ours to wait for */
}

static const struct uktap_case cases[] = {
	{ "crashy_answers", crashy_answers },
	{ "crash_bad_store", crash_bad_store },
	{ "restarted_after_crash", back_again },
	{ "crash_exit", crash_exit },
	{ "restarted_after_exit", back_again },
	{ "orphan_reaped_by_init", orphan_reaped_by_init },
};

int main(int argc, char **argv)
{
	long info = sys_handle_info(ns);

	if (info < 0 || (info >> 16) != HANDLE_T_ENDPOINT) {
		printf("crashtest: no name-server handle: run it from the "
		       "shell or by init\n");
		return 2;
	}
	if (argc == 2 && !strcmp(argv[1], "orphan")) {
		long pid = sys_spawn("hello", NULL);

		return pid > 0 && pid < 256 ? (int)pid : 0;
	}
	buf = ipc_buffer_new();
	if (!buf) {
		printf("crashtest: no IPC buffer\n");
		return 3;
	}
	return uktap_run("crashtest", cases, ARRAY_SIZE(cases));
}
