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
 *   void arch_clear_page(void *kva)         zero one page-aligned 4 KiB page
 *                                           (the demand-zero fault's main
 *                                           cost: each arch its fastest way)
 *
 * Atomic stores, for hot paths where the compiler's own cost more than
 * the architecture needs (riscv: GCC 12 makes every 32- and 64-bit
 * __atomic_store_n an AMO). Each means what the __atomic builtins named
 * here mean, and host builds use exactly those, so ThreadSanitizer sees
 * atomics (docs/locking.md, "Memory ordering"):
 *
 *   void arch_counter_inc_u64(uint64_t *p)  *p + 1 with a relaxed load and
 *                                           a relaxed store: NOT an atomic
 *                                           add, only for a counter one
 *                                           hart writes ("owner hart
 *                                           only") and others read whole
 *   void arch_store_relaxed_u32(uint32_t *p, uint32_t v)
 *                                           __atomic_store_n(p, v, RELAXED)
 *   void arch_store_release_u32(uint32_t *p, uint32_t v)
 *                                           __atomic_store_n(p, v, RELEASE)
 */
#include <kern/types.h>
#include <arch/arch.h>

/*
 * Memory-management hooks (kernel/arch/riscv/asid.c; arch/host/mm.c):
 *
 *   void arch_as_init(struct as *as)       no ASID yet; kernel half of the
 *                                          root filled in
 *   void arch_as_fini(struct as *as)       forget it (before its frames go)
 *   void arch_as_activate(struct as *as)   switch this hart to it (ASID,
 *                                          satp) and add the hart to
 *                                          as->harts
 *   void arch_as_deactivate(void)          back to the kernel-only root
 *   void arch_tlb_flush_local(struct as *as, vaddr_t va, size_t len)
 *                                          this hart; len 0 = all of as
 *   void arch_tlb_flush_remote(struct as *as, const uint64_t *mask,
 *                              vaddr_t va, size_t len)
 *                                          the harts in mask (logical ids),
 *                                          waiting until they are done
 *   void arch_tlb_flush_all_local(void)    everything, this hart
 *   unsigned int arch_asid_bits(void)      0 = no ASIDs (full flushes)
 */
struct as;
void arch_as_init(struct as *as);
void arch_as_fini(struct as *as);
void arch_as_activate(struct as *as);
void arch_as_deactivate(void);
void arch_tlb_flush_local(struct as *as, vaddr_t va, size_t len);
void arch_tlb_flush_remote(struct as *as, const uint64_t *mask, vaddr_t va,
			   size_t len);
void arch_tlb_flush_all_local(void);
unsigned int arch_asid_bits(void);
