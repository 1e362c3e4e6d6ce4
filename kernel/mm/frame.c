/*
 * frame.c - frame records and the frame allocator
 *
 * A binary buddy allocator over every usable range (orders 0 to
 * FRAME_MAX_ORDER, blocks naturally aligned in physical memory), guarded by
 * frame_pool_lock, with a per-hart cache of single frames in front of it.
 * Allocating or freeing one frame touches only the hart's own cache line
 * and the frame's record; the cache refills with, and gives back, whole
 * blocks of FRAME_CACHE_BATCH frames under the pool lock. That keeps the
 * fault path's allocations off any shared line (DESIGN.md, "Fault path
 * goal"). A hart that finds the pool empty takes the other harts' cached
 * frames (struct frame_cache says how), so cached frames are never lost
 * to the rest of the machine.
 */
#include <mm/frame.h>
#include "mm_internal.h"
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <arch/memlayout.h>

_Static_assert(sizeof(struct frame) == 32,
	       "struct frame must stay 32 bytes: 128 records per page");
_Static_assert(sizeof(struct spinlock) == 8,
	       "the pt_lock must fit the frame record in every configuration");

#define RUN_NONE	((pfn_t)-1)	/* run_block when no run is on top */

struct frame *frame_table;
pfn_t frame_base_pfn, frame_end_pfn;

/* frame_pool_lock protects free_lists, pool_free, and the free.* links and
 * FRAME_F_FREE bit of every frame in the pool. Rank 30. */
static struct spinlock frame_pool_lock = SPINLOCK_INIT(LOCK_CLASS_FRAME);
static struct frame free_lists[FRAME_MAX_ORDER + 1];	/* list heads */
static uint64_t pool_free;		/* frames in the pool; pool lock */
static uint64_t total_frames;		/* usable frames; immutable */

/*
 * struct frame_cache - one hart's cache of free single frames
 *
 * The frames form a LIFO list through free.next, each marked
 * FRAME_F_FREE | FRAME_F_CACHED.
 *
 * Locking (no lock; docs/locking.md, "Per-hart frame caches"):
 *   head       atomic. The owner hart, interrupts off, takes the whole
 *              list by exchanging NULL in, works on it privately, and
 *              stores the new list back with release (cache_take and
 *              cache_put). Another hart ("a thief": an allocation that
 *              found the pool empty, or frame_cache_drain_all) takes
 *              frame_pool_lock, exchanges NULL in with acquire, which
 *              pairs with that release store, and moves what it got to
 *              the pool before it unlocks; nobody but the owner stores a
 *              non-NULL list, so a thief that comes while the owner holds
 *              the list gets nothing and the owner's store loses nothing.
 *   count      atomic add, by the owner and by thieves (inside
 *              frame_pool_lock): frames in the list plus those on their
 *              way in or out of it. It counts a frame before the frame
 *              can be taken from the list and stops counting it only
 *              after the frame is in the pool or handed out, so that "no
 *              frame counted anywhere" means none is left (frame_alloc's
 *              steal loop relies on it). Exact when quiet.
 *   top, run_* owner hart only, interrupts off. top is the list the owner
 *              last stored: head differs from it only if a thief emptied
 *              the cache. The run: the run_len frames on top of the list
 *              down to run_first all lie in the naturally aligned block
 *              of FRAME_CACHE_BATCH frames run_block (pfn >>
 *              FRAME_CACHE_BATCH_ORDER). Frees extend it; an allocation,
 *              a drain or a theft ends it (run_block = RUN_NONE).
 */
struct frame_cache {
	struct frame *head;
	int count;
	struct frame *top;
	struct frame *run_first;
	pfn_t run_block;
	unsigned int run_len;
} __cacheline_aligned;
static struct frame_cache caches[CONFIG_MAX_HARTS];
static uint64_t cache_steals;	/* atomic: allocations that took other
				 * harts' cached frames */

void *frame_to_kva(const struct frame *f)
{
	return pa_to_kva(frame_to_pa(f));
}

struct frame *kva_to_frame(const void *kva)
{
	return pa_to_frame(kva_to_pa(kva));
}

static void list_init(struct frame *head)
{
	head->free.next = head->free.prev = head;
}

static void list_add(struct frame *head, struct frame *f)
{
	f->free.next = head->free.next;
	f->free.prev = head;
	head->free.next->free.prev = f;
	head->free.next = f;
}

static void list_del(struct frame *f)
{
	f->free.prev->free.next = f->free.next;
	f->free.next->free.prev = f->free.prev;
	f->free.next = f->free.prev = NULL;
}

