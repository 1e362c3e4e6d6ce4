kernel-objs-y += platform/dt.o platform/bootinfo.o platform/uart.o \
	platform/plic.o
