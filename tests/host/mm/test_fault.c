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
 */
#include "mm_test.h"
#include "../../../kernel/mm/mm_internal.h"
#include <kern/errno.h>

#define P		PAGE_SIZE
#define RW		(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define SPAN		0x40000000UL	/* a 2 MiB span of its own */

struct unlink_arg {
	struct as *as;
	bool remove_region;	/* as_region_unmap, else as_unmap of page 0 */
	uint64_t nr_pt;		/* tables before the unlink */
	unsigned int in_window;	/* atomic: the fault waits in the window */
	unsigned int saw_unlink; /* atomic: and saw the table go */
	unsigned int unmap_done; /* atomic */
	int rc;
};

static struct unlink_arg *unlink_case;	/* for the hook */

/* Hart 0's fault, first time in the window: wait (interrupts off, no
 * polling, as a real fault would) until hart 1 has unlinked the table, at
 * most 2 s. Hart 1's tlb_sync_all cannot finish meanwhile. */
static void hold_fault(int where)
{
	struct unlink_arg *a = __atomic_load_n(&unlink_case, __ATOMIC_ACQUIRE);
	uint64_t until;

	if (where != MM_RACE_FAULT_LOCK || !a || this_hart()->id != 0 ||
	    __atomic_exchange_n(&a->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	until = mm_now() + 2000000000ULL;
	while (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) >= a->nr_pt &&
	       mm_now() < until)
		;
	if (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) < a->nr_pt)
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
		a->rc = as_fault(a->as, SPAN + P, AS_ACCESS_WRITE);
	} else {
		mm_wait_flag(&a->in_window, 1);
		if (a->remove_region)
			as_region_unmap(a->as, SPAN, 2 * P);
		else
			as_unmap(a->as, SPAN, P);
		__atomic_store_n(&a->unmap_done, 1, __ATOMIC_RELEASE);
	}
	as_deactivate();
}

static void table_unlinked(struct ktest_ctx *kt, enum ptlock_mode mode,
			   bool remove_region)
{
	struct unlink_arg a = { .remove_region = remove_region };
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

#define GIB3		0xc0000000UL	/* a 1 GiB span of its own */

static struct unlink_arg *populate_case;	/* for the hook */

/* Hart 0's walk, first time about to populate a level-1 entry: wait
 * (interrupts off) until hart 1's unmap has unlinked that level-1 table
 * (two tables fewer: the leaf and it), at most 2 s. */
static void hold_populate(int where)
{
	struct unlink_arg *a =
		__atomic_load_n(&populate_case, __ATOMIC_ACQUIRE);
	uint64_t until;

	if (where != MM_RACE_POPULATE || !a || this_hart()->id != 0 ||
	    __atomic_exchange_n(&a->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	until = mm_now() + 2000000000ULL;
	while (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) + 2 > a->nr_pt
	       && mm_now() < until)
		;
	if (__atomic_load_n(&a->as->nr_pt, __ATOMIC_ACQUIRE) + 2 <= a->nr_pt)
		__atomic_store_n(&a->saw_unlink, 1, __ATOMIC_RELEASE);
}

static void populate_worker(unsigned int id, void *p)
{
	struct unlink_arg *a = p;

	as_activate(a->as);
	if (id == 0) {
		a->rc = as_fault(a->as, GIB3 + SV39_MEGA, AS_ACCESS_WRITE);
	} else {
		mm_wait_flag(&a->in_window, 1);
		as_region_unmap(a->as, GIB3, P);
		__atomic_store_n(&a->unmap_done, 1, __ATOMIC_RELEASE);
	}
	as_deactivate();
}

KTEST(fault_level1_unlinked_split)
{
	struct unlink_arg a = { 0 };
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
	__atomic_store_n(&populate_case, &a, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, hold_populate, __ATOMIC_RELAXED);
	mm_smp_run(2, populate_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&populate_case, NULL, __ATOMIC_RELEASE);

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

KTEST_SUITE(fault_suite, "mm_fault", KTEST_CASE(fault_table_unlinked_split),
	    KTEST_CASE(fault_table_unlinked_single),
	    KTEST_CASE(fault_region_gone_split),
	    KTEST_CASE(fault_region_gone_single),
	    KTEST_CASE(fault_level1_unlinked_split));
