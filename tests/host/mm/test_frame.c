/*
 * test_frame.c - the frame allocator (kernel/mm/frame.c): every order and
 * its alignment, exhaustion, reserved ranges, per-hart caches (their
 * counts, whole-block give-back, other harts taking their frames when
 * memory runs low) alone and under 8 pthread harts, and the panics that
 * catch misuse (in forked children).
 */
#include "mm_test.h"
#include "../../../kernel/mm/mm_internal.h"
#include <arch/memlayout.h>
#include <kern/string.h>
#include <mm/memmap.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bool block_ok(struct ktest_ctx *kt, struct frame *f, unsigned int order,
		     unsigned int use)
{
	paddr_t pa = frame_to_pa(f);
	bool ok = true;

	ok &= KT_EXPECT(IS_ALIGNED(pa, PAGE_SIZE << order));
	ok &= KT_EXPECT(IS_ALIGNED((uintptr_t)frame_to_kva(f),
				   PAGE_SIZE << order));
	ok &= KT_EXPECT_EQ(f->flags, use | FRAME_F_HEAD);
	ok &= KT_EXPECT_EQ(f->order, order);
	ok &= KT_EXPECT_EQ(f->owner, hart_self() + 1);
	for (unsigned long i = 1; i < (1UL << order) && ok; i++)
		ok &= KT_EXPECT_EQ(f[i].flags, use);
	return ok;
}

