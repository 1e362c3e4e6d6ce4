/*
 * cpio.c - a validating reader of "newc" cpio archives
 *
 * Format: cpio(5) "New ASCII Format"; Linux
 * Documentation/driver-api/early-userspace/buffer-format.rst. Every offset
 * comes from the archive, so each one is compared with the bytes left
 * (size - offset) rather than added to something first: no sum can wrap.
 *
 * Locking: none; pure functions of their arguments.
 */
#include <kern/cpio.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

#define CPIO_HDR_SIZE  110 /* magic and 13 fields of 8 hex digits */
#define CPIO_MAGIC     "070701"
#define CPIO_MAGIC_LEN 6
#define CPIO_FIELD_LEN 8
#define CPIO_TRAILER   "TRAILER!!!"

/* Header fields, in file order after the magic. */
enum cpio_field {
	CPIO_INO,
	CPIO_MODE,
	CPIO_UID,
	CPIO_GID,
	CPIO_NLINK,
	CPIO_MTIME,
	CPIO_FILESIZE,
	CPIO_DEVMAJOR,
	CPIO_DEVMINOR,
	CPIO_RDEVMAJOR,
	CPIO_RDEVMINOR,
	CPIO_NAMESIZE,
	CPIO_CHECK,
	CPIO_NFIELDS
};

static const char *const cpio_field_names[CPIO_NFIELDS] = {
	"c_ino",       "c_mode",     "c_uid",	   "c_gid",	 "c_nlink",
	"c_mtime",     "c_filesize", "c_devmajor", "c_devminor", "c_rdevmajor",
	"c_rdevminor", "c_namesize", "c_check",
};

struct cpio_ctx {
	const uint8_t *archive;
	size_t size;
	char *err;
	size_t errlen;
};

/* One decoded entry, with the fields cpio_find needs beyond cpio_entry. */
struct cpio_raw {
	struct cpio_entry e;
	uint32_t f[CPIO_NFIELDS];
	bool trailer;
	size_t next; /* offset after the entry and its padding */
};

/* "cpio: entry at 0x<pos>: <message>"; return -E_BADFMT. */
static int cpio_fail(const struct cpio_ctx *c, size_t pos, const char *fmt, ...)
	__printf(3, 4);

static int cpio_fail(const struct cpio_ctx *c, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -E_BADFMT;
	n = snprintf(c->err, c->errlen, "cpio: entry at 0x%zx: ", pos);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -E_BADFMT;
}

