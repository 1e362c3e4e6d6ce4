/*
 * kt_mm.c - in-kernel tests of the memory system on real (emulated) harts
 *
 * What only real harts can show: the frame record's size in the running
 * build, the mapping calls racing on every hart under both page-table
 * locking modes in one boot, faults racing on the same pages, a stale TLB
 * entry surviving an unmap or a protection change on another hart, the
 * allocator running dry (on one hart, and with every hart's frame cache
 * emptied by the others), a U74-style accessed/dirty fault handed to the
 * fault handler, hostile arguments, ASID switches and roll-overs, and
 * level-1 tables freed with their last leaf table while other harts
 * fault through them.
 *
 * Bodies run on other harts through hart_run_on/hart_run_all, with
 * interrupts on. They cannot use KT_EXPECT (the context belongs to the
 * hart running the case), so they report through bad(): an atomic count
 * the case checks, plus the first few messages. Every loop that waits for
 * another hart, or that runs until enough work is done, has a deadline
 * from arch_time(): over-subscribed QEMU (8 or 32 harts on 2 host cores)
 * must never turn a slow run into a hang.
 *
 * Addresses used (user half): the per-hart spans of the concurrency test
 * start at 2 GiB (one 2 MiB leaf table per hart); the shared span and the
 * racing-fault pages straddle a 1 GiB boundary, so upper tables and two
 * leaf tables are populated concurrently too.
 *
 * Address-space activation is kept to harts 1 and 2 in every case but
 * asid_more_harts_than_asids, so that a boot with asidbits=2 (three usable
 * ASIDs) never has more harts holding an ASID than there are ASIDs.
 *
 * Harts that hold an address space keep sstatus.SUM set between steps
 * (cleared when they deactivate): QEMU flushes a hart's whole TLB whenever
 * SUM changes, which would hide exactly the stale entries tested for.
 */
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/ktest.h>
#include <kern/printf.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <arch/asid.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/probe.h>
#include <arch/pte.h>

#define PROT_RW (AS_PROT_R | AS_PROT_W | AS_PROT_USER)
#define PROT_RO (AS_PROT_R | AS_PROT_USER)

static uint64_t ms_ticks(unsigned int ms)
{
	return arch_time_hz() / 1000 * ms;
}

/* ---- helpers shared by the cases ---- */

static unsigned int mm_bad; /* atomic: failures seen by bodies */
#define MM_BAD_PRINT 10

static void bad(const char *fmt, ...) __printf(1, 2);
static void bad(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	if (__atomic_fetch_add(&mm_bad, 1, __ATOMIC_RELAXED) >= MM_BAD_PRINT)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("        # hart %u: %s\n", hart_self(), buf);
}

static void drain_fn(void *arg)
{
	frame_cache_drain();
}

/* Free frames with every hart's cache given back: exact when quiet. */
static uint64_t quiet_free_count(void)
{
	hart_run_all(drain_fn, NULL);
	return frame_free_count();
}

/*
 * Harts that take part in the lock-heavy cases (2 and 3). Beyond 8, on a
 * host with two cores, a ticket lock handed to a descheduled vCPU stalls
 * every hart queued behind it (lock-waiter preemption): one run of case 2
 * in single mode on 32 harts took 60 s instead of 1. test_mm.py's boots
 * have at most 8 harts, so there every hart takes part.
 */
#define MM_CONC_HARTS 8

static unsigned int conc_harts(void)
{
	return MIN(nr_harts, MM_CONC_HARTS);
}

/* Start barrier for the first @n harts; false if it timed out. Harts
 * reach it within milliseconds unless the host starves their vCPUs. */
#define BARRIER_MS 3000

static bool barrier_wait(unsigned int *arrived, unsigned int n,
			 uint64_t deadline)
{
	__atomic_fetch_add(arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(arrived, __ATOMIC_ACQUIRE) < n) {
		if (arch_time() > deadline) {
			bad("start barrier timed out");
			return false;
		}
		arch_cpu_relax();
	}
	return true;
}

