#pragma once
/*
 * Formatted output. vsnprintf/snprintf are pure (kernel/lib/printf.c) and
 * host-buildable. Supported: %d %i %u %x %X %o %c %s %p %% with flags '-',
 * '0', ' ', '+', '#', a width and precision (or '*'), and the length
 * modifiers hh h l ll z t j.
 *
 * printk() formats into a buffer on the stack and hands the whole text to
 * console_write() at once, so lines from different harts never interleave
 * within a line. Lines longer than PRINTK_MAX are cut and end in "...".
 */
#include <kern/types.h>
#include <stdarg.h>

#define PRINTK_MAX 256

#ifdef HOST_TEST
/* Host tests link the C library too: keep the kernel's versions apart. */
#define vsnprintf kvsnprintf
#define snprintf ksnprintf
#endif

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
void vprintk(const char *fmt, va_list ap);
void printk(const char *fmt, ...) __printf(1, 2);
