/*
 * bench.c - what the stress programs share: their key=value arguments and
 * their `bench NAME key=value ...` report lines (docs/performance.md)
 *
 * report=1 (every stress program takes it): the result lines are sent to
 * the endpoint the program was started with (HANDLE_SPAWN) as
 * BENCH_REPORT calls instead of being printed; the stress program
 * (userland/stress/stress.c) starts them so and prints a summary table
 * from them. If the holder does not take them (-E_NOSYS from the name
 * server, say), they are printed after all, with one line saying why.
 */
#include <proto.h>

bool bench_number(const char *s, unsigned long lo, unsigned long hi,
		  unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned long d = (unsigned long)(*s - '0');

		if (*s < '0' || *s > '9' || v > (hi - d) / 10 || d > hi)
			return false;
		v = v * 10 + d;
	}
	if (v < lo)
		return false;
	*out = v;
	return true;
}

static const struct bench_spec plain;	/* pf-anon's: threads, seconds, mib */

/* report=1. Set while parsing the arguments, before any thread starts;
 * read and cleared by the thread that prints the results (main). */
static bool report;
static unsigned long *report_buf;	/* that thread's IPC buffer */

int bench_report_arg(const char *value)
{
	if (strcmp(value, "0") && strcmp(value, "1"))
		return -1;
	report = value[0] == '1';
	return 0;
}

/* Send @len bytes of @line to HANDLE_SPAWN. Return: 0 or -E_*. */
static long report_send(const char *line, size_t len)
{
	size_t words = (len + sizeof(long) - 1) / sizeof(long);
	struct ipc_msg m;
	long r;

	if (!report_buf)
		report_buf = ipc_buffer_new();
	if (!report_buf)
		return -E_NOMEM;
	report_buf[words ? words - 1 : 0] = 0;	/* the last word's padding */
	memcpy(report_buf, line, len);
	m = (struct ipc_msg){ .info = IPC_INFO(BENCH_REPORT, words, 0),
			      .w = { len } };
	r = ipc_call(HANDLE_SPAWN, &m, BENCH_REPORT_TIMEOUT);
	return r ? r : (long)m.w[0];
}

void bench_line(const char *fmt, ...)
{
	char line[PRINTF_MAX];
	va_list ap;
	size_t len;
	long r;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = MIN((size_t)n, sizeof(line) - 1);
	if (report) {
		r = report_send(line, len && line[len - 1] == '\n' ? len - 1
								   : len);
		if (!r)
			return;
		report = false;		/* print this one and the rest */
		printf("bench: report=1, but HANDLE_SPAWN did not take the "
		       "results (%s); printing them\n", errno_name((int)r));
	}
	printf("%s", line);
}

static unsigned long min_threads(const struct bench_spec *sp)
{
	return sp->min_threads ? sp->min_threads : 1;
}

static unsigned long max_threads(const struct bench_spec *sp)
{
	return sp->max_threads ? sp->max_threads : STATS_MAX_HARTS;
}

void bench_usage(const char *name, const char *why,
		 const struct bench_spec *sp)
{
	char buf[PRINTF_MAX / 2];
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < sp->nopts && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      " [%s=%lu..%lu]", sp->opts[i].key,
				      sp->opts[i].lo, sp->opts[i].hi);
	printf("%s: %s\n", name, why);
	printf("usage: %s [threads=%lu..%lu] [seconds=1..3600]%s%s%s "
	       "[report=0|1]\n", name, min_threads(sp), max_threads(sp),
	       sp->no_mib ? "" : " [mib=1..512]", buf,
	       sp->more_usage ? sp->more_usage : "");
}

int bench_parse_spec(const char *name, int argc, char **argv,
		     unsigned int nharts, struct bench_args *a,
		     const struct bench_spec *sp)
{
	a->threads = 0;
	a->seconds = 5;
	a->mib = 0;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const struct bench_opt *o = 0;
		unsigned long *dst = 0;

		if (!strncmp(s, "report=", 7)) {
			if (!bench_report_arg(s + 7))
				continue;
			bench_usage(name, "bad argument", sp);
			printf("%s: '%s' is neither report=0 nor report=1\n",
			       name, argv[i]);
			return -1;
		}
		if (!strncmp(s, "threads=", 8))
			dst = &a->threads, s += 8;
		else if (!strncmp(s, "seconds=", 8))
			dst = &a->seconds, s += 8;
		else if (!strncmp(s, "mib=", 4) && !sp->no_mib)
			dst = &a->mib, s += 4;
		for (int k = 0; !dst && k < sp->nopts; k++) {
			size_t len = strlen(sp->opts[k].key);

			if (!strncmp(s, sp->opts[k].key, len) &&
			    s[len] == '=') {
				o = &sp->opts[k];
				dst = o->val;
				s += len + 1;
			}
		}
		if (!dst || !bench_number(s, 0, 999999999, dst)) {
			bench_usage(name, "bad argument", sp);
			printf("%s: '%s' is not one of the key=N words above\n",
			       name, argv[i]);
			return -1;
		}
		if (o && (*dst < o->lo || *dst > o->hi)) {
			bench_usage(name, "value out of range", sp);
			return -1;
		}
	}
	if (!a->threads) {	/* one per hart, within the program's range */
		a->threads = nharts;
		if (a->threads < min_threads(sp))
			a->threads = min_threads(sp);
		if (a->threads > max_threads(sp))
			a->threads = max_threads(sp);
	}
	if (a->threads < min_threads(sp) || a->threads > max_threads(sp) ||
	    a->seconds < 1 || a->seconds > 3600 || a->mib > 512) {
		bench_usage(name, "value out of range", sp);
		return -1;
	}
	return 0;
}

