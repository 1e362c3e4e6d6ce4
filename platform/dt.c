/*
 * dt.c - a validating reader of flattened device trees
 *
 * Format: Devicetree Specification v0.4, chapter 5 (Flattened Devicetree
 * (DTB) Format). All multi-byte fields are big-endian and the blob may sit
 * at any address, so every field is read with byte loads (dt_ld32/dt_ld64).
 *
 * dt_open() walks the whole blob once and refuses anything malformed. The
 * accessors below do not rely on that walk alone: every token they read is
 * checked against the structure block again (dt_tag), so a node offset made
 * up by a caller can give a wrong answer but never a read outside the blob.
 * Every loop moves forward through the structure block, so none can spin.
 *
 * Node and property offsets are offsets of FDT_BEGIN_NODE / FDT_PROP tokens
 * from the start of the structure block, exactly as in libfdt; the host
 * tests compare every answer with libfdt's.
 *
 * Locking: none. A struct dt is immutable after dt_open().
 */
#include <plat/dt.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

#define DT_MAGIC	 0xd00dfeedu
#define DT_HDR_SIZE_V16	 36u /* up to size_dt_strings */
#define DT_HDR_SIZE_V17	 40u /* adds size_dt_struct */
#define DT_LAST_COMP_MAX 17u /* newest layout this reader knows */
#define DT_VERSION_MIN	 16u

/* Header field offsets (spec 5.2). */
#define DT_HDR_MAGIC	    0
#define DT_HDR_TOTALSIZE    4
#define DT_HDR_OFF_STRUCT   8
#define DT_HDR_OFF_STRINGS  12
#define DT_HDR_OFF_RSVMAP   16
#define DT_HDR_VERSION	    20
#define DT_HDR_LAST_COMP    24
#define DT_HDR_SIZE_STRINGS 32
#define DT_HDR_SIZE_STRUCT  36

/* Structure block tokens (spec 5.4.1). */
#define DT_BEGIN_NODE 1u
#define DT_END_NODE   2u
#define DT_PROP	      3u
#define DT_NOP	      4u
#define DT_END	      9u

#define DT_RSV_ENTRY_SIZE 16u

static inline uint32_t dt_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t dt_ld64(const uint8_t *p)
{
	return (uint64_t)dt_ld32(p) << 32 | dt_ld32(p + 4);
}

static inline const uint8_t *dt_struct(const struct dt *dt)
{
	return dt->blob + dt->off_struct;
}

/*
 * dt_tag - decode the token at @off in the structure block
 * @next: offset of the token after it (4-aligned)
 *
 * Checks that the token, and the node name or property it carries, lie
 * inside the structure block. Return: the token, or -1 if @off is not a
 * token that fits.
 */
static int dt_tag(const struct dt *dt, int off, uint32_t *next)
{
	const uint8_t *s;
	uint64_t pos, size = dt->size_struct;
	uint32_t tag, len;
	size_t n;

	if (!dt->blob || off < 0 || (off & 3) || (uint64_t)off + 4 > size)
		return -1;
	s = dt_struct(dt);
	tag = dt_ld32(s + off);
	pos = (uint64_t)off + 4;
	switch (tag) {
	case DT_BEGIN_NODE:
		n = strnlen((const char *)s + pos, size - pos);
		if (n == size - pos)
			return -1;
		pos += n + 1;
		break;
	case DT_PROP:
		if (size - pos < 8)
			return -1;
		len = dt_ld32(s + pos);
		if (len > size - pos - 8)
			return -1;
		pos += 8 + (uint64_t)len;
		break;
	case DT_END_NODE:
	case DT_NOP:
	case DT_END: break;
	default: return -1;
	}
	*next = (uint32_t)ALIGN_UP(pos, 4);
	return (int)tag;
}

/* NUL-terminated string at @nameoff of the strings block, or NULL. */
static const char *dt_string(const struct dt *dt, uint32_t nameoff)
{
	const char *s = (const char *)dt->blob + dt->off_strings;
	size_t room;

	if (nameoff >= dt->size_strings)
		return NULL;
	room = dt->size_strings - nameoff;
	if (strnlen(s + nameoff, room) == room)
		return NULL;
	return s + nameoff;
}

/* ------------------------------------------------------------ dt_open -- */

static int dt_fail(struct dt *dt, const char *fmt, ...) __printf(2, 3);

static int dt_fail(struct dt *dt, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dt->err, sizeof(dt->err), fmt, ap);
	va_end(ap);
	dt->blob = NULL;
	return -E_BADFMT;
}

/*
 * Path of the node being validated, for messages: @names holds the offsets
 * (in the structure block) of the names of the @depth open nodes.
 */
