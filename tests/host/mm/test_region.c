/*
 * test_region.c - the region table under 8 pthread harts, both locking
 * modes (run under ThreadSanitizer as well as ASan):
 *
 *   hart 0      protects region P to read-only and back, and after every
 *               read-only protect checks that no page of P is writable
 *               (a fault racing a protect sees the old or the new
 *               rights, and the pages end with the new ones);
 *   hart 1      tears region B down and builds it again, and in between
 *               cuts a hole into it, which moves B's tail to another slot
 *               (the tail stays a region throughout the cut);
 *   harts 2, 3  read and write P: reads always succeed, writes succeed or
 *               fail with -E_FAULT (read-only at that moment);
 *   harts 4, 5  fault in B's tail whenever hart 1 says it is up: such a
 *               fault must succeed, even while the tail changes slot;
 *   harts 6, 7  fault in regions of their own nobody changes: they must
 *               always succeed and never look again (mm_region_retries
 *               stays 0: other regions' changes do not disturb them).
 *
 * Afterwards: as_check() clean, every frame back after as_destroy().
 */
#include "mm_test.h"
#include "../../../kernel/mm/mm_internal.h"
#include <kern/errno.h>
#include <kern/printf.h>

#include <stdarg.h>

#define P		PAGE_SIZE
#define RW		(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define RO		(AS_PROT_R | AS_PROT_USER)
#define REGION_P	0x10000000UL	/* 64 pages, protected back and forth */
#define P_PAGES		64
#define REGION_B	0x20000000UL	/* 32 pages, cut and rebuilt */
#define B_PAGES		32
#define B_HOLE		4		/* hole: pages [4, 8) */
#define B_TAIL		8		/* tail: pages [8, 32) */
#define OWN_BASE	0x30000000UL	/* harts 6, 7: 16 pages each */
#define OWN_PAGES	16
#define PLACE		0x40000000UL	/* placeholders while B is rebuilt */

struct region_arg {
	struct as *as;
	uint64_t deadline;
	uint64_t seed;
	unsigned int ready;		/* atomic: start line */
	unsigned int stop;		/* atomic: harts 0 and 1 are done */
	unsigned int b_epoch;		/* atomic: even while B's tail is up */
	unsigned int bad;		/* atomic */
	unsigned long ops[MM_HARTS];
	unsigned long tail_faults;	/* atomic: checked tail faults */
	char why[MM_HARTS][160];
};

static void fail(struct region_arg *a, unsigned int id, const char *fmt,
		 ...)
{
	va_list ap;

	if (__atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED) < 64 &&
	    !a->why[id][0]) {
		va_start(ap, fmt);
		vsnprintf(a->why[id], sizeof(a->why[id]), fmt, ap);
		va_end(ap);
	}
}

static void protect_churn(struct region_arg *a, unsigned int id)
{
	for (unsigned long i = 0; mm_now() < a->deadline && !a->why[id][0];
	     i++) {
		int err = as_region_protect(a->as, REGION_P, P_PAGES * P, RO);

		if (err)
			fail(a, id, "protect P read-only: %d", err);
		for (unsigned int j = 0; j < P_PAGES; j++) {
			unsigned int prot;

			if (as_lookup(a->as, REGION_P + j * P, NULL, &prot) ==
				    0 &&
			    (prot & AS_PROT_W))
				fail(a, id, "round %lu: page %u of P writable "
				     "after a read-only protect", i, j);
		}
		host_hart_poll();
		err = as_region_protect(a->as, REGION_P, P_PAGES * P, RW);
		if (err)
			fail(a, id, "protect P read-write: %d", err);
		host_hart_poll();
		a->ops[id]++;
	}
}

/* Stay a while (B's faulters need it up longer than one of their slow
 * scans), serving cross-hart calls. */
static void linger(unsigned int us)
{
	uint64_t until = mm_now() + us * 1000ULL;

	while (mm_now() < until)
		host_hart_poll();
}

