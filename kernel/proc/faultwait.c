/*
 * faultwait.c - faults in flight: threads faulting on one absent page of
 * a pager-backed region ask the pager once (kern/faultwait.h)
 *
 * Waiting is the IPC's kind of wait: under the table's lock a waiter
 * looks at its record and blocks (thread_block lets the lock go only once
 * the thread is marked blocked), and a leader marks each record done and
 * wakes its thread under the same lock, so no wake-up is lost and none
 * touches a waiter that is gone. Wake-ups may be spurious (a wake meant
 * for an earlier wait, or a kill's): a waiter looks again each time.
 */
#include <kern/faultwait.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/spinlock.h>
#include <kern/thread.h>

void faultwait_init(struct faultwait_table *t)
{
	spin_init(&t->lock, LOCK_CLASS_MISC);
	for (int i = 0; i < FAULTWAIT_ENTRIES; i++)
		t->entry[i] = (struct faultwait_entry){ 0 };
}

/* Take @w off @e's list (t->lock held; @w is on it). */
static void unlink_locked(struct faultwait_entry *e,
			  struct faultwait_waiter *w)
{
	struct faultwait_waiter **pp = &e->waiters;

	while (*pp != w)
		pp = &(*pp)->next;
	*pp = w->next;
}

/* A fault that waits instead of asking, counted for SYS_STATS (owner
 * hart only; interrupts are off under the lock, so the hart stays). */
static void count_wait(void)
{
	struct hart *h = this_hart();

	__atomic_store_n(&h->pager_waits,
			 __atomic_load_n(&h->pager_waits, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

enum faultwait_role faultwait_enter(struct faultwait_table *t, vaddr_t va,
				    const bool *give_up,
				    struct faultwait_entry **entry)
{
	struct faultwait_waiter w = { .thread = thread_current() };
	struct faultwait_entry *e = NULL, *free = NULL;

	spin_lock(&t->lock);
	for (int i = 0; i < FAULTWAIT_ENTRIES && !e; i++) {
		struct faultwait_entry *c = &t->entry[i];

		if (!c->leader && !free)
			free = c;
		else if (c->leader && c->va == va)
			e = c;
	}
	if (!e) {
		if (free) {
			free->leader = w.thread;
			free->va = va;
			free->waiters = NULL;
			*entry = free;
		}
		spin_unlock(&t->lock);
		return free ? FAULTWAIT_LEAD : FAULTWAIT_FULL;
	}
	assert(e->leader != w.thread);
	w.next = e->waiters;
	e->waiters = &w;
	count_wait();
	/* A kill stores *give_up (release), then wakes us: either we see it
	 * here, or its wake-up finds us blocked or makes the block return. */
	while (!w.done && !__atomic_load_n(give_up, __ATOMIC_ACQUIRE)) {
		thread_block(&t->lock, 0);
		spin_lock(&t->lock);
	}
	if (!w.done)
		unlink_locked(e, &w);
	spin_unlock(&t->lock);
	return FAULTWAIT_WAITED;
}

void faultwait_leave(struct faultwait_table *t, struct faultwait_entry *e)
{
	spin_lock(&t->lock);
	assert(e->leader == thread_current());
	for (struct faultwait_waiter *w = e->waiters, *next; w; w = next) {
		/* Read before done: once it sees done (it takes the lock
		 * after us), the record is gone with the waiter's frame. */
		next = w->next;
		w->done = true;
		thread_wake(w->thread);	/* under the lock: still there */
	}
	e->waiters = NULL;
	e->leader = NULL;
	spin_unlock(&t->lock);
}