KTEST(frame_every_order)
{
	struct frame *f[FRAME_MAX_ORDER + 1][3];
	uint64_t start, total, big = 0;
	struct frame *z;

	KT_ASSERT_EQ(mm_setup(16), 0);
	total = frame_total_count();
	/* 4096 frames; the 128 KiB table (32 frames) comes off the top. */
	KT_EXPECT_EQ(total, 4096 - 4096 * sizeof(struct frame) / PAGE_SIZE);
	start = frame_free_count();
	KT_EXPECT_EQ(start, total);
	/* Three blocks of each order up to 7, one of 8, 9 and 10: 11 MiB. */
	for (unsigned int o = 0; o <= FRAME_MAX_ORDER; o++) {
		for (int i = 0; i < (o <= 7 ? 3 : 1); i++) {
			f[o][i] = frame_alloc(o, FRAME_F_KERNEL);
			KT_ASSERT(f[o][i]);
			KT_EXPECT(block_ok(kt, f[o][i], o, FRAME_F_KERNEL));
			/* The whole block is RAM (ASan checks the arena). */
			memset(frame_to_kva(f[o][i]), 0x5a, PAGE_SIZE << o);
		}
	}
	KT_EXPECT(frame_alloc(FRAME_MAX_ORDER + 1, FRAME_F_KERNEL) == NULL);
	KT_EXPECT_EQ(frame_free_count(), start - 3 * 255 - 256 - 512 - 1024);
	for (unsigned int o = 0; o <= FRAME_MAX_ORDER; o++)
		for (int i = 0; i < (o <= 7 ? 3 : 1); i++)
			frame_free(f[o][i]);
	KT_EXPECT_EQ(mm_free_frames(), start);

	/* Everything merged back: every aligned 4 MiB block is whole except
	 * the first, which holds the frame table. */
	while ((f[0][big] = frame_alloc(FRAME_MAX_ORDER, FRAME_F_USER))) {
		KT_EXPECT(block_ok(kt, f[0][big], FRAME_MAX_ORDER,
				   FRAME_F_USER));
		KT_EXPECT_EQ(f[0][big]->refcount, 1);
		if (++big == 3)
			break;
	}
	KT_EXPECT_EQ(big, 3);
	KT_EXPECT(frame_alloc(FRAME_MAX_ORDER, FRAME_F_USER) == NULL);
	for (uint64_t i = 0; i < big; i++)
		frame_free(f[0][i]);

	/* FRAME_ZERO clears what the last owner left (the cache is LIFO, so
	 * the dirty frame comes straight back). */
	z = frame_alloc(0, FRAME_F_KERNEL);
	KT_ASSERT(z);
	memset(frame_to_kva(z), 0xee, PAGE_SIZE);
	frame_free(z);
	z = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
	KT_ASSERT(z);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (((unsigned char *)frame_to_kva(z))[i]) {
			KT_EXPECT(!"FRAME_ZERO frame not zero");
			break;
		}
	frame_free(z);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/* Allocate with random orders until NULL; free in random order. */
static uint64_t fill_random(struct ktest_ctx *kt, uint64_t *rng,
			    struct frame **held, size_t max, size_t *n)
{
	uint64_t frames = 0;
	unsigned int fails = 0;

	*n = 0;
	while (*n < max && fails < 64) {
		unsigned int o = host_rand(rng) % 6;
		struct frame *f = frame_alloc(o, FRAME_F_KERNEL);

		if (!f) {
			fails++;	/* try smaller orders before giving up */
			continue;
		}
		block_ok(kt, f, o, FRAME_F_KERNEL);
		held[(*n)++] = f;
		frames += 1UL << o;
	}
	return frames;
}

KTEST(frame_exhaustion)
{
	static struct frame *held[1024];
	uint64_t total, start, rng = host_seed() ^ 0xe4a05;
	size_t n = 0;

	KT_ASSERT_EQ(mm_setup(2), 0);
	total = frame_total_count();
	KT_EXPECT_EQ(total, 512 - 4);	/* minus a 16 KiB table */
	start = frame_free_count();
	/* Single frames until the pool and this hart's cache are dry. */
	while ((held[n] = frame_alloc(0, FRAME_F_KERNEL)))
		n++;
	KT_EXPECT_EQ(n, total);
	KT_EXPECT_EQ(frame_free_count(), 0);
	for (unsigned int o = 0; o <= FRAME_MAX_ORDER; o++)
		KT_EXPECT(frame_alloc(o, FRAME_F_USER) == NULL);
	KT_EXPECT(frame_alloc_pt(0) == NULL);
	while (n)
		frame_free(held[--n]);
	KT_EXPECT_EQ(mm_free_frames(), start);

	/* Random orders until nothing fits, three times over. */
	for (int round = 0; round < 3; round++) {
		uint64_t got = fill_random(kt, &rng, held, ARRAY_SIZE(held),
					   &n);

		KT_EXPECT(got > total / 2);
		for (size_t i = n; i > 1; i--) {
			size_t j = host_rand(&rng) % i;
			struct frame *t = held[i - 1];

			held[i - 1] = held[j];
			held[j] = t;
		}
		while (n)
			frame_free(held[--n]);
		KT_EXPECT_EQ(mm_free_frames(), start);
	}
	/* And the buddies merged again: the largest block 2 MiB can hold
	 * after the table (pfns 256..511, order 8) is there. */
	held[0] = frame_alloc(8, FRAME_F_KERNEL);
	KT_EXPECT(held[0] != NULL);
	if (held[0])
		frame_free(held[0]);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(frame_reserved_ranges)
{
	const struct mem_range rsv[] = {
		{ HOST_RAM_BASE + (1UL << 20), HOST_RAM_BASE + (1UL << 20) +
						       3 * PAGE_SIZE },
		/* unaligned: rounds outward to one whole frame */
		{ HOST_RAM_BASE + (3UL << 19) + 100,
		  HOST_RAM_BASE + (3UL << 19) + 101 },
	};
	static struct frame *held[512];
	struct frame *table;
	size_t n = 0;
	bool in_rsv = false;

	KT_ASSERT_EQ(mm_setup(2), 0);
	KT_ASSERT_EQ(host_mem_init(2, rsv, ARRAY_SIZE(rsv)), 0);
	KT_EXPECT_EQ(frame_total_count(), 512 - 4 - 3 - 1);
	table = kva_to_frame(frame_table);
	KT_EXPECT_EQ(frame_to_pa(table), HOST_RAM_BASE);
	for (int i = 0; i < 4; i++)
		KT_EXPECT(table[i].flags & FRAME_F_RESERVED);
	KT_EXPECT(pa_to_frame(rsv[0].start + 2 * PAGE_SIZE)->flags &
		  FRAME_F_RESERVED);
	KT_EXPECT(pa_to_frame(rsv[1].start)->flags & FRAME_F_RESERVED);
	while ((held[n] = frame_alloc(0, FRAME_F_USER))) {
		paddr_t pa = frame_to_pa(held[n]);

		for (size_t r = 0; r < ARRAY_SIZE(rsv); r++)
			if (pa + PAGE_SIZE > rsv[r].start && pa < rsv[r].end)
				in_rsv = true;
		if (pa < HOST_RAM_BASE + 4 * PAGE_SIZE)
			in_rsv = true;
		n++;
	}
	KT_EXPECT(!in_rsv);
	KT_EXPECT_EQ(n, frame_total_count());
	while (n)
		frame_free(held[--n]);
	KT_EXPECT_EQ(mm_free_frames(), frame_total_count());
}

KTEST(frame_cache_counts)
{
	static struct frame *held[200];
	uint64_t start;

	KT_ASSERT_EQ(mm_setup(4), 0);
	start = frame_free_count();
	for (int i = 0; i < 200; i++)
		KT_ASSERT(held[i] = frame_alloc(0, FRAME_F_KERNEL));
	KT_EXPECT_EQ(frame_free_count(), start - 200);
	/* Frees land in this hart's cache (which gives whole blocks back
	 * past 64 frames); the count includes cached frames all along. A
	 * frame is free at once, in the cache or in a pool block (where
	 * only the block's head carries FRAME_F_FREE). */
	for (int i = 0; i < 200; i++) {
		frame_free(held[i]);
		KT_EXPECT(!(held[i]->flags & FRAME_USE_MASK));
	}
	KT_EXPECT_EQ(frame_free_count(), start);
	frame_cache_drain();
	KT_EXPECT_EQ(frame_free_count(), start);
	for (int i = 0; i < 200; i++)
		KT_EXPECT(!(held[i]->flags & FRAME_F_CACHED));
	/* A frame allocated on one hart may be freed on another. */
	held[0] = frame_alloc(0, FRAME_F_KERNEL);
	host_hart_enter(5);
	frame_free(held[0]);
	host_hart_enter(0);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/* Every usable frame, allocated on this hart, indexed by frame number
 * (frame_table index); Return: how many. */
static size_t alloc_all(struct frame **byidx, size_t max)
{
	struct frame *f;
	size_t n = 0;

	while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
		size_t i = (size_t)(f - frame_table);

		if (i < max)
			byidx[i] = f;
		n++;
	}
	return n;
}

static uint64_t pool_lock_taken(void)
{
	struct lockstat ls;

	lockstat_sum(LOCK_CLASS_FRAME, &ls);
	return ls.acquired;
}

/*
 * A cache gives back the aligned block of FRAME_CACHE_BATCH its last frees
 * filled, as one block, and only when those frees are exactly that block:
 * an allocation, a steal or a drain in between ends the run.
 */
#define RB	FRAME_CACHE_BATCH
#define RS	(FRAME_CACHE_HIGH - RB + 2)	/* frames that form no run */

KTEST(frame_cache_runs)
{
	static struct frame *byidx[1024];
	struct frame *last, *f;
	uint64_t start, acq;
	size_t n, got = 0;

	_Static_assert(12 * RB <= 1024 && RS <= 2 * RB, "fixture too small");
	_Static_assert(RS + 2 * RB <= FRAME_CACHE_MAX, "no singles drain");
	KT_ASSERT_EQ(mm_setup(4), 0);
	KT_ASSERT(IS_ALIGNED(frame_to_pfn(frame_table), RB));
	start = frame_free_count();
	n = alloc_all(byidx, ARRAY_SIZE(byidx));
	KT_ASSERT_EQ(n, start);
	KT_ASSERT_EQ(frame_free_count(), 0);

	/* RS frames from blocks 10 and 11 by turns: no run grows, and the
	 * cache keeps them (below its high mark: no trip to the pool). */
	mm_counters_reset();
	for (size_t j = 0; j < RS; j++)
		frame_free(byidx[(j % 2 ? 10 : 11) * RB + j / 2]);
	KT_EXPECT_EQ(pool_lock_taken(), 0);
	KT_EXPECT_EQ(frame_free_count(), RS);

	/* Block 1: all but one freed, then an allocation takes the last one
	 * freed back: the run is over, so freeing the remaining frame
	 * completes nothing (the cache is past its high mark now: the block
	 * would go back if it did). */
	acq = pool_lock_taken();	/* frame_free_count takes it too */
	for (size_t i = RB; i < 2 * RB - 1; i++)
		frame_free(byidx[i]);
	last = frame_alloc(0, FRAME_F_KERNEL);
	KT_EXPECT(last == byidx[2 * RB - 2]);
	frame_free(byidx[2 * RB - 1]);
	KT_EXPECT_EQ(pool_lock_taken(), acq);
	KT_EXPECT_EQ(last->flags, FRAME_F_KERNEL | FRAME_F_HEAD);
	KT_EXPECT(byidx[RB]->flags & FRAME_F_CACHED);
	frame_free(last);
	KT_EXPECT_EQ(frame_free_count(), RS + RB);

	/* Block 2, freed backwards: one trip to the pool, with the block
	 * whole (its buddy, block 3, is in use: no merge). */
	acq = pool_lock_taken();
	for (size_t i = 3 * RB; i-- > 2 * RB;)
		frame_free(byidx[i]);
	KT_EXPECT_EQ(pool_lock_taken(), acq + 1);
	KT_EXPECT_EQ(byidx[2 * RB]->flags, FRAME_F_FREE | FRAME_F_HEAD);
	KT_EXPECT_EQ(byidx[2 * RB]->order, FRAME_CACHE_BATCH_ORDER);
	for (size_t i = 2 * RB + 1; i < 3 * RB; i++)
		KT_EXPECT_EQ(byidx[i]->flags, 0);
	KT_EXPECT_EQ(frame_free_count(), RS + 2 * RB);

	/* Block 3: ten frees, another hart takes the whole cache, the rest
	 * of the block freed. */
	for (size_t i = 3 * RB; i < 3 * RB + 10; i++)
		frame_free(byidx[i]);
	host_hart_enter(2);
	frame_cache_drain_all();
	host_hart_enter(0);
	KT_EXPECT(!(byidx[3 * RB]->flags & FRAME_F_CACHED));
	KT_EXPECT_EQ(frame_free_count(), RS + 2 * RB + 10);
	for (size_t i = 3 * RB + 10; i < 4 * RB; i++)
		frame_free(byidx[i]);
	KT_EXPECT_EQ(frame_free_count(), RS + 3 * RB);

	/* Everything free is handed out exactly once. */
	memset(byidx, 0, sizeof(byidx));
	while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
		size_t i = (size_t)(f - frame_table);

		KT_EXPECT(i < ARRAY_SIZE(byidx) && !byidx[i]);
		if (i < ARRAY_SIZE(byidx))
			byidx[i] = f;
		got++;
	}
	KT_EXPECT_EQ(got, RS + 3 * RB);
	for (size_t i = 0; i < ARRAY_SIZE(byidx); i++)
		if (byidx[i])
			frame_free(byidx[i]);
	KT_EXPECT_EQ(mm_free_frames(), RS + 3 * RB);

	/* Give everything back, in order, from another hart, and look at
	 * the pool: the upper 2 MiB merged into one block again. */
	n = alloc_all(byidx, ARRAY_SIZE(byidx));
	KT_EXPECT_EQ(n, RS + 3 * RB);
	host_hart_enter(6);
	for (size_t i = 0; i < 1024; i++)
		if (frame_table[i].flags == (FRAME_F_KERNEL | FRAME_F_HEAD))
			frame_free(&frame_table[i]);
	host_hart_enter(0);
	KT_EXPECT_EQ(mm_free_frames(), start);
	f = frame_alloc(9, FRAME_F_KERNEL);
	KT_EXPECT(f && frame_to_pfn(f) == frame_to_pfn(frame_table) + 512);
	if (f)
		frame_free(f);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/*
 * Frames cached by one hart are not lost to the others: an allocation
 * that finds the pool empty takes them, and so does a block allocation
 * that lacks them.
 */
KTEST(frame_cache_steal)
{
	static struct frame *byidx[512];
	struct frame *f;
	uint64_t start, steals;
	size_t n, got = 0, cached_hi = 0;

	_Static_assert(FRAME_CACHE_HIGH >= 64, "a cache keeps 64 frames");
	KT_ASSERT_EQ(mm_setup(2), 0);
	start = frame_free_count();
	n = alloc_all(byidx, ARRAY_SIZE(byidx));
	KT_ASSERT_EQ(n, start);

	/* Hart 3 frees 40 frames: all stay in its cache. */
	host_hart_enter(3);
	for (size_t i = 100; i < 140; i++)
		frame_free(byidx[i]);
	host_hart_enter(0);
	KT_EXPECT_EQ(frame_free_count(), 40);
	KT_EXPECT(byidx[100]->flags & FRAME_F_CACHED);
	steals = frame_cache_steals();
	mm_counters_reset();
	while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
		KT_EXPECT(f >= byidx[100] && f < byidx[100] + 40);
		byidx[f - frame_table] = f;
		got++;
	}
	KT_EXPECT_EQ(got, 40);
	KT_EXPECT_EQ(frame_cache_steals(), steals + 1);
	KT_EXPECT_EQ(frame_free_count(), 0);
	KT_INFO("40 frames from hart 3's cache: %lu pool-lock acquisitions",
		(unsigned long)pool_lock_taken());

	/* Hart 5 frees a quarter of the upper 1 MiB, which its cache keeps
	 * (64 frames, not past its high mark); this hart frees the rest.
	 * The upper 1 MiB is one block only with hart 5's frames. */
	host_hart_enter(5);
	for (size_t i = 256; i < 320; i++)
		frame_free(byidx[i]);
	host_hart_enter(0);
	for (size_t i = 0; i < ARRAY_SIZE(byidx); i++)
		if (byidx[i] && (i < 256 || i >= 320))
			frame_free(byidx[i]);
	for (size_t i = 256; i < 512; i++)
		cached_hi += !!(frame_table[i].flags & FRAME_F_CACHED);
	KT_EXPECT_EQ(cached_hi, 64);
	KT_EXPECT_EQ(frame_free_count(), start);
	f = frame_alloc(8, FRAME_F_KERNEL);
	KT_EXPECT(f && f == &frame_table[256]);
	KT_EXPECT_EQ(frame_cache_steals(), steals + 2);
	if (f)
		frame_free(f);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/*
 * A thief that stops between finding a cache not empty and moving its
 * list to the pool (a thread preempted there: frame_cache_drain_all() and
 * block allocations run with interrupts on) must not hold up an
 * allocation on another hart that finds the pool empty. Hart 3's cache
 * holds the only free frames; hart 1 empties every cache and is held in
 * that window until hart 2's allocation has returned, at most 2 s. If the
 * thief held the list there, counted in hart 3's cache but in no list,
 * hart 2 would wait for it, interrupts off, for as long as the thief was
 * kept from running.
 */
struct ts_arg {
	unsigned int in_window, released, timed_out;	/* atomic */
	struct frame *got;
};

static struct ts_arg *ts_case;	/* atomic */

static void hold_thief(int where)
{
	struct ts_arg *a = __atomic_load_n(&ts_case, __ATOMIC_ACQUIRE);
	uint64_t until;

	if (where != MM_RACE_CACHE_STEAL || !a || hart_self() != 1 ||
	    __atomic_exchange_n(&a->in_window, 1, __ATOMIC_ACQ_REL))
		return;
	until = mm_now() + 2000000000ULL;
	while (!__atomic_load_n(&a->released, __ATOMIC_ACQUIRE) &&
	       mm_now() < until)
		arch_cpu_relax();
	if (!__atomic_load_n(&a->released, __ATOMIC_ACQUIRE))
		__atomic_store_n(&a->timed_out, 1, __ATOMIC_RELEASE);
}

static void ts_worker(unsigned int id, void *p)
{
	struct ts_arg *a = p;

	if (id == 1) {
		frame_cache_drain_all();
	} else if (id == 2) {
		mm_wait_flag(&a->in_window, 1);
		a->got = frame_alloc(0, FRAME_F_KERNEL);
		mm_set_flag(&a->released, 1);
	}
}

KTEST(frame_cache_steal_stalled_thief)
{
	static struct frame *byidx[512];
	struct ts_arg a = { .got = NULL };
	uint64_t start;
	size_t n;

	KT_ASSERT_EQ(mm_setup(2), 0);
	start = frame_free_count();
	n = alloc_all(byidx, ARRAY_SIZE(byidx));
	KT_ASSERT_EQ(n, start);
	host_hart_enter(3);
	for (size_t i = 100; i < 140; i++) {
		frame_free(byidx[i]);
		byidx[i] = NULL;
	}
	host_hart_enter(0);
	KT_ASSERT_EQ(frame_free_count(), 40);

	__atomic_store_n(&ts_case, &a, __ATOMIC_RELEASE);
	__atomic_store_n(&host_race_hook, hold_thief, __ATOMIC_RELAXED);
	mm_smp_run(3, ts_worker, &a);
	__atomic_store_n(&host_race_hook, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&ts_case, NULL, __ATOMIC_RELEASE);

	KT_EXPECT_EQ(a.in_window, 1);
	KT_EXPECT(a.got != NULL);
	KT_EXPECT_EQ(a.timed_out, 0);
	if (a.got)
		frame_free(a.got);
	for (size_t i = 0; i < ARRAY_SIZE(byidx); i++)
		if (byidx[i])
			frame_free(byidx[i]);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

/* ---- 8 harts allocating and freeing at once ----------------------------- */

#define FC_HELD		32
#define FC_MAILBOX	16

struct fc_arg {
	unsigned long ops;
	uint64_t deadline;
	uint64_t seed;
	struct frame *mailbox[FC_MAILBOX];	/* atomic exchange */
	unsigned int bad, misaligned;		/* atomic */
	unsigned long nomem, allocs;		/* atomic */
	bool high_orders;
};

/* A block carries a tag in its first and last word while someone owns
 * it; if the allocator handed it to two harts, one sees the other's. */
static uint64_t *tag_words(struct frame *f, uint64_t **last)
{
	char *p = frame_to_kva(f);

	*last = (uint64_t *)(p + (PAGE_SIZE << f->order)) - 1;
	return (uint64_t *)p;
}

static void tag_set(struct frame *f, uint64_t tag)
{
	uint64_t *last, *first = tag_words(f, &last);

	*first = tag;
	*last = tag;
}

static bool tag_ok(struct frame *f, uint64_t tag)
{
	uint64_t *last, *first = tag_words(f, &last);

	return *first == tag && *last == tag;
}

/* Free the @n frames of @held; return how many lost their tag. */
static unsigned int free_held(struct frame **held, const uint64_t *tags,
			      unsigned int n)
{
	unsigned int bad = 0;

	while (n) {
		n--;
		if (!tag_ok(held[n], tags[n]))
			bad++;
		frame_free(held[n]);
	}
	return bad;
}

static void fc_worker(unsigned int id, void *p)
{
	struct fc_arg *a = p;
	struct frame *held[FC_HELD];
	uint64_t tags[FC_HELD], rng = a->seed ^ ((id + 1) * 0x9e3779b97f4a7c15);
	unsigned long nomem = 0, allocs = 0;
	unsigned int n = 0, bad = 0, mis = 0;

	for (unsigned long i = 0; i < a->ops; i++) {
		uint64_t r = host_rand(&rng);

		if (i % 256 == 255 && mm_now() > a->deadline)
			break;
		if (n == 0 || (n < FC_HELD && (r & 3) < 2)) {
			unsigned int o = 0;
			struct frame *f;

			if (a->high_orders && (r >> 8) % 4 == 0)
				o = 1 + (r >> 16) % 4;
			f = frame_alloc(o, FRAME_F_KERNEL);
			if (!f) {
				nomem++;
			} else {
				allocs++;
				if (!IS_ALIGNED(frame_to_pa(f), PAGE_SIZE << o) ||
				    f->order != o)
					mis++;
				tags[n] = ((uint64_t)id << 48) | i;
				tag_set(f, tags[n]);
				held[n++] = f;
			}
		} else if ((r & 3) == 2) {
			/* Swap with the mailbox: frees of other harts'
			 * frames, from this hart's cache. */
			unsigned int k = (r >> 4) % n;
			struct frame *got;

			if (!tag_ok(held[k], tags[k]))
				bad++;
			got = __atomic_exchange_n(&a->mailbox[(r >> 12) %
							      FC_MAILBOX],
						  held[k], __ATOMIC_ACQ_REL);
			if (got) {
				held[k] = got;
				tags[k] = *(uint64_t *)frame_to_kva(got);
			} else {
				held[k] = held[--n];
				tags[k] = tags[n];
			}
		} else {
			unsigned int k = (r >> 4) % n;

			if (!tag_ok(held[k], tags[k]))
				bad++;
			frame_free(held[k]);
			held[k] = held[--n];
			tags[k] = tags[n];
		}
		host_hart_poll();
	}
	bad += free_held(held, tags, n);
	__atomic_fetch_add(&a->bad, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->misaligned, mis, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->nomem, nomem, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->allocs, allocs, __ATOMIC_RELAXED);
}

/* Run the 8 harts; Return: true if every check held (printed if not). */
static bool frame_smp_run(struct fc_arg *a, size_t mib, char *msg, size_t len)
{
	struct lockstat ls;
	uint64_t start, free, ns;

	if (mm_setup(mib))
		return false;
	start = frame_free_count();
	a->deadline = mm_deadline(1000);
	ns = mm_smp_run(MM_HARTS, fc_worker, a);
	for (int i = 0; i < FC_MAILBOX; i++)
		if (a->mailbox[i])
			frame_free(a->mailbox[i]);
	free = mm_free_frames();
	lockstat_sum(LOCK_CLASS_FRAME, &ls);
	snprintf(msg, len, "seed=%lu: %d harts x %lu ops, %lu allocations "
		 "(%lu NULL) in %lu ms; pool lock %lu acquisitions, %lu "
		 "contended; %lu caches taken by other harts; %u blocks "
		 "corrupt, %u misaligned, %lu of %lu frames back", host_seed(),
		 MM_HARTS, a->ops, a->allocs, a->nomem,
		 (unsigned long)(ns / 1000000), (unsigned long)ls.acquired,
		 (unsigned long)ls.contended,
		 (unsigned long)frame_cache_steals(), a->bad, a->misaligned,
		 (unsigned long)free, (unsigned long)start);
	return !a->bad && !a->misaligned && free == start;
}

/* Single frames only: the per-hart caches and their refills/drains. */
KTEST(frame_smp_caches)
{
	struct fc_arg a = { .ops = mm_ops(20000), .seed = host_seed() };
	char msg[360];

	KT_EXPECT(frame_smp_run(&a, 64, msg, sizeof(msg)));
	KT_INFO("%s", msg);
}

/*
 * Low memory: 2 MiB (508 frames) and 8 harts that allocate, free, and
 * pass frames on through a mailbox, even harts giving more than they take
 * (so that many frames are freed on a hart other than the one that
 * allocated them, and the odd harts' caches fill while the even harts'
 * run dry). Free frames sit in the harts' caches, so an allocation often
 * finds the pool empty and must take other harts' cached frames; now and
 * then a hart also empties every cache (frame_cache_drain_all) under the
 * others' feet. The harts hold at most LM_HELD frames each, the mailbox
 * LM_SLOTS, and every hart may have one more on its way in or out: at
 * least 508 - 8 x 56 - 16 - 8 = 36 frames are free at every moment, so no
 * allocation may fail.
 */
#define LM_HELD		56
#define LM_SLOTS	16
_Static_assert(508 - MM_HARTS * LM_HELD - LM_SLOTS - MM_HARTS > 0,
	       "frame_smp_lowmem: no free frame guaranteed");

struct lm_arg {
	unsigned long ops;
	uint64_t deadline, seed;
	struct frame *slot[LM_SLOTS];		/* atomic exchange */
	unsigned long nomem, allocs, swaps;	/* atomic */
	unsigned int bad;			/* atomic */
};

static void lm_worker(unsigned int id, void *p)
{
	struct lm_arg *a = p;
	struct frame *held[LM_HELD];
	uint64_t tags[LM_HELD], rng = a->seed ^ ((id + 1) * 0xd1b54a32d192ed03);
	unsigned long nomem = 0, allocs = 0, swaps = 0;
	unsigned int n = 0, bad = 0;

	for (unsigned long i = 0; i < a->ops; i++) {
		uint64_t r = host_rand(&rng);
		unsigned int k = n ? (r >> 4) % n : 0;

		if (i % 256 == 255 && mm_now() > a->deadline)
			break;
		if ((r >> 20) % 65536 == 0)
			frame_cache_drain_all();
		if (n == 0 || (n < LM_HELD && (r & 3) < 2)) {
			struct frame *f = frame_alloc(0, FRAME_F_KERNEL);

			if (!f) {
				nomem++;
			} else {
				allocs++;
				tags[n] = ((uint64_t)id << 48) | i;
				tag_set(f, tags[n]);
				held[n++] = f;
			}
		} else if ((r & 3) == 2 && (id & 1) && n < LM_HELD) {
			/* Odd harts take without giving: frames flow from
			 * even harts' caches to odd harts' caches. */
			struct frame *got = __atomic_exchange_n(
				&a->slot[(r >> 12) % LM_SLOTS], NULL,
				__ATOMIC_ACQ_REL);

			if (got) {
				held[n] = got;
				tags[n++] = *(uint64_t *)frame_to_kva(got);
				swaps++;
			}
		} else if ((r & 3) == 2) {
			/* Swap with the mailbox: the frame got is freed
			 * here later, wherever it came from. */
			struct frame *got;

			if (!tag_ok(held[k], tags[k]))
				bad++;
			got = __atomic_exchange_n(&a->slot[(r >> 12) % LM_SLOTS],
						  held[k], __ATOMIC_ACQ_REL);
			if (got) {
				held[k] = got;
				tags[k] = *(uint64_t *)frame_to_kva(got);
				swaps++;
			} else {
				held[k] = held[--n];
				tags[k] = tags[n];
			}
		} else {
			if (!tag_ok(held[k], tags[k]))
				bad++;
			frame_free(held[k]);
			held[k] = held[--n];
			tags[k] = tags[n];
		}
		host_hart_poll();
	}
	bad += free_held(held, tags, n);
	__atomic_fetch_add(&a->nomem, nomem, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->allocs, allocs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->swaps, swaps, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->bad, bad, __ATOMIC_RELAXED);
}

KTEST(frame_smp_lowmem)
{
	struct lm_arg a = { .ops = mm_ops(~0UL), .seed = host_seed() };
	uint64_t start, free, ns;
	struct lockstat ls;

	KT_ASSERT_EQ(mm_setup(2), 0);
	KT_ASSERT_EQ(frame_total_count(), 508);
	start = frame_free_count();
	a.deadline = mm_deadline(500);
	ns = mm_smp_run(MM_HARTS, lm_worker, &a);
	for (int i = 0; i < LM_SLOTS; i++)
		if (a.slot[i])
			frame_free(a.slot[i]);
	free = mm_free_frames();
	lockstat_sum(LOCK_CLASS_FRAME, &ls);
	KT_INFO("seed=%lu: %d harts, %lu ms: %lu allocations (%lu NULL), "
		"%lu frames from another hart, %u corrupt; pool lock %lu "
		"acquisitions (%lu contended); %lu allocations took other "
		"harts' cached frames; %lu of %lu frames back", host_seed(),
		MM_HARTS, (unsigned long)(ns / 1000000), a.allocs, a.nomem,
		a.swaps, a.bad, (unsigned long)ls.acquired,
		(unsigned long)ls.contended,
		(unsigned long)frame_cache_steals(), (unsigned long)free,
		(unsigned long)start);
	KT_EXPECT_EQ(a.nomem, 0);
	KT_EXPECT_EQ(a.bad, 0);
	KT_EXPECT_EQ(free, start);
	KT_EXPECT(a.swaps > 0);
	KT_EXPECT(frame_cache_steals() > 0);
}

static void orders_child(void *p)
{
	struct fc_arg a = { .ops = mm_ops(20000), .seed = host_seed(),
			    .high_orders = true };
	char msg[360];
	bool ok = frame_smp_run(&a, 8, msg, sizeof(msg));

	printf("result: %s\n", msg);
	if (!ok)
		abort();
}

/* Does the line [l, l+n) contain @needle? */
static bool memchr_str(const char *l, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncmp(l + i, needle, k))
			return true;
	return false;
}

/* Report a child run: ok, or the bug it reproduced. */
static void child_verdict(struct ktest_ctx *kt, int st, const char *out,
			  const char *bug)
{
	const char *res = strstr(out, "result: ");
	int rlen;

	if (!res)
		res = "(the child died before its result line)";
	rlen = (int)MIN(strcspn(res, "\n"), 300);

	KT_ASSERT(st != -1);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		KT_INFO("%.*s", rlen, res);
		return;
	}
	KT_INFO("child %s %d: %.*s", WIFSIGNALED(st) ? "signal" : "exit",
		WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), rlen, res);
	/* Sanitizer verdicts (ASan/TSan summaries, UBSan errors), each
	 * line once. */
	for (const char *l = out; *l; l += strcspn(l, "\n") + !!l[strcspn(l, "\n")]) {
		size_t n = strcspn(l, "\n");
		bool seen = false;

		if (strncmp(l, "SUMMARY: ", 9) &&
		    !memchr_str(l, n, "runtime error:"))
			continue;
		for (const char *q = out; q < l; q += strcspn(q, "\n") + 1)
			if (strcspn(q, "\n") == n && !strncmp(q, l, n))
				seen = true;
		if (!seen)
			KT_INFO("child: %.*s", (int)MIN(n, 200), l);
	}
	KT_INFO("%s", bug);
	if (mm_skip_known_bugs())
		KT_SKIP(bug);
	KT_EXPECT(!"the child run ends cleanly");
}

