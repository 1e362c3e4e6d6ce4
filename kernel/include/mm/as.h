#pragma once
/*
 * as.h - address spaces: a Sv39 root table, its locks, its ASID, the harts
 * that may cache its translations, and the user regions faults may fill
 *
 * struct as
 *
 * Locking:
 *   lock       rank 10. In split mode: population of upper-level entries
 *              (root and level-1 tables), unlinking of empty leaf and
 *              level-1 tables (and nr_valid of the root and level-1s),
 *              and the region table's writers. In single mode
 *              additionally every entry of every table of this address
 *              space, and nr_valid of each.
 *   mode       immutable after as_create.
 *   root, root_frame   immutable after as_create.
 *   asid       the ASID allocator's lock (arch/riscv/asid.c).
 *   harts      atomic OR / test: harts that may hold its translations.
 *              Bits are set by as_activate and cleared only by a full
 *              flush on that hart (never, for now).
 *   regions[]  the slots' bounds and rights are written under lock (see
 *              struct as_region); faults read them without any lock or
 *              shared write. nregions (occupied slots) under lock.
 *   l1_freed   under lock: level-1 tables unlinked (emptied) so far, for
 *              tests and statistics.
 *   nr_pt      atomic: page-table pages of this address space (changes
 *              only with as->lock held, so the fault path's fast case
 *              never writes it; there is no per-address-space count of
 *              mapped pages for the same reason: as_count_user walks).
 *   pins       atomic: as_pin() holders; as_destroy waits until none.
 *   flushes_pending  atomic, no lock: calls that take mappings or rights
 *              away (unmap, eviction, protect, copy-on-write share) and
 *              have not finished their shootdown; each adds itself before
 *              it changes an entry and leaves after its flush. A call
 *              that sees another counted flushes its whole range itself
 *              before returning (mm_internal.h, as_flush_begin). On a
 *              cache line of its own: the fault path never touches it,
 *              and unmaps must not bounce a line that faults read.
 */
#include <kern/types.h>
#include <kern/smp.h>
#include <kern/spinlock_types.h>
#include <arch/pte.h>

struct frame;

enum ptlock_mode {
	PTLOCK_SINGLE = 0,	/* one lock per address space (pre-2005) */
	PTLOCK_SPLIT = 1,	/* a lock per leaf page-table page */
};

/* Protection bits for as_* calls. */
#define AS_PROT_R	BIT(0)
#define AS_PROT_W	BIT(1)
#define AS_PROT_X	BIT(2)
#define AS_PROT_USER	BIT(3)	/* user-accessible (U bit) */
#define AS_PROT_MASK	(AS_PROT_R | AS_PROT_W | AS_PROT_X | AS_PROT_USER)

/* Access kinds for as_fault. */
enum as_access {
	AS_ACCESS_READ,
	AS_ACCESS_WRITE,
	AS_ACCESS_EXEC,
};

/* User half of Sv39: [0, AS_USER_TOP). */
#define AS_USER_TOP	(1UL << (SV39_VA_BITS - 1))
#define AS_MAX_REGIONS	64

/*
 * struct as_region - one slot of an address space's region table
 *
 * A slot is free (start == end), live (prot != 0: faults may fill it), or
 * dying (prot == 0: an unmap is emptying its range, which stays reserved
 * against new regions until the pages are gone). Regions never move
 * between slots while live, so a fault can keep a pointer to its slot.
 *
 * Locking:
 *   lock        rank 5 (region). Held across one change of the rights of
 *               the region in this slot together with its pages
 *               (as_region_protect) and across copy-on-write sharing from
 *               it, so that such changes apply in one order to both the
 *               region and its page-table entries. Changes to other
 *               regions, and faults, never wait for it.
 *   seq         per-slot sequence count, written under as->lock: odd
 *               while start/end/prot change, and different after every
 *               change. A fault reads the slot between two even, equal
 *               reads of seq, and before installing a page checks, under
 *               the leaf table's lock, that seq has not moved.
 *   start, end, prot, pager, key, pgoff  written under as->lock between the
 *               two seq bumps; read locklessly under seq. A slot with a
 *               pager holds one as_pager_ref() on it.
 */
struct as_region {
	struct spinlock lock;
	unsigned int seq;
	unsigned int prot;	/* AS_PROT_*, 0 while dying */
	vaddr_t start, end;	/* [start, end), page aligned */
	void *pager;		/* backing pager (a reference), or NULL */
	unsigned long key;	/* the pager's name for what backs it */
	unsigned long pgoff;	/* byte offset of start in that */
};

