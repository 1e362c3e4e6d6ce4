/*
 * test_tlb.c - TLB shootdown and the grace period, read from the per-hart
 * TLB log of arch/host: a hart that ran an address space hears of every
 * unmap and permission cut, before the frame goes back (and before a
 * second call over the same range returns, even one that found nothing
 * left to change); page-table pages go back only after every hart passed
 * a point with interrupts on.
 */
#include "mm_test.h"
#include <arch/memlayout.h>
#include <kern/errno.h>
#include <kern/smp.h>
#include <kern/string.h>
#include <mm/tlb.h>
#include "../../../kernel/mm/mm_internal.h"	/* FRAME_BATCH_* */

#include <time.h>

#define P	PAGE_SIZE
#define RW	(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define RO	(AS_PROT_R | AS_PROT_USER)

/* Does hart @h have an event of @kind after index @from that covers @va
 * of @as? If so, copy it to @out. */
static bool find_ev(unsigned int h, uint64_t from, unsigned int kind,
		    const struct as *as, vaddr_t va, struct host_tlb_ev *out)
{
	uint64_t n = host_tlb_log_count(h);
	struct host_tlb_ev ev;

	for (uint64_t i = from; i < n; i++) {
		if (!host_tlb_log_get(h, i, &ev) || ev.kind != kind)
			continue;
		if (kind != HOST_TLB_ALL && kind != HOST_TLB_FINI &&
		    !host_tlb_ev_covers(&ev, as, va))
			continue;
		if (kind == HOST_TLB_FINI && ev.as != as)
			continue;
		if (out)
			*out = ev;
		return true;
	}
	return false;
}

/* Some event of @kind on hart @h after log index @from has seq > @after. */
static bool find_ev_after(unsigned int h, uint64_t from, unsigned int kind,
			  uint64_t after)
{
	uint64_t n = host_tlb_log_count(h);
	struct host_tlb_ev ev;

	for (uint64_t i = from; i < n; i++)
		if (host_tlb_log_get(h, i, &ev) && ev.kind == kind &&
		    ev.seq > after)
			return true;
	return false;
}

/* A frame was watched by the event, and was still in use then. */
static bool in_use_then(const struct host_tlb_ev *ev, uint16_t use)
{
	return ev->watched && (ev->watch_flags & use) &&
	       !(ev->watch_flags & FRAME_F_FREE);
}

struct td {
	struct ktest_ctx *kt;
	enum ptlock_mode mode;
	struct as *as;
	unsigned int active, done;	/* flags */
	void (*checks)(struct td *t);	/* what hart 0 does */
};

static void td_remote(unsigned int id, void *p)
{
	struct td *t = p;

	if (id != 3)
		return;
	as_activate(t->as);
	mm_set_flag(&t->active, 1);
	mm_wait_flag(&t->done, 1);
	as_deactivate();
}

static void td_checks(struct td *t)
{
	const vaddr_t va = 0x40000000, big = 0x50000000;
	struct ktest_ctx *kt = t->kt;
	struct as *as = t->as;
	uint64_t n[4], syncs, full;
	struct host_tlb_ev ev;
	struct frame *f, *leaf;
	paddr_t pa;

	/* Hart 3 runs the space, hart 0 does not: the unmap reaches hart 3
	 * by a remote flush, sent before the frame was freed. */
	KT_ASSERT(as_map_anon(as, va, 4 * P, RW) == 0);
	KT_ASSERT(as_map_anon(as, va + 64 * P, P, RW) == 0); /* keeps the leaf */
	KT_ASSERT(as_lookup(as, va, &pa, NULL) == 0);
	f = pa_to_frame(pa);
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	host_tlb_watch(f);
	KT_EXPECT_EQ(as_unmap(as, va, P), 0);
	host_tlb_watch(NULL);
	KT_EXPECT(f->flags & FRAME_F_FREE);
	if (KT_EXPECT(find_ev(3, n[3], HOST_TLB_REMOTE, as, va, &ev))) {
		KT_EXPECT_EQ(ev.from, 0);
		KT_EXPECT_EQ(ev.len, P);
		KT_EXPECT_EQ(ev.asid, as->asid);
		KT_EXPECT(in_use_then(&ev, FRAME_F_USER));
	}
	KT_EXPECT(!find_ev(0, n[0], HOST_TLB_LOCAL, as, va, NULL));
	KT_EXPECT_EQ(host_tlb_log_count(1), n[1]);
	KT_EXPECT_EQ(host_tlb_log_count(2), n[2]);

	/* Hart 0 runs it too: a local flush here, a remote one there. */
	as_activate(as);
	KT_ASSERT(as_lookup(as, va + P, &pa, NULL) == 0);
	f = pa_to_frame(pa);
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	host_tlb_watch(f);
	KT_EXPECT_EQ(as_unmap(as, va + P, P), 0);
	host_tlb_watch(NULL);
	if (KT_EXPECT(find_ev(0, n[0], HOST_TLB_LOCAL, as, va + P, &ev)))
		KT_EXPECT(in_use_then(&ev, FRAME_F_USER));
	if (KT_EXPECT(find_ev(3, n[3], HOST_TLB_REMOTE, as, va + P, &ev)))
		KT_EXPECT(in_use_then(&ev, FRAME_F_USER));
	KT_EXPECT(!find_ev(1, n[1], HOST_TLB_REMOTE, as, va + P, NULL));

	/* Past TLB_FULL_FLUSH_PAGES: the whole address space instead (a
	 * page more stays mapped: an emptied leaf table would be freed
	 * with a cross-hart call, which flushes everything anyway). */
	KT_ASSERT(as_map_anon(as, big, (TLB_FULL_FLUSH_PAGES + 2) * P, RW) ==
		  0);
	full = tlb_stats.full;
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	KT_EXPECT_EQ(as_unmap(as, big, (TLB_FULL_FLUSH_PAGES + 1) * P), 0);
	KT_EXPECT(find_ev(3, n[3], HOST_TLB_REMOTE, as, big, &ev) &&
		  ev.len == 0);
	KT_EXPECT(find_ev(0, n[0], HOST_TLB_LOCAL, as, big, &ev) &&
		  ev.len == 0);
	KT_EXPECT_EQ(tlb_stats.full, full + 1);

	/* Taking a right away is a shootdown; granting one is not. */
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	KT_EXPECT_EQ(as_protect(as, va + 2 * P, P, RO), 0);
	KT_EXPECT(find_ev(3, n[3], HOST_TLB_REMOTE, as, va + 2 * P, NULL));
	KT_EXPECT(find_ev(0, n[0], HOST_TLB_LOCAL, as, va + 2 * P, NULL));
	n[3] = host_tlb_log_count(3);
	KT_EXPECT_EQ(as_protect(as, va + 2 * P, P, RW), 0);
	KT_EXPECT_EQ(host_tlb_log_count(3), n[3]);

	/* Emptying the leaf frees the table page: only after a cross-hart
	 * call that every online hart (0-3, active or not) ran with
	 * interrupts on, which flushed each hart's whole TLB (and so stands
	 * for the shootdown of the unmapped pages too). */
	leaf = kva_to_frame(mm_pte(as, va));
	syncs = tlb_stats.syncs;
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	host_tlb_watch(leaf);
	KT_EXPECT_EQ(as_unmap(as, va, 128 * P), 0);
	host_tlb_watch(NULL);
	KT_EXPECT(leaf->flags & FRAME_F_FREE);
	KT_EXPECT(mm_pte(as, va) == NULL);
	KT_EXPECT_EQ(tlb_stats.syncs, syncs + 1);
	for (unsigned int h = 0; h < 4; h++) {
		if (!KT_EXPECT(find_ev(h, n[h], HOST_TLB_ALL, NULL, 0, &ev)))
			KT_INFO("hart %u took no full flush", h);
		else
			KT_EXPECT(in_use_then(&ev, FRAME_F_PT));
	}
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
	KT_EXPECT_EQ(host_mm_stats.xcall_irqoff, 0);
}

