/*
 * utest.c - user-space checks of the system-call ABI and of the memory a
 * process gets, printed as one KTAP version 1 document with one suite,
 * "utest" (the layout kernel/test/ktest.c prints, so scripts/ktap.py and
 * tests/system read both the same way).
 *
 * Cases: demand-zero memory from SYS_MAP (and again after SYS_UNMAP),
 * read-only mappings, .bss and .data as the loader left them, a stack
 * that grows 200 KiB down, SYS_MAP refusing bad arguments, SYS_DEBUG_WRITE
 * refusing bad pointers with -E_FAULT, unknown call numbers, and the
 * registers an ecall must preserve.
 *
 * Nothing here may kill the process: no access after SYS_UNMAP, no store
 * to read-only memory. The exit status is the number of failed cases.
 */
#include <uktap.h>

/* Fixed addresses SYS_MAP is asked for: user space, far from the image
 * (0x10000...), the stack (below USER_STACK_TOP) and each other. */
#define MAP_ADDR    0x20000000UL
#define MAP_RO_ADDR 0x20100000UL
#define MAP_LEN	    (64 * 1024UL)
#define USER_TOP    (1UL << 38) /* end of the Sv39 user half */
#define KERNEL_ADDR 0xffffffc000000000UL
#define KIMAGE_ADDR 0xffffffff80000000UL
#define STACK_BYTES (200 * 1024)
#define DIAG	    UKTAP_DIAG

/* Index of the first byte of @p[0..len) that is not @c, or len. */
static size_t first_not(const volatile unsigned char *p, size_t len,
			unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			break;
	return i;
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 12) + 3);
}

/* Write pattern() over @p[0..len), read it back; report a mismatch. */
static void check_write_read(volatile unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(i);
	for (i = 0; i < len; i++)
		if (p[i] != pattern(i))
			break;
	EXPECT(i == len, "byte %zu at %p reads %#x, wrote %#x", i,
	       (void *)&p[i], p[i], pattern(i));
}

/* ---------------------------------------------------------- SYS_MAP -- */

static void map_demand_zero(void)
{
	volatile unsigned char *p = (volatile unsigned char *)MAP_ADDR;
	long r = sys_map((void *)MAP_ADDR, MAP_LEN, PROT_READ | PROT_WRITE);
	size_t i;

	EXPECT_RET(r, MAP_ADDR);
	if (r != (long)MAP_ADDR)
		return;
	i = first_not(p, MAP_LEN, 0);
	EXPECT(i == MAP_LEN, "byte %zu of a new mapping reads %#x", i,
	       i < MAP_LEN ? p[i] : 0);
	check_write_read(p, MAP_LEN);
	EXPECT_RET(sys_unmap((void *)MAP_ADDR, MAP_LEN), 0);
}

/* The same range again: new zeroed pages, not the old ones. */
static void map_again_is_zero(void)
{
	volatile unsigned char *p = (volatile unsigned char *)MAP_ADDR;
	long r = sys_map((void *)MAP_ADDR, MAP_LEN, PROT_READ | PROT_WRITE);
	size_t i;

	EXPECT_RET(r, MAP_ADDR);
	if (r != (long)MAP_ADDR)
		return;
	i = first_not(p, MAP_LEN, 0);
	EXPECT(i == MAP_LEN, "byte %zu of a remapped range reads %#x", i,
	       i < MAP_LEN ? p[i] : 0);
	EXPECT_RET(sys_unmap((void *)MAP_ADDR, MAP_LEN), 0);
}

static void map_read_only_zero(void)
{
	volatile unsigned char *p = (volatile unsigned char *)MAP_RO_ADDR;
	long r = sys_map((void *)MAP_RO_ADDR, 2 * PAGE_SIZE, PROT_READ);
	size_t i;

	EXPECT_RET(r, MAP_RO_ADDR);
	if (r != (long)MAP_RO_ADDR)
		return;
	i = first_not(p, 2 * PAGE_SIZE, 0);
	EXPECT(i == 2 * PAGE_SIZE, "byte %zu reads %#x", i,
	       i < 2 * PAGE_SIZE ? p[i] : 0);
	EXPECT_RET(sys_unmap((void *)MAP_RO_ADDR, 2 * PAGE_SIZE), 0);
}

static void map_unaligned_addr(void)
{
	EXPECT_ERR(sys_map((void *)(MAP_ADDR + 1), PAGE_SIZE,
			   PROT_READ | PROT_WRITE));
	EXPECT_ERR(sys_map((void *)(MAP_ADDR + PAGE_SIZE / 2), PAGE_SIZE,
			   PROT_READ));
}

static void map_len_zero(void)
{
	EXPECT_ERR(sys_map((void *)MAP_ADDR, 0, PROT_READ | PROT_WRITE));
}

static void map_prot_zero(void)
{
	EXPECT_ERR(sys_map((void *)MAP_ADDR, PAGE_SIZE, 0));
}

static void map_prot_unknown_bits(void)
{
	EXPECT_ERR(sys_map((void *)MAP_ADDR, PAGE_SIZE, PROT_READ | 0x8));
	EXPECT_ERR(sys_map((void *)MAP_ADDR, PAGE_SIZE, -1));
}

static void map_write_only(void)
{
	EXPECT_ERR(sys_map((void *)MAP_ADDR, PAGE_SIZE, PROT_WRITE));
}

static void map_kernel_addr(void)
{
	EXPECT_ERR(sys_map((void *)KERNEL_ADDR, PAGE_SIZE,
			   PROT_READ | PROT_WRITE));
	EXPECT_ERR(sys_map((void *)KIMAGE_ADDR, PAGE_SIZE, PROT_READ));
	/* The first address past the user half (not canonical in Sv39). */
	EXPECT_ERR(sys_map((void *)USER_TOP, PAGE_SIZE, PROT_READ));
	/* Starts in user space, ends past it. */
	EXPECT_ERR(sys_map((void *)(USER_TOP - PAGE_SIZE), 2 * PAGE_SIZE,
			   PROT_READ));
}

