/*
 * ipcpeer.c - the other process of ipctest's cross-process cases
 *
 * Started with an endpoint as its HANDLE_SPAWN and one mode word:
 *   echo        receive calls and answer w0 + 1 until a call labelled
 *               PEER_STOP, then exit 0
 *   noreply     receive one call and never answer (sleep until killed)
 *   call        call once with w0 = 42 and wait forever for the reply
 *   recv        wait forever for a call that never comes
 *   touch       map 4 pages backed by the pager behind HANDLE_SPAWN (key
 *               9) and read them; exit 0 if every read saw the word the
 *               pager put there (its key, offset), else 3
 * Exit status 2 for a bad mode, 3 if a call failed where it should not.
 */
#include <rivet.h>

#define PEER_STOP 0xdead

static int echo(void)
{
	struct ipc_msg m;
	long r = ipc_recv(HANDLE_SPAWN, &m, 0);

	while (r == 0) {
		if (IPC_INFO_LABEL(m.info) == PEER_STOP) {
			m.info = 0;
			ipc_reply(&m);
			return 0;
		}
		m.w[0]++;
		m.info = IPC_INFO(0, 0, 0);
		r = ipc_reply_recv(HANDLE_SPAWN, &m, 0);
	}
	printf("ipcpeer: echo: %s\n", errno_name((int)r));
	return 3;
}

int main(int argc, char **argv)
{
	struct ipc_msg m = { 0 };

	if (argc != 2) {
		printf("usage: ipcpeer echo|noreply|call|recv|touch\n");
		return 2;
	}
	if (!strcmp(argv[1], "echo"))
		return echo();
	if (!strcmp(argv[1], "noreply")) {
		if (ipc_recv(HANDLE_SPAWN, &m, 0))
			return 3;
		for (;;)
			sys_sleep(1000000000UL);
	}
	if (!strcmp(argv[1], "call")) {
		m.w[0] = 42;
		return ipc_call(HANDLE_SPAWN, &m, 0) ? 3 : 0;
	}
	if (!strcmp(argv[1], "recv"))
		return ipc_recv(HANDLE_SPAWN, &m, 0) ? 3 : 0;
	if (!strcmp(argv[1], "touch")) {
		long va = sys_map_pager(0, 4 * 4096, PROT_READ | PROT_WRITE,
					HANDLE_SPAWN, 9);

		if (va < 0)
			return 3;
		for (unsigned long k = 0; k < 4; k++)
			if (*(volatile unsigned long *)(va + k * 4096) !=
			    (9UL << 32 | k * 4096))
				return 3;
		return 0;
	}
	printf("ipcpeer: unknown mode '%s'\n", argv[1]);
	return 2;
}
