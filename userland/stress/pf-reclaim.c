/*
 * pf-reclaim.c - reclaim in one part of an address space while faults
 * proceed in another (issue 6). threads=T gives:
 *
 *   - T-1 faulting threads running pf-anon's loop: thread t, pinned to
 *     hart t % harts, maps MIB MiB at FAULT_BASE + t GiB, writes one byte
 *     into every page, unmaps, and again;
 *   - on hart (T-1) % harts, two more threads sharing it: a toucher that
 *     keeps writing into every page of a second region of MIB MiB, and a
 *     reclaimer that keeps taking those pages back, RECLAIM_NCHUNKS chunks
 *     in turn, so that the toucher's next pass faults them in again. How,
 *     is the reclaim= word:
 *
 *     unmap (the default): the region is RECLAIM_NCHUNKS regions of
 *       SYS_MAP, one per chunk; the reclaimer unmaps a chunk and maps it
 *       again, demand-zero (the contents are discarded).
 *     pager: reclaim through a pager, as a kernel's page-out would. A
 *       third thread on that hart is the pager: its memory object is an
 *       anonymous region of MIB MiB of its own, and it serves the second
 *       region (one SYS_MAP_PAGER region) by answering each PAGER_FAULT
 *       with the object's page at that offset. The reclaimer calls
 *       SYS_PAGER_EVICT on one chunk of the object after another: the
 *       pages are unmapped (with a shootdown) from the toucher's region,
 *       the pager keeps them, and the next touch is a fault to the pager
 *       again (a same-hart IPC round trip from the kernel). The contents
 *       survive: the toucher checks that each page still holds what it
 *       wrote in its last pass (lost= counts those that do not).
 *
 *   pf-reclaim [threads=2..16] [seconds=S] [mib=M] [reclaim=unmap|pager]
 *              [report=0|1]
 *
 * threads defaults to the number of harts (within 2..16: with the stacks,
 * the faulting threads' regions and the chunks, 2T + 12 of the address
 * space's 48 region slots); mib to 128, lowered to fit half the free RAM.
 *
 * Two phases, measured in one run: the reclaimer works only in every other
 * time slice (SLICE_MS, longer for runs over 16 s: at most MAX_SLICES of
 * each phase). phase=base slices run without it, phase=reclaim slices with
 * it, alternating, S seconds of each in all (the run takes 2 S), so that
 * both phases see the same host noise. The toucher runs in both. A
 * faulting thread reads the slice number and the clock every CHECK_PAGES
 * pages and credits the time since its last reading, and the pages it
 * touched meanwhile, to the phase of the slice; a stretch across the
 * start of a slice (main writes down when each starts) is split there,
 * its pages in proportion to the time on each side.
 *
 * Prints for each phase `bench pf-reclaim phase=base|reclaim key=value
 * ...` (faults, per_s and ns_per_op of the faulting threads only; the
 * kernel's counts of the phase's slices: kfaults, contended_pct and the
 * lock lines; reclaimed= pages taken back, refaults= pages faulted in
 * again: touched after their chunk was mapped again, or, with the pager,
 * faults it answered; reclaim=unmap|pager; with the pager lost=), the
 * reclaim line ending in vs_base_pct, its faulting rate as a percentage
 * of the base rate. Exit status 0, 1 if a thread's map/unmap/evict failed
 * or a page lost its contents, 2 for bad arguments (with a usage
 * message), 3 if a thread could not be started.
 *
 * The chunk protocol (reclaim=unmap): a touch of a page outside every region kills the
 * process, so the toucher touches only a chunk it holds. Each chunk has a
 * state word: MAPPED (free, its region is there), TOUCHING (the toucher
 * holds it) or RECLAIMING (the reclaimer holds it: unmapped, or being
 * mapped again). Each side takes a chunk by compare-and-swap from MAPPED
 * and gives it back with a release store of MAPPED; neither ever waits
 * for the other, it moves on to the next chunk. A chunk the reclaimer
 * failed to map again stays RECLAIMING, so it is never touched.
 */
