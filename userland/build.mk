# userland/build.mk - user programs and the boot archive (included by the
# top-level Makefile after the kernel rules).
#
#   $(O)/userland/libuser.a   crt0.o is linked separately; the rest:
#                             userland/lib/*.c, plus kernel/lib/printf.c
#                             (vsnprintf/snprintf), kernel/lib/string.c
#                             (memcpy, strlen, ...) and kernel/lib/errno.c
#                             (errno_name), compiled with the user flags
#   $(O)/userland/<app>.elf   one per userland/apps/<app>.c, per
#                             userland/stress/<program>.c (the stress
#                             programs and their runner) and per
#                             userland/servers/<server>.c, linked with
#                             userland/user.ld at USER_BASE; full debug info
#   $(O)/userland/root/       the staged tree: bin/<program> (the ELFs
#                             without debug info) and etc/manifest
#   $(O)/initrd.cpio          newc archive of that tree; names have no
#                             leading "./" (bin/hello, etc/manifest, ...)
#
# etc/manifest lists USER_MANIFEST, one word a line. The kernel starts the
# first (init) when booted without init=NAME; init starts the others in
# order and keeps them running (wait=stress: runs the stress set once and
# waits for it, before the shell). User space cannot read the archive, so
# init gets that same list compiled in (INIT_SERVERS, below); program
# words after " -- " on the kernel command line replace it
# (docs/servers.md).
#
# kernel/arch/riscv/initrd.S .incbin's the archive into the kernel image
# (initrd_start/initrd_end), so that object depends on it.
#
# `make userland` builds only this part; `make clean` removes it too.

USER_APPS := hello fault exit42 spin kread cowchild utest ipctest ipcpeer \
	devtest pagertest crashtest consoletest sysfuzz
USER_STRESS := pf-anon pf-samept pf-reclaim map-churn spawn-storm \
	ipc-pingpong stress
USER_SERVERS := init names console pager shell crashy
USER_MANIFEST := init names console pager wait=stress shell
USER_PROGS := $(USER_APPS) $(USER_STRESS) $(USER_SERVERS)

USER_DIR := $(O)/userland
USER_OBJDIR := $(USER_DIR)/obj
USER_AR := $(CROSS_COMPILE)ar

# The kernel's code model and ISA minus the privileged extensions, soft
# float (lp64: no FPU state to save), no PIC, no libc. Loops are not turned
# into memset/memcpy calls: kernel/lib/string.c implements those with such
# loops.
USER_CFLAGS := -march=rv64imac -mabi=lp64 -mcmodel=medany -std=gnu11 -O2 -g \
	-ffreestanding -fno-common -fno-pie -fno-pic -fno-stack-protector \
	-fno-omit-frame-pointer -fno-strict-aliasing \
	-fno-tree-loop-distribute-patterns \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-Iuserland/include -Ikernel/include -MMD -MP
USER_AFLAGS := $(filter-out -std=gnu11,$(USER_CFLAGS)) -D__ASSEMBLER__
USER_LDFLAGS := -march=rv64imac -mabi=lp64 -nostdlib -static -no-pie \
	-Wl,--no-dynamic-linker -Wl,-z,max-page-size=4096 \
	-Wl,-z,common-page-size=4096 -Wl,--build-id=none \
	-Wl,-T,userland/user.ld

USER_LIB_SRCS := userland/lib/syscall.c userland/lib/bench.c \
	userland/lib/ipc.c userland/lib/uktap.c userland/lib/proto.c \
	kernel/lib/string.c \
	userland/lib/stdio.c kernel/lib/printf.c kernel/lib/errno.c
USER_LIB_OBJS := $(patsubst %.c,$(USER_OBJDIR)/%.o,$(USER_LIB_SRCS))
USER_CRT0 := $(USER_OBJDIR)/userland/lib/crt0.o
USER_LIB := $(USER_DIR)/libuser.a
USER_APP_OBJS := $(patsubst %,$(USER_OBJDIR)/userland/apps/%.o,$(USER_APPS)) \
	$(patsubst %,$(USER_OBJDIR)/userland/stress/%.o,$(USER_STRESS)) \
	$(patsubst %,$(USER_OBJDIR)/userland/servers/%.o,$(USER_SERVERS))
