/*
 * ipc.c - synchronous IPC on endpoints, and notifications
 *
 * A call meets a receiver on an endpoint: whichever comes first waits in
 * the endpoint's queue, the second copies the message (registers into the
 * other thread's ipc.msg, the payload from buffer page to buffer page
 * through the direct map) and pairs the two: the caller now waits for the
 * reply from that server thread. If the receiver waits on the caller's own
 * hart, the caller switches straight to it (thread_block_to); otherwise
 * the receiver's hart gets an IPI.
 *
 * Every wait is a loop under the object's lock: a thread returns when its
 * wait state is IPC_NONE (a waker completed it and set the result), or
 * cancels itself on a deadline or when its process is ending. A waker only
 * touches a waiting thread under that lock, and a waiting thread leaves
 * its wait only under it, so a thread is never woken after it is gone.
 *
 * Objects are freed only after every lock is dropped (freeing takes the
 * frame lock, which ranks below these).
 */
#include <kern/ipc.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/proc.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <abi/syscall.h>
#include <mm/as.h>
#include <mm/frame.h>
#include "ipc_internal.h"

/* ---- objects ------------------------------------------------------------ */

void kobj_put(struct kobj *o)
{
	if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
		frame_free(kva_to_frame(o));
}

static void *kobj_alloc(unsigned int type)
{
	struct frame *f = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
	struct kobj *o;

	if (!f)
		return NULL;
	o = frame_to_kva(f);
	o->type = type;
	o->refs = 1;		/* the creator's, given to its handle */
	return o;
}

struct kobj *endpoint_create(void)
{
	struct endpoint *ep = kobj_alloc(KOBJ_ENDPOINT);

	_Static_assert(sizeof(*ep) <= PAGE_SIZE, "endpoint in a frame");
	if (!ep)
		return NULL;
	spin_init(&ep->lock, LOCK_CLASS_IPC);
	return &ep->obj;
}

struct kobj *notify_create(void)
{
	struct notification *n = kobj_alloc(KOBJ_NOTIFY);

	if (!n)
		return NULL;
	spin_init(&n->lock, LOCK_CLASS_IPC);
	return &n->obj;
}

/* ---- queues ------------------------------------------------------------- */

/* ---- messages ----------------------------------------------------------- */

/* Copy @from's outgoing message to @to (both locked out of running: the
 * caller holds the lock @to waits under, and @from is the caller or is
 * queued under the same lock). */
void ipc_deliver(struct thread *from, struct thread *to)
{
	unsigned long info = from->ipc.msg.info;
	unsigned long len = IPC_INFO_LEN(info), copied = 0;

	if (len && from->ipc.buf_kva && to->ipc.buf_kva) {
		memcpy(to->ipc.buf_kva, from->ipc.buf_kva, len * 8);
		copied = len;
	}
	info = ipc_info_delivered(info, copied);
	to->ipc.xfer_obj = from->ipc.xfer_obj;
	to->ipc.xfer_rights = from->ipc.xfer_rights;
	from->ipc.xfer_obj = NULL;
	to->ipc.page = from->ipc.page;
	from->ipc.page = NULL;
	if (to->ipc.xfer_obj)
		info |= IPC_INFO_HANDLE | IPC_INFO_GRANT(to->ipc.xfer_rights);
	to->ipc.msg.info = info;
	/* Four words: by hand (the kernel is built without builtins, and a
	 * memcpy call costs more than the copy). */
	to->ipc.msg.w[0] = from->ipc.msg.w[0];
	to->ipc.msg.w[1] = from->ipc.msg.w[1];
	to->ipc.msg.w[2] = from->ipc.msg.w[2];
	to->ipc.msg.w[3] = from->ipc.msg.w[3];
	to->ipc.sender = ipc_thread_id(from);
}

void ipc_xfer_drop(struct kobj *obj, unsigned int rights)
{
	if (!obj)
		return;
	if (obj->type == KOBJ_ENDPOINT && (rights & HANDLE_R_RECV))
		endpoint_receiver(obj, -1);
	kobj_put(obj);
}

/* ---- waiting ------------------------------------------------------------ */