static void map_wrapping_range(void)
{
	/* addr + len wraps past 2^64 to 0x10000000, to 0, and to 0x1000. */
	EXPECT_ERR(sys_map((void *)MAP_ADDR, -0x10000000UL,
			   PROT_READ | PROT_WRITE));
	EXPECT_ERR(sys_map((void *)MAP_ADDR, -MAP_ADDR, PROT_READ));
	EXPECT_ERR(sys_map((void *)-PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ));
}

/* ------------------------------------------------------ image, stack -- */

/* Not static, so the compiler cannot assume what they hold. */
unsigned char utest_bss[3 * 4096 + 123];
long utest_bss_word;
unsigned long utest_data_word = 0x5a5aa5a5c3c33c3cUL;

/*
 * The program's segments are regions: a map over them is refused. Before,
 * SYS_MAP over the image succeeded (its pages were in no region): the
 * "new demand-zero region" showed the code, and unmapping it took the
 * code away (sysfuzz seed=1 died of an instruction page fault so).
 */
static void map_over_image(void)
{
	unsigned long text = ALIGN_DOWN((unsigned long)map_over_image,
					PAGE_SIZE);
	unsigned long data = ALIGN_DOWN((unsigned long)&utest_data_word,
					PAGE_SIZE);

	EXPECT_RET(sys_map((void *)text, PAGE_SIZE, PROT_READ), -E_EXIST);
	EXPECT_RET(sys_map((void *)data, PAGE_SIZE, PROT_READ | PROT_WRITE),
		   -E_EXIST);
	/* From below the image into it. */
	EXPECT_RET(sys_map((void *)(USER_BASE - PAGE_SIZE), 2 * PAGE_SIZE,
			   PROT_READ), -E_EXIST);
	EXPECT(utest_data_word == 0x5a5aa5a5c3c33c3cUL, "data word %#lx",
	       utest_data_word);
}

static void bss_is_zero(void)
{
	size_t i = first_not(utest_bss, sizeof(utest_bss), 0);

	EXPECT(i == sizeof(utest_bss), "utest_bss[%zu] at %p reads %#x", i,
	       (void *)&utest_bss[i], i < sizeof(utest_bss) ? utest_bss[i] : 0);
	EXPECT(*(volatile long *)&utest_bss_word == 0, "utest_bss_word %ld",
	       utest_bss_word);
	check_write_read(utest_bss, sizeof(utest_bss));
}

static void data_is_initialised(void)
{
	unsigned long v = *(volatile unsigned long *)&utest_data_word;

	EXPECT(v == 0x5a5aa5a5c3c33c3cUL, "utest_data_word %#lx", v);
}

/*
 * A frame of STACK_BYTES, touched from its top down one page at a time
 * (the order a growing stack meets new pages), then written and read
 * back whole. noinline: the frame must really be below the caller's.
 */
static __attribute__((noinline)) void stack_touch(void)
{
	volatile unsigned char big[STACK_BYTES];
	size_t i;

	for (i = STACK_BYTES; i >= PAGE_SIZE; i -= PAGE_SIZE)
		big[i - 1] = 0xa5;
	big[0] = 0xa5;
	for (i = STACK_BYTES; i >= PAGE_SIZE; i -= PAGE_SIZE)
		if (big[i - 1] != 0xa5)
			break;
	EXPECT(i < PAGE_SIZE, "stack byte at %p reads %#x", (void *)&big[i - 1],
	       big[i - 1]);
	check_write_read(big, STACK_BYTES);
	EXPECT((uintptr_t)big >= USER_STACK_TOP - USER_STACK_SIZE,
	       "frame at %p is below the stack region", (void *)big);
}

static void stack_grows_200k(void)
{
	stack_touch();
}

/* --------------------------------------------------- SYS_DEBUG_WRITE -- */

static void debug_write_len_zero(void)
{
	EXPECT_RET(sys_debug_write("x", 0), 0);
}

static void debug_write_bad_pointer(void)
{
	EXPECT_RET(sys_debug_write((const char *)1, 1), -E_FAULT);
	EXPECT_RET(sys_debug_write((const char *)1, 16), -E_FAULT);
	EXPECT_RET(sys_debug_write((const char *)KIMAGE_ADDR, 16), -E_FAULT);
	EXPECT_RET(sys_debug_write((const char *)KERNEL_ADDR, 16), -E_FAULT);
}

/*
 * A range that starts in user space and ends past 1 << 38. The last user
 * page is mapped when the kernel allows it, so the first half of the range
 * is readable and only a check of the whole range refuses it. Its bytes
 * form a KTAP diagnostic line, harmless should a kernel print them.
 */
static void debug_write_crossing_top(void)
{
	static const char line[16] = "        # edge.\n";
	char *page = (char *)(USER_TOP - PAGE_SIZE);
	char *tail = (char *)(USER_TOP - sizeof(line));
	long r = sys_map(page, PAGE_SIZE, PROT_READ | PROT_WRITE);

	if (r == (long)(USER_TOP - PAGE_SIZE)) {
		memcpy(tail, line, sizeof(line));
		/* Sanity: the part inside user space can be written. */
		EXPECT_RET(sys_debug_write(tail, sizeof(line)), sizeof(line));
	} else {
		printf(DIAG "the last user page is not mappable (%ld, %s); "
			    "the range starts unmapped\n",
		       r, uktap_ret_name(r));
	}
	EXPECT_RET(sys_debug_write(tail, 2 * sizeof(line)), -E_FAULT);
	EXPECT_RET(sys_debug_write(tail, PAGE_SIZE), -E_FAULT);
	/* A length that wraps the address space. */
	EXPECT_RET(sys_debug_write(tail, -8UL), -E_FAULT);
	if (r == (long)(USER_TOP - PAGE_SIZE))
		EXPECT_RET(sys_unmap(page, PAGE_SIZE), 0);
}

/* -------------------------------------------------------- the rest -- */

