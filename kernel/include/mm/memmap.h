#pragma once
/*
 * memmap.h - which RAM the kernel may hand out
 *
 * The usable map is every RAM bank minus everything reserved: the FDT's
 * memory-reservation block and /reserved-memory children (OpenSBI's own
 * region among them, no-map or not), the kernel image, the FDT blob, the
 * initrd, and all RAM below the kernel's load address (DESIGN.md).
 * The frame allocator is built from it. Immutable after boot.
 */
#include <kern/types.h>

struct mem_range {
	paddr_t start, end;	/* [start, end) */
};

#define MEMMAP_MAX	64

/*
 * memmap_build - subtract @rsv from @banks, drop RAM below @floor
 *
 * Usable ranges come out sorted, disjoint, page-aligned (rounded inward;
 * reserved ranges round outward). Return: the number of ranges written to
 * @out, or -E_RANGE if more than @max would be needed.
 */
int memmap_build(const struct mem_range *banks, int nbanks,
		 const struct mem_range *rsv, int nrsv, paddr_t floor,
		 struct mem_range *out, int max);

extern struct mem_range memmap_usable[MEMMAP_MAX];
extern int memmap_nusable;
