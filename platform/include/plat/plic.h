#pragma once
/*
 * plic.h - the RISC-V Platform-Level Interrupt Controller
 * (RISC-V PLIC Specification v1.0.0)
 */
#include <kern/types.h>
#include <plat/bootinfo.h>

/* Map the PLIC @bi describes and route the console UART's irq to the boot
 * hart. Return: 0, or -E_NOENT when the FDT has no PLIC. */
int plic_init(const struct boot_info *bi);
/* Every hart: accept S-mode external interrupts at its context. */
void plic_init_hart(void);
/* Claim, dispatch and complete every pending source of this hart. */
void plic_handle(void);
bool plic_present(void);
/* User drivers' interrupts: enable @src for the boot hart's context, or
 * disable it; complete a claim on @ctx. */
int plic_route(uint32_t src);
void plic_unroute(uint32_t src);
void plic_complete(int ctx, uint32_t src);
