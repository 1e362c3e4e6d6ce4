/*
 * as.c - address spaces: creation, mapping calls, regions, fault
 * resolution, teardown
 *
 * Every mapping call validates its arguments before it changes anything,
 * works one leaf table (2 MiB) at a time under that table's lock, and
 * gives frames back only after a TLB shootdown.
 */
#include "mm_internal.h"
#include <mm/tlb.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <arch/memlayout.h>

enum ptlock_mode ptlock_default =
#if CONFIG_MAX_HARTS >= CONFIG_SPLIT_PTLOCK_HARTS
	PTLOCK_SPLIT;
#else
	PTLOCK_SINGLE;
#endif

const char *ptlock_mode_name(enum ptlock_mode m)
{
	return m == PTLOCK_SPLIT ? "split" : "single";
}

static bool range_ok(vaddr_t va, size_t len)
{
	return IS_ALIGNED(va, PAGE_SIZE) && IS_ALIGNED(len, PAGE_SIZE) &&
	       len != 0 && va + len > va && va + len <= AS_USER_TOP;
}

static bool prot_ok(unsigned int prot)
{
	if (prot & ~AS_PROT_MASK)
		return false;
	/* W without R is a reserved PTE encoding (Priv. spec 4.3.1);
	 * a page with no access at all is an unmap, not a protection. */
	if ((prot & AS_PROT_W) && !(prot & AS_PROT_R))
		return false;
	/* Security rule: user pages are never writable and executable. */
	if ((prot & AS_PROT_USER) && (prot & AS_PROT_W) && (prot & AS_PROT_X))
		return false;
	return prot & (AS_PROT_R | AS_PROT_X);
}

struct as *as_create(enum ptlock_mode mode)
{
	struct frame *af = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
	struct as *as;

	_Static_assert(sizeof(struct as) <= PAGE_SIZE, "struct as in a frame");
	if (!af)
		return NULL;
	as = frame_to_kva(af);
	as->root_frame = frame_alloc_pt(2);
	if (!as->root_frame) {
		frame_free(af);
		return NULL;
	}
	spin_init(&as->lock, LOCK_CLASS_AS);
	for (int i = 0; i < AS_MAX_REGIONS; i++)
		spin_init(&as->regions[i].lock, LOCK_CLASS_REGION);
	as->mode = mode;
	as->root = frame_to_kva(as->root_frame);
	as->nr_pt = 1;
	arch_as_init(as);
	return as;
}

/*
 * Clear the leaves of [va, end) inside one leaf table (pl locked), until
 * @batch is full or an entry is busy (*@busy set: a copy-on-write break
 * owns it until it makes it valid again, see cow_break; the caller waits
 * for that with the lock dropped, then goes on from there).
 * Return: the address where it stopped.
 */
static vaddr_t clear_leaves(struct as *as, struct pt_leaf *pl, vaddr_t va,
			    vaddr_t end, struct frame_batch *batch, bool *busy)
{
	vaddr_t lo = 0, hi = 0;		/* span cleared here, if hi */
	unsigned int n = 0;

	for (; va < end && batch_room(batch); va += PAGE_SIZE) {
		pte_t *p = &pl->ptes[SV39_INDEX(va, 0)];
		pte_t e = *p;
		struct frame *f;

		if (pte_is_none(e))
			continue;
		if (unlikely(pte_is_busy(e))) {
			*busy = true;
			break;
		}
		__atomic_store_n(p, 0, __ATOMIC_RELAXED);
		pl->table->pt.nr_valid--;
		n++;
		if (!hi)
			lo = va;
		hi = va + PAGE_SIZE;
		f = pa_to_frame(pte_pa(e));
		if (f) {
			__atomic_fetch_sub(&f->user.mapcount, 1,
					   __ATOMIC_RELEASE);
			batch_add_user(batch, f);
		}
	}
	if (hi) {			/* widen the batch's span */
		if (!batch->cleared || lo < batch->lo)
			batch->lo = lo;
		if (!batch->cleared || hi > batch->hi)
			batch->hi = hi;
		batch->cleared = true;
	}
	batch->pages_cleared += n;
	return va;
}

/* Unmap [va, va+len), flushing and freeing whenever the batch fills and
 * cannot grow; what is left in @batch is for the caller to flush. */
static void unmap_range_guarded(struct as *as, vaddr_t va, size_t len,
				struct frame_batch *batch,
				const struct as_region *guard,
				unsigned int gseq)
{
	vaddr_t end = va + len;

	while (va < end) {
		vaddr_t next = MIN(leaf_base(va) + SV39_MEGA, end);
		vaddr_t skip = pt_next_populated(as, va);
		struct pt_leaf pl;
		bool empty = false, busy = false;

		if (skip > va) {	/* no leaf table here: jump over */
			va = MIN(skip, end);
			continue;
		}
		if (pt_leaf_lock(as, va, false, &pl) == 0) {
			vaddr_t stop;

			/* Only while the guarding region is what it was (an
			 * eviction must not clear a newer region's pages). */
			if (guard && __atomic_load_n(&guard->seq,
						     __ATOMIC_ACQUIRE) != gseq) {
				pt_leaf_unlock(as, &pl);
				return;
			}
			stop = clear_leaves(as, &pl, va, next, batch, &busy);

			empty = pl.table->pt.nr_valid == 0;
			pt_leaf_unlock(as, &pl);
			if (empty)
				pt_leaf_release_if_empty(as, va, batch);
			if (!batch_room(batch) && !batch_grow(batch))
				batch_flush(as, batch);	/* no lock held */
			if (stop < next) {
				/* A busy entry: its break ends in a bounded
				 * time (interrupts off on its hart, waiting
				 * for nobody but the firmware's fences), and
				 * needs the leaf lock we just dropped. */
				if (busy) {
					arch_race_window(MM_RACE_COW_WAIT);
					arch_cpu_relax();
				}
				va = stop;
				continue;
			}
		}
		va = next;
	}
}

static void unmap_range(struct as *as, vaddr_t va, size_t len,
			struct frame_batch *batch)
{
	unmap_range_guarded(as, va, len, batch, NULL, 0);
}

int as_unmap(struct as *as, vaddr_t va, size_t len)
{
	struct frame_batch batch;

	if (!range_ok(va, len))
		return -E_INVAL;
	batch_begin(as, &batch);
	unmap_range(as, va, len, &batch);
	batch_end(as, &batch, va, va + len);
	return 0;
}

