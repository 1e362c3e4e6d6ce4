#pragma once
/*
 * rivet.h - the user-space C library: system calls, string functions and
 * formatted output (userland/lib/). Freestanding: only the compiler's own
 * headers and two kernel headers that are part of the ABI, abi/syscall.h
 * and kern/errno.h (found with -Ikernel/include).
 *
 * Output: printf/vprintf/puts format into a PRINTF_MAX-byte buffer on the
 * stack and hand it to SYS_DEBUG_WRITE one line at a time, so a line is
 * one system call and lines of different processes do not mix within a
 * line. Longer output is cut and ends in "...\n".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <abi/syscall.h>

/*
 * Error codes: a system call returns -E_* (kern/errno.h, the one table;
 * its errno_name() is in the library too, from kernel/lib/errno.c).
 */
#include <kern/errno.h>

/* PAGE_SIZE, ARRAY_SIZE, BIT... and the string functions: the kernel's
 * own (kern/types.h, kernel/lib/string.c). */
#include <kern/string.h>

#define PRINTF_MAX 512

/*
 * System calls (userland/lib/syscall.c). Each returns what the kernel put
 * in a0: a value >= 0, or -E_*.
 */
__attribute__((noreturn)) void sys_exit(int status);
long sys_debug_write(const char *buf, size_t len);
long sys_yield(void);
long sys_getpid(void);
long sys_clock(void);				/* nanoseconds since boot */
long sys_map(void *addr, size_t len, int prot); /* addr, or -E_* */
long sys_unmap(void *addr, size_t len);
long sys_thread_create(void *pc, long a0, long a1, void *sp, int hart);
__attribute__((noreturn)) void sys_thread_exit(int status);
long sys_thread_join(long tid);
long sys_stats(struct rivet_stats *st);
long sys_spawn(const char *name, const char *args);	/* pid or -E_* */
/* The same, the child starting with a copy-on-write view of a region. */
long sys_spawn_share(const char *name, const char *args, void *share,
		     size_t len);
/* Spawn with @handle (needs HANDLE_R_GRANT) as the child's HANDLE_SPAWN. */
long sys_spawn_handle(const char *name, const char *args, long handle);
long sys_wait(long pid);				/* its status */
long sys_kill(long pid);
/* @pid and every process it started, theirs, and so on (KILL_TREE). */
long sys_kill_tree(long pid);
long sys_sleep(unsigned long ns);			/* 0 */
long sys_protect(void *addr, size_t len, int prot);	/* 0 */
/* Run fn(arg) in a new thread with a 64 KiB stack, pinned to @hart (or
 * any hart: -1). Return: its thread id for sys_thread_join, or -E_*. */
long thread_spawn(void (*fn)(void *), void *arg, int hart);
/* Wait for a thread_spawn thread to end and unmap its stack. Return: its
 * status, or -E_* (then the stack stays). */
long thread_join(long tid);


/*
 * Handles and IPC (abi/syscall.h, docs/abi.md). A message: info (built
 * with IPC_INFO(label, payload words, flags)) and four words; the payload
 * lives in the thread's IPC buffer page (ipc_buffer_new()). Timeouts in ns: 0
 * waits forever, IPC_POLL not for a partner (a call that finds a receiver
 * waits for its answer).
 */
struct ipc_msg {
	unsigned long info;
	unsigned long w[4];
	unsigned long sender;		/* received: pid << 32 | thread id */
};
long sys_handle_close(long h);
long sys_handle_dup(long h, unsigned int rights);
long sys_handle_info(long h);		/* type << 16 | rights */
long sys_endpoint_create(void);
long sys_notify_create(void);
long sys_notify_signal(long h, unsigned long bits);
long sys_notify_wait(long h, unsigned long *bits, unsigned long timeout);
/*
 * One trap for call, receive and reply-receive: a0..a6 in, a0..a6 out.
 * Inline, with the two calls a round trip makes, so that a caller's
 * message can stay in registers (a library call each way was 20 of the
 * 626 instructions of a same-hart round trip: docs/performance.md).
 */
