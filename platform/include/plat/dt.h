#pragma once
/*
 * dt - a reader of flattened device trees (DTB, devicetree spec v0.4 ch. 5).
 *
 * dt_open() checks the whole blob once: header fields, block offsets and
 * sizes inside totalsize, the memory-reservation block terminated, every
 * structure token, node names NUL-terminated inside the block, property
 * lengths inside the block, property-name offsets inside the strings block
 * and NUL-terminated there, BEGIN/END_NODE balanced, nesting depth bounded
 * (DT_MAX_DEPTH). Anything wrong makes it return -E_BADFMT with a message
 * (dt_error) that names the problem and its offset. After a successful open
 * the accessors still bound-check every read, so no input can make them read
 * outside the blob.
 *
 * Nodes are named by their offset in the structure block (as in libfdt, so
 * host tests compare answers with libfdt directly). Negative values are
 * errors (-E_NOENT when a node or property does not exist).
 *
 * The prefix is dt_, not fdt_, so that host tests can link libfdt beside it.
 */
#include <kern/types.h>

#define DT_MAX_DEPTH	32

struct dt {
	const uint8_t *blob;	/* immutable after dt_open */
	uint32_t totalsize;
	uint32_t off_struct, size_struct;
	uint32_t off_strings, size_strings;
	uint32_t off_rsvmap;
	uint32_t nrsv;		/* entries in the memory-reservation block */
	char err[128];		/* why dt_open failed */
};

int dt_open(struct dt *dt, const void *blob, size_t avail);
const char *dt_error(const struct dt *dt);

/* Memory-reservation block. */
uint32_t dt_rsv_count(const struct dt *dt);
int dt_rsv_entry(const struct dt *dt, uint32_t idx, uint64_t *addr,
		 uint64_t *size);

/* Structure walking. The root node is at offset 0. */
int dt_root(const struct dt *dt);
int dt_first_child(const struct dt *dt, int node);
int dt_next_sibling(const struct dt *dt, int node);
int dt_parent(const struct dt *dt, int node);
const char *dt_node_name(const struct dt *dt, int node); /* "cpu@0"; "" root */
/* Next node after @node in document order (depth-first), for scans. */
int dt_next_node(const struct dt *dt, int node);

/* Child named @name: exact match, or match of the part before '@'. */
int dt_subnode(const struct dt *dt, int parent, const char *name);
/* Absolute path "/soc/serial@10000000" (aliases are not resolved here). */
int dt_path(const struct dt *dt, const char *path);
int dt_node_by_phandle(const struct dt *dt, uint32_t phandle);
/* Absolute path of @node into @buf ("/" for the root). Return: 0, or
 * -E_RANGE if it was cut to fit (@buf is still NUL-terminated). */
int dt_node_path(const struct dt *dt, int node, char *buf, size_t size);

/* Property iteration, by the offset of each property's FDT_PROP token (as
 * libfdt's fdt_first_property_offset/fdt_next_property_offset). */
int dt_first_prop(const struct dt *dt, int node);
int dt_next_prop(const struct dt *dt, int prop);
/* Value of the property at @prop; its name in *@name, its length in *@len.
 * NULL (and *@len 0) if @prop is not a property. */
const void *dt_prop_by_offset(const struct dt *dt, int prop,
			      const char **name, uint32_t *len);

/* Properties. dt_prop returns NULL if absent (and sets *len to 0). */
const void *dt_prop(const struct dt *dt, int node, const char *name,
		    uint32_t *len);
bool dt_prop_u32(const struct dt *dt, int node, const char *name,
		 uint32_t *out);
/* Accepts a 1-cell or 2-cell value. */
bool dt_prop_u64(const struct dt *dt, int node, const char *name,
		 uint64_t *out);
/* NULL unless the property is a NUL-terminated string. */
const char *dt_prop_str(const struct dt *dt, int node, const char *name);
/* True if the string-list property @name of @node contains @s. */
bool dt_prop_has_str(const struct dt *dt, int node, const char *name,
		     const char *s);
bool dt_is_compatible(const struct dt *dt, int node, const char *compat);
/* First node after @from (-1: from the start) compatible with @compat. */
int dt_find_compatible(const struct dt *dt, int from, const char *compat);
/* "status" absent, "okay" or "ok". */
bool dt_is_enabled(const struct dt *dt, int node);

/* #address-cells / #size-cells that apply to the children of @node
 * (defaults 2 and 1 per the spec when absent; DT_CELLS_BAD when the
 * property is not exactly one cell, which dt_reg rejects). */
#define DT_CELLS_BAD	0xffffffffu
uint32_t dt_addr_cells(const struct dt *dt, int node);
uint32_t dt_size_cells(const struct dt *dt, int node);
/* Entry @idx of @node's "reg", decoded with its parent's cell counts.
 * Return: 0, -E_NOENT past the end, -E_BADFMT if malformed. */
int dt_reg(const struct dt *dt, int node, uint32_t idx, uint64_t *addr,
	   uint64_t *size);
/* The same with the parent's cell counts given (@ac 1-2, @sc 0-2), which
 * saves the search for the parent. */
int dt_reg_cells(const struct dt *dt, int node, uint32_t ac, uint32_t sc,
		 uint32_t idx, uint64_t *addr, uint64_t *size);
