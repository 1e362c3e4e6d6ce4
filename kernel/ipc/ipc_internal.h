#pragma once
/*
 * ipc_internal.h - what the files of kernel/ipc share and nothing else
 * sees: the endpoint and notification objects, their queues, and the
 * steps of a message transfer that ipc.c and the fast path (fastpath.c)
 * both use. Locking as documented in kern/ipc.h.
 */
#include <kern/ipc.h>
#include <kern/proc.h>
#include <kern/thread.h>

#define EP_CLIENTS	64	/* address spaces with regions it pages */

struct endpoint {
	struct kobj obj;
	struct spinlock lock;
	struct thread *send_head, *send_tail;	/* callers not yet received */
	struct thread *recv_head, *recv_tail;	/* idle receivers */
	unsigned int receivers;
	unsigned int self_recv;		/* queued calls carrying our RECV */
	struct {
		struct as *as;
		unsigned int regions;		/* of @as backed by us */
	} clients[EP_CLIENTS];
};

struct notification {
	struct kobj obj;
	struct spinlock lock;
	unsigned long bits;
	struct thread *head, *tail;		/* waiters */
};

#define to_ep(o)	container_of(o, struct endpoint, obj)
#define to_notify(o)	container_of(o, struct notification, obj)

/* ---- queues (lock of the object they hang on held) ------------------ */

static inline void q_push(struct thread **head, struct thread **tail,
			  struct thread *t)
{
	t->ipc.next = NULL;
	if (*tail)
		(*tail)->ipc.next = t;
	else
		*head = t;
	*tail = t;
}

static inline struct thread *q_pop(struct thread **head,
				    struct thread **tail)
{
	struct thread *t = *head;

	if (t) {
		*head = t->ipc.next;
		if (!*head)
			*tail = NULL;
		t->ipc.next = NULL;
	}
	return t;
}

static inline void q_remove(struct thread **head, struct thread **tail,
			    struct thread *t)
{
	struct thread *prev = NULL;

	for (struct thread *c = *head; c; prev = c, c = c->ipc.next) {
		if (c != t)
			continue;
		if (prev)
			prev->ipc.next = c->ipc.next;
		else
			*head = c->ipc.next;
		if (*tail == c)
			*tail = prev;
		c->ipc.next = NULL;
		return;
	}
}

/* ---- waits and transfers ----------------------------------------------- */

/* Does @t's message carry a receive right to @ep itself? (ep locked, @t
 * in or going into its send queue.) */
static inline bool ipc_carries_self(const struct endpoint *ep,
				    const struct thread *t)
{
	return t->ipc.xfer_obj == &ep->obj &&
	       (t->ipc.xfer_rights & HANDLE_R_RECV);
}

/* Finish @t's wait with @result (lock of its wait object held). */
static inline void ipc_complete(struct thread *t, int result)
{
	t->ipc.result = result;
	t->ipc.wait = IPC_NONE;
}

static inline bool ipc_interrupted(struct thread *t)
{
	return __atomic_load_n(&t->ipc.interrupted, __ATOMIC_SEQ_CST);
}

/* A sender's id as a receiver sees it: pid << 32 | tid. */
static inline unsigned long ipc_thread_id(const struct thread *t)
{
	unsigned long pid = t->proc ? (unsigned long)t->proc->pid : 0;

	return pid << 32 | t->tid;
}

/* The info word a message sent with @info arrives with, @copied payload
 * words having arrived: what the kernel sets, cleared of the sender's. */
static inline unsigned long ipc_info_delivered(unsigned long info,
					       unsigned long copied)
{
	return (info & ~(0x3ffUL | IPC_INFO_HANDLE | IPC_INFO_HANDLE_DROPPED |
			 IPC_INFO_GRANT(0xff))) | copied;
}

/* Copy @from's outgoing message to @to (both kept from running: the
 * caller holds the lock @to waits under, and @from is the caller or is
 * queued under the same lock). */
void ipc_deliver(struct thread *from, struct thread *to);
/* Wait (the thread queued or paired, @lock held) until the wait
 * completes, the deadline passes or the process ends; with @handoff,
 * switch straight to that thread first (or, if the wait ends before
 * that, wake it: its own wait is over). Returns with @lock held: the
 * result. */
int ipc_wait_locked(struct thread *self, struct spinlock *lock,
		    uint64_t deadline, struct thread *handoff);
/* An idle receiver of @ep, dequeued (ep locked), or NULL. */
struct thread *ipc_pick_receiver(struct endpoint *ep);

/* The first idle receiver of @ep blocked on hart @hart (ep locked), left
 * queued, or NULL: the one a call from that hart can switch straight to. */
static inline struct thread *ipc_receiver_on(struct endpoint *ep,
					     unsigned int hart)
{
	for (struct thread *t = ep->recv_head; t; t = t->ipc.next)
		if (t->hart == hart)
			return t;
	return NULL;
}
/* Pair server @s with caller @c on @ep: @s owes @c a reply (ep locked;
 * takes a reference on @ep for @s's reply_ep). */
void ipc_pair(struct endpoint *ep, struct thread *s, struct thread *c);

/* A message arrived for this thread (syscall.c): into the registers of
 * @tf, with its handle installed in @p's table if it carries one. */
void ipc_got_msg(struct proc *p, struct trap_frame *tf,
		 const struct ipc_msg *m);