static inline long ipc_trap(long nr, long h, struct ipc_msg *m,
			    unsigned long a6in)
{
	register long a0 __asm__("a0") = h;
	register unsigned long a1 __asm__("a1") = m->info;
	register unsigned long a2 __asm__("a2") = m->w[0];
	register unsigned long a3 __asm__("a3") = m->w[1];
	register unsigned long a4 __asm__("a4") = m->w[2];
	register unsigned long a5 __asm__("a5") = m->w[3];
	register unsigned long a6 __asm__("a6") = a6in;
	register long a7 __asm__("a7") = nr;

	__asm__ __volatile__("ecall"
			     : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3),
			       "+r"(a4), "+r"(a5), "+r"(a6)
			     : "r"(a7)
			     : "memory");
	if (a0 == 0) {
		m->info = a1;
		m->w[0] = a2;
		m->w[1] = a3;
		m->w[2] = a4;
		m->w[3] = a5;
		if (nr != SYS_IPC_CALL)
			m->sender = a6;
	}
	return a0;
}

/* Send m, wait for the reply (into m). 0 or -E_*. */
static inline long ipc_call(long ep, struct ipc_msg *m, unsigned long timeout)
{
	return ipc_trap(SYS_IPC_CALL, ep, m, timeout);
}

/* Wait for a call on ep (into m, with m->sender). 0 or -E_*. */
long ipc_recv(long ep, struct ipc_msg *m, unsigned long timeout);
long ipc_reply(const struct ipc_msg *m);

/* Reply with m (if a reply is owed), then receive into m. */
static inline long ipc_reply_recv(long ep, struct ipc_msg *m,
				  unsigned long timeout)
{
	return ipc_trap(SYS_IPC_REPLY_RECV, ep, m, timeout);
}
long sys_ipc_buffer(void *page);
/* Map a page and make it the calling thread's IPC buffer (IPC_BUF_WORDS
 * words). Return: it, or NULL. */
unsigned long *ipc_buffer_new(void);
/* Stop using it as the IPC buffer and unmap it. */
void ipc_buffer_free(unsigned long *buf);

/* Pagers (docs/abi.md): a region whose pages come from endpoint @ep's
 * server under @key; and, for that server, taking pages back. */
long sys_map_pager(void *addr, size_t len, int prot, long ep,
		   unsigned long key);			/* addr, or -E_* */
long sys_pager_evict(long ep, unsigned long key, unsigned long off,
		     unsigned long len);		/* pages unmapped */
/* Console input until the console server exists: at least one byte,
 * waiting up to @timeout ns (0: forever, IPC_POLL: not at all). */
long sys_debug_read(char *buf, size_t len, unsigned long timeout);
long sys_proc_info(long index, struct rivet_proc_info *out);
long sys_proc_find(long pid, struct rivet_proc_info *out);
/* The name of the @index-th program of the boot archive (what sys_spawn
 * can start) into @buf: its length, or -E_NOENT past the last (docs/abi.md
 * has the other errors). */
long sys_program_info(long index, char *buf, size_t len);

/* Devices (the first process holds them; docs/abi.md "Devices"). */
long sys_device_info(long h, struct rivet_device_info *out);
long sys_device_map(long h, void *addr);	/* address, or -E_* */
long sys_irq_bind(long h, long notify, unsigned long bits);
long sys_irq_ack(long h);
long sys_klog_read(char *buf, size_t len);	/* bytes */
long sys_klog_bind(long notify, unsigned long bits);

/*
 * Formatted output: the kernel's formatter (kernel/lib/printf.c; the
 * conversions listed in kern/printf.h, no floating point). printf and
 * vprintf return the number of characters formatted (before any cut) or
 * a negative -E_* if the write failed; puts returns 0 or -E_*.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int puts(const char *s);

/* Stress programs (userland/lib/bench.c): threads=, seconds=, mib=,
 * report=. */
struct bench_args {
	unsigned long threads, seconds, mib;	/* 0: not given */
};
/* The decimal number @s, if it is one within [@lo, @hi], into *@out. */
bool bench_number(const char *s, unsigned long lo, unsigned long hi,
		  unsigned long *out);
