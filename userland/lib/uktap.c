/*
 * uktap.c - the KTAP runner of user test programs (uktap.h)
 */
#include <uktap.h>

int uktap_failures;

void uktap_fail(const char *file, int line, const char *what,
		const char *fmt, ...)
{
	const char *base = file;
	char msg[160];
	va_list ap;

	for (const char *c = file; *c; c++)
		if (*c == '/')
			base = c + 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf(UKTAP_DIAG "%s:%d: expected %s: %s\n", base, line, what, msg);
	uktap_failures++;
}

const char *uktap_ret_name(long r)
{
	return r < 0 ? errno_name((int)r) : "not an error";
}

int uktap_run(const char *suite, const struct uktap_case *cases, size_t n)
{
	int pass = 0, fail = 0;

	printf("KTAP version 1\n");
	printf("1..1\n");
	printf("    KTAP version 1\n");
	printf("    # Subtest: %s\n", suite);
	printf("    1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		uktap_failures = 0;
		cases[i].fn();
		if (uktap_failures) {
			fail++;
			printf("    not ok %zu %s\n", i + 1, cases[i].name);
		} else {
			pass++;
			printf("    ok %zu %s\n", i + 1, cases[i].name);
		}
	}
	printf("# %s: pass:%d fail:%d skip:0 total:%zu\n", suite, pass, fail,
	       n);
	printf("%s 1 %s\n", fail ? "not ok" : "ok", suite);
	return fail;
}
