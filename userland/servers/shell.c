/*
 * shell.c - a small command line on the console (docs/servers.md)
 *
 * Reads lines with SYS_DEBUG_READ (there is no console server yet),
 * echoing what is typed: backspace and DEL erase, ^U erases the line, ^C
 * abandons it, escape sequences (arrow keys) are ignored. Output goes out
 * through SYS_DEBUG_WRITE, one line per call.
 *
 * `run PROGRAM ARGS` starts a program of the boot archive with the
 * shell's name-server handle as its HANDLE_SPAWN (the convention: every
 * program the shell runs can look services up), and waits for it; ^C
 * kills it and every process it started (KILL_TREE: ^C at `run stress`
 * stops the stress program running, too). Keys typed meanwhile are kept
 * for the next line. `programs` lists the names it takes, as the kernel
 * reads them from the archive.
 *
 * A command's mistakes are reported as "shell: CMD: what" and never end
 * the shell; an unknown command gets "shell: unknown command 'X' (try
 * help)".
 */
#include <proto.h>

#define MS		1000000UL
#define LINE_MAX	128
#define ARGS_MAX	16
#define CALL_TIMEOUT	(2000 * MS)	/* no server may hang the shell */

#define CTRL_C		0x03
#define CTRL_U		0x15
#define BS		0x08
#define ESC		0x1b
#define DEL		0x7f

static long ns = HANDLE_SPAWN;	/* the name server, SEND | GRANT */
static bool have_ns;
static unsigned long *buf;	/* our IPC buffer */

/* ---- console input ------------------------------------------------------- */

/* Bytes read but not used yet (typed while a program ran, say). */
static char pending[256];
static unsigned int pending_head, pending_len;

static void pending_push(char c)
{
	if (pending_len < sizeof(pending))
		pending[(pending_head + pending_len++) % sizeof(pending)] = c;
}

/* The next input byte, waiting for it. */
static int getch(void)
{
	char chunk[64];
	long n;

	while (!pending_len) {
		n = sys_debug_read(chunk, sizeof(chunk), 0);
		for (long i = 0; i < n; i++)
			pending_push(chunk[i]);
		if (n < 0 && n != -E_TIMEDOUT)
			sys_sleep(100 * MS);	/* do not spin on an error */
	}
	n = (unsigned char)pending[pending_head];
	pending_head = (pending_head + 1) % sizeof(pending);
	pending_len--;
	return (int)n;
}

static void echo(const char *s, size_t n)
{
	sys_debug_write(s, n);
}

static long console = -1;	/* the console server, if there is one */

/* Was ^C typed since the last ask (CONSOLE_INTR)? The flag is cleared. */
static bool ctrl_c_typed(void)
{
	return console_intr(console, CALL_TIMEOUT) == 1;
}

/* A line from the console server, which shows @prompt, and echoes and
 * edits as it comes. */
static int console_line(char *line, const char *prompt)
{
	size_t plen = strlen(prompt);
	struct ipc_msg m = { .info = IPC_INFO(CONSOLE_READ, (plen + 7) / 8, 0),
			     .w = { LINE_MAX - 1, plen } };
	long r;

	memcpy(buf, prompt, plen);
	r = ipc_call(console, &m, 0);
	long n = r ? r : (long)m.w[0];

	if (n < 0) {
		printf("shell: console: %s\n", errno_name((int)n));
		sys_sleep(100 * MS);
		return -1;
	}
	memcpy(line, buf, (size_t)n);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	line[n] = '\0';
	return (int)n;
}

/*
 * Read one line into @line (LINE_MAX bytes) after @prompt, with echo and
 * editing (by the console server when there is one: it also keeps the
 * prompt and the line below what others print meanwhile).
 * Return: its length, or -1 if ^C abandoned it.
 */
static int read_line(char *line, const char *prompt)
{
	static bool after_cr;	/* "\r\n" ends one line, not two */
	int len = 0, esc = 0;

	if (console > 0)
		return console_line(line, prompt);
	echo(prompt, strlen(prompt));
	for (;;) {
		int c = getch();

		if (after_cr && c == '\n') {
			after_cr = false;
			continue;
		}
		after_cr = c == '\r';
		if (esc) {	/* ESC [ ... final byte in 0x40..0x7e */
			if (esc == 1 && c != '[')
				esc = 0;
			else if (esc++ > 1 && c >= 0x40 && c <= 0x7e)
				esc = 0;
			continue;
		}
		switch (c) {
		case '\r':
		case '\n':
			echo("\n", 1);
			line[len] = '\0';
			return len;
		case CTRL_C:
			echo("^C\n", 3);
			return -1;
		case CTRL_U:
			while (len) {
				echo("\b \b", 3);
				len--;
			}
			break;
		case BS:
		case DEL:
			if (len) {
				echo("\b \b", 3);
				len--;
			}
			break;
		case ESC:
			esc = 1;
			break;
		default:
			if (c < ' ' || c > '~')
				break;	/* other control bytes */
			if (len == LINE_MAX - 1) {
				echo("\a", 1);
				break;
			}
			line[len++] = (char)c;
			echo(&line[len - 1], 1);
			break;
		}
	}
}

