/*
 * test_elf.c - elf_parse on real executables (riscv64 gcc output, checked
 * against riscv64 readelf), on hand-corrupted copies (one per rule in
 * kern/elf.h, each refused with a message naming the field) and on
 * synthetic files at the edges of the rules.
 *
 * Every parse runs on an exact-size heap copy, so under AddressSanitizer a
 * read past the end aborts, and every answer is also compared with the
 * independent oracle (elf_oracle.c).
 */
#include "loader_host.h"

#include <kern/errno.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EH(field) offsetof(Elf64_Ehdr, field)
#define PH(i, field)                                                           \
	(phoff + (size_t)(i) * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, field))

static void set16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static void set32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static void set64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

/* elf_parse on an exact-size copy of @b, checked against the oracle. */
static int parse(struct ktest_ctx *kt, const uint8_t *b, size_t size,
		 struct elf_image *img, char *err, size_t errlen)
{
	uint8_t *c = loader_dup(b, size);
	const char *diff;
	char why[256];
	int ret;

	ret = elf_parse(c, size, img, err, errlen);
	diff = loader_elf_compare(c, size, ret, img, why, sizeof(why));
	if (!KT_EXPECT(diff == NULL))
		KT_INFO("oracle: %s (%s)", diff, err);
	if (ret)
		KT_EXPECT(ret == -E_BADFMT && !strncmp(err, "elf: ", 5));
	free(c);
	return ret;
}

/* @b must be refused with a message containing @expect. */
static void expect_refused(struct ktest_ctx *kt, const char *what,
			   const uint8_t *b, size_t size, const char *expect)
{
	struct elf_image img;
	char err[160] = "";
	int ret = parse(kt, b, size, &img, err, sizeof(err));

	if (!KT_EXPECT(ret == -E_BADFMT && strstr(err, expect)))
		KT_INFO("%s: got %d \"%s\", want \"%s\"", what, ret, err,
			expect);
	else
		KT_INFO("%-40s -> %s", what, err);
}

/* ------------------------------------------------ real executables -- */

static void check_real(struct ktest_ctx *kt, const char *name,
		       const char *refuse, const char *missing)
{
	const struct loader_file *lf = loader_file(name);
	struct loader_readelf re;
	struct elf_image img;
	char err[160] = "";
	vaddr_t lo = ~0UL, hi = 0;
	int ret;

	if (!lf->data && missing)
		KT_SKIP(missing);
	if (!KT_EXPECT(lf->data && !loader_readelf(name, &re))) {
		KT_INFO("%s/%s(.readelf) missing: make %s/%s", LOADER_DIR, name,
			LOADER_DIR, name);
		return;
	}
	ret = parse(kt, lf->data, lf->size, &img, err, sizeof(err));
	if (refuse) {
		if (!KT_EXPECT(ret == -E_BADFMT && strstr(err, refuse)))
			KT_INFO("%s: %d \"%s\", want \"%s\"", name, ret, err,
				refuse);
		else
			KT_INFO("%s: %s", name, err);
		return;
	}
	if (!KT_EXPECT_EQ(ret, 0)) {
		KT_INFO("%s: %s", name, err);
		return;
	}
	KT_EXPECT(re.exec);
	KT_EXPECT_EQ(img.entry, re.entry);
	KT_ASSERT_EQ(img.nseg, re.nload);
	for (int k = 0; k < re.nload; k++) {
		const struct elf_segment *s = &img.seg[k];

		KT_EXPECT_EQ(s->vaddr, re.load[k].vaddr);
		KT_EXPECT_EQ(s->memsz, re.load[k].memsz);
		KT_EXPECT_EQ(s->filesz, re.load[k].filesz);
		KT_EXPECT_EQ(s->offset, re.load[k].offset);
		KT_EXPECT_EQ(s->prot, re.load[k].prot);
		lo = MIN(lo, ALIGN_DOWN(re.load[k].vaddr, PAGE_SIZE));
		hi = MAX(hi, ALIGN_UP(re.load[k].vaddr + re.load[k].memsz,
				      PAGE_SIZE));
		KT_INFO("%s: segment %#lx+%#lx file %#lx+%#lx %c%c%c", name,
			s->vaddr, s->memsz, s->offset, s->filesz,
			s->prot & ELF_PROT_R ? 'R' : '-',
			s->prot & ELF_PROT_W ? 'W' : '-',
			s->prot & ELF_PROT_X ? 'X' : '-');
	}
	KT_EXPECT_EQ(img.lo, lo);
	KT_EXPECT_EQ(img.hi, hi);
	KT_INFO("%s: %zu bytes, %d program headers, entry %#lx, span "
		"%#lx-%#lx: as readelf",
		name, lf->size, re.nphdr, img.entry, img.lo, img.hi);
}

