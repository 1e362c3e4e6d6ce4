#pragma once
#include <kern/types.h>

/* Boot hart, once: record the timebase and choose Sstc or SBI. */
void timer_init(uint64_t timebase_hz, bool fdt_says_sstc);
/* Every hart: start its periodic tick. */
void timer_start_hart(void);
/* Monotonic nanoseconds since reset. */
uint64_t time_ns(void);
