/*
 * syscall.c - the handle and IPC system calls (abi/syscall.h, docs/abi.md)
 *
 * Every call looks its handles up first (taking a reference each), checks
 * type and rights, and puts the references at the end: a handle closed by
 * another thread meanwhile cannot free an object under a call using it.
 */
#include <kern/ipc.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/proc.h>
#include <kern/thread.h>
#include <abi/syscall.h>
#include <arch/trap.h>
#include "ipc_internal.h"

#define EP_RIGHTS	(HANDLE_R_SEND | HANDLE_R_RECV | HANDLE_R_GRANT | \
			 HANDLE_R_DUP)
#define NOTIFY_RIGHTS	(HANDLE_R_SIGNAL | HANDLE_R_WAIT | HANDLE_R_GRANT | \
			 HANDLE_R_DUP)

/* Timeout in ns (0: forever, IPC_POLL: none) to a deadline. Whole
 * seconds and the rest apart, so nothing overflows below 2^62 ns: ns /
 * 1000 * hz did from about 21 days (1.8e15 ns at 10 MHz), and such a
 * timeout ended at the next tick. */
static uint64_t deadline_of(unsigned long ns)
{
	uint64_t hz = arch_time_hz(), ticks;

	if (ns == 0)
		return 0;
	if (ns == IPC_POLL)
		return IPC_NO_WAIT;
	if (ns >= (1UL << 62))
		return 0;			/* longer than any uptime */
	ticks = ns / 1000000000UL * hz +
		(ns % 1000000000UL * hz + 999999999UL) / 1000000000UL;
	return arch_time() + ticks + 1;		/* at least that long */
}

/* Look up @h with type @type and every right in @need. */
static long get(struct proc *p, long h, unsigned int type, unsigned int need,
		struct kobj **obj, unsigned int *rights)
{
	unsigned int r;
	int err = handle_get(&p->handles, h, type, obj, &r);

	if (err)
		return err;
	if ((r & need) != need) {
		kobj_put(*obj);
		return -E_PERM;
	}
	if (rights)
		*rights = r;
	return 0;
}

/* The handle a message carries in w3 (IPC_INFO_HANDLE): its object with
 * the rights kept, counted as a receiver while in flight. */
static long take_xfer(struct proc *p, unsigned long info, unsigned long h,
		      struct kobj **obj, unsigned int *rights)
{
	unsigned int r;
	long err;

	*obj = NULL;
	*rights = 0;
	if (!(info & IPC_INFO_HANDLE))
		return 0;
	err = get(p, (long)h, 0, HANDLE_R_GRANT, obj, &r);
	if (err)
		return err;
	*rights = r & IPC_INFO_RIGHTS(info);	/* reduced, never raised */
	if ((*obj)->type == KOBJ_ENDPOINT && (*rights & HANDLE_R_RECV))
		endpoint_receiver(*obj, 1);
	return 0;
}

/* A message arrived for this thread: registers, and its handle if any. */
void ipc_got_msg(struct proc *p, struct trap_frame *tf,
		 const struct ipc_msg *m)
{
	struct thread *t = thread_current();
	unsigned long info = m->info, w3 = m->w[3];
	struct kobj *obj = t->ipc.xfer_obj;

	if (t->ipc.page) {		/* pages are for pager faults only */
		as_put_user_page(t->ipc.page);
		t->ipc.page = NULL;
	}
	if (obj) {
		unsigned int rights = t->ipc.xfer_rights;
		int h = handle_install(&p->handles, obj, rights);

		t->ipc.xfer_obj = NULL;
		ipc_xfer_drop(obj, rights);	/* the table has its own */
		if (h > 0) {
			w3 = (unsigned long)h;
		} else {
			info &= ~(unsigned long)IPC_INFO_HANDLE;
			info |= IPC_INFO_HANDLE_DROPPED;
		}
	}
	tf->a1 = info;
	tf->a2 = m->w[0];
	tf->a3 = m->w[1];
	tf->a4 = m->w[2];
	tf->a5 = w3;
}

static long create(struct proc *p, struct kobj *obj, unsigned int rights)
{
	long h;

	if (!obj)
		return -E_NOMEM;
	h = handle_install(&p->handles, obj, rights);
	kobj_put(obj);		/* the handle holds it now, or nobody */
	return h;
}

static long do_call(struct proc *p, struct trap_frame *tf)
{
	struct ipc_msg m = { tf->a1, { tf->a2, tf->a3, tf->a4, tf->a5 } };
	struct kobj *ep, *x;
	unsigned int xr;
	long err;

	err = get(p, (long)tf->a0, KOBJ_ENDPOINT, HANDLE_R_SEND, &ep, NULL);
	if (err)
		return err;
	err = take_xfer(p, m.info, m.w[3], &x, &xr);
	if (!err)
		err = ipc_call(ep, &m, x, xr, deadline_of(tf->a6));
	kobj_put(ep);
	if (!err)
		ipc_got_msg(p, tf, &m);
	return err;
}

