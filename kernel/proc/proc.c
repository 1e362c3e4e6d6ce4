/*
 * proc.c - user processes: loading an ELF image from the boot archive into
 * a new address space, entering user mode, exiting, and being killed
 */
#include <kern/proc.h>
#include <kern/arch.h>
#include <kern/console.h>
#include <kern/cpio.h>
#include <kern/elf.h>
#include <kern/errno.h>
#include <kern/hart.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <mm/as.h>
#include <mm/frame.h>
#include <abi/syscall.h>
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <arch/trap.h>
#include <arch/uaccess.h>

/* Addresses SYS_MAP picks start here (well above any program image). */


static int next_pid = 1;	/* atomic */

/* proc_table_lock protects proc_table: live processes, by slot. Rank 60
 * (misc); a process's own lock may be taken under it. */
static struct spinlock proc_table_lock = SPINLOCK_INIT(LOCK_CLASS_MISC);
static struct proc *proc_table[PROC_MAX];

int proc_register(struct proc *p, struct proc *parent)
{
	int err = -E_AGAIN;

	p->parent = parent ? parent->pid : 0;
	spin_lock(&proc_table_lock);
	/* A spawner being killed starts nothing: a SYS_KILL with KILL_TREE
	 * marks the tree under this lock, so a child is either in the table
	 * by then (and in the tree) or refused here. */
	if (parent && __atomic_load_n(&parent->exiting, __ATOMIC_ACQUIRE))
		err = -E_INTR;
	for (int i = 0; i < PROC_MAX && err == -E_AGAIN; i++) {
		if (!proc_table[i]) {
			proc_table[i] = p;
			err = 0;
		}
	}
	spin_unlock(&proc_table_lock);
	return err;
}

/* Claim @pid for a wait if it is the caller's child and nobody waits
 * for it yet. It stays in the table (kill and SYS_PROC_INFO still find
 * it) until proc_wait takes it out. */
static struct proc *proc_claim_child(int pid, int parent)
{
	struct proc *p = NULL;

	spin_lock(&proc_table_lock);
	for (int i = 0; i < PROC_MAX; i++) {
		if (proc_table[i] && proc_table[i]->pid == pid &&
		    proc_table[i]->parent == parent &&
		    !proc_table[i]->claimed) {
			p = proc_table[i];
			p->claimed = true;
			break;
		}
	}
	spin_unlock(&proc_table_lock);
	return p;
}

/* Give back a claim of proc_claim_child (its waiter gave up). */
static void proc_unclaim(struct proc *p)
{
	spin_lock(&proc_table_lock);
	p->claimed = false;
	spin_unlock(&proc_table_lock);
}

/* SLOT_CLAIMED: a slot of threads[] held by a creation in flight. */
#define SLOT_CLAIMED	((struct thread *)1)

/* The process ends with @status (the first reason wins): every thread
 * leaves at its next return to user mode, and those waiting in IPC are
 * woken to do so (p->lock held: no thread slot is reaped meanwhile). */
static void set_exiting_locked(struct proc *p, int status)
{
	if (p->exiting)
		return;
	/* The status first: proc_leave_if_exiting reads it without the
	 * lock once it sees exiting (acquire). */
	p->exit_status = status;
	__atomic_store_n(&p->exiting, true, __ATOMIC_RELEASE);
	if (p->main)
		ipc_interrupt(p->main);
	for (int i = 0; i < PROC_MAX_THREADS; i++)
		if (p->threads[i] && p->threads[i] != SLOT_CLAIMED)
			ipc_interrupt(p->threads[i]);
}

/*
 * A pid argument (SYS_KILL, SYS_WAIT): the value if a process can have it,
 * else 0, which names none. Not cut to an int: SYS_KILL(1 << 61 | 1) once
 * killed pid 1.
 */
static int pid_arg(unsigned long v)
{
	return v <= 0x7fffffff ? (int)v : 0;
}

/*
 * Add to @mark (by slot of proc_table) every descendant of the one slot
 * marked, @root: breadth first, each marked process's children looked
 * for once, so at most PROC_MAX scans of the table. A process's parent
 * names its spawner until the spawner is reaped (its children are init's
 * then, pid 1). proc_table_lock held.
 */
static void mark_descendants(bool *mark, int root)
{
	int queue[PROC_MAX], head = 0, tail = 0;

	queue[tail++] = root;
	while (head < tail) {
		int pid = proc_table[queue[head++]]->pid;

		for (int i = 0; i < PROC_MAX; i++) {
			if (proc_table[i] && !mark[i] &&
			    proc_table[i]->parent == pid) {
				mark[i] = true;
				queue[tail++] = i;
			}
		}
	}
}

/* SYS_KILL: end @pid with status -1, and with KILL_TREE in @flags every
 * process it started, theirs, and so on, all at once. */
