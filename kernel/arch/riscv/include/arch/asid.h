#pragma once
/*
 * asid.h - the ASID allocator's boot-time setup and counters (asid.c)
 */
#include <kern/types.h>

/* Find ASIDLEN; @disable (noasid) or @limit_bits (asidbits=N) shrink it. */
void asid_init(bool disable, unsigned int limit_bits);
/* Generation roll-overs so far. */
uint64_t asid_rollovers(void);
/* After SMP bring-up: give up ASIDs if there are not more than harts. */
void asid_finalize(unsigned int harts);
