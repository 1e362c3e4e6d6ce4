/*
 * fault.c - prints one line, then stores to address 0x8 (page 0 is never
 * mapped: ELF_USER_MIN). The kernel must kill the process with one report
 * line and go on; the line after the store must never appear.
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	volatile int *bad = (volatile int *)0x8;

	/* Hide the constant from the optimiser (no -Warray-bounds, no
	 * assumptions about what a store there means). */
	__asm__("" : "+r"(bad));
	printf("fault: storing to %p\n", (void *)bad);
	*bad = 1;
	printf("fault: still running after the store (a kernel bug)\n");
	return 1;
}
