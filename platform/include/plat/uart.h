#pragma once
/*
 * uart.h - console UART drivers, chosen by the FDT's compatible string
 */
#include <kern/types.h>
#include <plat/bootinfo.h>

/*
 * uart_init - map and start the UART @u describes, and make it the console
 * Return: 0, or -E_NOTSUP (no driver for its compatible) / -E_NOMEM.
 */
int uart_init(const struct bi_uart *u);
/* The UART's interrupt handler (rx), from the PLIC dispatch. */
void uart_irq(void);
/* Test hook: ask the UART to raise its transmit-empty interrupt. */
void uart_irq_test_enable(bool on);
/* Interrupts the UART raised since boot. */
uint64_t uart_irq_count(void);
