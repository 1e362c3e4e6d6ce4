#pragma once
/*
 * dt_host.h - shared parts of the device-tree host tests: the trees under
 * test (DTB paths on the command line) and the libfdt oracles.
 */
#include <host.h>
#include <plat/bootinfo.h>
#include <plat/dt.h>

/*
 * ThreadSanitizer cannot see a read outside a buffer, and these tests start
 * no threads, so under it the exhaustive loops (every length, every offset,
 * the mutants) visit one case in DT_SAMPLE; AddressSanitizer visits all.
 */
#ifdef __SANITIZE_THREAD__
#define DT_SAMPLE 17
#else
#define DT_SAMPLE 1
#endif

enum dt_kind {
	DT_KIND_OTHER,
	DT_KIND_VIRT,	  /* qemu -machine virt */
	DT_KIND_SIFIVE_U, /* qemu -machine sifive_u */
	DT_KIND_VF2,	  /* Linux's jh7110-starfive-visionfive-2 */
};

/*
 * struct dt_tree - one DTB under test, loaded once, read-only afterwards
 * @raw:  the file as written (QEMU pads its dumps to 1 MiB)
 * @fdt:  a packed copy (fdt_pack), exactly @size == totalsize bytes
 */
struct dt_tree {
	const char *path;
	const char *name; /* file name, for messages */
	enum dt_kind kind;
	void *raw;
	size_t rawsize;
	void *fdt;
	size_t size;
};

/*
 * dt_trees - the trees named on the command line (positional arguments),
 * or, with none, the files in DT_DTB_DIR. Loaded on first call.
 * Return: how many; *@err says why loading failed (then 0).
 */
int dt_trees(const struct dt_tree **trees, const char **err);

/* The first tree of @kind, or NULL. */
const struct dt_tree *dt_tree_of(enum dt_kind kind);

/*
 * dt_check_walk - compare every answer of dt_* with libfdt on @fdt
 * @thorough: also the O(nodes^2) checks (paths, parents, phandles, every
 *            offset of the structure block); off for fuzz mutants
 *
 * @fdt must pass both dt_open and fdt_check_full. Mismatches count as
 * failures of @kt; the first few are printed with @what.
 * Return: number of mismatches.
 */
int dt_check_walk(struct ktest_ctx *kt, const char *what, const void *fdt,
		  size_t size, bool thorough);

/*
 * dt_walk_all - read every node and property of an opened tree through the
 * dt_* accessors (the fuzz tests run it under AddressSanitizer).
 * Return: a checksum of what was read, so nothing is optimised away.
 */
unsigned long dt_walk_all(const struct dt *dt);

/*
 * dt_check_bootinfo - compare @bi (from bootinfo_parse) with values
 * computed from @fdt with libfdt. Return: number of mismatches.
 */
int dt_check_bootinfo(struct ktest_ctx *kt, const char *what, const void *fdt,
		      const struct boot_info *bi);

/* Rate-limited mismatch reporting shared by the oracles. */
struct dt_ck {
	struct ktest_ctx *kt;
	const char *what;
	int fails;
};

bool dt_ck(struct dt_ck *ck, bool ok, const char *expr, int line,
	   const char *fmt, ...) __printf(5, 6);
#define DT_CK(ck, cond, ...) dt_ck(ck, !!(cond), #cond, __LINE__, __VA_ARGS__)

extern const struct ktest_suite dt_walk_suite;
extern const struct ktest_suite dt_bootinfo_suite;
extern const struct ktest_suite dt_malformed_suite;
extern const struct ktest_suite dt_fuzz_suite;
