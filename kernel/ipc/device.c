/*
 * device.c - device objects: registers a user driver maps, interrupts it
 * receives as notifications, and the kernel log the console server prints
 * once it owns the console UART
 *
 * At boot every enabled device-tree node with a compatible and registers
 * becomes a device object, except what the kernel keeps (memory, cpus,
 * the PLIC, timers). The first process gets a handle to each.
 *
 * struct device
 *
 * Locking: compatible, path, base, size, irq, console immutable after
 * devices_init. notify, bits, pending, ctx under lock (rank 64, ipc; the
 * interrupt path takes it with interrupts off like every spinlock).
 *
 * klog_lock (rank 60, misc) protects klog_notify and klog_bits; the log
 * ring itself is the console's (console_lock).
 */
#include <kern/ipc.h>
#include <kern/arch.h>
#include <kern/console.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/proc.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <abi/syscall.h>
#include <arch/trap.h>
#include <arch/uaccess.h>
#include <plat/bootinfo.h>
#include <plat/dt.h>
#include <plat/plic.h>
#include <mm/frame.h>

#define DEVICES_MAX	32

struct device {
	struct kobj obj;
	struct spinlock lock;
	char compatible[32];
	char path[64];
	paddr_t base;
	uint64_t size;
	uint32_t irq;
	uint32_t reg_shift, reg_io_width;
	bool console;
	struct kobj *notify;	/* bound notification (a reference) */
	unsigned long bits;
	bool pending;		/* claimed, not acknowledged yet */
	int ctx;		/* PLIC context that claimed it */
};

#define to_dev(o)	container_of(o, struct device, obj)

static struct kobj *devices[DEVICES_MAX];	/* immutable after init */
static unsigned int ndevices;

static struct spinlock klog_lock = SPINLOCK_INIT(LOCK_CLASS_MISC);
static struct kobj *klog_notify;
static unsigned long klog_bits;

/* What the kernel keeps: timers, the interrupt controllers, memory. */
static bool kernel_keeps(const struct dt *dt, int node)
{
	static const char *const kept[] = {
		"riscv,plic0", "sifive,plic-1.0.0", "starfive,jh7110-plic",
		"riscv,clint0", "sifive,clint0", "riscv,aclint-mswi",
		"riscv,aclint-mtimer", "riscv,cpu-intc", "riscv",
	};
	const char *type = dt_prop_str(dt, node, "device_type");

	if (type && (!strcmp(type, "memory") || !strcmp(type, "cpu")))
		return true;
	for (unsigned int i = 0; i < ARRAY_SIZE(kept); i++)
		if (dt_is_compatible(dt, node, kept[i]))
			return true;
	return false;
}

void devices_init(const struct dt *dt, const struct boot_info *bi)
{
	for (int node = dt_next_node(dt, dt_root(dt)); node >= 0;
	     node = dt_next_node(dt, node)) {
		const char *compat = dt_prop_str(dt, node, "compatible");
		uint64_t base, size;
		struct device *d;
		struct frame *f;
		uint32_t irq = 0;

		if (!compat || !dt_is_enabled(dt, node) ||
		    kernel_keeps(dt, node) ||
		    dt_reg(dt, node, 0, &base, &size) || !size)
			continue;
		if (ndevices == DEVICES_MAX) {
			printk("devices: more than %d; the rest are not "
			       "handed out\n", DEVICES_MAX);
			break;
		}
		f = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
		if (!f)
			break;
		d = frame_to_kva(f);
		d->obj.type = KOBJ_DEVICE;
		d->obj.refs = 1;	/* the table's, forever */
		spin_init(&d->lock, LOCK_CLASS_IPC);
		strlcpy(d->compatible, compat, sizeof(d->compatible));
		dt_node_path(dt, node, d->path, sizeof(d->path));
		d->base = base;
		d->size = ALIGN_UP(size + (base & (PAGE_SIZE - 1)), PAGE_SIZE);
		dt_prop_u32(dt, node, "interrupts", &irq);
		d->irq = irq;
		d->reg_io_width = 1;
		dt_prop_u32(dt, node, "reg-shift", &d->reg_shift);
		dt_prop_u32(dt, node, "reg-io-width", &d->reg_io_width);
		d->console = bi->uart.found && base == bi->uart.base;
		devices[ndevices++] = &d->obj;
	}
	printk("devices: %u handed to the first process\n", ndevices);
}

unsigned int devices_list(struct kobj *const **list)
{
	*list = devices;
	return ndevices;
}

/* The interrupt path (plic_handle): a source a user driver bound. */
bool device_irq(uint32_t src, int ctx)
{
	for (unsigned int i = 0; i < ndevices; i++) {
		struct device *d = to_dev(devices[i]);
		struct kobj *n = NULL;
		unsigned long bits = 0;

		if (d->irq != src)
			continue;
		spin_lock(&d->lock);
		if (d->notify) {
			n = d->notify;
			bits = d->bits;
			kobj_get(n);
			d->pending = true;
			d->ctx = ctx;
		}
		spin_unlock(&d->lock);
		if (!n)
			return false;
		notify_signal(n, bits);
		kobj_put(n);
		return true;
	}
	return false;
}