int as_map_frame(struct as *as, vaddr_t va, struct frame *f,
		 unsigned int prot)
{
	struct pt_leaf pl;
	pte_t *p;
	int err;

	if (!range_ok(va, PAGE_SIZE) || !prot_ok(prot) || !f ||
	    !(f->flags & FRAME_F_USER))
		return -E_INVAL;
	err = pt_leaf_lock(as, va, true, &pl);
	if (err)
		return err;
	p = &pl.ptes[SV39_INDEX(va, 0)];
	if (!pte_is_none(*p)) {		/* mapped, or being replaced */
		err = -E_EXIST;
	} else {
		__atomic_fetch_add(&f->user.mapcount, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&f->refcount, 1, __ATOMIC_RELAXED);
		/* Release: the frame's contents before the mapping. */
		__atomic_store_n(p, pte_make(frame_to_pa(f), pt_prot_bits(prot)),
				 __ATOMIC_RELEASE);
		pl.table->pt.nr_valid++;
	}
	pt_leaf_unlock(as, &pl);
	return err;
}

int as_map_anon(struct as *as, vaddr_t va, size_t len, unsigned int prot)
{
	int err = 0;
	vaddr_t v;

	if (!range_ok(va, len) || !prot_ok(prot))
		return -E_INVAL;
	for (v = va; v < va + len; v += PAGE_SIZE) {
		struct frame *f = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);

		if (!f) {
			err = -E_NOMEM;
			break;
		}
		err = as_map_frame(as, v, f, prot);
		/* The mapping holds its own reference now (or none). */
		if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0)
			frame_free(f);
		if (err)
			break;
	}
	if (err && v > va)
		as_unmap(as, va, v - va);
	return err;
}

/* Give the mapped pages of [va, va+len) the rights @prot, one leaf table
 * at a time. A copy-on-write page stays read-only (its writer must still
 * fault and copy): it takes the new rights but W, and keeps its COW mark.
 * A busy page (cow_break is replacing it) takes them too and stays busy.
 * The break installs its copy only over the very busy value it stored and
 * only if the region's count has not moved (as_region_protect moves it
 * before it gets here); otherwise it puts the page back, with the rights
 * given here, and the fault looks again.
 * Return: true if a right was taken away (the caller shoots down). */
static bool protect_pages(struct as *as, vaddr_t va, size_t len,
			  unsigned int prot)
{
	vaddr_t end = va + len;
	bool reduced = false;

	while (va < end) {
		vaddr_t next = MIN(leaf_base(va) + SV39_MEGA, end);
		struct pt_leaf pl;

		if (pt_leaf_lock(as, va, false, &pl) == 0) {
			for (vaddr_t v = va; v < next; v += PAGE_SIZE) {
				pte_t *p = &pl.ptes[SV39_INDEX(v, 0)];
				pte_t e = *p, n;

				if (pte_is_none(e))
					continue;
				if (e & PTE_COW)
					n = pte_make(pte_pa(e),
						     pt_prot_bits(prot &
								  ~AS_PROT_W)) |
					    PTE_COW;
				else
					n = pte_make(pte_pa(e),
						     pt_prot_bits(prot));
				if (pte_is_busy(e))
					n = pte_mkbusy(n);
				if (pt_pte_prot(e) & ~pt_pte_prot(n))
					reduced = true;
				__atomic_store_n(p, n, __ATOMIC_RELEASE);
			}
			pt_leaf_unlock(as, &pl);
		}
		va = next;
	}
	return reduced;
}

int as_protect(struct as *as, vaddr_t va, size_t len, unsigned int prot)
{
	bool reduced;

	if (!range_ok(va, len) || !prot_ok(prot))
		return -E_INVAL;
	/* Taking a permission away needs every hart to forget it; so do
	 * rights another call took away and has not shot down yet (we may
	 * have found them gone: mm_internal.h, as_flush_begin). */
	as_flush_begin(as);
	reduced = protect_pages(as, va, len, prot);
	arch_race_window(MM_RACE_FLUSH_PENDING);
	if (reduced || as_flush_others(as))
		tlb_shootdown(as, va, len);
	as_flush_end(as);
	return 0;
}

int as_lookup(struct as *as, vaddr_t va, paddr_t *pa, unsigned int *prot)
{
	struct pt_leaf pl;
	pte_t e;
	int err;

	if (va >= AS_USER_TOP)
		return -E_INVAL;
	for (;;) {
		err = pt_leaf_lock(as, ALIGN_DOWN(va, PAGE_SIZE), false, &pl);
		if (err)
			return err;
		e = pl.ptes[SV39_INDEX(va, 0)];
		pt_leaf_unlock(as, &pl);
		if (likely(!pte_is_busy(e)))
			break;
		/* Neither frame is the page's now: wait for its break
		 * (cow_break) to install the copy or put the old one back. */
		arch_race_window(MM_RACE_COW_WAIT);
		arch_cpu_relax();
	}
	if (!pte_is_valid(e))
		return -E_NOENT;
	if (pa)
		*pa = pte_pa(e) + (va & (PAGE_SIZE - 1));
	if (prot)
		*prot = pt_pte_prot(e);
	return 0;
}

/* ---- regions --------------------------------------------------------------
 *
 * The region table is a fixed array of slots (struct as_region in as.h).
 * Writers hold as->lock and bracket every change of a slot with two bumps
 * of that slot's own sequence count; faults read slots without a lock and
 * without writing anything, so faults in disjoint regions share no written
 * word, and a change to one region makes only the faults in that region
 * look again.
 *
 * A lockless pass can miss a region that a writer is moving to another
 * slot (cutting a hole fills the tail's new slot, then shrinks the old
 * one; a reader that saw the new slot before and the old one after misses
 * the tail). So a miss is confirmed under as->lock before it is believed:
 * only accesses outside every region, which kill their process, pay that.
 */

struct region_ref {
	struct as_region *r;
	unsigned int seq;
	unsigned int prot;
	vaddr_t start;
	void *pager;
	unsigned long key, pgoff;
};

static bool slot_free(const struct as_region *r)
{
	return r->start == r->end;
}

static void slot_write_begin(struct as_region *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	/* The odd count before any of the new values. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void slot_write_end(struct as_region *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

/* Fill slot @r (as->lock held); start == end frees it. Pager references
 * are the callers' business. */
static void slot_set(struct as_region *r, vaddr_t start, vaddr_t end,
		     unsigned int prot, void *pager, unsigned long key,
		     unsigned long pgoff)
{
	slot_write_begin(r);
	__atomic_store_n(&r->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&r->end, end, __ATOMIC_RELAXED);
	__atomic_store_n(&r->prot, prot, __ATOMIC_RELAXED);
	__atomic_store_n(&r->pager, pager, __ATOMIC_RELAXED);
	__atomic_store_n(&r->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&r->pgoff, pgoff, __ATOMIC_RELAXED);
	slot_write_end(r);
}

/* Change only the bounds or rights of slot @r, keeping its pager (and
 * where in the pager's object each page is). */
static void slot_reshape(struct as_region *r, vaddr_t start, vaddr_t end,
			 unsigned int prot)
{
	slot_set(r, start, end, prot, r->pager, r->key,
		 r->pgoff + (start - r->start));
}

/* Pager references, except for device regions (no object behind them). */
static int pager_ref(void *pager, struct as *as, int delta)
{
	if (!pager || pager == AS_PAGER_DEVICE)
		return 0;
	return as_pager_ref(pager, as, delta);
}

static struct as_region *slot_get_free(struct as *as)
{
	for (int i = 0; i < AS_MAX_REGIONS; i++)
		if (slot_free(&as->regions[i]))
			return &as->regions[i];
	return NULL;
}

/* Does [start, end) overlap a live or dying region? (as->lock held) */
static bool range_taken(struct as *as, vaddr_t start, vaddr_t end)
{
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];

		if (!slot_free(r) && start < r->end && end > r->start)
			return true;
	}
	return false;
}

