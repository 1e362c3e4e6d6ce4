/*
 * cowchild.c - the other half of utest's copy-on-write test
 *
 * argv[1] = the shared region's address (hex), argv[2] = its pages. The
 * parent filled every page with 'P' before spawning us and writes 'Q' over
 * its own copy right after: we must see 'P' throughout, and our own 'C'
 * after we write it. Exit status: the number of wrong bytes seen (max 99).
 */
#include <rivet.h>

static unsigned long parse_hex(const char *s)
{
	unsigned long v = 0;

	if (s[0] == '0' && s[1] == 'x')
		s += 2;
	for (; *s; s++)
		v = v * 16 + (unsigned long)(*s <= '9' ? *s - '0'
						       : (*s | 0x20) - 'a' + 10);
	return v;
}

int main(int argc, char **argv)
{
	volatile unsigned char *p;
	unsigned long pages, bad = 0;

	if (argc < 3)
		return 99;
	p = (volatile unsigned char *)parse_hex(argv[1]);
	pages = parse_hex(argv[2]);
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned long i = 0; i < pages * PAGE_SIZE; i += 512)
			if (p[i] != 'P')
				bad++;
		sys_sleep(1000000);	/* let the parent write meanwhile */
	}
	for (unsigned long i = 0; i < pages * PAGE_SIZE; i += 512)
		p[i] = 'C';
	for (unsigned long i = 0; i < pages * PAGE_SIZE; i += 512)
		if (p[i] != 'C')
			bad++;
	return bad > 99 ? 99 : (int)bad;
}
