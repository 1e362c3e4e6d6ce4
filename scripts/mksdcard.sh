#!/bin/sh
# mksdcard.sh - an SD-card (or virtio-disk) image that U-Boot's standard
# boot finds by itself: an MBR partition table with one bootable FAT
# partition holding the kernel (rivet.bin, a RISC-V "Image" that booti
# loads), extlinux/extlinux.conf, and rivet.itb (FIT, for bootm) if built.
#
# usage: mksdcard.sh KERNEL OUT [APPEND]
#   APPEND: the kernel command line written to extlinux.conf ("append").
#
# Tools (Debian): sfdisk (fdisk), mkfs.vfat (dosfstools), mmd/mcopy (mtools).
# No root, no loop devices: the FAT file system is built in a file and
# copied into place.
set -eu

kernel=$1
out=$2
append=${3:-}
size_mb=64
start=2048	# first sector of the partition (1 MiB)

for tool in sfdisk mkfs.vfat mmd mcopy; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "mksdcard: $tool not found (run scripts/deps.sh)" >&2
		exit 1
	}
done
[ -f "$kernel" ] || { echo "mksdcard: no kernel $kernel" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -f "$out"
truncate -s ${size_mb}M "$out"
printf 'label: dos\nstart=%d, type=c, bootable\n' $start | sfdisk -q "$out"

truncate -s $((size_mb * 1024 * 1024 - start * 512)) "$tmp/boot.img"
mkfs.vfat -n RIVET "$tmp/boot.img" >/dev/null
mmd -i "$tmp/boot.img" ::/extlinux
{
	echo "# rivet - U-Boot standard boot (extlinux) entry"
	echo "default rivet"
	echo "label rivet"
	echo "	kernel /rivet.bin"
	[ -n "$append" ] && echo "	append $append"
	true
} > "$tmp/extlinux.conf"
mcopy -i "$tmp/boot.img" "$tmp/extlinux.conf" ::/extlinux/extlinux.conf
mcopy -i "$tmp/boot.img" "$kernel" ::/rivet.bin
# The FIT image too, when it has been built beside the kernel (make image).
itb=$(dirname "$kernel")/rivet.itb
[ -f "$itb" ] && mcopy -i "$tmp/boot.img" "$itb" ::/rivet.itb
dd if="$tmp/boot.img" of="$out" bs=512 seek=$start conv=notrunc status=none
echo "mksdcard: wrote $out (${size_mb} MiB; append: '${append}')"
