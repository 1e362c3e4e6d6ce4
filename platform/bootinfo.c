/*
 * bootinfo.c - the boot facts the kernel takes from the device tree
 *
 * bootinfo_parse() reads an opened (validated) tree once and copies what
 * the kernel needs into struct boot_info: RAM banks, reserved ranges, harts,
 * the console UART and the PLIC. Bindings followed: Devicetree Spec v0.4
 * sections 3.4 (/memory), 3.5 (/reserved-memory), 3.6 (/chosen), 3.7-3.8
 * (/cpus); Linux's riscv/cpus.yaml (mmu-type, riscv,isa,
 * riscv,isa-extensions) and sifive,plic-1.0.0.yaml (interrupts-extended).
 *
 * Locking: none. It runs on the boot hart before the others start; the
 * result is immutable afterwards.
 */
#include <plat/bootinfo.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

/* RISC-V local interrupt number of the supervisor external interrupt
 * (Priv. spec, scause "Supervisor external interrupt"). */
#define BI_IRQ_S_EXT 9

static const char *const bi_uart_compat[] = {
	"ns16550a",
	"ns16550",
	"snps,dw-apb-uart",
	"sifive,uart0",
};

static const char *const bi_plic_compat[] = {
	"riscv,plic0",
	"sifive,plic-1.0.0",
	"starfive,jh7110-plic",
};

struct bi_ctx {
	struct boot_info *bi;
	const struct dt *dt;
	char *err;
	size_t errlen;
};

static int bi_fail(struct bi_ctx *c, int node, const char *fmt, ...)
	__printf(3, 4);

/* Message "bootinfo: <what> (node <path>)"; @node < 0 leaves the node out. */
static int bi_fail(struct bi_ctx *c, int node, const char *fmt, ...)
{
	char path[80];
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -E_BADFMT;
	n = snprintf(c->err, c->errlen, "bootinfo: ");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < c->errlen)
		n += vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	if (node >= 0 && n >= 0 && (size_t)n < c->errlen) {
		dt_node_path(c->dt, node, path, sizeof(path));
		snprintf(c->err + n, c->errlen - n, " (node %s)", path);
	}
	return -E_BADFMT;
}