struct as {
	struct spinlock lock;
	enum ptlock_mode mode;
	pte_t *root;
	struct frame *root_frame;
	uint64_t asid;
	hartmask_t harts;
	int nregions;
	struct as_region regions[AS_MAX_REGIONS];
	uint64_t nr_pt;
	uint64_t l1_freed;
	unsigned int pins;
	unsigned int flushes_pending __cacheline_aligned;
};

/* Mode for new address spaces: Kconfig's choice, or ptlock= at boot. */
extern enum ptlock_mode ptlock_default;
const char *ptlock_mode_name(enum ptlock_mode m);

/*
 * as_create - a new, empty address space whose kernel half is the kernel's
 * Return: the address space, or NULL when out of memory.
 */
struct as *as_create(enum ptlock_mode mode);
/*
 * as_destroy - unmap everything, flush every hart that may cache it, and
 * free every frame and page-table page. No other hart may use @as.
 */
void as_destroy(struct as *as);

/*
 * Mapping calls. @va and @len must be page aligned, @len non-zero, the
 * range inside the user half without wrapping, @prot a valid combination
 * (W needs R: the RISC-V W-only encoding is reserved). Errors: -E_INVAL
 * for bad arguments (nothing is changed), -E_NOMEM, -E_EXIST.
 */
/* Map @f at @va (takes a mapping on it). -E_EXIST if va is mapped. */
int as_map_frame(struct as *as, vaddr_t va, struct frame *f,
		 unsigned int prot);
/* Map zeroed anonymous frames over [va, va+len). On -E_NOMEM or -E_EXIST
 * whatever this call mapped is unmapped again. */
int as_map_anon(struct as *as, vaddr_t va, size_t len, unsigned int prot);
/* Unmap [va, va+len): holes are fine. Frames go back only after every
 * hart that may cache them has flushed. Returns only when no hart can
 * reach the range through its TLB, also where another call cleared the
 * entries first and has not flushed yet. Return: 0 or -E_INVAL. */
int as_unmap(struct as *as, vaddr_t va, size_t len);
/* Change the protection of every mapped page in the range; as for
 * as_unmap, no hart keeps a right @prot lacks when it returns. */
int as_protect(struct as *as, vaddr_t va, size_t len, unsigned int prot);
/* Translate @va: 0 and fills *pa and *prot, or -E_NOENT if unmapped.
 * Waits while a copy-on-write break replaces the page (docs/vm.md). */
int as_lookup(struct as *as, vaddr_t va, paddr_t *pa, unsigned int *prot);

/*
 * Regions: the ranges faults may fill, each with its rights.
 *
 * as_region_add - declare [start, start+len) anonymous memory. -E_EXIST
 *   if it overlaps a region (or a range still being unmapped), -E_NOMEM
 *   if every slot is taken.
 * as_region_unmap - end the regions in [start, start+len) (cutting those
 *   that overlap its edges) and unmap their pages; holes are fine. The
 *   range is reserved until its pages are gone, in a free slot or in the
 *   slot of a region it ends whole. -E_NOMEM (nothing changed) if it
 *   needs a free slot and every slot is taken: to reserve a range that
 *   ends no region whole, or for the tail of a region it cuts in two.
 * as_region_protect - give the regions inside [start, start+len), and
 *   their mapped pages, the rights @prot. Whole regions only: -E_INVAL if
 *   one would be cut, -E_NOENT if the range holds none. A fault racing it
 *   sees the old rights or the new ones, and the pages end with the new.
 */
int as_region_add(struct as *as, vaddr_t start, size_t len,
		  unsigned int prot);
int as_region_unmap(struct as *as, vaddr_t start, size_t len);
int as_region_protect(struct as *as, vaddr_t start, size_t len,
		      unsigned int prot);
/*
 * Pager-backed regions (the pager itself lives outside mm: kernel/ipc).
 *
 * as_region_add_at - as as_region_add; with *@start 0 the region goes to
 *   the lowest free range at or above @from (with a guard page after it)
 *   and *@start says where. With @pager (else NULL), absent pages come
 *   from @pager (an opaque object; the region holds a reference through
 *   as_pager_ref) under @key.
 * as_fault_ex - as as_fault, but a fault on an absent page of a
 *   pager-backed region returns AS_FAULT_PAGER and fills @pf (with a
 *   reference to the pager, as_pager_ref(pf->pager, NULL, +1), that the
 *   caller drops) instead of failing. The caller holds no spinlock and
 *   is in no page-table walk or cross-hart call (interrupts may be off):
 *   a leaf table populated for a region that went meanwhile is freed at
 *   once (a tlb_sync_all; docs/vm.md).
 * as_install_pager_page - map @f (whose reference the mapping takes on
 *   success) at the page @pf faulted on, if the region has not changed
 *   since and the page is still absent. Return: 0 (installed), -E_EXIST
 *   (mapped meanwhile: the caller keeps its reference), -E_AGAIN (the
 *   region changed: fault again; a leaf table populated for a region
 *   that went is freed, as in as_fault_ex, whose rules the caller
 *   follows).
 * as_pager_evict - unmap the pages [off, off+len) of every region of @as
 *   backed by (@pager, @key). Return: pages unmapped.
 */
