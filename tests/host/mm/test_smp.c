/*
 * test_smp.c - one address space, 8 pthread harts, both locking modes:
 *
 *   disjoint  each hart maps, unmaps, protects and faults in its own
 *             4 MiB (two leaf tables) and checks every result against a
 *             private shadow of its range;
 *   overlap   all harts do the same on one shared 4 MiB range that
 *             straddles three leaf tables, so leaf tables come and go
 *             under walkers (the split-mode unlink and re-walk path);
 *   faults    all harts fault the same 256 pages at once: exactly one
 *             frame per page ends up mapped, the losers free theirs;
 *   regions   hart 0 adds regions while the others fault in them (the
 *             lockless region lookup against its writer).
 *
 * After each run: as_check() clean, mapped pages and nr_pt exact, every frame
 * back after as_destroy(), no shootdown or cross-hart call made with
 * interrupts off, and the lock statistics show which lock carried the
 * load (printed as KTAP diagnostics).
 */
#include "mm_test.h"
#include <arch/memlayout.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>
#include <mm/tlb.h>

#include <stdlib.h>

#define P		PAGE_SIZE
#define MEGA		(2UL << 20)
#define RW		(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define RO		(AS_PROT_R | AS_PROT_USER)
#define SPAN_PAGES	1024		/* 4 MiB per hart or shared */
#define BASE		0x40000000UL	/* all inside one level-1 table */

struct smp_arg {
	struct as *as;
	unsigned long ops;
	uint64_t deadline;			/* mm_now() to stop at */
	unsigned long done;			/* atomic: ops done */
	uint64_t seed;
	vaddr_t base;
	unsigned int bad;			/* atomic */
	char why[MM_HARTS][160];		/* first failure of each hart */
	unsigned long mapped[MM_HARTS];		/* disjoint: pages left */
	unsigned int leaves[MM_HARTS];		/* disjoint: leaves left */
	unsigned int ready;			/* atomic: start line */
};

/* All harts leave together (the barrier in mm_smp_run wakes them one by
 * one, slowly under the sanitizers): each arrives, then spins. */
static void start_line(struct smp_arg *a)
{
	__atomic_fetch_add(&a->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&a->ready, __ATOMIC_ACQUIRE) < MM_HARTS) {
		host_hart_poll();
		arch_cpu_relax();
	}
}

static void fail(struct smp_arg *a, unsigned int id, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED) < 64 &&
	    !a->why[id][0]) {
		va_start(ap, fmt);
		vsnprintf(a->why[id], sizeof(a->why[id]), fmt, ap);
		va_end(ap);
	}
}

static const char *opname[] = { "map", "unmap", "protect", "fault" };

/* ---- disjoint ranges, checked against a shadow -------------------------- */

static bool shadow_page_ok(struct smp_arg *a, unsigned int id, vaddr_t base,
			   const uint8_t *sh, unsigned int j, unsigned long i,
			   const char *what)
{
	unsigned int got = 0;
	int err = as_lookup(a->as, base + (vaddr_t)j * P, NULL, &got);

	if (sh[j] ? err || got != sh[j] : err != -E_NOENT) {
		fail(a, id, "hart %u op %lu (%s): page %#lx lookup %d prot "
		     "%#x, shadow %#x", id, i, what,
		     (unsigned long)(base + (vaddr_t)j * P), err, got, sh[j]);
		return false;
	}
	return true;
}

/* Check [lo, hi): all of it if it is the span, else its ends and middle. */
static bool shadow_ok(struct smp_arg *a, unsigned int id, vaddr_t base,
		      const uint8_t *sh, unsigned int lo, unsigned int hi,
		      unsigned long i, const char *what)
{
	if (hi - lo == SPAN_PAGES) {
		for (unsigned int j = lo; j < hi; j++)
			if (!shadow_page_ok(a, id, base, sh, j, i, what))
				return false;
		return true;
	}
	return shadow_page_ok(a, id, base, sh, lo, i, what) &&
	       shadow_page_ok(a, id, base, sh, hi - 1, i, what) &&
	       shadow_page_ok(a, id, base, sh, lo + (hi - lo) / 2, i, what);
}

