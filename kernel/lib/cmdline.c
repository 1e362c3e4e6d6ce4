/*
 * cmdline.c - parse the kernel command line against a table of options
 *
 * Pure and host-testable: the only side effects are the option table and
 * "cmdline: ..." lines through printk.
 */
#include <kern/cmdline.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>

#define WORD_MAX	128

static struct cmdline_opt *find(struct cmdline_opt *opts, size_t n,
				const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].name) == len &&
		    !strncmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

/* Apply one word "name" or "name=value". Return 1 if reported, else 0. */
static int apply(struct cmdline_opt *opts, size_t n, const char *word)
{
	const char *eq = strchr(word, '=');
	size_t nlen = eq ? (size_t)(eq - word) : strlen(word);
	const char *val = eq ? eq + 1 : NULL;
	struct cmdline_opt *o;
	uint64_t u;
	int err;

	if (nlen == 0) {
		printk("cmdline: ill-formed word '%s' (no option name); "
		       "ignored\n", word);
		return 1;
	}
	o = find(opts, n, word, nlen);
	if (!o) {
		if (val)
			printk("cmdline: unknown option '%.*s' in '%s' "
			       "ignored\n", (int)nlen, word, word);
		else
			printk("cmdline: unknown option '%s' ignored\n", word);
		return 1;
	}
	switch (o->kind) {
	case CMDLINE_FLAG:
		if (val) {
			printk("cmdline: option '%s' takes no value; '%s' "
			       "ignored\n", o->name, word);
			return 1;
		}
		*(bool *)o->out = true;
		break;
	case CMDLINE_FLAG_OR_STR:
		if (val && !*val) {
			printk("cmdline: option '%s=' has an empty value; "
			       "ignored\n", o->name);
			return 1;
		}
		if (val && o->str && strlen(val) >= o->strlen) {
			printk("cmdline: value of '%s' longer than %zu bytes; "
			       "ignored\n", o->name, o->strlen - 1);
			return 1;
		}
		*(bool *)o->out = true;
		if (o->str)
			strlcpy(o->str, val ? val : "", o->strlen);
		break;
	case CMDLINE_STR:
		if (!val || !*val) {
			printk("cmdline: option '%s' needs a value "
			       "('%s=...'); ignored\n", o->name, o->name);
			return 1;
		}
		if (strlen(val) >= o->strlen) {
			printk("cmdline: value of '%s' longer than %zu bytes; "
			       "ignored\n", o->name, o->strlen - 1);
			return 1;
		}
		strlcpy(o->out, val, o->strlen);
		break;
	case CMDLINE_UINT:
		if (!val) {
			printk("cmdline: option '%s' needs a number; "
			       "ignored\n", o->name);
			return 1;
		}
		err = kstrtou64(val, &u);
		if (err) {
			printk("cmdline: option '%s': '%s' is %s; ignored\n",
			       o->name, val,
			       err == -E_RANGE ? "too large" : "not a number");
			return 1;
		}
		*(uint64_t *)o->out = u;
		break;
	case CMDLINE_CHOICE: {
		int i;

		for (i = 0; val && o->choices[i]; i++)
			if (!strcmp(o->choices[i], val))
				break;
		if (!val || !o->choices[i]) {
			char list[96];
			int len = 0;

			list[0] = '\0';
			for (int j = 0; o->choices[j]; j++)
				len += snprintf(list + len, sizeof(list) - len,
						"%s%s", j ? "|" : "",
						o->choices[j]);
			printk("cmdline: option '%s' must be %s=%s; '%s' "
			       "ignored\n", o->name, o->name, list, word);
			return 1;
		}
		*(int *)o->out = i;
		break;
	}
	}
	o->seen = true;
	return 0;
}

int cmdline_parse(const char *line, struct cmdline_opt *opts, size_t nopts,
		  char *rest, size_t restlen)
{
	const char *p = line;
	int problems = 0;

	if (rest && restlen)
		rest[0] = '\0';
	while (*p) {
		char word[WORD_MAX];
		size_t len = 0;
		bool quoted = false, bad = false, toolong = false;
		unsigned char badc = 0;
		const char *start;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p; p++) {
			unsigned char c = (unsigned char)*p;

			if (!quoted && (c == ' ' || c == '\t' || c == '\n'))
				break;
			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (c < 0x20 || c >= 0x7f) {
				if (!bad)
					badc = c;
				bad = true;
				continue;
			}
			if (len + 1 < sizeof(word))
				word[len++] = (char)c;
			else
				toolong = true;
		}
		word[len] = '\0';
		if (quoted) {
			printk("cmdline: unterminated quote in '%.40s'; "
			       "ignored\n", start);
			problems++;
			continue;
		}
		if (bad) {
			printk("cmdline: non-printable byte 0x%02x in word "
			       "'%s'; ignored\n", badc, word);
			problems++;
			continue;
		}
		if (toolong) {
			printk("cmdline: word '%.20s...' longer than %d bytes; "
			       "ignored\n", word, WORD_MAX - 1);
			problems++;
			continue;
		}
		if (!strcmp(word, "--")) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (rest && restlen && strlen(p) >= restlen) {
				printk("cmdline: text after '--' longer than "
				       "%zu bytes; cut\n", restlen - 1);
				problems++;
			}
			if (rest && restlen)
				strlcpy(rest, p, restlen);
			break;
		}
		problems += apply(opts, nopts, word);
	}
	return problems;
}
