#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-demo.sh: run by vm-run.sh for `make demo`. Load vivid-expbuf and
# capture one 640x480 XBGR32 frame into $RESULTS/demo.ppm (with
# build/utils/v4l2-grab), or into $RESULTS/demo.xr24 as raw B,G,R,X bytes
# (with v4l2-ctl) when v4l2-grab is not built.

set -euo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"

modprobe videodev
insmod "$REPO/build/$KVER/vivid-expbuf.ko"
node=
for d in /sys/class/video4linux/video*; do
	if [ "$(cat "$d/name")" = vivid-expbuf-0-vid-cap ]; then
		node=/dev/${d##*/}
		break
	fi
done
if [ -z "$node" ]; then
	echo "guest-demo: no vivid-expbuf-0-vid-cap node"
	exit 1
fi
echo "guest-demo: capturing 46 XBGR32 640x480 frames from $node, keeping the last"
grab=$REPO/build/utils/v4l2-grab
if [ -x "$grab" ]; then
	"$grab" -d "$node" -f XR24 -s 640x480 -n 46 -o "$RESULTS/demo.ppm"
	echo "guest-demo: $grab wrote demo.ppm"
else
	v4l2-ctl -d "$node" --set-fmt-video=width=640,height=480,pixelformat=XR24 \
		--stream-mmap --stream-count=46 --stream-skip=45 --stream-to="$RESULTS/demo.xr24"
	echo "guest-demo: v4l2-ctl wrote demo.xr24"
fi
rmmod vivid_expbuf
