/*
 * insn-profile.c - a QEMU TCG plugin that counts executed guest
 * instructions per virtual address (built and driven by scripts/insn-profile)
 *
 *   qemu-system-riscv64 ... -plugin build/insn-profile.so,out=FILE
 *
 * At exit it writes one line per executed address, "VADDR COUNT" in hex
 * and decimal. Every instruction gets an inline counter (no helper call),
 * added before the instruction runs: an instruction that traps counts
 * once per attempt, as -icount counts it.
 *
 * QEMU 7.2 does not install its qemu-plugin.h, so the few declarations
 * this plugin needs are written out below (plugin API version 1).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
						enum qemu_plugin_op op,
						void *ptr, uint64_t imm);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct counter {
	uint64_t vaddr;
	uint64_t count;
};

/* Open-addressing table of pointers to counters; a counter never moves
 * once translated code points at it. */
static struct counter **table;
static size_t table_size = 1 << 16, used;
static char out_path[4096] = "insn-profile.txt";

static size_t slot_of(uint64_t vaddr, size_t size)
{
	return (size_t)((vaddr >> 1) * 0x9e3779b97f4a7c15ULL >> 20) &
	       (size - 1);
}

static void grow(void)
{
	size_t nsize = table_size * 2;
	struct counter **n = calloc(nsize, sizeof(*n));

	if (!n)
		abort();
	for (size_t i = 0; i < table_size; i++) {
		size_t s;

		if (!table[i])
			continue;
		for (s = slot_of(table[i]->vaddr, nsize); n[s];
		     s = (s + 1) & (nsize - 1))
			;
		n[s] = table[i];
	}
	free(table);
	table = n;
	table_size = nsize;
}

static struct counter *counter_for(uint64_t vaddr)
{
	size_t s;

	if (2 * (used + 1) > table_size)
		grow();
	for (s = slot_of(vaddr, table_size); table[s];
	     s = (s + 1) & (table_size - 1))
		if (table[s]->vaddr == vaddr)
			return table[s];
	table[s] = calloc(1, sizeof(struct counter));
	if (!table[s])
		abort();
	table[s]->vaddr = vaddr;
	used++;
	return table[s];
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		struct counter *c = counter_for(qemu_plugin_insn_vaddr(insn));

		qemu_plugin_register_vcpu_insn_exec_inline(
			insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->count, 1);
	}
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	FILE *f = fopen(out_path, "w");

	if (!f) {
		perror(out_path);
		return;
	}
	for (size_t i = 0; i < table_size; i++)
		if (table[i] && table[i]->count)
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", table[i]->vaddr,
				table[i]->count);
	fclose(f);
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
		    int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
	table = calloc(table_size, sizeof(*table));
	if (!table)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
