/*
 * test_cpio.c - cpio_next and cpio_find on an archive GNU cpio wrote
 * (`find . | cpio -o -H newc` over a tree test.mk stages), checked entry by
 * entry against `cpio -it` and the staged files themselves; on synthetic
 * archives for names, padding and duplicates; and on corrupted copies, each
 * refused with a message naming the field.
 */
#include "loader_host.h"

#include <kern/errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTS 64

static const char *const field_names[13] = {
	"c_ino",       "c_mode",     "c_uid",	   "c_gid",	 "c_nlink",
	"c_mtime",     "c_filesize", "c_devmajor", "c_devminor", "c_rdevmajor",
	"c_rdevminor", "c_namesize", "c_check",
};

/*
 * Read every entry of @a with cpio_next. Return: entries read before the
 * trailer (>= 0), or the error; *@n_ok counts entries read either way.
 */
static int walk(struct ktest_ctx *kt, const uint8_t *a, size_t size,
		struct cpio_entry *ents, int max, int *n_ok, char *err,
		size_t *endpos)
{
	size_t pos = 0, last;
	struct cpio_entry e;
	int ret, n = 0;

	err[0] = '\0';
	for (;;) {
		last = pos;
		ret = cpio_next(a, size, &pos, &e, err, 160);
		if (ret != 1)
			break;
		/* Every entry inside the archive, every step forward. */
		KT_EXPECT(pos > last && pos <= size);
		KT_EXPECT(
			(const uint8_t *)e.name >= a &&
			(const uint8_t *)e.name < a + size &&
			memchr(e.name, 0, a + size - (const uint8_t *)e.name));
		KT_EXPECT((const uint8_t *)e.data >= a &&
			  e.size <=
				  (size_t)(a + size - (const uint8_t *)e.data));
		if (n < max)
			ents[n] = e;
		n++;
	}
	if (ret < 0)
		KT_EXPECT(pos == last && ret == -E_BADFMT &&
			  !strncmp(err, "cpio: ", 6));
	*n_ok = n;
	if (endpos)
		*endpos = pos;
	return ret < 0 ? ret : n;
}

static char *read_list(const char *name, int *nlines)
{
	const struct loader_file *lf = loader_file(name);
	char *s;

	*nlines = 0;
	if (!lf->data)
		return NULL;
	s = malloc(lf->size + 1);
	memcpy(s, lf->data, lf->size);
	s[lf->size] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n') {
			*p = '\0';
			(*nlines)++;
		}
	return s;
}

/* Every entry of root.cpio is the staged file it came from. */
KTEST(archive_matches_tree)
{
	const struct loader_file *lf = loader_file("root.cpio");
	struct loader_cpio_ent oents[MAX_ENTS];
	struct cpio_entry ents[MAX_ENTS];
	int n, n_ok, nlist, on, bad, regs = 0, links = 0, dirs = 0,
				     deferred = 0;
	char err[160], *list = read_list("root.list", &nlist), *line = list;
	size_t end;

	KT_ASSERT(lf->data && list);
	n = walk(kt, lf->data, lf->size, ents, MAX_ENTS, &n_ok, err, &end);
	if (!KT_EXPECT(n > 0))
		KT_INFO("%d: %s", n, err);
	KT_ASSERT_EQ(n, nlist);
	KT_ASSERT(n <= MAX_ENTS);
	on = loader_cpio_oracle(lf->data, lf->size, oents, MAX_ENTS, &bad);
	KT_EXPECT_EQ(on, n);
	for (int i = 0; i < n; i++, line += strlen(line) + 1) {
		const struct cpio_entry *e = &ents[i];
		char path[512], target[256];
		struct stat st;
		ssize_t tl;

		KT_EXPECT(!strcmp(e->name, line));
		KT_EXPECT((const uint8_t *)e->name ==
			  lf->data + oents[i].name_off);
		KT_EXPECT((const uint8_t *)e->data ==
			  lf->data + oents[i].data_off);
		snprintf(path, sizeof(path), "%s/root/%s", LOADER_DIR, e->name);
		if (!KT_EXPECT(!lstat(path, &st))) {
			KT_INFO("lstat %s failed", path);
			continue;
		}
		KT_EXPECT_EQ(e->mode, st.st_mode);
		switch (e->mode & CPIO_MODE_TYPE) {
		case CPIO_MODE_REG: {
			FILE *f = fopen(path, "rb");
			uint8_t *buf = malloc(st.st_size + 1);

			regs++;
			if (st.st_nlink > 1 && e->size == 0) {
				deferred++; /* data is with a later link */
			} else {
				KT_EXPECT_EQ(e->size, st.st_size);
				KT_EXPECT(f &&
					  fread(buf, 1, st.st_size + 1, f) ==
						  e->size &&
					  !memcmp(buf, e->data, e->size));
			}
			if (f)
				fclose(f);
			free(buf);
			break;
		}
		case CPIO_MODE_LNK:
			links++;
			tl = readlink(path, target, sizeof(target));
			KT_EXPECT(tl >= 0 && (size_t)tl == e->size &&
				  !memcmp(target, e->data, e->size));
			break;
		case CPIO_MODE_DIR:
			dirs++;
			KT_EXPECT_EQ(e->size, 0);
			break;
		default: KT_EXPECT(!"unexpected file type");
		}
	}
	/* After the trailer: only GNU cpio's zero padding to 512 bytes. */
	KT_EXPECT(end <= lf->size && lf->size % 512 == 0);
	for (size_t i = end; i < lf->size; i++)
		KT_EXPECT_EQ(lf->data[i], 0);
	KT_EXPECT(regs >= 8 && links == 1 && dirs >= 3 && deferred == 1);
	KT_INFO("root.cpio: %zu bytes, %d entries (%d files, %d dirs, %d "
		"symlink, %d hard link deferred), trailer ends at %#zx; as "
		"cpio -it and the staged tree",
		lf->size, n, regs, dirs, links, deferred, end);
	free(list);
}

