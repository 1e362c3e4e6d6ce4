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
#include <uart16550.h>

static struct uart16550 uart;

static void put(const char *s)
{
	uart_write(&uart, s, strlen(s));
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
	uart.shift = info.reg_shift;
	uart.width = info.reg_io_width;
	r = sys_device_map(con, 0);
	if (r < 0)
		return 2;
	uart.base = (volatile unsigned char *)r;
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
	uart_wr(&uart, UART_IER, UART_IER_RDA);
	put("devtest: press a key\n");
	r = sys_notify_wait(n, &bits, 5000000000UL);
	if (r == 0) {
		while (uart_rd(&uart, UART_LSR) & UART_LSR_DR)
			putf("devtest: got '%c' by interrupt\n",
			     uart_rd(&uart, UART_RBR));
		sys_irq_ack(con);
	} else {
		putf("devtest: no key (%s)\n", errno_name((int)r));
	}
	uart_wr(&uart, UART_IER, 0);
	drain_klog();
	return 0;
}
