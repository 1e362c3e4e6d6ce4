/*
 * dt_host.c - the trees under test and the runner's suite list
 *
 * The DTBs are made at test time (tests/host/dt/test.mk): QEMU dumps for
 * virt and sifive_u, and, when Debian's linux-source-6.12 is installed,
 * the VisionFive 2 tree compiled from Linux's sources. Their paths come as
 * positional arguments; with none, every *.dtb in DT_DTB_DIR is used.
 */
#include "dt_host.h"

#include <dirent.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DT_DTB_DIR
#define DT_DTB_DIR "build/host/dtb"
#endif
#define DT_MAX_TREES 16

static struct dt_tree trees[DT_MAX_TREES];
static int ntrees = -1;
static char load_err[256];

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

static enum dt_kind tree_kind(const void *fdt)
{
	if (!fdt_node_check_compatible(fdt, 0, "riscv-virtio"))
		return DT_KIND_VIRT;
	if (!fdt_node_check_compatible(fdt, 0, "sifive,hifive-unleashed-a00"))
		return DT_KIND_SIFIVE_U;
	if (!fdt_node_check_compatible(fdt, 0, "starfive,visionfive-2-v1.3b") ||
	    !fdt_node_check_compatible(fdt, 0, "starfive,jh7110"))
		return DT_KIND_VF2;
	return DT_KIND_OTHER;
}

static int load_tree(const char *path)
{
	struct dt_tree *t = &trees[ntrees];
	size_t size;
	void *tmp;
	int err;

	if (ntrees == DT_MAX_TREES) {
		snprintf(load_err, sizeof(load_err), "more than %d trees",
			 DT_MAX_TREES);
		return -1;
	}
	t->raw = read_file(path, &t->rawsize);
	if (!t->raw) {
		snprintf(load_err, sizeof(load_err), "cannot read %s", path);
		return -1;
	}
	err = fdt_check_full(t->raw, t->rawsize);
	if (err) {
		snprintf(load_err, sizeof(load_err), "%s: libfdt: %s", path,
			 fdt_strerror(err));
		return -1;
	}
	/* Pack it, then keep it in a buffer of exactly its size so that
	 * AddressSanitizer sees any read past totalsize. */
	tmp = malloc(t->rawsize);
	if (!tmp || fdt_open_into(t->raw, tmp, (int)t->rawsize) ||
	    fdt_pack(tmp)) {
		snprintf(load_err, sizeof(load_err), "%s: cannot pack", path);
		free(tmp);
		return -1;
	}
	size = fdt_totalsize(tmp);
	t->fdt = malloc(size);
	memcpy(t->fdt, tmp, size);
	free(tmp);
	t->size = size;
	t->path = strdup(path);
	t->name = strrchr(t->path, '/') ? strrchr(t->path, '/') + 1 : t->path;
	t->kind = tree_kind(t->fdt);
	ntrees++;
	return 0;
}

static int is_dtb(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".dtb");
}

static void load_trees(void)
{
	struct dirent **list;
	const char *arg;
	char key[16], path[512];
	int n;

	ntrees = 0;
	for (int i = 0;; i++) {
		snprintf(key, sizeof(key), "#%d", i);
		arg = host_arg(key);
		if (!arg)
			break;
		if (load_tree(arg))
			goto fail;
	}
	if (ntrees)
		return;
	n = scandir(DT_DTB_DIR, &list, is_dtb, alphasort);
	if (n < 0) {
		snprintf(load_err, sizeof(load_err),
			 "no DTB arguments and no directory %s", DT_DTB_DIR);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", DT_DTB_DIR,
			 list[i]->d_name);
		if (!load_err[0])
			load_tree(path); /* the first error is kept */
		free(list[i]);
	}
	free(list);
	if (load_err[0])
		goto fail;
	if (!ntrees)
		snprintf(load_err, sizeof(load_err), "no *.dtb in %s",
			 DT_DTB_DIR);
	return;
fail:
	ntrees = 0;
}

int dt_trees(const struct dt_tree **out, const char **err)
{
	if (ntrees < 0)
		load_trees();
	*out = trees;
	*err = load_err;
	return ntrees;
}

const struct dt_tree *dt_tree_of(enum dt_kind kind)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);

	for (int i = 0; i < n; i++)
		if (t[i].kind == kind)
			return &t[i];
	return NULL;
}

bool dt_ck(struct dt_ck *ck, bool ok, const char *expr, int line,
	   const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (ok)
		return true;
	ck->kt->failures++;
	if (ck->fails++ < 8) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		ktest_diag(ck->kt, "%s: line %d: %s: %s", ck->what, line, expr,
			   msg);
	}
	return false;
}

const struct ktest_suite *const host_suites[] = {
	&dt_walk_suite,
	&dt_bootinfo_suite,
	&dt_malformed_suite,
	&dt_fuzz_suite,
};
const size_t host_nsuites = ARRAY_SIZE(host_suites);