/* cpio_find on root.cpio, including the ELF the kernel will load. */
KTEST(find_in_real_archive)
{
	const struct loader_file *lf = loader_file("root.cpio");
	const struct loader_file *hello = loader_file("hello.elf");
	static const char *const init_names[] = {"init", "./init", "/init",
						 "/./init", ".//init"};
	struct elf_image a, b;
	const void *data;
	char err[160];
	size_t len;

	KT_ASSERT(lf->data && hello->data);
	for (size_t i = 0; i < ARRAY_SIZE(init_names); i++) {
		data = NULL;
		KT_EXPECT_EQ(cpio_find(lf->data, lf->size, init_names[i], &data,
				       &len),
			     0);
		KT_EXPECT(data && len == hello->size &&
			  !memcmp(data, hello->data, len));
	}
	KT_ASSERT_EQ(cpio_find(lf->data, lf->size, "init", &data, &len), 0);
	KT_EXPECT_EQ(elf_parse(data, len, &a, err, sizeof(err)), 0);
	KT_EXPECT_EQ(elf_parse(hello->data, hello->size, &b, err, sizeof(err)),
		     0);
	KT_EXPECT(!memcmp(&a, &b, sizeof(a)));

	/* Both names of a hard link read the data newc keeps with the
	 * last one. */
	KT_EXPECT(!cpio_find(lf->data, lf->size, "hard1", &data, &len) &&
		  len == 10 && !memcmp(data, "hard link\n", 10));
	KT_EXPECT(!cpio_find(lf->data, lf->size, "hard2", &data, &len) &&
		  len == 10 && !memcmp(data, "hard link\n", 10));
	KT_EXPECT(!cpio_find(lf->data, lf->size, "etc/motd", &data, &len) &&
		  len == 6 && !memcmp(data, "rivet\n", 6));
	KT_EXPECT(!cpio_find(lf->data, lf->size, "empty", &data, &len) &&
		  len == 0);
	KT_EXPECT(!cpio_find(lf->data, lf->size, "link", &data, &len) &&
		  len == 8 && !memcmp(data, "etc/motd", 8));
	KT_EXPECT(!cpio_find(lf->data, lf->size, "dir/sub", &data, &len) &&
		  len == 0);
	KT_EXPECT_EQ(cpio_find(lf->data, lf->size, "nope", &data, &len),
		     -E_NOENT);
	KT_EXPECT_EQ(cpio_find(lf->data, lf->size, "", &data, &len), -E_NOENT);
	KT_EXPECT_EQ(cpio_find(lf->data, lf->size, "ini", &data, &len),
		     -E_NOENT);
	KT_EXPECT_EQ(cpio_find(lf->data, lf->size, "TRAILER!!!", &data, &len),
		     -E_NOENT);
}

