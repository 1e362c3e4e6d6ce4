/*
 * test_walk.c - platform/dt.c against libfdt: every node, property, offset
 * and lookup of every tree under test must give libfdt's answer.
 */
#include "dt_host.h"

#include <kern/errno.h>

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_SUCH_NAME "no-such-thing"

/* Same answer: both errors, or the same offset. */
static bool same_off(int a, int b)
{
	return (a < 0 && b < 0) || a == b;
}

/* libfdt's view of a one-cell property, as dt_cells() should read it. */
static uint32_t oracle_cells(const void *fdt, int node, const char *name,
			     uint32_t dflt)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node, name, &len);

	if (!v)
		return dflt;
	return len == 4 ? fdt32_ld(v) : DT_CELLS_BAD;
}

static bool oracle_enabled(const void *fdt, int node)
{
	int len;
	const char *s = fdt_getprop(fdt, node, "status", &len);

	if (!s)
		return true;
	return len > 0 && s[len - 1] == '\0' &&
	       (!strcmp(s, "okay") || !strcmp(s, "ok"));
}

static uint64_t oracle_ld(const fdt32_t *p, uint32_t cells)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < cells; i++)
		v = v << 32 | fdt32_ld(p + i);
	return v;
}

/* The property @name of @node as dt_prop* must read it (first match). */
static void check_prop_value(struct dt_ck *ck, const struct dt *dt,
			     const void *fdt, int node, const char *name)
{
	int llen;
	uint32_t dlen = 99, u32;
	uint64_t u64;
	const char *lv = fdt_getprop(fdt, node, name, &llen);
	const char *dv = dt_prop(dt, node, name, &dlen);
	const char *want_str, *p;
	bool got;

	if (!DT_CK(ck, lv && lv == dv && (uint32_t)llen == dlen,
		   "node 0x%x prop %s", node, name))
		return;
	want_str = llen > 0 && lv[llen - 1] == '\0' ? lv : NULL;
	DT_CK(ck, dt_prop_str(dt, node, name) == want_str, "node 0x%x %s", node,
	      name);
	got = dt_prop_u32(dt, node, name, &u32);
	DT_CK(ck,
	      got == (llen == 4) &&
		      (!got || u32 == fdt32_ld((const fdt32_t *)lv)),
	      "node 0x%x %s", node, name);
	got = dt_prop_u64(dt, node, name, &u64);
	DT_CK(ck,
	      got == (llen == 4 || llen == 8) &&
		      (!got || u64 == oracle_ld((const fdt32_t *)lv,
						(uint32_t)llen / 4)),
	      "node 0x%x %s", node, name);

	/* Every complete string of the list is found, by both. */
	for (p = lv; p < lv + llen;) {
		size_t n = strnlen(p, (size_t)(lv + llen - p));

		if (p + n == lv + llen)
			break; /* unterminated tail */
		DT_CK(ck,
		      dt_prop_has_str(dt, node, name, p) &&
			      fdt_stringlist_contains(lv, llen, p),
		      "node 0x%x %s has \"%s\"", node, name, p);
		if (!strcmp(name, "compatible"))
			DT_CK(ck,
			      dt_is_compatible(dt, node, p) &&
				      !fdt_node_check_compatible(fdt, node, p),
			      "node 0x%x compatible \"%s\"", node, p);
		p += n + 1;
	}
	DT_CK(ck, !dt_prop_has_str(dt, node, name, NO_SUCH_NAME),
	      "node 0x%x %s", node, name);
}