static void dt_open_path(const uint8_t *s, const uint32_t *names, int depth,
			 char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (depth <= 1) {
		strlcpy(buf, "/", size);
		return;
	}
	for (int i = 1; i < depth && pos + 1 < size; i++) {
		const char *name = (const char *)s + names[i];

		buf[pos++] = '/';
		buf[pos] = '\0';
		pos += strlcpy(buf + pos, name, size - pos);
		if (pos >= size)
			pos = size - 1;
	}
}

static int dt_check_block(struct dt *dt, const char *what, uint32_t off,
			  uint64_t size, uint32_t hdrsize)
{
	if (off < hdrsize)
		return dt_fail(dt, "dt: %s block at 0x%x overlaps the header",
			       what, off);
	if ((uint64_t)off + size > dt->totalsize)
		return dt_fail(dt,
			       "dt: %s block 0x%x+0x%llx out of range "
			       "(totalsize 0x%x)",
			       what, off, (unsigned long long)size,
			       dt->totalsize);
	return 0;
}

static bool dt_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The memory-reservation block: (address, size) pairs up to a zero pair. */
static int dt_open_rsvmap(struct dt *dt)
{
	uint64_t limit = dt->totalsize, pos, addr, size;
	uint32_t n;

	/* It must end before whichever block follows it. */
	if (dt->off_struct >= dt->off_rsvmap && dt->off_struct < limit)
		limit = dt->off_struct;
	if (dt->size_strings && dt->off_strings >= dt->off_rsvmap &&
	    dt->off_strings < limit)
		limit = dt->off_strings;

	for (n = 0;; n++) {
		pos = dt->off_rsvmap + (uint64_t)n * DT_RSV_ENTRY_SIZE;
		if (pos + DT_RSV_ENTRY_SIZE > limit)
			return dt_fail(dt,
				       "dt: memory-reservation block at "
				       "0x%x unterminated before 0x%llx",
				       dt->off_rsvmap,
				       (unsigned long long)limit);
		addr = dt_ld64(dt->blob + pos);
		size = dt_ld64(dt->blob + pos + 8);
		if (!addr && !size)
			break;
		if (size && addr + size - 1 < addr)
			return dt_fail(dt,
				       "dt: memory-reservation entry %u "
				       "0x%llx+0x%llx wraps around",
				       n, (unsigned long long)addr,
				       (unsigned long long)size);
	}
	dt->nrsv = n;
	return 0;
}

/*
 * The structure block: every token, name and property, the nesting, and
 * the string each property name points at. Sets size_struct to the end of
 * FDT_END for version 16 blobs, whose header does not give it.
 */
