/*
 * console.c - the kernel console: one lock, one driver
 *
 * Before the FDT's UART is up, text goes to the SBI legacy console
 * (OpenSBI 1.1 has no DBCN). console_lock makes each console_write a unit,
 * so lines from different harts never mix. In panic mode the lock is no
 * longer taken: the dying hart must be able to print even if another hart
 * stopped while holding it.
 */
#include <kern/console.h>
#include <kern/spinlock.h>
#include <sbi/sbi.h>

/* console_lock protects the UART's transmit side and `drv` changes. */
static struct spinlock console_lock = SPINLOCK_INIT(LOCK_CLASS_CONSOLE);
static const struct console_ops *drv;	/* console_lock */
static bool panic_mode;			/* set once, never cleared */

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
	write_locked(s, n);
	spin_unlock(&console_lock);
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

	if (d && d->getc)
		return d->getc(d->ctx);
	return -1;
}