/* The lowest address >= @from where @len bytes and a guard page after
 * them overlap no region (as->lock held), or 0. */
static vaddr_t find_gap(struct as *as, vaddr_t from, size_t len)
{
	vaddr_t va = ALIGN_UP(from, PAGE_SIZE);

	for (int moved = 1; moved;) {
		moved = 0;
		if (va + len + PAGE_SIZE < va ||
		    va + len + PAGE_SIZE > AS_USER_TOP)
			return 0;
		for (int i = 0; i < AS_MAX_REGIONS; i++) {
			struct as_region *r = &as->regions[i];

			if (!slot_free(r) && va < r->end + PAGE_SIZE &&
			    va + len + PAGE_SIZE > r->start) {
				va = r->end + PAGE_SIZE;
				moved = 1;
			}
		}
	}
	return va;
}

/* Add a region at @*start, or (@*start 0) at the first gap from @from. */
static int region_add(struct as *as, vaddr_t *start, size_t len,
		      unsigned int prot, void *pager, unsigned long key,
		      vaddr_t from)
{
	struct as_region *r;
	int err = 0;

	if ((*start || !from) && !range_ok(*start, len))
		return -E_INVAL;
	if (!range_ok(ALIGN_UP(from, PAGE_SIZE) + PAGE_SIZE, len) ||
	    !prot_ok(prot))
		return -E_INVAL;
	spin_lock(&as->lock);
	if (!*start && !(*start = find_gap(as, from, len)))
		err = -E_NOMEM;
	else if (range_taken(as, *start, *start + len))
		err = -E_EXIST;
	else if (!(r = slot_get_free(as)))
		err = -E_NOMEM;
	else
		err = pager_ref(pager, as, 1);
	if (!err) {
		slot_set(r, *start, *start + len, prot, pager, key, 0);
		as->nregions++;
	}
	spin_unlock(&as->lock);
	return err;
}

int as_region_add(struct as *as, vaddr_t start, size_t len,
		  unsigned int prot)
{
	return region_add(as, &start, len, prot, NULL, 0, 0);
}

int as_region_add_at(struct as *as, vaddr_t *start, size_t len,
		     unsigned int prot, void *pager, unsigned long key,
		     vaddr_t from)
{
	return region_add(as, start, len, prot, pager, key, from);
}

int as_region_unmap(struct as *as, vaddr_t start, size_t len)
{
	vaddr_t end = start + len;
	struct as_region *hold = NULL;
	int nfree = 0, need = 1, err;

	if (!range_ok(start, len))
		return -E_INVAL;
	spin_lock(&as->lock);
	/* Check before changing anything: a slot to reserve the range (a
	 * free one, or the slot of a region the range covers whole), and a
	 * free one more if the range cuts a region in two. */
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];

		if (slot_free(r))
			nfree++;
		else if (r->prot && start <= r->start && end >= r->end &&
			 !hold)
			hold = r;
		else if (r->prot && start > r->start && end < r->end)
			need = 2;
	}
	if (nfree + (hold != NULL) < need) {
		spin_unlock(&as->lock);
		return -E_NOMEM;
	}
	/* The reservation first: from here on no new region can be added
	 * in the range, and no fault finds one there. */
	if (hold) {
		/* Its region ends here. */
		pager_ref(hold->pager, as, -1);
		slot_set(hold, start, end, 0, NULL, 0, 0);
	} else {
		hold = slot_get_free(as);
		slot_set(hold, start, end, 0, NULL, 0, 0);
		as->nregions++;
	}
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];
		vaddr_t rs = r->start, re = r->end;
		unsigned int prot = r->prot;

		if (!prot || end <= rs || start >= re)
			continue;		/* free, dying, or outside */
		if (start <= rs && end >= re) {		/* all of it */
			pager_ref(r->pager, as, -1);
			slot_set(r, 0, 0, 0, NULL, 0, 0);
			as->nregions--;
		} else if (start <= rs) {
			slot_reshape(r, end, re, prot);
		} else if (end >= re) {
			slot_reshape(r, rs, start, prot);
		} else {				/* a hole inside */
			/* The tail's new slot before the old one shrinks: a
			 * reader sees the tail in at least one of them (or
			 * confirms its miss under as->lock). The tail keeps
			 * the pager, with a reference of its own (this
			 * address space is already its client: no -E_NOMEM). */
			pager_ref(r->pager, as, 1);
			slot_set(slot_get_free(as), end, re, prot, r->pager,
				 r->key, r->pgoff + (end - rs));
			as->nregions++;
			slot_reshape(r, rs, start, prot);
		}
	}
	spin_unlock(&as->lock);

	err = as_unmap(as, start, len);

	spin_lock(&as->lock);
	slot_set(hold, 0, 0, 0, NULL, 0, 0);
	as->nregions--;
	spin_unlock(&as->lock);
	return err;
}

/* Read slot @r consistently into @ref (all but ref->r). Return: false
 * if it is being written. */
static inline bool slot_read(struct as_region *r, struct region_ref *ref,
			     vaddr_t *end)
{
	unsigned int s = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);

	if (s & 1)
		return false;
	ref->start = __atomic_load_n(&r->start, __ATOMIC_RELAXED);
	*end = __atomic_load_n(&r->end, __ATOMIC_RELAXED);
	ref->prot = __atomic_load_n(&r->prot, __ATOMIC_RELAXED);
	ref->pager = __atomic_load_n(&r->pager, __ATOMIC_RELAXED);
	ref->key = __atomic_load_n(&r->key, __ATOMIC_RELAXED);
	ref->pgoff = __atomic_load_n(&r->pgoff, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	ref->seq = s;
	return __atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s;
}

/* Does slot @r hold @va in a live region? If so, fill @ref. */
static inline bool slot_match(struct as_region *r, vaddr_t va,
			      struct region_ref *ref)
{
	vaddr_t e;

	while (!slot_read(r, ref, &e))
		arch_cpu_relax();
	arch_race_window(MM_RACE_REGION_SCAN);
	if (ref->prot && va >= ref->start && va < e) {
		ref->r = r;
		return true;
	}
	return false;
}

