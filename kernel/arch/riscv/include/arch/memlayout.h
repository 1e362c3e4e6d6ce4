#pragma once
/*
 * memlayout.h - the kernel's virtual address map (Sv39, upper half)
 *
 *   0xffffffc000000000  direct map: kva = pa + PHYS_MAP_BASE, every RAM
 *                       bank the FDT lists (pa below 128 GiB)
 *   0xffffffe000000000  kernel stacks of threads, each above an unmapped
 *                       guard page (kstack.c)
 *   0xffffffff80000000  the kernel image, wherever it was loaded in RAM
 *
 * The image is linked at KERNEL_VBASE and runs at any 4 KiB-aligned
 * physical address: early boot maps KERNEL_VBASE to the load address.
 */
#define PHYS_MAP_BASE	0xffffffc000000000UL
#define PHYS_MAP_LIMIT	0x0000002000000000UL	/* first pa not mapped */
#define KSTACK_AREA	0xffffffe000000000UL	/* one GiB of stack slots */
#define KERNEL_VBASE	0xffffffff80000000UL
/* Early tables can map this much image (checked by the linker script). */
#define KERNEL_MAX_SIZE	(16UL << 20)

#ifndef __ASSEMBLER__
#include <kern/types.h>

static inline void *pa_to_kva(paddr_t pa)
{
	return (void *)(pa + PHYS_MAP_BASE);
}

static inline paddr_t kva_to_pa(const void *kva)
{
	extern unsigned long kernel_va_pa_offset;
	vaddr_t va = (vaddr_t)kva;

	if (va >= KERNEL_VBASE)
		return va - kernel_va_pa_offset;
	return va - PHYS_MAP_BASE;
}
#endif

/* Kernel stacks: KSTACK_SIZE bytes above an unmapped guard page. */
#define KSTACK_SIZE	(CONFIG_KSTACK_PAGES * 4096)
#define KSTACK_SLOT	(KSTACK_SIZE + 4096)
/* Stack used by a hart whose kernel stack overflowed into its guard. */
#define EMERG_STACK_SIZE 4096
