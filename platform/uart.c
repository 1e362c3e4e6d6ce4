/*
 * uart.c - console UARTs: 16550-compatible (ns16550a, snps,dw-apb-uart)
 * and SiFive's (sifive,uart0)
 *
 * The firmware has set the line speed already; rivet leaves the divisor
 * alone (it does not know the input clock on every board) and only turns
 * on the FIFOs, transmit and receive. Receive interrupts go through the
 * PLIC; transmit is polled.
 *
 * 16550 registers (TI PC16550D datasheet): RBR/THR 0, IER 1, FCR 2,
 * LCR 3, MCR 4, LSR 5; each reg-shift apart, reg-io-width bytes wide
 * (the DesignWare UART on the JH7110 uses shift 2 and 32-bit access).
 * SiFive UART (FU540-C000 manual, ch. 13): txdata 0x00, rxdata 0x04,
 * txctrl 0x08, rxctrl 0x0c, ie 0x10, ip 0x14, div 0x18.
 */
#include <plat/uart.h>
#include <arch/mmu.h>
#include <kern/console.h>
#include <kern/errno.h>
#include <kern/spinlock.h>
#include <kern/string.h>

#define UART_RBR	0
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_IER_RDI	BIT(0)
#define UART_IER_THRI	BIT(1)
#define UART_LSR_DR	BIT(0)
#define UART_LSR_THRE	BIT(5)

#define SIFIVE_TXDATA	0x00
#define SIFIVE_RXDATA	0x04
#define SIFIVE_TXCTRL	0x08
#define SIFIVE_RXCTRL	0x0c
#define SIFIVE_IE	0x10
#define SIFIVE_FULL	BIT(31)
#define SIFIVE_EMPTY	BIT(31)
#define SIFIVE_IE_TXWM	BIT(0)
#define SIFIVE_IE_RXWM	BIT(1)

#define RX_RING		256

/*
 * Locking: base/shift/width/sifive are immutable after uart_init. irqs is
 * atomic. The receive ring (rx, rx_head, rx_tail) is protected by rx_lock:
 * the interrupt handler fills it, console_getc() callers empty it.
 */
struct uart {
	volatile uint8_t *base;
	uint32_t shift, width;
	bool sifive;
	uint64_t irqs;
	struct spinlock rx_lock;
	unsigned int rx_head, rx_tail;
	char rx[RX_RING];
};

static struct uart uart0 = { .rx_lock = SPINLOCK_INIT(LOCK_CLASS_UART) };

static uint32_t rd(struct uart *u, unsigned int reg)
{
	volatile uint8_t *p = u->base + (reg << u->shift);

	if (u->width == 4)
		return *(volatile uint32_t *)p;
	return *p;
}

static void wr(struct uart *u, unsigned int reg, uint32_t v)
{
	volatile uint8_t *p = u->base + (reg << u->shift);

	if (u->width == 4)
		*(volatile uint32_t *)p = v;
	else
		*p = (uint8_t)v;
}

static uint32_t srd(struct uart *u, unsigned int off)
{
	return *(volatile uint32_t *)(u->base + off);
}

static void swr(struct uart *u, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(u->base + off) = v;
}

static void ns16550_putc(void *ctx, char c)
{
	struct uart *u = ctx;

	while (!(rd(u, UART_LSR) & UART_LSR_THRE))
		;
	wr(u, UART_THR, (uint8_t)c);
}

static int ns16550_rx(struct uart *u)
{
	if (!(rd(u, UART_LSR) & UART_LSR_DR))
		return -1;
	return rd(u, UART_RBR) & 0xff;
}

/* Take received bytes out of the hardware FIFO; rx_lock held. */
static void uart_drain_locked(struct uart *u)
{
	for (;;) {
		int c;

		if (u->sifive) {
			uint32_t v = srd(u, SIFIVE_RXDATA);

			c = (v & SIFIVE_EMPTY) ? -1 : (int)(v & 0xff);
		} else {
			c = ns16550_rx(u);
		}
		if (c < 0)
			return;
		if (u->rx_head - u->rx_tail < RX_RING)	/* else drop */
			u->rx[u->rx_head++ % RX_RING] = (char)c;
	}
}

static int uart_getc(void *ctx)
{
	struct uart *u = ctx;
	int c = -1;

	spin_lock(&u->rx_lock);
	uart_drain_locked(u);
	if (u->rx_tail != u->rx_head)
		c = (unsigned char)u->rx[u->rx_tail++ % RX_RING];
	spin_unlock(&u->rx_lock);
	return c;
}

static void sifive_putc(void *ctx, char c)
{
	struct uart *u = ctx;

	while (srd(u, SIFIVE_TXDATA) & SIFIVE_FULL)
		;
	swr(u, SIFIVE_TXDATA, (uint8_t)c);
}

static struct console_ops uart_ops;

int uart_init(const struct bi_uart *bu)
{
	struct uart *u = &uart0;
	bool is16550 = !strcmp(bu->compatible, "ns16550a") ||
		       !strcmp(bu->compatible, "ns16550") ||
		       !strcmp(bu->compatible, "snps,dw-apb-uart");

	if (!is16550 && strcmp(bu->compatible, "sifive,uart0"))
		return -E_NOTSUP;
	u->base = ioremap(bu->base, bu->size ? bu->size : 0x100);
	if (!u->base)
		return -E_NOMEM;
	u->shift = bu->reg_shift;
	u->width = bu->reg_io_width == 4 ? 4 : 1;
	u->sifive = !is16550;
	if (u->sifive) {
		swr(u, SIFIVE_TXCTRL, srd(u, SIFIVE_TXCTRL) | 1);
		swr(u, SIFIVE_RXCTRL, srd(u, SIFIVE_RXCTRL) | 1);
		swr(u, SIFIVE_IE, SIFIVE_IE_RXWM);
		uart_ops = (struct console_ops){ "sifive,uart0", sifive_putc,
						 uart_getc, u };
	} else {
		wr(u, UART_FCR, 0x07);	/* FIFOs on, both cleared */
		wr(u, UART_MCR, 0x08);	/* OUT2: route the irq line */
		wr(u, UART_IER, UART_IER_RDI);
		uart_ops = (struct console_ops){ bu->compatible[0] == 's'
							 ? "snps,dw-apb-uart"
							 : "ns16550a",
						 ns16550_putc, uart_getc,
						 u };
	}
	console_set_driver(&uart_ops);
	return 0;
}

void uart_irq_test_enable(bool on)
{
	struct uart *u = &uart0;

	if (u->sifive)
		swr(u, SIFIVE_IE, SIFIVE_IE_RXWM | (on ? SIFIVE_IE_TXWM : 0));
	else
		wr(u, UART_IER, UART_IER_RDI | (on ? UART_IER_THRI : 0));
}

void uart_irq(void)
{
	struct uart *u = &uart0;

	__atomic_fetch_add(&u->irqs, 1, __ATOMIC_RELEASE);
	spin_lock(&u->rx_lock);
	uart_drain_locked(u);
	spin_unlock(&u->rx_lock);
	/* A transmit-empty interrupt (only the PLIC test asks for one) is
	 * acknowledged by reading IIR and turned off again, or it would
	 * fire for as long as the transmitter is idle. */
	if (u->sifive) {
		swr(u, SIFIVE_IE, SIFIVE_IE_RXWM);
	} else {
		(void)rd(u, UART_FCR);
		wr(u, UART_IER, UART_IER_RDI);
	}
}

uint64_t uart_irq_count(void)
{
	return __atomic_load_n(&uart0.irqs, __ATOMIC_ACQUIRE);
}