/*
 * The slot in which each hart last found a fault's region, tried first:
 * a fault mostly lands in the region of the fault before it (pf-anon's
 * loop finds its region in the third slot it reads without this). Owner
 * hart only (relaxed atomics: a thread that moved to another hart since
 * reading its id may write another's hint, harmlessly), each on its own
 * cache line. Only a hint: the slot is read and checked like any other,
 * so it may come from another address space.
 */
static struct {
	unsigned int slot;
} __cacheline_aligned region_hints[CONFIG_MAX_HARTS];

static bool region_scan(struct as *as, vaddr_t va, struct region_ref *ref)
{
	unsigned int *hint = &region_hints[hart_self()].slot;
	unsigned int h = __atomic_load_n(hint, __ATOMIC_RELAXED);

	if (h < AS_MAX_REGIONS && slot_match(&as->regions[h], va, ref))
		return true;
	for (unsigned int i = 0; i < AS_MAX_REGIONS; i++) {
		if (i != h && slot_match(&as->regions[i], va, ref)) {
			__atomic_store_n(hint, i, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

/*
 * region_find - the live region holding @va, with its rights and the
 * slot's sequence count as read (for region_changed).
 */
static bool region_find(struct as *as, vaddr_t va, struct region_ref *ref)
{
	bool found;

	if (region_scan(as, va, ref))
		return true;
	spin_lock(&as->lock);		/* no writer now: a miss is a miss */
	found = region_scan(as, va, ref);
	spin_unlock(&as->lock);
	return found;
}

/* Has the region found by region_find changed since? Called with the
 * leaf lock of the faulting address held: every region writer bumps the
 * count under as->lock before it touches a page-table entry of the
 * region, and a leaf table that did not exist then is created under
 * as->lock, so an unchanged count means the region still holds. */
static bool region_changed(const struct region_ref *ref)
{
	if (__atomic_load_n(&ref->r->seq, __ATOMIC_ACQUIRE) == ref->seq)
		return false;
	this_hart()->mm_region_retries++;
	return true;
}

unsigned long as_region_version(struct as *as)
{
	unsigned long v = 0;

	for (int i = 0; i < AS_MAX_REGIONS; i++)
		v += __atomic_load_n(&as->regions[i].seq, __ATOMIC_RELAXED);
	return v;
}

int as_region_protect(struct as *as, vaddr_t start, size_t len,
		      unsigned int prot)
{
	vaddr_t end = start + len;
	uint64_t hit = 0;
	int err = 0;

	_Static_assert(AS_MAX_REGIONS <= 64, "a bit per slot");
	if (!range_ok(start, len) || !prot_ok(prot))
		return -E_INVAL;
	spin_lock(&as->lock);
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];

		if (slot_free(r) || end <= r->start || start >= r->end)
			continue;
		if (!r->prot || r->start < start || r->end > end)
			err = -E_INVAL;	/* would cut a region, or dying */
		hit |= BIT(i);
	}
	spin_unlock(&as->lock);
	if (!err && !hit)
		err = -E_NOENT;
	if (err)
		return err;
	/* One region at a time, under its own lock: its rights, then its
	 * pages (with a shootdown when a right goes, or when another call
	 * may have taken it and not yet shot it down: as_protect). */
	as_flush_begin(as);
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];
		vaddr_t rs, re;
		bool mine, reduced;

		if (!(hit & BIT(i)))
			continue;
		/* Look again under the locks: it may have changed. */
		spin_lock(&r->lock);
		spin_lock(&as->lock);
		rs = r->start;
		re = r->end;
		mine = r->prot && rs >= start && re <= end && rs < re;
		if (mine)
			slot_reshape(r, rs, re, prot);
		spin_unlock(&as->lock);
		reduced = mine && protect_pages(as, rs, re - rs, prot);
		spin_unlock(&r->lock);
		arch_race_window(MM_RACE_FLUSH_PENDING);
		/* No lock held: the shootdown waits for other harts. */
		if (reduced || (mine && as_flush_others(as)))
			tlb_shootdown(as, rs, re - rs);
	}
	as_flush_end(as);
	return 0;
}

static bool access_allowed(pte_t e, enum as_access access)
{
	switch (access) {
	case AS_ACCESS_READ: return e & PTE_R;
	case AS_ACCESS_WRITE: return e & PTE_W;
	case AS_ACCESS_EXEC: return e & PTE_X;
	}
	return false;
}

/*
 * cow_break - a write to a copy-on-write page of @as at @va
 *
 * If the region does not allow writing, the fault stands. If this mapping
 * holds the frame's only reference, the page simply becomes writable (a
 * right is only added: no shootdown). Otherwise the writer gets a copy,
 * break before make, so that no hart can reach the old frame at @va once
 * the copy can be reached there (else a thread could write the copy, then
 * a flag elsewhere, and a thread on another hart see the flag and read
 * the old frame through its stale read-only TLB entry):
 *
 *   1. Under the leaf lock the entry becomes busy (pte_mkbusy): not
 *      walkable, but still the old frame's mapping, holding its mapcount,
 *      its reference and its count in nr_valid.
 *   2. With no lock held, tlb_shootdown of @va: from its return no hart
 *      reaches the old frame here. (Nor through a writable entry an
 *      unfinished as_cow_share left in a TLB: the copy misses no write.)
 *   3. Allocate the copy and copy the old frame into it.
 *   4. Under the leaf lock the copy's entry replaces the busy one if that
 *      is still the value stored in 1 and the region's count has not
 *      moved; otherwise (a protect changed its rights, the region is
 *      being re-protected or unmapped, or no frame could be had) the old
 *      entry comes back as it is now, and the fault is looked at again.
 *
 * While the entry is busy, nothing but this function makes it anything
 * else: faults on it retry (fault_present), unmaps wait for it with no
 * lock held (clear_leaves), protects change its rights and leave it busy,
 * sharing shares the old frame, lookups wait, and nothing installs over
 * it (installs need pte_is_none). So the old frame needs no reference of
 * ours, and its table is not emptied meanwhile. Interrupts stay off from
 * 1 to 4, as under a spinlock: this hart is not switched away while
 * others wait for it, and it waits for nobody but the firmware's remote
 * fences and the frame allocator.
 *
 * Locks: takes and drops the leaf lock of @va (twice on the copy path);
 * never holds it across the shootdown.
 * Return: 0, -E_FAULT, -E_NOMEM, or -E_AGAIN (look again).
 */
