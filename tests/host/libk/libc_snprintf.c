/*
 * libc_snprintf.c - the C library's snprintf under another name, built in
 * its own translation unit that does not see the kernel's declaration.
 */
#include <stdarg.h>
#include <stdio.h>

int libc_snprintf(char *buf, size_t size, const char *fmt, ...);

int libc_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
