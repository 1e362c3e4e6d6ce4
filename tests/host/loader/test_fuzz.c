/*
 * test_fuzz.c - seeded mutation fuzzing of elf_parse, cpio_next and
 * cpio_find, for a bounded time.
 *
 * Inputs are the real executables and archive test.mk builds plus two
 * synthetic ELFs with many segments. Each mutant is one to four changes
 * (bit flips, interesting values written into header fields, fields copied
 * from one header to another, cuts) to a copy of an input, and is parsed in
 * a malloc buffer of exactly its size: under AddressSanitizer any read
 * outside it aborts the run. Every answer is compared with the independent
 * oracles of elf_oracle.c (same accept/refuse decision, same image, same
 * entries), refusals must carry an "elf: "/"cpio: " message cut to the
 * caller's buffer, and the bytes after that buffer must stay untouched.
 *
 * Arguments: fuzz_seconds=N  total time, half for ELF and half for cpio
 *                            (default 5; `make test` passes
 *                            LOADER_FUZZ_SECONDS);
 *            fuzz_mutants=N  exactly N mutants per kind instead, for
 *                            reproducing a failure;
 *            seed=N          the runner's seed, printed as "# seed=N".
 * A failure names the mutant; rerun with the same seed and
 * fuzz_mutants=<mutant + 1> to stop right after it.
 */
#include "loader_host.h"

#include <kern/errno.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n)	  ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define FUZZ_DEFAULT_SECONDS 5.0
#define FUZZ_MAX_SIZE	     65536 /* largest input fuzzed */
#define FUZZ_MAX_REPORTS     8	   /* failing mutants described, then stop */
#define ERR_CANARY	     0xa5

struct fuzz_input {
	const char *name;
	const uint8_t *data;
	size_t size;
	/* ELF: program headers of the original; cpio: entry offsets. */
	size_t phoff;
	int phnum;
	size_t hdr[64];
	int nhdr;
};