static int cow_break(struct as *as, vaddr_t va)
{
	struct region_ref ref;
	struct frame *old, *copy;
	struct pt_leaf pl;
	pte_t *p, e, busy, now;
	int err;

	if (!region_find(as, va, &ref) || !(ref.prot & AS_PROT_W))
		return -E_FAULT;
	err = pt_leaf_lock(as, va, false, &pl);
	if (err)
		return err == -E_NOENT ? -E_AGAIN : err;
	p = &pl.ptes[SV39_INDEX(va, 0)];
	e = *p;
	/* The rights we read must still hold (a protect may be taking W). */
	if (!pte_is_valid(e) || !(e & PTE_COW) || region_changed(&ref)) {
		pt_leaf_unlock(as, &pl);
		return -E_AGAIN;
	}
	old = pa_to_frame(pte_pa(e));
	/* Under our leaf lock nobody can add a reference to @old (sharing
	 * takes this same lock), so a count of one stays one. */
	if (__atomic_load_n(&old->refcount, __ATOMIC_ACQUIRE) == 1) {
		__atomic_store_n(p, (e & ~PTE_COW) | PTE_W | PTE_D | PTE_A,
				 __ATOMIC_RELEASE);
		pt_leaf_unlock(as, &pl);
		tlb_flush_local_page(as, va);
		return 0;
	}
	/* 1. Busy. Interrupts stay off until 4 (one level more than the
	 * lock's, which the unlock drops). Relaxed: tlb_shootdown's full
	 * fence orders the store before the remote fences. */
	irq_push();
	busy = pte_mkbusy(e);
	__atomic_store_n(p, busy, __ATOMIC_RELAXED);
	pt_leaf_unlock(as, &pl);

	/* 2. Nobody reaches the old frame at @va from here on. */
	tlb_shootdown(as, va, PAGE_SIZE);
	arch_race_window(MM_RACE_COW_BUSY);

	/* 3. After 2, so no write to @old through @va is missed; the busy
	 * entry keeps @old. */
	copy = frame_alloc(0, FRAME_F_USER);
	if (copy)
		memcpy(frame_to_kva(copy), frame_to_kva(old), PAGE_SIZE);

	/* 4. The table cannot have gone: the busy entry keeps it in use. */
	if (pt_leaf_lock(as, va, false, &pl))
		panic("as: cow_break lost the leaf table of busy va %#lx",
		      (unsigned long)va);
	p = &pl.ptes[SV39_INDEX(va, 0)];
	now = *p;
	if (!pte_is_busy(now) || pte_pa(now) != pte_pa(e))
		panic("as: busy entry of va %#lx changed under cow_break "
		      "(%#lx, was %#lx)",
		      (unsigned long)va, (unsigned long)now,
		      (unsigned long)busy);
	if (copy && now == busy && !region_changed(&ref)) {
		pte_t n = pte_make(frame_to_pa(copy),
				   pt_prot_bits(pt_pte_prot(e) | AS_PROT_W));

		__atomic_fetch_add(&copy->user.mapcount, 1, __ATOMIC_RELAXED);
		/* Release: the copy's contents before the mapping. */
		__atomic_store_n(p, n, __ATOMIC_RELEASE);
		arch_race_window(MM_RACE_COW_INSTALL);
		__atomic_fetch_sub(&old->user.mapcount, 1, __ATOMIC_RELEASE);
		copy = NULL;
		err = 0;
	} else {
		/* The old page back, with the rights it has now. */
		__atomic_store_n(p, pte_unbusy(now), __ATOMIC_RELEASE);
		old = NULL;
		err = copy ? -E_AGAIN : -E_NOMEM;
	}
	pt_leaf_unlock(as, &pl);
	irq_pop();
	/*
	 * No flush now: the old translation went in 2, and a hart that
	 * cached the busy entry (not valid) only takes a spurious fault.
	 * The busy entry's reference to @old is ours to drop, or the copy
	 * ours to free.
	 */
	if (old && __atomic_sub_fetch(&old->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		frame_free(old);
	if (copy)
		frame_free(copy);
	return err;
}

int as_cow_share(struct as *src, struct as *dst, vaddr_t va, size_t len)
{
	struct {
		vaddr_t va;
		struct frame *f;
		pte_t bits;
	} got[32];
	struct as_region *r = NULL;
	unsigned int prot = 0;
	bool reduced = false;
	vaddr_t v = va, end = va + len;
	int err = 0;

	if (!range_ok(va, len) || src == dst)
		return -E_INVAL;
	spin_lock(&src->lock);
	for (int i = 0; i < AS_MAX_REGIONS; i++)
		if (src->regions[i].prot && src->regions[i].start == va &&
		    src->regions[i].end == end)
			r = &src->regions[i];
	if (r && r->pager)
		err = -E_INVAL;		/* only anonymous memory */
	spin_unlock(&src->lock);
	if (err)
		return err;
	if (!r)
		return -E_NOENT;	/* must be exactly one region */
	/* The region's lock keeps its rights still while its pages become
	 * copy-on-write; then make sure it is still the region we found. */
	spin_lock(&r->lock);
	spin_lock(&src->lock);
	if (r->prot && r->start == va && r->end == end && !r->pager)
		prot = r->prot;
	spin_unlock(&src->lock);
	err = prot ? as_region_add(dst, va, len, prot) : -E_NOENT;
	if (err) {
		spin_unlock(&r->lock);
		return err;
	}
	/* Counted: our writers may still hold W that another call took. */
	as_flush_begin(src);
	while (v < end && !err) {
		vaddr_t next = MIN(leaf_base(v) + SV39_MEGA, end);
		unsigned int n = 0;
		struct pt_leaf pl;

		if (pt_leaf_lock(src, v, false, &pl) == 0) {
			for (; v < next && n < ARRAY_SIZE(got); v += PAGE_SIZE) {
				pte_t *p = &pl.ptes[SV39_INDEX(v, 0)];
				pte_t e = *p;
				struct frame *f;

				/* A busy page is shared as it was before its
				 * break (already without W): the old frame,
				 * whose reference the busy entry keeps. */
				if (pte_is_none(e))
					continue;
				f = pa_to_frame(pte_pa(e));
				if (e & PTE_W) {
					e = (e & ~(PTE_W | PTE_D)) | PTE_COW;
					__atomic_store_n(p, e, __ATOMIC_RELEASE);
					reduced = true;
				}
				/* The reference for the new mapping. */
				__atomic_fetch_add(&f->refcount, 1,
						   __ATOMIC_ACQ_REL);
				got[n].va = v;
				got[n].f = f;
				got[n].bits = e & (PTE_R | PTE_X | PTE_U |
						   PTE_COW);
				n++;
			}
			pt_leaf_unlock(src, &pl);
		} else {
			v = next;
		}
		/* Install in @dst without holding @src's lock (two page-table
		 * locks are never nested). */
		for (unsigned int i = 0; i < n; i++) {
			struct pt_leaf dl;
			pte_t *p;
			bool used = false;

			if (!err)
				err = pt_leaf_lock(dst, got[i].va, true, &dl);
			if (!err) {
				p = &dl.ptes[SV39_INDEX(got[i].va, 0)];
				if (pte_is_none(*p)) {
					__atomic_fetch_add(
						&got[i].f->user.mapcount, 1,
						__ATOMIC_RELAXED);
					__atomic_store_n(p,
						pte_make(frame_to_pa(got[i].f),
							 got[i].bits | PTE_V |
								 PTE_A),
						__ATOMIC_RELEASE);
					dl.table->pt.nr_valid++;
					used = true;
				}
				pt_leaf_unlock(dst, &dl);
			}
			if (!used && __atomic_sub_fetch(&got[i].f->refcount, 1,
							__ATOMIC_ACQ_REL) == 0)
				frame_free(got[i].f);
		}
	}
	spin_unlock(&r->lock);
	arch_race_window(MM_RACE_FLUSH_PENDING);
	/* Writers of @src must fault from now on, also where another call
	 * took W away before us and has not shot it down yet. */
	if (reduced || as_flush_others(src))
		tlb_shootdown(src, va, len);
	as_flush_end(src);
	return err;
}

/*
 * A fault on a page that looked mapped (or busy): copy-on-write, an A/D
 * fix-up, a right the page does not give, or nothing left to do (another
 * hart mapped it, or this hart's TLB held a stale invalid entry); busy or
 * gone meanwhile: look again.
 * Locks: takes and drops the leaf lock of @va.
 * Return: 0, -E_FAULT, -E_NOMEM, or -E_AGAIN (look again).
 */
static __noinline int fault_present(struct as *as, vaddr_t va,
				    enum as_access access)
{
	struct pt_leaf pl;
	pte_t *p, e;
	int err;

	err = pt_leaf_lock(as, va, false, &pl);
	if (err)
		return err == -E_NOENT ? -E_AGAIN : err;
	p = &pl.ptes[SV39_INDEX(va, 0)];
	e = *p;
	if (!pte_is_valid(e)) {
		/* Unmapped meanwhile; or busy: another hart is breaking
		 * copy-on-write here, and neither frame is the page's now.
		 * Wait for it to install the copy or put the old page back
		 * (it does either in a bounded time, cow_break). */
		pt_leaf_unlock(as, &pl);
		if (pte_is_busy(e)) {
			arch_race_window(MM_RACE_COW_WAIT);
			arch_cpu_relax();
		}
		return -E_AGAIN;
	}
	if ((e & PTE_COW) && access == AS_ACCESS_WRITE) {
		pt_leaf_unlock(as, &pl);
		return cow_break(as, va);
	}
	err = 0;
	if (!access_allowed(e, access)) {
		err = -E_FAULT;
	} else if (!(e & PTE_A) ||
		   (access == AS_ACCESS_WRITE && !(e & PTE_D))) {
		/* U74: the hardware does not set A/D. */
		__atomic_store_n(p, e | PTE_A |
				 (access == AS_ACCESS_WRITE ? PTE_D : 0),
				 __ATOMIC_RELEASE);
		this_hart()->mm_ad_fixups++;
	} else {
		this_hart()->mm_spurious++;
	}
	pt_leaf_unlock(as, &pl);
	tlb_flush_local_page(as, va);
	return err;
}

/* A device region's page: its physical address, no frame behind it. */
static int map_device_page(struct as *as, vaddr_t va,
			   const struct region_ref *ref)
{
	paddr_t pa = ref->key + ref->pgoff + (va - ref->start);
	struct pt_leaf pl;
	pte_t *p;
	int err = pt_leaf_lock(as, va, true, &pl);

	if (err)
		return err;
	p = &pl.ptes[SV39_INDEX(va, 0)];
	if (region_changed(ref)) {
		err = -E_AGAIN;
	} else if (pte_is_none(*p)) {
		__atomic_store_n(p, pte_make(pa, pt_prot_bits(ref->prot)),
				 __ATOMIC_RELEASE);
		pl.table->pt.nr_valid++;
	}
	pt_leaf_unlock(as, &pl);
	return err;
}

/*
 * An absent page of a device or pager-backed region (@ref, found for
 * @va). Return: 0 (a device page mapped), AS_FAULT_PAGER (@pf filled,
 * with a reference to the pager), -E_FAULT (a pager region and the caller
 * cannot wait), -E_AGAIN (look again) or another error.
 */
static __noinline int fault_backed(struct as *as, vaddr_t va,
				   const struct region_ref *ref,
				   struct as_fault_info *pf)
{
	bool same;

	if (ref->pager == AS_PAGER_DEVICE)
		return map_device_page(as, va, ref);
	if (!pf)
		return -E_FAULT;	/* the caller cannot wait */
	/* A reference to the pager for the caller, taken while the region
	 * provably still holds one. */
	spin_lock(&as->lock);
	same = ref->r->seq == ref->seq;
	if (same)
		as_pager_ref(ref->pager, NULL, 1);
	spin_unlock(&as->lock);
	if (!same)
		return -E_AGAIN;
	pf->pager = ref->pager;
	pf->key = ref->key;
	pf->offset = ref->pgoff + (va - ref->start);
	pf->va = va;
	pf->prot = ref->prot;
	pf->slot = ref->r;
	pf->seq = ref->seq;
	return AS_FAULT_PAGER;
}

/*
 * The leaf table for @va, left empty because the region of the page it
 * was populated for went (unmapped or cut) before anything went in: an
 * unmap that ran before the populate skipped the span (no table then),
 * so nothing else would free it before the next unmap of the range or
 * the end of the address space. If no region holds @va now (else the
 * caller's retry would populate the same tables again at once), it is
 * freed, with its level-1 table if that was the last, as an unmap frees
 * them: pt_leaf_release_if_empty looks again under the locks (a table
 * some other fault filled meanwhile stays), then tlb_sync_all. Nothing is
 * cleared, so nothing is counted in as->flushes_pending and no shootdown
 * is owed. For callers that hold no spinlock and are not inside a walk
 * or a cross-hart call (interrupts may be off: a user trap).
 */
static __noinline void leaf_release_unused(struct as *as, vaddr_t va)
{
	struct frame_batch batch;
	struct region_ref ref;

	if (region_find(as, va, &ref))
		return;
	batch_init(&batch, false);
	pt_leaf_release_if_empty(as, va, &batch);
	batch_flush(as, &batch);
}

/* as_fault_ex could not install @f at @va (@pl locked; see there):
 * unlock, free @f, and give back a leaf table left empty when its region
 * went, if the caller can wait (@pf). An empty table here means our
 * region changed: the entry was none (a busy one counts in nr_valid).
 * Out of line: rare. */
static __noinline void fault_start_over(struct as *as, vaddr_t va,
					struct pt_leaf *pl, struct frame *f,
					const struct as_fault_info *pf)
{
	bool unused = pf && pl->table->pt.nr_valid == 0;

	pt_leaf_unlock(as, pl);
	frame_free(f);
	if (unused)
		leaf_release_unused(as, va);
}

int as_fault(struct as *as, vaddr_t va, enum as_access access)
{
	return as_fault_ex(as, va, access, NULL);
}

int as_fault_ex(struct as *as, vaddr_t va, enum as_access access,
		struct as_fault_info *pf)
{
	unsigned int idx = SV39_INDEX(va, 0);
	struct region_ref ref;
	struct frame *f;
	struct pt_leaf pl;
	bool found;
	pte_t *p, bits;
	int err;

	if (va >= AS_USER_TOP)
		return -E_FAULT;
	va = ALIGN_DOWN(va, PAGE_SIZE);
	this_hart()->mm_faults++;
	for (;;) {
		/*
		 * Look without a lock first (interrupts off while a leaf table
		 * is found, so it stays). What the look says is only a hint,
		 * checked again under the leaf lock: it lets a demand-zero
		 * fault take that lock once, to install the frame it
		 * allocated (and zeroed) outside every lock.
		 */
		found = pt_leaf_find(as, va, &pl);
		/* Present or busy (being replaced): fault_present decides. */
		if (found && !pte_is_none(__atomic_load_n(&pl.ptes[idx],
							  __ATOMIC_RELAXED))) {
			pt_leaf_find_end(as, &pl);
			err = fault_present(as, va, access);
			if (err == -E_AGAIN)
				continue;
			return err;
		}
		if (!region_find(as, va, &ref) ||
		    !access_allowed(bits = pt_prot_bits(ref.prot), access)) {
			err = -E_FAULT;
			goto out_end;
		}
		if (unlikely(ref.pager)) {
			if (found)
				pt_leaf_find_end(as, &pl);
			err = fault_backed(as, va, &ref, pf);
			if (err == -E_AGAIN)
				continue;
			return err;
		}
		f = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
		if (!f) {
			err = -E_NOMEM;
			goto out_end;
		}
		if (found) {
			arch_race_window(MM_RACE_FAULT_LOCK);
			if (!pt_leaf_find_lock(as, &pl)) {
				frame_free(f);	/* table unlinked: again */
				continue;
			}
		} else {
			/* First touch of a 2 MiB span: populate the tables. */
			arch_race_window(MM_RACE_FAULT_POPULATE);
			err = pt_leaf_lock(as, va, true, &pl);
			if (err) {
				frame_free(f);
				return err;
			}
		}
		p = &pl.ptes[idx];
		if (pte_is_none(*p) && !region_changed(&ref)) {
			__atomic_fetch_add(&f->user.mapcount, 1,
					   __ATOMIC_RELAXED);
			/* Release: the zeroed contents before the mapping. */
			__atomic_store_n(p, pte_make(frame_to_pa(f), bits),
					 __ATOMIC_RELEASE);
			pl.table->pt.nr_valid++;
			pt_leaf_unlock(as, &pl);
			return 0;	/* the mapping owns f's reference */
		}
		/*
		 * Another hart mapped the page meanwhile (look at it again;
		 * or it is busy, being replaced: wait for it), or our region
		 * changed since we looked (an unmap may have
		 * removed it, a protect changed its rights; changes to other
		 * regions do not matter): start over. A leaf table left
		 * empty by a region that went may be one we just populated,
		 * which an unmap that went first could not see: give it back
		 * (if the caller can wait: it holds no spinlock).
		 */
		fault_start_over(as, va, &pl, f, pf);
	}
out_end:
	if (found)
		pt_leaf_find_end(as, &pl);
	return err;
}

struct frame *as_get_user_page(struct as *as, vaddr_t va, bool write)
{
	enum as_access access = write ? AS_ACCESS_WRITE : AS_ACCESS_READ;

	if (!IS_ALIGNED(va, PAGE_SIZE) || va >= AS_USER_TOP)
		return NULL;
	for (int tries = 0; tries < 8; tries++) {
		struct frame *f = NULL;
		struct pt_leaf pl;
		pte_t e;

		if (as_fault(as, va, access))
			return NULL;
		if (pt_leaf_lock(as, va, false, &pl))
			continue;	/* unmapped again meanwhile */
		e = pl.ptes[SV39_INDEX(va, 0)];
		if (pte_is_valid(e) && (e & PTE_U) && access_allowed(e, access)) {
			f = pa_to_frame(pte_pa(e));
			/* Under the leaf lock the mapping's own reference
			 * keeps the frame: ours is safe to add. */
			if (f)
				__atomic_fetch_add(&f->refcount, 1,
						   __ATOMIC_ACQ_REL);
		}
		pt_leaf_unlock(as, &pl);
		if (f)
			return f;
	}
	return NULL;
}

void as_put_user_page(struct frame *f)
{
	if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		frame_free(f);
}

int as_install_pager_page(struct as *as, struct frame *f,
			  const struct as_fault_info *pf)
{
	struct pt_leaf pl;
	bool unused = false;
	pte_t *p;
	int err;

	if (!f || !(f->flags & FRAME_F_USER))
		return -E_INVAL;
	err = pt_leaf_lock(as, pf->va, true, &pl);
	if (err)
		return err;
	p = &pl.ptes[SV39_INDEX(pf->va, 0)];
	if (__atomic_load_n(&pf->slot->seq, __ATOMIC_ACQUIRE) != pf->seq) {
		err = -E_AGAIN;		/* unmapped, cut or re-protected */
		unused = pl.table->pt.nr_valid == 0;
	} else if (!pte_is_none(*p)) {
		err = -E_EXIST;		/* another thread's fault won */
	} else {
		__atomic_fetch_add(&f->user.mapcount, 1, __ATOMIC_RELAXED);
		__atomic_store_n(p, pte_make(frame_to_pa(f),
					     pt_prot_bits(pf->prot)),
				 __ATOMIC_RELEASE);
		pl.table->pt.nr_valid++;
	}
	pt_leaf_unlock(as, &pl);
	if (unused)		/* as in as_fault_ex */
		leaf_release_unused(as, pf->va);
	return err;
}

long as_pager_evict(struct as *as, void *pager, unsigned long key,
		    unsigned long off, unsigned long len)
{
	struct {
		struct as_region *r;
		unsigned int seq;
		vaddr_t lo, hi;
	} hit[AS_MAX_REGIONS];
	struct frame_batch batch;
	unsigned long end = off + len;
	vaddr_t lo = AS_USER_TOP, hi = 0;	/* span of the hits */
	int n = 0;

	if (len == 0 || end < off)
		return -E_INVAL;
	batch_begin(as, &batch);
	spin_lock(&as->lock);
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];
		unsigned long o0 = r->pgoff, o1 = r->pgoff + (r->end - r->start);
		unsigned long lo = MAX(o0, off), hi = MIN(o1, end);

		if (!r->prot || r->pager != pager || r->key != key || lo >= hi)
			continue;
		hit[n].r = r;
		hit[n].seq = r->seq;
		hit[n].lo = ALIGN_DOWN(r->start + (lo - o0), PAGE_SIZE);
		hit[n].hi = ALIGN_UP(r->start + (hi - o0), PAGE_SIZE);
		n++;
	}
	spin_unlock(&as->lock);
	for (int i = 0; i < n; i++) {
		unmap_range_guarded(as, hit[i].lo, hit[i].hi - hit[i].lo,
				    &batch, hit[i].r, hit[i].seq);
		lo = MIN(lo, hit[i].lo);
		hi = MAX(hi, hit[i].hi);
	}
	batch_end(as, &batch, lo, hi);
	return (long)batch.pages_cleared;
}

