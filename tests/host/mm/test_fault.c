/*
 * test_fault.c - the demand-zero fault's one walk (kernel/mm/as.c,
 * as_fault_ex): a fault finds a leaf table without a lock, keeps
 * interrupts off while it looks up its region and allocates, then locks
 * that table. Here another hart empties the span meanwhile, so the table
 * is unlinked between the find and the lock (MM_RACE_FAULT_LOCK holds the
 * fault there, interrupts off, until the unlink is seen):
 *
 *   - the fault must notice (pt_leaf_find_lock re-checks the parent
 *     entry), free its frame and look again: with the region still there
 *     it maps the page in a new table; with the region unmapped it fails
 *     with -E_FAULT;
 *   - the unlinked table must not be freed while the fault still has
 *     interrupts off (tlb_sync_all waits for it);
 *   - afterwards as_check() is clean and every frame comes back.
 *
 * Both locking modes; run under ThreadSanitizer as well as ASan.
 *
 * fault_level1_unlinked_split: a fault that walked through a level-1
 * table and is about to populate a leaf entry of it (MM_RACE_POPULATE,
 * interrupts off) while another hart unmaps the last page of that 1 GiB,
 * so the level-1 table is unlinked. populate must see the root entry
 * changed and walk again: the page ends in a new level-1 table, and the
 * old one is freed empty. (Single mode holds as->lock across the walk,
 * so there the unmap cannot come in between.)
 *
 * fault_populate_region_gone_*, fault_pager_install_region_gone: tables
 * populated for a region that went meanwhile are given back at once, not
 * left for the next unmap of the range (docs/vm.md);
 * fault_populate_region_protected: a region that only changed keeps them.
 */
#include "mm_test.h"
#include "../../../kernel/mm/mm_internal.h"
#include <kern/errno.h>

#define P		PAGE_SIZE
#define RW		(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define SPAN		0x40000000UL	/* a 2 MiB span of its own */
#define GIB3		0xc0000000UL	/* a 1 GiB span of its own */

struct unlink_arg {
	struct as *as;
	int window;		/* MM_RACE_*: where hart 0's fault waits */
	vaddr_t fault_va;	/* hart 0 faults here */
	vaddr_t unmap_va;	/* and hart 1 unmaps unmap_len from here: */
	size_t unmap_len;
	bool remove_region;	/* as_region_unmap, else as_unmap */
	uint64_t nr_pt;		/* tables before the unlink */
	uint64_t drop;		/* tables the unlink takes (waited for) */
	unsigned int in_window;	/* atomic: the fault waits in the window */
	unsigned int saw_unlink; /* atomic: and saw the table go */
	unsigned int unmap_done; /* atomic */
	int rc;
};

static struct unlink_arg *unlink_case;	/* for the hook */

/* Hart 0's fault, first time in its window: wait (interrupts off, no
 * polling, as a real fault would) until hart 1 has unlinked the tables
 * (a->drop of them), at most 2 s. Hart 1's tlb_sync_all cannot finish
 * meanwhile. */
static void hold_fault(int where)
{
	struct unlink_arg *a = __atomic_load_n(&unlink_case, __ATOMIC_ACQUIRE);
	uint64_t until;

	if (!a || where != a->window || this_hart()->id != 0 ||
	    __atomic_exchange_n(&a->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	until = mm_now() + 2000000000ULL;
	while (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) + a->drop >
		       a->nr_pt && mm_now() < until)
		;
	if (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) + a->drop <=
	    a->nr_pt)
		__atomic_store_n(&a->saw_unlink, 1, __ATOMIC_RELEASE);
	/* The table is unlinked, not freed: that waits for this hart. */
	if (__atomic_load_n(&a->unmap_done, __ATOMIC_ACQUIRE))
		__atomic_store_n(&a->saw_unlink, 2, __ATOMIC_RELEASE);
}

static void unlink_worker(unsigned int id, void *p)
{
	struct unlink_arg *a = p;

	as_activate(a->as);
	if (id == 0) {
		a->rc = as_fault(a->as, a->fault_va, AS_ACCESS_WRITE);
	} else {
		mm_wait_flag(&a->in_window, 1);
		if (a->remove_region)
			as_region_unmap(a->as, a->unmap_va, a->unmap_len);
		else
			as_unmap(a->as, a->unmap_va, a->unmap_len);
		__atomic_store_n(&a->unmap_done, 1, __ATOMIC_RELEASE);
	}
	as_deactivate();
}

