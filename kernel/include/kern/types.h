#pragma once
/*
 * Basic kernel types. Freestanding: only the compiler's own headers are used,
 * so the same header serves the RISC-V kernel and the host test build.
 */
#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;	/* physical address */
typedef uint64_t vaddr_t;	/* virtual address */
typedef uint64_t pfn_t;		/* physical frame number */
#endif

#define BIT(n)		(1UL << (n))
#define GENMASK(hi, lo)	(((~0UL) >> (63 - (hi))) & ~((1UL << (lo)) - 1))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)

#define __unused	__attribute__((unused))
#define __noreturn	__attribute__((noreturn))
#define __noinline	__attribute__((noinline))
#ifndef __always_inline		/* glibc's <sys/cdefs.h> has one (host) */
#define __always_inline	inline __attribute__((always_inline))
#endif
#define __aligned(x)	__attribute__((aligned(x)))
#define __section(s)	__attribute__((section(s)))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Cache-line size used to keep per-hart data apart (U74 and QEMU: 64). */
#define CACHE_LINE	64
#define __cacheline_aligned	__aligned(CACHE_LINE)

#define __stringify_1(x)	#x
#define __stringify(x)	__stringify_1(x)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
