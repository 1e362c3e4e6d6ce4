# Host tests of the device-tree reader (platform/dt.c) and the boot-info
# extraction (platform/bootinfo.c), with libfdt as the oracle.
#
# The trees are made at test time under $(O)/host/dtb/: QEMU dumps its own
# for virt (1, 4, 8 harts in two NUMA nodes, and 80 harts, more than
# BI_MAX_HARTS) and sifive_u, and the VisionFive 2 tree is compiled from
# Linux's sources in Debian's linux-source-6.12, which scripts/deps.sh
# installs (the sources stay in the tarball; only the .dtb is kept).
# Without the tarball the VisionFive 2 case reports a KTAP skip, which
# tests/test_host.py counts as a failure (MUST_RUN).

HOST_TESTS += dt

DT_DTB_DIR := $(O)/host/dtb
dt_SRCS := tests/host/dt/dt_host.c tests/host/dt/test_walk.c \
	tests/host/dt/test_bootinfo.c tests/host/dt/test_malformed.c \
	tests/host/dt/test_fuzz.c \
	platform/dt.c platform/bootinfo.c \
	kernel/lib/printf.c kernel/lib/printk.c kernel/lib/string.c \
	kernel/test/ktest.c tests/host/lib/host_main.c \
	kernel/arch/host/console.c
dt_LIBS := -lfdt
dt_CFLAGS := -DDT_DTB_DIR='"$(DT_DTB_DIR)"'

DT_QEMU_DTBS := $(DT_DTB_DIR)/virt-1.dtb $(DT_DTB_DIR)/virt-4.dtb \
	$(DT_DTB_DIR)/virt-8-numa.dtb $(DT_DTB_DIR)/virt-80.dtb \
	$(DT_DTB_DIR)/sifive_u-5.dtb

# machine, then the rest of QEMU's command line
DT_QEMU_virt-1 := virt -smp 1 -m 128M
DT_QEMU_virt-4 := virt -smp 4 -m 512M
DT_QEMU_virt-8-numa := virt -smp 8 -m 3G \
	-object memory-backend-ram,id=m0,size=1G \
	-object memory-backend-ram,id=m1,size=2G \
	-numa node,cpus=0-3,memdev=m0 -numa node,cpus=4-7,memdev=m1
DT_QEMU_virt-80 := virt -smp 80 -m 256M
DT_QEMU_sifive_u-5 := sifive_u -smp 5

$(DT_QEMU_DTBS): $(DT_DTB_DIR)/%.dtb: tests/host/dt/test.mk
	@mkdir -p $(dir $@)
	@echo "  DUMPDTB $@"
	$(Q)$(QEMU) -machine $(firstword $(DT_QEMU_$*)),dumpdtb=$@ \
		$(wordlist 2,99,$(DT_QEMU_$*)) -nographic >$@.log 2>&1 && \
		rm -f $@.log || { cat $@.log; rm -f $@; exit 1; }

# VisionFive 2 (JH7110), from Linux 6.12's device-tree sources.
DT_LINUX_TAR := $(firstword $(wildcard /usr/src/linux-source-6.12*.tar.*))
DT_VF2_DIR := arch/riscv/boot/dts/starfive
DT_VF2_DTS := $(DT_VF2_DIR)/jh7110-starfive-visionfive-2-v1.3b.dts
DT_VF2 := $(DT_DTB_DIR)/visionfive2-v1.3b.dtb

ifneq ($(DT_LINUX_TAR),)
DT_DTBS := $(DT_QEMU_DTBS) $(DT_VF2)

$(DT_VF2): $(DT_LINUX_TAR) tests/host/dt/test.mk
	@mkdir -p $(dir $@)
	@echo "  DTC     $@"
	$(Q)rm -rf $@.src && mkdir -p $@.src
	$(Q)tar -xf $< -C $@.src --strip-components=1 --wildcards \
		'*/$(DT_VF2_DIR)/*' '*/include/dt-bindings/*'
	$(Q)cpp -nostdinc -I $@.src/include -I $@.src/$(DT_VF2_DIR) \
		-undef -D__DTS__ \
		-x assembler-with-cpp $@.src/$(DT_VF2_DTS) -o $@.pp
	$(Q)dtc -q -I dts -O dtb -o $@ $@.pp
	$(Q)rm -rf $@.src $@.pp
else
DT_DTBS := $(DT_QEMU_DTBS)
endif

dt_ARGS := $(DT_DTBS)
dt_DEPS := $(DT_DTBS)
