#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KVER
#
# Build vivid-expbuf.ko for kernel KVER with W=1 (scripts/kbuild.sh) from a
# copy of the tree in build/KVER/src; the module ends up in
# build/KVER/vivid-expbuf.ko and the compiler output in build/KVER/build.log.
# Any compiler or modpost warning fails the build.

set -euo pipefail

kver=${1:?usage: build-module.sh KVER}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/$kver
src=$out/src
log=$out/build.log
mkdir -p "$out"
rm -rf "$src" "$out/vivid-expbuf.ko"
mkdir -p "$src"
cp -r "$repo/Kbuild" "$repo/include" "$repo/drivers" "$src/"

echo "  MODULE  $kver"
"$repo/scripts/kbuild.sh" "$kver" "$src" "$log" || {
	echo "build-module: $kver: build failed" >&2
	exit 1
}
cp "$src/vivid-expbuf.ko" "$out/vivid-expbuf.ko"
echo "  KO      build/$kver/vivid-expbuf.ko"
