/*
 * test_cow.c - breaking copy-on-write (kernel/mm/as.c, cow_break) while
 * other harts run the address space.
 *
 * Break before make: when a write fault gives a thread its private copy of
 * a shared page, no hart may still reach the old frame through its TLB
 * once the copy's entry can be walked. Otherwise a thread on hart A writes
 * data into the copy, then a flag into another page, and a thread on hart
 * B sees the flag and reads the data from the old frame through its stale
 * read-only translation. The host "TLB" of hart 3 is its log
 * (kernel/arch/host/mm.c): it caches the old translation when it looks the
 * page up and forgets it at the first flush that covers the page. Hart 1
 * breaks the page; at the instant its copy's entry is stored
 * (MM_RACE_COW_INSTALL) hart 3 must have forgotten the old translation.
 */
#include "mm_test.h"
#include <arch/memlayout.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>
#include <mm/tlb.h>
#include "../../../kernel/mm/mm_internal.h"	/* MM_RACE_* */

#define P	PAGE_SIZE
#define RW	(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define RO	(AS_PROT_R | AS_PROT_USER)
#define VA	0x40000000UL	/* 2 MiB aligned: a leaf table of its own */
#define PAGES	4
#define FILL	0xa5

/* Did hart @h forget @va of @as between its log entries @from and @to? */
/* A source region of PAGES pages at VA, written (each page filled with
 * FILL + its index), shared copy-on-write into @dst. */
static int cow_setup(struct as *src, struct as *dst)
{
	int err = as_region_add(src, VA, PAGES * P, RW);

	for (unsigned int i = 0; !err && i < PAGES; i++) {
		paddr_t pa;

		err = as_fault(src, VA + i * P, AS_ACCESS_WRITE);
		if (!err)
			err = as_lookup(src, VA + i * P, &pa, NULL);
		if (!err)
			memset(pa_to_kva(pa), FILL + i, P);
	}
	return err ? err : as_cow_share(src, dst, VA, PAGES * P);
}

