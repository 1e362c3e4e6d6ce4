/*
 * test_bootinfo.c - bootinfo_parse() against an independent extraction
 * written with libfdt, on every tree under test and on variants of the virt
 * tree edited with libfdt's read-write API; plus the facts DESIGN.md states
 * about each machine.
 */
#include "dt_host.h"

#include <kern/errno.h>

#include <ctype.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const uart_compat[] = {
	"ns16550a",
	"ns16550",
	"snps,dw-apb-uart",
	"sifive,uart0",
};
static const char *const plic_compat[] = {
	"riscv,plic0",
	"sifive,plic-1.0.0",
	"starfive,jh7110-plic",
};

/* ------------------------------------------------------------ oracle -- */

static const char *o_str(const void *fdt, int node, const char *name)
{
	int len;
	const char *s = fdt_getprop(fdt, node, name, &len);

	return s && len > 0 && s[len - 1] == '\0' ? s : NULL;
}

static bool o_u64(const void *fdt, int node, const char *name, uint64_t *v)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p || (len != 4 && len != 8))
		return false;
	*v = len == 4 ? fdt32_ld(p)
		      : (uint64_t)fdt32_ld(p) << 32 | fdt32_ld(p + 1);
	return true;
}

static bool o_enabled(const void *fdt, int node)
{
	const char *s = o_str(fdt, node, "status");
	int len;

	if (!fdt_getprop(fdt, node, "status", &len))
		return true;
	return s && (!strcmp(s, "okay") || !strcmp(s, "ok"));
}

static int o_regs(const void *fdt, int node, struct bi_range *r, int max)
{
	int parent = fdt_parent_offset(fdt, node), len, n = 0;
	int ac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, parent);
	const fdt32_t *p = fdt_getprop(fdt, node, "reg", &len);

	if (!p || ac < 1 || sc < 0)
		return 0;
	for (int i = 0; (i + 1) * (ac + sc) * 4 <= len && n < max; i++) {
		const fdt32_t *e = p + i * (ac + sc);
		uint64_t a = 0, s = 0;

		for (int c = 0; c < ac; c++)
			a = a << 32 | fdt32_ld(e + c);
		for (int c = 0; c < sc; c++)
			s = s << 32 | fdt32_ld(e + ac + c);
		r[n].base = a;
		r[n].size = s;
		n++;
	}
	return n;
}

static void o_add_regs(const void *fdt, int node, struct bi_range *r, int *n)
{
	struct bi_range tmp[64];
	int k = o_regs(fdt, node, tmp, 64);

	for (int i = 0; i < k; i++)
		if (tmp[i].size)
			r[(*n)++] = tmp[i];
}

/* Extensions after the base, split at '_', compared ignoring case. */
static bool o_sstc(const char *isa)
{
	char buf[512], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", isa);
	tok = strtok_r(buf, "_", &save);
	while ((tok = strtok_r(NULL, "_", &save)))
		if (!strcasecmp(tok, "sstc"))
			return true;
	return false;
}

static const char *o_match(const void *fdt, int node, const char *const *table,
			   int n)
{
	const char *c;

	for (int i = 0;
	     (c = fdt_stringlist_get(fdt, node, "compatible", i, NULL)); i++)
		for (int j = 0; j < n; j++)
			if (!strcmp(c, table[j]))
				return table[j];
	return NULL;
}

static int o_find(const void *fdt, const char *const *table, int n,
		  const char **compat)
{
	int node;

	for (node = 0; node >= 0; node = fdt_next_node(fdt, node, NULL))
		if (o_enabled(fdt, node) &&
		    (*compat = o_match(fdt, node, table, n)))
			return node;
	return -1;
}

static uint64_t o_hartid(const void *fdt, int cpu)
{
	struct bi_range r;

	return o_regs(fdt, cpu, &r, 1) ? r.base : ~0ULL;
}

static bool o_is_cpu(const void *fdt, int node)
{
	const char *t = o_str(fdt, node, "device_type");

	return t && !strcmp(t, "cpu");
}

/* phandle of the first interrupt-controller child, if one-celled. */
static uint32_t o_intc(const void *fdt, int cpu)
{
	const fdt32_t *cells, *ph;
	int node, len, plen;

	fdt_for_each_subnode(node, fdt, cpu)
	{
		if (!fdt_getprop(fdt, node, "interrupt-controller", NULL))
			continue;
		cells = fdt_getprop(fdt, node, "#interrupt-cells", &len);
		ph = fdt_getprop(fdt, node, "phandle", &plen);
		if (!cells || len != 4 || fdt32_ld(cells) != 1 || !ph ||
		    plen != 4)
			return 0;
		return fdt32_ld(ph);
	}
	return 0;
}

