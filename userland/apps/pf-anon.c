/*
 * pf-anon.c - page-fault scaling, after will-it-scale's page_fault1 in
 * threads mode: T threads of one process, thread t pinned to hart
 * t % harts, each looping { map a private anonymous region of MIB MiB,
 * write one byte into every 4 KiB page, unmap } for SECONDS seconds.
 * Every write faults a page in through the kernel's software fault path.
 *
 *   pf-anon [threads=T] [seconds=S] [mib=M]
 *
 * Prints one line, `bench pf-anon key=value ...`, then the page-table
 * lock statistics of the run (per-page-table-page locks and the
 * address-space lock separately). Bad arguments get a usage message and
 * status 2.
 */
#include <rivet.h>

#define MAX_THREADS	STATS_MAX_HARTS
#define REGION_BASE	0x100000000UL	/* thread t works at BASE + t * 1 GiB */

struct worker {
	unsigned int id;
	unsigned long mib;
	long deadline;
	unsigned long faults;	/* pages touched, one fault each */
	unsigned long rounds;
	long err;
} __attribute__((aligned(64)));

static struct worker workers[MAX_THREADS];
static struct rivet_stats s0, s1;

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

static void work(void *arg)
{
	struct worker *w = arg;
	unsigned long len = w->mib << 20;
	void *base = (void *)(REGION_BASE + ((unsigned long)w->id << 30));

	while (sys_clock() < w->deadline) {
		volatile char *p;
		long r = sys_map(base, len, PROT_READ | PROT_WRITE);

		if (r < 0) {
			w->err = r;
			return;
		}
		p = (volatile char *)r;
		for (unsigned long off = 0; off < len; off += PAGE_SIZE)
			p[off] = 1;
		w->faults += len / PAGE_SIZE;
		w->rounds++;
		sys_unmap(base, len);
	}
}

static void usage(const char *why)
{
	printf("pf-anon: %s\n", why);
	printf("usage: pf-anon [threads=1..%d] [seconds=1..3600] "
	       "[mib=1..512]\n", MAX_THREADS);
}

static unsigned long pct100(unsigned long part, unsigned long whole)
{
	return whole ? part * 10000 / whole : 0;	/* hundredths of % */
}

int main(int argc, char **argv)
{
	unsigned long threads = 0, seconds = 5, mib = 0, faults = 0;
	long tids[MAX_THREADS], t0, t1;
	unsigned long elapsed_ns;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long *dst = 0;

		if (!strncmp(a, "threads=", 8))
			dst = &threads, a += 8;
		else if (!strncmp(a, "seconds=", 8))
			dst = &seconds, a += 8;
		else if (!strncmp(a, "mib=", 4))
			dst = &mib, a += 4;
		if (!dst || parse_u(a, dst)) {
			usage("bad argument");
			printf("pf-anon: '%s' is not threads=N, seconds=N or "
			       "mib=N\n", argv[i]);
			return 2;
		}
	}
	if (sys_stats(&s0))
		return 3;
	if (!threads)
		threads = s0.nharts;
	if (threads < 1 || threads > MAX_THREADS || seconds < 1 ||
	    seconds > 3600 || mib > 512) {
		usage("value out of range");
		return 2;
	}
	if (!mib) {	/* default 128 MiB, lowered to fit RAM (half of it) */
		unsigned long fit = s0.free_frames / 2 / threads / 256;

		mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("pf-anon: mib=%lu per thread (free RAM %lu MiB)\n", mib,
		       s0.free_frames / 256);
	}
	t0 = sys_clock();
	for (unsigned long t = 0; t < threads; t++) {
		workers[t] = (struct worker){ .id = (unsigned int)t, .mib = mib,
					      .deadline = t0 + (long)seconds *
							1000000000L };
		tids[t] = thread_spawn(work, &workers[t],
				       (int)(t % s0.nharts));
		if (tids[t] < 0) {
			printf("pf-anon: thread %lu: %ld\n", t, tids[t]);
			return 3;
		}
	}
	for (unsigned long t = 0; t < threads; t++) {
		sys_thread_join(tids[t]);
		faults += workers[t].faults;
		if (workers[t].err)
			printf("pf-anon: thread %lu stopped: map gave %ld\n", t,
			       workers[t].err);
	}
	t1 = sys_clock();
	sys_stats(&s1);
	elapsed_ns = (unsigned long)(t1 - t0);
	{
		unsigned long acq = s1.pt.acquired - s0.pt.acquired +
				    s1.as.acquired - s0.as.acquired;
		unsigned long con = s1.pt.contended - s0.pt.contended +
				    s1.as.contended - s0.as.contended;
		unsigned long c = pct100(con, acq);

		printf("bench pf-anon harts=%u threads=%lu ptlock=%s "
		       "seconds=%lu mib=%lu faults=%lu per_s=%lu ns_per_op=%lu "
		       "contended_pct=%lu.%02lu\n", s1.nharts, threads,
		       s1.ptlock_split ? "split" : "single", seconds, mib,
		       faults, faults * 1000 / (elapsed_ns / 1000000 + 1),
		       faults ? elapsed_ns * threads / faults : 0, c / 100,
		       c % 100);
		printf("bench pf-anon-locks kind=pt acquired=%lu contended=%lu "
		       "wait_ns=%lu\n", s1.pt.acquired - s0.pt.acquired,
		       s1.pt.contended - s0.pt.contended,
		       s1.pt.wait_ns - s0.pt.wait_ns);
		printf("bench pf-anon-locks kind=as acquired=%lu contended=%lu "
		       "wait_ns=%lu\n", s1.as.acquired - s0.as.acquired,
		       s1.as.contended - s0.as.contended,
		       s1.as.wait_ns - s0.as.wait_ns);
	}
	return 0;
}
