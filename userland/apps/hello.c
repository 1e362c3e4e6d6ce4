/*
 * hello.c - the first user program: two lines on the console, one line
 * per argument, status 0
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	long pid = sys_getpid();
	long ns = sys_clock();

	printf("hello from user space, pid %ld\n", pid);
	printf("hello: clock %ld ns since boot (%ld.%03ld ms)\n", ns,
	       ns / 1000000, ns / 1000 % 1000);
	for (int i = 0; i < argc; i++)
		printf("hello: argv[%d] = \"%s\"\n", i, argv[i]);
	return 0;
}