/* reg as dt_reg must decode it, with the parent's cells read by libfdt. */
static void check_reg(struct dt_ck *ck, const struct dt *dt, const void *fdt,
		      int node, int parent)
{
	uint32_t ac, sc, stride, count, i;
	uint64_t a, s;
	int len, ret;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (parent < 0) {
		DT_CK(ck, dt_reg(dt, node, 0, &a, &s) < 0, "root reg");
		return;
	}
	ac = oracle_cells(fdt, parent, "#address-cells", 2);
	sc = oracle_cells(fdt, parent, "#size-cells", 1);
	ret = dt_reg(dt, node, 0, &a, &s);
	if (!reg) {
		DT_CK(ck, ret == -E_NOENT, "node 0x%x no reg: %d", node, ret);
		return;
	}
	if (ac < 1 || ac > 2 || sc > 2 || len % (4 * (ac + sc))) {
		DT_CK(ck, ret == -E_BADFMT, "node 0x%x cells %u/%u len %d: %d",
		      node, ac, sc, len, ret);
		return;
	}
	stride = ac + sc;
	count = (uint32_t)len / (4 * stride);
	for (i = 0; i < count; i++) {
		ret = dt_reg(dt, node, i, &a, &s);
		DT_CK(ck,
		      !ret && a == oracle_ld(reg + i * stride, ac) &&
			      s == oracle_ld(reg + i * stride + ac, sc),
		      "node 0x%x reg[%u]", node, i);
	}
	DT_CK(ck, dt_reg(dt, node, count, &a, &s) == -E_NOENT,
	      "node 0x%x reg[%u] past the end", node, count);
}

static void check_node(struct dt_ck *ck, const struct dt *dt, const void *fdt,
		       int node, bool thorough)
{
	const char *lname = fdt_get_name(fdt, node, NULL), *pname, *dname;
	char lpath[512], dpath[512], base[256];
	const void *lv, *dv;
	int lc, dc, lp, dp, llen, lparent, ret;
	uint32_t dlen, ph, la;

	if (!DT_CK(ck, lname && dt_node_name(dt, node) == lname,
		   "node 0x%x name", node))
		return;

	/* Children, and finding each by name and by name without '@'. */
	lc = fdt_first_subnode(fdt, node);
	dc = dt_first_child(dt, node);
	for (;;) {
		if (!DT_CK(ck, same_off(lc, dc), "node 0x%x child %d vs %d",
			   node, lc, dc) ||
		    lc < 0)
			break;
		if (!thorough)
			goto next_child; /* O(children^2) below */
		dname = fdt_get_name(fdt, lc, NULL);
		DT_CK(ck,
		      dt_subnode(dt, node, dname) ==
			      fdt_subnode_offset(fdt, node, dname),
		      "node 0x%x subnode %s", node, dname);
		snprintf(base, sizeof(base), "%s", dname);
		if (strchr(base, '@'))
			*strchr(base, '@') = '\0';
		DT_CK(ck,
		      same_off(dt_subnode(dt, node, base),
			       fdt_subnode_offset(fdt, node, base)),
		      "node 0x%x subnode %s", node, base);
	next_child:
		lc = fdt_next_subnode(fdt, lc);
		dc = dt_next_sibling(dt, dc);
	}
	DT_CK(ck, dt_subnode(dt, node, NO_SUCH_NAME) == -E_NOENT, "node 0x%x",
	      node);

	/* Properties, in order, by offset and by name. */
	lp = fdt_first_property_offset(fdt, node);
	dp = dt_first_prop(dt, node);
	for (;;) {
		if (!DT_CK(ck, same_off(lp, dp), "node 0x%x prop %d vs %d",
			   node, lp, dp) ||
		    lp < 0)
			break;
		lv = fdt_getprop_by_offset(fdt, lp, &pname, &llen);
		dv = dt_prop_by_offset(dt, dp, &dname, &dlen);
		if (DT_CK(ck,
			  lv && lv == dv && !strcmp(pname, dname) &&
				  (uint32_t)llen == dlen,
			  "prop 0x%x", lp))
			check_prop_value(ck, dt, fdt, node, pname);
		lp = fdt_next_property_offset(fdt, lp);
		dp = dt_next_prop(dt, dp);
	}
	dlen = 7;
	DT_CK(ck, !dt_prop(dt, node, NO_SUCH_NAME, &dlen) && dlen == 0,
	      "node 0x%x", node);

	/* #address-cells / #size-cells, where libfdt has an answer. */
	ret = fdt_address_cells(fdt, node);
	la = oracle_cells(fdt, node, "#address-cells", 2);
	DT_CK(ck,
	      dt_addr_cells(dt, node) == la && (ret < 0 || (uint32_t)ret == la),
	      "node 0x%x #address-cells %d", node, ret);
	ret = fdt_size_cells(fdt, node);
	la = oracle_cells(fdt, node, "#size-cells", 1);
	DT_CK(ck,
	      dt_size_cells(dt, node) == la && (ret < 0 || (uint32_t)ret == la),
	      "node 0x%x #size-cells %d", node, ret);
	DT_CK(ck, dt_is_enabled(dt, node) == oracle_enabled(fdt, node),
	      "node 0x%x status", node);

	if (!thorough)
		return;

	/* Paths both ways, parents, phandles, reg. */
	ret = fdt_get_path(fdt, node, lpath, sizeof(lpath));
	if (DT_CK(ck,
		  !ret && !dt_node_path(dt, node, dpath, sizeof(dpath)) &&
			  !strcmp(lpath, dpath),
		  "node 0x%x path %s", node, dpath)) {
		DT_CK(ck, dt_path(dt, dpath) == fdt_path_offset(fdt, lpath),
		      "path %s", lpath);
		if (strlen(lpath) > 4)
			DT_CK(ck,
			      dt_node_path(dt, node, dpath, 4) == -E_RANGE &&
				      strlen(dpath) < 4,
			      "path %s in 4", lpath);
	}
	lparent = fdt_parent_offset(fdt, node);
	DT_CK(ck, same_off(dt_parent(dt, node), lparent), "node 0x%x parent",
	      node);
	ph = fdt_get_phandle(fdt, node);
	if (ph && ph != 0xffffffffu)
		DT_CK(ck,
		      dt_node_by_phandle(dt, ph) ==
			      fdt_node_offset_by_phandle(fdt, ph),
		      "phandle 0x%x", ph);
	check_reg(ck, dt, fdt, node, lparent);
	lv = fdt_getprop(fdt, node, "compatible", &llen);
	if (lv && llen > 0 && ((const char *)lv)[llen - 1] == '\0')
		DT_CK(ck,
		      dt_find_compatible(dt, -1, lv) ==
				      fdt_node_offset_by_compatible(fdt, -1,
								    lv) &&
			      same_off(dt_find_compatible(dt, node, lv),
				       fdt_node_offset_by_compatible(fdt, node,
								     lv)),
		      "compatible %s", (const char *)lv);
}

