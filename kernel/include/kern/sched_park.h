#pragma once
/*
 * sched_park.h - parking: the scheduler's half of the IPC fast path
 * (kernel/ipc/fastpath.c), inline, and the run queue it works on
 *
 * A thread that blocks in an ordinary way keeps its C frames on its
 * kernel stack and resumes inside arch_switch. A parked thread keeps
 * nothing but the trap frame its system call saved atop its stack. So a
 * partner that completes its wait on this hart needs no switch of kernel
 * contexts at all: it hands over the results in registers and returns to
 * user mode through the parked thread's frame (arch_park_return).
 * Everyone else (a kill, a general-path partner, the scheduler) resumes a
 * parked thread like any other, through its context, which the switch
 * sets (sched_park_context) to start arch_park_resume on that frame
 * (switch.S): it ends the switch as thread_start does and calls
 * ipc_park_resume to finish the system call.
 *
 * The fast path runs with interrupts off from entry.S to sret, so these
 * take their locks raw. Only sched.c and this header touch a run queue's
 * fields.
 */
#include <kern/arch.h>
#include <kern/thread.h>
#include <kern/panic.h>
#include <kern/spinlock.h>
#include <arch/context.h>
#include <mm/as.h>

/*
 * struct runqueue - one per hart
 *
 * Locking: everything under lock (rank 70), except nr and nr_stealable, which
 * others read without the lock as hints. Idle harts look at nr_stealable
 * before they take a busy hart's lock, so pinned threads cost no lock
 * traffic from would-be thieves.
 */
struct runqueue {
	struct spinlock lock;
	struct thread *head[SCHED_PRIOS], *tail[SCHED_PRIOS];
	unsigned int nr;
	unsigned int nr_stealable;	/* of nr, not pinned to a hart */
	struct thread *current;
	struct thread *idle;
	struct thread *last;	/* the thread just switched away from */
	struct thread *sleepers;
	/* Switches by sched_park_switch are not counted here: each is an
	 * IPC fast-path call, counted in the hart's ipc_fast, which
	 * sched_stats_sum adds to both switches and handoffs. */
	struct sched_stats stats;
} __cacheline_aligned;

/* Take @t off @rq's sleep list (sched.c). Locks: @rq's held. */
void sched_unsleep_locked(struct runqueue *rq, struct thread *t);

/* May @next, blocked, run on @h (whose queue @rq is, locked) at once,
 * before anything queued there? Only if it is blocked on this hart and may
 * run here, and nothing else waits for the hart: a client and its server
 * handing the hart to each other would otherwise keep everyone queued
 * there off it until the tick (measured: ipctest many_clients on 4 harts
 * took 5 s instead of 0.1 s). thread_block_to and sched_park_begin. */
static __always_inline bool sched_handoff_ok(struct runqueue *rq,
					     struct hart *h,
					     struct thread *next)
{
	return next->hart == h->id && next->state == THREAD_BLOCKED &&
	       (next->affinity < 0 || next->affinity == (int)h->id) &&
	       !rq->nr;
}

/* The stacks @h runs on and takes traps on: @t's (switching to it). */
static __always_inline void sched_stack_bounds(struct hart *h,
					       struct thread *t)
{
	h->stack_lo = t->kstack.lo;
	h->kstack_top = t->kstack.hi;
}

/*
 * sched_park_begin - lock this hart's run queue (@h's) and check that
 * @next can run here at once (sched_handoff_ok), that no switch is asked
 * for, and that no wake-up is pending for @self (which would end its wait
 * at once). Return: the locked queue, or NULL with nothing held and
 * nothing changed. Context: interrupts off (the lock is taken raw).
 *
 * A waker of @self needs this lock to look at its state, so one whose
 * token we miss here finds @self BLOCKED afterwards and queues it.
 */
static __always_inline struct runqueue *sched_park_begin(struct hart *h,
						struct thread *self,
						struct thread *next)
{
	struct runqueue *rq = h->rq;

