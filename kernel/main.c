/*
 * main.c - from the boot hart's first C call to a running system
 *
 * head.S arrives here with the MMU on, the kernel at KERNEL_VBASE, the
 * 1 GiB around the image and the FDT in the direct map, and tp = &harts[0].
 */
#include <arch/asid.h>
#include <arch/csr.h>
#include <arch/kstack.h>
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <kern/arch.h>
#include <kern/cmdline.h>
#include <kern/errno.h>
#include <kern/console.h>
#include <kern/hart.h>
#include <kern/ipc.h>
#include <kern/panic.h>
#include <kern/power.h>
#include <kern/printf.h>
#include <kern/proc.h>
#include <kern/smp.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <mm/memmap.h>
#include <plat/bootinfo.h>
#include <plat/dt.h>
#include <plat/plic.h>
#include <plat/uart.h>
#include <sbi/sbi.h>
#include "test/ktests.h"

#define RIVET_VERSION "0.1"

_Static_assert(offsetof(struct hart, scratch0) == HART_SCRATCH0, "entry.S");
_Static_assert(offsetof(struct hart, scratch1) == HART_SCRATCH1, "entry.S");
_Static_assert(offsetof(struct hart, stack_lo) == HART_STACK_LO, "entry.S");
_Static_assert(offsetof(struct hart, emerg_sp) == HART_EMERG_SP, "entry.S");
_Static_assert(offsetof(struct hart, kstack_top) == HART_KSTACK_TOP,
	       "entry.S");
_Static_assert(offsetof(struct hart, current) == HART_CURRENT, "thread.h");
_Static_assert(offsetof(struct hart, ipc_fast_fn) == HART_IPC_FAST_FN,
	       "entry.S");
_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "entry.S");
_Static_assert(offsetof(struct trap_frame, sepc) == TF_SEPC, "entry.S");
_Static_assert(sizeof(struct spinlock) == 8, "spinlock layout");

struct boot_info boot_info;	/* immutable after kmain's parse */
struct dt boot_dt;		/* immutable after kmain's parse */

/* Command-line options (immutable once parsed). */
static bool opt_ktest;
static char opt_ktest_suite[32];
static char init_args[256];
static int opt_crashtest = -1;
static int opt_ptlock = -1;
static const char *const ptlock_names[] = { "single", "split", NULL };
static int opt_ipcfast = -1;
static const char *const ipcfast_names[] = { "off", "call", "reply", "on",
					     NULL };
static bool opt_noasid;
static char opt_init[32];
static uint64_t opt_asidbits;
static const char *const crash_kinds[] = { "panic", "null", "stack",
					   "lockorder", NULL };

static struct cmdline_opt kernel_opts[] = {
	{ .name = "ktest", .kind = CMDLINE_FLAG_OR_STR, .out = &opt_ktest,
	  .str = opt_ktest_suite, .strlen = sizeof(opt_ktest_suite) },
	{ .name = "crashtest", .kind = CMDLINE_CHOICE, .out = &opt_crashtest,
	  .choices = crash_kinds },
	{ .name = "ptlock", .kind = CMDLINE_CHOICE, .out = &opt_ptlock,
	  .choices = ptlock_names },
	{ .name = "ipcfast", .kind = CMDLINE_CHOICE, .out = &opt_ipcfast,
	  .choices = ipcfast_names },
	{ .name = "noasid", .kind = CMDLINE_FLAG, .out = &opt_noasid },
	{ .name = "init", .kind = CMDLINE_STR, .out = opt_init,
	  .strlen = sizeof(opt_init) },
	{ .name = "asidbits", .kind = CMDLINE_UINT, .out = &opt_asidbits },
};


/*
 * crashtest=panic|null|stack|lockorder - deliberately die, to show (and
 * test) what a panic report looks like: a panic() call, a kernel load from
 * address 0, a kernel stack overflow into the guard page, and a lock-order
 * inversion (an address-space lock taken under a page-table lock).
 */
static volatile unsigned long crash_sink;

static unsigned long crash_recurse(unsigned long n)
{
	volatile char pad[256];

	pad[0] = (char)n;
	if (n == ~0UL)		/* never: hides the recursion from gcc */
		return 0;
	return crash_recurse(n + 1) + pad[0];
}

static void crashtest(int kind)
{
	printk("crashtest: %s\n", crash_kinds[kind]);
	switch (kind) {
	case 0:
		panic("crashtest: panic requested on the command line");
	case 1:
		crash_sink = *(volatile unsigned long *)crash_sink;
		break;
	case 2:
		crash_sink = crash_recurse(0);
		break;
	case 3: {
		static struct spinlock pt = SPINLOCK_INIT(LOCK_CLASS_PT);
		static struct spinlock as = SPINLOCK_INIT(LOCK_CLASS_AS);

		spin_lock(&pt);
		spin_lock(&as);	/* rank 10 under rank 20: must panic */
		spin_unlock(&as);
		spin_unlock(&pt);
		printk("crashtest: lock-order inversion not caught "
		       "(CONFIG_DEBUG_LOCK_ORDER off?)\n");
		break;
	}
	}
}