/*
 * Every offset of the structure block, aligned or not, as a node and as a
 * property: same answers as libfdt, including offsets inside property values
 * that happen to hold a BEGIN_NODE or PROP token.
 */
static void check_offsets(struct dt_ck *ck, const struct dt *dt,
			  const void *fdt)
{
	int end = (int)fdt_size_dt_struct(fdt) + 8;
	const char *ln, *dn;
	int llen;
	uint32_t dlen;

	for (int off = -4; off < end; off += DT_SAMPLE) {
		const char *name = dt_node_name(dt, off);

		if (!DT_CK(ck, name == fdt_get_name(fdt, off, NULL),
			   "offset %d name", off))
			continue;
		DT_CK(ck,
		      dt_prop_by_offset(dt, off, &dn, &dlen) ==
			      fdt_getprop_by_offset(fdt, off, &ln, &llen),
		      "offset %d prop", off);
		DT_CK(ck,
		      same_off(dt_first_prop(dt, off),
			       fdt_first_property_offset(fdt, off)),
		      "offset %d", off);
		DT_CK(ck,
		      same_off(dt_next_prop(dt, off),
			       fdt_next_property_offset(fdt, off)),
		      "offset %d", off);
		/* libfdt's fdt_first_subnode(-1) is the root; dt says no. */
		DT_CK(ck,
		      off < 0 ? dt_first_child(dt, off) == -E_INVAL
			      : same_off(dt_first_child(dt, off),
					 fdt_first_subnode(fdt, off)),
		      "offset %d", off);
		DT_CK(ck,
		      same_off(dt_next_node(dt, off),
			       fdt_next_node(fdt, off, NULL)),
		      "offset %d: %d vs %d", off, dt_next_node(dt, off),
		      fdt_next_node(fdt, off, NULL));
		if (name && off >= 0) {
			DT_CK(ck,
			      same_off(dt_next_sibling(dt, off),
				       fdt_next_subnode(fdt, off)),
			      "offset %d sibling", off);
			DT_CK(ck,
			      same_off(dt_parent(dt, off),
				       fdt_parent_offset(fdt, off)),
			      "offset %d parent", off);
		}
	}
}