#include <rivet.h>

#define MAX_THREADS	16	/* 2T + 12 of the 48 region slots */
#define FAULT_BASE	0x100000000UL	/* faulter t at BASE + t GiB */
#define RECLAIM_BASE	0x2000000000UL	/* the reclaimed region's chunks */
#define RECLAIM_NCHUNKS	8
#define SLICE_MS	250
#define MAX_SLICES	64	/* of each phase */
#define CHECK_PAGES	32
#define PAGER_KEY	0x7265636c	/* the object's key in SYS_MAP_PAGER */
#define PAGER_STOP	0x53544f50	/* label of main's call that ends it */

enum { BASE, RECLAIM };		/* phases; index of the per-phase sums */
static const char *const phase_name[2] = { "base", "reclaim" };

enum { CH_MAPPED, CH_TOUCHING, CH_RECLAIMING };

/*
 * One chunk of the reclaimed region.
 *   state  atomic, CH_*: see the header.
 *   fresh  1 after the reclaimer mapped the chunk again, until the toucher
 *          has faulted it in; written only by the holder (state !=
 *          MAPPED), ordered by the state word's acquire and release.
 */
static struct chunk {
	unsigned long state;
	unsigned long fresh;
} __attribute__((aligned(64))) chunks[RECLAIM_NCHUNKS];

/*
 * Slice number: 0 before the first slice, then 1, 2, ... 2N: odd for base
 * slices, even for reclaim slices; epoch_end (2N + 1) when the run is
 * over. Written by main only, with release; the threads read it with
 * acquire, and so see epoch_start[] filled up to it: when slice e started
 * (sys_clock), written by main before it makes epoch e visible.
 */
static unsigned long epoch, epoch_end;
static long epoch_start[2 * MAX_SLICES + 2];

static unsigned long mib, chunk_len;
static bool by_pager;		/* reclaim=pager; immutable after parsing */

static inline int phase_of(unsigned long e)
{
	return (e & 1) ? BASE : RECLAIM;
}

static inline unsigned long epoch_now(void)
{
	return __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
}

/* A faulting thread: only its owner writes it until main joins it. */
static struct faulter {
	unsigned int id;
	long err;
	unsigned long faults[2];	/* pages touched, credited by phase */
	unsigned long ns[2];		/* the time they took */
} __attribute__((aligned(64))) faulters[MAX_THREADS];

/* The toucher and the reclaimer: written by their own thread only. */
static struct {
	unsigned long passes;
	unsigned long refaults[2];	/* pages of fresh chunks touched */
	unsigned long lost;		/* pager: a page not as last written */
} __attribute__((aligned(64))) toucher;
static struct {
	long err;
	unsigned long chunks;		/* chunks taken back */
	unsigned long busy;		/* found the toucher in the chunk */
	unsigned long reclaimed[2];	/* pages unmapped (unmap: and mapped
					 * again) */
} __attribute__((aligned(64))) reclaimer;

/*
 * reclaim=pager: the pager thread's endpoint and memory object (set up by
 * main before the threads start, then immutable), and what the pager
 * counted (written by the pager thread only, read by main after the STOP
 * call).
 */
static long pager_ep;
static char *object;
static struct {
	long err;
	unsigned long served[2];	/* faults answered with a page */
} __attribute__((aligned(64))) pager;

/*
 * Credit the pages touched and the time since the last checkpoint (@e0,
 * @t0: the slice and the clock then) to the phases of the slices they
 * fell in, splitting the stretch where a slice started. Time before the
 * first slice and after the last is not credited.
 */
