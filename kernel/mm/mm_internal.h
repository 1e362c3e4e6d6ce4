#pragma once
/*
 * mm_internal.h - helpers shared only inside kernel/mm
 */
#include <kern/types.h>
#include <mm/as.h>
#include <mm/frame.h>

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
 */
#define FRAME_BATCH_MAX	256	/* 2 KiB on the stack */

struct frame_batch {
	struct frame *user[FRAME_BATCH_MAX];
	unsigned int n;
	struct frame *tables;	/* chained through batch_next */
	vaddr_t lo, hi;		/* span of the cleared mappings */
	bool cleared;		/* some mapping was removed: flush needed */
};

/*
 * pt_leaf_lock - find the leaf table for @va and lock it
 * @alloc: create missing intermediate tables (else -E_NOENT)
 *
 * Locks: returns with the covering lock held (the leaf's pt_lock in split
 * mode, as->lock in single mode) and interrupts off; pt_leaf_unlock drops
 * both. Return: 0, -E_NOENT, -E_NOMEM.
 */
int pt_leaf_lock(struct as *as, vaddr_t va, bool alloc, struct pt_leaf *pl);
void pt_leaf_unlock(struct as *as, struct pt_leaf *pl);
/*
 * pt_leaf_find - the leaf table covering @va, found without a lock
 *
 * Walks the upper levels as pt_leaf_lock does, with interrupts off, and
 * keeps them off when it finds a table: until the caller ends with
 * pt_leaf_find_lock or pt_leaf_find_end, the table cannot be freed, so
 * its entries may be read (without the lock: hints, to be checked again
 * under it). Either mode.
 * Return: true and @pl filled (lock not held, interrupts off), or false
 * (no leaf table covers @va; interrupts as they were).
 */
bool pt_leaf_find(struct as *as, vaddr_t va, struct pt_leaf *pl);
/*
 * pt_leaf_find_lock - take the lock of a table from pt_leaf_find
 * Return: true if the table still covers the address, with its lock held
 * as after pt_leaf_lock (drop with pt_leaf_unlock); false if it was
 * unlinked meanwhile (nothing held, interrupts as before pt_leaf_find).
 */
bool pt_leaf_find_lock(struct as *as, struct pt_leaf *pl);
/* End a pt_leaf_find that found a table, without locking it. */
void pt_leaf_find_end(struct as *as, struct pt_leaf *pl);
/* The lock covering @table in @as: the caller never branches on mode. */
struct spinlock *pt_lockptr(struct as *as, struct frame *table);

/*
 * pt_leaf_release_if_empty - unlink an empty leaf table from its parent
 * and put it on @batch. Takes as->lock then the leaf lock (rank order).
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

static inline vaddr_t leaf_base(vaddr_t va)
{
	return ALIGN_DOWN(va, SV39_MEGA);
}

/* Windows for arch_race_window() (host tests stretch them). */
#define MM_RACE_REGION_SCAN	1	/* a fault read one region slot */
