/*
 * pager.c - the pager: memory objects served to pager-backed regions
 * (proto.h, PAGER_REQ_*; abi/syscall.h, SYS_MAP_PAGER; docs/servers.md)
 *
 * A memory object is an array of pages held in an anonymous region of
 * the pager's own. A client maps it with SYS_MAP_PAGER(..., handle, key);
 * a fault there arrives here as a PAGER_FAULT call (w0 key, w1 offset,
 * w2 access) from the faulting thread, and the answer IPC_INFO_PAGE with
 * the address of the object's page makes the kernel map that very frame
 * into the client: every client of a key shares the pages, and so does
 * the pager. Eviction unmaps pages from every client (SYS_PAGER_EVICT);
 * they keep their contents here (or are zeroed, with
 * PAGER_EVICT_DISCARD), and the next touch faults here again. A test can
 * make the faults on one object slow (PAGER_REQ_DELAY): each is answered
 * that much later, or once the delay is set back to 0, so that faults of
 * other threads surely come while one is in flight.
 *
 * One receiving thread per hart (up to 8) and the main thread serve the
 * one endpoint, so faults from many harts are answered in parallel. The
 * main thread also keeps "pager" registered with the name server.
 */
#include <proto.h>
#include <ulock.h>

#define SERVERS_MAX	8
#define KEY_SLOT(k)	((k) & 0xff)
#define KEY_RESERVED	1UL	/* a slot being set up (real keys >= 256) */

_Static_assert(PAGER_OBJ_MAX <= 256, "slot in the key's low byte");

/*
 * struct object - one memory object
 *
 * Locking:
 *   key    atomic; 0: a free slot. Set (released) once pages and base
 *          are; cleared by a destroy under rw (write).
 *   pages, base   immutable while key is set.
 *   delay_ms   atomic: how long a fault waits before its answer
 *              (PAGER_REQ_DELAY); 0 from creation.
 *   rw     read: a fault being answered (across the reply, so that the
 *          page it maps is not zeroed behind it), a keeping eviction;
 *          write: a discarding eviction, a destroy.
 */
struct object {
	unsigned long key;
	unsigned long pages;
	char *base;
	unsigned long delay_ms;
	struct urwlock rw;
};

static struct object objs[PAGER_OBJ_MAX];
static struct ulock table_lock;		/* claiming free slots; serial */
static unsigned long serial;
static unsigned long faults_served;	/* atomic */
static long ep;				/* ours, every right */

/* The object of @key, read-locked, or NULL. */
static struct object *obj_get(unsigned long key)
{
	struct object *o = &objs[KEY_SLOT(key) % PAGER_OBJ_MAX];

	if (key < 256 || __atomic_load_n(&o->key, __ATOMIC_ACQUIRE) != key)
		return NULL;
	urw_read_lock(&o->rw);
	if (__atomic_load_n(&o->key, __ATOMIC_RELAXED) != key) {
		urw_read_unlock(&o->rw);
		return NULL;
	}
	return o;
}

static bool range_ok(const struct object *o, unsigned long off,
		     unsigned long len)
{
	unsigned long size = o->pages * PAGE_SIZE;

	return !(off % PAGE_SIZE) && !(len % PAGE_SIZE) && len &&
	       off < size && len <= size - off;
}

/* A PAGER_FAULT: answer with the page (and reply here, under the lock). */
static void fault(struct ipc_msg *m)
{
	unsigned long key = m->w[0], off = m->w[1], delay;
	struct object *o = obj_get(key);

	if (!o || !range_ok(o, ALIGN_DOWN(off, PAGE_SIZE), PAGE_SIZE)) {
		/* No page: the kernel ends the faulting process. */
		if (o)
			urw_read_unlock(&o->rw);
		*m = (struct ipc_msg){ .w = { (unsigned long)-E_NOENT } };
		ipc_reply(m);
		return;
	}
	/* A slow object (PAGER_REQ_DELAY): answer once the delay has
	 * passed, or at once when it is set to 0 meanwhile. */
	for (long t0 = sys_clock();
	     (delay = __atomic_load_n(&o->delay_ms, __ATOMIC_RELAXED)) &&
	     sys_clock() - t0 < (long)(delay * 1000000UL);)
		sys_sleep(1000000UL);
	*m = (struct ipc_msg){
		.info = IPC_INFO(0, 0, IPC_INFO_PAGE),
		.w = { (unsigned long)o->base + ALIGN_DOWN(off, PAGE_SIZE) } };
	/* Counted before the reply: the faulting thread may run at once
	 * (on this hart, before we do again) and ask for the count. */
	__atomic_fetch_add(&faults_served, 1, __ATOMIC_RELAXED);
	ipc_reply(m);
	urw_read_unlock(&o->rw);
}

