#pragma once
/*
 * elf - a validating parser of static RISC-V ELF64 executables (user
 * programs from the boot archive).
 *
 * Format: System V ABI, "ELF-64 Object File Format" (gABI chapters 4 and
 * 5: ELF header, program header) and the RISC-V ELF psABI (EM_RISCV = 243).
 *
 * elf_parse() reads only the ELF header and the program headers; section
 * headers are never looked at. It refuses with -E_BADFMT, and a message
 * that names the field, anything a loader could trip over:
 *   - e_ident: magic, ELFCLASS64, little-endian, EV_CURRENT;
 *   - e_type ET_EXEC only (ET_DYN and everything else refused), e_machine
 *     EM_RISCV, e_version, e_ehsize 64, e_phentsize 56;
 *   - 1 <= e_phnum <= ELF_MAX_PHNUM, program headers inside the blob;
 *   - PT_INTERP and PT_DYNAMIC (static executables only); other types
 *     except PT_LOAD are ignored;
 *   - each PT_LOAD: file bytes inside the blob, p_filesz <= p_memsz,
 *     [p_vaddr, p_vaddr + p_memsz) inside [ELF_USER_MIN, ELF_USER_MAX),
 *     p_vaddr == p_offset modulo PAGE_SIZE, permissions one of R, RW, X,
 *     RX (never W+X; no W without R, which Sv39 reserves; not none),
 *     page-rounded span not overlapping another segment's;
 *   - 1 to ELF_MAX_SEGS non-empty PT_LOAD segments;
 *   - e_entry 2-byte aligned and inside an executable segment.
 * PT_LOAD entries with p_memsz 0 are checked like the others and then
 * skipped: they map nothing.
 *
 * The blob may sit at any alignment: fields are read with byte loads.
 * Pure function, no allocation; host-buildable (tests/host/loader/).
 */
#include <kern/types.h>

#define ELF_MAX_SEGS  8		  /* PT_LOAD segments an image may have */
#define ELF_MAX_PHNUM 64	  /* program headers (of any type) */
#define ELF_USER_MIN  PAGE_SIZE	  /* page 0 stays unmapped: NULL faults */
#define ELF_USER_MAX  (1UL << 38) /* end of the Sv39 user half */

/* Segment permissions (elf_segment.prot). */
#define ELF_PROT_R BIT(0)
#define ELF_PROT_W BIT(1)
#define ELF_PROT_X BIT(2)

/*
 * struct elf_segment - one loadable segment, as validated by elf_parse
 * @vaddr:  first virtual address (not necessarily page-aligned)
 * @memsz:  bytes in memory, > 0; [vaddr, vaddr + memsz) is user space
 * @filesz: bytes copied from the file, <= memsz; the rest is zero
 * @offset: where those bytes start in the blob; offset + filesz <= size,
 *          and offset % PAGE_SIZE == vaddr % PAGE_SIZE
 * @prot:   ELF_PROT_R, R|W, X or R|X
 */
struct elf_segment {
	vaddr_t vaddr;
	uint64_t memsz, filesz, offset;
	unsigned int prot;
};

/*
 * struct elf_image - what a loader needs from an executable
 * @entry: first instruction, inside a segment with ELF_PROT_X
 * @nseg:  1..ELF_MAX_SEGS, in program-header order; their page-rounded
 *         spans do not overlap
 * @lo:    lowest page-rounded segment start
 * @hi:    highest page-rounded segment end (exclusive)
 */
struct elf_image {
	vaddr_t entry;
	int nseg;
	struct elf_segment seg[ELF_MAX_SEGS];
	vaddr_t lo, hi;
};

/*
 * elf_parse - validate an ELF64 executable and describe its segments
 * @blob:   the whole file, any alignment; only read
 * @size:   its size in bytes
 * @img:    receives the entry point and loadable segments
 * @err:    receives "elf: <what>" on failure (may be NULL)
 * @errlen: size of @err; the message is cut to fit and NUL-terminated
 *
 * Context: any; takes no locks and allocates nothing.
 * Return:  0, or -E_BADFMT (then *@img has nseg 0 and is otherwise
 *          unspecified).
 */
int elf_parse(const void *blob, size_t size, struct elf_image *img, char *err,
	      size_t errlen);
