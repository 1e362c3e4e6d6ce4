/*
 * test_pt.c - page tables and address spaces on one hart, in both locking
 * modes: map/lookup/protect/unmap, regions and faults, accessed/dirty
 * fix-ups, out-of-memory paths, and bad arguments to every as_* call.
 */
#include "mm_test.h"
#include <arch/memlayout.h>
#include <kern/errno.h>
#include <kern/string.h>

#define P		PAGE_SIZE
#define RW		(AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define RO		(AS_PROT_R | AS_PROT_USER)

static bool page_is_zero(paddr_t pa)
{
	const uint64_t *w = pa_to_kva(pa);

	for (size_t i = 0; i < P / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/* Expect [va, va+n pages) mapped with @prot to distinct user frames. */
static void expect_mapped(struct ktest_ctx *kt, struct as *as, vaddr_t va,
			  unsigned long n, unsigned int prot)
{
	for (unsigned long i = 0; i < n; i++) {
		unsigned int pr = 0;
		paddr_t pa = 0;
		struct frame *f;

		if (!KT_EXPECT_EQ(as_lookup(as, va + i * P, &pa, &pr), 0)) {
			KT_INFO("va %#lx not mapped", va + i * P);
			return;
		}
		KT_EXPECT_EQ(pr, prot);
		f = pa_to_frame(pa);
		KT_ASSERT(f);
		KT_EXPECT_EQ(f->flags, FRAME_F_USER | FRAME_F_HEAD);
		KT_EXPECT_EQ(f->user.mapcount, 1);
		KT_EXPECT_EQ(f->refcount, 1);
	}
}

static void expect_unmapped(struct ktest_ctx *kt, struct as *as, vaddr_t va,
			    unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (!KT_EXPECT_EQ(as_lookup(as, va + i * P, NULL, NULL),
				  -E_NOENT))
			KT_INFO("va %#lx still mapped", va + i * P);
}

static void map_lookup_protect_unmap(struct ktest_ctx *kt,
				     enum ptlock_mode mode)
{
	/* 16 pages across a 1 GiB boundary: two level-1 tables, two
	 * leaves. */
	const vaddr_t va = (1UL << 30) - 8 * P;
	uint64_t start, before;
	unsigned int prot;
	paddr_t pa, pa2;
	struct frame *f;
	struct as *as;
	pte_t *pte;

	KT_ASSERT_EQ(mm_setup(16), 0);
	start = frame_free_count();
	as = as_create(mode);
	KT_ASSERT(as);
	KT_EXPECT_EQ(as->mode, mode);
	KT_EXPECT_EQ(as->nr_pt, 1);
	KT_EXPECT_EQ(frame_free_count(), start - 2);

	KT_EXPECT_EQ(as_map_anon(as, va, 16 * P, RW), 0);
	KT_EXPECT_EQ(as_count_user(as), 16);
	KT_EXPECT_EQ(as->nr_pt, 5);
	KT_EXPECT_EQ(as_check(as), 0);
	expect_mapped(kt, as, va, 16, RW);
	KT_ASSERT_EQ(as_lookup(as, va, &pa, NULL), 0);
	KT_EXPECT(page_is_zero(pa));
	KT_ASSERT_EQ(as_lookup(as, va + P, &pa2, NULL), 0);
	KT_EXPECT(pa != pa2);
	/* Sub-page offsets come through; the bits are the real Sv39 ones. */
	KT_EXPECT_EQ(as_lookup(as, va + 0x123, &pa2, NULL), 0);
	KT_EXPECT_EQ(pa2, pa + 0x123);
	pte = mm_pte(as, va);
	KT_ASSERT(pte);
	KT_EXPECT_EQ(*pte & 0xff, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A |
					  PTE_D);
	KT_EXPECT_EQ(pte_pa(*pte), pa);
	expect_unmapped(kt, as, va - P, 1);
	expect_unmapped(kt, as, va + 16 * P, 1);
	expect_unmapped(kt, as, 5UL << 30, 1);	/* no tables at all */

	/* Overlap: -E_EXIST, and the 4 pages it mapped first are gone. */
	before = frame_free_count();
	KT_EXPECT_EQ(as_map_anon(as, va - 4 * P, 8 * P, RO), -E_EXIST);
	expect_unmapped(kt, as, va - 4 * P, 4);
	expect_mapped(kt, as, va, 16, RW);
	KT_EXPECT_EQ(frame_free_count(), before);
	KT_EXPECT_EQ(as_count_user(as), 16);
	KT_EXPECT_EQ(as_check(as), 0);

	/* Protections: reduce, widen, and a range that is all holes. */
	KT_EXPECT_EQ(as_protect(as, va, 16 * P, RO), 0);
	expect_mapped(kt, as, va, 16, RO);
	KT_EXPECT_EQ(*mm_pte(as, va) & 0xff, PTE_V | PTE_R | PTE_U | PTE_A);
	/* User memory is never writable and executable at once. */
	KT_EXPECT_EQ(as_protect(as, va + 4 * P, 2 * P, RW | AS_PROT_X),
		     -E_INVAL);
	KT_EXPECT_EQ(as_protect(as, va + 4 * P, 2 * P, RO | AS_PROT_X), 0);
	expect_mapped(kt, as, va + 4 * P, 2, RO | AS_PROT_X);
	expect_mapped(kt, as, va + 6 * P, 1, RO);
	KT_EXPECT_EQ(as_protect(as, 7UL << 30, 64 * P, RO), 0);
	KT_EXPECT_EQ(as_lookup(as, va + 4 * P, NULL, &prot), 0);
	KT_EXPECT_EQ(prot, RO | AS_PROT_X);
	KT_EXPECT_EQ(as_check(as), 0);

	/* Unmap the middle, holes included; then the rest. */
	KT_EXPECT_EQ(as_unmap(as, va + 2 * P, 4 * P), 0);
	expect_unmapped(kt, as, va + 2 * P, 4);
	expect_mapped(kt, as, va, 2, RO);
	expect_mapped(kt, as, va + 6 * P, 10, RO);
	KT_EXPECT_EQ(as_count_user(as), 12);
	KT_EXPECT_EQ(as_unmap(as, va, 4 * P), 0);	/* half holes */
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(as_unmap(as, va - 64 * P, 128 * P), 0);
	KT_EXPECT_EQ(as_count_user(as), 0);
	/* Empty leaves went back, and with the last leaf of each 1 GiB its
	 * level-1 table: only the root is left. */
	KT_EXPECT_EQ(as->nr_pt, 1);
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(frame_free_count(), start - 2);
	KT_EXPECT_EQ(as_unmap(as, va, 16 * P), 0);	/* all holes now */

	/* A given frame: the mapping takes its own reference. */
	f = frame_alloc(0, FRAME_F_USER);
	KT_ASSERT(f);
	KT_EXPECT_EQ(as_map_frame(as, va, f, RO), 0);
	KT_EXPECT_EQ(f->refcount, 2);
	KT_EXPECT_EQ(f->user.mapcount, 1);
	KT_EXPECT_EQ(as_map_frame(as, va, f, RO), -E_EXIST);
	KT_EXPECT_EQ(f->user.mapcount, 1);
	KT_EXPECT_EQ(as_lookup(as, va, &pa, NULL), 0);
	KT_EXPECT_EQ(pa, frame_to_pa(f));
	__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL);
	KT_EXPECT_EQ(as_unmap(as, va, P), 0);
	KT_EXPECT(f->flags & FRAME_F_FREE);	/* last reference gone */

	/* The very top of the user half. */
	KT_EXPECT_EQ(as_map_anon(as, AS_USER_TOP - 2 * P, 2 * P, RW), 0);
	expect_mapped(kt, as, AS_USER_TOP - 2 * P, 2, RW);
	KT_EXPECT_EQ(as_check(as), 0);
	/* And the bottom, page 0 included. */
	KT_EXPECT_EQ(as_map_anon(as, 0, 3 * P, RO), 0);
	expect_mapped(kt, as, 0, 3, RO);
	KT_EXPECT_EQ(as_check(as), 0);

	as_destroy(as);		/* with mappings left: it unmaps them */
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(pt_map_lookup_split)
{
	map_lookup_protect_unmap(kt, PTLOCK_SPLIT);
}

KTEST(pt_map_lookup_single)
{
	map_lookup_protect_unmap(kt, PTLOCK_SINGLE);
}

/* ---- bad arguments: -E_INVAL and nothing changes ------------------------- */

struct snap {
	uint64_t free, nr_user, nr_pt, log0;
	int nregions;
	pte_t pte;
};

static void take(struct as *as, vaddr_t probe, struct snap *s)
{
	s->free = frame_free_count();
	s->nr_user = as_count_user(as);
	s->nr_pt = as->nr_pt;
	s->nregions = as->nregions;
	s->log0 = host_tlb_log_count(0);
	s->pte = *mm_pte(as, probe);
}

static bool unchanged(struct ktest_ctx *kt, struct as *as, vaddr_t probe,
		      const struct snap *a, const char *what, vaddr_t va,
		      size_t len, unsigned int prot)
{
	struct snap b;
	bool ok;

	take(as, probe, &b);
	ok = a->free == b.free && a->nr_user == b.nr_user &&
	     a->nr_pt == b.nr_pt && a->nregions == b.nregions &&
	     a->log0 == b.log0 && a->pte == b.pte && as_check(as) == 0;
	if (!KT_EXPECT(ok))
		KT_INFO("%s(va %#lx, len %#lx, prot %#x) changed the address "
			"space", what, (unsigned long)va, (unsigned long)len,
			prot);
	return ok;
}

static void bad_input(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	static const struct {
		vaddr_t va;
		size_t len;
	} ranges[] = {
		{ 0x100000 + 1, P },		/* unaligned address */
		{ 0x100000 + 0x800, P },
		{ 0x100000, P + 1 },		/* unaligned length */
		{ 0x100000, P / 2 },
		{ 0x100000, 0 },		/* empty */
		{ 0, 0 },
		{ 0x10000, (size_t)0 - 0x10000 },	/* ends at 2^64 = 0 */
		{ 0x10000, ~(size_t)0xfff },		/* wraps past 0 */
		{ AS_USER_TOP, P },			/* beyond the top */
		{ AS_USER_TOP - P, 2 * P },		/* across it */
		{ 0, AS_USER_TOP + P },
		{ 0xffffffc000000000UL, P },		/* kernel half */
		{ 0xffffffff80000000UL, 16 * P },
		{ ~(vaddr_t)0xfff, P },			/* last page */
	};
	static const unsigned int bad_prot[] = {
		0,				/* no access: that is unmap */
		AS_PROT_USER,
		AS_PROT_W,			/* W without R: reserved */
		AS_PROT_W | AS_PROT_USER,
		AS_PROT_W | AS_PROT_X,
		AS_PROT_W | AS_PROT_X | AS_PROT_USER,
		AS_PROT_R | 0x10,		/* unknown bits */
		AS_PROT_R | 0x80000000u,
		~0u,
	};
	const vaddr_t good = 0x200000, probe = 0x200000;
	struct frame *uf, *kf;
	struct snap s;
	struct as *as;

	KT_ASSERT_EQ(mm_setup(8), 0);
	as = as_create(mode);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_map_anon(as, probe, P, RW), 0);
	KT_ASSERT_EQ(as_region_add(as, 0x400000, 4 * P, RW), 0);
	uf = frame_alloc(0, FRAME_F_USER);
	kf = frame_alloc(0, FRAME_F_KERNEL);
	KT_ASSERT(uf && kf);
	take(as, probe, &s);

#define BAD(call, what, va, len, prot)                                        \
	do {                                                                  \
		if (!KT_EXPECT_EQ(call, -E_INVAL))                            \
			KT_INFO("%s(va %#lx, len %#lx, prot %#x)", what,      \
				(unsigned long)(va), (unsigned long)(len),    \
				(unsigned int)(prot));                        \
		unchanged(kt, as, probe, &s, what, va, len, prot);            \
	} while (0)

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		vaddr_t va = ranges[i].va;
		size_t len = ranges[i].len;

		BAD(as_map_anon(as, va, len, RW), "as_map_anon", va, len, RW);
		BAD(as_unmap(as, va, len), "as_unmap", va, len, 0);
		BAD(as_protect(as, va, len, RO), "as_protect", va, len, RO);
		BAD(as_region_add(as, va, len, RW), "as_region_add", va, len,
		    RW);
		if (len == P || !IS_ALIGNED(va, P))
			BAD(as_map_frame(as, va, uf, RW), "as_map_frame", va,
			    P, RW);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_prot); i++) {
		unsigned int pr = bad_prot[i];

		BAD(as_map_anon(as, good, P, pr), "as_map_anon", good, P, pr);
		BAD(as_protect(as, probe, P, pr), "as_protect", probe, P, pr);
		BAD(as_region_add(as, good, P, pr), "as_region_add", good, P,
		    pr);
		BAD(as_map_frame(as, good, uf, pr), "as_map_frame", good, P,
		    pr);
	}
	/* Frames that are not user memory, or none. */
	BAD(as_map_frame(as, good, kf, RW), "as_map_frame(kernel frame)",
	    good, P, RW);
	BAD(as_map_frame(as, good, NULL, RW), "as_map_frame(NULL)", good, P,
	    RW);
	KT_EXPECT_EQ(uf->user.mapcount, 0);
	KT_EXPECT_EQ(uf->refcount, 1);
	/* Lookups above the user half are bad input; faults there are
	 * faults the kernel will not resolve. */
	BAD(as_lookup(as, AS_USER_TOP, NULL, NULL), "as_lookup", AS_USER_TOP,
	    0, 0);
	BAD(as_lookup(as, 0xffffffc000001000UL, NULL, NULL), "as_lookup",
	    0xffffffc000001000UL, 0, 0);
	KT_EXPECT_EQ(as_fault(as, AS_USER_TOP, AS_ACCESS_READ), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, 0xffffffc000001000UL, AS_ACCESS_WRITE),
		     -E_FAULT);
	unchanged(kt, as, probe, &s, "as_fault", AS_USER_TOP, 0, 0);