USER_APP_ELFS := $(patsubst %,$(USER_DIR)/%.elf,$(USER_APPS))
USER_STRESS_ELFS := $(patsubst %,$(USER_DIR)/%.elf,$(USER_STRESS))
USER_SERVER_ELFS := $(patsubst %,$(USER_DIR)/%.elf,$(USER_SERVERS))
USER_ELFS := $(USER_APP_ELFS) $(USER_STRESS_ELFS) $(USER_SERVER_ELFS)
USER_ROOT := $(USER_DIR)/root
INITRD := $(O)/initrd.cpio

$(USER_OBJDIR)/%.o: %.c userland/build.mk
	@mkdir -p $(dir $@)
	@echo "  USERCC  $<"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(USER_OBJDIR)/%.o: %.S userland/build.mk
	@mkdir -p $(dir $@)
	@echo "  USERAS  $<"
	$(Q)$(CC) $(USER_AFLAGS) -c $< -o $@

$(USER_LIB): $(USER_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(USER_AR) rcs $@ $^

# init's list: the manifest after init itself.
$(USER_OBJDIR)/userland/servers/init.o: USER_CFLAGS += \
	-DINIT_SERVERS='"$(wordlist 2,$(words $(USER_MANIFEST)),$(USER_MANIFEST))"'

$(USER_APP_ELFS): $(USER_DIR)/%.elf: $(USER_OBJDIR)/userland/apps/%.o \
		$(USER_CRT0) $(USER_LIB) userland/user.ld
	@echo "  USERLD  $@"
	$(Q)$(CC) $(USER_LDFLAGS) $(USER_CRT0) $< $(USER_LIB) -lgcc -o $@

$(USER_STRESS_ELFS): $(USER_DIR)/%.elf: $(USER_OBJDIR)/userland/stress/%.o \
		$(USER_CRT0) $(USER_LIB) userland/user.ld
	@echo "  USERLD  $@"
	$(Q)$(CC) $(USER_LDFLAGS) $(USER_CRT0) $< $(USER_LIB) -lgcc -o $@

$(USER_SERVER_ELFS): $(USER_DIR)/%.elf: $(USER_OBJDIR)/userland/servers/%.o \
		$(USER_CRT0) $(USER_LIB) userland/user.ld
	@echo "  USERLD  $@"
	$(Q)$(CC) $(USER_LDFLAGS) $(USER_CRT0) $< $(USER_LIB) -lgcc -o $@

# Staged from scratch every time, so a removed app leaves no stale file.
# Owner 0:0, mtime 0 and renumbered inodes: the same inputs give the same
# archive bytes, and so the same kernel image.
$(INITRD): $(USER_ELFS) userland/build.mk
	@echo "  CPIO    $@"
	$(Q)rm -rf $(USER_ROOT) && mkdir -p $(USER_ROOT)/bin $(USER_ROOT)/etc
	$(Q)$(foreach a,$(USER_PROGS),$(OBJCOPY) --strip-debug \
		$(USER_DIR)/$(a).elf $(USER_ROOT)/bin/$(a) && \
		chmod 755 $(USER_ROOT)/bin/$(a) &&) true
	$(Q)printf '%s\n' $(USER_MANIFEST) > $(USER_ROOT)/etc/manifest
	$(Q)find $(USER_ROOT) -exec touch -h -d @0 {} +
	$(Q)cd $(USER_ROOT) && find bin etc | LC_ALL=C sort | \
		cpio -o -H newc -R 0:0 --reproducible --quiet > $(abspath $@).tmp
	$(Q)mv $@.tmp $@

# The .incbin is invisible to -MMD: name the archive here.
$(O)/obj/kernel/arch/riscv/initrd.o: $(INITRD)
$(O)/obj/kernel/arch/riscv/initrd.o: KAFLAGS += -DINITRD_PATH='"$(INITRD)"'

.PHONY: userland clean-userland
userland: $(INITRD)

clean: clean-userland
clean-userland:
	rm -rf $(USER_DIR) $(INITRD)

-include $(USER_LIB_OBJS:.o=.d) $(USER_CRT0:.o=.d) $(USER_APP_OBJS:.o=.d)
