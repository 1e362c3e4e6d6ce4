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
#include <kern/types.h>

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
/*
 * The registers a parked thread's system call returns in, besides a0
 * (which is 0: only a call that succeeded is finished this way).
 */
struct park_regs {
	unsigned long a1, a2, a3, a4, a5, a6;
};

/* entry.S: the end of arch_park_return (registers as it sets them). */
void arch_park_exit(void);

/*
 * arch_park_return - leave the current stack for the trap frame @tf of the
 * parked thread now current (sched_park_switch made it so), release
 * what had to be held until then, and return to user mode through @tf
 * with a0 = 0, a1..a6 = @r and past its ecall. Nothing runs on the new
 * stack: the releases are two stores, each a release (RVWMO: fence rw,w
 * before it), in this order:
 *   @on_cpu    the thread switched away from is off its stack (0);
 *   @owner     the owner half of the run-queue lock, given @owner_next
 *              (spin_unlock_raw_begin did the rest of the unlock).
 * The message goes from the registers it came in through to the ones it
 * leaves through, never through @tf: entry.S's arch_park_exit.
 */
struct trap_frame;
static __always_inline __noreturn void
arch_park_return(struct trap_frame *tf, const struct park_regs *r,
		 uint32_t *on_cpu, uint16_t *owner, unsigned int owner_next)
{
	register unsigned long a1 __asm__("a1") = r->a1;
	register unsigned long a2 __asm__("a2") = r->a2;
	register unsigned long a3 __asm__("a3") = r->a3;
	register unsigned long a4 __asm__("a4") = r->a4;
	register unsigned long a5 __asm__("a5") = r->a5;
	register unsigned long a6 __asm__("a6") = r->a6;
	register struct trap_frame *a7 __asm__("a7") = tf;
	register uint32_t *t0 __asm__("t0") = on_cpu;
	register uint16_t *t1 __asm__("t1") = owner;
	register unsigned long t2 __asm__("t2") = owner_next;

	__asm__ __volatile__("j	arch_park_exit"
			     :
			     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5),
			       "r"(a6), "r"(a7), "r"(t0), "r"(t1), "r"(t2)
			     : "memory");
	__builtin_unreachable();
}
#endif
