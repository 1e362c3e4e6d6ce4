/*
 * trap.c - decode scause once and hand the trap to the generic handlers
 */
#include <arch/trap.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/proc.h>
#include <kern/thread.h>
#include <mm/as.h>

static const char *const exc_names[] = {
	[EXC_INST_MISALIGNED] = "instruction address misaligned",
	[EXC_INST_ACCESS] = "instruction access fault",
	[EXC_ILLEGAL_INST] = "illegal instruction",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_LOAD_MISALIGNED] = "load address misaligned",
	[EXC_LOAD_ACCESS] = "load access fault",
	[EXC_STORE_MISALIGNED] = "store/AMO address misaligned",
	[EXC_STORE_ACCESS] = "store/AMO access fault",
	[EXC_ECALL_U] = "environment call from U-mode",
	[EXC_ECALL_S] = "environment call from S-mode",
	[EXC_INST_PAGE_FAULT] = "instruction page fault",
	[EXC_LOAD_PAGE_FAULT] = "load page fault",
	[EXC_STORE_PAGE_FAULT] = "store/AMO page fault",
};

const char *trap_cause_name(unsigned long scause)
{
	unsigned long code = scause & SCAUSE_CODE;

	if (scause & SCAUSE_INTR) {
		switch (code) {
		case IRQ_S_SOFT: return "supervisor software interrupt";
		case IRQ_S_TIMER: return "supervisor timer interrupt";
		case IRQ_S_EXT: return "supervisor external interrupt";
		default: return "unknown interrupt";
		}
	}
	if (code < ARRAY_SIZE(exc_names) && exc_names[code])
		return exc_names[code];
	return "unknown exception";
}

static const struct extable_entry *extable_lookup(unsigned long pc)
{
	extern const struct extable_entry __ex_table_start[], __ex_table_end[];

	for (const struct extable_entry *e = __ex_table_start;
	     e < __ex_table_end; e++)
		if (e->insn == pc)
			return e;
	return NULL;
}

/*
 * user_exception - an exception raised in user mode: a system call, a page
 * fault the address space may resolve, or a fault that kills the process
 * (one report line; the kernel runs on).
 */
static void user_exception(struct proc *p, struct trap_frame *tf,
			   unsigned long code)
{
	enum as_access access;

	switch (code) {
	case EXC_ECALL_U:
		/* Interrupts on while the call runs: it may take time. (A
		 * call and a server's reply-and-receive in the usual case
		 * went their own short way before: ipc_fast_call and
		 * ipc_fast_reply_recv.) */
		arch_irq_enable();
		syscall_dispatch(p, tf);
		arch_irq_disable();
		return;
	case EXC_INST_PAGE_FAULT:
		access = AS_ACCESS_EXEC;
		break;
	case EXC_LOAD_PAGE_FAULT:
		access = AS_ACCESS_READ;
		break;
	case EXC_STORE_PAGE_FAULT:
		access = AS_ACCESS_WRITE;
		break;
	default:
		proc_kill_current(tf, trap_cause_name(tf->scause));
	}
	proc_user_fault(p, tf, access);
}

static bool extable_fixup(struct trap_frame *tf)
{
	extern const struct extable_entry __ex_table_start[], __ex_table_end[];

	for (const struct extable_entry *e = __ex_table_start;
	     e < __ex_table_end; e++) {
		if (e->insn == tf->sepc) {
			tf->sepc = e->fixup;
			return true;
		}
	}
	return false;
}

/* Interrupts, and exceptions raised in the kernel. */
static __noinline void trap_other(struct trap_frame *tf)
{
	unsigned long code = tf->scause & SCAUSE_CODE;
	struct hart *h = this_hart();

	if (tf->scause & SCAUSE_INTR) {
		if (code < ARRAY_SIZE(h->irq_count))
			h->irq_count[code]++;
		switch (code) {
		case IRQ_S_SOFT:
			csr_clear(CSR_SIP, SIE_SSIE);
			ipi_handle();
			break;
		case IRQ_S_TIMER:
			timer_handle();
			break;
		case IRQ_S_EXT:
			irq_external();
			break;
		default:
			panic_frame(tf, "trap: unexpected interrupt %lu", code);
		}
		/* An interrupt is never taken with a spinlock held (they
		 * disable interrupts): a safe point to switch threads. */
		sched_preempt_point();
		if (!(tf->sstatus & SSTATUS_SPP))
			proc_check_exit();
		return;
	}

	/*
	 * A fault in copy_from_user/copy_to_user on a user address: fault
	 * the page in if the process may have it (a demand-zero region) and
	 * retry; otherwise the copy fails with -E_FAULT.
	 */
	if ((code == EXC_LOAD_PAGE_FAULT || code == EXC_STORE_PAGE_FAULT) &&
	    tf->stval < AS_USER_TOP && proc_current() &&
	    extable_lookup(tf->sepc) &&
	    as_fault(proc_current()->as, tf->stval,
		     code == EXC_STORE_PAGE_FAULT ? AS_ACCESS_WRITE
						  : AS_ACCESS_READ) == 0)
		return;
	if (extable_fixup(tf))
		return;
	if ((code == EXC_LOAD_PAGE_FAULT || code == EXC_STORE_PAGE_FAULT) &&
	    tf->stval < h->stack_lo && tf->stval >= h->stack_lo - 4096)
		panic_frame(tf, "trap: kernel stack overflow on hart %u "
			    "(access at %#lx in the guard page at %#lx)", h->id,
			    tf->stval, h->stack_lo - 4096);
	panic_frame(tf, "trap: %s in kernel", trap_cause_name(tf->scause));
}

