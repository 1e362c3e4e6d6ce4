/*
 * test_cmdline.c - kernel command-line parsing, including garbage
 */
#include <host.h>
#include <kern/cmdline.h>
#include <kern/errno.h>

#include <string.h>

static bool f_ktest, f_quiet;
static char s_suite[16], s_init[32];
static uint64_t u_n;
static int c_mode;
static const char *const modes[] = { "split", "single", NULL };

static void reset(struct cmdline_opt *o, size_t n)
{
	f_ktest = f_quiet = false;
	s_suite[0] = s_init[0] = '\0';
	u_n = 0;
	c_mode = -1;
	for (size_t i = 0; i < n; i++)
		o[i].seen = false;
}

#define OPTS                                                                  \
	struct cmdline_opt o[] = {                                            \
		{ .name = "ktest", .kind = CMDLINE_FLAG_OR_STR,               \
		  .out = &f_ktest, .str = s_suite, .strlen = sizeof(s_suite) },\
		{ .name = "quiet", .kind = CMDLINE_FLAG, .out = &f_quiet },   \
		{ .name = "init", .kind = CMDLINE_STR, .out = s_init,         \
		  .strlen = sizeof(s_init) },                                 \
		{ .name = "n", .kind = CMDLINE_UINT, .out = &u_n },           \
		{ .name = "ptlock", .kind = CMDLINE_CHOICE, .out = &c_mode,   \
		  .choices = modes },                                         \
	};                                                                    \
	reset(o, ARRAY_SIZE(o))

KTEST(cmdline_good_line)
{
	char rest[64];
	OPTS;

	KT_EXPECT_EQ(cmdline_parse("ktest=smp quiet init=\"pf anon\" n=0x10 "
				   "ptlock=single -- threads=4 seconds=5",
				   o, ARRAY_SIZE(o), rest, sizeof(rest)), 0);
	KT_EXPECT(f_ktest && !strcmp(s_suite, "smp"));
	KT_EXPECT(f_quiet);
	KT_EXPECT(!strcmp(s_init, "pf anon"));
	KT_EXPECT_EQ(u_n, 16);
	KT_EXPECT_EQ(c_mode, 1);
	KT_EXPECT(!strcmp(rest, "threads=4 seconds=5"));
}

KTEST(cmdline_flag_without_value)
{
	OPTS;

	KT_EXPECT_EQ(cmdline_parse("  ktest  ", o, ARRAY_SIZE(o), NULL, 0),
		     0);
	KT_EXPECT(f_ktest && s_suite[0] == '\0');
}

KTEST(cmdline_garbage_is_reported_not_fatal)
{
	/* Each bad line, how many problems, and words the message must
	 * contain. */
	static const struct {
		const char *line;
		int problems;
		const char *says;
	} cases[] = {
		{ "bogus", 1, "unknown option 'bogus'" },
		{ "=x", 1, "no option name" },
		{ "quiet=yes", 1, "'quiet' takes no value" },
		{ "init", 1, "'init' needs a value" },
		{ "init=", 1, "'init' needs a value" },
		{ "n=abc", 1, "'abc' is not a number" },
		{ "n=99999999999999999999999", 1, "too large" },
		{ "ptlock", 1, "must be ptlock=split|single" },
		{ "ptlock=weird", 1, "'ptlock=weird' ignored" },
		{ "ktest=", 1, "empty value" },
		{ "ktest=waytoolongsuitename", 1, "longer than 15 bytes" },
		{ "\"unterminated", 1, "unterminated quote" },
		{ "a\x01" "b quiet", 1, "non-printable byte 0x01" },
		{ "\xff\xfe", 1, "non-printable byte 0xff" },
		{ "bogus =x quiet=1 ptlock ktest", 4, "unknown option 'bogus'" },
		{ "", 0, "" },
		{ "   ", 0, "" },
	};
	char huge[600], msgs[1024];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		OPTS;
		int n;

		host_console_capture(msgs, sizeof(msgs));
		n = cmdline_parse(cases[i].line, o, ARRAY_SIZE(o), NULL, 0);
		host_console_capture(NULL, 0);
		if (!KT_EXPECT_EQ(n, cases[i].problems))
			KT_INFO("line %zu: \"%s\"", i, cases[i].line);
		if (!KT_EXPECT(strstr(msgs, cases[i].says) &&
			       (n == 0 || !strncmp(msgs, "cmdline: ", 9))))
			KT_INFO("line %zu printed: %s", i, msgs);
	}
	/* The valid words around garbage still apply. */
	{
		OPTS;
		host_console_capture(msgs, sizeof(msgs));
		cmdline_parse("bogus quiet \x02 ktest", o, ARRAY_SIZE(o), NULL,
			      0);
		host_console_capture(NULL, 0);
		KT_EXPECT(f_quiet && f_ktest);
	}
	/* An enormous word is cut and reported, not overflowed. */
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	{
		OPTS;
		host_console_capture(msgs, sizeof(msgs));
		KT_EXPECT_EQ(cmdline_parse(huge, o, ARRAY_SIZE(o), NULL, 0),
			     1);
		host_console_capture(NULL, 0);
	}
}

KTEST(cmdline_random_bytes_never_crash)
{
	uint64_t st = host_seed() * 2654435761u + 1;
	static char msgs[4096];

	for (int round = 0; round < 20000; round++) {
		char line[96];
		size_t len = host_rand(&st) % (sizeof(line) - 1);
		char rest[8];
		OPTS;

		for (size_t i = 0; i < len; i++) {
			/* Mostly printable, with the separators and quotes
			 * that matter, and some arbitrary bytes. */
			static const char pick[] = "ktest=quiet init\"n-0x ";
			uint64_t r = host_rand(&st);

			line[i] = r % 4 ? pick[r % (sizeof(pick) - 1)]
					: (char)(r >> 8);
			if (!line[i])
				line[i] = ' ';
		}
		line[len] = '\0';
		host_console_capture(msgs, sizeof(msgs));
		KT_ASSERT(cmdline_parse(line, o, ARRAY_SIZE(o), rest,
					sizeof(rest)) >= 0);
		host_console_capture(NULL, 0);
		KT_ASSERT(strlen(rest) < sizeof(rest));
		KT_ASSERT(strlen(s_init) < sizeof(s_init));
	}
}

KTEST_SUITE(cmdline_suite, "cmdline", KTEST_CASE(cmdline_good_line),
	    KTEST_CASE(cmdline_flag_without_value),
	    KTEST_CASE(cmdline_garbage_is_reported_not_fatal),
	    KTEST_CASE(cmdline_random_bytes_never_crash));