void frame_describe(const struct frame *f, char *buf, size_t len)
{
	snprintf(buf, len, "pfn %#lx (pa %#lx) flags %#x%s%s%s%s%s%s order %u "
		 "refcount %u owner %d", (unsigned long)frame_to_pfn(f),
		 (unsigned long)frame_to_pa(f), f->flags,
		 f->flags & FRAME_F_FREE ? " free" : "",
		 f->flags & FRAME_F_RESERVED ? " reserved" : "",
		 f->flags & FRAME_F_PT ? " page-table" : "",
		 f->flags & FRAME_F_USER ? " user" : "",
		 f->flags & FRAME_F_KERNEL ? " kernel" : "",
		 f->flags & FRAME_F_CACHED ? " cached" : "", f->order,
		 f->refcount, (int)f->owner - 1);
}

static __noreturn void frame_bad(const struct frame *f, const char *what)
{
	char state[160];

	frame_describe(f, state, sizeof(state));
	panic("frame: %s: %s", what, state);
}

/* Put a free block into the pool, merging with free buddies; pool lock. */
static void pool_add_locked(struct frame *f, unsigned int order)
{
	/* Locals: the compiler cannot know that the stores to frame
	 * records below leave these globals alone. */
	struct frame *table = frame_table;
	pfn_t base = frame_base_pfn, end = frame_end_pfn;
	pfn_t pfn = base + (pfn_t)(f - table);

	/* Only the head of a pool block carries FREE|HEAD and its order;
	 * every other frame of the block has flags 0. */
	f->flags = 0;
	pool_free += 1UL << order;
	while (order < FRAME_MAX_ORDER) {
		pfn_t bpfn = pfn ^ (1UL << order);
		struct frame *b;

		if (bpfn - base >= end - base)	/* below base wraps around */
			break;
		b = &table[bpfn - base];
		/* Relaxed loads: the flags of a frame in use are written
		 * outside the pool lock, but only pool blocks (written under
		 * it) match FREE|HEAD without CACHED. */
		if ((__atomic_load_n(&b->flags, __ATOMIC_RELAXED) &
		     (FRAME_F_FREE | FRAME_F_HEAD | FRAME_F_CACHED)) !=
			    (FRAME_F_FREE | FRAME_F_HEAD) ||
		    __atomic_load_n(&b->order, __ATOMIC_RELAXED) != order)
			break;
		/* Unlink (list_del without clearing: b's links are dead now,
		 * and prepare() clears them before any other use). */
		b->free.prev->free.next = b->free.next;
		b->free.next->free.prev = b->free.prev;
		b->flags = 0;
		pfn &= ~(1UL << order);
		order++;
	}
	f = &table[pfn - base];
	f->flags = FRAME_F_FREE | FRAME_F_HEAD;
	f->order = order;
	list_add(&free_lists[order], f);
}

static struct frame *pool_take_locked(unsigned int order)
{
	unsigned int o = order;
	struct frame *f;

	while (o <= FRAME_MAX_ORDER && free_lists[o].free.next == &free_lists[o])
		o++;
	if (o > FRAME_MAX_ORDER)
		return NULL;
	f = free_lists[o].free.next;
	list_del(f);
	/* No longer a pool block, before the lock is dropped: a hart that
	 * frees this block's buddy must not merge with it. */
	__atomic_store_n(&f->flags, 0, __ATOMIC_RELAXED);
	/* Split: hand back the upper halves. */
	while (o > order) {
		struct frame *half;

		o--;
		half = f + (1UL << o);
		half->flags = FRAME_F_FREE | FRAME_F_HEAD;
		half->order = o;
		list_add(&free_lists[o], half);
	}
	pool_free -= 1UL << order;
	f->order = order;
	return f;
}

