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
 * each side hands its message over under the endpoint lock and switches
 * straight to the partner (ipc_wait_locked with a handoff; the scheduler
 * declines the switch, and queues the partner, when other threads wait
 * for this hart). The partner returns to user mode from where it blocked.
 * The general path (syscall.c, ipc.c) does the same work in more steps:
 * it dispatches twice, takes and drops an object reference per handle,
 * and its server wakes the caller and then blocks instead of switching
 * to it.
 *
 * Everything else goes the general way: a partner on another hart (an IPI
 * either way; the switch saved here is not the cost there), callers
 * queued, handles, pages, timeouts, errors. The fast path changes nothing
 * before its conditions hold: it returns false and the general path does
 * the whole call. Once it has delivered, the wait is the general path's
 * own code (ipc_wait_locked), so a kill or an early wake-up is handled
 * the one way.
 *
 * ipcfast=off|call|reply|on (boot option, default on) selects which calls
 * may take it, to measure both paths in one build (docs/performance.md).
 */
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/proc.h>
#include <kern/spinlock.h>
#include <abi/syscall.h>
#include <arch/trap.h>
#include "ipc_internal.h"

/* One more call done here (under the endpoint lock, so interrupts are
 * off: this hart's own counter; relaxed atomics so that SYS_STATS on
 * another hart reads whole values). */
