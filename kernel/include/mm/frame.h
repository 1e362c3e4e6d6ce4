#pragma once
/*
 * frame.h - one record per 4 KiB physical frame, and the frame allocator
 *
 * struct frame - bookkeeping for one physical frame; indexed by PFN.
 *
 * The record is 32 bytes in every configuration (pinned by a static_assert
 * in frame.c): 128 records share a 4 KiB page, 0.8% of RAM. It is two words
 * of header and a 16-byte union whose member depends on the frame's use;
 * only the member matching the FRAME_F_* use bit is meaningful.
 *
 * Locking:
 *   flags      use bits set by frame_alloc*() (or frame_init for reserved
 *              frames) before the frame is handed out; read-only until
 *              frame_free(). Pool blocks' flags change under
 *              frame_pool_lock; a cached frame's (FRAME_F_CACHED) by the
 *              holder of its cache's list. Stores are relaxed atomics:
 *              the pool's buddy merge reads neighbours' flags unlocked.
 *   order      block order; frame_pool_lock while free, owner while used.
 *   refcount   atomic; references to a user frame (copy-on-write later).
 *   free       frame_pool_lock while FRAME_F_FREE and in the pool. In a
 *              hart's cache (FRAME_F_CACHED): whoever holds that cache's
 *              list, the owner hart or a hart that took the list from it
 *              (struct frame_cache in frame.c).
 *   pt.pt_lock exists only while FRAME_F_PT is set (a page-table page). In
 *              split mode it guards every entry of the leaf table this
 *              frame holds, and pt.nr_valid. Rank 20 (docs/locking.md).
 *              The lock is 8 bytes with or without lock debugging, so it
 *              lives in the record itself (no out-of-line lock).
 *   pt.nr_valid valid entries in this table; the lock covering the table
 *              (pt_lock in split mode for leaves, else the address space's).
 *   user.mapcount atomic; page-table entries that map this user frame.
 *   owner      allocating hart + 1 (debug, reports); owner while used.
 *   batch_next links a frame into a list of frames waiting for a TLB
 *              shootdown before they are freed; owned by the hart that
 *              unmapped it. Kept apart from the union so that a page-table
 *              page's lock word stays intact while late walkers still
 *              spin on it.
 */
#include <kern/types.h>
#include <kern/spinlock_types.h>
#include <mm/memmap.h>

#define FRAME_F_FREE		BIT(0)	/* in the buddy pool or a hart cache */
#define FRAME_F_RESERVED	BIT(1)	/* never allocatable (firmware, image) */
#define FRAME_F_PT		BIT(2)	/* a page-table page */
#define FRAME_F_USER		BIT(3)	/* user memory (anonymous, pager) */
#define FRAME_F_KERNEL		BIT(4)	/* kernel stacks, buffers */
#define FRAME_F_HEAD		BIT(5)	/* first frame of an allocated block */
#define FRAME_F_CACHED		BIT(6)	/* free, in a per-hart cache */
#define FRAME_USE_MASK		(FRAME_F_PT | FRAME_F_USER | FRAME_F_KERNEL)

#define FRAME_MAX_ORDER		10	/* largest block: 4 MiB */

/*
 * The per-hart caches of single frames in front of the buddy pool
 * (frame.c, struct frame_cache). A cache refills with one naturally
 * aligned block of FRAME_CACHE_BATCH frames. Past FRAME_CACHE_HIGH frames
 * it gives back the block its last FRAME_CACHE_BATCH frees completed, if
 * they did (an unmap frees a region's frames in the order they came, so
 * whole blocks go back with one merge instead of one per frame); past
 * FRAME_CACHE_MAX it gives back FRAME_CACHE_BATCH frames whatever they
 * are.
 */
#define FRAME_CACHE_BATCH_ORDER	5
#define FRAME_CACHE_BATCH	(1 << FRAME_CACHE_BATCH_ORDER)
#define FRAME_CACHE_HIGH	64
#define FRAME_CACHE_MAX	(FRAME_CACHE_HIGH + 2 * FRAME_CACHE_BATCH)

