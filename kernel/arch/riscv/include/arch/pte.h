#pragma once
/*
 * pte.h - Sv39 page-table entries (RISC-V Privileged Architecture v1.12,
 * section 4.4 "Sv39: Page-Based 39-bit Virtual-Memory System", figure 4.21
 * "Sv39 page table entry").
 */
#include <kern/types.h>

#define PTE_V		BIT(0)	/* valid */
#define PTE_R		BIT(1)
#define PTE_W		BIT(2)
#define PTE_X		BIT(3)
#define PTE_U		BIT(4)	/* user accessible */
#define PTE_G		BIT(5)	/* global: in every address space */
#define PTE_A		BIT(6)	/* accessed */
#define PTE_D		BIT(7)	/* dirty */
#define PTE_COW		BIT(8)	/* RSW: copy-on-write (software only) */
#define PTE_BUSY	BIT(9)	/* with V clear: a user leaf being replaced
				 * (kernel/mm/as.c, cow_break) */
#define PTE_PPN_SHIFT	10
#define PTE_PPN		GENMASK(53, 10)

#define SV39_LEVELS	3
#define SV39_ENTRIES	512
#define SV39_VA_BITS	39
/* Shift of the VPN field that indexes a table of the given level (0=leaf). */
#define SV39_SHIFT(level)	(PAGE_SHIFT + 9 * (level))
#define SV39_INDEX(va, level)	(((va) >> SV39_SHIFT(level)) & 0x1ff)
#define SV39_MEGA	(1UL << SV39_SHIFT(1))	/* 2 MiB */
#define SV39_GIGA	(1UL << SV39_SHIFT(2))	/* 1 GiB */

/* Kernel leaf permissions. A and D are set at install (DESIGN.md: U74). */
#define PTE_KERN_RX	(PTE_V | PTE_R | PTE_X | PTE_G | PTE_A)
#define PTE_KERN_RO	(PTE_V | PTE_R | PTE_G | PTE_A)
#define PTE_KERN_RW	(PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D)

#ifndef __ASSEMBLER__
typedef uint64_t pte_t;

static inline pte_t pte_make(paddr_t pa, uint64_t flags)
{
	return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | flags;
}

static inline pte_t pte_make_table(paddr_t pa)
{
	return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | PTE_V;
}

static inline paddr_t pte_pa(pte_t pte)
{
	return ((pte & PTE_PPN) >> PTE_PPN_SHIFT) << PAGE_SHIFT;
}

static inline bool pte_is_valid(pte_t pte)
{
	return pte & PTE_V;
}

static inline bool pte_is_leaf(pte_t pte)
{
	return pte & (PTE_R | PTE_W | PTE_X);
}

/*
 * A user leaf entry is in one of three states: none (0: nothing mapped,
 * the only state a new page may be installed over), valid, or busy. A
 * busy entry is a valid one with V cleared and PTE_BUSY set: the hardware
 * cannot walk it (the walker ignores every other bit of an entry without
 * V), but it still names its frame and rights, and the kernel still counts
 * it as that frame's mapping.
 */
static inline bool pte_is_none(pte_t pte)
{
	return pte == 0;
}

static inline bool pte_is_busy(pte_t pte)
{
	return (pte & (PTE_V | PTE_BUSY)) == PTE_BUSY;
}

/* @pte, a valid leaf, made busy: same frame and rights, not walkable. */
static inline pte_t pte_mkbusy(pte_t pte)
{
	return (pte & ~PTE_V) | PTE_BUSY;
}

/* A busy entry made valid again, with the frame and rights it names. */
static inline pte_t pte_unbusy(pte_t pte)
{
	return (pte & ~PTE_BUSY) | PTE_V;
}
#endif