static void getpid_clock_yield(void)
{
	long pid = sys_getpid();
	long t0 = sys_clock(), t1;

	EXPECT(pid > 0, "pid %ld", pid);
	EXPECT(t0 > 0, "clock %ld", t0);
	EXPECT_RET(sys_yield(), 0);
	t1 = sys_clock();
	EXPECT(t1 >= t0, "clock went back from %ld to %ld", t0, t1);
	EXPECT_RET(sys_getpid(), pid);
}

/* A system call by number, past the library's wrappers (which never
 * pass a bad number or bad flags). */
static long raw_syscall2(long nr, long arg0, long arg1)
{
	register long a7 __asm__("a7") = nr;
	register long a0 __asm__("a0") = arg0;
	register long a1 __asm__("a1") = arg1;

	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1) : "memory");
	return a0;
}

static long raw_syscall(long nr)
{
	return raw_syscall2(nr, 0, 0);
}

static void unknown_syscall(void)
{
	EXPECT_RET(raw_syscall(SYS_NR), -E_NOSYS);
	EXPECT_RET(raw_syscall(1000), -E_NOSYS);
	EXPECT_RET(raw_syscall(-1), -E_NOSYS);
}

/*
 * abi/syscall.h: every register but a0 survives an ecall. Fill the
 * argument and temporary registers, gp and tp with known values, make a
 * call that takes no arguments, and compare. gp and tp are unused by this
 * program (crt0.S), and put back before any C code runs.
 */
static void ecall_preserves_registers(void)
{
	static const char *const names[] = {"a1", "a2", "a3", "a4", "a5", "a6",
					    "a7", "t0", "t1", "t2", "t3", "t4",
					    "t5", "t6", "gp", "tp"};
	unsigned long want[ARRAY_SIZE(names)], got[ARRAY_SIZE(names)];
	unsigned long *w = want, *g = got;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		want[i] = 0x1111111111111111UL * (i + 1) ^ 0x0123456789abcdefUL;
	want[6] = SYS_GETPID; /* a7 carries the call number */
	/* The pointers live in s2/s3 (callee-saved, so ours to use). */
	__asm__ volatile("mv s2, %[w]\n\t"
			 "mv s3, %[g]\n\t"
			 "addi sp, sp, -16\n\t"
			 "sd gp, 0(sp)\n\t"
			 "sd tp, 8(sp)\n\t"
			 "ld a1, 0(s2)\n\t"
			 "ld a2, 8(s2)\n\t"
			 "ld a3, 16(s2)\n\t"
			 "ld a4, 24(s2)\n\t"
			 "ld a5, 32(s2)\n\t"
			 "ld a6, 40(s2)\n\t"
			 "ld a7, 48(s2)\n\t"
			 "ld t0, 56(s2)\n\t"
			 "ld t1, 64(s2)\n\t"
			 "ld t2, 72(s2)\n\t"
			 "ld t3, 80(s2)\n\t"
			 "ld t4, 88(s2)\n\t"
			 "ld t5, 96(s2)\n\t"
			 "ld t6, 104(s2)\n\t"
			 "ld gp, 112(s2)\n\t"
			 "ld tp, 120(s2)\n\t"
			 "ecall\n\t"
			 "sd a1, 0(s3)\n\t"
			 "sd a2, 8(s3)\n\t"
			 "sd a3, 16(s3)\n\t"
			 "sd a4, 24(s3)\n\t"
			 "sd a5, 32(s3)\n\t"
			 "sd a6, 40(s3)\n\t"
			 "sd a7, 48(s3)\n\t"
			 "sd t0, 56(s3)\n\t"
			 "sd t1, 64(s3)\n\t"
			 "sd t2, 72(s3)\n\t"
			 "sd t3, 80(s3)\n\t"
			 "sd t4, 88(s3)\n\t"
			 "sd t5, 96(s3)\n\t"
			 "sd t6, 104(s3)\n\t"
			 "sd gp, 112(s3)\n\t"
			 "sd tp, 120(s3)\n\t"
			 "ld gp, 0(sp)\n\t"
			 "ld tp, 8(sp)\n\t"
			 "addi sp, sp, 16"
			 :
			 : [w] "r"(w), [g] "r"(g)
			 : "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t0",
			   "t1", "t2", "t3", "t4", "t5", "t6", "s2", "s3",
			   "memory");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		EXPECT(got[i] == want[i],
		       "%s is %#lx after the ecall, was %#lx", names[i], got[i],
		       want[i]);
}

/* -------------------------------------------- threads and faults -- */

#define TH_ADDR		0x30000000UL	/* per-thread regions start here */
#define TH_SPAN		0x00400000UL	/* 4 MiB apart: own leaf tables */
#define TH_PAGES	64
#define SHARED_ADDR	0x28000000UL
#define SHARED_PAGES	16

struct th_arg {
	unsigned int id;
	volatile unsigned char *base;
	unsigned long bad;		/* pages that read back wrong */
};

static void touch_own(void *p)
{
	struct th_arg *a = p;

	for (unsigned long i = 0; i < TH_PAGES; i++)
		a->base[i * PAGE_SIZE + a->id % 64] = (unsigned char)(a->id + 1);
	for (unsigned long i = 0; i < TH_PAGES; i++)
		if (a->base[i * PAGE_SIZE + a->id % 64] !=
		    (unsigned char)(a->id + 1))
			a->bad++;
}

static unsigned long total_faults(const struct rivet_stats *st)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < st->nharts && i < STATS_MAX_HARTS; i++)
		n += st->faults[i];
	return n;
}

static struct rivet_stats st0, st1;	/* too big for the stack */

/* One thread per hart, pinned, each faulting in a region of its own: every
 * page faults in exactly once, and nothing is lost. */
