/*
 * early.c - boot page tables, built with the MMU off
 *
 * This file runs at the physical load address before translation is on,
 * so it must not use an absolute address: every symbol is reached
 * PC-relatively (-mcmodel=medany), there are no jump tables
 * (-fno-jump-tables), no pointers stored in initialised data, and no calls
 * outside this file. It maps:
 *
 *   - the kernel image at KERNEL_VBASE with 4 KiB pages: text R+X, rodata
 *     R, data and bss R+W, and the guard page under each kernel stack left
 *     unmapped;
 *   - in the direct map, the 1 GiB pages around the image and around the
 *     FDT, so that the kernel can read the FDT and reach the first free RAM
 *     until mmu.c maps every bank.
 *
 * The root table stays the kernel's root for good (kernel_root).
 */
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/pte.h>

#define EARLY_L0_TABLES	(KERNEL_MAX_SIZE / SV39_MEGA + 1)

pte_t kernel_root[SV39_ENTRIES] __section(".bss.pgtable") __aligned(4096);
static pte_t kernel_l1[SV39_ENTRIES] __section(".bss.pgtable") __aligned(4096);
static pte_t kernel_l0[EARLY_L0_TABLES][SV39_ENTRIES]
	__section(".bss.pgtable") __aligned(4096);

unsigned long kernel_va_pa_offset;	/* KERNEL_VBASE - load pa; immutable */
paddr_t kernel_load_pa;			/* immutable after early_setup */
unsigned long boot_satp;		/* satp every hart loads */

extern char _start[], _text_end[], _rodata_end[], _end[];
extern char kstacks_start[], kstacks_end[];

unsigned long early_setup(paddr_t load_pa, paddr_t fdt_pa);

static void early_map_page(vaddr_t va, paddr_t pa, pte_t flags)
{
	unsigned long idx = (va - KERNEL_VBASE) >> SV39_SHIFT(1);
	pte_t *l0 = kernel_l0[idx];

	if (!pte_is_valid(kernel_l1[SV39_INDEX(va, 1)]))
		kernel_l1[SV39_INDEX(va, 1)] = pte_make_table((paddr_t)l0);
	l0[SV39_INDEX(va, 0)] = pte_make(pa, flags);
}

unsigned long early_setup(paddr_t load_pa, paddr_t fdt_pa)
{
	paddr_t text_end = (paddr_t)_text_end, ro_end = (paddr_t)_rodata_end;
	paddr_t end = (paddr_t)_end;
	paddr_t st = (paddr_t)kstacks_start, st_end = (paddr_t)kstacks_end;
	unsigned long off = KERNEL_VBASE - load_pa;
	paddr_t gb = ALIGN_DOWN(load_pa, SV39_GIGA);

	kernel_va_pa_offset = off;
	kernel_load_pa = load_pa;

	kernel_root[SV39_INDEX(KERNEL_VBASE, 2)] =
		pte_make_table((paddr_t)kernel_l1);
	for (paddr_t pa = load_pa; pa < end; pa += PAGE_SIZE) {
		pte_t flags = PTE_KERN_RW;

		if (pa < text_end)
			flags = PTE_KERN_RX;
		else if (pa < ro_end)
			flags = PTE_KERN_RO;
		else if (pa >= st && pa < st_end &&
			 (pa - st) % KSTACK_SLOT == 0)
			continue;	/* guard page */
		early_map_page(pa + off, pa, flags);
	}

	kernel_root[SV39_INDEX(PHYS_MAP_BASE + gb, 2)] =
		pte_make(gb, PTE_KERN_RW);
	gb = ALIGN_DOWN(fdt_pa, SV39_GIGA);
	if (fdt_pa < PHYS_MAP_LIMIT)
		kernel_root[SV39_INDEX(PHYS_MAP_BASE + gb, 2)] =
			pte_make(gb, PTE_KERN_RW);

	boot_satp = SATP_MODE_SV39 | ((paddr_t)kernel_root >> PAGE_SHIFT);
	return boot_satp;
}
