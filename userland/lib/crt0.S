/*
 * crt0.S - where every user program starts
 *
 * The kernel enters _start in U-mode with sp = USER_STACK_TOP (the stack is
 * [USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP), abi/syscall.h),
 * a0 = argc and a1 = argv (argv may be 0 for now). The kernel's ELF loader
 * has already zeroed .bss, so nothing is set up here but the stack
 * alignment the psABI asks for at a call (16 bytes) and a zero frame
 * pointer and return address, which end a backtrace.
 *
 * gp is not set: user.ld defines no __global_pointer$, so the linker never
 * relaxes accesses to gp-relative ones. tp is unused (no threads yet).
 */
#include <abi/syscall.h>

	.section .text._start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	andi	sp, sp, -16
	li	fp, 0
	li	ra, 0
	call	main
	/* a0 = main's return value = the exit status */
	li	a7, SYS_EXIT
	ecall
	/* SYS_EXIT never returns; should it, trap again rather than run on. */
1:	li	a7, SYS_EXIT
	ecall
	j	1b
	.size _start, . - _start

/* __thread_start: a new thread's first instruction (thread_spawn).
 * a0 = the function, a1 = its argument; its return value ends the thread. */
	.globl __thread_start
	.type __thread_start, @function
__thread_start:
	li	fp, 0
	li	ra, 0
	mv	t0, a0
	mv	a0, a1
	jalr	t0
	li	a0, 0			/* the thread's status */
	li	a7, SYS_THREAD_EXIT
	ecall
1:	j	1b
	.size __thread_start, . - __thread_start
