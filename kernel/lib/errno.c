/*
 * errno.c - names of the kernel's error codes, for messages
 */
#include <kern/errno.h>

const char *errno_name(int err)
{
	static const char *const names[] = {
		[E_OK] = "E_OK",	   [E_PERM] = "E_PERM",
		[E_NOENT] = "E_NOENT",	   [E_NOMEM] = "E_NOMEM",
		[E_FAULT] = "E_FAULT",	   [E_BUSY] = "E_BUSY",
		[E_EXIST] = "E_EXIST",	   [E_INVAL] = "E_INVAL",
		[E_RANGE] = "E_RANGE",	   [E_NOSYS] = "E_NOSYS",
		[E_TIMEDOUT] = "E_TIMEDOUT", [E_AGAIN] = "E_AGAIN",
		[E_NOTSUP] = "E_NOTSUP",   [E_BADFMT] = "E_BADFMT",
		[E_IO] = "E_IO",	   [E_BADH] = "E_BADH",
		[E_TYPE] = "E_TYPE",	   [E_PEER] = "E_PEER",
		[E_INTR] = "E_INTR",	   [E_MSGSIZE] = "E_MSGSIZE",
	};

	if (err < 0)
		err = -err;
	if ((unsigned int)err < sizeof(names) / sizeof(names[0]) && names[err])
		return names[err];
	return "E_?";
}
