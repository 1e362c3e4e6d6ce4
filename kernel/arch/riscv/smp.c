/*
 * smp.c - bringing harts online, inter-processor interrupts, idle loop
 *
 * The boot hart is logical hart 0. Every other cpu node whose status is
 * okay and whose mmu-type offers Sv39 gets the next logical id and is
 * started with SBI HSM hart_start at secondary_entry (head.S), with its
 * struct hart as the opaque argument. Harts without an MMU (the S7/E51
 * monitor cores of StarFive and SiFive SoCs) are skipped with a log line.
 */
#include <arch/arch.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <kern/hart.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/smp.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <plat/bootinfo.h>
#include <plat/plic.h>
#include <sbi/sbi.h>

struct hart harts[CONFIG_MAX_HARTS];
unsigned int nr_harts = 1;

/* Kernel stacks: slot i = [guard page][KSTACK_SIZE], guard unmapped by
 * early.c, which finds the section through kstacks_start/end (kernel.ld). */
char kstacks[CONFIG_MAX_HARTS][KSTACK_SLOT]
	__section(".bss.kstack") __aligned(4096);
static char emerg_stacks[CONFIG_MAX_HARTS][EMERG_STACK_SIZE] __aligned(16);

void secondary_main(struct hart *h);
extern char secondary_entry[];

/* h->online while a hart starts: 0 until it runs secondary_main, which
 * claims the slot (ARRIVED) or finds it abandoned (then it parks); 1
 * once it is up. */
#define HART_STARTING	0
#define HART_ARRIVED	2
#define HART_ABANDONED	3


/* Prepare logical hart @id's struct hart (owner: the boot hart, before the
 * hart runs; the hart itself after). */
static void hart_setup(unsigned int id, uint64_t hartid, int plic_ctx)
{
	struct hart *h = &harts[id];

	h->id = id;
	h->hartid = hartid;
	h->plic_ctx = plic_ctx;
	h->stack_lo = (unsigned long)kstacks[id] + PAGE_SIZE;
	h->kstack_top = (unsigned long)kstacks[id] + KSTACK_SLOT;
	h->emerg_sp = (unsigned long)emerg_stacks[id] + EMERG_STACK_SIZE;
	/* A slot given up on (a hart that never answered) is reused; a hart
	 * that answers later than that finds it taken again (a window of
	 * one hart start, after over 10 s: not closed). */
	h->online = 0;
}

void smp_init_boot_hart(uint64_t hartid, int plic_ctx)
{
	hart_setup(0, hartid, plic_ctx);
	harts[0].online = 1;
}