static void checkpoint(struct faulter *f, unsigned long *pages,
		       unsigned long *e0, long *t0)
{
	unsigned long e1 = epoch_now();
	long t1 = sys_clock(), a = *t0;

	for (unsigned long e = *e0; e <= e1 && t1 > *t0; e++) {
		long b = e == e1 ? t1 : epoch_start[e + 1];

		b = b < a ? a : b > t1 ? t1 : b;
		if (e && e < epoch_end) {
			f->faults[phase_of(e)] += *pages *
				(unsigned long)(b - a) /
				(unsigned long)(t1 - *t0);
			f->ns[phase_of(e)] += (unsigned long)(b - a);
		}
		a = b;
	}
	*pages = 0;
	*e0 = e1;
	*t0 = t1;
}

static void fault_work(void *arg)
{
	struct faulter *f = arg;
	unsigned long len = mib << 20, pages = 0, e0 = epoch_now();
	void *base = (void *)(FAULT_BASE + ((unsigned long)f->id << 30));
	long t0 = sys_clock();

	while (e0 < epoch_end) {
		volatile char *p;
		long r = sys_map(base, len, PROT_READ | PROT_WRITE);

		if (r < 0) {
			f->err = r;
			return;
		}
		p = (volatile char *)r;
		for (unsigned long off = 0; off < len; off += PAGE_SIZE) {
			p[off] = 1;
			if (++pages == CHECK_PAGES)
				checkpoint(f, &pages, &e0, &t0);
		}
		r = sys_unmap(base, len);
		if (r < 0) {
			f->err = r;
			return;
		}
	}
}

static void *chunk_addr(int c)
{
	return (void *)(RECLAIM_BASE + (unsigned long)c * chunk_len);
}

