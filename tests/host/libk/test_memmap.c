/*
 * test_memmap.c - usable-RAM map against a page-bitmap oracle
 */
#include <host.h>
#include <kern/errno.h>
#include <mm/memmap.h>

#include <string.h>

#define PAGES 512	/* oracle universe: 2 MiB of address space */

static void oracle(const struct mem_range *b, int nb,
		   const struct mem_range *r, int nr, paddr_t floor,
		   bool *usable)
{
	memset(usable, 0, PAGES);
	for (int i = 0; i < nb; i++)
		for (paddr_t p = 0; p < PAGES; p++) {
			paddr_t s = p * PAGE_SIZE, e = s + PAGE_SIZE;

			if (s >= b[i].start && e <= b[i].end && s >= floor)
				usable[p] = true;
		}
	for (int i = 0; i < nr; i++)
		for (paddr_t p = 0; p < PAGES; p++) {
			paddr_t s = p * PAGE_SIZE, e = s + PAGE_SIZE;

			if (s < r[i].end && e > r[i].start)
				usable[p] = false;
		}
}

KTEST(memmap_matches_oracle)
{
	uint64_t st = host_seed() + 7;

	for (int round = 0; round < 3000; round++) {
		struct mem_range b[4], r[8], out[MEMMAP_MAX];
		int nb = 1 + host_rand(&st) % 4, nr = host_rand(&st) % 8, n;
		paddr_t floor = host_rand(&st) % 4 ? 0
				: host_rand(&st) % (PAGES * PAGE_SIZE);
		bool want[PAGES], got[PAGES];

		for (int i = 0; i < nb; i++) {
			paddr_t s = host_rand(&st) % (PAGES * PAGE_SIZE);
			paddr_t l = host_rand(&st) % (PAGES * PAGE_SIZE / 2);

			b[i] = (struct mem_range){ s, MIN(s + l,
						(paddr_t)PAGES * PAGE_SIZE) };
		}
		/* Banks do not overlap in a sane tree: drop overlapping. */
		for (int i = 1; i < nb; i++)
			for (int j = 0; j < i; j++)
				if (b[i].start < b[j].end &&
				    b[i].end > b[j].start)
					b[i].end = b[i].start;
		for (int i = 0; i < nr; i++) {
			paddr_t s = host_rand(&st) % (PAGES * PAGE_SIZE);

			r[i] = (struct mem_range){
				s, s + host_rand(&st) % (64 * PAGE_SIZE) };
		}
		n = memmap_build(b, nb, r, nr, floor, out, MEMMAP_MAX);
		KT_ASSERT(n >= 0);
		oracle(b, nb, r, nr, floor, want);
		memset(got, 0, sizeof(got));
		for (int i = 0; i < n; i++) {
			KT_ASSERT(out[i].start < out[i].end);
			KT_ASSERT(IS_ALIGNED(out[i].start, PAGE_SIZE) &&
				  IS_ALIGNED(out[i].end, PAGE_SIZE));
			if (i)
				KT_ASSERT(out[i - 1].end <= out[i].start);
			for (paddr_t p = out[i].start / PAGE_SIZE;
			     p < out[i].end / PAGE_SIZE; p++)
				got[p] = true;
		}
		if (!KT_EXPECT(!memcmp(want, got, sizeof(want)))) {
			KT_INFO("round %d differs", round);
			return;
		}
	}
}

KTEST(memmap_reserved_at_edges_and_wrap)
{
	struct mem_range b[] = { { 0x80000000, 0x90000000 } };
	struct mem_range r[] = {
		{ 0x80000000, 0x80080000 },	/* OpenSBI */
		{ 0x8fe00000, 0x8fe01234 },	/* FDT, not page-sized */
		{ 0x8ff00000, ~0ULL },		/* runs off the end */
	};
	struct mem_range out[4];
	int n = memmap_build(b, 1, r, 3, 0x80200000, out, 4);

	KT_ASSERT_EQ(n, 2);
	KT_EXPECT_EQ(out[0].start, 0x80200000);
	KT_EXPECT_EQ(out[0].end, 0x8fe00000);
	KT_EXPECT_EQ(out[1].start, 0x8fe02000);
	KT_EXPECT_EQ(out[1].end, 0x8ff00000);
	KT_EXPECT_EQ(memmap_build(b, 1, r, 3, 0, out, 1), -E_RANGE);
}

KTEST_SUITE(memmap_suite, "memmap", KTEST_CASE(memmap_matches_oracle),
	    KTEST_CASE(memmap_reserved_at_edges_and_wrap));
