#pragma once
/*
 * probe.h - kernel loads and stores that may fault: a fault resumes after
 * the instruction through the exception table and the call returns
 * -E_FAULT. For self-tests (guard pages, permissions) and, later, the
 * user-copy routines.
 */
#include <kern/types.h>
#include <kern/errno.h>
#include <arch/trap.h>

static inline int probe_read_u64(const void *addr, uint64_t *val)
{
	int err = -E_FAULT;
	uint64_t v = 0;

	__asm__ __volatile__("1: ld %1, 0(%2)\n"
			     "   li %0, 0\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+r"(err), "+r"(v) : "r"(addr) : "memory");
	*val = v;
	return err;
}

static inline int probe_write_u64(void *addr, uint64_t val)
{
	int err = -E_FAULT;

	__asm__ __volatile__("1: sd %1, 0(%2)\n"
			     "   li %0, 0\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+r"(err) : "r"(val), "r"(addr) : "memory");
	return err;
}
