/*
 * test_malformed.c - hand-built broken blobs. A small valid tree is made
 * with libfdt's sequential-write API, then one field is corrupted; dt_open
 * must refuse it with a message that says what is wrong. Problems inside a
 * property's value are not structural: there the accessor answers "absent".
 */
#include "dt_host.h"

#include <kern/errno.h>

#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#define BASE_MAX 4096

/* The base tree; @depth > 0 adds that many nested nodes under /chosen. */
static size_t build(uint8_t *buf, int depth, bool prop_after_child,
		    bool second_root)
{
	fdt64_t mem[2] = {cpu_to_fdt64(0x80000000), cpu_to_fdt64(0x10000000)};

	fdt_create(buf, BASE_MAX);
	fdt_add_reservemap_entry(buf, 0x80000000, 0x10000);
	fdt_finish_reservemap(buf);
	fdt_begin_node(buf, "");
	fdt_property_u32(buf, "#address-cells", 2);
	fdt_property_u32(buf, "#size-cells", 2);
	fdt_property_string(buf, "model", "rivet,test");
	fdt_begin_node(buf, "chosen");
	fdt_property_string(buf, "bootargs", "quiet");
	for (int i = 0; i < depth; i++)
		fdt_begin_node(buf, "n");
	for (int i = 0; i < depth; i++)
		fdt_end_node(buf);
	fdt_end_node(buf);
	fdt_begin_node(buf, "cpus");
	fdt_property_u32(buf, "#address-cells", 1);
	fdt_property_u32(buf, "#size-cells", 0);
	fdt_property_u32(buf, "timebase-frequency", 1000000);
	fdt_begin_node(buf, "cpu@0");
	fdt_property_string(buf, "device_type", "cpu");
	fdt_property_u32(buf, "reg", 0);
	fdt_property_string(buf, "status", "okay");
	fdt_end_node(buf);
	fdt_end_node(buf);
	fdt_begin_node(buf, "memory@80000000");
	fdt_property_string(buf, "device_type", "memory");
	fdt_property(buf, "reg", mem, sizeof(mem));
	fdt_end_node(buf);
	if (prop_after_child)
		fdt_property_u32(buf, "late", 1);
	fdt_end_node(buf);
	if (second_root) {
		fdt_begin_node(buf, "again");
		fdt_end_node(buf);
	}
	fdt_finish(buf);
	return fdt_totalsize(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
	fdt32_st(p, v);
}

/* Address of structure-block offset @off. */
static uint8_t *st(uint8_t *b, int off)
{
	return b + fdt_off_dt_struct(b) + off;
}

enum corrupt {
	C_NONE,
	C_MAGIC,
	C_VERSION,
	C_LAST_COMP,
	C_TRUNCATED,
	C_TOTALSIZE,
	C_TINY,
	C_STRUCT_RANGE,
	C_STRUCT_SIZE,
	C_STRINGS_RANGE,
	C_STRUCT_HEADER,
	C_RSVMAP_HEADER,
	C_MISALIGNED,
	C_OVERLAP,
	C_RSV_UNTERMINATED,
	C_RSV_WRAPS,
	C_NAME_UNTERMINATED,
	C_PROP_LEN,
	C_NAMEOFF,
	C_STRING_CUT,
	C_STRING_UNTERMINATED,
	C_EXTRA_END_NODE,
	C_MISSING_END_NODE,
	C_MISSING_END,
	C_STRUCT_SHORT,
	C_BAD_TOKEN,
	C_ROOT_NOP,
	C_DEPTH_BOMB,
	C_PROP_AFTER_CHILD,
	C_SECOND_ROOT,
};

static const struct {
	enum corrupt c;
	const char *name, *word;
} cases[] = {
	{C_MAGIC, "bad magic", "bad magic"},
	{C_VERSION, "version 15", "version 15 too old"},
	{C_LAST_COMP, "last_comp_version 18", "last_comp_version 18"},
	{C_TRUNCATED, "one byte short", "totalsize"},
	{C_TOTALSIZE, "totalsize 20", "totalsize 20 smaller"},
	{C_TINY, "10-byte buffer", "header"},
	{C_STRUCT_RANGE, "structure block past the end", "out of range"},
	{C_STRUCT_SIZE, "huge size_dt_struct", "out of range"},
	{C_STRINGS_RANGE, "strings block past the end", "out of range"},
	{C_STRUCT_HEADER, "structure block inside the header",
	 "overlaps the header"},
	{C_RSVMAP_HEADER, "rsvmap inside the header", "overlaps the header"},
	{C_MISALIGNED, "structure block misaligned", "misaligned"},
	{C_OVERLAP, "strings inside the structure block", "overlap"},
	{C_RSV_UNTERMINATED, "rsvmap without terminator", "unterminated"},
	{C_RSV_WRAPS, "rsvmap entry wraps", "wraps"},
	{C_NAME_UNTERMINATED, "node name cut by the block end",
	 "unterminated node name"},
	{C_PROP_LEN, "property length past the end", "property length"},
	{C_NAMEOFF, "name offset outside strings",
	 "outside strings block (node /cpus/cpu@0)"},
	{C_STRING_CUT, "strings block cut in a name", "unterminated string"},
	{C_STRING_UNTERMINATED, "last string without NUL",
	 "unterminated string"},
	{C_EXTRA_END_NODE, "extra END_NODE", "unbalanced"},
	{C_MISSING_END_NODE, "root END_NODE missing", "unbalanced"},
	{C_MISSING_END, "FDT_END replaced by NOP", "not FDT_END"},
	{C_STRUCT_SHORT, "size_dt_struct without FDT_END", "without FDT_END"},
	{C_BAD_TOKEN, "token 7", "bad token 0x7"},
	{C_ROOT_NOP, "NOP before the root", "not the root node"},
	{C_DEPTH_BOMB, "40 nested nodes", "deeper than"},
	{C_PROP_AFTER_CHILD, "property after a subnode", "after a subnode"},
	{C_SECOND_ROOT, "two root nodes", "second root"},
};

/* The base tree broken in way @c, in an exactly sized buffer. */
static uint8_t *make(enum corrupt c, size_t *avail)
{
	uint8_t tmp[BASE_MAX];
	size_t size = build(tmp, c == C_DEPTH_BOMB ? 40 : 0,
			    c == C_PROP_AFTER_CHILD, c == C_SECOND_ROOT);
	uint32_t send = fdt_size_dt_struct(tmp);
	int cpus = fdt_path_offset(tmp, "/cpus");
	int cpu0 = fdt_path_offset(tmp, "/cpus/cpu@0");
	int rprop = fdt_first_property_offset(tmp, 0);
	uint8_t *b;

	*avail = size;
	switch (c) {
	case C_MAGIC: fdt_set_magic(tmp, 0xd00dfeee); break;
	case C_VERSION: fdt_set_version(tmp, 15); break;
	case C_LAST_COMP: fdt_set_last_comp_version(tmp, 18); break;
	case C_TRUNCATED: *avail = size - 1; break;
	case C_TOTALSIZE: fdt_set_totalsize(tmp, 20); break;
	case C_TINY: *avail = 10; break;
	case C_STRUCT_RANGE:
		fdt_set_off_dt_struct(tmp, (uint32_t)size - 8);
		break;
	case C_STRUCT_SIZE: fdt_set_size_dt_struct(tmp, 0xfffffff0u); break;
	case C_STRINGS_RANGE:
		fdt_set_off_dt_strings(tmp, (uint32_t)size - 4);
		break;
	case C_STRUCT_HEADER: fdt_set_off_dt_struct(tmp, 16); break;
	case C_RSVMAP_HEADER: fdt_set_off_mem_rsvmap(tmp, 8); break;
	case C_MISALIGNED:
		fdt_set_off_dt_struct(tmp, fdt_off_dt_struct(tmp) + 2);
		break;
	case C_OVERLAP:
		fdt_set_off_dt_strings(tmp, fdt_off_dt_struct(tmp) + 8);
		break;
	case C_RSV_UNTERMINATED:
		/* The terminator is the last entry before the structure. */
		memset(tmp + fdt_off_dt_struct(tmp) - 16, 0x11, 16);
		break;
	case C_RSV_WRAPS:
		memset(tmp + fdt_off_mem_rsvmap(tmp) + 8, 0xff, 8);
		break;
	case C_NAME_UNTERMINATED:
		fdt_set_size_dt_struct(tmp, (uint32_t)cpus + 4 + 2);
		break;
	case C_PROP_LEN: put32(st(tmp, rprop + 4), 0x100000); break;
	case C_NAMEOFF:
		put32(st(tmp, fdt_first_property_offset(tmp, cpu0) + 8),
		      fdt_size_dt_strings(tmp) + 0x100);
		break;
	case C_STRING_CUT:
		fdt_set_size_dt_strings(
			tmp, fdt32_ld((const fdt32_t *)st(tmp, rprop + 8)) + 2);
		break;
	case C_STRING_UNTERMINATED:
		tmp[fdt_off_dt_strings(tmp) + fdt_size_dt_strings(tmp) - 1] =
			'x';
		break;
	case C_EXTRA_END_NODE:
		put32(st(tmp, (int)send - 4), FDT_END_NODE);
		break;
	case C_MISSING_END_NODE: put32(st(tmp, (int)send - 8), FDT_NOP); break;
	case C_MISSING_END: put32(st(tmp, (int)send - 4), FDT_NOP); break;
	case C_STRUCT_SHORT: fdt_set_size_dt_struct(tmp, send - 4); break;
	case C_BAD_TOKEN: put32(st(tmp, cpus), 7); break;
	case C_ROOT_NOP: put32(st(tmp, 0), FDT_NOP); break;
	case C_NONE:
	case C_DEPTH_BOMB:
	case C_PROP_AFTER_CHILD:
	case C_SECOND_ROOT: break;
	}
	b = malloc(size);
	memcpy(b, tmp, size);
	return b;
}

KTEST(base_tree_is_valid)
{
	size_t avail;
	uint8_t *b = make(C_NONE, &avail);
	struct boot_info *bi = malloc(sizeof(*bi));
	struct dt dt;
	char msg[128];

	KT_EXPECT(!fdt_check_full(b, avail));
	KT_ASSERT_EQ(dt_open(&dt, b, avail), 0);
	KT_EXPECT_EQ(dt_rsv_count(&dt), 1);
	KT_EXPECT_EQ(bootinfo_parse(bi, &dt, msg, sizeof(msg)), 0);
	KT_EXPECT(!strcmp(bi->bootargs, "quiet"));
	KT_EXPECT_EQ(bi->nrsv, 1);
	KT_EXPECT(!bi->uart.found && !bi->plic.found);
	dt_check_walk(kt, "base", b, avail, true);
	dt_check_bootinfo(kt, "base", b, bi);
	free(bi);
	free(b);
}

KTEST(malformed_blobs_rejected)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t avail;
		uint8_t *b = make(cases[i].c, &avail);
		struct dt dt;
		int ret = dt_open(&dt, b, avail);
		int lib = fdt_check_full(b, avail);

		KT_INFO("%s: %s [libfdt: %s]", cases[i].name, dt_error(&dt),
			lib ? fdt_strerror(lib) : "accepted");
		KT_EXPECT_EQ(ret, -E_BADFMT);
		if (!KT_EXPECT(strstr(dt_error(&dt), cases[i].word)))
			KT_INFO("expected \"%s\"", cases[i].word);
		/* A refused tree answers nothing, and reads nothing. */
		KT_EXPECT(dt_root(&dt) < 0);
		KT_EXPECT(dt_next_node(&dt, -1) < 0);
		KT_EXPECT(!dt_prop(&dt, 0, "model", NULL));
		KT_EXPECT_EQ(dt_rsv_count(&dt), 0);
		free(b);
	}
}

