# Host tests of kernel/lib: printf, string functions, command-line parser.
HOST_TESTS += libk
libk_SRCS := tests/host/libk/test_libk.c tests/host/libk/test_cmdline.c \
	tests/host/libk/test_memmap.c kernel/lib/cmdline.c kernel/mm/memmap.c kernel/lib/printf.c \
	kernel/lib/string.c kernel/lib/errno.c kernel/lib/printk.c \
	kernel/test/ktest.c tests/host/lib/host_main.c kernel/arch/host/console.c \
	tests/host/libk/libc_snprintf.c