static void fast_count(void)
{
	struct hart *h = this_hart();

	__atomic_store_n(&h->ipc_fast,
			 __atomic_load_n(&h->ipc_fast, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

/* A message of @info the fast path can carry for @self. */
static bool fast_msg_ok(struct thread *self, unsigned long info)
{
	unsigned long len = IPC_INFO_LEN(info);

	if (info & (IPC_INFO_HANDLE | IPC_INFO_PAGE))
		return false;
	return len == 0 || (len <= IPC_BUF_WORDS && self->ipc.buf_kva);
}

/* The endpoint @h names in @p with @right, with a new reference, or
 * NULL. */
static struct endpoint *fast_lookup(struct proc *p, long h,
				    unsigned int right)
{
	struct kobj *o = handle_peek(&p->handles, h, KOBJ_ENDPOINT, right);

	return o ? to_ep(o) : NULL;
}

/* The message in a1..a5 of @tf, as @self's outgoing one. */
static void fast_take_msg(struct thread *self, const struct trap_frame *tf)
{
	self->ipc.msg.info = tf->a1;
	self->ipc.msg.w[0] = tf->a2;
	self->ipc.msg.w[1] = tf->a3;
	self->ipc.msg.w[2] = tf->a4;
	self->ipc.msg.w[3] = tf->a5;
}

/*
 * Wait for the partner to end this thread's wait, switching to @next
 * first (ep locked, just checked not interrupted; the block releases the
 * lock). Return: the result.
 *
 * In general a wait is seen over only under the endpoint lock: the
 * partner may still be waking this thread under it, and must not find it
 * gone (see ipc.c). One case needs no lock: the partner completed the
 * wait and then switched straight to this thread on this hart
 * (thread_block_to says so). It is switched out now and touches this
 * thread no more, and what it wrote was written on this hart before.
 */
static int fast_wait(struct thread *self, struct endpoint *ep,
		     struct thread *next)
{
	int res;

	if (thread_block_to(&ep->lock, 0, next) &&
	    self->ipc.wait == IPC_NONE)
		return self->ipc.result;
	spin_lock(&ep->lock);
	res = ipc_wait_locked(self, &ep->lock, 0, NULL);
	spin_unlock(&ep->lock);
	return res;
}

/* The message delivered to @self into a1..a5 of @tf. */
static void fast_give_msg(struct proc *p, struct thread *self,
			  struct trap_frame *tf)
{
	if (unlikely(self->ipc.xfer_obj || self->ipc.page)) {
		/* The partner took the general path and sent a handle. */
		struct ipc_msg m = self->ipc.msg;

		ipc_got_msg(p, tf, &m);
		return;
	}
	tf->a1 = self->ipc.msg.info;
	tf->a2 = self->ipc.msg.w[0];
	tf->a3 = self->ipc.msg.w[1];
	tf->a4 = self->ipc.msg.w[2];
	tf->a5 = self->ipc.msg.w[3];
}

/* A receiver of @ep blocked on this hart, dequeued (ep locked), or NULL:
 * the fast path only switches straight to its partner. */
static struct thread *fast_receiver(struct endpoint *ep)
{
	unsigned int me = hart_self();

	for (struct thread *t = ep->recv_head; t; t = t->ipc.next)
		if (t->hart == me) {
			q_remove(&ep->recv_head, &ep->recv_tail, t);
			return t;
		}
	return NULL;
}

/* SYS_IPC_CALL(a0 = endpoint, a1..a5 = message, a6 = timeout). */
static bool fast_call(struct proc *p, struct thread *self,
		      struct trap_frame *tf)
{
	struct endpoint *ep;
	struct thread *s;
	int res;

	if (tf->a6 != 0 || !fast_msg_ok(self, tf->a1) ||
	    self->ipc.xfer_obj || self->ipc.page)
		return false;
	ep = fast_lookup(p, (long)tf->a0, HANDLE_R_SEND);
	if (!ep)
		return false;
	spin_lock(&ep->lock);
	s = ep->receivers && !ipc_interrupted(self) ? fast_receiver(ep) : NULL;
	if (!s) {
		spin_unlock(&ep->lock);
		kobj_put(&ep->obj);
		return false;
	}
	fast_count();
	fast_take_msg(self, tf);
	ipc_deliver(self, s);
	ipc_pair(ep, s, self);
	ipc_complete(s, 0);
	res = fast_wait(self, ep, s);
	kobj_put(&ep->obj);
	tf->sepc += 4;
	if (!res)
		fast_give_msg(p, self, tf);
	tf->a0 = (unsigned long)(long)res;
	return true;
}

/*
 * SYS_IPC_REPLY_RECV(a0 = endpoint, a1..a5 = reply, a6 = timeout), when
 * the call owed came through the same endpoint from a caller on this hart
 * and nobody else calls: reply, queue as a receiver, and switch to the
 * caller just answered.
 */
static bool fast_reply_recv(struct proc *p, struct thread *self,
			    struct trap_frame *tf)
{
	struct endpoint *ep = self->ipc.reply_ep;
	struct thread *c;
	int res;

	if (!ep || tf->a6 != 0 || !fast_msg_ok(self, tf->a1) ||
	    self->ipc.xfer_obj || self->ipc.page)
		return false;
	/* The reference reply_ep holds keeps @ep alive meanwhile (so the
	 * handle is checked without the table's lock); from the reply on it
	 * serves as this call's reference. */
	if (!handle_names(&p->handles, (long)tf->a0, &ep->obj, HANDLE_R_RECV))
		return false;
	spin_lock(&ep->lock);
	c = self->ipc.reply_to;
	if (!c || c->hart != hart_self() || ep->send_head ||
	    ipc_interrupted(self)) {
		spin_unlock(&ep->lock);
		return false;
	}
	fast_count();
	/* The reply. */
	self->ipc.reply_to = NULL;
	self->ipc.reply_ep = NULL;
	fast_take_msg(self, tf);
	ipc_deliver(self, c);
	c->ipc.reply_from = NULL;
	ipc_complete(c, 0);
	/* The receive: nobody else calls, so wait for the next call. */
	self->ipc.wait = IPC_WAIT_RECV;
	self->ipc.wait_obj = &ep->obj;
	q_push(&ep->recv_head, &ep->recv_tail, self);
	res = fast_wait(self, ep, c);
	kobj_put(&ep->obj);
	tf->sepc += 4;
	if (!res) {
		fast_give_msg(p, self, tf);
		tf->a6 = self->ipc.sender;
	}
	tf->a0 = (unsigned long)(long)res;
	return true;
}

unsigned int ipc_fast_mode = IPC_FAST_CALL | IPC_FAST_REPLY_RECV;

bool ipc_fastpath(struct proc *p, struct trap_frame *tf)
{
	if (tf->a7 == SYS_IPC_CALL && (ipc_fast_mode & IPC_FAST_CALL))
		return fast_call(p, thread_current(), tf);
	if (tf->a7 == SYS_IPC_REPLY_RECV &&
	    (ipc_fast_mode & IPC_FAST_REPLY_RECV))
		return fast_reply_recv(p, thread_current(), tf);
	return false;
}