static void cut_churn(struct region_arg *a, unsigned int id)
{
	for (unsigned long i = 0; mm_now() < a->deadline && !a->why[id][0];
	     i++) {
		int err;

		/* Down (odd epoch: faults in the tail may fail)... */
		__atomic_add_fetch(&a->b_epoch, 1, __ATOMIC_SEQ_CST);
		err = as_region_unmap(a->as, REGION_B, B_PAGES * P);
		if (err)
			fail(a, id, "unmap B: %d", err);
		/* Two placeholders take the lowest free slots while B is
		 * added above them, then go: the cut's reservation and new
		 * tail slot then come before B's slot (a reader scanning
		 * upwards can see the tail's slot before it is filled and
		 * B's after it shrank: the miss that must be confirmed under
		 * the lock). */
		err = as_region_add(a->as, PLACE, P, RW) ?:
		      as_region_add(a->as, PLACE + 2 * P, P, RW) ?:
		      as_region_add(a->as, REGION_B, B_PAGES * P, RW) ?:
		      as_region_unmap(a->as, PLACE, 4 * P);
		if (err)
			fail(a, id, "rebuilding B: %d", err);
		/* ...up again (even: a tail fault must succeed)... */
		__atomic_add_fetch(&a->b_epoch, 1, __ATOMIC_SEQ_CST);
		linger(300);
		/* ...and cut a hole while the tail stays up. */
		err = as_region_unmap(a->as, REGION_B + B_HOLE * P,
				      (B_TAIL - B_HOLE) * P);
		if (err)
			fail(a, id, "cut B: %d", err);
		if (as_fault(a->as, REGION_B + B_HOLE * P, AS_ACCESS_READ) !=
		    -E_FAULT)
			fail(a, id, "fault in B's hole did not fail");
		if (as_fault(a->as, REGION_B, AS_ACCESS_WRITE) != 0)
			fail(a, id, "fault in B's head failed");
		linger(300);
		a->ops[id]++;
	}
}

static void p_faulter(struct region_arg *a, unsigned int id, uint64_t *rng)
{
	uint64_t r = host_rand(rng);
	vaddr_t va = REGION_P + (r % P_PAGES) * P;
	bool write = (r >> 16) & 1;
	int err = as_fault(a->as, va, write ? AS_ACCESS_WRITE : AS_ACCESS_READ);

	if (write ? err && err != -E_FAULT : err)
		fail(a, id, "%s fault at %#lx in P: %d", write ? "write" : "read",
		     (unsigned long)va, err);
	/* Unmap now and then, so that faults keep filling absent pages. */
	if ((r >> 20) % 64 == 0)
		as_unmap(a->as, va, P);
}

static void tail_faulter(struct region_arg *a, unsigned int id,
			 uint64_t *rng)
{
	uint64_t r = host_rand(rng);
	vaddr_t va = REGION_B + (B_TAIL + r % (B_PAGES - B_TAIL)) * P;
	unsigned int e0, e1;
	int err;

	e0 = __atomic_load_n(&a->b_epoch, __ATOMIC_SEQ_CST);
	if (e0 & 1) {
		arch_cpu_relax();	/* B is down: wait for it */
		return;
	}
	err = as_fault(a->as, va, AS_ACCESS_WRITE);
	e1 = __atomic_load_n(&a->b_epoch, __ATOMIC_SEQ_CST);
	if (e0 == e1 && !(e0 & 1)) {
		/* The tail was a region for the whole fault. */
		if (err)
			fail(a, id, "fault at %#lx in B's tail (epoch %u): "
			     "%d", (unsigned long)va, e0, err);
		__atomic_fetch_add(&a->tail_faults, 1, __ATOMIC_RELAXED);
	} else if (err && err != -E_FAULT) {
		fail(a, id, "fault at %#lx in B: %d", (unsigned long)va, err);
	}
	if ((r >> 20) % 8 == 0)
		as_unmap(a->as, va, P);
}

static void own_faulter(struct region_arg *a, unsigned int id, uint64_t *rng)
{
	uint64_t r = host_rand(rng);
	vaddr_t base = OWN_BASE + (id - 6) * 2 * OWN_PAGES * P;
	vaddr_t va = base + (r % OWN_PAGES) * P;
	int err = as_fault(a->as, va, (r >> 16) & 1 ? AS_ACCESS_WRITE
						    : AS_ACCESS_READ);

	if (err)
		fail(a, id, "fault at %#lx in a quiet region: %d",
		     (unsigned long)va, err);
	if ((r >> 20) % 16 == 0)
		as_unmap(a->as, va, P);
}

/* B's tail faulters scan the region table slowly (MM_RACE_REGION_SCAN
 * stretches the gap after each slot), so they often read the tail's new
 * slot before a cut fills it and B's slot after the cut shrank it. */
