/*
 * stress.c - a short stress set on every hart and its summary table
 * (issue 6; docs/servers.md, "Boot")
 *
 *   stress [seconds=1..60] [mib=1..64] [all | WORKLOAD ...]
 *
 * Runs stress programs one after another, each on every hart for SECONDS
 * seconds (default 1; pf-reclaim takes twice that, a phase each) with
 * MIB MiB regions (default 4, for the programs that take mib=), then
 * prints one table: a row per result line, with the workload, its
 * threads, the operations counted (page faults; round trips for the ipc
 * rows; spawns for spawn-storm), their rate, the time one thread spent
 * per operation, the contended share of page-table-page and
 * address-space lock acquisitions, and the page-table locking mode.
 * Without WORKLOAD words it runs the default set, pf-anon pf-samept
 * map-churn ipc-same; `all` runs every workload of the table below.
 *
 * init runs it at boot, before the shell (the wait=stress word of its
 * list; `-- stress=off` on the kernel command line, or `make run
 * STRESS=0`, leaves it out). `run stress ...` runs it from the shell.
 *
 * Nothing is measured here. Each program is started with report=1 and
 * with this program's endpoint as its HANDLE_SPAWN: it sends its `bench
 * NAME key=value ...` lines here (BENCH_REPORT, userland/lib/bench.c)
 * instead of printing them, and the table is made of those words. A
 * program that fails, sends no result line, or is still running a
 * minute after its time (then it is killed) gets a row saying so; its
 * own messages are on the console above the table.
 *
 * Exit status: 0; 1 if a workload failed; 2 for bad arguments.
 */
#include <proto.h>

#define MS		1000000L
#define GRACE_NS	(60000 * MS)	/* a program's time beyond seconds= */
#define LINES_MAX	8		/* result lines kept per program */
#define ROWS_MAX	16

/*
 * A workload: a stress program and its words. @pairs: ipc-pingpong's
 * pairs= (1: one pair per hart, 2: one per two harts), 0 for the others,
 * whose threads= is left to the program (one per hart).
 */
static const struct workload {
	const char *name;	/* the word that selects it; its rows */
	const char *prog;	/* bin/PROG */
	const char *args;	/* more words */
	bool mib;		/* takes mib= */
	const char *ops;	/* the key whose value is the ops column */
	int pairs;
	int phases;		/* seconds= runs per phase: pf-reclaim's 2 */
	bool dflt;		/* in the default set */
} workloads[] = {
	{ "pf-anon", "pf-anon", "", true, "faults", 0, 1, true },
	{ "pf-samept", "pf-samept", "", true, "faults", 0, 1, true },
	{ "pf-reclaim", "pf-reclaim", "", true, "faults", 0, 2, false },
	{ "pf-reclaim-pager", "pf-reclaim", "reclaim=pager", true, "faults",
	  0, 2, false },
	{ "map-churn", "map-churn", "", true, "faults", 0, 1, true },
	{ "ipc-same", "ipc-pingpong", "mode=same", false, "round_trips", 1,
	  1, true },
	{ "ipc-cross", "ipc-pingpong", "mode=cross", false, "round_trips", 2,
	  1, false },
	{ "spawn-storm", "spawn-storm", "", false, "spawns", 0, 1, false },
};

/* One row of the table: a result line, or a workload that failed. */
static struct row {
	char label[32];
	const char *fail;	/* NULL: the numbers below are good */
	char why[64];		/* details of the failure */
	char ptlock[8];
	unsigned long threads, ops, per_s, ns_per_op;
	unsigned long cpct;	/* contended share, hundredths of % */
} rows[ROWS_MAX];
static unsigned int nrows;

static unsigned long seconds = 1, mib = 4;
static unsigned int nharts;
static long sink;		/* our endpoint: the programs report here */
static long sink_send;		/* the same with SEND | GRANT, for them */

/* The result lines of the program running now (from its pid only). The
 * rows, the lines and everything above: the main thread's only. */
static char lines[LINES_MAX][PRINTF_MAX];
static unsigned int nlines;

