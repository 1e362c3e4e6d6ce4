/*
 * bench.c - what the stress programs share: their key=value arguments and
 * their `bench NAME key=value ...` report lines (docs/performance.md)
 */
#include <rivet.h>

static int parse_u(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

static void usage(const char *name, const char *why)
{
	printf("%s: %s\n", name, why);
	printf("usage: %s [threads=1..%d] [seconds=1..3600] [mib=1..512]\n",
	       name, STATS_MAX_HARTS);
}

int bench_parse(const char *name, int argc, char **argv, unsigned int nharts,
		struct bench_args *a)
{
	a->threads = 0;
	a->seconds = 5;
	a->mib = 0;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		unsigned long *dst = 0;

		if (!strncmp(s, "threads=", 8))
			dst = &a->threads, s += 8;
		else if (!strncmp(s, "seconds=", 8))
			dst = &a->seconds, s += 8;
		else if (!strncmp(s, "mib=", 4))
			dst = &a->mib, s += 4;
		if (!dst || parse_u(s, dst)) {
			usage(name, "bad argument");
			printf("%s: '%s' is not threads=N, seconds=N or mib=N\n",
			       name, argv[i]);
			return -1;
		}
	}
	if (!a->threads)
		a->threads = nharts;
	if (a->threads < 1 || a->threads > STATS_MAX_HARTS || a->seconds < 1 ||
	    a->seconds > 3600 || a->mib > 512) {
		usage(name, "value out of range");
		return -1;
	}
	return 0;
}

static unsigned long pct100(unsigned long part, unsigned long whole)
{
	return whole ? part * 10000 / whole : 0;	/* hundredths of % */
}

static void bench_report(const char *name, const struct bench_args *a,
		  const struct rivet_stats *s0, const struct rivet_stats *s1,
		  unsigned long faults, unsigned long elapsed_ns)
{
	unsigned long acq = s1->pt.acquired - s0->pt.acquired +
			    s1->as.acquired - s0->as.acquired;
	unsigned long con = s1->pt.contended - s0->pt.contended +
			    s1->as.contended - s0->as.contended;
	unsigned long c = pct100(con, acq);

	printf("bench %s harts=%u threads=%lu ptlock=%s seconds=%lu mib=%lu "
	       "faults=%lu per_s=%lu ns_per_op=%lu contended_pct=%lu.%02lu\n",
	       name, s1->nharts, a->threads,
	       s1->ptlock_split ? "split" : "single", a->seconds, a->mib,
	       faults, faults * 1000 / (elapsed_ns / 1000000 + 1),
	       faults ? elapsed_ns * a->threads / faults : 0, c / 100,
	       c % 100);
	printf("bench %s-locks kind=pt acquired=%lu contended=%lu "
	       "wait_ns=%lu\n", name, s1->pt.acquired - s0->pt.acquired,
	       s1->pt.contended - s0->pt.contended,
	       s1->pt.wait_ns - s0->pt.wait_ns);
	printf("bench %s-locks kind=as acquired=%lu contended=%lu "
	       "wait_ns=%lu\n", name, s1->as.acquired - s0->as.acquired,
	       s1->as.contended - s0->as.contended,
	       s1->as.wait_ns - s0->as.wait_ns);
}

int bench_run(const char *name, const struct bench_args *args,
	      void (*fn)(void *), struct bench_worker *workers,
	      const struct rivet_stats *s0)
{
	static struct rivet_stats s1;	/* too big for the stack */
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
	bench_report(name, args, s0, &s1, faults,
		     (unsigned long)(sys_clock() - t0));
	return 0;
}
