/*
 * sched.c - kernel threads, per-hart run queues, preemption, sleeping,
 * load balancing
 *
 * A switch happens with the current hart's run-queue lock held (taken by
 * the outgoing thread, released by the incoming one, as in xv6), so a
 * thread that was just put back on a queue cannot be taken by another hart
 * before its registers are saved: a thief needs that queue's lock. on_cpu
 * says the same for readers without the lock.
 *
 * Any interrupt is taken with no spinlock held on that hart (spin_lock
 * disables interrupts), so the end of a trap is a safe place to switch:
 * sched_preempt_point() does so when the tick or a wake-up asked for it.
 */
#include <kern/thread.h>
#include <kern/sched_park.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <mm/as.h>
#include <arch/trap.h>
#include <mm/frame.h>

static struct runqueue rqs[CONFIG_MAX_HARTS];	/* struct hart's rq */
static struct thread boot_threads[CONFIG_MAX_HARTS];	/* boot contexts */
static unsigned int next_tid = 1;			/* atomic */

static struct runqueue *this_rq(void)
{
	return this_hart()->rq;
}

/*
 * Lock this hart's run queue. Interrupts go off first: between reading
 * which hart we are on and holding its lock, a preemption could otherwise
 * move the thread to another hart.
 */
static struct runqueue *lock_this_rq(void)
{
	struct runqueue *rq;

	irq_push();		/* as spin_lock's own: one level */
	rq = this_rq();
	spin_lock_raw(&rq->lock);
	return rq;
}

static void enqueue_locked(struct runqueue *rq, struct thread *t)
{
#ifdef CONFIG_DEBUG
	/* wake_at is 0 exactly when the thread is on no sleep list (a
	 * queued thread is on none; see unsleep_locked). */
	if (t->wake_at)
		panic("sched: '%s' queued on hart %u with wake_at %llu: still "
		      "on a sleep list", t->name, hart_self(),
		      (unsigned long long)t->wake_at);
#endif
	t->state = THREAD_RUNNABLE;
	t->rq_next = NULL;
	if (rq->tail[t->prio])
		rq->tail[t->prio]->rq_next = t;
	else
		rq->head[t->prio] = t;
	rq->tail[t->prio] = t;
	__atomic_store_n(&rq->nr, rq->nr + 1, __ATOMIC_RELAXED);
	if (t->affinity < 0)
		__atomic_store_n(&rq->nr_stealable, rq->nr_stealable + 1,
				 __ATOMIC_RELAXED);
}

static struct thread *dequeue_locked(struct runqueue *rq, int prio)
{
	struct thread *t = rq->head[prio];

	if (!t)
		return NULL;
	rq->head[prio] = t->rq_next;
	if (!rq->head[prio])
		rq->tail[prio] = NULL;
	t->rq_next = NULL;
	__atomic_store_n(&rq->nr, rq->nr - 1, __ATOMIC_RELAXED);
	if (t->affinity < 0)
		__atomic_store_n(&rq->nr_stealable, rq->nr_stealable - 1,
				 __ATOMIC_RELAXED);
	return t;
}

static int best_prio_locked(struct runqueue *rq)
{
	for (int p = 0; p < SCHED_PRIOS; p++)
		if (rq->head[p])
			return p;
	return SCHED_PRIO_IDLE;
}

/* Bookkeeping right after a switch, in the incoming thread; lock held. */
static void finish_switch(void)
{
	struct runqueue *rq = this_rq();
	struct thread *last = rq->last;
#ifdef CONFIG_DEBUG
	unsigned long sp;

	__asm__("mv %0, sp" : "=r"(sp));
	if (sp < rq->current->kstack.lo || sp > rq->current->kstack.hi)
		panic("sched: hart %u runs on sp %#lx but current '%s' has "
		      "stack %#lx-%#lx (last '%s')", hart_self(), sp,
		      rq->current->name, rq->current->kstack.lo,
		      rq->current->kstack.hi, last ? last->name : "-");
#endif

	this_hart()->irq_was_on = rq->current->irq_was_on;
	if (last) {
		rq->last = NULL;
		__atomic_store_n(&last->on_cpu, 0, __ATOMIC_RELEASE);
	}
}