int frame_init(const struct mem_range *usable, int n, paddr_t lo, paddr_t hi)
{
	uint64_t count, bytes;
	int carve = -1;

	frame_base_pfn = lo >> PAGE_SHIFT;
	frame_end_pfn = ALIGN_UP(hi, PAGE_SIZE) >> PAGE_SHIFT;
	count = frame_end_pfn - frame_base_pfn;
	bytes = ALIGN_UP(count * sizeof(struct frame), PAGE_SIZE);
	for (int i = 0; i < n && carve < 0; i++)
		if (usable[i].end - usable[i].start >= bytes)
			carve = i;
	if (carve < 0)
		return -E_NOMEM;
	frame_table = pa_to_kva(usable[carve].start);
	for (uint64_t i = 0; i < count; i++)
		frame_table[i] = (struct frame){ .flags = FRAME_F_RESERVED };
	for (int o = 0; o <= FRAME_MAX_ORDER; o++)
		list_init(&free_lists[o]);
	pool_free = 0;
	total_frames = 0;
	memset(caches, 0, sizeof(caches));
	cache_steals = 0;
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++)
		caches[i].run_block = RUN_NONE;

	for (int i = 0; i < n; i++) {
		paddr_t s = usable[i].start, e = usable[i].end;

		if (i == carve)
			s += bytes;	/* the table's own frames stay reserved */
		for (pfn_t p = s >> PAGE_SHIFT; p < e >> PAGE_SHIFT;) {
			unsigned int o = FRAME_MAX_ORDER;

			while (o && ((p & ((1UL << o) - 1)) ||
				     p + (1UL << o) > e >> PAGE_SHIFT))
				o--;
			for (pfn_t q = p; q < p + (1UL << o); q++)
				pfn_to_frame(q)->flags = 0;
			spin_lock(&frame_pool_lock);
			pool_add_locked(pfn_to_frame(p), o);
			spin_unlock(&frame_pool_lock);
			total_frames += 1UL << o;
			p += 1UL << o;
		}
	}
	return 0;
}

/* Always inline: frame_alloc's single-frame path gets it with order 0
 * folded in, so no loop is left of it there. */
static __always_inline void prepare(struct frame *f, unsigned int order,
				    unsigned int flags)
{
	unsigned int use = flags & FRAME_USE_MASK;

	if (use != FRAME_F_PT && use != FRAME_F_USER && use != FRAME_F_KERNEL)
		panic("frame: frame_alloc flags %#x name no single use", flags);
	for (unsigned long i = 1; i < (1UL << order); i++)
		__atomic_store_n(&f[i].flags, use, __ATOMIC_RELAXED);
	__atomic_store_n(&f->flags, use | FRAME_F_HEAD, __ATOMIC_RELAXED);
	__atomic_store_n(&f->order, order, __ATOMIC_RELAXED);
	f->refcount = use == FRAME_F_USER ? 1 : 0;
	f->owner = (uint8_t)(hart_self() + 1);
	f->batch_next = NULL;
	/* The use-dependent union starts zeroed: two word stores (the
	 * freestanding memset would be a call and a byte loop). */
	_Static_assert(sizeof(f->pt) == sizeof(f->free) &&
		       sizeof(f->user) == sizeof(f->free), "union of 2 words");
	f->free.next = NULL;
	f->free.prev = NULL;
	if (flags & FRAME_ZERO) {
		char *p = frame_to_kva(f);

		for (unsigned long i = 0; i < (1UL << order); i++)
			arch_clear_page(p + i * PAGE_SIZE);
	}
}

/*
 * cache_take, cache_put - the owner's hold on its cache's list
 *
 * Context: the owner hart, interrupts off from take to put (an interrupt
 * handler that freed a frame in between would find the list gone).
 * cache_take returns the list (NULL if empty, or if a thief took it since
 * the owner's last cache_put, which also ends the run on top).
 */
static __always_inline struct frame *cache_take(struct frame_cache *c)
{
	/* Relaxed: only this hart ever stores a non-NULL list. */
	struct frame *l = __atomic_exchange_n(&c->head, NULL, __ATOMIC_RELAXED);

	if (unlikely(l != c->top))
		c->run_block = RUN_NONE;	/* stolen: run_first is gone */
	return l;
}

static __always_inline void cache_put(struct frame_cache *c, struct frame *l)
{
	c->top = l;
	/* Release: the free.next links of @l before a thief's acquire
	 * exchange reads them. */
	__atomic_store_n(&c->head, l, __ATOMIC_RELEASE);
}

/* Give the list @l, taken from @c's head by the owner or a thief, back to
 * the pool; @c stops counting its frames once they are there. Caller
 * holds frame_pool_lock. */
static void cache_list_to_pool_locked(struct frame_cache *c, struct frame *l)
{
	int n = 0;

	assert_held(&frame_pool_lock);
	while (l) {
		struct frame *g = l;

		l = g->free.next;
		__atomic_store_n(&g->flags, 0, __ATOMIC_RELAXED);
		pool_add_locked(g, 0);
		n++;
	}
	__atomic_fetch_sub(&c->count, n, __ATOMIC_RELAXED);
}