static void threads_fault_disjoint(void)
{
	static struct th_arg args[STATS_MAX_HARTS];
	long tids[STATS_MAX_HARTS];
	unsigned int n;

	EXPECT_RET(sys_stats(&st0), 0);
	n = st0.nharts;
	for (unsigned int i = 0; i < n; i++) {
		void *base = (void *)(TH_ADDR + i * TH_SPAN);

		EXPECT_RET(sys_map(base, TH_PAGES * PAGE_SIZE,
				   PROT_READ | PROT_WRITE), (long)base);
		args[i] = (struct th_arg){ i, base, 0 };
	}
	EXPECT_RET(sys_stats(&st0), 0);
	for (unsigned int i = 0; i < n; i++) {
		tids[i] = thread_spawn(touch_own, &args[i], (int)i);
		EXPECT(tids[i] > 0, "thread_spawn on hart %u: %ld", i, tids[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
		EXPECT(args[i].bad == 0, "thread %u: %lu pages read back wrong",
		       i, args[i].bad);
	}
	EXPECT_RET(sys_stats(&st1), 0);
	/* Each page once, plus the threads' own stack pages (a few each). */
	EXPECT(total_faults(&st1) - total_faults(&st0) >= n * TH_PAGES &&
	       total_faults(&st1) - total_faults(&st0) <= n * (TH_PAGES + 8),
	       "%lu faults for %u x %d pages",
	       total_faults(&st1) - total_faults(&st0), n, TH_PAGES);
	printf("        # %u threads, %lu faults; page-table locks %lu "
	       "(%lu contended), address-space locks %lu (%lu contended), "
	       "ptlock=%s\n", n, total_faults(&st1) - total_faults(&st0),
	       st1.pt.acquired - st0.pt.acquired,
	       st1.pt.contended - st0.pt.contended,
	       st1.as.acquired - st0.as.acquired,
	       st1.as.contended - st0.as.contended,
	       st1.ptlock_split ? "split" : "single");
	for (unsigned int i = 0; i < n; i++)
		EXPECT_RET(sys_unmap((void *)(TH_ADDR + i * TH_SPAN),
				     TH_PAGES * PAGE_SIZE), 0);
}

static void touch_shared(void *p)
{
	struct th_arg *a = p;

	for (unsigned long i = 0; i < SHARED_PAGES; i++)
		a->base[i * PAGE_SIZE + a->id] = (unsigned char)(a->id + 1);
}

/* All threads write their own byte of the same pages at once: each page
 * must end as one frame holding every thread's byte. */
static void threads_fault_same_pages(void)
{
	static struct th_arg args[STATS_MAX_HARTS];
	volatile unsigned char *base = (volatile unsigned char *)SHARED_ADDR;
	long tids[STATS_MAX_HARTS];
	unsigned int n;

	EXPECT_RET(sys_stats(&st0), 0);
	n = st0.nharts;
	EXPECT_RET(sys_map((void *)SHARED_ADDR, SHARED_PAGES * PAGE_SIZE,
			   PROT_READ | PROT_WRITE), (long)SHARED_ADDR);
	for (unsigned int i = 0; i < n; i++) {
		args[i] = (struct th_arg){ i, base, 0 };
		tids[i] = thread_spawn(touch_shared, &args[i], (int)i);
		EXPECT(tids[i] > 0, "thread_spawn on hart %u: %ld", i, tids[i]);
	}
	for (unsigned int i = 0; i < n; i++)
		if (tids[i] > 0)
			EXPECT_RET(thread_join(tids[i]), 0);
	for (unsigned long pg = 0; pg < SHARED_PAGES; pg++)
		for (unsigned int i = 0; i < n; i++)
			EXPECT(base[pg * PAGE_SIZE + i] == i + 1,
			       "page %lu byte %u reads %u (lost a write: two "
			       "frames for one page?)", pg, i,
			       base[pg * PAGE_SIZE + i]);
	EXPECT_RET(sys_unmap((void *)SHARED_ADDR, SHARED_PAGES * PAGE_SIZE),
		   0);
}

static void thread_bad_arguments(void)
{
	EXPECT_ERR(sys_thread_create((void *)0xffffffff80000000UL, 0, 0,
				     (void *)0x100000, -1));
	EXPECT_ERR(sys_thread_create((void *)0x10000, 0, 0, (void *)0x100008,
				     -1));	/* sp not 16-byte aligned */
	EXPECT_ERR(sys_thread_create((void *)0x10000, 0, 0, (void *)0x100000,
				     10000));	/* no such hart */
	EXPECT_RET(sys_thread_join(123456), -E_NOENT);
}

/* A thread maps and unmaps a region while another has the kernel write
 * into it (SYS_STATS through copy_to_user, which faults pages in): every
 * call succeeds or fails with -E_FAULT, nothing crashes, nothing leaks. */
#define RACE_ADDR	0x22000000UL
#define RACE_LEN	(16 * PAGE_SIZE)

static volatile int race_stop;
static long race_ok, race_fault, race_other;

static void race_writer(void *arg)
{
	static struct rivet_stats *const targets[] = {
		(struct rivet_stats *)RACE_ADDR,
		(struct rivet_stats *)(RACE_ADDR + 5 * PAGE_SIZE),
		(struct rivet_stats *)(RACE_ADDR + 11 * PAGE_SIZE),
	};

	for (unsigned long i = 0; !race_stop; i++) {
		long r = sys_stats(targets[i % 3]);

		if (r == 0)
			race_ok++;
		else if (r == -E_FAULT)
			race_fault++;
		else
			race_other++;
	}
}

static void fault_racing_unmap(void)
{
	long tid, before, after;

	EXPECT_RET(sys_stats(&st0), 0);
	race_stop = 0;
	race_ok = race_fault = race_other = 0;
	tid = thread_spawn(race_writer, 0, -1);
	EXPECT(tid > 0, "thread_spawn: %ld", tid);
	if (tid <= 0)
		return;
	for (int round = 0; round < 300; round++) {
		EXPECT_RET(sys_map((void *)RACE_ADDR, RACE_LEN,
				   PROT_READ | PROT_WRITE), (long)RACE_ADDR);
		if (round % 3 == 0) {
			sys_yield();
		} else {	/* leave it mapped a while */
			long t0 = sys_clock();

			while (sys_clock() - t0 < 200 * 1000)
				;
		}
		EXPECT_RET(sys_unmap((void *)RACE_ADDR, RACE_LEN), 0);
	}
	race_stop = 1;
	EXPECT_RET(thread_join(tid), 0);
	EXPECT(race_other == 0, "%ld calls returned neither 0 nor -E_FAULT",
	       race_other);
	printf("        # %ld writes landed, %ld found the region gone\n",
	       race_ok, race_fault);
	/* Everything the writes faulted in went back with the unmaps (the
	 * thread's stack stays mapped until the process ends). */
	EXPECT_RET(sys_stats(&st1), 0);
	before = (long)st0.free_frames;
	after = (long)st1.free_frames;
	EXPECT(before - after < 40, "%ld frames fewer after the race",
	       before - after);
}

/* One thread flips a region between read-write and read-only while
 * another has the kernel write into it: each write lands or fails with
 * -E_FAULT; afterwards the page reads back what was last written. */
static volatile int prot_stop;
static long prot_ok, prot_fault, prot_other;

static void prot_writer(void *arg)
{
	while (!prot_stop) {
		long r = sys_stats((struct rivet_stats *)RACE_ADDR);

		if (r == 0)
			prot_ok++;
		else if (r == -E_FAULT)
			prot_fault++;
		else
			prot_other++;
	}
}

static void fault_racing_protect(void)
{
	volatile unsigned char *p = (volatile unsigned char *)RACE_ADDR;
	long tid;

	EXPECT_RET(sys_map((void *)RACE_ADDR, RACE_LEN,
			   PROT_READ | PROT_WRITE), (long)RACE_ADDR);
	*(volatile unsigned int *)p = 0;	/* present, nharts 0 */
	prot_stop = 0;
	prot_ok = prot_fault = prot_other = 0;
	tid = thread_spawn(prot_writer, 0, -1);
	EXPECT(tid > 0, "thread_spawn: %ld", tid);
	for (int round = 0; round < 300 && tid > 0; round++) {
		long t0 = sys_clock();

		EXPECT_RET(sys_protect((void *)RACE_ADDR, RACE_LEN, PROT_READ),
			   0);
		while (sys_clock() - t0 < 100 * 1000)
			;
		EXPECT_RET(sys_protect((void *)RACE_ADDR, RACE_LEN,
				       PROT_READ | PROT_WRITE), 0);
	}
	prot_stop = 1;
	if (tid > 0)
		EXPECT_RET(thread_join(tid), 0);
	EXPECT(prot_other == 0, "%ld calls returned neither 0 nor -E_FAULT",
	       prot_other);
	printf("        # %ld writes landed, %ld found the page read-only\n",
	       prot_ok, prot_fault);
	if (prot_ok)	/* a landed write left the hart count there */
		EXPECT(((struct rivet_stats *)RACE_ADDR)->nharts > 0,
		       "no landed write is visible");
	EXPECT_RET(sys_protect((void *)RACE_ADDR, PAGE_SIZE, PROT_READ),
		   -E_INVAL);	/* would cut the region */
	EXPECT_RET(sys_protect((void *)0x7000000, PAGE_SIZE, PROT_READ),
		   -E_NOENT);
	EXPECT_RET(sys_protect((void *)RACE_ADDR, RACE_LEN,
			       PROT_READ | PROT_WRITE | PROT_EXEC), -E_INVAL);
	EXPECT_RET(sys_unmap((void *)RACE_ADDR, RACE_LEN), 0);
}

/* -------------------------------------------------------- processes -- */

static void spawn_and_wait(void)
{
	long pid = sys_spawn("exit42", 0);

	EXPECT(pid > 1, "spawn exit42: %ld", pid);
	if (pid > 1)
		EXPECT_RET(sys_wait(pid), 42);
	EXPECT_RET(sys_wait(pid), -E_NOENT);	/* only once */
}

static void spawn_with_arguments(void)
{
	long pid = sys_spawn("hello", "a b c");

	EXPECT(pid > 1, "spawn hello: %ld", pid);
	if (pid > 1)
		EXPECT_RET(sys_wait(pid), 0);
}

/* A child that faults is killed with one report line; we go on. */
static void faulting_child_killed_alone(void)
{
	long pid = sys_spawn("fault", 0);

	EXPECT(pid > 1, "spawn fault: %ld", pid);
	if (pid > 1)
		EXPECT_RET(sys_wait(pid), -1);
	EXPECT_RET(sys_getpid(), 1);	/* still here */
}

/* A child that never stops is preempted (we run) and can be killed. */
static void kill_spinning_child(void)
{
	long pid = sys_spawn("spin", 0), t0 = sys_clock();

	EXPECT(pid > 1, "spawn spin: %ld", pid);
	if (pid <= 1)
		return;
	while (sys_clock() - t0 < 50 * 1000 * 1000)
		sys_yield();
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_wait(pid), -1);
}

/* SYS_PROC_FIND: this process; a child alive, killed (in the table,
 * exiting, until waited for), then gone; bad arguments. */
static void proc_find(void)
{
	struct rivet_proc_info pi;
	long self = sys_getpid(), pid;

	EXPECT_RET(sys_proc_find(self, &pi), 0);
	EXPECT(pi.pid == self && !pi.exiting && pi.threads == 1 &&
	       !strcmp(pi.name, "utest"),
	       "self: pid %d exiting %u threads %u name '%s'", pi.pid,
	       pi.exiting, pi.threads, pi.name);
	EXPECT_RET(sys_proc_find(0, &pi), -E_INVAL);
	EXPECT_RET(sys_proc_find(-1, &pi), -E_INVAL);
	EXPECT_RET(sys_proc_find(1L << 40, &pi), -E_NOENT);
	EXPECT_RET(sys_proc_find(self, (struct rivet_proc_info *)0x1),
		   -E_FAULT);
	pid = sys_spawn("spin", 0);
	EXPECT(pid > 1, "spawn spin: %ld", pid);
	if (pid <= 1)
		return;
	EXPECT_RET(sys_proc_find(pid, &pi), 0);
	EXPECT(pi.pid == pid && pi.parent == self && !pi.exiting,
	       "child: pid %d parent %d exiting %u", pi.pid, pi.parent,
	       pi.exiting);
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_proc_find(pid, &pi), 0);
	EXPECT(pi.exiting, "a killed child not waited for is not exiting");
	EXPECT_RET(sys_wait(pid), -1);
	EXPECT_RET(sys_proc_find(pid, &pi), -E_NOENT);
}