static void disjoint_worker(unsigned int id, void *p)
{
	struct smp_arg *a = p;
	const vaddr_t base = a->base + (vaddr_t)id * SPAN_PAGES * P;
	uint64_t rng = a->seed ^ ((id + 1) * 0x9e3779b97f4a7c15ULL);
	static _Thread_local uint8_t sh[SPAN_PAGES];	/* prot, 0 unmapped */
	unsigned long left = 0;

	memset(sh, 0, sizeof(sh));
	as_activate(a->as);
	start_line(a);
	unsigned long i;

	for (i = 0; i < a->ops && !a->why[id][0] && mm_now() < a->deadline;
	     i++) {
		uint64_t r = host_rand(&rng);
		unsigned int pg = r % SPAN_PAGES, op = (r >> 12) % 4;
		unsigned int k = 1 + (r >> 16) % 32;
		unsigned int prot = (r >> 24) & 1 ? RW : RO;
		vaddr_t va;
		int err, want = 0;

		if (op == 1 && (r >> 28) % 8 == 0) {	/* a whole leaf */
			pg &= ~511u;
			k = 512;
		}
		k = MIN(k, SPAN_PAGES - pg);
		va = base + (vaddr_t)pg * P;
		switch (op) {
		case 0:
			for (unsigned int j = pg; j < pg + k; j++)
				if (sh[j])
					want = -E_EXIST;
			err = as_map_anon(a->as, va, k * P, prot);
			if (!err)
				memset(&sh[pg], prot, k);
			break;
		case 1:
			err = as_unmap(a->as, va, k * P);
			if (!err)
				memset(&sh[pg], 0, k);
			break;
		case 2:
			err = as_protect(a->as, va, k * P, prot);
			for (unsigned int j = pg; j < pg + k && !err; j++)
				if (sh[j])
					sh[j] = prot;
			break;
		default:
			k = 1;
			if ((r >> 25) & 1) {
				want = sh[pg] && !(sh[pg] & AS_PROT_W) ?
					       -E_FAULT : 0;
				err = as_fault(a->as, va, AS_ACCESS_WRITE);
			} else {
				err = as_fault(a->as, va, AS_ACCESS_READ);
			}
			if (!err && !sh[pg])
				sh[pg] = RW;	/* the region's rights */
			break;
		}
		if (err != want) {
			fail(a, id, "hart %u op %lu: %s(%#lx, %u pages) = %d, "
			     "expected %d", id, i, opname[op],
			     (unsigned long)va, k, err, want);
			break;
		}
		/* The ends and one page inside; now and then the whole
		 * span (every lookup takes the lock a single-mode space
		 * shares, so checking all would measure only that). */
		if (!shadow_ok(a, id, base, sh, pg, pg + k, i, opname[op]) ||
		    (i % 512 == 511 &&
		     !shadow_ok(a, id, base, sh, 0, SPAN_PAGES, i, "sweep")))
			break;
		host_hart_poll();
	}
	__atomic_fetch_add(&a->done, i, __ATOMIC_RELAXED);
	if (!a->why[id][0])
		shadow_ok(a, id, base, sh, 0, SPAN_PAGES, i, "final");
	/* Odd harts clean up (their leaves must go), even ones leave their
	 * pages to as_destroy. */
	if (id & 1) {
		if (as_unmap(a->as, base, SPAN_PAGES * P))
			fail(a, id, "hart %u: final unmap failed", id);
		memset(sh, 0, sizeof(sh));
	}
	for (unsigned int l = 0; l < SPAN_PAGES / 512; l++) {
		bool any = false;

		for (unsigned int j = l * 512; j < (l + 1) * 512; j++)
			if (sh[j]) {
				any = true;
				left++;
			}
		a->leaves[id] += any;
	}
	a->mapped[id] = left;
	as_deactivate();
}