KTEST(depth_limit_exact)
{
	uint8_t tmp[BASE_MAX];
	struct dt dt;

	/* root, /chosen and n nested nodes: depth n + 2 */
	build(tmp, DT_MAX_DEPTH - 2, false, false);
	KT_EXPECT_EQ(dt_open(&dt, tmp, fdt_totalsize(tmp)), 0);
	build(tmp, DT_MAX_DEPTH - 1, false, false);
	KT_EXPECT_EQ(dt_open(&dt, tmp, fdt_totalsize(tmp)), -E_BADFMT);
	KT_INFO("%s", dt_error(&dt));
}

KTEST(null_and_short_buffers)
{
	struct dt dt;
	struct boot_info *bi = malloc(sizeof(*bi));
	char msg[128];
	uint8_t *b;
	size_t avail;

	KT_EXPECT_EQ(dt_open(&dt, NULL, 100), -E_BADFMT);
	KT_INFO("%s", dt_error(&dt));
	KT_EXPECT(strstr(dt_error(&dt), "no blob"));
	KT_EXPECT_EQ(bootinfo_parse(bi, &dt, msg, sizeof(msg)), -E_BADFMT);
	KT_INFO("%s", msg);
	KT_EXPECT(strstr(msg, "no device tree"));
	b = make(C_NONE, &avail);
	for (size_t n = 0; n < 40; n++)
		KT_EXPECT_EQ(dt_open(&dt, b, n), -E_BADFMT);
	free(b);
	free(bi);
}