void as_pin(struct as *as)
{
	__atomic_fetch_add(&as->pins, 1, __ATOMIC_ACQ_REL);
}

void as_unpin(struct as *as)
{
	__atomic_fetch_sub(&as->pins, 1, __ATOMIC_ACQ_REL);
}

void as_destroy(struct as *as)
{
	struct frame_batch batch;
	pte_t *root = as->root;

	/* Pager-backed regions give their pagers back; then wait for any
	 * eviction that found this address space before that. */
	for (int i = 0; i < AS_MAX_REGIONS; i++) {
		struct as_region *r = &as->regions[i];
		void *pager;

		spin_lock(&as->lock);
		pager = r->pager;
		if (pager)
			slot_set(r, 0, 0, 0, NULL, 0, 0);
		spin_unlock(&as->lock);
		pager_ref(pager, as, -1);
	}
	while (__atomic_load_n(&as->pins, __ATOMIC_ACQUIRE))
		arch_cpu_relax();

	/* Flush the whole address space each time (cheaper than ranges). */
	batch_init(&batch, true);
	unmap_range(as, 0, AS_USER_TOP, &batch);
	batch_flush(as, &batch);
	/* No hart may keep running on these tables once they are freed. */
	arch_as_fini(as);
	/* Level-1 tables, then the root, then the struct's frame. */
	for (int i = 0; i < SV39_ENTRIES / 2; i++) {
		pte_t e = root[i];

		if (!pte_is_valid(e))
			continue;
		root[i] = 0;
		as->root_frame->pt.nr_valid--;
		pa_to_frame(pte_pa(e))->pt.nr_valid = 0;
		batch_add_table(&batch, pa_to_frame(pte_pa(e)));
	}
	as->root_frame->pt.nr_valid = 0;
	batch_add_table(&batch, as->root_frame);
	batch_flush(as, &batch);
	frame_free(kva_to_frame(as));
}