/* The archive at every alignment reads the same. */
KTEST(unaligned_archive)
{
	const struct loader_file *lf = loader_file("root.cpio");
	struct cpio_entry ref[MAX_ENTS], ents[MAX_ENTS];
	int n, m, n_ok;
	char err[160];

	KT_ASSERT(lf->data);
	n = walk(kt, lf->data, lf->size, ref, MAX_ENTS, &n_ok, err, NULL);
	KT_ASSERT(n > 0 && n <= MAX_ENTS);
	for (size_t al = 1; al < 8; al++) {
		uint8_t *buf = malloc(lf->size + al);

		memcpy(buf + al, lf->data, lf->size);
		m = walk(kt, buf + al, lf->size, ents, MAX_ENTS, &n_ok, err,
			 NULL);
		KT_ASSERT_EQ(m, n);
		for (int i = 0; i < n; i++)
			KT_EXPECT(!strcmp(ents[i].name, ref[i].name) &&
				  ents[i].size == ref[i].size &&
				  (const uint8_t *)ents[i].data - (buf + al) ==
					  (const uint8_t *)ref[i].data -
						  lf->data);
		free(buf);
	}
}

/* Names with and without "./" and "/", every name and data padding. */
KTEST(synthetic_names)
{
	static const char *const names[] = {"./a",     "./bb/ccc", "/abs",
					    "dddd",    ".",	   "./",
					    "./x/./y", "eeeee"};
	static const char *const want[] = {"a", "bb/ccc", "abs",   "dddd",
					   ".", "",	  "x/./y", "eeeee"};
	struct loader_cpio_w w = {malloc(4096), 4096, 0, 0};
	struct cpio_entry ents[MAX_ENTS];
	char err[160], data[8] = "0123456";
	const void *d;
	size_t len;
	int n, n_ok;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		loader_cpio_add(&w, names[i], CPIO_MODE_REG | 0644, data, i);
	loader_cpio_trailer(&w);
	KT_ASSERT(w.len <= w.cap);
	n = walk(kt, w.buf, w.len, ents, MAX_ENTS, &n_ok, err, NULL);
	KT_ASSERT_EQ(n, (int)ARRAY_SIZE(names));
	for (int i = 0; i < n; i++) {
		KT_EXPECT(!strcmp(ents[i].name, want[i]));
		KT_EXPECT(ents[i].size == (size_t)i &&
			  !memcmp(ents[i].data, data, i));
		KT_EXPECT(((const uint8_t *)ents[i].data - w.buf) % 4 == 0);
		KT_EXPECT_EQ(ents[i].mode, CPIO_MODE_REG | 0644);
	}
	KT_EXPECT(!cpio_find(w.buf, w.len, "bb/ccc", &d, &len) && len == 1);
	KT_EXPECT(!cpio_find(w.buf, w.len, "./bb/ccc", &d, &len) && len == 1);
	KT_EXPECT(!cpio_find(w.buf, w.len, "abs", &d, &len) && len == 2);
	KT_EXPECT(!cpio_find(w.buf, w.len, "./dddd", &d, &len) && len == 3);
	KT_EXPECT(!cpio_find(w.buf, w.len, "/dddd", &d, &len) && len == 3);
	KT_EXPECT(!cpio_find(w.buf, w.len, "x/./y", &d, &len) && len == 6);
	KT_EXPECT_EQ(cpio_find(w.buf, w.len, "x/y", &d, &len), -E_NOENT);
	free(w.buf);
}

/* A name given twice: the later entry wins, as when Linux unpacks. */
KTEST(duplicates_last_wins)
{
	struct loader_cpio_w w = {malloc(4096), 4096, 0, 0};
	const void *d;
	size_t len;

	loader_cpio_add(&w, "x", CPIO_MODE_REG | 0644, "one", 3);
	loader_cpio_add(&w, "y", CPIO_MODE_REG | 0644, "why", 3);
	loader_cpio_add(&w, "./x", CPIO_MODE_REG | 0644, "two!", 4);
	loader_cpio_trailer(&w);
	KT_EXPECT(!cpio_find(w.buf, w.len, "x", &d, &len) && len == 4 &&
		  !memcmp(d, "two!", 4));
	free(w.buf);
}

