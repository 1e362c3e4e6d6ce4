/*
 * sysfuzz.c - a system-call fuzzer: threads make system calls with hostile
 * arguments for a while, then the kernel must still work
 *
 *   init=sysfuzz -- [seed=N] [seconds=S] [threads=T]
 *
 * T threads (default one per hart), each with its own random stream from
 * the seed, call every system call of abi/syscall.h with arguments drawn
 * from a mix that finds bugs: small numbers, 0, -1, huge values; addresses
 * in its own memory (the arena), in unmapped user memory, in the kernel,
 * across the top of the user half; handles it holds, closed ones and
 * forged ones; call numbers that do not exist. It also does what a
 * well-behaved program does, so the deep paths run too: threads pass
 * handles and payloads to each other in IPC, start short-lived threads
 * and join them, spawn bin/exit42 and kill or wait for it.
 *
 * It must never kill itself, so the run tests the kernel, not the fuzzer:
 *   - memory: calls that change mappings (MAP, UNMAP, PROTECT, ...) aim
 *     at the fuzz zone (FZ_BASE) and never at what the program runs on:
 *     its image, its stacks and buffers (all below FZ_BASE, from
 *     MAP_BASE up) and the main stack. Buffers the kernel writes into
 *     never point there either (read-only pages are fine: the kernel must
 *     refuse). The program itself never touches the fuzz zone.
 *   - no SYS_EXIT, no SYS_THREAD_EXIT of a worker (the short-lived
 *     threads end with it), no SYS_KILL of pid 1 (itself: it runs as init,
 *     alone); SYS_WAIT and SYS_THREAD_JOIN only of what ends by itself
 *     soon (children running exit42, the short-lived threads) or of ids
 *     that are nobody's; every other wait has a short timeout.
 *   - devices whose registers could end the run (the console UART, the
 *     power-off syscon, fw-cfg's DMA, flash, PCI) are kept without the
 *     MAP right; virtio-mmio slots and the RTC may be mapped and bound.
 *
 * At the end it prints
 *
 *   sysfuzz seed=1 threads=4 seconds=5 calls=N ok=N errors=N E_PERM=N ...
 *   sysfuzz ok-by-call: NR=N ...
 *   sysfuzz check: exit42=42 free_before=N free_after=N leaked=N text=same: ok
 *
 * The check undoes everything the run made (threads, children, handles,
 * the fuzz zone), then spawns bin/exit42 and waits for its 42, compares
 * the free frames with the count before the run, and checks that its own
 * code is unchanged. Exit status: 0; 1 if the check failed; 2 for bad
 * arguments; 3 if the run could not be set up. (tests/system/test_sysfuzz.py;
 * docs/testing.md.)
 */
#include <rivet.h>

#define MS		1000000UL
#define MAX_THREADS	16
#define HELPERS		2		/* short-lived threads per worker */
#define MINI_STACK	(16UL << 10)
#define CHILD_MAX	4		/* exit42 children alive at once */
#define HSLOTS		128		/* handle table slots (HANDLE_MAX) */
#define DEV_MAX		32
/* Frames the check lets go missing: a leaf table a kernel access to user
 * memory populated and then put nothing in (its region changed
 * meanwhile) stays until an unmap of its range (docs/vm.md; user faults
 * give theirs back at once). Measured: 2 each run while the kernel kept
 * every empty level-1 table; 0 to 3 (6 runs of 32, seeds 1200-1215 twice)
 * once it freed them with their last leaf table; 0 in 15 of those 16
 * seeds and 1 in one since user faults give their tables back. */
#define LEAK_SLACK	8

/* The fuzz zone: every memory-changing call aims here, mostly at the
 * arena inside it (eight regions of 256 KiB that straddle a 2 MiB leaf
 * table boundary); nothing of the program's own lives here. */
#define FZ_BASE		0x2000000000UL
#define FZ_SIZE		(64UL << 20)
#define ARENA		(FZ_BASE + (1UL << 20))
#define ARENA_REGIONS	8
#define ARENA_REGION	(256UL << 10)
#define ARENA_SIZE	(ARENA_REGIONS * ARENA_REGION)

/* Where the kernel puts a region given address 0 (MAP_BASE of
 * kern/proc.h): the program's own stacks and buffers live from here up. */
#define MAP_BASE_ADDR	0x1000000000UL
#define KERNEL_VA	0xffffffff80000000UL
#define DIRECT_VA	0xffffffc000000000UL
#define USER_TOP	(1UL << 38)

extern char _text_start[], _data_start[], _end[];

/* ---- random numbers ------------------------------------------------- */

/* xoshiro256**, seeded through splitmix64: one stream per thread. */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15UL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *g, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0x100000001b3UL + stream * 0x9e3779b97f4a7c15UL;

	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static uint64_t below(struct rng *g, uint64_t n)
{
	return n ? rnd(g) % n : 0;
}

static bool chance(struct rng *g, unsigned int pct)
{
	return below(g, 100) < pct;
}

/* ---- shared state ----------------------------------------------------- */

/* Operations besides the system calls (numbered 0..SYS_NR-1). */
enum {
	OP_PAIR_SERVE = SYS_NR, OP_PAIR_CALL, OP_BADNR, OP_END
};

struct helper {
	long tid;		/* 0: slot free */
	int done;		/* atomic: the thread is past its last use of
				 * its stack (it sets this, then ends) */
	unsigned long stack;	/* top of its mini stack */
};

struct worker {
	unsigned int id;
	struct rng g;
	long tid;
	unsigned long calls, ok, other;	/* other: < 0 but not an -E_* */
	unsigned long err[E_MSGSIZE + 1];
	unsigned long ok_by[SYS_NR + 4];	/* and the OP_PAIR_*s */
	unsigned long err_by[SYS_NR][E_MSGSIZE + 1];	/* for verbose=1 */
	unsigned long ns_by[SYS_NR + 4];	/* time in each op (verbose) */
	long child;			/* a live exit42 child, or 0 */
	unsigned long child_age;	/* rounds it has been alive */
	struct helper helpers[HELPERS];
	unsigned long *ipcbuf;		/* its own buffer page (protected) */
	/* The call it makes now, for main's report of a worker that does
	 * not finish (atomics: main reads them while it runs). */
	long now_nr;
	unsigned long now_a[7];
	int finished;
} __attribute__((aligned(64)));

static struct worker workers[MAX_THREADS];
static unsigned long nthreads, seconds = 5, seed = 1, verbose, lowmem;
static unsigned long ballast, ballast_len;	/* lowmem=: memory held */
static int ready;			/* atomic: workers set up */
static unsigned int nharts;
static long deadline;			/* sys_clock() to stop at */
static int stop;			/* atomic */
static int go;				/* atomic: every worker is counted in */

/* Handles the workers may use, by slot (value & 0xff) - 1: the last value
 * seen there. Atomics: any worker writes and reads any slot. */
static long reg[HSLOTS];
/* Handles no random pick may name: the check's own device handles. */
static long private_dev[DEV_MAX];
static unsigned int nprivate;
/* exit42 children alive (pid or 0); atomics. */
static long children[CHILD_MAX];
/* One endpoint per pair of workers (w and w ^ 1), for calls that meet. */
static long pair_ep[MAX_THREADS / 2 + 1];
static unsigned long mini_stacks;	/* HELPERS * nthreads stacks */
/* A page per worker for the kernel to write into, that nothing reads
 * (among the program's own memory, so no call of the run unmaps it). */
static unsigned long scratch;
#define SCRATCH_SIZE	(MAX_THREADS * PAGE_SIZE)

static unsigned long text_sum;

/* ---- the program's own memory ------------------------------------------ */

/* [lo, hi) ranges the fuzzer must not change: PROT_RO ones (image code
 * and read-only data) may be handed to the kernel to write into (it must
 * refuse); the others must not even be that. */
struct range {
	unsigned long lo, hi;
	bool ro;
};
static struct range own[4];

static void own_init(void)
{
	own[0] = (struct range){ (unsigned long)_text_start,
				 (unsigned long)_data_start, true };
	own[1] = (struct range){ (unsigned long)_data_start,
				 ALIGN_UP((unsigned long)_end, PAGE_SIZE),
				 false };
	own[2] = (struct range){ MAP_BASE_ADDR, FZ_BASE, false };
	own[3] = (struct range){ USER_STACK_TOP - USER_STACK_SIZE,
				 USER_STACK_TOP, false };
}

