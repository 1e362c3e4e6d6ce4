/*
 * stdio.c - printf, vprintf and puts over SYS_DEBUG_WRITE
 *
 * The text is formatted by the kernel's vsnprintf (kernel/lib/printf.c,
 * compiled into this library) into a PRINTF_MAX-byte buffer on the stack,
 * then written one line per system call: a line is never split across
 * two calls (unless the kernel writes only part of it), so output from
 * elsewhere cannot land inside it. Output longer than the buffer is cut
 * and ends in "...\n", as the kernel's printk does.
 */
#include <rivet.h>

/* Write all @len bytes, looping over short writes. Return: 0 or -E_*. */
static int write_all(const char *s, size_t len)
{
	while (len) {
		long n = sys_debug_write(s, len);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len)
			return -E_IO; /* no progress: do not spin */
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the first line of @s[0..len), its '\n' included if any. */
static size_t line_len(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			return i + 1;
	return len;
}

/* Write @s one line per system call. Return: 0 or -E_*. */
static int write_lines(const char *s, size_t len)
{
	while (len) {
		size_t n = line_len(s, len);
		int err = write_all(s, n);

		if (err)
			return err;
		s += n;
		len -= n;
	}
	return 0;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[PRINTF_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = (size_t)n;
	int err;

	if (n < 0)
		return -E_INVAL;
	if (len >= sizeof(buf)) {
		len = sizeof(buf) - 1;
		memcpy(buf + len - 4, "...\n", 4);
	}
	err = write_lines(buf, len);
	return err ? err : n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	char buf[PRINTF_MAX];
	size_t len = strlen(s);
	int err;

	if (len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\n';
		return write_lines(buf, len + 1);
	}
	err = write_lines(s, len);
	return err ? err : write_all("\n", 1);
}
