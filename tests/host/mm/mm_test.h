#pragma once
/*
 * mm_test.h - shared fixtures of the mm host tests (tests/host/mm/)
 */
#include <host.h>
#include <kern/arch.h>
#include <kern/hart.h>
#include <kern/spinlock.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <mm_host.h>

#define MM_HARTS	8	/* pthread "harts" in the SMP cases */

void host_hart_enter(unsigned int id);	/* arch/host/hart.c */

/* Fresh RAM of @mib MiB (no reservations), this thread as hart 0, TLB
 * logs and host counters cleared. Return: 0 or an error. */
int mm_setup(size_t mib);
/* Every hart's frame cache back to the pool, then frame_free_count(). */
uint64_t mm_free_frames(void);
/* Zero the lock statistics and mm counters of every hart. */
void mm_counters_reset(void);
/* Sum of a per-hart uint64_t field of struct hart over MM_HARTS harts. */
#define mm_hart_sum(field)                                                    \
	({                                                                    \
		uint64_t s_ = 0;                                              \
		for (unsigned int i_ = 0; i_ < MM_HARTS; i_++)                \
			s_ += harts[i_].field;                                \
		s_;                                                           \
	})

/*
 * mm_smp_run - run @fn(id, @arg) on @n pthread harts 0..n-1 and wait
 *
 * Each thread comes online, waits for the others, runs @fn, then keeps
 * serving cross-hart calls until every thread is done, and goes offline.
 * @fn must call host_hart_poll() between mm operations and in every wait
 * loop (a hart that never polls stalls tlb_sync_all until a signal finds
 * its interrupts on). The calling thread is hart 0 again afterwards.
 * Return: wall time in nanoseconds.
 */
uint64_t mm_smp_run(unsigned int n, void (*fn)(unsigned int id, void *arg),
		    void *arg);
/* Spin until *@flag is at least @v, polling for cross-hart calls. */
void mm_wait_flag(unsigned int *flag, unsigned int v);
void mm_set_flag(unsigned int *flag, unsigned int v);

/*
 * mm_child - run @fn(@arg) in a forked child (exit 0 if it returns), its
 * stdout and stderr collected in @out
 * Return: the wait status, or -1.
 */
int mm_child(void (*fn)(void *), void *arg, char *out, size_t outsz);
/* The same in two steps, so that several children can run at once. */
struct mm_child {
	int pid, fd;
};
int mm_child_start(struct mm_child *c, void (*fn)(void *), void *arg);
int mm_child_finish(struct mm_child *c, char *out, size_t outsz);
/* Did a child with wait status @status and output @out (flattened to one
 * line here) die of a host panic that printed @needle? */
bool mm_panicked(int status, char *out, const char *needle);
/* The level-0 entry mapping @va in @as, or NULL (walks the tables
 * directly, as the hardware would; no locks: single-threaded tests). */
pte_t *mm_pte(struct as *as, vaddr_t va);
/* Operations per thread in the random tests (ops=N), default @dflt. */
unsigned long mm_ops(unsigned long dflt);
/*
 * mm_deadline - when a random SMP case stops even if ops are left: now
 * plus time_ms=N milliseconds (0: never), default @dflt_ms. Keeps a run
 * bounded on a loaded 2-core machine, where a ticket lock shared by 8
 * threads convoys behind whichever waiter is descheduled.
 */
uint64_t mm_deadline(unsigned long dflt_ms);
/* known_bugs=skip: a case that reproduces a bug named in its diagnostics
 * reports a KTAP SKIP instead of failing (to keep a run green while a fix
 * is pending). */
bool mm_skip_known_bugs(void);
/* Monotonic nanoseconds. */
uint64_t mm_now(void);

extern const struct ktest_suite frame_suite, pt_suite, smp_suite, tlb_suite,
	region_suite, fault_suite, cow_suite;
