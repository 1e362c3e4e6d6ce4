#pragma once
/*
 * smp.h - starting harts, IPIs, and the cross-hart call
 */
#include <kern/types.h>
#include <kern/hart.h>

struct boot_info;

/* Start every other usable hart in @bi; print "smp: N harts online". */
void smp_boot(const struct boot_info *bi);
/* Send IPI @kind to logical hart @id (no locks; callable from handlers). */
void ipi_send(unsigned int id, unsigned int kind);
/* Park every other online hart (panic, shutdown). */
void smp_stop_others(void);

/*
 * Cross-hart call: run @fn(@arg) on every hart in @mask (bit i = logical
 * hart i), in interrupt context there, and wait until all have returned.
 * If this hart is in @mask it runs @fn itself, first.
 *
 * Context: may be called with interrupts off and with spinlocks held,
 * provided no target hart can be spinning on one of those locks with
 * interrupts off. While waiting, this hart serves calls aimed at it, so
 * two harts calling each other at once do not deadlock.
 * Return: number of harts that ran @fn.
 */
typedef uint64_t hartmask_t[(CONFIG_MAX_HARTS + 63) / 64];
int xcall_mask(const hartmask_t mask, void (*fn)(void *), void *arg);
int xcall_all(void (*fn)(void *), void *arg);
/* Run the calls queued for this hart (IPI handler, and while waiting). */
void xcall_handle(void);
void xcall_init(void);

static inline void hartmask_set(hartmask_t m, unsigned int id)
{
	m[id / 64] |= 1ULL << (id % 64);
}

static inline bool hartmask_test(const hartmask_t m, unsigned int id)
{
	return m[id / 64] & (1ULL << (id % 64));
}
