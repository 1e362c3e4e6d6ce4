/*
 * loader_host.c - inputs and builders for the loader tests, and the list of
 * suites this test program runs
 */
#include "loader_host.h"

#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ktest_suite *const host_suites[] = {
	&loader_elf_suite,
	&loader_cpio_suite,
	&loader_fuzz_suite,
};
const size_t host_nsuites = ARRAY_SIZE(host_suites);

#define LOADER_MAX_FILES 32

static struct loader_file files[LOADER_MAX_FILES];
static int nfiles;
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;

static void read_whole(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	*data = NULL;
	*size = 0;
	if (!f)
		return;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	*data = buf;
	*size = len;
}

const struct loader_file *loader_file(const char *name)
{
	struct loader_file *lf = NULL;
	char path[512];
	uint8_t *data;

	pthread_mutex_lock(&files_lock);
	for (int i = 0; i < nfiles; i++)
		if (!strcmp(files[i].name, name))
			lf = &files[i];
	if (!lf && nfiles < LOADER_MAX_FILES) {
		lf = &files[nfiles++];
		snprintf(path, sizeof(path), "%s/%s", LOADER_DIR, name);
		read_whole(path, &data, &lf->size);
		lf->data = data;
		lf->name = strdup(name);
	}
	pthread_mutex_unlock(&files_lock);
	return lf;
}

uint8_t *loader_dup(const void *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	memcpy(b, data, size);
	return b;
}

int loader_readelf(const char *name, struct loader_readelf *re)
{
	char path[512], line[512];
	FILE *f;

	memset(re, 0, sizeof(*re));
	snprintf(path, sizeof(path), "%s/%s.readelf", LOADER_DIR, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long off, va, pa, fs, ms;
		char *p;
		int n = 0;

		if (strstr(line, "  Type:")) {
			re->exec = strstr(line, "EXEC") != NULL;
			re->dyn = strstr(line, "DYN") != NULL;
		} else if ((p = strstr(line, "Entry point address:"))) {
			re->entry = strtoull(p + 20, NULL, 16);
		} else if (sscanf(line, " %*s 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx %n",
				  &off, &va, &pa, &fs, &ms, &n) == 5 &&
			   n > 0) {
			/* A program header; the flags column ("R E", "RW ")
			 * runs up to the alignment, the last word. */
			char *end = strrchr(line, ' ');

			re->nphdr++;
			if (strncmp(line, "  LOAD ", 7) ||
			    re->nload == ARRAY_SIZE(re->load))
				continue;
			re->load[re->nload].offset = off;
			re->load[re->nload].vaddr = va;
			re->load[re->nload].filesz = fs;
			re->load[re->nload].memsz = ms;
			for (p = line + n; p < end; p++)
				re->load[re->nload].prot |=
					*p == 'R'   ? ELF_PROT_R
					: *p == 'W' ? ELF_PROT_W
					: *p == 'E' ? ELF_PROT_X
						    : 0;
			re->nload++;
		}
	}
	fclose(f);
	return 0;
}

size_t loader_synth_elf(uint8_t *buf, size_t size, uint64_t entry,
			const struct loader_seg *segs, int nseg)
{
	Elf64_Ehdr eh = {
		.e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			    ELFDATA2LSB, EV_CURRENT},
		.e_type = ET_EXEC,
		.e_machine = EM_RISCV,
		.e_version = EV_CURRENT,
		.e_entry = entry,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = (uint16_t)nseg,
	};

	memset(buf, 0, size);
	memcpy(buf, &eh, sizeof(eh));
	for (int i = 0; i < nseg; i++) {
		Elf64_Phdr ph = {
			.p_type = segs[i].type,
			.p_flags = segs[i].flags,
			.p_offset = segs[i].offset,
			.p_vaddr = segs[i].vaddr,
			.p_paddr = segs[i].vaddr,
			.p_filesz = segs[i].filesz,
			.p_memsz = segs[i].memsz,
			.p_align = 4096,
		};

		memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
	return size;
}

static void cpio_put(struct loader_cpio_w *w, const void *p, size_t n)
{
	if (n && w->len + n <= w->cap)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void cpio_pad4(struct loader_cpio_w *w)
{
	static const uint8_t zero[4];

	cpio_put(w, zero, (4 - (w->len & 3)) & 3);
}

void loader_cpio_add(struct loader_cpio_w *w, const char *name, uint32_t mode,
		     const void *data, size_t size)
{
	char hdr[111];
	size_t nlen = strlen(name) + 1;

	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++w->ino, mode, 0u, 0u, 1u, 0u, (unsigned int)size, 0u, 0u, 0u,
		 0u, (unsigned int)nlen, 0u);
	cpio_put(w, hdr, 110);
	cpio_put(w, name, nlen);
	cpio_pad4(w);
	cpio_put(w, data, size);
	cpio_pad4(w);
}

void loader_cpio_trailer(struct loader_cpio_w *w)
{
	loader_cpio_add(w, "TRAILER!!!", 0, NULL, 0);
}
