/*
 * ipctest.c - user-space checks of handles, IPC and notifications, as one
 * KTAP suite "ipctest" (uktap.h). Run on 1, 4 and 8 harts by
 * tests/system/test_ipc.py.
 *
 * Cases: handle values and rights (forged, closed, wrong-type handles;
 * rights only ever reduced), calls with no receiver, timeouts, ping-pong
 * on one hart and across harts, many clients on every hart against one
 * server, payloads through the IPC buffer (and oversized ones), handles
 * carried by messages, servers and clients that die mid-call (threads and
 * whole processes, with ipcpeer as the other process), notifications, and
 * the frames every object gives back.
 *
 * The exit status is the number of failed cases.
 */
#include <uktap.h>

#define MS		1000000UL
#define HANDLE_TABLE_GUESS 256		/* more than a process may hold */
#define STOP		0xdead		/* label: the server thread ends */
#define EP_ALL		(HANDLE_R_SEND | HANDLE_R_RECV | HANDLE_R_GRANT | \
			 HANDLE_R_DUP)
#define NOTIFY_ALL	(HANDLE_R_SIGNAL | HANDLE_R_WAIT | HANDLE_R_GRANT | \
			 HANDLE_R_DUP)

static unsigned int nharts = 1;

/* Which calls the kernel's fast path may take: the ipcfast= boot option
 * it was started with, given again as ipctest's argument (ipcfast=off|
 * call|reply|on, default on). The cases that count fast calls expect
 * what that allows: none at all when off. */
#define FAST_CALL	1U
#define FAST_REPLY	2U
static unsigned int fast_mode = FAST_CALL | FAST_REPLY;

static unsigned long free_frames(void)
{
	static struct rivet_stats st;

	return sys_stats(&st) ? 0 : st.free_frames;
}

/* Calls and reply-receives the kernel's IPC fast path did so far. */
static unsigned long ipc_fast_count(void)
{
	static struct rivet_stats st;

	return sys_stats(&st) ? 0 : st.ipc_fast;
}

/* ---- an echo server thread ----------------------------------------------
 * Answers (w0 + 1, w1, w2, calls so far) until a call labelled STOP. With
 * payload, it sums the words it got into w2 and sends back @reply_len
 * words k * 3. */
struct server {
	long ep;
	int hart;
	bool payload;
	unsigned long reply_len;
	unsigned long calls;
	long err;		/* last failed IPC, 0 */
	long tid;
};

static void server_fn(void *arg)
{
	struct server *s = arg;
	unsigned long *buf = s->payload ? ipc_buffer_new() : NULL;
	struct ipc_msg m;
	long r;

	if (s->payload && !buf) {
		s->err = -E_NOMEM;
		sys_thread_exit(1);
	}
	r = ipc_recv(s->ep, &m, 0);
	while (r == 0 && IPC_INFO_LABEL(m.info) != STOP) {
		unsigned long sum = 0, len = IPC_INFO_LEN(m.info);

		for (unsigned long k = 0; buf && k < len; k++)
			sum += buf[k];
		for (unsigned long k = 0; buf && k < s->reply_len; k++)
			buf[k] = k * 3;
		s->calls++;
		m.w[0]++;
		if (s->payload)
			m.w[2] = sum;
		m.w[3] = s->calls;
		m.info = IPC_INFO(0, buf ? s->reply_len : 0, 0);
		r = ipc_reply_recv(s->ep, &m, 0);
	}
	if (r)
		s->err = r;
	else
		ipc_reply(&(struct ipc_msg){ 0 });
	if (buf)
		ipc_buffer_free(buf);
	sys_thread_exit(0);
}

static bool server_start(struct server *s, long ep, int hart)
{
	s->ep = ep;
	s->hart = hart;
	s->tid = thread_spawn(server_fn, s, hart);
	EXPECT(s->tid > 0, "server thread: %ld", s->tid);
	return s->tid > 0;
}

static void server_stop(struct server *s)
{
	struct ipc_msg m = { .info = IPC_INFO(STOP, 0, 0), .w = { 0 } };

	EXPECT_RET(ipc_call(s->ep, &m, 0), 0);
	EXPECT_RET(thread_join(s->tid), 0);
	EXPECT_RET(s->err, 0);
}

/* ---- handles ------------------------------------------------------------ */

