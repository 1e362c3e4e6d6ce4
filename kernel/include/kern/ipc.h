#pragma once
/*
 * ipc.h - kernel objects, handle tables, endpoints and notifications
 *
 * Objects (struct kobj) are reference counted: every handle holds one,
 * every system call holds one from the handle lookup to its end (the fast
 * path's call uses the one of the thread's call cache, call_ep), a thread
 * owing a reply holds one on the endpoint it received from, and a thread
 * holds one on the endpoint it last called by the fast path. The last put
 * frees the object.
 *
 * A process's handle table maps handle values to (object, rights). A
 * handle value is (generation << 8) | (slot + 1): a closed slot's next
 * handle has another generation, so a stale value stays invalid.
 *
 * struct handle_table
 *
 * Locking:
 *   lock       rank 66 (handle): slots, gens, closed. Objects are put
 *              only after it is dropped (freeing one takes lower locks).
 *   seq        a sequence count: writers (holding lock) make it odd
 *              before they change a slot or closed, with relaxed atomic
 *              stores, and even again after (release). handle_names
 *              reads a slot without the lock and keeps what it read only
 *              if seq was even and the same before and after; a
 *              handle_memo keeps a seq it saw that way.
 *
 * struct endpoint
 *
 * Locking:
 *   lock       rank 64 (ipc): the queues, receivers, the ipc state of
 *              every thread queued on it, and the reply pairing (a
 *              caller's reply_from and the server's reply_to) of every
 *              call received from it.
 *   receivers  handles with HANDLE_R_RECV, and such rights in flight in
 *              messages (under lock). At zero nobody can ever receive
 *              again: queued and later calls, queued receivers and later
 *              receives fail with -E_PEER.
 *   self_recv  callers in the send queue whose message carries a
 *              receive right to this endpoint itself (under lock): only
 *              a receiver here could take them out, so when receivers
 *              counts nothing else, nobody ever will, and it is as at
 *              zero. (A cycle through two endpoints is not seen.)
 *
 * struct notification
 *
 * Locking: lock (rank 64, ipc): bits and the waiter queue.
 *
 * struct thread_ipc (in struct thread)
 *
 * Locking: the lock of the object the thread waits on (wait_obj) for
 * wait, next, result, and the message fields while queued; reply_to,
 * reply_ep, reply_from under the lock of the endpoint the call came
 * through; buf, buf_kva the thread itself.
 */
#include <kern/types.h>
#include <kern/spinlock_types.h>
#include <mm/as.h>

struct thread;
struct proc;
struct frame;
struct as;

enum kobj_type {
	KOBJ_ENDPOINT = 1,	/* = HANDLE_T_ENDPOINT */
	KOBJ_NOTIFY = 2,	/* = HANDLE_T_NOTIFY */
	KOBJ_DEVICE = 3,	/* = HANDLE_T_DEVICE */
};

struct kobj {
	unsigned int type;	/* enum kobj_type, immutable */
	unsigned int refs;	/* atomic */
};

#define HANDLE_MAX	128	/* handles per process */

struct handle_table {
	struct spinlock lock;
	unsigned long seq;	/* odd while a slot or closed changes */
	bool closed;		/* the process ended: no lookups */
	unsigned int count;	/* handles in use */
	struct {
		struct kobj *obj;	/* NULL: free */
		unsigned int rights;
		unsigned int gen;
	} slot[HANDLE_MAX];
};

/*
 * struct handle_memo - a handle that handle_names found to name an object
 * (with the rights its one user needs), and the table's seq then. Every
 * change of a slot moves seq, and 64 bits never come round again: while
 * seq is still there, the handle still names the object, and the check
 * is one load (handle_names_memo, kern/handle.h). Owner: the thread
 * whose thread_ipc holds it.
 */
struct handle_memo {
	const struct kobj *obj;
	long h;
	unsigned long seq;
};

enum ipc_wait {
	IPC_NONE = 0,
	IPC_WAIT_SEND,		/* queued on an endpoint to be received */
	IPC_WAIT_REPLY,		/* received, waiting for the reply */
	IPC_WAIT_RECV,		/* queued on an endpoint as a receiver */
	IPC_WAIT_NOTIFY,	/* queued on a notification */
};

