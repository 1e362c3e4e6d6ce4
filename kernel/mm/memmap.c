/*
 * memmap.c - the usable-RAM map: banks minus reservations
 */
#include <mm/memmap.h>
#include <kern/errno.h>

struct mem_range memmap_usable[MEMMAP_MAX];
int memmap_nusable;

/* Insertion sort by start: the inputs are a few dozen entries at most. */
static void sort_ranges(struct mem_range *r, int n)
{
	for (int i = 1; i < n; i++) {
		struct mem_range x = r[i];
		int j = i - 1;

		for (; j >= 0 && r[j].start > x.start; j--)
			r[j + 1] = r[j];
		r[j + 1] = x;
	}
}

int memmap_build(const struct mem_range *banks, int nbanks,
		 const struct mem_range *rsv, int nrsv, paddr_t floor,
		 struct mem_range *out, int max)
{
	int n = 0;

	for (int b = 0; b < nbanks; b++) {
		paddr_t s = ALIGN_UP(MAX(banks[b].start, floor), PAGE_SIZE);
		paddr_t e = ALIGN_DOWN(banks[b].end, PAGE_SIZE);

		if (banks[b].end <= banks[b].start || s >= e)
			continue;
		if (n == max)
			return -E_RANGE;
		out[n++] = (struct mem_range){ s, e };
	}
	for (int r = 0; r < nrsv; r++) {
		paddr_t rs = ALIGN_DOWN(rsv[r].start, PAGE_SIZE);
		paddr_t re = rsv[r].end < rsv[r].start
				     ? ~(paddr_t)0
				     : ALIGN_UP(rsv[r].end, PAGE_SIZE);

		if (re < rsv[r].end)	/* rounding wrapped */
			re = ~(paddr_t)0;
		for (int i = 0; i < n; i++) {
			struct mem_range *u = &out[i];

			if (re <= u->start || rs >= u->end)
				continue;
			if (rs <= u->start && re >= u->end) {
				out[i--] = out[--n];	/* swallowed whole */
			} else if (rs <= u->start) {
				u->start = re;
			} else if (re >= u->end) {
				u->end = rs;
			} else {			/* split in two */
				if (n == max)
					return -E_RANGE;
				out[n++] = (struct mem_range){ re, u->end };
				u->end = rs;
			}
		}
	}
	sort_ranges(out, n);
	return n;
}