void trap_handler(struct trap_frame *tf)
{
	/* A user exception (a system call, a page fault) on a path of its
	 * own, which saves few registers: every fault comes this way. */
	if (!(tf->scause & SCAUSE_INTR) && !(tf->sstatus & SSTATUS_SPP)) {
		/* Looked up once: a thread's process never changes, and the
		 * thread is the same after any switch below. */
		struct thread *t = thread_current();
		struct proc *p = t ? t->proc : NULL;

		if (!p)
			panic_frame(tf, "trap: user-mode trap on a kernel "
				    "thread");
		user_exception(p, tf, tf->scause & SCAUSE_CODE);
		sched_preempt_point();
		proc_leave_if_exiting(p);
		return;
	}
	trap_other(tf);
}

void trap_dump(const struct trap_frame *tf)
{
	static const char *const names[31] = {
		"ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
		"a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4",
		"s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5",
		"t6",
	};
	const unsigned long *r = &tf->ra;
	struct hart *h = this_hart();

	printk("cause: %s (scause %#lx) hart %u (hartid %lu)\n",
	       trap_cause_name(tf->scause), tf->scause, h->id,
	       (unsigned long)h->hartid);
	printk("sepc: %016lx stval: %016lx sstatus: %016lx\n", tf->sepc,
	       tf->stval, tf->sstatus);
	for (int i = 0; i < 31; i += 4) {
		char line[128];
		int n = 0;

		for (int j = i; j < i + 4 && j < 31; j++)
			n += snprintf(line + n, sizeof(line) - n, "%4s: %016lx ",
				      names[j], r[j]);
		printk("%s\n", line);
	}
	backtrace_from(tf->sepc, tf->s0, tf->ra, h->stack_lo - 4096,
		       h->kstack_top);
}

/*
 * backtrace_from - print return addresses by walking frame pointers
 *
 * With -fno-omit-frame-pointer GCC keeps fp = the caller's sp at entry, the
 * return address at fp-8 and the caller's fp at fp-16. A leaf function
 * saves only fp, at fp-8: when the word at fp-8 looks like a stack address
 * rather than code, the first step takes ra from the registers instead.
 * Every fp is checked against the stack bounds before it is read.
 */
void backtrace_from(unsigned long pc, unsigned long fp, unsigned long ra,
		    unsigned long stack_lo, unsigned long stack_hi)
{
	printk("bt: #0 0x%016lx\n", pc);
	for (int depth = 1; depth < 32; depth++) {
		unsigned long *frame, next_fp, ret;

		if (fp < stack_lo + 16 || fp > stack_hi || (fp & 7))
			break;
		frame = (unsigned long *)fp;
		if (depth == 1 && frame[-1] >= stack_lo &&
		    frame[-1] <= stack_hi) {
			next_fp = frame[-1];	/* leaf: only fp saved */
			ret = ra;
		} else {
			next_fp = frame[-2];
			ret = frame[-1];
		}
		if (ret < KERNEL_VBASE)
			break;
		printk("bt: #%d 0x%016lx\n", depth, ret);
		if (next_fp <= fp)
			break;
		fp = next_fp;
	}
}

/* entry.S, arch_park_exit (debug builds): the user-mode sstatus it does
 * not load differs from the one it runs with. */
__noreturn void arch_park_sstatus_bad(struct trap_frame *tf);
__noreturn void arch_park_sstatus_bad(struct trap_frame *tf)
{
	panic_frame(tf, "trap: fast-path return with sstatus %#lx, frame has "
		    "%#lx", csr_read(CSR_SSTATUS), tf->sstatus);
}
