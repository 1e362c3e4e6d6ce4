/*
 * smp-insns.c - a QEMU TCG plugin that counts the guest instructions each
 * vCPU executes, split into user, kernel and firmware (M-mode OpenSBI) by
 * address (built and driven by scripts/smp-insns)
 *
 *   qemu-system-riscv64 -smp N ... -plugin build/smp-insns.so,out=FILE
 *
 * Unlike -icount (one hart only in QEMU 7.2) it works on many harts, and
 * unlike scripts/insn-profile.c (one shared counter per address, fine on
 * one vCPU) each vCPU adds only to its own counters. A translation block
 * counts all its instructions when it starts, so a block left early by a
 * trap counts in full: close to -icount's count, not equal (1 363 against
 * 1 365 instructions per fault for pf-anon on one hart).
 *
 * At exit it writes one line per vCPU that ran: "VCPU USER KERNEL FIRMWARE".
 * QEMU 7.2 does not install qemu-plugin.h; the declarations it needs are
 * written out below (plugin API version 1).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  int flags, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define NCPU 64
static uint64_t counts[NCPU][3] __attribute__((aligned(64)));
static char out_path[4096] = "smp-insns.txt";

/* @ud: the block's instruction count << 2 | its kind (0 user, 1 kernel,
 * 2 firmware). Only vCPU @vcpu's thread writes counts[vcpu]. */
static void exec_cb(unsigned int vcpu, void *ud)
{
	uintptr_t v = (uintptr_t)ud;

	if (vcpu < NCPU)
		counts[vcpu][v & 3] += v >> 2;
}

static void trans_cb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	uintptr_t kind = va >= 0xffffffff80000000ULL ? 1 :
			 (va >= 0x80000000ULL && va < 0x80200000ULL) ? 2 : 0;
	uintptr_t ud = (uintptr_t)qemu_plugin_tb_n_insns(tb) << 2 | kind;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, exec_cb, 0, (void *)ud);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	FILE *f = fopen(out_path, "w");

	if (!f)
		return;
	for (int i = 0; i < NCPU; i++)
		if (counts[i][0] | counts[i][1] | counts[i][2])
			fprintf(f, "%d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", i,
				counts[i][0], counts[i][1], counts[i][2]);
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans_cb);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
