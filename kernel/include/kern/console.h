#pragma once
/*
 * The kernel console: where printk's text goes. The kernel implementation
 * (kernel/lib/console.c) serialises writers with console_lock and sends the
 * bytes to the UART driver chosen from the FDT (or, before that driver is
 * up, to the SBI legacy console). The host test build provides its own.
 */
#include <kern/types.h>

/* Write @n bytes as one unit: no other writer's bytes come in between. */
void console_write(const char *s, size_t n);

struct console_ops {
	const char *name;
	void (*putc)(void *ctx, char c);
	int (*getc)(void *ctx);		/* -1 if nothing waits */
	void *ctx;
};

void console_set_driver(const struct console_ops *ops);
/* Panic path: stop honouring console_lock so a dying hart can print. */
void console_panic_mode(void);
/* A byte of input if one waits, else -1 (polled). */
int console_getc(void);

/* A console server owns the UART now: text goes to the log ring. */
void console_hand_over(void);
bool console_handed_over(void);
/* The first process ended: the kernel writes to the UART again, starting
 * with whatever the log still holds. */
void console_take_back(void);
/* Was text logged since the last call? (clears the flag) */
bool console_log_pending(void);
/* Take up to @len logged bytes. Return: how many. */
size_t console_log_read(char *buf, size_t len);