/* Parse argv; threads defaults to @nharts. -1 after a usage message. */
int bench_parse(const char *name, int argc, char **argv, unsigned int nharts,
		struct bench_args *a);
/* One more key=N argument of a program (struct bench_spec). */
struct bench_opt {
	const char *key;	/* "churners" */
	unsigned long *val;	/* preset to the default by the caller */
	unsigned long lo, hi;	/* the values accepted */
};
/* What a program takes besides seconds=. */
struct bench_spec {
	unsigned long min_threads, max_threads;	/* 0: 1, STATS_MAX_HARTS */
	bool no_mib;				/* no mib= */
	const struct bench_opt *opts;		/* more keys */
	int nopts;
	const char *more_usage;	/* words the program parses itself, for
				 * the usage line: " [reclaim=unmap|pager]" */
};
/* bench_parse for @sp; threads defaults to @nharts within its range. */
int bench_parse_spec(const char *name, int argc, char **argv,
		     unsigned int nharts, struct bench_args *a,
		     const struct bench_spec *sp);
/* "NAME: WHY" and the usage line (for checks across arguments). */
void bench_usage(const char *name, const char *why,
		 const struct bench_spec *sp);
/* One thread of a stress program (bench_run). */
struct bench_worker {
	unsigned int id;
	unsigned long mib;
	long deadline;		/* sys_clock() value to stop at */
	unsigned long faults;	/* pages touched, one fault each */
	unsigned long rounds;
	long err;		/* a failed call's result, or 0 */
} __attribute__((aligned(64)));
/*
 * Start args->threads threads running @fn(&workers[t]), thread t pinned to
 * hart t % harts, until args->seconds from now; join them and print the
 * report. @s0: SYS_STATS taken before. Return: 0, or 3 if a thread could
 * not be started.
 */
int bench_run(const char *name, const struct bench_args *args,
	      void (*fn)(void *), struct bench_worker *workers,
	      const struct rivet_stats *s0);
/* What the kernel counted during (part of) a run: SYS_STATS differences,
 * summed over the parts by bench_delta_add. Zero-initialise. */
struct bench_delta {
	unsigned long kfaults;		/* page faults handled, all harts */
	struct rivet_lockstat pt, as;	/* page-table-page, address-space */
};
unsigned long bench_kfaults(const struct rivet_stats *s);
void bench_delta_add(struct bench_delta *d, const struct rivet_stats *s0,
		     const struct rivet_stats *s1);
/* Contended share of @d's pt and as acquisitions, in hundredths of %. */
unsigned long bench_contended_pct100(const struct bench_delta *d);
/*
 * Print `bench NAME [phase=PHASE] harts= threads= ptlock= seconds= mib=
 * faults= per_s= ns_per_op= contended_pct= kfaults= EXTRA` and the two
 * lock lines. @workers: the threads the faults are counted of (ns_per_op
 * = elapsed x workers / faults); @phase and @extra may be 0.
 */
void bench_print(const char *name, const char *phase,
		 const struct bench_args *a, const struct rivet_stats *s,
		 unsigned long workers, unsigned long faults,
		 unsigned long elapsed_ns, const struct bench_delta *d,
		 const char *extra);
/* `bench NAME-locks [phase=PHASE] kind=pt|as acquired= contended=
 * wait_ns=`, two lines. */
void bench_print_locks(const char *name, const char *phase,
		       const struct bench_delta *d);
/*
 * Output one result line (formatted as by printf): printed, or, after
 * report=1, sent to HANDLE_SPAWN as a BENCH_REPORT call (proto.h; the
 * stress program collects them so). bench_print and bench_print_locks
 * use it; programs that format their own `bench` lines call it too.
 * Call it from one thread only (it makes that thread an IPC buffer).
 */
void bench_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The value of a report= word ("0" or "1"; bench_parse* take the word
 * themselves): 0, or -1 for any other value. */
int bench_report_arg(const char *value);

/* The program: crt0.S calls main(argc, argv) and exits with its result. */
int main(int argc, char **argv);
