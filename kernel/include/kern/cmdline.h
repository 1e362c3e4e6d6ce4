#pragma once
/*
 * cmdline.h - the kernel command line (/chosen bootargs)
 *
 * Words are separated by spaces; a value may be double-quoted
 * (name="a b"). Everything after a lone "--" is kept for the first user
 * process. Unknown options and ill-formed words are reported on a line
 * starting "cmdline:" and ignored; the command line is never fatal.
 */
#include <kern/types.h>

enum cmdline_kind {
	CMDLINE_FLAG,		/* "name" only; sets *(bool *)out */
	CMDLINE_FLAG_OR_STR,	/* "name" or "name=value": bool + string */
	CMDLINE_STR,		/* "name=value" into char out[outlen] */
	CMDLINE_UINT,		/* "name=N" (decimal or 0x) into uint64_t */
	CMDLINE_CHOICE,		/* "name=one of choices" into int (index) */
};

struct cmdline_opt {
	const char *name;
	enum cmdline_kind kind;
	void *out;		/* see the kinds */
	char *str;		/* FLAG_OR_STR: value buffer, or NULL */
	size_t strlen;		/* size of str / of out for CMDLINE_STR */
	const char *const *choices;	/* CHOICE: NULL-terminated */
	bool seen;		/* set when the option was given */
};

/*
 * cmdline_parse - apply @line to @opts
 * @rest: receives what follows " -- " (may be NULL), NUL-terminated
 *
 * Return: number of problems reported (0 for a clean line).
 */
int cmdline_parse(const char *line, struct cmdline_opt *opts, size_t nopts,
		  char *rest, size_t restlen);
