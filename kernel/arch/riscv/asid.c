/*
 * asid.c - address-space identifiers, satp switching and TLB flushes
 *
 * ASIDLEN is found at boot by writing all ones to satp.ASID and reading
 * back (Priv. spec 4.1.11). Zero bits (the VisionFive 2's U74) or the boot
 * option `noasid` mean no ASIDs: every switch flushes the whole TLB and
 * every shootdown is a full flush.
 *
 * Allocation uses generations, after the scheme Linux uses on arm64 and
 * RISC-V: as->asid holds (generation << 16 | asid). An address space whose
 * generation is current switches in without a lock, by a compare-and-swap
 * on this hart's active_asid slot. When the ASIDs run out, the generation
 * moves on under asid_lock: the ASIDs in use on every hart at that moment
 * are kept (reserved), all others are free again, and every hart flushes
 * its whole TLB before it next switches. An address space that was active
 * somewhere keeps its number into the new generation, so a hart still
 * running it and a shootdown aimed at it agree on the ASID.
 */
#include <arch/asid.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <arch/pte.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <mm/as.h>
#include <sbi/sbi.h>

#define ASID_GEN_SHIFT	16
#define ASID_MASK	((1UL << ASID_GEN_SHIFT) - 1)
#define ASID_MAX	(1UL << 16)

extern pte_t kernel_root[SV39_ENTRIES];

static unsigned int asid_bits;		/* immutable after asid_finalize */
static uint64_t asid_nr;		/* usable ASIDs: 1 << asid_bits */

/* asid_lock protects asid_map, asid_next and reserved_asid, and orders
 * generation changes. Rank 75 (docs/locking.md): taken by the scheduler
 * with a run-queue lock held. */
static struct spinlock asid_lock = SPINLOCK_INIT(LOCK_CLASS_ASID);
static uint64_t asid_generation = 1UL << ASID_GEN_SHIFT; /* atomic reads */
static uint64_t asid_map[ASID_MAX / 64];
static uint64_t asid_next = 1;
static uint64_t reserved_asid[CONFIG_MAX_HARTS];
static bool flush_pending[CONFIG_MAX_HARTS];	/* asid_lock */
static uint64_t rollovers;			/* asid_lock */

/* active_asid[h]: the ASID hart h runs; 0 while a rollover claims it.
 * Written by hart h (cmpxchg) and by the rollover (xchg). */
static struct {
	uint64_t v;
} __cacheline_aligned active_asid[CONFIG_MAX_HARTS];

unsigned int arch_asid_bits(void)
{
	return asid_bits;
}

uint64_t asid_rollovers(void)
{
	return rollovers;
}

void asid_init(bool disable, unsigned int limit_bits)
{
	unsigned long satp = csr_read(CSR_SATP), back;

	csr_write(CSR_SATP, satp | (SATP_ASID_MASK << SATP_ASID_SHIFT));
	back = csr_read(CSR_SATP);
	csr_write(CSR_SATP, satp);
	__asm__ __volatile__("sfence.vma" ::: "memory");
	/* Implemented ASID bits are the low ones (Priv. spec 4.1.11). */
	back = (back >> SATP_ASID_SHIFT) & SATP_ASID_MASK;
	for (asid_bits = 0; back & 1; back >>= 1)
		asid_bits++;
	printk("mm: satp.ASID has %u bits%s\n", asid_bits,
	       disable ? "; not used (noasid)" : "");
	if (disable)
		asid_bits = 0;
	if (limit_bits && limit_bits < asid_bits)
		asid_bits = limit_bits;
	asid_nr = asid_bits ? 1UL << asid_bits : 0;
	asid_map[0] = 1;	/* ASID 0: the kernel-only root */
}

static void flush_context_locked(void)
{
	uint64_t gen = __atomic_load_n(&asid_generation, __ATOMIC_RELAXED) +
		       (1UL << ASID_GEN_SHIFT);

	memset(asid_map, 0, sizeof(asid_map));
	asid_map[0] = 1;
	for (unsigned int h = 0; h < nr_harts; h++) {
		uint64_t a = __atomic_exchange_n(&active_asid[h].v, 0,
						 __ATOMIC_ACQ_REL);

		/* A hart that switched since the last rollover keeps the
		 * ASID it runs; one that did not keeps its reserved one. */
		if (a == 0)
			a = reserved_asid[h];
		if (a)	/* 0: the hart runs no address space */
			asid_map[(a & ASID_MASK) / 64] |=
				1ULL << ((a & ASID_MASK) % 64);
		reserved_asid[h] = a;
		flush_pending[h] = true;
	}
	__atomic_store_n(&asid_generation, gen, __ATOMIC_RELEASE);
	rollovers++;
}

