/*
 * pt.c - Sv39 page-table walks under split or single locking
 *
 * Split mode (after Linux's split page-table locks, 2005): a lockless walk
 * of the upper levels with interrupts off, then the leaf table's own
 * pt_lock; the address space's lock is taken only to populate an upper
 * entry or to unlink an empty table. Single mode: the address space's
 * lock for everything. Callers see one interface either way: they get the
 * leaf table for an address with "its" lock held.
 *
 * Why the lockless walk is safe. The root lives as long as the address
 * space. An empty leaf table is unlinked under as->lock plus its own
 * pt_lock, and a level-1 table under as->lock once its last leaf table
 * is gone; either is freed only after tlb_sync_all(), which waits until
 * every hart has run a cross-hart call (with interrupts on, or while
 * waiting in a cross-hart call of its own, which no walker makes); a
 * walker keeps interrupts off from
 * the first read of the root entry until it holds the leaf lock and has
 * checked that the parent still points at that leaf (pt_leaf_lock at
 * once; a fault between pt_leaf_find and pt_leaf_find_lock, with its
 * lookups and allocation in between, or until pt_leaf_find_end). So a
 * walker never touches a freed table, and a frame record's lock word is
 * never reused while someone could spin on it. A walker that read a
 * level-1 table's entry before the table was emptied finds, under the
 * leaf lock, the entry changed (pt_leaf_lock's re-check); one that is
 * about to populate an entry of that table finds, under as->lock, the
 * root entry changed (populate), and starts over.
 *
 * Ordering: a new table is zeroed, then linked with a release store
 * (arch_pte_publish); walkers read entries with acquire loads, so they see
 * the zeroes. The hardware walker needs no fence for a new valid entry
 * (a stale-invalid fault is handled as spurious, see fault handling).
 */
#include "mm_internal.h"
#include <mm/tlb.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/panic.h>
#include <kern/spinlock.h>
#include <arch/memlayout.h>

