#pragma once
#include <kern/types.h>

/*
 * machine_poweroff - print "rivet: powering off" and shut down through SBI
 * SRST. Where there is no shutdown device (sifive_u, a board whose firmware
 * lacks SRST), print a final line and park every hart.
 * @failure: report a failure reason to the firmware (panics).
 */
__noreturn void machine_poweroff(bool failure);
