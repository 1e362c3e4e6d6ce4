/*
 * map-churn.c - the address-space lock and TLB shootdowns under load
 * (issue 6): threads=T of one process, thread t pinned to hart t % harts;
 * the first T - C are faulting threads running pf-anon's loop (map MIB
 * MiB at FAULT_BASE + t GiB, write one byte into every page, unmap), the
 * last C are churners, each looping over a small region of CHURN_PAGES
 * pages in its own 2 MiB span:
 *
 *   SYS_MAP     a new region (takes as->lock for the region table)
 *   write one byte into each page (CHURN_PAGES faults)
 *   SYS_PROTECT read-only (takes write access from present pages: a TLB
 *               shootdown to every hart the address space ran on)
 *   read each page back
 *   SYS_UNMAP   (as->lock, the pages, another shootdown)
 *
 * moving through 8 places of its span so that consecutive regions differ.
 *
 *   map-churn [threads=2..20] [seconds=S] [mib=M] [churners=1..T-1]
 *             [report=0|1]
 *
 * Defaults: threads = harts (within 2..20), churners = threads / 2. Each
 * churner has at most one region at a time: with the program, the stacks
 * and the faulting threads' regions that is 2T + 4 of the address space's
 * 48 region slots (AS_MAX_REGIONS). A map or unmap that still finds them
 * full (-E_NOMEM) is counted (nomem=) and tried again.
 *
 * Prints `bench map-churn key=value ...`: faults, per_s and ns_per_op of
 * the faulting threads; ops (map, protect and unmap calls of the
 * churners), ops_per_s, churn_faults (pages the churners wrote), and
 * kfaults (page faults the kernel handled during the run, all threads);
 * then the lock lines. Exit status 0, 1 if a call failed otherwise, 2 for
 * bad arguments (usage message), 3 if a thread could not be started.
 */
#include <rivet.h>

#define MAX_THREADS	20
#define FAULT_BASE	0x100000000UL	/* faulting thread t at + t GiB */
#define CHURN_BASE	0x3000000000UL	/* churner t at + t * 2 MiB */
#define CHURN_PAGES	4
#define CHURN_PLACES	8		/* 64 KiB apart within the span */

/* One thread's counts: written by that thread only, until main joins. */
static struct worker {
	unsigned int id;
	long deadline;
	long err;
	const char *what;	/* the call that failed */
	unsigned long faults;	/* pages written */
	unsigned long ops;	/* churners: map, protect, unmap calls */
	unsigned long nomem;	/* -E_NOMEM, tried again */
} __attribute__((aligned(64))) workers[MAX_THREADS];

static unsigned long mib;

static void fail(struct worker *w, const char *what, long r)
{
	w->err = r;
	w->what = what;
}

static void fault_work(void *arg)
{
	struct worker *w = arg;
	unsigned long len = mib << 20;
	void *base = (void *)(FAULT_BASE + ((unsigned long)w->id << 30));

	while (sys_clock() < w->deadline) {
		volatile char *p;
		long r = sys_map(base, len, PROT_READ | PROT_WRITE);

		if (r == -E_NOMEM) {	/* the region table is full */
			w->nomem++;
			sys_yield();
			continue;
		}
		if (r < 0) {
			fail(w, "map", r);
			return;
		}
		p = (volatile char *)r;
		for (unsigned long off = 0; off < len; off += PAGE_SIZE)
			p[off] = 1;
		w->faults += len / PAGE_SIZE;
		while ((r = sys_unmap(base, len)) == -E_NOMEM) {
			w->nomem++;
			sys_yield();
		}
		if (r < 0) {
			fail(w, "unmap", r);
			return;
		}
	}
}

