/*
 * entry.S - the S-mode trap vector
 *
 * sscratch is 0 while the hart runs in the kernel and holds the hart's
 * struct hart pointer while it runs in user mode, so the first instruction
 * can tell where the trap came from (the convention Linux uses too).
 *
 * A trap from the kernel whose frame would not fit above the stack's guard
 * page switches to the hart's emergency stack, so that a kernel stack
 * overflow ends in a readable panic instead of a silent double fault.
 */
#include <arch/csr.h>
#include <arch/trap.h>
#include <kern/hart.h>
#include <abi/syscall.h>

#define SAVE(r, off)	sd r, off(sp)
#define LOAD(r, off)	ld r, off(sp)

/* x1..x31 but sp and tp, which each path saves its own way. */
.macro SAVE_GPRS
	SAVE(ra, 0)
	SAVE(gp, 16)
	SAVE(t0, 32)
	SAVE(t1, 40)
	SAVE(t2, 48)
	SAVE(s0, 56)
	SAVE(s1, 64)
	SAVE(a0, 72)
	SAVE(a1, 80)
	SAVE(a2, 88)
	SAVE(a3, 96)
	SAVE(a4, 104)
	SAVE(a5, 112)
	SAVE(a6, 120)
	SAVE(a7, 128)
	SAVE(s2, 136)
	SAVE(s3, 144)
	SAVE(s4, 152)
	SAVE(s5, 160)
	SAVE(s6, 168)
	SAVE(s7, 176)
	SAVE(s8, 184)
	SAVE(s9, 192)
	SAVE(s10, 200)
	SAVE(s11, 208)
	SAVE(t3, 216)
	SAVE(t4, 224)
	SAVE(t5, 232)
	SAVE(t6, 240)
.endm

/* The other way, but for a0..a6 (which arch_park_exit returns results in)
 * and sp and tp (last, each path its own way). */
.macro LOAD_GPRS_BUT_A0_A6
	LOAD(ra, 0)
	LOAD(gp, 16)
	LOAD(t0, 32)
	LOAD(t1, 40)
	LOAD(t2, 48)
	LOAD(s0, 56)
	LOAD(s1, 64)
	LOAD(a7, 128)
	LOAD(s2, 136)
	LOAD(s3, 144)
	LOAD(s4, 152)
	LOAD(s5, 160)
	LOAD(s6, 168)
	LOAD(s7, 176)
	LOAD(s8, 184)
	LOAD(s9, 192)
	LOAD(s10, 200)
	LOAD(s11, 208)
	LOAD(t3, 216)
	LOAD(t4, 224)
	LOAD(t5, 232)
	LOAD(t6, 240)
.endm

	.section .text
	.balign	4
	.globl	trap_vector
trap_vector:
	csrrw	tp, CSR_SSCRATCH, tp
	bnez	tp, .Lfrom_user
	/* From the kernel: tp was right, and sscratch is 0 again. */
	csrrw	tp, CSR_SSCRATCH, zero
	sd	t0, HART_SCRATCH0(tp)
	sd	t1, HART_SCRATCH1(tp)
	addi	t0, sp, -TF_SIZE
	ld	t1, HART_STACK_LO(tp)
	bgeu	t0, t1, 1f
	ld	t0, HART_EMERG_SP(tp)	/* overflow: use the emergency stack */
	j	2f
1:	mv	t0, sp
2:	addi	t0, t0, -TF_SIZE
	sd	sp, TF_SP(t0)
	mv	sp, t0
	ld	t0, HART_SCRATCH0(tp)
	ld	t1, HART_SCRATCH1(tp)
	SAVE(tp, TF_TP)
	SAVE_GPRS
	j	.Lsaved

.Lfrom_user:
	/* tp = struct hart, sscratch = user tp. The user sp waits in the
	 * hart's scratch word until every other register is saved; then one
	 * csrrw takes the user tp and leaves sscratch 0 (now in the
	 * kernel). Four instructions fewer than moving sp through t0 and tp
	 * through t1, each saved and loaded again for it. */
	sd	sp, HART_SCRATCH0(tp)
	ld	sp, HART_KSTACK_TOP(tp)
	addi	sp, sp, -TF_SIZE
	SAVE_GPRS
	ld	t0, HART_SCRATCH0(tp)
	SAVE(t0, TF_SP)
	csrrw	t0, CSR_SSCRATCH, zero
	SAVE(t0, TF_TP)