/* Does [a, a+len) (wrapping past 2^64 counts as both ends) come within a
 * page of [lo, hi)? */
static bool overlaps(unsigned long a, unsigned long len, unsigned long lo,
		     unsigned long hi)
{
	unsigned long end = a + len;

	if (!len)
		return false;
	lo = lo > PAGE_SIZE ? lo - PAGE_SIZE : 0;
	hi += PAGE_SIZE;
	if (end < a)
		return a < hi || end > lo;
	return a < hi && end > lo;
}

/* May a call change the mappings of [a, a+len)? */
static bool may_change(unsigned long a, unsigned long len)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(own); i++)
		if (overlaps(a, len, own[i].lo, own[i].hi))
			return false;
	return true;
}

static bool in_ro(unsigned long a)
{
	return a >= own[0].lo && a < own[0].hi;
}

/* May the kernel be asked to write up to @len bytes at @a? */
static bool may_write(unsigned long a, unsigned long len)
{
	if (scratch && a >= scratch && len <= SCRATCH_SIZE &&
	    a + len >= a && a + len <= scratch + SCRATCH_SIZE)
		return true;
	if (in_ro(a))
		return true;	/* the first byte already faults */
	for (unsigned int i = 1; i < ARRAY_SIZE(own); i++)
		if (overlaps(a, len, own[i].lo, own[i].hi))
			return false;
	return true;
}

static bool in_fz(unsigned long a, unsigned long len)
{
	return a >= FZ_BASE && len <= FZ_SIZE && a + len >= a &&
	       a + len <= FZ_BASE + FZ_SIZE;
}

static unsigned long text_checksum(void)
{
	const unsigned long *p = (const unsigned long *)_text_start;
	unsigned long sum = 0;

	for (; p < (const unsigned long *)_data_start; p++)
		sum = rotl(sum, 5) ^ *p;
	return sum;
}

/* ---- values ----------------------------------------------------------- */

static const unsigned long specials[] = {
	0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 129, 255, 256,
	511, 512, 513, 1023, 1024, 4095, 4096, 4097, 8192, 0x10000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x100000001,
	0x100000002, 0x7fffff00, 0x7fffffff00, USER_TOP - 1, USER_TOP,
	USER_TOP + 1, 1UL << 39, 1UL << 47, 1UL << 62, (1UL << 62) - 1,
	1UL << 63, ~0UL, ~0UL - 1, ~0UL - 4095, -4096L, -(1L << 32),
	KERNEL_VA, DIRECT_VA, MAP_BASE_ADDR, FZ_BASE, USER_STACK_TOP,
};

static unsigned long val_any(struct rng *g)
{
	switch (below(g, 7)) {
	case 0:
		return below(g, 17);
	case 1:
	case 2:
		return specials[below(g, ARRAY_SIZE(specials))];
	case 3:
		return rnd(g);
	case 4:
		return (unsigned long)-(long)below(g, 32);
	case 5:
		return (1UL << below(g, 64)) + below(g, 3) - 1;
	default:
		return below(g, 64) * PAGE_SIZE;
	}
}

static unsigned long len_any(struct rng *g)
{
	switch (below(g, 6)) {
	case 0:
		return (below(g, 16) + 1) * PAGE_SIZE;
	case 1:
		return below(g, 256) * PAGE_SIZE;
	case 2:
		return below(g, 2 * PAGE_SIZE);
	case 3:
		return ARENA_REGION * (below(g, 3) + 1);
	default:
		return val_any(g);
	}
}

/* An address for the kernel to read @len bytes at, or (@out) to write
 * them at; never one the program would suffer from. */
static unsigned long addr_any(struct rng *g, unsigned long len, bool out)
{
	for (;;) {
		unsigned long a;

		switch (below(g, 18)) {
		case 0:
			a = below(g, 2) ? 0 : below(g, PAGE_SIZE);
			break;
		case 14:
		case 15:
		case 16:	/* good memory */
			a = scratch + below(g, SCRATCH_SIZE / PAGE_SIZE) *
					      PAGE_SIZE;
			if (len < PAGE_SIZE && below(g, 2))
				a += below(g, PAGE_SIZE - len);
			break;
		case 1:
		case 2:
			a = ARENA + below(g, ARENA_SIZE / PAGE_SIZE) * PAGE_SIZE;
			break;
		case 3:
			a = ARENA + below(g, ARENA_SIZE);
			break;
		case 4:		/* the last bytes of a page or region */
			a = ARENA + (below(g, ARENA_REGIONS) + 1) * ARENA_REGION -
			    below(g, 64);
			break;
		case 5:
			a = FZ_BASE + below(g, FZ_SIZE);
			break;
		case 6:
			a = (below(g, 2) ? KERNEL_VA : DIRECT_VA) +
			    below(g, 16UL << 20);
			break;
		case 7:		/* across the top of the user half */
			a = USER_TOP - below(g, len + 2);
			break;
		case 8:
			a = specials[below(g, ARRAY_SIZE(specials))];
			break;
		case 9:		/* read-only: code, constants */
			a = own[0].lo + below(g, own[0].hi - own[0].lo);
			break;
		case 10:
			a = rnd(g);
			break;
		case 11:
			a = below(g, USER_TOP);
			break;
		case 12:	/* wraps past 2^64 */
			a = ~0UL - below(g, len + 1);
			break;
		default:
			a = ARENA + below(g, ARENA_REGIONS) * ARENA_REGION;
			break;
		}
		if (!out || may_write(a, len ? len : 1))
			return a;
	}
}

static unsigned long prot_any(struct rng *g)
{
	static const unsigned long p[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_EXEC, PROT_WRITE, 0, PROT_READ | PROT_WRITE | PROT_EXEC,
	};

	if (chance(g, 85))
		return p[below(g, ARRAY_SIZE(p))];
	return val_any(g);
}

/* ---- handles ---------------------------------------------------------- */

/* Remember @h, a handle a call gave us. The generation of a slot only
 * grows, so the largest value seen there is the one that may be live (a
 * late store of an older value must not hide it from close_all). */
