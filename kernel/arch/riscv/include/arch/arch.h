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

__noreturn void arch_halt(void);
/* kernel/arch/riscv/page.S */
void arch_clear_page(void *kva);
