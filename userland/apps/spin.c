/*
 * spin.c - never ends by itself (it yields now and then): for kill tests
 * and for checking that a spinning program is preempted
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	volatile unsigned long n = 0;

	printf("spin: pid %ld spinning\n", sys_getpid());
	for (;;)
		n++;
}