static void reg_put(long h)
{
	unsigned long slot = (unsigned long)h & 0xff;
	long old;

	if (h <= 0 || slot < 1 || slot > HSLOTS)
		return;
	old = __atomic_load_n(&reg[slot - 1], __ATOMIC_RELAXED);
	while (old < h && !__atomic_compare_exchange_n(&reg[slot - 1], &old, h,
							false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
}

static bool is_private(long h)
{
	for (unsigned int i = 0; i < nprivate; i++)
		if (private_dev[i] == h)
			return true;
	return false;
}

/* A handle the program holds (as far as it knows), or 0. */
static long h_real(struct rng *g)
{
	for (int i = 0; i < 4; i++) {
		long h = __atomic_load_n(&reg[below(g, HSLOTS)],
					 __ATOMIC_RELAXED);

		if (h)
			return h;
	}
	return 0;
}

static long h_any(struct rng *g)
{
	long h = 0;

	switch (below(g, 10)) {
	case 0:			/* another generation of a slot */
		h = h_real(g) + (long)(below(g, 2) ? 0x100 : -0x100);
		break;
	case 1:
		h = HANDLE_SPAWN + (long)below(g, 40);
		break;
	case 2:
		h = (long)(below(g, 4) << 8 | below(g, 256));
		break;
	case 3:
		h = (long)val_any(g);
		break;
	default:
		h = h_real(g);
		break;
	}
	if (!h || is_private(h))
		h = chance(g, 50) ? h_real(g) : (long)val_any(g);
	return is_private(h) ? 0x7fffff80 : h;
}

/* Device handles the workers may use (as reg, but only these): the
 * first process's own, and copies made when random closes took them. */
static long devreg[DEV_MAX];

static void devreg_put(struct rng *g, long h)
{
	if (h > 0) {
		reg_put(h);
		__atomic_store_n(&devreg[g ? below(g, DEV_MAX)
				    : (uint64_t)h % DEV_MAX],
				 h, __ATOMIC_RELAXED);
	}
}

/* For the device calls: a device handle (held or not), half the time. */
static long h_dev(struct rng *g)
{
	long h = __atomic_load_n(&devreg[below(g, DEV_MAX)], __ATOMIC_RELAXED);

	return chance(g, 50) && h ? h : h_any(g);
}

/* Close about half of the registry (the table filled up). */
static void purge(struct rng *g)
{
	for (int i = 0; i < HSLOTS; i++) {
		long h = __atomic_load_n(&reg[i], __ATOMIC_RELAXED);

		if (h && chance(g, 50))
			sys_handle_close(h);
	}
}

/* ---- the call ---------------------------------------------------------- */

struct regs {
	unsigned long a[7];
};

/* ecall with a0..a6 in and out (the IPC calls return in a1..a6). */
static long trap(long nr, struct regs *r)
{
	register unsigned long a0 __asm__("a0") = r->a[0];
	register unsigned long a1 __asm__("a1") = r->a[1];
	register unsigned long a2 __asm__("a2") = r->a[2];
	register unsigned long a3 __asm__("a3") = r->a[3];
	register unsigned long a4 __asm__("a4") = r->a[4];
	register unsigned long a5 __asm__("a5") = r->a[5];
	register unsigned long a6 __asm__("a6") = r->a[6];
	register long a7 __asm__("a7") = nr;

	__asm__ __volatile__("ecall"
			     : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3),
			       "+r"(a4), "+r"(a5), "+r"(a6)
			     : "r"(a7)
			     : "memory");
	r->a[0] = a0;
	r->a[1] = a1;
	r->a[2] = a2;
	r->a[3] = a3;
	r->a[4] = a4;
	r->a[5] = a5;
	r->a[6] = a6;
	return (long)a0;
}

static void count(struct worker *w, long nr, long ret)
{
	bool known = nr >= 0 && nr < SYS_NR;

	w->calls++;
	/* A child killed ends with status -1 (not -E_PERM). */
	if (ret >= 0 || (nr == SYS_WAIT && ret == -1)) {
		w->ok++;
		if (known)
			w->ok_by[nr]++;
	} else if (ret >= -E_MSGSIZE) {
		w->err[-ret]++;
		if (known)
			w->err_by[nr][-ret]++;
	} else {
		w->other++;
	}
}

/* Make call @nr with @r (garbage in the registers it does not read). */
/* What @w is about to call, for the report of a worker that hangs. */
static void note(struct worker *w, long nr, const struct regs *r)
{
	for (int i = 0; i < 7; i++)
		__atomic_store_n(&w->now_a[i], r ? r->a[i] : 0,
				 __ATOMIC_RELAXED);
	__atomic_store_n(&w->now_nr, nr, __ATOMIC_RELEASE);
}

static long call(struct worker *w, long nr, struct regs *r)
{
	long ret;

	note(w, nr, r);
	ret = trap(nr, r);
	count(w, nr, ret);
	return ret;
}

static void regs_fill(struct rng *g, struct regs *r)
{
	for (int i = 0; i < 7; i++)
		r->a[i] = val_any(g);
}

/* ---- memory ------------------------------------------------------------ */

static void arena_map(void)
{
	for (int i = 0; i < ARENA_REGIONS; i++)
		sys_map((void *)(ARENA + i * ARENA_REGION), ARENA_REGION,
			PROT_READ | PROT_WRITE);
}

/* Everything in the fuzz zone goes; the arena comes back. */
static void zone_reset(void)
{
	sys_unmap((void *)FZ_BASE, FZ_SIZE);
	arena_map();
}

/* A region [ALIGN_DOWN(a), +len) a call just made (a device's registers
 * start a bit into their first page), outside the fuzz zone (the kernel's
 * choice of address, or a wild one): gone again at once. */
static void unmap_stray(unsigned long a, unsigned long len)
{
	unsigned long lo = ALIGN_DOWN(a, PAGE_SIZE);

	if (!in_fz(lo, len))
		sys_unmap((void *)lo, len);
}

/* An address for MAP to place a region at. */
static unsigned long map_addr(struct rng *g)
{
	switch (below(g, 8)) {
	case 0:
		return 0;		/* the kernel's choice */
	case 1:
	case 2:
		return FZ_BASE + below(g, FZ_SIZE / PAGE_SIZE) * PAGE_SIZE;
	case 3:
		return ARENA + below(g, ARENA_SIZE / PAGE_SIZE) * PAGE_SIZE;
	case 4:
		return FZ_BASE + below(g, FZ_SIZE);
	case 5:
		return below(g, USER_TOP / PAGE_SIZE) * PAGE_SIZE;
	default:
		return addr_any(g, 0, false);
	}
}

/* A range for UNMAP/PROTECT, never one of the program's own. */
static void change_range(struct rng *g, unsigned long *a, unsigned long *len)
{
	for (;;) {
		switch (below(g, 6)) {
		case 0:		/* one arena region, exactly */
			*a = ARENA + below(g, ARENA_REGIONS) * ARENA_REGION;
			*len = ARENA_REGION;
			break;
		case 1:		/* a few regions */
			*a = ARENA + below(g, ARENA_REGIONS) * ARENA_REGION;
			*len = ARENA_REGION * (below(g, 3) + 1);
			break;
		case 2:		/* pages inside: cuts */
			*a = ARENA + below(g, ARENA_SIZE / PAGE_SIZE) * PAGE_SIZE;
			*len = (below(g, 32) + 1) * PAGE_SIZE;
			break;
		case 3:
			*a = map_addr(g);
			*len = len_any(g);
			break;
		default:
			*a = addr_any(g, 0, false);
			*len = len_any(g);
			break;
		}
		if (may_change(*a, *len))
			return;
	}
}

/* ---- short-lived threads ------------------------------------------------ */

/* A thread of its own: a few harmless calls on its mini stack, then it
 * ends with a random status. After @done it touches no memory. */
static __attribute__((noreturn, used)) void helper_main(struct helper *hs,
							unsigned long s)
{
	struct rng g;
	struct regs r;
	long status;

	rng_init(&g, s, 99);
	for (unsigned long i = below(&g, 4); i > 0; i--) {
		/* None that can wait: its owner waits for it. */
		static const long nr[] = { SYS_YIELD, SYS_GETPID, SYS_CLOCK,
					   SYS_NOTIFY_SIGNAL, SYS_HANDLE_INFO };

		regs_fill(&g, &r);
		r.a[0] = (unsigned long)h_real(&g);
		trap(nr[below(&g, ARRAY_SIZE(nr))], &r);
	}
	status = (long)(val_any(&g) & 0x7fffffff);	/* not an error */
	__atomic_store_n(&hs->done, 1, __ATOMIC_RELEASE);
	{
		register long a0 __asm__("a0") = status;
		register long a7 __asm__("a7") = SYS_THREAD_EXIT;

		for (;;)
			__asm__ __volatile__("ecall" : : "r"(a0), "r"(a7)
					     : "memory");
	}
}

/* Is @tid one no join may wait for (a worker)? (Main's is not in the
 * table SYS_THREAD_JOIN looks in.) */
static bool tid_forbidden(long tid)
{
	for (unsigned int i = 0; i < nthreads; i++)
		if (workers[i].tid == tid)
			return true;
	return false;
}

/* Wait until each ended helper is gone and free its slot; with @all, for
 * every helper. */
static void helpers_reap(struct worker *w, bool all)
{
	for (int i = 0; i < HELPERS; i++) {
		struct helper *hs = &w->helpers[i];

		if (!hs->tid)
			continue;
		if (!__atomic_load_n(&hs->done, __ATOMIC_ACQUIRE)) {
			if (!all)
				continue;
			note(w, -100, 0);	/* waits for it to start */
			while (!__atomic_load_n(&hs->done, __ATOMIC_ACQUIRE))
				sys_yield();
		}
		/* -E_NOENT: another worker joined it (a random pick). */
		note(w, SYS_THREAD_JOIN, &(struct regs){ { (unsigned long)hs->tid } });
		count(w, SYS_THREAD_JOIN, sys_thread_join(hs->tid));
		hs->tid = 0;
	}
}

static void fuzz_thread_create(struct worker *w, struct rng *g)
{
	struct helper *hs = NULL;
	struct regs r;
	long tid;

	regs_fill(g, &r);
	for (int i = 0; i < HELPERS; i++)
		if (!w->helpers[i].tid)
			hs = &w->helpers[i];
	if (!hs || chance(g, 50)) {
		/* Arguments the kernel must refuse: a bad pc, sp or hart. */
		r.a[0] = (unsigned long)helper_main;
		r.a[3] = w->helpers[0].stack;
		r.a[4] = (unsigned long)-1;
		switch (below(g, 3)) {
		case 0:
			do
				r.a[0] = val_any(g);
			while (r.a[0] < USER_TOP);
			break;
		case 1:
			r.a[3] = below(g, 2) ? (r.a[3] | (1 + below(g, 15)))
					     : USER_TOP + 16 * (1 + below(g, 4));
			if (below(g, 2))
				r.a[3] = ~0UL - below(g, 64);
			break;
		default:
			r.a[4] = below(g, 2) ? nharts + below(g, 100)
					     : (unsigned long)-2 - below(g, 100);
			if (below(g, 4) == 0)
				r.a[4] = specials[below(g,
							ARRAY_SIZE(specials))] |
					 (1UL << 40);
			if (r.a[4] == ~0UL)	/* -1: any hart, valid */
				r.a[4] = ~0UL - 1;
			break;
		}
		call(w, SYS_THREAD_CREATE, &r);
		return;
	}
	hs->done = 0;
	r.a[0] = (unsigned long)helper_main;
	r.a[1] = (unsigned long)hs;
	r.a[2] = rnd(g);
	r.a[3] = hs->stack;
	r.a[4] = (unsigned long)((long)below(g, nharts + 1) - 1);
	tid = call(w, SYS_THREAD_CREATE, &r);
	if (tid > 0)
		hs->tid = tid;
}

static void fuzz_thread_join(struct worker *w, struct rng *g)
{
	struct regs r;
	long tid;

	regs_fill(g, &r);
	if (chance(g, 40)) {	/* one of ours, or a sibling's */
		struct worker *o = &workers[below(g, nthreads)];
		struct helper *hs = &o->helpers[below(g, HELPERS)];

		tid = __atomic_load_n(&hs->tid, __ATOMIC_RELAXED);
		if (o == w && tid) {
			note(w, -100, 0);
			while (!__atomic_load_n(&hs->done, __ATOMIC_ACQUIRE))
				sys_yield();
			r.a[0] = (unsigned long)tid;
			call(w, SYS_THREAD_JOIN, &r);
			hs->tid = 0;
			return;
		}
		if (!tid || !__atomic_load_n(&hs->done, __ATOMIC_ACQUIRE))
			tid = 0x7ffffffe;
	} else {
		tid = (long)val_any(g);
	}
	/* The low 32 bits too: a kernel that cut the value would wait for
	 * a worker, for ever. */
	if (tid_forbidden(tid) || tid_forbidden((int)tid) ||
	    tid_forbidden((unsigned int)tid))
		tid = -1;
	r.a[0] = (unsigned long)tid;
	call(w, SYS_THREAD_JOIN, &r);
}

/* ---- children ---------------------------------------------------------- */

/*
 * A child is exit42 (it ends by itself: anyone may wait for it) or
 * ipcpeer (it may wait for ever: it is killed before anyone waits). An
 * entry of children[] is pid | kind << CHILD_KIND_SHIFT.
 */
#define CHILD_KIND_SHIFT	40
#define CHILD_PEER		(1L << CHILD_KIND_SHIFT)
#define CHILD_PID(c)		((c) & (CHILD_PEER - 1))

static bool child_slot_take(long c)
{
	for (int i = 0; i < CHILD_MAX; i++) {
		long z = 0;

		if (__atomic_compare_exchange_n(&children[i], &z, c, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static void child_slot_drop(long c)
{
	for (int i = 0; i < CHILD_MAX; i++) {
		long p = c;

		__atomic_compare_exchange_n(&children[i], &p, 0, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
}

static bool child_room(void)
{
	for (int i = 0; i < CHILD_MAX; i++)
		if (!__atomic_load_n(&children[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

/* Kill (an ipcpeer always) and wait for child entry @c. */
static void child_end(struct worker *w, long c, bool kill)
{
	struct regs r = { { (unsigned long)c } };

	if (kill || (c & CHILD_PEER))
		count(w, SYS_KILL, sys_kill(CHILD_PID(c)));
	/* -E_NOENT: another worker waited for it first. */
	note(w, SYS_WAIT, &r);
	count(w, SYS_WAIT, sys_wait(CHILD_PID(c)));
	child_slot_drop(c);
}

static void child_reap(struct worker *w, bool kill)
{
	if (w->child)
		child_end(w, w->child, kill);
	w->child = 0;
}

static const char *const names[] = {
	"exit42", "ipcpeer", "", "nosuch", "bin/exit42", "exit42/",
	"../exit42", "a-name-that-is-far-too-long-for-the-kernel-to-take",
	"EXIT42", "exit4", "exit422",
};

static const char *const arglists[] = {
	"", "one", "a b c", "   spaces   around   ",
	"x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x",
	"0123456789012345678901234567890123456789012345678901234567890123"
	"0123456789012345678901234567890123456789012345678901234567890123"
	"0123456789012345678901234567890123456789012345678901234567890123"
	"0123456789012345678901234567890123456789012345678901234567890123",
};

/* ipcpeer's modes (userland/apps/ipcpeer.c): it serves, never answers,
 * calls or waits for a call on the endpoint it is given, or maps a region
 * that endpoint pages and reads it (pager faults for us to answer). */
static const char *const peer_modes[] = {
	"echo", "noreply", "call", "recv", "touch",
};

static bool is_pair_ep(long h)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(pair_ep); i++)
		if (h == __atomic_load_n(&pair_ep[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

/* An endpoint for an ipcpeer that takes calls: a held one, never a
 * pair's (pair calls wait for ever, now and then: only workers, which
 * always answer in the end, may receive those), else a new one. */
static long h_endpoint(struct rng *g)
{
	long h;

	for (int i = 0; i < 4; i++) {
		h = h_real(g);
		if (h > 0 && !is_pair_ep(h) &&
		    sys_handle_info(h) >> 16 == HANDLE_T_ENDPOINT)
			return h;
	}
	h = sys_endpoint_create();
	reg_put(h);
	return h;
}

static void fuzz_spawn(struct worker *w, struct rng *g)
{
	struct regs r;
	long pid;
	bool real = !w->child && child_room() && chance(g, 40);
	bool peer = real && chance(g, 25);

	regs_fill(g, &r);
	r.a[0] = (unsigned long)names[2 + below(g, ARRAY_SIZE(names) - 2)];
	if (real) {
		r.a[0] = (unsigned long)names[peer];
	} else if (chance(g, 20)) {
		/* Not where a string of the program's or of the kernel's
		 * (process names in the arena) could name a program. */
		r.a[0] = addr_any(g, 32, false);
		if (in_fz(r.a[0], 1) || !may_change(r.a[0], 1))
			r.a[0] = KERNEL_VA;
	}
	switch (below(g, 4)) {
	case 0:
		r.a[1] = 0;
		break;
	case 1:
		r.a[1] = (unsigned long)arglists[below(g, ARRAY_SIZE(arglists))];
		break;
	case 2:
		r.a[1] = addr_any(g, 256, false);
		break;
	default:
		break;
	}
	switch (below(g, 5)) {
	case 0:
	case 1:
		r.a[2] = 0;
		r.a[3] = 0;
		break;
	case 2:		/* an arena region: copy-on-write in the child */
		r.a[2] = ARENA + below(g, ARENA_REGIONS) * ARENA_REGION;
		r.a[3] = ARENA_REGION;
		break;
	default:
		r.a[2] = addr_any(g, 0, false);
		r.a[3] = len_any(g);
		break;
	}
	r.a[4] = chance(g, 50) ? 0 : (unsigned long)h_any(g);
	if (peer) {
		/* One mode word (else it prints its usage) and an endpoint;
		 * the pair's for touch, whose faults the pair serves. */
		unsigned long m = below(g, ARRAY_SIZE(peer_modes));

		r.a[1] = (unsigned long)peer_modes[m];
		r.a[4] = (unsigned long)(m == 4 ? __atomic_load_n(
							  &pair_ep[w->id / 2],
							  __ATOMIC_RELAXED)
						: h_endpoint(g));
	}
	pid = call(w, SYS_SPAWN, &r);
	if (pid <= 0)
		return;
	/* Only names[0] and [1] can start a program; counted in. */
	if (!real || !child_slot_take(pid | (peer ? CHILD_PEER : 0))) {
		child_end(w, pid | CHILD_PEER, true);
		return;
	}
	w->child = pid | (peer ? CHILD_PEER : 0);
	w->child_age = 0;
}

/* A pid for KILL (@wait false) or WAIT: a child (ours or a sibling's;
 * for WAIT one that ends by itself), or a value that names nobody; never
 * 1, the program itself. */
static long pid_any(struct rng *g, bool wait)
{
	long pid;

	if (chance(g, 40)) {
		long c = __atomic_load_n(&children[below(g, CHILD_MAX)],
					 __ATOMIC_RELAXED);

		if (c && !(wait && (c & CHILD_PEER)))
			return CHILD_PID(c);
	}
	pid = (long)val_any(g);
	for (int i = 0; wait && i < CHILD_MAX; i++) {
		long c = __atomic_load_n(&children[i], __ATOMIC_RELAXED);

		if ((c & CHILD_PEER) && CHILD_PID(c) == pid)
			pid = 0;	/* it waits until it is killed */
	}
	return pid == 1 ? 0 : pid;
}

/* ---- IPC ----------------------------------------------------------------- */

static unsigned long info_any(struct rng *g, unsigned long *w3)
{
	unsigned long len, flags = 0;

	switch (below(g, 6)) {
	case 0:
	case 1:
	case 2:
		len = 0;
		break;
	case 3:
		len = below(g, 8);
		break;
	case 4:
		len = below(g, IPC_BUF_WORDS + 1);
		break;
	default:
		len = below(g, 1024);
		break;
	}
	if (chance(g, 25)) {
		flags |= IPC_INFO_HANDLE | IPC_INFO_GRANT(below(g, 256));
		*w3 = (unsigned long)h_any(g);
	}
	if (chance(g, 5))
		flags |= IPC_INFO_PAGE;
	if (chance(g, 5))
		flags |= IPC_INFO_HANDLE_DROPPED;
	if (chance(g, 5))
		flags |= rnd(g) & 0xffffffffUL & ~0x3ffUL;
	return IPC_INFO(below(g, 2) ? below(g, 16) : rnd(g), len, flags);
}

static unsigned long tmo_any(struct rng *g)
{
	switch (below(g, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		return IPC_POLL;
	case 6:
		return below(g, 1000) + 1;
	default:
		return MS / 10 + below(g, MS);
	}
}

/* What a successful receive or call brought: a handle to remember. */
static void got_msg(struct regs *r)
{
	if (r->a[1] & IPC_INFO_HANDLE)
		reg_put((long)r->a[5]);
}

/* Calls that meet: the pair's endpoint, a handle along with the message. */
static void pair_op(struct worker *w, struct rng *g, bool serve)
{
	long ep = __atomic_load_n(&pair_ep[w->id / 2], __ATOMIC_RELAXED);
	struct regs r;
	bool fault;
	long ret;

	regs_fill(g, &r);
	r.a[0] = (unsigned long)ep;
	if (serve) {
		r.a[1] = below(g, 2) ? IPC_POLL : MS / 2 + below(g, MS);
		ret = call(w, SYS_IPC_RECV, &r);
		if (ret == -E_BADH || ret == -E_PEER) {
			/* Closed by someone: a new one for the pair, unless
			 * the partner made one first. */
			long n = sys_endpoint_create();

			if (n > 0 && __atomic_compare_exchange_n(
					     &pair_ep[w->id / 2], &ep, n, false,
					     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				reg_put(n);
			else if (n > 0)
				sys_handle_close(n);
			return;
		}
		if (ret)
			return;
		got_msg(&r);
		w->ok_by[OP_PAIR_SERVE]++;
		fault = IPC_INFO_LABEL(r.a[1]) == PAGER_FAULT;
		r.a[0] = info_any(g, &r.a[4]);
		if (chance(g, 50)) {
			r.a[0] |= IPC_INFO_HANDLE |
				  IPC_INFO_GRANT(HANDLE_R_ALL);
			r.a[4] = (unsigned long)h_real(g);
		}
		r.a[0] &= ~(unsigned long)IPC_INFO_PAGE;
		if (fault && chance(g, 80)) {
			/* An ipcpeer's fault: a page of ours (the arena's
			 * may be gone; the scratch pages are not). */
			r.a[0] = IPC_INFO(0, 0, IPC_INFO_PAGE);
			r.a[1] = chance(g, 50) ? scratch + below(g, MAX_THREADS)
							       * PAGE_SIZE
					       : addr_any(g, 0, false);
		}
		call(w, SYS_IPC_REPLY, &r);
		return;
	}
	r.a[1] = info_any(g, &r.a[5]);
	r.a[1] &= ~(unsigned long)IPC_INFO_PAGE;
	if (chance(g, 50)) {
		r.a[1] |= IPC_INFO_HANDLE | IPC_INFO_GRANT(HANDLE_R_ALL);
		r.a[5] = (unsigned long)h_real(g);
	}
	r.a[6] = MS / 2 + below(g, 2 * MS);
	if (chance(g, 3)) {
		/* For ever: with no handle, or with this endpoint itself
		 * (the kernel must see that call is lost once the last
		 * other receive right goes). Not another endpoint: two calls
		 * carrying each other's receive right, queued, would keep
		 * each other waiting for ever (a cycle the kernel does not
		 * see; docs/abi.md). */
		r.a[6] = 0;
		if (r.a[1] & IPC_INFO_HANDLE)
			r.a[5] = (unsigned long)ep;
	}
	if (!call(w, SYS_IPC_CALL, &r)) {
		got_msg(&r);
		w->ok_by[OP_PAIR_CALL]++;
	}
}

/* ---- one call -------------------------------------------------------------- */


/* How often each call is made, relative to the others. */
static const unsigned char weight[OP_END] = {
	[SYS_DEBUG_WRITE] = 2, [SYS_YIELD] = 1, [SYS_GETPID] = 1,
	[SYS_CLOCK] = 1, [SYS_MAP] = 8, [SYS_UNMAP] = 6,
	[SYS_THREAD_CREATE] = 3, [SYS_THREAD_JOIN] = 2, [SYS_STATS] = 2,
	[SYS_SPAWN] = 2, [SYS_WAIT] = 2, [SYS_KILL] = 2, [SYS_SLEEP] = 1,
	[SYS_PROTECT] = 5, [SYS_HANDLE_CLOSE] = 5, [SYS_HANDLE_DUP] = 4,
	[SYS_HANDLE_INFO] = 3, [SYS_ENDPOINT_CREATE] = 4,
	[SYS_NOTIFY_CREATE] = 3, [SYS_NOTIFY_SIGNAL] = 3,
	[SYS_NOTIFY_WAIT] = 3, [SYS_IPC_CALL] = 6, [SYS_IPC_RECV] = 5,
	[SYS_IPC_REPLY] = 3, [SYS_IPC_REPLY_RECV] = 4, [SYS_IPC_BUFFER] = 3,
	[SYS_MAP_PAGER] = 3, [SYS_PAGER_EVICT] = 2, [SYS_DEBUG_READ] = 1,
	[SYS_PROC_INFO] = 2, [SYS_DEVICE_INFO] = 2, [SYS_DEVICE_MAP] = 2,
	[SYS_IRQ_BIND] = 2, [SYS_IRQ_ACK] = 1, [SYS_KLOG_READ] = 1,
	[SYS_KLOG_BIND] = 1, [SYS_PROC_FIND] = 2, [SYS_PROGRAM_INFO] = 2,
	[OP_PAIR_SERVE] = 2, [OP_PAIR_CALL] = 2, [OP_BADNR] = 3,
};
static unsigned int weight_sum;

static long pick_op(struct rng *g)
{
	unsigned long x = below(g, weight_sum);

	for (long op = 0; op < OP_END; op++) {
		if (x < weight[op])
			return op;
		x -= weight[op];
	}
	return SYS_YIELD;
}

static long bad_nr(struct rng *g)
{
	switch (below(g, 5)) {
	case 0:
		return SYS_NR + (long)below(g, 64);
	case 1:
		return -1 - (long)below(g, 64);
	case 2:		/* a real number in the upper half too */
		return (long)((1UL << (32 + below(g, 31))) | below(g, SYS_NR));
	case 3:
		return (long)(rnd(g) | (1UL << 63));
	default:
		return (long)(rnd(g) | (1UL << 40));
	}
}

static void fuzz_op(struct worker *w, long op);

static void fuzz_one(struct worker *w)
{
	long op = pick_op(&w->g), t0;

	if (!verbose) {
		fuzz_op(w, op);
		return;
	}
	t0 = sys_clock();
	fuzz_op(w, op);
	w->ns_by[op] += (unsigned long)(sys_clock() - t0);
}

static void fuzz_op(struct worker *w, long op)
{
	struct rng *g = &w->g;
	long ret, h;
	unsigned long len;
	struct regs r;

	regs_fill(g, &r);
	switch (op) {
	case SYS_DEBUG_WRITE:
		/* Nothing may reach the console: bad ranges, or 0 bytes. */
		if (chance(g, 20)) {
			r.a[0] = addr_any(g, 0, false);
			r.a[1] = 0;
		} else {
			static const unsigned long bad[] = {
				0, 1, KERNEL_VA, DIRECT_VA, USER_TOP, ~0UL,
				USER_TOP - 1, ~0UL - 7, 1UL << 63,
			};

			r.a[0] = bad[below(g, ARRAY_SIZE(bad))];
			if (r.a[0] == USER_TOP - 1 || r.a[0] == ~0UL - 7)
				r.a[1] = 2 + below(g, 64);
			else if (r.a[0] <= 1)
				r.a[1] = 1 + below(g, 64);
		}
		call(w, op, &r);
		return;
	case SYS_MAP:
	case SYS_MAP_PAGER:
		r.a[0] = map_addr(g);
		r.a[1] = len_any(g);
		r.a[2] = prot_any(g);
		r.a[3] = (unsigned long)h_any(g);
		if (chance(g, 50))
			r.a[4] = below(g, 4) * PAGE_SIZE;
		len = r.a[1];
		ret = call(w, op, &r);
		if (ret > 0)
			unmap_stray((unsigned long)ret, len);
		return;
	case SYS_UNMAP:
	case SYS_PROTECT:
		change_range(g, &r.a[0], &r.a[1]);
		r.a[2] = prot_any(g);
		call(w, op, &r);
		return;
	case SYS_THREAD_CREATE:
		fuzz_thread_create(w, g);
		return;
	case SYS_THREAD_JOIN:
		fuzz_thread_join(w, g);
		return;
	case SYS_STATS:
		r.a[0] = addr_any(g, sizeof(struct rivet_stats), true);
		call(w, op, &r);
		return;
	case SYS_SPAWN:
		fuzz_spawn(w, g);
		return;
	case SYS_WAIT:
		if (w->child && chance(g, 50)) {
			child_reap(w, false);
			return;
		}
		r.a[0] = (unsigned long)pid_any(g, true);
		call(w, op, &r);
		return;
	case SYS_KILL:
		r.a[0] = (unsigned long)(w->child && chance(g, 50)
						 ? CHILD_PID(w->child)
						 : pid_any(g, false));
		/* Mostly none, often KILL_TREE, now and then anything. */
		r.a[1] = chance(g, 30) ? KILL_TREE
			 : chance(g, 10) ? val_any(g) : 0;
		call(w, op, &r);
		return;
	case SYS_SLEEP:
		r.a[0] = below(g, 8) ? below(g, 100) : below(g, MS);
		call(w, op, &r);
		return;
	case SYS_HANDLE_CLOSE:
	case SYS_HANDLE_INFO:
		r.a[0] = (unsigned long)h_any(g);
		call(w, op, &r);
		return;
	case SYS_IRQ_ACK:
		r.a[0] = (unsigned long)h_dev(g);
		call(w, op, &r);
		return;
	case SYS_HANDLE_DUP:
		r.a[0] = (unsigned long)h_any(g);
		if (chance(g, 70))
			r.a[1] = below(g, 0x80);
		ret = call(w, op, &r);
		if (ret > 0)
			reg_put(ret);
		else if (ret == -E_NOMEM)
			purge(g);
		return;
	case SYS_ENDPOINT_CREATE:
	case SYS_NOTIFY_CREATE:
		ret = call(w, op, &r);
		if (ret > 0)
			reg_put(ret);
		else if (ret == -E_NOMEM)
			purge(g);
		return;
	case SYS_NOTIFY_SIGNAL:
		r.a[0] = (unsigned long)h_any(g);
		call(w, op, &r);
		return;
	case SYS_NOTIFY_WAIT:
		r.a[0] = (unsigned long)h_any(g);
		r.a[1] = tmo_any(g);
		call(w, op, &r);
		return;
	case SYS_IPC_CALL:
		r.a[0] = (unsigned long)h_any(g);
		r.a[1] = info_any(g, &r.a[5]);
		/* Not for ever: an ipcpeer may take the call and never
		 * answer until its owner kills it, and that may be us. */
		r.a[6] = tmo_any(g);
		if (!call(w, op, &r))
			got_msg(&r);
		return;
	case SYS_IPC_RECV:
		r.a[0] = (unsigned long)h_any(g);
		r.a[1] = tmo_any(g);
		if (!call(w, op, &r))
			got_msg(&r);
		return;
	case SYS_IPC_REPLY:
		r.a[0] = info_any(g, &r.a[4]);
		if (r.a[0] & IPC_INFO_PAGE)
			r.a[1] = addr_any(g, 0, false);
		call(w, op, &r);
		return;
	case SYS_IPC_REPLY_RECV:
		r.a[0] = (unsigned long)h_any(g);
		r.a[1] = info_any(g, &r.a[5]);
		if (r.a[1] & IPC_INFO_PAGE)
			r.a[2] = addr_any(g, 0, false);
		r.a[6] = tmo_any(g);
		if (!call(w, op, &r))
			got_msg(&r);
		return;
	case SYS_IPC_BUFFER:
		r.a[0] = chance(g, 10) ? 0 : addr_any(g, PAGE_SIZE, true);
		if (chance(g, 60))
			r.a[0] = ALIGN_DOWN(r.a[0], PAGE_SIZE);
		if (!may_write(r.a[0], PAGE_SIZE))
			r.a[0] = ARENA;
		call(w, op, &r);
		return;
	case SYS_PAGER_EVICT:
		r.a[0] = (unsigned long)h_any(g);
		r.a[1] = below(g, 4) * PAGE_SIZE;
		if (chance(g, 50)) {
			r.a[2] = below(g, 64) * PAGE_SIZE;
			r.a[3] = len_any(g);
		}
		call(w, op, &r);
		return;
	case SYS_DEBUG_READ:
		r.a[1] = below(g, 3) ? below(g, 128) : val_any(g);
		r.a[0] = addr_any(g, MIN(r.a[1], 64UL), true);
		/* Not waiting, mostly: it polls the console every tick. */
		r.a[2] = chance(g, 90) ? IPC_POLL : tmo_any(g);
		call(w, op, &r);
		return;
	case SYS_PROC_INFO:
	case SYS_PROC_FIND:
		if (chance(g, 70))	/* an index, or a pid, that may be */
			r.a[0] = chance(g, 50) ? below(g, 4)
					       : (unsigned long)pid_any(g, false);
		r.a[1] = addr_any(g, sizeof(struct rivet_proc_info), true);
		call(w, op, &r);
		return;
	case SYS_PROGRAM_INFO:
		/* An index that may be a program (tens of them), mostly;
		 * any buffer, any length. */
		if (chance(g, 70))
			r.a[0] = below(g, 40);
		r.a[2] = below(g, 3) ? below(g, SPAWN_NAME_MAX + 2) : len_any(g);
		r.a[1] = addr_any(g, MIN(r.a[2], SPAWN_NAME_MAX + 1UL), true);
		call(w, op, &r);
		return;
	case SYS_DEVICE_INFO:
		r.a[0] = (unsigned long)h_dev(g);
		r.a[1] = addr_any(g, sizeof(struct rivet_device_info), true);
		call(w, op, &r);
		return;
	case SYS_DEVICE_MAP: {
		struct rivet_device_info info;

		h = h_dev(g);
		r.a[0] = (unsigned long)h;
		r.a[1] = map_addr(g);
		ret = call(w, op, &r);
		if (ret > 0 && !sys_device_info(h, &info))
			unmap_stray((unsigned long)ret, info.size);
		return;
	}
	case SYS_IRQ_BIND:
		r.a[0] = (unsigned long)h_dev(g);
		r.a[1] = (unsigned long)h_any(g);
		call(w, op, &r);
		return;
	case SYS_KLOG_READ:
		r.a[1] = below(g, 3) ? below(g, 512) : val_any(g);
		r.a[0] = addr_any(g, MIN(r.a[1], 256UL), true);
		call(w, op, &r);
		return;
	case SYS_KLOG_BIND:
		r.a[0] = (unsigned long)h_any(g);
		call(w, op, &r);
		return;
	case OP_PAIR_SERVE:
	case OP_PAIR_CALL:
		pair_op(w, g, op == OP_PAIR_SERVE);
		return;
	case OP_BADNR:
		call(w, bad_nr(g), &r);
		return;
	default:		/* yield, getpid, clock: any registers */
		call(w, op, &r);
		return;
	}
}

/* ---- workers ---------------------------------------------------------------- */

/* Between rounds of calls: reap what ended, now and then start over. */
static void maintain(struct worker *w)
{
	helpers_reap(w, false);
	if (w->child && ++w->child_age > 4)
		child_reap(w, chance(&w->g, 30));
	if (chance(&w->g, 1))
		zone_reset();
	/* Random closes take the device handles away: a new one now and
	 * then, from the check's own. */
	if (nprivate && chance(&w->g, 20))
		devreg_put(&w->g, sys_handle_dup(private_dev[below(&w->g,
								   nprivate)],
						 HANDLE_R_ALL));
}

/* Fault in the stack the worker will use, while memory is plenty: with
 * lowmem= a fault of ours later might find none, and that kills. */
static __attribute__((noinline)) void stack_touch(void)
{
	volatile char deep[48 << 10];

	for (size_t i = 0; i < sizeof(deep); i += PAGE_SIZE)
		deep[i] = 0;
}

static void worker_main(void *arg)
{
	struct worker *w = arg;

	stack_touch();
	w->ipcbuf = ipc_buffer_new();
	__atomic_fetch_add(&ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sys_yield();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 32; i++)
			fuzz_one(w);
		maintain(w);
		if (sys_clock() >= deadline)
			break;
	}
	child_reap(w, false);
	helpers_reap(w, true);
	sys_ipc_buffer(0);
	if (w->ipcbuf)
		sys_unmap(w->ipcbuf, PAGE_SIZE);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
}

/* ---- set-up and the check ----------------------------------------------------- */

static void usage(const char *why, const char *arg)
{
	printf("sysfuzz: %s%s%s%s\n", why, arg ? " '" : "", arg ? arg : "",
	       arg ? "'" : "");
	printf("usage: sysfuzz [seed=0..4294967295] [seconds=1..3600] "
	       "[threads=1..%d] [lowmem=0|64..1000000] [verbose=0|1]\n",
	       MAX_THREADS);
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		unsigned long *dst, lo = 1, hi;

		if (!strncmp(s, "seed=", 5)) {
			dst = &seed;
			s += 5;
			lo = 0;
			hi = 0xffffffffUL;
		} else if (!strncmp(s, "seconds=", 8)) {
			dst = &seconds;
			s += 8;
			hi = 3600;
		} else if (!strncmp(s, "threads=", 8)) {
			dst = &nthreads;
			s += 8;
			hi = MAX_THREADS;
		} else if (!strncmp(s, "lowmem=", 7)) {
			dst = &lowmem;
			s += 7;
			lo = 0;
			hi = 1000000;
		} else if (!strncmp(s, "verbose=", 8)) {
			dst = &verbose;
			s += 8;
			lo = 0;
			hi = 1;
		} else {
			usage("not a key=N word:", argv[i]);
			return -1;
		}
		if (!bench_number(s, lo, hi, dst) ||
		    (dst == &lowmem && lowmem && lowmem < 64)) {
			usage("value out of range:", argv[i]);
			return -1;
		}
	}
	return 0;
}

static bool dev_safe(const struct rivet_device_info *d)
{
	return !d->console && (!strcmp(d->compatible, "virtio,mmio") ||
			       !strcmp(d->compatible, "google,goldfish-rtc"));
}

/*
 * The devices the first process holds (HANDLE_SPAWN, +1, ...): the safe
 * ones stay as they are, with a private copy for the check; the others
 * keep only GRANT and DUP.
 */
static void devices_setup(void)
{
	long devs[DEV_MAX];
	unsigned int n = 0;

	/* All of them first: the copies made below go into later slots. */
	for (long h = HANDLE_SPAWN; h < HANDLE_SPAWN + DEV_MAX; h++)
		if (sys_handle_info(h) >> 16 == HANDLE_T_DEVICE)
			devs[n++] = h;
	for (unsigned int i = 0; i < n; i++) {
		struct rivet_device_info info;
		long h = devs[i], d;

		if (sys_device_info(h, &info))
			continue;
		if (dev_safe(&info)) {
			d = sys_handle_dup(h, HANDLE_R_ALL);
			if (d > 0 && nprivate < DEV_MAX)
				private_dev[nprivate++] = d;
			devreg_put(0, h);
			continue;
		}
		d = sys_handle_dup(h, HANDLE_R_GRANT | HANDLE_R_DUP);
		sys_handle_close(h);
		devreg_put(0, d);
	}
}

/*
 * Bind the log and every safe device's interrupt to one new notification,
 * replacing what the run bound: before the run, so that the frames counted
 * then hold the same one object as after.
 */
static void bindings_reset(void)
{
	long n = sys_notify_create();

	if (n <= 0)
		return;
	sys_klog_bind(n, 0);
	for (unsigned int i = 0; i < nprivate; i++)
		sys_irq_bind(private_dev[i], n, 0);
	sys_handle_close(n);
}

static void close_all(void)
{
	for (int i = 0; i < HSLOTS; i++) {
		long h = __atomic_exchange_n(&reg[i], 0, __ATOMIC_RELAXED);

		if (h)
			sys_handle_close(h);
	}
}

/* Free frames, or 0. */
static unsigned long free_frames(void)
{
	static struct rivet_stats st;

	return sys_stats(&st) ? 0 : st.free_frames;
}

/*
 * Until every worker has finished: a worker in a pair call without a
 * timeout gets its answer here (main receives on every endpoint it knows
 * of, or the partner answers), one in a call an ipcpeer took when it is
 * killed. A worker still
 * busy after HANG_NS is reported, with the call it is in, once; the wait
 * goes on (a kernel that lost a wake-up hangs here, with the report).
 */
#define HANG_NS		(20000 * MS)

static void wait_finished(void)
{
	long t0 = sys_clock();
	bool told = false;

	for (;;) {
		unsigned long done = 0;

		for (unsigned long t = 0; t < nthreads; t++)
			done += (unsigned long)__atomic_load_n(
				&workers[t].finished, __ATOMIC_ACQUIRE);
		if (done == nthreads)
			return;
		/* Every endpoint we know of, not only the pairs' now: a
		 * pair call may wait on one its pair has since replaced. */
		for (int i = 0; i < HSLOTS; i++) {
			struct ipc_msg m = { 0 };
			long ep = __atomic_load_n(&reg[i], __ATOMIC_RELAXED);

			while (ep && ipc_recv(ep, &m, IPC_POLL) == 0) {
				m = (struct ipc_msg){ 0 };
				ipc_reply(&m);
			}
		}
		for (int i = 0; i < CHILD_MAX; i++) {
			long c = __atomic_load_n(&children[i],
						 __ATOMIC_RELAXED);

			if (c & CHILD_PEER)
				sys_kill(CHILD_PID(c));
		}
		if (!told && sys_clock() - t0 > (long)HANG_NS) {
			told = true;
			for (unsigned long t = 0; t < nthreads; t++) {
				struct worker *w = &workers[t];

				if (__atomic_load_n(&w->finished,
						    __ATOMIC_ACQUIRE))
					continue;
				printf("sysfuzz: worker %lu (tid %ld) has not "
				       "finished %lu s after the end: in call "
				       "%ld (%#lx %#lx %#lx %#lx %#lx %#lx "
				       "%#lx)\n", t, w->tid, HANG_NS / 1000 / MS,
				       w->now_nr, w->now_a[0], w->now_a[1],
				       w->now_a[2], w->now_a[3], w->now_a[4],
				       w->now_a[5], w->now_a[6]);
			}
		}
		sys_sleep(5 * MS);
	}
}

/*
 * lowmem=F: take memory until about F frames are left, so the run's calls
 * meet an allocator that fails now and then. Held in a region of the
 * program's own (below FZ_BASE), faulted in page by page.
 */
static void ballast_take(void)
{
	unsigned long f = free_frames(), n;

	if (f <= lowmem)
		return;
	n = f - lowmem;
	ballast = (unsigned long)sys_map(0, n * PAGE_SIZE,
					 PROT_READ | PROT_WRITE);
	if ((long)ballast < 0) {
		printf("sysfuzz: lowmem: no region of %lu pages (%s)\n", n,
		       errno_name((int)ballast));
		return;
	}
	ballast_len = n * PAGE_SIZE;
	for (unsigned long i = 0; i < n; i++) {
		if (i % 16 == 0 && free_frames() <= lowmem)
			break;
		*(volatile char *)(ballast + i * PAGE_SIZE) = 1;
	}
	if (verbose)
		printf("sysfuzz: lowmem: %lu frames free\n", free_frames());
}

static void report(void)
{
	unsigned long calls = 0, ok = 0, other = 0, err[E_MSGSIZE + 1] = { 0 };
	unsigned long ok_by[OP_END] = { 0 };
	char line[PRINTF_MAX - 64];
	size_t n = 0;

	for (unsigned long t = 0; t < nthreads; t++) {
		struct worker *w = &workers[t];

		calls += w->calls;
		ok += w->ok;
		other += w->other;
		for (int e = 0; e <= E_MSGSIZE; e++)
			err[e] += w->err[e];
		for (int c = 0; c < OP_END; c++)
			ok_by[c] += w->ok_by[c];
	}
	line[0] = 0;
	for (int e = 1; e <= E_MSGSIZE; e++)
		if (err[e] && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " %s=%lu", errno_name(-e),
					      err[e]);
	printf("\nsysfuzz seed=%lu threads=%lu seconds=%lu calls=%lu ok=%lu "
	       "errors=%lu%s other=%lu\n", seed, nthreads, seconds, calls, ok,
	       calls - ok - other, line, other);
	n = 0;
	line[0] = 0;
	for (int c = 0; c < OP_END; c++)
		if (n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " %d=%lu", c, ok_by[c]);
	printf("sysfuzz ok-by-call:%s\n", line);
	for (int c = 0; verbose && c < OP_END; c++) {
		unsigned long ns = 0;

		n = 0;
		line[0] = 0;
		for (unsigned long t = 0; t < nthreads; t++) {
			ns += workers[t].ns_by[c];
			for (int e = 1; c < SYS_NR && e <= E_MSGSIZE; e++)
				err[e] = (t ? err[e] : 0) +
					 workers[t].err_by[c][e];
		}
		for (int e = 1; c < SYS_NR && e <= E_MSGSIZE; e++)
			if (err[e] && n < sizeof(line))
				n += (size_t)snprintf(line + n,
						      sizeof(line) - n,
						      " %s=%lu", errno_name(-e),
						      err[e]);
		printf("sysfuzz op %d: ms=%lu ok=%lu%s\n", c, ns / MS,
		       ok_by[c], line);
	}
}

static bool check(unsigned long free0)
{
	unsigned long free1, sum;
	long pid, status = -999, leaked;
	bool good;

	/* Children a worker left (it was stopped while waiting). */
	for (int i = 0; i < CHILD_MAX; i++)
		if (children[i]) {
			sys_kill(CHILD_PID(children[i]));
			sys_wait(CHILD_PID(children[i]));
			children[i] = 0;
		}
	close_all();
	sys_unmap((void *)FZ_BASE, FZ_SIZE);
	sys_unmap((void *)mini_stacks, nthreads * HELPERS * MINI_STACK);
	sys_unmap((void *)scratch, SCRATCH_SIZE);
	bindings_reset();
	free1 = free_frames();
	sum = text_checksum();
	pid = sys_spawn("exit42", 0);
	if (pid > 0)
		status = sys_wait(pid);
	leaked = (long)free0 - (long)free1;
	good = status == 42 && leaked <= LEAK_SLACK && free1 && sum == text_sum;
	printf("sysfuzz check: exit42=%ld free_before=%lu free_after=%lu "
	       "leaked=%ld text=%s: %s\n", pid > 0 ? status : pid, free0,
	       free1, leaked, sum == text_sum ? "same" : "CHANGED",
	       good ? "ok" : "FAILED");
	return good;
}

int main(int argc, char **argv)
{
	static struct rivet_stats st;
	unsigned long free0;
	long pid = sys_getpid();

	if (parse(argc, argv))
		return 2;
	if (sys_stats(&st))
		return 3;
	nharts = st.nharts;
	if (!nthreads)
		nthreads = MIN((unsigned long)nharts, (unsigned long)MAX_THREADS);
	if (pid != 1)
		printf("sysfuzz: running as pid %ld, not as init: the run may "
		       "disturb other processes\n", pid);
	own_init();
	text_sum = text_checksum();
	for (long op = 0; op < OP_END; op++)
		weight_sum += weight[op];

	devices_setup();
	if (verbose) {
		struct rivet_proc_info pi;
		struct rivet_device_info di;

		printf("sysfuzz: proc_info(0) %ld, device_info(0x101) %ld, "
		       "%u private device handles\n",
		       sys_proc_info(0, &pi), sys_device_info(HANDLE_SPAWN, &di),
		       nprivate);
	}
	bindings_reset();
	free0 = free_frames();

	mini_stacks = (unsigned long)sys_map(0, nthreads * HELPERS * MINI_STACK,
					     PROT_READ | PROT_WRITE);
	scratch = (unsigned long)sys_map(0, SCRATCH_SIZE,
					 PROT_READ | PROT_WRITE);
	if ((long)mini_stacks < 0 || (long)scratch < 0) {
		printf("sysfuzz: no memory for stacks (%s)\n",
		       errno_name((int)mini_stacks));
		return 3;
	}
	for (unsigned long p = 0; p < (nthreads + 1) / 2; p++) {
		pair_ep[p] = sys_endpoint_create();
		reg_put(pair_ep[p]);
	}
	arena_map();
	for (unsigned long t = 0; t < nthreads; t++) {
		struct worker *w = &workers[t];

		w->id = (unsigned int)t;
		rng_init(&w->g, seed, t + 1);
		for (int i = 0; i < HELPERS; i++)
			w->helpers[i].stack = mini_stacks +
					      (t * HELPERS + i + 1) * MINI_STACK;
	}
	/* Every worker is counted in (tid_forbidden) before any runs. */
	for (unsigned long t = 0; t < nthreads; t++) {
		workers[t].tid = thread_spawn(worker_main, &workers[t],
					      (int)(t % nharts));
		if (workers[t].tid < 0) {
			printf("sysfuzz: thread %lu: %s\n", t,
			       errno_name((int)workers[t].tid));
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
			nthreads = t;
			break;
		}
	}
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < (int)nthreads)
		sys_yield();
	/* What the kernel writes into, and the short-lived threads' stacks:
	 * there from now on (lowmem=). */
	for (unsigned long a = 0; a < SCRATCH_SIZE; a += PAGE_SIZE)
		*(volatile char *)(scratch + a) = 0;
	for (unsigned long a = 0; a < nthreads * HELPERS * MINI_STACK;
	     a += PAGE_SIZE)
		*(volatile char *)(mini_stacks + a) = 0;
	if (lowmem)
		ballast_take();
	deadline = sys_clock() + (long)(seconds * 1000 * MS);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	while (sys_clock() < deadline && !__atomic_load_n(&stop,
							  __ATOMIC_RELAXED))
		sys_sleep(50 * MS);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	wait_finished();
	close_all();
	for (unsigned long t = 0; t < nthreads; t++)
		thread_join(workers[t].tid);
	if (ballast_len)
		sys_unmap((void *)ballast, ballast_len);
	report();
	return check(free0) ? 0 : 1;
}