static uint32_t bi_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool bi_str_eq(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static char bi_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* @name is @base, or @base followed by "@unit-address". */
static bool bi_name_is(const char *name, const char *base)
{
	size_t n = strlen(base);

	return name && !strncmp(name, base, n) &&
	       (name[n] == '\0' || name[n] == '@');
}

static bool bi_is_cpu(const struct dt *dt, int node)
{
	return bi_str_eq(dt_prop_str(dt, node, "device_type"), "cpu");
}

static bool bi_is_memory(const struct dt *dt, int node)
{
	return bi_str_eq(dt_prop_str(dt, node, "device_type"), "memory") ||
	       bi_name_is(dt_node_name(dt, node), "memory");
}

/* Add [base, base + size) to @r; an empty range is skipped. */
static int bi_add_range(struct bi_ctx *c, int node, struct bi_range *r, int *n,
			int max, uint64_t base, uint64_t size, const char *what)
{
	if (!size)
		return 0;
	if (base + size - 1 < base)
		return bi_fail(c, node, "%s range 0x%llx+0x%llx wraps around",
			       what, (unsigned long long)base,
			       (unsigned long long)size);
	if (*n == max)
		return bi_fail(c, node, "more than %d %s ranges", max, what);
	r[*n].base = base;
	r[*n].size = size;
	(*n)++;
	return 0;
}

/* Every entry of @node's reg into @r. */
static int bi_add_reg(struct bi_ctx *c, int node, struct bi_range *r, int *n,
		      int max, const char *what)
{
	uint64_t base, size;
	int ret;

	for (uint32_t i = 0;; i++) {
		ret = dt_reg(c->dt, node, i, &base, &size);
		if (ret == -E_NOENT)
			return 0;
		if (ret < 0)
			return bi_fail(c, node, "malformed reg (entry %u)", i);
		ret = bi_add_range(c, node, r, n, max, base, size, what);
		if (ret)
			return ret;
	}
}

/* /memory nodes: children of the root, device_type "memory" (or, in old
 * trees, named memory@...), not disabled. */
static int bi_parse_memory(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	int node, ret;

	for (node = dt_first_child(dt, dt_root(dt)); node >= 0;
	     node = dt_next_sibling(dt, node)) {
		if (!bi_is_memory(dt, node) || !dt_is_enabled(dt, node))
			continue;
		ret = bi_add_reg(c, node, bi->mem, &bi->nmem, BI_MAX_MEM,
				 "memory");
		if (ret)
			return ret;
	}
	if (!bi->nmem)
		return bi_fail(c, -1,
			       "no memory: no /memory node with a "
			       "non-empty reg");
	return 0;
}

/*
 * Reserved memory: the memory-reservation block, then every child of
 * /reserved-memory that has a reg, with or without no-map and whatever its
 * status (OpenSBI 1.1 omits no-map on its own PMP-protected region, and a
 * range someone reserved is never safe to hand out). Children with only
 * size/alloc-ranges are requests for dynamic allocation; nothing is
 * reserved for them yet.
 */
static int bi_parse_reserved(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	uint64_t base, size;
	int parent, node, ret;

	for (uint32_t i = 0; i < dt_rsv_count(dt); i++) {
		if (dt_rsv_entry(dt, i, &base, &size))
			break;
		ret = bi_add_range(c, -1, bi->rsv, &bi->nrsv, BI_MAX_RSV, base,
				   size, "reserved");
		if (ret)
			return ret;
	}
	parent = dt_path(dt, "/reserved-memory");
	if (parent < 0)
		return 0;
	for (node = dt_first_child(dt, parent); node >= 0;
	     node = dt_next_sibling(dt, node)) {
		ret = bi_add_reg(c, node, bi->rsv, &bi->nrsv, BI_MAX_RSV,
				 "reserved");
		if (ret)
			return ret;
	}
	return 0;
}

/* "_sstc" as a whole multi-letter extension of a riscv,isa string. */
static bool bi_isa_has_sstc(const char *isa)
{
	static const char ext[] = "sstc";

	for (const char *p = strchr(isa, '_'); p; p = strchr(p + 1, '_')) {
		size_t i;

		for (i = 0; i < sizeof(ext) - 1; i++)
			if (bi_lower(p[1 + i]) != ext[i])
				break;
		if (i == sizeof(ext) - 1 &&
		    (p[1 + i] == '\0' || p[1 + i] == '_'))
			return true;
	}
	return false;
}

/*
 * The phandle of @cpu's local interrupt controller: its first child marked
 * interrupt-controller, if that has one interrupt cell (riscv,cpu-intc).
 * 0 if none: then PLIC contexts naming it are looked up the slow way.
 */
static uint32_t bi_cpu_intc(const struct dt *dt, int cpu)
{
	uint32_t cells, ph;
	int node;

	for (node = dt_first_child(dt, cpu); node >= 0;
	     node = dt_next_sibling(dt, node)) {
		if (!dt_prop(dt, node, "interrupt-controller", NULL))
			continue;
		if (!dt_prop_u32(dt, node, "#interrupt-cells", &cells) ||
		    cells != 1 || !dt_prop_u32(dt, node, "phandle", &ph))
			return 0;
		return ph;
	}
	return 0;
}

/* One cpu node; @ac and @sc are the cell counts of /cpus. */
static int bi_parse_hart(struct bi_ctx *c, int node, uint32_t ac, uint32_t sc)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	struct bi_hart *h;
	const char *s;
	uint64_t hartid, size;
	int ret;

	if (bi->nharts == BI_MAX_HARTS) {
		bi->nharts_dropped++;
		return 0;
	}
	ret = dt_reg_cells(dt, node, ac, sc, 0, &hartid, &size);
	if (ret)
		return bi_fail(c, node, "%s reg (hart id)",
			       ret == -E_NOENT ? "no" : "malformed");
	if (bootinfo_hart_index(bi, hartid) >= 0)
		return bi_fail(c, node, "duplicate hart id 0x%llx",
			       (unsigned long long)hartid);

	h = &bi->harts[bi->nharts++];
	h->hartid = hartid;
	h->enabled = dt_is_enabled(dt, node);
	h->plic_sctx = -1;
	h->intc_phandle = bi_cpu_intc(dt, node);
	s = dt_prop_str(dt, node, "mmu-type");
	if (s) {
		if (!strncmp(s, "riscv,", 6))
			s += 6;
		strlcpy(h->mmu_type, s, sizeof(h->mmu_type));
		/* Sv48 and Sv57 hardware also implements Sv39 (Priv. spec,
		 * "satp": a hart supporting SvN supports all smaller ones). */
		h->sv39 = !strcmp(s, "sv39") || !strcmp(s, "sv48") ||
			  !strcmp(s, "sv57");
	}
	s = dt_prop_str(dt, node, "riscv,isa");
	if (s) {
		strlcpy(h->isa, s, sizeof(h->isa));
		h->sstc = bi_isa_has_sstc(s);
	}
	if (dt_prop_has_str(dt, node, "riscv,isa-extensions", "sstc"))
		h->sstc = true;
	return 0;
}