static bool chunk_take(struct chunk *ch, unsigned long to)
{
	unsigned long want = CH_MAPPED;

	return __atomic_compare_exchange_n(&ch->state, &want, to, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void chunk_give(struct chunk *ch)
{
	__atomic_store_n(&ch->state, CH_MAPPED, __ATOMIC_RELEASE);
}

static void touch_work(void *arg)
{
	unsigned long e;

	while ((e = epoch_now()) < epoch_end) {
		for (int c = 0; c < RECLAIM_NCHUNKS; c++) {
			struct chunk *ch = &chunks[c];
			volatile char *p = chunk_addr(c);

			if (!chunk_take(ch, CH_TOUCHING))
				continue;	/* being reclaimed */
			for (unsigned long off = 0; off < chunk_len;
			     off += PAGE_SIZE)
				p[off]++;
			if (ch->fresh) {
				ch->fresh = 0;
				if (e)
					toucher.refaults[phase_of(e)] +=
						chunk_len / PAGE_SIZE;
			}
			chunk_give(ch);
		}
		toucher.passes++;
		sys_yield();	/* let the reclaimer on this hart run */
	}
}

/*
 * The toucher of reclaim=pager: each pass reads the first word of every
 * page of the pager-backed region (a fault to the pager if the page was
 * evicted), checks that it is the number of the last pass, and writes the
 * number of this one.
 */
static void touch_pager_work(void *arg)
{
	volatile unsigned long *p = (volatile unsigned long *)RECLAIM_BASE;
	unsigned long len = mib << 20, pass = 0;

	while (epoch_now() < epoch_end) {
		for (unsigned long off = 0; off < len; off += PAGE_SIZE) {
			volatile unsigned long *w = p + off / sizeof(*p);

			if (*w != pass)
				toucher.lost++;
			*w = pass + 1;
		}
		pass++;
		toucher.passes++;
		sys_yield();	/* let the reclaimer on this hart run */
	}
}

/*
 * The pager: answers each PAGER_FAULT for PAGER_KEY with the page of its
 * object at the offset asked (anything else gets an answer without a
 * page, which kills the process with the kernel's report line), until
 * main's PAGER_STOP call.
 */
static void pager_work(void *arg)
{
	struct ipc_msg m;
	long r = ipc_recv(pager_ep, &m, 0);

	while (r == 0 && IPC_INFO_LABEL(m.info) == PAGER_FAULT) {
		unsigned long off = m.w[1], e = epoch_now();

		if (m.w[0] != PAGER_KEY || off >= mib << 20) {
			m.info = IPC_INFO(1, 0, 0);
		} else {
			m.info = IPC_INFO(0, 0, IPC_INFO_PAGE);
			m.w[0] = (unsigned long)(object + off);
			if (e && e < epoch_end)
				pager.served[phase_of(e)]++;
		}
		r = ipc_reply_recv(pager_ep, &m, 0);
	}
	if (r == 0)
		ipc_reply(&(struct ipc_msg){ 0 });	/* the PAGER_STOP call */
	else
		pager.err = r;
}

/* A map or unmap call again while the region table is full (-E_NOMEM:
 * another thread's region is on its way out). */
static long retry_nomem(bool map, void *addr, size_t len)
{
	long r = -E_NOMEM;

	for (int i = 0; i < 1000 && r == -E_NOMEM; i++) {
		r = map ? sys_map(addr, len, PROT_READ | PROT_WRITE)
			: sys_unmap(addr, len);
		if (r == -E_NOMEM)
			sys_yield();
	}
	return r;
}

static void reclaim_work(void *arg)
{
	unsigned long next = 0, e;

	while ((e = epoch_now()) < epoch_end) {
		struct chunk *ch = &chunks[next % RECLAIM_NCHUNKS];
		void *addr = chunk_addr((int)(next % RECLAIM_NCHUNKS));
		long r;

		if (!e || phase_of(e) == BASE) {
			sys_sleep(1000000);	/* a tick, in fact */
			continue;
		}
		next++;
		if (by_pager) {
			r = sys_pager_evict(pager_ep, PAGER_KEY,
					    (next - 1) % RECLAIM_NCHUNKS *
						    chunk_len,
					    chunk_len);
			if (r < 0) {
				reclaimer.err = r;
				return;
			}
			reclaimer.chunks++;
			reclaimer.reclaimed[phase_of(e)] += (unsigned long)r;
			sys_yield();	/* let the toucher on this hart run */
			continue;
		}
		if (!chunk_take(ch, CH_RECLAIMING)) {
			reclaimer.busy++;
			sys_yield();
			continue;
		}
		r = retry_nomem(false, addr, chunk_len);
		if (!r)
			r = retry_nomem(true, addr, chunk_len);
		if (r < 0) {		/* the chunk stays RECLAIMING */
			reclaimer.err = r;
			return;
		}
		ch->fresh = 1;
		chunk_give(ch);
		reclaimer.chunks++;
		reclaimer.reclaimed[phase_of(e)] += chunk_len / PAGE_SIZE;
		sys_yield();	/* let the toucher on this hart run */
	}
}

/* T-1 faulting threads and the reclaimer; the toucher comes with it. */
static const struct bench_spec spec = {
	.min_threads = 2, .max_threads = MAX_THREADS,
	.more_usage = " [reclaim=unmap|pager]" };

/* Take the reclaim= words out of argv (bench_parse_spec knows only key=N
 * words). Return: the new argc, or -1 after a usage message. */
static int parse_reclaim(int argc, char **argv)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "reclaim=", 8)) {
			argv[n++] = argv[i];
		} else if (!strcmp(argv[i] + 8, "pager")) {
			by_pager = true;
		} else if (!strcmp(argv[i] + 8, "unmap")) {
			by_pager = false;
		} else {
			bench_usage("pf-reclaim", "bad argument", &spec);
			printf("pf-reclaim: '%s' is neither reclaim=unmap nor "
			       "reclaim=pager\n", argv[i]);
			return -1;
		}
	}
	return n;
}

/* The reclaimed region, mapped and faulted in before the clock runs:
 * RECLAIM_NCHUNKS regions (unmap). 0, or 1 after a message. */
static int setup_chunks(void)
{
	for (int c = 0; c < RECLAIM_NCHUNKS; c++) {
		volatile char *p = chunk_addr(c);
		long r = sys_map((void *)p, chunk_len, PROT_READ | PROT_WRITE);

		if (r < 0) {
			printf("pf-reclaim: map of chunk %d: %s\n", c,
			       errno_name((int)r));
			return 1;
		}
		for (unsigned long off = 0; off < chunk_len; off += PAGE_SIZE)
			p[off] = 1;
	}
	return 0;
}