/* Leave a wait that did not complete (lock of the wait object held). */
static void cancel_locked(struct thread *t)
{
	switch (t->ipc.wait) {
	case IPC_WAIT_SEND: {
		struct endpoint *ep = to_ep(t->ipc.wait_obj);

		q_remove(&ep->send_head, &ep->send_tail, t);
		if (ipc_carries_self(ep, t))
			ep->self_recv--;
		break;
	}
	case IPC_WAIT_RECV: {
		struct endpoint *ep = to_ep(t->ipc.wait_obj);

		q_remove(&ep->recv_head, &ep->recv_tail, t);
		break;
	}
	case IPC_WAIT_REPLY:
		/* The server finds its reply_to gone and gets -E_PEER. */
		if (t->ipc.reply_from)
			t->ipc.reply_from->ipc.reply_to = NULL;
		t->ipc.reply_from = NULL;
		break;
	case IPC_WAIT_NOTIFY: {
		struct notification *n = to_notify(t->ipc.wait_obj);

		q_remove(&n->head, &n->tail, t);
		break;
	}
	case IPC_NONE:
		break;
	}
	t->ipc.wait = IPC_NONE;
}

/*
 * Wait (with @lock held, the thread already queued or paired) until the
 * wait completes, the deadline passes or the process ends; with @handoff,
 * switch to that thread first, or wake it if the wait ends before (its
 * wait is over: a poll, a deadline already past, a kill). Returns with
 * @lock held and the wait over. Return: the result.
 */
int ipc_wait_locked(struct thread *self, struct spinlock *lock,
		       uint64_t deadline, struct thread *handoff)
{
	int res;

	for (;;) {
		if (self->ipc.wait == IPC_NONE) {
			res = self->ipc.result;
			break;
		}
		if (ipc_interrupted(self)) {
			cancel_locked(self);
			res = -E_INTR;
			break;
		}
		if (deadline && arch_time() >= deadline) {
			cancel_locked(self);
			res = -E_TIMEDOUT;
			break;
		}
		if (handoff) {
			thread_block_to(lock, deadline, handoff);
			handoff = NULL;
		} else {
			thread_block(lock, deadline);
		}
		spin_lock(lock);
	}
	/* Ended before the switch (a kill, a deadline already past): the
	 * partner's wait is over all the same, so it must still be run, or
	 * it stays blocked for good. */
	if (handoff)
		thread_wake(handoff);
	return res;
}

/* ---- endpoints ---------------------------------------------------------- */

/*
 * Nobody can receive from @ep any more (ep locked): no receive right is
 * left but those queued callers carry to @ep itself. Nobody can ever
 * receive these calls; and nobody can call the receivers still queued
 * (their handle closed while they waited), so they would wait for ever.
 */
static void endpoint_flush_if_dead_locked(struct endpoint *ep)
{
	struct thread *t;

	if (ep->receivers != ep->self_recv)
		return;
	while ((t = q_pop(&ep->send_head, &ep->send_tail)) ||
	       (t = q_pop(&ep->recv_head, &ep->recv_tail))) {
		if (ipc_carries_self(ep, t))
			ep->self_recv--;
		ipc_complete(t, -E_PEER);
		if (t != thread_current())	/* a caller that just queued */
			thread_wake(t);
	}
}

void endpoint_receiver(struct kobj *o, int delta)
{
	struct endpoint *ep = to_ep(o);

	spin_lock(&ep->lock);
	ep->receivers += delta;
	endpoint_flush_if_dead_locked(ep);
	spin_unlock(&ep->lock);
}

/* An idle receiver of @ep, preferring one blocked on this hart (the
 * call then switches straight to it), else the longest waiting. */
struct thread *ipc_pick_receiver(struct endpoint *ep)
{
	struct thread *t = ipc_receiver_on(ep, hart_self());

	if (t) {
		q_remove(&ep->recv_head, &ep->recv_tail, t);
		return t;
	}
	return q_pop(&ep->recv_head, &ep->recv_tail);
}

