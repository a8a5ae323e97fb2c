#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug-leak.sh: a short life of vivid-expbuf for the kmemleak scan
# of scripts/debug-tier.sh (run it through that, inside the guest): load
# the module as guest-check.sh does, stream a few MMAP frames on each of
# its capture nodes, hold an exported dma-buf of each for a few seconds
# (build/utils/dmabuf-hold, ended by SIGTERM), unload it. Writes
# results/steps.txt like guest-check.sh.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
ko=$REPO/build/$KVER/vivid-expbuf.ko
steps=$RESULTS/steps.txt
: > "$steps"

step() {
	local name=$1 status
	shift
	"$@" > /dev/null 2>&1
	status=$?
	if [ $status -eq 0 ]; then
		echo "pass $name" >> "$steps"
		echo "guest-debug-leak: ok   $name"
	else
		echo "fail $name -- status $status" >> "$steps"
		echo "guest-debug-leak: FAIL $name (status $status)"
	fi
	return $status
}

step "modprobe videodev" modprobe videodev
step "insmod vivid-expbuf" insmod "$ko" n_devs=2 multiplanar=1,2 \
	node_types=0x101,0x101 || exit 1
for d in /sys/class/video4linux/video*; do
	case "$(cat "$d/name")" in
	vivid-expbuf-*-vid-cap)
		step "stream 5 frames on ${d##*/}" timeout 120 v4l2-ctl \
			-d "/dev/${d##*/}" --stream-mmap --stream-count=5 \
			--stream-to=/dev/null
		# timeout's status is 124 when it sent the SIGTERM.
		# shellcheck disable=SC2016
		step "hold an exported dma-buf of ${d##*/}" sh -c \
			'timeout -s TERM 10 "$0" -d "$1"; [ $? -eq 124 ]' \
			"$REPO/build/utils/dmabuf-hold" "/dev/${d##*/}"
		;;
	esac
done
step "rmmod vivid-expbuf" rmmod vivid_expbuf
exit 0
