/*
 * names.c - the name server: services register a handle under a name,
 * clients look names up and get a handle of their own (proto.h, NS_*;
 * docs/servers.md)
 *
 * init starts it first, with the name-server endpoint (every right) as
 * HANDLE_SPAWN; every other process holds that endpoint with SEND | GRANT.
 * One thread answers one call at a time, so the table needs no lock. A
 * restarted name server starts empty: servers register again (they
 * refresh their registration every second, docs/servers.md).
 *
 * A name belongs to the process that registered it: only that process
 * may register it again or remove it, until it ends; then anyone may (a
 * restarted server has a new pid).
 */
#include <proto.h>

struct entry {
	char name[NS_NAME_MAX + 1];	/* "" : free */
	long h;				/* our handle to the object */
	long owner;			/* pid of the registrant */
};

static struct entry table[NS_MAX];

static struct entry *find(const char *name)
{
	for (int i = 0; i < NS_MAX; i++)
		if (table[i].name[0] && !strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/*
 * proc_is_gone - has process @pid ended, or begun to?
 *
 * The kernel keeps a process in its table until its parent has waited
 * for it: one that exited or was killed but is not waited for yet is
 * found with exiting set, and counts as gone (its names must not outlive
 * it because a parent is slow to wait, or never does). Pids are never
 * reused (the kernel counts them up), so a pid found is the registrant
 * itself. SYS_PROC_FIND looks it up in one go (a SYS_PROC_INFO scan by
 * index could skip it when another process left the table meanwhile).
 */
static bool proc_is_gone(long pid)
{
	struct rivet_proc_info pi;

	return sys_proc_find(pid, &pi) != 0 || pi.exiting;
}

/* May process @pid replace or remove @e: its own, or its registrant's gone? */
static bool may_change(const struct entry *e, long pid)
{
	return e->owner == pid || proc_is_gone(e->owner);
}

static long caller_pid(const struct ipc_msg *m)
{
	return (long)(m->sender >> 32);
}

static long do_register(const struct ipc_msg *m, const unsigned long *buf)
{
	long h = m->info & IPC_INFO_HANDLE ? (long)m->w[3] : 0;
	char name[NS_NAME_MAX + 1];
	struct entry *e;
	long err;

	if (m->info & IPC_INFO_HANDLE_DROPPED)
		return -E_NOMEM;
	if (!h)
		return -E_INVAL;
	err = IPC_INFO_LEN(m->info) < NS_NAME_WORDS ? -E_INVAL
						    : ns_name_get(buf, name);
	if (!err && !(IPC_INFO_RIGHTS(m->info) & HANDLE_R_GRANT))
		err = -E_PERM;	/* we could never hand it out */
	e = err ? NULL : find(name);
	if (e && !may_change(e, caller_pid(m)))
		err = -E_PERM;	/* another live process's name */
	for (int i = 0; !err && !e && i < NS_MAX; i++)
		if (!table[i].name[0])
			e = &table[i];
	/* Full: a name whose registrant has ended makes room. */
	for (int i = 0; !err && !e && i < NS_MAX; i++)
		if (proc_is_gone(table[i].owner))
			e = &table[i];
	if (!err && !e)
		err = -E_NOMEM;
	if (err) {
		sys_handle_close(h);
		return err;
	}
	if (e->name[0])		/* re-registered or reused: the old one goes */
		sys_handle_close(e->h);
	strlcpy(e->name, name, sizeof(e->name));
	e->h = h;
	e->owner = caller_pid(m);
	return 0;
}

/* Fill @m with the reply to a lookup. */
static void do_lookup(struct ipc_msg *m, const unsigned long *buf)
{
	char name[NS_NAME_MAX + 1];
	struct entry *e = NULL;
	long err = IPC_INFO_LEN(m->info) < NS_NAME_WORDS
			   ? -E_INVAL : ns_name_get(buf, name);

	if (!err) {
		e = find(name);
		if (!e)
			err = -E_NOENT;
	}
	*m = (struct ipc_msg){ .info = IPC_INFO(0, 0, 0),
			       .w = { (unsigned long)err, 0, 0, 0 } };
	if (e) {
		m->info |= IPC_INFO_HANDLE |
			   IPC_INFO_GRANT(HANDLE_R_SEND | HANDLE_R_GRANT |
					  HANDLE_R_MAP);
		m->w[3] = (unsigned long)e->h;
	}
}

static long do_unregister(const struct ipc_msg *m, const unsigned long *buf)
{
	char name[NS_NAME_MAX + 1];
	struct entry *e;

	if (IPC_INFO_LEN(m->info) < NS_NAME_WORDS || ns_name_get(buf, name))
		return -E_INVAL;
	e = find(name);
	if (!e)
		return -E_NOENT;
	if (!may_change(e, caller_pid(m)))
		return -E_PERM;
	sys_handle_close(e->h);
	e->name[0] = '\0';
	return 0;
}

/* Fill @m (and the payload) with the reply to NS_LIST. */
static void do_list(struct ipc_msg *m, unsigned long *buf)
{
	unsigned long index = m->w[0], seen = 0;

	for (int i = 0; i < NS_MAX; i++) {
		if (!table[i].name[0] || seen++ != index)
			continue;
		ns_name_put(buf, table[i].name);
		*m = (struct ipc_msg){
			.info = IPC_INFO(0, NS_NAME_WORDS, 0),
			.w = { 0, (unsigned long)sys_handle_info(table[i].h) } };
		return;
	}
	*m = (struct ipc_msg){ .info = 0, .w = { (unsigned long)-E_NOENT } };
}

int main(int argc, char **argv)
{
	unsigned long *buf = ipc_buffer_new();
	long ep = HANDLE_SPAWN, info = sys_handle_info(ep), r;
	struct ipc_msg m;

	if (info < 0 || (info >> 16) != HANDLE_T_ENDPOINT ||
	    !(info & HANDLE_R_RECV)) {
		printf("names: HANDLE_SPAWN is not an endpoint I can receive "
		       "on (%ld): started by init?\n", info);
		return 2;
	}
	if (!buf) {
		printf("names: no IPC buffer\n");
		return 3;
	}
	r = ipc_recv(ep, &m, 0);
	for (;;) {
		if (r) {	/* only if the endpoint itself went wrong */
			printf("names: receive: %s\n", errno_name((int)r));
			return 4;
		}
		/* A handle only NS_REGISTER takes: any other is not kept. */
		if (IPC_INFO_LABEL(m.info) != NS_REGISTER &&
		    (m.info & IPC_INFO_HANDLE))
			sys_handle_close((long)m.w[3]);
		switch (IPC_INFO_LABEL(m.info)) {
		case NS_REGISTER:
			r = do_register(&m, buf);
			m = (struct ipc_msg){ .w = { (unsigned long)r } };
			break;
		case NS_LOOKUP:
			do_lookup(&m, buf);
			break;
		case NS_UNREGISTER:
			r = do_unregister(&m, buf);
			m = (struct ipc_msg){ .w = { (unsigned long)r } };
			break;
		case NS_LIST:
			do_list(&m, buf);
			break;
		default:
			m = (struct ipc_msg){ .w = { (unsigned long)-E_NOSYS } };
			break;
		}
		r = ipc_reply_recv(ep, &m, 0);
	}
}
