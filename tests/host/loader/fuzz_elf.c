/*
 * fuzz_elf.c - libFuzzer entry point for elf_parse. Built and run only by
 * `make fuzz-elf` (tests/host/loader/test.mk), with clang's
 * -fsanitize=fuzzer,address,undefined; `make test` uses the seeded loop in
 * test_fuzz.c instead.
 *
 * Each input is one candidate file, in a buffer of exactly its size. Any
 * read outside it is an AddressSanitizer report; any difference from the
 * independent oracle (elf_oracle.c), or a message without its "elf: "
 * prefix or past its buffer, aborts with the reason on stderr.
 */
#ifndef LOADER_LIBFUZZER
#error "fuzz_elf.c is built only by `make fuzz-elf`"
#endif

#include "loader_host.h"

#include <kern/errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	char err[96], diff[300];
	const char *why;
	int ret;

	memset(err, 0x5a, sizeof(err));
	/* The last byte picks a short error buffer now and then. */
	ret = elf_parse(data, size, &img, err,
			size && data[size - 1] < 8 ? data[size - 1] : 64);
	why = loader_elf_compare(data, size, ret, &img, diff, sizeof(diff));
	if (!why && ret && size && data[size - 1] >= 8 &&
	    strncmp(err, "elf: ", 5))
		why = "message without \"elf: \"";
	if (!why && (unsigned char)err[sizeof(err) - 1] != 0x5a)
		why = "message past its buffer";
	if (why) {
		fprintf(stderr, "fuzz_elf: %s (ret %d, \"%.64s\")\n", why, ret,
			err);
		abort();
	}
	return 0;
}