static int dt_open_struct(struct dt *dt, bool sized)
{
	const uint8_t *s = dt_struct(dt);
	const char *strs = (const char *)dt->blob + dt->off_strings;
	uint64_t size = dt->size_struct, pos = 0;
	uint32_t names[DT_MAX_DEPTH];
	bool had_child[DT_MAX_DEPTH];
	char path[80];
	uint32_t tag, len, nameoff;
	int depth = 0;
	bool root_seen = false;
	size_t n;

#define DT_PATH() (dt_open_path(s, names, depth, path, sizeof(path)), path)
	for (;;) {
		if (pos + 4 > size)
			return dt_fail(dt,
				       "dt: structure block ends at 0x%llx "
				       "without FDT_END",
				       (unsigned long long)size);
		tag = dt_ld32(s + pos);
		if (!root_seen && tag != DT_BEGIN_NODE)
			return dt_fail(dt,
				       "dt: structure block starts with "
				       "token 0x%x, not the root node",
				       tag);
		/* After the root closes only FDT_END may come (libfdt's
		 * fdt_check_full agrees: not even a NOP). */
		if (root_seen && !depth && tag == DT_BEGIN_NODE)
			return dt_fail(dt, "dt: second root node at 0x%llx",
				       (unsigned long long)pos);
		if (root_seen && !depth && tag != DT_END && tag != DT_END_NODE)
			return dt_fail(dt,
				       "dt: token 0x%x at 0x%llx after the "
				       "root node, not FDT_END",
				       tag, (unsigned long long)pos);
		switch (tag) {
		case DT_BEGIN_NODE:
			n = strnlen((const char *)s + pos + 4, size - pos - 4);
			if (n == size - pos - 4)
				return dt_fail(dt,
					       "dt: unterminated node name "
					       "at 0x%llx",
					       (unsigned long long)pos);
			/* Spec 5.4.1 (and libfdt): the root's name is "". */
			if (!root_seen && n)
				return dt_fail(dt,
					       "dt: root node named "
					       "\"%.16s\", not \"\"",
					       (const char *)s + pos + 4);
			if (depth == DT_MAX_DEPTH)
				return dt_fail(dt,
					       "dt: nodes nested deeper "
					       "than %d at 0x%llx (node %s)",
					       DT_MAX_DEPTH,
					       (unsigned long long)pos,
					       DT_PATH());
			if (depth)
				had_child[depth - 1] = true;
			names[depth] = (uint32_t)pos + 4;
			had_child[depth] = false;
			depth++;
			root_seen = true;
			pos = ALIGN_UP(pos + 4 + n + 1, 4);
			break;
		case DT_END_NODE:
			if (!depth)
				return dt_fail(dt,
					       "dt: unbalanced FDT_END_NODE "
					       "at 0x%llx",
					       (unsigned long long)pos);
			depth--;
			pos += 4;
			break;
		case DT_PROP:
			/* depth >= 1: the checks above the switch. */
			if (size - pos < 12)
				return dt_fail(dt,
					       "dt: property at 0x%llx "
					       "runs past the structure block",
					       (unsigned long long)pos);
			len = dt_ld32(s + pos + 4);
			nameoff = dt_ld32(s + pos + 8);
			if (len > size - pos - 12)
				return dt_fail(dt,
					       "dt: property length %u at "
					       "0x%llx runs past the structure "
					       "block (node %s)",
					       len, (unsigned long long)pos,
					       DT_PATH());
			if (nameoff >= dt->size_strings)
				return dt_fail(dt,
					       "dt: property name offset "
					       "0x%x outside strings block "
					       "(node %s)",
					       nameoff, DT_PATH());
			if (strnlen(strs + nameoff,
				    dt->size_strings - nameoff) ==
			    dt->size_strings - nameoff)
				return dt_fail(dt,
					       "dt: unterminated string at "
					       "strings offset 0x%x (node %s)",
					       nameoff, DT_PATH());
			/* libfdt and the spec: properties come first. */
			if (had_child[depth - 1])
				return dt_fail(dt,
					       "dt: property at 0x%llx "
					       "after a subnode (node %s)",
					       (unsigned long long)pos,
					       DT_PATH());
			pos = ALIGN_UP(pos + 12 + len, 4);
			break;
		case DT_NOP: pos += 4; break;
		case DT_END:
			if (depth)
				return dt_fail(dt,
					       "dt: FDT_END at 0x%llx inside "
					       "node %s (unbalanced nodes)",
					       (unsigned long long)pos,
					       DT_PATH());
			if (!sized)
				dt->size_struct = (uint32_t)pos + 4;
			return 0;
		default:
			return dt_fail(dt,
				       "dt: bad token 0x%x at 0x%llx "
				       "(node %s)",
				       tag, (unsigned long long)pos, DT_PATH());
		}
	}
#undef DT_PATH
}

/*
 * dt_open - validate a flattened device tree and prepare to read it
 * @dt:    filled in; on failure dt->err says why
 * @blob:  the DTB, at any alignment
 * @avail: bytes readable at @blob; the header's totalsize must fit
 *
 * Context: any; reads only the @avail bytes at @blob and writes only @dt.
 * Return:  0, or -E_BADFMT (then every accessor fails cleanly on @dt).
 */
