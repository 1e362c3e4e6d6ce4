#pragma once
/*
 * bootinfo - what the kernel needs from the device tree, extracted once at
 * boot by bootinfo_parse() into plain values. Immutable after boot.
 *
 * Host tests check every field against libfdt as an oracle, on the trees
 * QEMU dumps for virt and sifive_u and on the VisionFive 2's.
 */
#include <kern/types.h>
#include <plat/dt.h>

#ifndef BI_MAX_HARTS
#ifdef CONFIG_MAX_HARTS
#define BI_MAX_HARTS	CONFIG_MAX_HARTS
#else
#define BI_MAX_HARTS	64
#endif
#endif
#define BI_MAX_MEM	16
#define BI_MAX_RSV	32

struct bi_range {
	paddr_t base;
	uint64_t size;
};

struct bi_hart {
	uint64_t hartid;	/* "reg" of the cpu node */
	bool enabled;		/* status okay (or absent) */
	bool sv39;		/* mmu-type is riscv,sv39/sv48/sv57 */
	bool sstc;		/* riscv,isa lists _sstc */
	char mmu_type[16];	/* "sv48", or "" when absent */
	char isa[96];		/* riscv,isa, cut to fit */
	int plic_sctx;		/* PLIC context of its S-mode external irq, -1 */
	uint32_t intc_phandle;	/* its riscv,cpu-intc child's phandle, 0 */
};

struct bi_uart {
	bool found;
	char compatible[32];	/* the compatible string that matched */
	char path[96];		/* node path, for messages */
	paddr_t base;
	uint64_t size;
	uint32_t reg_shift;	/* default 0 */
	uint32_t reg_io_width;	/* default 1 */
	uint32_t clock_freq;	/* 0 if absent */
	uint32_t baud;		/* current-speed, or from stdout-path opts, 0 */
	uint32_t irq;		/* interrupts, 0 if absent */
};

struct bi_plic {
	bool found;
	paddr_t base;
	uint64_t size;
	uint32_t ndev;		/* riscv,ndev */
};

struct boot_info {
	char model[64];
	uint64_t timebase;	/* /cpus timebase-frequency, Hz */

	struct bi_range mem[BI_MAX_MEM];	/* /memory nodes' reg */
	int nmem;
	/* memory-reservation block + every /reserved-memory child with reg,
	 * whether or not it says no-map */
	struct bi_range rsv[BI_MAX_RSV];
	int nrsv;

	struct bi_hart harts[BI_MAX_HARTS];
	int nharts;		/* cpu nodes recorded */
	int nharts_dropped;	/* cpu nodes beyond BI_MAX_HARTS */

	const char *bootargs;	/* points into the blob; "" if absent */
	char stdout_path[96];	/* resolved through /aliases, options cut */
	char stdout_opts[32];	/* what followed ':' ("115200n8"), or "" */
	bool has_initrd;
	paddr_t initrd_start, initrd_end;

	struct bi_uart uart;	/* the stdout-path UART, or the first
				 * supported one when stdout-path is absent */
	struct bi_plic plic;
};

/*
 * bootinfo_parse - fill @bi from the opened tree @dt
 *
 * Return: 0, or -E_BADFMT with a message in @err naming the node and
 * property at fault (missing /cpus or /memory, a reg that does not decode,
 * more banks than BI_MAX_MEM, ...). A missing UART or PLIC is not an error:
 * found stays false.
 */
int bootinfo_parse(struct boot_info *bi, const struct dt *dt, char *err,
		   size_t errlen);

/* Index in bi->harts of @hartid, or -1. */
int bootinfo_hart_index(const struct boot_info *bi, uint64_t hartid);