static int proc_kill(int pid, unsigned long flags)
{
	bool mark[PROC_MAX] = { false };
	int err = -E_NOENT;

	if (flags & ~(unsigned long)KILL_TREE)
		return -E_INVAL;
	spin_lock(&proc_table_lock);
	for (int i = 0; i < PROC_MAX && err; i++) {
		if (proc_table[i] && proc_table[i]->pid == pid) {
			mark[i] = true;
			err = 0;
			if (flags & KILL_TREE)
				mark_descendants(mark, i);
		}
	}
	for (int i = 0; i < PROC_MAX; i++) {
		if (mark[i]) {
			spin_lock(&proc_table[i]->lock);
			set_exiting_locked(proc_table[i], -1);
			spin_unlock(&proc_table[i]->lock);
		}
	}
	spin_unlock(&proc_table_lock);
	return err;
}

/* A NUL-terminated string from user memory into @buf. */
static int copy_string(char *buf, size_t size, const char *ustr)
{
	for (size_t i = 0; i < size; i++) {
		if (copy_from_user(&buf[i], ustr + i, 1))
			return -E_FAULT;
		if (!buf[i])
			return 0;
	}
	return -E_RANGE;
}

static long spawn_syscall(struct proc *parent, const char *uname,
			  const char *uargs, vaddr_t share_va,
			  size_t share_len, long handle)
{
	struct proc_share share = { .from = parent->as, .va = share_va,
				    .len = share_len };
	char name[SPAWN_NAME_MAX + 1], args[256];
	const void *elf;
	struct proc *p;
	size_t len;
	int err;

	err = copy_string(name, sizeof(name), uname);
	if (!err && uargs)
		err = copy_string(args, sizeof(args), uargs);
	if (err)
		return err;
	if (archive_find(name, &elf, &len))
		return -E_NOENT;
	if (handle) {
		/* The child's first handle: this one, with its rights. */
		err = handle_get(&parent->handles, handle, 0, &share.handle,
				 &share.rights);
		if (!err && !(share.rights & HANDLE_R_GRANT))
			err = -E_PERM;
		if (err) {
			if (share.handle)
				kobj_put(share.handle);
			return err;
		}
	}
	err = proc_spawn(name, elf, len, uargs ? args : NULL,
			 share_len || handle ? &share : NULL, &p);
	if (share.handle)
		kobj_put(share.handle);
	if (err)
		return err;
	err = proc_register(p, parent);
	if (err)
		proc_kill_proc(p);	/* it leaves at once */
	thread_launch(p->main);
	if (err) {
		proc_wait(p);
		return err;
	}
	return p->pid;
}

void arch_user_enter(struct trap_frame *tf) __noreturn;

struct proc *proc_current(void)
{
	struct thread *t = thread_current();

	return t ? t->proc : NULL;
}

/* The boot archive: the built-in one, or an initrd from the FDT.
 * Immutable after archive_init. */
static const char *archive = initrd_start;
static size_t archive_size;

void archive_init(const void *initrd, size_t size)
{
	struct cpio_entry e;
	char err[96];
	size_t pos = 0;

	archive_size = (size_t)(initrd_end - initrd_start);
	if (!initrd)
		return;
	if (cpio_next(initrd, size, &pos, &e, err, sizeof(err)) < 0) {
		printk("initrd: %lu bytes at %p are not a cpio archive (%s); "
		       "using the built-in one\n", (unsigned long)size,
		       initrd, err);
		return;
	}
	archive = initrd;
	archive_size = size;
	printk("initrd: using the initrd from the device tree (%lu bytes) "
	       "instead of the built-in archive\n", (unsigned long)size);
}

int archive_manifest_first(char *name, size_t size)
{
	const void *data;
	const char *m;
	size_t len, n = 0;

	if (!archive_size)
		archive_size = (size_t)(initrd_end - initrd_start);
	if (cpio_find(archive, archive_size, "etc/manifest", &data, &len))
		return -E_NOENT;
	m = data;
	while (len && (*m == ' ' || *m == '\n' || *m == '\t')) {
		m++;
		len--;
	}
	while (n < len && m[n] != '\n' && m[n] != ' ' && m[n] != '\t')
		n++;
	if (!n || n >= size)
		return -E_BADFMT;
	memcpy(name, m, n);
	name[n] = '\0';
	return 0;
}

int archive_find(const char *name, const void **data, size_t *len)
{
	char path[48];

	/* A name SYS_SPAWN takes (and archive_program lists) fits whole. */
	_Static_assert(sizeof("bin/") + SPAWN_NAME_MAX <= sizeof(path),
		       "bin/NAME fits in path");
	if (!archive_size)
		archive_size = (size_t)(initrd_end - initrd_start);
	snprintf(path, sizeof(path), "bin/%s", name);
	return cpio_find(archive, archive_size, path, data, len);
}

/* NAME if @e is named bin/NAME with a NAME SYS_SPAWN can be given: not
 * empty, no '/', at most SPAWN_NAME_MAX bytes. NULL if not. Its type is
 * not looked at here. */