struct ipc_msg {
	unsigned long info;
	unsigned long w[4];
};

struct thread_ipc {
	enum ipc_wait wait;
	struct kobj *wait_obj;
	struct thread *next;		/* queue link */
	int result;			/* of the wait, set by the waker */
	struct ipc_msg msg;		/* to send, or as delivered */
	unsigned long sender;		/* delivered: pid << 32 | tid */
	struct kobj *xfer_obj;		/* handle in flight with msg */
	unsigned int xfer_rights;
	unsigned long bits;		/* delivered notification bits */
	/* The call this thread owes a reply (server side). */
	struct thread *reply_to;
	struct endpoint *reply_ep;	/* holds a reference while set */
	/* The server that owes this thread a reply (caller side). */
	struct thread *reply_from;
	struct frame *page;		/* a pager's page with msg */
	struct frame *buf;		/* pinned IPC buffer, or NULL */
	unsigned long *buf_kva;
	bool interrupted;		/* atomic: its process is ending */
	/* Parked by the fast path (the thread itself, while it runs or is
	 * parked): the endpoint, with the reference the wait holds, and
	 * whether the wait is a receive (else a call's wait for its reply). */
	struct endpoint *park_ep;
	bool park_recv;
	/* The endpoint of its last fast call, with a reference of the
	 * thread's own (the thread itself; dropped at exit): the next call
	 * through a handle that still names it looks the handle up without
	 * the table's lock and takes no reference (fastpath.c). */
	struct endpoint *call_ep;
	/* The fast path's handle checks (the thread itself): the call's
	 * handle naming call_ep with HANDLE_R_SEND, the reply-and-receive's
	 * naming reply_ep with HANDLE_R_RECV. */
	struct handle_memo call_memo, recv_memo;
};

/* Handle tables. */
void handle_table_init(struct handle_table *ht);
/* Install @obj (taking a reference) with @rights. Return: handle or
 * -E_NOMEM (table full), -E_INTR (process ended). */
int handle_install(struct handle_table *ht, struct kobj *obj,
		   unsigned int rights);
/* Look @h up: the object with a new reference, and its rights.
 * Return: 0, -E_BADH, -E_TYPE (@type given and different). */
int handle_get(struct handle_table *ht, long h, unsigned int type,
	       struct kobj **obj, unsigned int *rights);
/* handle_peek and handle_names_memo (with handle_names_at under it), the
 * IPC fast path's lookups: kern/handle.h (inline). */
int handle_close(struct handle_table *ht, long h);
/* Close every handle; later lookups fail. */
void handle_table_close(struct handle_table *ht);

static inline void kobj_get(struct kobj *o)
{
	__atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
}
void kobj_put(struct kobj *o);

/* Objects. */
struct kobj *endpoint_create(void);
struct kobj *notify_create(void);
/* A handle with HANDLE_R_RECV to @ep came or went. */
void endpoint_receiver(struct kobj *ep, int delta);

/*
 * IPC operations on behalf of the calling thread. @deadline in arch_time
 * units, 0 for none, IPC_NO_WAIT to fail at once instead of waiting for a
 * partner (a call that finds a receiver waits for its answer).
 * A handle carried by a message arrives in the receiver's ipc.xfer_obj;
 * the system-call layer installs it in the receiver's table.
 */
#define IPC_NO_WAIT	1
int ipc_call(struct kobj *ep, struct ipc_msg *msg, struct kobj *xfer,
	     unsigned int xfer_rights, uint64_t deadline);
int ipc_recv(struct kobj *ep, struct ipc_msg *msg, unsigned long *sender,
	     uint64_t deadline);
/* @page: a frame reference that travels with the reply (a pager's
 * answer, IPC_INFO_PAGE), or NULL. */
int ipc_reply(const struct ipc_msg *msg, struct kobj *xfer,
	      unsigned int xfer_rights, struct frame *page);
