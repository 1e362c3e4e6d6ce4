# rivet - the one entry point. `make help` lists the targets.
#
# Everything builds out of tree into $(O) (default build/). Configuration is
# Kconfig (Debian's python3-kconfiglib): $(O)/.config, made from
# platform/$(BOARD)/defconfig when absent, and the generated header
# $(O)/include/generated/config.h that every kernel file sees.

O		?= build
BOARD		?= qemu_virt
CONFIG_FRAGMENTS ?=
# Debian's kconfiglib and pytest live in the system interpreter; a python3
# earlier on PATH (pyenv, venv) would not see them.
PY		?= /usr/bin/python3
V		?= 0
HARTS		?= 4
MEM		?= 512M
APPEND		?=
STRESS		?= 1
QEMU		?= qemu-system-riscv64
QEMU_MACHINE	?= virt
QEMU_BIOS	?= default
GDB		?= gdb-multiarch

ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(origin CROSS_COMPILE),undefined)
CROSS_COMPILE := $(shell if command -v riscv64-unknown-elf-gcc >/dev/null 2>&1; \
	then echo riscv64-unknown-elf-; else echo riscv64-linux-gnu-; fi)
endif
CC		:= $(CROSS_COMPILE)gcc
LD		:= $(CROSS_COMPILE)ld
OBJCOPY		:= $(CROSS_COMPILE)objcopy
OBJDUMP		:= $(CROSS_COMPILE)objdump
NM		:= $(CROSS_COMPILE)nm
HOSTCC		?= gcc

KCONFIG_CONFIG	:= $(O)/.config
CONFIG_H	:= $(O)/include/generated/config.h
export KCONFIG_CONFIG

.DEFAULT_GOAL := all
.PHONY: all run test test-host test-system bench profile debug gdb image sdcard check deps \
	menuconfig defconfig savedefconfig clean distclean help FORCE

# ---------------------------------------------------------------- config --

ifeq ($(filter %_defconfig menuconfig clean distclean help deps,$(MAKECMDGOALS)),)
-include $(KCONFIG_CONFIG)
endif

# CONFIG_FRAGMENTS: Kconfig fragments applied over the board's defconfig
# when $(O)/.config is first made (later lines win), e.g.
# kernel/configs/bench.config (debug checks off) for a benchmark build in
# its own O=.
$(KCONFIG_CONFIG): $(CONFIG_FRAGMENTS)
	@mkdir -p $(O)
	@echo "  DEFCONFIG platform/$(BOARD)/defconfig $(CONFIG_FRAGMENTS)"
	$(Q)cat platform/$(BOARD)/defconfig $(CONFIG_FRAGMENTS) > $(O)/defconfig.in
	$(Q)$(PY) -m defconfig --kconfig Kconfig $(O)/defconfig.in >/dev/null

$(CONFIG_H): $(KCONFIG_CONFIG) $(shell find . -name Kconfig -not -path './$(O)/*')
	@mkdir -p $(dir $@)
	@echo "  GENCONFIG $@"
	$(Q)$(PY) -m genconfig --header-path $@ Kconfig

%_defconfig:
	@test -f platform/$*/defconfig || { echo "no such board: platform/$*/defconfig"; exit 1; }
	@mkdir -p $(O)
	$(Q)$(PY) -m defconfig --kconfig Kconfig platform/$*/defconfig
	@mkdir -p $(dir $(CONFIG_H))
	$(Q)$(PY) -m genconfig --header-path $(CONFIG_H) Kconfig

menuconfig:
	@mkdir -p $(O)
	@test -f $(KCONFIG_CONFIG) || $(PY) -m defconfig --kconfig Kconfig platform/$(BOARD)/defconfig >/dev/null
	$(PY) -m menuconfig Kconfig

savedefconfig: $(KCONFIG_CONFIG)
	$(PY) -m savedefconfig --kconfig Kconfig --out $(O)/defconfig
	@echo "wrote $(O)/defconfig"

# ---------------------------------------------------------------- kernel --

kernel-objs-y :=
include kernel/objects.mk platform/objects.mk sbi/objects.mk

KINCLUDES := -Ikernel/include -Ikernel/arch/riscv/include -Iplatform/include \
	-Isbi/include -I$(O)/include
KCFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-std=gnu11 -O2 -g -ffreestanding -fno-common -fno-pie -fno-pic \
	-fno-stack-protector -fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-strict-aliasing -fno-jump-tables -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes \
	-include $(CONFIG_H) $(KINCLUDES) -MMD -MP
KAFLAGS := $(filter-out -std=gnu11 -Wmissing-prototypes,$(KCFLAGS)) -D__ASSEMBLER__
KLDFLAGS := -nostdlib -static --no-dynamic-linker -z max-page-size=4096 \
	--build-id=none -T kernel/arch/riscv/kernel.ld