int dt_open(struct dt *dt, const void *blob, size_t avail)
{
	const uint8_t *b = blob;
	uint32_t version, last_comp, hdrsize, magic;
	uint64_t rsv_size;
	bool sized;
	int ret;

	memset(dt, 0, sizeof(*dt));
	if (!b)
		return dt_fail(dt, "dt: no blob");
	if (avail < DT_HDR_SIZE_V16)
		return dt_fail(dt,
			       "dt: %zu bytes cannot hold a header "
			       "(totalsize unknown)",
			       avail);
	magic = dt_ld32(b + DT_HDR_MAGIC);
	if (magic != DT_MAGIC)
		return dt_fail(dt, "dt: bad magic 0x%08x (want 0x%08x)", magic,
			       DT_MAGIC);
	version = dt_ld32(b + DT_HDR_VERSION);
	last_comp = dt_ld32(b + DT_HDR_LAST_COMP);
	if (version < DT_VERSION_MIN)
		return dt_fail(dt, "dt: version %u too old (need %u)", version,
			       DT_VERSION_MIN);
	if (last_comp > DT_LAST_COMP_MAX)
		return dt_fail(dt, "dt: last_comp_version %u newer than %u",
			       last_comp, DT_LAST_COMP_MAX);
	sized = version >= 17;
	hdrsize = sized ? DT_HDR_SIZE_V17 : DT_HDR_SIZE_V16;
	if (avail < hdrsize)
		return dt_fail(dt,
			       "dt: %zu bytes cannot hold a version %u "
			       "header (totalsize unknown)",
			       avail, version);

	dt->totalsize = dt_ld32(b + DT_HDR_TOTALSIZE);
	if (dt->totalsize < hdrsize)
		return dt_fail(dt, "dt: totalsize %u smaller than the header",
			       dt->totalsize);
	if (dt->totalsize > avail)
		return dt_fail(dt,
			       "dt: totalsize %u exceeds the %zu bytes "
			       "available (truncated)",
			       dt->totalsize, avail);
	/* Offsets are ints, as in libfdt. */
	if (dt->totalsize > INT32_MAX)
		return dt_fail(dt, "dt: totalsize %u too large", dt->totalsize);

	dt->off_struct = dt_ld32(b + DT_HDR_OFF_STRUCT);
	dt->off_strings = dt_ld32(b + DT_HDR_OFF_STRINGS);
	dt->off_rsvmap = dt_ld32(b + DT_HDR_OFF_RSVMAP);
	dt->size_strings = dt_ld32(b + DT_HDR_SIZE_STRINGS);
	if (sized) {
		dt->size_struct = dt_ld32(b + DT_HDR_SIZE_STRUCT);
	} else if (dt->off_struct < dt->totalsize) {
		/* Bounded by the strings block or the end; fixed below. */
		dt->size_struct = dt->totalsize - dt->off_struct;
		if (dt->off_strings > dt->off_struct &&
		    dt->off_strings < dt->totalsize)
			dt->size_struct = dt->off_strings - dt->off_struct;
	}

	if (dt->off_struct & 3)
		return dt_fail(dt, "dt: structure block at 0x%x misaligned",
			       dt->off_struct);
	if (dt->off_rsvmap & 7)
		return dt_fail(dt,
			       "dt: memory-reservation block at 0x%x "
			       "misaligned",
			       dt->off_rsvmap);
	ret = dt_check_block(dt, "structure", dt->off_struct, dt->size_struct,
			     hdrsize);
	if (!ret)
		ret = dt_check_block(dt, "strings", dt->off_strings,
				     dt->size_strings, hdrsize);
	if (!ret)
		ret = dt_check_block(dt, "memory-reservation", dt->off_rsvmap,
				     DT_RSV_ENTRY_SIZE, hdrsize);
	if (ret)
		return ret;
	if (dt_overlap(dt->off_struct, dt->size_struct, dt->off_strings,
		       dt->size_strings))
		return dt_fail(dt,
			       "dt: structure block 0x%x+0x%x and strings "
			       "block 0x%x+0x%x overlap",
			       dt->off_struct, dt->size_struct, dt->off_strings,
			       dt->size_strings);

	dt->blob = b; /* the walks below read through dt */
	ret = dt_open_rsvmap(dt);
	if (ret)
		return ret;
	rsv_size = (uint64_t)(dt->nrsv + 1) * DT_RSV_ENTRY_SIZE;
	if (dt_overlap(dt->off_rsvmap, rsv_size, dt->off_struct,
		       dt->size_struct) ||
	    dt_overlap(dt->off_rsvmap, rsv_size, dt->off_strings,
		       dt->size_strings))
		return dt_fail(dt,
			       "dt: memory-reservation block 0x%x+0x%llx "
			       "overlaps another block",
			       dt->off_rsvmap, (unsigned long long)rsv_size);
	return dt_open_struct(dt, sized);
}

/*
 * dt_error - why dt_open failed ("" after a success)
 */
const char *dt_error(const struct dt *dt)
{
	return dt->err;
}

/* ----------------------------------------------- reservation block -- */

/* dt_rsv_count - entries of the memory-reservation block (0 if closed) */
uint32_t dt_rsv_count(const struct dt *dt)
{
	return dt->blob ? dt->nrsv : 0;
}

/*
 * dt_rsv_entry - entry @idx of the memory-reservation block
 *
 * Return: 0, or -E_NOENT past the last entry.
 */
int dt_rsv_entry(const struct dt *dt, uint32_t idx, uint64_t *addr,
		 uint64_t *size)
{
	uint64_t pos = dt->off_rsvmap + (uint64_t)idx * DT_RSV_ENTRY_SIZE;

	if (!dt->blob || idx >= dt->nrsv ||
	    pos + DT_RSV_ENTRY_SIZE > dt->totalsize)
		return -E_NOENT;
	*addr = dt_ld64(dt->blob + pos);
	*size = dt_ld64(dt->blob + pos + 8);
	return 0;
}

/* ------------------------------------------------------------ nodes -- */