/* riscv64-unknown-elf-gcc -nostdlib -static -Ttext=0x10000, rv64imac */
KTEST(hello_matches_readelf)
{
	check_real(kt, "hello.elf", NULL, NULL);
}

/* rv64gc, lp64d: e_flags differ (float ABI), nothing else does */
KTEST(hello_gc_matches_readelf)
{
	check_real(kt, "hello-gc.elf", NULL, NULL);
}

/* riscv64-linux-gnu-gcc -z separate-code: four PT_LOADs (R, RX, R, RW) */
KTEST(separate_code_matches_readelf)
{
	check_real(kt, "hello-sep.elf", NULL,
		   "no riscv64-linux-gnu-gcc: hello-sep.elf not built");
}

/* riscv64-linux-gnu-gcc -static-pie: ET_DYN with PT_INTERP and PT_DYNAMIC */
KTEST(static_pie_refused)
{
	check_real(kt, "hello-pie.elf", "ET_DYN",
		   "no riscv64-linux-gnu-gcc: hello-pie.elf not built");
}

/* ld -N (omagic): one RWX segment */
KTEST(omagic_rwx_refused)
{
	check_real(kt, "hello-rwx.elf", "W+X", NULL);
}

/* The same file at every alignment gives the same answer. */
KTEST(unaligned_blob)
{
	const struct loader_file *lf = loader_file("hello.elf");
	struct elf_image ref, img;
	char err[160];

	KT_ASSERT(lf->data);
	KT_ASSERT_EQ(elf_parse(lf->data, lf->size, &ref, err, sizeof(err)), 0);
	for (size_t a = 1; a < 8; a++) {
		uint8_t *buf = malloc(lf->size + a);

		memcpy(buf + a, lf->data, lf->size);
		KT_EXPECT_EQ(
			elf_parse(buf + a, lf->size, &img, err, sizeof(err)),
			0);
		KT_EXPECT(!memcmp(&img, &ref, sizeof(img)));
		free(buf);
	}
}

/* Messages are cut to errlen and terminated; NULL and 0 are allowed. */
KTEST(error_buffer)
{
	const struct loader_file *lf = loader_file("hello.elf");
	struct elf_image img;
	char err[64];
	uint8_t *b;

	KT_ASSERT(lf->data);
	b = loader_dup(lf->data, lf->size);
	set16(b, EH(e_machine), EM_X86_64);
	KT_EXPECT_EQ(elf_parse(b, lf->size, &img, NULL, 0), -E_BADFMT);
	KT_EXPECT_EQ(elf_parse(b, lf->size, &img, NULL, 99), -E_BADFMT);
	memset(err, 'x', sizeof(err));
	KT_EXPECT_EQ(elf_parse(b, lf->size, &img, err, 0), -E_BADFMT);
	KT_EXPECT_EQ(err[0], 'x');
	for (size_t len = 1; len < 48; len++) {
		memset(err, 'x', sizeof(err));
		KT_EXPECT_EQ(elf_parse(b, lf->size, &img, err, len), -E_BADFMT);
		KT_EXPECT_EQ(strnlen(err, len), MIN(len - 1, 37));
		KT_EXPECT_EQ(err[len], 'x');
		KT_EXPECT(!strncmp(err, "elf: e_machine 62 is not RISC-V (243)",
				   len - 1));
	}
	/* Success clears a stale message. */
	KT_EXPECT_EQ(elf_parse(lf->data, lf->size, &img, err, sizeof(err)), 0);
	KT_EXPECT_EQ(err[0], '\0');
	free(b);
}

/*
 * Every cut of hello.elf: refused while a program header or a segment's
 * file bytes are missing, accepted from then on (the section headers at
 * the end are never read).
 */
