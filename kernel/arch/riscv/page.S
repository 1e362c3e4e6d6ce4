/*
 * page.S - clearing whole pages (kern/arch.h: arch_clear_page)
 *
 * Every demand-zero fault clears a 4 KiB frame, so this loop is most of
 * the fault's instructions (docs/performance.md). Each iteration stores
 * 256 bytes with 32 compressed stores (c.sd: offsets 0..248, a source
 * register among x8-x15, here a5 = 0), so a page costs 32 x 16 stores
 * plus 2 x 16 loop instructions: 544, against 1 536 for the byte-generic
 * memset's one store per 8-byte step. Plain stores: the new page is made
 * visible to other harts later, by the release store that maps it.
 */
	.section .text
	.balign	4
	.globl	arch_clear_page
	/* void arch_clear_page(void *kva): kva is page aligned */
arch_clear_page:
	li	a5, 0
	li	a4, 4096		/* PAGE_SIZE (kern/types.h) */
	add	a4, a0, a4
1:	sd	a5, 0(a0)
	sd	a5, 8(a0)
	sd	a5, 16(a0)
	sd	a5, 24(a0)
	sd	a5, 32(a0)
	sd	a5, 40(a0)
	sd	a5, 48(a0)
	sd	a5, 56(a0)
	sd	a5, 64(a0)
	sd	a5, 72(a0)
	sd	a5, 80(a0)
	sd	a5, 88(a0)
	sd	a5, 96(a0)
	sd	a5, 104(a0)
	sd	a5, 112(a0)
	sd	a5, 120(a0)
	sd	a5, 128(a0)
	sd	a5, 136(a0)
	sd	a5, 144(a0)
	sd	a5, 152(a0)
	sd	a5, 160(a0)
	sd	a5, 168(a0)
	sd	a5, 176(a0)
	sd	a5, 184(a0)
	sd	a5, 192(a0)
	sd	a5, 200(a0)
	sd	a5, 208(a0)
	sd	a5, 216(a0)
	sd	a5, 224(a0)
	sd	a5, 232(a0)
	sd	a5, 240(a0)
	sd	a5, 248(a0)
	addi	a0, a0, 256
	bne	a0, a4, 1b
	ret
