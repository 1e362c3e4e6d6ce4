/*
 * proc.c - waiting for a child process (rivet.h, child_wait)
 *
 * SYS_WAIT takes the child out of the kernel's process table as soon as
 * the wait starts, and from then on SYS_KILL and SYS_PROC_INFO do not find
 * it: init could not stop the servers it waits for, the shell could not
 * kill (^C) what `run` waits for, and `ps` would list neither. So poll
 * SYS_PROC_INFO until the child is ending, and only then wait.
 * TODO(issue 5): a plain sys_wait once the kernel keeps a waited-for child
 * in its table (KERNEL-REQUEST.md, item 1).
 */
#include <rivet.h>

#define POLL_NS	50000000UL	/* 50 ms */

/* Is @pid in the table and not ending? */
static bool running(long pid)
{
	struct rivet_proc_info pi;

	for (long i = 0; sys_proc_info(i, &pi) == 0; i++)
		if (pi.pid == pid)
			return !pi.exiting;
	return false;
}

long child_wait(long pid)
{
	while (running(pid))
		sys_sleep(POLL_NS);
	return sys_wait(pid);
}