int dt_check_walk(struct ktest_ctx *kt, const char *what, const void *fdt,
		  size_t size, bool thorough)
{
	struct dt_ck ck = {kt, what, 0};
	struct dt dt;
	uint64_t la, ls, da, ds;
	int lo, dn, nrsv, ret;

	ret = dt_open(&dt, fdt, size);

	if (!DT_CK(&ck, !ret, "dt_open: %s", dt_error(&dt)))
		return ck.fails;
	DT_CK(&ck, dt_root(&dt) == 0 && !dt_error(&dt)[0], "root");

	nrsv = fdt_num_mem_rsv(fdt);
	DT_CK(&ck, (int)dt_rsv_count(&dt) == nrsv, "rsv count %u vs %d",
	      dt_rsv_count(&dt), nrsv);
	for (int i = 0; i < nrsv; i++)
		DT_CK(&ck,
		      !fdt_get_mem_rsv(fdt, i, &la, &ls) &&
			      !dt_rsv_entry(&dt, (uint32_t)i, &da, &ds) &&
			      la == da && ls == ds,
		      "rsv %d", i);
	DT_CK(&ck, dt_rsv_entry(&dt, (uint32_t)nrsv, &da, &ds) == -E_NOENT,
	      "rsv past the end");

	lo = fdt_next_node(fdt, -1, NULL);
	dn = dt_next_node(&dt, -1);
	while (DT_CK(&ck, same_off(lo, dn), "next node %d vs %d", lo, dn) &&
	       lo >= 0 && ck.fails < 8) {
		check_node(&ck, &dt, fdt, lo, thorough);
		lo = fdt_next_node(fdt, lo, NULL);
		dn = dt_next_node(&dt, dn);
	}
	if (thorough)
		check_offsets(&ck, &dt, fdt);
	return ck.fails;
}

unsigned long dt_walk_all(const struct dt *dt)
{
	unsigned long sum = 0;
	char path[128];
	const char *name, *str;
	const uint8_t *v;
	uint64_t a, s;
	uint32_t len, u32;
	int node, prop, i = 0, j;

	for (node = dt_next_node(dt, -1); node >= 0;
	     node = dt_next_node(dt, node), i++) {
		name = dt_node_name(dt, node);
		sum += strlen(name) + (unsigned long)node;
		sum += dt_first_child(dt, node) + dt_next_sibling(dt, node);
		sum += dt_is_enabled(dt, node) + dt_addr_cells(dt, node) +
		       dt_size_cells(dt, node);
		sum += dt_subnode(dt, node, name);
		for (prop = dt_first_prop(dt, node), j = 0; prop >= 0;
		     prop = dt_next_prop(dt, prop), j++) {
			v = dt_prop_by_offset(dt, prop, &name, &len);
			if (!v)
				continue;
			if (len)
				sum += v[0] + v[len - 1];
			if (j > 1)
				continue; /* lookups by name: a sample */
			sum += dt_prop(dt, node, name, &len) != NULL;
			str = dt_prop_str(dt, node, name);
			sum += str ? strlen(str) : 0;
			sum += dt_prop_u32(dt, node, name, &u32);
			sum += dt_prop_u64(dt, node, name, &a);
			sum += dt_prop_has_str(dt, node, name, "okay");
		}
		/* The O(nodes) lookups on a few nodes only. */
		if (i % 16)
			continue;
		sum += dt_parent(dt, node);
		sum += dt_node_path(dt, node, path, sizeof(path));
		sum += dt_path(dt, path);
		if (!dt_reg(dt, node, 0, &a, &s))
			sum += a + s;
		if (dt_prop_u32(dt, node, "phandle", &u32))
			sum += dt_node_by_phandle(dt, u32);
		str = dt_prop_str(dt, node, "compatible");
		if (str)
			sum += dt_find_compatible(dt, -1, str);
	}
	for (uint32_t r = 0; r < dt_rsv_count(dt); r++)
		if (!dt_rsv_entry(dt, r, &a, &s))
			sum += a + s;
	return sum;
}