static long do_recv(struct proc *p, struct trap_frame *tf, long h,
		    unsigned long timeout)
{
	struct ipc_msg m;
	unsigned long sender;
	struct kobj *ep;
	long err;

	err = get(p, h, KOBJ_ENDPOINT, HANDLE_R_RECV, &ep, NULL);
	if (err)
		return err;
	err = ipc_recv(ep, &m, &sender, deadline_of(timeout));
	kobj_put(ep);
	if (!err) {
		ipc_got_msg(p, tf, &m);
		tf->a6 = sender;
	}
	return err;
}

static long do_reply(struct proc *p, unsigned long info, unsigned long w0,
		     unsigned long w1, unsigned long w2, unsigned long w3)
{
	struct ipc_msg m = { info, { w0, w1, w2, w3 } };
	struct frame *page = NULL;
	struct kobj *x;
	unsigned int xr;
	long err;

	if (!thread_current()->ipc.reply_ep)
		return -E_NOENT;
	if (info & IPC_INFO_PAGE) {
		/* A pager's answer: the page at w0 of its own, made
		 * writable and exclusively its (copy-on-write broken). */
		page = as_get_user_page(p->as, ALIGN_DOWN(w0, PAGE_SIZE),
					true);
		if (!page)
			return -E_FAULT;	/* the call stays owed */
	}
	err = take_xfer(p, info, w3, &x, &xr);
	if (err) {
		if (page)
			as_put_user_page(page);
		return err;
	}
	return ipc_reply(&m, x, xr, page);
}

long ipc_syscall(struct proc *p, struct trap_frame *tf)
{
	struct kobj *obj;
	unsigned int rights;
	long err;

	switch (tf->a7) {
	case SYS_HANDLE_CLOSE:
		return handle_close(&p->handles, (long)tf->a0);
	case SYS_HANDLE_DUP:
		err = get(p, (long)tf->a0, 0, HANDLE_R_DUP, &obj, &rights);
		if (err)
			return err;
		err = handle_install(&p->handles, obj,
				     rights & (unsigned int)tf->a1);
		kobj_put(obj);
		return err;
	case SYS_HANDLE_INFO:
		err = get(p, (long)tf->a0, 0, 0, &obj, &rights);
		if (err)
			return err;
		err = (long)obj->type << 16 | rights;
		kobj_put(obj);
		return err;
	case SYS_ENDPOINT_CREATE:
		return create(p, endpoint_create(), EP_RIGHTS);
	case SYS_NOTIFY_CREATE:
		return create(p, notify_create(), NOTIFY_RIGHTS);
	case SYS_NOTIFY_SIGNAL:
		err = get(p, (long)tf->a0, KOBJ_NOTIFY, HANDLE_R_SIGNAL, &obj,
			  NULL);
		if (err)
			return err;
		err = notify_signal(obj, tf->a1);
		kobj_put(obj);
		return err;
	case SYS_NOTIFY_WAIT: {
		unsigned long bits = 0;

		err = get(p, (long)tf->a0, KOBJ_NOTIFY, HANDLE_R_WAIT, &obj,
			  NULL);
		if (err)
			return err;
		err = notify_wait(obj, &bits, deadline_of(tf->a1));
		kobj_put(obj);
		if (!err)
			tf->a1 = bits;
		return err;
	}
	case SYS_IPC_CALL:
		return do_call(p, tf);
	case SYS_IPC_RECV:
		return do_recv(p, tf, (long)tf->a0, tf->a1);
	case SYS_IPC_REPLY:
		return do_reply(p, tf->a0, tf->a1, tf->a2, tf->a3, tf->a4);
	case SYS_IPC_REPLY_RECV:
		/* A failed reply (the caller gave up) is not this call's
		 * error: the server goes on receiving. */
		if (thread_current()->ipc.reply_ep)
			do_reply(p, tf->a1, tf->a2, tf->a3, tf->a4, tf->a5);
		return do_recv(p, tf, (long)tf->a0, tf->a6);
	case SYS_IPC_BUFFER:
		return ipc_set_buffer(thread_current(), tf->a0);
	case SYS_PAGER_EVICT:
		err = get(p, (long)tf->a0, KOBJ_ENDPOINT, HANDLE_R_RECV, &obj,
			  NULL);
		if (err)
			return err;
		if (!IS_ALIGNED(tf->a2, PAGE_SIZE) || !tf->a3 ||
		    !IS_ALIGNED(tf->a3, PAGE_SIZE) || tf->a2 + tf->a3 < tf->a2)
			err = -E_INVAL;
		else
			err = pager_evict(obj, tf->a1, tf->a2, tf->a3);
		kobj_put(obj);
		return err;
	}
	return -E_NOSYS;
}

long ipc_map_pager(struct proc *p, vaddr_t *addr, size_t len,
		   unsigned int prot, long h, unsigned long key)
{
	struct kobj *ep;
	long err = get(p, h, KOBJ_ENDPOINT, HANDLE_R_SEND, &ep, NULL);

	if (err)
		return err;
	err = as_region_add_at(p->as, addr, len, prot, ep, key, MAP_BASE);
	kobj_put(ep);		/* the region holds its own */
	return err;
}
