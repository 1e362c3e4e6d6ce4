/*
 * fastpath.c - the IPC fast path: a call, and a server's reply-and-receive,
 * each in one pass from the trap, when the partner waits on this hart
 *
 * A client/server round trip is two system calls: the client's
 * SYS_IPC_CALL and the server's SYS_IPC_REPLY_RECV. When
 *   - the message is registers and at most a buffer payload, with no
 *     handle or page in flight, and no timeout,
 *   - the partner is blocked on this hart: a server queued to receive, or
 *     the caller being answered (with no other caller queued, and the
 *     call owed came through the endpoint the server receives on),
 *   - nothing else waits for this hart (sched_park_begin),
 * each side hands its message over under the endpoint lock, parks (the
 * thread blocks keeping nothing but its trap frame: sched_park_switch)
 * and runs the partner at once. A partner parked the same way returns to
 * user mode at once through its trap frame, its results carried in
 * registers from those the message came in (entry.S hands a0..a6 to the
 * fast path as arguments; arch_park_return): in the usual round trip no
 * kernel context is saved or restored at all, and the message is not
 * copied from frame to frame. A partner blocked in the general path is
 * switched to through its context and finds its wait complete as usual.
 *
 * Everything else goes the general way (syscall.c, ipc.c): a partner on
 * another hart (an IPI either way; the switch saved here is not the cost
 * there), callers queued, handles, pages, timeouts, errors, a kill of
 * either side (a killed partner is woken the general way and leaves at
 * once; run straight into user mode, it would serve one more call). The
 * fast path changes nothing but its call cache before its conditions
 * hold: it returns and the general path does the whole call.
 *
 * A parked thread that is resumed other than by its partner's fast path
 * (its wait completed by the general path, a kill, a spurious wake-up)
 * runs ipc_park_resume, which finishes the wait the general path's way
 * (ipc_wait_locked) and the system call's results from the message.
 *
 * References. A caller keeps the endpoint it calls in its call cache
 * (call_ep), with a reference of its own: the next call through a handle
 * that still names it checks the handle without the table's lock
 * (handle_names_memo: while the table has not changed since the last
 * check, one load) and needs no reference for the call. A parked receiver
 * holds the reference its owed reply held (reply_ep), for the receive;
 * when a fast call pairs with it, that reference becomes its reply_ep's
 * again. So the usual round trip takes no lock on a handle table and
 * touches no reference count.
 *
 * ipcfast=off|call|reply|on (boot option, default on) selects which calls
 * may take it, to measure both paths in one build (docs/performance.md).
 */
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/handle.h>
#include <kern/hart.h>
#include <kern/proc.h>
#include <kern/sched_park.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <abi/syscall.h>
#include <arch/trap.h>
#include "ipc_internal.h"

/* One more call done here (interrupts are off: this hart's own counter;
 * relaxed atomics so that SYS_STATS on another hart reads whole values;
 * no AMO on riscv: kern/arch.h). It counts, for their statistics, what
 * each call does once too: the switch (sched_stats_sum) and the two lock
 * acquisitions, endpoint and run queue (lockstat_sum; taken uncounted). */
static __always_inline void fast_count(struct hart *h)
{
	arch_counter_inc_u64(&h->ipc_fast);
}

/* A message of @info the fast path can carry for @self, which has no
 * handle or page of its own in flight. */
static inline bool fast_msg_ok(struct thread *self, unsigned long info)
{
	unsigned long len = IPC_INFO_LEN(info);

	if ((info & (IPC_INFO_HANDLE | IPC_INFO_PAGE)) || self->ipc.xfer_obj ||
	    self->ipc.page)
		return false;
	return len == 0 || (len <= IPC_BUF_WORDS && self->ipc.buf_kva);
}

/*
 * The message a system call came with (a1..a5, in the registers entry.S
 * calls the fast path with) and its timeout (a6).
 */
struct fast_msg {
	unsigned long info, w[4];
	unsigned long timeout;
};

/* @m as @self's outgoing message (for a partner that reads it the general
 * way, ipc_deliver). */
static void fast_take_msg(struct thread *self, const struct fast_msg *m)
{
	self->ipc.msg.info = m->info;
	self->ipc.msg.w[0] = m->w[0];
	self->ipc.msg.w[1] = m->w[1];
	self->ipc.msg.w[2] = m->w[2];
	self->ipc.msg.w[3] = m->w[3];
}

/*
 * @m from @from, as the results @r of the system call that parked @to
 * (both kept from running: the endpoint lock is held), its payload
 * copied. a6 is the caller's to fill in.
 */
