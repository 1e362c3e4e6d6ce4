/*
 * ipc.c - handle and IPC system calls (abi/syscall.h, docs/abi.md)
 *
 * The IPC calls return more than a0: the message comes back in a1..a5
 * (and the sender in a6), so each has its own trap with those registers
 * as outputs. ipc_call and ipc_reply_recv are inline in rivet.h.
 */
#include <rivet.h>
#include "syscall.h"

long sys_handle_close(long h)
{
	return syscall1(SYS_HANDLE_CLOSE, h);
}

long sys_handle_dup(long h, unsigned int rights)
{
	return syscall2(SYS_HANDLE_DUP, h, rights);
}

long sys_handle_info(long h)
{
	return syscall1(SYS_HANDLE_INFO, h);
}

long sys_endpoint_create(void)
{
	return syscall0(SYS_ENDPOINT_CREATE);
}

long sys_notify_create(void)
{
	return syscall0(SYS_NOTIFY_CREATE);
}

long sys_notify_signal(long h, unsigned long bits)
{
	return syscall2(SYS_NOTIFY_SIGNAL, h, (long)bits);
}

long sys_notify_wait(long h, unsigned long *bits, unsigned long timeout)
{
	register long a0 __asm__("a0") = h;
	register unsigned long a1 __asm__("a1") = timeout;
	register long a7 __asm__("a7") = SYS_NOTIFY_WAIT;

	__asm__ __volatile__("ecall" : "+r"(a0), "+r"(a1) : "r"(a7)
			     : "memory");
	if (!a0 && bits)
		*bits = a1;
	return a0;
}

long ipc_recv(long ep, struct ipc_msg *m, unsigned long timeout)
{
	/* SYS_IPC_RECV reads a0 and a1 (the timeout) only; m is output,
	 * left as it was after a failure. */
	unsigned long info = m->info;
	long r;

	m->info = timeout;
	r = ipc_trap(SYS_IPC_RECV, ep, m, 0);
	if (r)
		m->info = info;
	return r;
}

long ipc_reply(const struct ipc_msg *m)
{
	register unsigned long a0 __asm__("a0") = m->info;
	register unsigned long a1 __asm__("a1") = m->w[0];
	register unsigned long a2 __asm__("a2") = m->w[1];
	register unsigned long a3 __asm__("a3") = m->w[2];
	register unsigned long a4 __asm__("a4") = m->w[3];
	register long a7 __asm__("a7") = SYS_IPC_REPLY;

	__asm__ __volatile__("ecall"
			     : "+r"(a0)
			     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a7)
			     : "memory");
	return (long)a0;
}

long sys_ipc_buffer(void *page)
{
	return syscall1(SYS_IPC_BUFFER, (long)page);
}

unsigned long *ipc_buffer_new(void)
{
	long va = sys_map(0, 4096, PROT_READ | PROT_WRITE);

	if (va < 0)
		return 0;
	if (sys_ipc_buffer((void *)va)) {
		sys_unmap((void *)va, 4096);
		return 0;
	}
	return (unsigned long *)va;
}

void ipc_buffer_free(unsigned long *buf)
{
	sys_ipc_buffer(0);
	sys_unmap(buf, 4096);
}