KOBJS := $(addprefix $(O)/obj/,$(kernel-objs-y))

$(O)/obj/%.o: %.c $(CONFIG_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) $(KCFLAGS_OBJ) -c $< -o $@

# The IPC fast path is entered from entry.S with every user register in
# the trap frame, and leaves through arch_park_exit or a switch, or returns
# to entry.S for trap_handler and trap_return, which load them all again:
# nothing it is called with needs s1..s11 kept. Compiled with those
# as call-clobbered, it does not save them (11 stores a call). Only
# assembly may call into this file (entry.S, switch.S).
$(O)/obj/kernel/ipc/fastpath.o: KCFLAGS_OBJ := \
	$(foreach r,1 2 3 4 5 6 7 8 9 10 11,-fcall-used-s$(r))

$(O)/obj/%.o: %.S $(CONFIG_H)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KAFLAGS) -c $< -o $@

$(O)/rivet.elf: $(KOBJS) kernel/arch/riscv/kernel.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) $(KOBJS) -o $@ -Map $(O)/rivet.map

$(O)/rivet.bin: $(O)/rivet.elf
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -O binary $< $@

all: $(O)/rivet.bin

-include $(KOBJS:.o=.d)
include userland/build.mk

# ------------------------------------------------------------ host tests --
# Each tests/host/<name>/test.mk appends <name> to HOST_TESTS and sets
# <name>_SRCS (kernel and test sources), optionally <name>_LIBS,
# <name>_CFLAGS, <name>_ARGS (run-time arguments) and <name>_DEPS (files the
# run needs, e.g. dumped DTBs). Each test is built twice, under
# AddressSanitizer+UBSan and under ThreadSanitizer (STYLE.md section 8).

HOST_TESTS :=
include $(wildcard tests/host/*/test.mk)

HOST_CFLAGS := -DHOST_TEST -DCONFIG_MAX_HARTS=64 -DCONFIG_DEBUG=1 \
	-DCONFIG_DEBUG_SPINLOCK=1 -DCONFIG_LOCK_STATS=1 -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	-Wno-unused-parameter -fno-omit-frame-pointer -pthread \
	-Ikernel/include -Ikernel/arch/host/include -Iplatform/include \
	-Isbi/include -Itests/host/include
HOST_SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all
HOST_SAN_tsan := -fsanitize=thread

define host_test_rule
$(O)/host/$(2)/$(1): $$($(1)_SRCS) $$(wildcard kernel/include/*/*.h platform/include/*/*.h tests/host/include/*.h kernel/arch/host/include/*/*.h)
	@mkdir -p $$(dir $$@)
	@echo "  HOSTCC  $$@"
	$$(Q)$$(HOSTCC) $$(HOST_CFLAGS) $$(HOST_SAN_$(2)) $$($(1)_CFLAGS) $$($(1)_SRCS) -o $$@ $$($(1)_LIBS)
endef
$(foreach t,$(HOST_TESTS),$(foreach s,asan tsan,$(eval $(call host_test_rule,$(t),$(s)))))

HOST_BINS := $(foreach t,$(HOST_TESTS),$(O)/host/asan/$(t) $(O)/host/tsan/$(t))
HOST_DEPS := $(sort $(foreach t,$(HOST_TESTS),$($(t)_DEPS)))

host-tests: $(HOST_BINS) $(HOST_DEPS)

# Run every host test binary directly; KTAP on stdout.
test-host: host-tests
	$(Q)fail=0; $(foreach t,$(HOST_TESTS),$(foreach s,asan tsan, \
		echo "# host test $(s)/$(t)"; \
		$(O)/host/$(s)/$(t) $($(t)_ARGS) || fail=1;)) exit $$fail

# ------------------------------------------------------------- QEMU, tests --

# STRESS=0: init's word stress=off (no stress set before the shell, see
# docs/servers.md) after the command line's "--", which is added if absent;
# not when APPEND names another first program (init=NAME).
ifneq ($(filter run debug,$(MAKECMDGOALS)),)
ifeq ($(filter 0 1,$(STRESS)),)
$(error STRESS must be 1 (run the stress set before the shell) or 0 (skip it), not '$(STRESS)')
endif
endif
RUN_APPEND = $(if $(filter 0,$(STRESS)),$(if $(filter-out init=init,$(filter init=%,$(APPEND))),$(APPEND),$(strip $(APPEND) $(if $(filter --,$(APPEND)),,--) stress=off)),$(APPEND))

QEMU_ARGS = -machine $(QEMU_MACHINE) -smp $(HARTS) -m $(MEM) -nographic \
	-bios $(QEMU_BIOS) -kernel $(O)/rivet.bin \
	$(if $(RUN_APPEND),-append "$(RUN_APPEND)")