#define PROGRAMS_MAX 128

/* SYS_PROGRAM_INFO: a scan lists this very program and no name twice,
 * each name as SYS_SPAWN takes it; then every error code, from real
 * calls. */
static void program_info(void)
{
	static char names[PROGRAMS_MAX][SPAWN_NAME_MAX + 1];
	static const char ro[SPAWN_NAME_MAX + 1] = "read-only";
	char name[SPAWN_NAME_MAX + 1], *page;
	long n = 0, count, len, t0 = sys_clock();
	bool self = false;

	for (count = 0; count < PROGRAMS_MAX; count++) {
		char *p = names[count];

		n = sys_program_info(count, p, sizeof(names[count]));
		if (n < 0)
			break;
		EXPECT(n > 0 && n <= SPAWN_NAME_MAX && (size_t)n == strlen(p) &&
			       !strchr(p, '/'),
		       "program %ld: returned %ld, name '%s'", count, n, p);
		self |= !strcmp(p, "utest");
		for (long j = 0; j < count; j++)
			EXPECT(strcmp(names[j], p),
			       "'%s' is both program %ld and %ld", p, j, count);
	}
	/* Each call walks the archive again (quadratic in its members):
	 * how long a whole listing takes. */
	printf(DIAG "%ld programs, listed in %ld us\n", count,
	       (sys_clock() - t0) / 1000);
	EXPECT(n == -E_NOENT, "the scan ended at index %ld with %ld (%s)",
	       count, n, uktap_ret_name(n));
	EXPECT(self, "utest is not among the %ld programs", count);
	if (!count || count == PROGRAMS_MAX)
		return;

	EXPECT_RET(sys_program_info(count, name, sizeof(name)), -E_NOENT);
	EXPECT_RET(sys_program_info(1L << 40, name, sizeof(name)), -E_NOENT);
	EXPECT_RET(sys_program_info(-1, name, sizeof(name)), -E_INVAL);
	EXPECT_RET(sys_program_info((long)(1UL << 63), name, sizeof(name)),
		   -E_INVAL);

	/* One byte short (no room for the NUL), or none: nothing written. */
	len = (long)strlen(names[0]);
	memset(name, 'x', sizeof(name));
	EXPECT_RET(sys_program_info(0, name, (size_t)len), -E_RANGE);
	EXPECT_RET(sys_program_info(0, name, 0), -E_RANGE);
	EXPECT(first_not((unsigned char *)name, sizeof(name), 'x') ==
		       sizeof(name),
	       "-E_RANGE wrote into the buffer: '%.*s'", (int)sizeof(name),
	       name);
	EXPECT_RET(sys_program_info(0, name, (size_t)len + 1), len);
	EXPECT(!strcmp(name, names[0]), "program 0 reads '%s', then '%s'",
	       names[0], name);

	/* Buffers the kernel may not write. */
	EXPECT_RET(sys_program_info(0, NULL, sizeof(name)), -E_FAULT);
	EXPECT_RET(sys_program_info(0, (char *)1, sizeof(name)), -E_FAULT);
	EXPECT_RET(sys_program_info(0, (char *)KERNEL_ADDR, sizeof(name)),
		   -E_FAULT);
	EXPECT_RET(sys_program_info(0, (char *)ro, sizeof(ro)), -E_FAULT);
	page = (char *)sys_map(0, PAGE_SIZE, PROT_READ | PROT_WRITE);
	EXPECT((long)page > 0, "map: %ld", (long)page);
	if ((long)page <= 0)
		return;
	/* The name fits, its NUL falls on the page after (unmapped). */
	EXPECT_RET(sys_program_info(0, page + PAGE_SIZE - len,
				    (size_t)len + 1),
		   -E_FAULT);
	EXPECT_RET(sys_program_info(0, page + PAGE_SIZE - len - 1,
				    (size_t)len + 1),
		   len);
	EXPECT_RET(sys_unmap(page, PAGE_SIZE), 0);
	EXPECT_RET(sys_program_info(0, page, sizeof(name)), -E_FAULT);
}