int as_check(struct as *as)
{
	int bad = 0;
	uint64_t pt = 1, user = 0;

	for (int i = 0; i < SV39_ENTRIES / 2; i++) {
		pte_t e1 = as->root[i];
		pte_t *l1;
		unsigned int v1 = 0;

		if (!pte_is_valid(e1))
			continue;
		pt++;
		l1 = pa_to_kva(pte_pa(e1));
		for (int j = 0; j < SV39_ENTRIES; j++) {
			pte_t e0 = l1[j];
			struct frame *leaf;
			unsigned int v0 = 0;
			pte_t *l0;

			if (!pte_is_valid(e0))
				continue;
			v1++;
			pt++;
			leaf = pa_to_frame(pte_pa(e0));
			l0 = pa_to_kva(pte_pa(e0));
			for (int k = 0; k < SV39_ENTRIES; k++) {
				struct frame *f;

				if (pte_is_none(l0[k]))
					continue;
				v0++;
				user++;
				if (pte_is_busy(l0[k])) {
					/* Only while a break runs. */
					printk("as_check: va %#lx is busy\n",
					       (unsigned long)(((vaddr_t)i << 30) |
							       ((vaddr_t)j << 21) |
							       ((vaddr_t)k << 12)));
					bad++;
				}
				f = pa_to_frame(pte_pa(l0[k]));
				/* No frame: a device page (MMIO). */
				if (f && (!(f->flags & FRAME_F_USER) ||
					  !f->user.mapcount || !f->refcount)) {
					printk("as_check: va %#lx maps a frame "
					       "not in use as user memory\n",
					       (unsigned long)(((vaddr_t)i << 30) |
							       ((vaddr_t)j << 21) |
							       ((vaddr_t)k << 12)));
					bad++;
				}
			}
			if (v0 != leaf->pt.nr_valid || leaf->pt.level != 0) {
				printk("as_check: leaf table %d/%d nr_valid %u, "
				       "counted %u\n", i, j, leaf->pt.nr_valid,
				       v0);
				bad++;
			}
		}
		if (v1 != pa_to_frame(pte_pa(e1))->pt.nr_valid) {
			printk("as_check: level-1 table %d nr_valid %u, "
			       "counted %u\n", i,
			       pa_to_frame(pte_pa(e1))->pt.nr_valid, v1);
			bad++;
		}
	}
	if (pt != __atomic_load_n(&as->nr_pt, __ATOMIC_RELAXED)) {
		printk("as_check: %lu tables counted, %lu recorded\n",
		       (unsigned long)pt, (unsigned long)as->nr_pt);
		bad++;
	}
	(void)user;
	return bad;
}

