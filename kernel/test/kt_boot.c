/*
 * kt_boot.c - in-kernel tests of what boot set up: the device tree's
 * answers against the running hardware, the memory map, and the kernel's
 * page permissions and stack guard pages.
 */
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <arch/probe.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/ktest.h>
#include <mm/memmap.h>
#include <plat/bootinfo.h>
#include <sbi/sbi.h>

extern struct boot_info boot_info;

KTEST(fdt_harts_match_online_harts)
{
	const struct boot_info *bi = &boot_info;
	unsigned int usable = 0;

	for (int i = 0; i < bi->nharts; i++)
		if (bi->harts[i].enabled && bi->harts[i].sv39)
			usable++;
	if (usable > CONFIG_MAX_HARTS)
		usable = CONFIG_MAX_HARTS;
	KT_EXPECT_EQ(nr_harts, usable);
	/* Every online hart's id is a cpu node of the tree, and HSM agrees
	 * it is started. */
	for (unsigned int i = 0; i < nr_harts; i++) {
		long st = -1;

		KT_EXPECT(bootinfo_hart_index(bi, harts[i].hartid) >= 0);
		if (sbi_info.hsm) {
			KT_EXPECT_EQ(sbi_hart_get_status(harts[i].hartid, &st),
				     0);
			KT_EXPECT_EQ(st, SBI_HSM_STARTED);
		}
	}
}

KTEST(fdt_memory_banks_are_ram)
{
	/* Write and read back the first and last word of every usable
	 * range, through the direct map. */
	KT_ASSERT(memmap_nusable > 0);
	for (int i = 0; i < memmap_nusable; i++) {
		paddr_t ends[2] = { memmap_usable[i].start,
				    memmap_usable[i].end - 8 };

		for (int j = 0; j < 2; j++) {
			uint64_t *p = pa_to_kva(ends[j]), v = 0, old;

			KT_ASSERT_EQ(probe_read_u64(p, &old), 0);
			KT_EXPECT_EQ(probe_write_u64(p, 0x5a5aa5a5c3c3e1e1ULL),
				     0);
			KT_EXPECT_EQ(probe_read_u64(p, &v), 0);
			KT_EXPECT(v == 0x5a5aa5a5c3c3e1e1ULL);
			*p = old;
		}
	}
}

static bool overlaps(paddr_t s, paddr_t e)
{
	for (int i = 0; i < memmap_nusable; i++)
		if (s < memmap_usable[i].end && e > memmap_usable[i].start)
			return true;
	return false;
}

KTEST(memmap_excludes_reserved)
{
	extern char _end[];
	const struct boot_info *bi = &boot_info;

	for (int i = 0; i < bi->nrsv; i++)
		KT_EXPECT(!overlaps(bi->rsv[i].base,
				    bi->rsv[i].base + bi->rsv[i].size));
	KT_EXPECT(!overlaps(kernel_load_pa, kva_to_pa(_end)));
	KT_EXPECT(!overlaps(0, kernel_load_pa));
	for (int i = 0; i + 1 < memmap_nusable; i++)
		KT_EXPECT(memmap_usable[i].end <= memmap_usable[i + 1].start);
}

KTEST(timebase_matches_time_csr)
{
	/* The FDT's timebase must be the rate the time CSR counts at; in
	 * emulation only a loose check is possible: nonzero and moving. */
	uint64_t t0 = arch_time();

	KT_EXPECT(boot_info.timebase >= 1000);
	KT_EXPECT_EQ(arch_time_hz(), boot_info.timebase);
	while (arch_time() == t0)
		;
	KT_EXPECT(arch_time() > t0);
}

KTEST(kernel_text_is_read_only)
{
	extern char _text_start[], _rodata_start[];
	uint64_t v;
	void *text = _text_start + 64, *ro = _rodata_start;

	KT_EXPECT_EQ(probe_read_u64(text, &v), 0);
	/* Writing the same value back: harmless if the protection fails. */
	KT_EXPECT_EQ(probe_write_u64(text, v), -E_FAULT);
	KT_EXPECT_EQ(probe_read_u64(ro, &v), 0);
	KT_EXPECT_EQ(probe_write_u64(ro, v), -E_FAULT);
}

KTEST(stack_guard_pages_unmapped)
{
	uint64_t v;

	for (unsigned int i = 0; i < nr_harts; i++) {
		char *guard = (char *)harts[i].stack_lo - PAGE_SIZE;

		KT_EXPECT_EQ(probe_read_u64(guard, &v), -E_FAULT);
		KT_EXPECT_EQ(probe_read_u64(guard + PAGE_SIZE - 8, &v),
			     -E_FAULT);
		KT_EXPECT_EQ(probe_read_u64((void *)harts[i].stack_lo, &v),
			     0);
	}
}

KTEST(current_stack_in_bounds)
{
	unsigned long sp;

	__asm__("mv %0, sp" : "=r"(sp));
	KT_EXPECT(sp >= this_hart()->stack_lo && sp < this_hart()->kstack_top);
}

KTEST_SUITE(kt_boot_suite, "boot", KTEST_CASE(fdt_harts_match_online_harts),
	    KTEST_CASE(fdt_memory_banks_are_ram),
	    KTEST_CASE(memmap_excludes_reserved),
	    KTEST_CASE(timebase_matches_time_csr),
	    KTEST_CASE(kernel_text_is_read_only),
	    KTEST_CASE(stack_guard_pages_unmapped),
	    KTEST_CASE(current_stack_in_bounds));
