/*
 * test_fuzz.c - cut and mutated copies of every tree under test, each in a
 * malloc buffer of exactly its size, through dt_open, a walk of everything
 * and bootinfo_parse. Under AddressSanitizer any read outside the blob
 * aborts the run; otherwise every refusal must come with a "dt: " message,
 * and mutants that both dt_open and libfdt's fdt_check_full accept must
 * read the same through both.
 *
 * Random choices come from the runner's seed (seed=N, printed as "# seed=N");
 * mutants=N sets how many mutants per tree (default 1000; trees bigger than
 * FUZZ_FULL_SIZE get proportionally fewer, at least a quarter).
 */
#include "dt_host.h"

#include <kern/errno.h>

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MUTANTS (1000 / DT_SAMPLE)
#define FUZZ_FULL_SIZE	8192 /* trees up to this size get them all */

struct fuzz_stats {
	unsigned long tried, opened, lib_ok, parsed;
	unsigned long dt_only, lib_only;
};

/* Run one candidate blob; @b is exactly @size bytes. */
static void try_blob(struct ktest_ctx *kt, const char *what, uint8_t *b,
		     size_t size, struct fuzz_stats *st, bool differential)
{
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];
	struct dt dt;
	int ret, lib;

	st->tried++;
	ret = dt_open(&dt, b, size);
	/* libfdt 1.6.1's fdt_check_full dereferences NULL on a version < 16
	 * blob (fdt_get_name fails on its root): ask it about others only. */
	lib = differential && fdt_version(b) >= 16 ? fdt_check_full(b, size)
						   : -1;
	if (ret) {
		if (!KT_EXPECT(ret == -E_BADFMT &&
			       !strncmp(dt_error(&dt), "dt: ", 4) &&
			       strnlen(dt_error(&dt), sizeof(dt.err)) <
				       sizeof(dt.err)))
			KT_INFO("%s: %d \"%s\"", what, ret, dt_error(&dt));
		if (!lib && !st->lib_only++)
			KT_INFO("%s: only libfdt accepts it (%s)", what,
				dt_error(&dt));
		goto out;
	}
	st->opened++;
	dt_walk_all(&dt);
	ret = bootinfo_parse(bi, &dt, msg, sizeof(msg));
	if (!ret) {
		st->parsed++;
		KT_EXPECT(bi->nharts <= BI_MAX_HARTS && bi->nmem > 0 &&
			  bi->nmem <= BI_MAX_MEM && bi->nrsv <= BI_MAX_RSV);
		KT_EXPECT(
			bi->bootargs[0] == '\0' ||
			((const uint8_t *)bi->bootargs >= b &&
			 (const uint8_t *)bi->bootargs + strlen(bi->bootargs) <
				 b + size));
	} else {
		KT_EXPECT(ret == -E_BADFMT && !strncmp(msg, "bootinfo: ", 10));
	}
	if (lib) {
		if (differential && !st->dt_only++)
			KT_INFO("%s: only dt accepts it; libfdt: %s", what,
				fdt_strerror(lib));
		goto out;
	}
	st->lib_ok++;
	if (dt_check_walk(kt, what, b, size, false))
		KT_INFO("%s: differs from libfdt", what);
out:
	free(bi);
}

/*
 * Every length of the packed tree: as is (totalsize then exceeds the
 * buffer) and with totalsize set to the cut length. The cut copy sits at
 * the end of its allocation, so a read past it is a heap overflow. Then
 * lengths of the structure block: all near its end, a spread elsewhere.
 */
KTEST(every_truncation)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);
	struct fuzz_stats st;

	KT_ASSERT(n > 0);
	for (int i = 0; i < n; i++) {
		uint32_t send = fdt_size_dt_struct(t[i].fdt), step;
		uint8_t *buf = malloc(t[i].size), *b;
		unsigned long refused = 0;
		struct dt dt;

		memset(&st, 0, sizeof(st));
		for (size_t len = 0; len < t[i].size; len += DT_SAMPLE) {
			b = buf + t[i].size - len;
			memcpy(b, t[i].fdt, len);
			refused += dt_open(&dt, b, len) == -E_BADFMT;
			if (len < 40)
				continue;
			fdt32_st(b + 4, (uint32_t)len); /* totalsize */
			try_blob(kt, t[i].name, b, len, &st, false);
		}
		KT_EXPECT_EQ(refused, (t[i].size + DT_SAMPLE - 1) / DT_SAMPLE);
		KT_EXPECT_EQ(st.opened, 0);

		memcpy(buf, t[i].fdt, t[i].size);
		step = 4 * (1 + send / 4 / 512) * DT_SAMPLE;
		for (uint32_t s = 0; s <= send + 8; s++) {
			if (s + 16 < send && s % step)
				continue;
			fdt_set_size_dt_struct(buf, s);
			try_blob(kt, t[i].name, buf, t[i].size, &st, false);
		}
		KT_EXPECT_EQ(st.opened, 1); /* the right size only */
		KT_INFO("%s: %lu cuts refused; size_dt_struct 0..%u by %u: "
			"%lu opened",
			t[i].name, refused, send + 8, step, st.opened);
		free(buf);
	}
}

