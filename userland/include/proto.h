#pragma once
/*
 * proto.h - the IPC protocols of rivet's servers (docs/servers.md)
 *
 * Every request is an IPC call whose label names the operation: four
 * ASCII letters, as the kernel's PAGER_FAULT ("pflt") is. Every reply has
 * label 0 and its status in w0: 0 (or a count) on success, -E_* on
 * failure; more results follow in w1..w3 and the payload. A request a
 * server does not know gets -E_NOSYS; bad arguments -E_INVAL.
 *
 * Names of services are 1..NS_NAME_MAX bytes of printable ASCII without
 * spaces, NUL-padded to NS_NAME_WORDS words of the IPC payload. So a
 * caller of the name server needs an IPC buffer (ipc_buffer_new()); the
 * client functions below take it as @buf.
 *
 * Who holds what:
 *   init      creates the name server's endpoint and keeps it with every
 *             right (so the endpoint outlives a name server that
 *             crashes: calls wait for the restarted one).
 *   names     gets it as HANDLE_SPAWN with every right.
 *   others    every other process init starts, and every program the
 *             shell runs, gets a handle to it with SEND | GRANT as
 *             HANDLE_SPAWN (GRANT, so that it can pass it on to its own
 *             children in the same way).
 */
#include <rivet.h>

#define PROTO_LABEL(a, b, c, d)                                              \
	((unsigned long)(a) << 24 | (unsigned long)(b) << 16 |              \
	 (unsigned long)(c) << 8 | (unsigned long)(d))

/* ---- the name server ("names"): HANDLE_SPAWN ---------------------------- */

#define NS_NAME_MAX	31
#define NS_NAME_WORDS	4	/* payload words carrying a name */
#define NS_MAX		64	/* names registered at once */

/* payload: name; w3: a handle (IPC_INFO_HANDLE; the server needs GRANT in
 * the rights it receives, to hand it out). An existing entry of that name
 * is replaced if the caller's process registered it, or if that process
 * has ended (a restarted server registers again).
 * Reply w0: 0, -E_INVAL (bad name, no handle), -E_PERM (no GRANT, or the
 * name is another live process's), -E_NOMEM (table full, or the handle
 * was dropped). */
#define NS_REGISTER	PROTO_LABEL('n', 'r', 'e', 'g')
/* payload: name. Reply w0: 0 and w3 a handle to the registered object
 * (IPC_INFO_HANDLE) with at most SEND | GRANT of its rights; -E_NOENT. */
#define NS_LOOKUP	PROTO_LABEL('n', 'l', 'k', 'p')
/* payload: name. Reply w0: 0, -E_NOENT, -E_PERM (as for NS_REGISTER). */
#define NS_UNREGISTER	PROTO_LABEL('n', 'u', 'n', 'r')
/* w0: index. Reply w0: 0, the index-th name in the payload and w1 the
 * stored handle's SYS_HANDLE_INFO; -E_NOENT past the last. */
#define NS_LIST		PROTO_LABEL('n', 'l', 's', 't')

/* ---- init ("init", registered with the name server) --------------------- */

/* w0: status. Reply w0: 0; then init stops every process it started and
 * exits with that status (so the kernel powers off). */
#define INIT_SHUTDOWN	PROTO_LABEL('i', 's', 'h', 'd')
/* w0: index. Reply w0: 0, the index-th program init keeps in the payload
 * (its name), w1 its pid (0: not running), w2 its restarts so far, w3
 * INIT_F_* flags; -E_NOENT past the last. */
#define INIT_LIST	PROTO_LABEL('i', 'l', 's', 't')
#define INIT_F_ONCE	0x1	/* a test= program: run once, then shut down */
#define INIT_F_GAVE_UP	0x2	/* it could not be started: not retried */
#define INIT_F_WAIT	0x4	/* a wait= program: a boot step, run once */

/* ---- the pager ("pager") ------------------------------------------------ */

/* The pager serves memory objects: arrays of pages it owns. A client maps
 * an object with SYS_MAP_PAGER(addr, len, prot, handle, key) using the
 * handle and key it got from PAGER_REQ_CREATE or PAGER_REQ_OPEN; faults
 * there reach the pager as PAGER_FAULT calls (abi/syscall.h) on the same
 * endpoint. Several processes mapping one key share its pages. */
