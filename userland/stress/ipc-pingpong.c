/*
 * ipc-pingpong.c - IPC round trips: P pairs of threads, each a client
 * calling its own server thread over its own endpoint (four words each
 * way, no payload) for SECONDS seconds. mode=same pins both threads of a
 * pair to one hart (the same-hart handoff); mode=cross pins the server to
 * hart 2p and the client to hart 2p+1 (an IPI per message).
 *
 *   ipc-pingpong [pairs=1..32] [seconds=1..3600] [mode=same|cross]
 *                [report=0|1]
 *
 * Prints one line
 *   bench ipc-pingpong harts=H pairs=P mode=M seconds=S round_trips=N
 *         per_s=R ns_per_op=T ptlock=L contended_pct=C kfaults=F
 * where ns_per_op is the time of one round trip of one pair (under QEMU
 * -icount shift=0 on one hart: instructions per round trip), and the
 * last three are the kernel's counts over the run, as in the other
 * stress programs (the ptlock boot option, the contended share of
 * page-table-page and address-space lock acquisitions, page faults),
 * followed by the two `bench ipc-pingpong-locks kind=pt|as ...` lines.
 * report=1 sends these lines to HANDLE_SPAWN instead (userland/lib/bench.c).
 * Bad arguments get a usage message and status 2.
 */
#include <rivet.h>

#define MAX_PAIRS 32
#define STOP	  0x5709

struct pair {
	long ep;
	long deadline;
	unsigned long trips;
	long err;
} __attribute__((aligned(64)));

static struct pair pairs[MAX_PAIRS];

static void server(void *arg)
{
	struct pair *p = arg;
	struct ipc_msg m;
	long r = ipc_recv(p->ep, &m, 0);

	while (r == 0 && IPC_INFO_LABEL(m.info) != STOP) {
		m.w[0]++;
		r = ipc_reply_recv(p->ep, &m, 0);
	}
	if (r == 0)
		ipc_reply(&m);
	else
		p->err = r;
	sys_thread_exit(0);
}

static void client(void *arg)
{
	struct pair *p = arg;
	struct ipc_msg m = { .info = IPC_INFO(1, 0, 0) };
	unsigned long n = 0;

	/* The clock is read every 64 round trips only. */
	while ((n & 63) || sys_clock() < p->deadline) {
		unsigned long want = m.w[0] + 1;

		if (ipc_call(p->ep, &m, 0) || m.w[0] != want) {
			p->err = -1;
			break;
		}
		n++;
	}
	p->trips = n;
	m.info = IPC_INFO(STOP, 0, 0);
	ipc_call(p->ep, &m, 0);
	sys_thread_exit(0);
}

static int usage(const char *why, const char *arg)
{
	printf("ipc-pingpong: %s%s%s\n", why, arg ? ": " : "", arg ? arg : "");
	printf("usage: ipc-pingpong [pairs=1..%d] [seconds=1..3600] "
	       "[mode=same|cross] [report=0|1]\n", MAX_PAIRS);
	return 2;
}

int main(int argc, char **argv)
{
	static struct rivet_stats st, st1;	/* too big for the stack */
	struct bench_delta d = { 0 };
	unsigned long npairs = 1, seconds = 5, total = 0, c;
	bool cross = false;
	long tids[2 * MAX_PAIRS], t0, dt;
	unsigned int nharts;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "pairs=", 6)) {
			if (!bench_number(a + 6, 1, MAX_PAIRS, &npairs))
				return usage("bad pairs", a);
		} else if (!strncmp(a, "seconds=", 8)) {
			if (!bench_number(a + 8, 1, 3600, &seconds))
				return usage("bad seconds", a);
		} else if (!strcmp(a, "mode=same")) {
			cross = false;
		} else if (!strcmp(a, "mode=cross")) {
			cross = true;
		} else if (!strncmp(a, "report=", 7)) {
			if (bench_report_arg(a + 7))
				return usage("bad report", a);
		} else {
			return usage("unknown argument", a);
		}
	}
	if (sys_stats(&st))
		return 3;
	nharts = st.nharts;
	if (cross && nharts < 2)
		return usage("mode=cross needs 2 harts", NULL);
	t0 = sys_clock();
	for (unsigned long i = 0; i < npairs; i++) {
		int sh = cross ? (int)((2 * i) % nharts) : (int)(i % nharts);
		int ch = cross ? (int)((2 * i + 1) % nharts) : sh;

		pairs[i].ep = sys_endpoint_create();
		pairs[i].deadline = t0 + (long)seconds * 1000000000L;
		if (pairs[i].ep < 0)
			return usage("no endpoint", errno_name((int)pairs[i].ep));
		tids[2 * i] = thread_spawn(server, &pairs[i], sh);
		tids[2 * i + 1] = thread_spawn(client, &pairs[i], ch);
		if (tids[2 * i] < 0 || tids[2 * i + 1] < 0) {
			printf("ipc-pingpong: no threads for pair %lu\n", i);
			return 3;
		}
	}
	for (unsigned long i = 0; i < 2 * npairs; i++)
		thread_join(tids[i]);
	dt = sys_clock() - t0;
	sys_stats(&st1);
	bench_delta_add(&d, &st, &st1);
	for (unsigned long i = 0; i < npairs; i++) {
		if (pairs[i].err) {
			printf("ipc-pingpong: pair %lu failed: %ld\n", i,
			       pairs[i].err);
			return 1;
		}
		total += pairs[i].trips;
	}
	c = bench_contended_pct100(&d);
	bench_line("bench ipc-pingpong harts=%u pairs=%lu mode=%s seconds=%lu "
		   "round_trips=%lu per_s=%lu ns_per_op=%lu ptlock=%s "
		   "contended_pct=%lu.%02lu kfaults=%lu\n", nharts, npairs,
		   cross ? "cross" : "same", seconds, total,
		   total * 1000 / ((unsigned long)dt / 1000000 + 1),
		   total ? (unsigned long)dt * npairs / total : 0,
		   st1.ptlock_split ? "split" : "single", c / 100, c % 100,
		   d.kfaults);
	bench_print_locks("ipc-pingpong", 0, &d);
	return 0;
}
