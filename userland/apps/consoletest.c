/*
 * consoletest.c - the console server from a client's side, as one KTAP
 * suite "consoletest" (uktap.h), then a flood of numbered lines right
 * before it ends. Run by init (`-- names console test=consoletest`) or by
 * the shell (`run consoletest`); both hand it the name-server endpoint as
 * HANDLE_SPAWN (docs/servers.md).
 *
 * The cases: CONSOLE_WRITE prints and counts, CONSOLE_FLUSH answers, and
 * bad requests get errors (unknown flags, CONSOLE_FLUSH_HOLD from a
 * process that is not init, a write longer than its payload, a read whose
 * prompt is longer than its payload or not printable, an unknown
 * request).
 *
 * The flood: LINES numbered lines printed as fast as printf goes, then
 * the exit. Under init's test= that is the moment init shuts down, with
 * most of them still in the kernel's log or in the console server's
 * hands. tests/system/test_servers.py checks that every one reached the
 * screen, in order, before init's last lines: init must have the server
 * flush (CONSOLE_FLUSH) before it kills it.
 *
 *   consoletest [lines=N]   the suite and N flood lines (default LINES)
 *   consoletest read        no suite: reads one line at the prompt
 *                           "consoletest> " while another thread prints
 *                           "consoletest: tick N" every 250 ms, then prints
 *                           "consoletest: read 'LINE'" (test_shell.py
 *                           types it: the line being typed stays below
 *                           the ticks, whole)
 */
#include <proto.h>
#include <uktap.h>

#define MS		1000000UL
#define TIMEOUT		(5000 * MS)
/* About 11 KiB of text: all of it fits in the kernel's 16 KiB log ring
 * even if the console server printed none of it before init's kill. */
#define LINES		160
#define LINES_MAX	200

static long ns = HANDLE_SPAWN;
static long con = -1;
static unsigned long *buf;

static void console_found(void)
{
	con = ns_lookup_wait(ns, buf, "console", TIMEOUT);
	EXPECT(con > 0, "lookup console: %s", uktap_ret_name(con));
}

static void write_counts(void)
{
	static const char line[] = "consoletest: through CONSOLE_WRITE\n";
	struct ipc_msg m = { .info = IPC_INFO(CONSOLE_WRITE, 5, 0),
			     .w = { sizeof(line) - 1 } };

	if (con <= 0)
		return;
	memcpy(buf, line, sizeof(line) - 1);
	EXPECT_RET(ipc_call(con, &m, TIMEOUT), 0);
	EXPECT_RET(m.w[0], sizeof(line) - 1);
}

static void flush_answers(void)
{
	if (con <= 0)
		return;
	printf("consoletest: before the flush\n");
	EXPECT_RET(console_flush(con, 0, TIMEOUT), 0);
	EXPECT_RET(console_flush(con, 0, TIMEOUT), 0);	/* nothing to do */
}

static void bad_requests(void)
{
	struct ipc_msg m;

	if (con <= 0)
		return;
	EXPECT_RET(console_flush(con, 0x2, TIMEOUT), -E_INVAL);
	EXPECT_RET(proto_call(con, CONSOLE_FLUSH, ~0UL, 0, &m, TIMEOUT),
		   -E_INVAL);
	/* Only init may stop the log's printing; the server goes on. */
	EXPECT_RET(console_flush(con, CONSOLE_FLUSH_HOLD, TIMEOUT), -E_PERM);
	m = (struct ipc_msg){ .info = IPC_INFO(CONSOLE_WRITE, 1, 0),
			      .w = { 9 } };
	EXPECT_RET(ipc_call(con, &m, TIMEOUT), 0);	/* 9 bytes in 8 */
	EXPECT_RET(m.w[0], -E_INVAL);
	/* A read's prompt: in the payload, printable, at most 64 bytes
	 * (refused before it waits for a line). */
	memcpy(buf, "ok> \n", 5);
	m = (struct ipc_msg){ .info = IPC_INFO(CONSOLE_READ, 1, 0),
			      .w = { 100, 9 } };
	EXPECT_RET(ipc_call(con, &m, TIMEOUT), 0);
	EXPECT_RET(m.w[0], -E_INVAL);
	m = (struct ipc_msg){ .info = IPC_INFO(CONSOLE_READ, 1, 0),
			      .w = { 100, 5 } };
	EXPECT_RET(ipc_call(con, &m, TIMEOUT), 0);
	EXPECT_RET(m.w[0], -E_INVAL);
	memset(buf, 'x', 72);
	m = (struct ipc_msg){ .info = IPC_INFO(CONSOLE_READ, 9, 0),
			      .w = { 100, 65 } };
	EXPECT_RET(ipc_call(con, &m, TIMEOUT), 0);
	EXPECT_RET(m.w[0], -E_INVAL);
	EXPECT_RET(proto_call(con, PROTO_LABEL('c', 'x', 'x', 'x'), 0, 0, &m,
			      TIMEOUT), -E_NOSYS);
	EXPECT_RET(console_flush(con, 0, TIMEOUT), 0);
}