/* What bootinfo_parse should find in @fdt (a tree it accepts). */
static void oracle(const void *fdt, struct boot_info *w)
{
	const char *s, *compat = NULL, *colon;
	int node, cpus, chosen, n, len;
	uint64_t a, b;

	memset(w, 0, sizeof(*w));
	w->bootargs = "";
	s = o_str(fdt, 0, "model");
	snprintf(w->model, sizeof(w->model), "%s", s ? s : "");

	fdt_for_each_subnode(node, fdt, 0)
	{
		const char *name = fdt_get_name(fdt, node, NULL);
		const char *type = o_str(fdt, node, "device_type");

		if (((type && !strcmp(type, "memory")) ||
		     !strcmp(name, "memory") || !strncmp(name, "memory@", 7)) &&
		    o_enabled(fdt, node))
			o_add_regs(fdt, node, w->mem, &w->nmem);
	}

	n = fdt_num_mem_rsv(fdt);
	for (int i = 0; i < n; i++)
		if (!fdt_get_mem_rsv(fdt, i, &a, &b) && b) {
			w->rsv[w->nrsv].base = a;
			w->rsv[w->nrsv++].size = b;
		}
	node = fdt_path_offset(fdt, "/reserved-memory");
	if (node >= 0) {
		int child;

		fdt_for_each_subnode(child, fdt, node)
			o_add_regs(fdt, child, w->rsv, &w->nrsv);
	}

	cpus = fdt_path_offset(fdt, "/cpus");
	if (!o_u64(fdt, cpus, "timebase-frequency", &w->timebase)) {
		fdt_for_each_subnode(node, fdt,
				     cpus) if (o_is_cpu(fdt, node) &&
					       o_u64(fdt, node,
						     "timebase-frequency",
						     &w->timebase)) break;
	}
	fdt_for_each_subnode(node, fdt, cpus)
	{
		struct bi_hart *h = &w->harts[w->nharts];

		if (!o_is_cpu(fdt, node))
			continue;
		if (w->nharts == BI_MAX_HARTS) {
			w->nharts_dropped++;
			continue;
		}
		w->nharts++;
		h->hartid = o_hartid(fdt, node);
		h->intc_phandle = o_intc(fdt, node);
		h->enabled = o_enabled(fdt, node);
		h->plic_sctx = -1;
		s = o_str(fdt, node, "mmu-type");
		if (s) {
			snprintf(h->mmu_type, sizeof(h->mmu_type), "%s",
				 strncmp(s, "riscv,", 6) ? s : s + 6);
			h->sv39 = !strcmp(s, "riscv,sv39") ||
				  !strcmp(s, "riscv,sv48") ||
				  !strcmp(s, "riscv,sv57");
		}
		s = o_str(fdt, node, "riscv,isa");
		if (s) {
			snprintf(h->isa, sizeof(h->isa), "%s", s);
			h->sstc = o_sstc(s);
		}
		if (fdt_stringlist_search(fdt, node, "riscv,isa-extensions",
					  "sstc") >= 0)
			h->sstc = true;
	}

	chosen = fdt_path_offset(fdt, "/chosen");
	s = o_str(fdt, chosen, "bootargs");
	if (s)
		w->bootargs = s;
	s = o_str(fdt, chosen, "stdout-path");
	if (!s)
		s = o_str(fdt, chosen, "linux,stdout-path");
	if (s) {
		const char *path = s;

		colon = strchr(s, ':');
		len = colon ? (int)(colon - s) : (int)strlen(s);
		if (colon)
			snprintf(w->stdout_opts, sizeof(w->stdout_opts), "%s",
				 colon + 1);
		if (len && s[0] != '/') {
			path = len < 32 ? fdt_get_alias_namelen(fdt, s, len)
					: NULL;
			if (path && path[0] == '/')
				len = (int)strcspn(path, ":");
			else
				path = NULL;
		}
		if (path && len && len < (int)sizeof(w->stdout_path))
			snprintf(w->stdout_path, sizeof(w->stdout_path), "%.*s",
				 len, path);
	}
	if (o_u64(fdt, chosen, "linux,initrd-start", &a) &&
	    o_u64(fdt, chosen, "linux,initrd-end", &b)) {
		w->has_initrd = true;
		w->initrd_start = a;
		w->initrd_end = b;
	}

	node = w->stdout_path[0] ? fdt_path_offset(fdt, w->stdout_path) : -1;
	if (node >= 0 && o_enabled(fdt, node))
		compat = o_match(fdt, node, uart_compat, 4);
	if (!compat)
		node = o_find(fdt, uart_compat, 4, &compat);
	if (node >= 0) {
		struct bi_uart *u = &w->uart;
		struct bi_range r = {0, 0};
		const fdt32_t *p;

		u->found = true;
		snprintf(u->compatible, sizeof(u->compatible), "%s", compat);
		fdt_get_path(fdt, node, u->path, sizeof(u->path));
		o_regs(fdt, node, &r, 1);
		u->base = r.base;
		u->size = r.size;
		u->reg_io_width = 1;
		if ((p = fdt_getprop(fdt, node, "reg-shift", &len)) && len == 4)
			u->reg_shift = fdt32_ld(p);
		if ((p = fdt_getprop(fdt, node, "reg-io-width", &len)) &&
		    len == 4)
			u->reg_io_width = fdt32_ld(p);
		if (o_u64(fdt, node, "clock-frequency", &a) && a <= UINT32_MAX)
			u->clock_freq = (uint32_t)a;
		if ((p = fdt_getprop(fdt, node, "current-speed", &len)) &&
		    len == 4)
			u->baud = fdt32_ld(p);
		else if (!fdt_get_path(fdt, node, u->path, sizeof(u->path)) &&
			 !strcmp(u->path, w->stdout_path) &&
			 isdigit((unsigned char)w->stdout_opts[0]))
			u->baud = (uint32_t)strtoul(w->stdout_opts, NULL, 10);
		if ((p = fdt_getprop(fdt, node, "interrupts", &len)) &&
		    len >= 4)
			u->irq = fdt32_ld(p);
	}

	node = o_find(fdt, plic_compat, 3, &compat);
	if (node >= 0) {
		struct bi_range r = {0, 0};
		const fdt32_t *ie;
		uint32_t ph, irq;
		int ctx = 0;

		w->plic.found = true;
		o_regs(fdt, node, &r, 1);
		w->plic.base = r.base;
		w->plic.size = r.size;
		ie = fdt_getprop(fdt, node, "riscv,ndev", &len);
		if (ie && len == 4)
			w->plic.ndev = fdt32_ld(ie);
		ie = fdt_getprop(fdt, node, "interrupts-extended", &len);
		for (int i = 0; ie && i + 1 < len / 4; ctx++) {
			const fdt32_t *nc;
			int intc, cpu, idx, l;

			ph = fdt32_ld(ie + i);
			irq = fdt32_ld(ie + i + 1);
			intc = fdt_node_offset_by_phandle(fdt, ph);
			nc = fdt_getprop(fdt, intc, "#interrupt-cells", &l);
			i += 1 + (nc && l == 4 ? (int)fdt32_ld(nc) : 1);
			cpu = fdt_parent_offset(fdt, intc);
			if (irq != 9 || cpu < 0 || !o_is_cpu(fdt, cpu))
				continue;
			idx = bootinfo_hart_index(w, o_hartid(fdt, cpu));
			if (idx >= 0 && w->harts[idx].plic_sctx < 0)
				w->harts[idx].plic_sctx = ctx;
		}
	}
}