static void td_main(unsigned int id, void *p)
{
	struct td *t = p;

	if (id == 3)
		return td_remote(id, p);
	if (id != 0)
		return;
	mm_wait_flag(&t->active, 1);
	t->checks(t);		/* may end early on a failed assertion */
	as_deactivate();
	mm_set_flag(&t->done, 1);
}

/* @checks on hart 0 while hart 3 runs a new address space, in @mib of
 * memory; every frame back at the end. */
static void td_case(struct ktest_ctx *kt, enum ptlock_mode mode,
		    void (*checks)(struct td *t), size_t mib)
{
	struct td t = { .kt = kt, .mode = mode, .checks = checks };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(mib), 0);
	start = frame_free_count();
	t.as = as_create(mode);
	KT_ASSERT(t.as);
	mm_smp_run(4, td_main, &t);
	KT_EXPECT(!host_current_as(3));
	as_destroy(t.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

static void shootdown(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	td_case(kt, mode, td_checks, 16);
}

KTEST(tlb_shootdown_split)
{
	shootdown(kt, PTLOCK_SPLIT);
}

KTEST(tlb_shootdown_single)
{
	shootdown(kt, PTLOCK_SINGLE);
}

/*
 * A large unmap is one shootdown, not one per FRAME_BATCH_MAX pages: the
 * batch grows by pages from the frame allocator (FRAME_BATCH_PAGES of
 * them at most), and when no page can be had it flushes as it fills, as
 * before. Hart 3 runs the space throughout, so every flush is a remote
 * one there.
 */
#define BATCH_N		900	/* > FRAME_BATCH_MAX: grows by two pages */
#define BATCH_CAP	(FRAME_BATCH_MAX + FRAME_BATCH_PAGES * FRAME_BATCH_PER_PAGE)

/* Remote flushes of @as that hart 3 logged since @from. */
static unsigned int remote_flushes(const struct as *as, uint64_t from)
{
	uint64_t n = host_tlb_log_count(3);
	struct host_tlb_ev ev;
	unsigned int count = 0;

	for (uint64_t i = from; i < n; i++)
		if (host_tlb_log_get(3, i, &ev) && ev.kind == HOST_TLB_REMOTE &&
		    ev.as == as)
			count++;
	return count;
}

/*
 * Map @n pages at @va with a page kept mapped on either side, unmap the
 * @n, and return the synchronous rounds with hart 3 it took: shootdowns,
 * plus cross-hart calls for the leaf tables emptied in the middle (each
 * flushes every TLB instead). The frames, and the tables, must be free
 * afterwards.
 */
static unsigned int unmap_rounds(struct td *t, vaddr_t va, unsigned long n)
{
	struct ktest_ctx *kt = t->kt;
	uint64_t log, free, syncs, tables;
	unsigned int rounds;

	if (!KT_EXPECT(as_map_anon(t->as, va, (n + 2) * P, RW) == 0))
		return 0;
	free = frame_free_count();
	syncs = tlb_stats.syncs;
	tables = t->as->nr_pt;
	log = host_tlb_log_count(3);
	KT_EXPECT_EQ(as_unmap(t->as, va + P, n * P), 0);
	rounds = remote_flushes(t->as, log) + (tlb_stats.syncs - syncs);
	KT_EXPECT_EQ(frame_free_count(), free + n + (tables - t->as->nr_pt));
	KT_EXPECT_EQ(as_unmap(t->as, va, (n + 2) * P), 0);
	return rounds;
}

static void batch_checks(struct td *t)
{
	const vaddr_t va = 0x40000000;
	struct ktest_ctx *kt = t->kt;
	struct frame *hoard = NULL, *f;
	uint64_t log, syncs, free;
	unsigned int flushes;

	KT_EXPECT_EQ(unmap_rounds(t, va, BATCH_N), 1);
	/* Past what the batch may grow to: a second flush. */
	KT_EXPECT_EQ(unmap_rounds(t, va, BATCH_CAP + 10), 2);

	/* Two whole leaf tables: the cross-hart call that frees them
	 * flushes every TLB, so no shootdown besides. */
	KT_ASSERT(as_map_anon(t->as, va, 1024 * P, RW) == 0);
	syncs = tlb_stats.syncs;
	log = host_tlb_log_count(3);
	KT_EXPECT_EQ(as_unmap(t->as, va, 1024 * P), 0);
	KT_EXPECT_EQ(tlb_stats.syncs, syncs + 1);
	KT_EXPECT_EQ(remote_flushes(t->as, log), 0);
	KT_EXPECT(find_ev(3, log, HOST_TLB_ALL, NULL, 0, NULL));
	KT_EXPECT(mm_pte(t->as, va) == NULL);

	/* No memory for the batch to grow: it flushes when the stack array
	 * is full, and loses nothing; the frames that flush gave back let
	 * it grow for the rest (one more flush). */
	KT_ASSERT(as_map_anon(t->as, va, (BATCH_N + 2) * P, RW) == 0);
	while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
		f->batch_next = hoard;
		hoard = f;
	}
	log = host_tlb_log_count(3);
	free = frame_free_count();
	KT_EXPECT_EQ(as_unmap(t->as, va + P, BATCH_N * P), 0);
	flushes = remote_flushes(t->as, log);
	KT_EXPECT_EQ(flushes, 2);
	KT_EXPECT_EQ(frame_free_count(), free + BATCH_N);
	while ((f = hoard)) {
		hoard = f->batch_next;
		f->batch_next = NULL;
		frame_free(f);
	}
	KT_EXPECT_EQ(as_unmap(t->as, va, (BATCH_N + 2) * P), 0);
	KT_EXPECT_EQ(as_check(t->as), 0);
}