static void stretch(int where)
{
	uint64_t until;

	if (where != MM_RACE_REGION_SCAN ||
	    (this_hart()->id != 4 && this_hart()->id != 5))
		return;
	until = mm_now() + 20000;
	while (mm_now() < until)
		;		/* busy: a yield would sleep for a whole slice */
}

static void region_worker(unsigned int id, void *p)
{
	struct region_arg *a = p;
	uint64_t rng = a->seed ^ ((id + 101) * 0x9e3779b97f4a7c15ULL);

	as_activate(a->as);
	__atomic_fetch_add(&a->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&a->ready, __ATOMIC_ACQUIRE) < MM_HARTS) {
		host_hart_poll();
		arch_cpu_relax();
	}
	if (id <= 1) {
		if (id == 0)
			protect_churn(a, id);
		else
			cut_churn(a, id);
		__atomic_fetch_add(&a->stop, 1, __ATOMIC_RELEASE);
	} else {
		while (__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) < 2 &&
		       !a->why[id][0]) {
			if (id <= 3)
				p_faulter(a, id, &rng);
			else if (id <= 5)
				tail_faulter(a, id, &rng);
			else
				own_faulter(a, id, &rng);
			a->ops[id]++;
			host_hart_poll();
		}
	}
	as_deactivate();
}

static void region_churn(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct region_arg a = { .seed = host_seed() };
	uint64_t start, ns;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, REGION_P, P_PAGES * P, RW), 0);
	KT_ASSERT_EQ(as_region_add(a.as, REGION_B, B_PAGES * P, RW), 0);
	for (unsigned int i = 0; i < 2; i++)
		KT_ASSERT_EQ(as_region_add(a.as,
					   OWN_BASE + i * 2 * OWN_PAGES * P,
					   OWN_PAGES * P, RW),
			     0);
	mm_counters_reset();
	a.deadline = mm_deadline(1500);
	__atomic_store_n(&host_race_hook, stretch, __ATOMIC_RELAXED);
	ns = mm_smp_run(MM_HARTS, region_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	for (int i = 0; i < MM_HARTS; i++)
		if (a.why[i][0])
			KT_INFO("hart %d: %s", i, a.why[i]);
	KT_EXPECT_EQ(a.bad, 0);
	KT_INFO("seed=%lu, %lu ms: %lu protect rounds, %lu cut rounds, "
		"%lu/%lu/%lu faults in P/B/own regions, %lu checked tail "
		"faults, %lu retries",
		host_seed(), (unsigned long)(ns / 1000000), a.ops[0], a.ops[1],
		a.ops[2] + a.ops[3], a.ops[4] + a.ops[5], a.ops[6] + a.ops[7],
		a.tail_faults, (unsigned long)mm_hart_sum(mm_region_retries));
	/* Work happened on every side... */
	KT_EXPECT(a.ops[0] > 0 && a.ops[1] > 0);
	KT_EXPECT(a.ops[6] > 0 && a.ops[7] > 0);
	/* ...and the quiet regions' faults never had to look again. */
	KT_EXPECT_EQ(harts[6].mm_region_retries, 0);
	KT_EXPECT_EQ(harts[7].mm_region_retries, 0);
	KT_EXPECT_EQ(as_check(a.as), 0);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(region_churn_split)
{
	region_churn(kt, PTLOCK_SPLIT);
}

KTEST(region_churn_single)
{
	region_churn(kt, PTLOCK_SINGLE);
}

/* Single-threaded edges of the table: cuts, the reservation, slots. */
KTEST(region_table_edges)
{
	struct as *as;
	unsigned long v;

	KT_ASSERT_EQ(mm_setup(16), 0);
	as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_region_add(as, 0x100000, 16 * P, RW), 0);
	KT_EXPECT_EQ(as_fault(as, 0x100000 + 15 * P, AS_ACCESS_WRITE), 0);
	/* A hole cuts the region in two; both halves still fault. */
	KT_EXPECT_EQ(as_region_unmap(as, 0x100000 + 4 * P, 4 * P), 0);
	KT_EXPECT_EQ(as->nregions, 2);
	KT_EXPECT_EQ(as_fault(as, 0x100000 + 5 * P, AS_ACCESS_READ), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, 0x100000 + 3 * P, AS_ACCESS_READ), 0);
	KT_EXPECT_EQ(as_fault(as, 0x100000 + 8 * P, AS_ACCESS_READ), 0);
	/* The page mapped before the cut is still there, in the tail. */
	KT_EXPECT_EQ(as_lookup(as, 0x100000 + 15 * P, NULL, NULL), 0);
	/* Protect takes whole regions only. */
	KT_EXPECT_EQ(as_region_protect(as, 0x100000, 2 * P, RO), -E_INVAL);
	KT_EXPECT_EQ(as_region_protect(as, 0x100000 + 4 * P, 4 * P, RO),
		     -E_NOENT);
	KT_EXPECT_EQ(as_region_protect(as, 0x100000, 16 * P, RO), 0);
	KT_EXPECT_EQ(as_fault(as, 0x100000 + 9 * P, AS_ACCESS_WRITE),
		     -E_FAULT);
	/* The hole can be a region again. */
	KT_EXPECT_EQ(as_region_add(as, 0x100000 + 4 * P, 4 * P, RW), 0);
	KT_EXPECT_EQ(as_region_add(as, 0x100000 + 4 * P, P, RW), -E_EXIST);
	/* One unmap over all three, holes around them fine. */
	KT_EXPECT_EQ(as_region_unmap(as, 0x100000 - 4 * P, 24 * P), 0);
	KT_EXPECT_EQ(as->nregions, 0);
	KT_EXPECT_EQ(as_count_user(as), 0);
	/* Fill every slot: a cut or a trim then has no slot to reserve its
	 * range with and refuses, changing nothing; ending a region whole
	 * reuses that region's slot. */
	for (int i = 0; i < AS_MAX_REGIONS; i++)
		KT_ASSERT_EQ(as_region_add(as, 0x1000000 + i * 8 * P, 4 * P,
					   RW),
			     0);
	KT_EXPECT_EQ(as_region_add(as, 0x4000000, P, RW), -E_NOMEM);
	v = as_region_version(as);
	KT_EXPECT_EQ(as_region_unmap(as, 0x1000000 + P, P), -E_NOMEM);
	KT_EXPECT_EQ(as_region_unmap(as, 0x1000000, P), -E_NOMEM);
	KT_EXPECT_EQ(as_region_version(as), v);
	KT_EXPECT_EQ(as->nregions, AS_MAX_REGIONS);
	KT_EXPECT_EQ(as_region_unmap(as, 0x1000000 - P, 6 * P), 0);
	KT_EXPECT_EQ(as->nregions, AS_MAX_REGIONS - 1);
	KT_EXPECT_EQ(as_fault(as, 0x1000000, AS_ACCESS_READ), -E_FAULT);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
}

