#pragma once
/*
 * mm_internal.h - helpers shared only inside kernel/mm
 */
#include <kern/types.h>
#include <kern/spinlock.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <arch/memlayout.h>

/*
 * A leaf cursor: the level-0 table covering an address, with the lock that
 * covers it held (pt_leaf_lock) and interrupts off.
 */
struct pt_leaf {
	struct frame *table;	/* the level-0 table's frame */
	pte_t *ptes;		/* its entries (kernel address) */
	struct spinlock *lock;	/* the lock we hold for it */
	pte_t *parent_slot;	/* the level-1 entry that points at it */
	pte_t parent_pte;	/* and its value when the table was found */
};

/*
 * Frames to give back after a TLB shootdown. User frames are recorded once
 * per cleared mapping, in an array (not linked through the frame, since
 * one frame may be unmapped twice in one call); their references are
 * dropped only after the flush, so no other unmapper can free a frame a
 * stale TLB entry of ours still reaches. Page-table pages, each unlinked
 * once, are chained through batch_next and need tlb_sync_all.
 *
 * The array starts on the stack (FRAME_BATCH_MAX) and grows by whole
 * pages taken from the frame allocator, up to FRAME_BATCH_PAGES of them,
 * so that a large unmap costs one shootdown instead of one per
 * FRAME_BATCH_MAX pages: each shootdown is a synchronous round trip to
 * every other hart running the address space (measured: pf-anon on two
 * harts spent 428 instructions per fault in the firmware's remote fences
 * with the stack array alone). When no page can be had, the batch is
 * flushed instead, as before.
 */
#define FRAME_BATCH_MAX	256	/* 2 KiB on the stack */
#define FRAME_BATCH_PAGES 8	/* at most 8 x 512 more: 17 MiB of frames */
#define FRAME_BATCH_PER_PAGE (PAGE_SIZE / sizeof(struct frame *))

struct frame_batch {
	struct frame *first[FRAME_BATCH_MAX];
	struct frame **user;	/* the array being filled: first or a page */
	unsigned int n, cap;	/* entries in @user, and its size */
	struct frame *pages;	/* full arrays' pages, newest first, through
				 * batch_next; @user's own page heads it */
	unsigned int npages;
	struct frame *tables;	/* chained through batch_next */
	vaddr_t lo, hi;		/* span of the cleared mappings */
	bool cleared;		/* some mapping was removed: flush needed */
	unsigned long pages_cleared;	/* mappings cleared, all told */
};

/* An empty batch; @all: the flush covers the whole address space. */
void batch_init(struct frame_batch *b, bool all);

/* Room for one more user frame in @b's current array. */
static inline bool batch_room(const struct frame_batch *b)
{
	return b->n < b->cap;
}

static inline void batch_add_user(struct frame_batch *b, struct frame *f)
{
	b->user[b->n++] = f;
}

/* @b is full: give it another page (no lock held). False when it may not
 * grow (FRAME_BATCH_PAGES, or no memory): flush it then. */
bool batch_grow(struct frame_batch *b);

/*
 * pt_leaf_lock - find the leaf table for @va and lock it
 * @alloc: create missing intermediate tables (else -E_NOENT)
 *
 * Locks: returns with the covering lock held (the leaf's pt_lock in split
 * mode, as->lock in single mode) and interrupts off; pt_leaf_unlock drops
 * both. Return: 0, -E_NOENT, -E_NOMEM.
 */
int pt_leaf_lock(struct as *as, vaddr_t va, bool alloc, struct pt_leaf *pl);

/* Drop what pt_leaf_lock or pt_leaf_find_lock took (either mode: the
 * lock, then the interrupt-off level under it). */
static inline void pt_leaf_unlock(struct as *as, struct pt_leaf *pl)
{
	spin_unlock_raw(pl->lock);
	irq_pop();
}

/* The lock covering @table in @as: the caller never branches on mode. */
static inline struct spinlock *pt_lockptr(struct as *as, struct frame *table)
{
	if (as->mode == PTLOCK_SPLIT && table->pt.level == 0)
		return &table->pt.pt_lock;
	return &as->lock;
}

/* A page-table entry read by a walker. Acquire: pairs with the release
 * store that linked a new table (pt.c), so its zeroes are seen. */