/* Split @line at spaces in place. Return: the number of words, or -1 if
 * there are more than ARGS_MAX. */
static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == ARGS_MAX)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return argc;
}

/* ---- helpers -------------------------------------------------------------- */

static bool parse_num(const char *s, unsigned long *out)
{
	uint64_t v;

	if (kstrtou64(s, &v))
		return false;
	*out = v;
	return true;
}

/* A handle to service @name, or -1 after a message naming @cmd. */
static long service(const char *cmd, const char *name)
{
	long h;

	if (!have_ns) {
		printf("shell: %s: no name server\n", cmd);
		return -1;
	}
	h = ns_lookup_wait(ns, buf, name, CALL_TIMEOUT);
	if (h < 0) {
		printf("shell: %s: no '%s' service (%s)\n", cmd, name,
		       errno_name((int)h));
		return -1;
	}
	return h;
}

static unsigned long per_mille(unsigned long part, unsigned long whole)
{
	return whole ? part * 1000 / whole : 0;
}

/* ---- commands --------------------------------------------------------------- */

static int cmd_help(int argc, char **argv);

static int cmd_ps(int argc, char **argv)
{
	struct rivet_proc_info pi;
	long r, i;

	printf("  PID  PARENT  THREADS  STATE    NAME\n");
	for (i = 0; (r = sys_proc_info(i, &pi)) == 0; i++)
		printf("%5d  %6d  %7u  %-7s  %s\n", pi.pid, pi.parent,
		       pi.threads, pi.exiting ? "ending" : "running",
		       pi.name);
	if (r != -E_NOENT)
		printf("shell: ps: %s\n", errno_name((int)r));
	return 0;
}

static struct rivet_stats st;

static bool stats(const char *cmd)
{
	long r = sys_stats(&st);

	if (r)
		printf("shell: %s: %s\n", cmd, errno_name((int)r));
	return !r;
}

static int cmd_mem(int argc, char **argv)
{
	if (!stats("mem"))
		return 1;
	printf("mem: %lu frames of %u bytes: %lu used, %lu free (%lu KiB "
	       "free)\n", st.total_frames, (unsigned int)PAGE_SIZE,
	       st.total_frames - st.free_frames, st.free_frames,
	       st.free_frames * (PAGE_SIZE / 1024));
	return 0;
}

static void lockstat_line(const char *what, const struct rivet_lockstat *l)
{
	unsigned long pm = per_mille(l->contended, l->acquired);

	printf("%-16s %12lu %10lu %3lu.%lu%% %12lu\n", what, l->acquired,
	       l->contended, pm / 10, pm % 10, l->wait_ns / 1000);
}

static int cmd_lockstat(int argc, char **argv)
{
	if (!stats("lockstat"))
		return 1;
	printf("lockstat: page-table locks %s, %u harts\n",
	       st.ptlock_split ? "split (one per page-table page)"
			       : "single (one per address space)",
	       st.nharts);
	printf("%-16s %12s %10s %6s %12s\n", "lock", "acquired", "contended",
	       "share", "wait us");
	lockstat_line("page-table page", &st.pt);
	lockstat_line("address space", &st.as);
	lockstat_line("frame pool", &st.frame);
	return 0;
}

static int cmd_harts(int argc, char **argv)
{
	unsigned long f = 0, a = 0, s = 0;

	if (!stats("harts"))
		return 1;
	printf("harts: %u online\n", st.nharts);
	printf("%5s %12s %12s %12s\n", "hart", "faults", "A/D fixups",
	       "spurious");
	for (unsigned int i = 0; i < st.nharts && i < STATS_MAX_HARTS; i++) {
		printf("%5u %12lu %12lu %12lu\n", i, st.faults[i],
		       st.ad_fixups[i], st.spurious[i]);
		f += st.faults[i];
		a += st.ad_fixups[i];
		s += st.spurious[i];
	}
	printf("%5s %12lu %12lu %12lu\n", "all", f, a, s);
	return 0;
}