/* Runs on each secondary hart with the MMU on and tp = @h. */
void secondary_main(struct hart *h)
{
	int starting = HART_STARTING;

	/* Claim the slot, unless the boot hart gave up waiting for us and
	 * may hand it to another hart: then stay out of the way for good. */
	if (!__atomic_compare_exchange_n(&h->online, &starting, HART_ARRIVED,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		for (;;)
			arch_wait_for_irq();	/* interrupts are off */
	csr_write(CSR_SIE, SIE_SSIE);
	sched_init_hart();
	timer_start_hart();
	plic_init_hart();
	__atomic_store_n(&h->online, 1, __ATOMIC_RELEASE);
	arch_irq_enable();
	hart_idle();
}

static bool hart_wait_online(struct hart *h)
{
	/* HSM start is asynchronous. A real hart answers in microseconds;
	 * under QEMU on a loaded, over-subscribed host a vCPU thread may not
	 * run for over a second, so allow ten. */
	uint64_t deadline = arch_time() + 10 * riscv_timebase_hz;

	int starting = HART_STARTING;

	while (arch_time() < deadline) {
		if (__atomic_load_n(&h->online, __ATOMIC_ACQUIRE) == 1)
			return true;
		arch_cpu_relax();
	}
	/* Too late: unless it has just claimed its slot, it never may. */
	if (__atomic_compare_exchange_n(&h->online, &starting,
					HART_ABANDONED, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return false;
	while (__atomic_load_n(&h->online, __ATOMIC_ACQUIRE) != 1)
		arch_cpu_relax();
	return true;
}

void smp_boot(const struct boot_info *bi)
{
	unsigned int next = 1, failed = 0;

	for (int i = 0; i < bi->nharts; i++) {
		const struct bi_hart *bh = &bi->harts[i];
		struct hart *h;
		long err;

		if (bh->hartid == harts[0].hartid)
			continue;
		if (!bh->sv39) {
			printk("smp: skipping hart %lu (no MMU)\n",
			       (unsigned long)bh->hartid);
			continue;
		}
		if (!bh->enabled) {
			printk("smp: skipping hart %lu (status disabled)\n",
			       (unsigned long)bh->hartid);
			continue;
		}
		if (!sbi_info.hsm) {
			printk("smp: cannot start hart %lu (no SBI HSM)\n",
			       (unsigned long)bh->hartid);
			continue;
		}
		if (next >= CONFIG_MAX_HARTS) {
			printk("smp: skipping hart %lu (CONFIG_MAX_HARTS=%d)\n",
			       (unsigned long)bh->hartid, CONFIG_MAX_HARTS);
			continue;
		}
		hart_setup(next, bh->hartid, bh->plic_sctx);
		h = &harts[next];
		err = sbi_hart_start(bh->hartid, kva_to_pa(secondary_entry),
				     (unsigned long)h);
		if (err || !hart_wait_online(h)) {
			printk("smp: hart %lu failed to start (%s)\n",
			       (unsigned long)bh->hartid,
			       err ? sbi_err_name(err) : "no answer in 10 s");
			failed++;
			continue;
		}
		next++;
		/* Published before any IPI can name the new hart. */
		__atomic_store_n(&nr_harts, next, __ATOMIC_RELEASE);
	}
	if (bi->nharts_dropped)
		printk("smp: %d cpu nodes beyond CONFIG_MAX_HARTS ignored\n",
		       bi->nharts_dropped);
	printk("smp: %u harts online (boot hart %lu)\n", nr_harts,
	       (unsigned long)harts[0].hartid);
	(void)failed;
}

void ipi_send(unsigned int id, unsigned int kind)
{
	struct hart *h = &harts[id];
	long err;

	/* Release: what the sender wrote before (a call slot, work) is
	 * visible once the target's acquire exchange sees the bit. */
	__atomic_fetch_or(&h->ipi_pending, kind, __ATOMIC_RELEASE);
	err = sbi_send_ipi(1, h->hartid);
	if (err && !this_hart()->in_panic)
		panic("smp: SBI send_ipi to hart %lu failed: %s",
		      (unsigned long)h->hartid, sbi_err_name(err));
}

/*
 * ipi_handle - the supervisor software interrupt
 *
 * Takes no locks (STYLE.md section 3): everything it touches is this
 * hart's own data or lock-free slots.
 */
void ipi_handle(void)
{
	struct hart *h = this_hart();
	unsigned int pending = __atomic_exchange_n(&h->ipi_pending, 0,
						   __ATOMIC_ACQUIRE);

	if (pending & IPI_STOP)
		arch_halt();
	if (pending & IPI_CALL)
		xcall_handle();
	if (pending & IPI_PING) {
		h->ipi_pings++;
		ipi_send(__atomic_load_n(&h->ping_from, __ATOMIC_ACQUIRE),
			 IPI_PONG);
	}
	if (pending & IPI_PONG)
		__atomic_store_n(&h->ipi_pongs, h->ipi_pongs + 1,
				 __ATOMIC_RELEASE);
	if (pending & IPI_WAKE)
		sched_ipi_wake();
}

void smp_stop_others(void)
{
	unsigned int self = hart_self();

	for (unsigned int i = 0; i < nr_harts; i++)
		if (i != self && harts[i].online == 1)
			ipi_send(i, IPI_STOP);
}

/*
 * hart_idle - the loop a hart runs when it has nothing else to do
 *
 * This is the body of each hart's idle thread. Work posted by
 * hart_run_on() runs here with interrupts on; runnable threads are switched
 * to, or pulled from busy harts (sched_idle_once). Interrupts
 * are turned off around the final check so that a wake-up IPI between the
 * check and wfi is not lost: wfi returns once it is pending.
 */
void hart_idle(void)
{
	struct hart *h = this_hart();

	for (;;) {
		void (*fn)(void *) = __atomic_load_n(&h->work_fn,
						     __ATOMIC_ACQUIRE);

		if (fn) {
			fn(h->work_arg);
			__atomic_store_n(&h->work_fn, NULL, __ATOMIC_RELEASE);
			__atomic_fetch_add(&h->work_done, 1, __ATOMIC_RELEASE);
			continue;
		}
		if (sched_idle_once())
			continue;
		arch_irq_disable();
		if (!__atomic_load_n(&h->work_fn, __ATOMIC_ACQUIRE) &&
		    !sched_has_work())
			arch_wait_for_irq();
		arch_irq_enable();
	}
}

void hart_run_on(unsigned int id, void (*fn)(void *), void *arg)
{
	struct hart *h = &harts[id];

	while (__atomic_load_n(&h->work_fn, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	h->work_arg = arg;
	__atomic_store_n(&h->work_fn, fn, __ATOMIC_RELEASE);
	ipi_send(id, IPI_WAKE);
}

void hart_wait_work(unsigned int id)
{
	while (__atomic_load_n(&harts[id].work_fn, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
}

void hart_run_all(void (*fn)(void *), void *arg)
{
	unsigned int self = hart_self();

	for (unsigned int i = 0; i < nr_harts; i++)
		if (i != self)
			hart_run_on(i, fn, arg);
	fn(arg);
	for (unsigned int i = 0; i < nr_harts; i++)
		if (i != self)
			hart_wait_work(i);
}