/*
 * Switch to the best runnable thread (or idle). The caller holds this
 * hart's run-queue lock and has already put the current thread where it
 * belongs (back on the queue, on the sleep list, or dead). Returns, still
 * holding the run-queue lock of whatever hart the thread then runs on.
 */
static void schedule_to_locked(struct thread *next)
{
	struct runqueue *rq = this_rq();
	struct thread *prev = rq->current;
	struct hart *h = this_hart();

	for (int p = 0; p < SCHED_PRIOS && !next; p++)
		next = dequeue_locked(rq, p);
	if (!next)
		next = rq->idle;
	if (next == prev) {
		prev->state = THREAD_RUNNING;
		return;
	}
#ifdef CONFIG_DEBUG
	if (h->nheld > 1)
		panic("sched: switching with %u locks held", h->nheld);
	if (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
		panic("sched: hart %u switches to '%s', which is on a cpu "
		      "(hart %u)", h->id, next->name, next->hart);
#endif
	next->state = THREAD_RUNNING;
	next->hart = h->id;
	__atomic_store_n(&next->on_cpu, 1, __ATOMIC_RELAXED);
	rq->current = next;
	h->current = next;
	rq->last = prev;
	rq->stats.switches++;
	prev->irq_was_on = h->irq_was_on;
	/* Address spaces follow threads. Kernel threads run on whatever
	 * root is loaded (every root shares the kernel half); a hart left on
	 * a dying address space is moved off by as_destroy (arch_as_fini). */
	if (next->as && next->as != prev->as)
		as_activate(next->as);
	sched_stack_bounds(h, next);
	if (unlikely(next->parked))
		sched_park_context(next);
	arch_switch(&prev->ctx, &next->ctx);
	finish_switch();
}

static void schedule_locked(void)
{
	schedule_to_locked(NULL);
}

/* First code of every new thread (from arch_thread_trampoline). */
void thread_start(void);
void thread_start(void)
{
	struct thread *t;

	finish_switch();
	t = this_rq()->current;
	spin_unlock(&this_rq()->lock);
	arch_irq_enable();
	t->fn(t->arg);
	thread_exit(0);
}

static unsigned int pick_hart(int affinity)
{
	unsigned int best = hart_self(), n = nr_harts;

	if (affinity >= 0)
		return (unsigned int)affinity;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int load = __atomic_load_n(&rqs[i].nr,
						    __ATOMIC_RELAXED) +
				    (rqs[i].current != rqs[i].idle);
		unsigned int bload = __atomic_load_n(&rqs[best].nr,
						     __ATOMIC_RELAXED) +
				     (rqs[best].current != rqs[best].idle);

		if (load < bload)
			best = i;
	}
	return best;
}

static void wake_on(unsigned int hart, struct thread *t)
{
	struct runqueue *rq = &rqs[hart];

	spin_lock(&rq->lock);
	t->hart = hart;
	enqueue_locked(rq, t);
	spin_unlock(&rq->lock);
	if (hart == hart_self())
		this_hart()->need_resched = true;
	else
		ipi_send(hart, IPI_WAKE);
}

static struct thread *thread_alloc(const char *name, int prio, int affinity)
{
	struct frame *f = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
	struct thread *t;

	_Static_assert(sizeof(struct thread) <= PAGE_SIZE, "thread in a page");
	if (!f)
		return NULL;
	t = frame_to_kva(f);
	if (kstack_alloc(&t->kstack)) {
		frame_free(f);
		return NULL;
	}
	strlcpy(t->name, name, sizeof(t->name));
	t->prio = prio;
	t->affinity = affinity;
	t->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
	t->irq_was_on = true;
	t->ctx.ra = (unsigned long)arch_thread_trampoline;
	t->ctx.sp = t->kstack.hi;
	return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg,
			     int prio, int affinity)
{
	struct thread *t;

	if (prio < 0 || prio >= SCHED_PRIOS || affinity >= (int)nr_harts ||
	    affinity < -1 || !fn)
		return NULL;
	t = thread_alloc(name, prio, affinity);
	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	wake_on(pick_hart(affinity), t);
	return t;
}

