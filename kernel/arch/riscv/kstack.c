/*
 * kstack.c - thread kernel stacks with guard pages
 *
 * Slot i of the stack area is [guard page][KSTACK_SIZE bytes] at
 * KSTACK_AREA + i * KSTACK_SLOT. The area's level-1 table hangs off the
 * kernel root before any address space is made, so every address space
 * shares it and sees stacks mapped later. Stack pages are global kernel
 * mappings: freeing a stack flushes every hart before the frames and the
 * slot are reused.
 */
#include <arch/kstack.h>
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <arch/pte.h>
#include <kern/errno.h>
#include <kern/panic.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <mm/frame.h>

#define KSTACK_SLOTS	4096
#define KSTACK_ORDER	(CONFIG_KSTACK_PAGES <= 1 ? 0 : \
			 CONFIG_KSTACK_PAGES <= 2 ? 1 : \
			 CONFIG_KSTACK_PAGES <= 4 ? 2 : \
			 CONFIG_KSTACK_PAGES <= 8 ? 3 : 4)

extern pte_t kernel_root[SV39_ENTRIES];

/* kstack_lock protects slot_map and the entries of the area's tables.
 * Class kmap (rank 80). */
static struct spinlock kstack_lock = SPINLOCK_INIT(LOCK_CLASS_KMAP);
static uint64_t slot_map[KSTACK_SLOTS / 64];
static pte_t *area_l1;		/* immutable after kstack_init */

void kstack_init(void)
{
	struct frame *f = frame_alloc_pt(1);

	if (!f)
		panic("kstack: no frame for the stack area's table");
	area_l1 = frame_to_kva(f);
	kernel_root[SV39_INDEX(KSTACK_AREA, 2)] =
		pte_make_table(frame_to_pa(f));
	__asm__ __volatile__("sfence.vma" ::: "memory");
}

static vaddr_t slot_va(unsigned int slot)
{
	return KSTACK_AREA + (vaddr_t)slot * KSTACK_SLOT;
}

/* The level-0 entry for @va; kstack_lock held. Uses *spare if a table is
 * missing. NULL if one is missing and no spare is left. */
static pte_t *leaf_pte_locked(vaddr_t va, struct frame **spare)
{
	pte_t *l1e = &area_l1[SV39_INDEX(va, 1)];

	if (!pte_is_valid(*l1e)) {
		struct frame *t = spare[0] ? spare[0] : spare[1];

		if (!t)
			return NULL;
		if (t == spare[0])
			spare[0] = NULL;
		else
			spare[1] = NULL;
		__atomic_store_n(l1e, pte_make_table(frame_to_pa(t)),
				 __ATOMIC_RELEASE);
	}
	return (pte_t *)pa_to_kva(pte_pa(*l1e)) + SV39_INDEX(va, 0);
}

int kstack_alloc(struct kstack *ks)
{
	struct frame *spare[2] = { frame_alloc_pt(0), frame_alloc_pt(0) };
	struct frame *f = frame_alloc(KSTACK_ORDER, FRAME_F_KERNEL);
	int slot = -1, err = 0;

	if (!f || !spare[0] || !spare[1]) {
		err = -E_NOMEM;
		goto out;
	}
	spin_lock(&kstack_lock);
	for (unsigned int i = 0; i < KSTACK_SLOTS && slot < 0; i++)
		if (!(slot_map[i / 64] & (1ULL << (i % 64))))
			slot = (int)i;
	if (slot < 0) {
		spin_unlock(&kstack_lock);
		err = -E_NOMEM;
		goto out;
	}
	slot_map[slot / 64] |= 1ULL << (slot % 64);
	for (unsigned int p = 0; p < CONFIG_KSTACK_PAGES; p++) {
		vaddr_t va = slot_va((unsigned int)slot) + PAGE_SIZE * (p + 1);
		pte_t *e = leaf_pte_locked(va, spare);

		if (!e)
			panic("kstack: out of spare tables");
		__atomic_store_n(e, pte_make(frame_to_pa(f) + PAGE_SIZE * p,
					     PTE_KERN_RW), __ATOMIC_RELEASE);
	}
	spin_unlock(&kstack_lock);
	ks->slot = (unsigned int)slot;
	ks->lo = slot_va((unsigned int)slot) + PAGE_SIZE;
	ks->hi = ks->lo + KSTACK_SIZE;
	ks->frames = f;
	f = NULL;
out:
	for (int i = 0; i < 2; i++)
		if (spare[i])
			frame_free(spare[i]);
	if (f)
		frame_free(f);
	return err;
}

static void flush_all(void *arg)
{
	__asm__ __volatile__("sfence.vma" ::: "memory");
}

void kstack_free(struct kstack *ks)
{
	spin_lock(&kstack_lock);
	for (unsigned int p = 0; p < CONFIG_KSTACK_PAGES; p++) {
		vaddr_t va = ks->lo + PAGE_SIZE * p;
		pte_t *l1e = &area_l1[SV39_INDEX(va, 1)];

		((pte_t *)pa_to_kva(pte_pa(*l1e)))[SV39_INDEX(va, 0)] = 0;
	}
	spin_unlock(&kstack_lock);
	/* Every hart forgets the stack before the frames or the slot are
	 * used again. */
	xcall_all(flush_all, NULL);
	frame_free(ks->frames);
	spin_lock(&kstack_lock);
	slot_map[ks->slot / 64] &= ~(1ULL << (ks->slot % 64));
	spin_unlock(&kstack_lock);
	ks->frames = NULL;
}