/* Pair server @s with caller @c on @ep: @s owes @c a reply (ep locked). */
void ipc_pair(struct endpoint *ep, struct thread *s, struct thread *c)
{
	kobj_get(&ep->obj);
	s->ipc.reply_to = c;
	s->ipc.reply_ep = ep;
	c->ipc.reply_from = s;
	c->ipc.wait = IPC_WAIT_REPLY;
	c->ipc.wait_obj = &ep->obj;
}

int ipc_call(struct kobj *o, struct ipc_msg *msg, struct kobj *xfer,
	     unsigned int xfer_rights, uint64_t deadline)
{
	struct endpoint *ep = to_ep(o);
	struct thread *self = thread_current(), *s;
	unsigned long len = IPC_INFO_LEN(msg->info);
	int res;

	if (len > IPC_BUF_WORDS || (len && !self->ipc.buf_kva)) {
		ipc_xfer_drop(xfer, xfer_rights);
		return -E_MSGSIZE;
	}
	self->ipc.msg = *msg;
	self->ipc.xfer_obj = xfer;
	self->ipc.xfer_rights = xfer_rights;
	spin_lock(&ep->lock);
	if (!ep->receivers) {
		res = -E_PEER;
	} else if (ipc_interrupted(self)) {
		res = -E_INTR;
	} else if ((s = ipc_pick_receiver(ep))) {
		/* A server waits: hand it the message and run it. Its wait
		 * ends last, when its pairing is written too. */
		ipc_deliver(self, s);
		ipc_pair(ep, s, self);
		ipc_complete(s, 0);
		/* A poll only does not wait for a server: one that has the
		 * call now is waited for like any other. */
		res = ipc_wait_locked(self, &ep->lock,
				      deadline == IPC_NO_WAIT ? 0 : deadline, s);
	} else if (deadline == IPC_NO_WAIT) {
		res = -E_TIMEDOUT;
	} else {
		self->ipc.wait = IPC_WAIT_SEND;
		self->ipc.wait_obj = o;
		q_push(&ep->send_head, &ep->send_tail, self);
		/* A call carrying the only receive right left to this very
		 * endpoint would wait for ever (and keep it alive): it, and
		 * the others queued, fail now. */
		if (ipc_carries_self(ep, self)) {
			ep->self_recv++;
			endpoint_flush_if_dead_locked(ep);
		}
		res = ipc_wait_locked(self, &ep->lock, deadline, NULL);
	}
	if (!res)
		*msg = self->ipc.msg;
	xfer = self->ipc.xfer_obj;	/* ours if never delivered */
	xfer_rights = self->ipc.xfer_rights;
	if (res)
		self->ipc.xfer_obj = NULL;
	spin_unlock(&ep->lock);
	if (res)
		ipc_xfer_drop(xfer, xfer_rights);
	return res;
}

/* Give up the call this thread owes a reply, failing its caller. */
static void drop_reply(struct thread *self, int result)
{
	struct endpoint *ep = self->ipc.reply_ep;
	struct thread *c;

	if (!ep)
		return;
	spin_lock(&ep->lock);
	c = self->ipc.reply_to;
	if (c) {
		c->ipc.reply_from = NULL;
		ipc_complete(c, result);
		thread_wake(c);
	}
	self->ipc.reply_to = NULL;
	self->ipc.reply_ep = NULL;
	spin_unlock(&ep->lock);
	kobj_put(&ep->obj);
}

int ipc_recv(struct kobj *o, struct ipc_msg *msg, unsigned long *sender,
	     uint64_t deadline)
{
	struct endpoint *ep = to_ep(o);
	struct thread *self = thread_current(), *c;
	int res;

	drop_reply(self, -E_PEER);	/* one owed reply at a time */
	spin_lock(&ep->lock);
	if (ipc_interrupted(self)) {
		res = -E_INTR;
	} else if (!ep->receivers) {
		res = -E_PEER;		/* our handle closed meanwhile */
	} else if ((c = q_pop(&ep->send_head, &ep->send_tail))) {
		if (ipc_carries_self(ep, c))
			ep->self_recv--;
		ipc_deliver(c, self);
		ipc_pair(ep, self, c);	/* @c stays blocked, now on the reply */
		res = 0;
	} else if (deadline == IPC_NO_WAIT) {
		res = -E_TIMEDOUT;
	} else {
		self->ipc.wait = IPC_WAIT_RECV;
		self->ipc.wait_obj = o;
		q_push(&ep->recv_head, &ep->recv_tail, self);
		res = ipc_wait_locked(self, &ep->lock, deadline, NULL);
	}
	if (!res) {
		*msg = self->ipc.msg;
		*sender = self->ipc.sender;
	}
	spin_unlock(&ep->lock);
	return res;
}

