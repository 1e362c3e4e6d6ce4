/*
 * handle.c - per-process handle tables and object references
 *
 * A handle value is (generation << 8) | (slot + 1), always positive. The
 * generation of a slot moves on every close, so a value that was closed
 * (or forged from a live one's slot) does not name the next object put
 * there.
 */
#include <kern/ipc.h>
#include <kern/handle.h>
#include <kern/errno.h>
#include <kern/spinlock.h>
#include <abi/syscall.h>

static long encode(unsigned int idx, unsigned int gen)
{
	return ((long)gen << 8) | (idx + 1);
}

/*
 * Writers (ht->lock held) bracket every change of a slot or of closed:
 * seq odd, then the stores (relaxed atomics: handle_names reads them
 * racily), then seq even with release. The release fence after the first
 * store keeps the slot stores from being seen before seq turned odd.
 */
static void seq_begin(struct handle_table *ht)
{
	__atomic_store_n(&ht->seq, ht->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(struct handle_table *ht)
{
	__atomic_store_n(&ht->seq, ht->seq + 1, __ATOMIC_RELEASE);
}

/* A new table only: a handle_memo of a thread of a live process counts on
 * seq never going back. */
void handle_table_init(struct handle_table *ht)
{
	spin_init(&ht->lock, LOCK_CLASS_HANDLE);
	ht->seq = 0;
	ht->closed = false;
	ht->count = 0;
	for (int i = 0; i < HANDLE_MAX; i++) {
		ht->slot[i].obj = NULL;
		ht->slot[i].gen = 1;
	}
}

int handle_install(struct handle_table *ht, struct kobj *obj,
		   unsigned int rights)
{
	long h = -E_NOMEM;

	spin_lock(&ht->lock);
	if (ht->closed) {
		h = -E_INTR;
	} else {
		for (unsigned int i = 0; i < HANDLE_MAX; i++) {
			if (ht->slot[i].obj)
				continue;
			kobj_get(obj);
			seq_begin(ht);
			__atomic_store_n(&ht->slot[i].rights, rights,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&ht->slot[i].obj, obj,
					 __ATOMIC_RELAXED);
			seq_end(ht);
			ht->count++;
			h = encode(i, ht->slot[i].gen);
			break;
		}
	}
	spin_unlock(&ht->lock);
	/* A receive right counts as soon as it is in a table. */
	if (h > 0 && obj->type == KOBJ_ENDPOINT && (rights & HANDLE_R_RECV))
		endpoint_receiver(obj, 1);
	return (int)h;
}

int handle_get(struct handle_table *ht, long h, unsigned int type,
	       struct kobj **obj, unsigned int *rights)
{
	unsigned int idx, gen;
	int err = 0;

	if (!handle_decode(h, &idx, &gen))
		return -E_BADH;
	spin_lock(&ht->lock);
	if (ht->closed || !ht->slot[idx].obj || ht->slot[idx].gen != gen) {
		err = -E_BADH;
	} else if (type && ht->slot[idx].obj->type != type) {
		err = -E_TYPE;
	} else {
		*obj = ht->slot[idx].obj;
		*rights = ht->slot[idx].rights;
		kobj_get(*obj);
	}
	spin_unlock(&ht->lock);
	return err;
}

/* Take slot @idx's object out (lock held). */
static struct kobj *take_locked(struct handle_table *ht, unsigned int idx,
				unsigned int *rights)
{
	struct kobj *obj = ht->slot[idx].obj;

	*rights = ht->slot[idx].rights;
	seq_begin(ht);
	__atomic_store_n(&ht->slot[idx].obj, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&ht->slot[idx].gen,
			 ht->slot[idx].gen % HANDLE_GEN_MAX + 1,
			 __ATOMIC_RELAXED);
	seq_end(ht);
	ht->count--;
	return obj;
}

static void drop(struct kobj *obj, unsigned int rights)
{
	if (obj->type == KOBJ_ENDPOINT && (rights & HANDLE_R_RECV))
		endpoint_receiver(obj, -1);
	kobj_put(obj);
}

int handle_close(struct handle_table *ht, long h)
{
	unsigned int idx, gen, rights = 0;
	struct kobj *obj = NULL;

	if (!handle_decode(h, &idx, &gen))
		return -E_BADH;
	spin_lock(&ht->lock);
	if (!ht->closed && ht->slot[idx].obj && ht->slot[idx].gen == gen)
		obj = take_locked(ht, idx, &rights);
	spin_unlock(&ht->lock);
	if (!obj)
		return -E_BADH;
	drop(obj, rights);
	return 0;
}

void handle_table_close(struct handle_table *ht)
{
	spin_lock(&ht->lock);
	seq_begin(ht);
	__atomic_store_n(&ht->closed, true, __ATOMIC_RELAXED);
	seq_end(ht);
	spin_unlock(&ht->lock);
	/* One at a time: objects are put without the table's lock. */
	for (unsigned int i = 0; i < HANDLE_MAX; i++) {
		struct kobj *obj = NULL;
		unsigned int rights = 0;

		spin_lock(&ht->lock);
		if (ht->slot[i].obj)
			obj = take_locked(ht, i, &rights);
		spin_unlock(&ht->lock);
		if (obj)
			drop(obj, rights);
	}
}