deps:
	$(Q)scripts/deps.sh

# U-Boot images: a FIT image for bootm, and an SD-card image whose
# extlinux.conf U-Boot's standard boot finds (APPEND= sets its command line).
image: $(O)/rivet.itb $(O)/sdcard.img

$(O)/rivet.itb: $(O)/rivet.bin scripts/rivet.its
	@echo "  MKIMAGE $@"
	$(Q)sed 's|RIVET_BIN|$(abspath $(O)/rivet.bin)|' scripts/rivet.its > $(O)/rivet.its
	$(Q)mkimage -q -E -B 0x1000 -f $(O)/rivet.its $@

sdcard: $(O)/sdcard.img

$(O)/sdcard.img: $(O)/rivet.bin $(O)/rivet.itb scripts/mksdcard.sh FORCE
	$(Q)scripts/mksdcard.sh $(O)/rivet.bin $@ "$(APPEND)"

# Without APPEND the kernel starts init from etc/manifest, which starts the
# servers, runs the stress set (STRESS=0 skips it) and starts the shell
# (docs/servers.md); the shell's `shutdown` powers off.
run: deps all
	$(QEMU) $(QEMU_ARGS)

# QEMU halted at the first instruction, waiting for gdb on localhost:1234.
debug: deps all
	@echo "QEMU waits for gdb on :1234; in another terminal: make gdb"
	$(QEMU) $(QEMU_ARGS) -s -S

gdb: all
	$(GDB) -q -x scripts/gdbinit $(O)/rivet.elf

# The README's test command. Host tests and QEMU boots are collected by
# pytest (tests/), which ends with its own summary line.
test: deps all host-tests $(O)/rivet.itb
	$(PY) -m pytest -p no:cacheprovider tests/ $(PYTEST_ARGS)

test-system: deps all
	$(PY) -m pytest -p no:cacheprovider tests/system $(PYTEST_ARGS)

# Benchmarks (scripts/bench, results in $(O)/bench/): QUICK=1 for a few
# minutes' sweep, ICOUNT=1 for instruction counts (-icount shift=0, one
# hart); BENCH_ARGS passes more options (scripts/bench --help).
bench: deps all
	$(Q)O=$(O) QEMU=$(QEMU) $(PY) scripts/bench $(if $(filter-out 0,$(QUICK)),--quick) \
		$(if $(filter-out 0,$(ICOUNT)),--icount) $(BENCH_ARGS)

# Instructions per fault by function (scripts/insn-profile: -icount and a
# TCG plugin counting instructions per address); PROFILE_ARGS passes
# options, e.g. PROFILE_ARGS="--ptlock single --lines as_fault".
profile: deps all
	$(Q)O=$(O) QEMU=$(QEMU) CROSS_COMPILE=$(CROSS_COMPILE) $(PY) scripts/insn-profile \
		--kernel $(O)/rivet.elf $(PROFILE_ARGS)

check: all host-tests
	$(Q)scripts/check.sh

clean:
	rm -rf $(O)/obj $(O)/host $(O)/rivet.* $(O)/test-logs

distclean:
	rm -rf $(O)

help:
	@echo "rivet make targets:"
	@echo "  all (default)    build $(O)/rivet.elf and $(O)/rivet.bin"
	@echo "  run              boot in QEMU virt to the shell (HARTS=$(HARTS) MEM=$(MEM) APPEND=...);"
	@echo "                   a short stress set and its table come first"
	@echo "                   (STRESS=0 skips it: init's boot option stress=off)"
	@echo "  test             host tests and QEMU boots, via pytest"
	@echo "  test-host        only the host unit tests, KTAP on stdout"
	@echo "  debug / gdb      QEMU waiting for gdb / gdb-multiarch attached to it"
	@echo "  deps             check and install the Debian packages needed"
	@echo "  check            format, header self-containment, -Werror build"
	@echo "  image / sdcard   FIT image (bootm) and SD-card image (U-Boot extlinux);"
	@echo "                   scripts/flash-sdcard /dev/sdX writes the card"
	@echo "  bench            split vs single page-table locking (QUICK=1: short,"
	@echo "                   ICOUNT=1: instructions per fault and per IPC round"
	@echo "                   trip); scripts/bench-plot"
	@echo "  profile          instructions per fault by function (-icount, a TCG"
	@echo "                   plugin; PROFILE_ARGS=\"--lines FUNC ...\")"
	@echo "  <board>_defconfig, menuconfig, savedefconfig"
	@echo "  clean, distclean"
	@echo "options: O=dir BOARD=$(BOARD) CROSS_COMPILE=$(CROSS_COMPILE) V=1"
	@echo "         CONFIG_FRAGMENTS=kernel/configs/bench.config (with a new O=:"
	@echo "         the benchmark build without debug checks)"
