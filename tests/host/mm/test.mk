# Host tests of kernel/mm: frame allocator, page tables in both locking
# modes, address spaces under 8 pthread "harts", TLB shootdown (also for
# a second unmap or protect of a range whose first one has not flushed
# yet; the frames of a grown unmap batch held until it) and the grace
# period before page-table pages are freed, A/D fix-ups, copy-on-write
# breaks (break before make; the busy entry against every other path).
# The kernel sources are compiled unmodified against kernel/arch/host.
#
# Arguments: seed=N, ops=N (per hart in the random SMP cases), time_ms=N
# (their time limit each, 0 = none), known_bugs=skip (cases that reproduce
# a bug named in their diagnostics skip instead of failing; none is
# known now).
HOST_TESTS += mm
mm_SRCS := tests/host/mm/harness.c tests/host/mm/test_frame.c \
	tests/host/mm/test_pt.c tests/host/mm/test_smp.c \
	tests/host/mm/test_tlb.c tests/host/mm/test_region.c \
	tests/host/mm/test_fault.c tests/host/mm/test_cow.c \
	kernel/mm/frame.c kernel/mm/pt.c kernel/mm/as.c kernel/mm/tlb.c \
	kernel/mm/memmap.c kernel/sync/spinlock.c \
	kernel/arch/host/mm.c kernel/arch/host/hart.c \
	kernel/arch/host/console.c kernel/lib/printf.c kernel/lib/printk.c \
	kernel/lib/string.c kernel/lib/errno.c kernel/test/ktest.c \
	tests/host/lib/host_main.c
# -Wno-tsan: GCC refuses standalone __atomic_thread_fence under TSan
# (which does not model fences); as.c and tlb.c use them on purpose.
mm_CFLAGS := -Itests/host/mm -DCONFIG_SPLIT_PTLOCK_HARTS=4 \
	-DCONFIG_DEBUG_LOCK_ORDER=1 -Wno-tsan
# Headers the rule in the Makefile does not list.
$(O)/host/asan/mm $(O)/host/tsan/mm: $(wildcard tests/host/mm/*.h) \
	kernel/mm/mm_internal.h
