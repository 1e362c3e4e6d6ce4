#pragma once
/*
 * proc.h - user processes: an address space, a main thread running in
 * user mode, and an exit status
 *
 * struct proc
 *
 * Locking:
 *   pid, name, as        immutable after proc_spawn.
 *   main                 immutable after proc_spawn.
 *   exit_status          written once by the exiting thread before it is
 *                        DEAD; read after thread_join.
 *   threads[], joining[], exiting   lock.
 *   handles              its own lock (kern/ipc.h); closed when the main
 *                        thread ends.
 *   faultwait            its own lock (kern/faultwait.h): the pager
 *                        faults in flight in its address space.
 */
#include <kern/types.h>
#include <kern/spinlock_types.h>
#include <kern/faultwait.h>
#include <kern/ipc.h>

#define PROC_MAX_THREADS	64

struct as;
struct thread;
struct trap_frame;

struct proc {
	int pid;
	char name[32];
	struct as *as;
	struct thread *main;
	int exit_status;
	/* lock (rank 60, misc) protects threads[], joining[], and the
	 * setting of exiting with exit_status (set_exiting_locked); exiting
	 * is also read without it (acquire) on the way to user mode. */
	struct spinlock lock;
	bool exiting;		/* SYS_EXIT or a kill: every thread leaves */
	struct thread *threads[PROC_MAX_THREADS];	/* besides main */
	bool joining[PROC_MAX_THREADS];	/* a sibling waits in SYS_THREAD_JOIN */
	int parent;		/* pid of the spawner, 0 for init; 1 once
				 * the spawner is reaped (proc_table_lock) */
	bool claimed;		/* a SYS_WAIT waits for it (proc_table_lock) */
	struct handle_table handles;
	struct faultwait_table faultwait;
};

#define PROC_MAX	64	/* processes alive at once */

/*
 * proc_spawn - load the ELF image @elf as a new process
 * @args: words for argv[1..] (space-separated), or NULL
 *
 * Its main thread (p->main) is made but not started: the caller enters
 * the process in the table (proc_register), then thread_launch()es it.
 *
 * main() gets argc and argv (argv[0] = @name) in a0 and a1. With @share,
 * the new process starts with a copy-on-write view of that region.
 * Return: 0 and *out, or -E_BADFMT (the loader printed why), -E_NOMEM,
 * -E_INVAL (arguments too long).
 */
struct proc_share {
	struct as *from;	/* give the new process a copy-on-write view */
	vaddr_t va;		/* of this region of @from (len 0: none) */
	size_t len;
	struct kobj *handle;	/* and this object as its first handle */
	unsigned int rights;	/* (HANDLE_SPAWN), or NULL */
	struct kobj *const *handles;	/* then these, rights MAP|GRANT|DUP */
	unsigned int nhandles;
};

int proc_spawn(const char *name, const void *elf, size_t size,
	       const char *args, const struct proc_share *share,
	       struct proc **out);
/* Enter @p in the process table (pids for wait and kill), as a child of
 * @parent (NULL: none, the first process). -E_AGAIN if the table is
 * full, -E_INTR if @parent is being killed (a child it started now
 * would escape a kill of its tree). */
int proc_register(struct proc *p, struct proc *parent);
/* Wait for @p to end (taking it out of the table), free everything it
 * held, return its status. */
int proc_wait(struct proc *p);
/* The process of the calling thread, or NULL for a kernel thread. */
struct proc *proc_current(void);

/* Make every thread of @p leave (status -1) at its next return to user. */
void proc_kill_proc(struct proc *p);
/* At a return to user mode: leave if the process is ending. */
void proc_check_exit(void);
/* The same, for the calling thread's process @p (the trap path has it). */
void proc_leave_if_exiting(struct proc *p);

/* Trap-side entry points (arch/riscv/trap.c). */
void syscall_dispatch(struct proc *p, struct trap_frame *tf);
/* A page fault in user mode: resolve it or end the process. */
void proc_user_fault(struct proc *p, struct trap_frame *tf,
		     enum as_access access);
/* Where SYS_MAP (and SYS_MAP_PAGER) put regions when given address 0. */
#define MAP_BASE	0x1000000000UL
/* A user fault the kernel cannot resolve: one report line, then exit. */
__noreturn void proc_kill_current(const struct trap_frame *tf,
				  const char *why);

/* The boot archive (cpio newc) linked into the image, or the initrd. */
extern const char initrd_start[], initrd_end[];
/* Use @initrd (from /chosen) as the boot archive if it is one; NULL: the
 * archive built into the image. */
void archive_init(const void *initrd, size_t size);
/* The first program named in the archive's etc/manifest. */
int archive_manifest_first(char *name, size_t size);
/* Find bin/NAME in the boot archive. Return: 0, -E_NOENT or -E_BADFMT. */
int archive_find(const char *name, const void **data, size_t *len);
/* The NAME of the @index-th program (bin/NAME) of the boot archive, for
 * SYS_PROGRAM_INFO (kernel/proc/proc.c says which members count). No
 * locks. Return: its length, -E_INVAL, -E_NOENT, -E_RANGE or -E_BADFMT. */
long archive_program(long index, char *name, size_t size);
