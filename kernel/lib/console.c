/*
 * console.c - the kernel console: one lock, one driver
 *
 * Before the FDT's UART is up, text goes to the SBI legacy console
 * (OpenSBI 1.1 has no DBCN). console_lock makes each console_write a unit,
 * so lines from different harts never mix. In panic mode the lock is no
 * longer taken: the dying hart must be able to print even if another hart
 * stopped while holding it.
 *
 * Once a user console server maps the console UART (console_hand_over),
 * text goes to a log ring instead, which the server drains with
 * SYS_KLOG_READ; a panic still writes to the UART directly.
 */
#include <kern/console.h>
#include <kern/spinlock.h>
#include <sbi/sbi.h>

/* console_lock protects the UART's transmit side and `drv` changes. */
static struct spinlock console_lock = SPINLOCK_INIT(LOCK_CLASS_CONSOLE);
static const struct console_ops *drv;	/* console_lock */
static bool panic_mode;			/* set once, never cleared */

/* The log ring after the hand-over: console_lock; head and tail count
 * bytes ever written and read (the ring keeps the last LOG_SIZE). */
#define LOG_SIZE	16384
static bool handed_over;		/* atomic; set once */
static char log_ring[LOG_SIZE];
static unsigned long log_head, log_tail;
static unsigned int log_pending;	/* atomic: text since the last tick */

static void put(char c)
{
	if (drv)
		drv->putc(drv->ctx, c);
	else
		sbi_console_putchar(c);
}

static void write_locked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
}

void console_write(const char *s, size_t n)
{
	if (__atomic_load_n(&panic_mode, __ATOMIC_ACQUIRE)) {
		write_locked(s, n);
		return;
	}
	spin_lock(&console_lock);
	if (__atomic_load_n(&handed_over, __ATOMIC_RELAXED)) {
		for (size_t i = 0; i < n; i++)
			log_ring[log_head++ % LOG_SIZE] = s[i];
		if (log_head - log_tail > LOG_SIZE)
			log_tail = log_head - LOG_SIZE;	/* lost the oldest */
		__atomic_store_n(&log_pending, 1, __ATOMIC_RELAXED);
	} else {
		write_locked(s, n);
	}
	spin_unlock(&console_lock);
}

void console_hand_over(void)
{
	spin_lock(&console_lock);
	__atomic_store_n(&handed_over, true, __ATOMIC_RELEASE);
	spin_unlock(&console_lock);
}

void console_take_back(void)
{
	spin_lock(&console_lock);
	if (__atomic_load_n(&handed_over, __ATOMIC_RELAXED)) {
		/* What nobody printed yet comes out first. */
		while (log_tail < log_head) {
			char c = log_ring[log_tail++ % LOG_SIZE];

			write_locked(&c, 1);
		}
		__atomic_store_n(&handed_over, false, __ATOMIC_RELEASE);
	}
	spin_unlock(&console_lock);
}

bool console_handed_over(void)
{
	return __atomic_load_n(&handed_over, __ATOMIC_ACQUIRE);
}

bool console_log_pending(void)
{
	return __atomic_exchange_n(&log_pending, 0, __ATOMIC_RELAXED);
}

size_t console_log_read(char *buf, size_t len)
{
	size_t n = 0;

	spin_lock(&console_lock);
	while (n < len && log_tail < log_head)
		buf[n++] = log_ring[log_tail++ % LOG_SIZE];
	spin_unlock(&console_lock);
	return n;
}

void console_set_driver(const struct console_ops *ops)
{
	spin_lock(&console_lock);
	drv = ops;
	spin_unlock(&console_lock);
}

void console_panic_mode(void)
{
	__atomic_store_n(&panic_mode, true, __ATOMIC_RELEASE);
}

int console_getc(void)
{
	const struct console_ops *d = __atomic_load_n(&drv, __ATOMIC_ACQUIRE);

	if (console_handed_over())
		return -1;	/* the UART is the console server's */
	if (d && d->getc)
		return d->getc(d->ctx);
	return -1;
}