int notify_signal(struct kobj *n, unsigned long bits);
int notify_wait(struct kobj *n, unsigned long *bits, uint64_t deadline);

/* Drop a handle's object taken for a message but not delivered. */
void ipc_xfer_drop(struct kobj *obj, unsigned int rights);

/* Make @va (page aligned, 0 for none) the calling thread's IPC buffer. */
int ipc_set_buffer(struct thread *t, vaddr_t va);
/* A user thread ends: fail the call it owes, drop its buffer. */
void ipc_thread_exit(struct thread *t);
/* Its process is ending: wake @t from any IPC wait with -E_INTR. */
void ipc_interrupt(struct thread *t);

/*
 * Pagers (the endpoint side of pager-backed regions, mm/as.h).
 * pager_fault - on behalf of the faulting thread, ask the pager for the
 *   page @pf names and map what it answers. Return: 0, -E_AGAIN (the
 *   region changed: fault again), or why the process cannot go on.
 * pager_evict - as_pager_evict in every client of @ep. Return: pages.
 */
int pager_fault(struct as *as, const struct as_fault_info *pf,
		enum as_access access);
long pager_evict(struct kobj *ep, unsigned long key, unsigned long off,
		 unsigned long len);

/* The handle and IPC system calls (SYS_HANDLE_CLOSE .. SYS_IPC_BUFFER). */
struct trap_frame;
long ipc_syscall(struct proc *p, struct trap_frame *tf);
/*
 * ipc_fast_call, ipc_fast_reply_recv - SYS_IPC_CALL, SYS_IPC_REPLY_RECV
 * in the usual case (kernel/ipc/fastpath.c), straight from entry.S with
 * interrupts off, with the system call's a0..a6 as they came and the trap
 * frame (which holds them too). Return, having changed nothing but the
 * thread's caches (and the lock statistics), when the general path is to
 * do the call; do not return when they did it. Callable from assembly
 * only, as is ipc_park_resume: fastpath.c is built not to preserve
 * s1..s11 (the Makefile).
 * ipc_park_resume - the rest of a system call whose thread the fast path
 * parked, when it resumes other than straight from its partner (switch.S).
 */
void ipc_fast_call(long handle, unsigned long info, unsigned long w0,
		   unsigned long w1, unsigned long w2, unsigned long w3,
		   unsigned long timeout, struct trap_frame *tf);
void ipc_fast_reply_recv(long handle, unsigned long info, unsigned long w0,
			 unsigned long w1, unsigned long w2, unsigned long w3,
			 unsigned long timeout, struct trap_frame *tf);
void ipc_park_resume(struct trap_frame *tf);
/* Which calls may take it: IPC_FAST_CALL | IPC_FAST_REPLY_RECV (boot
 * option ipcfast=off|call|reply|on, default on). Once, at boot, before
 * user mode: every hart's ipc_fast_fn (kern/hart.h). */
#define IPC_FAST_CALL		1U
#define IPC_FAST_REPLY_RECV	2U
void ipc_fast_set(unsigned int mode);
/* What entry.S calls instead for a call kept off the fast path: returns. */
void ipc_fast_none(long handle, unsigned long info, unsigned long w0,
		   unsigned long w1, unsigned long w2, unsigned long w3,
		   unsigned long timeout, struct trap_frame *tf);
/* Devices (kernel/ipc/device.c). */
struct dt;
struct boot_info;
void devices_init(const struct dt *dt, const struct boot_info *bi);
/* The device objects, for the first process's handle table. */
unsigned int devices_list(struct kobj *const **list);
/* A PLIC source fired: true if a user driver has it (then it stays
 * claimed until SYS_IRQ_ACK). */
bool device_irq(uint32_t src, int ctx);
/* Timer tick: signal the console server if the kernel log grew. */
void klog_tick(void);
long device_syscall(struct proc *p, struct trap_frame *tf);

/* SYS_MAP_PAGER's region, once the address is chosen. */
long ipc_map_pager(struct proc *p, vaddr_t *addr, size_t len,
		   unsigned int prot, long h, unsigned long key);