static const char *archive_program_name(const struct cpio_entry *e)
{
	const char *name;
	size_t n;

	if (strncmp(e->name, "bin/", 4))
		return NULL;
	name = e->name + 4;
	n = strnlen(name, SPAWN_NAME_MAX + 1);
	if (!n || n > SPAWN_NAME_MAX || strchr(name, '/'))
		return NULL;
	return name;
}

/* Is a member named @name at or after offset @pos? Return: 1, 0 (no: the
 * walk reached the trailer) or -E_BADFMT. */
static int archive_named_from(size_t pos, const char *name)
{
	struct cpio_entry e;
	int ret;

	while ((ret = cpio_next(archive, archive_size, &pos, &e, NULL, 0)) > 0)
		if (!strcmp(e.name, name))
			return 1;
	return ret;
}

/*
 * archive_program - the @index-th program of the boot archive
 *
 * A program is a member bin/NAME that spawn_syscall can find and start:
 * NAME as archive_program_name says, and the member cpio_find returns
 * for it (the last of that name) a regular file. A name that occurs more
 * than once counts once, at its last member; so the order is the archive
 * order of those last members. Whether the file is a loadable ELF is not
 * checked (a broken one is listed, and SYS_SPAWN reports it).
 *
 * Each member named like a program has the rest of the archive walked
 * for a later one of its name: quadratic in the members, but the archive
 * is small (tens of members) and every successful return has then read
 * the whole archive, so a damaged archive gets -E_BADFMT whatever @index
 * (as cpio_find refuses it whatever the name).
 *
 * Locks:  none: the archive is immutable after archive_init.
 * Return: the length of NAME, copied NUL-terminated into @name (@size
 *         bytes); -E_INVAL (@index < 0), -E_NOENT (fewer programs),
 *         -E_RANGE (@size not more than the length; nothing written),
 *         -E_BADFMT (the archive is damaged).
 */
long archive_program(long index, char *name, size_t size)
{
	struct cpio_entry e;
	const char *prog;
	size_t pos = 0, n;
	int ret;

	if (index < 0)
		return -E_INVAL;
	if (!archive_size)
		archive_size = (size_t)(initrd_end - initrd_start);
	for (;;) {
		ret = cpio_next(archive, archive_size, &pos, &e, NULL, 0);
		if (ret <= 0)
			return ret ? ret : -E_NOENT;
		prog = archive_program_name(&e);
		if (!prog)
			continue;
		ret = archive_named_from(pos, e.name);
		if (ret < 0)
			return ret;
		if (ret || (e.mode & CPIO_MODE_TYPE) != CPIO_MODE_REG)
			continue;	/* not its last member, or no file */
		if (index--)
			continue;
		n = strlen(prog);
		if (n >= size)
			return -E_RANGE;
		memcpy(name, prog, n + 1);
		return (long)n;
	}
}

static unsigned int elf_to_as_prot(unsigned int p)
{
	return AS_PROT_USER | (p & ELF_PROT_R ? AS_PROT_R : 0) |
	       (p & ELF_PROT_W ? AS_PROT_W : 0) |
	       (p & ELF_PROT_X ? AS_PROT_X : 0);
}

/* Map one loadable segment and copy its file bytes through the direct
 * map (the kernel never writes through the user mapping). The segment is
 * a region of its own (the loader refuses segments that share a page):
 * else SYS_MAP could put a "new" region over the program's code and data,
 * which would show them, and its SYS_UNMAP take them away. */
static int load_segment(struct as *as, const uint8_t *file,
			const struct elf_segment *seg)
{
	vaddr_t lo = ALIGN_DOWN(seg->vaddr, PAGE_SIZE);
	vaddr_t hi = ALIGN_UP(seg->vaddr + seg->memsz, PAGE_SIZE);
	unsigned int prot = elf_to_as_prot(seg->prot);
	int err = as_region_add(as, lo, hi - lo, prot);

	if (!err)
		err = as_map_anon(as, lo, hi - lo, prot);
	if (err)
		return err;
	for (uint64_t done = 0; done < seg->filesz;) {
		vaddr_t va = seg->vaddr + done;
		uint64_t n = MIN(PAGE_SIZE - (va & (PAGE_SIZE - 1)),
				 seg->filesz - done);
		paddr_t pa;

		err = as_lookup(as, va, &pa, NULL);
		if (err)
			return err;
		memcpy(pa_to_kva(pa), file + seg->offset + done, n);
		done += n;
	}
	return 0;
}

