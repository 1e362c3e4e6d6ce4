/*
 * harness.c - fixtures of the mm host tests: RAM set-up, pthread harts,
 * forked panics, direct page-table walks; and the list of suites.
 */
#include "mm_test.h"
#include <arch/memlayout.h>
#include <arch/pte.h>
#include <kern/string.h>
#include <mm/tlb.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t mm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

unsigned long mm_ops(unsigned long dflt)
{
	const char *s = host_arg("ops");

	return s ? strtoul(s, NULL, 0) : dflt;
}

uint64_t mm_deadline(unsigned long dflt_ms)
{
	const char *s = host_arg("time_ms");
	unsigned long ms = s ? strtoul(s, NULL, 0) : dflt_ms;

	return ms ? mm_now() + ms * 1000000ULL : UINT64_MAX;
}

bool mm_skip_known_bugs(void)
{
	const char *s = host_arg("known_bugs");

	return s && !strcmp(s, "skip");
}

void mm_counters_reset(void)
{
	for (unsigned int i = 0; i < CONFIG_MAX_HARTS; i++) {
		memset(harts[i].lockstat, 0, sizeof(harts[i].lockstat));
		harts[i].mm_faults = 0;
		harts[i].mm_ad_fixups = 0;
		harts[i].mm_spurious = 0;
	}
	memset(&tlb_stats, 0, sizeof(tlb_stats));
	host_mm_stats_reset();
}

int mm_setup(size_t mib)
{
	nr_harts = MM_HARTS;
	host_hart_online(0);
	host_tlb_log_reset();
	host_tlb_watch(NULL);
	mm_counters_reset();
	return host_mem_init(mib, NULL, 0);
}

uint64_t mm_free_frames(void)
{
	/* The other harts are threads that ended: borrowing their ids to
	 * drain their caches is safe. */
	for (unsigned int i = MM_HARTS; i-- > 0;) {
		host_hart_enter(i);
		frame_cache_drain();
	}
	host_hart_online(0);
	return frame_free_count();
}

struct smp_run {
	unsigned int n;
	void (*fn)(unsigned int id, void *arg);
	void *arg;
	unsigned int done;		/* atomic */
	pthread_barrier_t start;
};

struct smp_thread {
	struct smp_run *run;
	unsigned int id;
};

static void *smp_thread(void *p)
{
	struct smp_thread *t = p;
	struct smp_run *r = t->run;

	host_hart_online(t->id);
	pthread_barrier_wait(&r->start);
	r->fn(t->id, r->arg);
	if (this_hart()->irq_depth || !arch_irqs_enabled())
		panic("test: hart %u ends with interrupts off (depth %d)",
		      t->id, this_hart()->irq_depth);
	__atomic_fetch_add(&r->done, 1, __ATOMIC_ACQ_REL);
	/* Stay reachable until nobody can send us a call any more. */
	while (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) < r->n) {
		host_hart_poll();
		arch_cpu_relax();
	}
	host_hart_offline();
	return NULL;
}

uint64_t mm_smp_run(unsigned int n, void (*fn)(unsigned int id, void *arg),
		    void *arg)
{
	struct smp_run r = { .n = n, .fn = fn, .arg = arg };
	struct smp_thread t[CONFIG_MAX_HARTS];
	pthread_t th[CONFIG_MAX_HARTS];
	uint64_t t0;

	if (n > MM_HARTS)
		panic("test: %u harts, at most %u", n, MM_HARTS);
	host_hart_offline();		/* hart 0 is a thread's now */
	pthread_barrier_init(&r.start, NULL, n);
	t0 = mm_now();
	for (unsigned int i = 0; i < n; i++) {
		t[i] = (struct smp_thread){ &r, i };
		if (pthread_create(&th[i], NULL, smp_thread, &t[i]))
			panic("test: pthread_create failed");
	}
	for (unsigned int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t0 = mm_now() - t0;
	pthread_barrier_destroy(&r.start);
	host_hart_online(0);
	return t0;
}

void mm_wait_flag(unsigned int *flag, unsigned int v)
{
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < v) {
		host_hart_poll();
		arch_cpu_relax();
	}
}

void mm_set_flag(unsigned int *flag, unsigned int v)
{
	__atomic_store_n(flag, v, __ATOMIC_RELEASE);
}

int mm_child_start(struct mm_child *c, void (*fn)(void *), void *arg)
{
	int fds[2];

	if (pipe(fds))
		return -1;
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (c->pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	/* Only the child holds the write end: EOF when it ends. */
	close(fds[1]);
	c->fd = fds[0];
	return 0;
}

int mm_child_finish(struct mm_child *c, char *out, size_t outsz)
{
	size_t len = 0;
	int status;
	ssize_t k;

	while (len + 1 < outsz &&
	       (k = read(c->fd, out + len, outsz - 1 - len)) > 0)
		len += (size_t)k;
	out[len] = '\0';
	/* Whatever does not fit is read and dropped so the child ends. */
	for (char sink[256]; read(c->fd, sink, sizeof(sink)) > 0;)
		;
	close(c->fd);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	return status;
}

int mm_child(void (*fn)(void *), void *arg, char *out, size_t outsz)
{
	struct mm_child c;

	out[0] = '\0';
	if (mm_child_start(&c, fn, arg))
		return -1;
	return mm_child_finish(&c, out, outsz);
}

bool mm_panicked(int status, char *out, const char *needle)
{
	for (char *nl; (nl = strchr(out, '\n'));)
		*nl = ' ';		/* one diagnostic line */
	return status != -1 && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGABRT && strstr(out, "panic: ") &&
	       strstr(out, needle);
}

pte_t *mm_pte(struct as *as, vaddr_t va)
{
	pte_t *t = as->root;

	for (int level = 2; level > 0; level--) {
		pte_t e = t[SV39_INDEX(va, level)];

		if (!pte_is_valid(e))
			return NULL;
		t = pa_to_kva(pte_pa(e));
	}
	return &t[SV39_INDEX(va, 0)];
}

const struct ktest_suite *const host_suites[] = { &frame_suite, &pt_suite,
						  &tlb_suite, &smp_suite,
						  &region_suite, &fault_suite,
						  &cow_suite };
const size_t host_nsuites = ARRAY_SIZE(host_suites);

/* The pager upcall of mm/as.h (kernel/ipc provides it in the kernel): a
 * count of references per fake pager, and the address spaces it serves. */
long host_pager_refs;		/* atomic: references held, all pagers */

int as_pager_ref(void *pager, struct as *as, int delta)
{
	(void)pager;
	(void)as;
	__atomic_fetch_add(&host_pager_refs, delta, __ATOMIC_RELAXED);
	return 0;
}
