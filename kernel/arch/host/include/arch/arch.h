#pragma once
/*
 * arch.h (host) - the kern/arch.h contract for host tests: pthreads stand
 * in for harts, "interrupts" are a per-thread flag whose nesting the tests
 * can check, and time is CLOCK_MONOTONIC in nanoseconds.
 */
#include <kern/types.h>
#include <sched.h>
#include <string.h>
#include <time.h>

extern _Thread_local unsigned long host_irq_on;

/*
 * The "interrupt" (a signal, arch/host/mm.c) runs on this same thread, so
 * only the compiler can reorder memory accesses across a change of
 * host_irq_on: each change is fenced against the thread's own signal
 * handler, as the RISC-V csr helpers are "memory" clobbers. Without that,
 * a page-table load could move to before interrupts go off.
 */
static inline unsigned long arch_irq_disable(void)
{
	unsigned long s = host_irq_on;

	host_irq_on = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return s;
}

static inline void arch_irq_restore(unsigned long state)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	host_irq_on = state;
}

static inline void arch_irq_enable(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	host_irq_on = 1;
}

static inline bool arch_irqs_enabled(void)
{
	return host_irq_on;
}

static inline void arch_cpu_relax(void)
{
	sched_yield();
}

static inline uint64_t arch_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t arch_time_hz(void)
{
	return 1000000000ULL;
}

static inline void arch_wait_for_irq(void)
{
	sched_yield();
}

/* Atomic stores (kern/arch.h): the builtins themselves, which
 * ThreadSanitizer understands. */
static inline void arch_counter_inc_u64(uint64_t *p)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

static inline void arch_store_relaxed_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void arch_store_release_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Race windows: a test may set host_race_hook to stretch the windows the
 * kernel marks with arch_race_window() (a delay there makes a rare
 * interleaving common, so a test can show the code survives it). */
extern void (*host_race_hook)(int where);

static inline void arch_race_window(int where)
{
	void (*hook)(int) = __atomic_load_n(&host_race_hook, __ATOMIC_RELAXED);

	if (hook)
		hook(where);
}

__attribute__((noreturn)) void arch_halt(void);

static inline void arch_clear_page(void *kva)
{
	memset(kva, 0, 4096);
}