uint64_t as_count_user(struct as *as)
{
	uint64_t n = 0;

	for (int i = 0; i < SV39_ENTRIES / 2; i++) {
		pte_t *l1;

		if (!pte_is_valid(as->root[i]))
			continue;
		l1 = pa_to_kva(pte_pa(as->root[i]));
		for (int j = 0; j < SV39_ENTRIES; j++)
			if (pte_is_valid(l1[j]))
				n += pa_to_frame(pte_pa(l1[j]))->pt.nr_valid;
	}
	return n;
}

void as_activate(struct as *as)
{
	arch_as_activate(as);
}

void as_deactivate(void)
{
	arch_as_deactivate();
}

void as_print_lockstat(void)
{
	static const unsigned int classes[] = { LOCK_CLASS_PT, LOCK_CLASS_AS,
						LOCK_CLASS_FRAME };
	static const char *const what[] = { "page-table-page locks",
					    "address-space locks",
					    "frame pool lock" };

	for (unsigned int i = 0; i < ARRAY_SIZE(classes); i++) {
		struct lockstat s;

		lockstat_sum(classes[i], &s);
		printk("lockstat: %s: %lu acquisitions, %lu contended, "
		       "%lu us waited\n", what[i], (unsigned long)s.acquired,
		       (unsigned long)s.contended,
		       (unsigned long)(s.wait_ticks * 1000000 /
				       arch_time_hz()));
	}
}