/* ------------------------------------------------------------ cases -- */

KTEST(trees_loaded)
{
	static const char *const kinds[] = {"other", "virt", "sifive_u",
					    "visionfive2"};
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);

	if (!KT_EXPECT(n > 0))
		KT_INFO("no trees: %s", err);
	for (int i = 0; i < n; i++)
		KT_INFO("%s: %s, %zu bytes packed (%zu in the file)", t[i].name,
			kinds[t[i].kind], t[i].size, t[i].rawsize);
	KT_EXPECT(dt_tree_of(DT_KIND_VIRT));
	KT_EXPECT(dt_tree_of(DT_KIND_SIFIVE_U));
}

KTEST(walk_matches_libfdt)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);

	KT_ASSERT(n > 0);
	for (int i = 0; i < n; i++) {
		dt_check_walk(kt, t[i].name, t[i].fdt, t[i].size, true);
		/* As dumped: unpacked, with free space after the blocks. */
		dt_check_walk(kt, t[i].name, t[i].raw, t[i].rawsize, false);
	}
}

/* Byte loads only: any alignment of the blob reads the same. */
KTEST(unaligned_blob)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);

	KT_ASSERT(n > 0);
	for (int i = 0; i < n; i++) {
		struct dt ref, dt;
		unsigned long want;

		KT_ASSERT(!dt_open(&ref, t[i].fdt, t[i].size));
		want = dt_walk_all(&ref);
		for (size_t shift = 1; shift < 8; shift++) {
			uint8_t *buf = malloc(t[i].size + shift);

			memcpy(buf + shift, t[i].fdt, t[i].size);
			KT_EXPECT(!dt_open(&dt, buf + shift, t[i].size));
			KT_EXPECT(dt_walk_all(&dt) == want);
			free(buf);
		}
	}
}

/* A version 16 header has no size_dt_struct: the walk finds the end. */
KTEST(version16_header)
{
	const struct dt_tree *t = dt_tree_of(DT_KIND_VIRT);
	struct dt ref, dt;
	uint8_t *buf;

	KT_ASSERT(t);
	buf = malloc(t->size);
	memcpy(buf, t->fdt, t->size);
	fdt_set_version(buf, 16);
	fdt_set_size_dt_struct(buf, 0xdeadbeef); /* not a v16 field */
	KT_ASSERT(!dt_open(&ref, t->fdt, t->size));
	KT_EXPECT(!dt_open(&dt, buf, t->size));
	KT_EXPECT_EQ(dt.size_struct, ref.size_struct);
	KT_EXPECT(dt_walk_all(&dt) == dt_walk_all(&ref));
	free(buf);
}

KTEST_SUITE(dt_walk_suite, "dt_walk", KTEST_CASE(trees_loaded),
	    KTEST_CASE(walk_matches_libfdt), KTEST_CASE(unaligned_blob),
	    KTEST_CASE(version16_header));
