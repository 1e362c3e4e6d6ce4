/*
 * syscall.c - one C function per system call of abi/syscall.h
 *
 * Thin wrappers around the ecall helpers in syscall.h; the argument and
 * result conventions are the ABI's (abi/syscall.h, docs/abi.md). No call
 * sets an errno: the negative result is the error.
 */
#include <rivet.h>

#include "syscall.h"

void sys_exit(int status)
{
	syscall1(SYS_EXIT, status);
	/* SYS_EXIT does not return; if a kernel bug lets it, do not run on. */
	for (;;)
		syscall1(SYS_EXIT, status);
}

long sys_debug_write(const char *buf, size_t len)
{
	return syscall2(SYS_DEBUG_WRITE, (long)buf, (long)len);
}

long sys_yield(void)
{
	return syscall0(SYS_YIELD);
}

long sys_getpid(void)
{
	return syscall0(SYS_GETPID);
}

long sys_clock(void)
{
	return syscall0(SYS_CLOCK);
}

long sys_map(void *addr, size_t len, int prot)
{
	return syscall3(SYS_MAP, (long)addr, (long)len, prot);
}

long sys_unmap(void *addr, size_t len)
{
	return syscall2(SYS_UNMAP, (long)addr, (long)len);
}

long sys_thread_create(void *pc, long a0, long a1, void *sp, int hart)
{
	return syscall5(SYS_THREAD_CREATE, (long)pc, a0, a1, (long)sp, hart);
}

void sys_thread_exit(int status)
{
	for (;;)
		syscall1(SYS_THREAD_EXIT, status);
}

long sys_thread_join(long tid)
{
	return syscall1(SYS_THREAD_JOIN, tid);
}

long sys_stats(struct rivet_stats *st)
{
	return syscall1(SYS_STATS, (long)st);
}

/* Where new threads start (crt0.S): a0 = fn, a1 = arg. */
extern char __thread_start[];

#define THREAD_STACK (64 * 1024)

/* Stacks of spawned threads, by thread id, for thread_join to unmap
 * (each is a region, and an address space has a fixed number of those). */
#define STACKS_MAX 64
static struct {
	long tid, stack;
} stacks[STACKS_MAX];
static int stacks_lock;

static void stacks_acquire(void)
{
	while (__atomic_exchange_n(&stacks_lock, 1, __ATOMIC_ACQUIRE))
		sys_yield();
}

static void stacks_release(void)
{
	__atomic_store_n(&stacks_lock, 0, __ATOMIC_RELEASE);
}

long thread_spawn(void (*fn)(void *), void *arg, int hart)
{
	long stack = sys_map(0, THREAD_STACK, PROT_READ | PROT_WRITE), tid;

	if (stack < 0)
		return stack;
	tid = sys_thread_create(__thread_start, (long)fn, (long)arg,
				(void *)(stack + THREAD_STACK), hart);
	if (tid < 0) {
		sys_unmap((void *)stack, THREAD_STACK);
		return tid;
	}
	stacks_acquire();
	for (int i = 0; i < STACKS_MAX; i++)
		if (!stacks[i].tid) {
			stacks[i].tid = tid;
			stacks[i].stack = stack;
			break;
		}
	stacks_release();
	return tid;
}

long thread_join(long tid)
{
	long status = sys_thread_join(tid), stack = 0;

	if (status == -E_NOENT || status == -E_BUSY || status == -E_AGAIN)
		return status;		/* not joined: the stack is in use */
	stacks_acquire();
	for (int i = 0; i < STACKS_MAX; i++)
		if (stacks[i].tid == tid) {
			stack = stacks[i].stack;
			stacks[i].tid = 0;
			break;
		}
	stacks_release();
	if (stack)
		sys_unmap((void *)stack, THREAD_STACK);
	return status;
}

long sys_spawn(const char *name, const char *args)
{
	return syscall5(SYS_SPAWN, (long)name, (long)args, 0, 0, 0);
}

long sys_spawn_share(const char *name, const char *args, void *share,
		     size_t len)
{
	return syscall5(SYS_SPAWN, (long)name, (long)args, (long)share,
			(long)len, 0);
}

long sys_wait(long pid)
{
	return syscall1(SYS_WAIT, pid);
}

long sys_kill(long pid)
{
	return syscall2(SYS_KILL, pid, 0);
}

long sys_kill_tree(long pid)
{
	return syscall2(SYS_KILL, pid, KILL_TREE);
}

long sys_sleep(unsigned long ns)
{
	return syscall1(SYS_SLEEP, (long)ns);
}

long sys_protect(void *addr, size_t len, int prot)
{
	return syscall3(SYS_PROTECT, (long)addr, (long)len, prot);
}

long sys_spawn_handle(const char *name, const char *args, long handle)
{
	return syscall5(SYS_SPAWN, (long)name, (long)args, 0, 0, handle);
}

long sys_map_pager(void *addr, size_t len, int prot, long ep,
		   unsigned long key)
{
	return syscall5(SYS_MAP_PAGER, (long)addr, (long)len, prot, ep,
			(long)key);
}

long sys_pager_evict(long ep, unsigned long key, unsigned long off,
		     unsigned long len)
{
	register long a0 __asm__("a0") = ep;
	register unsigned long a1 __asm__("a1") = key;
	register unsigned long a2 __asm__("a2") = off;
	register unsigned long a3 __asm__("a3") = len;
	register long a7 __asm__("a7") = SYS_PAGER_EVICT;

	__asm__ __volatile__("ecall"
			     : "+r"(a0)
			     : "r"(a1), "r"(a2), "r"(a3), "r"(a7)
			     : "memory");
	return a0;
}

long sys_debug_read(char *buf, size_t len, unsigned long timeout)
{
	return syscall3(SYS_DEBUG_READ, (long)buf, (long)len, (long)timeout);
}

long sys_proc_info(long index, struct rivet_proc_info *out)
{
	return syscall2(SYS_PROC_INFO, index, (long)out);
}

long sys_proc_find(long pid, struct rivet_proc_info *out)
{
	return syscall2(SYS_PROC_FIND, pid, (long)out);
}

long sys_program_info(long index, char *buf, size_t len)
{
	return syscall3(SYS_PROGRAM_INFO, index, (long)buf, (long)len);
}

long sys_device_info(long h, struct rivet_device_info *out)
{
	return syscall2(SYS_DEVICE_INFO, h, (long)out);
}

long sys_device_map(long h, void *addr)
{
	return syscall2(SYS_DEVICE_MAP, h, (long)addr);
}

long sys_irq_bind(long h, long notify, unsigned long bits)
{
	return syscall3(SYS_IRQ_BIND, h, notify, (long)bits);
}

long sys_irq_ack(long h)
{
	return syscall1(SYS_IRQ_ACK, h);
}

long sys_klog_read(char *buf, size_t len)
{
	return syscall2(SYS_KLOG_READ, (long)buf, (long)len);
}

long sys_klog_bind(long notify, unsigned long bits)
{
	return syscall2(SYS_KLOG_BIND, notify, (long)bits);
}
