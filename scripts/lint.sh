#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: run checkpatch.pl --strict on every tracked C source file: the
# kernel sources (*.c and *.h under drivers/ and include/) and the userspace
# tests and tools (tests/, utils/), which may use the C library's fixed-size
# types (uint32_t) where the kernel uses u32, and __attribute__ where the
# kernel has macros such as __printf. Each file is one check: it
# passes when checkpatch reports no error, warning or check. Results go to
# build/lint/results.txt ("pass FILE" / "fail FILE" lines); problems are
# printed. checkpatch.pl, spelling.txt and const_structs.checkpatch come from
# Debian's linux-source-6.1 and are extracted into build/checkpatch/.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cpdir=$repo/build/checkpatch
outdir=$repo/build/lint
tarball=/usr/src/linux-source-6.1.tar.xz

if [ ! -x "$cpdir/checkpatch.pl" ]; then
	if [ ! -r "$tarball" ]; then
		echo "lint: $tarball missing (run scripts/deps.sh)" >&2
		exit 1
	fi
	echo "  EXTRACT checkpatch.pl from $tarball"
	rm -rf "$cpdir.tmp"
	mkdir -p "$cpdir.tmp"
	tar -xJf "$tarball" -C "$cpdir.tmp" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf "$cpdir"
	mv "$cpdir.tmp" "$cpdir"
fi

cd "$repo"
mkdir -p "$outdir"
: > "$outdir/results.txt"
failed=0
if git rev-parse --git-dir > /dev/null 2>&1; then
	files=$(git ls-files -- 'drivers/*.[ch]' 'include/*.[ch]' \
		'tests/*.[ch]' 'utils/*.[ch]')
else
	files=$(find drivers include tests utils -name '*.[ch]' | sort)
fi
for f in $files; do
	[ -e "$f" ] || continue
	log=$outdir/$(echo "$f" | tr / _).log
	ignore=FILE_PATH_CHANGES
	case "$f" in
	tests/* | utils/*)
		ignore=$ignore,PREFER_KERNEL_TYPES,PREFER_DEFINED_ATTRIBUTE_MACRO ;;
	include/media/vb2x-compat.h)
		# the one place that tests kernel versions, by design
		ignore=$ignore,LINUX_VERSION_CODE,CONSTANT_COMPARISON ;;
	esac
	perl "$cpdir/checkpatch.pl" --strict --no-tree --ignore "$ignore" \
		--color=never -f "$f" > "$log" 2>&1 || true
	if grep -q '^total: 0 errors, 0 warnings, 0 checks' "$log"; then
		echo "pass $f" >> "$outdir/results.txt"
	else
		echo "fail $f" >> "$outdir/results.txt"
		echo "lint: $f:"
		grep -v '^$' "$log" | grep -v '^NOTE: \|^total:\|has style problems' || true
		failed=$((failed + 1))
	fi
done
total=$(wc -l < "$outdir/results.txt")
echo "  LINT    $((total - failed)) of $total files clean"
[ $failed -eq 0 ]