#define BUG_BUDDY	"BUG frame-buddy-window: frame_alloc(order > 0) hands "  \
			"out a block that still reads FREE|HEAD until "        \
			"prepare(), and pool_add_locked() reads buddies' "     \
			"flags unlocked"

/* Orders 0-4 from one small pool, so buddies split and merge all the
 * time, and blocks run out now and then. In a child: the allocator bug
 * this finds crashes. */
static char child_out[1 << 16];

KTEST(frame_smp_orders)
{
	char *out = child_out;

	KT_ASSERT_EQ(mm_setup(2), 0);
	child_verdict(kt, mm_child(orders_child, NULL, out, sizeof(child_out)), out,
		      BUG_BUDDY);
}

/*
 * Two harts, one order-2 block, order-1 allocations: every allocation
 * splits the block and every free merges it back, so each hart's block is
 * the other's buddy. A block just taken from the pool must not look like
 * a free buddy to the other hart before frame_alloc() has marked it used.
 * In a forked child: if the allocator breaks, the child crashes or finds
 * a block that is not what it was given, and the run goes on.
 */
#define BUDDY_NS	500000000ULL

static unsigned int buddy_bad;		/* atomic */

static void buddy_worker(unsigned int id, void *p)
{
	uint64_t t0 = mm_now();

	while (mm_now() - t0 < BUDDY_NS) {
		for (int i = 0; i < 2000; i++) {
			struct frame *f = frame_alloc(1, FRAME_F_KERNEL);

			if (!f)
				continue;
			if (f->flags != (FRAME_F_KERNEL | FRAME_F_HEAD) ||
			    f->order != 1)
				__atomic_fetch_add(&buddy_bad, 1,
						   __ATOMIC_RELAXED);
			frame_free(f);
		}
		host_hart_poll();
	}
}