KTEST(every_truncation)
{
	const struct loader_file *lf = loader_file("hello.elf");
	size_t need, accepted = 0;
	Elf64_Ehdr eh;

	KT_ASSERT(lf->data);
	memcpy(&eh, lf->data, sizeof(eh));
	need = eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, lf->data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			need = MAX(need, ph.p_offset + ph.p_filesz);
	}
	for (size_t len = 0; len <= lf->size; len++) {
		uint8_t *b = loader_dup(lf->data, len);
		struct elf_image img;
		char err[160];
		int ret = elf_parse(b, len, &img, err, sizeof(err));

		if (!KT_EXPECT_EQ(ret, len >= need ? 0 : -E_BADFMT))
			KT_INFO("cut at %zu: \"%s\"", len, err);
		accepted += !ret;
		free(b);
	}
	KT_EXPECT_EQ(accepted, lf->size - need + 1);
	KT_INFO("cuts 0..%zu: accepted from %zu on (%zu)", lf->size, need,
		accepted);
}

/* ------------------------------------------- corrupted executables -- */

/*
 * One corruption per rule, on copies of hello.elf: @code edits the copy
 * `b` of `n` bytes; the result must be refused with @expect in the
 * message. l0/l1 are the indices of the text and data PT_LOAD headers and
 * p0/p1 their original contents.
 */
