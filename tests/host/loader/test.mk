# Host tests of the boot-archive readers: kernel/lib/elf.c (static RISC-V
# ELF64 executables) and kernel/lib/cpio.c (newc archives, the initramfs
# format), with riscv64 readelf, GNU cpio and the staged files as oracles.
#
# The inputs are made at test time under $(O)/host/loader/ from
# tests/host/loader/user_hello.c (a RISC-V program, never built for the
# host):
#   hello.elf      $(CROSS_COMPILE)gcc -nostdlib -static -Ttext=0x10000
#   hello-gc.elf   the same for rv64gc/lp64d
#   hello-rwx.elf  linked with -N: one RWX segment (must be refused)
#   hello-sep.elf  riscv64-linux-gnu-gcc -z separate-code: R, RX, R, RW
#   hello-pie.elf  riscv64-linux-gnu-gcc -static-pie: ET_DYN (refused)
# (the last two only when riscv64-linux-gnu-gcc is installed; otherwise
# their cases report a KTAP skip), each with `readelf -hlW` output beside
# it (<name>.readelf), and root.cpio, `find . | cpio -o -H newc` over a
# staged tree (root/: the ELF as init, files of 0..5 bytes, a long name,
# directories, a symlink, a hard link) with its `cpio -it` listing.
#
# The fuzz case runs for LOADER_FUZZ_SECONDS (default 5) per sanitizer
# build; run longer by hand with
#   build/host/asan/loader suite=loader_fuzz fuzz_seconds=600
#
# Optional, not part of `make test`: coverage-guided fuzzing of elf_parse
# with clang's libFuzzer (tests/host/loader/fuzz_elf.c), seeded with the
# ELFs above:
#   make fuzz-elf [FUZZ_SECONDS=600] [FUZZ_CLANG=clang-14]
# New inputs collect in $(O)/host/loader/fuzz-elf-corpus/, a crashing
# input is saved as $(O)/host/loader/fuzz-elf-crash-<hash>.

HOST_TESTS += loader

LOADER_DIR := $(O)/host/loader
loader_SRCS := tests/host/loader/loader_host.c \
	tests/host/loader/elf_oracle.c tests/host/loader/test_elf.c \
	tests/host/loader/test_cpio.c tests/host/loader/test_fuzz.c \
	kernel/lib/elf.c kernel/lib/cpio.c \
	kernel/lib/printf.c kernel/lib/printk.c kernel/lib/string.c \
	kernel/test/ktest.c tests/host/lib/host_main.c \
	kernel/arch/host/console.c
loader_CFLAGS := -DLOADER_DIR='"$(LOADER_DIR)"'
LOADER_FUZZ_SECONDS ?= 5
loader_ARGS := fuzz_seconds=$(LOADER_FUZZ_SECONDS)

LOADER_USER_SRC := tests/host/loader/user_hello.c
LOADER_READELF := $(CROSS_COMPILE)readelf
LOADER_USER_FLAGS := -O2 -ffreestanding -nostdlib -static \
	-Wl,--build-id=none
LOADER_LINUX_CC := $(shell command -v riscv64-linux-gnu-gcc 2>/dev/null)

# <name>: the compiler and flags that make $(LOADER_DIR)/<name>.elf
LOADER_ELF_hello := $(CC) -march=rv64imac -mabi=lp64 $(LOADER_USER_FLAGS) \
	-Ttext=0x10000
LOADER_ELF_hello-gc := $(CC) -march=rv64gc -mabi=lp64d $(LOADER_USER_FLAGS) \
	-Ttext=0x10000
LOADER_ELF_hello-rwx := $(CC) -march=rv64imac -mabi=lp64 \
	$(LOADER_USER_FLAGS) -Ttext=0x10000 -Wl,-N -Wl,--no-warn-rwx-segments
LOADER_NAMES := hello hello-gc hello-rwx
ifneq ($(LOADER_LINUX_CC),)
LOADER_ELF_hello-sep := $(LOADER_LINUX_CC) -march=rv64imac -mabi=lp64 \
	$(LOADER_USER_FLAGS) -Ttext=0x10000 -Wl,-z,separate-code
LOADER_ELF_hello-pie := $(LOADER_LINUX_CC) -march=rv64imac -mabi=lp64 \
	-O2 -ffreestanding -nostdlib -Wl,--build-id=none -static-pie -fPIE
LOADER_NAMES += hello-sep hello-pie
endif

