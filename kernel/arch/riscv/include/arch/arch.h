#pragma once
/*
 * arch.h (riscv) - inline implementation of the kern/arch.h contract
 */
#include <kern/types.h>
#include <arch/csr.h>

extern uint64_t riscv_timebase_hz;	/* from the FDT; immutable after boot */

static inline unsigned long arch_irq_disable(void)
{
	return csr_read_clear(CSR_SSTATUS, SSTATUS_SIE) & SSTATUS_SIE;
}

static inline void arch_irq_restore(unsigned long state)
{
	if (state & SSTATUS_SIE)
		csr_set(CSR_SSTATUS, SSTATUS_SIE);
}

static inline void arch_irq_enable(void)
{
	csr_set(CSR_SSTATUS, SSTATUS_SIE);
}

static inline bool arch_irqs_enabled(void)
{
	return csr_read(CSR_SSTATUS) & SSTATUS_SIE;
}

static inline void arch_cpu_relax(void)
{
	/* Zihintpause "pause", encoded so old assemblers accept it. */
	__asm__ __volatile__(".4byte 0x0100000f" ::: "memory");
}

static inline uint64_t arch_time(void)
{
	return csr_time();
}

static inline uint64_t arch_time_hz(void)
{
	return riscv_timebase_hz;
}

static inline void arch_wait_for_irq(void)
{
	__asm__ __volatile__("wfi" ::: "memory");
}

/* Marks a window host tests stretch to provoke a race (no-op here). */
static inline void arch_race_window(int where)
{
	(void)where;
}

/*
 * Atomic stores (kern/arch.h). GCC 12 compiles a relaxed 32- or 64-bit
 * __atomic_store_n as "amoswap zero" after an add for its address (an AMO
 * takes no offset), and a release one as "fence iorw,ow; amoswap". RVWMO
 * asks for less: an aligned sw/sd (or lw/ld) is single-copy atomic, and a
 * release store is "fence rw,w" and the store (unprivileged ISA manual,
 * appendix A.5, Table A.6, the mapping of C11 atomics; Linux's WRITE_ONCE
 * and smp_store_release do the same). volatile keeps the compiler from
 * tearing, merging or dropping an access; the fence's "memory" clobber
 * keeps earlier accesses before it. One instruction fewer a store (the
 * address add); the release's fence orders no I/O.
 */
static __always_inline void arch_counter_inc_u64(uint64_t *p)
{
	/* Both accesses volatile: one address for both, its offset folded
	 * in (an atomic load and a volatile store made GCC 12 compute
	 * lockstat[cls] twice where cls is not a constant). */
	volatile uint64_t *v = p;

	*v = *v + 1;
}

static __always_inline void arch_store_relaxed_u32(uint32_t *p, uint32_t v)
{
	*(volatile uint32_t *)p = v;
}

static __always_inline void arch_store_release_u32(uint32_t *p, uint32_t v)
{
	__asm__ __volatile__("fence rw, w" ::: "memory");
	*(volatile uint32_t *)p = v;
}

__noreturn void arch_halt(void);
/* kernel/arch/riscv/page.S */
void arch_clear_page(void *kva);
