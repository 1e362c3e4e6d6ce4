/*
 * console.c - the console server: it owns the console UART (a user-space
 * 16550 / DesignWare UART driver), prints every process's output and the
 * kernel's log without mixing lines, and hands typed lines to the reader
 * (the shell).
 *
 * Started by init with the name server as HANDLE_SPAWN. It looks up the
 * UART that init registered as "dev:console", maps it (the kernel then
 * writes its messages, and every SYS_DEBUG_WRITE, into its log instead of
 * the UART), binds the UART's interrupt and the kernel log to one
 * notification, and registers its endpoint as "console".
 *
 * Threads:
 *   events   waits for the notification: UART input (echoed, edited with
 *            backspace and ^U, queued a line at a time) and new kernel
 *            log text (printed a line at a time);
 *   serve x2 receive CONSOLE_WRITE (print the payload as one unit) and
 *            CONSOLE_READ (wait for a whole line, answer with it). Two,
 *            so that writes go on while a reader waits for a line.
 * The UART's transmit side is one lock (tx_lock): whole lines, never
 * characters, interleave.
 */
#include <proto.h>
#include <uart16550.h>

#define EV_UART		0x1
#define EV_KLOG		0x2
#define LINE_MAX	200
#define LINES_MAX	8

static struct uart16550 uart;
static long dev, ep, events;

static int tx_lock;				/* atomic */
static int line_lock;				/* atomic */
static char lines[LINES_MAX][LINE_MAX + 1];	/* complete input lines */
static unsigned int lines_head, lines_tail;	/* line_lock */
static long line_ready;				/* notification */
static unsigned int intr;			/* atomic: ^C seen */

static void lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		sys_yield();
}

static void unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* Print @n bytes as one unit: lines of different writers never mix. */
static void put(const char *s, size_t n)
{
	lock(&tx_lock);
	uart_write(&uart, s, n);
	unlock(&tx_lock);
}

/* ---- input ---------------------------------------------------------------- */

static char edit[LINE_MAX + 1];
static size_t edit_len;

static void queue_line(void)
{
	lock(&line_lock);
	if (lines_head - lines_tail < LINES_MAX) {
		edit[edit_len] = 0;
		memcpy(lines[lines_head++ % LINES_MAX], edit, edit_len + 1);
	}			/* else the reader is far behind: drop it */
	unlock(&line_lock);
	edit_len = 0;
	sys_notify_signal(line_ready, 1);
}

static void input(char c)
{
	if (c == '\r' || c == '\n') {
		put("\n", 1);
		edit[edit_len++] = '\n';
		queue_line();
	} else if (c == 0x7f || c == '\b') {
		if (edit_len) {
			edit_len--;
			put("\b \b", 3);
		}
	} else if (c == 0x03) {			/* ^C: for CONSOLE_INTR */
		put("^C\n", 3);
		edit_len = 0;
		__atomic_store_n(&intr, 1, __ATOMIC_RELEASE);
	} else if (c == 0x15) {			/* ^U: the whole line */
		while (edit_len) {
			edit_len--;
			put("\b \b", 3);
		}
	} else if (c >= ' ' && c < 0x7f && edit_len < LINE_MAX - 1) {
		edit[edit_len++] = c;
		put(&c, 1);
	}
}

/* ---- the kernel's log ------------------------------------------------------ */

static void drain_klog(void)
{
	char buf[256];
	long n;

	while ((n = sys_klog_read(buf, sizeof(buf))) > 0)
		put(buf, (size_t)n);
}

static void events_fn(void *arg)
{
	unsigned long bits;

	for (;;) {
		if (sys_notify_wait(events, &bits, 0))
			continue;
		if (bits & EV_UART) {
			while (uart_rd(&uart, UART_LSR) & UART_LSR_DR)
				input((char)uart_rd(&uart, UART_RBR));
			sys_irq_ack(dev);
		}
		if (bits & EV_KLOG)
			drain_klog();
	}
}

