#pragma once
/* The in-kernel suites, run by kmain when the command line says ktest. */
int ktests_run(const char *suite);