static __always_inline void fast_give(struct thread *from,
				      const struct fast_msg *m,
				      struct thread *to, struct park_regs *r)
{
	unsigned long len = IPC_INFO_LEN(m->info), copied = 0;

	if (unlikely(len) && to->ipc.buf_kva) {
		memcpy(to->ipc.buf_kva, from->ipc.buf_kva, len * 8);
		copied = len;
	}
	r->a1 = ipc_info_delivered(m->info, copied);
	r->a2 = m->w[0];
	r->a3 = m->w[1];
	r->a4 = m->w[2];
	r->a5 = m->w[3];
}

/*
 * Is @t's process ending (@t the partner, or this thread)? A hint
 * (relaxed): a kill that this misses is no different from one that comes
 * just after. The partner then runs in user mode and leaves at its next
 * trap. This thread is woken by the kill (ipc_interrupt: the flag, then
 * thread_wake), whose token is set before the waker takes this hart's
 * run-queue lock: sched_park_begin, under that lock, sees the token and
 * declines, or the waker comes after and finds this thread BLOCKED, and
 * its parked wait ends the general way (ipc_park_resume, -E_INTR). So the
 * general path's sequentially consistent load (ipc_interrupted) would buy
 * nothing here but two fences a call.
 */
static __always_inline bool fast_killed(struct thread *t)
{
	return __atomic_load_n(&t->ipc.interrupted, __ATOMIC_RELAXED);
}

/* SYS_IPC_CALL(a0 = endpoint @handle, a1..a5 = message, a6 = timeout). */
static __always_inline void fast_call(struct hart *h, struct thread *self,
				      long handle, const struct fast_msg *m,
				      struct trap_frame *tf)
{
	struct park_regs regs;
	struct endpoint *ep;
	struct runqueue *rq;
	struct kobj *o;
	struct thread *s;

	if (m->timeout != 0 || !fast_msg_ok(self, m->info))
		return;
	ep = self->ipc.call_ep;
	if (!ep || !handle_names_memo(&self->proc->handles,
				      &self->ipc.call_memo, handle,
				      &ep->obj, HANDLE_R_SEND)) {
		o = handle_peek(&self->proc->handles, handle,
				KOBJ_ENDPOINT, HANDLE_R_SEND);
		if (ep) {
			/* Another endpoint, or none: the cache lets go (so
			 * it keeps no endpoint alive past its handles for
			 * long; no lock held: this put may free). */
			self->ipc.call_ep = NULL;
			kobj_put(&ep->obj);
		}
		if (!o)
			return;
		ep = to_ep(o);
		self->ipc.call_ep = ep;
	}
	spin_lock_raw_uncounted(h, &ep->lock, LOCK_CLASS_IPC);
	if (!ep->receivers || fast_killed(self) ||
	    !(s = ipc_receiver_on(ep, h->id)) || fast_killed(s) ||
	    !(rq = sched_park_begin(h, self, s))) {
		lockstat_count(h, LOCK_CLASS_IPC);
		spin_unlock_raw(&ep->lock);
		return;
	}
	/* Committed: from here on nothing fails. */
	fast_count(h);
	q_remove(&ep->recv_head, &ep->recv_tail, s);
	self->ipc.park_ep = ep;		/* kept by the call cache's reference */
	self->ipc.park_recv = false;
	/* Each way to @s ends in a switch of its own (inline), so that the
	 * results stay in registers on the way there. */
	if (s->parked) {
		/* Its receive's reference becomes its reply_ep's. */
		fast_give(self, m, s, &regs);
		regs.a6 = ipc_thread_id(self);
		s->ipc.reply_to = self;
		s->ipc.reply_ep = ep;
		self->ipc.reply_from = s;
		self->ipc.wait = IPC_WAIT_REPLY;
		self->ipc.wait_obj = &ep->obj;
		ipc_complete(s, 0);
		sched_park_switch(h, rq, self, s, true, &regs, &ep->lock);
	}
	fast_take_msg(self, m);
	ipc_deliver(self, s);
	ipc_pair(ep, s, self);
	ipc_complete(s, 0);
	sched_park_switch(h, rq, self, s, false, NULL, &ep->lock);
}

/* The receive of a reply-and-receive (@ep locked): nobody else calls, so
 * @self waits for the next call, parked. */
static __always_inline void fast_wait_recv(struct thread *self,
					   struct endpoint *ep)
{
	self->ipc.wait = IPC_WAIT_RECV;
	self->ipc.wait_obj = &ep->obj;
	self->ipc.park_ep = ep;
	self->ipc.park_recv = true;
	q_push(&ep->recv_head, &ep->recv_tail, self);
}

