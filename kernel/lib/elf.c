/*
 * elf.c - a validating parser of static RISC-V ELF64 executables
 *
 * Format: System V gABI, chapter 4 "ELF Header" and chapter 5 "Program
 * Header" (the same layout as "ELF-64 Object File Format" 1.5); RISC-V ELF
 * psABI for EM_RISCV. The rules elf_parse enforces are listed in kern/elf.h.
 *
 * The blob may sit at any address and come from anywhere, so every field
 * is read with byte loads (little-endian, whatever the host's order) into
 * the structures below. No sum of two fields is formed before it is known
 * not to wrap: bounds are checked as differences (size - offset) first.
 *
 * Locking: none; pure function of its arguments.
 */
#include <kern/elf.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

/* gABI "ELF Identification": e_ident[] indexes and values. */
#define EI_MAG0	    0
#define EI_CLASS    4
#define EI_DATA	    5
#define EI_VERSION  6
#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1

/* gABI e_type values; psABI e_machine. */
#define ET_EXEC	 2
#define ET_DYN	 3
#define EM_RISCV 243

/* gABI p_type and p_flags values. */
#define PT_LOAD	   1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define PF_X	   0x1u
#define PF_W	   0x2u
#define PF_R	   0x4u

#define ELF64_EHDR_SIZE 64
#define ELF64_PHDR_SIZE 56

/* Elf64_Ehdr, decoded; byte offsets in the file are in elf_ehdr_load. */
struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff; /* not used */
	uint32_t flags; /* not used */
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
};

/* Elf64_Phdr, decoded. */
struct elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr; /* not used */
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align; /* not used: congruence is checked mod 4 KiB */
};

struct elf_ctx {
	const uint8_t *blob;
	size_t size;
	char *err;
	size_t errlen;
};

static inline uint16_t elf_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t elf_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t elf_ld64(const uint8_t *p)
{
	return (uint64_t)elf_ld32(p) | (uint64_t)elf_ld32(p + 4) << 32;
}

/* @p holds at least ELF64_EHDR_SIZE bytes. */
static void elf_ehdr_load(struct elf64_ehdr *eh, const uint8_t *p)
{
	memcpy(eh->ident, p, EI_NIDENT);
	eh->type = elf_ld16(p + 16);
	eh->machine = elf_ld16(p + 18);
	eh->version = elf_ld32(p + 20);
	eh->entry = elf_ld64(p + 24);
	eh->phoff = elf_ld64(p + 32);
	eh->shoff = elf_ld64(p + 40);
	eh->flags = elf_ld32(p + 48);
	eh->ehsize = elf_ld16(p + 52);
	eh->phentsize = elf_ld16(p + 54);
	eh->phnum = elf_ld16(p + 56);
}

/* @p holds at least ELF64_PHDR_SIZE bytes. */
static void elf_phdr_load(struct elf64_phdr *ph, const uint8_t *p)
{
	ph->type = elf_ld32(p + 0);
	ph->flags = elf_ld32(p + 4);
	ph->offset = elf_ld64(p + 8);
	ph->vaddr = elf_ld64(p + 16);
	ph->paddr = elf_ld64(p + 24);
	ph->filesz = elf_ld64(p + 32);
	ph->memsz = elf_ld64(p + 40);
	ph->align = elf_ld64(p + 48);
}

/*
 * elf_fail - write "elf: [segment N: ]<message>" to the caller's buffer
 * @seg: program-header index the problem is in, or -1 for the file header
 *
 * Return: -E_BADFMT, for `return elf_fail(...)`.
 */
static int elf_fail(const struct elf_ctx *c, int seg, const char *fmt, ...)
	__printf(3, 4);

static int elf_fail(const struct elf_ctx *c, int seg, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -E_BADFMT;
	if (seg >= 0)
		n = snprintf(c->err, c->errlen, "elf: segment %d: ", seg);
	else
		n = snprintf(c->err, c->errlen, "elf: ");
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -E_BADFMT;
}

