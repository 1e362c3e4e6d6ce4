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
