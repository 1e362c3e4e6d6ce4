/*
 * elf_oracle.c - independent readers for the loader tests: the rules of
 * kern/elf.h and the newc layout of cpio(5), written again from the
 * documents with the C library's <elf.h> and 128-bit arithmetic, so that a
 * mistake in kernel/lib/elf.c or cpio.c is unlikely to be repeated here.
 *
 * No ktest dependency: the libFuzzer target (fuzz_elf.c) links this too.
 */
#include "loader_host.h"

#include <kern/errno.h>

#include <ctype.h>
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

static bool refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Sv39-encodable, not W+X: R, RW, X, RX (gABI PF_* bits). */
static bool prot_ok(uint32_t flags, unsigned int *prot)
{
	switch (flags & (PF_R | PF_W | PF_X)) {
	case PF_R: *prot = ELF_PROT_R; return true;
	case PF_R | PF_W: *prot = ELF_PROT_R | ELF_PROT_W; return true;
	case PF_X: *prot = ELF_PROT_X; return true;
	case PF_R | PF_X: *prot = ELF_PROT_R | ELF_PROT_X; return true;
	default: return false;
	}
}

bool loader_elf_oracle(const uint8_t *blob, size_t size, struct elf_image *want,
		       char *why, size_t whylen)
{
	const uint64_t page = 4096, user_top = (uint64_t)1 << 38;
	Elf64_Ehdr eh;
	int n = 0;

	memset(want, 0, sizeof(*want));
	if (size < sizeof(eh))
		return refuse(why, whylen, "short");
	memcpy(&eh, blob, sizeof(eh)); /* host is little-endian */
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return refuse(why, whylen, "magic");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT)
		return refuse(why, whylen, "e_ident");
	if (eh.e_type != ET_EXEC || eh.e_machine != EM_RISCV ||
	    eh.e_version != EV_CURRENT)
		return refuse(why, whylen, "type/machine/version");
	if (eh.e_ehsize != sizeof(Elf64_Ehdr) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return refuse(why, whylen, "sizes");
	if (eh.e_phnum < 1 || eh.e_phnum > 64)
		return refuse(why, whylen, "phnum");
	if ((u128)eh.e_phoff + (u128)eh.e_phnum * sizeof(Elf64_Phdr) > size)
		return refuse(why, whylen, "phdrs outside");

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		struct elf_segment *s;
		unsigned int prot;
		u128 fend, vend;
		uint64_t lo, hi;

		memcpy(&ph, blob + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return refuse(why, whylen, "dynamic");
		if (ph.p_type != PT_LOAD)
			continue;
		fend = (u128)ph.p_offset + ph.p_filesz;
		vend = (u128)ph.p_vaddr + ph.p_memsz;
		if (fend > size)
			return refuse(why, whylen, "file range");
		if (ph.p_filesz > ph.p_memsz)
			return refuse(why, whylen, "filesz");
		if (ph.p_vaddr < page || vend > user_top)
			return refuse(why, whylen, "vaddr range");
		if (ph.p_vaddr % page != ph.p_offset % page)
			return refuse(why, whylen, "congruence");
		if (!prot_ok(ph.p_flags, &prot))
			return refuse(why, whylen, "flags");
		if (ph.p_memsz == 0)
			continue;
		if (n == ELF_MAX_SEGS)
			return refuse(why, whylen, "too many");
		lo = ph.p_vaddr / page * page;
		hi = (uint64_t)((vend + page - 1) / page * page);
		for (int k = 0; k < n; k++) {
			const struct elf_segment *o = &want->seg[k];
			uint64_t olo = o->vaddr / page * page;
			uint64_t ohi =
				(o->vaddr + o->memsz + page - 1) / page * page;

			if (!(hi <= olo || ohi <= lo))
				return refuse(why, whylen, "overlap");
		}
		s = &want->seg[n++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->offset = ph.p_offset;
		s->prot = prot;
		want->lo = n == 1 ? lo : (lo < want->lo ? lo : want->lo);
		want->hi = hi > want->hi ? hi : want->hi;
	}
	if (n == 0)
		return refuse(why, whylen, "no segment");
	if (eh.e_entry % 2)
		return refuse(why, whylen, "entry odd");
	for (int k = 0; k <= n; k++) {
		const struct elf_segment *s = &want->seg[k];

		if (k == n)
			return refuse(why, whylen, "entry outside");
		if (eh.e_entry >= s->vaddr &&
		    (u128)eh.e_entry < (u128)s->vaddr + s->memsz) {
			if (!(s->prot & ELF_PROT_X))
				return refuse(why, whylen, "entry not X");
			break;
		}
	}
	want->entry = eh.e_entry;
	want->nseg = n;
	return true;
}

const char *loader_elf_compare(const uint8_t *blob, size_t size, int ret,
			       const struct elf_image *img, char *buf,
			       size_t len)
{
	struct elf_image want;
	char why[64];
	bool ok = loader_elf_oracle(blob, size, &want, why, sizeof(why));

	if (ret && ret != -E_BADFMT) {
		snprintf(buf, len, "elf_parse returned %d", ret);
		return buf;
	}
	if (ok != !ret) {
		snprintf(buf, len, "elf_parse %s, oracle %s%s",
			 ret ? "refused" : "accepted",
			 ok ? "accepts" : "refuses: ", ok ? "" : why);
		return buf;
	}
	if (ret) {
		if (img->nseg) {
			snprintf(buf, len, "refused but nseg %d", img->nseg);
			return buf;
		}
		return NULL;
	}
	if (img->entry != want.entry || img->nseg != want.nseg ||
	    img->lo != want.lo || img->hi != want.hi) {
		snprintf(buf, len,
			 "entry %#lx/%#lx nseg %d/%d lo %#lx/%#lx hi %#lx/%#lx "
			 "(elf_parse/oracle)",
			 img->entry, want.entry, img->nseg, want.nseg, img->lo,
			 want.lo, img->hi, want.hi);
		return buf;
	}
	for (int k = 0; k < want.nseg; k++) {
		const struct elf_segment *a = &img->seg[k], *b = &want.seg[k];

		if (a->vaddr != b->vaddr || a->memsz != b->memsz ||
		    a->filesz != b->filesz || a->offset != b->offset ||
		    a->prot != b->prot) {
			snprintf(buf, len,
				 "seg %d: vaddr %#lx/%#lx memsz %#lx/%#lx "
				 "filesz %#lx/%#lx offset %#lx/%#lx prot %u/%u",
				 k, a->vaddr, b->vaddr, a->memsz, b->memsz,
				 a->filesz, b->filesz, a->offset, b->offset,
				 a->prot, b->prot);
			return buf;
		}
	}
	return NULL;
}

/* 8 hex digits at @p, strictly (strtoul alone would take "+0x12  "). */
static bool hex8(const uint8_t *p, uint32_t *v)
{
	char tmp[9];

	for (int i = 0; i < 8; i++) {
		if (!isxdigit(p[i]))
			return false;
		tmp[i] = (char)p[i];
	}
	tmp[8] = '\0';
	*v = (uint32_t)strtoul(tmp, NULL, 16);
	return true;
}

int loader_cpio_oracle(const uint8_t *a, size_t size,
		       struct loader_cpio_ent *ents, int max, int *bad_entry)
{
	u128 pos = 0;

	for (int n = 0;; n++) {
		uint32_t f[13];
		u128 name_end, data, data_end;
		const char *name;

		*bad_entry = n;
		if (pos + 110 > size || memcmp(a + pos, "070701", 6))
			return -1;
		for (int i = 0; i < 13; i++)
			if (!hex8(a + pos + 6 + 8 * i, &f[i]))
				return -1;
		/* f[6] c_filesize, f[11] c_namesize */
		name_end = pos + 110 + f[11];
		if (f[11] == 0 || name_end > size || a[name_end - 1] != 0)
			return -1;
		name = (const char *)a + pos + 110;
		data = (name_end + 3) / 4 * 4;
		data_end = data + f[6];
		if (f[6] && data_end > size)
			return -1;
		if (!strcmp(name, "TRAILER!!!"))
			return n;
		if (n < max) {
			ents[n].name_off = (size_t)pos + 110;
			ents[n].data_off = (size_t)(data > size ? size : data);
			ents[n].size = f[6];
			ents[n].mode = f[1];
		}
		pos = (data_end + 3) / 4 * 4;
	}
}
