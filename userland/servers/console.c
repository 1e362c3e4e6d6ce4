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
 *            backspace and ^U, escape sequences such as arrow keys
 *            skipped, queued a line at a time) and new kernel log text
 *            (printed a line at a time);
 *   serve x2 receive CONSOLE_WRITE (print the payload as one unit),
 *            CONSOLE_READ (show its prompt, wait for a whole line, answer
 *            with it), CONSOLE_INTR and CONSOLE_FLUSH. Two, so that
 *            writes go on while a reader waits for a line.
 * The UART's transmit side is one lock (tx_lock): whole lines, never
 * characters, interleave.
 *
 * The line being typed stays at the bottom of the screen: the waiting
 * reader's prompt and what has been typed so far (the edit line). Text
 * printed meanwhile goes above it: the edit line is hidden (the cursor
 * goes back over it, ESC [ n D, and the rest of the screen line is
 * erased, ESC [ K), the text printed, and the edit line shown again after
 * it. So a kernel message no longer lands in the middle of a command
 * being typed. (A terminal narrower than the text before the cursor
 * wraps it, and the cursor cannot go back past the wrap: the part on
 * the row above then stays, as it was before this redraw.)
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
#define PROMPT_MAX	64		/* CONSOLE_READ's prompt, bytes */
/* How often a waiting read looks whether its reader is still there. */
#define READ_CHECK_NS	(500 * 1000000UL)
#define LINES_MAX	8
#define SERVERS		2		/* serve threads */
/* The kernel's log ring (docs/abi.md, "The console hand-over"): a flush
 * reads at most this much, all that was in it when the flush began. */
#define KLOG_SIZE	16384
#define KLOG_ALL	((size_t)-1)

static struct uart16550 uart;
static long dev, ep, events;

/* Lock order: tx_lock before line_lock (input: Enter queues the line
 * under both; take_line shows the prompt under both). */
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

/*
 * The edit line: the prompt of the reader that waits (CONSOLE_READ's;
 * cleared when Enter ends the line) and the bytes typed so far, all
 * printable, so that each takes one column. Locks: tx_lock, for both
 * (and what the screen shows of them).
 */
static char prompt[PROMPT_MAX];
static size_t prompt_len;
static unsigned int prompt_owner;	/* the serve thread that showed it */
static char edit[LINE_MAX + 1];
static size_t edit_len;

/* Move the cursor back @cols columns and erase from there to the end of
 * the screen line. Locks: tx_lock held. */
static void erase_back(size_t cols)
{
	char seq[32];
	int n;

	if (!cols)		/* ESC [ 0 D moves one column */
		return;
	n = snprintf(seq, sizeof(seq), "\x1b[%luD\x1b[K", (unsigned long)cols);
	uart_write(&uart, seq, (size_t)n);
}

/* The edit line off the screen, and back (after it, the cursor is where
 * the next typed byte is echoed). Locks: tx_lock held. */
static void edit_hide(void)
{
	erase_back(prompt_len + edit_len);
}

static void edit_show(void)
{
	uart_write(&uart, prompt, prompt_len);
	uart_write(&uart, edit, edit_len);
}

/* Print @n bytes as one unit: lines of different writers never mix, and
 * the edit line stays below them. */
static void put(const char *s, size_t n)
{
	lock(&tx_lock);
	edit_hide();
	uart_write(&uart, s, n);
	edit_show();
	unlock(&tx_lock);
}

/* ---- input ---------------------------------------------------------------- */

/* Enter: the edit line becomes an input line, and its prompt is spent.
 * Locks: tx_lock held; takes line_lock. */
static void queue_line(void)
{
	edit[edit_len++] = '\n';
	edit[edit_len] = 0;
	lock(&line_lock);
	if (lines_head - lines_tail < LINES_MAX)
		memcpy(lines[lines_head++ % LINES_MAX], edit, edit_len + 1);
	/* else the reader is far behind: drop it */
	unlock(&line_lock);
	edit_len = 0;
	prompt_len = 0;
}

/* One typed byte: echo and edit. Locks: takes tx_lock. */
static void input(char c)
{
	static int esc;		/* in ESC [ ... (events thread only) */
	bool line = false;

	if (esc) {		/* arrow keys and the like: skipped whole */
		if (esc == 1 && c != '[')
			esc = 0;
		else if (esc++ > 1 && c >= 0x40 && c <= 0x7e)
			esc = 0;
		return;
	}
	lock(&tx_lock);
	if (c == 0x1b) {
		esc = 1;
	} else if (c == '\r' || c == '\n') {
		uart_write(&uart, "\n", 1);
		queue_line();
		line = true;
	} else if (c == 0x7f || c == '\b') {
		if (edit_len) {
			edit_len--;
			uart_write(&uart, "\b \b", 3);
		}
	} else if (c == 0x03) {			/* ^C: for CONSOLE_INTR */
		/* The line is dropped; a reader still waits: its prompt
		 * again, on a new line. */
		uart_write(&uart, "^C\n", 3);
		edit_len = 0;
		edit_show();
		__atomic_store_n(&intr, 1, __ATOMIC_RELEASE);
	} else if (c == 0x15) {			/* ^U: the whole line */
		erase_back(edit_len);
		edit_len = 0;
	} else if (c >= ' ' && c < 0x7f && edit_len < LINE_MAX - 1) {
		edit[edit_len++] = c;
		uart_write(&uart, &c, 1);
	}
	unlock(&tx_lock);
	if (line)
		sys_notify_signal(line_ready, 1);
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

/* The next input line, at most @max bytes of it, into @buf. Locks: takes
 * line_lock. Return: its length, or -1 if there is none yet. */
static long line_take(unsigned long *buf, unsigned long max)
{
	long n = -1;

	lock(&line_lock);
	if (lines_tail != lines_head) {
		const char *l = lines[lines_tail++ % LINES_MAX];

		n = (long)MIN(strlen(l), max);
		memcpy(buf, l, (size_t)n);
	}
	unlock(&line_lock);
	return n;
}

/* Is process @pid there and not ending? */
static bool alive(long pid)
{
	struct rivet_proc_info pi;

	return sys_proc_find(pid, &pi) == 0 && !pi.exiting;
}

/*
 * take_line - CONSOLE_READ from process @caller on serve thread @self:
 * the next whole line, at most @max bytes of it, into @buf, with @plen
 * bytes at @p (printable, at most PROMPT_MAX) as the prompt while it
 * waits
 *
 * The prompt is shown only if no line is queued yet (one typed ahead is
 * answered at once), under both locks, so that Enter cannot queue a line
 * in between and leave the prompt shown with no reader to spend it. The
 * kernel log is printed first: what the reader printed before it asked
 * (its output goes through the log) comes before its prompt.
 *
 * A reader that ends while it waits (the shell kills a program at ^C)
 * must not take the next line, nor keep this thread: every wake-up, and
 * every READ_CHECK_NS, looks whether @caller is still there. If not, its
 * prompt goes, the wake-up it may have taken is passed on, and the read
 * ends with -E_INTR (a reply nobody receives).
 *
 * Locks: klog_lock (drain_klog), tx_lock and line_lock.
 * Return: the line's length (its '\n' included), or -E_INTR.
 */
static long take_line(unsigned long *buf, unsigned long max, const char *p,
		      size_t plen, long caller, unsigned int self)
{
	unsigned long bits;
	long n;

	drain_klog(KLOG_SIZE);
	lock(&tx_lock);
	n = line_take(buf, max);
	if (n < 0) {
		edit_hide();
		memcpy(prompt, p, plen);
		prompt_len = plen;
		prompt_owner = self;
		edit_show();
	}
	unlock(&tx_lock);
	while (n < 0) {
		sys_notify_wait(line_ready, &bits, READ_CHECK_NS);
		if (!alive(caller)) {
			lock(&tx_lock);
			if (prompt_len && prompt_owner == self) {
				edit_hide();
				prompt_len = 0;
				edit_show();
			}
			unlock(&tx_lock);
			sys_notify_signal(line_ready, 1);
			return -E_INTR;
		}
		n = line_take(buf, max);
	}
	return n;
}

/* CONSOLE_READ's prompt: @n bytes at @s, printable, at most PROMPT_MAX. */
static bool prompt_ok(const char *s, unsigned long n)
{
	if (n > PROMPT_MAX)
		return false;
	for (unsigned long i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] >= 0x7f)
			return false;
	return true;
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
			unsigned long max = MIN(m.w[0], IPC_BUF_WORDS * 8);
			unsigned long plen = m.w[1];
			char p[PROMPT_MAX];

			if (plen > IPC_INFO_LEN(m.info) * 8 ||
			    !prompt_ok((const char *)buf, plen)) {
				status = -E_INVAL;
			} else {
				/* The line comes back in the same buffer. */
				memcpy(p, buf, plen);
				status = take_line(buf, max, p, plen,
						   (long)(m.sender >> 32), self);
				len = status < 0 ? 0 :
				      ((unsigned long)status + 7) / 8;
			}
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
