#pragma once
/*
 * mmu.h - the kernel half of the address space (mmu.c, early.c)
 */
#include <kern/types.h>
#include <arch/pte.h>

extern unsigned long kernel_va_pa_offset;	/* KERNEL_VBASE - load pa */
extern paddr_t kernel_load_pa;
extern unsigned long boot_satp;

/* Map [start, end) of RAM into the direct map (2 MiB leaves, rounded in). */
int mmu_map_direct(paddr_t start, paddr_t end, pte_t flags);
/* Make device registers at @pa reachable; returns their kernel address. */
void *ioremap(paddr_t pa, uint64_t size);
