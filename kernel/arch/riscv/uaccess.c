/*
 * uaccess.c - copy_from_user / copy_to_user
 *
 * Byte at a time: simple, and the fault address is exact. The users (debug
 * writes, small structures) move little data.
 */
#include <arch/uaccess.h>
#include <arch/csr.h>
#include <arch/trap.h>
#include <kern/errno.h>
#include <mm/as.h>

static bool user_range_ok(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	return a + len >= a && a + len <= AS_USER_TOP;
}

/* One byte from user memory: 0, or -E_FAULT (through the extable). */
static inline int get_user_u8(uint8_t *out, const uint8_t *up)
{
	int err = -E_FAULT;
	unsigned long v = 0;

	__asm__ __volatile__("1: lbu %1, 0(%2)\n"
			     "   li %0, 0\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+r"(err), "+r"(v) : "r"(up) : "memory");
	*out = (uint8_t)v;
	return err;
}

static inline int put_user_u8(uint8_t *up, uint8_t v)
{
	int err = -E_FAULT;

	__asm__ __volatile__("1: sb %1, 0(%2)\n"
			     "   li %0, 0\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+r"(err) : "r"(v), "r"(up) : "memory");
	return err;
}

int copy_from_user(void *dst, const void *usrc, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = usrc;
	int err = 0;

	if (!user_range_ok(usrc, len))
		return -E_FAULT;
	csr_set(CSR_SSTATUS, SSTATUS_SUM);
	for (size_t i = 0; i < len && !err; i++)
		err = get_user_u8(&d[i], &s[i]);
	csr_clear(CSR_SSTATUS, SSTATUS_SUM);
	return err;
}

int copy_to_user(void *udst, const void *src, size_t len)
{
	uint8_t *d = udst;
	const uint8_t *s = src;
	int err = 0;

	if (!user_range_ok(udst, len))
		return -E_FAULT;
	csr_set(CSR_SSTATUS, SSTATUS_SUM);
	for (size_t i = 0; i < len && !err; i++)
		err = put_user_u8(&d[i], s[i]);
	csr_clear(CSR_SSTATUS, SSTATUS_SUM);
	return err;
}
