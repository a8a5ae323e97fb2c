#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# exporter-build.sh KVER
#
# Build the test-only tests/exporter/vx-exporter.ko for kernel KVER with
# W=1 (scripts/kbuild.sh) into build/KVER/exporter/ (sources copied there,
# log in build.log).
# Any compiler or modpost warning fails the build.
#
# Exit status: 0 when vx-exporter.ko was built without a warning; 1
# otherwise; 2 on a usage error.

set -uo pipefail

kver=${1:-}
if [ -z "$kver" ]; then
	echo "usage: $0 KVER" >&2
	exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
bdir=$repo/build/$kver/exporter
rm -rf "$bdir"
mkdir -p "$bdir"
cp "$repo/tests/exporter/Kbuild" "$repo/tests/exporter/vx-exporter.c" \
	"$repo/tests/exporter/vx-exporter.h" "$bdir/"
echo "  MODULE  vx-exporter for $kver"
if ! "$repo/scripts/kbuild.sh" "$kver" "$bdir" "$bdir/build.log" \
	VX_INCLUDE="$repo/include" || [ ! -e "$bdir/vx-exporter.ko" ]; then
	echo "exporter-build: $kver: build failed" >&2
	exit 1
fi
echo "exporter-build: $kver: $bdir/vx-exporter.ko"