/* PAGER_REQ_CREATE: w0 pages -> w1 key. */
static long obj_create(const unsigned long *w, struct ipc_msg *out)
{
	unsigned long pages = w[0], key;
	struct object *o = NULL;
	long base;

	if (!pages || pages > PAGER_OBJ_PAGES)
		return -E_INVAL;
	ulock_lock(&table_lock);
	for (int i = 0; i < PAGER_OBJ_MAX && !o; i++)
		if (!objs[i].key) {
			o = &objs[i];
			o->key = KEY_RESERVED;
		}
	key = ++serial << 8 | (unsigned long)(o - objs);
	ulock_unlock(&table_lock);
	if (!o)
		return -E_NOMEM;
	base = sys_map(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (base < 0) {
		__atomic_store_n(&o->key, 0, __ATOMIC_RELEASE);
		return base;
	}
	o->pages = pages;
	o->base = (char *)base;
	o->delay_ms = 0;
	/* Release: pages and base are visible before the key (obj_get). */
	__atomic_store_n(&o->key, key, __ATOMIC_RELEASE);
	out->w[1] = key;
	return 0;
}

/* PAGER_REQ_OPEN: w0 key -> w1 pages. */
static long obj_open(const unsigned long *w, struct ipc_msg *out)
{
	struct object *o = obj_get(w[0]);

	if (!o)
		return -E_NOENT;
	out->w[1] = o->pages;
	urw_read_unlock(&o->rw);
	return 0;
}

/* PAGER_REQ_EVICT: w0 key, w1 offset, w2 length, w3 flags -> w0 the
 * mappings removed. */
static long obj_evict(const unsigned long *w, struct ipc_msg *out)
{
	unsigned long key = w[0], off = w[1], len = w[2];
	struct object *o = obj_get(key);
	long r;

	if (!o)
		return -E_NOENT;
	if (w[3] & ~(unsigned long)PAGER_EVICT_DISCARD ||
	    !range_ok(o, off, len)) {
		urw_read_unlock(&o->rw);
		return -E_INVAL;
	}
	if (!(w[3] & PAGER_EVICT_DISCARD)) {	/* faults may go on */
		r = sys_pager_evict(ep, key, off, len);
		urw_read_unlock(&o->rw);
		return r;
	}
	/* Discard: no fault may map a page between the unmap and the
	 * zeroing (writes through it would be lost), so hold them off. */
	urw_read_unlock(&o->rw);
	urw_write_lock(&o->rw);
	if (__atomic_load_n(&o->key, __ATOMIC_RELAXED) != key) {
		urw_write_unlock(&o->rw);
		return -E_NOENT;
	}
	r = sys_pager_evict(ep, key, off, len);
	if (r >= 0)
		memset(o->base + off, 0, len);
	urw_write_unlock(&o->rw);
	return r;
}

/* PAGER_REQ_DESTROY: w0 key. */
static long obj_destroy(const unsigned long *w, struct ipc_msg *out)
{
	unsigned long key = w[0];
	struct object *o = obj_get(key);
	long r;

	if (!o)
		return -E_NOENT;
	urw_read_unlock(&o->rw);
	urw_write_lock(&o->rw);
	if (__atomic_load_n(&o->key, __ATOMIC_RELAXED) != key) {
		urw_write_unlock(&o->rw);
		return -E_NOENT;
	}
	r = sys_pager_evict(ep, key, 0, o->pages * PAGE_SIZE);
	if (r >= 0) {
		sys_unmap(o->base, o->pages * PAGE_SIZE);
		__atomic_store_n(&o->key, 0, __ATOMIC_RELEASE);
		r = 0;
	}
	urw_write_unlock(&o->rw);
	return r;
}

/* PAGER_REQ_DELAY: w0 key, w1 milliseconds. */
static long obj_delay(const unsigned long *w, struct ipc_msg *out)
{
	struct object *o;

	if (w[1] > PAGER_DELAY_MAX_MS)
		return -E_INVAL;
	o = obj_get(w[0]);
	if (!o)
		return -E_NOENT;
	__atomic_store_n(&o->delay_ms, w[1], __ATOMIC_RELAXED);
	urw_read_unlock(&o->rw);
	return 0;
}

/* PAGER_REQ_STAT: w1 objects, w2 their pages, w3 faults served. */
static long pager_stat(const unsigned long *w, struct ipc_msg *out)
{
	for (int i = 0; i < PAGER_OBJ_MAX; i++) {
		struct object *o = &objs[i];

		if (__atomic_load_n(&o->key, __ATOMIC_ACQUIRE) >= 256) {
			out->w[1]++;
			out->w[2] += o->pages;
		}
	}
	out->w[3] = __atomic_load_n(&faults_served, __ATOMIC_RELAXED);
	return 0;
}

/* One request other than a fault: @m in, the reply out. */
static void request(struct ipc_msg *m)
{
	unsigned long label = IPC_INFO_LABEL(m->info), w[4];
	long r;

	memcpy(w, m->w, sizeof(w));
	if (m->info & IPC_INFO_HANDLE)	/* none is expected: not kept */
		sys_handle_close((long)w[3]);
	*m = (struct ipc_msg){ .info = 0 };
	switch (label) {
	case PAGER_REQ_CREATE:
		r = obj_create(w, m);
		break;
	case PAGER_REQ_OPEN:
		r = obj_open(w, m);
		break;
	case PAGER_REQ_EVICT:
		r = obj_evict(w, m);
		break;
	case PAGER_REQ_DESTROY:
		r = obj_destroy(w, m);
		break;
	case PAGER_REQ_DELAY:
		r = obj_delay(w, m);
		break;
	case PAGER_REQ_STAT:
		r = pager_stat(w, m);
		break;
	default:
		r = -E_NOSYS;
		break;
	}
	if (r < 0)
		*m = (struct ipc_msg){ .info = 0 };
	m->w[0] = (unsigned long)r;
	if (r == 0 && (label == PAGER_REQ_CREATE || label == PAGER_REQ_OPEN)) {
		/* Our endpoint, to map the object with: SEND only. */
		m->info = IPC_INFO(0, 0, IPC_INFO_HANDLE |
					      IPC_INFO_GRANT(HANDLE_R_SEND));
		m->w[3] = (unsigned long)ep;
	}
}

/*
 * Serve until the endpoint fails. @refresh_buf: the main thread's IPC
 * buffer, which also keeps "pager" registered; NULL for the others.
 */
static __attribute__((noreturn)) void serve(unsigned long *refresh_buf)
{
	unsigned long timeout = refresh_buf ? NS_REFRESH_NS : 0;
	long next_refresh = 0, r;
	bool owed = false;
	struct ipc_msg m;

	for (;;) {
		if (refresh_buf && sys_clock() >= next_refresh) {
			if (owed) {	/* no call while a reply is owed */
				ipc_reply(&m);
				owed = false;
			}
			ns_refresh(HANDLE_SPAWN, refresh_buf, "pager", ep,
				   HANDLE_R_SEND | HANDLE_R_GRANT,
				   &next_refresh);
		}
		r = owed ? ipc_reply_recv(ep, &m, timeout)
			 : ipc_recv(ep, &m, timeout);
		owed = false;
		if (r == -E_TIMEDOUT)
			continue;
		if (r) {
			printf("pager: receive: %s\n", errno_name((int)r));
			sys_exit(4);
		}
		if (IPC_INFO_LABEL(m.info) == PAGER_FAULT) {
			fault(&m);	/* replies itself */
			continue;
		}
		request(&m);
		owed = true;
	}
}

static void server_thread(void *arg)
{
	serve(NULL);
}

int main(int argc, char **argv)
{
	static struct rivet_stats st;
	unsigned long *buf = ipc_buffer_new();
	unsigned int n = 1;

	ep = sys_endpoint_create();
	if (!buf || ep < 0) {
		printf("pager: cannot set up (%ld)\n", ep);
		return 3;
	}
	/* Known by name at once: calls wait for the servers below. */
	ns_register(HANDLE_SPAWN, buf, "pager", ep,
		    HANDLE_R_SEND | HANDLE_R_GRANT, NS_REFRESH_NS);
	if (sys_stats(&st) == 0)
		n = MIN(st.nharts, SERVERS_MAX);
	for (unsigned int i = 0; i < n; i++) {
		long tid = thread_spawn(server_thread, NULL, (int)i);

		if (tid < 0)
			printf("pager: server thread %u: %s\n", i,
			       errno_name((int)tid));
	}
	serve(buf);
}