/* ---- programs ------------------------------------------------------------------ */

#define PROGRAMS_MAX	128	/* listed; the kernel may hold more */
#define LIST_WIDTH	72	/* a listing's lines are at most this wide */

static char programs[PROGRAMS_MAX][SPAWN_NAME_MAX + 1];

/* Sort @n names in place (tens of them: insertion sort). */
static void sort_names(char (*names)[SPAWN_NAME_MAX + 1], unsigned int n)
{
	char tmp[SPAWN_NAME_MAX + 1];

	for (unsigned int i = 1; i < n; i++) {
		unsigned int j = i;

		memcpy(tmp, names[i], sizeof(tmp));
		for (; j && strcmp(names[j - 1], tmp) > 0; j--)
			memcpy(names[j], names[j - 1], sizeof(tmp));
		memcpy(names[j], tmp, sizeof(tmp));
	}
}

/* The boot archive's programs (SYS_PROGRAM_INFO), sorted, down columns
 * as ls lays them out: as many columns of the widest name and two spaces
 * as fit in LIST_WIDTH. */
static int cmd_programs(int argc, char **argv)
{
	char name[SPAWN_NAME_MAX + 1], line[LIST_WIDTH + SPAWN_NAME_MAX + 1];
	unsigned int n = 0, more = 0, width = 0, cols, rows;
	long r;

	for (long i = 0; (r = sys_program_info(i, name, sizeof(name))) >= 0;
	     i++) {
		if (n == PROGRAMS_MAX) {
			more++;
			continue;
		}
		memcpy(programs[n++], name, (size_t)r + 1);
		width = MAX(width, (unsigned int)r + 2);
	}
	if (r == -E_BADFMT) {
		printf("shell: programs: the boot archive is damaged\n");
		return 1;
	}
	if (r != -E_NOENT) {
		printf("shell: programs: %s\n", errno_name((int)r));
		return 1;
	}
	if (!n) {
		printf("shell: programs: the boot archive holds none\n");
		return 1;
	}
	sort_names(programs, n);
	/* The last column needs no gap after it. */
	cols = MAX((LIST_WIDTH + 2) / width, 1U);
	rows = (n + cols - 1) / cols;
	for (unsigned int row = 0; row < rows; row++) {
		size_t len = 0;

		for (unsigned int k = row; k < n; k += rows) {
			bool last = k + rows >= n;	/* nothing to its right */

			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%-*s", last ? 0 : (int)width,
						programs[k]);
		}
		printf("%s\n", line);
	}
	if (more)
		printf("shell: programs: %u more not shown\n", more);
	return 0;
}

/* ---- run ---------------------------------------------------------------------- */

struct waiter {
	long pid;
	long status;
	int done;		/* atomic */
};

static void waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->status = sys_wait(w->pid);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
}

static int cmd_run(int argc, char **argv)
{
	static struct waiter w;
	char args[256] = "";
	size_t used = 0;
	bool killed = false;
	long pid, tid;

	if (argc < 2) {
		printf("shell: run: usage: run PROGRAM [ARGS...]\n");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (used + n + 2 > sizeof(args)) {
			printf("shell: run: arguments longer than %zu bytes\n",
			       sizeof(args) - 1);
			return 1;
		}
		if (used)
			args[used++] = ' ';
		memcpy(args + used, argv[i], n + 1);
		used += n;
	}
	/* A ^C typed before (at the prompt: it dropped that line) is not
	 * for this program: the console server's flag is cleared. */
	if (console > 0)
		ctrl_c_typed();
	pid = have_ns ? sys_spawn_handle(argv[1], used ? args : NULL, ns)
		      : sys_spawn(argv[1], used ? args : NULL);
	if (pid == -E_NOENT) {
		printf("shell: run: no program '%s' in the boot archive\n",
		       argv[1]);
		return 1;
	}
	if (pid == -E_RANGE) {
		printf("shell: run: program name longer than %d bytes\n",
		       SPAWN_NAME_MAX);
		return 1;
	}
	if (pid < 0) {
		printf("shell: run: cannot start %s: %s\n", argv[1],
		       errno_name((int)pid));
		return 1;
	}
	w = (struct waiter){ .pid = pid };
	tid = thread_spawn(waiter_fn, &w, -1);
	if (tid < 0) {		/* wait here: no ^C then */
		w.status = sys_wait(pid);
		w.done = 1;
	}
	/* Watch the console for ^C while it runs; keep other keys. */
	while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		char chunk[32];
		long n;

		if (console > 0) {	/* the console server saw it, or not */
			if (ctrl_c_typed() && !killed) {
				sys_kill_tree(pid);
				killed = true;
			}
			sys_sleep(50 * MS);
			continue;
		}
		n = sys_debug_read(chunk, sizeof(chunk), 50 * MS);

		for (long i = 0; i < n; i++) {
			if (chunk[i] != CTRL_C) {
				pending_push(chunk[i]);
			} else if (!killed) {
				echo("^C\n", 3);
				sys_kill_tree(pid);
				killed = true;
			}
		}
		if (n < 0 && n != -E_TIMEDOUT)
			sys_sleep(50 * MS);
	}
	if (tid > 0)
		thread_join(tid);
	printf("shell: %s (pid %ld) %s with status %ld\n", argv[1], pid,
	       killed ? "was killed" : "exited", w.status);
	return 0;
}