int bench_parse(const char *name, int argc, char **argv, unsigned int nharts,
		struct bench_args *a)
{
	return bench_parse_spec(name, argc, argv, nharts, a, &plain);
}

static void lock_add(struct rivet_lockstat *d, const struct rivet_lockstat *a,
		     const struct rivet_lockstat *b)
{
	d->acquired += b->acquired - a->acquired;
	d->contended += b->contended - a->contended;
	d->wait_ns += b->wait_ns - a->wait_ns;
}

unsigned long bench_kfaults(const struct rivet_stats *s)
{
	unsigned long n = 0;

	for (unsigned int h = 0; h < s->nharts && h < STATS_MAX_HARTS; h++)
		n += s->faults[h];
	return n;
}

void bench_delta_add(struct bench_delta *d, const struct rivet_stats *s0,
		     const struct rivet_stats *s1)
{
	d->kfaults += bench_kfaults(s1) - bench_kfaults(s0);
	lock_add(&d->pt, &s0->pt, &s1->pt);
	lock_add(&d->as, &s0->as, &s1->as);
}

unsigned long bench_contended_pct100(const struct bench_delta *d)
{
	unsigned long acq = d->pt.acquired + d->as.acquired;
	unsigned long con = d->pt.contended + d->as.contended;

	return acq ? con * 10000 / acq : 0;	/* hundredths of % */
}

void bench_print_locks(const char *name, const char *phase,
		       const struct bench_delta *d)
{
	const struct rivet_lockstat *l[2] = { &d->pt, &d->as };
	const char *kind[2] = { "pt", "as" };

	for (int i = 0; i < 2; i++)
		bench_line("bench %s-locks %s%s%skind=%s acquired=%lu "
			   "contended=%lu wait_ns=%lu\n", name,
			   phase ? "phase=" : "", phase ? phase : "",
			   phase ? " " : "", kind[i], l[i]->acquired,
			   l[i]->contended, l[i]->wait_ns);
}

void bench_print(const char *name, const char *phase,
		 const struct bench_args *a, const struct rivet_stats *s,
		 unsigned long workers, unsigned long faults,
		 unsigned long elapsed_ns, const struct bench_delta *d,
		 const char *extra)
{
	unsigned long c = bench_contended_pct100(d);

	bench_line("bench %s %s%s%sharts=%u threads=%lu ptlock=%s "
		   "seconds=%lu mib=%lu faults=%lu per_s=%lu ns_per_op=%lu "
		   "contended_pct=%lu.%02lu kfaults=%lu%s%s\n",
		   name, phase ? "phase=" : "", phase ? phase : "",
		   phase ? " " : "", s->nharts, a->threads,
		   s->ptlock_split ? "split" : "single", a->seconds, a->mib,
		   faults, faults * 1000 / (elapsed_ns / 1000000 + 1),
		   faults ? elapsed_ns * workers / faults : 0, c / 100,
		   c % 100, d->kfaults, extra && *extra ? " " : "",
		   extra ? extra : "");
	bench_print_locks(name, phase, d);
}

int bench_run(const char *name, const struct bench_args *args,
	      void (*fn)(void *), struct bench_worker *workers,
	      const struct rivet_stats *s0)
{
	static struct rivet_stats s1;	/* too big for the stack */
	struct bench_delta d = { 0 };
	long tids[STATS_MAX_HARTS], t0 = sys_clock();
	unsigned long faults = 0;

	for (unsigned long t = 0; t < args->threads; t++) {
		workers[t] = (struct bench_worker){
			.id = (unsigned int)t, .mib = args->mib,
			.deadline = t0 + (long)args->seconds * 1000000000L };
		tids[t] = thread_spawn(fn, &workers[t], (int)(t % s0->nharts));
		if (tids[t] < 0) {
			printf("%s: thread %lu: %ld\n", name, t, tids[t]);
			return 3;
		}
	}
	for (unsigned long t = 0; t < args->threads; t++) {
		thread_join(tids[t]);
		faults += workers[t].faults;
		if (workers[t].err)
			printf("%s: thread %lu stopped: map gave %ld\n", name,
			       t, workers[t].err);
	}
	sys_stats(&s1);
	bench_delta_add(&d, s0, &s1);
	bench_print(name, 0, args, &s1, args->threads, faults,
		    (unsigned long)(sys_clock() - t0), &d, 0);
	return 0;
}