/* Trailers: alone, cut right after its name, absent. */
KTEST(trailer)
{
	struct loader_cpio_w w = {malloc(4096), 4096, 0, 0};
	struct cpio_entry e;
	size_t pos = 0, full;
	const void *d;
	char err[160];
	size_t len;

	loader_cpio_trailer(&w);
	KT_EXPECT_EQ(w.len, 124); /* 110 + 11, padded */
	KT_EXPECT_EQ(cpio_next(w.buf, w.len, &pos, &e, err, sizeof(err)), 0);
	KT_EXPECT_EQ(pos, 124);
	/* GNU cpio pads after the trailer; an archive cut at the end of the
	 * trailer's name is still whole. */
	pos = 0;
	KT_EXPECT_EQ(cpio_next(w.buf, 121, &pos, &e, err, sizeof(err)), 0);
	KT_EXPECT_EQ(pos, 121);
	pos = 0;
	KT_EXPECT_EQ(cpio_next(w.buf, 120, &pos, &e, err, sizeof(err)),
		     -E_BADFMT);
	KT_EXPECT_EQ(pos, 0);
	KT_INFO("cut trailer: %s", err);
	pos = 0;
	KT_EXPECT_EQ(cpio_next(w.buf, 0, &pos, &e, err, sizeof(err)),
		     -E_BADFMT);
	KT_EXPECT(strstr(err, "without TRAILER!!!"));
	KT_INFO("empty archive: %s", err);
	KT_EXPECT_EQ(cpio_find(w.buf, 0, "x", &d, &len), -E_BADFMT);
	KT_EXPECT_EQ(cpio_find(w.buf, w.len, "x", &d, &len), -E_NOENT);

	/* One file, no trailer: the file reads, then the end is an error. */
	w.len = 0;
	loader_cpio_add(&w, "f", CPIO_MODE_REG | 0644, "abc", 3);
	full = w.len;
	pos = 0;
	KT_EXPECT_EQ(cpio_next(w.buf, full, &pos, &e, err, sizeof(err)), 1);
	KT_EXPECT_EQ(pos, full);
	KT_EXPECT_EQ(cpio_next(w.buf, full, &pos, &e, err, sizeof(err)),
		     -E_BADFMT);
	KT_EXPECT(strstr(err, "without TRAILER!!!"));
	KT_EXPECT_EQ(cpio_find(w.buf, full, "f", &d, &len), -E_BADFMT);
	/* A position past the end is refused, not read. */
	pos = full + 1;
	KT_EXPECT_EQ(cpio_next(w.buf, full, &pos, &e, err, sizeof(err)),
		     -E_BADFMT);
	KT_EXPECT(strstr(err, "past the end of the archive"));
	free(w.buf);
}

/*
 * Every cut of root.cpio: refused while the trailer's name is incomplete,
 * accepted from then on; cpio_next reads exactly the entries the oracle
 * does before the first one that does not fit.
 */
KTEST(every_truncation)
{
	const struct loader_file *lf = loader_file("root.cpio");
	struct loader_cpio_ent oents[MAX_ENTS];
	struct cpio_entry ents[MAX_ENTS];
	size_t need = 0, accepted = 0;
	int n, n_ok, full, bad;
	char err[160];

	KT_ASSERT(lf->data);
	full = walk(kt, lf->data, lf->size, ents, MAX_ENTS, &n_ok, err, NULL);
	KT_ASSERT(full > 0);
	/* The trailer's name ends the archive: find it. */
	for (size_t i = 0; i + 11 <= lf->size; i++)
		if (!memcmp(lf->data + i, "TRAILER!!!", 11))
			need = i + 11;
	KT_ASSERT(need > 0);
	for (size_t len = 0; len <= lf->size; len++) {
		uint8_t *b = loader_dup(lf->data, len);

		n = walk(kt, b, len, ents, MAX_ENTS, &n_ok, err, NULL);
		if (!KT_EXPECT_EQ(n, len >= need ? full : -E_BADFMT))
			KT_INFO("cut at %zu: %d \"%s\"", len, n, err);
		if (n < 0)
			KT_EXPECT(loader_cpio_oracle(b, len, oents, MAX_ENTS,
						     &bad) < 0 &&
				  n_ok == bad);
		accepted += n >= 0;
		free(b);
	}
	KT_EXPECT_EQ(accepted, lf->size - need + 1);
	KT_INFO("cuts 0..%zu: accepted from %zu on", lf->size, need);
}

/* Copy root.cpio, apply @code to `b` (`n` bytes; entry k starts at
 * hdr[k]), and expect a refusal naming @expect from cpio_next and from
 * cpio_find. */
