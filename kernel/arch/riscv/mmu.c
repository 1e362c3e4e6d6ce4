/*
 * mmu.c - the kernel's own mappings after early boot: the direct map of
 * every RAM bank, and device registers
 *
 * The direct map uses 2 MiB leaves in level-1 tables taken from a static
 * pool (one table per GiB of address space that holds RAM). Device memory
 * is mapped at the same place the direct map would put it (pa_to_kva
 * works for it): 2 MiB leaves when its GiB also holds RAM, otherwise one
 * 1 GiB leaf for the whole GiB. RISC-V PMAs, not PTEs, make device regions
 * uncached and free of speculative access, so a large leaf over them is
 * safe; the memory-core work will move devices to 4 KiB mappings.
 *
 * All of this runs while only the boot hart is up: root entries of the
 * kernel half are fixed before secondary harts start (and before any user
 * address space copies them). kmap_lock serialises later ioremap calls.
 */
#include <arch/mmu.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/pte.h>
#include <kern/errno.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/spinlock.h>
#include <kern/string.h>

#define DIRECT_L1_POOL	16

extern pte_t kernel_root[SV39_ENTRIES];
static pte_t direct_l1[DIRECT_L1_POOL][SV39_ENTRIES] __aligned(4096);
static int direct_l1_used;
/* kmap_lock protects kernel_root's kernel-half entries and direct_l1. */
static struct spinlock kmap_lock = SPINLOCK_INIT(LOCK_CLASS_KMAP);

static inline paddr_t kimg_pa(const void *p)
{
	return (vaddr_t)p - kernel_va_pa_offset;
}

/* The level-1 table for the GiB holding @pa, made if needed. */
static pte_t *direct_l1_for(paddr_t pa, bool *made)
{
	pte_t *slot = &kernel_root[SV39_INDEX(PHYS_MAP_BASE + pa, 2)];
	pte_t *l1;

	*made = false;
	if (pte_is_valid(*slot) && !pte_is_leaf(*slot))
		return pa_to_kva(pte_pa(*slot));
	if (direct_l1_used == DIRECT_L1_POOL)
		return NULL;
	l1 = direct_l1[direct_l1_used++];
	memset(l1, 0, PAGE_SIZE);
	*made = true;
	return l1;
}

int mmu_map_direct(paddr_t start, paddr_t end, pte_t flags)
{
	start = ALIGN_UP(start, SV39_MEGA);
	end = ALIGN_DOWN(end, SV39_MEGA);
	if (end > PHYS_MAP_LIMIT)
		return -E_RANGE;
	for (paddr_t gb = ALIGN_DOWN(start, SV39_GIGA); gb < end;
	     gb += SV39_GIGA) {
		pte_t *slot = &kernel_root[SV39_INDEX(PHYS_MAP_BASE + gb, 2)];
		pte_t old = *slot;
		bool made;
		pte_t *l1 = direct_l1_for(gb, &made);

		if (!l1)
			return -E_NOMEM;
		for (paddr_t pa = MAX(start, gb); pa < MIN(end, gb + SV39_GIGA);
		     pa += SV39_MEGA)
			l1[SV39_INDEX(PHYS_MAP_BASE + pa, 1)] =
				pte_make(pa, flags);
		if (made) {
			/* Keep what an early 1 GiB leaf mapped outside the
			 * banks unmapped from now on, except for what was
			 * just mapped: the table replaces the leaf whole. */
			(void)old;
			__atomic_store_n(slot, pte_make_table(kimg_pa(l1)),
					 __ATOMIC_RELEASE);
		}
	}
	__asm__ __volatile__("sfence.vma" ::: "memory");
	return 0;
}

void *ioremap(paddr_t pa, uint64_t size)
{
	paddr_t end = pa + size;
	void *ret = NULL;

	if (!size || end < pa || end > PHYS_MAP_LIMIT)
		return NULL;
	spin_lock(&kmap_lock);
	for (paddr_t gb = ALIGN_DOWN(pa, SV39_GIGA); gb < end;
	     gb += SV39_GIGA) {
		pte_t *slot = &kernel_root[SV39_INDEX(PHYS_MAP_BASE + gb, 2)];

		if (!pte_is_valid(*slot)) {
			__atomic_store_n(slot, pte_make(gb, PTE_KERN_RW),
					 __ATOMIC_RELEASE);
			continue;
		}
		if (pte_is_leaf(*slot))
			continue;
		{
			pte_t *l1 = pa_to_kva(pte_pa(*slot));

			for (paddr_t p = ALIGN_DOWN(MAX(pa, gb), SV39_MEGA);
			     p < MIN(end, gb + SV39_GIGA); p += SV39_MEGA) {
				pte_t *e = &l1[SV39_INDEX(PHYS_MAP_BASE + p, 1)];

				if (!pte_is_valid(*e))
					__atomic_store_n(e,
						pte_make(p, PTE_KERN_RW),
						__ATOMIC_RELEASE);
			}
		}
	}
	ret = pa_to_kva(pa);
	spin_unlock(&kmap_lock);
	/* New mappings only (invalid -> valid): a local fence suffices;
	 * another hart that faults on a stale entry does not exist yet
	 * (ioremap runs before secondary harts use devices). */
	__asm__ __volatile__("sfence.vma" ::: "memory");
	return ret;
}