static void buddy_child(void *p)
{
	/* Usable RAM: the frame table's 4 frames, and one aligned order-2
	 * block at 1 MiB. */
	const struct mem_range rsv[] = {
		{ HOST_RAM_BASE + 4 * PAGE_SIZE, HOST_RAM_BASE + (1UL << 20) },
		{ HOST_RAM_BASE + (1UL << 20) + 4 * PAGE_SIZE,
		  HOST_RAM_BASE + (2UL << 20) },
	};

	if (host_mem_init(2, rsv, ARRAY_SIZE(rsv)) || frame_total_count() != 4)
		abort();
	mm_smp_run(2, buddy_worker, NULL);
	printf("result: %u blocks not as handed out, %lu of 4 frames free after "
	       "%.1f s\n", buddy_bad, (unsigned long)mm_free_frames(),
	       BUDDY_NS / 1e9);
	if (buddy_bad || mm_free_frames() != 4)
		abort();
}

KTEST(frame_smp_buddy_window)
{
	char *out = child_out;

	KT_ASSERT_EQ(mm_setup(2), 0);
	child_verdict(kt, mm_child(buddy_child, NULL, out, sizeof(child_out)), out,
		      BUG_BUDDY);
}

/*
 * Thieves in the middle of a run: one hart allocates SR_HELD frames, frees
 * SR_SCATTER of them in a shuffled order (so that they complete no block
 * but keep its cache near the high mark) and then the rest in order (so
 * that its cache gives completed blocks back); the other hart empties
 * every cache into the pool after pauses of random length (two harts, so
 * that both run at once on two cores). A thief's list leaves its cache's
 * count only once it is in the pool, so the cache still looks full while
 * the frames of its run are already gone: if the owner then gave that run
 * back as a block, it would put the thief's frames in its list and in the
 * pool a second time. In a forked child, since that crashes or hangs.
 */
