/*
 * spawn-storm.c - bounded bursts of process spawn and exit (issue 6):
 * threads=T of one process, thread t pinned to hart t % harts, each
 * looping for SECONDS seconds: spawn BURST children running bin/exit42
 * (SYS_SPAWN: a new address space, the ELF image loaded, a thread), then
 * wait for each (SYS_WAIT: its memory is freed) and check that it
 * returned 42. At most T x BURST children live at once; the kernel's
 * process table has 64 slots (PROC_MAX), so T x BURST may be at most 48.
 * A spawn that still finds the table full (-E_AGAIN) ends its burst early
 * and is counted (again=).
 *
 *   spawn-storm [threads=T] [seconds=S] [burst=1..16] [report=0|1]
 *
 * Frames: SYS_STATS free_frames is read right before the storm and right
 * after it, both times with every thread alive and waiting at the same
 * place (each has spawned and reaped one child first, so its stack is
 * already faulted in): every frame the children used must be back.
 *
 * Prints `bench spawn-storm harts= threads= ptlock= seconds= burst=
 * spawns= per_s= ns_per_op= contended_pct= kfaults= bursts= again=
 * spawn_us= wait_us= free_before= free_after=` (per_s: spawns, each with
 * its wait, per second, all threads together; ns_per_op: per spawn and
 * thread; kfaults: page faults the kernel handled during the storm,
 * mostly the children's; spawn_us, wait_us: microseconds per child spent
 * in SYS_SPAWN and in SYS_WAIT, averaged)
 * and the lock lines. If the free frames differ, or a child's status was
 * not 42, one more line says so and the exit status is 1. 2: bad
 * arguments (usage message); 3: a thread could not be started.
 */
#include <rivet.h>

#define MAX_THREADS	STATS_MAX_HARTS
#define MAX_CHILDREN	48	/* of PROC_MAX = 64 processes */
#define MAX_BURST	16
#define CHILD		"exit42"
#define CHILD_STATUS	42

/* One thread's counts: written by that thread only, until main joins. */
static struct worker {
	unsigned long spawns, bursts, again;
	unsigned long bad;	/* children whose status was not 42 */
	unsigned long spawn_ns, wait_ns;	/* time in the two calls */
	long err;		/* a spawn or wait error other than -E_AGAIN */
	long end;		/* sys_clock() when it finished its storm */
} __attribute__((aligned(64))) workers[MAX_THREADS];

static unsigned long burst = 4;
/* Written by main before the release store of stage 1. */
static long deadline;
/* stage: main's signal (1: storm, 2: leave); arrived: threads waiting at
 * the current barrier. Both atomic. */
static unsigned long stage, arrived;

/* Spawn and reap @n children; the number spawned, or a negative error. */
static long one_burst(struct worker *w, unsigned long n)
{
	long pids[MAX_BURST];
	unsigned long k;

	long t0 = sys_clock(), t1;

	for (k = 0; k < n; k++) {
		pids[k] = sys_spawn(CHILD, 0);
		if (pids[k] == -E_AGAIN) {	/* the process table is full */
			w->again++;
			break;
		}
		if (pids[k] < 0) {
			w->err = pids[k];
			break;
		}
	}
	t1 = sys_clock();
	for (unsigned long i = 0; i < k; i++) {
		long st = sys_wait(pids[i]);

		if (st < 0 && !w->err)
			w->err = st;
		else if (st != CHILD_STATUS)
			w->bad++;
	}
	w->spawn_ns += (unsigned long)(t1 - t0);
	w->wait_ns += (unsigned long)(sys_clock() - t1);
	return w->err ? w->err : (long)k;
}

/* The one place where threads (and main) wait: the same code, so the same
 * stack pages, before and after the storm. */
static void wait_until(unsigned long *word, unsigned long value)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < value)
		sys_sleep(1000000);
}

static void storm_work(void *arg)
{
	struct worker *w = arg;

	one_burst(w, 1);		/* warm-up: not counted */
	w->spawns = w->bad = w->again = w->spawn_ns = w->wait_ns = 0;
	__atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
	wait_until(&stage, 1);
	while (!w->err && sys_clock() < deadline) {
		long n = one_burst(w, burst);

		if (n > 0) {
			w->spawns += (unsigned long)n;
			w->bursts++;
		} else if (n == 0) {
			sys_yield();	/* -E_AGAIN at once: let others reap */
		}
	}
	w->end = sys_clock();
	__atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
	wait_until(&stage, 2);
}