static uint64_t rnd_next(uint64_t *s)
{
	/* xorshift64 */
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The level-0 entry for @va, or NULL if a table on the way is absent. */
static pte_t *pte_of(struct as *as, vaddr_t va)
{
	pte_t e = as->root[SV39_INDEX(va, 2)];
	pte_t *t;

	if (!pte_is_valid(e))
		return NULL;
	t = pa_to_kva(pte_pa(e));
	e = t[SV39_INDEX(va, 1)];
	if (!pte_is_valid(e))
		return NULL;
	t = pa_to_kva(pte_pa(e));
	return &t[SV39_INDEX(va, 0)];
}

/* The direct-map address of the frame mapped at @va (NULL if none). */
static uint64_t *kva_of(struct as *as, vaddr_t va)
{
	paddr_t pa;

	if (as_lookup(as, va, &pa, NULL))
		return NULL;
	return pa_to_kva(pa);
}

static uint64_t as_nr_user(struct as *as)
{
	return as_count_user(as);
}

/*
 * One step on one hart, through the user mapping of the address space it
 * runs: optionally switch to @as first, then read or write @va (a fault
 * returns -E_FAULT through the exception table), optionally switch back.
 */
enum { STEP_NONE, STEP_READ, STEP_WRITE };

struct step {
	struct as *as; /* activate this first (NULL: keep current) */
	vaddr_t va;
	int op;		    /* STEP_* */
	uint64_t val;	    /* value to write */
	bool deactivate;    /* as_deactivate() at the end */
	int rc;		    /* out: probe result */
	uint64_t got;	    /* out: value read */
	unsigned long satp; /* out: satp while the access ran */
};

static void step_fn(void *arg)
{
	struct step *s = arg;

	if (s->as)
		as_activate(s->as);
	s->satp = csr_read(CSR_SATP);
	/* SUM stays set until the hart deactivates: QEMU flushes its whole
	 * TLB whenever SUM changes, which would hide a stale entry. */
	csr_set(CSR_SSTATUS, SSTATUS_SUM);
	if (s->op == STEP_READ)
		s->rc = probe_read_u64((const void *)s->va, &s->got);
	else if (s->op == STEP_WRITE)
		s->rc = probe_write_u64((void *)s->va, s->val);
	else
		s->rc = 0;
	if (s->deactivate) {
		csr_clear(CSR_SSTATUS, SSTATUS_SUM);
		as_deactivate();
	}
}

/* Run @s on hart @h and wait (hart_wait_work's acquire load pairs with
 * the idle loop's release store, so @s's results are visible). */
static void step_on(unsigned int h, struct step s_in, struct step *out)
{
	static struct step s; /* the case's hart only */

	s = s_in;
	hart_run_on(h, step_fn, &s);
	hart_wait_work(h);
	*out = s;
}

static int read_on(unsigned int h, struct as *as, vaddr_t va, uint64_t *got)
{
	struct step r;

	step_on(h, (struct step){.as = as, .va = va, .op = STEP_READ}, &r);
	*got = r.got;
	return r.rc;
}

static int write_on(unsigned int h, struct as *as, vaddr_t va, uint64_t v)
{
	struct step r;

	step_on(h,
		(struct step){.as = as, .va = va, .op = STEP_WRITE, .val = v},
		&r);
	return r.rc;
}

static void deactivate_on(unsigned int h)
{
	struct step r;

	step_on(h, (struct step){.op = STEP_NONE, .deactivate = true}, &r);
}

/* ---- 1: frame record ---- */

KTEST(frame_record_size)
{
	struct frame *pt;

	KT_EXPECT_EQ(sizeof(struct frame), 32);
	KT_EXPECT_EQ(sizeof(struct spinlock), 8);
	/* The lock lives in the union, batch_next outside it. */
	KT_EXPECT(offsetof(struct frame, pt.pt_lock) >= 8 &&
		  offsetof(struct frame, pt.pt_lock) + 8 <=
			  offsetof(struct frame, batch_next));
	pt = frame_alloc_pt(0);
	KT_ASSERT(pt);
	KT_EXPECT(frame_is_pt(pt));
	KT_EXPECT_EQ(pt->pt.pt_lock.cls, LOCK_CLASS_PT);
	KT_EXPECT(!spin_is_locked(&pt->pt.pt_lock));
	frame_free(pt);
	KT_INFO("mm: frame record %zu bytes, ptlock=%s", sizeof(struct frame),
		ptlock_mode_name(ptlock_default));
}

/* ---- 2: concurrent map/unmap/protect/fault, both modes ---- */

#define CONC_MS	       900 /* per mode */
#define CONC_MAX_ITERS 400 /* per hart, when the host is fast */
#define DISJ_BASE      (2 * SV39_GIGA)
#define SHARED_BASE    (SV39_GIGA - SV39_MEGA) /* straddles 1 GiB */
#define SHARED_PAGES   1024		       /* 4 MiB: 2 leaf tables */

static struct {
	struct as *as;
	uint64_t deadline;
	uint64_t start_deadline; /* for the start barrier */
	uint64_t seed;
	unsigned int arrived;		       /* atomic */
	uint64_t iters[CONFIG_MAX_HARTS];      /* owner hart only */
	uint64_t shared_ops[CONFIG_MAX_HARTS]; /* owner hart only */
} conc;

static void expect_rc(const char *what, vaddr_t va, int rc, int want, int alt)
{
	if (rc != want && rc != alt)
		bad("%s at %#lx returned %d (%s)", what, (unsigned long)va, rc,
		    errno_name(-rc));
}

/* One map/protect/unmap/fault cycle in this hart's own leaf table. */
static void conc_disjoint(struct as *as, uint64_t *rs)
{
	vaddr_t base = DISJ_BASE + (vaddr_t)hart_self() * SV39_MEGA;
	unsigned int n = 1 + rnd_next(rs) % 32;
	vaddr_t va = base + (rnd_next(rs) % (512 - n)) * PAGE_SIZE;
	size_t len = (size_t)n * PAGE_SIZE;
	unsigned int prot;
	paddr_t pa;
	int rc;

	expect_rc("map_anon", va, as_map_anon(as, va, len, PROT_RW), 0, 0);
	rc = as_lookup(as, va + len - PAGE_SIZE, &pa, &prot);
	if (rc || prot != PROT_RW)
		bad("lookup after map: %d prot %#x", rc, prot);
	expect_rc("protect RO", va, as_protect(as, va, len, PROT_RO), 0, 0);
	rc = as_lookup(as, va, &pa, &prot);
	if (rc || prot != PROT_RO)
		bad("lookup after protect: %d prot %#x", rc, prot);
	expect_rc("write fault on RO", va, as_fault(as, va, AS_ACCESS_WRITE),
		  -E_FAULT, -E_FAULT);
	expect_rc("read fault on RO", va, as_fault(as, va, AS_ACCESS_READ), 0,
		  0);
	expect_rc("protect RW", va, as_protect(as, va, len, PROT_RW), 0, 0);
	expect_rc("write fault on RW", va, as_fault(as, va, AS_ACCESS_WRITE), 0,
		  0);
	expect_rc("unmap", va, as_unmap(as, va, len), 0, 0);
	rc = as_lookup(as, va, NULL, NULL);
	if (rc != -E_NOENT)
		bad("lookup after unmap at %#lx: %d", (unsigned long)va, rc);
	/* Refill by faults (the span is in a region), then empty again. */
	for (unsigned int i = 0; i < n; i++)
		expect_rc("fault fill", va + i * PAGE_SIZE,
			  as_fault(as, va + i * PAGE_SIZE,
				   i & 1 ? AS_ACCESS_WRITE : AS_ACCESS_READ),
			  0, 0);
	rc = as_lookup(as, va + len - PAGE_SIZE, &pa, &prot);
	if (rc || prot != PROT_RW)
		bad("lookup after fault fill: %d prot %#x", rc, prot);
	expect_rc("unmap", va, as_unmap(as, va, len), 0, 0);
}

/* One random operation on the span every hart works in. */
static void conc_shared(struct as *as, uint64_t *rs)
{
	unsigned int n = 1 + rnd_next(rs) % 16;
	vaddr_t va =
		SHARED_BASE + (rnd_next(rs) % (SHARED_PAGES - n)) * PAGE_SIZE;
	size_t len = (size_t)n * PAGE_SIZE;

	switch (rnd_next(rs) % 7) {
	case 0:
		expect_rc("shared map_anon", va,
			  as_map_anon(as, va, len, PROT_RW), 0, -E_EXIST);
		break;
	case 1:
		expect_rc("shared unmap", va, as_unmap(as, va, len), 0, 0);
		break;
	case 2:
		expect_rc("shared protect", va,
			  as_protect(as, va, len, PROT_RO), 0, 0);
		break;
	case 3:
		expect_rc("shared protect", va,
			  as_protect(as, va, len, PROT_RW), 0, 0);
		break;
	case 4:
		for (unsigned int i = 0; i < n; i++)
			expect_rc("shared read fault", va + i * PAGE_SIZE,
				  as_fault(as, va + i * PAGE_SIZE,
					   AS_ACCESS_READ),
				  0, 0);
		break;
	case 5:
		/* -E_FAULT: present but made read-only by another hart. */
		for (unsigned int i = 0; i < n; i++)
			expect_rc("shared write fault", va + i * PAGE_SIZE,
				  as_fault(as, va + i * PAGE_SIZE,
					   AS_ACCESS_WRITE),
				  0, -E_FAULT);
		break;
	case 6:
		for (unsigned int i = 0; i < n; i++)
			expect_rc("shared lookup", va + i * PAGE_SIZE,
				  as_lookup(as, va + i * PAGE_SIZE, NULL, NULL),
				  0, -E_NOENT);
		break;
	}
}

static void conc_fn(void *arg)
{
	unsigned int self = hart_self();
	uint64_t rs =
		conc.seed ^ ((uint64_t)(self + 1) * 0x9e3779b97f4a7c15ULL);
	uint64_t i = 0, shared = 0;

	if (self >= conc_harts())
		return;
	if (!rs)
		rs = 1;
	if (!barrier_wait(&conc.arrived, conc_harts(), conc.start_deadline))
		return;
	for (; i < CONC_MAX_ITERS && arch_time() < conc.deadline; i++) {
		conc_disjoint(conc.as, &rs);
		for (int k = 0; k < 3; k++, shared++)
			conc_shared(conc.as, &rs);
	}
	conc.iters[self] = i;
	conc.shared_ops[self] = shared;
}

static void run_conc_mode(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	struct lockstat pt0, as0, pt1, as1;
	uint64_t before, after, iters = 0, shared = 0;
	struct as *as;

	before = quiet_free_count();
	as = as_create(mode);
	KT_ASSERT(as);
	KT_EXPECT_EQ(as->mode, mode);
	KT_EXPECT_EQ(as_region_add(as, DISJ_BASE,
				   (size_t)conc_harts() * SV39_MEGA, PROT_RW),
		     0);
	KT_EXPECT_EQ(as_region_add(as, SHARED_BASE, SHARED_PAGES * PAGE_SIZE,
				   PROT_RW),
		     0);
	memset(conc.iters, 0, sizeof(conc.iters));
	memset(conc.shared_ops, 0, sizeof(conc.shared_ops));
	conc.as = as;
	conc.arrived = 0;
	conc.seed = arch_time() | 1;
	KT_INFO("%s: seed %#lx", ptlock_mode_name(mode),
		(unsigned long)conc.seed);
	lockstat_sum(LOCK_CLASS_PT, &pt0);
	lockstat_sum(LOCK_CLASS_AS, &as0);
	conc.start_deadline = arch_time() + ms_ticks(BARRIER_MS);
	conc.deadline = arch_time() + ms_ticks(CONC_MS);
	hart_run_all(conc_fn, NULL);
	lockstat_sum(LOCK_CLASS_PT, &pt1);
	lockstat_sum(LOCK_CLASS_AS, &as1);
	for (unsigned int h = 0; h < conc_harts(); h++) {
		iters += conc.iters[h];
		shared += conc.shared_ops[h];
		if (!conc.iters[h])
			KT_INFO("hart %u did no iteration", h);
	}
	KT_EXPECT(iters >= conc_harts());
	KT_EXPECT_EQ(as_check(as), 0);
	KT_INFO("%s: %lu own-span cycles, %lu shared ops on %u harts; "
		"%lu pages left mapped, %lu tables",
		ptlock_mode_name(mode), (unsigned long)iters,
		(unsigned long)shared, conc_harts(),
		(unsigned long)as_nr_user(as), (unsigned long)as->nr_pt);
	KT_INFO("%s: lockstat pt: %lu acquisitions, %lu contended, %lu us "
		"waited; as: %lu acquisitions, %lu contended, %lu us waited",
		ptlock_mode_name(mode),
		(unsigned long)(pt1.acquired - pt0.acquired),
		(unsigned long)(pt1.contended - pt0.contended),
		(unsigned long)((pt1.wait_ticks - pt0.wait_ticks) * 1000000 /
				arch_time_hz()),
		(unsigned long)(as1.acquired - as0.acquired),
		(unsigned long)(as1.contended - as0.contended),
		(unsigned long)((as1.wait_ticks - as0.wait_ticks) * 1000000 /
				arch_time_hz()));
	if (mode == PTLOCK_SINGLE) /* every table under as->lock */
		KT_EXPECT_EQ(pt1.acquired - pt0.acquired, 0);
	else
		KT_EXPECT(pt1.acquired - pt0.acquired >
			  as1.acquired - as0.acquired);
	as_destroy(as);
	after = quiet_free_count();
	KT_EXPECT_EQ(after, before);
}

KTEST(concurrent_map_unmap_protect_fault)
{
	mm_bad = 0;
	run_conc_mode(kt, PTLOCK_SPLIT);
	run_conc_mode(kt, PTLOCK_SINGLE);
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
}

/* ---- 3: racing faults on the same pages ---- */

#define RACE_PAGES  48
#define RACE_BASE   (3 * SV39_GIGA - 16 * PAGE_SIZE) /* straddles 3 GiB */
#define RACE_ROUNDS 16
#define RACE_MS	    1500 /* all rounds, both modes */

static struct {
	struct as *as;
	uint64_t deadline;	 /* no new round after it */
	uint64_t start_deadline; /* this round's start barrier */
	unsigned int arrived;	 /* atomic */
} race;

static void race_fn(void *arg)
{
	unsigned int self = hart_self();

	if (self >= conc_harts() ||
	    !barrier_wait(&race.arrived, conc_harts(), race.start_deadline))
		return;
	/* Each hart starts at another page, so every page sees both
	 * first-comers and late ones. */
	for (unsigned int k = 0; k < RACE_PAGES; k++) {
		unsigned int p = (k + self * 7) % RACE_PAGES;
		vaddr_t va = RACE_BASE + (vaddr_t)p * PAGE_SIZE;
		int rc = as_fault(race.as, va + 8 * self, AS_ACCESS_WRITE);

		if (rc)
			bad("racing fault at %#lx: %d", (unsigned long)va, rc);
	}
}

static void run_race_mode(struct ktest_ctx *kt, enum ptlock_mode mode,
			  unsigned int *rounds)
{
	static paddr_t pas[RACE_PAGES];
	uint64_t before, after;
	struct as *as;

	before = quiet_free_count();
	for (unsigned int r = 0; r < RACE_ROUNDS; r++) {
		uint64_t faults0 = 0, spur0 = 0, ad0 = 0, faults1 = 0,
			 spur1 = 0, ad1 = 0;

		if (r > 0 && arch_time() > race.deadline)
			break;
		/* A fresh address space each round: the harts race to
		 * populate the root and level-1 entries too. */
		as = as_create(mode);
		KT_ASSERT(as);
		KT_ASSERT_EQ(as_region_add(as, RACE_BASE,
					   RACE_PAGES * PAGE_SIZE, PROT_RW),
			     0);
		race.as = as;
		for (unsigned int h = 0; h < conc_harts(); h++) {
			faults0 += harts[h].mm_faults;
			spur0 += harts[h].mm_spurious;
			ad0 += harts[h].mm_ad_fixups;
		}
		race.arrived = 0;
		race.start_deadline = arch_time() + ms_ticks(BARRIER_MS);
		hart_run_all(race_fn, NULL);
		for (unsigned int h = 0; h < conc_harts(); h++) {
			faults1 += harts[h].mm_faults;
			spur1 += harts[h].mm_spurious;
			ad1 += harts[h].mm_ad_fixups;
		}
		(*rounds)++;
		KT_EXPECT_EQ(as_check(as), 0);
		KT_EXPECT_EQ(as_nr_user(as), RACE_PAGES);
		/* Root, two level-1 tables, two leaves. */
		KT_EXPECT_EQ(as->nr_pt, 5);
		KT_EXPECT_EQ(faults1 - faults0,
			     (uint64_t)conc_harts() * RACE_PAGES);
		/* Exactly one fault per page installed a frame; every other
		 * one found it present (spurious) and no A/D fix-up ran. */
		KT_EXPECT_EQ(spur1 - spur0,
			     (uint64_t)(conc_harts() - 1) * RACE_PAGES);
		KT_EXPECT_EQ(ad1 - ad0, 0);
		for (unsigned int p = 0; p < RACE_PAGES; p++) {
			vaddr_t va = RACE_BASE + (vaddr_t)p * PAGE_SIZE;
			unsigned int prot = 0;
			struct frame *f;

			pas[p] = 0;
			if (!KT_EXPECT_EQ(as_lookup(as, va, &pas[p], &prot), 0))
				continue;
			KT_EXPECT_EQ(prot, PROT_RW);
			f = pa_to_frame(pas[p]);
			if (!KT_EXPECT(f && (f->flags & FRAME_F_USER)))
				continue;
			KT_EXPECT_EQ(f->user.mapcount, 1);
			KT_EXPECT_EQ(f->refcount, 1);
			for (unsigned int q = 0; q < p; q++)
				if (pas[q] == pas[p]) {
					KT_INFO("pages %u and %u share pa "
						"%#lx",
						q, p, (unsigned long)pas[p]);
					KT_EXPECT(pas[q] != pas[p]);
				}
		}
		KT_EXPECT_EQ(as_unmap(as, RACE_BASE, RACE_PAGES * PAGE_SIZE),
			     0);
		KT_EXPECT_EQ(as_nr_user(as), 0);
		KT_EXPECT_EQ(as_check(as), 0);
		as_destroy(as);
	}
	after = quiet_free_count();
	KT_EXPECT_EQ(after, before);
}

KTEST(racing_faults_same_pages)
{
	unsigned int rounds_split = 0, rounds_single = 0;

	mm_bad = 0;
	race.deadline = arch_time() + ms_ticks(RACE_MS / 2);
	run_race_mode(kt, PTLOCK_SPLIT, &rounds_split);
	race.deadline = arch_time() + ms_ticks(RACE_MS / 2);
	run_race_mode(kt, PTLOCK_SINGLE, &rounds_single);
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
	KT_INFO("%u harts x %u pages: %u rounds split, %u single", conc_harts(),
		RACE_PAGES, rounds_split, rounds_single);
}

/* ---- 4: stale TLB after unmap and after write-protect ---- */

#define STALE_VA    (5 * SV39_GIGA + 0x10000)
#define STALE_MAGIC 0x5354414c45d00d00ULL /* "STALE" */
#define STALE_MS    2000

/* Hart A reads (or writes) in a loop while hart B takes the page (or the
 * write permission) away; an access that starts after B's call returned
 * must fault. */
static struct {
	vaddr_t va;
	uint64_t magic;
	bool write; /* write loop instead of read loop */
	uint64_t deadline;
	unsigned int started;  /* atomic: A's first access succeeded */
	unsigned int removing; /* atomic: B is about to unmap/protect */
	unsigned int removed;  /* atomic: B's unmap/protect returned */
	uint64_t ok_before, stale, faulted; /* A only */
} spin;

static void spin_fn(void *arg)
{
	spin.ok_before = spin.stale = spin.faulted = 0;
	csr_set(CSR_SSTATUS, SSTATUS_SUM); /* cleared by deactivate_on */
	while (arch_time() < spin.deadline) {
		/* Read before the access: if B's call had returned, the
		 * access must fault. */
		unsigned int done =
			__atomic_load_n(&spin.removed, __ATOMIC_ACQUIRE);
		uint64_t v = 0;
		int rc;

		if (spin.write)
			rc = probe_write_u64((void *)spin.va, spin.magic);
		else
			rc = probe_read_u64((const void *)spin.va, &v);
		if (rc == 0) {
			if (!spin.write && v != spin.magic)
				bad("read %#lx at %#lx, expected %#lx",
				    (unsigned long)v, (unsigned long)spin.va,
				    (unsigned long)spin.magic);
			if (done) {
				spin.stale++; /* through a stale entry */
				break;
			}
			spin.ok_before++;
			__atomic_store_n(&spin.started, 1, __ATOMIC_RELEASE);
			continue;
		}
		/* Read after the fault: it may fault once B has begun. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&spin.removing, __ATOMIC_ACQUIRE))
			bad("access at %#lx faulted before the change "
			    "(after %lu good ones)",
			    (unsigned long)spin.va,
			    (unsigned long)spin.ok_before);
		else
			spin.faulted++;
		break;
	}
}

static bool wait_flag(unsigned int *flag, uint64_t deadline)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (arch_time() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

KTEST(stale_tlb_after_unmap_and_protect)
{
	const unsigned int a = 1; /* hart A; this hart is B */
	vaddr_t va = STALE_VA;
	uint64_t before, v, *k;
	struct as *as;

	if (nr_harts < 2)
		KT_SKIP("needs 2 harts");
	mm_bad = 0;
	before = quiet_free_count();
	as = as_create(ptlock_default);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_map_anon(as, va, 4 * PAGE_SIZE, PROT_RW), 0);
	for (int i = 0; i < 4; i++) {
		k = kva_of(as, va + i * PAGE_SIZE);
		KT_ASSERT(k);
		*k = STALE_MAGIC + i;
	}

	/* Sequential: A caches the page, B unmaps, A must fault. */
	KT_EXPECT_EQ(read_on(a, as, va, &v), 0);
	KT_EXPECT_EQ(v, STALE_MAGIC);
	KT_EXPECT_EQ(read_on(a, NULL, va, &v), 0);
	KT_EXPECT_EQ(as_unmap(as, va, PAGE_SIZE), 0);
	KT_EXPECT_EQ(read_on(a, NULL, va, &v), -E_FAULT);
	KT_EXPECT(v != STALE_MAGIC);
	/* The neighbour is untouched. */
	KT_EXPECT_EQ(read_on(a, NULL, va + PAGE_SIZE, &v), 0);
	KT_EXPECT_EQ(v, STALE_MAGIC + 1);

	/* Sequential: write-protect. A writes, B removes W, A's write must
	 * fault and the frame keep A's last value; reads still work. */
	KT_EXPECT_EQ(write_on(a, NULL, va + PAGE_SIZE, 0x1111), 0);
	KT_EXPECT_EQ(as_protect(as, va + PAGE_SIZE, PAGE_SIZE, PROT_RO), 0);
	KT_EXPECT_EQ(write_on(a, NULL, va + PAGE_SIZE, 0x2222), -E_FAULT);
	KT_EXPECT_EQ(read_on(a, NULL, va + PAGE_SIZE, &v), 0);
	KT_EXPECT_EQ(v, 0x1111);
	k = kva_of(as, va + PAGE_SIZE);
	KT_EXPECT(k && *k == 0x1111);

	/* Concurrent: A reads in a loop while B unmaps. */
	spin = (typeof(spin)){.va = va + 2 * PAGE_SIZE,
			      .magic = STALE_MAGIC + 2,
			      .deadline = arch_time() + ms_ticks(STALE_MS)};
	hart_run_on(a, spin_fn, NULL);
	KT_EXPECT(wait_flag(&spin.started, spin.deadline));
	__atomic_store_n(&spin.removing, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	KT_EXPECT_EQ(as_unmap(as, spin.va, PAGE_SIZE), 0);
	__atomic_store_n(&spin.removed, 1, __ATOMIC_RELEASE);
	hart_wait_work(a);
	KT_EXPECT_EQ(spin.stale, 0);
	KT_EXPECT_EQ(spin.faulted, 1);

	/* Concurrent: A writes in a loop while B removes W. */
	spin = (typeof(spin)){.va = va + 3 * PAGE_SIZE,
			      .magic = 0x3333,
			      .write = true,
			      .deadline = arch_time() + ms_ticks(STALE_MS)};
	hart_run_on(a, spin_fn, NULL);
	KT_EXPECT(wait_flag(&spin.started, spin.deadline));
	__atomic_store_n(&spin.removing, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	KT_EXPECT_EQ(as_protect(as, spin.va, PAGE_SIZE, PROT_RO), 0);
	__atomic_store_n(&spin.removed, 1, __ATOMIC_RELEASE);
	hart_wait_work(a);
	KT_EXPECT_EQ(spin.stale, 0);
	KT_EXPECT_EQ(spin.faulted, 1);
	KT_EXPECT_EQ(read_on(a, NULL, spin.va, &v), 0);
	KT_EXPECT_EQ(v, 0x3333);

	deactivate_on(a);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(quiet_free_count(), before);
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
}

/* ---- 5: out of memory ---- */

#define OOM_VA	  (6 * SV39_GIGA)
#define OOM_PAGES 8

/* Leave OOM_CACHED frames in this hart's cache. */
#define OOM_CACHED 8

static void cache_fill_fn(void *arg)
{
	struct frame *f[OOM_CACHED];

	for (int i = 0; i < OOM_CACHED; i++)
		f[i] = frame_alloc(0, FRAME_F_KERNEL);
	for (int i = 0; i < OOM_CACHED; i++)
		if (f[i])
			frame_free(f[i]);
}

KTEST(out_of_memory)
{
	struct frame *held = NULL, *f;
	uint64_t before, n = 0, given = 0, steals;
	struct as *as;

	before = quiet_free_count();
	as = as_create(ptlock_default);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_region_add(as, OOM_VA + SV39_MEGA, SV39_MEGA, PROT_RW),
		     0);
	/* Every hart leaves frames in its cache; this hart takes them all,
	 * the others' too once the pool is empty. */
	steals = frame_cache_steals();
	hart_run_all(cache_fill_fn, NULL);
	while ((f = frame_alloc(0, FRAME_F_KERNEL))) {
		f->batch_next = held;
		held = f;
		n++;
	}
	if (nr_harts > 1)
		KT_EXPECT(frame_cache_steals() > steals);
	KT_EXPECT_EQ(frame_free_count(), 0);
	/* Every free frame, but the two as_create took. */
	KT_EXPECT_EQ(n + 2, before);
	KT_EXPECT(frame_alloc(0, FRAME_F_USER) == NULL);
	KT_EXPECT(frame_alloc(1, FRAME_F_KERNEL) == NULL);
	KT_EXPECT(frame_alloc_pt(0) == NULL);
	KT_EXPECT(as_create(PTLOCK_SPLIT) == NULL);
	KT_EXPECT(as_create(PTLOCK_SINGLE) == NULL);
	KT_EXPECT_EQ(as_fault(as, OOM_VA + SV39_MEGA, AS_ACCESS_WRITE),
		     -E_NOMEM);
	KT_EXPECT_EQ(as_nr_user(as), 0);

	/* Give back one frame at a time: the call gets further each time
	 * (user frame, level-1 table, leaf, some pages) but never as far as
	 * OOM_PAGES pages, and must undo what it mapped. */
	for (int k = 0; k <= 6; k++) {
		if (k > 0 && held) {
			f = held;
			held = f->batch_next;
			frame_free(f);
			given++;
		}
		KT_EXPECT_EQ(
			as_map_anon(as, OOM_VA, OOM_PAGES * PAGE_SIZE, PROT_RW),
			-E_NOMEM);
		KT_EXPECT_EQ(as_check(as), 0);
		KT_EXPECT_EQ(as_nr_user(as), 0);
		KT_EXPECT_EQ(as_lookup(as, OOM_VA, NULL, NULL), -E_NOENT);
	}
	KT_INFO("%lu frames allocated until NULL (%lu free before)",
		(unsigned long)n, (unsigned long)before);
	while (held) {
		f = held;
		held = f->batch_next;
		frame_free(f);
	}
	/* Memory is back: the same calls work. */
	KT_EXPECT_EQ(as_map_anon(as, OOM_VA, OOM_PAGES * PAGE_SIZE, PROT_RW),
		     0);
	KT_EXPECT_EQ(as_fault(as, OOM_VA + SV39_MEGA, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as_nr_user(as), OOM_PAGES + 1);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/* ---- 5b: frame caches running dry on every hart at once ---- */

/*
 * Memory is taken down to a few hundred free frames, then every
 * participating hart allocates, tags, checks and frees frames for
 * LOW_MS. Even harts also put frames in a mailbox and odd harts take them
 * out and free them, so frames flow into the odd harts' caches while the
 * even harts' run dry and must take other harts' cached frames, on real
 * harts, interrupts on. At most LOW_HELD frames per hart, LOW_SLOTS in
 * the mailbox and one per hart on its way are out at any moment, so
 * LOW_SLACK frames stay free: no allocation may fail, no frame may be
 * handed out twice (tags), and every frame comes back.
 */
#define LOW_HELD  24
#define LOW_SLOTS 16
#define LOW_SLACK 64
#define LOW_MS	  300

static struct {
	struct frame *slot[LOW_SLOTS];	/* atomic exchange */
	uint64_t start_deadline;
	unsigned int arrived;		/* atomic */
	unsigned long allocs, passed;	/* atomic */
} low;

static void low_fn(void *arg)
{
	unsigned int self = hart_self();
	struct frame *held[LOW_HELD];
	uint64_t tags[LOW_HELD], rng = 0x9e3779b97f4a7c15ULL * (self + 1);
	unsigned long allocs = 0, passed = 0;
	unsigned int n = 0;
	uint64_t deadline;

	if (self >= conc_harts() ||
	    !barrier_wait(&low.arrived, conc_harts(), low.start_deadline))
		return;
	deadline = arch_time() + ms_ticks(LOW_MS);
	for (uint64_t i = 0; arch_time() < deadline; i++) {
		uint64_t r = rnd_next(&rng);
		unsigned int k = n ? (unsigned int)((r >> 8) % n) : 0;
		struct frame **slot = &low.slot[(r >> 16) % LOW_SLOTS];
		struct frame *f;

		if (n == 0 || (n < LOW_HELD && (r & 3) < 2)) {
			f = frame_alloc(0, FRAME_F_KERNEL);
			if (!f) {
				bad("frame_alloc failed with frames free");
				break;
			}
			tags[n] = ((uint64_t)self << 48) | i;
			*(uint64_t *)frame_to_kva(f) = tags[n];
			held[n++] = f;
			allocs++;
			continue;
		}
		if ((r & 3) == 2 && (self & 1)) {
			/* Odd harts take from the mailbox (and free later). */
			f = n < LOW_HELD ? __atomic_exchange_n(slot, NULL,
							       __ATOMIC_ACQ_REL)
					 : NULL;
			if (f) {
				tags[n] = *(uint64_t *)frame_to_kva(f);
				held[n++] = f;
				passed++;
			}
			continue;
		}
		if (*(uint64_t *)frame_to_kva(held[k]) != tags[k])
			bad("frame pfn %#lx: tag %#lx, not %#lx",
			    (unsigned long)frame_to_pfn(held[k]),
			    (unsigned long)*(uint64_t *)frame_to_kva(held[k]),
			    (unsigned long)tags[k]);
		if ((r & 3) == 2) {
			/* Even harts give to the mailbox, and keep what was
			 * there. */
			f = __atomic_exchange_n(slot, held[k],
						__ATOMIC_ACQ_REL);
			if (f) {
				held[k] = f;
				tags[k] = *(uint64_t *)frame_to_kva(f);
				continue;
			}
		} else {
			frame_free(held[k]);
		}
		held[k] = held[--n];
		tags[k] = tags[n];
	}
	while (n) {
		n--;
		if (*(uint64_t *)frame_to_kva(held[n]) != tags[n])
			bad("frame pfn %#lx: tag changed",
			    (unsigned long)frame_to_pfn(held[n]));
		frame_free(held[n]);
	}
	__atomic_fetch_add(&low.allocs, allocs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&low.passed, passed, __ATOMIC_RELAXED);
}

KTEST(frame_caches_run_dry)
{
	uint64_t before, keep, steals, n = 0;
	struct frame *held = NULL, *f;

	mm_bad = 0;
	before = quiet_free_count();
	keep = (uint64_t)conc_harts() * (LOW_HELD + 1) + LOW_SLOTS + LOW_SLACK;
	KT_ASSERT(before > keep);
	while (n < before - keep && (f = frame_alloc(0, FRAME_F_KERNEL))) {
		f->batch_next = held;
		held = f;
		n++;
	}
	if (!KT_EXPECT_EQ(n, before - keep))
		goto out_free;

	memset(&low, 0, sizeof(low));
	steals = frame_cache_steals();
	low.start_deadline = arch_time() + ms_ticks(BARRIER_MS);
	hart_run_all(low_fn, NULL);
	for (unsigned int i = 0; i < LOW_SLOTS; i++)
		if (low.slot[i])
			frame_free(low.slot[i]);
	KT_INFO("%u harts, %lu free frames: %lu allocations, %lu frames "
		"freed by another hart, %lu allocations took other harts' "
		"cached frames", conc_harts(), (unsigned long)keep,
		low.allocs, low.passed,
		(unsigned long)(frame_cache_steals() - steals));
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
	KT_EXPECT(low.allocs > 0);
	if (conc_harts() > 1)
		KT_EXPECT(frame_cache_steals() > steals);
out_free:
	while (held) {
		f = held;
		held = f->batch_next;
		frame_free(f);
	}
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/* ---- 6: synthetic accessed/dirty faults (U74) ---- */

#define AD_VA (7 * SV39_GIGA)

KTEST(ad_fault_synthetic)
{
	struct hart *me = this_hart();
	uint64_t before, fix0, faults0, spur0;
	pte_t *p, *q;
	struct as *as;

	before = quiet_free_count();
	as = as_create(ptlock_default);
	KT_ASSERT(as);
	KT_ASSERT_EQ(as_map_anon(as, AD_VA, PAGE_SIZE, PROT_RW), 0);
	KT_ASSERT_EQ(as_map_anon(as, AD_VA + PAGE_SIZE, PAGE_SIZE, PROT_RO), 0);
	p = pte_of(as, AD_VA);
	q = pte_of(as, AD_VA + PAGE_SIZE);
	KT_ASSERT(p && q && pte_is_valid(*p) && pte_is_valid(*q));
	/* Installed with A, and D when writable (DESIGN.md: U74). */
	KT_EXPECT((*p & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
	KT_EXPECT((*q & (PTE_A | PTE_D)) == PTE_A);

	/* As the U74 would leave it: clear A and D. Nobody runs this
	 * address space, so no TLB holds the entry. */
	__atomic_store_n(p, *p & ~(PTE_A | PTE_D), __ATOMIC_RELAXED);
	fix0 = me->mm_ad_fixups;
	faults0 = me->mm_faults;
	spur0 = me->mm_spurious;
	KT_EXPECT_EQ(as_fault(as, AD_VA + 0x123, AS_ACCESS_READ), 0);
	KT_EXPECT(*p & PTE_A);
	KT_EXPECT(!(*p & PTE_D));
	KT_EXPECT_EQ(as_fault(as, AD_VA + 8, AS_ACCESS_WRITE), 0);
	KT_EXPECT((*p & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
	KT_EXPECT_EQ(me->mm_ad_fixups - fix0, 2);
	/* Now it is spurious: nothing more to fix. */
	KT_EXPECT_EQ(as_fault(as, AD_VA, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(me->mm_ad_fixups - fix0, 2);
	KT_EXPECT_EQ(me->mm_spurious - spur0, 1);
	/* D alone missing: a write fixes it, a read does not need to. */
	__atomic_store_n(p, *p & ~PTE_D, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(as_fault(as, AD_VA, AS_ACCESS_READ), 0);
	KT_EXPECT(!(*p & PTE_D));
	KT_EXPECT_EQ(as_fault(as, AD_VA, AS_ACCESS_WRITE), 0);
	KT_EXPECT(*p & PTE_D);
	KT_EXPECT_EQ(me->mm_ad_fixups - fix0, 3);
	/* The permission bits and the frame never change. */
	KT_EXPECT_EQ(*p & (PTE_V | PTE_R | PTE_W | PTE_X | PTE_U),
		     PTE_V | PTE_R | PTE_W | PTE_U);

	/* Not allowed: a write to a read-only page, even one lacking A,
	 * is a real fault, and the entry stays as it was. */
	__atomic_store_n(q, *q & ~PTE_A, __ATOMIC_RELAXED);
	{
		pte_t was = *q;

		KT_EXPECT_EQ(as_fault(as, AD_VA + PAGE_SIZE, AS_ACCESS_WRITE),
			     -E_FAULT);
		KT_EXPECT_EQ(as_fault(as, AD_VA + PAGE_SIZE, AS_ACCESS_EXEC),
			     -E_FAULT);
		KT_EXPECT_EQ(*q, was);
		KT_EXPECT_EQ(as_fault(as, AD_VA + PAGE_SIZE, AS_ACCESS_READ),
			     0);
		KT_EXPECT_EQ(*q, was | PTE_A);
	}
	KT_EXPECT_EQ(me->mm_ad_fixups - fix0, 4);
	KT_EXPECT_EQ(me->mm_faults - faults0, 8);
	/* Absent and in no region: a fault, and nothing is mapped. */
	KT_EXPECT_EQ(as_fault(as, AD_VA + 2 * PAGE_SIZE, AS_ACCESS_READ),
		     -E_FAULT);
	KT_EXPECT_EQ(as_lookup(as, AD_VA + 2 * PAGE_SIZE, NULL, NULL),
		     -E_NOENT);
	/* In a read-only region: a write is refused, a read fills. */
	KT_EXPECT_EQ(as_region_add(as, AD_VA + SV39_MEGA, SV39_MEGA, PROT_RO),
		     0);
	KT_EXPECT_EQ(as_fault(as, AD_VA + SV39_MEGA, AS_ACCESS_WRITE),
		     -E_FAULT);
	KT_EXPECT_EQ(as_lookup(as, AD_VA + SV39_MEGA, NULL, NULL), -E_NOENT);
	KT_EXPECT_EQ(as_fault(as, AD_VA + SV39_MEGA, AS_ACCESS_READ), 0);
	KT_EXPECT_EQ(as_nr_user(as), 3);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/* ---- 7: bad arguments ---- */

#define BAD_VA (8 * SV39_GIGA)

static const struct {
	vaddr_t va;
	size_t len;
	const char *what;
} bad_ranges[] = {
	{BAD_VA + 1, PAGE_SIZE, "unaligned va"},
	{BAD_VA + 0x800, PAGE_SIZE, "unaligned va"},
	{BAD_VA, 100, "unaligned length"},
	{BAD_VA, PAGE_SIZE + 8, "unaligned length"},
	{BAD_VA, 0, "zero length"},
	{BAD_VA, (size_t)0 - BAD_VA, "wraps to 0"},
	{BAD_VA, (size_t)0 - PAGE_SIZE, "wraps"},
	{0xfffffffffffff000UL, 2 * PAGE_SIZE, "wraps at the top"},
	{AS_USER_TOP - PAGE_SIZE, 2 * PAGE_SIZE, "ends beyond AS_USER_TOP"},
	{AS_USER_TOP, PAGE_SIZE, "starts at AS_USER_TOP"},
	{AS_USER_TOP + SV39_GIGA, PAGE_SIZE, "non-canonical"},
	{PHYS_MAP_BASE, PAGE_SIZE, "kernel direct map"},
	{PHYS_MAP_BASE + 0x200000, 16 * PAGE_SIZE, "kernel direct map"},
	{KERNEL_VBASE, PAGE_SIZE, "kernel image"},
};

static const vaddr_t bad_vas[] = {
	BAD_VA + 1,
	BAD_VA + 8,
	BAD_VA + PAGE_SIZE - 1,
	AS_USER_TOP,
	AS_USER_TOP - PAGE_SIZE + 8,
	PHYS_MAP_BASE,
	KERNEL_VBASE,
	0xfffffffffffff000UL,
};

static const unsigned int bad_prots[] = {
	0, /* no access: an unmap, not a prot */
	AS_PROT_USER,
	AS_PROT_W, /* W without R: reserved encoding */
	AS_PROT_W | AS_PROT_USER,
	AS_PROT_W | AS_PROT_X,
	AS_PROT_W | AS_PROT_X | AS_PROT_USER,
	AS_PROT_R | BIT(4), /* unknown bits */
	PROT_RW | BIT(7),
	PROT_RW | BIT(31),
	~0U,
};

KTEST(bad_arguments)
{
	struct frame *mine, *kframe;
	uint64_t before, nr_pt, nr_user, seq;
	int nregions, rc;
	pte_t pte, *p;
	struct as *as;

	before = quiet_free_count();
	as = as_create(ptlock_default);
	KT_ASSERT(as);
	/* Known state: one page mapped at BAD_VA (a frame we hold), one
	 * region, one more page in another leaf table. */
	mine = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
	kframe = frame_alloc(0, FRAME_F_KERNEL);
	KT_ASSERT(mine && kframe);
	KT_ASSERT_EQ(as_map_frame(as, BAD_VA, mine, PROT_RW), 0);
	KT_ASSERT_EQ(as_map_anon(as, BAD_VA + SV39_MEGA, PAGE_SIZE, PROT_RO),
		     0);
	KT_ASSERT_EQ(
		as_region_add(as, BAD_VA + 2 * SV39_MEGA, SV39_MEGA, PROT_RW),
		0);
	p = pte_of(as, BAD_VA);
	KT_ASSERT(p);
	pte = *p;
	nr_pt = as->nr_pt;
	nr_user = as_nr_user(as);
	nregions = as->nregions;
	seq = as_region_version(as);
	KT_EXPECT_EQ(mine->refcount, 2);
	KT_EXPECT_EQ(mine->user.mapcount, 1);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad_ranges); i++) {
		vaddr_t va = bad_ranges[i].va;
		size_t len = bad_ranges[i].len;
		int fails = kt->failures;

		KT_EXPECT_EQ(as_map_anon(as, va, len, PROT_RW), -E_INVAL);
		KT_EXPECT_EQ(as_unmap(as, va, len), -E_INVAL);
		KT_EXPECT_EQ(as_protect(as, va, len, PROT_RO), -E_INVAL);
		KT_EXPECT_EQ(as_region_add(as, va, len, PROT_RW), -E_INVAL);
		if (kt->failures != fails)
			KT_INFO("range %#lx+%#lx (%s)", (unsigned long)va,
				(unsigned long)len, bad_ranges[i].what);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_vas); i++) {
		vaddr_t va = bad_vas[i];
		int fails = kt->failures;

		KT_EXPECT_EQ(as_map_frame(as, va, mine, PROT_RW), -E_INVAL);
		if (va >= AS_USER_TOP) {
			/* Lookups and faults take any byte address; only
			 * the user half is theirs. */
			KT_EXPECT_EQ(as_lookup(as, va, NULL, NULL), -E_INVAL);
			KT_EXPECT_EQ(as_fault(as, va, AS_ACCESS_READ),
				     -E_FAULT);
			KT_EXPECT_EQ(as_fault(as, va, AS_ACCESS_WRITE),
				     -E_FAULT);
		}
		if (kt->failures != fails)
			KT_INFO("va %#lx", (unsigned long)va);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_prots); i++) {
		unsigned int prot = bad_prots[i];
		int fails = kt->failures;

		KT_EXPECT_EQ(
			as_map_anon(as, BAD_VA + PAGE_SIZE, PAGE_SIZE, prot),
			-E_INVAL);
		KT_EXPECT_EQ(as_map_frame(as, BAD_VA + PAGE_SIZE, mine, prot),
			     -E_INVAL);
		KT_EXPECT_EQ(as_protect(as, BAD_VA, PAGE_SIZE, prot), -E_INVAL);
		KT_EXPECT_EQ(as_region_add(as, BAD_VA + 4 * SV39_MEGA,
					   SV39_MEGA, prot),
			     -E_INVAL);
		if (kt->failures != fails)
			KT_INFO("prot %#x", prot);
	}
	/* Frames that are not user memory, or none. */
	KT_EXPECT_EQ(as_map_frame(as, BAD_VA + PAGE_SIZE, NULL, PROT_RW),
		     -E_INVAL);
	KT_EXPECT_EQ(as_map_frame(as, BAD_VA + PAGE_SIZE, kframe, PROT_RW),
		     -E_INVAL);
	KT_EXPECT_EQ(
		as_map_frame(as, BAD_VA + PAGE_SIZE, as->root_frame, PROT_RW),
		-E_INVAL);
	/* An access kind that does not exist is refused, not guessed. */
	KT_EXPECT_EQ(as_fault(as, BAD_VA, (enum as_access)7), -E_FAULT);
	KT_EXPECT_EQ(as_fault(as, BAD_VA + 2 * SV39_MEGA, (enum as_access)7),
		     -E_FAULT);
	/* Not bad, but refused: already mapped, overlapping region. */
	KT_EXPECT_EQ(as_map_frame(as, BAD_VA, mine, PROT_RW), -E_EXIST);
	KT_EXPECT_EQ(as_map_anon(as, BAD_VA, 2 * PAGE_SIZE, PROT_RW), -E_EXIST);
	KT_EXPECT_EQ(as_region_add(as, BAD_VA + 2 * SV39_MEGA + PAGE_SIZE,
				   PAGE_SIZE, PROT_RW),
		     -E_EXIST);

	/* Nothing changed. */
	KT_EXPECT_EQ(*p, pte);
	KT_EXPECT_EQ(as->nr_pt, nr_pt);
	KT_EXPECT_EQ(as_nr_user(as), nr_user);
	KT_EXPECT_EQ(as->nregions, nregions);
	KT_EXPECT_EQ(as_region_version(as), seq);
	KT_EXPECT_EQ(mine->refcount, 2);
	KT_EXPECT_EQ(mine->user.mapcount, 1);
	KT_EXPECT_EQ(as_lookup(as, BAD_VA + PAGE_SIZE, NULL, NULL), -E_NOENT);
	KT_EXPECT_EQ(as_lookup(as, BAD_VA + 2 * SV39_MEGA, NULL, NULL),
		     -E_NOENT);
	KT_EXPECT_EQ(as_check(as), 0);

	/* The edges that are fine: the last user page, and a range that
	 * ends exactly at AS_USER_TOP. */
	rc = as_map_anon(as, AS_USER_TOP - 2 * PAGE_SIZE, 2 * PAGE_SIZE,
			 PROT_RW);
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_EQ(as_lookup(as, AS_USER_TOP - 1, NULL, NULL), 0);
	KT_EXPECT_EQ(
		as_protect(as, AS_USER_TOP - PAGE_SIZE, PAGE_SIZE, PROT_RO), 0);
	KT_EXPECT_EQ(as_unmap(as, AS_USER_TOP - 2 * PAGE_SIZE, 2 * PAGE_SIZE),
		     0);
	KT_EXPECT_EQ(as_nr_user(as), nr_user);

	KT_EXPECT_EQ(as_unmap(as, BAD_VA, PAGE_SIZE), 0);
	KT_EXPECT_EQ(mine->refcount, 1);
	KT_EXPECT_EQ(mine->user.mapcount, 0);
	as_destroy(as);
	if (__atomic_sub_fetch(&mine->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		frame_free(mine);
	frame_free(kframe);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/* ---- 8: ASIDs: switching, roll-overs, stale entries across them ---- */

#define ASID_VA	    (9 * SV39_GIGA + 0x40000)
#define ASID_NR_AS  6
#define ASID_MAGIC  0xa51d000000000000ULL
#define ASID_ROUNDS 4

static unsigned int asid_usable(void)
{
	unsigned int bits = arch_asid_bits();

	return bits ? (1U << bits) - 1 : 0;
}

static unsigned int satp_asid(unsigned long satp)
{
	return (satp >> SATP_ASID_SHIFT) & SATP_ASID_MASK;
}

static struct as *asid_as[ASID_NR_AS];

/* ASID_NR_AS address spaces, each with 3 pages at ASID_VA whose first
 * words say which space and page they are. */
static bool asid_setup(struct ktest_ctx *kt)
{
	for (int i = 0; i < ASID_NR_AS; i++) {
		asid_as[i] = as_create(ptlock_default);
		if (!KT_EXPECT(asid_as[i]))
			return false;
		if (!KT_EXPECT_EQ(as_map_anon(asid_as[i], ASID_VA,
					      3 * PAGE_SIZE, PROT_RW),
				  0))
			return false;
		for (int p = 0; p < 3; p++)
			*kva_of(asid_as[i], ASID_VA + p * PAGE_SIZE) =
				ASID_MAGIC + (uint64_t)i * 16 + p;
	}
	return true;
}

static void asid_teardown(struct ktest_ctx *kt, const unsigned int *hs,
			  unsigned int nh)
{
	for (unsigned int j = 0; j < nh; j++)
		deactivate_on(hs[j]);
	for (int i = 0; i < ASID_NR_AS; i++) {
		if (!asid_as[i])
			continue;
		KT_EXPECT_EQ(as_check(asid_as[i]), 0);
		as_destroy(asid_as[i]);
		asid_as[i] = NULL;
	}
}

/* Each of @nh harts runs every address space in turn, @rounds times, and
 * must see that space's own page each time: an ASID reused without a
 * flush would show another space's data. */
static void asid_cycle(struct ktest_ctx *kt, const unsigned int *hs,
		       unsigned int nh, int rounds)
{
	uint64_t v;

	for (int round = 0; round < rounds; round++)
		for (unsigned int j = 0; j < nh; j++)
			for (int i = 0; i < ASID_NR_AS; i++) {
				int idx = (i + round + (int)j * 3) % ASID_NR_AS;

				KT_EXPECT_EQ(read_on(hs[j], asid_as[idx],
						     ASID_VA, &v),
					     0);
				KT_EXPECT_EQ(v,
					     ASID_MAGIC + (uint64_t)idx * 16);
			}
}

/* Harts 1 and 2 (just 1 on two harts): never more harts holding an ASID
 * than asidbits=2 has ASIDs. */
static unsigned int asid_harts(unsigned int *hs)
{
	hs[0] = 1;
	hs[1] = 2;
	return nr_harts >= 3 ? 2 : 1;
}

KTEST(asid_switching)
{
	unsigned int hs[2], nh, usable = asid_usable();
	uint64_t before, roll0;

	if (nr_harts < 2)
		KT_SKIP("needs 2 harts");
	nh = asid_harts(hs);
	before = quiet_free_count();
	roll0 = asid_rollovers();
	if (asid_setup(kt))
		asid_cycle(kt, hs, nh, ASID_ROUNDS);
	KT_INFO("%u ASID bits (%u usable), %u harts switching among %d "
		"address spaces: %lu roll-overs",
		arch_asid_bits(), usable, nh, ASID_NR_AS,
		(unsigned long)(asid_rollovers() - roll0));
	asid_teardown(kt, hs, nh);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

KTEST(asid_rollover_stale_tlb)
{
	unsigned int hs[2], nh, usable = asid_usable();
	uint64_t before, roll0, roll1, v;
	struct step r, r2;

	if (nr_harts < 2)
		KT_SKIP("needs 2 harts");
	if (!usable)
		KT_SKIP("no ASIDs in use (noasid, or ASIDLEN 0): nothing rolls "
			"over");
	if (usable >= ASID_NR_AS)
		KT_SKIP("more ASIDs than address spaces used: no roll-over "
			"forced (asidbits=2 forces them)");
	nh = asid_harts(hs);
	before = quiet_free_count();
	if (!asid_setup(kt))
		goto out;
	roll0 = asid_rollovers();
	asid_cycle(kt, hs, nh, 2);
	roll1 = asid_rollovers();
	KT_EXPECT(roll1 > roll0);
	KT_INFO("%u usable ASIDs, %u harts, %d address spaces: %lu "
		"roll-overs while switching",
		usable, nh, ASID_NR_AS, (unsigned long)(roll1 - roll0));

	/* A keeps space 0 running with its page cached while B (or A
	 * itself, on two harts) cycles through the others, forcing
	 * roll-overs; then this hart unmaps the page. */
	KT_EXPECT_EQ(read_on(hs[0], asid_as[0], ASID_VA, &v), 0);
	KT_EXPECT_EQ(v, ASID_MAGIC);
	roll0 = asid_rollovers();
	if (nh == 2) {
		for (int round = 0; round < 2; round++)
			for (int i = 1; i < ASID_NR_AS; i++) {
				KT_EXPECT_EQ(
					read_on(hs[1], asid_as[i], ASID_VA, &v),
					0);
				KT_EXPECT_EQ(v, ASID_MAGIC + (uint64_t)i * 16);
			}
		KT_EXPECT(asid_rollovers() > roll0);
		/* Both harts run space 0 now: same ASID, the one a
		 * shootdown for it will name. */
		step_on(hs[0], (struct step){.va = ASID_VA, .op = STEP_READ},
			&r);
		step_on(hs[1],
			(struct step){.as = asid_as[0],
				      .va = ASID_VA,
				      .op = STEP_READ},
			&r2);
		KT_EXPECT_EQ(r.rc, 0);
		KT_EXPECT_EQ(r2.rc, 0);
		KT_EXPECT_EQ(r2.got, ASID_MAGIC);
		KT_EXPECT_EQ(satp_asid(r.satp), satp_asid(r2.satp));
		KT_EXPECT_EQ(satp_asid(r.satp),
			     asid_as[0]->asid & SATP_ASID_MASK);
	}
	KT_EXPECT_EQ(as_unmap(asid_as[0], ASID_VA, PAGE_SIZE), 0);
	KT_EXPECT_EQ(read_on(hs[0], NULL, ASID_VA, &v), -E_FAULT);
	if (nh == 2)
		KT_EXPECT_EQ(read_on(hs[1], NULL, ASID_VA, &v), -E_FAULT);
	/* Write permission taken away after the same roll-overs. */
	KT_EXPECT_EQ(write_on(hs[0], NULL, ASID_VA + PAGE_SIZE, 0x4444), 0);
	KT_EXPECT_EQ(
		as_protect(asid_as[0], ASID_VA + PAGE_SIZE, PAGE_SIZE, PROT_RO),
		0);
	KT_EXPECT_EQ(write_on(hs[0], NULL, ASID_VA + PAGE_SIZE, 0x5555),
		     -E_FAULT);
	if (nh == 2)
		KT_EXPECT_EQ(write_on(hs[1], NULL, ASID_VA + PAGE_SIZE, 0x5555),
			     -E_FAULT);
	KT_EXPECT_EQ(*kva_of(asid_as[0], ASID_VA + PAGE_SIZE), 0x4444);

	/* A space switched away from and rolled over, then run again on A:
	 * cache its page, unmap it here, A must fault. */
	roll0 = asid_rollovers();
	for (int i = 1; i < ASID_NR_AS; i++)
		KT_EXPECT_EQ(read_on(hs[0], asid_as[i], ASID_VA, &v), 0);
	KT_EXPECT_EQ(read_on(hs[0], asid_as[0], ASID_VA + 2 * PAGE_SIZE, &v),
		     0);
	KT_EXPECT_EQ(v, ASID_MAGIC + 2);
	KT_EXPECT(asid_rollovers() > roll0);
	KT_EXPECT_EQ(as_unmap(asid_as[0], ASID_VA + 2 * PAGE_SIZE, PAGE_SIZE),
		     0);
	KT_EXPECT_EQ(read_on(hs[0], NULL, ASID_VA + 2 * PAGE_SIZE, &v),
		     -E_FAULT);
out:
	asid_teardown(kt, hs, nh);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/*
 * Every hart runs its own address space at the same time, switching among
 * nr_harts + 2 of them. More harts than usable ASIDs is legal (a board may
 * have few ASID bits, and asidbits=2 asks for 3).
 */
static struct {
	struct as **ases;
	unsigned int n;
	uint64_t deadline;
	unsigned int arrived; /* atomic */
} many;

static void many_fn(void *arg)
{
	unsigned int self = hart_self();

	if (!barrier_wait(&many.arrived, nr_harts, many.deadline))
		return;
	for (unsigned int round = 0; round < 3; round++) {
		unsigned int idx = (self + round) % many.n;
		uint64_t v = 0;
		int rc;

		as_activate(many.ases[idx]);
		csr_set(CSR_SSTATUS, SSTATUS_SUM);
		rc = probe_read_u64((const void *)ASID_VA, &v);
		csr_clear(CSR_SSTATUS, SSTATUS_SUM);
		if (rc || v != ASID_MAGIC + idx)
			bad("address space %u: read %d, %#lx", idx, rc,
			    (unsigned long)v);
	}
	as_deactivate();
}

KTEST(asid_more_harts_than_asids)
{
	static struct as *ases[CONFIG_MAX_HARTS + 2];
	unsigned int n = nr_harts + 2, usable = asid_usable();
	uint64_t before, roll0;

	/* asid_finalize gives ASIDs up when they are not more than the
	 * harts, so a roll-over always finds one free. */
	KT_EXPECT(!usable || usable > nr_harts);
	mm_bad = 0;
	before = quiet_free_count();
	for (unsigned int i = 0; i < n; i++) {
		ases[i] = as_create(ptlock_default);
		KT_ASSERT(ases[i]);
		KT_ASSERT_EQ(as_map_anon(ases[i], ASID_VA, PAGE_SIZE, PROT_RW),
			     0);
		*kva_of(ases[i], ASID_VA) = ASID_MAGIC + i;
	}
	roll0 = asid_rollovers();
	many.ases = ases;
	many.n = n;
	many.arrived = 0;
	many.deadline = arch_time() + ms_ticks(3000);
	hart_run_all(many_fn, NULL);
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
	KT_INFO("%u harts, %u address spaces, %u usable ASIDs: %lu "
		"roll-overs",
		nr_harts, n, usable, (unsigned long)(asid_rollovers() - roll0));
	for (unsigned int i = 0; i < n; i++) {
		KT_EXPECT_EQ(as_check(ases[i]), 0);
		as_destroy(ases[i]);
	}
	KT_EXPECT_EQ(quiet_free_count(), before);
}

/* ---- 9: one frame mapped several times ---- */

#define SHARE_VA (10 * SV39_GIGA)

/*
 * as_map_frame takes a mapping on a frame, so a frame may be mapped at
 * several addresses and in several address spaces (a pager's shared
 * page). Unmapping them all in one call must drop every reference and
 * give back every frame.
 */
KTEST(map_frame_shared)
{
	struct frame *f[3];
	uint64_t before, after;
	struct as *as, *as2;
	bool lost[3];

	before = quiet_free_count();
	as = as_create(ptlock_default);
	as2 = as_create(ptlock_default);
	KT_ASSERT(as && as2);
	for (int i = 0; i < 3; i++) {
		f[i] = frame_alloc(0, FRAME_F_USER | FRAME_ZERO);
		KT_ASSERT(f[i]);
	}
	/* e, f, g, f: frame 1 twice in one unmap, frame 0 before it. */
	KT_EXPECT_EQ(as_map_frame(as, SHARE_VA, f[0], PROT_RW), 0);
	KT_EXPECT_EQ(as_map_frame(as, SHARE_VA + PAGE_SIZE, f[1], PROT_RW), 0);
	KT_EXPECT_EQ(as_map_frame(as, SHARE_VA + 2 * PAGE_SIZE, f[2], PROT_RW),
		     0);
	KT_EXPECT_EQ(as_map_frame(as, SHARE_VA + 3 * PAGE_SIZE, f[1], PROT_RO),
		     0);
	KT_EXPECT_EQ(as_map_frame(as2, SHARE_VA, f[1], PROT_RO), 0);
	KT_EXPECT_EQ(f[1]->user.mapcount, 3);
	KT_EXPECT_EQ(f[1]->refcount, 4);
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(as_check(as2), 0);
	/* Drop our own references: the mappings keep the frames. */
	for (int i = 0; i < 3; i++)
		KT_EXPECT(__atomic_sub_fetch(&f[i]->refcount, 1,
					     __ATOMIC_ACQ_REL) > 0);
	KT_EXPECT_EQ(as_unmap(as, SHARE_VA, 4 * PAGE_SIZE), 0);
	KT_EXPECT_EQ(as_nr_user(as), 0);
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(f[1]->user.mapcount, 1);
	/* Frames 0 and 2 were mapped once: they must be free now. */
	for (int i = 0; i < 3; i += 2) {
		lost[i] = !(f[i]->flags & FRAME_F_FREE);
		if (lost[i])
			KT_INFO("frame %d not freed: refcount %u mapcount %u "
				"flags %#x",
				i, f[i]->refcount, f[i]->user.mapcount,
				f[i]->flags);
	}
	KT_EXPECT_EQ(as_unmap(as2, SHARE_VA, PAGE_SIZE), 0);
	as_destroy(as);
	as_destroy(as2);
	after = quiet_free_count();
	if (lost[0] || lost[2]) {
		/* Known: clean up what leaked so later counts hold. */
		for (int i = 0; i < 3; i += 2)
			if (lost[i] && f[i]->refcount == 1 &&
			    !f[i]->user.mapcount) {
				f[i]->refcount = 0;
				frame_free(f[i]);
			}
		KT_INFO("%lu frames lost", (unsigned long)(before - after));
		KT_EXPECT(!lost[0] && !lost[2]);
	}
	KT_EXPECT_EQ(f[1]->refcount, 0);
	KT_EXPECT_EQ(after, before);
}

/* ---- level-1 tables freed with their last leaf table ---- */

#define UPPER_GIB   5		/* one hart: in 5 GiB, and across 6 GiB */
#define UPPER2_GIB  8		/* every hart: from 8 GiB */
#define UPPER2_MS   1000	/* per mode */

static void upper_one_mode(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	const vaddr_t a = UPPER_GIB * SV39_GIGA, b = a + 4 * SV39_MEGA;
	const vaddr_t c = (UPPER_GIB + 1) * SV39_GIGA - PAGE_SIZE;
	uint64_t before = quiet_free_count();
	struct as *as = as_create(mode);

	KT_ASSERT(as);
	KT_EXPECT_EQ(as_region_add(as, a, 2 * PAGE_SIZE, PROT_RW), 0);
	KT_EXPECT_EQ(as_region_add(as, b, PAGE_SIZE, PROT_RW), 0);
	KT_EXPECT_EQ(as_fault(as, a, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as_fault(as, a + PAGE_SIZE, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as_fault(as, b, AS_ACCESS_WRITE), 0);
	/* The root, one level-1 table, two leaf tables. */
	KT_EXPECT_EQ(as->nr_pt, 4);
	KT_EXPECT_EQ(as_region_unmap(as, a, 2 * PAGE_SIZE), 0);
	KT_EXPECT_EQ(as->nr_pt, 3);
	KT_EXPECT_EQ(as->l1_freed, 0);
	KT_EXPECT_EQ(as_region_unmap(as, b, PAGE_SIZE), 0);
	/* The last leaf went, and its level-1 table with it. */
	KT_EXPECT_EQ(as->nr_pt, 1);
	KT_EXPECT_EQ(as->l1_freed, 1);
	KT_EXPECT(!pte_is_valid(as->root[UPPER_GIB]));
	/* A region across a 1 GiB boundary: two of each; then both go. */
	KT_EXPECT_EQ(as_region_add(as, c, 2 * PAGE_SIZE, PROT_RW), 0);
	KT_EXPECT_EQ(as_fault(as, c, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as_fault(as, c + PAGE_SIZE, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as->nr_pt, 5);
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(as_region_unmap(as, c, 2 * PAGE_SIZE), 0);
	KT_EXPECT_EQ(as->nr_pt, 1);
	KT_EXPECT_EQ(as->l1_freed, 3);
	/* And the span comes back as new. */
	KT_EXPECT_EQ(as_region_add(as, b, PAGE_SIZE, PROT_RW), 0);
	KT_EXPECT_EQ(as_fault(as, b, AS_ACCESS_WRITE), 0);
	KT_EXPECT_EQ(as->nr_pt, 3);
	KT_EXPECT_EQ(as_check(as), 0);
	as_destroy(as);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

KTEST(level1_tables_freed)
{
	upper_one_mode(kt, PTLOCK_SPLIT);
	upper_one_mode(kt, PTLOCK_SINGLE);
}

static struct {
	struct as *as;
	uint64_t start_deadline, deadline;
	unsigned int arrived;	/* atomic */
	unsigned int spans_used; /* atomic: bit s, span s had a region */
	uint64_t rounds[MM_CONC_HARTS];
} upper;

/* The 1 GiB spans upper_fn's harts take turns in: fewer than the harts,
 * so that they meet in them, more than one, so that spans empty. */
static unsigned int upper_spans(void)
{
	return conc_harts() / 2 + 1 + (conc_harts() < 2);
}

/*
 * Each hart, over and over: a region of two pages in its own 2 MiB of
 * one of upper_spans() spans of 1 GiB from 8 GiB (a span further each
 * round), both pages faulted in and checked, then the region unmapped. A
 * level-1 table goes whenever the last hart's region in its 1 GiB goes,
 * while other harts walk through it to fault, or to populate it: populate
 * must not link a leaf table into a level-1 table already unlinked (that
 * table would be freed with a valid entry, the leaf and its page lost).
 */
static void upper_fn(void *arg)
{
	unsigned int self = hart_self();
	uint64_t i = 0;

	if (self >= conc_harts() ||
	    !barrier_wait(&upper.arrived, conc_harts(), upper.start_deadline))
		return;
	for (; arch_time() < upper.deadline; i++) {
		unsigned int span = (unsigned int)((i + self) % upper_spans());
		vaddr_t va = (UPPER2_GIB + span) * SV39_GIGA +
			     (vaddr_t)self * SV39_MEGA;
		paddr_t pa[2];
		int rc;

		__atomic_fetch_or(&upper.spans_used, 1u << span,
				  __ATOMIC_RELAXED);
		rc = as_region_add(upper.as, va, 2 * PAGE_SIZE, PROT_RW);
		if (rc) {
			bad("region at %#lx: %d", (unsigned long)va, rc);
			break;
		}
		for (int k = 0; k < 2; k++) {
			vaddr_t v = va + (vaddr_t)k * PAGE_SIZE;

			rc = as_fault(upper.as, v, AS_ACCESS_WRITE);
			if (!rc)
				rc = as_lookup(upper.as, v, &pa[k], NULL);
			if (rc)
				bad("fault at %#lx: %d", (unsigned long)v, rc);
			else
				*(uint64_t *)pa_to_kva(pa[k]) = va + self;
		}
		if (!rc && (pa[0] == pa[1] ||
			    *(uint64_t *)pa_to_kva(pa[0]) != va + self))
			bad("pages at %#lx: pa %#lx and %#lx",
			    (unsigned long)va, (unsigned long)pa[0],
			    (unsigned long)pa[1]);
		rc = as_region_unmap(upper.as, va, 2 * PAGE_SIZE);
		if (rc) {
			bad("unmap at %#lx: %d", (unsigned long)va, rc);
			break;
		}
	}
	upper.rounds[self] = i;
}

static void upper_race_mode(struct ktest_ctx *kt, enum ptlock_mode mode)
{
	uint64_t before = quiet_free_count(), rounds = 0, used = 0;
	struct as *as = as_create(mode);

	KT_ASSERT(as);
	upper.as = as;
	upper.arrived = 0;
	upper.spans_used = 0;
	memset(upper.rounds, 0, sizeof(upper.rounds));
	upper.start_deadline = arch_time() + ms_ticks(BARRIER_MS);
	upper.deadline = upper.start_deadline + ms_ticks(UPPER2_MS);
	hart_run_all(upper_fn, NULL);
	for (unsigned int h = 0; h < conc_harts(); h++)
		rounds += upper.rounds[h];
	for (unsigned int sp = 0; sp < upper_spans(); sp++)
		used += (upper.spans_used >> sp) & 1;
	KT_INFO("%s: %lu rounds on %u harts, %lu level-1 tables freed",
		ptlock_mode_name(mode), (unsigned long)rounds, conc_harts(),
		(unsigned long)as->l1_freed);
	KT_EXPECT(rounds >= conc_harts());
	/* The last unmap in each span used freed its level-1 table. */
	KT_EXPECT(as->l1_freed >= used);
	KT_EXPECT_EQ(as_check(as), 0);
	KT_EXPECT_EQ(as_nr_user(as), 0);
	KT_EXPECT_EQ(as->nr_pt, 1);
	as_destroy(as);
	KT_EXPECT_EQ(quiet_free_count(), before);
}

KTEST(level1_tables_freed_while_faulting)
{
	mm_bad = 0;
	upper_race_mode(kt, PTLOCK_SPLIT);
	upper_race_mode(kt, PTLOCK_SINGLE);
	KT_EXPECT_EQ(__atomic_load_n(&mm_bad, __ATOMIC_RELAXED), 0);
}

KTEST_SUITE(kt_mm_suite, "mm", KTEST_CASE(frame_record_size),
	    KTEST_CASE(concurrent_map_unmap_protect_fault),
	    KTEST_CASE(racing_faults_same_pages),
	    KTEST_CASE(stale_tlb_after_unmap_and_protect),
	    KTEST_CASE(out_of_memory),
	    KTEST_CASE(frame_caches_run_dry), KTEST_CASE(ad_fault_synthetic),
	    KTEST_CASE(bad_arguments), KTEST_CASE(asid_switching),
	    KTEST_CASE(asid_rollover_stale_tlb),
	    KTEST_CASE(asid_more_harts_than_asids),
	    KTEST_CASE(map_frame_shared), KTEST_CASE(level1_tables_freed),
	    KTEST_CASE(level1_tables_freed_while_faulting));