#define SR_HELD		140
#define SR_SCATTER	60
#define SR_NS		400000000ULL

static unsigned int sr_bad;			/* atomic */
static unsigned long sr_rounds, sr_drains;	/* atomic */

static void sr_worker(unsigned int id, void *p)
{
	uint64_t t0 = mm_now(), rng = host_seed() + id;
	unsigned long rounds = 0, drains = 0;
	unsigned int bad = 0;

	while (mm_now() - t0 < SR_NS) {
		struct frame *held[SR_HELD];
		unsigned int n;

		if (id & 1) {
			/* A pause of random length first, so that the
			 * owner's cache fills up between thefts. */
			for (volatile uint64_t k = host_rand(&rng) % 20000; k;
			     k--)
				;
			frame_cache_drain_all();
			drains++;
			host_hart_poll();
			continue;
		}
		for (n = 0; n < SR_HELD; n++) {
			held[n] = frame_alloc(0, FRAME_F_KERNEL);
			if (!held[n])
				break;
			tag_set(held[n],
				((uint64_t)id << 48) | (rounds << 8) | n);
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int k = i;

			if (i < SR_SCATTER && n >= SR_SCATTER) {
				/* Shuffle the first SR_SCATTER as we go. */
				k = i + host_rand(&rng) % (SR_SCATTER - i);
				struct frame *t = held[k];

				held[k] = held[i];
				held[i] = t;
			}
			if (*(uint64_t *)frame_to_kva(held[i]) >> 48 != id)
				bad++;
			frame_free(held[i]);
		}
		rounds++;
		host_hart_poll();
	}
	__atomic_fetch_add(&sr_bad, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sr_rounds, rounds, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sr_drains, drains, __ATOMIC_RELAXED);
}