/* Lock statistics of the run, and what each mode must show. */
static void lock_report(struct ktest_ctx *kt, enum ptlock_mode mode,
			uint64_t ns)
{
	struct lockstat pt, as, fr;

	lockstat_sum(LOCK_CLASS_PT, &pt);
	lockstat_sum(LOCK_CLASS_AS, &as);
	lockstat_sum(LOCK_CLASS_FRAME, &fr);
	if (mode == PTLOCK_SPLIT) {
		KT_EXPECT(pt.acquired > 0);
	} else {
		KT_EXPECT_EQ(pt.acquired, 0);
		KT_EXPECT(as.acquired > 0);
	}
	KT_INFO("%s: %lu ms; pt locks %lu acquired %lu contended %lu us; "
		"as locks %lu acquired %lu contended %lu us; frame pool %lu "
		"contended", ptlock_mode_name(mode),
		(unsigned long)(ns / 1000000), (unsigned long)pt.acquired,
		(unsigned long)pt.contended,
		(unsigned long)(pt.wait_ticks / 1000),
		(unsigned long)as.acquired, (unsigned long)as.contended,
		(unsigned long)(as.wait_ticks / 1000),
		(unsigned long)fr.contended);
	KT_INFO("shootdowns %lu (full %lu), syncs %lu, xcalls %lu; calls "
		"served by signal %lu, at poll %lu, while waiting %lu",
		(unsigned long)tlb_stats.shootdowns,
		(unsigned long)tlb_stats.full, (unsigned long)tlb_stats.syncs,
		(unsigned long)host_mm_stats.xcalls,
		(unsigned long)host_mm_stats.served_signal,
		(unsigned long)host_mm_stats.served_poll,
		(unsigned long)host_mm_stats.served_wait);
	KT_EXPECT_EQ(host_mm_stats.xcall_irqoff, 0);
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
}

static bool report_failures(struct ktest_ctx *kt, struct smp_arg *a)
{
	for (int i = 0; i < MM_HARTS; i++)
		if (a->why[i][0])
			KT_INFO("%s", a->why[i]);
	return KT_EXPECT_EQ(a->bad, 0);
}

