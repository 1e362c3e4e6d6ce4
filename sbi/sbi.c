/*
 * sbi.c - the SBI calls rivet makes (RISC-V SBI specification v1.0)
 *
 * Calling convention (spec ch. 3): a7 = extension id, a6 = function id,
 * a0..a5 arguments; the firmware returns error in a0 and value in a1.
 * Legacy extensions (0x00-0x0F) take no function id and return only a0.
 */
#include <sbi/sbi.h>
#include <kern/panic.h>
#include <kern/printf.h>

struct sbi_info sbi_info;

struct sbi_ret sbi_ecall(unsigned long ext, unsigned long fid,
			 unsigned long a0, unsigned long a1, unsigned long a2,
			 unsigned long a3, unsigned long a4, unsigned long a5)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r4 __asm__("a4") = a4;
	register unsigned long r5 __asm__("a5") = a5;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;
	struct sbi_ret ret;

	__asm__ __volatile__("ecall"
			     : "+r"(r0), "+r"(r1)
			     : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6),
			       "r"(r7)
			     : "memory");
	ret.error = (long)r0;
	ret.value = (long)r1;
	return ret;
}

#define ECALL0(e, f)		sbi_ecall(e, f, 0, 0, 0, 0, 0, 0)
#define ECALL1(e, f, a)		sbi_ecall(e, f, a, 0, 0, 0, 0, 0)

const char *sbi_err_name(long err)
{
	switch (err) {
	case SBI_SUCCESS: return "success";
	case SBI_ERR_FAILED: return "failed";
	case SBI_ERR_NOT_SUPPORTED: return "not supported";
	case SBI_ERR_INVALID_PARAM: return "invalid parameter";
	case SBI_ERR_DENIED: return "denied";
	case SBI_ERR_INVALID_ADDRESS: return "invalid address";
	case SBI_ERR_ALREADY_AVAILABLE: return "already available";
	case SBI_ERR_ALREADY_STARTED: return "already started";
	case SBI_ERR_ALREADY_STOPPED: return "already stopped";
	default: return "unknown error";
	}
}

long sbi_probe_extension(unsigned long ext)
{
	struct sbi_ret r = ECALL1(SBI_EXT_BASE, 3, ext);

	return r.error ? 0 : r.value;
}

bool sbi_has(unsigned long ext)
{
	switch (ext) {
	case SBI_EXT_TIME: return sbi_info.time;
	case SBI_EXT_IPI: return sbi_info.ipi;
	case SBI_EXT_RFENCE: return sbi_info.rfence;
	case SBI_EXT_HSM: return sbi_info.hsm;
	case SBI_EXT_SRST: return sbi_info.srst;
	default: return sbi_probe_extension(ext) != 0;
	}
}

void sbi_init(void)
{
	struct sbi_ret r = ECALL0(SBI_EXT_BASE, 0);	/* get_spec_version */

	if (r.error)
		panic("sbi: firmware does not answer BASE get_spec_version "
		      "(%s)", sbi_err_name(r.error));
	sbi_info.spec_major = (r.value >> 24) & 0x7f;
	sbi_info.spec_minor = r.value & 0xffffff;
	sbi_info.impl_id = ECALL0(SBI_EXT_BASE, 1).value;
	sbi_info.impl_version = ECALL0(SBI_EXT_BASE, 2).value;
	sbi_info.time = sbi_probe_extension(SBI_EXT_TIME);
	sbi_info.ipi = sbi_probe_extension(SBI_EXT_IPI);
	sbi_info.rfence = sbi_probe_extension(SBI_EXT_RFENCE);
	sbi_info.hsm = sbi_probe_extension(SBI_EXT_HSM);
	sbi_info.srst = sbi_probe_extension(SBI_EXT_SRST);
	sbi_info.legacy_putchar = sbi_probe_extension(SBI_EXT_LEGACY_PUTCHAR);

	/* TIME and IPI have legacy fallbacks (extensions 0x00 and 0x04);
	 * without HSM the other harts cannot be started: one hart runs. */
	if (!sbi_info.time && !sbi_probe_extension(SBI_EXT_LEGACY_SET_TIMER))
		panic("sbi: neither the TIME extension nor legacy set_timer "
		      "is available");
	if (!sbi_info.ipi && !sbi_probe_extension(0x04))
		panic("sbi: neither the IPI extension nor legacy send_ipi "
		      "is available");
}