static bool check_reserved_locked(uint64_t old, uint64_t newa)
{
	bool hit = false;

	for (unsigned int h = 0; h < nr_harts; h++) {
		if (old && reserved_asid[h] == old) {
			reserved_asid[h] = newa;
			hit = true;
		}
	}
	return hit;
}

static uint64_t new_asid_locked(struct as *as)
{
	uint64_t old = as->asid, gen, a;

	gen = __atomic_load_n(&asid_generation, __ATOMIC_RELAXED);
	if (old) {
		a = old & ASID_MASK;
		if (check_reserved_locked(old, gen | a))
			return gen | a;
		if (!(asid_map[a / 64] & (1ULL << (a % 64)))) {
			asid_map[a / 64] |= 1ULL << (a % 64);
			return gen | a;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t i = 0; i < asid_nr; i++) {
			a = (asid_next + i) % asid_nr;
			if (a == 0 || (asid_map[a / 64] & (1ULL << (a % 64))))
				continue;
			asid_map[a / 64] |= 1ULL << (a % 64);
			asid_next = a + 1;
			return __atomic_load_n(&asid_generation,
					       __ATOMIC_RELAXED) | a;
		}
		flush_context_locked();
	}
	panic("asid: no free ASID after a rollover (%lu ASIDs, %u harts)",
	      (unsigned long)asid_nr, nr_harts);
}

void arch_as_init(struct as *as)
{
	as->asid = 0;
	memset(as->harts, 0, sizeof(as->harts));
	/* The kernel half is shared: the same level-1 tables and leaves. */
	for (int i = SV39_ENTRIES / 2; i < SV39_ENTRIES; i++)
		as->root[i] = kernel_root[i];
}

/* cur_as[h]: the address space hart h runs on; owner hart only. */
static struct as *cur_as[CONFIG_MAX_HARTS];

/* Cross-hart call: takes no lock (STYLE.md 3). The hart's ASID stays
 * reserved until its next switch or a roll-over; harmless. */
static void leave_as(void *arg)
{
	unsigned int self = hart_self();

	if (cur_as[self] == arg) {
		cur_as[self] = NULL;
		csr_write(CSR_SATP, boot_satp);
		__asm__ __volatile__("sfence.vma" ::: "memory");
	}
}

void arch_as_fini(struct as *as)
{
	/* A hart still running on @as (a test, or a thread that is gone)
	 * moves to the kernel root before the tables are freed. The ASID
	 * number stays marked until the next roll-over, which flushes every
	 * hart: nothing else gets it before then. */
	xcall_all(leave_as, as);
}

static inline unsigned long satp_for(struct as *as, uint64_t asid)
{
	return SATP_MODE_SV39 | ((asid & ASID_MASK) << SATP_ASID_SHIFT) |
	       (kva_to_pa(as->root) >> PAGE_SHIFT);
}