#define PAGER_OBJ_MAX	32		/* objects at once */
#define PAGER_OBJ_PAGES	(1UL << 16)	/* pages per object at most */

/* w0: pages. Reply w0: 0, w1 the key, w3 the pager's endpoint (SEND). */
#define PAGER_REQ_CREATE PROTO_LABEL('p', 'c', 'r', 't')
/* w0: key. Reply w0: 0, w1 its pages, w3 the pager's endpoint (SEND);
 * -E_NOENT. */
#define PAGER_REQ_OPEN	PROTO_LABEL('p', 'o', 'p', 'n')
/* w0: key, w1: offset, w2: length (bytes, page aligned, inside the
 * object), w3: PAGER_EVICT_* flags. The pages are unmapped from every
 * client (SYS_PAGER_EVICT): the next touch faults to the pager again and
 * finds the contents kept, or zero with PAGER_EVICT_DISCARD. Reply w0:
 * the number of client mappings removed; -E_NOENT, -E_INVAL. */
#define PAGER_REQ_EVICT	PROTO_LABEL('p', 'e', 'v', 'c')
#define PAGER_EVICT_DISCARD 0x1
/* w0: key. The object's pages are unmapped everywhere and freed; a later
 * fault on a region still mapping it kills the faulting process. Reply
 * w0: 0, -E_NOENT. */
#define PAGER_REQ_DESTROY PROTO_LABEL('p', 'd', 'e', 'l')
/* Reply w0: 0, w1 objects, w2 pages they hold, w3 faults served. */
#define PAGER_REQ_STAT	PROTO_LABEL('p', 's', 't', 'a')
/* w0: key, w1: milliseconds (0..PAGER_DELAY_MAX_MS). From now on each
 * fault on the object is answered that long after it came, or as soon as
 * the delay is set back to 0 (as after creation: at once). A test's way
 * to hold one fault in flight while others come, then let it go.
 * Reply w0: 0; -E_NOENT, -E_INVAL. */
#define PAGER_REQ_DELAY	PROTO_LABEL('p', 'd', 'l', 'y')
#define PAGER_DELAY_MAX_MS 60000

/* ---- the console ("console") ------------------------------------------- */

/* The console server owns the console UART (registered by init as
 * "dev:console"). Everything written with SYS_DEBUG_WRITE (printf) and the
 * kernel's own messages reach the screen through it, a line at a time.
 * w0: bytes, payload: them. Reply w0: bytes written as one unit. */
#define CONSOLE_WRITE	PROTO_LABEL('c', 'w', 'r', 't')
/* w0: at most this many bytes; w1: the prompt's length (0 to 64 bytes,
 * printable ASCII), payload: the prompt. Waits for a whole typed line
 * (the server echoes and edits as it is typed, and while it waits keeps
 * the prompt and the line below what others print). Reply w0: its length
 * with the '\n', payload: the line; -E_INVAL (a bad prompt). */
#define CONSOLE_READ	PROTO_LABEL('c', 'r', 'e', 'd')
/* Was ^C typed since the last ask? Reply w0: 1 or 0 (and the flag is
 * cleared). ^C also abandons the line being typed. */
#define CONSOLE_INTR	PROTO_LABEL('c', 'i', 'n', 't')
/* w0: CONSOLE_FLUSH_* flags. Answered once everything the server has
 * taken is printed: the kernel log text it read (it first reads what the
 * log holds, at most its size), and the CONSOLE_WRITEs it was printing.
 * With CONSOLE_FLUSH_HOLD the server takes no more kernel log text from
 * then on: it stays in the log, which the kernel prints when it takes the
 * console back (when init ends), so killing the server loses none of it.
 * init sends it at shutdown before it kills the servers. Reply w0: 0;
 * -E_INVAL (unknown flags), -E_PERM (HOLD from any process but init). */
#define CONSOLE_FLUSH	PROTO_LABEL('c', 'f', 'l', 's')
#define CONSOLE_FLUSH_HOLD 0x1

/* ---- stress results (userland/stress/stress.c) ----------------------------- */

/* A stress program started with report=1 sends each of its `bench ...`
 * lines to its HANDLE_SPAWN with this call instead of printing it (the
 * stress program starts them so and prints their summary table).
 * w0: bytes; payload: the line, without its '\n'. Reply w0: 0; a holder
 * that does not collect results answers -E_NOSYS (the line is printed
 * then). */