/* The timer tick: tell the console server the log has new text. */
void klog_tick(void)
{
	struct kobj *n = NULL;
	unsigned long bits = 0;

	if (!console_log_pending())
		return;
	spin_lock(&klog_lock);
	if (klog_notify) {
		n = klog_notify;
		bits = klog_bits;
		kobj_get(n);
	}
	spin_unlock(&klog_lock);
	if (n) {
		notify_signal(n, bits);
		kobj_put(n);
	}
}

static long device_map(struct proc *p, struct device *d, vaddr_t addr)
{
	long err = as_region_add_at(p->as, &addr, d->size,
				    AS_PROT_R | AS_PROT_W | AS_PROT_USER,
				    AS_PAGER_DEVICE, ALIGN_DOWN(d->base,
								 PAGE_SIZE),
				    MAP_BASE);

	if (err)
		return err;
	if (d->console) {
		printk("console: handed over to pid %d (%s); kernel messages "
		       "go to its log from now on\n", p->pid, p->name);
		console_hand_over();
	}
	return (long)(addr + (d->base & (PAGE_SIZE - 1)));
}

static long irq_bind(struct proc *p, struct device *d, long nh,
		     unsigned long bits)
{
	struct kobj *n, *old;
	unsigned int rights;
	bool pending;
	long err;
	int ctx;

	if (!d->irq)
		return -E_NOENT;
	err = handle_get(&p->handles, nh, KOBJ_NOTIFY, &n, &rights);
	if (err)
		return err;
	if (!(rights & HANDLE_R_SIGNAL)) {
		kobj_put(n);
		return -E_PERM;
	}
	spin_lock(&d->lock);
	old = d->notify;
	d->notify = n;		/* our lookup reference becomes the binding's */
	d->bits = bits;
	pending = d->pending;	/* claimed for a driver that is gone? */
	ctx = d->ctx;
	d->pending = false;
	spin_unlock(&d->lock);
	if (old)
		kobj_put(old);
	/* A restarted driver binds again: an interrupt its predecessor
	 * never acknowledged would keep the source masked for good. */
	if (pending)
		plic_complete(ctx, d->irq);
	return plic_route(d->irq);
}

static long irq_ack(struct device *d)
{
	bool pending;
	int ctx;

	spin_lock(&d->lock);
	pending = d->pending;
	ctx = d->ctx;
	d->pending = false;
	spin_unlock(&d->lock);
	if (pending)
		plic_complete(ctx, d->irq);
	return 0;
}

long device_syscall(struct proc *p, struct trap_frame *tf)
{
	struct rivet_device_info info;
	unsigned int rights;
	struct kobj *o, *old;
	struct device *d;
	long err;

	switch (tf->a7) {
	case SYS_KLOG_READ: {
		char buf[256];
		size_t n = console_log_read(buf, MIN(tf->a1, sizeof(buf)));

		return copy_to_user((void *)tf->a0, buf, n) ? -E_FAULT
							    : (long)n;
	}
	case SYS_KLOG_BIND:
		err = handle_get(&p->handles, (long)tf->a0, KOBJ_NOTIFY, &o,
				 &rights);
		if (err)
			return err;
		if (!(rights & HANDLE_R_SIGNAL)) {
			kobj_put(o);
			return -E_PERM;
		}
		spin_lock(&klog_lock);
		old = klog_notify;
		klog_notify = o;	/* our reference becomes the binding's */
		klog_bits = tf->a1;
		spin_unlock(&klog_lock);
		if (old)
			kobj_put(old);
		return 0;
	}
	err = handle_get(&p->handles, (long)tf->a0, KOBJ_DEVICE, &o, &rights);
	if (err)
		return err;
	d = to_dev(o);
	if (tf->a7 != SYS_DEVICE_INFO && !(rights & HANDLE_R_MAP)) {
		kobj_put(o);
		return -E_PERM;
	}
	switch (tf->a7) {
	case SYS_DEVICE_INFO:
		memset(&info, 0, sizeof(info));
		strlcpy(info.compatible, d->compatible,
			sizeof(info.compatible));
		strlcpy(info.path, d->path, sizeof(info.path));
		info.base = d->base;
		info.size = d->size;
		info.irq = d->irq;
		info.console = d->console;
		info.reg_shift = d->reg_shift;
		info.reg_io_width = d->reg_io_width;
		err = copy_to_user((void *)tf->a1, &info, sizeof(info)) ?
			      -E_FAULT : 0;
		break;
	case SYS_DEVICE_MAP:
		err = device_map(p, d, tf->a1);
		break;
	case SYS_IRQ_BIND:
		err = irq_bind(p, d, (long)tf->a1, tf->a2);
		break;
	case SYS_IRQ_ACK:
		err = irq_ack(d);
		break;
	default:
		err = -E_NOSYS;
	}
	kobj_put(o);
	return err;
}