#define CORRUPT(expect, code)                                                  \
	do {                                                                   \
		uint8_t *b = loader_dup(lf->data, lf->size);                   \
		size_t n = lf->size;                                           \
		code;                                                          \
		expect_refused(kt, #code, b, n, expect);                       \
		free(b);                                                       \
		(void)n;                                                       \
	} while (0)

KTEST(corrupted_header)
{
	const struct loader_file *lf = loader_file("hello.elf");
	Elf64_Ehdr eh;
	size_t phoff;

	KT_ASSERT(lf->data);
	memcpy(&eh, lf->data, sizeof(eh));
	phoff = eh.e_phoff;
	CORRUPT("shorter than the ELF header", n = 63);
	CORRUPT("EI_MAG 7e 45 4c 46", b[EI_MAG0] = 0x7e);
	CORRUPT("EI_MAG", b[EI_MAG3] = 'G');
	CORRUPT("EI_CLASS 1 is not ELFCLASS64", b[EI_CLASS] = ELFCLASS32);
	CORRUPT("EI_CLASS 0", b[EI_CLASS] = ELFCLASSNONE);
	CORRUPT("EI_DATA 2", b[EI_DATA] = ELFDATA2MSB);
	CORRUPT("EI_VERSION 0", b[EI_VERSION] = EV_NONE);
	CORRUPT("e_type ET_DYN (3)", set16(b, EH(e_type), ET_DYN));
	CORRUPT("e_type 1 is not ET_EXEC", set16(b, EH(e_type), ET_REL));
	CORRUPT("e_type 4 is not ET_EXEC", set16(b, EH(e_type), ET_CORE));
	CORRUPT("e_machine 62 is not RISC-V (243)",
		set16(b, EH(e_machine), EM_X86_64));
	CORRUPT("e_machine 0", set16(b, EH(e_machine), 0));
	CORRUPT("e_version 0", set32(b, EH(e_version), 0));
	CORRUPT("e_version 2", set32(b, EH(e_version), 2));
	CORRUPT("e_ehsize 52", set16(b, EH(e_ehsize), 52));
	CORRUPT("e_phentsize 32", set16(b, EH(e_phentsize), 32));
	CORRUPT("e_phentsize 57", set16(b, EH(e_phentsize), 57));
	CORRUPT("e_phnum 0", set16(b, EH(e_phnum), 0));
	CORRUPT("e_phnum 65 > 64", set16(b, EH(e_phnum), 65));
	CORRUPT("e_phnum 65535", set16(b, EH(e_phnum), PN_XNUM));
	CORRUPT("e_phoff", set64(b, EH(e_phoff), n));
	CORRUPT("e_phoff", set64(b, EH(e_phoff), n + 1));
	CORRUPT("e_phoff",
		set64(b, EH(e_phoff), n - eh.e_phnum * sizeof(Elf64_Phdr) + 1));
	CORRUPT("e_phoff 0xfffffffffffffff8",
		set64(b, EH(e_phoff), UINT64_MAX - 7));
	CORRUPT("e_phoff", n = phoff + eh.e_phnum * sizeof(Elf64_Phdr) - 1);
	CORRUPT("e_entry 0x10001 is not 2-byte aligned",
		set64(b, EH(e_entry), eh.e_entry + 1));
	CORRUPT("e_entry 0x1000000 is outside every PT_LOAD",
		set64(b, EH(e_entry), 0x1000000));
	CORRUPT("e_entry 0x0 is outside", set64(b, EH(e_entry), 0));
}

KTEST(corrupted_segments)
{
	const struct loader_file *lf = loader_file("hello.elf");
	int l0 = -1, l1 = -1, other = -1;
	Elf64_Phdr p0 = {0}, p1 = {0};
	Elf64_Ehdr eh;
	size_t phoff;

	KT_ASSERT(lf->data);
	memcpy(&eh, lf->data, sizeof(eh));
	phoff = eh.e_phoff;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, lf->data + phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			other = i;
		else if (l0 < 0)
			l0 = i, p0 = ph;
		else
			l1 = i, p1 = ph;
	}
	/* hello.elf: text (RX, holds the entry), then data+bss (RW). */
	KT_ASSERT(l0 >= 0 && l1 >= 0 && other >= 0);
	KT_ASSERT(p0.p_flags == (PF_R | PF_X) && p1.p_flags == (PF_R | PF_W));
	KT_ASSERT(p1.p_memsz > p1.p_filesz && p1.p_filesz > 0);

	/* static executables only */
	CORRUPT("PT_INTERP", set32(b, PH(other, p_type), PT_INTERP));
	CORRUPT("PT_DYNAMIC", set32(b, PH(other, p_type), PT_DYNAMIC));
	CORRUPT("PT_INTERP", set32(b, PH(l1, p_type), PT_INTERP));
	/* file bytes inside the file */
	CORRUPT("p_offset 0x0 + p_filesz", set64(b, PH(l0, p_filesz), n + 1));
	CORRUPT("past the end of the file",
		set64(b, PH(l1, p_offset), n - p1.p_filesz + 1));
	CORRUPT("p_offset 0xfffffffffffffff0",
		set64(b, PH(l1, p_offset), UINT64_MAX - 15));
	CORRUPT("p_filesz 0xfffffffffffffffc",
		set64(b, PH(l1, p_filesz), UINT64_MAX - 3));
	CORRUPT("past the end of the file", n = p1.p_offset + p1.p_filesz - 1);
	/* p_filesz <= p_memsz */
	CORRUPT("p_filesz 0x4 > p_memsz 0x3",
		set64(b, PH(l1, p_memsz), p1.p_filesz - 1));
	CORRUPT("> p_memsz 0x0", set64(b, PH(l0, p_memsz), 0));
	/* p_vaddr + p_memsz without wrap, inside [4096, 1 << 38) */
	CORRUPT("wraps",
		set64(b, PH(l1, p_vaddr), -PAGE_SIZE + p1.p_vaddr % PAGE_SIZE));
	CORRUPT("wraps", set64(b, PH(l1, p_memsz), UINT64_MAX));
	CORRUPT("p_vaddr 0x0 + p_memsz 0x", set64(b, PH(l0, p_vaddr), 0));
	CORRUPT("outside user space [0x1000, 0x4000000000)",
		set64(b, PH(l1, p_vaddr), p1.p_vaddr % PAGE_SIZE));
	CORRUPT("outside user space",
		set64(b, PH(l1, p_vaddr),
		      (1UL << 38) - PAGE_SIZE + p1.p_vaddr % PAGE_SIZE));
	CORRUPT("outside user space",
		set64(b, PH(l1, p_vaddr),
		      (1UL << 38) + p1.p_vaddr % PAGE_SIZE));
	CORRUPT("outside user space",
		set64(b, PH(l1, p_vaddr),
		      0xffffffc000000000UL + p1.p_vaddr % PAGE_SIZE));
	/* congruent modulo 4096 */
	CORRUPT("differ modulo the page size",
		set64(b, PH(l1, p_vaddr), p1.p_vaddr + 8));
	CORRUPT("differ modulo the page size",
		set64(b, PH(l1, p_offset), p1.p_offset - 8));
	/* page-rounded segments do not overlap */
	CORRUPT("overlap segment",
		set64(b, PH(l1, p_vaddr),
		      ALIGN_DOWN(p0.p_vaddr + p0.p_memsz - 1, PAGE_SIZE) +
			      p1.p_vaddr % PAGE_SIZE));
	CORRUPT("overlap segment",
		set64(b, PH(l1, p_vaddr), p0.p_vaddr + p1.p_vaddr % PAGE_SIZE));
	/* permissions: never W+X, nothing Sv39 cannot map */
	CORRUPT("W+X", set32(b, PH(l1, p_flags), PF_R | PF_W | PF_X));
	CORRUPT("W+X", set32(b, PH(l0, p_flags), PF_R | PF_W | PF_X));
	CORRUPT("W+X", set32(b, PH(l1, p_flags), PF_W | PF_X));
	CORRUPT("writable but not readable", set32(b, PH(l1, p_flags), PF_W));
	CORRUPT("no access", set32(b, PH(l1, p_flags), 0));
	CORRUPT("no access", set32(b, PH(l1, p_flags), PF_MASKOS));
	/* the entry point must be executable */
	CORRUPT("which is not executable", set32(b, PH(l0, p_flags), PF_R));
	CORRUPT("e_entry 0x10000 is outside",
		set64(b, PH(l0, p_memsz), eh.e_entry - p0.p_vaddr);
		set64(b, PH(l0, p_filesz), eh.e_entry - p0.p_vaddr));
	CORRUPT("which is not executable",
		set64(b, EH(e_entry), ALIGN_UP(p1.p_vaddr, 2)));
	/* at least one loadable segment */
	CORRUPT("no PT_LOAD segment", set32(b, PH(l0, p_type), PT_NULL);
		set32(b, PH(l1, p_type), PT_NOTE));
	CORRUPT("no PT_LOAD segment", set64(b, PH(l0, p_memsz), 0);
		set64(b, PH(l0, p_filesz), 0); set64(b, PH(l1, p_memsz), 0);
		set64(b, PH(l1, p_filesz), 0));
}