static int bi_parse_cpus(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	uint32_t ac, sc;
	int cpus, node, ret;
	bool have_tb;

	cpus = dt_path(dt, "/cpus");
	if (cpus < 0)
		return bi_fail(c, -1, "no /cpus node");
	ac = dt_addr_cells(dt, cpus);
	sc = dt_size_cells(dt, cpus);
	have_tb = dt_prop_u64(dt, cpus, "timebase-frequency", &bi->timebase);
	for (node = dt_first_child(dt, cpus); node >= 0;
	     node = dt_next_sibling(dt, node)) {
		if (!bi_is_cpu(dt, node))
			continue;
		if (!have_tb)
			have_tb = dt_prop_u64(dt, node, "timebase-frequency",
					      &bi->timebase);
		ret = bi_parse_hart(c, node, ac, sc);
		if (ret)
			return ret;
	}
	if (!bi->nharts)
		return bi_fail(c, cpus, "no cpu nodes (device_type \"cpu\")");
	if (!have_tb || !bi->timebase)
		return bi_fail(c, cpus,
			       "no timebase-frequency on /cpus or a "
			       "cpu node");
	return 0;
}

/* Leading decimal digits of @s ("115200n8" -> 115200), 0 if none. */
static uint32_t bi_parse_baud(const char *s)
{
	uint32_t v = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT32_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	return v;
}

/*
 * stdout-path: "<path or alias>[:<options>]". An alias is looked up once in
 * /aliases; its value must be an absolute path (an alias naming another
 * alias is not followed, so a self-referencing alias cannot loop). When it
 * does not resolve, stdout_path stays "" and the first supported UART is
 * used instead.
 */
static void bi_parse_stdout(struct bi_ctx *c, const char *sp)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	const char *colon = strchr(sp, ':'), *target;
	size_t len = colon ? (size_t)(colon - sp) : strlen(sp);
	char alias[32];

	if (colon)
		strlcpy(bi->stdout_opts, colon + 1, sizeof(bi->stdout_opts));
	if (!len)
		return;
	if (sp[0] == '/') {
		target = sp;
	} else {
		if (len >= sizeof(alias))
			return;
		memcpy(alias, sp, len);
		alias[len] = '\0';
		target = dt_prop_str(dt, dt_path(dt, "/aliases"), alias);
		if (!target || target[0] != '/')
			return;
		colon = strchr(target, ':');
		len = colon ? (size_t)(colon - target) : strlen(target);
	}
	if (len >= sizeof(bi->stdout_path))
		return;
	memcpy(bi->stdout_path, target, len);
	bi->stdout_path[len] = '\0';
}

static int bi_parse_chosen(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	uint64_t start, end;
	const char *s;
	bool has_start, has_end;
	int chosen = dt_path(dt, "/chosen");

	bi->bootargs = "";
	if (chosen < 0)
		return 0;
	/* A bootargs that is not a NUL-terminated string is ignored. */
	s = dt_prop_str(dt, chosen, "bootargs");
	if (s)
		bi->bootargs = s;

	s = dt_prop_str(dt, chosen, "stdout-path");
	if (!s)
		s = dt_prop_str(dt, chosen, "linux,stdout-path");
	if (s)
		bi_parse_stdout(c, s);

	has_start = dt_prop(dt, chosen, "linux,initrd-start", NULL);
	has_end = dt_prop(dt, chosen, "linux,initrd-end", NULL);
	if (!has_start && !has_end)
		return 0;
	if (!dt_prop_u64(dt, chosen, "linux,initrd-start", &start) ||
	    !dt_prop_u64(dt, chosen, "linux,initrd-end", &end) || end < start)
		return bi_fail(c, chosen, "malformed linux,initrd-start/end");
	bi->has_initrd = true;
	bi->initrd_start = start;
	bi->initrd_end = end;
	return 0;
}

