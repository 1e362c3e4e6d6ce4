/*
 * init.c - the first process: starts the servers, keeps them running
 * (docs/servers.md)
 *
 * The kernel starts the first name of the boot archive's etc/manifest
 * (or init=NAME). The archive cannot be read from user space, so init's
 * list comes from its arguments (the words after " -- " on the kernel
 * command line), or, without program words there, from INIT_SERVERS: the
 * rest of etc/manifest, compiled in by userland/build.mk from the same
 * list. Each word is a program of the boot archive started in that order:
 *
 *   NAME        a server: started, and restarted whenever it ends
 *   wait=NAME   a boot step: started in its place in the list, and init
 *               waits for it to end before it starts the next; not
 *               restarted; ^C on the console stops it, with every
 *               process it started (the default list runs the stress
 *               set so, wait=stress, before the shell)
 *   test=NAME   run once after the servers; when it ends, init stops
 *               everything and exits with its status (for the tests)
 *
 * and one option word may come among them:
 *
 *   stress=on|off   off leaves the wait=stress step out (make run
 *                   STRESS=0 passes it); on, the default, keeps it
 *
 * The name server ("names") gets the name-server endpoint with every
 * right as HANDLE_SPAWN; every other program gets it with SEND | GRANT.
 * init keeps the endpoint with every right, so it outlives a name server
 * that crashes: calls queue until the restarted one receives them.
 *
 * Like MINIX 3's reincarnation server, one thread per program waits for
 * it in SYS_WAIT and starts it again when it ends, after a back-off that
 * doubles from 100 ms to 5 s (back to 100 ms once it ran for 10 s), with
 * one console line per restart.
 *
 * init registers its own endpoint as "init": INIT_LIST reports the
 * programs, INIT_SHUTDOWN stops everything and ends init, and with it the
 * kernel (which powers off when its first process ends).
 */
#include <proto.h>
#include <ulock.h>

#ifndef INIT_SERVERS
#define INIT_SERVERS "names"
#endif

#define MS		1000000UL
#define BACKOFF_MIN	(100 * MS)
#define BACKOFF_MAX	(5000 * MS)
#define STABLE_NS	(10000 * MS)	/* ran this long: back-off resets */
#define PROGS_MAX	16
#define FLUSH_WAIT	(1000 * MS)	/* for the console server's flush */
#define STEP_POLL	(50 * MS)	/* a boot step's ^C watch */
#define STEP_CALL	(1000 * MS)	/* its CONSOLE_INTR (a reply lost to a
					 * timeout would lose a ^C) */

/*
 * Locking: lock guards pid and stopping (a kill must not miss a program
 * being started). name, flags and tid are set before the keepers start;
 * restarts is written by the program's keeper only.
 */
struct prog {
	char name[NS_NAME_MAX + 1];
	unsigned int flags;		/* INIT_F_* */
	long pid;			/* 0: not running */
	unsigned int restarts;
	long tid;			/* its keeper thread */
};

static struct prog progs[PROGS_MAX];
static unsigned int nprogs;
static struct ulock lock;
static bool stopping;
static bool stress_off;	/* stress=off: leave wait=stress out; set while
			 * the list is parsed, before any thread starts */
static long ns_ep;	/* the name-server endpoint, every right */
static long ns_send;	/* the same with SEND | GRANT, for the others */
static long self_ep;	/* init's own endpoint ("init") */
static long reaper_tid;

static long start(struct prog *p)
{
	long h = strcmp(p->name, "names") ? ns_send : ns_ep;

	return sys_spawn_handle(p->name, NULL, h);
}

