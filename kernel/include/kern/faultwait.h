#pragma once
/*
 * faultwait.h - faults in flight: one pager call per absent page
 *
 * Threads of one process (one address space) that fault at once on one
 * absent page of a pager-backed region ask the pager once. The first,
 * the leader, enters the page in its process's table and calls the
 * pager; the others find the page there and wait, blocked, until the
 * leader's call has ended, then fault again from the top (back in user
 * mode): they find the page mapped, or, if the leader failed, one of
 * them leads the next ask. A waiter learns nothing from the table but
 * "a call ended", so what gets mapped is still decided by the fault path
 * alone; the table only saves asks. With every entry taken a fault asks
 * the pager itself, as if there were no table. docs/vm.md, "Faults in
 * flight".
 *
 * struct faultwait_table (in struct proc)
 *
 * Locking:
 *   lock      rank 60 (misc), taken with no other lock held. A waiter
 *             blocks with it (thread_block takes the run queue's lock,
 *             rank 70, before it lets it go), and a leader wakes its
 *             waiters under it. Protects every entry (va, leader,
 *             waiters) and the waiter records linked to an entry (next,
 *             done): a waiter's record lives on its stack, and it
 *             returns only once it has seen done, or unlinked the record
 *             itself, under the lock.
 */
#include <kern/types.h>
#include <kern/spinlock_types.h>

struct thread;

#define FAULTWAIT_ENTRIES	16

/* A thread waiting for a leader's call (on the waiter's stack). */
struct faultwait_waiter {
	struct thread *thread;
	struct faultwait_waiter *next;
	bool done;		/* the leader's call ended */
};

struct faultwait_entry {
	struct thread *leader;	/* NULL: a free entry */
	vaddr_t va;		/* the page the leader asks for */
	struct faultwait_waiter *waiters;
};

struct faultwait_table {
	struct spinlock lock;
	struct faultwait_entry entry[FAULTWAIT_ENTRIES];
};

enum faultwait_role {
	FAULTWAIT_LEAD,		/* entered: ask, then faultwait_leave */
	FAULTWAIT_WAITED,	/* another's ask ended: fault again */
	FAULTWAIT_FULL,		/* no free entry: ask, untracked */
};

void faultwait_init(struct faultwait_table *t);

/*
 * faultwait_enter - the calling thread is about to ask the pager for @va
 * @t:       its process's table
 * @va:      the page (page aligned)
 * @give_up: waiting ends early once this is true (the process's exiting
 *           flag: a kill sets it and wakes every thread, ipc_interrupt)
 * @entry:   set for FAULTWAIT_LEAD
 *
 * Locks:   takes and drops @t->lock; none may be held on entry.
 * Context: interrupts on; blocks (FAULTWAIT_WAITED).
 * Return:  FAULTWAIT_LEAD (nobody asks for @va: the caller asks, then
 *          calls faultwait_leave with *@entry), FAULTWAIT_WAITED
 *          (another thread's ask for @va was in flight and has ended, or
 *          *@give_up became true meanwhile: the caller does not ask, it
 *          faults again), FAULTWAIT_FULL (every entry taken: the caller
 *          asks without one).
 */
enum faultwait_role faultwait_enter(struct faultwait_table *t, vaddr_t va,
				    const bool *give_up,
				    struct faultwait_entry **entry);
/*
 * faultwait_leave - the leader's ask for @e's page has ended, however it
 * ended: free @e and wake every thread waiting on it.
 * Locks: takes and drops @t->lock (and run-queue locks under it).
 */
void faultwait_leave(struct faultwait_table *t, struct faultwait_entry *e);
