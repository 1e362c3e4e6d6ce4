#pragma once
/*
 * tlb.h - TLB maintenance for address spaces (tlb.c over the arch hooks)
 *
 * Two rules (docs/vm.md): after a store that makes an invalid entry valid,
 * nothing is required (a hart that faults on a stale invalid entry treats
 * the fault as spurious and flushes that address); removing a mapping or a
 * permission needs tlb_shootdown() on every hart in as->harts before the
 * frame or the permission is reused.
 */
#include <kern/types.h>

struct as;

/* Flushes above this many pages flush the whole ASID instead (measured:
 * docs/vm.md). */
#define TLB_FULL_FLUSH_PAGES	64

/* Does a shootdown of @len bytes flush the whole address space? */
static inline bool tlb_len_is_full(size_t len)
{
	return len / PAGE_SIZE > TLB_FULL_FLUSH_PAGES;
}

/*
 * tlb_shootdown - make every hart in @as->harts forget [va, va+len)
 *
 * Context: no spinlock held that a target hart may spin on with
 * interrupts off (it waits for the firmware's remote fences).
 */
void tlb_shootdown(struct as *as, vaddr_t va, size_t len);
/*
 * tlb_sync_all - wait until every online hart has passed a point where it
 * walks no page table without a lock (it runs a cross-hart call, which
 * only happens with interrupts on) and has flushed its whole TLB. Freed
 * page-table pages are reused only after this.
 */
void tlb_sync_all(void);
/* Local, this hart: one page (or all if @va == 0 and @all). */
void tlb_flush_local_page(struct as *as, vaddr_t va);

/* Counters for tests and docs (atomic). */
struct tlb_stats {
	uint64_t shootdowns;	/* tlb_shootdown calls that reached others */
	uint64_t full;		/* of which whole-ASID flushes */
	uint64_t syncs;		/* tlb_sync_all calls */
};
extern struct tlb_stats tlb_stats;
