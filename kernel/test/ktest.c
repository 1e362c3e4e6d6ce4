/*
 * ktest.c - the KTAP test runner shared by the kernel and the host tests
 *
 * Prints one KTAP version 1 document: a top-level plan with one entry per
 * suite, each suite a subtest indented by four spaces, as Linux KUnit does.
 * Cases run one after another on the calling hart; a case that needs other
 * harts uses the cross-hart call itself.
 */
#include <kern/ktest.h>
#include <kern/printf.h>
#include <kern/string.h>

bool ktest_check(struct ktest_ctx *kt, bool ok, const char *expr,
		 const char *file, int line)
{
	if (!ok) {
		kt->failures++;
		printk("%*s# %s:%d: expected %s\n", kt->indent, "", file, line,
		       expr);
	}
	return ok;
}

bool ktest_check_eq(struct ktest_ctx *kt, long long a, long long b,
		    const char *ea, const char *eb, const char *file, int line)
{
	if (a != b) {
		kt->failures++;
		printk("%*s# %s:%d: expected %s == %s, got %lld (0x%llx) and "
		       "%lld (0x%llx)\n", kt->indent, "", file, line, ea, eb,
		       a, (unsigned long long)a, b, (unsigned long long)b);
	}
	return a == b;
}

void ktest_diag(struct ktest_ctx *kt, const char *fmt, ...)
{
	char buf[PRINTK_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("%*s# %s\n", kt->indent, "", buf);
}

static int ktest_run_suite(const struct ktest_suite *suite, int nr)
{
	int pass = 0, fail = 0, skip = 0;

	printk("    KTAP version 1\n");
	printk("    # Subtest: %s\n", suite->name);
	printk("    1..%zu\n", suite->ncases);
	for (size_t i = 0; i < suite->ncases; i++) {
		struct ktest_ctx kt = {
			.name = suite->cases[i].name,
			.indent = 8,
		};

		suite->cases[i].fn(&kt);
		if (kt.failures) {
			fail++;
			printk("    not ok %zu %s\n", i + 1, kt.name);
		} else if (kt.skip) {
			skip++;
			printk("    ok %zu %s # SKIP %s\n", i + 1, kt.name,
			       kt.skip);
		} else {
			pass++;
			printk("    ok %zu %s\n", i + 1, kt.name);
		}
	}
	printk("# %s: pass:%d fail:%d skip:%d total:%zu\n", suite->name, pass,
	       fail, skip, suite->ncases);
	if (fail)
		printk("not ok %d %s\n", nr, suite->name);
	else if (skip && !pass)
		printk("ok %d %s # SKIP all cases skipped\n", nr, suite->name);
	else
		printk("ok %d %s\n", nr, suite->name);
	return fail;
}

int ktest_run(const struct ktest_suite *const *suites, size_t nsuites,
	      const char *filter)
{
	size_t n = 0;
	int failed = 0, nr = 0;

	for (size_t i = 0; i < nsuites; i++)
		if (!filter || !strcmp(filter, suites[i]->name))
			n++;
	printk("KTAP version 1\n");
	printk("1..%zu\n", n);
	for (size_t i = 0; i < nsuites; i++)
		if (!filter || !strcmp(filter, suites[i]->name))
			failed += ktest_run_suite(suites[i], ++nr);
	return failed;
}