/* ---- processes and services ---------------------------------------------------- */

static int cmd_kill(int argc, char **argv)
{
	struct rivet_proc_info pi;
	unsigned long pid;
	bool found;
	long r;

	if (argc != 2) {
		printf("shell: kill: usage: kill PID\n");
		return 1;
	}
	if (!parse_num(argv[1], &pid) || !pid || pid > 0x7fffffff) {
		printf("shell: kill: '%s' is not a process id\n", argv[1]);
		return 1;
	}
	/* One look by pid: a scan of the table could miss it. */
	found = sys_proc_find((long)pid, &pi) == 0;
	if (pid == 1 || (found && pi.parent == 0)) {
		printf("shell: kill: pid %lu is init; use shutdown\n", pid);
		return 1;
	}
	if (pid == (unsigned long)sys_getpid()) {
		printf("shell: kill: pid %lu is this shell; use exit\n", pid);
		return 1;
	}
	r = sys_kill((long)pid);
	if (r == -E_NOENT) {
		printf("shell: kill: no process %lu\n", pid);
		return 1;
	}
	if (r) {
		printf("shell: kill: %lu: %s\n", pid, errno_name((int)r));
		return 1;
	}
	printf("shell: killed pid %lu%s%s\n", pid, found ? " " : "",
	       found ? pi.name : "");
	return 0;
}

static int cmd_servers(int argc, char **argv)
{
	long init = service("servers", "init");
	struct ipc_msg m;
	char name[NS_NAME_MAX + 1];
	long r;

	if (init < 0)
		return 1;
	printf("%-16s %6s %9s\n", "program", "pid", "restarts");
	for (unsigned long i = 0;; i++) {
		r = proto_call(init, INIT_LIST, i, 0, &m, CALL_TIMEOUT);
		if (r)
			break;
		if (ns_name_get(buf, name))
			strlcpy(name, "?", sizeof(name));
		printf("%-16s %6lu %9lu%s%s%s\n", name, m.w[1], m.w[2],
		       m.w[3] & INIT_F_ONCE ? "  (test, run once)" : "",
		       m.w[3] & INIT_F_WAIT ? "  (boot step, run once)" : "",
		       m.w[3] & INIT_F_GAVE_UP ? "  (not in the archive)"
					       : "");
	}
	if (r != -E_NOENT)
		printf("shell: servers: %s\n", errno_name((int)r));
	sys_handle_close(init);
	return 0;
}

static int cmd_names(int argc, char **argv)
{
	char name[NS_NAME_MAX + 1];
	unsigned long info;
	long r;

	if (!have_ns) {
		printf("shell: names: no name server\n");
		return 1;
	}
	for (unsigned long i = 0;; i++) {
		r = ns_list(ns, buf, i, name, &info, CALL_TIMEOUT);
		if (r)
			break;
		printf("%-32s %s, rights %#lx\n", name,
		       (info >> 16) == HANDLE_T_ENDPOINT ? "endpoint"
		       : (info >> 16) == HANDLE_T_NOTIFY ? "notification"
		       : (info >> 16) == HANDLE_T_DEVICE ? "device"
							  : "?",
		       info & 0xffff);
	}
	if (r != -E_NOENT)
		printf("shell: names: %s\n", errno_name((int)r));
	return 0;
}

static int cmd_pager(int argc, char **argv)
{
	long pager = service("pager", "pager"), r;
	struct ipc_msg m;

	if (pager < 0)
		return 1;
	r = proto_call(pager, PAGER_REQ_STAT, 0, 0, &m, CALL_TIMEOUT);
	if (r)
		printf("shell: pager: %s\n", errno_name((int)r));
	else
		printf("pager: %lu objects, %lu pages, %lu faults served\n",
		       m.w[1], m.w[2], m.w[3]);
	sys_handle_close(pager);
	return 0;
}