/* Protecting a copy-on-write region keeps its pages copy-on-write: a
 * protect that grants W must not make a shared frame writable. */
KTEST(region_protect_keeps_cow)
{
	struct as *src, *dst;
	paddr_t pa_src, pa_dst;
	unsigned int prot;

	KT_ASSERT_EQ(mm_setup(16), 0);
	src = as_create(PTLOCK_SPLIT);
	dst = as_create(PTLOCK_SPLIT);
	KT_ASSERT(src && dst);
	KT_ASSERT_EQ(as_region_add(src, 0x100000, 4 * P, RW), 0);
	KT_ASSERT_EQ(as_fault(src, 0x100000, AS_ACCESS_WRITE), 0);
	KT_ASSERT_EQ(as_cow_share(src, dst, 0x100000, 4 * P), 0);
	KT_EXPECT_EQ(as_region_protect(dst, 0x100000, 4 * P, RO), 0);
	KT_EXPECT_EQ(as_region_protect(dst, 0x100000, 4 * P, RW), 0);
	KT_EXPECT_EQ(as_region_protect(src, 0x100000, 4 * P, RW), 0);
	KT_ASSERT_EQ(as_lookup(dst, 0x100000, &pa_dst, &prot), 0);
	KT_EXPECT(!(prot & AS_PROT_W));
	KT_ASSERT_EQ(as_lookup(src, 0x100000, &pa_src, &prot), 0);
	KT_EXPECT(!(prot & AS_PROT_W));
	KT_EXPECT_EQ(pa_src, pa_dst);
	/* A write still copies. */
	KT_EXPECT_EQ(as_fault(dst, 0x100000, AS_ACCESS_WRITE), 0);
	KT_ASSERT_EQ(as_lookup(dst, 0x100000, &pa_dst, &prot), 0);
	KT_EXPECT(prot & AS_PROT_W);
	KT_EXPECT(pa_dst != pa_src);
	KT_EXPECT_EQ(as_check(src), 0);
	KT_EXPECT_EQ(as_check(dst), 0);
	as_destroy(dst);
	as_destroy(src);
}

