/*
 * head.S - the first instructions: the Image header, the boot hart's entry
 * from OpenSBI, and the entry of harts started later through SBI HSM.
 *
 * Entry state (SBI spec v1.0 ch. 4 and 9): S-mode, MMU off, a0 = hart id,
 * a1 = FDT physical address (boot) or the opaque value (hart_start).
 */
#include <arch/csr.h>
#include <arch/memlayout.h>
#include <kern/hart.h>

	.section .text.head, "ax"
	.option push
	.option norvc
	.globl _start_header
_start_header:
	/*
	 * RISC-V "Image" header, as U-Boot's booti reads it (the layout Linux
	 * documents in Documentation/arch/riscv/boot-image-header.rst).
	 */
	j	boot_entry		/* code0 */
	.word	0			/* code1 */
	.dword	0x200000		/* text_offset */
	.dword	_image_size		/* image_size, including bss */
	.dword	0			/* flags: little endian */
	.word	2			/* version 0.2 */
	.word	0			/* res1 */
	.dword	0			/* res2 */
	.ascii	"RISCV\0\0\0"		/* magic (deprecated) */
	.ascii	"RSC\x05"		/* magic2 */
	.word	0			/* res3 */
	.option pop

boot_entry:
	csrw	CSR_SIE, zero
	csrw	CSR_SSCRATCH, zero
	/* The lottery: only one hart may boot (SBI firmware normally sends
	 * just one here, but do not rely on it). Losers park. */
	lla	t0, boot_lottery
	li	t1, 1
	amoswap.w.aqrl t1, t1, (t0)
	bnez	t1, park

	mv	s0, a0			/* hart id */
	mv	s1, a1			/* FDT */

	/* Clear .bss (the loader does not). */
	lla	t0, _bss_start
	lla	t1, _bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	/* Boot stack: the top of hart slot 0's stack, physical for now. */
	lla	sp, kstacks
	li	t0, KSTACK_SLOT
	add	sp, sp, t0

	/* early_setup(load_pa, fdt_pa) builds the boot page tables and
	 * returns the satp value. */
	lla	a0, _start
	mv	a1, s1
	call	early_setup

	/* Turn on translation. The next fetch, at a physical address that
	 * the new tables do not map, faults to stvec: the virtual label. */
	ld	t0, .Lboot_virt
	csrw	CSR_STVEC, t0
	sfence.vma
	csrw	CSR_SATP, a0
	sfence.vma
	j	park			/* not reached */

	.balign	8
.Lboot_virt:
	.dword	boot_virt
.Lsecondary_virt:
	.dword	secondary_virt

	.balign	4
boot_virt:
	sfence.vma
	la	t0, trap_vector
	csrw	CSR_STVEC, t0
	/* Move sp from its physical to its virtual address. */
	la	t0, kernel_va_pa_offset
	ld	t0, 0(t0)
	add	sp, sp, t0
	la	tp, harts
	mv	a0, s0
	mv	a1, s1
	li	fp, 0
	call	kmain
	j	park

/*
 * Harts started by smp.c through SBI HSM hart_start arrive here with
 * a1 = virtual address of their struct hart.
 */
	.globl secondary_entry
	.balign	4
secondary_entry:
	csrw	CSR_SIE, zero
	csrw	CSR_SSCRATCH, zero
	lla	t0, boot_satp
	ld	t1, 0(t0)
	ld	t0, .Lsecondary_virt
	csrw	CSR_STVEC, t0
	sfence.vma
	csrw	CSR_SATP, t1
	sfence.vma
	j	park			/* not reached */

	.balign	4
secondary_virt:
	sfence.vma
	la	t0, trap_vector
	csrw	CSR_STVEC, t0
	mv	tp, a1
	ld	sp, HART_KSTACK_TOP(tp)
	li	fp, 0
	mv	a0, tp
	call	secondary_main
	j	park

	.globl park
park:
	csrw	CSR_SIE, zero
1:	wfi
	j	1b

	.section .data
	.balign	4
boot_lottery:
	.word	0