int dt_check_bootinfo(struct ktest_ctx *kt, const char *what, const void *fdt,
		      const struct boot_info *bi)
{
	struct dt_ck ck = {kt, what, 0};
	struct boot_info *w = malloc(sizeof(*w));
	const struct bi_uart *u = &bi->uart, *wu = &w->uart;

	oracle(fdt, w);
	DT_CK(&ck, !strcmp(bi->model, w->model), "model %s", bi->model);
	DT_CK(&ck, bi->timebase == w->timebase, "timebase %llu vs %llu",
	      (unsigned long long)bi->timebase,
	      (unsigned long long)w->timebase);
	DT_CK(&ck, bi->nmem == w->nmem, "nmem %d vs %d", bi->nmem, w->nmem);
	for (int i = 0; i < bi->nmem && i < w->nmem; i++)
		DT_CK(&ck,
		      bi->mem[i].base == w->mem[i].base &&
			      bi->mem[i].size == w->mem[i].size,
		      "mem[%d]", i);
	DT_CK(&ck, bi->nrsv == w->nrsv, "nrsv %d vs %d", bi->nrsv, w->nrsv);
	for (int i = 0; i < bi->nrsv && i < w->nrsv; i++)
		DT_CK(&ck,
		      bi->rsv[i].base == w->rsv[i].base &&
			      bi->rsv[i].size == w->rsv[i].size,
		      "rsv[%d]", i);
	DT_CK(&ck,
	      bi->nharts == w->nharts &&
		      bi->nharts_dropped == w->nharts_dropped,
	      "nharts %d+%d vs %d+%d", bi->nharts, bi->nharts_dropped,
	      w->nharts, w->nharts_dropped);
	for (int i = 0; i < bi->nharts && i < w->nharts; i++) {
		const struct bi_hart *h = &bi->harts[i], *wh = &w->harts[i];

		DT_CK(&ck,
		      h->hartid == wh->hartid && h->enabled == wh->enabled &&
			      h->sv39 == wh->sv39 && h->sstc == wh->sstc &&
			      !strcmp(h->mmu_type, wh->mmu_type) &&
			      !strcmp(h->isa, wh->isa) &&
			      h->plic_sctx == wh->plic_sctx &&
			      h->intc_phandle == wh->intc_phandle,
		      "hart[%d] id %llu en %d sv39 %d sstc %d mmu %s ctx %d vs "
		      "ctx %d",
		      i, (unsigned long long)h->hartid, h->enabled, h->sv39,
		      h->sstc, h->mmu_type, h->plic_sctx, wh->plic_sctx);
	}
	DT_CK(&ck, !strcmp(bi->bootargs, w->bootargs), "bootargs \"%s\"",
	      bi->bootargs);
	DT_CK(&ck,
	      !strcmp(bi->stdout_path, w->stdout_path) &&
		      !strcmp(bi->stdout_opts, w->stdout_opts),
	      "stdout %s : %s", bi->stdout_path, bi->stdout_opts);
	DT_CK(&ck,
	      bi->has_initrd == w->has_initrd &&
		      bi->initrd_start == w->initrd_start &&
		      bi->initrd_end == w->initrd_end,
	      "initrd");
	DT_CK(&ck,
	      u->found == wu->found && !strcmp(u->compatible, wu->compatible) &&
		      !strcmp(u->path, wu->path) && u->base == wu->base &&
		      u->size == wu->size,
	      "uart %s %s at 0x%llx vs %s %s", u->compatible, u->path,
	      (unsigned long long)u->base, wu->compatible, wu->path);
	DT_CK(&ck,
	      u->reg_shift == wu->reg_shift &&
		      u->reg_io_width == wu->reg_io_width &&
		      u->clock_freq == wu->clock_freq && u->baud == wu->baud &&
		      u->irq == wu->irq,
	      "uart shift %u width %u clock %u baud %u "
	      "irq %u",
	      u->reg_shift, u->reg_io_width, u->clock_freq, u->baud, u->irq);
	DT_CK(&ck,
	      bi->plic.found == w->plic.found &&
		      bi->plic.base == w->plic.base &&
		      bi->plic.size == w->plic.size &&
		      bi->plic.ndev == w->plic.ndev,
	      "plic at 0x%llx ndev %u", (unsigned long long)bi->plic.base,
	      bi->plic.ndev);
	free(w);
	return ck.fails;
}