static void churn_work(void *arg)
{
	struct worker *w = arg;
	unsigned long span = CHURN_BASE + ((unsigned long)w->id << 21);
	size_t len = CHURN_PAGES * PAGE_SIZE;

	for (unsigned long k = 0; sys_clock() < w->deadline; k++) {
		volatile char *p = (volatile char *)(span +
			(k % CHURN_PLACES) * 16 * PAGE_SIZE);
		unsigned long sum = 0;
		long r = sys_map((void *)p, len, PROT_READ | PROT_WRITE);

		if (r == -E_NOMEM) {
			w->nomem++;
			sys_yield();
			continue;
		}
		if (r < 0) {
			fail(w, "map", r);
			return;
		}
		for (unsigned long off = 0; off < len; off += PAGE_SIZE)
			p[off] = 1;
		w->faults += CHURN_PAGES;
		r = sys_protect((void *)p, len, PROT_READ);
		if (r < 0) {
			fail(w, "protect", r);
			return;
		}
		for (unsigned long off = 0; off < len; off += PAGE_SIZE)
			sum += p[off];
		if (sum != CHURN_PAGES) {
			fail(w, "read back", -E_FAULT);
			return;
		}
		while ((r = sys_unmap((void *)p, len)) == -E_NOMEM) {
			w->nomem++;
			sys_yield();
		}
		if (r < 0) {
			fail(w, "unmap", r);
			return;
		}
		w->ops += 3;
	}
}

static struct rivet_stats s0, s1;

int main(int argc, char **argv)
{
	static unsigned long churners = 0;
	const struct bench_opt opts[] = {
		{ "churners", &churners, 1, MAX_THREADS - 1 },
	};
	const struct bench_spec spec = { .min_threads = 2,
					 .max_threads = MAX_THREADS,
					 .opts = opts, .nopts = 1 };
	struct bench_args args;
	unsigned long nf, faults = 0, churn_faults = 0, ops = 0, nomem = 0;
	struct bench_delta d = { 0 };
	long tids[MAX_THREADS], t0, elapsed;
	char extra[160];
	int status = 0;

	if (sys_stats(&s0))
		return 3;
	if (bench_parse_spec("map-churn", argc, argv, s0.nharts, &args, &spec))
		return 2;
	if (!churners)
		churners = args.threads / 2;
	if (churners >= args.threads) {
		bench_usage("map-churn", "churners must be below threads",
			    &spec);
		return 2;
	}
	nf = args.threads - churners;
	if (!args.mib) {	/* default 128 MiB, lowered to fit half the RAM */
		unsigned long fit = s0.free_frames / 2 / nf / 256;

		args.mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("map-churn: mib=%lu per faulting thread (free RAM %lu "
		       "MiB)\n", args.mib, s0.free_frames / 256);
	}
	mib = args.mib;

	t0 = sys_clock();
	for (unsigned long i = 0; i < args.threads; i++) {
		workers[i] = (struct worker){
			.id = (unsigned int)i,
			.deadline = t0 + (long)args.seconds * 1000000000L };
		tids[i] = thread_spawn(i < nf ? fault_work : churn_work,
				       &workers[i], (int)(i % s0.nharts));
		if (tids[i] < 0) {
			printf("map-churn: thread %lu: %s\n", i,
			       errno_name((int)tids[i]));
			for (unsigned long k = 0; k < i; k++)
				sys_thread_join(tids[k]);
			return 3;
		}
	}
	for (unsigned long i = 0; i < args.threads; i++) {
		struct worker *w = &workers[i];

		sys_thread_join(tids[i]);
		if (i < nf)
			faults += w->faults;
		else
			churn_faults += w->faults;
		ops += w->ops;
		nomem += w->nomem;
		if (w->err) {
			printf("map-churn: %s thread %lu stopped: %s gave %s\n",
			       i < nf ? "faulting" : "churning", i, w->what,
			       errno_name((int)w->err));
			status = 1;
		}
	}
	sys_stats(&s1);
	elapsed = sys_clock() - t0;
	bench_delta_add(&d, &s0, &s1);
	snprintf(extra, sizeof(extra),
		 "faulters=%lu churners=%lu ops=%lu ops_per_s=%lu "
		 "churn_faults=%lu nomem=%lu", nf, churners, ops,
		 ops * 1000 / ((unsigned long)elapsed / 1000000 + 1),
		 churn_faults, nomem);
	bench_print("map-churn", 0, &args, &s1, nf, faults,
		    (unsigned long)elapsed, &d, extra);
	return status;
}