static void steal_runs_child(void *p)
{
	uint64_t free;

	alarm(60);		/* a corrupted free list may loop for ever */
	if (mm_setup(8))
		abort();
	mm_smp_run(2, sr_worker, NULL);
	free = mm_free_frames();
	printf("result: %lu rounds of %d frames, %lu drains of every cache, "
	       "%u frames corrupt, %lu of %lu frames free\n", sr_rounds,
	       SR_HELD, sr_drains, sr_bad, (unsigned long)free,
	       (unsigned long)frame_total_count());
	if (sr_bad || free != frame_total_count())
		abort();
}

KTEST(frame_smp_steal_runs)
{
	char *out = child_out;

	KT_ASSERT_EQ(mm_setup(2), 0);
	child_verdict(kt, mm_child(steal_runs_child, NULL, out,
				   sizeof(child_out)),
		      out, "a cache gave back a block a thief had taken");
}

/* ---- misuse panics ------------------------------------------------------ */

static void die_double_free(void *p)
{
	struct frame *f = frame_alloc(0, FRAME_F_KERNEL);

	frame_free(f);
	frame_free(f);
}

static void die_double_free_block(void *p)
{
	struct frame *f = frame_alloc(2, FRAME_F_KERNEL);

	frame_free(f);
	frame_free(f);
}

