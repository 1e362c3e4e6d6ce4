/*
 * panic.c - print why, where and how we got here, stop every hart, and
 * power off (or park, where there is no shutdown device)
 */
#include <arch/trap.h>
#include <arch/csr.h>
#include <kern/arch.h>
#include <kern/console.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/power.h>
#include <kern/printf.h>
#include <kern/smp.h>

static int panicking;	/* atomic: first hart to panic wins */

static __noreturn void panic_finish(void)
{
	smp_stop_others();
	printk("panic: end of report; stopping\n");
	machine_poweroff(true);
}

static void panic_begin(void)
{
	struct hart *h = this_hart();

	arch_irq_disable();
	if (h->in_panic) {
		/* A panic while panicking: print what we can and stop. */
		console_panic_mode();
		printk("panic: recursive panic on hart %u\n", h->id);
		arch_halt();
	}
	h->in_panic = true;
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL))
		arch_halt();	/* another hart is reporting */
	console_panic_mode();
}

void panic(const char *fmt, ...)
{
	char msg[PRINTK_MAX - 32];
	struct hart *h = this_hart();
	unsigned long fp, sp;
	va_list ap;

	panic_begin();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("panic: %s\n", msg);
	printk("panic: on hart %u (hartid %lu)\n", h->id,
	       (unsigned long)h->hartid);
	__asm__("mv %0, s0; mv %1, sp" : "=r"(fp), "=r"(sp));
	(void)sp;
	/* Frame #0 is panic itself; the walk then starts at its caller. */
	backtrace_from((unsigned long)panic, fp, 0, h->stack_lo - 4096,
		       h->kstack_top);
	panic_finish();
}

void panic_frame(const struct trap_frame *tf, const char *fmt, ...)
{
	char msg[PRINTK_MAX - 32];
	va_list ap;

	panic_begin();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("panic: %s\n", msg);
	trap_dump(tf);
	panic_finish();
}

void arch_halt(void)
{
	arch_irq_disable();
	csr_write(CSR_SIE, 0);
	for (;;)
		arch_wait_for_irq();
}