/*
 * A process killed while it waits for its child (SYS_WAIT) ends; the
 * child goes on, now init's (pid 1: utest itself here, as in
 * faulting_child_killed_alone), and is killed and reaped by us. Before,
 * the killed process waited for its child to end: for ever.
 */
static void kill_waiting_parent(void)
{
	struct rivet_proc_info pi;
	long pid = sys_spawn("spin", "wait"), child = -1, t0 = sys_clock();

	EXPECT(pid > 1, "spawn spin wait: %ld", pid);
	if (pid <= 1)
		return;
	while (child < 0 && sys_clock() - t0 < 5000L * 1000 * 1000) {
		for (long i = 0; sys_proc_info(i, &pi) == 0; i++)
			if (pi.parent == pid)
				child = pi.pid;
		sys_sleep(1000 * 1000);
	}
	EXPECT(child > 0, "pid %ld started no child", pid);
	sys_sleep(20 * 1000 * 1000);	/* into its SYS_WAIT */
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_wait(pid), -1);
	if (child <= 0)
		return;
	EXPECT_RET(sys_proc_find(child, &pi), 0);
	EXPECT(pi.parent == 1 && !pi.exiting,
	       "orphan %ld: parent %d exiting %u", child, pi.parent,
	       pi.exiting);
	EXPECT_RET(sys_kill(child), 0);
	EXPECT_RET(sys_wait(child), -1);
}

