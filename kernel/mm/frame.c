/*
 * frame.c - frame records and the frame allocator
 *
 * A binary buddy allocator over every usable range (orders 0 to
 * FRAME_MAX_ORDER, blocks naturally aligned in physical memory), guarded by
 * frame_pool_lock, with a per-hart cache of single frames in front of it.
 * Allocating or freeing one frame touches only the hart's own cache line;
 * the cache refills and drains FRAME_BATCH frames at a time under the
 * pool lock. That keeps the fault path's allocations off any shared line
 * (DESIGN.md, "Fault path goal").
 */
#include <mm/frame.h>
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

#define FRAME_BATCH_ORDER 4
#define FRAME_BATCH	(1 << FRAME_BATCH_ORDER) /* frames per refill or drain */
#define FRAME_CACHE_MAX	64	/* a cache above this drains a batch */

struct frame *frame_table;
pfn_t frame_base_pfn, frame_end_pfn;

/* frame_pool_lock protects free_lists, pool_free, and the free.* links and
 * FRAME_F_FREE bit of every frame in the pool. Rank 30. */
static struct spinlock frame_pool_lock = SPINLOCK_INIT(LOCK_CLASS_FRAME);
static struct frame free_lists[FRAME_MAX_ORDER + 1];	/* list heads */
static uint64_t pool_free;		/* frames in the pool; pool lock */
static uint64_t total_frames;		/* usable frames; immutable */

/* Per-hart cache of order-0 frames, singly linked through free.next.
 * Owner hart only, with interrupts off while it is touched. */
struct frame_cache {
	struct frame *head;
	unsigned int count;	/* atomic store by owner, read by anyone */
} __cacheline_aligned;
static struct frame_cache caches[CONFIG_MAX_HARTS];

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
 * Refill this hart's empty cache from the pool (interrupts off): one
 * FRAME_BATCH-frame block if the pool has one (a single take, where
 * FRAME_BATCH takes of one frame each would split and search as often),
 * else what single frames there are.
 */
static __noinline struct frame *cache_refill(struct frame_cache *c)
{
	struct frame *b;

	spin_lock(&frame_pool_lock);
	b = pool_take_locked(FRAME_BATCH_ORDER);
	if (b) {
		/* The block's frames go in from the top, so the cache hands
		 * them out in ascending order. */
		for (int i = FRAME_BATCH - 1; i >= 0; i--) {
			struct frame *g = b + i;

			g->flags = FRAME_F_FREE | FRAME_F_CACHED;
			g->order = 0;
			g->free.next = c->head;
			c->head = g;
		}
		__atomic_store_n(&c->count, c->count + FRAME_BATCH,
				 __ATOMIC_RELAXED);
	} else {
		for (int i = 0; i < FRAME_BATCH; i++) {
			struct frame *g = pool_take_locked(0);

			if (!g)
				break;
			g->flags = FRAME_F_FREE | FRAME_F_CACHED;
			g->free.next = c->head;
			c->head = g;
			__atomic_store_n(&c->count, c->count + 1,
					 __ATOMIC_RELAXED);
		}
	}
	spin_unlock(&frame_pool_lock);
	return c->head;
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
	f = c->head;
	if (unlikely(!f))
		f = cache_refill(c);
	if (f) {
		c->head = f->free.next;
		__atomic_store_n(&c->count, c->count - 1, __ATOMIC_RELAXED);
	}
	irq_pop();
	if (!f) {
		/* Other harts' caches may still hold frames: a hart that
		 * finds the pool empty does not steal them (that would write
		 * their lines); callers see -E_NOMEM. */
		return NULL;
	}
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

/* Give FRAME_BATCH frames of this hart's over-full cache back to the pool
 * (interrupts off). */
static __noinline void cache_drain_batch(struct frame_cache *c)
{
	spin_lock(&frame_pool_lock);
	for (int i = 0; i < FRAME_BATCH && c->head; i++) {
		struct frame *g = c->head;

		c->head = g->free.next;
		__atomic_store_n(&c->count, c->count - 1, __ATOMIC_RELAXED);
		g->flags = 0;
		pool_add_locked(g, 0);
	}
	spin_unlock(&frame_pool_lock);
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

	check_free(f);
	if (order) {
		free_block(f, order);
		return;
	}
	irq_push();
	c = &caches[hart_self()];
	__atomic_store_n(&f->flags, FRAME_F_FREE | FRAME_F_CACHED,
			 __ATOMIC_RELAXED);
	f->free.next = c->head;
	c->head = f;
	__atomic_store_n(&c->count, c->count + 1, __ATOMIC_RELAXED);
	if (unlikely(c->count > FRAME_CACHE_MAX))
		cache_drain_batch(c);
	irq_pop();
}

void frame_cache_drain(void)
{
	struct frame_cache *c;

	irq_push();
	c = &caches[hart_self()];
	spin_lock(&frame_pool_lock);
	while (c->head) {
		struct frame *g = c->head;

		c->head = g->free.next;
		g->flags = 0;
		pool_add_locked(g, 0);
	}
	__atomic_store_n(&c->count, 0, __ATOMIC_RELAXED);
	spin_unlock(&frame_pool_lock);
	irq_pop();
}

uint64_t frame_free_count(void)
{
	uint64_t n;

	spin_lock(&frame_pool_lock);
	n = pool_free;
	spin_unlock(&frame_pool_lock);
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++)
		n += __atomic_load_n(&caches[i].count, __ATOMIC_RELAXED);
	return n;
}

uint64_t frame_total_count(void)
{
	return total_frames;
}