static void table_unlinked(struct ktest_ctx *kt, enum ptlock_mode mode,
			   bool remove_region)
{
	/* Page 0 goes: its leaf table (and the level-1 table: the span is
	 * alone in its 1 GiB) while the fault on page 1 waits to lock it. */
	struct unlink_arg a = { .window = MM_RACE_FAULT_LOCK,
				.fault_va = SPAN + P, .unmap_va = SPAN,
				.unmap_len = remove_region ? 2 * P : P,
				.remove_region = remove_region, .drop = 1 };
	uint64_t start;
	pte_t *pte;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, SPAN, 2 * P, RW), 0);
	/* Page 0 makes the span's leaf table; the fault below finds it. */
	KT_ASSERT_EQ(as_fault(a.as, SPAN, AS_ACCESS_WRITE), 0);
	a.nr_pt = __atomic_load_n(&a.as->nr_pt, __ATOMIC_RELAXED);
	__atomic_store_n(&unlink_case, &a, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, hold_fault, __ATOMIC_RELAXED);
	mm_smp_run(2, unlink_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&unlink_case, NULL, __ATOMIC_RELEASE);

	KT_EXPECT_EQ(a.in_window, 1);
	KT_EXPECT_EQ(a.saw_unlink, 1);	/* unlinked, and not freed yet */
	pte = mm_pte(a.as, SPAN + P);
	if (remove_region) {
		KT_EXPECT_EQ(a.rc, -E_FAULT);
		KT_EXPECT(!pte || !pte_is_valid(*pte));
	} else {
		KT_EXPECT_EQ(a.rc, 0);
		KT_EXPECT(pte && pte_is_valid(*pte));
		/* It lives in a new table: the old one was unlinked. */
		KT_EXPECT_EQ(a.as->nr_pt, a.nr_pt);
	}
	pte = mm_pte(a.as, SPAN);
	KT_EXPECT(!pte || !pte_is_valid(*pte));
	KT_EXPECT_EQ(as_check(a.as), 0);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(fault_table_unlinked_split)
{
	table_unlinked(kt, PTLOCK_SPLIT, false);
}

KTEST(fault_table_unlinked_single)
{
	table_unlinked(kt, PTLOCK_SINGLE, false);
}

KTEST(fault_region_gone_split)
{
	table_unlinked(kt, PTLOCK_SPLIT, true);
}

KTEST(fault_region_gone_single)
{
	table_unlinked(kt, PTLOCK_SINGLE, true);
}