/* ----------------------------------------------------------- helpers -- */

/* Open @fdt and parse it; on failure the message is in @err. */
static int parse(const void *fdt, struct boot_info *bi, char *err,
		 size_t errlen)
{
	struct dt dt;
	int ret = dt_open(&dt, fdt, fdt_totalsize(fdt));

	if (ret) {
		snprintf(err, errlen, "%s", dt_error(&dt));
		return ret;
	}
	return bootinfo_parse(bi, &dt, err, errlen);
}

/* A copy of @t with room to edit it with libfdt's read-write API. */
static void *editable(const struct dt_tree *t)
{
	size_t size = t->size + 16384;
	void *buf = malloc(size);

	if (fdt_open_into(t->fdt, buf, (int)size)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int phandle_of(const void *fdt, const char *path)
{
	return (int)fdt_get_phandle(fdt, fdt_path_offset(fdt, path));
}

static int count_plics(const void *fdt)
{
	int n = 0;

	for (int node = fdt_node_offset_by_compatible(fdt, -1, "riscv,plic0");
	     node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "riscv,plic0"))
		n++;
	return n;
}

/* A virt tree with 4 to 8 harts and one PLIC, to edit. */
static const struct dt_tree *virt_smp(void)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);

	for (int i = 0; i < n; i++)
		if (t[i].kind == DT_KIND_VIRT &&
		    fdt_path_offset(t[i].fdt, "/cpus/cpu@3") >= 0 &&
		    fdt_path_offset(t[i].fdt, "/cpus/cpu@8") < 0 &&
		    count_plics(t[i].fdt) == 1)
			return &t[i];
	return NULL;
}

static void setprop_cells(void *fdt, int node, const char *name, int n,
			  const uint32_t *cells)
{
	fdt32_t v[16];

	for (int i = 0; i < n; i++)
		v[i] = cpu_to_fdt32(cells[i]);
	fdt_setprop(fdt, node, name, v, n * 4);
}

/* ------------------------------------------------------------- cases -- */

KTEST(bootinfo_matches_libfdt)
{
	const struct dt_tree *t;
	const char *err;
	int n = dt_trees(&t, &err);
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];

	KT_ASSERT(n > 0);
	for (int i = 0; i < n; i++) {
		if (!KT_EXPECT_EQ(parse(t[i].fdt, bi, msg, sizeof(msg)), 0)) {
			KT_INFO("%s: %s", t[i].name, msg);
			continue;
		}
		KT_EXPECT(!msg[0]);
		dt_check_bootinfo(kt, t[i].name, t[i].fdt, bi);
		KT_INFO("%s: %d harts (+%d), %d memory, %d reserved, uart %s "
			"at 0x%llx, timebase %llu",
			t[i].name, bi->nharts, bi->nharts_dropped, bi->nmem,
			bi->nrsv, bi->uart.compatible,
			(unsigned long long)bi->uart.base,
			(unsigned long long)bi->timebase);
	}
	free(bi);
}

