/*
 * test_libk.c - host tests of kernel/lib, with the C library as the oracle
 */
#include <host.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

#include <stdio.h>

/* Declared by kern/printf.h under the same name as libc's; the kernel's
 * vsnprintf is the one linked, so compare against libc through a
 * differently named entry point. */
int libc_snprintf(char *buf, size_t size, const char *fmt, ...);

#define CHECK_FMT(fmt, ...)                                                   \
	do {                                                                  \
		char a[128], b[128];                                          \
		int na = snprintf(a, sizeof(a), fmt, __VA_ARGS__);           \
		int nb = libc_snprintf(b, sizeof(b), fmt, __VA_ARGS__);      \
		if (!KT_EXPECT(na == nb && !strcmp(a, b)))                   \
			KT_INFO("fmt \"%s\": got \"%s\" (%d), libc \"%s\" (%d)",\
				fmt, a, na, b, nb);                           \
	} while (0)

KTEST(printf_matches_libc)
{
	CHECK_FMT("%d|%i|%u", -42, 17, 3000000000u);
	CHECK_FMT("%5d|%-5d|%05d|%+d|% d", 42, 42, -42, 42, 42);
	CHECK_FMT("%x|%X|%#x|%#o|%o", 0xbeefu, 0xbeefu, 0x1fu, 8u, 0u);
	CHECK_FMT("%lx|%llu|%zu|%ld", 0xffffffffffffffffUL,
		  18446744073709551615ULL, (size_t)123, -1L);
	CHECK_FMT("%hhd|%hd|%hhu", 300, 70000, 511);
	CHECK_FMT("%.3d|%8.3d|%-8.3x|%.0d", 7, -7, 0xa, 0);
	CHECK_FMT("%s|%10s|%-10s|%.2s|%*s", "abc", "abc", "abc", "abc", 4, "z");
	CHECK_FMT("%c|%3c|%-3c|%%", 'x', 'y', 'z');
	CHECK_FMT("%p|%016lx", (void *)0x1234, 0xabcUL);
	CHECK_FMT("%lld|%lld", (long long)INT64_MIN, (long long)INT64_MAX);
}

KTEST(printf_truncates_and_terminates)
{
	char buf[8];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = snprintf(buf, sizeof(buf), "hello, world %d", 42);
	KT_EXPECT_EQ(n, 15);
	KT_EXPECT(!strcmp(buf, "hello, "));
	n = snprintf(NULL, 0, "%s", "abc");
	KT_EXPECT_EQ(n, 3);
	n = snprintf(buf, 1, "abc");
	KT_EXPECT_EQ(buf[0], '\0');
	/* A lone % at the end stops at the NUL. */
	{
		const char *lone = "a%";	/* not a literal: no -Wformat */

		n = snprintf(buf, sizeof(buf), lone);
	}
	KT_EXPECT(!strcmp(buf, "a"));
}

KTEST(strlcpy_and_strtou64)
{
	char buf[4];
	uint64_t v = 0;

	KT_EXPECT_EQ((long long)strlcpy(buf, "abcdef", sizeof(buf)), 6);
	KT_EXPECT(!strcmp(buf, "abc"));
	KT_EXPECT_EQ(kstrtou64("1234", &v), 0);
	KT_EXPECT_EQ(v, 1234);
	KT_EXPECT_EQ(kstrtou64("0x1F", &v), 0);
	KT_EXPECT_EQ(v, 31);
	KT_EXPECT_EQ(kstrtou64("18446744073709551615", &v), 0);
	KT_EXPECT(v == UINT64_MAX);
	KT_EXPECT_EQ(kstrtou64("18446744073709551616", &v), -E_RANGE);
	KT_EXPECT_EQ(kstrtou64("", &v), -E_INVAL);
	KT_EXPECT_EQ(kstrtou64("0x", &v), -E_INVAL);
	KT_EXPECT_EQ(kstrtou64("12a", &v), -E_INVAL);
	KT_EXPECT_EQ(kstrtou64("-1", &v), -E_INVAL);
}

KTEST_SUITE(printf_suite, "libk", KTEST_CASE(printf_matches_libc),
	    KTEST_CASE(printf_truncates_and_terminates),
	    KTEST_CASE(strlcpy_and_strtou64));

extern const struct ktest_suite cmdline_suite, memmap_suite;

const struct ktest_suite *const host_suites[] = { &printf_suite,
						  &cmdline_suite,
						  &memmap_suite };
const size_t host_nsuites = ARRAY_SIZE(host_suites);