/* The first code of a process's main thread, in the kernel. */
static void user_start(void *arg)
{
	struct proc *p = arg;
	struct trap_frame *tf;
	struct thread *t;
	uint64_t entry;

	arch_irq_disable();	/* until sret: the frame is being built */
	t = thread_current();
	tf = thread_user_frame(t);
	entry = (uint64_t)t->user_entry;

	memset(tf, 0, sizeof(*tf));
	tf->sepc = entry;
	tf->sp = t->user_sp;
	tf->a0 = t->user_a0;
	tf->a1 = t->user_a1;
	/* sret to U-mode with interrupts on there, and with the floating-
	 * point and vector units off (whatever the firmware left: OpenSBI
	 * leaves FS dirty): user programs are built without them, the
	 * kernel keeps no such registers per thread, so one would leak
	 * another's; an FP instruction is an illegal instruction, and its
	 * program is killed. So every user-mode frame holds the same
	 * sstatus, which arch_park_exit relies on (entry.S). */
	tf->sstatus = (csr_read(CSR_SSTATUS) &
		       ~(SSTATUS_SPP | SSTATUS_SUM | SSTATUS_SIE | SSTATUS_FS |
			 SSTATUS_VS | SSTATUS_SD)) | SSTATUS_SPIE;
	(void)p;
	arch_user_enter(tf);
}

/*
 * Put argc/argv on the top stack page: the strings at the top, the pointer
 * array under them, sp under that (16-byte aligned). Written through the
 * direct map. Return: the initial sp, or 0 if the arguments do not fit.
 */
#define ARGV_MAX	32

static vaddr_t setup_args(struct as *as, const char *name, const char *args,
			  unsigned long *argc_out)
{
	vaddr_t top = USER_STACK_TOP, sp;
	char buf[PAGE_SIZE / 2];
	const char *words[ARGV_MAX + 1];
	uint64_t uargv[ARGV_MAX + 1];
	unsigned long argc = 0;
	size_t used = 0;
	paddr_t pa;
	uint8_t *page;
	char *w;

	if (as_map_anon(as, top - PAGE_SIZE, PAGE_SIZE,
			AS_PROT_R | AS_PROT_W | AS_PROT_USER) ||
	    as_lookup(as, top - PAGE_SIZE, &pa, NULL))
		return 0;
	page = pa_to_kva(pa);
	/* Split a private copy of "name args" at spaces. */
	if ((size_t)snprintf(buf, sizeof(buf), "%s %s", name, args ? args : "")
	    >= sizeof(buf))
		return 0;
	for (w = buf; *w;) {
		while (*w == ' ')
			*w++ = '\0';
		if (!*w)
			break;
		if (argc == ARGV_MAX)
			return 0;
		words[argc++] = w;
		while (*w && *w != ' ')
			w++;
	}
	for (unsigned long i = argc; i-- > 0;) {
		size_t len = strlen(words[i]) + 1;

		used += len;
		if (used > PAGE_SIZE / 2)
			return 0;
		memcpy(page + PAGE_SIZE - used, words[i], len);
		uargv[i] = top - used;
	}
	uargv[argc] = 0;
	sp = ALIGN_DOWN(top - used - (argc + 1) * sizeof(uint64_t), 16);
	memcpy(page + (sp - (top - PAGE_SIZE)), uargv,
	       (argc + 1) * sizeof(uint64_t));
	*argc_out = argc;
	return sp;
}

int proc_spawn(const char *name, const void *elf, size_t size,
	       const char *args, const struct proc_share *share,
	       struct proc **out)
{
	unsigned long argc = 0;
	vaddr_t sp;
	struct frame *pf = frame_alloc(0, FRAME_F_KERNEL | FRAME_ZERO);
	struct elf_image img;
	char err_msg[128];
	struct proc *p;
	int err;

	_Static_assert(sizeof(struct proc) <= PAGE_SIZE, "proc in a frame");
	if (!pf)
		return -E_NOMEM;
	p = frame_to_kva(pf);
	spin_init(&p->lock, LOCK_CLASS_MISC);
	handle_table_init(&p->handles);
	faultwait_init(&p->faultwait);
	err = elf_parse(elf, size, &img, err_msg, sizeof(err_msg));
	if (err) {
		printk("proc: %s: %s\n", name, err_msg);
		goto out_free;
	}
	p->as = as_create(ptlock_default);
	if (!p->as) {
		err = -E_NOMEM;
		goto out_free;
	}
	for (int i = 0; i < img.nseg; i++) {
		err = load_segment(p->as, elf, &img.seg[i]);
		if (err) {
			/* Out of memory is the caller's to hear, as its error
			 * code: a process that spawns while memory is short
			 * could otherwise fill the console, a line a call. */
			if (err != -E_NOMEM)
				printk("proc: %s: cannot load segment %d: %s\n",
				       name, i, errno_name(err));
			goto out_as;
		}
	}
	err = as_region_add(p->as, USER_STACK_TOP - USER_STACK_SIZE,
			    USER_STACK_SIZE,
			    AS_PROT_R | AS_PROT_W | AS_PROT_USER);
	if (err)
		goto out_as;
	p->pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
	strlcpy(p->name, name, sizeof(p->name));
	if (share && share->handle) {
		err = handle_install(&p->handles, share->handle,
				     share->rights);
		if (err != HANDLE_SPAWN) {
			err = err < 0 ? err : -E_INVAL;
			goto out_as;
		}
	}
	for (unsigned int i = 0; share && i < share->nhandles; i++) {
		err = handle_install(&p->handles, share->handles[i],
				     HANDLE_R_MAP | HANDLE_R_GRANT |
					     HANDLE_R_DUP);
		if (err < 0)
			goto out_as;
	}
	/* A bad share range or too many argument words are the caller's
	 * mistakes: its error code, and no kernel message, which any
	 * process could have printed as often as it liked. */
	if (share && share->len) {
		err = as_cow_share(share->from, p->as, share->va, share->len);
		if (err)
			goto out_as;
	}
	sp = setup_args(p->as, name, args, &argc);
	if (!sp) {
		err = -E_INVAL;
		goto out_as;
	}
	/* a0 = argc, a1 = argv (the pointer array sits at sp). */
	/* Launched once the process is in the table (proc_register):
	 * until then SYS_PROC_FIND and kill would not find it running. */
	p->main = thread_create_user(name, user_start, p, p->as, p,
				     img.entry, sp, argc, sp, -1, false);
	if (!p->main) {
		err = -E_NOMEM;
		goto out_as;
	}
	*out = p;
	return 0;
out_as:
	handle_table_close(&p->handles);
	as_destroy(p->as);
out_free:
	frame_free(pf);
	return err;
}


