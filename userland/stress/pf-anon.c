/*
 * pf-anon.c - page-fault scaling, after will-it-scale's page_fault1 in
 * threads mode: T threads of one process, thread t pinned to hart
 * t % harts, each looping { map a private anonymous region of MIB MiB,
 * write one byte into every 4 KiB page, unmap } for SECONDS seconds.
 * Every write faults a page in through the kernel's software fault path.
 *
 *   pf-anon [threads=T] [seconds=S] [mib=M] [report=0|1]
 *
 * Prints one line, `bench pf-anon key=value ...`, then the page-table
 * lock statistics of the run (per-page-table-page locks and the
 * address-space lock separately). Bad arguments get a usage message and
 * status 2.
 */
#include <rivet.h>

#define MAX_THREADS	STATS_MAX_HARTS
#define REGION_BASE	0x100000000UL	/* thread t works at BASE + t * 1 GiB */

static struct bench_worker workers[MAX_THREADS];
static struct rivet_stats s0;

static void work(void *arg)
{
	struct bench_worker *w = arg;
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

int main(int argc, char **argv)
{
	struct bench_args args;

	if (sys_stats(&s0))
		return 3;
	if (bench_parse("pf-anon", argc, argv, s0.nharts, &args))
		return 2;
	if (!args.mib) {	/* default 128 MiB, lowered to fit half the RAM */
		unsigned long fit = s0.free_frames / 2 / args.threads / 256;

		args.mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("pf-anon: mib=%lu per thread (free RAM %lu MiB)\n",
		       args.mib, s0.free_frames / 256);
	}
	return bench_run("pf-anon", &args, work, workers, &s0);
}
