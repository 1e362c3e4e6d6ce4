/*
 * timer.c - the supervisor timer: a tick every 1/CONFIG_HZ seconds
 *
 * Where the Sstc extension is present and usable (the FDT lists it and
 * reading stimecmp does not trap: M-mode must have set menvcfg.STCE), the
 * deadline is written straight to stimecmp; otherwise through SBI
 * set_timer (TIME extension). The boot hart decides for all harts.
 */
#include <arch/arch.h>
#include <arch/csr.h>
#include <arch/trap.h>
#include <kern/hart.h>
#include <kern/irq.h>
#include <kern/printf.h>
#include <kern/thread.h>
#include <kern/ipc.h>
#include <kern/timer.h>
#include <sbi/sbi.h>

uint64_t riscv_timebase_hz = 10000000;	/* from the FDT; set before SMP */
static bool use_sstc;			/* immutable after timer_init() */

static bool sstc_probe(void)
{
	unsigned long ok = 0, v;

	/* If stimecmp is not accessible the csrr traps; the exception table
	 * resumes at 2: with ok still 0. */
	__asm__ __volatile__("1: csrr %1, 0x14d\n"
			     "   li %0, 1\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+r"(ok), "=r"(v) : : "memory");
	return ok;
}

static void timer_program(uint64_t when)
{
	if (use_sstc)
		csr_write(CSR_STIMECMP, when);
	else
		sbi_set_timer(when);
}

void timer_init(uint64_t timebase_hz, bool fdt_says_sstc)
{
	riscv_timebase_hz = timebase_hz;
	use_sstc = fdt_says_sstc && sstc_probe();
	printk("timer: timebase %lu Hz, %d Hz tick, via %s\n",
	       (unsigned long)timebase_hz, CONFIG_HZ,
	       use_sstc ? "Sstc stimecmp"
			: fdt_says_sstc ? "SBI TIME (Sstc listed but stimecmp traps)"
					: "SBI TIME");
}

void timer_start_hart(void)
{
	struct hart *h = this_hart();

	h->next_tick = arch_time() + riscv_timebase_hz / CONFIG_HZ;
	timer_program(h->next_tick);
	csr_set(CSR_SIE, SIE_STIE);
}

void timer_handle(void)
{
	struct hart *h = this_hart();
	uint64_t period = riscv_timebase_hz / CONFIG_HZ, now = arch_time();

	h->ticks++;
	h->next_tick += period;
	if (h->next_tick <= now)	/* missed ticks: do not catch up */
		h->next_tick = now + period;
	timer_program(h->next_tick);
	sched_tick();
	klog_tick();
}

uint64_t time_ns(void)
{
	uint64_t t = arch_time();

	return t / riscv_timebase_hz * 1000000000ULL +
	       t % riscv_timebase_hz * 1000000000ULL / riscv_timebase_hz;
}
