#pragma once
/*
 * handle.h - the handle lookups of the IPC fast path, inline (every
 * same-hart call makes one; see kern/ipc.h for the handle table and its
 * locking, kernel/ipc/handle.c for the rest)
 */
#include <kern/ipc.h>
#include <kern/spinlock.h>

#define HANDLE_GEN_MAX	0x7fffff

/* Split handle value @h into slot and generation; false if it is not a
 * handle value at all. */
static inline bool handle_decode(long h, unsigned int *idx, unsigned int *gen)
{
	if (h <= 0 || h > ((long)HANDLE_GEN_MAX << 8 | 0xff))
		return false;
	if ((h & 0xff) == 0 || (h & 0xff) > HANDLE_MAX)
		return false;
	*idx = (unsigned int)(h & 0xff) - 1;
	*gen = (unsigned int)(h >> 8);
	return true;
}

/*
 * handle_peek - the object @h names, with a new reference, if it has
 * @type and every right in @need, else NULL: handle_get without the error
 * code, for the IPC fast path, which leaves errors to the general path.
 * Interrupts must be off (the table lock is taken raw).
 */
static inline struct kobj *handle_peek(struct handle_table *ht, long h,
				       unsigned int type, unsigned int need)
{
	unsigned int idx, gen;
	struct kobj *o = NULL;

	if (!handle_decode(h, &idx, &gen))
		return NULL;
	spin_lock_raw(&ht->lock);
	if (!ht->closed && ht->slot[idx].obj && ht->slot[idx].gen == gen &&
	    ht->slot[idx].obj->type == type &&
	    (ht->slot[idx].rights & need) == need) {
		o = ht->slot[idx].obj;
		kobj_get(o);
	}
	spin_unlock_raw(&ht->lock);
	return o;
}

/*
 * handle_names_at - does @h name @obj, with every right in @need? Without
 * the table's lock (the sequence count seq), so @obj must be kept alive
 * by the caller's own reference; takes none. False also when the table
 * changed while it looked (it never waits). For the IPC fast path, which
 * leaves any doubt to the general path: its reply-and-receive holds the
 * endpoint through the call it answers (reply_ep), its call through the
 * thread's call cache (call_ep). On true, *@seq is the (even) seq the
 * answer holds at.
 */
static inline bool handle_names_at(struct handle_table *ht, long h,
				   const struct kobj *obj, unsigned int need,
				   unsigned long *seq)
{
	unsigned int idx, gen;
	unsigned long s;
	bool yes;

	if (!handle_decode(h, &idx, &gen))
		return false;
	/* Acquire, pairing with seq_end's release store: what the writer
	 * stored before it is seen by the slot loads below. */
	s = __atomic_load_n(&ht->seq, __ATOMIC_ACQUIRE);
	if (s & 1)
		return false;	/* a writer is at work */
	yes = !__atomic_load_n(&ht->closed, __ATOMIC_RELAXED) &&
	      __atomic_load_n(&ht->slot[idx].obj, __ATOMIC_RELAXED) == obj &&
	      __atomic_load_n(&ht->slot[idx].gen, __ATOMIC_RELAXED) == gen &&
	      (__atomic_load_n(&ht->slot[idx].rights, __ATOMIC_RELAXED) &
	       need) == need;
	/* Acquire fence, pairing with seq_begin's release fence: if a slot
	 * load above saw a writer's store, the load of seq below sees that
	 * writer's odd value or later. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (s != __atomic_load_n(&ht->seq, __ATOMIC_RELAXED))
		return false;	/* changed meanwhile: the same */
	*seq = s;
	return yes;
}

static inline bool handle_names(struct handle_table *ht, long h,
				const struct kobj *obj, unsigned int need)
{
	unsigned long seq;

	return handle_names_at(ht, h, obj, need, &seq);
}

/*
 * handle_names_memo - handle_names, remembered in @m (one memo per use,
 * always with the same @need): when @m holds @h and @obj and the table's
 * seq has not moved since it was checked, nothing in the table changed,
 * and one load answers. Else the full check, remembered if true.
 *
 * The load needs no ordering: it reads nothing else of the table. Seeing
 * the memo's seq means that no writer's seq_begin is yet seen here, so the
 * check holds now as it did then (a close racing with it comes after it,
 * as in handle_names; @obj is the caller's to keep alive, as there).
 */
static inline bool handle_names_memo(struct handle_table *ht,
				     struct handle_memo *m, long h,
				     const struct kobj *obj,
				     unsigned int need)
{
	unsigned long seq;

	if (likely(m->obj == obj && m->h == h &&
		   m->seq == __atomic_load_n(&ht->seq, __ATOMIC_RELAXED)))
		return true;
	if (!handle_names_at(ht, h, obj, need, &seq))
		return false;
	m->obj = obj;
	m->h = h;
	m->seq = seq;
	return true;
}