int proc_wait(struct proc *p)
{
	int status;

	thread_join(p->main);
	/* Out of the table: nobody may find it once it is freed. Its
	 * children, if any are left, become init's (pid 1), those one of
	 * its threads still waits for too: that thread is on its way out
	 * and gives its claim back (proc_unclaim), and init's reaper can
	 * then wait for the child. (Left with our pid, a claimed child could
	 * never be waited for: no process has that pid again.) */
	spin_lock(&proc_table_lock);
	for (int i = 0; i < PROC_MAX; i++) {
		if (proc_table[i] == p)
			proc_table[i] = NULL;
		else if (proc_table[i] && proc_table[i]->parent == p->pid)
			proc_table[i]->parent = 1;
	}
	spin_unlock(&proc_table_lock);
	/* The main thread has ended the process: the others leave at their
	 * next return to user mode; joiners give up their claims then. */
	for (int i = 0; i < PROC_MAX_THREADS; i++) {
		for (;;) {
			struct thread *t;
			bool busy;

			spin_lock(&p->lock);
			t = p->threads[i];
			busy = t == SLOT_CLAIMED || p->joining[i];
			if (!busy)
				p->threads[i] = NULL;
			spin_unlock(&p->lock);
			if (busy) {
				thread_sleep_ns(1000000);
				continue;
			}
			if (t)
				thread_join(t);
			break;
		}
	}
	status = p->exit_status;
	as_destroy(p->as);
	frame_free(kva_to_frame(p));
	return status;
}

/* A user thread ends: the call it owes fails, its IPC buffer goes, and
 * with the main thread the process's handles go (so a server's clients
 * learn of its end at once, not when a parent waits for it). */
static __noreturn void user_thread_exit(int code)
{
	struct thread *t = thread_current();

	ipc_thread_exit(t);
	if (t->proc && t == t->proc->main)
		handle_table_close(&t->proc->handles);
	thread_exit(code);
}

/* End the whole process with @status (SYS_EXIT, a kill). */
static __noreturn void proc_exit(int status)
{
	struct proc *p = proc_current();

	spin_lock(&p->lock);
	set_exiting_locked(p, status);
	spin_unlock(&p->lock);
	user_thread_exit(status);
}

void proc_kill_proc(struct proc *p)
{
	spin_lock(&p->lock);
	set_exiting_locked(p, -1);
	spin_unlock(&p->lock);
}

void proc_leave_if_exiting(struct proc *p)
{
	if (__atomic_load_n(&p->exiting, __ATOMIC_ACQUIRE))
		user_thread_exit(p->exit_status);
}

void proc_check_exit(void)
{
	struct proc *p = proc_current();

	if (p)
		proc_leave_if_exiting(p);
}

/*
 * SYS_SLEEP: at least @ns, or until the process ends. A blocked wait with
 * a deadline, not thread_sleep_ns: a kill wakes it (set_exiting_locked),
 * where a sleeping thread kept its process from ending until the sleep
 * did. Whole seconds and the rest apart, so ns * hz cannot overflow.
 */
static void user_sleep(struct proc *p, unsigned long ns)
{
	uint64_t hz = arch_time_hz();
	uint64_t end = arch_time() + ns / 1000000000UL * hz +
		       ns % 1000000000UL * hz / 1000000000UL + 1;

	while (arch_time() < end &&
	       !__atomic_load_n(&p->exiting, __ATOMIC_ACQUIRE))
		thread_block(NULL, end);
}