struct fuzz_budget {
	double deadline; /* monotonic seconds; 0 when counting mutants */
	long mutants;	 /* when counting */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void budget_start(struct fuzz_budget *b)
{
	const char *m = host_arg("fuzz_mutants");
	const char *s = host_arg("fuzz_seconds");
	double secs = s ? strtod(s, NULL) : FUZZ_DEFAULT_SECONDS;

	b->mutants = m ? strtol(m, NULL, 0) : 0;
	b->deadline = m ? 0 : now() + secs / 2;
}

static bool budget_left(const struct fuzz_budget *b, long done)
{
	return b->deadline ? now() < b->deadline : done < b->mutants;
}

/*
 * The mutant under test sits in a static arena with everything around it
 * poisoned for AddressSanitizer, so a read even one byte outside is
 * reported, as with an exact-size malloc, but without the allocator's
 * quarantine churn (which cost two thirds of the run time).
 */
#define ARENA_GUARD 64
static uint8_t arena[ARENA_GUARD + FUZZ_MAX_SIZE + ARENA_GUARD] __aligned(8);

static uint8_t *arena_put(const uint8_t *src, size_t size)
{
	uint8_t *b = arena + ARENA_GUARD;

	ASAN_UNPOISON_MEMORY_REGION(arena, sizeof(arena));
	memcpy(b, src, size);
	ASAN_POISON_MEMORY_REGION(arena, ARENA_GUARD);
	ASAN_POISON_MEMORY_REGION(b + size, sizeof(arena) - ARENA_GUARD - size);
	return b;
}

static uint64_t rnd(uint64_t *rng, uint64_t n)
{
	return n ? host_rand(rng) % n : 0;
}

/* An error buffer of a random size (sometimes none), canary after it. */
struct errbuf {
	char buf[200];
	char *err;
	size_t len;
};

static void errbuf_pick(struct errbuf *e, uint64_t *rng)
{
	static const size_t lens[] = {0, 1, 2, 5, 6, 17, 40, 80, 160};

	memset(e->buf, ERR_CANARY, sizeof(e->buf));
	e->len = lens[rnd(rng, ARRAY_SIZE(lens))];
	e->err = rnd(rng, 16) ? e->buf : NULL;
}

/* The message starts with @prefix (or as much of it as fits), is cut to
 * the buffer and terminated, and nothing after the buffer changed. */
static bool errbuf_ok(const struct errbuf *e, const char *prefix, bool failed)
{
	size_t plen = strlen(prefix), n;

	if (!e->err || !e->len)
		return (uint8_t)e->buf[0] == ERR_CANARY;
	for (size_t i = e->len; i < sizeof(e->buf); i++)
		if ((uint8_t)e->buf[i] != ERR_CANARY)
			return false;
	n = strnlen(e->buf, e->len);
	if (n == e->len)
		return false; /* not terminated */
	if (!failed)
		return n == 0;
	return n >= MIN(plen, e->len - 1) &&
	       !strncmp(e->buf, prefix, MIN(plen, n));
}

/* ------------------------------------------------------------- ELF -- */

static const uint64_t interesting64[] = {
	0,
	1,
	2,
	0x38,
	0x40,
	0xfff,
	0x1000,
	0x1001,
	0x10000,
	(1UL << 38) - 0x1000,
	(1UL << 38) - 1,
	1UL << 38,
	1UL << 63,
	UINT64_MAX - 0x1000,
	UINT64_MAX - 1,
	UINT64_MAX,
};

static const uint32_t interesting_types[] = {
	PT_NULL, PT_LOAD, PT_DYNAMIC,	PT_INTERP,  PT_NOTE,
	PT_PHDR, PT_TLS,  PT_GNU_STACK, 0x70000003, 0xffffffff,
};

static const uint16_t interesting16[] = {0,  1,	 2,  3,	 52,  55,    56,
					 57, 63, 64, 65, 243, 0xffff};

struct field {
	uint8_t off, width;
};

static const struct field ehdr_fields[] = {
	{offsetof(Elf64_Ehdr, e_type), 2},
	{offsetof(Elf64_Ehdr, e_machine), 2},
	{offsetof(Elf64_Ehdr, e_version), 4},
	{offsetof(Elf64_Ehdr, e_entry), 8},
	{offsetof(Elf64_Ehdr, e_phoff), 8},
	{offsetof(Elf64_Ehdr, e_ehsize), 2},
	{offsetof(Elf64_Ehdr, e_phentsize), 2},
	{offsetof(Elf64_Ehdr, e_phnum), 2},
	{EI_CLASS, 1},
	{EI_DATA, 1},
	{EI_VERSION, 1},
	{EI_MAG0 + 1, 1},
};

static const struct field phdr_fields[] = {
	{offsetof(Elf64_Phdr, p_type), 4},   {offsetof(Elf64_Phdr, p_flags), 4},
	{offsetof(Elf64_Phdr, p_offset), 8}, {offsetof(Elf64_Phdr, p_vaddr), 8},
	{offsetof(Elf64_Phdr, p_filesz), 8}, {offsetof(Elf64_Phdr, p_memsz), 8},
};

static uint64_t ld(const uint8_t *p, int width)
{
	uint64_t v = 0;

	memcpy(&v, p, width); /* host is little-endian, as the files */
	return v;
}

static void st(uint8_t *p, int width, uint64_t v)
{
	memcpy(p, &v, width);
}

/* A value for a field that was @old: interesting, near, or random. */
static uint64_t pick_value(uint64_t *rng, const struct field *f, uint64_t old,
			   size_t size)
{
	switch (rnd(rng, 6)) {
	case 0: return interesting64[rnd(rng, ARRAY_SIZE(interesting64))];
	case 1:
		if (f->width == 4 && f->off == 0)
			return interesting_types[rnd(
				rng, ARRAY_SIZE(interesting_types))];
		if (f->width == 4)
			return rnd(rng, 8) | (rnd(rng, 4) ? 0 : PF_MASKOS);
		return interesting16[rnd(rng, ARRAY_SIZE(interesting16))];
	case 2: return old + rnd(rng, 17) - 8;
	case 3: return old + (rnd(rng, 2) ? 0x1000 : -0x1000UL);
	case 4: return size + rnd(rng, 5) - 2;
	default: return host_rand(rng);
	}
}

static void elf_mutate(const struct fuzz_input *in, uint8_t *b, size_t *size,
		       uint64_t *rng)
{
	size_t hdr_end = in->phoff + (size_t)in->phnum * sizeof(Elf64_Phdr);
	const struct field *f;
	size_t pos;
	int i, j;

	switch (rnd(rng, 12)) {
	case 0:
	case 1:
		/* A bit in the headers, most of the time. */
		pos = rnd(rng, rnd(rng, 8) ? MIN(hdr_end, *size) : *size);
		b[pos] ^= (uint8_t)(1u << rnd(rng, 8));
		break;
	case 2: b[rnd(rng, *size)] = (uint8_t)host_rand(rng); break;
	case 3:
	case 4:
		f = &ehdr_fields[rnd(rng, ARRAY_SIZE(ehdr_fields))];
		if (f->width == 1)
			b[f->off] = (uint8_t)rnd(rng, 4);
		else
			st(b + f->off, f->width,
			   pick_value(rng, f, ld(b + f->off, f->width), *size));
		break;
	case 5:
	case 6:
	case 7:
	case 8:
		f = &phdr_fields[rnd(rng, ARRAY_SIZE(phdr_fields))];
		pos = in->phoff + rnd(rng, in->phnum) * sizeof(Elf64_Phdr) +
		      f->off;
		if (pos + f->width <= *size)
			st(b + pos, f->width,
			   pick_value(rng, f, ld(b + pos, f->width), *size));
		break;
	case 9:
		/* The same field from another header: overlaps, repeats. */
		f = &phdr_fields[rnd(rng, ARRAY_SIZE(phdr_fields))];
		i = (int)rnd(rng, in->phnum);
		j = (int)rnd(rng, in->phnum);
		if (hdr_end <= *size)
			memcpy(b + in->phoff + i * sizeof(Elf64_Phdr) + f->off,
			       b + in->phoff + j * sizeof(Elf64_Phdr) + f->off,
			       f->width);
		break;
	case 10:
		/* A whole header over another. */
		i = (int)rnd(rng, in->phnum);
		j = (int)rnd(rng, in->phnum);
		if (hdr_end <= *size)
			memmove(b + in->phoff + i * sizeof(Elf64_Phdr),
				b + in->phoff + j * sizeof(Elf64_Phdr),
				sizeof(Elf64_Phdr));
		break;
	default:
		/* A cut, mostly near the headers' end. */
		*size = rnd(rng, 4) ? rnd(rng, MIN(hdr_end + 64, *size) + 1)
				    : rnd(rng, *size + 1);
		break;
	}
}

static int elf_inputs(struct fuzz_input *in, int max)
{
	static const char *const names[] = {"hello.elf", "hello-gc.elf",
					    "hello-sep.elf", "hello-pie.elf",
					    "hello-rwx.elf"};
	static uint8_t syn8[0x1000], syn64[0x1000];
	struct loader_seg segs[ELF_MAX_PHNUM];
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names) && n < max; i++) {
		const struct loader_file *lf = loader_file(names[i]);
		Elf64_Ehdr eh;

		if (!lf->data || lf->size < sizeof(eh) ||
		    lf->size > FUZZ_MAX_SIZE)
			continue;
		memcpy(&eh, lf->data, sizeof(eh));
		in[n++] = (struct fuzz_input){.name = names[i],
					      .data = lf->data,
					      .size = lf->size,
					      .phoff = eh.e_phoff,
					      .phnum = eh.e_phnum};
	}
	/* Eight loadable segments on adjacent pages and a ninth one
	 * disabled (PT_NULL): one type change from "too many". */
	for (int i = 0; i < ELF_MAX_SEGS + 1; i++)
		segs[i] = (struct loader_seg){i == ELF_MAX_SEGS ? PT_NULL
								: PT_LOAD,
					      i ? PF_R | PF_W : PF_R | PF_X,
					      0,
					      0x10000 + 0x1000 * i,
					      0x80,
					      0x800};
	loader_synth_elf(syn8, sizeof(syn8), 0x10000, segs, ELF_MAX_SEGS + 1);
	in[n++] = (struct fuzz_input){.name = "synthetic-9",
				      .data = syn8,
				      .size = sizeof(syn8),
				      .phoff = 64,
				      .phnum = ELF_MAX_SEGS + 1};
	/* The most program headers allowed, every type mixed in. */
	for (int i = 0; i < ELF_MAX_PHNUM; i++)
		segs[i] = (struct loader_seg){
			interesting_types[i % ARRAY_SIZE(interesting_types)],
			PF_R,
			0,
			0x20000 + 0x1000 * i,
			0x10,
			0x10};
	for (int i = 0; i < ELF_MAX_PHNUM; i++)
		if (segs[i].type == PT_DYNAMIC || segs[i].type == PT_INTERP)
			segs[i].type = PT_NOTE;
	segs[1].flags = PF_R | PF_X;
	loader_synth_elf(syn64, sizeof(syn64), 0x21000, segs, ELF_MAX_PHNUM);
	in[n++] = (struct fuzz_input){.name = "synthetic-64",
				      .data = syn64,
				      .size = sizeof(syn64),
				      .phoff = 64,
				      .phnum = ELF_MAX_PHNUM};
	return n;
}

