kernel-objs-y += sbi/sbi.o