static void handle_basics(void)
{
	long ep = sys_endpoint_create(), d;

	EXPECT(ep > 0, "endpoint_create: %ld", ep);
	EXPECT_RET(sys_handle_info(ep), HANDLE_T_ENDPOINT << 16 | EP_ALL);
	d = sys_handle_dup(ep, HANDLE_R_SEND);
	EXPECT(d > 0 && d != ep, "dup: %ld", d);
	EXPECT_RET(sys_handle_info(d), HANDLE_T_ENDPOINT << 16 | HANDLE_R_SEND);
	EXPECT_RET(sys_handle_close(d), 0);
	EXPECT_RET(sys_handle_close(d), -E_BADH);
	EXPECT_RET(sys_handle_info(d), -E_BADH);
	/* The slot comes back with another generation: the old value
	 * stays dead. */
	long d2 = sys_handle_dup(ep, HANDLE_R_SEND);

	EXPECT(d2 > 0 && d2 != d, "dup again: %ld (closed one was %ld)", d2, d);
	EXPECT_RET(sys_handle_info(d), -E_BADH);
	EXPECT_RET(sys_handle_close(d2), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void forged_handles(void)
{
	long ep = sys_endpoint_create();
	long bad[] = { 0, -1, 1, 0xff, 0x100, 0x7fffffff, 0x7fffffffffffffffL,
		       (long)0x8000000000000000UL, ep + 1, ep + 0x100,
		       ep ^ 0x100, ep + 0x1000000 };
	struct ipc_msg m = { 0 };
	unsigned long bits;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		long h = bad[i];

		EXPECT_RET(ipc_call(h, &m, IPC_POLL), -E_BADH);
		EXPECT_RET(ipc_recv(h, &m, IPC_POLL), -E_BADH);
		EXPECT_RET(sys_handle_close(h), -E_BADH);
		EXPECT_RET(sys_handle_dup(h, HANDLE_R_ALL), -E_BADH);
		EXPECT_RET(sys_handle_info(h), -E_BADH);
		EXPECT_RET(sys_notify_signal(h, 1), -E_BADH);
		EXPECT_RET(sys_notify_wait(h, &bits, IPC_POLL), -E_BADH);
	}
	/* A forged handle in a message is refused before anything is sent. */
	m.info = IPC_INFO(0, 0, IPC_INFO_HANDLE | IPC_INFO_GRANT(0xff));
	m.w[3] = (unsigned long)(ep + 1);
	EXPECT_RET(ipc_call(ep, &m, IPC_POLL), -E_BADH);
	EXPECT_RET(sys_handle_info(ep), HANDLE_T_ENDPOINT << 16 | EP_ALL);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void wrong_type(void)
{
	long ep = sys_endpoint_create(), n = sys_notify_create();
	struct ipc_msg m = { 0 };
	unsigned long bits;

	EXPECT_RET(sys_handle_info(n), HANDLE_T_NOTIFY << 16 | NOTIFY_ALL);
	EXPECT_RET(ipc_call(n, &m, IPC_POLL), -E_TYPE);
	EXPECT_RET(ipc_recv(n, &m, IPC_POLL), -E_TYPE);
	EXPECT_RET(sys_notify_signal(ep, 1), -E_TYPE);
	EXPECT_RET(sys_notify_wait(ep, &bits, IPC_POLL), -E_TYPE);
	EXPECT_RET(sys_handle_close(ep), 0);
	EXPECT_RET(sys_handle_close(n), 0);
}

static void rights_reduced(void)
{
	long ep = sys_endpoint_create(), n = sys_notify_create();
	long s = sys_handle_dup(ep, HANDLE_R_SEND | HANDLE_R_DUP), s2, w;
	struct ipc_msg m = { 0 };
	unsigned long bits;

	EXPECT_RET(ipc_recv(s, &m, IPC_POLL), -E_PERM);
	/* Asking for more gives no more. */
	s2 = sys_handle_dup(s, HANDLE_R_ALL);
	EXPECT_RET(sys_handle_info(s2), HANDLE_T_ENDPOINT << 16 |
					       HANDLE_R_SEND | HANDLE_R_DUP);
	EXPECT_RET(sys_handle_close(s2), 0);
	s2 = sys_handle_dup(s, HANDLE_R_SEND);
	EXPECT_RET(sys_handle_dup(s2, HANDLE_R_SEND), -E_PERM);
	/* No grant right: it cannot travel in a message. */
	m.info = IPC_INFO(0, 0, IPC_INFO_HANDLE | IPC_INFO_GRANT(0xff));
	m.w[3] = (unsigned long)s2;
	EXPECT_RET(ipc_call(ep, &m, IPC_POLL), -E_PERM);
	w = sys_handle_dup(n, HANDLE_R_WAIT);
	EXPECT_RET(sys_notify_signal(w, 1), -E_PERM);
	EXPECT_RET(sys_notify_wait(w, &bits, IPC_POLL), -E_TIMEDOUT);
	EXPECT_RET(sys_handle_close(w), 0);
	EXPECT_RET(sys_handle_close(s2), 0);
	EXPECT_RET(sys_handle_close(s), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
	EXPECT_RET(sys_handle_close(n), 0);
}

/* ---- calls without a partner --------------------------------------------- */

static void no_receiver_left(void)
{
	long ep = sys_endpoint_create();
	long s = sys_handle_dup(ep, HANDLE_R_SEND);
	struct ipc_msg m = { 0 };

	EXPECT_RET(sys_handle_close(ep), 0);	/* the only receive right */
	EXPECT_RET(ipc_call(s, &m, 0), -E_PEER);
	EXPECT_RET(ipc_reply(&m), -E_NOENT);	/* nothing is owed */
	EXPECT_RET(sys_handle_close(s), 0);
}

static void timeouts(void)
{
	long ep = sys_endpoint_create(), n = sys_notify_create();
	struct ipc_msg m = { 0 };
	unsigned long bits;
	long t0, dt;

	EXPECT_RET(ipc_recv(ep, &m, IPC_POLL), -E_TIMEDOUT);
	EXPECT_RET(ipc_call(ep, &m, IPC_POLL), -E_TIMEDOUT);
	t0 = sys_clock();
	EXPECT_RET(ipc_recv(ep, &m, 20 * MS), -E_TIMEDOUT);
	dt = sys_clock() - t0;
	EXPECT(dt >= (long)(20 * MS) && dt < (long)(5000 * MS),
	       "recv with a 20 ms timeout took %ld ns", dt);
	t0 = sys_clock();
	EXPECT_RET(ipc_call(ep, &m, 20 * MS), -E_TIMEDOUT);
	dt = sys_clock() - t0;
	EXPECT(dt >= (long)(20 * MS), "call with a 20 ms timeout took %ld ns",
	       dt);
	EXPECT_RET(sys_notify_wait(n, &bits, 10 * MS), -E_TIMEDOUT);
	/* The timed-out call left no trace: a server now sees nothing. */
	EXPECT_RET(ipc_recv(ep, &m, IPC_POLL), -E_TIMEDOUT);
	EXPECT_RET(sys_handle_close(ep), 0);
	EXPECT_RET(sys_handle_close(n), 0);
}

/* A timeout of about 21 days and one past it: ns * 10 MHz passes 2^64
 * there, and ns / 1000 * hz did too (the wait ended at the next tick).
 * A signal 30 ms later must be what ends the wait. */
#define LONG_TIMEOUT	1844674407371000UL

static void long_waiter_fn(void *arg)
{
	long *a = arg;
	unsigned long bits = 0;

	a[1] = sys_notify_wait(a[0], &bits, (unsigned long)a[3]);
	a[2] = (long)bits;
	sys_thread_exit(0);
}

static void long_timeouts(void)
{
	static const unsigned long tmo[] = { LONG_TIMEOUT - 1000000000UL,
					     LONG_TIMEOUT, 1UL << 61 };

	for (unsigned int i = 0; i < ARRAY_SIZE(tmo); i++) {
		long n = sys_notify_create(), tid, a[4], t0 = sys_clock();

		a[0] = n;
		a[1] = a[2] = -1;
		a[3] = (long)tmo[i];
		tid = thread_spawn(long_waiter_fn, a, -1);
		sys_sleep(30 * MS);
		EXPECT_RET(sys_notify_signal(n, 4), 0);
		if (tid > 0)
			EXPECT_RET(thread_join(tid), 0);
		EXPECT(a[1] == 0 && a[2] == 4,
		       "timeout %lu ns: wait gave %ld (bits %ld) after %ld ns",
		       tmo[i], a[1], a[2], sys_clock() - t0);
		EXPECT_RET(sys_handle_close(n), 0);
	}
}

/* ---- ping-pong ------------------------------------------------------------ */

struct client {
	long ep;
	unsigned int id, calls;
	unsigned long bad;	/* wrong answers */
	long err;
	unsigned int timeout_every;	/* N: every Nth call has a timeout
					 * (the general path); 0: none */
};

/* A poll that finds its server waiting is a call like any other: it
 * waits for the answer. (It returned -E_TIMEDOUT at once and left the
 * server it had handed the call to blocked for good, which a second call
 * then found out.) */
static void poll_finds_server(void)
{
	long ep = sys_endpoint_create();
	struct server s = { 0 };
	struct ipc_msg m;

	if (!server_start(&s, ep, -1))
		return;
	for (unsigned long i = 0; i < 3; i++) {
		long r;
		int tries = 0;

		/* Until the server waits (a loaded host may run it late): a
		 * poll that finds nobody fails at once and changes nothing. */
		do {
			sys_sleep(20 * MS);
			m = (struct ipc_msg){ .info = IPC_INFO(1, 0, 0),
					      .w = { i } };
			r = ipc_call(ep, &m, IPC_POLL);
		} while (r == -E_TIMEDOUT && ++tries < 100);
		EXPECT_RET(r, 0);
		EXPECT_RET(m.w[0], i + 1);
		m = (struct ipc_msg){ .info = IPC_INFO(1, 0, 0), .w = { i } };
		EXPECT_RET(ipc_call(ep, &m, 2000 * MS), 0);
		EXPECT_RET(m.w[0], i + 1);
	}
	server_stop(&s);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void client_fn(void *arg)
{
	struct client *c = arg;

	for (unsigned int i = 0; i < c->calls && !c->err; i++) {
		struct ipc_msg m = {
			.info = IPC_INFO(1, 0, 0),
			.w = { (unsigned long)c->id << 32 | i, c->id, i, 0 } };
		bool timed = c->timeout_every &&
			     i % c->timeout_every == c->timeout_every - 1;
		long r = ipc_call(c->ep, &m, timed ? 5000 * MS : 0);

		if (r)
			c->err = r;
		else if (m.w[0] != ((unsigned long)c->id << 32 | i) + 1 ||
			 m.w[1] != c->id || m.w[2] != i)
			c->bad++;
	}
	sys_thread_exit(0);
}

static void pingpong(int server_hart, int client_hart, unsigned int calls)
{
	long ep = sys_endpoint_create();
	struct server s = { 0 };
	struct client c = { .ep = ep, .id = 7, .calls = calls };
	unsigned long fast0 = ipc_fast_count(), fast;
	long tid, t0 = sys_clock();

	if (!server_start(&s, ep, server_hart))
		return;
	tid = thread_spawn(client_fn, &c, client_hart);
	EXPECT(tid > 0, "client thread: %ld", tid);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(c.err, 0);
	EXPECT_RET(c.bad, 0);
	EXPECT_RET(s.calls, calls);
	fast = ipc_fast_count() - fast0;
	printf(UKTAP_DIAG "%u round trips, server on hart %d, client on "
	       "hart %d: %ld ns each, %lu calls by the fast path\n", calls,
	       server_hart, client_hart, (sys_clock() - t0) / (long)calls,
	       fast);
	/* On one hart the server always waits when the client calls, and
	 * the caller when the server answers: every call and every
	 * reply-receive but the first few take the fast path. */
	/* With one side's calls only, each of those. */
	if (!fast_mode)
		EXPECT(fast == 0, "%lu calls by the fast path, which is off",
		       fast);
	else if (server_hart == client_hart && fast_mode != (FAST_CALL | FAST_REPLY))
		EXPECT(fast >= (unsigned long)calls - 8,
		       "%lu of %u calls or replies by the fast path", fast,
		       calls);
	else if (server_hart == client_hart)
		EXPECT(fast >= 2 * (unsigned long)calls - 8,
		       "%lu of %u calls and replies by the fast path", fast,
		       2 * calls);
	server_stop(&s);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void pingpong_same_hart(void)
{
	pingpong(0, 0, 2000);
}

static void pingpong_cross_hart(void)
{
	pingpong(0, nharts > 1 ? 1 : 0, 1000);
}

static void many_clients(void)
{
	static struct client cl[16];
	long ep = sys_endpoint_create(), tids[16];
	unsigned int n = nharts * 2 > 16 ? 16 : nharts * 2;
	struct server s = { 0 };

	if (!server_start(&s, ep, -1))
		return;
	for (unsigned int i = 0; i < n; i++) {
		cl[i] = (struct client){ .ep = ep, .id = i + 1, .calls = 200 };
		tids[i] = thread_spawn(client_fn, &cl[i], (int)(i % nharts));
		EXPECT(tids[i] > 0, "client %u: %ld", i, tids[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT_RET(cl[i].err, 0);
		EXPECT_RET(cl[i].bad, 0);
	}
	EXPECT_RET(s.calls, n * 200);
	server_stop(&s);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- payloads ------------------------------------------------------------- */

static void no_buffer_fn(void *arg)
{
	long ep = *(long *)arg;
	struct ipc_msg m = { .info = IPC_INFO(1, 1, 0), .w = { 0 } };

	/* Payload words without a buffer to take them from. */
	*(long *)arg = ipc_call(ep, &m, IPC_POLL);
	sys_thread_exit(0);
}

static void payload(void)
{
	long ep = sys_endpoint_create(), tid, arg;
	struct server s = { .payload = true, .reply_len = 100 };
	unsigned long *buf = ipc_buffer_new(), sum = 0;
	struct ipc_msg m;

	EXPECT(buf != NULL, "no IPC buffer");
	if (!buf || !server_start(&s, ep, -1))
		return;
	for (unsigned long k = 0; k < IPC_BUF_WORDS; k++) {
		buf[k] = k * 7 + 1;
		sum += buf[k];
	}
	m = (struct ipc_msg){ .info = IPC_INFO(1, IPC_BUF_WORDS, 0), .w = { 5 } };
	EXPECT_RET(ipc_call(ep, &m, 0), 0);
	EXPECT_RET(m.w[2], sum);
	EXPECT_RET(IPC_INFO_LEN(m.info), 100);
	for (unsigned long k = 0; k < 100; k++)
		if (buf[k] != k * 3) {
			EXPECT(buf[k] == k * 3, "reply word %lu: %lu", k,
			       buf[k]);
			break;
		}
	/* Too long: refused, and the server saw nothing. */
	m = (struct ipc_msg){ .info = IPC_INFO(1, IPC_BUF_WORDS + 1, 0), .w = { 0 } };
	EXPECT_RET(ipc_call(ep, &m, 0), -E_MSGSIZE);
	m = (struct ipc_msg){ .info = IPC_INFO(1, 1023, 0), .w = { 0 } };
	EXPECT_RET(ipc_call(ep, &m, 0), -E_MSGSIZE);
	arg = ep;
	tid = thread_spawn(no_buffer_fn, &arg, -1);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(arg, -E_MSGSIZE);
	EXPECT_RET(s.calls, 1);
	server_stop(&s);
	ipc_buffer_free(buf);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- handles in messages --------------------------------------------------- */

struct xfer_server {
	long ep;
	long got_rights, sig, wait_err;
	long err;
};

static void xfer_server_fn(void *arg)
{
	struct xfer_server *x = arg;
	struct ipc_msg m;
	unsigned long bits;
	long r = ipc_recv(x->ep, &m, 0);

	if (r) {
		x->err = r;
		sys_thread_exit(0);
	}
	if (!(m.info & IPC_INFO_HANDLE)) {
		x->err = -E_NOENT;
	} else {
		long h = (long)m.w[3];

		x->got_rights = sys_handle_info(h);
		x->sig = sys_notify_signal(h, 4);
		x->wait_err = sys_notify_wait(h, &bits, IPC_POLL);
		sys_handle_close(h);
	}
	m.info = 0;
	ipc_reply(&m);
	sys_thread_exit(0);
}

static void handle_transfer(void)
{
	long ep = sys_endpoint_create(), n = sys_notify_create(), tid;
	struct xfer_server x = { .ep = ep };
	struct ipc_msg m;
	unsigned long bits = 0;

	tid = thread_spawn(xfer_server_fn, &x, -1);
	EXPECT(tid > 0, "server: %ld", tid);
	if (tid <= 0)
		return;
	/* Send it with only the signal right kept. */
	m = (struct ipc_msg){
		.info = IPC_INFO(1, 0, IPC_INFO_HANDLE |
					       IPC_INFO_GRANT(HANDLE_R_SIGNAL)),
		.w = { 0, 0, 0, (unsigned long)n } };
	EXPECT_RET(ipc_call(ep, &m, 0), 0);
	EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(x.err, 0);
	EXPECT_RET(x.got_rights, HANDLE_T_NOTIFY << 16 | HANDLE_R_SIGNAL);
	EXPECT_RET(x.sig, 0);
	EXPECT_RET(x.wait_err, -E_PERM);
	EXPECT_RET(sys_notify_wait(n, &bits, IPC_POLL), 0);
	EXPECT_RET(bits, 4);
	/* The sender's own handle is untouched. */
	EXPECT_RET(sys_handle_info(n), HANDLE_T_NOTIFY << 16 | NOTIFY_ALL);
	EXPECT_RET(sys_handle_close(n), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- partners that end -------------------------------------------------- */

static void quitter_fn(void *arg)
{
	struct ipc_msg m;

	/* Receive one call and end without answering it. */
	if (ipc_recv(*(long *)arg, &m, 0) == 0)
		sys_thread_exit(0);
	sys_thread_exit(1);
}

static void server_thread_ends_owing(void)
{
	long ep = sys_endpoint_create(), tid;
	struct ipc_msg m = { 0 };

	tid = thread_spawn(quitter_fn, &ep, -1);
	EXPECT_RET(ipc_call(ep, &m, 5000 * MS), -E_PEER);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* A call queued on an endpoint, carrying a receive right to that same
 * endpoint: once the last handle that can receive there is closed, only
 * a receiver there could take the right out, and there is none. The
 * call must fail (-E_PEER), not wait for ever keeping the endpoint
 * alive (sysfuzz seed 329, ptlock=single: a worker hung so). */
static void self_carrier_fn(void *arg)
{
	long *a = arg, t0 = sys_clock();
	struct ipc_msg m = { IPC_INFO(7, 0, IPC_INFO_HANDLE |
				     IPC_INFO_GRANT(HANDLE_R_ALL)),
			     { 0, 0, 0, (unsigned long)a[0] }, 0 };

	a[1] = ipc_call(a[0], &m, 2000 * MS);
	a[2] = sys_clock() - t0;
	sys_thread_exit(0);
}

static void call_carries_own_receive_right(void)
{
	long ep = sys_endpoint_create(), tid, a[3] = { ep, 1, 0 };

	tid = thread_spawn(self_carrier_fn, a, -1);
	sys_sleep(30 * MS);		/* queued by now */
	EXPECT_RET(sys_handle_close(ep), 0);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT(a[1] == -E_PEER && a[2] < (long)(1000 * MS),
	       "the call gave %ld (%s) after %ld ns", a[1],
	       uktap_ret_name(a[1]), a[2]);
}

#define WAIT_RECV	1	/* client.id of a one_wait_fn that receives */

/* One call (or with id WAIT_RECV, one receive) on c->ep, waiting at most
 * 5 s: its result in c->err. */
static void one_wait_fn(void *arg)
{
	struct client *c = arg;
	struct ipc_msg m = { 0 };

	c->err = c->id == WAIT_RECV ? ipc_recv(c->ep, &m, 5000 * MS)
				    : ipc_call(c->ep, &m, 5000 * MS);
	sys_thread_exit(0);
}

static void queued_callers_fail(void)
{
	long ep = sys_endpoint_create(), tids[3];
	struct client c[3];

	for (int i = 0; i < 3; i++) {
		c[i] = (struct client){ .ep = sys_handle_dup(ep, HANDLE_R_SEND) };
		tids[i] = thread_spawn(one_wait_fn, &c[i], -1);
	}
	sys_sleep(30 * MS);	/* let them queue */
	EXPECT_RET(sys_handle_close(ep), 0);	/* no receiver ever */
	for (int i = 0; i < 3; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT_RET(c[i].err, -E_PEER);
		EXPECT_RET(sys_handle_close(c[i].ep), 0);
	}
}

/* Receivers still waiting when the last receive right closes can never be
 * called: they fail with -E_PEER at once (they waited out their timeout
 * before, or for ever without one). */
static void queued_receivers_fail(void)
{
	long ep = sys_endpoint_create(), s = sys_handle_dup(ep, HANDLE_R_SEND);
	long tids[2];
	struct client c[2];
	struct ipc_msg m = { 0 };
	unsigned int queued = 0;

	for (int i = 0; i < 2; i++) {
		c[i] = (struct client){ .ep = ep, .id = WAIT_RECV };
		tids[i] = thread_spawn(one_wait_fn, &c[i], -1);
	}
	sys_sleep(100 * MS);	/* let them queue */
	EXPECT_RET(sys_handle_close(ep), 0);	/* the only receive right */
	for (int i = 0; i < 2; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		/* One the host ran too late to queue finds its handle gone. */
		EXPECT(c[i].err == -E_PEER || c[i].err == -E_BADH,
		       "receiver %d: %ld", i, c[i].err);
		queued += c[i].err == -E_PEER;
	}
	EXPECT(queued > 0, "no receiver was queued when the right closed");
	EXPECT_RET(ipc_call(s, &m, 0), -E_PEER);
	EXPECT_RET(sys_handle_close(s), 0);
}

/* A child ipcpeer in @mode holding @ep with all its rights. */
static long peer(const char *mode, long ep)
{
	long pid = sys_spawn_handle("ipcpeer", mode, ep);

	EXPECT(pid > 0, "spawn ipcpeer %s: %ld", mode, pid);
	return pid;
}

static void cross_process_echo(void)
{
	long ep = sys_endpoint_create(), pid;
	struct ipc_msg m;

	pid = peer("echo", ep);
	if (pid <= 0)
		return;
	for (unsigned long i = 0; i < 100; i++) {
		m = (struct ipc_msg){ .info = IPC_INFO(1, 0, 0), .w = { i } };
		EXPECT_RET(ipc_call(ep, &m, 5000 * MS), 0);
		EXPECT_RET(m.w[0], i + 1);
	}
	m = (struct ipc_msg){ .info = IPC_INFO(0xdead, 0, 0), .w = { 0 } };
	EXPECT_RET(ipc_call(ep, &m, 5000 * MS), 0);
	EXPECT_RET(sys_wait(pid), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void dead_server_process(void)
{
	long ep = sys_endpoint_create(), s, pid, tid, t0;
	struct client c;
	struct ipc_msg m = { 0 };

	pid = peer("noreply", ep);
	s = sys_handle_dup(ep, HANDLE_R_SEND);
	EXPECT_RET(sys_handle_close(ep), 0);	/* the child receives alone */
	if (pid <= 0)
		return;
	c = (struct client){ .ep = s };
	t0 = sys_clock();
	tid = thread_spawn(one_wait_fn, &c, -1);
	sys_sleep(50 * MS);	/* the child has the call now */
	EXPECT_RET(sys_kill(pid), 0);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(c.err, -E_PEER);
	EXPECT(sys_clock() - t0 < (long)(4000 * MS),
	       "the caller waited %ld ns", sys_clock() - t0);
	EXPECT_RET(sys_wait(pid), -1);
	/* Nobody can receive any more: later calls fail at once. */
	EXPECT_RET(ipc_call(s, &m, 0), -E_PEER);
	EXPECT_RET(sys_handle_close(s), 0);
}

static void dead_client_process(void)
{
	long ep = sys_endpoint_create(), pid;
	struct ipc_msg m;

	pid = peer("call", ep);
	if (pid <= 0)
		return;
	EXPECT_RET(ipc_recv(ep, &m, 5000 * MS), 0);
	EXPECT_RET(m.w[0], 42);
	EXPECT_RET((long)(m.sender >> 32), pid);
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_wait(pid), -1);
	m.info = 0;
	EXPECT_RET(ipc_reply(&m), -E_PEER);
	EXPECT_RET(sys_handle_close(ep), 0);
}

static void kill_blocked_receiver(void)
{
	long ep = sys_endpoint_create(), pid, t0;

	pid = peer("recv", ep);
	if (pid <= 0)
		return;
	sys_sleep(20 * MS);
	t0 = sys_clock();
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_wait(pid), -1);
	EXPECT(sys_clock() - t0 < (long)(2000 * MS),
	       "the kill took %ld ns", sys_clock() - t0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- the fast path's edges ----------------------------------------------- */

/* Receives one call and answers it with a handle (the general path). */
struct gift_server {
	long ep, gift;
	long err;
};

static void gift_server_fn(void *arg)
{
	struct gift_server *g = arg;
	struct ipc_msg m;
	long r = ipc_recv(g->ep, &m, 0);

	if (!r) {
		m.info = IPC_INFO(0, 0, IPC_INFO_HANDLE |
					       IPC_INFO_GRANT(HANDLE_R_SIGNAL));
		m.w[3] = (unsigned long)g->gift;
		r = ipc_reply(&m);
	}
	g->err = r;
	sys_thread_exit(0);
}

struct gift_client {
	long ep, err, h, info;
	unsigned long fast;
};

static void gift_client_fn(void *arg)
{
	struct gift_client *c = arg;
	struct ipc_msg m = { .info = IPC_INFO(1, 0, 0) };
	unsigned long fast0;

	sys_sleep(20 * MS);		/* the server is waiting by now */
	fast0 = ipc_fast_count();
	c->err = ipc_call(c->ep, &m, 0);
	c->fast = ipc_fast_count() - fast0;
	c->h = (long)m.w[3];
	c->info = (long)m.info;
	sys_thread_exit(0);
}

/*
 * A call the fast path makes (its server waits on the same hart) whose
 * answer comes the general way with a handle: the caller gets the handle
 * installed. Then a server process killed while it waits in the fast
 * path's reply-and-receive.
 */
static void fast_path_edges(void)
{
	long ep = sys_endpoint_create(), n = sys_notify_create(), ts, tc, pid;
	struct gift_server g = { ep, n, 0 };
	struct gift_client c = { .ep = ep };
	struct ipc_msg m;

	ts = thread_spawn(gift_server_fn, &g, 0);
	tc = thread_spawn(gift_client_fn, &c, 0);
	EXPECT(ts > 0 && tc > 0, "threads: %ld %ld", ts, tc);
	if (ts <= 0 || tc <= 0)
		return;
	EXPECT_RET(thread_join(tc), 0);
	EXPECT_RET(thread_join(ts), 0);
	EXPECT_RET(g.err, 0);
	EXPECT_RET(c.err, 0);
	if (fast_mode & FAST_CALL)
		EXPECT(c.fast >= 1, "the call did not take the fast path (%lu)",
		       c.fast);
	EXPECT(c.info & IPC_INFO_HANDLE, "no handle came: info %#lx",
	       (unsigned long)c.info);
	EXPECT_RET(sys_handle_info(c.h), HANDLE_T_NOTIFY << 16 |
						 HANDLE_R_SIGNAL);
	EXPECT_RET(sys_notify_signal(c.h, 1), 0);
	EXPECT_RET(sys_handle_close(c.h), 0);

	/* An echo server answers twice, so that it waits in its
	 * reply-and-receive, then is killed there. */
	pid = peer("echo", ep);
	if (pid > 0) {
		for (unsigned long i = 0; i < 2; i++) {
			m = (struct ipc_msg){ .info = IPC_INFO(1, 0, 0),
					      .w = { i } };
			EXPECT_RET(ipc_call(ep, &m, 0), 0);
			EXPECT_RET(m.w[0], i + 1);
		}
		EXPECT_RET(sys_kill(pid), 0);
		EXPECT_RET(sys_wait(pid), -1);
		/* Its receive right is gone with it: calls fail at once. */
		EXPECT_RET(sys_handle_close(ep), 0);
	}
	EXPECT_RET(sys_handle_close(n), 0);
}

/* ---- notifications ------------------------------------------------------- */

/* ---- parked threads -------------------------------------------------------
 * The fast path parks a thread waiting in a same-hart call or reply-and-
 * receive: it keeps only its trap frame, and its partner's fast path runs
 * it straight from there (kern/sched_park.h). This case resumes parked
 * threads every other way: a general-path reply or call, a wake-up that
 * another hart steals (fast_path_edges kills one).
 */

static unsigned long mixed_calls;	/* atomic: by every mixed server */

/* An echo server (as server_fn, without payloads) that answers every
 * third call the general way (SYS_IPC_REPLY, then SYS_IPC_RECV: a parked
 * caller is woken and queued, and may be stolen) and yields before every
 * fifth. */
static void mixed_server_fn(void *arg)
{
	struct server *s = arg;
	struct ipc_msg m;
	long r = ipc_recv(s->ep, &m, 0);

	while (r == 0 && IPC_INFO_LABEL(m.info) != STOP) {
		unsigned long n = __atomic_add_fetch(&mixed_calls, 1,
						     __ATOMIC_RELAXED);

		m.w[0]++;
		m.info = IPC_INFO(0, 0, 0);
		if (n % 5 == 0)
			sys_yield();
		if (n % 3 == 0) {
			r = ipc_reply(&m);
			if (r == 0)
				r = ipc_recv(s->ep, &m, 0);
		} else {
			r = ipc_reply_recv(s->ep, &m, 0);
		}
	}
	if (r)
		s->err = r;
	else
		ipc_reply(&(struct ipc_msg){ 0 });
	sys_thread_exit(0);
}

/* @ns mixed servers and @nc clients of @calls calls each (every seventh
 * with a timeout), all on @hart (-1: any), until every answer came: each
 * one checked, nothing lost. Return: the calls and replies the fast path did meanwhile. */
static unsigned long mixed_run(unsigned int ns, unsigned int nc, int hart,
			       unsigned int calls)
{
	static struct client cl[8];
	static struct server sv[2];
	long ep = sys_endpoint_create(), tids[8];
	unsigned long fast0 = ipc_fast_count();

	mixed_calls = 0;
	for (unsigned int k = 0; k < ns; k++) {
		sv[k] = (struct server){ .ep = ep, .hart = hart };
		sv[k].tid = thread_spawn(mixed_server_fn, &sv[k], hart);
		EXPECT(sv[k].tid > 0, "server %u: %ld", k, sv[k].tid);
	}
	for (unsigned int i = 0; i < nc; i++) {
		cl[i] = (struct client){ .ep = ep, .id = i + 1, .calls = calls,
					 .timeout_every = 7 };
		tids[i] = thread_spawn(client_fn, &cl[i], hart);
		EXPECT(tids[i] > 0, "client %u: %ld", i, tids[i]);
	}
	for (unsigned int i = 0; i < nc; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT_RET(cl[i].err, 0);
		EXPECT_RET(cl[i].bad, 0);
	}
	fast0 = ipc_fast_count() - fast0;
	printf(UKTAP_DIAG "%u clients, %u servers, hart %d: %lu calls, %lu "
	       "calls and replies by the fast path\n", nc, ns, hart,
	       __atomic_load_n(&mixed_calls, __ATOMIC_RELAXED), fast0);
	EXPECT_RET(__atomic_load_n(&mixed_calls, __ATOMIC_RELAXED),
		   nc * calls);
	for (unsigned int k = 0; k < ns; k++) {
		struct ipc_msg m = { .info = IPC_INFO(STOP, 0, 0) };

		EXPECT_RET(ipc_call(ep, &m, 0), 0);
	}
	for (unsigned int k = 0; k < ns; k++) {
		if (sv[k].tid > 0)
			EXPECT_RET(thread_join(sv[k].tid), 0);
		EXPECT_RET(sv[k].err, 0);
	}
	EXPECT_RET(sys_handle_close(ep), 0);
	return fast0;
}

/*
 * First one pair on hart 0: the client parks in nearly every call (its
 * server waits on its hart), and is run straight from its frame by a
 * fast reply, or woken the general way by every third reply and resumed
 * through its context. Then clients and two servers on any hart (one
 * client per hart and 150 calls each: with 8 harts on a 2-core host,
 * vCPUs descheduled holding or queued for the endpoint lock make a call
 * cost milliseconds), where parked threads are also stolen.
 */
static void parked_resumed_every_way(void)
{
	unsigned int n = nharts > 8 ? 8 : nharts < 2 ? 2 : nharts;
	unsigned long fast = mixed_run(1, 1, 0, 300);

	/* Of 600 calls and replies, the general path does every third
	 * reply and every seventh call (with a timeout), and the fast path
	 * declines while this thread's polling join holds the hart: 372
	 * fast on an idle host, each one parking its thread. */
	if (fast_mode == (FAST_CALL | FAST_REPLY))
		EXPECT(fast >= 200, "only %lu of 600 calls and replies by the "
		       "fast path", fast);
	else if (!fast_mode)
		EXPECT(fast == 0, "%lu calls by the fast path, which is off",
		       fast);
	mixed_run(2, n, -1, 150);
}

static void waiter_fn(void *arg)
{
	long *a = arg;
	unsigned long bits = 0;

	a[1] = sys_notify_wait(a[0], &bits, 5000 * MS);
	a[2] = (long)bits;
	sys_thread_exit(0);
}

static void notifications(void)
{
	long n = sys_notify_create(), tid, a[3];
	unsigned long bits = 0;

	EXPECT_RET(sys_notify_signal(n, 1), 0);
	EXPECT_RET(sys_notify_signal(n, 2), 0);
	EXPECT_RET(sys_notify_wait(n, &bits, IPC_POLL), 0);
	EXPECT_RET(bits, 3);
	EXPECT_RET(sys_notify_wait(n, &bits, IPC_POLL), -E_TIMEDOUT);
	a[0] = n;
	a[1] = a[2] = -1;
	tid = thread_spawn(waiter_fn, a, nharts > 1 ? 1 : 0);
	sys_sleep(20 * MS);
	EXPECT_RET(sys_notify_signal(n, 8), 0);
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT_RET(a[1], 0);
	EXPECT_RET(a[2], 8);
	EXPECT_RET(sys_handle_close(n), 0);
}

/* ---- resources ------------------------------------------------------------ */

static void objects_released(void)
{
	long h[80];
	unsigned long before = free_frames(), after;

	for (int i = 0; i < 80; i++)
		h[i] = i % 2 ? sys_notify_create() : sys_endpoint_create();
	for (int i = 0; i < 80; i++)
		EXPECT(h[i] > 0, "object %d: %ld", i, h[i]);
	EXPECT(free_frames() < before, "80 objects took no memory");
	for (int i = 0; i < 80; i++)
		EXPECT_RET(sys_handle_close(h[i]), 0);
	after = free_frames();
	EXPECT(after == before, "free frames %lu before, %lu after", before,
	       after);
}

static void handle_table_full(void)
{
	static long h[HANDLE_TABLE_GUESS];
	long ep = sys_endpoint_create(), got = 0, r = 0;

	while (got < HANDLE_TABLE_GUESS) {
		r = sys_handle_dup(ep, HANDLE_R_SEND);
		if (r < 0)
			break;
		h[got++] = r;
	}
	EXPECT_RET(r, -E_NOMEM);
	EXPECT(got > 100, "only %ld handles", got);
	while (got > 0)
		EXPECT_RET(sys_handle_close(h[--got]), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
}

/* ---- pagers ------------------------------------------------------------- */

#define OBJ_PAGES	64

/* A pager thread: its memory object is @mem (OBJ_PAGES pages of its own);
 * each fault is answered with the object's page at the offset asked,
 * whose first word it sets to key << 32 | offset on first use. With
 * @refuse it answers without a page. */
struct pager {
	long ep;
	unsigned long *mem;
	unsigned long faults;	/* atomic */
	bool refuse;
	long err, tid;
};

static void pager_fn(void *arg)
{
	struct pager *pg = arg;
	struct ipc_msg m;
	long r = ipc_recv(pg->ep, &m, 0);

	while (r == 0 && IPC_INFO_LABEL(m.info) == PAGER_FAULT) {
		unsigned long off = m.w[1], key = m.w[0];
		unsigned long *page = pg->mem + off / 8;

		__atomic_fetch_add(&pg->faults, 1, __ATOMIC_RELAXED);
		if (off >= OBJ_PAGES * 4096UL || pg->refuse) {
			m.info = IPC_INFO(1, 0, 0);
		} else {
			if (!page[0])
				page[0] = key << 32 | off;
			m.info = IPC_INFO(0, 0, IPC_INFO_PAGE);
			m.w[0] = (unsigned long)page;
		}
		r = ipc_reply_recv(pg->ep, &m, 0);
	}
	if (r == 0)
		ipc_reply(&(struct ipc_msg){ 0 });	/* the STOP call */
	else
		pg->err = r;
	sys_thread_exit(0);
}

static bool pager_start(struct pager *pg)
{
	long mem = sys_map(0, OBJ_PAGES * 4096UL, PROT_READ | PROT_WRITE);

	pg->ep = sys_endpoint_create();
	pg->mem = (unsigned long *)mem;
	EXPECT(mem > 0 && pg->ep > 0, "pager memory %ld, endpoint %ld", mem,
	       pg->ep);
	if (mem <= 0 || pg->ep <= 0)
		return false;
	pg->tid = thread_spawn(pager_fn, pg, -1);
	EXPECT(pg->tid > 0, "pager thread: %ld", pg->tid);
	return pg->tid > 0;
}

static void pager_stop(struct pager *pg)
{
	struct ipc_msg m = { .info = IPC_INFO(STOP, 0, 0) };

	EXPECT_RET(ipc_call(pg->ep, &m, 0), 0);
	EXPECT_RET(thread_join(pg->tid), 0);
	EXPECT_RET(pg->err, 0);
	EXPECT_RET(sys_unmap(pg->mem, OBJ_PAGES * 4096UL), 0);
	EXPECT_RET(sys_handle_close(pg->ep), 0);
}

struct toucher {
	unsigned long *region;
	unsigned int id, n;
	unsigned long first, count;	/* pages [first, first+count) */
	long deadline;			/* 0: one pass */
	unsigned long bad, passes;
};

/* Write this thread's mark into its pages, then read every page of the
 * range (all threads' marks visible: the object is shared). */
static void toucher_fn(void *arg)
{
	struct toucher *t = arg;

	do {
		for (unsigned long k = t->first; k < t->first + t->count; k++) {
			volatile unsigned long *w =
				(volatile unsigned long *)((char *)t->region +
							   k * 4096);

			if (w[0] != (1UL << 32 | k * 4096))
				t->bad++;
			if (k % t->n == t->id)
				w[1] = k + 1;
		}
		t->passes++;
	} while (t->deadline && sys_clock() < t->deadline);
	sys_thread_exit(0);
}

static void pager_many_harts(void)
{
	static struct toucher tt[8];
	struct pager pg = { 0 };
	long va, tids[8];

	if (!pager_start(&pg))
		return;
	va = sys_map_pager(0, OBJ_PAGES * 4096UL, PROT_READ | PROT_WRITE,
			   pg.ep, 1);
	EXPECT(va > 0, "map_pager: %ld", va);
	for (unsigned int i = 0; va > 0 && i < 8; i++) {
		tt[i] = (struct toucher){ (unsigned long *)va, i, 8, 0,
					  OBJ_PAGES, 0, 0, 0 };
		tids[i] = thread_spawn(toucher_fn, &tt[i], (int)(i % nharts));
	}
	for (unsigned int i = 0; va > 0 && i < 8; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT_RET(tt[i].bad, 0);
	}
	/* Shared memory: the marks are in the pager's object. */
	for (unsigned long k = 0; va > 0 && k < OBJ_PAGES; k++)
		if (pg.mem[k * 512 + 1] != k + 1) {
			EXPECT(pg.mem[k * 512 + 1] == k + 1,
			       "object page %lu word 1: %lu", k,
			       pg.mem[k * 512 + 1]);
			break;
		}
	EXPECT(pg.faults >= OBJ_PAGES && pg.faults <= 8 * OBJ_PAGES,
	       "%lu pager faults for %d pages", pg.faults, OBJ_PAGES);
	printf(UKTAP_DIAG "%lu pager faults for %d pages on %u harts\n",
	       pg.faults, OBJ_PAGES, nharts);
	/* Evict the first half: unmapped, refaulted, contents kept. */
	unsigned long f0 = pg.faults;

	EXPECT_RET(sys_pager_evict(pg.ep, 1, 0, OBJ_PAGES / 2 * 4096UL),
		   OBJ_PAGES / 2);
	EXPECT_RET(sys_pager_evict(pg.ep, 1, 0, OBJ_PAGES / 2 * 4096UL), 0);
	for (unsigned long k = 0; va > 0 && k < OBJ_PAGES; k++) {
		unsigned long w = ((volatile unsigned long *)va)[k * 512 + 1];

		if (w != k + 1) {
			EXPECT(w == k + 1, "page %lu after eviction: %lu", k,
			       w);
			break;
		}
	}
	EXPECT_RET(pg.faults - f0, OBJ_PAGES / 2);
	/* Bad evictions. */
	EXPECT_RET(sys_pager_evict(pg.ep, 1, 1, 4096), -E_INVAL);
	EXPECT_RET(sys_pager_evict(pg.ep, 1, 0, 0), -E_INVAL);
	long s = sys_handle_dup(pg.ep, HANDLE_R_SEND);

	EXPECT_RET(sys_pager_evict(s, 1, 0, 4096), -E_PERM);
	EXPECT_RET(sys_handle_close(s), 0);
	if (va > 0)
		EXPECT_RET(sys_unmap((void *)va, OBJ_PAGES * 4096UL), 0);
	pager_stop(&pg);
}

static void pager_evict_while_faulting(void)
{
	static struct toucher tt[4];
	struct pager pg = { 0 };
	long va, tids[4], evicted = 0, rounds = 0;
	unsigned int n = nharts > 1 ? 4 : 2;

	if (!pager_start(&pg))
		return;
	va = sys_map_pager(0, OBJ_PAGES * 4096UL, PROT_READ | PROT_WRITE,
			   pg.ep, 1);
	EXPECT(va > 0, "map_pager: %ld", va);
	if (va <= 0) {
		pager_stop(&pg);
		return;
	}
	/* Threads fault the upper half over and over; the lower half is
	 * evicted meanwhile, which must not disturb them. */
	for (unsigned int i = 0; i < n; i++) {
		tt[i] = (struct toucher){ (unsigned long *)va, i, n,
					  OBJ_PAGES / 2, OBJ_PAGES / 2, 0, 0,
					  0 };
		tt[i].deadline = sys_clock() + (long)(300 * MS);
		tids[i] = thread_spawn(toucher_fn, &tt[i], (int)(i % nharts));
	}
	while (sys_clock() < tt[0].deadline) {
		for (unsigned long k = 0; k < OBJ_PAGES / 2; k += 4)
			(void)((volatile unsigned long *)va)[k * 512];
		evicted += sys_pager_evict(pg.ep, 1, 0,
					   OBJ_PAGES / 2 * 4096UL);
		rounds++;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT_RET(tt[i].bad, 0);
		EXPECT(tt[i].passes > 0, "thread %u made no pass", i);
	}
	EXPECT(evicted >= rounds * (OBJ_PAGES / 8) / 2,
	       "%ld pages evicted in %ld rounds", evicted, rounds);
	printf(UKTAP_DIAG "%ld evictions of %ld pages while %u threads "
	       "faulted elsewhere\n", rounds, evicted, n);
	EXPECT_RET(sys_unmap((void *)va, OBJ_PAGES * 4096UL), 0);
	pager_stop(&pg);
}

static void pager_cross_process(void)
{
	struct pager pg = { 0 };
	long pid;

	if (!pager_start(&pg))
		return;
	pid = sys_spawn_handle("ipcpeer", "touch", pg.ep);
	EXPECT(pid > 0, "spawn: %ld", pid);
	if (pid > 0)
		EXPECT_RET(sys_wait(pid), 0);
	/* A pager that answers without a page: the child is killed (one
	 * report line), the pager and this process live on. */
	pg.refuse = true;
	pid = sys_spawn_handle("ipcpeer", "touch", pg.ep);
	if (pid > 0)
		EXPECT_RET(sys_wait(pid), -1);
	pg.refuse = false;
	pager_stop(&pg);
}

static void pager_gone(void)
{
	long ep = sys_endpoint_create(), pid;
	long s = sys_handle_dup(ep, HANDLE_R_SEND | HANDLE_R_GRANT);

	/* Nobody serves the endpoint once we close our receive right:
	 * the child's first touch finds no pager and it is killed. */
	pid = sys_spawn_handle("ipcpeer", "touch", s);
	EXPECT(pid > 0, "spawn: %ld", pid);
	EXPECT_RET(sys_handle_close(s), 0);
	EXPECT_RET(sys_handle_close(ep), 0);
	if (pid > 0)
		EXPECT_RET(sys_wait(pid), -1);
}

static const struct uktap_case cases[] = {
	{ "handle_basics", handle_basics },
	{ "forged_handles", forged_handles },
	{ "wrong_type", wrong_type },
	{ "rights_reduced", rights_reduced },
	{ "no_receiver_left", no_receiver_left },
	{ "queued_receivers_fail", queued_receivers_fail },
	{ "timeouts", timeouts },
	{ "long_timeouts", long_timeouts },
	{ "poll_finds_server", poll_finds_server },
	{ "pingpong_same_hart", pingpong_same_hart },
	{ "pingpong_cross_hart", pingpong_cross_hart },
	{ "many_clients", many_clients },
	{ "payload", payload },
	{ "handle_transfer", handle_transfer },
	{ "fast_path_edges", fast_path_edges },
	{ "parked_resumed_every_way", parked_resumed_every_way },
	{ "server_thread_ends_owing", server_thread_ends_owing },
	{ "queued_callers_fail", queued_callers_fail },
	{ "call_carries_own_receive_right", call_carries_own_receive_right },
	{ "cross_process_echo", cross_process_echo },
	{ "dead_server_process", dead_server_process },
	{ "dead_client_process", dead_client_process },
	{ "kill_blocked_receiver", kill_blocked_receiver },
	{ "notifications", notifications },
	{ "pager_many_harts", pager_many_harts },
	{ "pager_evict_while_faulting", pager_evict_while_faulting },
	{ "pager_cross_process", pager_cross_process },
	{ "pager_gone", pager_gone },
	{ "handle_table_full", handle_table_full },
	{ "objects_released", objects_released },
};

int main(int argc, char **argv)
{
	static struct rivet_stats st;

	static const char *const modes[] = { "off", "call", "reply", "on" };
	int i;

	for (i = 1; i < argc; i++) {
		unsigned int m;

		for (m = 0; m < 4; m++)
			if (!strncmp(argv[i], "ipcfast=", 8) &&
			    !strcmp(argv[i] + 8, modes[m]))
				break;
		if (m == 4) {
			printf("ipctest: bad argument: %s\n"
			       "usage: ipctest [ipcfast=off|call|reply|on]\n",
			       argv[i]);
			return 2;
		}
		fast_mode = m;
	}
	if (sys_stats(&st) == 0)
		nharts = st.nharts;
	return uktap_run("ipctest", cases, ARRAY_SIZE(cases));
}
