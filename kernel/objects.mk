kernel-objs-y += kernel/arch/riscv/head.o kernel/arch/riscv/early.o \
	kernel/arch/riscv/entry.o kernel/arch/riscv/trap.o \
	kernel/arch/riscv/panic.o kernel/arch/riscv/mmu.o \
	kernel/arch/riscv/smp.o kernel/arch/riscv/timer.o \
	kernel/arch/riscv/asid.o kernel/arch/riscv/kstack.o \
	kernel/arch/riscv/switch.o kernel/arch/riscv/page.o
kernel-objs-y += kernel/main.o
kernel-objs-y += kernel/lib/string.o kernel/lib/printf.o kernel/lib/printk.o \
	kernel/lib/errno.o kernel/lib/console.o kernel/lib/cmdline.o
kernel-objs-y += kernel/sync/spinlock.o kernel/sched/xcall.o kernel/sched/sched.o
kernel-objs-y += kernel/mm/memmap.o kernel/mm/frame.o kernel/mm/pt.o \
	kernel/mm/as.o kernel/mm/tlb.o
kernel-objs-y += kernel/test/ktest.o kernel/test/ktests.o \
	kernel/test/kt_smp.o kernel/test/kt_boot.o kernel/test/kt_mm.o \
	kernel/test/kt_sched.o kernel/test/kt_ipc.o kernel/test/kt_proc.o
kernel-objs-y += kernel/proc/proc.o kernel/proc/faultwait.o \
	kernel/arch/riscv/uaccess.o \
	kernel/lib/elf.o kernel/lib/cpio.o
kernel-objs-y += kernel/arch/riscv/initrd.o
kernel-objs-y += kernel/ipc/handle.o kernel/ipc/ipc.o kernel/ipc/syscall.o \
	kernel/ipc/fastpath.o kernel/ipc/device.o