/* ------------------------------------------------ synthetic files -- */

#define SYN_SIZE 0x10000
#define RX	 (PF_R | PF_X)
#define RW	 (PF_R | PF_W)

/* @nseg segments into a fresh SYN_SIZE buffer; return elf_parse's answer. */
static int syn(struct ktest_ctx *kt, uint64_t entry,
	       const struct loader_seg *segs, int nseg, struct elf_image *img,
	       char *err)
{
	uint8_t *b = malloc(SYN_SIZE);
	int ret;

	loader_synth_elf(b, SYN_SIZE, entry, segs, nseg);
	ret = parse(kt, b, SYN_SIZE, img, err, 160);
	free(b);
	return ret;
}

#define SYN_OK(entry, ...)                                                     \
	do {                                                                   \
		const struct loader_seg s_[] = {__VA_ARGS__};                  \
		err[0] = '\0';                                                 \
		if (!KT_EXPECT_EQ(                                             \
			    syn(kt, entry, s_, ARRAY_SIZE(s_), &img, err), 0)) \
			KT_INFO("line %d: %s", __LINE__, err);                 \
	} while (0)

#define SYN_BAD(expect, entry, ...)                                            \
	do {                                                                   \
		const struct loader_seg s_[] = {__VA_ARGS__};                  \
		err[0] = '\0';                                                 \
		if (!KT_EXPECT(syn(kt, entry, s_, ARRAY_SIZE(s_), &img,        \
				   err) == -E_BADFMT &&                        \
			       strstr(err, expect)))                           \
			KT_INFO("line %d: \"%s\", want \"%s\"", __LINE__, err, \
				expect);                                       \
	} while (0)