KTEST(qemu_virt_facts)
{
	const struct dt_tree *t;
	const char *err;
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];
	int n = dt_trees(&t, &err), seen = 0, plics;

	for (int i = 0; i < n; i++) {
		if (t[i].kind != DT_KIND_VIRT)
			continue;
		seen++;
		KT_ASSERT(!parse(t[i].fdt, bi, msg, sizeof(msg)));
		KT_EXPECT(bi->uart.found);
		KT_EXPECT(!strcmp(bi->uart.compatible, "ns16550a"));
		KT_EXPECT_EQ(bi->uart.base, 0x10000000);
		KT_EXPECT_EQ(bi->uart.reg_shift, 0);
		KT_EXPECT_EQ(bi->uart.reg_io_width, 1);
		KT_EXPECT_EQ(bi->uart.clock_freq, 3686400);
		KT_EXPECT_EQ(bi->uart.irq, 10);
		KT_EXPECT(!strcmp(bi->stdout_path, "/soc/serial@10000000"));
		KT_EXPECT(!strcmp(bi->uart.path, "/soc/serial@10000000"));
		KT_EXPECT_EQ(bi->timebase, 10000000);
		KT_EXPECT_EQ(bi->mem[0].base, 0x80000000);
		KT_EXPECT(bi->plic.found);
		KT_EXPECT_EQ(bi->plic.base, 0x0c000000);
		KT_EXPECT(!strcmp(bi->bootargs, ""));
		/* With several sockets (NUMA) QEMU makes one PLIC per
		 * socket; bi->plic is the first, serving socket 0. */
		plics = count_plics(t[i].fdt);
		if (plics > 1)
			KT_INFO("%s: %d PLICs; harts %d.. have no context in "
				"the first",
				t[i].name, plics, bi->nharts / plics);
		for (int h = 0; h < bi->nharts; h++) {
			KT_EXPECT_EQ(bi->harts[h].hartid, h);
			KT_EXPECT_EQ(bi->harts[h].plic_sctx,
				     h < bi->nharts / plics ? 2 * h + 1 : -1);
			KT_EXPECT(bi->harts[h].sv39);
			KT_EXPECT(bi->harts[h].sstc);
			KT_EXPECT(bi->harts[h].enabled);
		}
		if (bi->nharts + bi->nharts_dropped > BI_MAX_HARTS) {
			KT_EXPECT_EQ(bi->nharts, BI_MAX_HARTS);
			KT_INFO("%s: %d harts dropped past BI_MAX_HARTS",
				t[i].name, bi->nharts_dropped);
		}
		if (bi->nmem > 1)
			KT_INFO("%s: %d memory banks, the last at 0x%llx",
				t[i].name, bi->nmem,
				(unsigned long long)bi->mem[bi->nmem - 1].base);
	}
	KT_EXPECT(seen > 0);
	free(bi);
}

KTEST(qemu_sifive_u_facts)
{
	const struct dt_tree *t = dt_tree_of(DT_KIND_SIFIVE_U);
	struct boot_info *bi;
	char msg[128];

	if (!t)
		KT_SKIP("no sifive_u tree");
	bi = malloc(sizeof(*bi));
	KT_ASSERT(!parse(t->fdt, bi, msg, sizeof(msg)));
	KT_EXPECT(!strcmp(bi->uart.compatible, "sifive,uart0"));
	KT_EXPECT_EQ(bi->uart.base, 0x10010000);
	KT_EXPECT_EQ(bi->timebase, 1000000);
	KT_EXPECT_EQ(bi->nharts, 5);
	KT_EXPECT(!bi->harts[0].sv39);
	KT_EXPECT(!strcmp(bi->harts[0].mmu_type, ""));
	KT_EXPECT_EQ(bi->harts[0].plic_sctx, -1);
	for (int h = 1; h < bi->nharts; h++) {
		KT_EXPECT(bi->harts[h].sv39);
		KT_EXPECT_EQ(bi->harts[h].plic_sctx, 2 * h);
	}
	for (int h = 0; h < bi->nharts; h++)
		KT_EXPECT(!bi->harts[h].sstc);
	free(bi);
}

KTEST(visionfive2_facts)
{
	const struct dt_tree *t = dt_tree_of(DT_KIND_VF2);
	struct boot_info *bi;
	char msg[128];

	if (!t)
		KT_SKIP("no VisionFive 2 tree given (it is built from "
			"linux-source-6.12)");
	bi = malloc(sizeof(*bi));
	KT_ASSERT(!parse(t->fdt, bi, msg, sizeof(msg)));
	KT_EXPECT(!strcmp(bi->uart.compatible, "snps,dw-apb-uart"));
	KT_EXPECT_EQ(bi->uart.base, 0x10000000);
	KT_EXPECT_EQ(bi->uart.reg_shift, 2);
	KT_EXPECT_EQ(bi->uart.reg_io_width, 4);
	KT_EXPECT_EQ(bi->uart.baud, 115200);
	KT_EXPECT(!strcmp(bi->stdout_path, "/soc/serial@10000000"));
	KT_EXPECT(!strcmp(bi->stdout_opts, "115200n8"));
	KT_EXPECT_EQ(bi->mem[0].base, 0x40000000);
	KT_EXPECT_EQ(bi->timebase, 4000000);
	KT_EXPECT_EQ(bi->plic.base, 0x0c000000);
	KT_EXPECT_EQ(bi->nharts, 5);
	KT_EXPECT(!bi->harts[0].sv39);
	KT_EXPECT_EQ(bi->harts[0].plic_sctx, -1);
	for (int h = 1; h < bi->nharts; h++) {
		KT_EXPECT(bi->harts[h].sv39);
		KT_EXPECT(!strcmp(bi->harts[h].mmu_type, "sv39"));
		KT_EXPECT_EQ(bi->harts[h].plic_sctx, 2 * h);
	}
	for (int h = 0; h < bi->nharts; h++)
		KT_EXPECT(!bi->harts[h].sstc);
	KT_INFO("uart clock-frequency %u (0: the tree gives clocks only); "
		"hart 0 %s",
		bi->uart.clock_freq,
		bi->harts[0].enabled ? "enabled" : "disabled");
	free(bi);
}