#define CORRUPT(expect, code)                                                  \
	do {                                                                   \
		uint8_t *b = loader_dup(lf->data, lf->size);                   \
		size_t n = lf->size;                                           \
		code;                                                          \
		expect_refused(kt, #code, b, n, expect);                       \
		free(b);                                                       \
	} while (0)

static void expect_refused(struct ktest_ctx *kt, const char *what,
			   const uint8_t *b, size_t size, const char *expect)
{
	struct cpio_entry ents[MAX_ENTS];
	uint8_t *c = loader_dup(b, size);
	int n, n_ok;
	char err[160];
	const void *d;
	size_t len;

	n = walk(kt, c, size, ents, MAX_ENTS, &n_ok, err, NULL);
	if (!KT_EXPECT(n == -E_BADFMT && strstr(err, expect)))
		KT_INFO("%s: %d \"%s\", want \"%s\"", what, n, err, expect);
	else
		KT_INFO("%-40s -> %s", what, err);
	KT_EXPECT_EQ(cpio_find(c, size, "init", &d, &len), -E_BADFMT);
	free(c);
}

static void set_hex(uint8_t *b, size_t off, uint32_t v)
{
	char tmp[9];

	snprintf(tmp, sizeof(tmp), "%08X", v);
	memcpy(b + off, tmp, 8);
}

KTEST(corrupted)
{
	const struct loader_file *lf = loader_file("root.cpio");
	struct loader_cpio_ent oents[MAX_ENTS];
	size_t hdr[MAX_ENTS], trailer;
	int nent, bad, last;

	KT_ASSERT(lf->data);
	nent = loader_cpio_oracle(lf->data, lf->size, oents, MAX_ENTS, &bad);
	KT_ASSERT(nent > 3 && nent < MAX_ENTS);
	for (int i = 0; i < nent; i++)
		hdr[i] = oents[i].name_off - 110;
	/* The trailer follows the last entry, 4-aligned. */
	trailer = ALIGN_UP(oents[nent - 1].data_off + oents[nent - 1].size, 4);
	last = nent - 1;
	for (int i = 0; i < nent; i++)
		if (oents[i].size > 16)
			last = i; /* a file with data, for c_filesize */

	CORRUPT("c_magic 30 37 30 37 30 37", b[hdr[1] + 5] = '7');
	CORRUPT("c_magic 30 37 30 37 30 32", b[hdr[0] + 5] = '2');
	CORRUPT("c_magic", memcpy(b + hdr[nent - 1], "\x71\xc7", 2));
	CORRUPT("c_magic", b[trailer] = 'x');
	for (int f = 0; f < 13; f++) {
		char expect[64];

		snprintf(expect, sizeof(expect), "%s: byte 0x67",
			 field_names[f]);
		CORRUPT(expect, b[hdr[2] + LOADER_CPIO_FIELD(f) + 3] = 'g');
		snprintf(expect, sizeof(expect), "%s: byte 0x20",
			 field_names[f]);
		CORRUPT(expect, b[trailer + LOADER_CPIO_FIELD(f)] = ' ');
	}
	CORRUPT("c_filesize: byte 0x2b",
		b[hdr[1] + LOADER_CPIO_FIELD(6)] = '+');
	CORRUPT("c_namesize 0", set_hex(b, hdr[1] + LOADER_CPIO_FIELD(11), 0));
	CORRUPT("c_namesize 0xffffffff is past the end",
		set_hex(b, hdr[1] + LOADER_CPIO_FIELD(11), 0xffffffff));
	CORRUPT("c_namesize 0x",
		set_hex(b, trailer + LOADER_CPIO_FIELD(11), n - trailer - 109));
	CORRUPT("not NUL-terminated at c_namesize - 1",
		set_hex(b, hdr[3] + LOADER_CPIO_FIELD(11),
			strlen((char *)b + oents[3].name_off)));
	CORRUPT("not NUL-terminated",
		b[oents[last].name_off +
		  strlen((char *)b + oents[last].name_off)] = '!');
	CORRUPT("c_filesize 0xffffffff is past the end",
		set_hex(b, hdr[last] + LOADER_CPIO_FIELD(6), 0xffffffff));
	CORRUPT("c_filesize 0x", set_hex(b, hdr[last] + LOADER_CPIO_FIELD(6),
					 n - oents[last].data_off + 1));
	CORRUPT("c_filesize", n = oents[last].data_off + oents[last].size - 1);
	CORRUPT("without TRAILER!!!", n = trailer);
	CORRUPT("without TRAILER!!!", n = trailer + 109);
	/* A renamed trailer: the zero padding after it is no header. */
	if (lf->size >= trailer + 124 + 110)
		CORRUPT("c_magic 00 00 00 00 00 00",
			b[trailer + 110 + 9] = '?');
	else
		CORRUPT("without TRAILER!!!", b[trailer + 110 + 9] = '?');
}

KTEST_SUITE(loader_cpio_suite, "loader_cpio", KTEST_CASE(archive_matches_tree),
	    KTEST_CASE(find_in_real_archive), KTEST_CASE(unaligned_archive),
	    KTEST_CASE(synthetic_names), KTEST_CASE(duplicates_last_wins),
	    KTEST_CASE(trailer), KTEST_CASE(every_truncation),
	    KTEST_CASE(corrupted));
