#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KVER
#
# Build vivid-expbuf.ko for kernel KVER with W=1 from a copy of the tree in
# build/KVER/src; the module ends up in build/KVER/vivid-expbuf.ko and the
# compiler output in build/KVER/build.log. Any compiler or modpost warning
# fails the build.

set -euo pipefail

kver=${1:?usage: build-module.sh KVER}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/$kver
src=$out/src
log=$out/build.log
kdir=/lib/modules/$kver/build

if [ ! -d "$kdir" ]; then
	echo "build-module: no headers for $kver at $kdir" >&2
	exit 1
fi

mkdir -p "$out"
rm -rf "$src" "$out/vivid-expbuf.ko"
mkdir -p "$src"
cp -r "$repo/Kbuild" "$repo/include" "$repo/drivers" "$src/"

echo "  MODULE  $kver"
set +e
make -C "$kdir" M="$src" W=1 modules > "$log" 2>&1
status=$?
set -e

# "Skipping BTF generation" is a notice of the Debian headers, not a warning.
warnings=$(grep -E 'warning:|WARNING:' "$log" | grep -v 'Skipping BTF generation' || true)
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
	grep -E 'error|warning|WARNING|Error' "$log" | grep -v 'Skipping BTF generation' >&2 || true
	echo "build-module: $kver: build failed (status $status, log $log)" >&2
	exit 1
fi
cp "$src/vivid-expbuf.ko" "$out/vivid-expbuf.ko"
echo "  KO      build/$kver/vivid-expbuf.ko"