static const struct uktap_case cases[] = {
	{ "console_found", console_found },
	{ "write_counts", write_counts },
	{ "flush_answers", flush_answers },
	{ "bad_requests", bad_requests },
};

/* @n numbered lines, as fast as printf goes; then the last line. */
static void flood(unsigned long n)
{
	for (unsigned long i = 1; i <= n; i++)
		printf("consoletest: flood %03lu/%03lu "
		       "abcdefghijklmnopqrstuvwxyz0123456789\n", i, n);
	printf("consoletest: flood done, %lu lines\n", n);
}

#define TICK_NS		(250 * MS)
#define TICKS		240		/* a minute */
#define PROMPT		"consoletest> "

static unsigned int reading;		/* atomic */

static void ticker(void *arg)
{
	for (unsigned int i = 1;
	     i <= TICKS && __atomic_load_n(&reading, __ATOMIC_ACQUIRE); i++) {
		printf("consoletest: tick %u\n", i);
		sys_sleep(TICK_NS);
	}
}

/* consoletest read: one line typed at our prompt while the ticker prints. */
static int read_at_prompt(void)
{
	struct ipc_msg m = { .info = IPC_INFO(CONSOLE_READ, 2, 0),
			     .w = { 100, sizeof(PROMPT) - 1 } };
	char line[101];
	long tid, r;

	con = ns_lookup_wait(ns, buf, "console", TIMEOUT);
	if (con <= 0) {
		printf("consoletest: no console server: %s\n",
		       errno_name((int)con));
		return 1;
	}
	__atomic_store_n(&reading, 1, __ATOMIC_RELEASE);
	tid = thread_spawn(ticker, NULL, -1);
	memcpy(buf, PROMPT, sizeof(PROMPT) - 1);
	r = ipc_call(con, &m, 0);
	if (!r)
		r = (long)m.w[0];
	__atomic_store_n(&reading, 0, __ATOMIC_RELEASE);
	if (tid >= 0)
		thread_join(tid);
	if (r < 0) {
		printf("consoletest: read: %s\n", errno_name((int)r));
		return 1;
	}
	memcpy(line, buf, (size_t)r);
	while (r && (line[r - 1] == '\n'))
		r--;
	line[r] = '\0';
	printf("consoletest: read '%s'\n", line);
	return 0;
}

int main(int argc, char **argv)
{
	long info = sys_handle_info(ns);
	unsigned long lines = LINES;
	int failed;

	if (info < 0 || (info >> 16) != HANDLE_T_ENDPOINT) {
		printf("consoletest: no name-server handle: run it from the "
		       "shell or by init (test=consoletest)\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "read") &&
	    (strncmp(argv[1], "lines=", 6) ||
	     kstrtou64(argv[1] + 6, &lines) || !lines || lines > LINES_MAX)) {
		printf("consoletest: usage: consoletest [lines=1..%d | read]\n",
		       LINES_MAX);
		return 2;
	}
	buf = ipc_buffer_new();
	if (!buf) {
		printf("consoletest: no IPC buffer\n");
		return 3;
	}
	if (argc == 2 && !strcmp(argv[1], "read"))
		return read_at_prompt();
	failed = uktap_run("consoletest", cases, ARRAY_SIZE(cases));
	/* Start from an empty log: the flood alone fits in it. */
	if (con > 0)
		console_flush(con, 0, TIMEOUT);
	flood(lines);
	return failed;
}
