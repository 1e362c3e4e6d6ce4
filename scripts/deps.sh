#!/bin/sh
# deps.sh - make sure the Debian 12 packages rivet needs are installed.
#
# Checks every package with one dpkg-query call (fast when nothing is
# missing). As root it installs only the missing ones, running
# `apt-get update` first and only when an install is needed. As any other
# user it prints the apt-get command to run and exits 1.
#
# On a machine without dpkg (not Debian) it only warns: the names below are
# Debian's, and the developer has to find the local equivalents.
#
# Exit: 0 all present (or installed now), 1 something is still missing.

set -eu

# Keep this list in step with README.md ("What you need").
# linux-source-6.12 (about 150 MB; in Debian 12 it comes from the
# bookworm-security suite, which a default install lists) carries the
# VisionFive 2 device tree that the host test of the FDT code compiles
# (tests/host/dt/test.mk).
PACKAGES="
make
gcc
libc6-dev
cpio
u-boot-tools
gcc-riscv64-unknown-elf
gcc-riscv64-linux-gnu
qemu-system-misc
opensbi
u-boot-qemu
device-tree-compiler
libfdt-dev
python3-kconfiglib
python3-pytest
python3-pexpect
python3-matplotlib
gdb-multiarch
dosfstools
mtools
fdisk
linux-source-6.12
"

# missing - print the packages of $PACKAGES that are not installed, one a
# line. dpkg-query prints nothing (and complains on stderr) for a name it
# has never heard of; a multi-arch package may print one line per
# architecture, and any installed instance counts.
missing() {
	# shellcheck disable=SC2086
	dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null |
	awk -v want="$PACKAGES" '
		$NF == "installed" { have[$1] = 1 }
		END {
			n = split(want, w, /[ \t\n]+/)
			for (i = 1; i <= n; i++)
				if (w[i] != "" && !(w[i] in have))
					print w[i]
		}'
}

# shellcheck disable=SC2086
count=$(echo $PACKAGES | wc -w)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg-query here (not Debian?); make sure the equivalents of these are installed:" >&2
	# shellcheck disable=SC2086
	echo "  "$PACKAGES >&2
	exit 0
fi

need=$(missing | tr '\n' ' ' | sed 's/ *$//')
if [ -z "$need" ]; then
	echo "deps: all $count packages present"
	exit 0
fi

echo "deps: missing: $need"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install them with:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends $need" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
apt-get update -qq </dev/null
echo "deps: apt-get install -y --no-install-recommends $need"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need </dev/null

left=$(missing | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$left" ]; then
	echo "deps: still missing after install: $left" >&2
	exit 1
fi
echo "deps: all $count packages present"
