#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what `make demo` does. Build vivid-expbuf.ko for the newest
# installed 6.1 kernel and the utils, boot that kernel in QEMU, capture 46
# 640x480 XBGR32 frames from the driver and write the last to out/demo.png.

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

echo "demo: booting $kver in QEMU (console in build/$kver/console.log)"
VM_QUIET=1 VM_TIMEOUT=600 scripts/vm-run.sh "$kver" scripts/guest-demo.sh
res=build/$kver/results
grep -a '^guest-demo:' "build/$kver/console.log" || true

mkdir -p out
ppm=$res/demo.ppm
if [ ! -s "$ppm" ] && [ -s "$res/demo.xr24" ]; then
	# Raw XBGR32 (bytes B,G,R,X) to a binary PPM.
	{
		printf 'P6\n640 480\n255\n'
		perl -e 'binmode STDIN; binmode STDOUT; local $/; $_ = <STDIN>;
			 print pack("C*", map { @{[unpack("C4", $_)]}[2, 1, 0] }
				    unpack("(a4)*", $_));' < "$res/demo.xr24"
	} > "$res/demo.ppm"
fi
if [ ! -s "$ppm" ]; then
	echo "demo: the guest captured no frame (see build/$kver/console.log)" >&2
	exit 1
fi
pnmtopng "$ppm" > out/demo.png
echo "demo: wrote out/demo.png ($(head -c 64 "$ppm" | sed -n 2p | tr ' ' x) PPM from the guest)"
# The colour at the middle of each of the 8 bars on the first line.
perl -e 'binmode STDIN; local $/; my $img = <STDIN>;
	 $img =~ s/^P6\s+(\d+)\s+(\d+)\s+255\s//s or die "not a PPM\n"; my $w = $1;
	 my @c = map { sprintf "(%d,%d,%d)", unpack("C3", substr($img, 3 * int(($_ + 0.5) * $w / 8), 3)) } 0 .. 7;
	 print "demo: first line, bar centres (R,G,B): @c\n";' < "$ppm"