struct thread *thread_create_user(const char *name, void (*fn)(void *),
				  void *arg, struct as *as, struct proc *proc,
				  vaddr_t entry, unsigned long sp,
				  unsigned long a0, unsigned long a1, int hart,
				  bool start)
{
	struct thread *t;

	if (hart < -1 || hart >= (int)nr_harts)
		return NULL;
	t = thread_alloc(name, SCHED_PRIO_DEFAULT, hart);
	if (!t)
		return NULL;
	t->user_sp = sp;
	t->user_a0 = a0;
	t->user_a1 = a1;
	/* The user entry frame sits at the top of the stack: run below it
	 * from the start, so an interrupt before user mode cannot clobber
	 * it. */
	t->ctx.sp = t->kstack.hi - USER_FRAME_SIZE;
	t->fn = fn;
	t->arg = arg;
	t->as = as;
	t->proc = proc;
	t->user_entry = entry;
	if (start)
		thread_launch(t);
	return t;
}

void thread_launch(struct thread *t)
{
	wake_on(pick_hart(t->affinity), t);
}

void thread_exit(int code)
{
	struct thread *t, *joiner;

	t = thread_current();
	if (t->is_idle || t->is_boot)
		panic("sched: thread '%s' may not exit", t->name);
	t->exit_code = code;
	/* Wake whoever waits for us (thread_wait_dead), before our queue
	 * lock (a wake-up takes the waiter's), but with interrupts already
	 * off: from here to the switch away nothing runs on this hart. (As
	 * lock_this_rq, with one irq_push.) */
	irq_push();
	__atomic_store_n(&t->ending, true, __ATOMIC_SEQ_CST);
	joiner = __atomic_exchange_n(&t->joiner, NULL, __ATOMIC_SEQ_CST);
	if (joiner)
		thread_wake(joiner);
	spin_lock_raw(&this_rq()->lock);
	__atomic_store_n(&t->state, THREAD_DEAD, __ATOMIC_RELEASE);
	schedule_locked();
	panic("sched: dead thread '%s' ran again", t->name);
}

/* @t is dead and off its hart: its stack and record may be freed. */
static bool off_cpu_dead(struct thread *t)
{
	return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == THREAD_DEAD &&
	       !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE);
}

/*
 * The waiter names itself in t->joiner, then looks at t->ending; thread_exit
 * sets ending, then takes joiner (an exchange) and wakes it. Both with
 * sequentially consistent atomics: one of the two sees the other, so
 * either the waiter does not block or it is woken. A waiter that gives up
 * takes its name back with a compare-exchange; if thread_exit took it first,
 * its wake-up is under way (and touches the waiter), so the waiter stays
 * and finishes the join instead, which thread_exit's next steps end soon.
 *
 * After ending, the thread still runs until its hart switches away, with
 * interrupts off: a few hundred instructions, so the waiter spins for
 * that (yielding now and then: a hart of an over-subscribed host may be
 * descheduled meanwhile).
 */
