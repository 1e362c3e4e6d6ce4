#pragma once
/*
 * cpio - a validating reader of "newc" cpio archives (the initramfs format;
 * cpio(5), "New ASCII Format"; Linux Documentation/driver-api/early-userspace/
 * buffer-format.rst).
 *
 * Each entry is a 110-byte header ("070701" and 13 fields of 8 hex digits),
 * the name (c_namesize bytes including its NUL), padding to a multiple of 4
 * from the start of the archive, c_filesize data bytes, padding to 4. The
 * entry named "TRAILER!!!" ends the archive; anything after it (GNU cpio
 * pads to 512 bytes) is not read. Only magic 070701 is accepted (not 070702,
 * the "crc" variant, nor the old binary and odc formats).
 *
 * Names are returned without leading "./" and "/" ("./bin/init", "/bin/init"
 * and "bin/init" all read "bin/init"; the "." entry reads "."), so archives
 * made by `find . | cpio -o -H newc` and by `find bin | cpio ...` look the
 * same.
 *
 * The archive may sit at any alignment and is only read. Pure functions, no
 * allocation; host-buildable (tests/host/loader/).
 */
#include <kern/types.h>

#define CPIO_MODE_TYPE 0170000 /* c_mode file-type bits (st_mode) */
#define CPIO_MODE_REG  0100000
#define CPIO_MODE_DIR  0040000
#define CPIO_MODE_LNK  0120000

/*
 * struct cpio_entry - one member, pointing into the archive
 * @name: NUL-terminated inside the archive, leading "./" and "/" skipped
 * @data: @size bytes inside the archive (a symlink's data is its target)
 * @mode: c_mode: file type (CPIO_MODE_*) and permission bits
 */
struct cpio_entry {
	const char *name;
	const void *data;
	size_t size;
	uint32_t mode;
};

/*
 * cpio_next - read the entry at *@pos and step over it
 * @archive: the archive, any alignment
 * @size:    its size in bytes
 * @pos:     offset of the entry; start with 0. Advanced past the entry
 *           (and past the trailer when 0 is returned); unchanged on error.
 * @e:       receives the entry (untouched at the trailer or on error)
 * @err:     receives "cpio: <what>" on error (may be NULL)
 * @errlen:  size of @err; the message is cut to fit and NUL-terminated
 *
 * Every call moves *@pos forward by at least one header, so a loop until
 * the return value is not 1 ends.
 *
 * Context: any; takes no locks and allocates nothing.
 * Return:  1 (an entry in *@e), 0 (the trailer: no more entries), or
 *          -E_BADFMT (bad magic, a field that is not 8 hex digits,
 *          c_namesize 0 or past the end, a name not NUL-terminated at
 *          c_namesize - 1, c_filesize past the end, or the archive ends
 *          without a trailer).
 */
int cpio_next(const void *archive, size_t size, size_t *pos,
	      struct cpio_entry *e, char *err, size_t errlen);

/*
 * cpio_find - look up a member by name
 * @name: path, compared after skipping leading "./" and "/" on both sides
 * @data: receives a pointer into the archive
 * @len:  receives its size
 *
 * The whole archive is read and checked, so a damaged archive is refused
 * even when @name comes before the damage. When a name occurs more than
 * once, the last one wins (as when Linux unpacks an initramfs). A hard link
 * whose data newc stores with a later link of the same inode (the earlier
 * links have c_filesize 0) gets that data.
 *
 * Context: any; takes no locks and allocates nothing.
 * Return:  0, -E_NOENT (no such member), or -E_BADFMT (damaged archive).
 */
int cpio_find(const void *archive, size_t size, const char *name,
	      const void **data, size_t *len);