static long thread_create_syscall(struct proc *p, struct trap_frame *tf)
{
	long hart = (long)tf->a4;
	struct thread *t;
	int slot = -1;

	if (tf->a0 >= AS_USER_TOP || tf->a3 >= AS_USER_TOP + 1 ||
	    (tf->a3 & 15) || hart < -1 || hart >= (long)nr_harts)
		return -E_INVAL;
	spin_lock(&p->lock);
	for (int i = 0; i < PROC_MAX_THREADS && slot < 0 && !p->exiting; i++)
		if (!p->threads[i])
			slot = i;
	if (slot >= 0)	/* claimed: proc_wait waits for the outcome */
		p->threads[slot] = SLOT_CLAIMED;
	spin_unlock(&p->lock);
	if (slot < 0)
		return -E_AGAIN;	/* 64 threads, or exiting */
	t = thread_create_user(p->name, user_start, p, p->as, p, tf->a0,
			       tf->a3, tf->a1, tf->a2, (int)hart, true);
	spin_lock(&p->lock);
	p->threads[slot] = t;
	/* A kill while the slot was only claimed did not see t: it may
	 * already be waiting (SYS_THREAD_JOIN), and must hear of it. */
	if (t && p->exiting)
		ipc_interrupt(t);
	spin_unlock(&p->lock);
	return t ? (long)t->tid : -E_NOMEM;
}

/*
 * Join a sibling thread. The slot stays in the table while we wait (so a
 * teardown still finds the thread); joining[] marks it ours. If the process
 * starts exiting meanwhile, give up: we leave on the way back to user mode
 * and proc_wait reaps the thread.
 */
static long thread_join_syscall(struct proc *p, unsigned long tid)
{
	struct thread *t = NULL, *self = thread_current();
	int slot = -1;

	spin_lock(&p->lock);
	for (int i = 0; i < PROC_MAX_THREADS && slot < 0; i++) {
		struct thread *c = p->threads[i];

		if (c && c != SLOT_CLAIMED && c->tid == tid) {
			slot = i;
			t = c;
		}
	}
	if (slot >= 0 && (t == self || p->joining[slot]))
		slot = -2;	/* itself, or someone joins it already */
	else if (slot >= 0)
		p->joining[slot] = true;
	spin_unlock(&p->lock);
	if (slot == -1)
		return -E_NOENT;
	if (slot == -2)
		return -E_BUSY;
	/* A kill wakes us (set_exiting_locked: ipc_interrupt). */
	if (!thread_wait_dead(t, &p->exiting)) {
		spin_lock(&p->lock);
		p->joining[slot] = false;
		spin_unlock(&p->lock);
		return -E_AGAIN;
	}
	spin_lock(&p->lock);
	p->threads[slot] = NULL;
	p->joining[slot] = false;
	spin_unlock(&p->lock);
	return thread_reap(t);
}

static void stats_syscall(struct rivet_stats *st)
{
	static const unsigned int cls[3] = { LOCK_CLASS_PT, LOCK_CLASS_AS,
					     LOCK_CLASS_FRAME };
	struct rivet_lockstat *out[3] = { &st->pt, &st->as, &st->frame };

	memset(st, 0, sizeof(*st));
	st->nharts = nr_harts;
	st->ptlock_split = ptlock_default == PTLOCK_SPLIT;
	st->free_frames = frame_free_count();
	st->total_frames = frame_total_count();
	for (unsigned int i = 0; i < nr_harts && i < STATS_MAX_HARTS; i++) {
		st->faults[i] = __atomic_load_n(&harts[i].mm_faults,
						__ATOMIC_RELAXED);
		st->ad_fixups[i] = __atomic_load_n(&harts[i].mm_ad_fixups,
						   __ATOMIC_RELAXED);
		st->spurious[i] = __atomic_load_n(&harts[i].mm_spurious,
						  __ATOMIC_RELAXED);
	}
	for (unsigned int i = 0; i < nr_harts; i++) {
		st->ipc_fast += __atomic_load_n(&harts[i].ipc_fast,
						__ATOMIC_RELAXED);
		st->pager_waits += __atomic_load_n(&harts[i].pager_waits,
						   __ATOMIC_RELAXED);
	}
	for (int k = 0; k < 3; k++) {
		struct lockstat s;

		lockstat_sum(cls[k], &s);
		out[k]->acquired = s.acquired;
		out[k]->contended = s.contended;
		out[k]->wait_ns = s.wait_ticks * 1000000000ULL / arch_time_hz();
	}
}

void proc_kill_current(const struct trap_frame *tf, const char *why)
{
	struct proc *p = proc_current();
	struct thread *t = thread_current();

	printk("proc: killed pid %d (%s), thread %u, hart %u: %s at pc %#lx, "
	       "address %#lx\n", p->pid, p->name, t->tid, hart_self(), why,
	       tf->sepc, tf->stval);
	proc_exit(-1);
}

/* SYS_DEBUG_READ: console input, polled every tick while none waits. */
static long debug_read(char *ubuf, size_t len, unsigned long timeout)
{
	uint64_t start = time_ns();
	char buf[64];
	size_t n = 0;

	if (!len)
		return 0;
	for (;;) {
		int c;

		while (n < MIN(len, sizeof(buf)) && (c = console_getc()) >= 0)
			buf[n++] = (char)c;
		if (n)
			return copy_to_user(ubuf, buf, n) ? -E_FAULT : (long)n;
		if (timeout == IPC_POLL ||
		    (timeout && time_ns() - start >= timeout))
			return -E_TIMEDOUT;
		if (__atomic_load_n(&proc_current()->exiting, __ATOMIC_ACQUIRE))
			return -E_INTR;
		thread_sleep_ns(10000000);
	}
}

