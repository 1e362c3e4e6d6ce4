#pragma once
/*
 * loader_host.h - shared parts of the boot-archive reader tests
 * (kernel/lib/elf.c, kernel/lib/cpio.c): the inputs test.mk builds under
 * LOADER_DIR, the oracles, and builders for synthetic ELFs and archives.
 *
 * Oracles: riscv64 readelf's output for the real executables, and
 * loader_elf_oracle / loader_cpio_oracle, independent readers written
 * against the C library's <elf.h> and the cpio(5) text, used by the
 * corruption and fuzz tests.
 */
#include <host.h>
#include <kern/cpio.h>
#include <kern/elf.h>

#ifndef LOADER_DIR
#define LOADER_DIR "build/host/loader"
#endif

/* A file from LOADER_DIR, read once; @data is NULL if it does not exist. */
struct loader_file {
	const char *name;
	const uint8_t *data;
	size_t size;
};

const struct loader_file *loader_file(const char *name);

/* A malloc copy of exactly @size bytes: under AddressSanitizer any read
 * past the end hits the redzone. Free with free(). */
uint8_t *loader_dup(const void *data, size_t size);

/*
 * struct loader_readelf - what `readelf -hlW` printed for an executable
 * @dyn: "Type: DYN"; @exec: "Type: EXEC"
 */
struct loader_readelf {
	bool exec, dyn;
	uint64_t entry;
	int nload;
	struct {
		uint64_t offset, vaddr, filesz, memsz;
		unsigned int prot; /* ELF_PROT_* from the "RWE" column */
	} load[16];
	int nphdr; /* program headers of all types */
};

/* Parse LOADER_DIR/@name.readelf. Return: 0, or -1 if absent/unreadable. */
int loader_readelf(const char *name, struct loader_readelf *re);

/*
 * loader_elf_oracle - an independent validator of the rules in kern/elf.h
 * @want: receives the image elf_parse must produce when it accepts
 * @why:  receives a short reason when it refuses
 *
 * Written with <elf.h> structures and 128-bit sums, not with elf.c's code.
 * Return: true if the blob must be accepted.
 */
bool loader_elf_oracle(const uint8_t *blob, size_t size, struct elf_image *want,
		       char *why, size_t whylen);

/* Compare elf_parse's answer with the oracle's for @blob. Return: NULL if
 * they agree, else a description (in @buf). */
const char *loader_elf_compare(const uint8_t *blob, size_t size, int ret,
			       const struct elf_image *img, char *buf,
			       size_t len);

/*
 * Independent newc reader: the entries up to the trailer. Return: the
 * number of entries (the trailer not counted), or -1 if the archive is
 * malformed, with *@bad_entry the index of the first bad entry.
 */
struct loader_cpio_ent {
	size_t name_off, data_off, size;
	uint32_t mode;
};
int loader_cpio_oracle(const uint8_t *a, size_t size,
		       struct loader_cpio_ent *ents, int max, int *bad_entry);

/* Synthetic ELF: header at 0, program headers at 64, little-endian. */
struct loader_seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};
/* Write into @buf (zeroed first, @size bytes); return @size. */
size_t loader_synth_elf(uint8_t *buf, size_t size, uint64_t entry,
			const struct loader_seg *segs, int nseg);

/* Synthetic newc archive, appended to @buf. */
struct loader_cpio_w {
	uint8_t *buf;
	size_t cap, len;
	uint32_t ino;
};
void loader_cpio_add(struct loader_cpio_w *w, const char *name, uint32_t mode,
		     const void *data, size_t size);
void loader_cpio_trailer(struct loader_cpio_w *w);

/* Offset of c_<field> (0 = c_ino ... 12 = c_check) in a newc header. */
#define LOADER_CPIO_FIELD(i) (6 + 8 * (i))

extern const struct ktest_suite loader_elf_suite, loader_cpio_suite,
	loader_fuzz_suite;