/*
 * SYS_IPC_REPLY_RECV(a0 = endpoint, a1..a5 = reply, a6 = timeout), when
 * the call owed came through the same endpoint from a caller on this hart
 * and nobody else calls: reply, queue as a receiver, and run the caller
 * just answered.
 */
static __always_inline void fast_reply_recv(struct hart *h,
					    struct thread *self, long handle,
					    const struct fast_msg *m,
					    struct trap_frame *tf)
{
	struct endpoint *ep = self->ipc.reply_ep;
	struct park_regs regs;
	struct runqueue *rq;
	struct thread *c;

	if (!ep || m->timeout != 0 || !fast_msg_ok(self, m->info))
		return;
	/* The reference reply_ep holds keeps @ep alive meanwhile (so the
	 * handle is checked without the table's lock); from the reply on it
	 * serves the receive. */
	if (!handle_names_memo(&self->proc->handles, &self->ipc.recv_memo,
			       handle, &ep->obj, HANDLE_R_RECV))
		return;
	spin_lock_raw_uncounted(h, &ep->lock, LOCK_CLASS_IPC);
	c = self->ipc.reply_to;
	if (!c || ep->send_head || !ep->receivers || fast_killed(self) ||
	    fast_killed(c) || !(rq = sched_park_begin(h, self, c))) {
		lockstat_count(h, LOCK_CLASS_IPC);
		spin_unlock_raw(&ep->lock);
		return;
	}
	/* Committed. The reply: */
	fast_count(h);
	self->ipc.reply_to = NULL;
	self->ipc.reply_ep = NULL;
	c->ipc.reply_from = NULL;
	/* Each way to @c ends in a switch of its own, as in fast_call. */
	if (c->parked) {
		/* A call's a6 (its timeout) comes back as it went. */
		fast_give(self, m, c, &regs);
		regs.a6 = thread_user_frame(c)->a6;
		ipc_complete(c, 0);
		fast_wait_recv(self, ep);
		sched_park_switch(h, rq, self, c, true, &regs, &ep->lock);
	}
	fast_take_msg(self, m);
	ipc_deliver(self, c);
	ipc_complete(c, 0);
	fast_wait_recv(self, ep);
	sched_park_switch(h, rq, self, c, false, NULL, &ep->lock);
}

void ipc_fast_none(long handle, unsigned long info, unsigned long w0,
		   unsigned long w1, unsigned long w2, unsigned long w3,
		   unsigned long timeout, struct trap_frame *tf)
{
}

void ipc_fast_set(unsigned int mode)
{
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++) {
		harts[i].ipc_fast_fn[0] =
			mode & IPC_FAST_CALL ? ipc_fast_call : ipc_fast_none;
		harts[i].ipc_fast_fn[1] = mode & IPC_FAST_REPLY_RECV ?
			ipc_fast_reply_recv : ipc_fast_none;
	}
}

void ipc_fast_call(long handle, unsigned long info, unsigned long w0,
		   unsigned long w1, unsigned long w2, unsigned long w3,
		   unsigned long timeout, struct trap_frame *tf)
{
	const struct fast_msg m = { info, { w0, w1, w2, w3 }, timeout };
	struct hart *h = this_hart();

	fast_call(h, h->current, handle, &m, tf);
}

void ipc_fast_reply_recv(long handle, unsigned long info, unsigned long w0,
			 unsigned long w1, unsigned long w2, unsigned long w3,
			 unsigned long timeout, struct trap_frame *tf)
{
	const struct fast_msg m = { info, { w0, w1, w2, w3 }, timeout };
	struct hart *h = this_hart();

	fast_reply_recv(h, h->current, handle, &m, tf);
}

void ipc_park_resume(struct trap_frame *tf)
{
	struct thread *self = thread_current();
	struct endpoint *ep = self->ipc.park_ep;
	struct proc *p = self->proc;
	int res;

	/* Woken other than by the partner's fast path: the general path's
	 * wait, under the lock (a waker may still be at work under it). */
	arch_irq_enable();
	spin_lock(&ep->lock);
	res = ipc_wait_locked(self, &ep->lock, 0, NULL);
	spin_unlock(&ep->lock);
	if (self->ipc.park_recv)
		kobj_put(&ep->obj);	/* the receive's (a call's is the
					 * cache's) */
	tf->sepc += 4;
	if (!res) {
		struct ipc_msg m = self->ipc.msg;

		ipc_got_msg(p, tf, &m);
		if (self->ipc.park_recv)
			tf->a6 = self->ipc.sender;
	}
	tf->a0 = (unsigned long)(long)res;
	self->ipc.park_ep = NULL;
	arch_irq_disable();
	sched_preempt_point();
	proc_leave_if_exiting(p);
}