/* ---- requests -------------------------------------------------------------- */

static long take_line(unsigned long *buf, unsigned long max)
{
	unsigned long bits;
	size_t n;

	for (;;) {
		lock(&line_lock);
		if (lines_tail != lines_head) {
			const char *l = lines[lines_tail++ % LINES_MAX];

			n = strlen(l);
			if (n > max)
				n = max;
			memcpy(buf, l, n);
			unlock(&line_lock);
			return (long)n;
		}
		unlock(&line_lock);
		sys_notify_wait(line_ready, &bits, 0);
	}
}

static void serve_fn(void *arg)
{
	unsigned long *buf = ipc_buffer_new();
	struct ipc_msg m;
	long r;

	if (!buf)
		sys_thread_exit(1);
	r = ipc_recv(ep, &m, 0);
	for (;;) {
		unsigned long label = IPC_INFO_LABEL(m.info), len = 0;
		long status;

		if (r) {
			r = ipc_recv(ep, &m, 0);
			continue;
		}
		if (label == CONSOLE_WRITE) {
			unsigned long n = m.w[0];

			if (n > IPC_INFO_LEN(m.info) * 8) {
				status = -E_INVAL;
			} else {
				put((const char *)buf, n);
				status = (long)n;
			}
		} else if (label == CONSOLE_READ) {
			unsigned long max = m.w[0];

			if (max > IPC_BUF_WORDS * 8)
				max = IPC_BUF_WORDS * 8;
			status = take_line(buf, max);
			len = ((unsigned long)status + 7) / 8;
		} else if (label == CONSOLE_INTR) {
			status = __atomic_exchange_n(&intr, 0, __ATOMIC_ACQ_REL);
		} else {
			status = -E_NOSYS;
		}
		m.info = IPC_INFO(0, len, 0);
		m.w[0] = (unsigned long)status;
		r = ipc_reply_recv(ep, &m, 0);
	}
}

int main(int argc, char **argv)
{
	struct rivet_device_info info;
	unsigned long *buf = ipc_buffer_new();
	long va;

	if (!buf)
		return 3;
	dev = ns_lookup_wait(HANDLE_SPAWN, buf, "dev:console", 2000000000UL);
	if (dev < 0 || sys_device_info(dev, &info)) {
		printf("console: no console UART (dev:console): %s\n",
		       errno_name((int)dev));
		return 1;
	}
	uart.shift = info.reg_shift;
	uart.width = info.reg_io_width;
	events = sys_notify_create();
	line_ready = sys_notify_create();
	ep = sys_endpoint_create();
	if (events < 0 || line_ready < 0 || ep < 0)
		return 3;
	va = sys_device_map(dev, 0);
	if (va < 0) {
		printf("console: cannot map the UART: %s\n",
		       errno_name((int)va));
		return 1;
	}
	uart.base = (volatile unsigned char *)va;
	/* From here on the kernel's text reaches the screen through us. */
	if (sys_irq_bind(dev, events, EV_UART) ||
	    sys_klog_bind(events, EV_KLOG))
		return 3;
	uart_wr(&uart, UART_IER, UART_IER_RDA);
	drain_klog();
	thread_spawn(events_fn, NULL, -1);
	thread_spawn(serve_fn, NULL, -1);
	thread_spawn(serve_fn, NULL, -1);
	if (ns_register(HANDLE_SPAWN, buf, "console", ep,
			HANDLE_R_SEND | HANDLE_R_GRANT, 2000000000UL))
		printf("console: could not register with the name server\n");
	printf("console: serving the UART at %#lx (%s), irq %u\n",
	       info.base, info.compatible, info.irq);
	for (;;) {
		long next = 0;

		sys_sleep(NS_REFRESH_NS);
		ns_refresh(HANDLE_SPAWN, buf, "console", ep,
			   HANDLE_R_SEND | HANDLE_R_GRANT, &next);
	}
}
