#!/bin/sh
# check.sh - `make check`: header self-containment, a -Werror build (done by
# make before this runs), the host tests, and clang-format.
#
# clang-format findings are reported; set CHECK_FORMAT_STRICT=1 to make
# them fatal (the tree is not yet fully formatted by the tool).
set -u
O=${O:-build}
CC=${CC:-riscv64-unknown-elf-gcc}
fail=0

echo "check: header self-containment"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in $(find kernel/include kernel/arch/riscv/include platform/include \
		sbi/include -name '*.h' | sort); do
	inc=${h#*/include/}
	case $h in kernel/arch/riscv/include/*) inc=${h#kernel/arch/riscv/include/};; esac
	printf '#include <%s>\n' "$inc" > "$tmp/t.c"
	if ! $CC -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
		-ffreestanding -nostdinc \
		-isystem "$($CC -print-file-name=include)" -std=gnu11 \
		-Wall -Wextra -Werror -include "$O/include/generated/config.h" \
		-Ikernel/include -Ikernel/arch/riscv/include -Iplatform/include \
		-Isbi/include -I"$O/include" -fsyntax-only "$tmp/t.c" \
		2>"$tmp/err"; then
		echo "check: $h does not compile on its own:"
		sed 's/^/    /' "$tmp/err"
		fail=1
	fi
done

echo "check: host tests"
make -s O="$O" test-host >"$tmp/host.log" 2>&1 || {
	echo "check: host tests failed:"; grep -E "not ok|ERROR|panic" "$tmp/host.log"; fail=1; }

if command -v clang-format >/dev/null 2>&1; then
	echo "check: clang-format"
	n=$(find kernel platform sbi tests/host -name '*.[ch]' | \
		xargs clang-format --dry-run 2>&1 | grep -c 'warning:' || true)
	echo "check: clang-format: $n lines differ from .clang-format"
	if [ "${CHECK_FORMAT_STRICT:-0}" = 1 ] && [ "$n" != 0 ]; then
		fail=1
	fi
fi

[ $fail = 0 ] && echo "check: ok"
exit $fail
