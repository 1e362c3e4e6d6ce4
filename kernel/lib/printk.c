/*
 * printk.c - formatted kernel messages
 *
 * Each call formats into a buffer on its own stack and hands the whole
 * text to console_write() in one piece, which is what keeps lines from
 * different harts apart. No lock is held while formatting.
 */
#include <kern/printf.h>
#include <kern/console.h>

void vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf)) {
		/* Cut: keep the line ending so the next line starts clean. */
		n = sizeof(buf) - 1;
		buf[n - 4] = '.';
		buf[n - 3] = '.';
		buf[n - 2] = '.';
		buf[n - 1] = '\n';
	}
	console_write(buf, (size_t)n);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}
