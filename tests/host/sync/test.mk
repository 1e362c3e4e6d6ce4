# Host tests of kernel/sync (spinlocks, statistics) with pthreads as harts.
HOST_TESTS += sync
sync_SRCS := tests/host/sync/test_spinlock.c kernel/sync/spinlock.c \
	kernel/arch/host/hart.c kernel/lib/printf.c kernel/lib/string.c \
	kernel/lib/printk.c kernel/test/ktest.c tests/host/lib/host_main.c \
	kernel/arch/host/console.c
# The lock-order checker too (the kernel's debug builds have it).
sync_CFLAGS := -DCONFIG_DEBUG_LOCK_ORDER=1