/* The oracle's refusal reasons seen, to show what the mutants reach. */
struct why_count {
	char why[64];
	unsigned long n;
};

static void count_why(struct why_count *w, int max, const char *why)
{
	for (int i = 0; i < max; i++) {
		if (!w[i].why[0])
			snprintf(w[i].why, sizeof(w[i].why), "%s", why);
		if (!strcmp(w[i].why, why)) {
			w[i].n++;
			return;
		}
	}
}

KTEST(elf_mutants)
{
	struct fuzz_input in[8];
	struct why_count whys[24];
	struct fuzz_budget bud;
	uint64_t rng = host_seed() * 0x9e3779b97f4a7c15ULL + 1;
	unsigned long tried[8] = {0}, accepted[8] = {0};
	int nin = elf_inputs(in, ARRAY_SIZE(in)), reports = 0;
	char line[160];
	size_t off = 0;
	long m;

	memset(whys, 0, sizeof(whys));
	budget_start(&bud);
	for (m = 0; budget_left(&bud, m) && reports < FUZZ_MAX_REPORTS; m++) {
		int k = (int)(m % nin), changes = 1 + (int)rnd(&rng, 4), ret;
		size_t size = in[k].size;
		static uint8_t work[FUZZ_MAX_SIZE];
		uint8_t *b;
		struct elf_image img, want;
		const char *diff;
		struct errbuf e;
		char why[64], d[300];

		memcpy(work, in[k].data, size);
		for (int c = 0; c < changes; c++)
			elf_mutate(&in[k], work, &size, &rng);
		b = arena_put(work, size);
		errbuf_pick(&e, &rng);
		ret = elf_parse(b, size, &img, e.err, e.len);
		diff = loader_elf_compare(b, size, ret, &img, d, sizeof(d));
		if (!diff && !errbuf_ok(&e, "elf: ", ret != 0))
			diff = "bad error message";
		if (diff) {
			KT_EXPECT(!diff);
			KT_INFO("%s mutant %ld: %s; message \"%.*s\"",
				in[k].name, m, diff, (int)(e.err ? e.len : 0),
				e.buf);
			reports++;
		}
		tried[k]++;
		accepted[k] += !ret;
		if (!loader_elf_oracle(b, size, &want, why, sizeof(why)))
			count_why(whys, ARRAY_SIZE(whys), why);
	}
	KT_INFO("seed=%lu: %ld ELF mutants", host_seed(), m);
	for (int k = 0; k < nin; k++)
		KT_INFO("  %-14s %8lu mutants, %6lu accepted", in[k].name,
			tried[k], accepted[k]);
	for (int i = 0; i < (int)ARRAY_SIZE(whys) && whys[i].why[0]; i++) {
		off += snprintf(line + off, sizeof(line) - off, " %s:%lu",
				whys[i].why, whys[i].n);
		if (off > 60 || i + 1 == (int)ARRAY_SIZE(whys) ||
		    !whys[i + 1].why[0]) {
			KT_INFO("  refused:%s", line);
			off = 0;
		}
	}
}