static bool dt_is_node(const struct dt *dt, int node)
{
	uint32_t next;

	return dt_tag(dt, node, &next) == (int)DT_BEGIN_NODE;
}

/* dt_root - the root node: offset 0, or -E_BADFMT if @dt is not open */
int dt_root(const struct dt *dt)
{
	return dt_is_node(dt, 0) ? 0 : -E_BADFMT;
}

/*
 * Next FDT_BEGIN_NODE after @node in document order (from the root if
 * @node < 0), tracking in *@depth how far it is below @node's level, as
 * libfdt's fdt_next_node does. Stops with -E_NOENT when *@depth drops
 * below 0 or the tree ends.
 */
static int dt_walk(const struct dt *dt, int node, int *depth)
{
	uint32_t off = 0, next;
	int tag;

	if (node >= 0) {
		if (dt_tag(dt, node, &next) != (int)DT_BEGIN_NODE)
			return -E_INVAL;
		off = next;
	}
	for (;;) {
		tag = dt_tag(dt, (int)off, &next);
		switch (tag) {
		case DT_BEGIN_NODE:
			if (depth)
				(*depth)++;
			return (int)off;
		case DT_END_NODE:
			if (depth && --(*depth) < 0)
				return -E_NOENT;
			break;
		case DT_PROP:
		case DT_NOP: break;
		case DT_END: return -E_NOENT;
		default: return -E_BADFMT;
		}
		if (next > INT32_MAX)
			return -E_BADFMT;
		off = next;
	}
}

/*
 * dt_next_node - next node in document order (the root if @node < 0)
 *
 * Return: its offset, or -E_NOENT after the last node.
 */
int dt_next_node(const struct dt *dt, int node)
{
	return dt_walk(dt, node, NULL);
}

/*
 * dt_first_child - first subnode of @node
 *
 * Return: its offset, -E_NOENT if none, -E_INVAL if @node is no node.
 */
int dt_first_child(const struct dt *dt, int node)
{
	int depth = 0, off;

	if (node < 0)
		return -E_INVAL;
	off = dt_walk(dt, node, &depth);
	if (off < 0)
		return off;
	return depth == 1 ? off : -E_NOENT;
}

/*
 * dt_next_sibling - next subnode of @node's parent after @node
 *
 * Return: its offset, or -E_NOENT after the last one.
 */
int dt_next_sibling(const struct dt *dt, int node)
{
	int depth = 1, off = node;

	if (node < 0)
		return -E_INVAL;
	do {
		off = dt_walk(dt, off, &depth);
		if (off < 0)
			return off;
		if (depth < 1)
			return -E_NOENT;
	} while (depth > 1);
	return off;
}

/*
 * The chain of nodes from the root down to @node: stack[0] is the root,
 * stack[depth - 1] is @node. Found by one forward scan, since a flattened
 * tree has no parent links. Return: the depth, or a negative error.
 */
static int dt_ancestors(const struct dt *dt, int node, int stack[DT_MAX_DEPTH])
{
	uint32_t off = 0, next;
	int depth = 0, tag;

	if (!dt_is_node(dt, node))
		return -E_INVAL;
	for (;;) {
		if (off > (uint32_t)node)
			return -E_NOENT; /* not a node of this tree */
		tag = dt_tag(dt, (int)off, &next);
		switch (tag) {
		case DT_BEGIN_NODE:
			if (depth == DT_MAX_DEPTH)
				return -E_BADFMT;
			stack[depth++] = (int)off;
			if (off == (uint32_t)node)
				return depth;
			break;
		case DT_END_NODE:
			if (!depth)
				return -E_BADFMT;
			depth--;
			break;
		case DT_PROP:
		case DT_NOP: break;
		case DT_END: return -E_NOENT;
		default: return -E_BADFMT;
		}
		off = next;
	}
}

/*
 * dt_parent - parent of @node, found by a scan from the root (O(tree))
 *
 * Return: its offset; -E_NOENT for the root, or for an offset that holds
 * a BEGIN_NODE token but is not a node of the tree (inside a value);
 * -E_INVAL if @node holds no BEGIN_NODE token.
 */
int dt_parent(const struct dt *dt, int node)
{
	int stack[DT_MAX_DEPTH];
	int depth = dt_ancestors(dt, node, stack);

	if (depth < 0)
		return depth;
	return depth > 1 ? stack[depth - 2] : -E_NOENT;
}

/* dt_node_name - "cpu@0", "" for the root; NULL if @node is no node */
const char *dt_node_name(const struct dt *dt, int node)
{
	if (!dt_is_node(dt, node))
		return NULL;
	return (const char *)dt_struct(dt) + node + 4;
}