static struct rivet_stats s0, s1;

int main(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "burst", &burst, 1, MAX_BURST },
	};
	const struct bench_spec spec = { .no_mib = true, .opts = opts,
					 .nopts = 1 };
	struct bench_args args;
	unsigned long spawns = 0, bursts = 0, again = 0, bad = 0, c;
	unsigned long spawn_ns = 0, wait_ns = 0;
	struct bench_delta d = { 0 };
	long tids[MAX_THREADS], t0, end = 0;
	int status = 0;

	if (sys_stats(&s0))
		return 3;
	if (bench_parse_spec("spawn-storm", argc, argv, s0.nharts, &args,
			     &spec))
		return 2;
	if (args.threads * burst > MAX_CHILDREN) {
		bench_usage("spawn-storm", "threads x burst must be at most 48 "
			    "(the process table)", &spec);
		return 2;
	}

	for (unsigned long i = 0; i < args.threads; i++) {
		tids[i] = thread_spawn(storm_work, &workers[i],
				       (int)(i % s0.nharts));
		if (tids[i] < 0) {
			printf("spawn-storm: thread %lu: %s\n", i,
			       errno_name((int)tids[i]));
			deadline = 0;
			__atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
			for (unsigned long k = 0; k < i; k++)
				sys_thread_join(tids[k]);
			return 3;
		}
	}
	wait_until(&arrived, args.threads);
	sys_stats(&s0);
	t0 = sys_clock();
	deadline = t0 + (long)args.seconds * 1000000000L;
	__atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
	wait_until(&arrived, 2 * args.threads);
	sys_stats(&s1);
	__atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
	for (unsigned long i = 0; i < args.threads; i++) {
		struct worker *w = &workers[i];

		sys_thread_join(tids[i]);
		spawns += w->spawns;
		bursts += w->bursts;
		again += w->again;
		bad += w->bad;
		spawn_ns += w->spawn_ns;
		wait_ns += w->wait_ns;
		if (w->end > end)
			end = w->end;
		if (w->err) {
			printf("spawn-storm: thread %lu stopped: %s\n", i,
			       errno_name((int)w->err));
			status = 1;
		}
	}
	bench_delta_add(&d, &s0, &s1);
	c = bench_contended_pct100(&d);
	end -= t0;
	bench_line("bench spawn-storm harts=%u threads=%lu ptlock=%s "
		   "seconds=%lu burst=%lu spawns=%lu per_s=%lu ns_per_op=%lu "
		   "contended_pct=%lu.%02lu kfaults=%lu bursts=%lu again=%lu "
		   "spawn_us=%lu wait_us=%lu free_before=%lu free_after=%lu\n",
		   s1.nharts, args.threads,
		   s1.ptlock_split ? "split" : "single", args.seconds, burst,
		   spawns, spawns * 1000 / ((unsigned long)end / 1000000 + 1),
		   spawns ? (unsigned long)end * args.threads / spawns : 0,
		   c / 100, c % 100, d.kfaults, bursts, again,
		   spawns ? spawn_ns / 1000 / spawns : 0,
		   spawns ? wait_ns / 1000 / spawns : 0, s0.free_frames,
		   s1.free_frames);
	bench_print_locks("spawn-storm", 0, &d);
	if (s1.free_frames != s0.free_frames) {
		long diff = (long)s0.free_frames - (long)s1.free_frames;

		printf("spawn-storm: FAIL: free frames %lu before the storm, "
		       "%lu after: %ld frame%s %s\n", s0.free_frames,
		       s1.free_frames, diff < 0 ? -diff : diff,
		       diff == 1 || diff == -1 ? "" : "s",
		       diff > 0 ? "not returned" : "more than before");
		status = 1;
	}
	if (bad) {
		printf("spawn-storm: FAIL: %lu children did not exit with "
		       "status %d\n", bad, CHILD_STATUS);
		status = 1;
	}
	if (!spawns) {
		printf("spawn-storm: FAIL: no child spawned\n");
		status = 1;
	}
	return status;
}
