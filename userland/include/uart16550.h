#pragma once
/*
 * uart16550.h - a 16550-compatible UART (ns16550a, snps,dw-apb-uart) as
 * user-space drivers see it, after SYS_DEVICE_MAP: registers spaced by
 * reg-shift, accessed reg-io-width bytes wide (SYS_DEVICE_INFO says both).
 */
#include <rivet.h>

#define UART_RBR	0	/* receive buffer (read) */
#define UART_THR	0	/* transmit holding (write) */
#define UART_IER	1	/* interrupt enable */
#define UART_IER_RDA	0x01	/* received data available */
#define UART_LSR	5	/* line status */
#define UART_LSR_DR	0x01	/* a byte waits */
#define UART_LSR_THRE	0x20	/* room to transmit */
#define UART_LSR_TEMT	0x40	/* transmitter empty: every byte is out */

struct uart16550 {
	volatile unsigned char *base;
	unsigned int shift, width;
};

static inline unsigned int uart_rd(const struct uart16550 *u, unsigned int r)
{
	if (u->width == 4)
		return *(volatile uint32_t *)(u->base + (r << u->shift));
	return u->base[r << u->shift];
}

static inline void uart_wr(const struct uart16550 *u, unsigned int r,
			   unsigned int v)
{
	if (u->width == 4)
		*(volatile uint32_t *)(u->base + (r << u->shift)) = v;
	else
		u->base[r << u->shift] = (unsigned char)v;
}

/* Send @n bytes, "\n" as "\r\n", waiting for room before each. */
static inline void uart_write(const struct uart16550 *u, const char *s,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			while (!(uart_rd(u, UART_LSR) & UART_LSR_THRE))
				;
			uart_wr(u, UART_THR, '\r');
		}
		while (!(uart_rd(u, UART_LSR) & UART_LSR_THRE))
			;
		uart_wr(u, UART_THR, (unsigned char)s[i]);
	}
}

/* Wait until every byte written has left the UART (flushes, shutdown). */
static inline void uart_drain(const struct uart16550 *u)
{
	while (!(uart_rd(u, UART_LSR) & UART_LSR_TEMT))
		;
}