static void disjoint(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct smp_arg a = { .ops = mm_ops(3000), .seed = host_seed(),
			     .base = BASE };
	uint64_t start, ns, pages = 0, leaves = 0;

	KT_ASSERT_EQ(mm_setup(96), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	for (int i = 0; i < MM_HARTS; i++)
		KT_ASSERT_EQ(as_region_add(a.as, BASE + (vaddr_t)i *
						 SPAN_PAGES * P,
					   SPAN_PAGES * P, RW), 0);
	mm_counters_reset();
	a.deadline = mm_deadline(1500);
	ns = mm_smp_run(MM_HARTS, disjoint_worker, &a);
	KT_INFO("seed=%lu: %lu of %d x %lu ops done", host_seed(), a.done,
		MM_HARTS, a.ops);
	report_failures(kt, &a);
	for (int i = 0; i < MM_HARTS; i++) {
		pages += a.mapped[i];
		leaves += a.leaves[i];
	}
	KT_EXPECT_EQ(as_check(a.as), 0);
	KT_EXPECT_EQ(as_count_user(a.as), pages);
	/* root + one level-1 table + exactly the leaves still in use (no
	 * level-1 table once no leaf is left) */
	KT_EXPECT_EQ(a.as->nr_pt, leaves ? 2 + leaves : 1);
	KT_EXPECT(tlb_stats.shootdowns > 0);
	lock_report(kt, mode, ns);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(smp_disjoint_split)
{
	disjoint(kt, PTLOCK_SPLIT);
}

KTEST(smp_disjoint_single)
{
	disjoint(kt, PTLOCK_SINGLE);
}

/* ---- one shared range --------------------------------------------------- */

static void overlap_worker(unsigned int id, void *p)
{
	struct smp_arg *a = p;
	uint64_t rng = a->seed ^ ((id + 11) * 0x9e3779b97f4a7c15ULL);

	as_activate(a->as);
	start_line(a);
	unsigned long i;

	for (i = 0; i < a->ops && !a->why[id][0] && mm_now() < a->deadline;
	     i++) {
		uint64_t r = host_rand(&rng);
		unsigned int pg = r % SPAN_PAGES, op = (r >> 12) % 5;
		unsigned int k = 1 + (r >> 16) % 16;
		unsigned int prot = (r >> 24) & 1 ? RW : RO, got;
		vaddr_t va;
		int err;

		k = MIN(k, SPAN_PAGES - pg);
		va = a->base + (vaddr_t)pg * P;
		switch (op) {
		case 0:
			err = as_map_anon(a->as, va, k * P, prot);
			if (err && err != -E_EXIST)
				fail(a, id, "hart %u: map %#lx+%u: %d", id,
				     (unsigned long)va, k, err);
			break;
		case 1:
			if ((r >> 28) % 4 == 0) {
				/* The whole middle leaf: its table goes. */
				va = ALIGN_UP(a->base, MEGA);
				k = 512;
			}
			err = as_unmap(a->as, va, k * P);
			if (err)
				fail(a, id, "hart %u: unmap: %d", id, err);
			break;
		case 2:
			err = as_protect(a->as, va, k * P, prot);
			if (err)
				fail(a, id, "hart %u: protect: %d", id, err);
			break;
		case 3:
			err = as_fault(a->as, va, (r >> 25) & 1 ?
					   AS_ACCESS_WRITE : AS_ACCESS_READ);
			if (err && err != -E_FAULT)
				fail(a, id, "hart %u: fault %#lx: %d", id,
				     (unsigned long)va, err);
			break;
		default:
			for (unsigned int j = 0; j < k; j++) {
				err = as_lookup(a->as, va + j * P, NULL, &got);
				if (err ? err != -E_NOENT
					: got != RW && got != RO)
					fail(a, id, "hart %u: lookup %#lx: "
					     "%d prot %#x", id,
					     (unsigned long)(va + j * P), err,
					     got);
			}
			break;
		}
		host_hart_poll();
	}
	__atomic_fetch_add(&a->done, i, __ATOMIC_RELAXED);
	as_deactivate();
}

static void overlap(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	/* 1 MiB below a 2 MiB boundary: three leaf tables. */
	struct smp_arg a = { .ops = mm_ops(3000), .seed = host_seed(),
			     .base = BASE + MEGA / 2 };
	uint64_t start, ns, pages = 0, leaves = 0;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, a.base, SPAN_PAGES * P, RW), 0);
	mm_counters_reset();
	a.deadline = mm_deadline(1500);
	ns = mm_smp_run(MM_HARTS, overlap_worker, &a);
	KT_INFO("seed=%lu: %lu of %d x %lu ops done", host_seed(), a.done,
		MM_HARTS, a.ops);
	report_failures(kt, &a);
	KT_EXPECT_EQ(as_check(a.as), 0);
	for (vaddr_t l = ALIGN_DOWN(a.base, MEGA);
	     l < a.base + SPAN_PAGES * P; l += MEGA) {
		bool any = false;

		for (vaddr_t v = l; v < l + MEGA; v += P)
			if (as_lookup(a.as, v, NULL, NULL) == 0) {
				any = true;
				pages++;
			}
		leaves += any;
	}
	KT_EXPECT_EQ(as_count_user(a.as), pages);
	KT_EXPECT_EQ(a.as->nr_pt, 2 + leaves);
	KT_EXPECT(tlb_stats.syncs > 0);	/* leaf tables were freed */
	lock_report(kt, mode, ns);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(smp_overlap_split)
{
	overlap(kt, PTLOCK_SPLIT);
}

KTEST(smp_overlap_single)
{
	overlap(kt, PTLOCK_SINGLE);
}

/* ---- faults racing on the same pages ------------------------------------ */

#define RACE_PAGES	256

static void fault_worker(unsigned int id, void *p)
{
	struct smp_arg *a = p;
	uint64_t rng = a->seed ^ ((id + 21) * 0x9e3779b97f4a7c15ULL);
	unsigned int order[RACE_PAGES];

	for (unsigned int i = 0; i < RACE_PAGES; i++)
		order[i] = i;
	/* Half the harts go in address order (head-on races), half in a
	 * random order of their own. */
	if (id & 1)
		for (unsigned int i = RACE_PAGES; i > 1; i--) {
			unsigned int j = host_rand(&rng) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
	as_activate(a->as);
	for (unsigned int i = 0; i < RACE_PAGES; i++) {
		vaddr_t va = a->base + (vaddr_t)order[i] * P;
		int err;

		/* Every hart takes step i together: the address-order
		 * harts hit one page at the same moment. */
		__atomic_fetch_add(&a->ready, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&a->ready, __ATOMIC_ACQUIRE) <
		       (i + 1) * MM_HARTS) {
			host_hart_poll();
			arch_cpu_relax();
		}
		err = as_fault(a->as, va + (i % 7) * 8,
			       (i + id) & 1 ? AS_ACCESS_WRITE :
					      AS_ACCESS_READ);

		if (err)
			fail(a, id, "hart %u: fault %#lx: %d", id,
			     (unsigned long)va, err);
		host_hart_poll();
	}
	as_deactivate();
}

static int cmp_pa(const void *x, const void *y)
{
	paddr_t a = *(const paddr_t *)x, b = *(const paddr_t *)y;

	return a < b ? -1 : a > b;
}

static void fault_race(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	/* 256 pages around a 2 MiB boundary: two leaves. */
	struct smp_arg a = { .seed = host_seed(),
			     .base = BASE + MEGA - RACE_PAGES / 2 * P };
	static paddr_t pas[RACE_PAGES];
	uint64_t start, base_free, ns = 0;
	int rounds = (int)mm_ops(3000) / 600 + 1;
	long lost = 0;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, a.base, RACE_PAGES * P, RW), 0);
	base_free = frame_free_count();
	a.deadline = mm_deadline(1000);
	for (int round = 0; round < rounds; round++) {
		bool distinct = true;

		a.seed = host_seed() + round;
		a.ready = 0;
		mm_counters_reset();
		ns += mm_smp_run(MM_HARTS, fault_worker, &a);
		if (!report_failures(kt, &a))
			break;
		for (int i = 0; i < RACE_PAGES; i++) {
			unsigned int prot = 0;

			pas[i] = 0;
			KT_EXPECT_EQ(as_lookup(a.as, a.base + i * P, &pas[i],
					       &prot), 0);
			KT_EXPECT_EQ(prot, RW);
			KT_EXPECT_EQ(pa_to_frame(pas[i])->user.mapcount, 1);
		}
		qsort(pas, RACE_PAGES, sizeof(pas[0]), cmp_pa);
		for (int i = 1; i < RACE_PAGES; i++)
			distinct &= pas[i] != pas[i - 1];
		KT_EXPECT(distinct);
		KT_EXPECT_EQ(as_check(a.as), 0);
		KT_EXPECT_EQ(as_count_user(a.as), RACE_PAGES);
		KT_EXPECT_EQ(a.as->nr_pt, 4);	/* root, level 1, 2 leaves */
		/* One frame per page and the tables: the losers' frames
		 * went back (to their harts' caches, which count). */
		KT_EXPECT_EQ(frame_free_count(), base_free - RACE_PAGES - 3);
		KT_EXPECT_EQ(mm_hart_sum(mm_faults),
			     (uint64_t)MM_HARTS * RACE_PAGES);
		KT_EXPECT_EQ(mm_hart_sum(mm_spurious),
			     (uint64_t)(MM_HARTS - 1) * RACE_PAGES);
		KT_EXPECT_EQ(mm_hart_sum(mm_ad_fixups), 0);
		if (mode == PTLOCK_SPLIT) {
			struct lockstat pt;

			/* A fault takes the leaf lock once to look and once
			 * more if it allocated a frame: what is left over
			 * the winners are the losers' frames. */
			lockstat_sum(LOCK_CLASS_PT, &pt);
			lost += pt.acquired - MM_HARTS * RACE_PAGES -
				RACE_PAGES;
		}
		if (round == rounds - 1)
			lock_report(kt, mode, ns);
		KT_EXPECT_EQ(as_unmap(a.as, a.base, RACE_PAGES * P), 0);
		/* The level-1 table went with the last leaf. */
		KT_EXPECT_EQ(a.as->nr_pt, 1);
		KT_EXPECT_EQ(frame_free_count(), base_free);
		if (mm_now() > a.deadline && round + 1 < rounds) {
			rounds = round + 1;	/* out of time */
			lock_report(kt, mode, ns);
		}
	}
	if (mode == PTLOCK_SPLIT)
		KT_INFO("seed=%lu rounds=%d: about %ld faults lost the race "
			"and freed their frame", host_seed(), rounds, lost);
	else
		KT_INFO("seed=%lu rounds=%d", host_seed(), rounds);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(smp_fault_race_split)
{
	fault_race(kt, PTLOCK_SPLIT);
}