/*
 * dt_node_path - absolute path of @node into @buf ("/" for the root)
 *
 * Return: 0, -E_RANGE if cut to fit (still terminated), or dt_parent's
 * error for an offset that is not a node.
 */
int dt_node_path(const struct dt *dt, int node, char *buf, size_t size)
{
	int stack[DT_MAX_DEPTH];
	int depth = dt_ancestors(dt, node, stack);
	size_t pos = 0, n;

	if (!size)
		return -E_RANGE;
	buf[0] = '\0';
	if (depth < 0)
		return depth;
	if (depth == 1)
		return strlcpy(buf, "/", size) < size ? 0 : -E_RANGE;
	for (int i = 1; i < depth; i++) {
		if (pos + 1 >= size)
			return -E_RANGE;
		buf[pos++] = '/';
		buf[pos] = '\0';
		n = strlcpy(buf + pos, dt_node_name(dt, stack[i]), size - pos);
		if (n >= size - pos)
			return -E_RANGE;
		pos += n;
	}
	return 0;
}

/* Node name equals @name (@len bytes), or its part before '@' does when
 * @name has no unit address (libfdt's fdt_nodename_eq_). */
static bool dt_name_eq(const char *node_name, const char *name, size_t len)
{
	size_t i;

	if (strnlen(node_name, len) < len || strncmp(node_name, name, len))
		return false;
	if (node_name[len] == '\0')
		return true;
	if (node_name[len] != '@')
		return false;
	for (i = 0; i < len; i++)
		if (name[i] == '@')
			return false;
	return true;
}

static int dt_subnode_len(const struct dt *dt, int parent, const char *name,
			  size_t len)
{
	int node;

	for (node = dt_first_child(dt, parent); node >= 0;
	     node = dt_next_sibling(dt, node))
		if (dt_name_eq(dt_node_name(dt, node), name, len))
			return node;
	return node;
}

/*
 * dt_subnode - child of @parent named @name, or whose name before '@' is
 * @name when @name has no '@' ("cpu" finds "cpu@0"). First match wins.
 *
 * Return: its offset, or -E_NOENT.
 */
int dt_subnode(const struct dt *dt, int parent, const char *name)
{
	return dt_subnode_len(dt, parent, name, strlen(name));
}

/*
 * dt_path - node at absolute @path; repeated '/' are skipped, as libfdt
 * does. Return: the node, -E_NOENT, or -E_INVAL if @path is relative.
 */
int dt_path(const struct dt *dt, const char *path)
{
	const char *p = path, *q;
	int node = dt_root(dt);

	if (node < 0)
		return node;
	if (*p != '/')
		return -E_INVAL;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			return node;
		q = strchr(p, '/');
		if (!q)
			q = p + strlen(p);
		node = dt_subnode_len(dt, node, p, (size_t)(q - p));
		if (node < 0)
			return node;
		p = q;
	}
}

/* The string at @nameoff of the strings block is @name (@nlen bytes and
 * its NUL). Bounded by the strings block, without a strnlen of it. */
static bool dt_name_is(const struct dt *dt, uint32_t nameoff, const char *name,
		       size_t nlen)
{
	if (nameoff >= dt->size_strings || dt->size_strings - nameoff <= nlen)
		return false;
	return !memcmp(dt->blob + dt->off_strings + nameoff, name, nlen + 1);
}

/*
 * dt_node_by_phandle - the first node whose phandle is @phandle
 *
 * A node's phandle is its "phandle" property, else its "linux,phandle"
 * (libfdt's fdt_get_phandle), each counted only if one cell long. One
 * pass over the structure block: the properties of a node come before its
 * children, so the node is decided at the first token that is not one.
 */
int dt_node_by_phandle(const struct dt *dt, uint32_t phandle)
{
	const uint8_t *s = dt_struct(dt);
	uint32_t off = 0, next, nameoff, len, ph = 0, lph = 0;
	bool seen_ph = false, seen_lph = false, ph_ok = false;
	int node = -1, tag;

	if (!phandle || phandle == 0xffffffffu)
		return -E_NOENT;
	for (;; off = next) {
		tag = dt_tag(dt, (int)off, &next);
		if (tag == (int)DT_NOP)
			continue;
		if (tag == (int)DT_PROP) {
			nameoff = dt_ld32(s + off + 8);
			len = dt_ld32(s + off + 4);
			/* The first of each name counts, if one cell long. */
			if (!seen_ph && dt_name_is(dt, nameoff, "phandle", 7)) {
				seen_ph = true;
				ph_ok = len == 4;
				ph = ph_ok ? dt_ld32(s + off + 12) : 0;
			} else if (!seen_lph &&
				   dt_name_is(dt, nameoff, "linux,phandle",
					      13)) {
				seen_lph = true;
				lph = len == 4 ? dt_ld32(s + off + 12) : 0;
			}
			continue;
		}
		if (node >= 0 && (ph_ok ? ph : lph) == phandle)
			return node;
		node = tag == (int)DT_BEGIN_NODE ? (int)off : -1;
		seen_ph = seen_lph = ph_ok = false;
		ph = lph = 0;
		if (tag == (int)DT_END)
			return -E_NOENT;
		if (tag < 0)
			return -E_BADFMT;
	}
}

