#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what `make demo` does. Build vivid-expbuf.ko for the newest
# installed 6.1 kernel and the utils, boot that kernel in QEMU with a cirrus
# display, and show captured frames on it with no copy: drm-show captures
# from vivid-expbuf, exports every buffer with VIDIOC_EXPBUF, imports the
# dma-bufs into the cirrus DRM device with PRIME and flips them onto the
# screen (scripts/display-check.sh --demo). A QEMU screendump of the held
# XBGR32 frame becomes out/demo.png, after its pixels were checked against
# the frame content the driver promises.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

kver=$(scripts/kvers.sh --check 2>/dev/null | grep -E '^6\.1\.' || true)
if [ -z "$kver" ]; then
	echo "demo: no 6.1 kernel with headers installed (run scripts/deps.sh)" >&2
	exit 1
fi

echo "demo: building the module for $kver and the utils"
scripts/build-module.sh "$kver"
make --no-print-directory -s utils

echo "demo: booting $kver in QEMU with -vga cirrus (console in build/$kver/display.vm/console.log)"
status=0
VM_TIMEOUT=600 scripts/display-check.sh --demo "$kver" || status=$?
if [ ! -s out/demo.png ] || [ $status -ne 0 ]; then
	echo "demo: failed, see build/$kver/display/" >&2
	exit 1
fi
echo "demo: out/demo.png is the cirrus screen while it scanned out a frame"
echo "demo: captured by vivid-expbuf (XBGR32 at the display's mode size):"
echo "demo: eight colour bars above a band of 32 cells that spell the frame's"
echo "demo: sequence number in binary (white = 1); no userspace copy was made."