static inline void pte_publish(pte_t *p, pte_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Upper-level locking: single mode holds as->lock for the whole walk;
 * split mode only keeps interrupts off. */
static void upper_enter(struct as *as)
{
	if (as->mode == PTLOCK_SINGLE)
		spin_lock(&as->lock);
	else
		irq_push();
}

static void upper_exit(struct as *as)
{
	if (as->mode == PTLOCK_SINGLE)
		spin_unlock(&as->lock);
	else
		irq_pop();
}

/*
 * Make @slot (an entry of an upper table) point at a new table, if it is
 * still empty and, for an entry of a level-1 table (@level 1), the root
 * entry @up still holds @up_e, the table the walker went through: else
 * that table was unlinked meanwhile (its last leaf table gone) and is
 * waiting to be freed, and the caller, finding @slot still empty, walks
 * again. Split mode takes as->lock for the re-checks and the store;
 * single mode holds it already. Consumes *spare on success.
 */
static void populate(struct as *as, pte_t *slot, struct frame *parent,
		     int level, const pte_t *up, pte_t up_e,
		     struct frame **spare)
{
	if (as->mode == PTLOCK_SPLIT)
		spin_lock(&as->lock);
	if (!pte_is_valid(pt_load_entry(slot)) &&
	    (!up || pt_load_entry(up) == up_e)) {
		(*spare)->pt.level = (uint8_t)(level - 1);
		pte_publish(slot, pte_make_table(frame_to_pa(*spare)));
		parent->pt.nr_valid++;
		__atomic_fetch_add(&as->nr_pt, 1, __ATOMIC_RELAXED);
		*spare = NULL;
	}
	if (as->mode == PTLOCK_SPLIT)
		spin_unlock(&as->lock);
}

/* pt_leaf_lock's general case: populating missing upper tables (with an
 * allocation outside every lock), and starting over after races. */
static __noinline int leaf_lock_slow(struct as *as, vaddr_t va, bool alloc,
				     struct pt_leaf *pl)
{
	/* Tables allocated for the walk, unlocked: as many as the levels it
	 * found missing (both, for an empty 1 GiB), so that it links a new
	 * level-1 table only when it has the leaf table for it too (linked,
	 * a leafless level-1 table would stay: an unmap skips spans without
	 * leaf tables). */
	struct frame *spare[2] = { NULL, NULL };
	int nspare = 0, need = 0, err = 0;

	for (;;) {
		struct frame *table = as->root_frame;
		pte_t *ptes = as->root, *slot = NULL, *up = NULL, e = 0;
		pte_t up_e = 0;
		bool retry = false;

		upper_enter(as);
		for (int level = 2; level > 0; level--) {
			slot = &ptes[SV39_INDEX(va, level)];
			e = pt_load_entry(slot);
			if (!pte_is_valid(e)) {
				if (!alloc) {
					err = -E_NOENT;
					break;
				}
				if (nspare < level) {
					need = level;
					break;
				}
				if (up)
					arch_race_window(MM_RACE_POPULATE);
				populate(as, slot, table, level, up, up_e,
					 &spare[nspare - 1]);
				if (!spare[nspare - 1])
					nspare--;
				e = pt_load_entry(slot);
				if (!pte_is_valid(e)) {
					/* The level-1 table was unlinked
					 * (populate did nothing), or an
					 * unmap freed the new (empty) table
					 * at once: walk again. */
					retry = true;
					break;
				}
			}
			if (pte_is_leaf(e))
				panic("pt: huge leaf at level %d in a user "
				      "address space (va %#lx)", level,
				      (unsigned long)va);
			up = slot;
			up_e = e;
			table = pa_to_frame(pte_pa(e));
			ptes = pa_to_kva(pte_pa(e));
		}
		if (err) {
			upper_exit(as);
			break;
		}
		if (retry) {
			upper_exit(as);
			continue;
		}
		if (need) {
			/* Allocate outside every lock, then walk again. */
			upper_exit(as);
			while (nspare < need &&
			       (spare[nspare] = frame_alloc_pt(0)))
				nspare++;
			if (nspare < need) {
				err = -E_NOMEM;
				break;
			}
			need = 0;
			continue;
		}
		if (as->mode == PTLOCK_SPLIT) {
			/* Interrupts are off since upper_enter. */
			spin_lock_raw(&table->pt.pt_lock);
			if (pt_load_entry(slot) != e) {
				/* Unlinked while we walked: start again. */
				spin_unlock_raw(&table->pt.pt_lock);
				irq_pop();
				continue;
			}
		}
		pl->table = table;
		pl->ptes = ptes;
		pl->parent_slot = slot;
		pl->parent_pte = e;
		pl->lock = pt_lockptr(as, table);
		break;
	}
	while (nspare)
		frame_free(spare[--nspare]);
	return err;
}

int pt_leaf_lock(struct as *as, vaddr_t va, bool alloc, struct pt_leaf *pl)
{
	struct frame *table;
	pte_t *slot, e;

	/* The usual case first, in a straight line: both upper entries
	 * present and no race. Anything else goes the general way. */
	upper_enter(as);
	if (unlikely(!pt_walk_upper(as, va, &slot, &e)))
		goto slow;
	table = pa_to_frame(pte_pa(e));
	if (as->mode == PTLOCK_SPLIT) {
		/* Interrupts are off since upper_enter. */
		spin_lock_raw(&table->pt.pt_lock);
		if (unlikely(pt_load_entry(slot) != e)) {
			spin_unlock_raw(&table->pt.pt_lock);
			goto slow;
		}
		pl->lock = &table->pt.pt_lock;
	} else {
		pl->lock = &as->lock;
	}
	pl->table = table;
	pl->ptes = pa_to_kva(pte_pa(e));
	pl->parent_slot = slot;
	pl->parent_pte = e;
	return 0;
slow:
	upper_exit(as);
	return leaf_lock_slow(as, va, alloc, pl);
}

void pt_leaf_release_if_empty(struct as *as, vaddr_t va,
			      struct frame_batch *batch)
{
	pte_t *l1slot, *rootslot = &as->root[SV39_INDEX(va, 2)], e;
	struct frame *l1, *leaf;
	pte_t *l1ptes;

	spin_lock(&as->lock);
	e = pt_load_entry(rootslot);
	if (!pte_is_valid(e))
		goto out;
	l1 = pa_to_frame(pte_pa(e));
	l1ptes = pa_to_kva(pte_pa(e));
	l1slot = &l1ptes[SV39_INDEX(va, 1)];
	e = pt_load_entry(l1slot);
	if (!pte_is_valid(e))
		goto upper;
	leaf = pa_to_frame(pte_pa(e));
	if (as->mode == PTLOCK_SPLIT)
		spin_lock(&leaf->pt.pt_lock);
	if (leaf->pt.nr_valid == 0) {
		/* Walkers that already read the old entry re-check it after
		 * locking the leaf and start over. */
		pte_publish(l1slot, 0);
		l1->pt.nr_valid--;
		__atomic_fetch_sub(&as->nr_pt, 1, __ATOMIC_RELAXED);
		batch_add_table(batch, leaf);
	}
	if (as->mode == PTLOCK_SPLIT)
		spin_unlock(&leaf->pt.pt_lock);
upper:
	if (l1->pt.nr_valid == 0) {
		/* Its last leaf table is gone (or never came: a walker that
		 * populated it ran out of memory for the leaf): the level-1
		 * table goes too (its entries only change under as->lock,
		 * held). A walker still inside it finds its entry changed
		 * under the leaf lock, or the root entry changed in
		 * populate. */
		pte_publish(rootslot, 0);
		as->root_frame->pt.nr_valid--;
		__atomic_fetch_sub(&as->nr_pt, 1, __ATOMIC_RELAXED);
		as->l1_freed++;
		batch_add_table(batch, l1);
	}
out:
	spin_unlock(&as->lock);
}

vaddr_t pt_next_populated(struct as *as, vaddr_t va)
{
	vaddr_t next = va;
	pte_t e;

	/* Without a lock, but with interrupts off, so that a level-1 table
	 * read through is not freed meanwhile (see the top of this file);
	 * the answer is only a hint for skipping. */
	irq_push();
	e = pt_load_entry(&as->root[SV39_INDEX(va, 2)]);
	if (!pte_is_valid(e))
		next = ALIGN_DOWN(va, SV39_GIGA) + SV39_GIGA;
	else if (!pte_is_valid(pt_load_entry((pte_t *)pa_to_kva(pte_pa(e)) +
					     SV39_INDEX(va, 1))))
		next = ALIGN_DOWN(va, SV39_MEGA) + SV39_MEGA;
	irq_pop();
	return next;
}

void batch_init(struct frame_batch *b, bool all)
{
	b->user = b->first;
	b->n = 0;
	b->cap = FRAME_BATCH_MAX;
	b->pages = NULL;
	b->npages = 0;
	b->tables = NULL;
	b->cleared = all;
	b->lo = 0;
	b->hi = all ? AS_USER_TOP : 0;
	b->pages_cleared = 0;
}

void batch_begin(struct as *as, struct frame_batch *b)
{
	batch_init(b, false);
	as_flush_begin(as);
}

/* Will @b's flush make every hart forget [lo, hi) of its space? */
static bool batch_covers(const struct frame_batch *b, vaddr_t lo, vaddr_t hi)
{
	if (lo >= hi || b->tables)	/* tlb_sync_all: every whole TLB */
		return true;
	return b->cleared && (tlb_len_is_full(b->hi - b->lo) ||
			      (b->lo <= lo && b->hi >= hi));
}

void batch_end(struct as *as, struct frame_batch *b, vaddr_t lo, vaddr_t hi)
{
	arch_race_window(MM_RACE_FLUSH_PENDING);
	/* Entries of [lo, hi) we found clear may have been cleared by
	 * another unmap whose shootdown is still to come: ours covers
	 * them then (one shootdown, widened, not a second one). */
	if (!batch_covers(b, lo, hi) && as_flush_others(as)) {
		if (!b->cleared || lo < b->lo)
			b->lo = lo;
		if (!b->cleared || hi > b->hi)
			b->hi = hi;
		b->cleared = true;
	}
	batch_flush(as, b);
	as_flush_end(as);
}

void batch_add_table(struct frame_batch *b, struct frame *f)
{
	f->batch_next = b->tables;
	b->tables = f;
}

bool batch_grow(struct frame_batch *b)
{
	struct frame *page;

	if (b->npages == FRAME_BATCH_PAGES)
		return false;
	page = frame_alloc(0, FRAME_F_KERNEL);
	if (!page)
		return false;
	page->batch_next = b->pages;
	b->pages = page;
	b->npages++;
	b->user = frame_to_kva(page);
	b->n = 0;
	b->cap = FRAME_BATCH_PER_PAGE;
	return true;
}

/* Drop the batch's reference to each of @n frames in @user (after the
 * flush: now the last reference may go). */
static void batch_put(struct frame **user, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct frame *f = user[i];

		if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0)
			frame_free(f);
	}
}

