#pragma once
/*
 * pte.h (host) - the real Sv39 entry format. Encoding and decoding a PTE
 * is plain arithmetic, so the host tests use the RISC-V header itself and
 * check the page-table code against the bit layout the hardware walks.
 */
#include "../../../riscv/include/arch/pte.h"