LOADER_ELFS := $(patsubst %,$(LOADER_DIR)/%.elf,$(LOADER_NAMES))
LOADER_FILES := $(LOADER_ELFS) $(LOADER_ELFS:.elf=.elf.readelf) \
	$(LOADER_DIR)/root.cpio $(LOADER_DIR)/root.list
loader_DEPS := $(LOADER_FILES)

# `make build/host/asan/loader` alone makes the inputs too; the test
# binary reads them from $(LOADER_DIR) (compiled in) at run time.
$(O)/host/asan/loader $(O)/host/tsan/loader: \
	tests/host/loader/loader_host.h | $(LOADER_FILES)

$(LOADER_ELFS): $(LOADER_DIR)/%.elf: $(LOADER_USER_SRC) \
		tests/host/loader/test.mk
	@mkdir -p $(dir $@)
	@echo "  USERCC  $@"
	$(Q)$(LOADER_ELF_$*) $(LOADER_USER_SRC) -o $@

$(LOADER_DIR)/%.elf.readelf: $(LOADER_DIR)/%.elf
	$(Q)$(LOADER_READELF) -hlW $< > $@

# The staged tree: names of every length mod 4, file sizes 0..5 (all the
# data paddings), an executable init, a symlink and a hard link (newc
# keeps a hard link's data with its last name only).
LOADER_ROOT := $(LOADER_DIR)/root
$(LOADER_DIR)/root.cpio: $(LOADER_DIR)/hello.elf tests/host/loader/test.mk
	@echo "  CPIO    $@"
	$(Q)rm -rf $(LOADER_ROOT) && mkdir -p $(LOADER_ROOT)/etc \
		$(LOADER_ROOT)/dir/sub
	$(Q)cp $< $(LOADER_ROOT)/init && chmod 755 $(LOADER_ROOT)/init
	$(Q)printf 'rivet\n' > $(LOADER_ROOT)/etc/motd
	$(Q): > $(LOADER_ROOT)/empty
	$(Q)printf 1 > $(LOADER_ROOT)/a && printf 22 > $(LOADER_ROOT)/bb && \
		printf 333 > $(LOADER_ROOT)/ccc && \
		printf 4444 > $(LOADER_ROOT)/dir/dddd && \
		printf 55555 > $(LOADER_ROOT)/dir/sub/eeeee
	$(Q)printf 'long\n' > $(LOADER_ROOT)/dir/sub/a-file-name-longer-than-the-hundred-bytes-of-a-tar-header-to-show-newc-has-no-such-limit-at-all.txt
	$(Q)printf 'hard link\n' > $(LOADER_ROOT)/hard1 && \
		ln $(LOADER_ROOT)/hard1 $(LOADER_ROOT)/hard2
	$(Q)ln -s etc/motd $(LOADER_ROOT)/link
	$(Q)cd $(LOADER_ROOT) && find . | LC_ALL=C sort | \
		cpio -o -H newc --quiet > ../root.cpio.tmp
	$(Q)mv $@.tmp $@

$(LOADER_DIR)/root.list: $(LOADER_DIR)/root.cpio
	$(Q)cpio -it --quiet < $< > $@

# ------------------------------------------------- optional: libFuzzer --
FUZZ_CLANG ?= clang
FUZZ_SECONDS ?= 60
LOADER_FUZZ_BIN := $(LOADER_DIR)/fuzz_elf
LOADER_FUZZ_SRCS := tests/host/loader/fuzz_elf.c \
	tests/host/loader/elf_oracle.c kernel/lib/elf.c kernel/lib/printf.c \
	kernel/lib/string.c

.PHONY: fuzz-elf
fuzz-elf: $(LOADER_FUZZ_BIN) $(LOADER_ELFS)
	@mkdir -p $(LOADER_DIR)/fuzz-elf-corpus
	$(Q)cp $(LOADER_ELFS) $(LOADER_DIR)/fuzz-elf-corpus/
	$(LOADER_FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-artifact_prefix=$(LOADER_DIR)/fuzz-elf- \
		$(LOADER_DIR)/fuzz-elf-corpus

$(LOADER_FUZZ_BIN): $(LOADER_FUZZ_SRCS) tests/host/loader/loader_host.h \
		kernel/include/kern/elf.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CLANG) -DHOST_TEST -DLOADER_LIBFUZZER -std=gnu11 -g -O1 \
		-Wall -Wextra -Werror -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Ikernel/include -Ikernel/arch/host/include -Itests/host/include \
		$(LOADER_FUZZ_SRCS) -o $@