static const uint8_t byte_vals[] = {0,	  1,	2,   3,	  4,   9,  0x7f,
				    0x80, 0xff, '@', '/', ':', ','};

/* One random change to @b (@size bytes): bit flips, interesting bytes and
 * tokens, header fields, and copies of one piece over another. */
static void mutate(uint8_t *b, size_t size, uint64_t *rng)
{
	uint32_t off_struct = fdt_off_dt_struct(b);
	uint32_t size_struct = fdt_size_dt_struct(b) | 4; /* not 0 */
	uint64_t r = host_rand(rng);
	size_t pos = (size_t)(host_rand(rng) % size);
	uint32_t words[] = {FDT_BEGIN_NODE, FDT_END_NODE,
			    FDT_PROP,	    FDT_NOP,
			    FDT_END,	    0,
			    0xffffffffu,    0x7fffffffu,
			    size_struct,    fdt_size_dt_strings(b),
			    (uint32_t)size, (uint32_t)(host_rand(rng) % 64)};

	switch (r % 10) {
	case 0:
	case 1:
	case 2:
	case 3: b[pos] ^= (uint8_t)(1u << (host_rand(rng) % 8)); break;
	case 4:
	case 5: b[pos] = byte_vals[host_rand(rng) % sizeof(byte_vals)]; break;
	case 6:
	case 7:
		/* An aligned word of the structure block. */
		pos = off_struct + 4 * (host_rand(rng) % (size_struct / 4));
		if (pos + 4 <= size)
			fdt32_st(b + pos,
				 words[host_rand(rng) % ARRAY_SIZE(words)]);
		break;
	case 8:
		/* A header field: an interesting value or a small step. */
		pos = 4 * (host_rand(rng) % 10);
		if (host_rand(rng) % 2)
			fdt32_st(b + pos,
				 words[host_rand(rng) % ARRAY_SIZE(words)]);
		else
			fdt32_st(b + pos,
				 fdt32_ld((fdt32_t *)(b + pos)) +
					 (uint32_t)(host_rand(rng) % 9) - 4);
		break;
	default: {
		/* Copy 4..64 bytes of the structure block elsewhere in it. */
		size_t len = 4 + 4 * (host_rand(rng) % 16);
		size_t from =
			off_struct + 4 * (host_rand(rng) % (size_struct / 4));
		size_t to =
			off_struct + 4 * (host_rand(rng) % (size_struct / 4));

		if (from + len <= size && to + len <= size)
			memmove(b + to, b + from, len);
		break;
	}
	}
}

KTEST(random_mutants)
{
	const struct dt_tree *t;
	const char *err, *arg = host_arg("mutants");
	int n = dt_trees(&t, &err);
	long mutants = arg ? strtol(arg, NULL, 0) : DEFAULT_MUTANTS;
	struct fuzz_stats st;

	KT_ASSERT(n > 0);
	KT_INFO("seed=%lu mutants=%ld per tree", host_seed(), mutants);
	for (int i = 0; i < n; i++) {
		uint64_t rng = host_seed() * 0x9e3779b97f4a7c15ULL + i + 1;
		long count = mutants;
		char what[96];

		/* The cost of a mutant grows with the tree: big trees get
		 * fewer, down to a quarter. */
		if (t[i].size > FUZZ_FULL_SIZE)
			count = MAX(mutants / 4,
				    mutants * FUZZ_FULL_SIZE / (long)t[i].size);
		memset(&st, 0, sizeof(st));
		for (long m = 0; m < count; m++) {
			uint8_t *b = malloc(t[i].size);
			int changes = 1 + (int)(host_rand(&rng) % 4);

			memcpy(b, t[i].fdt, t[i].size);
			for (int c = 0; c < changes; c++)
				mutate(b, t[i].size, &rng);
			snprintf(what, sizeof(what), "%s mutant %ld", t[i].name,
				 m);
			try_blob(kt, what, b, t[i].size, &st, true);
			free(b);
		}
		KT_INFO("%s: %lu mutants, dt_open accepted %lu (libfdt %lu of "
			"them, %lu only by libfdt), bootinfo parsed %lu",
			t[i].name, st.tried, st.opened, st.lib_ok, st.lib_only,
			st.parsed);
	}
}

KTEST_SUITE(dt_fuzz_suite, "dt_fuzz", KTEST_CASE(every_truncation),
	    KTEST_CASE(random_mutants));
