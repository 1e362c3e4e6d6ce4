#pragma once
/*
 * memlayout.h (host) - "physical memory" for the host tests (STYLE.md 8)
 *
 * RAM is one mmap'd arena, aligned to the largest buddy block so that a
 * block's kernel address is as aligned as its physical one. Physical
 * address HOST_RAM_BASE is the arena's first byte; pa 0 is never RAM, as
 * on the boards. pa_to_kva and kva_to_pa are the arena offset, and panic
 * on an address outside the arena (a stray PTE decodes to garbage).
 *
 * Locking: host_ram and host_ram_size are immutable between
 * host_mem_init() and host_mem_fini(), which run with no other hart up.
 */
#include <kern/types.h>
#include <kern/panic.h>

#define HOST_RAM_BASE	0x80000000UL

#ifndef __ASSEMBLER__
struct mem_range;

extern char *host_ram;
extern size_t host_ram_size;

static inline void *pa_to_kva(paddr_t pa)
{
	if (unlikely(pa < HOST_RAM_BASE || pa - HOST_RAM_BASE >= host_ram_size))
		panic("host: pa_to_kva(%#lx) outside RAM [%#lx, %#lx)",
		      (unsigned long)pa, HOST_RAM_BASE,
		      (unsigned long)(HOST_RAM_BASE + host_ram_size));
	return host_ram + (pa - HOST_RAM_BASE);
}

static inline paddr_t kva_to_pa(const void *kva)
{
	const char *p = kva;

	if (unlikely(p < host_ram || p >= host_ram + host_ram_size))
		panic("host: kva_to_pa(%p) outside RAM", kva);
	return (paddr_t)(p - host_ram) + HOST_RAM_BASE;
}

/*
 * host_mem_init - map a fresh arena of @mib MiB and build the frame table
 * @rsv, @nrsv: physical ranges to keep out of the allocator (firmware,
 *              image), subtracted with memmap_build() as at boot
 *
 * Any previous arena is unmapped first. Call with no other hart running.
 * Return: 0, or a negative error from memmap_build()/frame_init().
 */
int host_mem_init(size_t mib, const struct mem_range *rsv, int nrsv);
/* Unmap the arena (the frame table goes with it). */
void host_mem_fini(void);
#endif