KTEST(smp_fault_race_single)
{
	fault_race(kt, PTLOCK_SINGLE);
}

/* ---- regions added while other harts fault ----------------------------- */

#define NREG		24
#define REG_PAGES	16
#define REG_BASE	0x10000000UL

static vaddr_t reg_va(unsigned int i)
{
	return REG_BASE + (vaddr_t)i * 4 * REG_PAGES * P;
}

static void region_worker(unsigned int id, void *p)
{
	struct smp_arg *a = p;
	uint64_t rng = a->seed ^ ((id + 31) * 0x9e3779b97f4a7c15ULL);

	as_activate(a->as);
	start_line(a);
	if (id == 0) {
		/* a->ops counts the regions published so far (release). */
		for (unsigned int i = 0; i < NREG; i++) {
			int err = as_region_add(a->as, reg_va(i),
						REG_PAGES * P, RW);

			if (err)
				fail(a, id, "region_add %u: %d", i, err);
			__atomic_store_n(&a->ops, i + 1, __ATOMIC_RELEASE);
			for (int k = 0; k < 20; k++) {
				host_hart_poll();
				arch_cpu_relax();
			}
		}
	} else {
		unsigned long n;

		do {
			uint64_t r = host_rand(&rng);
			unsigned int i = r % NREG, pg = (r >> 8) % REG_PAGES;
			int err;

			n = __atomic_load_n(&a->ops, __ATOMIC_ACQUIRE);
			err = as_fault(a->as, reg_va(i) + pg * P,
				       AS_ACCESS_READ);
			/* A region published before the fault began must
			 * be found; a later one may or may not be. */
			if (i < n ? err != 0 : err && err != -E_FAULT)
				fail(a, id, "fault in region %u (%lu "
				     "published): %d", i, n, err);
			host_hart_poll();
		} while (n < NREG);
	}
	as_deactivate();
}