/* The supported compatible of @node, most specific first, or NULL. */
static const char *bi_match(const struct dt *dt, int node,
			    const char *const *table, size_t n)
{
	uint32_t len;
	const char *v = dt_prop(dt, node, "compatible", &len);
	size_t slen;

	while (v && len) {
		slen = strnlen(v, len);
		if (slen == len)
			return NULL;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v, table[i]))
				return table[i];
		v += slen + 1;
		len -= (uint32_t)slen + 1;
	}
	return NULL;
}

/* First enabled node (document order) that bi_match()es @table. */
static int bi_find(const struct dt *dt, const char *const *table, size_t n,
		   const char **compat)
{
	int node;

	for (node = dt_next_node(dt, -1); node >= 0;
	     node = dt_next_node(dt, node)) {
		if (!dt_is_enabled(dt, node))
			continue;
		*compat = bi_match(dt, node, table, n);
		if (*compat)
			return node;
	}
	return node;
}

/*
 * The console UART: the stdout-path node when it is enabled and one of the
 * supported kinds, else the first enabled supported one.
 */
static int bi_parse_uart(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	struct bi_uart *u = &bi->uart;
	const char *compat = NULL;
	const uint8_t *irq;
	uint64_t v;
	uint32_t len;
	bool is_stdout = false;
	int node = -E_NOENT, ret;

	if (bi->stdout_path[0])
		node = dt_path(dt, bi->stdout_path);
	if (node >= 0 && dt_is_enabled(dt, node))
		compat = bi_match(dt, node, bi_uart_compat,
				  ARRAY_SIZE(bi_uart_compat));
	if (compat)
		is_stdout = true;
	else
		node = bi_find(dt, bi_uart_compat, ARRAY_SIZE(bi_uart_compat),
			       &compat);
	if (node < 0)
		return 0;

	ret = dt_reg(dt, node, 0, &u->base, &u->size);
	if (ret)
		return bi_fail(c, node, "%s reg on the UART",
			       ret == -E_NOENT ? "no" : "malformed");
	u->found = true;
	strlcpy(u->compatible, compat, sizeof(u->compatible));
	dt_node_path(dt, node, u->path, sizeof(u->path));
	if (!dt_prop_u32(dt, node, "reg-shift", &u->reg_shift))
		u->reg_shift = 0;
	if (!dt_prop_u32(dt, node, "reg-io-width", &u->reg_io_width))
		u->reg_io_width = 1;
	if (dt_prop_u64(dt, node, "clock-frequency", &v) && v <= UINT32_MAX)
		u->clock_freq = (uint32_t)v;
	if (!dt_prop_u32(dt, node, "current-speed", &u->baud) && is_stdout)
		u->baud = bi_parse_baud(bi->stdout_opts);
	irq = dt_prop(dt, node, "interrupts", &len);
	if (irq && len >= 4)
		u->irq = bi_ld32(irq);
	return 0;
}

/*
 * The hart whose local interrupt controller is @intc (a node), or -1. Only
 * for contexts that bi_cpu_intc() did not recognise.
 */
static int bi_intc_hart(struct bi_ctx *c, int intc)
{
	uint64_t hartid, size;
	int cpu = dt_parent(c->dt, intc);

	if (cpu < 0 || !bi_is_cpu(c->dt, cpu) ||
	    dt_reg(c->dt, cpu, 0, &hartid, &size))
		return -1;
	return bootinfo_hart_index(c->bi, hartid);
}

/*
 * The PLIC: base, size, riscv,ndev, and for each hart its supervisor
 * context. Context i is the i-th specifier of interrupts-extended, each a
 * phandle to a hart's local interrupt controller followed by that
 * controller's #interrupt-cells (1 for riscv,cpu-intc) cells; the first
 * cell is the hart-local interrupt, 9 for the S-mode external one. The
 * numbering differs between machines (2h+1 on virt, 2h on sifive_u and
 * the JH7110, whose hart 0 has only an M context), so it is never computed.
 */