void batch_flush(struct as *as, struct frame_batch *b)
{
	/*
	 * Freed tables need a cross-hart call on every hart (see the top of
	 * this file), whose handler flushes each hart's whole TLB: that
	 * covers the mappings too, so no separate shootdown (one
	 * synchronous round trip fewer).
	 */
	if (b->tables)
		tlb_sync_all();
	else if (b->cleared)
		tlb_shootdown(as, b->lo, b->hi - b->lo);
	/* The stack array is full when pages follow it; so is every page
	 * but the newest, the array being filled. */
	batch_put(b->first, b->pages ? FRAME_BATCH_MAX : b->n);
	for (unsigned int n = b->n; b->pages; n = FRAME_BATCH_PER_PAGE) {
		struct frame *page = b->pages;

		batch_put(frame_to_kva(page), n);
		b->pages = page->batch_next;
		page->batch_next = NULL;
		frame_free(page);
	}
	while (b->tables) {
		struct frame *f = b->tables;

		b->tables = f->batch_next;
		f->batch_next = NULL;
		frame_free(f);
	}
	b->user = b->first;
	b->n = 0;
	b->cap = FRAME_BATCH_MAX;
	b->npages = 0;
	if (b->hi - b->lo < AS_USER_TOP) {	/* as_destroy keeps "all" */
		b->cleared = false;
		b->lo = b->hi = 0;
	}
}
