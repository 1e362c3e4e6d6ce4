#pragma once
/*
 * panic.h - stop the machine when kernel state is corrupt, and assertions
 */
#include <kern/types.h>

struct trap_frame;

__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* Panic with the registers of a trap frame (trap.c, unexpected traps). */
__noreturn void panic_frame(const struct trap_frame *tf, const char *fmt, ...)
	__printf(2, 3);

#ifdef CONFIG_DEBUG
#define assert(e)                                                             \
	do {                                                                  \
		if (unlikely(!(e)))                                           \
			panic("assertion failed: %s (%s:%d)", #e, __FILE__,   \
			      __LINE__);                                      \
	} while (0)
#else
#define assert(e) do { (void)sizeof(e); } while (0)
#endif
