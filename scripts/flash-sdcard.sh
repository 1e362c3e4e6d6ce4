#!/bin/sh
# flash-sdcard.sh - write build/sdcard.img (make sdcard) to an SD card for
# the VisionFive 2, carefully.
#
# usage: scripts/flash-sdcard.sh /dev/sdX [IMAGE]
#
# Refuses anything that is not a whole removable block device, or that
# has a mounted partition, and asks before writing. Needs root (or write
# access to the device). Nothing here runs in the tests: it writes a disk.
set -eu

dev=${1:-}
img=${2:-build/sdcard.img}

die() { echo "flash-sdcard: $*" >&2; exit 1; }

[ -n "$dev" ] || die "usage: $0 /dev/sdX [image]"
[ -f "$img" ] || die "no image $img (run: make sdcard)"
[ -b "$dev" ] || die "$dev is not a block device"
name=$(basename "$dev")
[ -e "/sys/block/$name" ] || die "$dev is a partition; give the whole disk"
[ "$(cat "/sys/block/$name/removable" 2>/dev/null || echo 0)" = 1 ] ||
	die "$dev is not a removable device; refusing"
if grep -q "^/dev/$name" /proc/mounts; then
	die "$dev has mounted partitions; unmount them first"
fi
size=$(($(cat "/sys/block/$name/size") * 512))
need=$(stat -c %s "$img")
[ "$size" -ge "$need" ] || die "$dev holds $size bytes, the image $need"

model=$(cat "/sys/block/$name/device/model" 2>/dev/null || echo unknown)
printf 'Write %s to %s (%s, %d MB)? Everything on it is lost. [y/N] ' \
	"$img" "$dev" "$model" $((size / 1000000))
read -r answer
[ "$answer" = y ] || [ "$answer" = Y ] || die "not written"
dd if="$img" of="$dev" bs=4M conv=fsync status=progress
sync
echo "flash-sdcard: done; put the card in the VisionFive 2 and power on"
