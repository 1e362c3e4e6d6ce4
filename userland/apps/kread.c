/*
 * kread.c - tries to read the kernel half; the kernel must kill it
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	volatile unsigned long *k = (volatile unsigned long *)0xffffffff80000000UL;

	printf("kread: reading the kernel image at %p\n", (void *)k);
	return (int)*k;
}