/* ------------------------------------------------------- properties -- */

/* First FDT_PROP at or after @off, skipping NOPs, before any child. */
static int dt_prop_from(const struct dt *dt, uint32_t off)
{
	uint32_t next;
	int tag;

	for (;;) {
		tag = dt_tag(dt, (int)off, &next);
		if (tag == (int)DT_PROP)
			return (int)off;
		if (tag != (int)DT_NOP)
			return tag < 0 ? -E_BADFMT : -E_NOENT;
		if (next > INT32_MAX)
			return -E_BADFMT;
		off = next;
	}
}

/*
 * dt_first_prop - first property of @node
 *
 * Return: its offset, -E_NOENT if none, -E_INVAL if @node is no node.
 */
int dt_first_prop(const struct dt *dt, int node)
{
	uint32_t next;

	if (dt_tag(dt, node, &next) != (int)DT_BEGIN_NODE)
		return -E_INVAL;
	return dt_prop_from(dt, next);
}

/*
 * dt_next_prop - property after @prop in the same node
 *
 * Return: its offset, -E_NOENT after the last, -E_INVAL if @prop is none.
 */
int dt_next_prop(const struct dt *dt, int prop)
{
	uint32_t next;

	if (dt_tag(dt, prop, &next) != (int)DT_PROP)
		return -E_INVAL;
	return dt_prop_from(dt, next);
}

/*
 * dt_prop_by_offset - value, name and length of the property at @prop
 *
 * Return: the value (inside the blob), or NULL if @prop is no property.
 */
const void *dt_prop_by_offset(const struct dt *dt, int prop, const char **name,
			      uint32_t *len)
{
	const uint8_t *s = dt_struct(dt);
	const char *pname;
	uint32_t next;

	if (len)
		*len = 0;
	if (name)
		*name = NULL;
	if (dt_tag(dt, prop, &next) != (int)DT_PROP)
		return NULL;
	pname = dt_string(dt, dt_ld32(s + prop + 8));
	if (!pname)
		return NULL;
	if (name)
		*name = pname;
	if (len)
		*len = dt_ld32(s + prop + 4);
	return s + prop + 12;
}

/*
 * dt_prop - value of @node's first property named @name
 * @len: its length (0 when absent); may be NULL
 *
 * Return: the value (inside the blob), or NULL if absent.
 */
const void *dt_prop(const struct dt *dt, int node, const char *name,
		    uint32_t *len)
{
	const uint8_t *s = dt_struct(dt);
	size_t nlen = strlen(name);
	uint32_t off, next;
	int tag;

	if (len)
		*len = 0;
	if (dt_tag(dt, node, &off) != (int)DT_BEGIN_NODE)
		return NULL;
	for (;; off = next) {
		tag = dt_tag(dt, (int)off, &next);
		if (tag == (int)DT_NOP)
			continue;
		if (tag != (int)DT_PROP)
			return NULL;
		if (dt_name_is(dt, dt_ld32(s + off + 8), name, nlen)) {
			if (len)
				*len = dt_ld32(s + off + 4);
			return s + off + 12;
		}
	}
}

/* dt_prop_u32 - a property of exactly one cell into *@out */
bool dt_prop_u32(const struct dt *dt, int node, const char *name, uint32_t *out)
{
	uint32_t len;
	const uint8_t *v = dt_prop(dt, node, name, &len);

	if (!v || len != 4)
		return false;
	*out = dt_ld32(v);
	return true;
}

/* dt_prop_u64 - a one- or two-cell property, big-endian, into *@out */
bool dt_prop_u64(const struct dt *dt, int node, const char *name, uint64_t *out)
{
	uint32_t len;
	const uint8_t *v = dt_prop(dt, node, name, &len);

	if (!v || (len != 4 && len != 8))
		return false;
	*out = len == 4 ? dt_ld32(v) : dt_ld64(v);
	return true;
}

/*
 * dt_prop_str - the property as a string: NULL unless its last byte is
 * NUL (a string list reads as its first string).
 */
const char *dt_prop_str(const struct dt *dt, int node, const char *name)
{
	uint32_t len;
	const char *v = dt_prop(dt, node, name, &len);

	if (!v || !len || v[len - 1] != '\0')
		return NULL;
	return v;
}

