/*
 * pf-samept.c - the worst case for split page-table locks: T threads of
 * one process, thread t pinned to hart t % harts, fault into ONE shared
 * region of MIB MiB with the pages interleaved (thread t writes pages i
 * with i mod T = t), so they collide on the same leaf page-table pages.
 * Thread 0 maps the region, all fault it in, thread 0 unmaps it; repeat
 * for SECONDS seconds.
 *
 *   pf-samept [threads=T] [seconds=S] [mib=M]
 *
 * Prints `bench pf-samept key=value ...` and the lock statistics, like
 * pf-samept. Bad arguments get a usage message and status 2.
 */
#include <rivet.h>

#define MAX_THREADS	STATS_MAX_HARTS

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

#define SHARED_BASE	0x100000000UL

static unsigned long nthreads;
static volatile unsigned long round_go, round_done;	/* atomics */

static void work(void *arg)
{
	struct worker *w = arg;
	unsigned long len = w->mib << 20, pages = len / PAGE_SIZE;
	volatile char *p = (volatile char *)SHARED_BASE;

	for (unsigned long r = 1;; r++) {
		/* Thread 0 maps; everyone waits for round r to open. */
		if (w->id == 0) {
			if (sys_clock() >= w->deadline) {
				__atomic_store_n(&round_go, ~0UL,
						 __ATOMIC_RELEASE);
				return;
			}
			if (sys_map((void *)p, len, PROT_READ | PROT_WRITE) < 0) {
				w->err = -1;
				__atomic_store_n(&round_go, ~0UL,
						 __ATOMIC_RELEASE);
				return;
			}
			__atomic_store_n(&round_go, r, __ATOMIC_RELEASE);
		} else {
			unsigned long g;

			while ((g = __atomic_load_n(&round_go,
						    __ATOMIC_ACQUIRE)) < r)
				;
			if (g == ~0UL)
				return;
		}
		for (unsigned long i = w->id; i < pages; i += nthreads)
			p[i * PAGE_SIZE] = 1;
		w->faults += (pages - w->id + nthreads - 1) / nthreads;
		w->rounds++;
		__atomic_fetch_add(&round_done, 1, __ATOMIC_ACQ_REL);
		if (w->id == 0) {
			while (__atomic_load_n(&round_done, __ATOMIC_ACQUIRE) <
			       r * nthreads)
				;
			sys_unmap((void *)p, len);
		}
	}
}

static void usage(const char *why)
{
	printf("pf-samept: %s\n", why);
	printf("usage: pf-samept [threads=1..%d] [seconds=1..3600] "
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
			printf("pf-samept: '%s' is not threads=N, seconds=N or "
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
		unsigned long fit = s0.free_frames / 2 / 256;

		mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("pf-samept: mib=%lu shared (free RAM %lu MiB)\n", mib,
		       s0.free_frames / 256);
	}
	nthreads = threads;
	t0 = sys_clock();
	for (unsigned long t = 0; t < threads; t++) {
		workers[t] = (struct worker){ .id = (unsigned int)t, .mib = mib,
					      .deadline = t0 + (long)seconds *
							1000000000L };
		tids[t] = thread_spawn(work, &workers[t],
				       (int)(t % s0.nharts));
		if (tids[t] < 0) {
			printf("pf-samept: thread %lu: %ld\n", t, tids[t]);
			return 3;
		}
	}
	for (unsigned long t = 0; t < threads; t++) {
		sys_thread_join(tids[t]);
		faults += workers[t].faults;
		if (workers[t].err)
			printf("pf-samept: thread %lu stopped: map gave %ld\n", t,
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

		printf("bench pf-samept harts=%u threads=%lu ptlock=%s "
		       "seconds=%lu mib=%lu faults=%lu per_s=%lu ns_per_op=%lu "
		       "contended_pct=%lu.%02lu\n", s1.nharts, threads,
		       s1.ptlock_split ? "split" : "single", seconds, mib,
		       faults, faults * 1000 / (elapsed_ns / 1000000 + 1),
		       faults ? elapsed_ns * threads / faults : 0, c / 100,
		       c % 100);
		printf("bench pf-samept-locks kind=pt acquired=%lu contended=%lu "
		       "wait_ns=%lu\n", s1.pt.acquired - s0.pt.acquired,
		       s1.pt.contended - s0.pt.contended,
		       s1.pt.wait_ns - s0.pt.wait_ns);
		printf("bench pf-samept-locks kind=as acquired=%lu contended=%lu "
		       "wait_ns=%lu\n", s1.as.acquired - s0.as.acquired,
		       s1.as.contended - s0.as.contended,
		       s1.as.wait_ns - s0.as.wait_ns);
	}
	return 0;
}
