/*
 * console.c (host) - console_write for host tests: stdout, one line per
 * write, serialised by a mutex so pthread "harts" do not interleave.
 */
#include <kern/console.h>

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t console_mutex = PTHREAD_MUTEX_INITIALIZER;

void console_write(const char *s, size_t n)
{
	pthread_mutex_lock(&console_mutex);
	fwrite(s, 1, n, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&console_mutex);
}