/* Bad values inside properties: the typed accessors say "absent". */
KTEST(property_values)
{
	static const char compat[] = "ns16550a\0ns16";
	static const uint8_t cells2[2] = {0, 2};
	uint8_t tmp[BASE_MAX * 2];
	size_t size;
	struct dt dt;
	uint64_t a, s;
	uint32_t u;
	uint8_t *b;
	int node;

	build(tmp, 0, false, false);
	fdt_open_into(tmp, tmp, sizeof(tmp));
	node = fdt_path_offset(tmp, "/cpus/cpu@0");
	fdt_setprop(tmp, node, "status", "okay", 4);
	fdt_setprop(tmp, node, "compatible", compat, sizeof(compat) - 1);
	fdt_setprop(tmp, node, "three", "abc", 3);
	fdt_setprop(tmp, fdt_path_offset(tmp, "/chosen"), "bootargs", "xy", 2);
	fdt_setprop(tmp, fdt_path_offset(tmp, "/cpus"), "#size-cells", cells2,
		    2);
	fdt_pack(tmp);
	size = fdt_totalsize(tmp);
	b = malloc(size);
	memcpy(b, tmp, size);
	KT_ASSERT_EQ(dt_open(&dt, b, size), 0);
	node = dt_path(&dt, "/cpus/cpu@0");
	KT_ASSERT(node > 0);
	KT_EXPECT(!dt_is_enabled(&dt, node));
	KT_EXPECT(dt_is_compatible(&dt, node, "ns16550a"));
	KT_EXPECT(!dt_is_compatible(&dt, node, "ns16"));
	KT_EXPECT(!dt_prop_u32(&dt, node, "three", &u));
	KT_EXPECT(!dt_prop_u64(&dt, node, "three", &a));
	KT_EXPECT(!dt_prop_str(&dt, node, "three"));
	KT_EXPECT(!dt_prop_str(&dt, dt_path(&dt, "/chosen"), "bootargs"));
	KT_EXPECT_EQ(dt_size_cells(&dt, dt_path(&dt, "/cpus")), DT_CELLS_BAD);
	KT_EXPECT_EQ(dt_reg(&dt, node, 0, &a, &s), -E_BADFMT);
	KT_EXPECT_EQ(dt_path(&dt, "cpus"), -E_INVAL);
	KT_EXPECT_EQ(dt_path(&dt, "//cpus///cpu@0/"), node);
	KT_EXPECT_EQ(dt_path(&dt, "/cpus/cpu"), node);
	KT_EXPECT_EQ(dt_path(&dt, "/cpus/cpu@1"), -E_NOENT);
	KT_EXPECT_EQ(dt_node_by_phandle(&dt, 0), -E_NOENT);
	KT_EXPECT_EQ(dt_node_by_phandle(&dt, 0xffffffffu), -E_NOENT);
	dt_check_walk(kt, "property values", b, size, true);
	free(b);
}

KTEST_SUITE(dt_malformed_suite, "dt_malformed", KTEST_CASE(base_tree_is_valid),
	    KTEST_CASE(malformed_blobs_rejected), KTEST_CASE(depth_limit_exact),
	    KTEST_CASE(null_and_short_buffers), KTEST_CASE(property_values));
