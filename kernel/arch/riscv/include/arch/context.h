#pragma once
/*
 * context.h - what a kernel context switch saves: the callee-saved
 * registers, the stack pointer and the return address (RISC-V psABI: s0-s11
 * are callee-saved). Caller-saved registers are already on the stack of
 * whoever called arch_switch. sstatus.SUM is per thread too: a thread
 * preempted inside copy_from_user keeps it, and nobody else gets it.
 */
#define CTX_RA	0
#define CTX_SP	8
#define CTX_S0	16
#define CTX_SSTATUS	112	/* only its SUM bit is kept */
#define CTX_SIZE	120

#ifndef __ASSEMBLER__
struct arch_context {
	unsigned long ra, sp;
	unsigned long s[12];
	unsigned long sstatus;	/* SUM: a copy_*_user preempted midway */
};

/* Save the current context in @from and resume @to (switch.S). */
void arch_switch(struct arch_context *from, struct arch_context *to);
/* Resume @to without saving anything: the current context is given up
 * (it was parked: sched_park_switch). */
__attribute__((noreturn)) void arch_switch_to(struct arch_context *to);
/* Where a new thread starts: calls thread_start(), never returns. */
void arch_thread_trampoline(void);
/* Where a parked thread's context starts, with sp at its trap frame:
 * sched_park_resumed(), ipc_park_resume(frame), then back to user mode. */
void arch_park_resume(void);
/* Run the parked thread whose trap frame is @tf, now current: onto its
 * stack, sched_park_jumped(@last, @rq), then back to user mode through
 * @tf. */
struct trap_frame;
struct thread;
struct runqueue;
__attribute__((noreturn)) void arch_park_jump(struct thread *last,
					      struct runqueue *rq,
					      struct trap_frame *tf);
#endif