/*
 * SYS_KILL with KILL_TREE ends a process and all it started: `spin spawn`
 * has a `spin wait` (and its spinning child) and keeps starting `spin
 * sleep` children, spawns in flight when the kill comes. Afterwards
 * every process above @pid is ending or gone (utest runs alone, as pid
 * 1: the orphans come to us, and we reap them). Bad flags: -E_INVAL.
 */
static void kill_tree(void)
{
	struct rivet_proc_info pi;
	long pid = sys_spawn("spin", "spawn"), t0 = sys_clock(), n = 0;
	long live = 0, reaped = 0;

	EXPECT(pid > 1, "spawn spin spawn: %ld", pid);
	if (pid <= 1)
		return;
	/* Until it has a grandchild (the spinning one) and some children. */
	while (n < 4 && sys_clock() - t0 < 5000L * 1000 * 1000) {
		n = 0;
		for (long i = 0; sys_proc_info(i, &pi) == 0; i++)
			n += pi.pid > pid;
		sys_sleep(1000 * 1000);
	}
	EXPECT(n >= 4, "spin spawn (pid %ld) started %ld processes", pid, n);
	EXPECT_RET(raw_syscall2(SYS_KILL, pid, 2), -E_INVAL);
	EXPECT_RET(raw_syscall2(SYS_KILL, pid, -1L), -E_INVAL);
	EXPECT_RET(sys_kill_tree(99999), -E_NOENT);
	EXPECT_RET(sys_kill_tree(pid), 0);
	for (long i = 0; sys_proc_info(i, &pi) == 0; i++)
		if (pi.pid >= pid && !pi.exiting)
			live++;
	EXPECT(live == 0, "%ld processes of the tree not ending", live);
	EXPECT_RET(sys_wait(pid), -1);
	/* The rest become ours as their parents end: reap them all. */
	t0 = sys_clock();
	do {
		n = 0;
		for (long i = 0; sys_proc_info(i, &pi) == 0; i++) {
			if (pi.pid <= pid)
				continue;
			n++;
			if (pi.parent == 1 && sys_wait(pi.pid) == -1)
				reaped++;
		}
		sys_sleep(1000 * 1000);
	} while (n && sys_clock() - t0 < 5000L * 1000 * 1000);
	EXPECT(n == 0, "%ld processes of the tree left after 5 s", n);
	EXPECT(reaped >= 3, "only %ld of the tree reaped, each status -1",
	       reaped);
}

/* Processes that exit or are killed give back every frame. */
static void processes_release_frames(void)
{
	static const char *const progs[] = { "exit42", "fault", "hello" };
	long before, after;

	/* Warm up: kernel tables made on first use stay. */
	for (unsigned int i = 0; i < ARRAY_SIZE(progs); i++)
		sys_wait(sys_spawn(progs[i], 0));
	EXPECT_RET(sys_stats(&st0), 0);
	before = (long)st0.free_frames;
	for (int round = 0; round < 3; round++)
		for (unsigned int i = 0; i < ARRAY_SIZE(progs); i++)
			sys_wait(sys_spawn(progs[i], 0));
	EXPECT_RET(sys_stats(&st1), 0);
	after = (long)st1.free_frames;
	EXPECT(after == before, "free frames %ld before, %ld after 9 "
	       "processes", before, after);
}

/* User code cannot touch the kernel half; W+X user memory is refused. */
static void security_basics(void)
{
	long pid = sys_spawn("kread", 0);

	EXPECT(pid > 1, "spawn kread: %ld", pid);
	if (pid > 1)
		EXPECT_RET(sys_wait(pid), -1);	/* killed */
	EXPECT_RET(sys_map((void *)0x21000000, PAGE_SIZE,
			   PROT_READ | PROT_WRITE | PROT_EXEC), -E_INVAL);
}

static void sleep_sleeps(void)
{
	long t0 = sys_clock(), t1;

	EXPECT_RET(sys_sleep(20 * 1000 * 1000), 0);
	t1 = sys_clock();
	EXPECT(t1 - t0 >= 20 * 1000 * 1000, "slept %ld ns of 20 ms", t1 - t0);
}

/* A long sleep sleeps (ns * hz once overflowed 64 bits: this child's
 * 31 minutes slept 10 ms) and a kill ends it (it once could not: the
 * process could not end until the sleep did). */
static void sleep_long_killed(void)
{
	long pid = sys_spawn("spin", "sleep"), t0 = sys_clock();

	EXPECT(pid > 1, "spawn spin sleep: %ld", pid);
	if (pid <= 1)
		return;
	EXPECT_RET(sys_sleep(300 * 1000 * 1000), 0);
	EXPECT_RET(sys_kill(pid), 0);
	EXPECT_RET(sys_wait(pid), -1);	/* killed, not woken early */
	EXPECT(sys_clock() - t0 < 10L * 1000 * 1000 * 1000,
	       "the kill took %ld ns to end the sleep", sys_clock() - t0);
}

/* Copy-on-write between two processes: a child spawned with a view of our
 * region sees our bytes as of the spawn; neither sees the other's writes
 * afterwards; every frame comes back. */
#define COW_ADDR	0x23000000UL
#define COW_PAGES	8