KTEST(tlb_unmap_batches_split)
{
	td_case(kt, PTLOCK_SPLIT, batch_checks, 32);
}

KTEST(tlb_unmap_batches_single)
{
	td_case(kt, PTLOCK_SINGLE, batch_checks, 32);
}

/*
 * The frames a grown batch records are held until the shootdown. An unmap
 * of BATCH_N pages records the first FRAME_BATCH_MAX frames in the stack
 * array and the rest in two pages from the frame allocator (batch_grow).
 * Hart 0's unmap is checked in the window MM_RACE_FLUSH_PENDING (every
 * entry cleared, the shootdown not sent; hart 3 runs the space and may
 * still hold the translations): each cleared page's frame must still be
 * a user frame with just the batch's reference, and the free count must
 * be what it was less the two pages. Then hart 3's remote flush must
 * have come while a frame of the newest grown page (whose frames go back
 * first) was still in use, and after the call every frame is back: the
 * pages' and the batch's own.
 */
#define GROWN	2	/* pages the batch takes for BATCH_N frames */

_Static_assert(BATCH_N - FRAME_BATCH_MAX > (GROWN - 1) * FRAME_BATCH_PER_PAGE &&
	       BATCH_N - FRAME_BATCH_MAX <= GROWN * FRAME_BATCH_PER_PAGE,
	       "BATCH_N frames take the stack array and GROWN pages");

struct bh {
	struct as *as;
	vaddr_t va;			/* the first page unmapped */
	struct frame *f[BATCH_N];	/* the frame of each unmapped page */
	uint64_t log;			/* hart 3's log before the unmap */
	unsigned int in_window;		/* atomic */
	/* Seen by the hook, in the window: */
	unsigned int not_held;		/* frames freed or changed */
	long first_bad;			/* the first of them, or -1 */
	uint64_t free_held;		/* frame_free_count() */
	bool flushed;			/* hart 3 had a flush of @as */
};

static struct bh *bh_case;		/* atomic: the case the hook checks */