/* Pager-backed regions: faults come back to the caller, the page it
 * brings is installed once, cuts keep each page's offset in the object,
 * eviction unmaps only that object's pages, and every pager reference
 * taken is given back. */
extern long host_pager_refs;

KTEST(region_pager)
{
	static int pager;	/* any address names a fake pager */
	struct as_fault_info pf;
	vaddr_t va = 0;
	struct frame *f;
	struct as *as;
	long refs0 = host_pager_refs;

	KT_ASSERT_EQ(mm_setup(16), 0);
	as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_region_add_at(as, &va, 8 * P, RW, &pager, 7,
				      0x1000000),
		     0);
	KT_EXPECT_EQ(va, 0x1000000);
	KT_EXPECT_EQ(host_pager_refs, refs0 + 1);
	/* Picking again skips the region and its guard page. */
	vaddr_t va2 = 0;

	KT_ASSERT_EQ(as_region_add_at(as, &va2, P, RW, NULL, 0, 0x1000000),
		     0);
	KT_EXPECT_EQ(va2, 0x1000000 + 9 * P);
	/* Plain as_fault cannot wait for a pager. */
	KT_EXPECT_EQ(as_fault(as, va + 3 * P, AS_ACCESS_READ), -E_FAULT);
	KT_ASSERT_EQ(as_fault_ex(as, va + 3 * P, AS_ACCESS_WRITE, &pf),
		     AS_FAULT_PAGER);
	KT_EXPECT(pf.pager == &pager && pf.key == 7 && pf.offset == 3 * P);
	KT_EXPECT_EQ(host_pager_refs, refs0 + 2);	/* the caller's */
	as_pager_ref(pf.pager, NULL, -1);
	f = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
	KT_ASSERT(f);
	/* Its first reference stands for the pager's own mapping; the
	 * second travels with the answer and the mapping takes it. */
	__atomic_fetch_add(&f->refcount, 1, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(as_install_pager_page(as, f, &pf), 0);
	KT_EXPECT_EQ(as_install_pager_page(as, f, &pf), -E_EXIST);
	KT_EXPECT_EQ(as_fault(as, va + 3 * P, AS_ACCESS_WRITE), 0);
	/* A cut: the tail's pages keep their offsets in the object. */
	KT_EXPECT_EQ(as_region_unmap(as, va + P, P), 0);
	KT_EXPECT_EQ(host_pager_refs, refs0 + 2);	/* head and tail */
	KT_ASSERT_EQ(as_fault_ex(as, va + 5 * P, AS_ACCESS_READ, &pf),
		     AS_FAULT_PAGER);
	KT_EXPECT_EQ(pf.offset, 5 * P);
	as_pager_ref(pf.pager, NULL, -1);
	/* A stale fault (the region changed since) is refused. */
	struct as_fault_info old = pf;

	KT_EXPECT_EQ(as_region_protect(as, va + 2 * P, 6 * P, RO), 0);
	KT_EXPECT_EQ(as_install_pager_page(as, f, &old), -E_AGAIN);
	/* Eviction of the object's page 3 (and a range with nothing). */
	KT_EXPECT_EQ(as_pager_evict(as, &pager, 7, 3 * P, P), 1);
	KT_EXPECT_EQ(as_lookup(as, va + 3 * P, NULL, NULL), -E_NOENT);
	KT_EXPECT_EQ(as_pager_evict(as, &pager, 8, 0, 8 * P), 0);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(host_pager_refs, refs0);
	/* The mapping's reference went with the eviction; ours is left. */
	KT_EXPECT_EQ(f->refcount, 1);
	frame_free(f);
}

KTEST_SUITE(region_suite, "mm_region", KTEST_CASE(region_table_edges),
	    KTEST_CASE(region_protect_keeps_cow), KTEST_CASE(region_pager),
	    KTEST_CASE(region_churn_split), KTEST_CASE(region_churn_single));
