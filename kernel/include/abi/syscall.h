#pragma once
/*
 * abi/syscall.h - the system-call ABI, shared by the kernel and userland
 * (docs/abi.md). User code traps with `ecall`: a7 = call number, a0..a5 =
 * arguments; the kernel returns in a0 a value >= 0, or a negative error
 * code -E_* (kern/errno.h values, which never change). Other registers are
 * preserved.
 */

#define SYS_EXIT	0	/* (int status): ends the process; no return */
#define SYS_DEBUG_WRITE	1	/* (const char *buf, size_t len): bytes written */
#define SYS_YIELD	2	/* (): 0 */
#define SYS_GETPID	3	/* (): process id */
#define SYS_CLOCK	4	/* (): nanoseconds since boot */
#define SYS_MAP		5	/* (void *addr, size_t len, int prot): addr */
#define SYS_UNMAP	6	/* (void *addr, size_t len): 0 */
#define SYS_NR		7

/* SYS_MAP prot bits (the same values as the kernel's AS_PROT_*). */
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4

/* Lowest user address the kernel hands out or accepts for code. */
#define USER_BASE	0x10000
/* The main thread's stack: [USER_STACK_TOP - USER_STACK_SIZE, TOP). */
#define USER_STACK_TOP	0x3fff000000UL
#define USER_STACK_SIZE	(1UL << 20)
