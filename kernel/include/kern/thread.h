#pragma once
/*
 * thread.h - kernel threads and the per-hart scheduler
 *
 * Every hart has a run queue with SCHED_PRIOS fixed priority levels
 * (0 is the highest), round robin within a level, a timer tick that
 * preempts the running thread when another of its level or above waits,
 * an idle thread that sleeps in wfi, and load balancing: an idle hart
 * pulls a waiting thread from a busy hart's queue. A thread may be pinned
 * to one hart (affinity), which balancing honours.
 *
 * struct thread
 *
 * Locking:
 *   ctx         the thread itself while running; the run-queue lock of
 *               its hart across the switch.
 *   state, rq_next, hart   the lock of the run queue it is on (or of its
 *               hart's queue while it runs).
 *   prio, affinity, fn, arg, name, tid, kstack   immutable after
 *               thread_create (affinity: thread_set_affinity, own hart).
 *   wake_at     arch_time() deadline while on its hart's sleep list, 0
 *               when on none; set by the owner under the run-queue lock,
 *               cleared under it by whoever takes it off the list.
 *   exit_code   written once before state becomes THREAD_DEAD.
 *   wake_token  atomic; set by thread_wake, consumed by thread_block
 *               (and by a parked thread resumed: kern/sched_park.h).
 *   ipc         see kern/ipc.h.
 *   on_cpu      atomic: 1 from switch-in until the switch-out finished.
 *   parked      the run-queue lock of its hart (see sched_park_switch).
 *   joiner, ending   atomic (thread_wait_dead in sched.c): the thread
 *               waiting for it to end, and that it is ending.
 */
#include <kern/types.h>
#include <kern/spinlock_types.h>
#include <arch/context.h>
#include <arch/trap.h>
#include <arch/kstack.h>
#include <kern/ipc.h>
#include <kern/hart.h>

struct as;
struct proc;

#define SCHED_PRIOS	4
#define SCHED_PRIO_DEFAULT 2
#define SCHED_PRIO_IDLE	SCHED_PRIOS	/* below every queue */

enum thread_state {
	THREAD_RUNNABLE,	/* on a run queue */
	THREAD_RUNNING,
	THREAD_SLEEPING,	/* on its hart's sleep list until wake_at */
	THREAD_BLOCKED,		/* waiting for thread_wake */
	THREAD_DEAD,		/* exited; thread_join reaps it */
};

struct thread {
	struct arch_context ctx;
	struct kstack kstack;
	enum thread_state state;
	int prio;
	int affinity;		/* logical hart, or -1 */
	unsigned int hart;	/* hart whose queue it is on / runs on */
	struct thread *rq_next;
	uint64_t wake_at;	/* deadline while on the sleep list, else 0 */
	void (*fn)(void *);
	void *arg;
	int exit_code;
	unsigned int on_cpu;
	unsigned int tid;
	bool is_idle, is_boot;
	bool irq_was_on;	/* the hart's irq_was_on, kept across a switch */
	bool parked;		/* blocked with only its trap frame kept:
				 * see sched_park_switch */
	struct thread *joiner;	/* waits in thread_wait_dead for us */
	bool ending;		/* set in thread_exit, before it takes and
				 * wakes joiner */
	unsigned int wake_token;	/* atomic: thread_wake came (see
					 * thread_block) */
	struct as *as;		/* user address space, NULL: kernel only */
	struct proc *proc;	/* owning process, NULL for kernel threads */
	vaddr_t user_entry;	/* where its user mode starts */
	unsigned long user_sp, user_a0, user_a1;	/* its first registers */
	struct thread_ipc ipc;
	char name[16];
};

/* Boot hart: scheduler data; each hart then: make its boot context a
 * thread (hart 0: "main"; others become their idle thread). */
void sched_init(void);
void sched_init_hart(void);
/* Secondary harts: turn the boot context into the idle thread and run. */
__noreturn void sched_idle_loop(void);

/*
 * thread_create - a new kernel thread running @fn(@arg)
 * @prio:     0 (highest) .. SCHED_PRIOS-1
 * @affinity: logical hart to pin it to, or -1 for any
 *
 * It starts on @affinity, or on the least-loaded hart. Return: the
 * thread, or NULL (out of memory, or bad @prio/@affinity).
 */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg,
			     int prio, int affinity);