/* A page that travelled with a reply and found no taker. */
static void page_drop(struct frame *page)
{
	if (page)
		as_put_user_page(page);
}

int ipc_reply(const struct ipc_msg *msg, struct kobj *xfer,
	      unsigned int xfer_rights, struct frame *page)
{
	struct thread *self = thread_current(), *c;
	struct endpoint *ep = self->ipc.reply_ep;
	unsigned long len = IPC_INFO_LEN(msg->info);

	if (!ep) {
		ipc_xfer_drop(xfer, xfer_rights);
		page_drop(page);
		return -E_NOENT;
	}
	if (len > IPC_BUF_WORDS || (len && !self->ipc.buf_kva)) {
		ipc_xfer_drop(xfer, xfer_rights);
		page_drop(page);
		return -E_MSGSIZE;	/* the call stays owed */
	}
	spin_lock(&ep->lock);
	c = self->ipc.reply_to;
	self->ipc.reply_to = NULL;
	self->ipc.reply_ep = NULL;
	if (c) {
		self->ipc.msg = *msg;
		self->ipc.xfer_obj = xfer;
		self->ipc.xfer_rights = xfer_rights;
		self->ipc.page = page;
		ipc_deliver(self, c);
		c->ipc.reply_from = NULL;
		ipc_complete(c, 0);
		thread_wake(c);		/* under the lock: @c cannot be gone */
		xfer = NULL;
		page = NULL;
	}
	spin_unlock(&ep->lock);
	kobj_put(&ep->obj);
	ipc_xfer_drop(xfer, xfer_rights);
	page_drop(page);
	return c ? 0 : -E_PEER;
}

/* ---- notifications ------------------------------------------------------ */

int notify_signal(struct kobj *o, unsigned long bits)
{
	struct notification *n = to_notify(o);
	struct thread *t;

	spin_lock(&n->lock);
	n->bits |= bits;
	if (n->bits && (t = q_pop(&n->head, &n->tail))) {
		t->ipc.bits = n->bits;
		n->bits = 0;
		ipc_complete(t, 0);
		thread_wake(t);
	}
	spin_unlock(&n->lock);
	return 0;
}

int notify_wait(struct kobj *o, unsigned long *bits, uint64_t deadline)
{
	struct notification *n = to_notify(o);
	struct thread *self = thread_current();
	int res;

	spin_lock(&n->lock);
	if (n->bits) {
		*bits = n->bits;
		n->bits = 0;
		spin_unlock(&n->lock);
		return 0;
	}
	if (ipc_interrupted(self)) {
		res = -E_INTR;
	} else if (deadline == IPC_NO_WAIT) {
		res = -E_TIMEDOUT;
	} else {
		self->ipc.wait = IPC_WAIT_NOTIFY;
		self->ipc.wait_obj = o;
		q_push(&n->head, &n->tail, self);
		res = ipc_wait_locked(self, &n->lock, deadline, NULL);
	}
	if (!res)
		*bits = self->ipc.bits;
	spin_unlock(&n->lock);
	return res;
}

/* ---- threads ------------------------------------------------------------ */

int ipc_set_buffer(struct thread *t, vaddr_t va)
{
	struct frame *f = NULL, *old;

	if (va) {
		if (!IS_ALIGNED(va, PAGE_SIZE) || va >= AS_USER_TOP || !t->as)
			return -E_INVAL;
		f = as_get_user_page(t->as, va, true);
		if (!f)
			return -E_FAULT;
	}
	/* Only this thread reads its buffer fields: a sender copies into
	 * them only while this thread is blocked. */
	old = t->ipc.buf;
	t->ipc.buf = f;
	t->ipc.buf_kva = f ? frame_to_kva(f) : NULL;
	if (old)
		as_put_user_page(old);
	return 0;
}

