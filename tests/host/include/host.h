#pragma once
/*
 * host.h - support for host unit tests (tests/host/). Each test program
 * defines host_suites[] and host_nsuites; tests/host/lib/host_main.c runs
 * them and prints KTAP.
 *
 * Arguments: seed=N (random seed, printed as a diagnostic), suite=NAME
 * (run one suite), and any other word, which tests read with host_arg().
 */
#include <kern/ktest.h>

extern const struct ktest_suite *const host_suites[];
extern const size_t host_nsuites;

/* The seed for this run (from seed=N, else from the clock). */
unsigned long host_seed(void);
/* Value of key=value argument @key, or NULL. Positional args: "#0", "#1"... */
const char *host_arg(const char *key);
/* xorshift64* generator seeded from host_seed(), one state per caller. */
uint64_t host_rand(uint64_t *state);
/* Send this thread's printk output to @buf (NUL-terminated, cut at
 * @size) instead of stdout; NULL ends the capture. */
void host_console_capture(char *buf, size_t size);