bool thread_wait_dead(struct thread *t, const bool *give_up)
{
	struct thread *self = thread_current();

#ifdef CONFIG_DEBUG
	struct thread *none = NULL;

	if (!__atomic_compare_exchange_n(&t->joiner, &none, self, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		panic("sched: '%s' waits for '%s', whom '%s' waits for",
		      self->name, t->name, none->name);
#else
	__atomic_store_n(&t->joiner, self, __ATOMIC_SEQ_CST);
#endif
	while (!__atomic_load_n(&t->ending, __ATOMIC_SEQ_CST)) {
		if (give_up && __atomic_load_n(give_up, __ATOMIC_ACQUIRE)) {
			struct thread *me = self;

			if (__atomic_compare_exchange_n(&t->joiner, &me, NULL,
							false,
							__ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST))
				return false;
			break;	/* it is ending, and waking us */
		}
		thread_block(NULL, 0);
	}
	while (!off_cpu_dead(t)) {
		for (int i = 0; i < 1000 && !off_cpu_dead(t); i++)
			arch_cpu_relax();
		if (!off_cpu_dead(t))
			thread_yield();
	}
	/* Our name may still be there (thread_exit took joiner before we
	 * put it there, and we saw ending): the next waiter finds none. */
	__atomic_store_n(&t->joiner, NULL, __ATOMIC_RELAXED);
	return true;
}

int thread_join(struct thread *t)
{
	thread_wait_dead(t, NULL);
	return thread_reap(t);
}

int thread_reap(struct thread *t)
{
	int code;

#ifdef CONFIG_DEBUG
	if (!off_cpu_dead(t))
		panic("sched: '%s' reaped before it ended", t->name);
#endif
	code = t->exit_code;
	kstack_free(&t->kstack);
	frame_free(kva_to_frame(t));
	return code;
}

void thread_yield(void)
{
	struct runqueue *rq;

	rq = lock_this_rq();
	if (!rq->current->is_idle)
		enqueue_locked(rq, rq->current);
	schedule_locked();
	spin_unlock(&this_rq()->lock);
}

void thread_sleep_ns(uint64_t ns)
{
	/* Whole seconds and the rest apart: ns * hz overflows 64 bits past
	 * about half an hour at 10 MHz, which made a long sleep short. */
	uint64_t ticks = ns / 1000000000ULL * arch_time_hz() +
			 ns % 1000000000ULL * arch_time_hz() / 1000000000ULL;
	struct runqueue *rq;
	struct thread *t;

	rq = lock_this_rq();
	t = rq->current;
	if (t->is_idle)
		panic("sched: the idle thread may not sleep");
	t->wake_at = arch_time() + (ticks ? ticks : 1);
	t->state = THREAD_SLEEPING;
	t->rq_next = rq->sleepers;
	rq->sleepers = t;
	schedule_locked();
	spin_unlock(&this_rq()->lock);
}

/* Take @t off @rq's sleep list if it is there (wake_at is 0 when it is
 * not: a wake-up of a thread blocked without a deadline, the common case
 * of IPC, walks nothing). */
static void unsleep_locked(struct runqueue *rq, struct thread *t)
{
	if (!t->wake_at)
		return;
	t->wake_at = 0;
	for (struct thread **pp = &rq->sleepers; *pp; pp = &(*pp)->rq_next)
		if (*pp == t) {
			*pp = t->rq_next;
			t->rq_next = NULL;
			return;
		}
}

/*
 * Blocking. A waker sets the thread's wake token and, if the thread is
 * BLOCKED, puts it back on its hart's queue. A blocker marks itself
 * BLOCKED, then looks at the token (a full fence between, paired with the
 * waker's: one of the two sees the other), and does not sleep if a wake
 * came first. A BLOCKED thread is on no run queue, so it cannot move to
 * another hart: a waker that finds it BLOCKED under the lock of t->hart
 * has the right queue.
 */
static bool block_locked(struct runqueue *rq, struct thread *t,
			 struct spinlock *lock, uint64_t deadline)
{
	t->state = THREAD_BLOCKED;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&t->wake_token, 0, __ATOMIC_SEQ_CST)) {
		t->state = THREAD_RUNNING;
		if (lock)
			spin_unlock(lock);
		return false;
	}
	if (deadline) {
#ifdef CONFIG_DEBUG
		if (t->wake_at)
			panic("sched: '%s' blocks with wake_at %llu: already "
			      "on a sleep list", t->name,
			      (unsigned long long)t->wake_at);
#endif
		t->wake_at = deadline;
		t->rq_next = rq->sleepers;
		rq->sleepers = t;
	}
	if (lock)
		spin_unlock(lock);
	return true;
}

void thread_block(struct spinlock *lock, uint64_t deadline)
{
	struct runqueue *rq = lock_this_rq();
	struct thread *t = rq->current;

	if (t->is_idle)
		panic("sched: the idle thread may not block");
	if (block_locked(rq, t, lock, deadline))
		schedule_locked();
	spin_unlock(&this_rq()->lock);
	__atomic_store_n(&t->wake_token, 0, __ATOMIC_RELAXED);
}

void thread_block_to(struct spinlock *lock, uint64_t deadline,
		     struct thread *next)
{
	struct runqueue *rq = lock_this_rq();
	struct thread *t = rq->current;

