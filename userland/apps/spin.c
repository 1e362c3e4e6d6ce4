/*
 * spin.c - never ends by itself (it yields now and then): for kill tests
 * and for checking that a spinning program is preempted
 *
 * `spin sleep` sleeps instead, for 1 844 674 407 371 ns (about 31 min),
 * then exits 0: a length whose ns * 10 MHz just passes 2^64, which the
 * kernel once turned into a 10 ms sleep. utest kills it while it sleeps.
 *
 * `spin wait` starts a `spin` child and waits for it (SYS_WAIT): utest
 * kills this one while it waits, which must end it all the same.
 *
 * `spin spawn` starts a `spin wait` (two generations below it), then
 * `spin sleep` children for ever, as fast as the process table lets it
 * (a full table: it sleeps 1 ms and tries again): utest kills the tree
 * (KILL_TREE) while spawns are in flight.
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	volatile unsigned long n = 0;

	if (argc > 1 && !strcmp(argv[1], "wait")) {
		long pid = sys_spawn("spin", 0);

		printf("spin: pid %ld waiting for pid %ld\n", sys_getpid(),
		       pid);
		return pid > 0 ? (int)sys_wait(pid) : 2;
	}
	if (argc > 1 && !strcmp(argv[1], "spawn")) {
		long pid = sys_spawn("spin", "wait");

		printf("spin: pid %ld spawning (first child %ld)\n",
		       sys_getpid(), pid);
		for (;;)
			if (sys_spawn("spin", "sleep") < 0)
				sys_sleep(1000 * 1000);
	}
	if (argc > 1 && !strcmp(argv[1], "sleep")) {
		printf("spin: pid %ld sleeping\n", sys_getpid());
		sys_sleep(1844674407371UL);
		return 0;
	}
	printf("spin: pid %ld spinning\n", sys_getpid());
	for (;;)
		n++;
}