static int cmd_evict(int argc, char **argv)
{
	unsigned long key, pages;
	long pager, h, r;
	bool discard = argc == 3 && !strcmp(argv[2], "discard");

	if ((argc != 2 && !discard) || !parse_num(argv[1], &key)) {
		printf("shell: evict: usage: evict KEY [discard]\n");
		return 1;
	}
	pager = service("evict", "pager");
	if (pager < 0)
		return 1;
	r = pager_open(pager, key, &pages, &h);
	if (!r) {
		sys_handle_close(h);
		r = pager_evict(pager, key, 0, pages * PAGE_SIZE,
				discard ? PAGER_EVICT_DISCARD : 0);
	}
	if (r == -E_NOENT)
		printf("shell: evict: no object %lu\n", key);
	else if (r < 0)
		printf("shell: evict: %s\n", errno_name((int)r));
	else
		printf("evict: object %lu: %ld mappings removed%s\n", key, r,
		       discard ? ", contents discarded" : "");
	sys_handle_close(pager);
	return 0;
}

static int cmd_shutdown(int argc, char **argv)
{
	long init = service("shutdown", "init"), r;
	struct ipc_msg m;

	if (init < 0)
		return 1;
	r = proto_call(init, INIT_SHUTDOWN, 0, 0, &m, CALL_TIMEOUT);
	sys_handle_close(init);
	if (r) {
		printf("shell: shutdown: %s\n", errno_name((int)r));
		return 1;
	}
	/* init ends us now. */
	for (;;)
		sys_sleep(1000 * MS);
}

static int cmd_exit(int argc, char **argv)
{
	printf("shell: exiting (init starts a new shell)\n");
	sys_exit(0);
}

static const struct command {
	const char *name, *usage, *help;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "ps", "", "processes (the kernel's table)", cmd_ps },
	{ "mem", "", "memory frames used and free", cmd_mem },
	{ "lockstat", "", "page-table, address-space and frame lock "
			  "statistics", cmd_lockstat },
	{ "harts", "", "harts online and their page-fault counters",
	  cmd_harts },
	{ "programs", "", "the programs of the boot archive (for run)",
	  cmd_programs },
	{ "run", " PROGRAM [ARGS...]", "run a program of the boot archive "
				       "and wait for it (^C kills it)",
	  cmd_run },
	{ "kill", " PID", "end a process (init restarts its servers)",
	  cmd_kill },
	{ "servers", "", "the programs init keeps running", cmd_servers },
	{ "names", "", "the names registered with the name server",
	  cmd_names },
	{ "pager", "", "the pager's objects and faults", cmd_pager },
	{ "evict", " KEY [discard]", "evict a pager object's pages from its "
				     "clients", cmd_evict },
	{ "shutdown", "", "stop everything and power off", cmd_shutdown },
	{ "exit", "", "end this shell (init starts another)", cmd_exit },
};

static int cmd_help(int argc, char **argv)
{
	char what[40];

	printf("commands:\n");
	for (unsigned int i = 0; i < ARRAY_SIZE(commands); i++) {
		snprintf(what, sizeof(what), "%s%s", commands[i].name,
			 commands[i].usage);
		printf("  %-24s %s\n", what, commands[i].help);
	}
	return 0;
}

static void execute(char *line)
{
	char *argv[ARGS_MAX + 1];
	int argc = split(line, argv);

	if (argc < 0) {
		printf("shell: more than %d words\n", ARGS_MAX);
		return;
	}
	if (!argc)
		return;
	argv[argc] = NULL;
	for (unsigned int i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[0], commands[i].name)) {
			commands[i].fn(argc, argv);
			return;
		}
	printf("shell: unknown command '%s' (try help)\n", argv[0]);
}

int main(int argc, char **argv)
{
	long info = sys_handle_info(ns);
	char line[LINE_MAX];

	have_ns = info >= 0 && (info >> 16) == HANDLE_T_ENDPOINT &&
		  (info & HANDLE_R_SEND);
	buf = ipc_buffer_new();
	if (!buf)
		have_ns = false;
	/* Input comes from the console server once it owns the UART (the
	 * kernel's console input is gone then). */
	if (have_ns)
		console = ns_lookup_wait(ns, buf, "console", 3000000000UL);
	printf("rivet shell (pid %ld)%s%s; type help for the commands\n",
	       sys_getpid(), have_ns ? "" : ", without a name server",
	       console > 0 ? "" : ", reading the kernel console");
	for (;;) {
		if (read_line(line, "rivet> ") > 0)
			execute(line);
	}
}
