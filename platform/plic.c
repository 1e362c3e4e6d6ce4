/*
 * plic.c - PLIC setup and dispatch
 *
 * Register map (PLIC spec v1.0.0, ch. 3): priority of source s at 4*s,
 * enable bits of context c at 0x2000 + 0x80*c, threshold of context c at
 * 0x200000 + 0x1000*c and its claim/complete word 4 bytes after. Each
 * hart's S-mode context comes from the FDT's interrupts-extended, never
 * from a formula (virt uses 2h+1, sifive_u and JH7110 use 2h).
 */
#include <plat/plic.h>
#include <plat/uart.h>
#include <arch/csr.h>
#include <arch/mmu.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/irq.h>
#include <kern/console.h>
#include <kern/ipc.h>
#include <kern/printf.h>

#define PLIC_PRIORITY(s)	(4 * (s))
#define PLIC_ENABLE(c, s)	(0x2000 + 0x80 * (c) + 4 * ((s) / 32))
#define PLIC_THRESHOLD(c)	(0x200000 + 0x1000 * (c))
#define PLIC_CLAIM(c)		(0x200000 + 0x1000 * (c) + 4)

static volatile uint8_t *plic;	/* immutable after plic_init */
static uint32_t plic_ndev, uart_irq_nr;
static int boot_ctx = -1;	/* where device interrupts go; immutable */

static inline void plic_wr(unsigned long off, uint32_t v)
{
	*(volatile uint32_t *)(plic + off) = v;
}

static inline uint32_t plic_rd(unsigned long off)
{
	return *(volatile uint32_t *)(plic + off);
}

int plic_init(const struct boot_info *bi)
{
	int ctx = this_hart()->plic_ctx;

	if (!bi->plic.found) {
		printk("plic: none in the device tree; no external "
		       "interrupts\n");
		return -E_NOENT;
	}
	plic = ioremap(bi->plic.base, bi->plic.size ? bi->plic.size
						    : 0x4000000);
	if (!plic)
		return -E_NOMEM;
	plic_ndev = bi->plic.ndev;
	uart_irq_nr = bi->uart.irq;
	boot_ctx = ctx;
	printk("plic: at %#lx, %u sources, boot hart context %d\n",
	       (unsigned long)bi->plic.base, plic_ndev, ctx);
	if (uart_irq_nr && uart_irq_nr <= plic_ndev && ctx >= 0) {
		plic_wr(PLIC_PRIORITY(uart_irq_nr), 1);
		plic_wr(PLIC_ENABLE(ctx, uart_irq_nr),
			plic_rd(PLIC_ENABLE(ctx, uart_irq_nr)) |
				BIT(uart_irq_nr % 32));
	}
	plic_init_hart();
	return 0;
}

void plic_init_hart(void)
{
	int ctx = this_hart()->plic_ctx;

	if (!plic || ctx < 0)
		return;
	plic_wr(PLIC_THRESHOLD(ctx), 0);
	csr_set(CSR_SIE, SIE_SEIE);
}

void plic_handle(void)
{
	int ctx = this_hart()->plic_ctx;
	uint32_t src;

	if (!plic || ctx < 0)
		return;
	while ((src = plic_rd(PLIC_CLAIM(ctx))) != 0) {
		if (device_irq(src, ctx))
			continue;	/* completed by SYS_IRQ_ACK */
		if (src == uart_irq_nr && !console_handed_over())
			uart_irq();
		else if (src == uart_irq_nr)
			plic_unroute(src);	/* nobody drives it now */
		else
			printk("plic: spurious source %u on hart %u\n", src,
			       hart_self());
		plic_wr(PLIC_CLAIM(ctx), src);
	}
}

/* Route @src to the boot hart's context (a user driver bound it). */
int plic_route(uint32_t src)
{
	if (!plic || boot_ctx < 0)
		return -E_NOTSUP;
	if (!src || src > plic_ndev)
		return -E_RANGE;
	plic_wr(PLIC_PRIORITY(src), 1);
	plic_wr(PLIC_ENABLE(boot_ctx, src),
		plic_rd(PLIC_ENABLE(boot_ctx, src)) | BIT(src % 32));
	return 0;
}

void plic_unroute(uint32_t src)
{
	if (plic && boot_ctx >= 0 && src && src <= plic_ndev)
		plic_wr(PLIC_ENABLE(boot_ctx, src),
			plic_rd(PLIC_ENABLE(boot_ctx, src)) &
				~(uint32_t)BIT(src % 32));
}

void plic_complete(int ctx, uint32_t src)
{
	if (plic && ctx >= 0)
		plic_wr(PLIC_CLAIM(ctx), src);
}

void irq_external(void)
{
	plic_handle();
}

bool plic_present(void)
{
	return plic && uart_irq_nr && this_hart()->plic_ctx >= 0;
}