/* What SYS_PROC_INFO and SYS_PROC_FIND say of @p. Locks: the table's
 * held (so @p stays). */
static void proc_info_fill(struct proc *p, struct rivet_proc_info *info)
{
	spin_lock(&p->lock);
	info->pid = p->pid;
	info->parent = p->parent;
	info->exiting = p->exiting;
	info->threads = 1;
	for (int t = 0; t < PROC_MAX_THREADS; t++)
		if (p->threads[t] && p->threads[t] != SLOT_CLAIMED)
			info->threads++;
	strlcpy(info->name, p->name, sizeof(info->name));
	spin_unlock(&p->lock);
}

/* SYS_PROGRAM_INFO: the name of the @index-th program of the boot archive
 * into @ubuf (@len bytes, its NUL included). No locks (archive_program). */
static long program_info(long index, char *ubuf, size_t len)
{
	char name[SPAWN_NAME_MAX + 1];
	long n = archive_program(index, name, sizeof(name));

	if (n < 0)
		return n;
	if (len <= (size_t)n)
		return -E_RANGE;
	return copy_to_user(ubuf, name, (size_t)n + 1) ? -E_FAULT : n;
}

/* SYS_PROC_INFO: the @index-th live process of the table (@index >= 0);
 * SYS_PROC_FIND: the one with pid @pid (> 0). */
static long proc_info(long index, long pid, void *uout)
{
	struct rivet_proc_info info;
	bool found = false;
	long seen = 0;

	if (index < 0 && pid <= 0)
		return -E_INVAL;
	memset(&info, 0, sizeof(info));
	spin_lock(&proc_table_lock);
	for (int i = 0; i < PROC_MAX && !found; i++) {
		struct proc *p = proc_table[i];

		if (!p || (pid > 0 ? p->pid != pid : seen++ != index))
			continue;
		found = true;
		proc_info_fill(p, &info);
	}
	spin_unlock(&proc_table_lock);
	if (!found)
		return -E_NOENT;
	return copy_to_user(uout, &info, sizeof(info)) ? -E_FAULT : 0;
}

/*
 * Ask @p's pager for the page @pf names, once for all the threads of @p
 * that fault on it at once (kern/faultwait.h). Interrupts on.
 * Return: 0 (mapped; or another thread's ask for it ended, or the process
 * is ending: back to user mode, which faults again if the page is still
 * absent), or what pager_fault returned.
 */
static int ask_pager(struct proc *p, const struct as_fault_info *pf,
		     enum as_access access)
{
	struct faultwait_entry *fw;
	unsigned int prot;
	paddr_t pa;
	int err;

	switch (faultwait_enter(&p->faultwait, pf->va, &p->exiting, &fw)) {
	case FAULTWAIT_WAITED:
		return 0;
	case FAULTWAIT_FULL:
		return pager_fault(p->as, pf, access);
	case FAULTWAIT_LEAD:
		break;
	}
	/* A leader may have mapped the page after as_fault_ex looked and
	 * left the table before we entered it: then asking again would be
	 * the very duplicate the table is for. (Its leave, under the
	 * table's lock, came after its install: this lookup sees it.) */
	if (as_lookup(p->as, pf->va, &pa, &prot) == 0)
		err = 0;
	else
		err = pager_fault(p->as, pf, access);
	faultwait_leave(&p->faultwait, fw);
	return err;
}

/* A user page fault: resolved by the address space, or by its pager (an
 * IPC, with interrupts on while the thread waits), or the end of the
 * process with one report line. A pager call cut short because the
 * process is ending (-E_INTR: a kill, or another thread's exit) is no
 * fault of the page: the thread leaves at the end of the trap, quietly,
 * as from any other wait. */
void proc_user_fault(struct proc *p, struct trap_frame *tf,
		     enum as_access access)
{
	char why[64];

	for (int tries = 0; tries < 64; tries++) {
		struct as_fault_info pf;
		int err = as_fault_ex(p->as, tf->stval, access, &pf);

		if (err == 0)
			return;
		if (err != AS_FAULT_PAGER)
			proc_kill_current(tf, trap_cause_name(tf->scause));
		arch_irq_enable();
		err = ask_pager(p, &pf, access);
		arch_irq_disable();
		as_pager_ref(pf.pager, NULL, -1);
		if (err == 0 || err == -E_INTR)
			return;
		if (err != -E_AGAIN) {
			snprintf(why, sizeof(why), "%s, and its pager %s%s",
				 trap_cause_name(tf->scause),
				 err == -E_NOENT	? "sent no page"
				 : err == -E_PEER ? "is gone"
						  : "call failed: ",
				 err == -E_NOENT || err == -E_PEER
					 ? ""
					 : errno_name(err));
			proc_kill_current(tf, why);
		}
	}
	proc_kill_current(tf, "page fault its pager could not settle");
}

