/*
 * printf.c - vsnprintf and snprintf, freestanding and host-buildable
 *
 * C99 semantics for the subset listed in kern/printf.h: the return value is
 * the length the full output would have had, the buffer always ends in NUL
 * when size > 0. No floating point (the kernel has none).
 */
#include <kern/printf.h>
#include <kern/string.h>

struct out {
	char *buf;
	size_t size;
	size_t len;	/* characters produced so far, even if not stored */
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

enum {
	F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16,
};

static void out_str(struct out *o, const char *s, int width, int prec,
		    int flags)
{
	size_t len;

	if (!s)
		s = "(null)";
	len = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
	if (!(flags & F_LEFT))
		out_pad(o, ' ', width - (int)len);
	for (size_t i = 0; i < len; i++)
		out_char(o, s[i]);
	if (flags & F_LEFT)
		out_pad(o, ' ', width - (int)len);
}

static void out_num(struct out *o, unsigned long long v, bool neg,
		    unsigned int base, bool upper, int width, int prec,
		    int flags)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, zeros, pad;
	char sign = 0;
	const char *prefix = "";

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (n == 0 && prec != 0)
		tmp[n++] = '0';
	if (neg)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';
	if ((flags & F_ALT) && base == 16 && !(n == 1 && tmp[0] == '0'))
		prefix = upper ? "0X" : "0x";
	else if ((flags & F_ALT) && base == 8 && tmp[n - 1] != '0')
		prefix = "0";

	zeros = prec > n ? prec - n : 0;
	pad = width - n - zeros - (sign ? 1 : 0) - (int)strlen(prefix);
	if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0) {
		zeros += pad > 0 ? pad : 0;
		pad = 0;
	}
	if (!(flags & F_LEFT))
		out_pad(o, ' ', pad);
	if (sign)
		out_char(o, sign);
	for (const char *p = prefix; *p; p++)
		out_char(o, *p);
	out_pad(o, '0', zeros);
	while (n)
		out_char(o, tmp[--n]);
	if (flags & F_LEFT)
		out_pad(o, ' ', pad);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int flags = 0, width = 0, prec = -1, lng = 0;
		unsigned long long u;
		long long s;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				flags |= F_LEFT;
			else if (*fmt == '0')
				flags |= F_ZERO;
			else if (*fmt == '+')
				flags |= F_PLUS;
			else if (*fmt == ' ')
				flags |= F_SPACE;
			else if (*fmt == '#')
				flags |= F_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long, 2 long long */
		if (*fmt == 'h') {
			lng = -1;
			if (*++fmt == 'h') {
				lng = -2;
				fmt++;
			}
		} else if (*fmt == 'l') {
			lng = 1;
			if (*++fmt == 'l') {
				lng = 2;
				fmt++;
			}
		} else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
			lng = 2;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng == 2)
				s = va_arg(ap, long long);
			else if (lng == 1)
				s = va_arg(ap, long);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng == -2)
				s = (signed char)s;
			u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
			out_num(&o, u, s < 0, 10, false, width, prec, flags);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng == 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng == -2)
				u = (unsigned char)u;
			out_num(&o, u, false,
				*fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				*fmt == 'X', width, prec, flags & ~(F_PLUS | F_SPACE));
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			out_num(&o, u, false, 16, false, width, prec,
				flags | F_ALT);
			break;
		case 'c':
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - 1);
			out_char(&o, (char)va_arg(ap, int));
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - 1);
			break;
		case 's':
			out_str(&o, va_arg(ap, const char *), width, prec, flags);
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;	/* lone '%' at the end: stop at the NUL */
			break;
		default:	/* unknown conversion: print it as is */
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
