/*
 * console.c (host) - console_write for host tests: stdout, one write at a
 * time under a mutex so pthread "harts" do not interleave. A test can
 * capture what one thread prints instead (host_console_capture), to check
 * messages without cluttering the KTAP output.
 */
#include <kern/console.h>
#include <host.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t console_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char *cap_buf;
static _Thread_local size_t cap_size, cap_len;

void host_console_capture(char *buf, size_t size)
{
	cap_buf = buf;
	cap_size = size;
	cap_len = 0;
	if (buf && size)
		buf[0] = '\0';
}

void console_write(const char *s, size_t n)
{
	if (cap_buf) {
		size_t room = cap_size - 1 - cap_len;
		size_t k = n < room ? n : room;

		memcpy(cap_buf + cap_len, s, k);
		cap_len += k;
		cap_buf[cap_len] = '\0';
		return;
	}
	pthread_mutex_lock(&console_mutex);
	fwrite(s, 1, n, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&console_mutex);
}