/*
 * reclaim=pager: the object (faulted in), the endpoint, the pager thread
 * on @hart, and the pager-backed region, faulted in through the pager
 * before the clock runs. Return: the pager's thread id, or < 0 after a
 * message (-1 for a failed call: exit status 1; -3 no thread: 3).
 */
static long setup_pager(int hart)
{
	unsigned long len = mib << 20;
	long r = sys_map(0, len, PROT_READ | PROT_WRITE), tid;
	const char *what = "map of the object";

	if (r >= 0) {
		object = (char *)r;
		for (unsigned long off = 0; off < len; off += PAGE_SIZE)
			((volatile char *)object)[off] = 0;
		what = "endpoint";
		r = pager_ep = sys_endpoint_create();
	}
	if (r < 0) {
		printf("pf-reclaim: %s: %s\n", what, errno_name((int)r));
		return -1;
	}
	tid = thread_spawn(pager_work, 0, hart);
	if (tid < 0) {
		printf("pf-reclaim: pager thread: %s\n", errno_name((int)tid));
		return -3;
	}
	r = sys_map_pager((void *)RECLAIM_BASE, len, PROT_READ | PROT_WRITE,
			  pager_ep, PAGER_KEY);
	if (r < 0) {
		printf("pf-reclaim: map_pager: %s\n", errno_name((int)r));
		return -1;	/* the process ends, and the pager with it */
	}
	for (unsigned long off = 0; off < len; off += PAGE_SIZE)
		(void)((volatile char *)RECLAIM_BASE)[off];
	return tid;
}

/* Main's call that ends the pager thread; then its join. */
static int stop_pager(long tid)
{
	struct ipc_msg m = { .info = IPC_INFO(PAGER_STOP, 0, 0) };
	long r = ipc_call(pager_ep, &m, 0);

	if (r < 0) {
		printf("pf-reclaim: stopping the pager: %s\n",
		       errno_name((int)r));
		return 1;
	}
	sys_thread_join(tid);
	if (pager.err) {
		printf("pf-reclaim: pager stopped: %s\n",
		       errno_name((int)pager.err));
		return 1;
	}
	return 0;
}
static struct rivet_stats s0, sa, sb;
static struct bench_delta delta[2];

