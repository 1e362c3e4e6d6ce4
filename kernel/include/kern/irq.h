#pragma once
/*
 * irq.h - the generic handlers trap.c calls for each interrupt kind
 */
void ipi_handle(void);		/* supervisor software interrupt (smp.c) */
void timer_handle(void);	/* supervisor timer interrupt (timer.c) */
void irq_external(void);	/* supervisor external interrupt (PLIC) */