/* ------------------------------------------------------------ cpio -- */

static void cpio_mutate(const struct fuzz_input *in, uint8_t *b, size_t *size,
			uint64_t *rng)
{
	size_t h = in->hdr[rnd(rng, in->nhdr)], pos;
	int f = (int)rnd(rng, 13);
	char tmp[9];
	uint32_t v;

	switch (rnd(rng, 12)) {
	case 0:
	case 1: b[rnd(rng, *size)] ^= (uint8_t)(1u << rnd(rng, 8)); break;
	case 2: b[rnd(rng, *size)] = (uint8_t)host_rand(rng); break;
	case 3:
	case 4:
	case 5:
		/* A whole field: small changes of sizes, edges, anything. */
		if (h + 110 > *size)
			break;
		memcpy(tmp, b + h + LOADER_CPIO_FIELD(f), 8);
		tmp[8] = '\0';
		v = (uint32_t)strtoul(tmp, NULL, 16);
		switch (rnd(rng, 5)) {
		case 0: v += (uint32_t)rnd(rng, 9) - 4; break;
		case 1: v = (uint32_t)(*size - h - rnd(rng, 130)); break;
		case 2: v = rnd(rng, 2) ? 0xffffffffu : 0x7fffffffu; break;
		case 3: v = (uint32_t)rnd(rng, 16); break;
		default: v = (uint32_t)host_rand(rng); break;
		}
		snprintf(tmp, sizeof(tmp), rnd(rng, 2) ? "%08X" : "%08x", v);
		memcpy(b + h + LOADER_CPIO_FIELD(f), tmp, 8);
		break;
	case 6:
		/* One digit: a non-hex byte, or another digit. */
		pos = h + LOADER_CPIO_FIELD(f) + rnd(rng, 8);
		if (pos < *size)
			b[pos] = rnd(rng, 2) ? "gG xX+-\0"[rnd(rng, 8)]
					     : "0123456789abcdefABCDEF"[rnd(
						       rng, 22)];
		break;
	case 7:
		/* The magic, or an early trailer. */
		if (h + 122 > *size)
			break;
		if (rnd(rng, 2)) {
			b[h + rnd(rng, 6)] = "0712 "[rnd(rng, 5)];
		} else {
			memcpy(b + h + LOADER_CPIO_FIELD(11), "0000000B", 8);
			memcpy(b + h + 110, "TRAILER!!!", 11);
		}
		break;
	case 8:
		/* A name byte: a NUL moved, a "./" prefix. */
		pos = h + 110 + rnd(rng, 8);
		if (pos + 1 < *size) {
			b[pos] = rnd(rng, 2) ? '\0' : "./A"[rnd(rng, 3)];
		}
		break;
	default: *size = rnd(rng, *size + 1); break;
	}
}