/* The same for the owner, interrupts off, which took @l itself. */
static void cache_list_to_pool(struct frame_cache *c, struct frame *l)
{
	spin_lock(&frame_pool_lock);
	cache_list_to_pool_locked(c, l);
	spin_unlock(&frame_pool_lock);
}

/*
 * caches_steal - move the harts' cached frames to the pool, as a thief
 * @skip: a hart whose cache is left alone (this one), or CONFIG_MAX_HARTS
 *
 * A thief takes a list only inside frame_pool_lock and puts it in the
 * pool before it drops the lock. Its callers run with interrupts on (a
 * block allocation, frame_cache_drain_all) and may be preempted: a list
 * held outside the lock would stay counted in its cache and in no list
 * for as long as the thief's thread waits to run again, and cache_refill,
 * which waits for counted frames with interrupts off, would wait as long
 * (on this hart: for ever).
 *
 * Context: any (a thief may empty its own hart's cache too, outside that
 * hart's cache_take..cache_put); takes frame_pool_lock per cache that had
 * frames.
 * Return: true if any frames were moved.
 */
static __noinline bool caches_steal(unsigned int skip)
{
	bool got = false;

	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++) {
		struct frame_cache *c = &caches[i];
		struct frame *l;

		/* Relaxed: only a hint that skips empty caches without the
		 * lock; the exchange below decides. */
		if (i == skip || !__atomic_load_n(&c->head, __ATOMIC_RELAXED))
			continue;
		arch_race_window(MM_RACE_CACHE_STEAL);
		spin_lock(&frame_pool_lock);
		/* Acquire: pairs with the owner's release in cache_put. */
		l = __atomic_exchange_n(&c->head, NULL, __ATOMIC_ACQUIRE);
		if (l) {
			cache_list_to_pool_locked(c, l);
			got = true;
		}
		spin_unlock(&frame_pool_lock);
	}
	return got;
}

/*
 * Does any cache count a frame (in its list, or on its way)? Caller holds
 * frame_pool_lock. Relaxed loads: the counts that moves between pool and
 * cache change are changed under that lock, which orders them before
 * these loads; an owner's change outside it is a racing free or
 * allocation, which the answer may or may not include (cache_refill).
 */
static bool caches_hold_frames(void)
{
	assert_held(&frame_pool_lock);
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++)
		if (__atomic_load_n(&caches[i].count, __ATOMIC_RELAXED) > 0)
			return true;
	return false;
}

/*
 * cache_refill - fill this hart's empty cache from the pool
 *
 * One FRAME_CACHE_BATCH-frame block if the pool has one (a single take,
 * where FRAME_CACHE_BATCH takes of one frame each would split and search
 * as often), else what single frames there are. When the pool has nothing
 * left, the other harts' caches are emptied into it (caches_steal) and
 * the pool is tried again. The allocation fails only when, with the pool
 * lock held and the pool empty, no cache counts a frame: every move
 * between the pool and a cache changes the cache's count under that lock,
 * and a cache counts a frame from before it enters its list until after
 * it has left it. (The look is not one snapshot: a frame allocated from a
 * cache not yet looked at and freed into one already looked at while the
 * look lasts, CONFIG_MAX_HARTS loads, escapes it.) A frame counted but in
 * no list while the pool lock is held is in its owner's hands (a thief
 * moves what it takes before it drops the lock), which put it in the
 * list, the pool or a caller's hands within a few instructions,
 * interrupts off and holding no lock this loop holds: the loop waits for
 * it, as for a spinlock.
 *
 * Context: the owner, interrupts off, holding its (empty) list.
 * Return: the new list, counted, or NULL when memory is exhausted.
 */