void ipc_thread_exit(struct thread *t)
{
	drop_reply(t, -E_PEER);
	if (t->ipc.call_ep) {
		kobj_put(&t->ipc.call_ep->obj);
		t->ipc.call_ep = NULL;
	}
	ipc_xfer_drop(t->ipc.xfer_obj, t->ipc.xfer_rights);
	t->ipc.xfer_obj = NULL;
	page_drop(t->ipc.page);
	t->ipc.page = NULL;
	ipc_set_buffer(t, 0);
}

void ipc_interrupt(struct thread *t)
{
	__atomic_store_n(&t->ipc.interrupted, true, __ATOMIC_SEQ_CST);
	thread_wake(t);
}

/* ---- pagers ------------------------------------------------------------- */

/* Regions backed by an endpoint hold a reference each, and the endpoint
 * keeps the address spaces they are in, for eviction. */
int as_pager_ref(void *pager, struct as *as, int delta)
{
	struct kobj *o = pager;
	struct endpoint *ep = to_ep(o);
	int err = 0, free = -1, i;

	if (!as) {
		if (delta > 0)
			kobj_get(o);
		else
			kobj_put(o);
		return 0;
	}
	spin_lock(&ep->lock);
	for (i = 0; i < EP_CLIENTS; i++) {
		if (ep->clients[i].as == as)
			break;
		if (!ep->clients[i].as && free < 0)
			free = i;
	}
	if (delta > 0) {
		if (i == EP_CLIENTS && free < 0) {
			err = -E_NOMEM;
		} else {
			if (i == EP_CLIENTS) {
				i = free;
				ep->clients[i].as = as;
			}
			ep->clients[i].regions++;
			kobj_get(o);
		}
	} else if (i < EP_CLIENTS && --ep->clients[i].regions == 0) {
		ep->clients[i].as = NULL;
	}
	spin_unlock(&ep->lock);
	if (delta < 0)
		kobj_put(o);
	return err;
}

long pager_evict(struct kobj *o, unsigned long key, unsigned long off,
		 unsigned long len)
{
	struct endpoint *ep = to_ep(o);
	struct as *list[EP_CLIENTS];
	long total = 0;
	int n = 0;

	spin_lock(&ep->lock);
	for (int i = 0; i < EP_CLIENTS; i++)
		if (ep->clients[i].as) {
			as_pin(ep->clients[i].as);
			list[n++] = ep->clients[i].as;
		}
	spin_unlock(&ep->lock);
	for (int i = 0; i < n; i++) {
		long r = as_pager_evict(list[i], o, key, off, len);

		if (r > 0)
			total += r;
		as_unpin(list[i]);
	}
	return total;
}

int pager_fault(struct as *as, const struct as_fault_info *pf,
		enum as_access access)
{
	static const unsigned long code[] = {
		[AS_ACCESS_READ] = PAGER_READ,
		[AS_ACCESS_WRITE] = PAGER_WRITE,
		[AS_ACCESS_EXEC] = PAGER_EXEC,
	};
	struct thread *self = thread_current();
	struct ipc_msg m = { IPC_INFO(PAGER_FAULT, 0, 0),
			     { pf->key, pf->offset, code[access], 0 } };
	struct frame *page;
	int err = ipc_call(pf->pager, &m, NULL, 0, 0);

	page = self->ipc.page;
	self->ipc.page = NULL;
	ipc_xfer_drop(self->ipc.xfer_obj, self->ipc.xfer_rights);
	self->ipc.xfer_obj = NULL;
	if (!err && (!(m.info & IPC_INFO_PAGE) || !page))
		err = -E_NOENT;		/* answered without a page */
	if (err) {
		page_drop(page);
		return err;
	}
	err = as_install_pager_page(as, page, pf);
	if (err)
		page_drop(page);
	return err == -E_EXIST ? 0 : err;
}