#define BENCH_REPORT	PROTO_LABEL('b', 'r', 'e', 'p')
#define BENCH_REPORT_TIMEOUT 10000000000UL	/* 10 s */

/* ---- crashy: a test server ("crashy") that crashes on request ------------ */

/* w0: x. Reply w0: 0, w1: x + 1, w2: crashy's pid. */
#define CRASHY_PING	PROTO_LABEL('c', 'p', 'n', 'g')
/* w0: milliseconds. Sleeps that long, then replies as CRASHY_PING. */
#define CRASHY_SLOW	PROTO_LABEL('c', 's', 'l', 'w')
/* w0: 0: crash with a store to address 8 (killed by the kernel); else
 * exit with status w0. Never replies. */
#define CRASHY_CRASH	PROTO_LABEL('c', 'c', 'r', 's')

/*
 * Client side (userland/lib/proto.c). @buf is the calling thread's IPC
 * buffer. Timeouts as for ipc_call (0: forever).
 */
/* Register @h (rights kept: @rights, which must include GRANT). 0 or -E_*;
 * -E_RANGE for a name the protocol cannot carry. */
long ns_register(long ns, unsigned long *buf, const char *name, long h,
		 unsigned int rights, unsigned long timeout);
/* A new handle to what @name names, or -E_*. */
long ns_lookup(long ns, unsigned long *buf, const char *name,
	       unsigned long timeout);
/* The same, but a name not registered yet is looked up again (every
 * 20 ms) until @wait ns have passed: services register shortly after
 * they start, and again after a restart. */
long ns_lookup_wait(long ns, unsigned long *buf, const char *name,
		    unsigned long wait);
long ns_unregister(long ns, unsigned long *buf, const char *name,
		   unsigned long timeout);
/* The @index-th name into @name (NS_NAME_MAX + 1 bytes); 0 or -E_*. */
long ns_list(long ns, unsigned long *buf, unsigned long index, char *name,
	     unsigned long *info, unsigned long timeout);
/*
 * Keep @name registered across restarts of the name server, which start
 * empty: once *@next (a sys_clock() value) has passed, register again
 * (waiting at most NS_REFRESH_NS) and set *@next NS_REFRESH_NS ahead.
 * Servers call it whenever their receive loop wakes, and receive with a
 * timeout of NS_REFRESH_NS. Return: 0, or the error of the registration.
 */
#define NS_REFRESH_NS	1000000000UL
long ns_refresh(long ns, unsigned long *buf, const char *name, long h,
		unsigned int rights, long *next);
/* Put @name into payload words 0..NS_NAME_WORDS-1 of @buf. 0, -E_RANGE. */
int ns_name_put(unsigned long *buf, const char *name);
/* Take a name out of @buf into @name (NS_NAME_MAX + 1 bytes): 0, or
 * -E_INVAL if it is not a valid name. */
int ns_name_get(const unsigned long *buf, char *name);

/* The pager calls below give up after PAGER_CALL_TIMEOUT (-E_TIMEDOUT). */
#define PAGER_CALL_TIMEOUT	10000000000UL	/* 10 s */
/* Create an object of @pages: 0, *key and *h (the pager endpoint, SEND). */
long pager_create(long pager, unsigned long pages, unsigned long *key,
		  long *h);
/* Open object @key: 0, *pages and *h. */
long pager_open(long pager, unsigned long key, unsigned long *pages,
		long *h);
/* Evict [off, off+len) of @key: the mappings removed, or -E_*. */
long pager_evict(long pager, unsigned long key, unsigned long off,
		 unsigned long len, unsigned int flags);
long pager_destroy(long pager, unsigned long key);

/* CONSOLE_FLUSH with @flags: 0 once the console server printed what it
 * took, or -E_*. */
long console_flush(long console, unsigned int flags, unsigned long timeout);
/* CONSOLE_INTR: 1 if ^C was typed since anyone last asked (the server's
 * flag is cleared), 0 if not, or -E_*. */
long console_intr(long console, unsigned long timeout);

/* Call @ep with label @label and words @w0, @w1; the reply's w0 (status)
 * or the IPC error; the reply in *m. */
long proto_call(long ep, unsigned long label, unsigned long w0,
		unsigned long w1, struct ipc_msg *m, unsigned long timeout);