/* cpio_next's walk of @b must match the oracle's, entry for entry. */
static const char *cpio_check(const uint8_t *b, size_t size, uint64_t *rng,
			      char *d, size_t dlen)
{
	struct loader_cpio_ent oents[64];
	int on, bad, n = 0, ret;
	struct cpio_entry e;
	size_t pos = 0, last;
	struct errbuf eb;
	const void *data;
	size_t len;

	on = loader_cpio_oracle(b, size, oents, ARRAY_SIZE(oents), &bad);
	for (;;) {
		last = pos;
		errbuf_pick(&eb, rng);
		ret = cpio_next(b, size, &pos, &e, eb.err, eb.len);
		if (!errbuf_ok(&eb, "cpio: ", ret < 0))
			return "bad error message";
		if (ret != 1)
			break;
		if (pos <= last || pos > size)
			return "no progress or past the end";
		if (n < (int)ARRAY_SIZE(oents) && n < on) {
			const struct loader_cpio_ent *o = &oents[n];
			const char *raw = (const char *)b + o->name_off;

			if ((const uint8_t *)e.data != b + o->data_off ||
			    e.size != o->size || e.mode != o->mode ||
			    e.name < raw || e.name > raw + strlen(raw) ||
			    strspn(raw, "./") < (size_t)(e.name - raw)) {
				snprintf(d, dlen, "entry %d differs", n);
				return d;
			}
		}
		n++;
	}
	if (ret < 0 && (ret != -E_BADFMT || pos != last))
		return "bad error return";
	if ((on < 0) != (ret < 0) || (on >= 0 && on != n) ||
	    (on < 0 && bad != n)) {
		snprintf(d, dlen,
			 "cpio_next read %d entries (%d), oracle %d "
			 "(bad entry %d)",
			 n, ret, on, bad);
		return d;
	}
	/* cpio_find: the same verdict, data inside the archive; "hard1"
	 * takes the hard-link path. */
	ret = cpio_find(b, size, rnd(rng, 2) ? "init" : "./hard1", &data, &len);
	if (on < 0 ? ret != -E_BADFMT : (ret != 0 && ret != -E_NOENT))
		return "cpio_find verdict";
	if (!ret && ((const uint8_t *)data < b ||
		     len > (size_t)(b + size - (const uint8_t *)data)))
		return "cpio_find data outside";
	return NULL;
}

