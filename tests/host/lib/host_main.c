/*
 * host_main.c - main() of every host test program
 */
#include <host.h>
#include <kern/printf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long seed;
static int g_argc;
static char **g_argv;

unsigned long host_seed(void)
{
	return seed;
}

const char *host_arg(const char *key)
{
	size_t klen = strlen(key);
	int pos = 0;

	for (int i = 1; i < g_argc; i++) {
		const char *eq = strchr(g_argv[i], '=');

		if (!eq) {
			char name[16];

			snprintf(name, sizeof(name), "#%d", pos++);
			if (!strcmp(name, key))
				return g_argv[i];
			continue;
		}
		if ((size_t)(eq - g_argv[i]) == klen &&
		    !strncmp(g_argv[i], key, klen))
			return eq + 1;
	}
	return NULL;
}

uint64_t host_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int main(int argc, char **argv)
{
	const char *s;
	int failed;

	g_argc = argc;
	g_argv = argv;
	s = host_arg("seed");
	seed = s ? strtoul(s, NULL, 0) : (unsigned long)time(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	failed = ktest_run(host_suites, host_nsuites, host_arg("suite"));
	printf("# seed=%lu\n", seed);
	return failed ? 1 : 0;
}
