#pragma once
/*
 * Kernel error codes. Functions return 0 or a negative E_* value. The
 * syscall ABI (docs/abi.md) maps these one-to-one to user-visible codes,
 * so values never change once assigned.
 */
#define E_OK		0
#define E_PERM		1	/* operation not permitted */
#define E_NOENT		2	/* no such object */
#define E_NOMEM		3	/* out of memory */
#define E_FAULT		4	/* bad address */
#define E_BUSY		5	/* resource busy */
#define E_EXIST		6	/* already exists */
#define E_INVAL		7	/* invalid argument */
#define E_RANGE		8	/* value out of range */
#define E_NOSYS		9	/* not implemented */
#define E_TIMEDOUT	10	/* timed out */
#define E_AGAIN		11	/* try again */
#define E_NOTSUP	12	/* not supported */
#define E_BADFMT	13	/* malformed input (FDT, ELF, command line) */
#define E_IO		14	/* device error */
#define E_BADH		15	/* not a handle of this process */
#define E_TYPE		16	/* handle of the wrong object type */
#define E_PEER		17	/* the other side of an IPC is gone */
#define E_INTR		18	/* interrupted: the process is being killed */
#define E_MSGSIZE	19	/* message too long, or no IPC buffer */

const char *errno_name(int err);
