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
 *   serve x2 receive CONSOLE_WRITE (print the payload as one unit),
 *            CONSOLE_READ (wait for a whole line, answer with it),
 *            CONSOLE_INTR and CONSOLE_FLUSH. Two, so that writes go on
 *            while a reader waits for a line.
 * The UART's transmit side is one lock (tx_lock): whole lines, never
 * characters, interleave.
 *
 * Text taken is text that a kill loses: what SYS_KLOG_READ took out of
 * the kernel's log, and a CONSOLE_WRITE's payload, until they are printed.
 * CONSOLE_FLUSH answers only once all of it is printed, so that init can
 * kill us at shutdown without losing its last lines (docs/servers.md).
 */
#include <proto.h>
#include <uart16550.h>

#define EV_UART		0x1
#define EV_KLOG		0x2
#define LINE_MAX	200
#define LINES_MAX	8
#define SERVERS		2		/* serve threads */
/* The kernel's log ring (docs/abi.md, "The console hand-over"): a flush
 * reads at most this much, all that was in it when the flush began. */
#define KLOG_SIZE	16384
#define KLOG_ALL	((size_t)-1)

static struct uart16550 uart;
static long dev, ep, events;

static int tx_lock;				/* atomic */
static int line_lock;				/* atomic */
static char lines[LINES_MAX][LINE_MAX + 1];	/* complete input lines */
static unsigned int lines_head, lines_tail;	/* line_lock */
static long line_ready;				/* notification */
static unsigned int intr;			/* atomic: ^C seen */

/*
 * klog_lock is held from SYS_KLOG_READ until that text is printed: one
 * reader at a time, so the log's text keeps its order, and a flush that
 * holds it knows that nothing read is still unprinted. klog_hold
 * (klog_lock): CONSOLE_FLUSH_HOLD was asked, read no more.
 */
static int klog_lock;				/* atomic */
static bool klog_hold;				/* klog_lock */
/*
 * writing[i]: odd while serve thread i prints a CONSOLE_WRITE (written by
 * thread i only, read by a flush on the other; release/acquire: a flush
 * that sees it move on sees the write printed).
 */
static unsigned long writing[SERVERS];		/* atomic */

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

/*
 * drain_klog - print the kernel log's new text, at most @max bytes
 *
 * Locks: takes and drops klog_lock; tx_lock for each chunk (put).
 */
static void drain_klog(size_t max)
{
	char buf[256];
	size_t done = 0;
	long n;

	lock(&klog_lock);
	while (!klog_hold && done < max &&
	       (n = sys_klog_read(buf, MIN(sizeof(buf), max - done))) > 0) {
		put(buf, (size_t)n);
		done += (size_t)n;
	}
	unlock(&klog_lock);
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
			drain_klog(KLOG_ALL);
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

/*
 * flush - CONSOLE_FLUSH from @caller (a pid) on serve thread @self
 *
 * The log's text is read and printed first, at most KLOG_SIZE bytes: all
 * it held when we began, however fast others add to it. Then the other
 * serve thread's write, if it is printing one, is waited for (a write it
 * has received but not begun is concurrent with the flush: either order
 * is right). Last, the UART's transmitter is let run empty.
 *
 * Locks: klog_lock (in drain_klog, and to set klog_hold); tx_lock.
 * Return: 0, -E_INVAL, -E_PERM.
 */
static long flush(unsigned long flags, long caller, unsigned int self)
{
	if (flags & ~(unsigned long)CONSOLE_FLUSH_HOLD)
		return -E_INVAL;
	/* Holding the log is for shutdown: nobody else may stop it. */
	if ((flags & CONSOLE_FLUSH_HOLD) && caller != 1)
		return -E_PERM;
	drain_klog(KLOG_SIZE);
	if (flags & CONSOLE_FLUSH_HOLD) {
		lock(&klog_lock);
		klog_hold = true;
		unlock(&klog_lock);
	}
	for (unsigned int i = 0; i < SERVERS; i++) {
		unsigned long w = __atomic_load_n(&writing[i], __ATOMIC_ACQUIRE);

		if (i == self || !(w & 1))
			continue;
		while (__atomic_load_n(&writing[i], __ATOMIC_ACQUIRE) == w)
			sys_yield();
	}
	lock(&tx_lock);
	uart_drain(&uart);
	unlock(&tx_lock);
	return 0;
}

static void serve_fn(void *arg)
{
	unsigned int self = (unsigned int)(unsigned long)arg;
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
		if (m.info & IPC_INFO_HANDLE)	/* no request takes one */
			sys_handle_close((long)m.w[3]);
		if (label == CONSOLE_WRITE) {
			unsigned long n = m.w[0];

			if (n > IPC_INFO_LEN(m.info) * 8) {
				status = -E_INVAL;
			} else {
				/* Odd while printing (flush); only we write
				 * it, so a plain add is enough. */
				__atomic_store_n(&writing[self],
						 writing[self] + 1,
						 __ATOMIC_RELAXED);
				put((const char *)buf, n);
				__atomic_store_n(&writing[self],
						 writing[self] + 1,
						 __ATOMIC_RELEASE);
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
		} else if (label == CONSOLE_FLUSH) {
			status = flush(m.w[0], (long)(m.sender >> 32), self);
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
	drain_klog(KLOG_ALL);
	thread_spawn(events_fn, NULL, -1);
	for (unsigned long i = 0; i < SERVERS; i++)
		thread_spawn(serve_fn, (void *)i, -1);
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