/* The edges of the user range and of the page rounding. */
KTEST(synthetic_edges)
{
	const uint64_t top = 1UL << 38;
	struct elf_image img;
	char err[160];

	/* Lowest page and highest byte of user space. */
	SYN_OK(0x1000, {PT_LOAD, RX, 0x1000, 0x1000, 0x100, 0x100},
	       {PT_LOAD, RW, 0x2000, top - 0x1000, 0x10, 0x1000});
	KT_EXPECT(img.nseg == 2 && img.lo == 0x1000 && img.hi == top);
	SYN_BAD("p_vaddr 0xfff + p_memsz 0x1 is outside user space", 0x1000,
		{PT_LOAD, RX, 0x1000, 0x1000, 0x100, 0x100},
		{PT_LOAD, RW, 0xfff, 0xfff, 0x1, 0x1});
	SYN_BAD("outside user space", 0x1000,
		{PT_LOAD, RX, 0x1000, 0x1000, 0x100, 0x100},
		{PT_LOAD, RW, 0x2000, top - 0x1000, 0x10, 0x1001});
	/* Two segments sharing a page are refused, adjacent pages are not. */
	SYN_BAD("pages 0x10000-0x11000 overlap segment 0 (0x10000-0x11000)",
		0x10000, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
		{PT_LOAD, RW, 0x800, 0x10800, 0x100, 0x100});
	SYN_OK(0x10000, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
	       {PT_LOAD, RW, 0x1800, 0x11800, 0x100, 0x100});
	KT_EXPECT(img.lo == 0x10000 && img.hi == 0x12000);
	/* bss spilling onto the next segment's page */
	SYN_BAD("overlap", 0x10000, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
		{PT_LOAD, RW, 0x1000, 0x11000, 0x10, 0x1001},
		{PT_LOAD, PF_R, 0x2000, 0x12000, 0x10, 0x10});
	/* Segments in any order; lo/hi cover them all. */
	SYN_OK(0x20000, {PT_LOAD, RW, 0x1000, 0x31000, 0x10, 0x10},
	       {PT_LOAD, RX, 0x0, 0x20000, 0x800, 0x800});
	KT_EXPECT(img.lo == 0x20000 && img.hi == 0x32000);
	/* Execute-only is mappable (Sv39 X without R). */
	SYN_OK(0x10000, {PT_LOAD, PF_X, 0x0, 0x10000, 0x800, 0x800});
	KT_EXPECT_EQ(img.seg[0].prot, ELF_PROT_X);
	/* Entry: last halfword of the segment yes, its end no. */
	SYN_OK(0x107fe, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800});
	SYN_BAD("e_entry 0x10800 is outside", 0x10800,
		{PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800});
	/* Entry in the bss part of an executable segment is allowed. */
	SYN_OK(0x10900, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x1000});
	/* OS/processor flag bits are ignored. */
	SYN_OK(0x10000, {PT_LOAD, RX | PF_MASKOS | PF_MASKPROC, 0x0, 0x10000,
			 0x800, 0x800});
	/* A segment with nothing from the file; p_offset still checked. */
	SYN_OK(0x10000, {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
	       {PT_LOAD, RW, 0x3000, 0x13000, 0, 0x5000});
	SYN_BAD("past the end of the file", 0x10000,
		{PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
		{PT_LOAD, RW, SYN_SIZE + 0x1000, 0x13000, 0, 0x5000});
	/* Whole file mapped, as a linker does with the headers. */
	SYN_OK(0x10000, {PT_LOAD, RX, 0x0, 0x10000, SYN_SIZE, SYN_SIZE});
	SYN_BAD("p_offset 0x0 + p_filesz 0x10001", 0x10000,
		{PT_LOAD, RX, 0x0, 0x10000, SYN_SIZE + 1, SYN_SIZE + 1});
}

/* Program headers the loader does not use, and their limits. */
KTEST(synthetic_headers)
{
	struct loader_seg many[ELF_MAX_PHNUM + 1];
	struct elf_image img;
	char err[160];

	/* Other types are ignored, even with odd fields: PT_GNU_STACK RWX
	 * is what an executable stack looks like, PT_TLS and PT_PHDR carry
	 * addresses that need not be checked again. */
	SYN_OK(0x10000, {PT_NOTE, PF_R, 0xffff0, 0, 0x100, 0},
	       {PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0},
	       {PT_PHDR, PF_R, 0x40, 0x40, 0x38 * 6, 0x38 * 6},
	       {PT_TLS, PF_R, 0x800, 0x10800, 0x10, 0x20},
	       {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
	       {0x70000003 /* PT_RISCV_ATTRIBUTES */, PF_R, 0x900, 0, 0x30, 0});
	KT_EXPECT_EQ(img.nseg, 1);
	/* Empty PT_LOADs are checked, then skipped. */
	SYN_OK(0x10000, {PT_LOAD, PF_R, 0x0, 0x5000, 0, 0},
	       {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800},
	       {PT_LOAD, RW, 0x0, 0x10000, 0, 0});
	KT_EXPECT(img.nseg == 1 && img.lo == 0x10000 && img.hi == 0x11000);
	SYN_BAD("segment 0: p_vaddr 0x0 + p_memsz 0x0", 0x10000,
		{PT_LOAD, PF_R, 0x0, 0x0, 0, 0},
		{PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800});
	SYN_BAD("segment 0: p_flags 0x7", 0x10000,
		{PT_LOAD, PF_R | PF_W | PF_X, 0x0, 0x5000, 0, 0},
		{PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800});

	/* ELF_MAX_SEGS loadable segments, then one more. */
	for (int i = 0; i < ELF_MAX_SEGS + 1; i++)
		many[i] = (struct loader_seg){PT_LOAD,	  i ? RW : RX,
					      0x1000 * i, 0x10000 + 0x1000 * i,
					      0x10,	  0x10};
	KT_EXPECT_EQ(syn(kt, 0x10000, many, ELF_MAX_SEGS, &img, err), 0);
	KT_EXPECT(img.nseg == ELF_MAX_SEGS && img.lo == 0x10000 &&
		  img.hi == 0x10000 + 0x1000 * ELF_MAX_SEGS);
	KT_EXPECT(syn(kt, 0x10000, many, ELF_MAX_SEGS + 1, &img, err) ==
			  -E_BADFMT &&
		  strstr(err, "segment 8: more than 8 PT_LOAD segments"));
	KT_INFO("9 segments: %s", err);

	/* ELF_MAX_PHNUM headers fit (SYN_SIZE holds them), one more not. */
	for (int i = 0; i < ELF_MAX_PHNUM + 1; i++)
		many[i] = (struct loader_seg){PT_NOTE, PF_R, 0, 0, 0, 0};
	many[ELF_MAX_PHNUM - 1] =
		(struct loader_seg){PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800};
	KT_EXPECT_EQ(syn(kt, 0x10000, many, ELF_MAX_PHNUM, &img, err), 0);
	KT_EXPECT(syn(kt, 0x10000, many, ELF_MAX_PHNUM + 1, &img, err) ==
			  -E_BADFMT &&
		  strstr(err, "e_phnum 65 > 64"));
}

/* The program-header table may sit at any offset, e.g. an odd one. */
KTEST(synthetic_phoff)
{
	const struct loader_seg seg = {PT_LOAD, RX, 0x0, 0x10000, 0x800, 0x800};
	uint8_t *b = malloc(SYN_SIZE);
	struct elf_image img;
	char err[160];
	uint64_t phoff = 0x101;

	loader_synth_elf(b, SYN_SIZE, 0x10000, &seg, 1);
	memmove(b + phoff, b + sizeof(Elf64_Ehdr), sizeof(Elf64_Phdr));
	memcpy(b + EH(e_phoff), &phoff, sizeof(phoff));
	KT_EXPECT_EQ(parse(kt, b, SYN_SIZE, &img, err, sizeof(err)), 0);
	KT_EXPECT(img.nseg == 1 && img.seg[0].vaddr == 0x10000);
	KT_EXPECT_EQ(parse(kt, b, phoff + sizeof(Elf64_Phdr) - 1, &img, err,
			   sizeof(err)),
		     -E_BADFMT);
	free(b);
}

KTEST_SUITE(loader_elf_suite, "loader_elf", KTEST_CASE(hello_matches_readelf),
	    KTEST_CASE(hello_gc_matches_readelf),
	    KTEST_CASE(separate_code_matches_readelf),
	    KTEST_CASE(static_pie_refused), KTEST_CASE(omagic_rwx_refused),
	    KTEST_CASE(unaligned_blob), KTEST_CASE(error_buffer),
	    KTEST_CASE(every_truncation), KTEST_CASE(corrupted_header),
	    KTEST_CASE(corrupted_segments), KTEST_CASE(synthetic_edges),
	    KTEST_CASE(synthetic_headers), KTEST_CASE(synthetic_phoff));
