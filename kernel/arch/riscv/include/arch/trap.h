#pragma once
/*
 * trap.h - the register frame entry.S saves on every trap
 */
#define TF_RA		0
#define TF_SP		8
#define TF_GP		16
#define TF_TP		24
#define TF_S0		56
#define TF_A0		72
#define TF_SEPC		248
#define TF_SSTATUS	256
#define TF_SCAUSE	264
#define TF_STVAL	272
#define TF_SIZE		288	/* 16-byte aligned */
#define USER_FRAME_SIZE	TF_SIZE	/* user threads' frame atop the kstack */

#ifndef __ASSEMBLER__
#include <kern/types.h>

/* x1..x31 in order, then the trap CSRs. */
struct trap_frame {
	unsigned long ra, sp, gp, tp, t0, t1, t2, s0, s1;
	unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
	unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
	unsigned long t3, t4, t5, t6;
	unsigned long sepc, sstatus, scause, stval;
	unsigned long pad;
};

void trap_handler(struct trap_frame *tf);
const char *trap_cause_name(unsigned long scause);
/* Print the registers of @tf and a backtrace from its fp. */
void trap_dump(const struct trap_frame *tf);
void backtrace_from(unsigned long pc, unsigned long fp, unsigned long ra,
		    unsigned long stack_lo, unsigned long stack_hi);

/*
 * Exception table: a kernel instruction allowed to fault and where to go
 * when it does (csr probes now, copy_from_user later).
 */
struct extable_entry {
	unsigned long insn, fixup;
};
#define EXTABLE(insn, fixup)                                                  \
	".pushsection __ex_table, \"a\"\n"                                    \
	".balign 8\n"                                                         \
	".dword " #insn ", " #fixup "\n"                                      \
	".popsection\n"
#endif