KTEST(cpio_mutants)
{
	const struct loader_file *lf = loader_file("root.cpio");
	struct loader_cpio_ent oents[64];
	uint64_t rng = host_seed() * 0x9e3779b97f4a7c15ULL + 2;
	unsigned long accepted = 0;
	struct fuzz_input in[2];
	struct fuzz_budget bud;
	int nin = 0, reports = 0, bad;
	long m;

	KT_ASSERT(lf->data && lf->size <= FUZZ_MAX_SIZE);
	in[nin] = (struct fuzz_input){
		.name = "root.cpio", .data = lf->data, .size = lf->size};
	in[nin].nhdr = loader_cpio_oracle(lf->data, lf->size, oents, 63, &bad);
	KT_ASSERT(in[nin].nhdr > 0 && in[nin].nhdr < 63);
	for (int i = 0; i < in[nin].nhdr; i++)
		in[nin].hdr[i] = oents[i].name_off - 110;
	/* and the trailer */
	in[nin].hdr[in[nin].nhdr] = ALIGN_UP(
		oents[in[nin].nhdr - 1].data_off + oents[in[nin].nhdr - 1].size,
		4);
	in[nin].nhdr++;
	nin++;

	budget_start(&bud);
	for (m = 0; budget_left(&bud, m) && reports < FUZZ_MAX_REPORTS; m++) {
		const struct fuzz_input *ip = &in[m % nin];
		int changes = 1 + (int)rnd(&rng, 4);
		size_t size = ip->size;
		static uint8_t work[FUZZ_MAX_SIZE];
		uint8_t *b;
		const char *diff;
		char d[200];

		memcpy(work, ip->data, size);
		for (int c = 0; c < changes; c++)
			cpio_mutate(ip, work, &size, &rng);
		b = arena_put(work, size);
		diff = cpio_check(b, size, &rng, d, sizeof(d));
		if (diff) {
			KT_EXPECT(!diff);
			KT_INFO("%s mutant %ld: %s", ip->name, m, diff);
			reports++;
		}
		accepted += loader_cpio_oracle(b, size, oents, 0, &bad) >= 0;
	}
	KT_INFO("seed=%lu: %ld cpio mutants of root.cpio, %lu whole",
		host_seed(), m, accepted);
}

KTEST_SUITE(loader_fuzz_suite, "loader_fuzz", KTEST_CASE(elf_mutants),
	    KTEST_CASE(cpio_mutants));
