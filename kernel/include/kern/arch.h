#pragma once
/*
 * arch.h - the contract between generic kernel code and an architecture
 *
 * Every architecture (kernel/arch/riscv, and kernel/arch/host for the host
 * tests) provides these in <arch/arch.h>, mostly as inline functions:
 *
 *   unsigned long arch_irq_disable(void)    disable interrupts on this hart;
 *                                           return the previous state
 *   void arch_irq_restore(unsigned long s)  put back a state from above
 *   void arch_irq_enable(void)
 *   bool arch_irqs_enabled(void)
 *   void arch_cpu_relax(void)               spin-wait hint
 *   uint64_t arch_time(void)                monotonic time in ticks
 *   uint64_t arch_time_hz(void)             ticks per second
 *   void arch_wait_for_irq(void)            idle until an interrupt is pending
 *   __noreturn void arch_halt(void)         park this hart for good
 */
#include <kern/types.h>
#include <arch/arch.h>