/* /reserved-memory, the reservation block, /aliases and /chosen. */
KTEST(reserved_memory_and_chosen)
{
	const struct dt_tree *t = virt_smp();
	struct boot_info *bi = malloc(sizeof(*bi));
	static const uint32_t r0[] = {0, 0x80000000, 0, 0x40000};
	static const uint32_t r1[] = {0, 0x80040000, 0, 0x20000};
	static const uint32_t r2[] = {0, 0xc0000000, 0, 0x1000};
	static const uint32_t r3[] = {0, 0xd0000000, 0, 0x1000,
				      0, 0xd0100000, 0, 0x2000};
	static const uint32_t pool[] = {0, 0x100000};
	static const uint32_t end[] = {0, 0x88200000};
	char msg[128];
	void *fdt;
	int rm, node, chosen, aliases;

	fdt = t ? editable(t) : NULL;
	KT_ASSERT(fdt);
	KT_ASSERT(!fdt_add_mem_rsv(fdt, 0x80000000, 0x80000));
	KT_ASSERT(!fdt_add_mem_rsv(fdt, 0x90000000, 0)); /* empty */
	rm = fdt_add_subnode(fdt, 0, "reserved-memory");
	fdt_setprop_u32(fdt, rm, "#address-cells", 2);
	fdt_setprop_u32(fdt, rm, "#size-cells", 2);
	fdt_setprop_empty(fdt, rm, "ranges");
	/* fdt_add_subnode inserts first: add in reverse order. */
	node = fdt_add_subnode(fdt, rm, "multi@d0000000");
	setprop_cells(fdt, node, "reg", 8, r3);
	node = fdt_add_subnode(fdt, rm, "off@c0000000");
	setprop_cells(fdt, node, "reg", 4, r2);
	fdt_setprop_string(fdt, node, "status", "disabled");
	node = fdt_add_subnode(fdt, rm, "dma-pool");
	setprop_cells(fdt, node, "size", 2, pool);
	node = fdt_add_subnode(fdt, rm, "mmode_resv1@80040000");
	setprop_cells(fdt, node, "reg", 4, r1);
	fdt_setprop_empty(fdt, node, "no-map");
	node = fdt_add_subnode(fdt, rm, "mmode_resv0@80000000");
	KT_ASSERT(node >= 0);
	setprop_cells(fdt, node, "reg", 4, r0);

	chosen = fdt_path_offset(fdt, "/chosen");
	fdt_setprop_string(fdt, chosen, "bootargs", "console=ttyS0 ktest");
	fdt_setprop_string(fdt, chosen, "stdout-path", "serial0:38400n8");
	fdt_setprop_u32(fdt, chosen, "linux,initrd-start", 0x88000000);
	setprop_cells(fdt, chosen, "linux,initrd-end", 2, end);
	aliases = fdt_add_subnode(fdt, 0, "aliases");
	KT_ASSERT(!fdt_setprop_string(fdt, aliases, "serial0",
				      "/soc/serial@10000000"));

	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "virt+reserved", fdt, bi);
	KT_EXPECT_EQ(bi->nrsv, 6);
	KT_EXPECT(bi->rsv[0].base == 0x80000000 && bi->rsv[0].size == 0x80000);
	KT_EXPECT(bi->rsv[1].base == 0x80000000 && bi->rsv[1].size == 0x40000);
	KT_EXPECT(bi->rsv[2].base == 0x80040000 && bi->rsv[2].size == 0x20000);
	KT_EXPECT(bi->rsv[3].base == 0xc0000000);
	KT_EXPECT(bi->rsv[5].base == 0xd0100000 && bi->rsv[5].size == 0x2000);
	KT_EXPECT(!strcmp(bi->bootargs, "console=ttyS0 ktest"));
	KT_EXPECT(!strcmp(bi->stdout_path, "/soc/serial@10000000"));
	KT_EXPECT(!strcmp(bi->stdout_opts, "38400n8"));
	KT_EXPECT_EQ(bi->uart.baud, 38400);
	KT_EXPECT(bi->has_initrd);
	KT_EXPECT_EQ(bi->initrd_start, 0x88000000);
	KT_EXPECT_EQ(bi->initrd_end, 0x88200000);

	/* One-cell addresses and sizes under /reserved-memory. */
	rm = fdt_path_offset(fdt, "/reserved-memory");
	fdt_setprop_u32(fdt, rm, "#address-cells", 1);
	fdt_setprop_u32(fdt, rm, "#size-cells", 1);
	fdt_for_each_subnode(node, fdt, rm)
	{
		uint32_t c[4];
		int len;
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

		for (int i = 0; reg && i < len / 16; i++) {
			c[2 * i] = fdt32_ld(reg + 4 * i + 1);
			c[2 * i + 1] = fdt32_ld(reg + 4 * i + 3);
		}
		if (reg)
			setprop_cells(fdt, node, "reg", len / 8, c);
	}
	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "virt+reserved 1/1 cells", fdt, bi);
	KT_EXPECT_EQ(bi->nrsv, 6);
	KT_EXPECT(bi->rsv[4].base == 0xd0000000 && bi->rsv[4].size == 0x1000);
	free(fdt);
	free(bi);
}