static inline pte_t pt_load_entry(const pte_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The level-1 entry for @va and its value, if it points at a leaf table.
 * Caller: interrupts off (or single mode's as->lock held), see pt.c. */
static inline bool pt_walk_upper(struct as *as, vaddr_t va, pte_t **slotp,
				 pte_t *ep)
{
	pte_t e = pt_load_entry(&as->root[SV39_INDEX(va, 2)]);
	pte_t *slot;

	if (!pte_is_valid(e) || pte_is_leaf(e))
		return false;
	slot = (pte_t *)pa_to_kva(pte_pa(e)) + SV39_INDEX(va, 1);
	e = pt_load_entry(slot);
	if (!pte_is_valid(e) || pte_is_leaf(e))
		return false;
	*slotp = slot;
	*ep = e;
	return true;
}

/*
 * pt_leaf_find - the leaf table covering @va, found without a lock
 *
 * Walks the upper levels as pt_leaf_lock does, with interrupts off, and
 * keeps them off when it finds a table: until the caller ends with
 * pt_leaf_find_lock or pt_leaf_find_end, the table cannot be freed, so
 * its entries may be read (without the lock: hints, to be checked again
 * under it). Either mode. Inline: this is the fault path's walk.
 * Return: true and @pl filled (lock not held, interrupts off), or false
 * (no leaf table covers @va; interrupts as they were).
 */
static inline bool pt_leaf_find(struct as *as, vaddr_t va, struct pt_leaf *pl)
{
	pte_t *slot, e;

	/* Interrupts off from the walk until the caller is done with the
	 * table: it cannot be freed before then (pt.c, "Why the lockless
	 * walk is safe"). */
	irq_push();
	if (unlikely(!pt_walk_upper(as, va, &slot, &e))) {
		irq_pop();
		return false;
	}
	pl->table = pa_to_frame(pte_pa(e));
	pl->ptes = pa_to_kva(pte_pa(e));
	pl->lock = pt_lockptr(as, pl->table);
	pl->parent_slot = slot;
	pl->parent_pte = e;
	return true;
}

/*
 * pt_leaf_find_lock - take the lock of a table from pt_leaf_find
 * Return: true if the table still covers the address, with its lock held
 * as after pt_leaf_lock (drop with pt_leaf_unlock); false if it was
 * unlinked meanwhile (nothing held, interrupts as before pt_leaf_find).
 */
static inline bool pt_leaf_find_lock(struct as *as, struct pt_leaf *pl)
{
	/* Interrupts are off since pt_leaf_find. Unlinking a leaf takes
	 * the lock taken here (as->lock in single mode, the leaf's own in
	 * split mode), so an unchanged parent entry under it means the
	 * table is still the one for this address. */
	spin_lock_raw(pl->lock);
	if (likely(pt_load_entry(pl->parent_slot) == pl->parent_pte))
		return true;
	spin_unlock_raw(pl->lock);
	irq_pop();
	return false;
}

/* End a pt_leaf_find that found a table, without locking it. */
static inline void pt_leaf_find_end(struct as *as, struct pt_leaf *pl)
{
	irq_pop();
}

/*
 * pt_leaf_release_if_empty - unlink the leaf table covering @va if it is
 * empty, and then its level-1 table if that is empty too, putting each
 * on @batch. Takes as->lock then the leaf lock (rank order).
 */
void pt_leaf_release_if_empty(struct as *as, vaddr_t va,
			      struct frame_batch *batch);

/* @va if a leaf table may cover it, else the next 2 MiB or 1 GiB boundary
 * after it where one might. */
vaddr_t pt_next_populated(struct as *as, vaddr_t va);

/* The PTE bits for AS_PROT_* rights: V and A always, D with W. */
static inline pte_t pt_prot_bits(unsigned int prot)
{
	pte_t b = PTE_V | PTE_A;

	if (prot & AS_PROT_R)
		b |= PTE_R;
	if (prot & AS_PROT_W)
		b |= PTE_W | PTE_D;
	if (prot & AS_PROT_X)
		b |= PTE_X;
	if (prot & AS_PROT_USER)
		b |= PTE_U;
	return b;
}

/* The AS_PROT_* rights a PTE grants. */
static inline unsigned int pt_pte_prot(pte_t pte)
{
	return (pte & PTE_R ? AS_PROT_R : 0) | (pte & PTE_W ? AS_PROT_W : 0) |
	       (pte & PTE_X ? AS_PROT_X : 0) |
	       (pte & PTE_U ? AS_PROT_USER : 0);
}

void batch_add_table(struct frame_batch *b, struct frame *f);
/* Shoot down what @b's mappings covered in @as, then free its frames. */
void batch_flush(struct as *as, struct frame_batch *b);

/*
 * Flushes in flight: as->flushes_pending (docs/vm.md, "Two unmaps of one
 * range").
 *
 * A call that takes mappings or rights away changes entries under the
 * leaf locks and shoots the range down only afterwards, long afterwards
 * for a big unmap (its batch). A second call over the same range (another
 * hart) meanwhile finds the entries already clear or already read-only:
 * it changes nothing, so its own shootdown covers nothing, yet its caller
 * takes the range to be gone from every TLB (a pager reuses the evicted
 * page; a user relies on the fault). So every such call counts itself in
 * as->flushes_pending from before its first entry change until after its
 * shootdown (as_flush_begin, as_flush_end), and before it sends its last
 * shootdown asks whether any other call is counted (as_flush_others): if
 * so, that shootdown covers its whole range, whatever it changed itself.
 * It never waits for the other call, so unmaps that keep meeting each
 * other (pf-anon) cannot livelock, and a flush that covers the range
 * anyway (a whole-ASID flush, or tlb_sync_all) needs no question at all.
 * The fault path neither counts nor asks.
 *
 * Ordering. Suppose call B found an entry as call A left it: cleared or
 * without a right (or found A's leaf or level-1 table unlinked, or a
 * table made after A unlinked one). Entries change only under the lock covering
 * their table, and tables are linked and unlinked with release stores
 * under as->lock; B read what A left under that lock (acquire, pairing
 * with A's unlock) or with an acquire load of the upper entry
 * (pt_load_entry, pairing with A's release store). Either way A's
 * increment, which came before A's first change, happens before
 * everything B does afterwards, B's question included: B sees A counted,
 * unless A has already decremented after its shootdown. That last case
 * is why the decrement is a release and the question an acquire: B then
 * sees A's shootdown done. Only B's question needs ordering after its
 * reads, and that lock or acquire load gives it; the increment can be
 * relaxed.
 */
static inline void as_flush_begin(struct as *as)
{
	/* Relaxed: ordered before our entry changes, for whoever sees
	 * them, by the release that publishes them (above). */
	__atomic_fetch_add(&as->flushes_pending, 1, __ATOMIC_RELAXED);
}

/* Is a call other than ours between as_flush_begin and as_flush_end? */
static inline bool as_flush_others(struct as *as)
{
	/* Acquire: pairs with the release in as_flush_end (a count without
	 * the other call means its shootdown is done). Ordered after our
	 * page-table reads by the leaf lock or acquire load they used. */
	return __atomic_load_n(&as->flushes_pending, __ATOMIC_ACQUIRE) > 1;
}

static inline void as_flush_end(struct as *as)
{
	/* Release: our shootdown (synchronous: every target has flushed
	 * when it returns) before we stop counting; pairs with the acquire
	 * in as_flush_others. */
	__atomic_fetch_sub(&as->flushes_pending, 1, __ATOMIC_RELEASE);
}

/* An empty batch for an unmap of @as, counted in as->flushes_pending. */
void batch_begin(struct as *as, struct frame_batch *b);
/*
 * batch_end - the last flush of an unmap begun with batch_begin
 * @lo, @hi: the whole span the unmap looked at
 *
 * Shoots down what @b cleared and frees its frames; if another flush of
 * @as is in flight, the shootdown covers [@lo, @hi) too. Then the unmap
 * stops being counted. Context: no spinlock held (it waits for harts).
 */
void batch_end(struct as *as, struct frame_batch *b, vaddr_t lo, vaddr_t hi);

static inline vaddr_t leaf_base(vaddr_t va)
{
	return ALIGN_DOWN(va, SV39_MEGA);
}

/* Windows for arch_race_window() (host tests stretch them). */
#define MM_RACE_REGION_SCAN	1	/* a fault read one region slot */
#define MM_RACE_FAULT_LOCK	2	/* a fault found a leaf table and
					 * allocated its frame, interrupts
					 * off, and is about to lock it */
#define MM_RACE_CACHE_STEAL	3	/* a thief (frame.c, caches_steal)
					 * found a hart's frame cache not
					 * empty and is about to move its
					 * list to the pool */
#define MM_RACE_FLUSH_PENDING	4	/* an unmap, eviction, protect or
					 * copy-on-write share changed its
					 * entries and has not sent their
					 * shootdown yet (no lock held,
					 * interrupts on) */
#define MM_RACE_COW_INSTALL	5	/* cow_break has just stored the
					 * entry of its private copy (leaf
					 * lock held, interrupts off): the
					 * copy is reachable from here on */
#define MM_RACE_COW_BUSY	6	/* cow_break made the entry busy and
					 * shot the old translation down; the
					 * copy is not made yet (no lock held,
					 * interrupts off) */
#define MM_RACE_COW_WAIT	7	/* a fault, lookup or unmap found a
					 * busy entry and waits for its break
					 * to end: it looks again after this
					 * (no lock held) */
#define MM_RACE_POPULATE	8	/* a walk went through a level-1
					 * table and is about to populate an
					 * entry of it (split mode: no lock
					 * held, interrupts off) */
#define MM_RACE_FAULT_POPULATE	9	/* a fault found no leaf table for
					 * its page and allocated its frame;
					 * it is about to populate the tables
					 * (no lock held) */