int main(int argc, char **argv)
{
	struct bench_args args;
	unsigned int nharts;
	unsigned long nf, nslices, per_s[2];
	long tids[MAX_THREADS + 1], t, pager_tid = 0;
	struct rivet_stats *prev = &sa, *now = &sb, *tmp;
	int status = 0;

	if (sys_stats(&s0))
		return 3;
	nharts = s0.nharts;
	argc = parse_reclaim(argc, argv);
	if (argc < 0 ||
	    bench_parse_spec("pf-reclaim", argc, argv, nharts, &args, &spec))
		return 2;
	nf = args.threads - 1;
	if (!args.mib) {	/* default 128 MiB, lowered to fit half the RAM */
		unsigned long fit = s0.free_frames / 2 / args.threads / 256;

		args.mib = fit < 128 ? (fit ? fit : 1) : 128;
		printf("pf-reclaim: mib=%lu per thread and reclaimed (free RAM "
		       "%lu MiB)\n", args.mib, s0.free_frames / 256);
	}
	mib = args.mib;
	chunk_len = (mib << 20) / RECLAIM_NCHUNKS;
	nslices = args.seconds * 1000 / SLICE_MS;
	if (nslices > MAX_SLICES)
		nslices = MAX_SLICES;
	epoch_end = 2 * nslices + 1;

	if (by_pager) {
		pager_tid = setup_pager((int)(nf % nharts));
		if (pager_tid < 0)
			return (int)-pager_tid;
	} else if (setup_chunks()) {
		return 1;
	}

	for (unsigned long i = 0; i <= nf + 1; i++) {
		int hart = (int)((i < nf ? i : nf) % nharts);

		if (i < nf) {
			faulters[i].id = (unsigned int)i;
			t = thread_spawn(fault_work, &faulters[i], hart);
		} else if (i == nf) {
			t = thread_spawn(by_pager ? touch_pager_work :
						    touch_work, 0, hart);
		} else {
			t = thread_spawn(reclaim_work, 0, hart);
		}
		if (t < 0) {
			printf("pf-reclaim: thread %lu: %s\n", i,
			       errno_name((int)t));
			__atomic_store_n(&epoch, epoch_end, __ATOMIC_RELEASE);
			for (unsigned long k = 0; k < i; k++)
				sys_thread_join(tids[k]);
			return 3;
		}
		tids[i] = t;
	}

	/* The slices: base, reclaim, base, ... */
	sys_stats(prev);
	for (unsigned long i = 1; i <= 2 * nslices; i++) {
		epoch_start[i] = sys_clock();
		__atomic_store_n(&epoch, i, __ATOMIC_RELEASE);
		sys_sleep(args.seconds * 1000000000UL / nslices);
		sys_stats(now);
		bench_delta_add(&delta[phase_of(i)], prev, now);
		tmp = prev, prev = now, now = tmp;
	}
	epoch_start[epoch_end] = sys_clock();
	__atomic_store_n(&epoch, epoch_end, __ATOMIC_RELEASE);
	/* Whatever ran between the last reading and the end, e.g. a segment
	 * credited to the last slice. */
	sys_stats(now);
	bench_delta_add(&delta[RECLAIM], prev, now);
	for (unsigned long i = 0; i <= nf + 1; i++)
		sys_thread_join(tids[i]);
	if (by_pager)
		status = stop_pager(pager_tid);

	for (int ph = BASE; ph <= RECLAIM; ph++) {
		unsigned long faults = 0, ns = 0;
		char extra[200];
		int n;

		for (unsigned long i = 0; i < nf; i++) {
			faults += faulters[i].faults[ph];
			ns += faulters[i].ns[ph];
		}
		/* Elapsed time per faulting thread, so that per_s counts all
		 * of them together, as in pf-anon. */
		ns /= nf;
		per_s[ph] = faults * 1000 / (ns / 1000000 + 1);
		n = snprintf(extra, sizeof(extra),
			     "faulters=%lu slices=%lu reclaimed=%lu "
			     "refaults=%lu reclaim=%s", nf, nslices,
			     reclaimer.reclaimed[ph],
			     by_pager ? pager.served[ph] : toucher.refaults[ph],
			     by_pager ? "pager" : "unmap");
		if (by_pager)
			n += snprintf(extra + n, sizeof(extra) - (size_t)n,
				      " lost=%lu", toucher.lost);
		if (ph == RECLAIM) {
			unsigned long v = 0;	/* hundredths of % */

			if (per_s[BASE])
				v = per_s[RECLAIM] * 10000 / per_s[BASE];
			snprintf(extra + n, sizeof(extra) - (size_t)n,
				 " vs_base_pct=%lu.%02lu", v / 100, v % 100);
		}
		bench_print("pf-reclaim", phase_name[ph], &args, now, nf,
			    faults, ns, &delta[ph], extra);
	}
	for (unsigned long i = 0; i < nf; i++) {
		if (faulters[i].err) {
			printf("pf-reclaim: faulting thread %lu stopped: %s\n",
			       i, errno_name((int)faulters[i].err));
			status = 1;
		}
	}
	if (reclaimer.err) {
		printf("pf-reclaim: reclaimer stopped: %s\n",
		       errno_name((int)reclaimer.err));
		status = 1;
	}
	if (toucher.lost) {
		printf("pf-reclaim: %lu pages did not hold what the toucher "
		       "wrote last\n", toucher.lost);
		status = 1;
	}
	return status;
}
