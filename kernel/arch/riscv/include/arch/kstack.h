#pragma once
/*
 * kstack.h - kernel stacks for threads, each above an unmapped guard page,
 * in the KSTACK_AREA of the kernel half (kstack.c)
 */
#include <kern/types.h>

struct frame;

struct kstack {
	unsigned long lo, hi;	/* usable bytes: [lo, hi) */
	struct frame *frames;	/* the backing block */
	unsigned int slot;
};

/* Boot hart, once, before any address space exists. */
void kstack_init(void);
/* Return: 0, or -E_NOMEM (no frames or no free slot). */
int kstack_alloc(struct kstack *ks);
/* Unmap, flush every hart, then free. Context: no spinlock held. */
void kstack_free(struct kstack *ks);