/* A thread of process @proc that will run in @as (switched to with it).
 * With @start false it waits for thread_launch (so that a new process is
 * in the process table before its first thread runs). */
struct thread *thread_create_user(const char *name, void (*fn)(void *),
				  void *arg, struct as *as, struct proc *proc,
				  vaddr_t entry, unsigned long sp,
				  unsigned long a0, unsigned long a1, int hart,
				  bool start);
/* Queue @t, made with start false, on a hart its affinity allows. */
void thread_launch(struct thread *t);
/* End the calling thread with @code. */
__noreturn void thread_exit(int code);
/* Wait for @t to end; free it; return its exit code. */
int thread_join(struct thread *t);
/* Free @t, which thread_wait_dead saw end; return its exit code. */
int thread_reap(struct thread *t);
/* Wait for @t to end and leave its hart (its stack no longer in use), or
 * until *@give_up (if not NULL) becomes true: then false. One waiter per
 * thread at a time. Blocks; thread_exit wakes it. The flag is looked at
 * after each wake-up only: who sets it must thread_wake the waiter (a
 * kill does: ipc_interrupt). */
bool thread_wait_dead(struct thread *t, const bool *give_up);
void thread_yield(void);
/*
 * thread_block - sleep until thread_wake() or until @deadline (arch_time
 * units; 0: no deadline)
 * @lock: a lock the caller holds (or NULL); released once the thread is
 *        marked blocked, so a waker that takes @lock cannot be missed.
 *
 * Wake-ups may be spurious (a wake meant for an earlier wait, a deadline):
 * callers re-check their condition, under @lock, in a loop.
 */
void thread_block(struct spinlock *lock, uint64_t deadline);
/*
 * As thread_block, but first wake @next, and if it is blocked on this hart
 * (and nothing else waits for the hart) switch straight to it instead of
 * queueing it.
 */
void thread_block_to(struct spinlock *lock, uint64_t deadline,
		     struct thread *next);
/* Parking, the IPC fast path's way to block: kern/sched_park.h. */
/* Make @t runnable if it is blocked in thread_block (else the wake is
 * remembered and its next thread_block returns at once). */
void thread_wake(struct thread *t);
/* Sleep at least @ns nanoseconds. */
void thread_sleep_ns(uint64_t ns);
/* The thread running this code: one load through tp (see struct hart). */
static inline struct thread *thread_current(void)
{
#ifdef HOST_TEST
	return this_hart()->current;
#else
	struct thread *t;

	__asm__ __volatile__("ld %0, %1(tp)" : "=r"(t) : "i"(HART_CURRENT));
	return t;
#endif
}

/* The frame a user thread's traps from user mode save (entry.S), atop
 * its kernel stack. */
static inline struct trap_frame *thread_user_frame(struct thread *t)
{
	return (struct trap_frame *)(t->kstack.hi - USER_FRAME_SIZE);
}

/* Called at the end of every trap: switch if a tick or a wake-up asked
 * (the check inline: every fault and system call makes it). */
void sched_preempt(void);
static inline void sched_preempt_point(void)
{
	if (unlikely(this_hart()->need_resched))
		sched_preempt();
}
/* Timer tick bookkeeping (timer.c calls it). */
void sched_tick(void);
/* IPI_WAKE arrived: look at the run queue at the end of the trap. */
void sched_ipi_wake(void);
/* Idle thread: run or steal waiting threads; false if there were none. */
bool sched_idle_once(void);
/* Threads wait on this hart's queue (a hint, without the lock). */
bool sched_has_work(void);
#ifdef CONFIG_DEBUG
/* Called by an idle hart that has taken @stolen off another hart's queue
 * and not yet queued it on its own (interrupts off, no lock held): a
 * test stretches that window (kt_sched.c, steal_is_one_step). */
extern void (*sched_debug_steal_hook)(struct thread *stolen);
#endif

struct sched_stats {
	uint64_t switches, preemptions, steals, idle_wakes;
	uint64_t handoffs;	/* direct switches: thread_block_to, and
				 * the IPC fast path's parking */
};
void sched_stats_sum(struct sched_stats *out);