static __noinline struct frame *cache_refill(struct frame_cache *c)
{
	unsigned int self = hart_self();
	bool stole = false;
	struct frame *l;

	for (;;) {
		struct frame *b;
		bool none = false;
		int n = 0;

		l = NULL;
		spin_lock(&frame_pool_lock);
		b = pool_take_locked(FRAME_CACHE_BATCH_ORDER);
		if (b) {
			/* In from the top, so they go out in ascending
			 * order. */
			for (int i = FRAME_CACHE_BATCH - 1; i >= 0; i--) {
				struct frame *g = b + i;

				g->flags = FRAME_F_FREE | FRAME_F_CACHED;
				g->order = 0;
				g->free.next = l;
				l = g;
			}
			n = FRAME_CACHE_BATCH;
		} else {
			for (; n < FRAME_CACHE_BATCH; n++) {
				struct frame *g = pool_take_locked(0);

				if (!g)
					break;
				g->flags = FRAME_F_FREE | FRAME_F_CACHED;
				g->free.next = l;
				l = g;
			}
		}
		/* Counted before the pool lock goes: a hart that finds the
		 * pool empty after us sees them in our count. */
		if (n)
			__atomic_fetch_add(&c->count, n, __ATOMIC_RELAXED);
		else
			none = !caches_hold_frames();
		spin_unlock(&frame_pool_lock);
		if (l || none)
			break;
		if (caches_steal(self))
			stole = true;
		else
			arch_cpu_relax();	/* counted frames on their way */
	}
	/* Once per allocation, however often it had to look. */
	if (stole)
		__atomic_fetch_add(&cache_steals, 1, __ATOMIC_RELAXED);
	return l;
}

static __noinline struct frame *alloc_block(unsigned int order,
					    unsigned int flags)
{
	struct frame *f;

	if (order > FRAME_MAX_ORDER)
		return NULL;
	spin_lock(&frame_pool_lock);
	f = pool_take_locked(order);
	spin_unlock(&frame_pool_lock);
	if (!f) {
		/* Cached single frames may be what the block lacks. */
		frame_cache_drain();
		if (caches_steal(hart_self()))
			__atomic_fetch_add(&cache_steals, 1, __ATOMIC_RELAXED);
		spin_lock(&frame_pool_lock);
		f = pool_take_locked(order);
		spin_unlock(&frame_pool_lock);
	}
	if (f)
		prepare(f, order, flags);
	return f;
}

struct frame *frame_alloc(unsigned int order, unsigned int flags)
{
	struct frame_cache *c;
	struct frame *f;

	if (unlikely(order))
		return alloc_block(order, flags);
	irq_push();
	c = &caches[hart_self()];
	f = cache_take(c);
	if (unlikely(!f))
		f = cache_refill(c);
	if (unlikely(!f)) {
		cache_put(c, NULL);
		irq_pop();
		return NULL;
	}
	cache_put(c, f->free.next);
	c->run_block = RUN_NONE;
	/* After the put: counted until it is out of the list. */
	__atomic_fetch_sub(&c->count, 1, __ATOMIC_RELAXED);
	irq_pop();
	prepare(f, 0, flags);
	return f;
}

struct frame *frame_alloc_pt(unsigned int level)
{
	struct frame *f = frame_alloc(0, FRAME_F_PT | FRAME_ZERO);

	if (f) {
		spin_init(&f->pt.pt_lock, LOCK_CLASS_PT);
		f->pt.nr_valid = 0;
		f->pt.level = (uint8_t)level;
	}
	return f;
}

/* Panic naming what is wrong with this free (check_free found it bad). */
static __noinline void check_free_slow(const struct frame *f)
{
	if (f->flags & FRAME_F_FREE)
		frame_bad(f, "double free");
	if (f->flags & FRAME_F_RESERVED)
		frame_bad(f, "free of a reserved frame");
	if (!(f->flags & FRAME_F_HEAD))
		frame_bad(f, "free of a frame that does not start a block");
	if ((f->flags & FRAME_F_USER) &&
	    __atomic_load_n(&f->user.mapcount, __ATOMIC_ACQUIRE))
		frame_bad(f, "free of a user frame that is still mapped");
	if ((f->flags & FRAME_F_PT) && f->pt.nr_valid)
		frame_bad(f, "free of a page table with valid entries");
}

static inline void check_free(const struct frame *f)
{
	unsigned int fl = f->flags;

	/* One test for the usual case: the head of a block in use. */
	if ((fl & (FRAME_F_FREE | FRAME_F_RESERVED | FRAME_F_HEAD)) !=
		    FRAME_F_HEAD ||
	    ((fl & FRAME_F_USER) &&
	     __atomic_load_n(&f->user.mapcount, __ATOMIC_ACQUIRE)) ||
	    ((fl & FRAME_F_PT) && f->pt.nr_valid))
		check_free_slow(f);
}

/*
 * cache_give_back - return frames of this hart's over-full cache to the
 * pool: the block the run on top has completed, if it has, else the
 * FRAME_CACHE_BATCH frames below the run one by one (the run stays: its
 * block may still complete)
 * @l: the list, taken by the owner (interrupts off); put back here
 */