/* The names of the workloads (with @chosen: those chosen), after
 * @prefix, as one line into @out. */
static void names(char *out, size_t size, const char *prefix,
		  const bool *chosen)
{
	size_t n = strlcpy(out, prefix, size);

	for (unsigned int i = 0; i < ARRAY_SIZE(workloads) && n < size; i++)
		if (!chosen || chosen[i])
			n += (size_t)snprintf(out + n, size - n, " %s%s",
					      workloads[i].name,
					      !chosen && workloads[i].dflt
						      ? "*" : "");
}

static int usage(const char *why, const char *arg)
{
	char list[160];

	names(list, sizeof(list), "workloads:", NULL);
	printf("stress: %s%s%s\n", why, arg ? ": " : "", arg ? arg : "");
	printf("usage: stress [seconds=1..60] [mib=1..64] [all | "
	       "WORKLOAD ...]\n%s (*: the default set)\n", list);
	return 2;
}

/*
 * The value of @key among the key=value words of @line, copied into
 * @val (@size bytes). Return: false if there is no such word.
 */
static bool word(const char *line, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = line; *p;) {
		size_t n = 0;

		while (*p == ' ')
			p++;
		while (p[n] && p[n] != ' ')
			n++;
		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			n -= klen + 1;
			if (n >= size)
				return false;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

/* A whole number under @key in @line: false if absent or not one. */
static bool word_u(const char *line, const char *key, unsigned long *out)
{
	char val[24];
	uint64_t v;

	if (!word(line, key, val, sizeof(val)) || kstrtou64(val, &v))
		return false;
	*out = v;
	return true;
}

/* "I.FF" (contended_pct=) in hundredths. */
static bool word_pct(const char *line, const char *key, unsigned long *out)
{
	char val[24], *dot;
	uint64_t i, f;

	if (!word(line, key, val, sizeof(val)))
		return false;
	dot = strchr(val, '.');
	if (!dot || strlen(dot + 1) != 2)
		return false;
	*dot = '\0';
	if (kstrtou64(val, &i) || kstrtou64(dot + 1, &f))
		return false;
	*out = i * 100 + f;
	return true;
}

static struct row *row_new(const struct workload *w, const char *phase)
{
	struct row *r;

	if (nrows == ROWS_MAX)
		return NULL;
	r = &rows[nrows++];
	*r = (struct row){ 0 };
	snprintf(r->label, sizeof(r->label), "%s%s%s", w->name,
		 phase ? "/" : "", phase ? phase : "");
	return r;
}

static void row_fail(const struct workload *w, const char *fail,
		     const char *fmt, ...)
{
	struct row *r = row_new(w, NULL);
	va_list ap;

	if (!r)
		return;
	r->fail = fail;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/*
 * The rows of @w from the lines its program sent: one per `bench PROG`
 * line (not the -locks lines). Return: the rows made, or -1 if one of
 * them lacks a number (its row says which).
 */
static int rows_from_lines(const struct workload *w)
{
	int made = 0, bad_rows = 0;

	for (unsigned int i = 0; i < nlines; i++) {
		const char *l = lines[i];
		size_t plen = strlen(w->prog);
		char phase[16];
		unsigned long pairs;
		const char *bad = NULL;
		struct row *r;

		if (strncmp(l, "bench ", 6) || strncmp(l + 6, w->prog, plen) ||
		    l[6 + plen] != ' ')
			continue;
		r = row_new(w, word(l, "phase", phase, sizeof(phase)) ? phase
								      : NULL);
		if (!r)
			break;
		made++;
		if (word_u(l, "pairs", &pairs))
			r->threads = 2 * pairs;	/* a client and a server */
		else if (!word_u(l, "threads", &r->threads))
			bad = "threads";
		if (!word_u(l, w->ops, &r->ops))
			bad = w->ops;
		if (!word_u(l, "per_s", &r->per_s))
			bad = "per_s";
		if (!word_u(l, "ns_per_op", &r->ns_per_op))
			bad = "ns_per_op";
		if (!word_pct(l, "contended_pct", &r->cpct))
			bad = "contended_pct";
		if (!word(l, "ptlock", r->ptlock, sizeof(r->ptlock)))
			bad = "ptlock";
		if (bad) {
			r->fail = "failed";
			snprintf(r->why, sizeof(r->why), "no %s= in its line",
				 bad);
			bad_rows++;
		}
	}
	return bad_rows ? -1 : made;
}

/* A BENCH_REPORT call from @pid's program: keep the line. */
static void take(struct ipc_msg *m, long pid, const unsigned long *buf)
{
	size_t len = m->w[0], words = IPC_INFO_LEN(m->info);
	bool ours = (long)(m->sender >> 32) == pid;

	if (m->info & IPC_INFO_HANDLE)	/* none is expected */
		sys_handle_close((long)m->w[3]);
	if (IPC_INFO_LABEL(m->info) != BENCH_REPORT) {
		*m = (struct ipc_msg){ .w = { (unsigned long)-E_NOSYS } };
	} else if (!ours) {
		*m = (struct ipc_msg){ .w = { (unsigned long)-E_PERM } };
	} else if (len > words * sizeof(long) || len >= PRINTF_MAX) {
		*m = (struct ipc_msg){ .w = { (unsigned long)-E_INVAL } };
	} else {
		if (nlines < LINES_MAX) {
			memcpy(lines[nlines], buf, len);
			lines[nlines++][len] = '\0';
		}
		*m = (struct ipc_msg){ .w = { 0 } };
	}
	ipc_reply(m);
}

/* How long @w's program may take, in seconds. */
static unsigned long limit_s(const struct workload *w)
{
	return seconds * (unsigned long)w->phases + GRACE_NS / (1000 * MS);
}

static struct waiter {
	long pid, status;
	int done;		/* atomic: the release store follows status */
} waiter;

static void wait_fn(void *arg)
{
	struct waiter *w = arg;

	w->status = sys_wait(w->pid);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
}

/* Run @w's program, collect its lines, make its rows. 0, or 1 if it
 * failed. */
static int run_one(const struct workload *w, const unsigned long *buf)
{
	char args[160];
	long pid, tid, deadline;
	struct ipc_msg m;
	bool killed = false;
	int n;

	if (w->pairs > (int)nharts) {
		row_fail(w, "skipped", "needs %d harts", w->pairs);
		return 0;
	}
	n = snprintf(args, sizeof(args), "seconds=%lu report=1", seconds);
	if (w->mib)
		n += snprintf(args + n, sizeof(args) - (size_t)n, " mib=%lu",
			      mib);
	if (w->pairs)
		n += snprintf(args + n, sizeof(args) - (size_t)n, " pairs=%u",
			      nharts / (unsigned int)w->pairs);
	if (*w->args)
		snprintf(args + n, sizeof(args) - (size_t)n, " %s", w->args);

	nlines = 0;
	pid = sys_spawn_handle(w->prog, args, sink_send);
	if (pid < 0) {
		row_fail(w, "failed", "cannot start %s: %s", w->prog,
			 errno_name((int)pid));
		return 1;
	}
	waiter = (struct waiter){ .pid = pid };
	tid = thread_spawn(wait_fn, &waiter, -1);
	if (tid < 0) {
		sys_kill(pid);
		sys_wait(pid);
		row_fail(w, "failed", "no thread to wait for %s: %s", w->prog,
			 errno_name((int)tid));
		return 1;
	}
	deadline = sys_clock() + (long)limit_s(w) * 1000 * MS;
	while (!__atomic_load_n(&waiter.done, __ATOMIC_ACQUIRE)) {
		long r = ipc_recv(sink, &m, 100 * MS);

		if (!r)
			take(&m, pid, buf);
		else if (r != -E_TIMEDOUT)
			sys_sleep(100 * MS);	/* do not spin on an error */
		if (!killed && sys_clock() > deadline) {
			printf("stress: %s (pid %ld) still running after "
			       "%lu s: killing it\n", w->prog, pid,
			       limit_s(w));
			sys_kill(pid);
			killed = true;
		}
	}
	thread_join(tid);
	/* Its calls were all answered (it waited for each), but be sure. */
	while (!ipc_recv(sink, &m, IPC_POLL))
		take(&m, pid, buf);

	if (killed) {
		row_fail(w, "failed", "%s killed: still running after %lu s",
			 w->prog, limit_s(w));
		return 1;
	}
	if (waiter.status) {
		row_fail(w, "failed", "%s exited with status %ld", w->prog,
			 waiter.status);
		return 1;
	}
	n = rows_from_lines(w);
	if (!n)
		row_fail(w, "failed", "%s sent no bench line", w->prog);
	return n > 0 ? 0 : 1;
}

static void print_table(unsigned int nwork, long elapsed)
{
	printf("stress: %u workload%s on %u hart%s, %lu s each: ops are page "
	       "faults (ipc: round trips; spawn-storm: spawns)\n", nwork,
	       nwork == 1 ? "" : "s", nharts, nharts == 1 ? "" : "s",
	       seconds);
	printf("%-24s %7s %9s %9s %9s %9s  %s\n", "workload", "threads",
	       "ops", "ops/s", "ns/op", "contended", "ptlock");
	for (unsigned int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (r->fail)
			printf("%-24s %s: %s\n", r->label, r->fail, r->why);
		else
			printf("%-24s %7lu %9lu %9lu %9lu %5lu.%02lu%%  "
			       "%s\n", r->label, r->threads, r->ops, r->per_s,
			       r->ns_per_op, r->cpct / 100, r->cpct % 100,
			       r->ptlock);
	}
	printf("stress: done in %ld.%ld s\n", elapsed / (1000 * MS),
	       elapsed / (100 * MS) % 10);
}

int main(int argc, char **argv)
{
	static struct rivet_stats st;	/* too big for the stack */
	bool chosen[ARRAY_SIZE(workloads)] = { false };
	bool any = false;
	char list[160];
	unsigned long *buf;
	unsigned int nwork = 0;
	long t0;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool found = false;

		if (!strncmp(a, "seconds=", 8)) {
			if (!bench_number(a + 8, 1, 60, &seconds))
				return usage("bad seconds", a);
			continue;
		}
		if (!strncmp(a, "mib=", 4)) {
			if (!bench_number(a + 4, 1, 64, &mib))
				return usage("bad mib", a);
			continue;
		}
		for (unsigned int k = 0; k < ARRAY_SIZE(workloads); k++)
			if (!strcmp(a, "all") || !strcmp(a, workloads[k].name))
				chosen[k] = found = true;
		if (!found)
			return usage("unknown workload", a);
		any = true;
	}
	if (!any)
		for (unsigned int k = 0; k < ARRAY_SIZE(workloads); k++)
			chosen[k] = workloads[k].dflt;

	if (sys_stats(&st))
		return usage("no SYS_STATS", NULL);
	nharts = st.nharts;
	buf = ipc_buffer_new();
	sink = sys_endpoint_create();
	sink_send = sink < 0 ? sink
			     : sys_handle_dup(sink, HANDLE_R_SEND |
							    HANDLE_R_GRANT);
	if (!buf || sink < 0 || sink_send < 0) {
		printf("stress: cannot set up (%ld %ld)\n", sink, sink_send);
		return 1;
	}

	for (unsigned int k = 0; k < ARRAY_SIZE(workloads); k++)
		nwork += chosen[k];
	names(list, sizeof(list), "stress: running", chosen);
	printf("%s, %lu s each on %u hart%s\n", list, seconds, nharts,
	       nharts == 1 ? "" : "s");
	t0 = sys_clock();
	for (unsigned int k = 0; k < ARRAY_SIZE(workloads); k++)
		if (chosen[k])
			failed += run_one(&workloads[k], buf);
	print_table(nwork, sys_clock() - t0);
	if (failed)
		printf("stress: %d of %u workloads failed\n", failed, nwork);
	return failed ? 1 : 0;
}