void sbi_print_info(void)
{
	static const char *const impls[] = {
		"Berkeley BBL", "OpenSBI", "Xvisor", "KVM", "RustSBI",
		"Diosix", "Coffer",
	};
	const char *impl = sbi_info.impl_id < ARRAY_SIZE(impls)
				   ? impls[sbi_info.impl_id] : "unknown";

	printk("sbi: spec v%lu.%lu, %s v%lu.%lu; extensions:%s%s%s%s%s\n",
	       sbi_info.spec_major, sbi_info.spec_minor, impl,
	       sbi_info.impl_version >> 16, sbi_info.impl_version & 0xffff,
	       sbi_info.time ? " TIME" : "", sbi_info.ipi ? " IPI" : "",
	       sbi_info.rfence ? " RFENCE" : "", sbi_info.hsm ? " HSM" : "",
	       sbi_info.srst ? " SRST" : "");
	if (!sbi_info.hsm)
		printk("sbi: no HSM extension: only the boot hart will run\n");
	if (!sbi_info.srst)
		printk("sbi: no SRST extension: shutdown parks the harts\n");
}

long sbi_set_timer(uint64_t when)
{
	if (sbi_info.time)
		return ECALL1(SBI_EXT_TIME, 0, when).error;
	return ECALL1(SBI_EXT_LEGACY_SET_TIMER, 0, when).error;
}

long sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
	if (sbi_info.ipi)
		return sbi_ecall(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0,
				 0, 0, 0).error;
	/* Legacy send_ipi takes a pointer to a mask; only base 0 fits. */
	if (hart_mask_base >= 64)
		return SBI_ERR_NOT_SUPPORTED;
	{
		unsigned long m = hart_mask << hart_mask_base;

		return ECALL1(0x04, 0, (unsigned long)&m).error;
	}
}

long sbi_remote_fence_i(unsigned long hart_mask, unsigned long base)
{
	return sbi_ecall(SBI_EXT_RFENCE, 0, hart_mask, base, 0, 0, 0, 0).error;
}

long sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long base,
			   unsigned long start, unsigned long size)
{
	return sbi_ecall(SBI_EXT_RFENCE, 1, hart_mask, base, start, size, 0,
			 0).error;
}

long sbi_remote_sfence_vma_asid(unsigned long hart_mask, unsigned long base,
				unsigned long start, unsigned long size,
				unsigned long asid)
{
	return sbi_ecall(SBI_EXT_RFENCE, 2, hart_mask, base, start, size, asid,
			 0).error;
}

long sbi_hart_start(unsigned long hartid, unsigned long start_pa,
		    unsigned long opaque)
{
	if (!sbi_info.hsm)
		return SBI_ERR_NOT_SUPPORTED;
	return sbi_ecall(SBI_EXT_HSM, 0, hartid, start_pa, opaque, 0, 0,
			 0).error;
}

long sbi_hart_stop(void)
{
	return ECALL0(SBI_EXT_HSM, 1).error;
}

long sbi_hart_get_status(unsigned long hartid, long *status)
{
	struct sbi_ret r = ECALL1(SBI_EXT_HSM, 2, hartid);

	*status = r.value;
	return r.error;
}

long sbi_system_reset(unsigned long type, unsigned long reason)
{
	if (!sbi_info.srst)
		return SBI_ERR_NOT_SUPPORTED;
	return sbi_ecall(SBI_EXT_SRST, 0, type, reason, 0, 0, 0, 0).error;
}

void sbi_console_putchar(int c)
{
	ECALL1(SBI_EXT_LEGACY_PUTCHAR, 0, (unsigned long)c);
}