#undef BAD
	frame_free(uf);
	frame_free(kf);
	as_destroy(as);
}

KTEST(pt_bad_input_split)
{
	bad_input(kt, PTLOCK_SPLIT);
}

KTEST(pt_bad_input_single)
{
	bad_input(kt, PTLOCK_SINGLE);
}

/* ---- regions and faults ------------------------------------------------- */

static void region_faults(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	const vaddr_t r = 0x10000000, ro = 0x20000000;
	uint64_t start, faults, spurious;
	unsigned int prot;
	struct host_tlb_ev ev;
	struct as *as;
	paddr_t pa;
	int i;

	KT_ASSERT_EQ(mm_setup(8), 0);
	start = frame_free_count();
	as = as_create(mode);
	KT_ASSERT(as);
	KT_EXPECT_EQ(as_region_add(as, r, 8 * P, RW), 0);
	KT_EXPECT_EQ(as_region_add(as, ro, 2 * P, RO), 0);
	KT_EXPECT_EQ(as_region_add(as, r + 4 * P, P, RW), -E_EXIST);
	KT_EXPECT_EQ(as_region_add(as, r - P, 2 * P, RO), -E_EXIST);
	for (i = 2; i < AS_MAX_REGIONS; i++)
		KT_EXPECT_EQ(as_region_add(as, 0x40000000 + i * 2 * P, P, RO),
			     0);
	KT_EXPECT_EQ(as_region_add(as, 0x30000000, P, RO), -E_NOMEM);
	KT_EXPECT_EQ(as->nregions, AS_MAX_REGIONS);

	/* Reads and writes fill zeroed pages with the region's rights. */
	KT_EXPECT_EQ(as_fault(as, r + 0x10, AS_ACCESS_READ), 0);
	KT_EXPECT_EQ(as_fault(as, r + P + 0xfff, AS_ACCESS_WRITE), 0);
	expect_mapped(kt, as, r, 2, RW);
	KT_ASSERT_EQ(as_lookup(as, r, &pa, NULL), 0);
	KT_EXPECT(page_is_zero(pa));
	KT_EXPECT_EQ(as_fault(as, ro, AS_ACCESS_READ), 0);
	expect_mapped(kt, as, ro, 1, RO);
	/* What the region does not allow is a fault, and maps nothing. */
	KT_EXPECT_EQ(as_fault(as, ro + P, AS_ACCESS_WRITE), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, ro + P, AS_ACCESS_EXEC), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, ro, AS_ACCESS_WRITE), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, r + 2 * P, AS_ACCESS_EXEC), -E_FAULT);
	expect_unmapped(kt, as, ro + P, 1);
	KT_EXPECT_EQ(as_fault(as, r + 8 * P, AS_ACCESS_READ), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, 0, AS_ACCESS_READ), -E_FAULT);
	KT_EXPECT_EQ(as_count_user(as), 3);
	KT_EXPECT_EQ(as_check(as), 0);

	/* A present page that already allows the access is spurious, and
	 * ends with a local flush of that page. */
	faults = harts[0].mm_faults;
	spurious = harts[0].mm_spurious;
	KT_EXPECT_EQ(as_fault(as, r, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(harts[0].mm_faults, faults + 1);
	KT_EXPECT_EQ(harts[0].mm_spurious, spurious + 1);
	KT_ASSERT(host_tlb_log_get(0, host_tlb_log_count(0) - 1, &ev));
	KT_EXPECT_EQ(ev.kind, HOST_TLB_LOCAL);
	KT_EXPECT(host_tlb_ev_covers(&ev, as, r));
	KT_EXPECT_EQ(ev.len, P);

	/* A page made read-only by as_protect: a write is refused even
	 * though the region allows it. */
	KT_EXPECT_EQ(as_protect(as, r, P, RO), 0);
	KT_EXPECT_EQ(as_fault(as, r, AS_ACCESS_WRITE), -E_FAULT);
	KT_EXPECT_EQ(as_lookup(as, r, NULL, &prot), 0);
	KT_EXPECT_EQ(prot, RO);
	/* Unmapped again, the next fault gets a fresh zeroed frame. */
	memset(pa_to_kva(pa), 0x77, P);
	KT_EXPECT_EQ(as_unmap(as, r, P), 0);
	KT_EXPECT_EQ(as_fault(as, r, AS_ACCESS_READ), 0);
	KT_ASSERT_EQ(as_lookup(as, r, &pa, NULL), 0);
	KT_EXPECT(page_is_zero(pa));
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(mm_free_frames(), start);
}

KTEST(pt_region_faults_split)
{
	region_faults(kt, PTLOCK_SPLIT);
}

KTEST(pt_region_faults_single)
{
	region_faults(kt, PTLOCK_SINGLE);
}

/* ---- accessed/dirty fix-ups (the U74 path QEMU never takes) ------------- */

static void ad_fixup(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	const vaddr_t va = 0x3000000;
	uint64_t fix, spur;
	struct host_tlb_ev ev;
	pte_t *pte, before;
	struct as *as;

	KT_ASSERT_EQ(mm_setup(8), 0);
	as = as_create(mode);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_map_anon(as, va, 2 * P, RW), 0);
	pte = mm_pte(as, va);
	KT_ASSERT(pte);
	KT_EXPECT((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
	before = *pte;
	*pte &= ~(PTE_A | PTE_D);	/* as a U74 would leave it */
	fix = harts[0].mm_ad_fixups;
	spur = harts[0].mm_spurious;

	KT_EXPECT_EQ(as_fault(as, va + 8, AS_ACCESS_READ), 0);
	KT_EXPECT(*pte & PTE_A);
	KT_EXPECT(!(*pte & PTE_D));
	KT_EXPECT_EQ(harts[0].mm_ad_fixups, fix + 1);
	KT_ASSERT(host_tlb_log_get(0, host_tlb_log_count(0) - 1, &ev));
	KT_EXPECT(ev.kind == HOST_TLB_LOCAL && host_tlb_ev_covers(&ev, as, va));

	KT_EXPECT_EQ(as_fault(as, va, AS_ACCESS_WRITE), 0);
	KT_EXPECT(*pte & PTE_D);
	KT_EXPECT_EQ(*pte, before);	/* nothing else changed */
	KT_EXPECT_EQ(harts[0].mm_ad_fixups, fix + 2);
	KT_EXPECT_EQ(harts[0].mm_spurious, spur);

	/* Done: the next one is spurious. */
	KT_EXPECT_EQ(as_fault(as, va, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(harts[0].mm_ad_fixups, fix + 2);
	KT_EXPECT_EQ(harts[0].mm_spurious, spur + 1);

	/* A write to a present read-only page without A is a real fault:
	 * no bits are set for an access that is not allowed. */
	KT_EXPECT_EQ(as_protect(as, va + P, P, RO), 0);
	pte = mm_pte(as, va + P);
	*pte &= ~PTE_A;
	KT_EXPECT_EQ(as_fault(as, va + P, AS_ACCESS_WRITE), -E_FAULT);
	KT_EXPECT(!(*pte & PTE_A));
	KT_EXPECT_EQ(as_fault(as, va + P, AS_ACCESS_READ), 0);
	KT_EXPECT(*pte & PTE_A);
	KT_EXPECT(!(*pte & (PTE_D | PTE_W)));
	KT_EXPECT_EQ(harts[0].mm_ad_fixups, fix + 3);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
}

KTEST(pt_ad_fixup_split)
{
	ad_fixup(kt, PTLOCK_SPLIT);
}

KTEST(pt_ad_fixup_single)
{
	ad_fixup(kt, PTLOCK_SINGLE);
}

/* ---- out of memory ------------------------------------------------------ */

static void nomem(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	static struct frame *hog[600];
	uint64_t base;
	struct frame *f;
	struct as *as;
	size_t n = 0;

	KT_ASSERT_EQ(mm_setup(2), 0);	/* 508 frames */
	as = as_create(mode);
	KT_ASSERT(as);
	base = frame_free_count();
	/* More pages than there are frames: all or nothing. */
	KT_EXPECT_EQ(as_map_anon(as, 0x100000, 600 * P, RW), -E_NOMEM);
	KT_EXPECT_EQ(as_count_user(as), 0);
	KT_EXPECT_EQ(as_check(as), 0);
	/* All back, the level-1 table too (it went with its last leaf). */
	KT_EXPECT_EQ(as->nr_pt, 1);
	KT_EXPECT_EQ(frame_free_count(), base);

	/* No frame for a page table: as_map_frame fails cleanly. */
	f = frame_alloc(0, FRAME_F_USER);
	KT_ASSERT(f);
	while (n < ARRAY_SIZE(hog) && (hog[n] = frame_alloc(0, FRAME_F_KERNEL)))
		n++;
	KT_EXPECT_EQ(frame_free_count(), 0);
	KT_EXPECT_EQ(as_map_frame(as, 0x40000000, f, RW), -E_NOMEM);
	KT_EXPECT_EQ(f->user.mapcount, 0);
	KT_EXPECT_EQ(as_region_add(as, 0x800000, 4 * P, RW), 0);
	KT_EXPECT_EQ(as_fault(as, 0x800000, AS_ACCESS_READ), -E_NOMEM);
	/* The level-1 table went with the rollback above, so the fault
	 * needs three frames now: the page, a level-1 table and a leaf
	 * table. With one or two it fails and every frame comes back: the
	 * walk links a new level-1 table only once it has the leaf table
	 * for it too (a leafless one would stay until the space ends). */
	frame_free(hog[--n]);
	KT_EXPECT_EQ(as_fault(as, 0x800000, AS_ACCESS_READ), -E_NOMEM);
	KT_EXPECT_EQ(frame_free_count(), 1);
	KT_EXPECT_EQ(as->nr_pt, 1);
	frame_free(hog[--n]);
	KT_EXPECT_EQ(as_fault(as, 0x800000, AS_ACCESS_READ), -E_NOMEM);
	KT_EXPECT_EQ(frame_free_count(), 2);
	KT_EXPECT_EQ(as->nr_pt, 1);
	frame_free(hog[--n]);
	KT_EXPECT_EQ(as_fault(as, 0x800000, AS_ACCESS_READ), 0);
	KT_EXPECT_EQ(as->nr_pt, 3);
	KT_EXPECT_EQ(as_check(as), 0);
	while (n)
		frame_free(hog[--n]);
	frame_free(f);
	as_destroy(as);
	KT_EXPECT_EQ(mm_free_frames(), frame_total_count());
}

KTEST(pt_nomem_split)
{
	nomem(kt, PTLOCK_SPLIT);
}

KTEST(pt_nomem_single)
{
	nomem(kt, PTLOCK_SINGLE);
}

/* ---- one frame mapped at several addresses ------------------------------ */

KTEST(pt_shared_frame_unmap)
{
	const vaddr_t va = 0x600000;
	uint64_t before, lost;
	struct frame *f;
	struct as *as;

	KT_ASSERT_EQ(mm_setup(8), 0);
	as = as_create(PTLOCK_SPLIT);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_map_anon(as, va + 8 * P, P, RW), 0); /* the leaf */
	before = mm_free_frames();
	f = frame_alloc(0, FRAME_F_USER);
	KT_ASSERT(f);
	/* f at va and va+2P, anonymous pages around and between. */
	KT_EXPECT_EQ(as_map_anon(as, va, P, RW), 0);
	KT_EXPECT_EQ(as_map_frame(as, va + P, f, RO), 0);
	KT_EXPECT_EQ(as_map_anon(as, va + 2 * P, P, RW), 0);
	KT_EXPECT_EQ(as_map_frame(as, va + 3 * P, f, RO), 0);
	KT_EXPECT_EQ(as_map_anon(as, va + 4 * P, P, RW), 0);
	KT_EXPECT_EQ(f->user.mapcount, 2);
	KT_EXPECT_EQ(f->refcount, 3);
	__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL);
	KT_EXPECT_EQ(as_check(as), 0);
	/* One call unmaps both mappings: every frame comes back. */
	KT_EXPECT_EQ(as_unmap(as, va, 5 * P), 0);
	KT_EXPECT(f->flags & FRAME_F_FREE);
	KT_EXPECT_EQ(as_count_user(as), 1);
	KT_EXPECT_EQ(as_check(as), 0);
	lost = before - mm_free_frames();
	KT_EXPECT_EQ(lost, 0);
	as_destroy(as);
}

KTEST_SUITE(pt_suite, "mm_pt", KTEST_CASE(pt_map_lookup_split),
	    KTEST_CASE(pt_map_lookup_single), KTEST_CASE(pt_bad_input_split),
	    KTEST_CASE(pt_bad_input_single),
	    KTEST_CASE(pt_region_faults_split),
	    KTEST_CASE(pt_region_faults_single),
	    KTEST_CASE(pt_ad_fixup_split), KTEST_CASE(pt_ad_fixup_single),
	    KTEST_CASE(pt_nomem_split), KTEST_CASE(pt_nomem_single),
	    KTEST_CASE(pt_shared_frame_unmap));