/* The ways cpu nodes describe Sstc and the MMU. */
KTEST(isa_and_mmu_variants)
{
	const struct dt_tree *t = virt_smp();
	struct boot_info *bi = malloc(sizeof(*bi));
	static const char exts[] = "i\0m\0a\0sstc\0zicsr";
	char msg[128];
	void *fdt;
	int cpu;

	fdt = t ? editable(t) : NULL;
	KT_ASSERT(fdt);
	KT_ASSERT(fdt_path_offset(fdt, "/cpus/cpu@3") >= 0);
	cpu = fdt_path_offset(fdt, "/cpus/cpu@0");
	fdt_setprop_string(fdt, cpu, "riscv,isa", "RV64IMAFDC_ZICSR_SSTC");
	cpu = fdt_path_offset(fdt, "/cpus/cpu@1");
	fdt_setprop_string(fdt, cpu, "riscv,isa", "rv64imac_sstcx_zba");
	fdt_setprop_string(fdt, cpu, "status", "disabled");
	cpu = fdt_path_offset(fdt, "/cpus/cpu@2");
	fdt_setprop_string(fdt, cpu, "riscv,isa", "rv64imac");
	fdt_setprop(fdt, cpu, "riscv,isa-extensions", exts, sizeof(exts));
	cpu = fdt_path_offset(fdt, "/cpus/cpu@3");
	fdt_setprop_string(fdt, cpu, "mmu-type", "riscv,none");
	fdt_setprop_string(fdt, cpu, "riscv,isa",
			   "rv64imac_zicsr_sstc_"
			   "zifencei_zihintpause_zba_zbb_zbc_zbs_zicbom_"
			   "zicboz_svinval_svnapot_svpbmt_and_more");

	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "virt+isa", fdt, bi);
	KT_EXPECT(bi->harts[0].sstc);
	KT_EXPECT(!bi->harts[1].sstc);
	KT_EXPECT(!bi->harts[1].enabled);
	KT_EXPECT(bi->harts[2].sstc);
	KT_EXPECT(bi->harts[3].sstc);
	KT_EXPECT(!bi->harts[3].sv39);
	KT_EXPECT(!strcmp(bi->harts[3].mmu_type, "none"));
	KT_EXPECT_EQ(strlen(bi->harts[3].isa), sizeof(bi->harts[3].isa) - 1);
	free(fdt);
	free(bi);
}

/* Aliases that do not resolve, and a PLIC whose contexts point at itself:
 * no loop, a fallback UART, contexts left at -1. */
KTEST(aliases_and_phandle_loops)
{
	const struct dt_tree *t = virt_smp();
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];
	void *fdt;
	uint32_t ie[6];
	int aliases, chosen, plic;

	fdt = t ? editable(t) : NULL;
	KT_ASSERT(fdt);
	aliases = fdt_add_subnode(fdt, 0, "aliases");
	fdt_setprop_string(fdt, aliases, "serial0", "serial0");
	fdt_setprop_string(fdt, aliases, "serial1", "serial1:9600");
	chosen = fdt_path_offset(fdt, "/chosen");
	fdt_setprop_string(fdt, chosen, "stdout-path", "serial0:9600");
	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "self alias", fdt, bi);
	KT_EXPECT(!strcmp(bi->stdout_path, ""));
	KT_EXPECT(bi->uart.found && bi->uart.base == 0x10000000);
	KT_EXPECT_EQ(bi->uart.baud, 0);

	fdt_setprop_string(fdt, chosen, "stdout-path", "/no/such/node:9600");
	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "no such stdout", fdt, bi);
	KT_EXPECT(!strcmp(bi->stdout_path, "/no/such/node"));
	KT_EXPECT(bi->uart.found && bi->uart.base == 0x10000000);

	/* Context 0 points at the PLIC itself, context 1 at hart 0. */
	plic = fdt_path_offset(fdt, "/soc/plic@c000000");
	KT_ASSERT(plic >= 0);
	ie[0] = (uint32_t)phandle_of(fdt, "/soc/plic@c000000");
	ie[1] = 9;
	ie[2] = (uint32_t)phandle_of(fdt, "/cpus/cpu@0/interrupt-controller");
	ie[3] = 9;
	ie[4] = (uint32_t)phandle_of(fdt, "/cpus/cpu@0"); /* no cells */
	ie[5] = 9;
	setprop_cells(fdt, plic, "interrupts-extended", 4, ie);
	KT_ASSERT_EQ(parse(fdt, bi, msg, sizeof(msg)), 0);
	dt_check_bootinfo(kt, "plic self", fdt, bi);
	KT_EXPECT_EQ(bi->harts[0].plic_sctx, 1);
	KT_EXPECT_EQ(bi->harts[1].plic_sctx, -1);

	/* A cpu node has no #interrupt-cells: rejected with a message. */
	setprop_cells(fdt, plic, "interrupts-extended", 6, ie);
	KT_EXPECT_EQ(parse(fdt, bi, msg, sizeof(msg)), -E_BADFMT);
	KT_INFO("%s", msg);
	KT_EXPECT(strstr(msg, "#interrupt-cells"));
	ie[4] = 0x7777;
	setprop_cells(fdt, plic, "interrupts-extended", 6, ie);
	KT_EXPECT_EQ(parse(fdt, bi, msg, sizeof(msg)), -E_BADFMT);
	KT_INFO("%s", msg);
	KT_EXPECT(strstr(msg, "phandle 0x7777"));
	free(fdt);
	free(bi);
}

