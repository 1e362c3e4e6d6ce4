/*
 * proto.c - the client side of the servers' IPC protocols (proto.h,
 * docs/servers.md)
 */
#include <proto.h>

int ns_name_put(unsigned long *buf, const char *name)
{
	size_t len = strnlen(name, NS_NAME_MAX + 1);

	if (!len || len > NS_NAME_MAX)
		return -E_RANGE;
	memset(buf, 0, NS_NAME_WORDS * sizeof(*buf));
	memcpy(buf, name, len);
	return 0;
}

int ns_name_get(const unsigned long *buf, char *name)
{
	const char *s = (const char *)buf;
	size_t len = strnlen(s, NS_NAME_MAX + 1);

	if (!len || len > NS_NAME_MAX)
		return -E_INVAL;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return -E_INVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	return 0;
}

long proto_call(long ep, unsigned long label, unsigned long w0,
		unsigned long w1, struct ipc_msg *m, unsigned long timeout)
{
	long r;

	*m = (struct ipc_msg){ .info = IPC_INFO(label, 0, 0),
			       .w = { w0, w1, 0, 0 } };
	r = ipc_call(ep, m, timeout);
	return r ? r : (long)m->w[0];
}

/* A name-server request carrying @name, and maybe a handle. */
static long ns_call(long ns, unsigned long *buf, unsigned long label,
		    const char *name, unsigned long flags, long h,
		    struct ipc_msg *m, unsigned long timeout)
{
	long r;

	if (!buf)
		return -E_MSGSIZE;
	r = ns_name_put(buf, name);
	if (r)
		return r;
	*m = (struct ipc_msg){ .info = IPC_INFO(label, NS_NAME_WORDS, flags),
			       .w = { 0, 0, 0, (unsigned long)h } };
	r = ipc_call(ns, m, timeout);
	return r ? r : (long)m->w[0];
}

long ns_register(long ns, unsigned long *buf, const char *name, long h,
		 unsigned int rights, unsigned long timeout)
{
	struct ipc_msg m;

	return ns_call(ns, buf, NS_REGISTER, name,
		       IPC_INFO_HANDLE | IPC_INFO_GRANT(rights), h, &m,
		       timeout);
}

long ns_refresh(long ns, unsigned long *buf, const char *name, long h,
		unsigned int rights, long *next)
{
	long now = sys_clock();

	if (now < *next)
		return 0;
	*next = now + (long)NS_REFRESH_NS;
	return ns_register(ns, buf, name, h, rights, NS_REFRESH_NS);
}

long ns_lookup(long ns, unsigned long *buf, const char *name,
	       unsigned long timeout)
{
	/* Zeroed: ns_call may fail before it writes @m. */
	struct ipc_msg m = { 0 };
	long r = ns_call(ns, buf, NS_LOOKUP, name, 0, 0, &m, timeout);

	if (r < 0) {
		if (m.info & IPC_INFO_HANDLE)	/* not expected; not kept */
			sys_handle_close((long)m.w[3]);
		return r;
	}
	if (!(m.info & IPC_INFO_HANDLE))
		return -E_NOMEM;	/* our handle table is full */
	return (long)m.w[3];
}

long ns_lookup_wait(long ns, unsigned long *buf, const char *name,
		    unsigned long wait)
{
	long t0 = sys_clock(), h;

	for (;;) {
		h = ns_lookup(ns, buf, name, wait);
		if (h != -E_NOENT || sys_clock() - t0 >= (long)wait)
			return h;
		sys_sleep(20000000UL);
	}
}

long ns_unregister(long ns, unsigned long *buf, const char *name,
		   unsigned long timeout)
{
	struct ipc_msg m;

	return ns_call(ns, buf, NS_UNREGISTER, name, 0, 0, &m, timeout);
}

long ns_list(long ns, unsigned long *buf, unsigned long index, char *name,
	     unsigned long *info, unsigned long timeout)
{
	struct ipc_msg m;
	long r;

	if (!buf)
		return -E_MSGSIZE;
	r = proto_call(ns, NS_LIST, index, 0, &m, timeout);
	if (r)
		return r;
	if (IPC_INFO_LEN(m.info) < NS_NAME_WORDS || ns_name_get(buf, name))
		return -E_INVAL;
	if (info)
		*info = m.w[1];
	return 0;
}

/* A pager reply that carries the pager's endpoint: *h, or -E_NOMEM. */
static long pager_handle(const struct ipc_msg *m, long *h)
{
	if (!(m->info & IPC_INFO_HANDLE))
		return -E_NOMEM;
	*h = (long)m->w[3];
	return 0;
}

long pager_create(long pager, unsigned long pages, unsigned long *key,
		  long *h)
{
	struct ipc_msg m;
	long r = proto_call(pager, PAGER_REQ_CREATE, pages, 0, &m,
			    PAGER_CALL_TIMEOUT);

	if (r)
		return r;
	*key = m.w[1];
	return pager_handle(&m, h);
}

long pager_open(long pager, unsigned long key, unsigned long *pages,
		long *h)
{
	struct ipc_msg m;
	long r = proto_call(pager, PAGER_REQ_OPEN, key, 0, &m,
			    PAGER_CALL_TIMEOUT);

	if (r)
		return r;
	*pages = m.w[1];
	return pager_handle(&m, h);
}

long pager_evict(long pager, unsigned long key, unsigned long off,
		 unsigned long len, unsigned int flags)
{
	struct ipc_msg m = { .info = IPC_INFO(PAGER_REQ_EVICT, 0, 0),
			     .w = { key, off, len, flags } };
	long r = ipc_call(pager, &m, PAGER_CALL_TIMEOUT);

	return r ? r : (long)m.w[0];
}

long pager_destroy(long pager, unsigned long key)
{
	struct ipc_msg m;

	return proto_call(pager, PAGER_REQ_DESTROY, key, 0, &m,
			  PAGER_CALL_TIMEOUT);
}

long console_flush(long console, unsigned int flags, unsigned long timeout)
{
	struct ipc_msg m;

	return proto_call(console, CONSOLE_FLUSH, flags, 0, &m, timeout);
}

long console_intr(long console, unsigned long timeout)
{
	struct ipc_msg m;

	return proto_call(console, CONSOLE_INTR, 0, 0, &m, timeout);
}