static void die_free_reserved(void *p)
{
	frame_free(kva_to_frame(frame_table));
}

static void die_free_tail(void *p)
{
	struct frame *f = frame_alloc(2, FRAME_F_KERNEL);

	frame_free(f + 1);
}

static void die_free_mapped(void *p)
{
	struct as *as = as_create(*(enum ptlock_mode *)p);
	struct frame *f = frame_alloc(0, FRAME_F_USER);

	if (as_map_frame(as, 0x10000, f, AS_PROT_R | AS_PROT_USER))
		return;
	frame_free(f);
}

static void die_free_live_table(void *p)
{
	struct as *as = as_create(*(enum ptlock_mode *)p);

	if (as_map_anon(as, 0x10000, PAGE_SIZE, AS_PROT_R))
		return;
	frame_free(kva_to_frame(mm_pte(as, 0x10000)));
}

static void die_no_use(void *p)
{
	frame_alloc(0, FRAME_ZERO);
}

static void die_two_uses(void *p)
{
	frame_alloc(0, FRAME_F_USER | FRAME_F_PT);
}

KTEST(frame_misuse_panics)
{
	static enum ptlock_mode split = PTLOCK_SPLIT, single = PTLOCK_SINGLE;
	static const struct {
		const char *what;
		void (*fn)(void *);
		void *arg;
		const char *needle;
	} cases[] = {
		{ "double free", die_double_free, NULL, "frame: double free" },
		/* The block merged with its buddy: its head is gone, which
		 * the check reports as such. */
		{ "double free of a block", die_double_free_block, NULL,
		  "panic: frame: " },
		{ "free of the frame table", die_free_reserved, NULL,
		  "free of a reserved frame" },
		{ "free of a block's tail", die_free_tail, NULL,
		  "does not start a block" },
		{ "free of a mapped user frame (split)", die_free_mapped,
		  &split, "user frame that is still mapped" },
		{ "free of a mapped user frame (single)", die_free_mapped,
		  &single, "user frame that is still mapped" },
		{ "free of a live page table", die_free_live_table, &split,
		  "page table with valid entries" },
		{ "alloc without a use", die_no_use, NULL,
		  "name no single use" },
		{ "alloc with two uses", die_two_uses, NULL,
		  "name no single use" },
	};
	struct mm_child child[ARRAY_SIZE(cases)];
	char out[512];

	KT_ASSERT_EQ(mm_setup(4), 0);
	/* All at once: a sanitized fork is slow. */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		KT_ASSERT_EQ(mm_child_start(&child[i], cases[i].fn,
					    cases[i].arg), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int st = mm_child_finish(&child[i], out, sizeof(out));

		if (!KT_EXPECT(mm_panicked(st, out, cases[i].needle)))
			KT_INFO("%s: child said: %s", cases[i].what, out);
		else
			KT_INFO("%s: %.160s", cases[i].what, out);
	}
}

KTEST_SUITE(frame_suite, "mm_frame", KTEST_CASE(frame_every_order),
	    KTEST_CASE(frame_exhaustion), KTEST_CASE(frame_reserved_ranges),
	    KTEST_CASE(frame_cache_counts), KTEST_CASE(frame_cache_runs),
	    KTEST_CASE(frame_cache_steal),
	    KTEST_CASE(frame_cache_steal_stalled_thief),
	    KTEST_CASE(frame_smp_caches),
	    KTEST_CASE(frame_smp_lowmem),
	    KTEST_CASE(frame_smp_orders), KTEST_CASE(frame_smp_buddy_window),
	    KTEST_CASE(frame_smp_steal_runs),
	    KTEST_CASE(frame_misuse_panics));
