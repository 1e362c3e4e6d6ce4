/*
 * tlb.c - shootdowns: which harts, which range, and when frames may go
 */
#include <mm/tlb.h>
#include <mm/as.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>

struct tlb_stats tlb_stats;

void tlb_shootdown(struct as *as, vaddr_t va, size_t len)
{
	unsigned int self, n = nr_harts;
	hartmask_t others;
	bool any = false;

	/* No migration between choosing "this hart" and flushing it: the
	 * hart left out of the remote set must be the one flushed here. The
	 * firmware's remote fences do not need S-mode interrupts. */
	irq_push();
	self = hart_self();

	if (tlb_len_is_full(len)) {
		va = 0;
		len = 0;	/* the whole address space */
		__atomic_fetch_add(&tlb_stats.full, 1, __ATOMIC_RELAXED);
	}
	memset(others, 0, sizeof(others));
	/*
	 * Full fence: our page-table stores are ordered before the reads of
	 * as->harts; arch_as_activate sets its bit with a full-barrier AMO
	 * before it loads satp. Either we see the new hart's bit, or that
	 * hart's walks start after our stores.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < n; i++) {
		if (!(__atomic_load_n(&as->harts[i / 64], __ATOMIC_RELAXED) &
		      (1ULL << (i % 64))))
			continue;
		if (i == self) {
			arch_tlb_flush_local(as, va, len);
			continue;
		}
		hartmask_set(others, i);
		any = true;
	}
	if (any) {
		arch_tlb_flush_remote(as, others, va, len);
		__atomic_fetch_add(&tlb_stats.shootdowns, 1, __ATOMIC_RELAXED);
	}
	irq_pop();
}

static void sync_fn(void *arg)
{
	arch_tlb_flush_all_local();
}

void tlb_sync_all(void)
{
	xcall_all(sync_fn, NULL);
	__atomic_fetch_add(&tlb_stats.syncs, 1, __ATOMIC_RELAXED);
}

void tlb_flush_local_page(struct as *as, vaddr_t va)
{
	irq_push();
	arch_tlb_flush_local(as, va, PAGE_SIZE);
	irq_pop();
}