void kmain(uint64_t hartid, paddr_t fdt_pa);
static void run_init(const char *name);

static void parse_fdt(paddr_t fdt_pa)
{
	static char err[160];
	const uint8_t *h = pa_to_kva(fdt_pa);
	uint32_t size;
	int rc;

	if (fdt_pa & 7)
		panic("fdt: blob address %#lx is not 8-byte aligned",
		      (unsigned long)fdt_pa);
	/* The early map covers the GiB holding the FDT; read its header
	 * first so that dt_open never reads past what the blob claims. */
	size = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
	       (uint32_t)h[6] << 8 | h[7];
	rc = dt_open(&boot_dt, h, MIN(size, 64u << 20));
	if (rc)
		panic("fdt: device tree at %#lx refused: %s",
		      (unsigned long)fdt_pa, dt_error(&boot_dt));
	rc = bootinfo_parse(&boot_info, &boot_dt, err, sizeof(err));
	if (rc)
		panic("fdt: %s", err);
}

static void setup_memory(paddr_t fdt_pa)
{
	extern char _end[];
	struct mem_range banks[BI_MAX_MEM], rsv[BI_MAX_RSV + 3];
	const struct boot_info *bi = &boot_info;
	int nrsv = 0, n;
	uint64_t total = 0, usable = 0;
	paddr_t lo = ~(paddr_t)0, hi = 0;

	for (int i = 0; i < bi->nmem; i++) {
		banks[i] = (struct mem_range){ bi->mem[i].base,
					       bi->mem[i].base +
						       bi->mem[i].size };
		printk("mem: bank %#lx-%#lx (%lu MiB)\n",
		       (unsigned long)banks[i].start,
		       (unsigned long)banks[i].end - 1,
		       (unsigned long)(bi->mem[i].size >> 20));
		total += bi->mem[i].size;
		if (mmu_map_direct(banks[i].start, banks[i].end, PTE_KERN_RW))
			panic("mem: cannot direct-map bank %#lx-%#lx",
			      (unsigned long)banks[i].start,
			      (unsigned long)banks[i].end);
	}
	for (int i = 0; i < bi->nrsv; i++) {
		rsv[nrsv++] = (struct mem_range){ bi->rsv[i].base,
						  bi->rsv[i].base +
							  bi->rsv[i].size };
		printk("mem: reserved %#lx-%#lx (firmware/device tree)\n",
		       (unsigned long)bi->rsv[i].base,
		       (unsigned long)(bi->rsv[i].base + bi->rsv[i].size - 1));
	}
	rsv[nrsv++] = (struct mem_range){ kernel_load_pa,
					  kva_to_pa(_end) };
	rsv[nrsv++] = (struct mem_range){ fdt_pa,
					  fdt_pa + boot_dt.totalsize };
	if (bi->has_initrd)
		rsv[nrsv++] = (struct mem_range){ bi->initrd_start,
						  bi->initrd_end };
	n = memmap_build(banks, bi->nmem, rsv, nrsv, kernel_load_pa,
			 memmap_usable, MEMMAP_MAX);
	if (n < 0)
		panic("mem: usable map needs more than %d ranges", MEMMAP_MAX);
	memmap_nusable = n;
	for (int i = 0; i < n; i++)
		usable += memmap_usable[i].end - memmap_usable[i].start;
	for (int i = 0; i < bi->nmem; i++) {
		lo = MIN(lo, banks[i].start);
		hi = MAX(hi, banks[i].end);
	}
	if (frame_init(memmap_usable, n, lo, hi))
		panic("mem: no usable range can hold the frame table");
	printk("mem: kernel %#lx-%#lx, fdt %#lx-%#lx; %lu of %lu KiB usable "
	       "in %d ranges\n", (unsigned long)kernel_load_pa,
	       (unsigned long)kva_to_pa(_end) - 1, (unsigned long)fdt_pa,
	       (unsigned long)(fdt_pa + boot_dt.totalsize - 1),
	       (unsigned long)(usable >> 10), (unsigned long)(total >> 10), n);
}

