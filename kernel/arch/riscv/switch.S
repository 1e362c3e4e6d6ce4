/*
 * switch.S - kernel context switch
 */
#include <arch/context.h>
#include <arch/csr.h>

	.section .text
	.balign	4
	.globl	arch_switch
arch_switch:
	sd	ra, CTX_RA(a0)
	sd	sp, CTX_SP(a0)
	sd	s0, CTX_S0 + 0(a0)
	sd	s1, CTX_S0 + 8(a0)
	sd	s2, CTX_S0 + 16(a0)
	sd	s3, CTX_S0 + 24(a0)
	sd	s4, CTX_S0 + 32(a0)
	sd	s5, CTX_S0 + 40(a0)
	sd	s6, CTX_S0 + 48(a0)
	sd	s7, CTX_S0 + 56(a0)
	sd	s8, CTX_S0 + 64(a0)
	sd	s9, CTX_S0 + 72(a0)
	sd	s10, CTX_S0 + 80(a0)
	sd	s11, CTX_S0 + 88(a0)
	csrr	t0, CSR_SSTATUS
	sd	t0, CTX_SSTATUS(a0)
.Lload:
	ld	t0, CTX_SSTATUS(a1)
	li	t1, SSTATUS_SUM
	and	t0, t0, t1
	csrc	CSR_SSTATUS, t1
	csrs	CSR_SSTATUS, t0
	ld	ra, CTX_RA(a1)
	ld	sp, CTX_SP(a1)
	ld	s0, CTX_S0 + 0(a1)
	ld	s1, CTX_S0 + 8(a1)
	ld	s2, CTX_S0 + 16(a1)
	ld	s3, CTX_S0 + 24(a1)
	ld	s4, CTX_S0 + 32(a1)
	ld	s5, CTX_S0 + 40(a1)
	ld	s6, CTX_S0 + 48(a1)
	ld	s7, CTX_S0 + 56(a1)
	ld	s8, CTX_S0 + 64(a1)
	ld	s9, CTX_S0 + 72(a1)
	ld	s10, CTX_S0 + 80(a1)
	ld	s11, CTX_S0 + 88(a1)
	ret

/* arch_switch_to(to): the second half of arch_switch alone. */
	.globl	arch_switch_to
arch_switch_to:
	mv	a1, a0
	j	.Lload

	.globl	arch_thread_trampoline
arch_thread_trampoline:
	li	fp, 0			/* end of the frame-pointer chain */
	call	thread_start
1:	j	1b

/* arch_user_enter(tf): leave the kernel for user mode through the trap
 * return path, with the frame @tf built at the top of the kernel stack. */
	.globl	arch_user_enter
arch_user_enter:
	mv	sp, a0
	j	trap_return

/* A parked thread's context: sp is its trap frame (sched_park_switch). */
	.globl	arch_park_resume
arch_park_resume:
	li	fp, 0			/* end of the frame-pointer chain */
	call	sched_park_resumed
	mv	a0, sp
	call	ipc_park_resume
	j	trap_return