static void bh_check(int where)
{
	struct bh *h = __atomic_load_n(&bh_case, __ATOMIC_ACQUIRE);

	if (where != MM_RACE_FLUSH_PENDING || !h || hart_self() != 0 ||
	    __atomic_exchange_n(&h->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	for (unsigned int i = 0; i < BATCH_N; i++) {
		struct frame *f = h->f[i];

		if ((f->flags & (FRAME_F_USER | FRAME_F_FREE)) ==
			    FRAME_F_USER &&
		    __atomic_load_n(&f->refcount, __ATOMIC_RELAXED) == 1 &&
		    __atomic_load_n(&f->user.mapcount, __ATOMIC_RELAXED) == 0)
			continue;
		if (!h->not_held++)
			h->first_bad = i;
	}
	h->free_held = frame_free_count();
	h->flushed = remote_flushes(h->as, h->log) != 0;
}

static void batch_held_checks(struct td *t)
{
	const vaddr_t va = 0x40000000;
	struct bh h = { .as = t->as, .va = va + P, .first_bad = -1 };
	struct ktest_ctx *kt = t->kt;
	struct frame *watched;
	struct host_tlb_ev ev;
	unsigned int back = 0;
	uint64_t free;

	/* A page kept on either side: no leaf table is emptied (that would
	 * free it with tlb_sync_all instead of a shootdown). */
	KT_ASSERT(as_map_anon(t->as, va, (BATCH_N + 2) * P, RW) == 0);
	for (unsigned int i = 0; i < BATCH_N; i++) {
		paddr_t pa;

		KT_ASSERT(as_lookup(t->as, h.va + i * P, &pa, NULL) == 0);
		h.f[i] = pa_to_frame(pa);
	}
	/* In the newest grown page, the first batch_flush puts. */
	watched = h.f[BATCH_N - 1];
	free = frame_free_count();
	h.log = host_tlb_log_count(3);
	host_tlb_watch(watched);
	__atomic_store_n(&bh_case, &h, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, bh_check, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(as_unmap(t->as, h.va, BATCH_N * P), 0);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&bh_case, NULL, __ATOMIC_RELEASE);
	host_tlb_watch(NULL);

	KT_ASSERT_EQ(h.in_window, 1);
	KT_EXPECT(!h.flushed);	/* the window came before the flush */
	if (h.not_held)
		KT_INFO("%u of %u frames were not held before the shootdown; "
			"the first, page %ld, in %s", h.not_held, BATCH_N,
			h.first_bad, h.first_bad < FRAME_BATCH_MAX ?
			"the stack array" : "a grown page");
	KT_EXPECT_EQ(h.not_held, 0);
	/* The batch grew by GROWN pages, and nothing was freed yet. */
	KT_EXPECT_EQ(h.free_held, free - GROWN);
	if (KT_EXPECT(find_ev(3, h.log, HOST_TLB_REMOTE, t->as, h.va, &ev)) &&
	    !KT_EXPECT(in_use_then(&ev, FRAME_F_USER)))
		KT_INFO("page %u's frame was freed before hart 3's flush",
			BATCH_N - 1);
	/* Every frame back: the pages' (freed, or merged into a pool block
	 * whose head alone is marked free), and the batch's own pages. */
	for (unsigned int i = 0; i < BATCH_N; i++)
		back += !(h.f[i]->flags & FRAME_F_USER) &&
			!__atomic_load_n(&h.f[i]->refcount, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(back, BATCH_N);
	KT_EXPECT_EQ(frame_free_count(), free + BATCH_N);
	KT_EXPECT_EQ(as_unmap(t->as, va, (BATCH_N + 2) * P), 0);
	KT_EXPECT_EQ(as_check(t->as), 0);
	KT_EXPECT_EQ(host_mm_stats.remote_irqoff, 0);
}

KTEST(tlb_unmap_batch_held_split)
{
	td_case(kt, PTLOCK_SPLIT, batch_held_checks, 32);
}

KTEST(tlb_unmap_batch_held_single)
{
	td_case(kt, PTLOCK_SINGLE, batch_held_checks, 32);
}

/*
 * A frame mapped at two addresses (shared memory; a pager's frame): each
 * unmap must reach the harts that ran the space, even though the frame
 * lives on, and the frame may go only after both flushes.
 */
#define BUG_NO_SHOOTDOWN "BUG unmap-no-shootdown: as_unmap of a page whose " \
	"frame is still mapped elsewhere flushes no TLB (as.c as_unmap: " \
	"tlb_shootdown only if batch.n)"

static void shared_checks(struct td *t)
{
	const vaddr_t va1 = 0x60000000, va2 = 0x60400000;
	struct ktest_ctx *kt = t->kt;
	struct as *as = t->as;
	struct host_tlb_ev ev;
	struct frame *f;
	uint64_t n3;

	/* Neighbours keep both leaf tables (freeing one forces a flush). */
	KT_ASSERT(as_map_anon(as, va1 + P, P, RW) == 0);
	KT_ASSERT(as_map_anon(as, va2 + P, P, RW) == 0);
	f = frame_alloc(0, FRAME_F_USER);
	KT_ASSERT(f);
	KT_ASSERT(as_map_frame(as, va1, f, RW) == 0);
	KT_ASSERT(as_map_frame(as, va2, f, RW) == 0);
	__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL); /* ours */
	n3 = host_tlb_log_count(3);
	host_tlb_watch(f);
	KT_EXPECT_EQ(as_unmap(as, va1, P), 0);
	KT_EXPECT_EQ(as_lookup(as, va1, NULL, NULL), -E_NOENT);
	if (find_ev(3, n3, HOST_TLB_REMOTE, as, va1, &ev)) {
		KT_EXPECT(in_use_then(&ev, FRAME_F_USER));
	} else {
		KT_INFO(BUG_NO_SHOOTDOWN);
		if (mm_skip_known_bugs())
			kt->skip = BUG_NO_SHOOTDOWN;
		else
			KT_EXPECT(!"a remote flush of va1 on hart 3");
	}
	n3 = host_tlb_log_count(3);
	KT_EXPECT_EQ(as_unmap(as, va2, P), 0);
	host_tlb_watch(NULL);
	KT_EXPECT(f->flags & FRAME_F_FREE);
	if (KT_EXPECT(find_ev(3, n3, HOST_TLB_REMOTE, as, va2, &ev)))
		KT_EXPECT(in_use_then(&ev, FRAME_F_USER));
	KT_EXPECT_EQ(as_check(as), 0);
}

KTEST(tlb_unmap_shared_frame)
{
	struct td t = { .kt = kt, .checks = shared_checks };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	t.as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(t.as);
	mm_smp_run(4, td_main, &t);
	as_destroy(t.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/*
 * The same frame unmapped at both addresses by two harts at once, over and
 * over: whichever unmap drops the last reference frees the frame, and it
 * must not do so before the other unmap's flush has reached hart 3, which
 * may still hold the other translation.
 */
#define SHARED_ROUNDS	400

struct sr {
	struct ktest_ctx *kt;
	struct as *as;
	unsigned int round, done[3], active, stop;	/* flags */
	unsigned int missing, early;			/* hart 0 only */
};

static const vaddr_t sr_va[3] = { 0, 0x70000000, 0x70400000 };

static void sr_worker(unsigned int id, void *p)
{
	struct sr *r = p;
	struct ktest_ctx *kt = r->kt;

	if (id == 3) {
		as_activate(r->as);
		mm_set_flag(&r->active, 1);
		mm_wait_flag(&r->stop, 1);
		as_deactivate();
		return;
	}
	if (id == 1 || id == 2) {
		for (unsigned int i = 1; i <= SHARED_ROUNDS; i++) {
			mm_wait_flag(&r->round, i);
			if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
				return;
			as_unmap(r->as, sr_va[id], P);
			mm_set_flag(&r->done[id], i);
		}
		return;
	}
	if (id != 0)
		return;
	mm_wait_flag(&r->active, 1);
	for (unsigned int i = 1; i <= SHARED_ROUNDS; i++) {
		struct frame *f = frame_alloc(0, FRAME_F_USER);
		struct host_tlb_ev ev;
		uint64_t n3;

		if (!KT_EXPECT(f) || !KT_EXPECT(as_map_frame(r->as, sr_va[1], f,
							     RW) == 0) ||
		    !KT_EXPECT(as_map_frame(r->as, sr_va[2], f, RW) == 0))
			break;
		__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL);
		n3 = host_tlb_log_count(3);
		host_tlb_watch(f);
		mm_set_flag(&r->round, i);	/* harts 1 and 2: go */
		mm_wait_flag(&r->done[1], i);
		mm_wait_flag(&r->done[2], i);
		host_tlb_watch(NULL);
		if (host_tlb_log_count(3) - n3 > HOST_TLB_LOG / 2)
			continue;	/* cannot tell: log wrapped */
		for (int k = 1; k <= 2; k++) {
			if (!find_ev(3, n3, HOST_TLB_REMOTE, r->as, sr_va[k],
				     &ev))
				r->missing++;
			else if (!in_use_then(&ev, FRAME_F_USER))
				r->early++;
		}
	}
	mm_set_flag(&r->stop, 1);
	mm_set_flag(&r->round, SHARED_ROUNDS + 1);
}

KTEST(tlb_unmap_shared_race)
{
	struct sr r = { .kt = kt };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	r.as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(r.as);
	/* Neighbours keep both leaves: no table frees, no full syncs. */
	KT_ASSERT_EQ(as_map_anon(r.as, sr_va[1] + P, P, RW), 0);
	KT_ASSERT_EQ(as_map_anon(r.as, sr_va[2] + P, P, RW), 0);
	mm_smp_run(4, sr_worker, &r);
	KT_INFO("%d rounds: %u unmaps sent no flush to hart 3, %u flushes "
		"came after the frame was freed", SHARED_ROUNDS, r.missing,
		r.early);
	KT_EXPECT_EQ(as_check(r.as), 0);
	as_destroy(r.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
	if (r.missing && !r.early && mm_skip_known_bugs())
		KT_SKIP(BUG_NO_SHOOTDOWN);
	if (r.missing)
		KT_INFO(BUG_NO_SHOOTDOWN);
	KT_EXPECT_EQ(r.missing, 0);
	KT_EXPECT_EQ(r.early, 0);
}

/*
 * Two calls that take mappings (or rights) away from one range, on two
 * harts: hart 1's call has changed the entries and is held (the race
 * window MM_RACE_FLUSH_PENDING) before it sends its shootdown; hart 2's
 * call then finds the entries already gone (or already without the
 * right). It must not return before a flush of the range has reached
 * hart 3, which runs the space and may still hold the old translations;
 * and it must not wait for hart 1's call to get there (hart 1 is held
 * until hart 2 returns, 3 s at most).
 */
#define NF_VA		0x40000000UL	/* 2 MiB aligned: a leaf of its own */
#define NF_VA2		0x40400000UL	/* hart 2's range when disjoint */
#define NF_PAGES	4
#define NF_KEY		7
#define NF_HOLD_NS	3000000000ULL

enum nf_op {
	NF_UNMAP,		/* as_unmap */
	NF_PROTECT,		/* as_protect to read-only */
	NF_REGION_PROTECT,	/* as_region_protect to read-only */
	NF_SHARE,		/* as_cow_share (the pages lose W) */
	NF_EVICT,		/* as_pager_evict of the whole region */
};

static const char *const nf_name[] = {
	[NF_UNMAP] = "unmap", [NF_PROTECT] = "protect",
	[NF_REGION_PROTECT] = "region_protect", [NF_SHARE] = "share",
	[NF_EVICT] = "evict",
};

struct nf {
	struct ktest_ctx *kt;
	struct as *as, *dst[3];		/* dst[h]: hart h's share target */
	enum nf_op op[3];		/* op[1] held, then op[2] */
	vaddr_t va[3];			/* where hart h works */
	unsigned int active, in_window, held, second_done, stop; /* flags */
	uint64_t log_held, log_done;	/* hart 3's log then */
	unsigned int timed_out;		/* atomic */
};

static struct nf *nf_case;		/* atomic: the case the hook holds */
static int nf_pager;			/* its address names a fake pager */

static void nf_run(struct nf *n, unsigned int h)
{
	const size_t len = NF_PAGES * P;

	switch (n->op[h]) {
	case NF_UNMAP:
		as_unmap(n->as, n->va[h], len);
		break;
	case NF_PROTECT:
		as_protect(n->as, n->va[h], len, RO);
		break;
	case NF_REGION_PROTECT:
		as_region_protect(n->as, n->va[h], len, RO);
		break;
	case NF_SHARE:
		as_cow_share(n->as, n->dst[h], n->va[h], len);
		break;
	case NF_EVICT:
		as_pager_evict(n->as, &nf_pager, NF_KEY, 0, len);
		break;
	}
}

/* Hold hart 1 in the window (once) until hart 2's call has returned. */
static void nf_hold(int where)
{
	struct nf *n = __atomic_load_n(&nf_case, __ATOMIC_ACQUIRE);
	uint64_t until;

	if (where != MM_RACE_FLUSH_PENDING || !n || hart_self() != 1 ||
	    __atomic_exchange_n(&n->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	n->log_held = host_tlb_log_count(3);
	mm_set_flag(&n->held, 1);
	until = mm_now() + NF_HOLD_NS;
	while (!__atomic_load_n(&n->second_done, __ATOMIC_ACQUIRE)) {
		if (mm_now() > until) {
			__atomic_store_n(&n->timed_out, 1, __ATOMIC_RELAXED);
			break;
		}
		host_hart_poll();
		arch_cpu_relax();
	}
}

static void nf_worker(unsigned int id, void *p)
{
	struct nf *n = p;

	switch (id) {
	case 3:
		as_activate(n->as);
		mm_set_flag(&n->active, 1);
		mm_wait_flag(&n->stop, 1);
		as_deactivate();
		break;
	case 1:
		mm_wait_flag(&n->active, 1);
		nf_run(n, 1);
		mm_set_flag(&n->held, 1);	/* if it never held: no hang */
		mm_set_flag(&n->stop, 1);
		break;
	case 2:
		mm_wait_flag(&n->held, 1);
		nf_run(n, 2);
		n->log_done = host_tlb_log_count(3);
		mm_set_flag(&n->second_done, 1);
		break;
	}
}

/* Did hart 3 forget @va of @as between its log entries @from and @to? */
/* Hart 3 forgot every page of hart 2's range while hart 1 was held. */
static void nf_flushed(struct nf *n)
{
	struct ktest_ctx *kt = n->kt;
	unsigned int missed = 0;

	for (unsigned int i = 0; i < NF_PAGES; i++)
		if (!host_tlb_flushed(3, n->as, n->va[2] + i * P, n->log_held,
				      n->log_done, false))
			missed++;
	if (missed)
		KT_INFO("%s returned while the held %s's flush was pending: "
			"%u of %u pages not flushed on hart 3",
			nf_name[n->op[2]], nf_name[n->op[1]], missed, NF_PAGES);
	KT_EXPECT_EQ(missed, 0);
}

/*
 * Hart 2's range is its own: one shootdown, of just that range (the
 * count costs nothing more when a call's own flush covers its range).
 */
static void nf_one_own(struct nf *n)
{
	struct ktest_ctx *kt = n->kt;
	struct host_tlb_ev ev;
	unsigned int sent = 0;

	for (uint64_t i = n->log_held; i < n->log_done; i++) {
		if (!host_tlb_log_get(3, i, &ev) || ev.from != 2)
			continue;
		sent++;
		KT_EXPECT_EQ(ev.kind, HOST_TLB_REMOTE);
		KT_EXPECT_EQ(ev.va, n->va[2]);
		KT_EXPECT_EQ(ev.len, NF_PAGES * P);
	}
	KT_EXPECT_EQ(sent, 1);
}

/*
 * Hart 1 runs @first over [@va1, +NF_PAGES), held in the window, while
 * hart 2 runs @second over [@va2, +NF_PAGES), in @mode; then @check. Each
 * range is a region (pager-backed for an eviction) with its pages mapped;
 * with @keep_leaf a page beside it keeps its leaf table (else emptying
 * the range unlinks the table, and the second call finds none).
 */
static void nested(struct ktest_ctx *kt, enum ptlock_mode mode,
		   enum nf_op first, vaddr_t va1, enum nf_op second,
		   vaddr_t va2, bool keep_leaf, void (*check)(struct nf *n))
{
	struct nf n = { .kt = kt, .op = { 0, first, second },
			.va = { 0, va1, va2 } };
	bool pager = first == NF_EVICT || second == NF_EVICT;
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	n.as = as_create(mode);
	n.dst[1] = as_create(mode);
	n.dst[2] = as_create(mode);
	KT_ASSERT(n.as && n.dst[1] && n.dst[2]);
	for (int h = 1; h <= 2; h++) {
		vaddr_t va = n.va[h];

		if (h == 2 && va2 == va1)
			break;
		KT_ASSERT_EQ(as_region_add_at(n.as, &va, NF_PAGES * P, RW,
					      pager ? &nf_pager : NULL, NF_KEY,
					      0),
			     0);
		KT_ASSERT_EQ(as_map_anon(n.as, va, NF_PAGES * P, RW), 0);
		if (keep_leaf)
			KT_ASSERT_EQ(as_map_anon(n.as, va + 64 * P, P, RW), 0);
	}
	__atomic_store_n(&nf_case, &n, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, nf_hold, __ATOMIC_RELAXED);
	mm_smp_run(4, nf_worker, &n);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&nf_case, NULL, __ATOMIC_RELEASE);

	KT_EXPECT_EQ(n.in_window, 1);
	if (!KT_EXPECT_EQ(n.timed_out, 0))
		KT_INFO("%s waited for the held %s", nf_name[second],
			nf_name[first]);
	check(&n);
	KT_EXPECT_EQ(as_check(n.as), 0);
	for (int h = 1; h <= 2; h++)
		as_destroy(n.dst[h]);
	as_destroy(n.as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/* Both calls over one range: the second must flush it. */
static void nested_flush(struct ktest_ctx *kt, enum ptlock_mode mode,
			 enum nf_op first, enum nf_op second, bool keep_leaf)
{
	nested(kt, mode, first, NF_VA, second, NF_VA, keep_leaf, nf_flushed);
}

/* An unmap of a range of its own while another unmap's flush is pending
 * (pf-anon's threads, all the time). */
KTEST(tlb_nested_disjoint)
{
	nested(kt, PTLOCK_SPLIT, NF_UNMAP, NF_VA, NF_UNMAP, NF_VA2, true,
	       nf_one_own);
	nested(kt, PTLOCK_SINGLE, NF_UNMAP, NF_VA, NF_UNMAP, NF_VA2, true,
	       nf_one_own);
}

KTEST(tlb_nested_unmap_split)
{
	nested_flush(kt, PTLOCK_SPLIT, NF_UNMAP, NF_UNMAP, true);
}

KTEST(tlb_nested_unmap_single)
{
	nested_flush(kt, PTLOCK_SINGLE, NF_UNMAP, NF_UNMAP, true);
}

KTEST(tlb_nested_unmap_table_gone_split)
{
	nested_flush(kt, PTLOCK_SPLIT, NF_UNMAP, NF_UNMAP, false);
}

KTEST(tlb_nested_unmap_table_gone_single)
{
	nested_flush(kt, PTLOCK_SINGLE, NF_UNMAP, NF_UNMAP, false);
}

KTEST(tlb_nested_evict)
{
	nested_flush(kt, PTLOCK_SPLIT, NF_EVICT, NF_EVICT, true);
	nested_flush(kt, PTLOCK_SPLIT, NF_UNMAP, NF_EVICT, true);
}

KTEST(tlb_nested_protect)
{
	nested_flush(kt, PTLOCK_SPLIT, NF_PROTECT, NF_PROTECT, true);
	nested_flush(kt, PTLOCK_SINGLE, NF_PROTECT, NF_REGION_PROTECT, true);
	nested_flush(kt, PTLOCK_SPLIT, NF_UNMAP, NF_PROTECT, true);
}

KTEST(tlb_nested_share)
{
	nested_flush(kt, PTLOCK_SPLIT, NF_PROTECT, NF_SHARE, true);
	nested_flush(kt, PTLOCK_SPLIT, NF_SHARE, NF_REGION_PROTECT, true);
}

/* as_destroy: a full flush of every hart that ran it, then the sync. */
static void destroy_worker(unsigned int id, void *p)
{
	struct td *t = p;
	struct ktest_ctx *kt = t->kt;
	uint64_t n[4];
	struct host_tlb_ev ev, fini;

	if (id == 2) {
		as_activate(t->as);
		as_deactivate();
		mm_set_flag(&t->active, 1);
		return;
	}
	if (id != 0)
		return;
	mm_wait_flag(&t->active, 1);
	KT_ASSERT(as_map_anon(t->as, 0x1000, 4 * P, RW) == 0);
	for (int h = 0; h < 4; h++)
		n[h] = host_tlb_log_count(h);
	as_destroy(t->as);
	/* Hart 2 forgot the space before the fini: by a remote full flush,
	 * or by the cross-hart call that frees the emptied leaf table (it
	 * flushes the whole TLB, so the unmap sends no shootdown). */
	KT_EXPECT((find_ev(2, n[2], HOST_TLB_REMOTE, t->as, 0x1000, &ev) &&
		   ev.len == 0) ||
		  find_ev(2, n[2], HOST_TLB_ALL, NULL, 0, &ev));
	KT_ASSERT(find_ev(0, n[0], HOST_TLB_FINI, t->as, 0, &fini));
	KT_EXPECT(fini.seq > ev.seq);
	/* The tables are freed after a sync that follows the fini (earlier
	 * syncs may free emptied leaf tables). */
	for (unsigned int h = 0; h < 4; h++)
		KT_EXPECT(find_ev_after(h, n[h], HOST_TLB_ALL, fini.seq));
}

KTEST(tlb_destroy_flushes)
{
	struct td t = { .kt = kt };
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(8), 0);
	start = frame_free_count();
	t.as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(t.as);
	mm_smp_run(4, destroy_worker, &t);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/* ---- the host grace period itself --------------------------------------- */

struct gp {
	struct ktest_ctx *kt;
	unsigned int entered, left, stop;	/* flags */
	uint64_t elapsed;
};

/* Hart 1 stays "in a walk" (interrupts off) for 50 ms; hart 0's
 * tlb_sync_all() must not return before it leaves. */
static void gp_irqoff(unsigned int id, void *p)
{
	struct gp *g = p;
	struct ktest_ctx *kt = g->kt;
	uint64_t t0;

	if (id == 1) {
		irq_push();
		mm_set_flag(&g->entered, 1);
		t0 = mm_now();
		while (mm_now() - t0 < 50000000) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);	/* signals come in here */
		}
		mm_set_flag(&g->left, 1);
		irq_pop();
		return;
	}
	if (id != 0)
		return;
	mm_wait_flag(&g->entered, 1);
	t0 = mm_now();
	tlb_sync_all();
	g->elapsed = mm_now() - t0;
	KT_EXPECT_EQ(__atomic_load_n(&g->left, __ATOMIC_ACQUIRE), 1);
}

KTEST(grace_waits_for_irqs_on)
{
	struct gp g = { .kt = kt };

	KT_ASSERT_EQ(mm_setup(4), 0);
	mm_smp_run(2, gp_irqoff, &g);
	KT_EXPECT(find_ev(1, 0, HOST_TLB_ALL, NULL, 0, NULL));
	KT_INFO("sync waited %lu ms; %lu signals found interrupts off",
		(unsigned long)(g.elapsed / 1000000),
		(unsigned long)host_mm_stats.deferred_signal);
}

/* Hart 1 spins with interrupts on and never polls: the "IPI" (signal)
 * alone must get the call through. */
static void gp_spin(unsigned int id, void *p)
{
	struct gp *g = p;
	uint64_t t0 = mm_now();

	if (id == 1) {
		while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE) &&
		       mm_now() - t0 < 5000000000ULL) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
		return;
	}
	if (id != 0)
		return;
	tlb_sync_all();
	g->elapsed = mm_now() - t0;
	mm_set_flag(&g->stop, 1);
}

KTEST(grace_served_by_ipi)
{
	struct gp g = { .kt = kt };

	KT_ASSERT_EQ(mm_setup(4), 0);
	mm_smp_run(2, gp_spin, &g);
	KT_EXPECT(g.elapsed < 2000000000ULL);
	KT_EXPECT(host_mm_stats.served_signal >= 1);
	KT_EXPECT(find_ev(1, 0, HOST_TLB_ALL, NULL, 0, NULL));
	KT_INFO("sync took %lu us", (unsigned long)(g.elapsed / 1000));
}

/* xcall_mask runs on exactly the harts asked for that are online. */
static unsigned int xc_bits;

static void xc_mark(void *arg)
{
	__atomic_fetch_or(&xc_bits, 1u << hart_self(), __ATOMIC_RELAXED);
}

static void xc_worker(unsigned int id, void *p)
{
	struct gp *g = p;
	struct ktest_ctx *kt = g->kt;
	hartmask_t m;

	if (id == 3) {
		host_hart_offline();
		mm_set_flag(&g->entered, 1);
		return;
	}
	if (id != 0)
		return;
	mm_wait_flag(&g->entered, 1);
	memset(m, 0, sizeof(m));
	hartmask_set(m, 0);
	hartmask_set(m, 2);
	xc_bits = 0;
	KT_EXPECT_EQ(xcall_mask(m, xc_mark, NULL), 2);
	KT_EXPECT_EQ(xc_bits, 0x5);
	memset(m, 0, sizeof(m));
	hartmask_set(m, 1);
	hartmask_set(m, 3);		/* offline: skipped */
	xc_bits = 0;
	KT_EXPECT_EQ(xcall_mask(m, xc_mark, NULL), 1);
	KT_EXPECT_EQ(xc_bits, 0x2);
	xc_bits = 0;
	KT_EXPECT_EQ(xcall_all(xc_mark, NULL), 3);
	KT_EXPECT_EQ(xc_bits, 0x7);
}

KTEST(xcall_targets)
{
	struct gp g = { .kt = kt };

	KT_ASSERT_EQ(mm_setup(4), 0);
	mm_smp_run(4, xc_worker, &g);
}

/* Every hart syncs at once, over and over: no deadlock, and every hart
 * ran every call (its own and the 7 others'). */
#define STORM 100

static void storm(unsigned int id, void *p)
{
	for (int i = 0; i < STORM; i++) {
		tlb_sync_all();
		host_hart_poll();
	}
}

KTEST(xcall_storm)
{
	uint64_t ns;
	bool all = true;

	KT_ASSERT_EQ(mm_setup(4), 0);
	ns = mm_smp_run(MM_HARTS, storm, NULL);
	for (unsigned int h = 0; h < MM_HARTS; h++)
		all &= KT_EXPECT_EQ(host_tlb_log_count(h), MM_HARTS * STORM);
	KT_EXPECT_EQ(tlb_stats.syncs, MM_HARTS * STORM);
	KT_INFO("%d harts x %d syncs in %lu ms: %lu by signal, %lu at poll, "
		"%lu while waiting, %lu signals", MM_HARTS, STORM,
		(unsigned long)(ns / 1000000),
		(unsigned long)host_mm_stats.served_signal,
		(unsigned long)host_mm_stats.served_poll,
		(unsigned long)host_mm_stats.served_wait,
		(unsigned long)host_mm_stats.ipis);
}

KTEST_SUITE(tlb_suite, "mm_tlb", KTEST_CASE(tlb_shootdown_split),
	    KTEST_CASE(tlb_shootdown_single), KTEST_CASE(tlb_unmap_batches_split),
	    KTEST_CASE(tlb_unmap_batches_single),
	    KTEST_CASE(tlb_unmap_batch_held_split),
	    KTEST_CASE(tlb_unmap_batch_held_single),
	    KTEST_CASE(tlb_unmap_shared_frame),
	    KTEST_CASE(tlb_unmap_shared_race),
	    KTEST_CASE(tlb_nested_unmap_split),
	    KTEST_CASE(tlb_nested_unmap_single),
	    KTEST_CASE(tlb_nested_unmap_table_gone_split),
	    KTEST_CASE(tlb_nested_unmap_table_gone_single),
	    KTEST_CASE(tlb_nested_evict), KTEST_CASE(tlb_nested_protect),
	    KTEST_CASE(tlb_nested_share), KTEST_CASE(tlb_nested_disjoint),
	    KTEST_CASE(tlb_destroy_flushes),
	    KTEST_CASE(grace_waits_for_irqs_on),
	    KTEST_CASE(grace_served_by_ipi), KTEST_CASE(xcall_targets),
	    KTEST_CASE(xcall_storm));
