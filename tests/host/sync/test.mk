# Host tests of kernel/sync (spinlocks, statistics) with pthreads as harts.
HOST_TESTS += sync
sync_SRCS := tests/host/sync/test_spinlock.c kernel/sync/spinlock.c \
	kernel/arch/host/hart.c kernel/lib/printf.c kernel/lib/string.c \
	kernel/lib/printk.c kernel/test/ktest.c tests/host/lib/host_main.c \
	kernel/arch/host/console.c