.Lsaved:
	csrr	t0, CSR_SEPC
	SAVE(t0, TF_SEPC)
	csrr	t0, CSR_SSTATUS
	SAVE(t0, TF_SSTATUS)
	csrr	t1, CSR_SCAUSE
	SAVE(t1, TF_SCAUSE)

	/* A system call (only user mode makes them) may be an IPC call or
	 * reply-and-receive the fast path does whole: then it does not come
	 * back here, but leaves through arch_park_exit on another stack (or
	 * switches to a partner blocked the ordinary way). It
	 * may return with s1..s11 changed (it is built not to keep them: the
	 * Makefile): nothing here needs them, trap_return loads them all. */
	li	t0, SCAUSE_ECALL_U
	bne	t1, t0, 3f
	/* An ecall sets stval to 0 (priv. spec, "Supervisor Trap Value
	 * Register": 0 for traps it names no value for): store that
	 * without reading the CSR. */
	SAVE(zero, TF_STVAL)
	/* a0..a6 are still the caller's: the fast path takes them as its
	 * arguments, and the frame as the last (a7, the call number, once
	 * it has been looked at). Through the hart's ipc_fast_fn: the
	 * fast path's two functions, or ipc_fast_none for a call the
	 * ipcfast boot option keeps off it. */
	li	t0, SYS_IPC_CALL
	bne	a7, t0, 2f
	ld	t0, HART_IPC_FAST_FN(tp)
	mv	a7, sp
	jalr	t0
	j	1f
2:	li	t0, SYS_IPC_REPLY_RECV
	bne	a7, t0, 1f
	ld	t0, HART_IPC_FAST_FN + 8(tp)
	mv	a7, sp
	jalr	t0
	j	1f
3:	csrr	t1, CSR_STVAL
	SAVE(t1, TF_STVAL)
1:	mv	a0, sp
	call	trap_handler

	.globl	trap_return
trap_return:
	LOAD(t0, TF_SSTATUS)
	csrw	CSR_SSTATUS, t0
	LOAD(t1, TF_SEPC)
	csrw	CSR_SEPC, t1
	andi	t0, t0, SSTATUS_SPP
	bnez	t0, 1f
	csrw	CSR_SSCRATCH, tp	/* back to user: remember struct hart */
	LOAD(tp, 24)			/* and give user mode its tp */
1:
	/* Back to the kernel: tp stays this hart's struct hart. The frame's
	 * tp may name another hart: a thread preempted there can resume
	 * here. */
	LOAD(a0, 72)
	LOAD(a1, 80)
	LOAD(a2, 88)
	LOAD(a3, 96)
	LOAD(a4, 104)
	LOAD(a5, 112)
	LOAD(a6, 120)
	LOAD_GPRS_BUT_A0_A6
	LOAD(sp, 8)
	sret

/*
 * arch_park_exit - the fast path's way back to user mode (arch_park_return
 * in arch/context.h jumps here): a7 = the trap frame of the parked thread
 * to run, a1..a6 = its system call's results, t0 = the on_cpu word of the
 * thread switched away from, t1 = the owner half of the run-queue lock,
 * t2 = its next value. The thread came in through an ecall from user
 * mode, so trap_return's test of SPP is not needed; a0..a6 are the
 * results, not what the frame holds (what it called with).
 */
	.globl	arch_park_exit
arch_park_exit:
	mv	sp, a7
	fence	rw, w
	sw	zero, 0(t0)		/* off its stack: others may run it */
	fence	rw, w
	sh	t2, 0(t1)		/* the run-queue lock */
	/* sstatus is not loaded: it is what the frame holds already. Every
	 * trap from user mode saves the same value (proc.c starts each
	 * thread with SPP, SUM, SIE, FS and VS clear and SPIE set, so no
	 * user instruction can change it), and the fast path changes none
	 * of it. Debug builds check. */
#ifdef CONFIG_DEBUG
	LOAD(t0, TF_SSTATUS)
	csrr	t1, CSR_SSTATUS
	beq	t0, t1, 1f
	mv	a0, sp
	call	arch_park_sstatus_bad
1:
#endif
	LOAD(t1, TF_SEPC)
	addi	t1, t1, 4		/* past the ecall */
	csrw	CSR_SEPC, t1
	csrw	CSR_SSCRATCH, tp
	LOAD(tp, TF_TP)
	li	a0, 0
	LOAD_GPRS_BUT_A0_A6
	LOAD(sp, 8)
	sret