static __noinline void cache_give_back(struct frame_cache *c, struct frame *l)
{
	struct frame *above = NULL, *first = l, *last;

	if (c->run_len == FRAME_CACHE_BATCH) {
		/* The FRAME_CACHE_BATCH frames down to run_first are exactly
		 * the block run_block (distinct free frames, all in it). */
		struct frame *b = &frame_table[(c->run_block
						<< FRAME_CACHE_BATCH_ORDER) -
					       frame_base_pfn];

		cache_put(c, c->run_first->free.next);
		c->run_block = RUN_NONE;
		/* Pool blocks carry flags only in their head, which
		 * pool_add_locked sets. Relaxed: neighbours' merges read
		 * these (and see no pool block) without the lock. */
		for (int i = 0; i < FRAME_CACHE_BATCH; i++)
			__atomic_store_n(&b[i].flags, 0, __ATOMIC_RELAXED);
		spin_lock(&frame_pool_lock);
		pool_add_locked(b, FRAME_CACHE_BATCH_ORDER);
		__atomic_fetch_sub(&c->count, FRAME_CACHE_BATCH,
				   __ATOMIC_RELAXED);
		spin_unlock(&frame_pool_lock);
		return;
	}
	if (c->run_block != RUN_NONE && c->run_first->free.next) {
		above = c->run_first;
		first = above->free.next;
	}
	/* Cut FRAME_CACHE_BATCH frames off, from @first down. */
	last = first;
	for (int n = 1; n < FRAME_CACHE_BATCH && last->free.next; n++)
		last = last->free.next;
	if (above) {
		above->free.next = last->free.next;
		cache_put(c, l);
	} else {
		cache_put(c, last->free.next);
		c->run_block = RUN_NONE;
	}
	last->free.next = NULL;
	cache_list_to_pool(c, first);
}

static __noinline void free_block(struct frame *f, unsigned int order)
{
#ifdef CONFIG_DEBUG
	for (unsigned long i = 1; i < (1UL << order); i++)
		if (f[i].flags & (FRAME_F_FREE | FRAME_F_RESERVED))
			frame_bad(&f[i], "free of a block whose tail is "
					 "free or reserved");
#endif
	for (unsigned long i = 1; i < (1UL << order); i++)
		__atomic_store_n(&f[i].flags, 0, __ATOMIC_RELAXED);
	spin_lock(&frame_pool_lock);
	pool_add_locked(f, order);
	spin_unlock(&frame_pool_lock);
}

void frame_free(struct frame *f)
{
	unsigned int order = f->order;
	struct frame_cache *c;
	struct frame *l;
	unsigned int len = 1;
	pfn_t block;
	int n;

	check_free(f);
	if (order) {
		free_block(f, order);
		return;
	}
	block = frame_to_pfn(f) >> FRAME_CACHE_BATCH_ORDER;
	irq_push();
	c = &caches[hart_self()];
	l = cache_take(c);
	__atomic_store_n(&f->flags, FRAME_F_FREE | FRAME_F_CACHED,
			 __ATOMIC_RELAXED);
	f->free.next = l;
	if (block == c->run_block) {
		len = c->run_len + 1;
	} else {
		c->run_block = block;
		c->run_first = f;
	}
	c->run_len = len;
	/* Counted before a thief can see it in the list. */
	n = __atomic_add_fetch(&c->count, 1, __ATOMIC_RELAXED);
	if (unlikely(n > FRAME_CACHE_MAX) ||
	    (unlikely(len == FRAME_CACHE_BATCH) && n > FRAME_CACHE_HIGH))
		cache_give_back(c, f);
	else
		cache_put(c, f);
	irq_pop();
}

void frame_cache_drain(void)
{
	struct frame_cache *c;
	struct frame *l;

	irq_push();
	c = &caches[hart_self()];
	l = cache_take(c);
	cache_put(c, NULL);
	c->run_block = RUN_NONE;
	if (l)
		cache_list_to_pool(c, l);
	irq_pop();
}

void frame_cache_drain_all(void)
{
	caches_steal(CONFIG_MAX_HARTS);
}

uint64_t frame_free_count(void)
{
	int64_t n;

	spin_lock(&frame_pool_lock);
	n = (int64_t)pool_free;
	spin_unlock(&frame_pool_lock);
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++)
		n += __atomic_load_n(&caches[i].count, __ATOMIC_RELAXED);
	return n > 0 ? (uint64_t)n : 0;
}

uint64_t frame_total_count(void)
{
	return total_frames;
}

uint64_t frame_cache_steals(void)
{
	return __atomic_load_n(&cache_steals, __ATOMIC_RELAXED);
}
