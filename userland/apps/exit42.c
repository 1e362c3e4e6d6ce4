/*
 * exit42.c - prints nothing and returns 42, so the kernel's report of the
 * exit status can be checked ("init: exited with status 42").
 */
#include <rivet.h>

int main(int argc, char **argv)
{
	return 42;
}
