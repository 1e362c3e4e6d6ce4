#!/bin/sh
# mksdcard.sh - an SD-card (or virtio-disk) image that U-Boot's standard
# boot finds by itself: a GPT whose partition 3 is a FAT file system
# holding the kernel (rivet.bin, a RISC-V "Image" that booti loads),
# extlinux/extlinux.conf, and rivet.itb (FIT, for bootm) if built.
#
# Why partition 3: the U-Boot StarFive ships in the VisionFive 2's SPI
# flash looks for its boot files only on partition 3 of the card
# (bootpart=3 in its include/configs/starfive-visionfive2.h; its
# extlinux path runs "sysboot mmc 1:3 fat ... extlinux/extlinux.conf"),
# and newer versions no longer fall back to the generic scan of every
# partition. Partitions 1 and 2 are small placeholders (1 MiB each,
# type "Linux reserved", no data) where StarFive's own images keep SPL
# and U-Boot. They deliberately do not carry StarFive's SPL/U-Boot type
# GUIDs: the card holds no boot loader, and the boot ROM must not take
# the placeholders for one. GPT, not MBR, because StarFive's own
# sdcard.img is GPT (conf/genimage-vf2.cfg in starfive-tech/VisionFive2);
# U-Boot numbers partitions the same way for both. Partition 3 carries
# the "legacy BIOS bootable" attribute, which U-Boot reads as "bootable",
# so its generic scan (mainline U-Boot, QEMU) looks there first.
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
start=6144	# first sector of the FAT partition (3 MiB)
gpt_tail=33	# sectors the backup GPT takes at the end of the disk
reserved=8DA63339-0007-60C0-C436-083AC8230908	# GPT type "Linux reserved"
basic_data=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7	# FAT, as StarFive's images

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
fat_sectors=$((size_mb * 2048 - start - gpt_tail))
sfdisk -q "$out" <<EOF
label: gpt
start=2048, size=2048, type=$reserved, name=placeholder1
start=4096, size=2048, type=$reserved, name=placeholder2
start=$start, size=$fat_sectors, type=$basic_data, name=boot, attrs=LegacyBIOSBootable
EOF

truncate -s $((fat_sectors * 512)) "$tmp/boot.img"
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
echo "mksdcard: wrote $out (${size_mb} MiB, FAT on partition 3; append: '${append}')"