static int bi_parse_plic(struct bi_ctx *c)
{
	const struct dt *dt = c->dt;
	struct boot_info *bi = c->bi;
	struct bi_plic *p = &bi->plic;
	const char *compat;
	const uint8_t *ie;
	uint32_t len, cells, ncells, ph, i;
	int node, intc, ctx, h, ret;

	node = bi_find(dt, bi_plic_compat, ARRAY_SIZE(bi_plic_compat), &compat);
	if (node < 0)
		return 0;
	ret = dt_reg(dt, node, 0, &p->base, &p->size);
	if (ret)
		return bi_fail(c, node, "%s reg on the PLIC",
			       ret == -E_NOENT ? "no" : "malformed");
	p->found = true;
	if (!dt_prop_u32(dt, node, "riscv,ndev", &p->ndev))
		p->ndev = 0;

	ie = dt_prop(dt, node, "interrupts-extended", &len);
	if (!ie)
		return 0;
	if (len % 4)
		return bi_fail(c, node, "interrupts-extended of %u bytes", len);
	cells = len / 4;
	for (i = 0, ctx = 0; i < cells; i += 1 + ncells, ctx++) {
		ph = bi_ld32(ie + 4 * i);
		/* Fast path: a phandle found under a cpu node. */
		for (h = 0; h < bi->nharts; h++)
			if (ph && bi->harts[h].intc_phandle == ph)
				break;
		if (h < bi->nharts) {
			ncells = 1;
		} else {
			intc = dt_node_by_phandle(dt, ph);
			if (intc < 0)
				return bi_fail(c, node,
					       "interrupts-extended "
					       "context %d: no node with "
					       "phandle 0x%x",
					       ctx, ph);
			if (!dt_prop_u32(dt, intc, "#interrupt-cells",
					 &ncells) ||
			    ncells < 1)
				return bi_fail(c, node,
					       "interrupts-extended "
					       "context %d: bad "
					       "#interrupt-cells",
					       ctx);
			h = bi_intc_hart(c, intc);
		}
		if (ncells > cells - i - 1)
			return bi_fail(c, node,
				       "interrupts-extended context "
				       "%d cut short",
				       ctx);
		if (h >= 0 && bi_ld32(ie + 4 * (i + 1)) == BI_IRQ_S_EXT &&
		    bi->harts[h].plic_sctx < 0)
			bi->harts[h].plic_sctx = ctx;
	}
	return 0;
}

/*
 * bootinfo_parse - fill @bi from the opened tree @dt
 * @err:    receives "bootinfo: <what> (node <path>)" on failure
 *
 * Context: boot hart, before the other harts start. @bi->bootargs points
 *          into the blob, which must stay mapped.
 * Return:  0, or -E_BADFMT.
 */
int bootinfo_parse(struct boot_info *bi, const struct dt *dt, char *err,
		   size_t errlen)
{
	struct bi_ctx c = {.bi = bi, .dt = dt, .err = err, .errlen = errlen};
	const char *model;
	int ret;

	memset(bi, 0, sizeof(*bi));
	bi->bootargs = "";
	if (err && errlen)
		err[0] = '\0';
	if (dt_root(dt) < 0)
		return bi_fail(&c, -1, "no device tree");

	model = dt_prop_str(dt, dt_root(dt), "model");
	if (model)
		strlcpy(bi->model, model, sizeof(bi->model));
	ret = bi_parse_cpus(&c);
	if (!ret)
		ret = bi_parse_memory(&c);
	if (!ret)
		ret = bi_parse_reserved(&c);
	if (!ret)
		ret = bi_parse_chosen(&c);
	if (!ret)
		ret = bi_parse_uart(&c);
	if (!ret)
		ret = bi_parse_plic(&c);
	return ret;
}

/* bootinfo_hart_index - index in bi->harts of @hartid, or -1 */
int bootinfo_hart_index(const struct boot_info *bi, uint64_t hartid)
{
	for (int i = 0; i < bi->nharts; i++)
		if (bi->harts[i].hartid == hartid)
			return i;
	return -1;
}