void kmain(uint64_t hartid, paddr_t fdt_pa)
{
	const struct boot_info *bi = &boot_info;
	const char *bootargs;
	int idx, rc;

	smp_init_boot_hart(hartid, -1);
	/* Until the UART is up, printk goes through the SBI legacy console. */
	sbi_init();
	parse_fdt(fdt_pa);
	idx = bootinfo_hart_index(bi, hartid);
	harts[0].plic_ctx = idx >= 0 ? bi->harts[idx].plic_sctx : -1;

	rc = bi->uart.found ? uart_init(&bi->uart) : -1;
	printk("\nrivet " RIVET_VERSION " (" CONFIG_BOARD_NAME ") on %s, boot "
	       "hart %lu\n", bi->model[0] ? bi->model : "unknown machine",
	       (unsigned long)hartid);
	if (rc)
		printk("console: no usable UART in the device tree (%s); "
		       "staying on the SBI console\n",
		       bi->uart.found ? bi->uart.compatible : "none found");
	else
		printk("console: %s at %#lx (%s, reg-shift %u, io-width %u)\n",
		       bi->uart.path, (unsigned long)bi->uart.base,
		       bi->uart.compatible, bi->uart.reg_shift,
		       bi->uart.reg_io_width);
	sbi_print_info();

	bootargs = bi->bootargs && bi->bootargs[0] ? bi->bootargs
						   : CONFIG_BOOT_CMDLINE;
	printk("cmdline: \"%s\"\n", bootargs);
	cmdline_parse(bootargs, kernel_opts, ARRAY_SIZE(kernel_opts),
		      init_args, sizeof(init_args));

	setup_memory(fdt_pa);
	archive_init(bi->has_initrd ? pa_to_kva(bi->initrd_start) : NULL,
		     bi->has_initrd ? bi->initrd_end - bi->initrd_start : 0);
	ipc_fast_set(opt_ipcfast >= 0 ? (unsigned int)opt_ipcfast :
					IPC_FAST_CALL | IPC_FAST_REPLY_RECV);
	if (opt_ptlock >= 0)
		ptlock_default = opt_ptlock == 1 ? PTLOCK_SPLIT : PTLOCK_SINGLE;
	asid_init(opt_noasid, (unsigned int)MIN(opt_asidbits, 16));
	printk("mm: frame record %zu bytes, ptlock=%s (%s), %lu frames free\n",
	       sizeof(struct frame), ptlock_mode_name(ptlock_default),
	       opt_ptlock >= 0 ? "boot option"
			       : "CONFIG_SPLIT_PTLOCK_HARTS="
				 __stringify(CONFIG_SPLIT_PTLOCK_HARTS),
	       (unsigned long)frame_free_count());
	kstack_init();
	sched_init();
	sched_init_hart();
	timer_init(bi->timebase, idx >= 0 && bi->harts[idx].sstc);
	xcall_init();
	csr_write(CSR_SIE, SIE_SSIE);
	timer_start_hart();
	plic_init(bi);
	arch_irq_enable();

	smp_boot(bi);
	asid_finalize(nr_harts);

	if (opt_crashtest >= 0)
		crashtest(opt_crashtest);
	if (opt_ktest) {
		int failed = ktests_run(opt_ktest_suite[0] ? opt_ktest_suite
							   : NULL);

		printk("ktest: %s\n", failed ? "FAILED" : "all passed");
	}
	if (!opt_init[0] && !opt_ktest &&
	    archive_manifest_first(opt_init, sizeof(opt_init)) == 0)
		printk("init: '%s' from the boot manifest (etc/manifest)\n",
		       opt_init);
	if (opt_init[0])
		run_init(opt_init);
	else if (!opt_ktest)
		printk("rivet: boot complete; nothing to run (no init=NAME, "
		       "no boot manifest)\n");
	as_print_lockstat();
	{
		struct sched_stats st;

		sched_stats_sum(&st);
		printk("sched: %lu switches, %lu preemptions, %lu steals, "
		       "%lu idle wake-ups, %lu direct handoffs\n",
		       (unsigned long)st.switches,
		       (unsigned long)st.preemptions, (unsigned long)st.steals,
		       (unsigned long)st.idle_wakes,
		       (unsigned long)st.handoffs);
	}
	machine_poweroff(false);
}

/* init=NAME: run bin/NAME from the boot archive, wait for it, report. */
static void run_init(const char *name)
{
	struct proc_share share = { 0 };
	const void *elf;
	struct proc *p;
	int err, status;
	size_t len;

	if (archive_find(name, &elf, &len)) {
		printk("init: no program '%s' in the boot archive\n", name);
		return;
	}
	/* The first process holds every device the kernel does not keep. */
	devices_init(&boot_dt, &boot_info);
	share.nhandles = devices_list(&share.handles);
	err = proc_spawn(name, elf, len, init_args, &share, &p);
	if (err) {
		printk("init: cannot start '%s': %s\n", name, errno_name(err));
		return;
	}
	printk("init: started '%s' as pid %d\n", name, p->pid);
	/* In the table (for SYS_PROC_INFO and kill), its own parent 0:
	 * nobody can wait for it but us. */
	if (proc_register(p, NULL))
		printk("init: not in the process table (full)\n");
	thread_launch(p->main);
	status = proc_wait(p);
	console_take_back();
	printk("init: exited with status %d\n", status);
}

void machine_poweroff(bool failure)
{
	long err;

	if (!this_hart()->in_panic)
		smp_stop_others();
	printk("rivet: powering off\n");
	err = sbi_system_reset(SBI_SRST_SHUTDOWN,
			       failure ? SBI_SRST_REASON_FAILURE
				       : SBI_SRST_REASON_NONE);
	printk("rivet: no shutdown device (SBI SRST: %s); harts parked\n",
	       sbi_err_name(err));
	arch_halt();
}