	if (t->is_idle)
		panic("sched: the idle thread may not block");
	/* Else @next queues up like any wake-up. */
	if (!sched_handoff_ok(rq, this_hart(), next)) {
		spin_unlock(&rq->lock);
		thread_wake(next);
		thread_block(lock, deadline);
		return;
	}
	unsleep_locked(rq, next);
	__atomic_store_n(&next->wake_token, 1, __ATOMIC_SEQ_CST);
	if (block_locked(rq, t, lock, deadline)) {
		rq->stats.handoffs++;
		schedule_to_locked(next);
	} else {
		enqueue_locked(rq, next);	/* we stay: it waits its turn */
		this_hart()->need_resched = true;
	}
	spin_unlock(&this_rq()->lock);
	__atomic_store_n(&t->wake_token, 0, __ATOMIC_RELAXED);
}

/* Parking: kern/sched_park.h. */

void sched_unsleep_locked(struct runqueue *rq, struct thread *t)
{
	assert_held(&rq->lock);
	unsleep_locked(rq, t);
}

/* A parked thread, switched to through its context (arch_park_resume):
 * end the switch as thread_start does, and a wait as thread_block. Locks:
 * this hart's run-queue lock held (the switcher's), released here. */
void sched_park_resumed(void);
void sched_park_resumed(void)
{
	struct thread *t;

	finish_switch();
	t = this_rq()->current;
	t->parked = false;
	spin_unlock(&this_rq()->lock);
	__atomic_store_n(&t->wake_token, 0, __ATOMIC_RELAXED);
}

void thread_wake(struct thread *t)
{
	__atomic_store_n(&t->wake_token, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (;;) {
		unsigned int h = __atomic_load_n(&t->hart, __ATOMIC_RELAXED);
		struct runqueue *rq = &rqs[h];
		bool woke = false;

		spin_lock(&rq->lock);
		if (__atomic_load_n(&t->hart, __ATOMIC_RELAXED) != h) {
			spin_unlock(&rq->lock);	/* moved meanwhile */
			continue;
		}
		if (t->state == THREAD_BLOCKED) {
			unsleep_locked(rq, t);
			enqueue_locked(rq, t);
			woke = true;
		}
		spin_unlock(&rq->lock);
		if (woke) {
			if (h == hart_self())
				this_hart()->need_resched = true;
			else
				ipi_send(h, IPI_WAKE);
		}
		return;
	}
}

/* Timer interrupt: wake sleepers, ask for a switch when the running
 * thread's time slice (one tick) is up and another thread waits. */
void sched_tick(void)
{
	struct runqueue *rq = this_rq();
	uint64_t now = arch_time();
	struct thread **pp;

	spin_lock(&rq->lock);
	for (pp = &rq->sleepers; *pp;) {
		struct thread *t = *pp;

		if (t->wake_at <= now) {
			*pp = t->rq_next;
			t->wake_at = 0;
			enqueue_locked(rq, t);
		} else {
			pp = &t->rq_next;
		}
	}
	if (rq->current && best_prio_locked(rq) <=
	    (rq->current->is_idle ? SCHED_PRIO_IDLE : rq->current->prio))
		this_hart()->need_resched = true;
	spin_unlock(&rq->lock);
}

void sched_preempt(void)
{
	struct runqueue *rq = this_rq();

	this_hart()->need_resched = false;
	if (!rq->current)
		return;
	spin_lock(&rq->lock);
	if (best_prio_locked(rq) <=
	    (rq->current->is_idle ? SCHED_PRIO_IDLE : rq->current->prio)) {
		if (!rq->current->is_idle) {
			enqueue_locked(rq, rq->current);
			rq->stats.preemptions++;
		}
		schedule_locked();
	}
	spin_unlock(&this_rq()->lock);
}

#ifdef CONFIG_DEBUG
void (*sched_debug_steal_hook)(struct thread *stolen);	/* atomic */
#endif

/*
 * An idle hart takes one waiting, unpinned thread from a busy hart.
 *
 * Interrupts stay off from the take to the queueing: between the two the
 * thread is on no queue and known only to this function, so a tick that
 * switched this idle thread out for something else (a thread woken on
 * this hart) would leave it runnable and lost until this hart went idle
 * again, for ever if it never did. The sysfuzz fuzzer hung that way
 * (seeds 331, 460); ktest sched steal_is_one_step holds the window open.
 */
static bool steal(void)
{
	unsigned int self = hart_self(), n = nr_harts;

	irq_push();
	for (unsigned int k = 1; k < n; k++) {
		struct runqueue *v = &rqs[(self + k) % n];
		struct thread *got = NULL;

		if (!__atomic_load_n(&v->nr_stealable, __ATOMIC_RELAXED))
			continue;
		spin_lock(&v->lock);
		for (int p = SCHED_PRIOS - 1; p >= 0 && !got; p--) {
			struct thread **pp = &v->head[p], *prev = NULL;

			for (; *pp; prev = *pp, pp = &(*pp)->rq_next) {
				struct thread *t = *pp;

				if (t->affinity >= 0)
					continue;
				*pp = t->rq_next;
				if (v->tail[p] == t)
					v->tail[p] = prev;
				t->rq_next = NULL;
				__atomic_store_n(&v->nr, v->nr - 1,
						 __ATOMIC_RELAXED);
				__atomic_store_n(&v->nr_stealable,
						 v->nr_stealable - 1,
						 __ATOMIC_RELAXED);
				got = t;
				break;
			}
		}
		spin_unlock(&v->lock);
		if (got) {
			struct runqueue *rq = this_rq();
#ifdef CONFIG_DEBUG
			void (*hook)(struct thread *) = __atomic_load_n(
				&sched_debug_steal_hook, __ATOMIC_ACQUIRE);

			if (hook)
				hook(got);
#endif
			spin_lock(&rq->lock);
			got->hart = self;
			enqueue_locked(rq, got);
			rq->stats.steals++;
			spin_unlock(&rq->lock);
			irq_pop();
			return true;
		}
	}
	irq_pop();
	return false;
}

void sched_ipi_wake(void)
{
	this_hart()->need_resched = true;
}

bool sched_has_work(void)
{
	return __atomic_load_n(&this_rq()->nr, __ATOMIC_RELAXED) != 0;
}

/* The idle thread's body between waits: run work, switch, or steal. */
bool sched_idle_once(void)
{
	struct runqueue *rq = this_rq();

	if (!__atomic_load_n(&rq->nr, __ATOMIC_RELAXED) && !steal())
		return false;
	lock_this_rq();
	schedule_locked();
	spin_unlock(&this_rq()->lock);
	return true;
}

static void idle_fn(void *arg)
{
	hart_idle();
}

void sched_init(void)
{
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++) {
		spin_init(&rqs[i].lock, LOCK_CLASS_SCHED);
		harts[i].rq = &rqs[i];
	}
}

