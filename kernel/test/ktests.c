/*
 * ktests.c - the list of in-kernel suites
 */
#include <kern/ktest.h>
#include "ktests.h"

extern const struct ktest_suite kt_smp_suite, kt_boot_suite, kt_mm_suite,
	kt_sched_suite, kt_ipc_suite, kt_proc_suite;

static const struct ktest_suite *const suites[] = {
	&kt_boot_suite,
	&kt_smp_suite,
	&kt_mm_suite,
	&kt_sched_suite,
	&kt_ipc_suite,
	&kt_proc_suite,
};

int ktests_run(const char *suite)
{
	return ktest_run(suites, ARRAY_SIZE(suites), suite);
}
