#pragma once
/*
 * Freestanding string and memory functions (kernel/lib/string.c). The
 * compiler may also emit calls to memcpy/memset/memmove/memcmp itself.
 * In the host test build the C library's versions are used instead.
 */
#include <kern/types.h>

#ifdef HOST_TEST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
#endif

/* Copy at most size-1 bytes and always terminate; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/*
 * Parse an unsigned number: decimal, or hex with 0x. Whole string must be
 * consumed. Return: 0, or -E_INVAL (not a number) / -E_RANGE (overflow).
 */
int kstrtou64(const char *s, uint64_t *out);