/* Sleep @ns, in slices, unless init is stopping. Return: false if it is. */
static bool nap(unsigned long ns)
{
	for (unsigned long t = 0; t < ns; t += 50 * MS) {
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
			return false;
		sys_sleep(50 * MS);
	}
	return !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

static void shutdown_request(long status)
{
	struct ipc_msg m;

	proto_call(self_ep, INIT_SHUTDOWN, (unsigned long)status, 0, &m, 0);
}

/* A program's keeper: wait for it to end and start it again. */
static void keeper(void *arg)
{
	struct prog *p = arg;
	unsigned long backoff = BACKOFF_MIN;
	long pid = p->pid, status, t0;

	for (;;) {
		if (pid > 0) {
			t0 = sys_clock();
			status = sys_wait(pid);
			ulock_lock(&lock);
			p->pid = 0;
			ulock_unlock(&lock);
			if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
				return;
			if (p->flags & INIT_F_ONCE) {
				printf("init: %s (pid %ld) ended with status "
				       "%ld; shutting down\n", p->name, pid,
				       status);
				shutdown_request(status);
				return;
			}
			if (sys_clock() - t0 >= (long)STABLE_NS)
				backoff = BACKOFF_MIN;
			p->restarts++;
			printf("init: %s (pid %ld) ended with status %ld%s; "
			       "restarting it in %lu ms (restart %u)\n",
			       p->name, pid, status,
			       status == -1 ? " (killed or crashed)" : "",
			       backoff / MS, p->restarts);
		} else {
			printf("init: cannot start %s: %s; retrying in %lu "
			       "ms\n", p->name, errno_name((int)pid),
			       backoff / MS);
		}
		if (!nap(backoff))
			return;
		if (backoff < BACKOFF_MAX)
			backoff = MIN(backoff * 2, BACKOFF_MAX);
		ulock_lock(&lock);
		pid = stopping ? 0 : start(p);
		if (pid > 0)
			p->pid = pid;
		ulock_unlock(&lock);
		if (!pid)
			return;
		if (pid > 0)
			printf("init: restarted %s as pid %ld\n", p->name, pid);
	}
}

static bool is_prog(long pid)
{
	bool found = false;

	ulock_lock(&lock);
	for (unsigned int i = 0; i < nprogs && !found; i++)
		found = progs[i].pid == pid;
	ulock_unlock(&lock);
	return found;
}

/*
 * The kernel makes init the parent of processes whose parent ended
 * (a program the shell ran, when the shell was killed). There is no
 * "wait for any child": once a second, reap those that are ending.
 */
static void reaper(void *arg)
{
	struct rivet_proc_info pi;

	do {
		for (long i = 0; sys_proc_info(i, &pi) == 0; i++) {
			long status;

			if (pi.parent != 1 || !pi.exiting || is_prog(pi.pid))
				continue;
			status = sys_wait(pi.pid);
			if (status != -E_NOENT)	/* not claimed meanwhile */
				printf("init: reaped %s (pid %d), whose parent "
				       "had ended: status %ld\n", pi.name,
				       pi.pid, status);
		}
	} while (nap(1000 * MS));
}

/*
 * flush_console - have the console server print all it took, before the
 * kill (CONSOLE_FLUSH with CONSOLE_FLUSH_HOLD)
 * @buf: the calling thread's IPC buffer
 *
 * The server takes text out of the kernel's log and then prints it:
 * killed in between, it would lose that text (our last lines, or those of
 * the test program that just ended). Once it answers, all it took is
 * printed and it takes no more: the rest stays in the log, which the
 * kernel prints when we end. A stuck or dead server, or name server,
 * costs at most FLUSH_WAIT, and a line says so.
 */
static void flush_console(unsigned long *buf)
{
	long t0 = sys_clock(), con, r, left;

	con = ns_lookup(ns_ep, buf, "console", FLUSH_WAIT);
	if (con == -E_NOENT)
		return;		/* no console server: the kernel prints */
	if (con < 0) {
		printf("init: cannot find the console server to flush it: "
		       "%s; its last lines may be lost\n",
		       errno_name((int)con));
		return;
	}
	left = (long)FLUSH_WAIT - (sys_clock() - t0);
	r = left > 0 ? console_flush(con, CONSOLE_FLUSH_HOLD,
				     (unsigned long)left)
		     : -E_TIMEDOUT;
	sys_handle_close(con);
	if (r)
		printf("init: no flush from the console server: %s (after "
		       "%ld ms); its last lines may be lost\n",
		       errno_name((int)r), (sys_clock() - t0) / (long)MS);
}

/*
 * Stop everything: the console flushed, no more restarts, every program
 * init started killed, then every other process (the shell's children,
 * say, whose parent may be gone already), and the keepers joined. Called
 * by the main thread (@buf is its IPC buffer). Does not return.
 */
static __attribute__((noreturn)) void shutdown(long status,
					       unsigned long *buf)
{
	struct rivet_proc_info pi;

	printf("init: shutting down\n");
	flush_console(buf);
	ulock_lock(&lock);
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	for (unsigned int i = nprogs; i-- > 0;)
		if (progs[i].pid > 0)
			sys_kill(progs[i].pid);
	ulock_unlock(&lock);
	for (long i = 0; sys_proc_info(i, &pi) == 0; i++)
		if (pi.pid != sys_getpid() && !pi.exiting)
			sys_kill(pi.pid);
	for (unsigned int i = 0; i < nprogs; i++)
		if (progs[i].tid > 0)
			thread_join(progs[i].tid);
	if (reaper_tid > 0)
		thread_join(reaper_tid);
	sys_exit((int)status);
}

/* Fill @m and @buf with the reply to INIT_LIST. */
static void list(struct ipc_msg *m, unsigned long *buf)
{
	unsigned long i = m->w[0];

	if (i >= nprogs) {
		*m = (struct ipc_msg){ .w = { (unsigned long)-E_NOENT } };
		return;
	}
	ns_name_put(buf, progs[i].name);
	ulock_lock(&lock);
	*m = (struct ipc_msg){
		.info = IPC_INFO(0, NS_NAME_WORDS, 0),
		.w = { 0, (unsigned long)progs[i].pid, progs[i].restarts,
		       progs[i].flags } };
	ulock_unlock(&lock);
}

/*
 * The kernel hands the first process a handle for each device of the
 * device tree, from HANDLE_SPAWN on (docs/abi.md, "Devices"). Nothing
 * drives them yet (no console server): say what there is.
 */
static long console_dev = -1;	/* the console UART's device handle */

/* The kernel's device handles come first in our table. The console UART
 * goes to the console server through the name server ("dev:console");
 * the others stay here (no drivers for them yet). */
static void report_devices(void)
{
	struct rivet_device_info info;
	unsigned int n = 0;
	long h = HANDLE_SPAWN;

	for (;; h++, n++) {
		long type = sys_handle_info(h);

		if (type < 0 || (type >> 16) != HANDLE_T_DEVICE)
			break;
		if (!sys_device_info(h, &info) && info.console)
			console_dev = h;
	}
	if (n)
		printf("init: %u device handles; the console UART %s\n", n,
		       console_dev > 0 ? "goes to the console server"
				       : "is not among them");
}

/*
 * An option word of the command line: stress=on|off. Return: true if
 * @word is one (a bad value gets a message and changes nothing).
 */
static bool option(const char *word)
{
	if (strncmp(word, "stress=", 7))
		return false;
	if (!strcmp(word + 7, "off"))
		stress_off = true;
	else if (!strcmp(word + 7, "on"))
		stress_off = false;
	else
		printf("init: '%s': the stress option is stress=on or "
		       "stress=off; ignored (stress=%s)\n", word,
		       stress_off ? "off" : "on");
	return true;
}

/* Add one word of the list: NAME, wait=NAME or test=NAME. */
static void add(const char *word, size_t len)
{
	struct prog *p = &progs[nprogs];

	if (nprogs == PROGS_MAX) {
		printf("init: more than %d programs; '%.*s' left out\n",
		       PROGS_MAX, (int)len, word);
		return;
	}
	if (len > 5 && !strncmp(word, "test=", 5)) {
		p->flags = INIT_F_ONCE;
		word += 5;
		len -= 5;
	} else if (len > 5 && !strncmp(word, "wait=", 5)) {
		p->flags = INIT_F_WAIT;
		word += 5;
		len -= 5;
	}
	if (len > NS_NAME_MAX) {
		printf("init: program name '%.*s' too long\n", (int)len, word);
		p->flags = 0;
		return;
	}
	memcpy(p->name, word, len);
	p->name[len] = '\0';
	if (stress_off && p->flags == INIT_F_WAIT &&
	    !strcmp(p->name, "stress")) {
		p->flags = 0;
		return;
	}
	nprogs++;
}

static void add_words(const char *s)
{
	while (*s) {
		size_t n = 0;

		while (*s == ' ')
			s++;
		while (s[n] && s[n] != ' ')
			n++;
		if (n)
			add(s, n);
		s += n;
	}
}

static long next_refresh, next_dev;	/* main thread only */

/* Keep init's own name and the console UART's registered (ns_refresh). */
static void refresh(unsigned long *buf)
{
	ns_refresh(ns_ep, buf, "init", self_ep, HANDLE_R_SEND | HANDLE_R_GRANT,
		   &next_refresh);
	if (console_dev > 0)
		ns_refresh(ns_ep, buf, "dev:console", console_dev,
			   HANDLE_R_MAP | HANDLE_R_GRANT, &next_dev);
}

static struct step_waiter {
	long pid, status;
	int done;		/* atomic: the release store follows status */
} step;

static void step_wait(void *arg)
{
	step.status = sys_wait(step.pid);
	__atomic_store_n(&step.done, 1, __ATOMIC_RELEASE);
}

/*
 * Wait for the boot step @pid (@name) to end, and stop it, with every
 * process it started, when ^C is typed: the console server's flag, asked
 * every STEP_POLL (and the server looked up until it is registered: it
 * starts shortly before). A ^C typed earlier in the boot counts: it can
 * only have been meant for this. Return: its status, *@stopped set if ^C
 * did.
 */
static long step_watch(const char *name, long pid, unsigned long *buf,
		       bool *stopped)
{
	long con = -1, tid;
	unsigned int polls = 0;

	step = (struct step_waiter){ .pid = pid };
	tid = thread_spawn(step_wait, NULL, -1);
	if (tid < 0)		/* no thread: wait here, no ^C then */
		return sys_wait(pid);
	while (!__atomic_load_n(&step.done, __ATOMIC_ACQUIRE)) {
		/* Looked up every 10th poll until found (a list without a
		 * console server must not keep the name server busy). */
		if (con < 0 && polls++ % 10 == 0) {
			con = ns_lookup(ns_ep, buf, "console", STEP_POLL);
		} else if (con > 0 && !*stopped) {
			long r = console_intr(con, STEP_CALL);

			if (r == 1 && sys_kill_tree(pid) == 0) {
				printf("init: ^C: stopping %s (pid %ld) and "
				       "what it started\n", name, pid);
				*stopped = true;
			} else if (r < 0 && r != -E_TIMEDOUT) {
				/* The server ended (init restarts it):
				 * look the new one up. */
				sys_handle_close(con);
				con = -1;
				polls = 0;
			}
		}
		sys_sleep(STEP_POLL);
	}
	thread_join(tid);
	if (con > 0)
		sys_handle_close(con);
	return step.status;
}

/*
 * A wait= program: start it and wait for it to end (^C stops it). The
 * servers started before it run meanwhile; the names they look up from
 * init are registered first (init's own receive loop starts only after
 * the list).
 */
static void boot_step(struct prog *p, unsigned long *buf)
{
	bool stopped = false;
	long pid, status;

	refresh(buf);
	printf("init: running %s and waiting for it (^C stops it%s)\n",
	       p->name, strcmp(p->name, "stress") ? ""
	       : "; boot option '-- stress=off' or make run STRESS=0 skips "
		 "it");
	ulock_lock(&lock);	/* the reaper must not take it for an orphan */
	pid = stopping ? 0 : start(p);
	if (pid > 0)
		p->pid = pid;
	ulock_unlock(&lock);
	if (pid == -E_NOENT)
		printf("init: no program '%s' in the boot archive\n", p->name);
	else if (pid < 0)
		printf("init: cannot start %s: %s\n", p->name,
		       errno_name((int)pid));
	if (pid <= 0) {
		p->flags |= INIT_F_GAVE_UP;
		return;
	}
	status = step_watch(p->name, pid, buf, &stopped);
	ulock_lock(&lock);
	p->pid = 0;
	ulock_unlock(&lock);
	printf("init: %s (pid %ld) %s with status %ld\n", p->name, pid,
	       stopped ? "was stopped by ^C" : "ended", status);
}

int main(int argc, char **argv)
{
	unsigned long *buf = ipc_buffer_new();
	long r;
	char line[PROGS_MAX * (NS_NAME_MAX + 7) + 1] = "";
	size_t used = 0;
	int words = argc - 1;	/* program words on the command line */
	struct ipc_msg m;

	if (sys_getpid() != 1) {
		printf("init: already running (I am pid %ld, not 1)\n",
		       sys_getpid());
		return 2;
	}
	ns_ep = sys_endpoint_create();
	ns_send = sys_handle_dup(ns_ep, HANDLE_R_SEND | HANDLE_R_GRANT);
	self_ep = sys_endpoint_create();
	if (!buf || ns_ep < 0 || ns_send < 0 || self_ep < 0) {
		printf("init: cannot set up (%ld %ld %ld)\n", ns_ep, ns_send,
		       self_ep);
		return 3;
	}
	/* Options first: stress=off applies to every wait=stress. */
	for (int i = 1; i < argc; i++)
		if (option(argv[i]))
			words--;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "stress=", 7))
			add(argv[i], strlen(argv[i]));
	if (!words)
		add_words(INIT_SERVERS);
	for (unsigned int i = 0; i < nprogs; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
					 " %s%s",
					 progs[i].flags & INIT_F_ONCE ? "test="
					 : progs[i].flags & INIT_F_WAIT
						 ? "wait="
						 : "",
					 progs[i].name);
	printf("init: programs (%s):%s%s\n",
	       words ? "from the command line" : "from the manifest", line,
	       stress_off ? " (stress=off)" : "");

	reaper_tid = thread_spawn(reaper, NULL, -1);
	report_devices();

	/* Servers in order, then the test programs; each start returns once
	 * the process exists, so names is up before anyone calls it. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < nprogs; i++) {
			struct prog *p = &progs[i];

			if (!!(p->flags & INIT_F_ONCE) != pass)
				continue;
			if (p->flags & INIT_F_WAIT) {
				boot_step(p, buf);
				continue;
			}
			/* Before: the program may print before we could. */
			printf("init: starting %s\n", p->name);
			p->pid = start(p);
			if (p->pid == -E_NOENT) {
				printf("init: no program '%s' in the boot "
				       "archive\n", p->name);
				p->flags |= INIT_F_GAVE_UP;
				p->pid = 0;
				if (p->flags & INIT_F_ONCE)
					shutdown(127, buf);
				continue;
			}
			p->tid = thread_spawn(keeper, p, -1);
			if (p->tid < 0)
				printf("init: no keeper for %s: %s\n",
				       p->name, errno_name((int)p->tid));
		}
	}

	for (;;) {
		/* Replies go out before the refresh: no call is made while
		 * a reply is owed. */
		refresh(buf);
		r = ipc_recv(self_ep, &m, NS_REFRESH_NS);
		if (r == -E_TIMEDOUT)
			continue;
		if (r) {
			printf("init: receive: %s\n", errno_name((int)r));
			shutdown(4, buf);
		}
		if (m.info & IPC_INFO_HANDLE)
			sys_handle_close((long)m.w[3]);
		switch (IPC_INFO_LABEL(m.info)) {
		case INIT_SHUTDOWN: {
			long status = (long)m.w[0];

			m = (struct ipc_msg){ .w = { 0 } };
			ipc_reply(&m);
			shutdown(status, buf);
		}
		case INIT_LIST:
			list(&m, buf);
			break;
		default:
			m = (struct ipc_msg){ .w = { (unsigned long)-E_NOSYS } };
			break;
		}
		ipc_reply(&m);
	}
}