/* Each broken tree is refused with a message naming what and where. */
KTEST(bootinfo_errors)
{
	const struct dt_tree *t = virt_smp();
	struct boot_info *bi = malloc(sizeof(*bi));
	static const uint32_t bad_reg[] = {0, 0x80000000, 0};
	static const uint32_t one_bank[] = {0, 0x80000000, 0, 0x1000};
	static const struct {
		const char *what, *word;
	} cases[] = {
		{"no /cpus", "no /cpus"},
		{"no memory", "no memory"},
		{"memory reg of 3 cells", "malformed reg (entry 0) "
					  "(node /memory@80000000)"},
		{"17 memory banks", "more than 16 memory"},
		{"cpu without reg", "no reg (hart id) (node /cpus/cpu@0)"},
		{"two cpus with hart id 0", "duplicate hart id 0x0"},
		{"no timebase", "timebase-frequency"},
		{"initrd-end of 3 bytes", "linux,initrd"},
		{"uart reg of 3 cells", "malformed reg on the UART"},
	};
	char msg[160];
	void *fdt;
	int node, ret;

	KT_ASSERT(t);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fdt = editable(t);
		KT_ASSERT(fdt);
		switch (i) {
		case 0: fdt_del_node(fdt, fdt_path_offset(fdt, "/cpus")); break;
		case 1:
			fdt_del_node(fdt, fdt_path_offset(fdt, "/memory"));
			break;
		case 2:
			setprop_cells(fdt, fdt_path_offset(fdt, "/memory"),
				      "reg", 3, bad_reg);
			break;
		case 3:
			for (int b = 1; b <= 16; b++) {
				char name[32];

				snprintf(name, sizeof(name), "memory@%x", b);
				node = fdt_add_subnode(fdt, 0, name);
				fdt_setprop_string(fdt, node, "device_type",
						   "memory");
				setprop_cells(fdt, node, "reg", 4, one_bank);
			}
			break;
		case 4:
			fdt_delprop(fdt, fdt_path_offset(fdt, "/cpus/cpu@0"),
				    "reg");
			break;
		case 5:
			fdt_setprop_u32(fdt,
					fdt_path_offset(fdt, "/cpus/cpu@1"),
					"reg", 0);
			break;
		case 6:
			fdt_delprop(fdt, fdt_path_offset(fdt, "/cpus"),
				    "timebase-frequency");
			break;
		case 7:
			node = fdt_path_offset(fdt, "/chosen");
			fdt_setprop_u32(fdt, node, "linux,initrd-start", 1);
			fdt_setprop(fdt, node, "linux,initrd-end", "abc", 3);
			break;
		case 8:
			setprop_cells(
				fdt,
				fdt_path_offset(fdt, "/soc/serial@10000000"),
				"reg", 3, bad_reg);
			break;
		}
		ret = parse(fdt, bi, msg, sizeof(msg));
		KT_EXPECT_EQ(ret, -E_BADFMT);
		KT_INFO("%s: %s", cases[i].what, msg);
		if (!KT_EXPECT(strstr(msg, cases[i].word)))
			KT_INFO("expected \"%s\" in the message",
				cases[i].word);
		free(fdt);
	}
	free(bi);
}

/* Property-level problems are not errors: the accessor says "absent". */
KTEST(bootargs_not_terminated)
{
	const struct dt_tree *t = virt_smp();
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];
	struct dt dt;
	void *fdt;
	int chosen;

	fdt = t ? editable(t) : NULL;
	KT_ASSERT(fdt);
	chosen = fdt_path_offset(fdt, "/chosen");
	fdt_setprop(fdt, chosen, "bootargs", "console=ttyS0", 13);
	fdt_setprop(fdt, chosen, "stdout-path", "/soc/serial@10000000", 20);
	KT_ASSERT(!dt_open(&dt, fdt, fdt_totalsize(fdt)));
	KT_EXPECT(!dt_prop_str(&dt, dt_path(&dt, "/chosen"), "bootargs"));
	KT_EXPECT(dt_prop(&dt, dt_path(&dt, "/chosen"), "bootargs", NULL));
	KT_ASSERT_EQ(bootinfo_parse(bi, &dt, msg, sizeof(msg)), 0);
	KT_EXPECT(!strcmp(bi->bootargs, ""));
	KT_EXPECT(!strcmp(bi->stdout_path, ""));
	KT_EXPECT(bi->uart.found); /* the fallback */
	dt_check_bootinfo(kt, "unterminated bootargs", fdt, bi);
	free(fdt);
	free(bi);
}

KTEST_SUITE(dt_bootinfo_suite, "bootinfo", KTEST_CASE(bootinfo_matches_libfdt),
	    KTEST_CASE(qemu_virt_facts), KTEST_CASE(qemu_sifive_u_facts),
	    KTEST_CASE(visionfive2_facts),
	    KTEST_CASE(reserved_memory_and_chosen),
	    KTEST_CASE(isa_and_mmu_variants),
	    KTEST_CASE(aliases_and_phandle_loops), KTEST_CASE(bootinfo_errors),
	    KTEST_CASE(bootargs_not_terminated));
