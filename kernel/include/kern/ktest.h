#pragma once
/*
 * ktest - the one small test API shared by the in-kernel self-tests
 * (kernel/test/, run with the `ktest` boot option) and the host unit tests
 * (tests/host/, built with -DHOST_TEST). Output is KTAP version 1, the format
 * Linux KUnit prints, so scripts/ktap-parse and the pytest harness read both.
 *
 *	KTEST(adds_up)
 *	{
 *		KT_EXPECT_EQ(1 + 1, 2);
 *	}
 *	KTEST_SUITE(math_suite, "math", KTEST_CASE(adds_up));
 *
 * A case fails if any check in it fails; KT_ASSERT also ends the case at
 * once. Checks print a "# file:line: ..." diagnostic when they fail.
 */
#include <kern/types.h>

struct ktest_ctx {
	const char *name;	/* case being run */
	int failures;		/* failed checks so far */
	const char *skip;	/* non-NULL: case skipped, with this reason */
	int indent;		/* spaces before diagnostic lines */
};

typedef void (*ktest_fn)(struct ktest_ctx *kt);

struct ktest_case {
	const char *name;
	ktest_fn fn;
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	size_t ncases;
};

#define KTEST(name) static void ktest_##name(struct ktest_ctx *kt __unused)
#define KTEST_CASE(name) { #name, ktest_##name }
#define KTEST_SUITE(var, sname, ...)                                          \
	static const struct ktest_case var##_cases[] = { __VA_ARGS__ };       \
	const struct ktest_suite var = { sname, var##_cases,                  \
					 ARRAY_SIZE(var##_cases) }

bool ktest_check(struct ktest_ctx *kt, bool ok, const char *expr,
		 const char *file, int line);
bool ktest_check_eq(struct ktest_ctx *kt, long long a, long long b,
		    const char *ea, const char *eb, const char *file, int line);
void ktest_diag(struct ktest_ctx *kt, const char *fmt, ...) __printf(2, 3);

#define KT_EXPECT(cond) ktest_check(kt, !!(cond), #cond, __FILE__, __LINE__)
#define KT_EXPECT_EQ(a, b)                                                    \
	ktest_check_eq(kt, (long long)(a), (long long)(b), #a, #b, __FILE__,  \
		       __LINE__)
#define KT_ASSERT(cond)                                                       \
	do {                                                                  \
		if (!KT_EXPECT(cond))                                         \
			return;                                               \
	} while (0)
#define KT_ASSERT_EQ(a, b)                                                    \
	do {                                                                  \
		if (!KT_EXPECT_EQ(a, b))                                      \
			return;                                               \
	} while (0)
#define KT_SKIP(reason)                                                       \
	do {                                                                  \
		kt->skip = (reason);                                          \
		return;                                                       \
	} while (0)
/* A "# ..." diagnostic line inside the current case. */
#define KT_INFO(...) ktest_diag(kt, __VA_ARGS__)

/*
 * ktest_run - run suites and print one KTAP document
 * @filter: NULL for all, or a suite name to run only that suite
 *
 * Return: number of failed cases (0 = all ok or skipped).
 */
int ktest_run(const struct ktest_suite *const *suites, size_t nsuites,
	      const char *filter);
