/*
 * initrd.S - the boot archive, linked into the kernel image
 *
 * INITRD_PATH comes from the build (userland/build.mk): the newc cpio
 * archive $(O)/initrd.cpio holding bin/<program> and etc/manifest. It
 * lands in .rodata (kernel.ld collects .rodata.*), so it is mapped
 * read-only like other constants. The kernel reads it through
 *	extern const char initrd_start[], initrd_end[];
 * (kern/proc.h); kern/cpio.h accepts any alignment, 8 is for tidiness.
 */
#ifndef INITRD_PATH
#error "INITRD_PATH (the archive to include) must be set by the build"
#endif

	.section .rodata.initrd, "a", @progbits
	.balign 8
	.globl initrd_start
	.type initrd_start, @object
initrd_start:
	.incbin INITRD_PATH
	.globl initrd_end
	.type initrd_end, @object
initrd_end:
	.size initrd_start, initrd_end - initrd_start
	.size initrd_end, 0