#define AS_FAULT_PAGER	1
/* As the pager of a region: device memory at physical address @key (the
 * pages fault in uncached-by-PMA, no frames behind them). */
#define AS_PAGER_DEVICE	((void *)1)
struct as_fault_info {
	void *pager;
	unsigned long key;
	unsigned long offset;		/* of the page in the region */
	vaddr_t va;			/* the page */
	unsigned int prot;
	struct as_region *slot;		/* to check it did not change */
	unsigned int seq;
};
int as_region_add_at(struct as *as, vaddr_t *start, size_t len,
		     unsigned int prot, void *pager, unsigned long key,
		     vaddr_t from);
int as_fault_ex(struct as *as, vaddr_t va, enum as_access access,
		struct as_fault_info *pf);
int as_install_pager_page(struct as *as, struct frame *f,
			  const struct as_fault_info *pf);
long as_pager_evict(struct as *as, void *pager, unsigned long key,
		    unsigned long off, unsigned long len);
/* Keep @as from being destroyed (as_destroy waits for the last unpin). */
void as_pin(struct as *as);
void as_unpin(struct as *as);
/*
 * Upcall, defined by the pager side (kernel/ipc/pager.c; host tests stub
 * it): a region of @as backed by @pager came (+1) or went (-1), or (@as
 * NULL) a plain reference is taken (+1) or dropped (-1). -E_NOMEM if a
 * new client cannot be tracked (only for +1 with @as).
 */
int as_pager_ref(void *pager, struct as *as, int delta);

/* Sum of the slots' sequence counts: changes whenever a region does
 * (tests use it to check that a refused call changed nothing). */
unsigned long as_region_version(struct as *as);

/*
 * as_fault - resolve a page fault at @va in @as
 *
 * A present page that allows the access but lacks A (or D for a write) is
 * a U74-style accessed/dirty fault: the bits are set and the fault is
 * over. A present page that already allows it (another hart got there
 * first, or a stale invalid entry in this hart's TLB) is spurious. An
 * absent page inside an anonymous region gets a zeroed frame.
 *
 * Locks: takes and drops the lock covering @va's leaf table.
 * Return: 0 (resolved), -E_FAULT (no region or not allowed), -E_NOMEM.
 */
int as_fault(struct as *as, vaddr_t va, enum as_access access);

/* Where the page-table lock statistics of both kinds come from. */
void as_print_lockstat(void);

/* Check the address space's invariants (tests; nothing may run in @as):
 * nr_valid of every table equals its entries in use, none of them busy,
 * mapped user frames have mapcount >= 1, the counters add up.
 * Return: 0 or the number of violations (printed). */
int as_check(struct as *as);

/*
 * as_cow_share - map the pages of @src's region [va, va+len) into @dst
 * copy-on-write: both see the same frames until one writes, then the
 * writer gets its own copy (as_fault). @dst gets the same region.
 * Return: 0, -E_INVAL, -E_NOENT (no such region in @src), -E_EXIST (the
 * range is taken in @dst), -E_NOMEM.
 */
int as_cow_share(struct as *src, struct as *dst, vaddr_t va, size_t len);

/*
 * as_get_user_page - the frame behind the user page @va (page aligned) of
 * @as, faulted in first (for writing: made writable, copy-on-write broken),
 * with a reference the caller owns: it stays valid after an unmap.
 * Return: the frame, or NULL if the page cannot be had with that access.
 */
struct frame *as_get_user_page(struct as *as, vaddr_t va, bool write);
/* Drop a reference from as_get_user_page. */
void as_put_user_page(struct frame *f);

/* Mapped user pages (sums every leaf table's count; quiet @as only). */
uint64_t as_count_user(struct as *as);

/* Make @as the address space of this hart (arch: satp, ASID). */
void as_activate(struct as *as);
/* Back to the kernel-only root on this hart. */
void as_deactivate(void);
