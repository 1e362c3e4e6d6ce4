#pragma once
/*
 * csr.h - RISC-V supervisor CSRs and their bits
 * (RISC-V Privileged Architecture v1.12, ch. 4 "Supervisor-Level ISA";
 * stimecmp from the Sstc extension v1.0).
 */
#include <kern/types.h>

#define CSR_SSTATUS	0x100
#define CSR_SIE		0x104
#define CSR_STVEC	0x105
#define CSR_SCOUNTEREN	0x106
#define CSR_SSCRATCH	0x140
#define CSR_SEPC	0x141
#define CSR_SCAUSE	0x142
#define CSR_STVAL	0x143
#define CSR_SIP		0x144
#define CSR_STIMECMP	0x14d
#define CSR_SATP	0x180
#define CSR_TIME	0xc01

/* sstatus */
#define SSTATUS_SIE	BIT(1)
#define SSTATUS_SPIE	BIT(5)
#define SSTATUS_SPP	BIT(8)
#define SSTATUS_VS	GENMASK(10, 9)
#define SSTATUS_FS	GENMASK(14, 13)
#define SSTATUS_SUM	BIT(18)
#define SSTATUS_MXR	BIT(19)
#define SSTATUS_SD	BIT(63)

/* sie / sip bits: supervisor software, timer, external */
#define IRQ_S_SOFT	1
#define IRQ_S_TIMER	5
#define IRQ_S_EXT	9
#define SIE_SSIE	BIT(IRQ_S_SOFT)
#define SIE_STIE	BIT(IRQ_S_TIMER)
#define SIE_SEIE	BIT(IRQ_S_EXT)

/* scause */
#define SCAUSE_INTR	BIT(63)
#define SCAUSE_CODE	GENMASK(62, 0)
#define SCAUSE_ECALL_U	8	/* = EXC_ECALL_U, for entry.S */

#ifndef __ASSEMBLER__
enum exc_code {
	EXC_INST_MISALIGNED = 0,
	EXC_INST_ACCESS = 1,
	EXC_ILLEGAL_INST = 2,
	EXC_BREAKPOINT = 3,
	EXC_LOAD_MISALIGNED = 4,
	EXC_LOAD_ACCESS = 5,
	EXC_STORE_MISALIGNED = 6,
	EXC_STORE_ACCESS = 7,
	EXC_ECALL_U = SCAUSE_ECALL_U,
	EXC_ECALL_S = 9,
	EXC_INST_PAGE_FAULT = 12,
	EXC_LOAD_PAGE_FAULT = 13,
	EXC_STORE_PAGE_FAULT = 15,
};
#endif

/* satp (Sv39) */
#define SATP_MODE_SV39	(8UL << 60)
#define SATP_ASID_SHIFT	44
#define SATP_ASID_MASK	0xffffUL
#define SATP_PPN	GENMASK(43, 0)

#ifndef __ASSEMBLER__
#define __csr_str(x) #x
#define csr_str(x) __csr_str(x)

#define csr_read(csr)                                                         \
	({                                                                    \
		unsigned long __v;                                            \
		__asm__ __volatile__("csrr %0, " csr_str(csr)                 \
				     : "=r"(__v) : : "memory");               \
		__v;                                                          \
	})
#define csr_write(csr, val)                                                   \
	__asm__ __volatile__("csrw " csr_str(csr) ", %0"                      \
			     : : "rK"(val) : "memory")
#define csr_set(csr, val)                                                     \
	__asm__ __volatile__("csrs " csr_str(csr) ", %0"                      \
			     : : "rK"(val) : "memory")
#define csr_clear(csr, val)                                                   \
	__asm__ __volatile__("csrc " csr_str(csr) ", %0"                      \
			     : : "rK"(val) : "memory")
#define csr_read_clear(csr, val)                                              \
	({                                                                    \
		unsigned long __v;                                            \
		__asm__ __volatile__("csrrc %0, " csr_str(csr) ", %1"         \
				     : "=r"(__v) : "rK"(val) : "memory");     \
		__v;                                                          \
	})

static inline uint64_t csr_time(void)
{
	return csr_read(CSR_TIME);
}
#endif
