/*
 * crashy.c - a test server that crashes when asked (proto.h, CRASHY_*;
 * docs/servers.md)
 *
 * Registers as "crashy" and answers one call at a time: CRASHY_PING at
 * once, CRASHY_SLOW after sleeping, CRASHY_CRASH never: it dies holding
 * that call, with calls queued behind it. Its clients must get -E_PEER,
 * not hang, and init must start it again (crashtest checks both). It is
 * not in the default manifest; tests start it with init's arguments
 * (`-- names crashy shell`).
 */
#include <proto.h>

#define MS 1000000UL

int main(int argc, char **argv)
{
	unsigned long *buf = ipc_buffer_new();
	long ep = sys_endpoint_create(), next_refresh = 0, r;
	volatile unsigned long *bad = (volatile unsigned long *)8;
	bool owed = false;
	struct ipc_msg m;

	if (!buf || ep < 0) {
		printf("crashy: cannot set up (%ld)\n", ep);
		return 3;
	}
	for (;;) {
		if (sys_clock() >= next_refresh) {
			if (owed)
				ipc_reply(&m);
			owed = false;
			r = ns_refresh(HANDLE_SPAWN, buf, "crashy", ep,
				       HANDLE_R_SEND | HANDLE_R_GRANT,
				       &next_refresh);
			if (r)
				printf("crashy: register: %s\n",
				       errno_name((int)r));
		}
		r = owed ? ipc_reply_recv(ep, &m, NS_REFRESH_NS)
			 : ipc_recv(ep, &m, NS_REFRESH_NS);
		owed = false;
		if (r == -E_TIMEDOUT)
			continue;
		if (r) {
			printf("crashy: receive: %s\n", errno_name((int)r));
			return 4;
		}
		if (m.info & IPC_INFO_HANDLE)
			sys_handle_close((long)m.w[3]);
		switch (IPC_INFO_LABEL(m.info)) {
		case CRASHY_SLOW:
			sys_sleep(MIN(m.w[0], 10000UL) * MS);
			/* fall through */
		case CRASHY_PING:
			m = (struct ipc_msg){ .w = { 0, m.w[0] + 1,
						     (unsigned long)sys_getpid() } };
			break;
		case CRASHY_CRASH:
			printf("crashy: crashing as asked (%s)\n",
			       m.w[0] ? "exit" : "bad store");
			if (m.w[0])
				sys_exit((int)m.w[0]);
			/* Hidden from the optimiser, as in fault.c. */
			__asm__("" : "+r"(bad));
			*bad = 1;
			return 5;	/* not reached */
		default:
			m = (struct ipc_msg){ .w = { (unsigned long)-E_NOSYS } };
			break;
		}
		owed = true;
	}
}