void syscall_dispatch(struct proc *p, struct trap_frame *tf)
{
	long ret;

	tf->sepc += 4;		/* past the ecall */
	switch (tf->a7) {
	case SYS_EXIT:
		proc_exit((int)tf->a0);
	case SYS_DEBUG_WRITE: {
		char buf[128];
		size_t len = tf->a1, done = 0;

		ret = 0;
		while (done < len) {
			size_t n = MIN(len - done, sizeof(buf));

			if (copy_from_user(buf, (const char *)tf->a0 + done,
					   n)) {
				ret = -E_FAULT;
				break;
			}
			console_write(buf, n);
			done += n;
			ret = (long)done;
		}
		break;
	}
	case SYS_YIELD:
		thread_yield();
		ret = 0;
		break;
	case SYS_GETPID:
		ret = p->pid;
		break;
	case SYS_CLOCK:
		ret = (long)time_ns();
		break;
	case SYS_MAP:
	case SYS_MAP_PAGER: {
		vaddr_t addr = tf->a0;
		unsigned int prot = (unsigned int)tf->a2;

		if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) {
			ret = -E_INVAL;
			break;
		}
		/* addr 0: the lowest free range from MAP_BASE, with a
		 * guard page after it. */
		if (tf->a7 == SYS_MAP)
			ret = as_region_add_at(p->as, &addr, tf->a1,
					       prot | AS_PROT_USER, NULL, 0,
					       MAP_BASE);
		else
			ret = ipc_map_pager(p, &addr, tf->a1,
					    prot | AS_PROT_USER, (long)tf->a3,
					    tf->a4);
		if (!ret)
			ret = (long)addr;
		break;
	}
	case SYS_DEBUG_READ:
		ret = debug_read((char *)tf->a0, tf->a1, tf->a2);
		break;
	case SYS_PROC_INFO:
		ret = proc_info((long)tf->a0, 0, (void *)tf->a1);
		break;
	case SYS_PROC_FIND:
		ret = proc_info(-1, (long)tf->a0, (void *)tf->a1);
		break;
	case SYS_PROGRAM_INFO:
		ret = program_info((long)tf->a0, (char *)tf->a1, tf->a2);
		break;
	case SYS_THREAD_CREATE:
		ret = thread_create_syscall(p, tf);
		break;
	case SYS_THREAD_EXIT:
		if (thread_current() == p->main)
			proc_exit((int)tf->a0);
		user_thread_exit((int)tf->a0);
	case SYS_THREAD_JOIN:
		ret = thread_join_syscall(p, tf->a0);
		break;
	case SYS_STATS: {
		struct frame *sf = frame_alloc(0, FRAME_F_KERNEL);
		struct rivet_stats *st;

		_Static_assert(sizeof(*st) <= PAGE_SIZE, "stats in a page");
		if (!sf) {
			ret = -E_NOMEM;
			break;
		}
		st = frame_to_kva(sf);
		stats_syscall(st);
		ret = copy_to_user((void *)tf->a0, st, sizeof(*st));
		frame_free(kva_to_frame(st));
		break;
	}
	case SYS_SPAWN:
		ret = spawn_syscall(p, (const char *)tf->a0,
				    (const char *)tf->a1, tf->a2, tf->a3,
				    (long)tf->a4);
		break;
	case SYS_WAIT: {
		struct proc *c = proc_claim_child(pid_arg(tf->a0), p->pid);

		if (!c) {
			ret = -E_NOENT;
		} else if (!thread_wait_dead(c->main, &p->exiting)) {
			/* Killed while waiting (the kill woke us): we leave,
			 * the child stays, for init to reap once we are. */
			proc_unclaim(c);
			ret = -E_INTR;
		} else {
			ret = proc_wait(c);
		}
		break;
	}
	case SYS_KILL:
		ret = proc_kill(pid_arg(tf->a0), tf->a1);
		break;
	case SYS_PROTECT: {
		unsigned int prot = (unsigned int)tf->a2;

		if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) {
			ret = -E_INVAL;
			break;
		}
		ret = as_region_protect(p->as, tf->a0, tf->a1,
					prot | AS_PROT_USER);
		break;
	}
	case SYS_SLEEP:
		user_sleep(p, tf->a0);
		ret = 0;
		break;
	case SYS_UNMAP:
		ret = as_region_unmap(p->as, tf->a0, tf->a1);
		break;
	case SYS_HANDLE_CLOSE ... SYS_IPC_BUFFER:
	case SYS_PAGER_EVICT:
		ret = ipc_syscall(p, tf);
		break;
	case SYS_DEVICE_INFO ... SYS_KLOG_BIND:
		ret = device_syscall(p, tf);
		break;
	default:
		ret = -E_NOSYS;
		break;
	}
	tf->a0 = (unsigned long)ret;
}