static int elf_check_ehdr(const struct elf_ctx *c, const struct elf64_ehdr *eh)
{
	static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
	const uint8_t *id = eh->ident;

	if (memcmp(id + EI_MAG0, magic, sizeof(magic)))
		return elf_fail(c, -1,
				"EI_MAG %02x %02x %02x %02x is not "
				"7f 45 4c 46 (\"\\177ELF\")",
				id[0], id[1], id[2], id[3]);
	if (id[EI_CLASS] != ELFCLASS64)
		return elf_fail(c, -1, "EI_CLASS %u is not ELFCLASS64 (2)",
				id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return elf_fail(c, -1,
				"EI_DATA %u is not ELFDATA2LSB (1, "
				"little-endian)",
				id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return elf_fail(c, -1, "EI_VERSION %u is not EV_CURRENT (1)",
				id[EI_VERSION]);
	if (eh->type == ET_DYN)
		return elf_fail(c, -1,
				"e_type ET_DYN (3): position-independent "
				"executables and shared objects are not "
				"supported, only static ET_EXEC (2)");
	if (eh->type != ET_EXEC)
		return elf_fail(c, -1, "e_type %u is not ET_EXEC (2)",
				eh->type);
	if (eh->machine != EM_RISCV)
		return elf_fail(c, -1, "e_machine %u is not RISC-V (243)",
				eh->machine);
	if (eh->version != EV_CURRENT)
		return elf_fail(c, -1, "e_version %u is not EV_CURRENT (1)",
				eh->version);
	if (eh->ehsize != ELF64_EHDR_SIZE)
		return elf_fail(c, -1, "e_ehsize %u is not 64", eh->ehsize);
	if (eh->phentsize != ELF64_PHDR_SIZE)
		return elf_fail(c, -1, "e_phentsize %u is not 56",
				eh->phentsize);
	if (eh->phnum == 0)
		return elf_fail(c, -1, "e_phnum 0: no program headers");
	if (eh->phnum > ELF_MAX_PHNUM)
		return elf_fail(c, -1, "e_phnum %u > %u", eh->phnum,
				ELF_MAX_PHNUM);
	/* phnum * 56 <= 64 * 56: no overflow; phoff may be anything. */
	if (eh->phoff > c->size ||
	    (uint64_t)eh->phnum * ELF64_PHDR_SIZE > c->size - eh->phoff)
		return elf_fail(c, -1,
				"e_phoff 0x%lx + e_phnum %u * 56 is past the "
				"end of the file (0x%zx bytes)",
				eh->phoff, eh->phnum, c->size);
	return 0;
}

/*
 * elf_check_load - check the fields of PT_LOAD header @i on their own
 * @prot: receives its ELF_PROT_* bits
 */
static int elf_check_load(const struct elf_ctx *c, int i,
			  const struct elf64_phdr *ph, unsigned int *prot)
{
	uint32_t rwx = ph->flags & (PF_R | PF_W | PF_X);

	if (rwx == (PF_R | PF_W | PF_X) || rwx == (PF_W | PF_X))
		return elf_fail(c, i,
				"p_flags 0x%x: writable and executable "
				"(W+X refused)",
				ph->flags);
	/* W without R is reserved in a PTE (Priv. spec, Sv32 section, table
	 * "Encoding of PTE R/W/X fields"; Sv39 uses the same). */
	if (rwx == PF_W)
		return elf_fail(c, i, "p_flags 0x%x: writable but not readable",
				ph->flags);
	if (rwx == 0)
		return elf_fail(c, i, "p_flags 0x%x: no access (no R, W or X)",
				ph->flags);
	if (ph->offset > c->size || ph->filesz > c->size - ph->offset)
		return elf_fail(c, i,
				"p_offset 0x%lx + p_filesz 0x%lx is past the "
				"end of the file (0x%zx bytes)",
				ph->offset, ph->filesz, c->size);
	if (ph->filesz > ph->memsz)
		return elf_fail(c, i, "p_filesz 0x%lx > p_memsz 0x%lx",
				ph->filesz, ph->memsz);
	if (ph->memsz > UINT64_MAX - ph->vaddr)
		return elf_fail(c, i, "p_vaddr 0x%lx + p_memsz 0x%lx wraps",
				ph->vaddr, ph->memsz);
	if (ph->vaddr < ELF_USER_MIN || ph->vaddr > ELF_USER_MAX ||
	    ph->memsz > ELF_USER_MAX - ph->vaddr)
		return elf_fail(c, i,
				"p_vaddr 0x%lx + p_memsz 0x%lx is outside "
				"user space [0x%lx, 0x%lx)",
				ph->vaddr, ph->memsz, ELF_USER_MIN,
				ELF_USER_MAX);
	if ((ph->vaddr ^ ph->offset) & (PAGE_SIZE - 1))
		return elf_fail(c, i,
				"p_vaddr 0x%lx and p_offset 0x%lx differ "
				"modulo the page size (0x%lx)",
				ph->vaddr, ph->offset, PAGE_SIZE);
	*prot = (rwx & PF_R ? ELF_PROT_R : 0) | (rwx & PF_W ? ELF_PROT_W : 0) |
		(rwx & PF_X ? ELF_PROT_X : 0);
	return 0;
}

/* Page-rounded span of @s. Cannot wrap: the segment ends <= ELF_USER_MAX. */
static inline vaddr_t elf_seg_lo(const struct elf_segment *s)
{
	return ALIGN_DOWN(s->vaddr, PAGE_SIZE);
}

static inline vaddr_t elf_seg_hi(const struct elf_segment *s)
{
	return ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
}

/* Add the checked segment @s (header @i) to @img unless it overlaps. */
static int elf_add_seg(const struct elf_ctx *c, struct elf_image *img,
		       int *phidx, int i, const struct elf_segment *s)
{
	vaddr_t lo = elf_seg_lo(s), hi = elf_seg_hi(s);

	if (img->nseg == ELF_MAX_SEGS)
		return elf_fail(c, i, "more than %d PT_LOAD segments",
				ELF_MAX_SEGS);
	for (int k = 0; k < img->nseg; k++) {
		const struct elf_segment *o = &img->seg[k];

		if (lo < elf_seg_hi(o) && elf_seg_lo(o) < hi)
			return elf_fail(c, i,
					"p_vaddr 0x%lx + p_memsz 0x%lx: pages "
					"0x%lx-0x%lx overlap segment %d "
					"(0x%lx-0x%lx)",
					s->vaddr, s->memsz, lo, hi, phidx[k],
					elf_seg_lo(o), elf_seg_hi(o));
	}
	phidx[img->nseg] = i;
	img->seg[img->nseg++] = *s;
	return 0;
}

static int elf_check_entry(const struct elf_ctx *c, struct elf_image *img,
			   const int *phidx, vaddr_t entry)
{
	/* sepc bit 0 is always zero: an odd entry would run entry - 1. */
	if (entry & 1)
		return elf_fail(c, -1, "e_entry 0x%lx is not 2-byte aligned",
				entry);
	for (int k = 0; k < img->nseg; k++) {
		const struct elf_segment *s = &img->seg[k];

		if (entry < s->vaddr || entry - s->vaddr >= s->memsz)
			continue;
		if (!(s->prot & ELF_PROT_X))
			return elf_fail(c, -1,
					"e_entry 0x%lx is in segment %d, "
					"which is not executable",
					entry, phidx[k]);
		return 0;
	}
	return elf_fail(c, -1, "e_entry 0x%lx is outside every PT_LOAD segment",
			entry);
}

int elf_parse(const void *blob, size_t size, struct elf_image *img, char *err,
	      size_t errlen)
{
	struct elf_ctx c = {blob, size, err, errlen};
	int phidx[ELF_MAX_SEGS]; /* program-header index of img->seg[k] */
	struct elf64_ehdr eh;
	int ret;

	memset(img, 0, sizeof(*img));
	if (err && errlen)
		err[0] = '\0';
	if (size < ELF64_EHDR_SIZE) {
		ret = elf_fail(&c, -1,
			       "file of %zu bytes is shorter than the ELF "
			       "header (64)",
			       size);
		goto out_fail;
	}
	elf_ehdr_load(&eh, c.blob);
	ret = elf_check_ehdr(&c, &eh);
	if (ret)
		goto out_fail;

	for (int i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		struct elf_segment s;

		elf_phdr_load(&ph,
			      c.blob + eh.phoff + (size_t)i * ELF64_PHDR_SIZE);
		if (ph.type == PT_INTERP || ph.type == PT_DYNAMIC) {
			ret = elf_fail(&c, i,
				       "%s: dynamic linking is not supported, "
				       "only static executables",
				       ph.type == PT_INTERP ? "PT_INTERP"
							    : "PT_DYNAMIC");
			goto out_fail;
		}
		if (ph.type != PT_LOAD)
			continue;
		s.vaddr = ph.vaddr;
		s.memsz = ph.memsz;
		s.filesz = ph.filesz;
		s.offset = ph.offset;
		ret = elf_check_load(&c, i, &ph, &s.prot);
		if (ret)
			goto out_fail;
		if (!s.memsz)
			continue; /* maps nothing */
		ret = elf_add_seg(&c, img, phidx, i, &s);
		if (ret)
			goto out_fail;
	}
	if (!img->nseg) {
		ret = elf_fail(&c, -1, "no PT_LOAD segment with p_memsz > 0");
		goto out_fail;
	}
	ret = elf_check_entry(&c, img, phidx, eh.entry);
	if (ret)
		goto out_fail;

	img->entry = eh.entry;
	img->lo = elf_seg_lo(&img->seg[0]);
	img->hi = elf_seg_hi(&img->seg[0]);
	for (int k = 1; k < img->nseg; k++) {
		img->lo = MIN(img->lo, elf_seg_lo(&img->seg[k]));
		img->hi = MAX(img->hi, elf_seg_hi(&img->seg[k]));
	}
	return 0;

out_fail:
	img->nseg = 0;
	return ret;
}