static int cpio_hex(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Skip leading "./" and "/" components: "./bin/x", "/bin/x" -> "bin/x". */
static const char *cpio_name_skip(const char *name)
{
	for (;;) {
		if (name[0] == '/')
			name++;
		else if (name[0] == '.' && name[1] == '/')
			name += 2;
		else
			return name;
	}
}

/* Bytes of padding after @off up to the next multiple of 4. */
static inline size_t cpio_pad(size_t off)
{
	return (4 - (off & 3)) & 3;
}

/*
 * cpio_parse - decode and check the entry at @pos
 *
 * Return: 0 (*@r filled, r->trailer set for the trailer) or -E_BADFMT.
 */
static int cpio_parse(const struct cpio_ctx *c, size_t pos, struct cpio_raw *r)
{
	const uint8_t *h;
	size_t name_off, name_end, data_off, data_end, namesize, filesize;
	const char *name;

	if (pos > c->size)
		return cpio_fail(c, pos,
				 "past the end of the archive (0x%zx bytes)",
				 c->size);
	if (c->size - pos < CPIO_HDR_SIZE)
		return cpio_fail(c, pos,
				 "0x%zx bytes left, less than a header (110): "
				 "archive without " CPIO_TRAILER,
				 c->size - pos);
	h = c->archive + pos;
	if (memcmp(h, CPIO_MAGIC, CPIO_MAGIC_LEN))
		return cpio_fail(c, pos,
				 "c_magic %02x %02x %02x %02x %02x %02x is "
				 "not \"" CPIO_MAGIC "\" (newc)",
				 h[0], h[1], h[2], h[3], h[4], h[5]);
	for (int i = 0; i < CPIO_NFIELDS; i++) {
		const uint8_t *d = h + CPIO_MAGIC_LEN + i * CPIO_FIELD_LEN;
		uint32_t v = 0;

		for (int k = 0; k < CPIO_FIELD_LEN; k++) {
			int x = cpio_hex(d[k]);

			if (x < 0)
				return cpio_fail(c, pos,
						 "%s: byte 0x%02x is not a hex "
						 "digit",
						 cpio_field_names[i], d[k]);
			v = v << 4 | (uint32_t)x;
		}
		r->f[i] = v;
	}

	namesize = r->f[CPIO_NAMESIZE];
	filesize = r->f[CPIO_FILESIZE];
	name_off = pos + CPIO_HDR_SIZE;
	if (namesize == 0)
		return cpio_fail(c, pos, "c_namesize 0");
	if (namesize > c->size - name_off)
		return cpio_fail(c, pos,
				 "c_namesize 0x%zx is past the end of the "
				 "archive (0x%zx bytes)",
				 namesize, c->size);
	name = (const char *)c->archive + name_off;
	if (name[namesize - 1] != '\0')
		return cpio_fail(c, pos,
				 "name is not NUL-terminated at c_namesize "
				 "- 1 (0x%zx)",
				 namesize - 1);
	name_end = name_off + namesize;

	/* The name's padding may be cut by the end of the archive (the
	 * trailer's, when nothing follows it); then data_off == size and
	 * only an empty member fits. */
	data_off = name_end + MIN(cpio_pad(name_end), c->size - name_end);
	if (filesize > c->size - data_off)
		return cpio_fail(c, pos,
				 "c_filesize 0x%zx is past the end of the "
				 "archive (0x%zx bytes)",
				 filesize, c->size);
	data_end = data_off + filesize;
	r->next = data_end + MIN(cpio_pad(data_end), c->size - data_end);
	r->trailer = !strcmp(name, CPIO_TRAILER);
	r->e.name = cpio_name_skip(name);
	r->e.data = c->archive + data_off;
	r->e.size = filesize;
	r->e.mode = r->f[CPIO_MODE];
	return 0;
}

int cpio_next(const void *archive, size_t size, size_t *pos,
	      struct cpio_entry *e, char *err, size_t errlen)
{
	struct cpio_ctx c = {archive, size, err, errlen};
	struct cpio_raw r;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = cpio_parse(&c, *pos, &r);
	if (ret)
		return ret;
	*pos = r.next;
	if (r.trailer)
		return 0;
	*e = r.e;
	return 1;
}

/* True if @a and @b are the same inode and @b holds its data. */
static bool cpio_is_link_data(const struct cpio_raw *a,
			      const struct cpio_raw *b)
{
	return b->f[CPIO_INO] == a->f[CPIO_INO] &&
	       b->f[CPIO_DEVMAJOR] == a->f[CPIO_DEVMAJOR] &&
	       b->f[CPIO_DEVMINOR] == a->f[CPIO_DEVMINOR] &&
	       (b->e.mode & CPIO_MODE_TYPE) == CPIO_MODE_REG && b->e.size;
}

int cpio_find(const void *archive, size_t size, const char *name,
	      const void **data, size_t *len)
{
	struct cpio_ctx c = {archive, size, NULL, 0};
	struct cpio_raw r, match = {0}; /* match.e.name NULL: none yet */
	size_t pos = 0, match_next = 0;
	int ret;

	name = cpio_name_skip(name);
	for (;;) {
		ret = cpio_parse(&c, pos, &r);
		if (ret)
			return ret;
		pos = r.next;
		if (r.trailer)
			break;
		if (!strcmp(r.e.name, name)) {
			match = r;
			match_next = r.next;
		}
	}
	if (!match.e.name)
		return -E_NOENT;

	/* newc keeps a hard-linked file's data with its last link only. */
	if ((match.e.mode & CPIO_MODE_TYPE) == CPIO_MODE_REG &&
	    match.f[CPIO_NLINK] > 1 && !match.e.size) {
		for (pos = match_next;; pos = r.next) {
			if (cpio_parse(&c, pos, &r) || r.trailer)
				break;
			if (cpio_is_link_data(&match, &r)) {
				match.e = r.e;
				break;
			}
		}
	}
	*data = match.e.data;
	*len = match.e.size;
	return 0;
}