static void cow_isolation(void)
{
	volatile unsigned char *p = (volatile unsigned char *)COW_ADDR;
	char args[64];
	long pid, before, after;

	sys_wait(sys_spawn("exit42", 0));	/* warm kernel tables up */
	EXPECT_RET(sys_stats(&st0), 0);
	before = (long)st0.free_frames;
	EXPECT_RET(sys_map((void *)COW_ADDR, COW_PAGES * PAGE_SIZE,
			   PROT_READ | PROT_WRITE), (long)COW_ADDR);
	for (unsigned long i = 0; i < COW_PAGES * PAGE_SIZE; i++)
		p[i] = 'P';
	snprintf(args, sizeof(args), "%#lx %x", COW_ADDR, COW_PAGES);
	pid = sys_spawn_share("cowchild", args, (void *)COW_ADDR,
			      COW_PAGES * PAGE_SIZE);
	EXPECT(pid > 1, "spawn cowchild: %ld", pid);
	/* Write our own copy while the child reads its view. */
	for (unsigned long i = 0; i < COW_PAGES * PAGE_SIZE; i += 512)
		p[i] = 'Q';
	if (pid > 1)
		EXPECT_RET(sys_wait(pid), 0);	/* it saw 'P', then its 'C' */
	for (unsigned long i = 0; i < COW_PAGES * PAGE_SIZE; i += 512)
		EXPECT(p[i] == 'Q', "byte %lu reads %c after the child wrote",
		       i, p[i]);
	EXPECT(p[1] == 'P', "an unwritten byte reads %c", p[1]);
	EXPECT_RET(sys_unmap((void *)COW_ADDR, COW_PAGES * PAGE_SIZE), 0);
	EXPECT_RET(sys_stats(&st1), 0);
	after = (long)st1.free_frames;
	EXPECT(after == before, "free frames %ld before, %ld after", before,
	       after);
	/* Bad shares: not a whole region, or nothing there. */
	EXPECT_RET(sys_spawn_share("exit42", 0, (void *)0x7000000, PAGE_SIZE),
		   -E_NOENT);
}

static void spawn_bad_arguments(void)
{
	EXPECT_RET(sys_spawn("nosuch", 0), -E_NOENT);
	EXPECT_RET(sys_spawn((const char *)0x1, 0), -E_FAULT);
	EXPECT_RET(sys_spawn((const char *)0xffffffff80000000UL, 0), -E_FAULT);
	EXPECT_RET(sys_spawn("hello", (const char *)0x1), -E_FAULT);
	/* 40 words: more than argv takes. A share range that is no region.
	 * Error codes only: no kernel line (sysfuzz's test checks). */
	EXPECT_RET(sys_spawn("exit42", "a b c d e f g h i j k l m n o p q r s t "
				       "u v w x y z A B C D E F G H I J K L M N"),
		   -E_INVAL);
	EXPECT_RET(sys_spawn_share("exit42", 0, (void *)0x2000000000UL,
				   PAGE_SIZE), -E_NOENT);
	EXPECT_RET(sys_spawn_share("exit42", 0, (void *)0x2000000001UL,
				   PAGE_SIZE), -E_INVAL);
	EXPECT_RET(sys_wait(1), -E_NOENT);	/* not our child: ourselves */
	EXPECT_RET(sys_wait(99999), -E_NOENT);
	EXPECT_RET(sys_kill(99999), -E_NOENT);
}

/* A pid is the whole register: one with high bits set names nobody, not
 * the process its low 32 bits name (SYS_KILL(1 << 61 | 1) once killed
 * init; sysfuzz seed=1). */
static void pid_high_bits(void)
{
	long self = sys_getpid(), pid = sys_spawn("exit42", 0);

	EXPECT_RET(sys_kill(1L << 61 | self), -E_NOENT);
	EXPECT_RET(sys_kill(1L << 32 | self), -E_NOENT);
	EXPECT_RET(sys_kill((long)(~0UL << 32) | self), -E_NOENT);
	EXPECT_RET(sys_getpid(), self);		/* still here */
	EXPECT(pid > 1, "spawn exit42: %ld", pid);
	if (pid <= 1)
		return;
	EXPECT_RET(sys_wait(1L << 32 | pid), -E_NOENT);
	EXPECT_RET(sys_kill(1L << 40 | pid), -E_NOENT);
	EXPECT_RET(sys_wait(pid), 42);		/* not killed, not waited */
}

/* ------------------------------------------------------------ runner -- */

static const struct uktap_case cases[] = {
	{"map_demand_zero", map_demand_zero},
	{"map_again_is_zero", map_again_is_zero},
	{"map_read_only_zero", map_read_only_zero},
	{"map_unaligned_addr", map_unaligned_addr},
	{"map_len_zero", map_len_zero},
	{"map_prot_zero", map_prot_zero},
	{"map_prot_unknown_bits", map_prot_unknown_bits},
	{"map_write_only", map_write_only},
	{"map_kernel_addr", map_kernel_addr},
	{"map_wrapping_range", map_wrapping_range},
	{"map_over_image", map_over_image},
	{"bss_is_zero", bss_is_zero},
	{"data_is_initialised", data_is_initialised},
	{"stack_grows_200k", stack_grows_200k},
	{"debug_write_len_zero", debug_write_len_zero},
	{"debug_write_bad_pointer", debug_write_bad_pointer},
	{"debug_write_crossing_top", debug_write_crossing_top},
	{"getpid_clock_yield", getpid_clock_yield},
	{"unknown_syscall", unknown_syscall},
	{"ecall_preserves_registers", ecall_preserves_registers},
	{"threads_fault_disjoint", threads_fault_disjoint},
	{"threads_fault_same_pages", threads_fault_same_pages},
	{"thread_bad_arguments", thread_bad_arguments},
	{"fault_racing_unmap", fault_racing_unmap},
	{"fault_racing_protect", fault_racing_protect},
	{"spawn_and_wait", spawn_and_wait},
	{"spawn_with_arguments", spawn_with_arguments},
	{"faulting_child_killed_alone", faulting_child_killed_alone},
	{"kill_spinning_child", kill_spinning_child},
	{"proc_find", proc_find},
	{"program_info", program_info},
	{"kill_waiting_parent", kill_waiting_parent},
	{"kill_tree", kill_tree},
	{"processes_release_frames", processes_release_frames},
	{"security_basics", security_basics},
	{"sleep_sleeps", sleep_sleeps},
	{"sleep_long_killed", sleep_long_killed},
	{"cow_isolation", cow_isolation},
	{"spawn_bad_arguments", spawn_bad_arguments},
	{"pid_high_bits", pid_high_bits},
};

int main(int argc, char **argv)
{
	return uktap_run("utest", cases, ARRAY_SIZE(cases));
}
