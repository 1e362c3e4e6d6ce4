#pragma once
/*
 * syscall.h - raw system-call traps, private to userland/lib/
 *
 * ABI (abi/syscall.h, docs/abi.md): a7 = call number, a0..a5 = arguments,
 * the result comes back in a0 (>= 0, or -E_*), every other register is
 * preserved. So a0 is the only output, the argument registers are inputs,
 * and "memory" is clobbered because the kernel may read or write user
 * buffers (SYS_DEBUG_WRITE reads one; SYS_MAP/SYS_UNMAP change what
 * memory exists).
 */

static inline long syscall0(long nr)
{
	register long a7 __asm__("a7") = nr;
	register long a0 __asm__("a0");

	__asm__ volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");
	return a0;
}

static inline long syscall1(long nr, long arg0)
{
	register long a7 __asm__("a7") = nr;
	register long a0 __asm__("a0") = arg0;

	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
	return a0;
}

static inline long syscall2(long nr, long arg0, long arg1)
{
	register long a7 __asm__("a7") = nr;
	register long a0 __asm__("a0") = arg0;
	register long a1 __asm__("a1") = arg1;

	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1) : "memory");
	return a0;
}

static inline long syscall3(long nr, long arg0, long arg1, long arg2)
{
	register long a7 __asm__("a7") = nr;
	register long a0 __asm__("a0") = arg0;
	register long a1 __asm__("a1") = arg1;
	register long a2 __asm__("a2") = arg2;

	__asm__ volatile("ecall"
			 : "+r"(a0)
			 : "r"(a7), "r"(a1), "r"(a2)
			 : "memory");
	return a0;
}

static inline long syscall5(long nr, long arg0, long arg1, long arg2,
			    long arg3, long arg4)
{
	register long a0 __asm__("a0") = arg0;
	register long a1 __asm__("a1") = arg1;
	register long a2 __asm__("a2") = arg2;
	register long a3 __asm__("a3") = arg3;
	register long a4 __asm__("a4") = arg4;
	register long a7 __asm__("a7") = nr;

	__asm__ __volatile__("ecall"
			     : "+r"(a0)
			     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a7)
			     : "memory");
	return a0;
}