KTEST(smp_region_add_vs_faults)
{
	struct smp_arg a = { .seed = host_seed() };
	uint64_t start, ns;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	a.as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(a.as);
	mm_counters_reset();
	ns = mm_smp_run(MM_HARTS, region_worker, &a);
	report_failures(kt, &a);
	KT_EXPECT_EQ(a.as->nregions, NREG);
	KT_EXPECT_EQ(as_check(a.as), 0);
	KT_INFO("seed=%lu: %lu faults (%lu spurious) in %lu ms", host_seed(),
		(unsigned long)mm_hart_sum(mm_faults),
		(unsigned long)mm_hart_sum(mm_spurious),
		(unsigned long)(ns / 1000000));
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/*
 * Faults populating a fresh 2 MiB span while another hart unmaps that span
 * over and over (which frees its empty leaf table at once): the walker
 * must notice that the table it just installed is gone and walk again.
 * (Found by the userland race test: a NULL table in pt_leaf_lock.)
 */
#define PF_VA	0x20000000UL

static void populate_worker(unsigned int id, void *p)
{
	struct smp_arg *a = p;
	uint64_t rng = a->seed ^ ((id + 7) * 0x9e3779b97f4a7c15ULL);

	as_activate(a->as);
	start_line(a);
	if (id == 0) {
		for (int i = 0; i < 3000; i++) {
			int err = as_unmap(a->as, PF_VA, SV39_MEGA);

			if (err)
				fail(a, id, "unmap: %d", err);
			host_hart_poll();
		}
		__atomic_store_n(&a->ops, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&a->ops, __ATOMIC_ACQUIRE)) {
			unsigned int pg = host_rand(&rng) % 8;
			int err = as_fault(a->as, PF_VA + pg * P,
					   AS_ACCESS_WRITE);

			if (err)
				fail(a, id, "fault: %d", err);
			host_hart_poll();
		}
	}
	as_deactivate();
}

static void run_populate(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct smp_arg a = { .seed = host_seed() };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, PF_VA, SV39_MEGA, RW), 0);
	mm_smp_run(MM_HARTS, populate_worker, &a);
	report_failures(kt, &a);
	KT_EXPECT_EQ(as_check(a.as), 0);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(smp_populate_vs_unmap_split)
{
	run_populate(kt, PTLOCK_SPLIT);
}

KTEST(smp_populate_vs_unmap_single)
{
	run_populate(kt, PTLOCK_SINGLE);
}

KTEST_SUITE(smp_suite, "mm_smp", KTEST_CASE(smp_disjoint_split),
	    KTEST_CASE(smp_disjoint_single), KTEST_CASE(smp_overlap_split),
	    KTEST_CASE(smp_overlap_single), KTEST_CASE(smp_fault_race_split),
	    KTEST_CASE(smp_fault_race_single),
	    KTEST_CASE(smp_region_add_vs_faults),
	    KTEST_CASE(smp_populate_vs_unmap_split),
	    KTEST_CASE(smp_populate_vs_unmap_single));