KTEST(fault_level1_unlinked_split)
{
	/* The page 2 MiB on waits to populate the level-1 table's entry
	 * for its leaf table, while the other page's unmap empties that
	 * level-1 table: the leaf table and it go. */
	struct unlink_arg a = { .window = MM_RACE_POPULATE,
				.fault_va = GIB3 + SV39_MEGA, .unmap_va = GIB3,
				.unmap_len = P, .remove_region = true,
				.drop = 2 };
	uint64_t start;
	paddr_t pa;
	pte_t *pte;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(a.as);
	/* Two pages of one 1 GiB, 2 MiB apart: one level-1 table, and a
	 * leaf table for the first only; the fault below needs a leaf. */
	KT_ASSERT_EQ(as_region_add(a.as, GIB3, P, RW), 0);
	KT_ASSERT_EQ(as_region_add(a.as, GIB3 + SV39_MEGA, P, RW), 0);
	KT_ASSERT_EQ(as_fault(a.as, GIB3, AS_ACCESS_WRITE), 0);
	a.nr_pt = __atomic_load_n(&a.as->nr_pt, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(a.nr_pt, 3);
	__atomic_store_n(&unlink_case, &a, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, hold_fault, __ATOMIC_RELAXED);
	mm_smp_run(2, unlink_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&unlink_case, NULL, __ATOMIC_RELEASE);

	KT_EXPECT_EQ(a.in_window, 1);
	KT_EXPECT_EQ(a.saw_unlink, 1);
	KT_EXPECT_EQ(a.rc, 0);
	/* The page is reachable from the root: in a new level-1 table. */
	KT_EXPECT_EQ(as_lookup(a.as, GIB3 + SV39_MEGA, &pa, NULL), 0);
	pte = mm_pte(a.as, GIB3);
	KT_EXPECT(!pte || !pte_is_valid(*pte));
	KT_EXPECT_EQ(a.as->l1_freed, 1);
	KT_EXPECT_EQ(a.as->nr_pt, 3);
	KT_EXPECT_EQ(as_check(a.as), 0);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/*
 * A first touch whose region goes before the tables are populated: the
 * fault (hart 0, as_fault_ex as a user fault makes it) found no leaf
 * table, allocated its frame and waits at MM_RACE_FAULT_POPULATE while
 * hart 1 removes the region, whose unmap finds no table to clear. The
 * fault then populates both tables (the 1 GiB is empty), finds its region
 * changed, and must give them back, not leave them until the next unmap
 * of the range or the end of the address space.
 */
struct populate_arg {
	struct as *as;
	vaddr_t va;
	bool protect;		/* hart 1 makes the region read-only instead */
	unsigned int in_window;	/* atomic */
	unsigned int removed;	/* atomic */
	int rc;
};

static struct populate_arg *populate_case;

static void hold_populate(int where)
{
	struct populate_arg *a = __atomic_load_n(&populate_case,
						 __ATOMIC_ACQUIRE);

	if (!a || where != MM_RACE_FAULT_POPULATE || this_hart()->id != 0 ||
	    __atomic_exchange_n(&a->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	mm_wait_flag(&a->removed, 1);
}

static void populate_worker(unsigned int id, void *p)
{
	struct populate_arg *a = p;
	struct as_fault_info pf;

	as_activate(a->as);
	if (id == 0) {
		a->rc = as_fault_ex(a->as, a->va, AS_ACCESS_WRITE, &pf);
	} else {
		mm_wait_flag(&a->in_window, 1);
		if (a->protect)
			as_region_protect(a->as, a->va, P, AS_PROT_R |
							   AS_PROT_USER);
		else
			as_region_unmap(a->as, a->va, P);
		__atomic_store_n(&a->removed, 1, __ATOMIC_RELEASE);
	}
	as_deactivate();
}

static void populate_region_gone(struct ktest_ctx *kt, enum ptlock_mode mode,
				 bool protect)
{
	struct populate_arg a = { .va = GIB3, .protect = protect };
	uint64_t start, nr_pt;
	pte_t *pte;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	a.as = as_create(mode);
	KT_ASSERT(a.as);
	KT_ASSERT_EQ(as_region_add(a.as, GIB3, P, RW), 0);
	nr_pt = __atomic_load_n(&a.as->nr_pt, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(nr_pt, 1);		/* the root only */
	__atomic_store_n(&populate_case, &a, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, hold_populate, __ATOMIC_RELAXED);
	mm_smp_run(2, populate_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&populate_case, NULL, __ATOMIC_RELEASE);

	KT_EXPECT_EQ(a.in_window, 1);
	KT_EXPECT_EQ(a.rc, -E_FAULT);	/* gone, or read-only now */
	pte = mm_pte(a.as, GIB3);
	if (protect) {
		/* The region still holds the page: the tables stay for
		 * its next fault (a release would only cost a sync). */
		KT_EXPECT_EQ(a.as->nr_pt, nr_pt + 2);
		KT_EXPECT_EQ(a.as->l1_freed, 0);
		KT_EXPECT(pte && pte_is_none(*pte));
		KT_EXPECT_EQ(as_fault(a.as, GIB3, AS_ACCESS_READ), 0);
	} else {
		/* Both tables given back at once (before: 3, until
		 * as_destroy). */
		KT_EXPECT_EQ(a.as->nr_pt, nr_pt);
		KT_EXPECT_EQ(a.as->l1_freed, 1);
		KT_EXPECT(!pte);
	}
	KT_EXPECT_EQ(as_check(a.as), 0);
	as_destroy(a.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(fault_populate_region_gone_split)
{
	populate_region_gone(kt, PTLOCK_SPLIT, false);
}

KTEST(fault_populate_region_gone_single)
{
	populate_region_gone(kt, PTLOCK_SINGLE, false);
}

KTEST(fault_populate_region_protected)
{
	populate_region_gone(kt, PTLOCK_SPLIT, true);
}

/* The same for a pager's page: the region changed between the fault and
 * the install, which populated the tables for nothing (-E_AGAIN). */
KTEST(fault_pager_install_region_gone)
{
	static int pager;	/* any address names a fake pager */
	struct as_fault_info pf;
	uint64_t start, nr_pt;
	vaddr_t va = GIB3;
	struct frame *f;
	struct as *as;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_region_add_at(as, &va, P, RW, &pager, 1, GIB3), 0);
	nr_pt = __atomic_load_n(&as->nr_pt, __ATOMIC_RELAXED);
	KT_ASSERT_EQ(as_fault_ex(as, va, AS_ACCESS_WRITE, &pf),
		     AS_FAULT_PAGER);
	as_pager_ref(pf.pager, NULL, -1);
	KT_EXPECT_EQ(as->nr_pt, nr_pt);	/* a pager fault populates nothing */
	KT_EXPECT_EQ(as_region_unmap(as, va, P), 0);
	f = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
	KT_ASSERT(f);
	KT_EXPECT_EQ(as_install_pager_page(as, f, &pf), -E_AGAIN);
	KT_EXPECT_EQ(as->nr_pt, nr_pt);
	KT_EXPECT_EQ(as->l1_freed, 1);
	frame_free(f);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST_SUITE(fault_suite, "mm_fault", KTEST_CASE(fault_table_unlinked_split),
	    KTEST_CASE(fault_table_unlinked_single),
	    KTEST_CASE(fault_region_gone_split),
	    KTEST_CASE(fault_region_gone_single),
	    KTEST_CASE(fault_level1_unlinked_split),
	    KTEST_CASE(fault_populate_region_gone_split),
	    KTEST_CASE(fault_populate_region_gone_single),
	    KTEST_CASE(fault_populate_region_protected),
	    KTEST_CASE(fault_pager_install_region_gone));
