#pragma once
/*
 * uktap.h - KTAP test programs in user space (userland/lib/uktap.c)
 *
 * A program lists its cases and calls uktap_run(), which prints one KTAP
 * version 1 document with one suite (the layout kernel/test/ktest.c
 * prints, so scripts/ktap.py reads both the same way) and returns the
 * number of failed cases, the program's exit status.
 */
#include <rivet.h>

struct uktap_case {
	const char *name;
	void (*fn)(void);
};

/* Run @n cases as suite @suite. Return: the number that failed. */
int uktap_run(const char *suite, const struct uktap_case *cases, size_t n);

/* One failed expectation of the running case, as a diagnostic line. */
void uktap_fail(const char *file, int line, const char *what,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A system call's result: its error's name, or "not an error". */
const char *uktap_ret_name(long r);
/* Failed expectations of the running case so far. */
extern int uktap_failures;

#define UKTAP_DIAG "        # " /* a case's diagnostic, KTAP indent 8 */

#define EXPECT(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			uktap_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);    \
	} while (0)

#define EXPECT_RET(expr, want)                                                 \
	do {                                                                   \
		long r_ = (long)(expr);                                        \
		long w_ = (long)(want);                                        \
		if (r_ != w_)                                                  \
			uktap_fail(__FILE__, __LINE__, #expr " == " #want,     \
				   "got %ld (%#lx, %s)", r_,                   \
				   (unsigned long)r_, uktap_ret_name(r_));     \
	} while (0)

#define EXPECT_ERR(expr)                                                       \
	do {                                                                   \
		long r_ = (long)(expr);                                        \
		if (r_ >= 0)                                                   \
			uktap_fail(__FILE__, __LINE__, #expr " < 0",           \
				   "got %ld (%#lx)", r_, (unsigned long)r_);   \
	} while (0)