/* Is the page at @va of @as, as mapped now, filled with @c? */
static bool page_holds(struct as *as, vaddr_t va, unsigned char c)
{
	const unsigned char *p;
	paddr_t pa;

	if (as_lookup(as, va, &pa, NULL))
		return false;
	p = pa_to_kva(pa);
	for (unsigned int i = 0; i < P; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* ---- break before make -------------------------------------------------- */

struct bbm {
	struct ktest_ctx *kt;
	struct as *src, *dst;
	paddr_t old_pa;
	unsigned int cached, stop;	/* flags */
	uint64_t log_cached;		/* hart 3's log when it cached */
	int rc;				/* hart 1's fault */
	/* Seen by the hook on hart 1, when the copy's entry went in: */
	unsigned int installs;		/* atomic */
	unsigned int stale;		/* hart 3 still had the old one */
	unsigned int entry_new;		/* the entry named another frame */
};

static struct bbm *bbm_case;		/* atomic: the case the hook checks */

static void bbm_hook(int where)
{
	struct bbm *b = __atomic_load_n(&bbm_case, __ATOMIC_ACQUIRE);
	pte_t *p;

	if (where != MM_RACE_COW_INSTALL || !b || hart_self() != 1)
		return;
	__atomic_fetch_add(&b->installs, 1, __ATOMIC_RELAXED);
	/* We hold the leaf lock: the entry is what hart 1 just stored. */
	p = mm_pte(b->src, VA);
	if (p && pte_is_valid(*p) && pte_pa(*p) != b->old_pa)
		b->entry_new = 1;
	if (!host_tlb_flushed(3, b->src, VA, b->log_cached,
			      host_tlb_log_count(3), true))
		b->stale = 1;
}

static void bbm_worker(unsigned int id, void *arg)
{
	struct bbm *b = arg;
	paddr_t pa;

	switch (id) {
	case 3:
		/* Another thread of the space reads the page: its TLB holds
		 * the old, read-only translation from here on. */
		as_activate(b->src);
		b->log_cached = host_tlb_log_count(3);
		if (as_lookup(b->src, VA, &pa, NULL) || pa != b->old_pa)
			b->log_cached = UINT64_MAX;	/* reported below */
		mm_set_flag(&b->cached, 1);
		mm_wait_flag(&b->stop, 1);
		as_deactivate();
		break;
	case 1:
		as_activate(b->src);
		mm_wait_flag(&b->cached, 1);
		b->rc = as_fault(b->src, VA, AS_ACCESS_WRITE);
		as_deactivate();
		mm_set_flag(&b->stop, 1);
		break;
	}
}

static void break_before_make(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct bbm b = { .kt = kt };
	unsigned int prot;
	uint64_t start;
	paddr_t pa;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	b.src = as_create(mode);
	b.dst = as_create(mode);
	KT_ASSERT(b.src && b.dst);
	KT_ASSERT_EQ(cow_setup(b.src, b.dst), 0);
	KT_ASSERT_EQ(as_lookup(b.src, VA, &b.old_pa, NULL), 0);

	__atomic_store_n(&bbm_case, &b, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, bbm_hook, __ATOMIC_RELAXED);
	mm_smp_run(4, bbm_worker, &b);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&bbm_case, NULL, __ATOMIC_RELEASE);

	KT_ASSERT(b.log_cached != UINT64_MAX);
	KT_EXPECT_EQ(b.rc, 0);
	KT_EXPECT_EQ(b.installs, 1);
	KT_EXPECT_EQ(b.entry_new, 1);
	if (b.stale)
		KT_INFO("the copy's entry was walkable while hart 3 still "
			"held the old translation (no flush of %#lx yet)",
			(unsigned long)VA);
	KT_EXPECT_EQ(b.stale, 0);
	/* The writer has its copy, with the contents; the other space keeps
	 * the old frame. */
	KT_ASSERT_EQ(as_lookup(b.src, VA, &pa, &prot), 0);
	KT_EXPECT(pa != b.old_pa);
	KT_EXPECT(prot & AS_PROT_W);
	KT_EXPECT(page_holds(b.src, VA, FILL));
	KT_ASSERT_EQ(as_lookup(b.dst, VA, &pa, &prot), 0);
	KT_EXPECT_EQ(pa, b.old_pa);
	KT_EXPECT(!(prot & AS_PROT_W));
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
	KT_EXPECT_EQ(as_check(b.src), 0);
	KT_EXPECT_EQ(as_check(b.dst), 0);
	as_destroy(b.dst);
	as_destroy(b.src);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(cow_break_before_make_split)
{
	break_before_make(kt, PTLOCK_SPLIT);
}

KTEST(cow_break_before_make_single)
{
	break_before_make(kt, PTLOCK_SINGLE);
}

/* ---- the busy entry against every other path ---------------------------
 *
 * Hart 1 breaks the page and is held in MM_RACE_COW_BUSY (the entry is
 * busy and shot down, the copy not made yet; interrupts off, no lock),
 * while hart 2 runs one other call on the page. Calls that need the page
 * as it will be (faults, lookups, unmaps) must wait for the break: hart 2
 * must be seen in MM_RACE_COW_WAIT while hart 1 is held, and must not
 * return for BW_HOLD_NS after that. Hart 1 holds until it sees hart 2
 * waiting (BW_LIMIT_NS at most) and only then times BW_HOLD_NS: on a
 * loaded host hart 2 may not run at all for a while, and a call that has
 * not reached the busy entry yet proves nothing by not returning. The
 * other calls must not wait (never in that window, and back within
 * BW_LIMIT_NS), and must leave the page as their own rules say. Then:
 * the outcome of both, as_check clean, every frame back (no copy or old
 * frame lost or freed twice, mapcounts and references exact).
 */
#define BW_HOLD_NS	100000000ULL	/* 100 ms: long enough to return */
#define BW_LIMIT_NS	3000000000ULL

enum bw_op {
	BW_READ,		/* as_fault, read */
	BW_WRITE,		/* as_fault, write: the same break */
	BW_LOOKUP,		/* as_lookup */
	BW_UNMAP,		/* as_unmap of the page */
	BW_REGION_UNMAP,	/* as_region_unmap of the region */
	BW_REGION_PROTECT,	/* as_region_protect, read-only */
	BW_PROTECT,		/* as_protect, R without U: changes the entry */
	BW_SHARE,		/* as_cow_share into a third space */
	BW_MAP_FRAME,		/* as_map_frame over it */
	BW_NOMEM,		/* nothing; the hook takes every frame */
};

static const struct {
	const char *name;
	bool waits;		/* must wait for the break */
	int rc1;		/* hart 1's fault then */
} bw_ops[] = {
	[BW_READ] = { "read fault", true, 0 },
	[BW_WRITE] = { "write fault", true, 0 },
	[BW_LOOKUP] = { "lookup", true, 0 },
	[BW_UNMAP] = { "unmap", true, 0 },
	[BW_REGION_UNMAP] = { "region unmap", true, -E_FAULT },
	[BW_REGION_PROTECT] = { "region protect", false, -E_FAULT },
	[BW_PROTECT] = { "protect", false, 0 },
	[BW_SHARE] = { "share", false, 0 },
	[BW_MAP_FRAME] = { "map frame", false, 0 },
	[BW_NOMEM] = { "no memory", false, -E_NOMEM },
};

struct bw {
	enum bw_op op;
	struct as *src, *dst, *dst2;
	struct frame *spare;		/* BW_MAP_FRAME's */
	struct frame *hoard;		/* BW_NOMEM's, through batch_next */
	unsigned int held, go, op_done;	/* flags */
	unsigned int waited;		/* atomic: hart 2 passed COW_WAIT */
	unsigned int seen_waiting;	/* waited, as hart 1 saw it, held */
	uint64_t wait_ns;		/* how long until it saw it */
	unsigned int done_while_held, timed_out;
	int rc1, rc2;
	paddr_t pa2;			/* BW_LOOKUP's answer */
};

static struct bw *bw_case;		/* atomic: the case the hook holds */

/* Is hart 2's call back? */
static bool bw_done(struct bw *b)
{
	return __atomic_load_n(&b->op_done, __ATOMIC_ACQUIRE);
}

static void bw_hook(int where)
{
	struct bw *b = __atomic_load_n(&bw_case, __ATOMIC_ACQUIRE);
	uint64_t t0, until;

	if (!b)
		return;
	if (where == MM_RACE_COW_WAIT && hart_self() == 2) {
		__atomic_fetch_add(&b->waited, 1, __ATOMIC_RELEASE);
		return;
	}
	if (where != MM_RACE_COW_BUSY || hart_self() != 1 ||
	    __atomic_exchange_n(&b->held, 1, __ATOMIC_ACQ_REL))
		return;
	if (b->op == BW_NOMEM) {
		struct frame *f;

		while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
			f->batch_next = b->hoard;
			b->hoard = f;
		}
	}
	mm_set_flag(&b->go, 1);
	/* Interrupts are off: spin, do not poll. */
	t0 = mm_now();
	until = t0 + BW_LIMIT_NS;
	if (bw_ops[b->op].waits) {
		/* Until hart 2 waits for us (or is back: it did not). */
		while (!__atomic_load_n(&b->waited, __ATOMIC_ACQUIRE) &&
		       !bw_done(b) && mm_now() < until)
			arch_cpu_relax();
		b->seen_waiting = __atomic_load_n(&b->waited, __ATOMIC_ACQUIRE);
		b->wait_ns = mm_now() - t0;
		until = mm_now() + BW_HOLD_NS;
	}
	while (!bw_done(b) && mm_now() < until)
		arch_cpu_relax();
	b->done_while_held = bw_done(b);
	b->timed_out = !b->done_while_held && !bw_ops[b->op].waits;
}

static void bw_run(struct bw *b)
{
	switch (b->op) {
	case BW_READ:
		b->rc2 = as_fault(b->src, VA, AS_ACCESS_READ);
		break;
	case BW_WRITE:
		b->rc2 = as_fault(b->src, VA, AS_ACCESS_WRITE);
		break;
	case BW_LOOKUP:
		b->rc2 = as_lookup(b->src, VA, &b->pa2, NULL);
		break;
	case BW_UNMAP:
		b->rc2 = as_unmap(b->src, VA, P);
		break;
	case BW_REGION_UNMAP:
		b->rc2 = as_region_unmap(b->src, VA, PAGES * P);
		break;
	case BW_REGION_PROTECT:
		b->rc2 = as_region_protect(b->src, VA, PAGES * P, RO);
		break;
	case BW_PROTECT:
		b->rc2 = as_protect(b->src, VA, P, AS_PROT_R);
		break;
	case BW_SHARE:
		b->rc2 = as_cow_share(b->src, b->dst2, VA, PAGES * P);
		break;
	case BW_MAP_FRAME:
		b->rc2 = as_map_frame(b->src, VA, b->spare, RW);
		break;
	case BW_NOMEM:
		b->rc2 = 0;
		break;
	}
}

static void bw_worker(unsigned int id, void *arg)
{
	struct bw *b = arg;

	switch (id) {
	case 1:
		as_activate(b->src);
		b->rc1 = as_fault(b->src, VA, AS_ACCESS_WRITE);
		as_deactivate();
		mm_set_flag(&b->go, 1);		/* if it was never held */
		break;
	case 2:
		as_activate(b->src);
		mm_wait_flag(&b->go, 1);
		bw_run(b);
		mm_set_flag(&b->op_done, 1);
		as_deactivate();
		break;
	}
}

static void busy_vs(struct ktest_ctx *kt, enum ptlock_mode mode,
		    enum bw_op op)
{
	struct bw b = { .op = op };
	int want2 = op == BW_MAP_FRAME ? -E_EXIST : 0;
	paddr_t old_pa, pa;
	unsigned int prot;
	struct frame *f;
	uint64_t start;
	int rc;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	b.src = as_create(mode);
	b.dst = as_create(mode);
	b.dst2 = as_create(mode);
	KT_ASSERT(b.src && b.dst && b.dst2);
	KT_ASSERT_EQ(cow_setup(b.src, b.dst), 0);
	KT_ASSERT_EQ(as_lookup(b.src, VA, &old_pa, NULL), 0);
	if (op == BW_MAP_FRAME) {
		b.spare = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
		KT_ASSERT(b.spare);
	}

	__atomic_store_n(&bw_case, &b, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, bw_hook, __ATOMIC_RELAXED);
	mm_smp_run(3, bw_worker, &b);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&bw_case, NULL, __ATOMIC_RELEASE);
	while ((f = b.hoard)) {
		b.hoard = f->batch_next;
		f->batch_next = NULL;
		frame_free(f);
	}

	KT_EXPECT_EQ(b.held, 1);
	if (bw_ops[op].waits) {
		if (b.seen_waiting)
			KT_INFO("%s while the page is busy: seen waiting "
				"after %lu us", bw_ops[op].name,
				(unsigned long)(b.wait_ns / 1000));
		else
			KT_INFO("the %s was not seen waiting for the held "
				"break (MM_RACE_COW_WAIT) in %lu ms",
				bw_ops[op].name,
				(unsigned long)(b.wait_ns / 1000000));
		if (b.done_while_held)
			KT_INFO("the %s returned while the break was held",
				bw_ops[op].name);
		KT_EXPECT(b.seen_waiting > 0);
		KT_EXPECT_EQ(b.done_while_held, 0);
	} else {
		KT_INFO("%s while the page is busy", bw_ops[op].name);
		if (b.timed_out || b.waited)
			KT_INFO("the %s waited for the held break",
				bw_ops[op].name);
		KT_EXPECT_EQ(b.timed_out, 0);
		KT_EXPECT_EQ(b.waited, 0);
	}
	KT_EXPECT_EQ(b.rc1, bw_ops[op].rc1);
	KT_EXPECT_EQ(b.rc2, want2);

	/* The page now. */
	rc = as_lookup(b.src, VA, &pa, &prot);
	switch (op) {
	case BW_UNMAP:
	case BW_REGION_UNMAP:
		KT_EXPECT_EQ(rc, -E_NOENT);
		break;
	case BW_REGION_PROTECT:
	case BW_NOMEM:
		/* The break backed off: the old page, still shared. */
		KT_EXPECT_EQ(rc, 0);
		KT_EXPECT_EQ(pa, old_pa);
		KT_EXPECT(!(prot & AS_PROT_W));
		KT_EXPECT(mm_pte(b.src, VA) && (*mm_pte(b.src, VA) & PTE_COW));
		break;
	default:
		/* The copy, writable, with the old contents. */
		KT_EXPECT_EQ(rc, 0);
		KT_EXPECT(pa != old_pa);
		KT_EXPECT(prot & AS_PROT_W);
		KT_EXPECT(page_holds(b.src, VA, FILL));
		if (op == BW_LOOKUP)
			KT_EXPECT_EQ(b.pa2, pa);
		if (op == BW_PROTECT)	/* its rights, then a second break */
			KT_EXPECT(!(prot & AS_PROT_USER));
		break;
	}
	KT_EXPECT_EQ(as_lookup(b.dst, VA, &pa, &prot), 0);
	KT_EXPECT_EQ(pa, old_pa);
	if (op == BW_SHARE) {
		KT_EXPECT_EQ(as_lookup(b.dst2, VA, &pa, &prot), 0);
		KT_EXPECT_EQ(pa, old_pa);
		KT_EXPECT(!(prot & AS_PROT_W));
		KT_EXPECT(page_holds(b.dst2, VA, FILL));
	}
	KT_EXPECT(page_holds(b.dst, VA, FILL));
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
	KT_EXPECT_EQ(as_check(b.src), 0);
	KT_EXPECT_EQ(as_check(b.dst), 0);
	KT_EXPECT_EQ(as_check(b.dst2), 0);
	if (b.spare)
		as_put_user_page(b.spare);
	as_destroy(b.dst2);
	as_destroy(b.dst);
	as_destroy(b.src);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

static void busy_all(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	for (enum bw_op op = BW_READ; op <= BW_NOMEM; op++)
		busy_vs(kt, mode, op);
}

KTEST(cow_busy_split)
{
	busy_all(kt, PTLOCK_SPLIT);
}

KTEST(cow_busy_single)
{
	busy_all(kt, PTLOCK_SINGLE);
}

/* ---- churn -----------------------------------------------------------------
 *
 * Six harts run one space whose region is shared copy-on-write into a new
 * space again and again (hart 0, which keeps the last two),
 * while harts 1-3 write and read its pages (breaks, on the copy path
 * while a share holds the frames, and the one-reference path after a
 * destroy), hart 4 unmaps pages and protects pages and the region, and
 * hart 5 looks pages up and takes and puts them (as_get_user_page). No
 * call may fail but as its rules say; afterwards as_check is clean and
 * every frame is back.
 */
#define CH_PAGES	64
#define CH_HARTS	6

struct churn {
	struct as *src;
	unsigned long ops;
	uint64_t deadline;
	unsigned int bad;			/* atomic */
	char why[CH_HARTS][160];
	unsigned long copies, busies;		/* atomic: from the hooks */
	unsigned long shares, unmaps;		/* hart 0, hart 4 */
	unsigned long progress;			/* atomic: ops of harts 1-5 */
	unsigned int running;			/* atomic: harts 1-5 going */
};

static struct churn *churn_case;		/* atomic */

static void churn_hook(int where)
{
	struct churn *c = __atomic_load_n(&churn_case, __ATOMIC_ACQUIRE);

	if (!c)
		return;
	if (where == MM_RACE_COW_INSTALL)
		__atomic_fetch_add(&c->copies, 1, __ATOMIC_RELAXED);
	else if (where == MM_RACE_COW_BUSY)
		__atomic_fetch_add(&c->busies, 1, __ATOMIC_RELAXED);
}

static void churn_fail(struct churn *c, unsigned int id, const char *what,
		       unsigned long i, int rc)
{
	if (__atomic_fetch_add(&c->bad, 1, __ATOMIC_RELAXED) < 64 &&
	    !c->why[id][0])
		snprintf(c->why[id], sizeof(c->why[id]),
			 "hart %u: %s of page %lu: %d", id, what, i, rc);
}

/* Hart 0: a share every 32 ops of the others, for as long as they run;
 * the space shared into before stays too. */
static void churn_sharer(struct churn *c)
{
	struct as *dst[2] = { NULL, NULL };
	int rc;

	as_activate(c->src);
	while (__atomic_load_n(&c->running, __ATOMIC_ACQUIRE) &&
	       mm_now() < c->deadline) {
		host_hart_poll();
		if (__atomic_load_n(&c->progress, __ATOMIC_RELAXED) <
		    c->shares * 32) {
			arch_cpu_relax();
			continue;
		}
		if (dst[1])
			as_destroy(dst[1]);
		dst[1] = dst[0];
		dst[0] = as_create(c->src->mode);
		if (!dst[0]) {
			churn_fail(c, 0, "create", 0, -E_NOMEM);
			break;
		}
		rc = as_cow_share(c->src, dst[0], VA, CH_PAGES * P);
		if (rc)
			churn_fail(c, 0, "share", 0, rc);
		c->shares++;
	}
	for (int k = 0; k < 2; k++)
		if (dst[k])
			as_destroy(dst[k]);
	as_deactivate();
}

static void churn_worker(unsigned int id, void *arg)
{
	struct churn *c = arg;
	uint64_t rnd = host_seed() * 31 + id + 1;

	if (id == 0)
		return churn_sharer(c);
	as_activate(c->src);
	/* The ops, and on until a copy was made: on a loaded host the
	 * sharer may get to its first share only after the ops are done. */
	for (unsigned long n = 0;
	     (n < c->ops || !__atomic_load_n(&c->copies, __ATOMIC_RELAXED)) &&
	     mm_now() < c->deadline;
	     n++) {
		unsigned long r = host_rand(&rnd), i = r % CH_PAGES;
		vaddr_t va = VA + i * P;
		struct frame *f;
		int rc = 0;

		host_hart_poll();
		switch (id) {
		case 1: case 2: case 3:
			/* -E_FAULT: a write while the region is read-only. */
			rc = as_fault(c->src, va, r & 0x300 ? AS_ACCESS_WRITE
							     : AS_ACCESS_READ);
			if (rc && rc != -E_FAULT)
				churn_fail(c, id, "fault", i, rc);
			break;
		case 4:
			if ((r >> 8) % 16 == 0) {
				rc = as_region_protect(c->src, VA, CH_PAGES * P,
						       r & 0x10000 ? RO : RW);
			} else if ((r >> 8) % 4 == 0) {
				rc = as_unmap(c->src, va, P);
				c->unmaps++;
			} else {
				rc = as_protect(c->src, va, P,
						r & 0x10000 ? RO : RW);
			}
			if (rc)
				churn_fail(c, id, "unmap or protect", i, rc);
			break;
		case 5:
			if (r & 0x100) {
				paddr_t pa;

				rc = as_lookup(c->src, va, &pa, NULL);
				if (rc && rc != -E_NOENT)
					churn_fail(c, id, "lookup", i, rc);
				break;
			}
			/* Faults it in if need be; a write may be refused
			 * (read-only region) or lose 8 races in a row. */
			f = as_get_user_page(c->src, va, r & 0x200);
			if (f)
				as_put_user_page(f);
			break;
		}
		__atomic_fetch_add(&c->progress, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&c->running, 1, __ATOMIC_RELEASE);
	as_deactivate();
}

static void churn(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct churn c = { .ops = mm_ops(3000), .deadline = mm_deadline(5000),
			   .running = CH_HARTS - 1 };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(32), 0);
	start = frame_free_count();
	c.src = as_create(mode);
	KT_ASSERT(c.src);
	KT_ASSERT_EQ(as_region_add(c.src, VA, CH_PAGES * P, RW), 0);
	for (unsigned int i = 0; i < CH_PAGES; i++)
		KT_ASSERT_EQ(as_fault(c.src, VA + i * P, AS_ACCESS_WRITE), 0);

	__atomic_store_n(&churn_case, &c, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, churn_hook, __ATOMIC_RELAXED);
	mm_smp_run(CH_HARTS, churn_worker, &c);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&churn_case, NULL, __ATOMIC_RELEASE);

	KT_INFO("%lu shares, %lu unmaps, %lu breaks by copy, %lu busy "
		"windows", c.shares, c.unmaps, c.copies, c.busies);
	for (unsigned int h = 0; h < CH_HARTS; h++)
		if (c.why[h][0])
			KT_INFO("%s", c.why[h]);
	KT_EXPECT_EQ(c.bad, 0);
	KT_EXPECT(c.copies > 0);
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
	KT_EXPECT_EQ(as_check(c.src), 0);
	as_destroy(c.src);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(cow_churn_split)
{
	churn(kt, PTLOCK_SPLIT);
}

KTEST(cow_churn_single)
{
	churn(kt, PTLOCK_SINGLE);
}

KTEST_SUITE(cow_suite, "mm_cow", KTEST_CASE(cow_break_before_make_split),
	    KTEST_CASE(cow_break_before_make_single),
	    KTEST_CASE(cow_busy_split), KTEST_CASE(cow_busy_single),
	    KTEST_CASE(cow_churn_split), KTEST_CASE(cow_churn_single));