	spin_lock_raw_uncounted(h, &rq->lock, LOCK_CLASS_SCHED);
	if (unlikely(!sched_handoff_ok(rq, h, next) || h->need_resched ||
		     __atomic_load_n(&self->wake_token, __ATOMIC_RELAXED))) {
		lockstat_count(h, LOCK_CLASS_SCHED);
		spin_unlock_raw(&rq->lock);
		return NULL;
	}
	return rq;
}

/*
 * sched_park_context - make parked @t's context start arch_park_resume on
 * its trap frame, with interrupts to stay off when the run-queue lock its
 * resumer holds goes (finish_switch takes irq_was_on from it). Written by
 * whoever switches to a parked thread (schedule_to_locked), not at each
 * park: most parks end in arch_park_return, which needs no context.
 */
static inline void sched_park_context(struct thread *t)
{
	t->ctx.ra = (unsigned long)arch_park_resume;
	t->ctx.sp = (unsigned long)thread_user_frame(t);
	t->ctx.sstatus = 0;
	t->irq_was_on = false;
}

/*
 * sched_park_switch - park @self (the current thread, in a system call
 * from user mode) and run @next, both checked by sched_park_begin. @lock,
 * taken before the queue's, is released on the way. Locks: @rq's held,
 * released by whoever runs next (see below). Does not return:
 * @self resumes, when something ends its wait, in arch_park_resume; or
 * straight into its trap frame, when a partner's sched_park_switch runs
 * it.
 * @jump:    @next is parked (the caller looked, under @rq's lock): a
 *           constant at each call, so that @next_regs stays in registers
 * @next_regs: then, the results of its system call: it returns to user
 *           mode with them at once; else NULL
 *
 * The run-queue lock is held until we are off @self's stack (released by
 * arch_park_return, or by the switch path @next resumes in): until then a
 * wake-up of @self cannot let another hart run it on the stack we are on.
 */
static __always_inline __noreturn void
sched_park_switch(struct hart *h, struct runqueue *rq, struct thread *self,
		  struct thread *next,
		  bool jump, const struct park_regs *next_regs,
		  struct spinlock *lock)
{
	unsigned int owner_next;
	uint16_t *owner;

#ifdef CONFIG_DEBUG
	if (self != rq->current || __atomic_load_n(&next->on_cpu,
						   __ATOMIC_ACQUIRE))
		panic("sched: hart %u parks '%s' for '%s' (on a cpu: %u)",
		      h->id, self->name, next->name, next->on_cpu);
#endif
	/* Its context is not written here: whoever switches to it does that
	 * (sched_park_context), seeing it parked. */
	self->state = THREAD_BLOCKED;
	self->parked = true;
	if (unlikely(next->wake_at))
		sched_unsleep_locked(rq, next);
	next->state = THREAD_RUNNING;
	arch_store_relaxed_u32(&next->on_cpu, 1);
	rq->current = next;
	h->current = next;
	if (next->as && next->as != self->as)
		as_activate(next->as);
	sched_stack_bounds(h, next);
	spin_unlock_raw(lock);
	if (likely(jump)) {
		/* It ends its wait as thread_block does after one: a
		 * wake-up that came meanwhile (and found it running) is
		 * spent. Then the switch ends as finish_switch would, with
		 * the queue lock released once off @self's stack. */
		next->parked = false;
		arch_store_relaxed_u32(&next->wake_token, 0);
		rq->last = NULL;
		owner = spin_unlock_raw_begin(&rq->lock, &owner_next);
		arch_park_return(thread_user_frame(next), next_regs,
				 &self->on_cpu, owner, owner_next);
	}
	/* @next blocked the ordinary way, in schedule_to_locked: it ends
	 * the switch there (finish_switch, with rq->last) and drops the
	 * queue lock as if it had taken it (one irq_push). */
	rq->last = self;
	irq_push();
	arch_switch_to(&next->ctx);
}
