#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh: the checks of the debug-kernel tier, run inside a guest
# of the -vxdebug kernel by scripts/debug-tier.sh (which adds the kmemleak
# scans around it). KASAN and lockdep make TCG several times slower, so
# this runs the tests that attack the module (races, ownership, fences,
# imports, exports) rather than the whole guest suite: each test binary
# named in DEBUG_TESTS below on both capture nodes, an exported dma-buf
# held across a close, and the final rmmod. Output goes to $RESULTS like
# guest-check.sh's (steps.txt, tap-TEST-NODE.txt), so scripts/summarize.sh
# counts it; its kernel-log scan then fails on any detector report.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
ko=$REPO/build/$KVER/vivid-expbuf.ko
steps=$RESULTS/steps.txt
: > "$steps"

DEBUG_TESTS=(test-hostile test-race test-sync test-ownership test-expbuf
	test-dmabuf test-foreign test-fences)

log() { echo "guest-debug: $*"; }

# step NAME CMD...: run CMD, record its result as one step.
step() {
	local name=$1 out status
	shift
	out=$("$@" 2>&1)
	status=$?
	if [ $status -eq 0 ]; then
		echo "pass $name" >> "$steps"
		log "ok   $name"
	else
		out=$(echo "$out" | tail -n 3 | tr '\n' ' ')
		echo "fail $name -- status $status: $out" >> "$steps"
		log "FAIL $name (status $status) $out"
	fi
	return $status
}

nodes_named() {
	local d
	for d in /sys/class/video4linux/video*; do
		[ -r "$d/name" ] || continue
		# shellcheck disable=SC2053
		[[ $(cat "$d/name") == $1 ]] && echo "/dev/${d##*/}"
	done | sort -V
}

node_name() { cat "/sys/class/video4linux/${1##*/}/name"; }

log "kernel $(uname -r), module $ko"
grep -q ' cgroup2 ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
grep -q ' /sys/kernel/debug ' /proc/mounts ||
	mount -t debugfs none /sys/kernel/debug
step "modprobe videodev" modprobe videodev
step "modprobe vgem" modprobe vgem
params="n_devs=2 multiplanar=1,2 node_types=0x101,0x101"
# shellcheck disable=SC2086
if ! step "insmod vivid-expbuf $params" insmod "$ko" $params; then
	echo done > "$RESULTS/check-done"
	exit 0
fi
mapfile -t ours < <(nodes_named 'vivid-expbuf-*-vid-cap')
step "2 vivid-expbuf capture nodes (found ${#ours[@]}: ${ours[*]})" \
	test ${#ours[@]} -eq 2

for t in "${DEBUG_TESTS[@]}"; do
	bin=$REPO/build/tests/$t
	step "$t is built" test -x "$bin" || continue
	for node in "${ours[@]}"; do
		name=$(node_name "$node")
		log "$t -d $node ($name)"
		timeout 900 "$bin" -d "$node" > "$RESULTS/tap-$t-$name.txt" 2>&1
		echo $? > "$RESULTS/tap-$t-$name.status"
	done
done

# An exported dma-buf outlives the node's close and the queue; rmmod waits.
# shellcheck disable=SC2016
step "hold an exported dma-buf of ${ours[0]:-none} across the close" sh -c \
	'timeout -s TERM 10 "$0" -d "$1"; [ $? -eq 124 ]' \
	"$REPO/build/utils/dmabuf-hold" "${ours[0]:-/dev/null}"
step "rmmod vivid-expbuf" rmmod vivid_expbuf
step "rmmod vgem" rmmod vgem

dmesg > "$RESULTS/dmesg-check.txt"
echo done > "$RESULTS/check-done"
log "done"
