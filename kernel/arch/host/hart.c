/*
 * hart.c (host) - pthreads as harts: each test thread calls
 * host_hart_enter(i) to become logical hart i; harts[] and nr_harts are
 * the same objects the kernel code uses.
 */
#include <kern/hart.h>
#include <kern/panic.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct hart harts[CONFIG_MAX_HARTS];
unsigned int nr_harts = 1;
_Thread_local struct hart *host_this_hart = &harts[0];
_Thread_local unsigned long host_irq_on = 1;
void (*host_race_hook)(int where);

void host_hart_enter(unsigned int id);

void host_hart_enter(unsigned int id)
{
	harts[id].id = id;
	harts[id].hartid = id;
	host_this_hart = &harts[id];
	host_irq_on = 1;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "panic: ");
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fprintf(stdout, "\n");
	fflush(stdout);
	abort();
}

void arch_halt(void)
{
	abort();
}
