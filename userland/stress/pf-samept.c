/*
 * pf-samept.c - the worst case for split page-table locks: T threads of
 * one process, thread t pinned to hart t % harts, fault into ONE shared
 * region of MIB MiB with the pages interleaved (thread t writes pages i
 * with i mod T = t), so they collide on the same leaf page-table pages.
 * Thread 0 maps the region, all fault it in, thread 0 unmaps it; repeat
 * for SECONDS seconds.
 *
 *   pf-samept [threads=T] [seconds=S] [mib=M] [report=0|1]
 *
 * Prints `bench pf-samept key=value ...` and the lock statistics, like
 * pf-samept. Bad arguments get a usage message and status 2.
 */
#include <rivet.h>

#define MAX_THREADS	STATS_MAX_HARTS

static struct bench_worker workers[MAX_THREADS];
static struct rivet_stats s0;

#define SHARED_BASE	0x100000000UL

static unsigned long nthreads;
static volatile unsigned long round_go, round_done;	/* atomics */

static void work(void *arg)
{
	struct bench_worker *w = arg;
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

int main(int argc, char **argv)
{
	struct bench_args args;

	if (sys_stats(&s0))
		return 3;
	if (bench_parse("pf-samept", argc, argv, s0.nharts, &args))
		return 2;
	if (!args.mib) {	/* default 128 MiB, lowered to fit half the RAM */
		unsigned long fit = s0.free_frames / 2 / 256;

		args.mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("pf-samept: mib=%lu shared (free RAM %lu MiB)\n",
		       args.mib, s0.free_frames / 256);
	}
	nthreads = args.threads;
	return bench_run("pf-samept", &args, work, workers, &s0);
}
