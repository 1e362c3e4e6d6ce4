#pragma once
/*
 * sbi.h - S-mode client of the RISC-V Supervisor Binary Interface
 * (RISC-V SBI specification v1.0: ch. 3 binary encoding, 4 base, 6 timer,
 * 7 IPI, 8 RFENCE, 9 HSM, 10 SRST; legacy extensions ch. 5).
 *
 * Every call returns the SBI error (0 or a negative SBI_ERR_*) and, where
 * there is one, a value through an out-pointer.
 */
#include <kern/types.h>

#define SBI_SUCCESS			0
#define SBI_ERR_FAILED			-1
#define SBI_ERR_NOT_SUPPORTED		-2
#define SBI_ERR_INVALID_PARAM		-3
#define SBI_ERR_DENIED			-4
#define SBI_ERR_INVALID_ADDRESS		-5
#define SBI_ERR_ALREADY_AVAILABLE	-6
#define SBI_ERR_ALREADY_STARTED		-7
#define SBI_ERR_ALREADY_STOPPED		-8

/* Extension ids */
#define SBI_EXT_LEGACY_SET_TIMER	0x00
#define SBI_EXT_LEGACY_PUTCHAR		0x01
#define SBI_EXT_LEGACY_GETCHAR		0x02
#define SBI_EXT_BASE			0x10
#define SBI_EXT_TIME			0x54494d45	/* "TIME" */
#define SBI_EXT_IPI			0x735049	/* "sPI" */
#define SBI_EXT_RFENCE			0x52464e43	/* "RFNC" */
#define SBI_EXT_HSM			0x48534d	/* "HSM" */
#define SBI_EXT_SRST			0x53525354	/* "SRST" */

/* HSM hart states (spec table 9.1) */
#define SBI_HSM_STARTED		0
#define SBI_HSM_STOPPED		1
#define SBI_HSM_START_PENDING	2
#define SBI_HSM_STOP_PENDING	3

/* SRST */
#define SBI_SRST_SHUTDOWN	0
#define SBI_SRST_COLD_REBOOT	1
#define SBI_SRST_REASON_NONE	0
#define SBI_SRST_REASON_FAILURE	1

struct sbi_ret {
	long error;
	long value;
};

struct sbi_ret sbi_ecall(unsigned long ext, unsigned long fid,
			 unsigned long a0, unsigned long a1, unsigned long a2,
			 unsigned long a3, unsigned long a4, unsigned long a5);

/*
 * sbi_init - probe the firmware: spec version, implementation, and which
 * of TIME, IPI, RFENCE, HSM, SRST exist. Panics naming the extension if
 * one the kernel cannot work without is missing and has no fallback.
 */
void sbi_init(void);
void sbi_print_info(void);
const char *sbi_err_name(long err);

bool sbi_has(unsigned long ext);
long sbi_probe_extension(unsigned long ext);

long sbi_set_timer(uint64_t when);
long sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
long sbi_remote_fence_i(unsigned long hart_mask, unsigned long base);
long sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long base,
			   unsigned long start, unsigned long size);
long sbi_remote_sfence_vma_asid(unsigned long hart_mask, unsigned long base,
				unsigned long start, unsigned long size,
				unsigned long asid);
long sbi_hart_start(unsigned long hartid, unsigned long start_pa,
		    unsigned long opaque);
long sbi_hart_stop(void);
long sbi_hart_get_status(unsigned long hartid, long *status);
long sbi_system_reset(unsigned long type, unsigned long reason);
/* Legacy console (extension 0x01): the earliest fallback only. */
void sbi_console_putchar(int c);

struct sbi_info {
	unsigned long spec_major, spec_minor;
	unsigned long impl_id, impl_version;
	bool time, ipi, rfence, hsm, srst;
	bool legacy_putchar;
};
extern struct sbi_info sbi_info;	/* immutable after sbi_init() */