/* Flags for frame_alloc() beyond the use bits. */
#define FRAME_ZERO		BIT(15)	/* clear the block before returning */

struct frame {
	uint16_t flags;
	uint8_t order;
	uint8_t owner;
	uint32_t refcount;
	union {
		struct {
			struct frame *next, *prev;
		} free;
		struct {
			struct spinlock pt_lock;
			uint32_t nr_valid;
			uint8_t level;
			uint8_t pad[3];
		} pt;
		struct {
			uint32_t mapcount;
			uint32_t pad;
			uint64_t pad2;
		} user;
	};
	struct frame *batch_next;
};

extern struct frame *frame_table;	/* immutable after frame_init */
extern pfn_t frame_base_pfn, frame_end_pfn;

static inline struct frame *pfn_to_frame(pfn_t pfn)
{
	if (pfn < frame_base_pfn || pfn >= frame_end_pfn)
		return NULL;
	return &frame_table[pfn - frame_base_pfn];
}

static inline pfn_t frame_to_pfn(const struct frame *f)
{
	return frame_base_pfn + (pfn_t)(f - frame_table);
}

static inline paddr_t frame_to_pa(const struct frame *f)
{
	return frame_to_pfn(f) << PAGE_SHIFT;
}

static inline struct frame *pa_to_frame(paddr_t pa)
{
	return pfn_to_frame(pa >> PAGE_SHIFT);
}

void *frame_to_kva(const struct frame *f);
struct frame *kva_to_frame(const void *kva);

static inline bool frame_is_pt(const struct frame *f)
{
	return f->flags & FRAME_F_PT;
}

/*
 * frame_init - build the frame table over the RAM in @usable
 * @lo, @hi: lowest and one-past-highest physical address of RAM (banks),
 *           so the table also covers holes and reserved frames
 *
 * The table itself is carved from the first usable range large enough.
 * Return: 0, or -E_NOMEM if no range can hold it.
 */
int frame_init(const struct mem_range *usable, int n, paddr_t lo, paddr_t hi);

/*
 * frame_alloc - allocate 2^@order contiguous frames, naturally aligned
 * @flags: exactly one of FRAME_F_PT, FRAME_F_USER, FRAME_F_KERNEL, plus
 *         optionally FRAME_ZERO
 *
 * Order 0 comes from this hart's cache (no lock, no shared write) and the
 * cache refills from the pool in blocks of FRAME_CACHE_BATCH (32) frames.
 * When the pool is empty, the other harts' caches are emptied into it
 * first: NULL means no free frame was left anywhere. An order > 0 request
 * that finds no block empties every cache into the pool (their frames may
 * be what the block lacks) and tries once more.
 * Context: any; takes frame_pool_lock (rank 30) only to refill, give
 * frames back, or for order > 0.
 * Return: the head frame, or NULL when memory is exhausted.
 */
struct frame *frame_alloc(unsigned int order, unsigned int flags);
/* A zeroed page-table page with its pt_lock initialised. */
struct frame *frame_alloc_pt(unsigned int level);
/*
 * frame_free - give back a block from frame_alloc
 *
 * A double free, a free of a reserved frame, of a frame that is not the
 * head of a block, or of a user frame still mapped is a kernel bug: it
 * panics with the frame's number and state.
 */
void frame_free(struct frame *f);

/* Free frames: pool plus every hart's cache (approximate while others
 * allocate; exact when quiet). */
uint64_t frame_free_count(void);
uint64_t frame_total_count(void);
/* Return this hart's cached frames to the pool. */
void frame_cache_drain(void);
/* Return every hart's cached frames to the pool (from any hart; the other
 * harts' caches are emptied under their feet, which they allow). */
void frame_cache_drain_all(void);
/* Allocations that found the pool short and took other harts' cached
 * frames (statistics; since frame_init). */
uint64_t frame_cache_steals(void);
/* Describe @f's state in @buf, for reports. */
void frame_describe(const struct frame *f, char *buf, size_t len);