void arch_as_activate(struct as *as)
{
	unsigned int self;
	uint64_t a, old_active, gen;

	irq_push();		/* stay on this hart throughout */
	self = hart_self();
	/* Full barrier (amoor.aqrl): see tlb_shootdown. */
	__atomic_fetch_or(&as->harts[self / 64], 1ULL << (self % 64),
			  __ATOMIC_SEQ_CST);
	cur_as[self] = as;
	if (!asid_bits) {
		csr_write(CSR_SATP, satp_for(as, 0));
		__asm__ __volatile__("sfence.vma" ::: "memory");
		irq_pop();
		return;
	}
	a = __atomic_load_n(&as->asid, __ATOMIC_RELAXED);
	gen = __atomic_load_n(&asid_generation, __ATOMIC_ACQUIRE);
	old_active = __atomic_load_n(&active_asid[self].v, __ATOMIC_RELAXED);
	if (!old_active || (a & ~ASID_MASK) != gen ||
	    !__atomic_compare_exchange_n(&active_asid[self].v, &old_active, a,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		spin_lock(&asid_lock);
		a = as->asid;
		if ((a & ~ASID_MASK) !=
		    __atomic_load_n(&asid_generation, __ATOMIC_RELAXED)) {
			a = new_asid_locked(as);
			__atomic_store_n(&as->asid, a, __ATOMIC_RELAXED);
		}
		if (flush_pending[self]) {
			flush_pending[self] = false;
			__asm__ __volatile__("sfence.vma" ::: "memory");
		}
		__atomic_store_n(&active_asid[self].v, a, __ATOMIC_RELEASE);
		spin_unlock(&asid_lock);
	}
	csr_write(CSR_SATP, satp_for(as, a));
	irq_pop();
}

void arch_as_deactivate(void)
{
	unsigned int self;

	irq_push();
	self = hart_self();
	cur_as[self] = NULL;
	csr_write(CSR_SATP, boot_satp);
	if (!asid_bits) {
		__asm__ __volatile__("sfence.vma" ::: "memory");
		irq_pop();
		return;
	}
	/* This hart runs no address space now: it holds no ASID across a
	 * roll-over. Its TLB may still hold entries of the old ASID; a
	 * roll-over makes it flush before it switches again. */
	spin_lock(&asid_lock);
	__atomic_store_n(&active_asid[self].v, 0, __ATOMIC_RELAXED);
	reserved_asid[self] = 0;
	spin_unlock(&asid_lock);
	irq_pop();
}

void asid_finalize(unsigned int harts)
{
	/* A roll-over keeps one ASID per hart and needs one more to hand
	 * out: with fewer, run without ASIDs (as Linux does). */
	if (asid_bits && asid_nr - 1 <= harts) {
		printk("mm: %lu ASIDs are too few for %u harts; not using "
		       "ASIDs\n", (unsigned long)(asid_nr - 1), harts);
		asid_bits = 0;
		asid_nr = 0;
	}
}

void arch_tlb_flush_local(struct as *as, vaddr_t va, size_t len)
{
	unsigned long asid = as->asid & ASID_MASK;

	if (!asid_bits) {
		if (len == 0 || len / PAGE_SIZE > 64) {
			__asm__ __volatile__("sfence.vma" ::: "memory");
			return;
		}
		for (vaddr_t v = va; v < va + len; v += PAGE_SIZE)
			__asm__ __volatile__("sfence.vma %0" : : "r"(v)
					     : "memory");
		return;
	}
	if (len == 0) {
		__asm__ __volatile__("sfence.vma x0, %0" : : "r"(asid)
				     : "memory");
		return;
	}
	for (vaddr_t v = va; v < va + len; v += PAGE_SIZE)
		__asm__ __volatile__("sfence.vma %0, %1" : : "r"(v), "r"(asid)
				     : "memory");
}

void arch_tlb_flush_all_local(void)
{
	__asm__ __volatile__("sfence.vma" ::: "memory");
}

/* One SBI call per group of harts whose ids fit in one 64-bit window. */
void arch_tlb_flush_remote(struct as *as, const uint64_t *mask, vaddr_t va,
			   size_t len)
{
	unsigned long asid = as->asid & ASID_MASK;
	unsigned long size = len ? len : (unsigned long)-1;
	unsigned long start = len ? va : 0;
	unsigned long base = 0, bits = 0;

	for (unsigned int i = 0; i <= nr_harts; i++) {
		bool last = i == nr_harts;
		uint64_t hid = last ? 0 : harts[i].hartid;
		long err = 0;

		if (!last && !(mask[i / 64] & (1ULL << (i % 64))))
			continue;
		if (bits && (last || hid < base || hid - base >= 64)) {
			if (asid_bits)
				err = sbi_remote_sfence_vma_asid(bits, base,
								 start, size,
								 asid);
			else
				err = sbi_remote_sfence_vma(bits, base, start,
							    size);
			if (err)
				panic("tlb: SBI remote fence failed: %s",
				      sbi_err_name(err));
			bits = 0;
		}
		if (last)
			break;
		if (!bits)
			base = hid;
		bits |= 1UL << (hid - base);
	}
}
