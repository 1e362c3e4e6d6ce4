/*
 * user_hello.c - the user program whose ELF the loader tests parse. Built
 * by the RISC-V cross compiler (tests/host/loader/test.mk), never by the
 * host: a static executable with no C library, linked at -Ttext=0x10000.
 *
 * It has read-only data, initialised data and a bss bigger than a page, so
 * the linker emits a text segment and a data segment whose p_memsz exceeds
 * p_filesz. It never runs; it only has to look like a real program.
 */
static const char msg[] = "hello from rivet user space";
int counter = 5; /* .data */
char buf[8192];	 /* .bss */

void _start(void);

void _start(void)
{
	for (;;) {
		buf[counter & (sizeof(buf) - 1)] = msg[counter % sizeof(msg)];
		counter++;
	}
}