void sched_init_hart(void)
{
	struct hart *h = this_hart();
	struct runqueue *rq = this_rq();
	struct thread *boot = &boot_threads[h->id];

	boot->state = THREAD_RUNNING;
	boot->prio = SCHED_PRIO_DEFAULT;
	boot->affinity = (int)h->id;
	boot->hart = h->id;
	boot->on_cpu = 1;
	boot->is_boot = true;
	boot->irq_was_on = true;
	boot->kstack.lo = h->stack_lo;
	boot->kstack.hi = h->kstack_top;
	rq->current = boot;
	h->current = boot;
	if (h->id == 0) {
		/* The boot hart's context goes on as "main"; its idle
		 * thread is a thread of its own. */
		strlcpy(boot->name, "main", sizeof(boot->name));
		rq->idle = thread_alloc("idle0", SCHED_PRIO_DEFAULT, 0);
		if (!rq->idle)
			panic("sched: no memory for the idle thread");
		rq->idle->fn = idle_fn;
		rq->idle->is_idle = true;
		rq->idle->hart = 0;
	} else {
		snprintf(boot->name, sizeof(boot->name), "idle%u", h->id);
		boot->is_idle = true;
		boot->is_boot = false;
		rq->idle = boot;
	}
}

void sched_stats_sum(struct sched_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < nr_harts; i++) {
		out->switches += rqs[i].stats.switches;
		out->preemptions += rqs[i].stats.preemptions;
		out->steals += rqs[i].stats.steals;
		out->idle_wakes += rqs[i].stats.idle_wakes;
		out->handoffs += rqs[i].stats.handoffs;
		uint64_t parks = __atomic_load_n(&harts[i].ipc_fast,
						 __ATOMIC_RELAXED);

		out->switches += parks;
		out->handoffs += parks;
	}
}