/* Each NUL-terminated string of the list; an unterminated tail is not a
 * string and matches nothing (as libfdt's fdt_stringlist_contains). */
bool dt_prop_has_str(const struct dt *dt, int node, const char *name,
		     const char *s)
{
	uint32_t len;
	const char *v = dt_prop(dt, node, name, &len);
	size_t slen = strlen(s), n;

	if (!v)
		return false;
	while (len) {
		n = strnlen(v, len);
		if (n == len)
			return false;
		if (n == slen && !memcmp(v, s, slen))
			return true;
		v += n + 1;
		len -= (uint32_t)n + 1;
	}
	return false;
}

/* dt_is_compatible - @compat is one of @node's compatible strings */
bool dt_is_compatible(const struct dt *dt, int node, const char *compat)
{
	return dt_prop_has_str(dt, node, "compatible", compat);
}

/*
 * dt_find_compatible - first node after @from (from the root if @from < 0)
 * compatible with @compat
 *
 * Return: its offset, or -E_NOENT.
 */
int dt_find_compatible(const struct dt *dt, int from, const char *compat)
{
	int node;

	for (node = dt_next_node(dt, from); node >= 0;
	     node = dt_next_node(dt, node))
		if (dt_is_compatible(dt, node, compat))
			return node;
	return node;
}

/*
 * dt_is_enabled - @node's status is absent, "okay" or "ok" (a status
 * that is not a string counts as disabled)
 */
bool dt_is_enabled(const struct dt *dt, int node)
{
	uint32_t len;
	const char *status = dt_prop(dt, node, "status", &len);

	if (!status)
		return dt_is_node(dt, node);
	if (!len || status[len - 1] != '\0')
		return false;
	return !strcmp(status, "okay") || !strcmp(status, "ok");
}

static uint32_t dt_cells(const struct dt *dt, int node, const char *name,
			 uint32_t dflt)
{
	uint32_t len;
	const uint8_t *v = dt_prop(dt, node, name, &len);

	if (!v)
		return dflt;
	return len == 4 ? dt_ld32(v) : DT_CELLS_BAD;
}

/* dt_addr_cells - #address-cells of @node's children: 2 if absent */
uint32_t dt_addr_cells(const struct dt *dt, int node)
{
	return dt_cells(dt, node, "#address-cells", 2);
}

/* dt_size_cells - #size-cells of @node's children: 1 if absent */
uint32_t dt_size_cells(const struct dt *dt, int node)
{
	return dt_cells(dt, node, "#size-cells", 1);
}

static uint64_t dt_ld_cells(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;

	while (cells--) {
		v = v << 32 | dt_ld32(p);
		p += 4;
	}
	return v;
}

/*
 * dt_reg_cells - entry @idx of @node's "reg", decoded with @ac address
 * cells (1 or 2) and @sc size cells (0 to 2)
 *
 * For callers that know the parent's cell counts (the cpus under /cpus),
 * which saves dt_reg's search for the parent.
 * Return: 0, -E_NOENT (no reg, or @idx past its end), or -E_BADFMT.
 */
int dt_reg_cells(const struct dt *dt, int node, uint32_t ac, uint32_t sc,
		 uint32_t idx, uint64_t *addr, uint64_t *size)
{
	uint32_t len, stride;
	const uint8_t *v = dt_prop(dt, node, "reg", &len);

	if (!v)
		return -E_NOENT;
	if (ac < 1 || ac > 2 || sc > 2)
		return -E_BADFMT;
	stride = 4 * (ac + sc);
	if (len % stride)
		return -E_BADFMT;
	if (idx >= len / stride)
		return -E_NOENT;
	v += (size_t)idx * stride;
	*addr = dt_ld_cells(v, ac);
	*size = dt_ld_cells(v + 4 * ac, sc);
	return 0;
}

/*
 * dt_reg - entry @idx of @node's "reg"
 *
 * Decoded with the #address-cells and #size-cells of @node's parent, as
 * dt_reg_cells(); *@size is 0 when #size-cells is 0.
 * Return: 0, -E_NOENT (no reg, or @idx past its end), or -E_BADFMT.
 */
int dt_reg(const struct dt *dt, int node, uint32_t idx, uint64_t *addr,
	   uint64_t *size)
{
	int parent = dt_parent(dt, node);

	if (parent < 0)
		return parent == -E_NOENT ? -E_NOENT : -E_BADFMT;
	return dt_reg_cells(dt, node, dt_addr_cells(dt, parent),
			    dt_size_cells(dt, parent), idx, addr, size);
}
