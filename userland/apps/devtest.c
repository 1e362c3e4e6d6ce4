/*
 * devtest.c - a user-space UART driver, end to end: run as the first
 * process (init=devtest), it lists the devices it was given, maps the
 * console UART (which hands the console over), writes to it directly,
 * prints the kernel's log itself, and takes input through the UART's
 * interrupt bound to a notification.
 *
 * Output (tests/system/test_devices.py reads it):
 *   devtest: device <handle> <compatible> <path> base=<hex> irq=<n> [console]
 *   devtest: own UART at <hex>             (written by the kernel, last)
 *   devtest: this line went straight to the UART
 *   devtest: klog: <a kernel line>         (each logged line, by us)
 *   devtest: got '<c>' by interrupt        (if a key came within 5 s)
 * Exit status: 0, or what failed (1 no UART, 2 map, 3 bind).
 */
#include <rivet.h>

static volatile unsigned char *uart;
static unsigned int shift, width;

static unsigned int rd(unsigned int reg)
{
	if (width == 4)
		return *(volatile uint32_t *)(uart + (reg << shift));
	return uart[reg << shift];
}

static void wr(unsigned int reg, unsigned int v)
{
	if (width == 4)
		*(volatile uint32_t *)(uart + (reg << shift)) = v;
	else
		uart[reg << shift] = (unsigned char)v;
}

/* 16550 registers: THR/RBR 0, IER 1, LSR 5 (THRE bit 5, DR bit 0). */
static void put(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			put("\r");
		while (!(rd(5) & 0x20))
			;
		wr(0, (unsigned char)*s);
	}
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void putf(const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put(line);
}

/* Print what the kernel logged since the hand-over, line by line. */
static void drain_klog(void)
{
	static char buf[1024];
	static size_t have;
	long n;

	while ((n = sys_klog_read(buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *nl;

		have += (size_t)n;
		buf[have] = 0;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			putf("devtest: klog: %s\n", line);
			line = nl + 1;
		}
		have = strlen(line);
		memmove(buf, line, have);
	}
}

int main(int argc, char **argv)
{
	struct rivet_device_info info;
	long con = -1, n, r;
	unsigned long bits;

	for (long h = HANDLE_SPAWN; sys_handle_info(h) > 0; h += 1) {
		if ((sys_handle_info(h) >> 16) != HANDLE_T_DEVICE ||
		    sys_device_info(h, &info))
			continue;
		printf("devtest: device %#lx %s %s base=%#lx irq=%u%s\n", h,
		       info.compatible, info.path, info.base, info.irq,
		       info.console ? " console" : "");
		if (info.console)
			con = h;
	}
	if (con < 0)
		return 1;
	sys_device_info(con, &info);
	shift = info.reg_shift;
	width = info.reg_io_width;
	r = sys_device_map(con, 0);
	if (r < 0)
		return 2;
	uart = (volatile unsigned char *)r;
	/* The kernel writes this to its log now, not to the UART. */
	printf("devtest: own UART at %#lx\n", (unsigned long)r);
	put("devtest: this line went straight to the UART\n");
	/* A child that faults: its report line is a kernel message. */
	n = sys_spawn("fault", 0);
	if (n > 0)
		sys_wait(n);
	drain_klog();
	n = sys_notify_create();
	if (n < 0 || sys_irq_bind(con, n, 1))
		return 3;
	wr(1, 0x01);		/* IER: received data available */
	put("devtest: press a key\n");
	r = sys_notify_wait(n, &bits, 5000000000UL);
	if (r == 0) {
		while (rd(5) & 0x01)
			putf("devtest: got '%c' by interrupt\n", rd(0));
		sys_irq_ack(con);
	} else {
		putf("devtest: no key (%s)\n", errno_name((int)r));
	}
	wr(1, 0);
	drain_klog();
	return 0;
}
