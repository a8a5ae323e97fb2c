#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh: the checks of the debug-kernel tier, run inside a guest
# of the -vxdebug kernel by scripts/debug-tier.sh (which adds the kmemleak
# scans around it). KASAN and lockdep make TCG several times slower, so
# this runs the tests that attack the module rather than the whole guest
# suite: the race and ownership attacks (DEBUG_BOTH) on both capture nodes,
# single- and multi-planar, the fence, import and export tests
# (DEBUG_ONE) on one node each, alternating; an exported dma-buf held
# across a close, charged while held; nothing left charged to the memory
# budget; rmmod. Then
# scripts/guest-fuzz.sh (vx-fuzz, trinity, rmmod) with its results in
# $RESULTS/fuzz/. Output goes to $RESULTS like guest-check.sh's
# (steps.txt, tap-TEST-NODE.txt), so scripts/summarize.sh counts it; its
# kernel-log scan of the boot then fails on any detector report of either
# part.
#
# The fuzz settings (FUZZ_OPS, ...) come from $REPO/build/fuzz.conf, which
# scripts/debug-check.sh writes through scripts/fuzz.sh's conventions.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
ko=$REPO/build/$KVER/vivid-expbuf.ko
steps=$RESULTS/steps.txt
: > "$steps"

DEBUG_BOTH=(test-hostile test-race test-ownership)
DEBUG_ONE=(test-sync test-expbuf test-dmabuf test-foreign test-fences)

GUEST_NAME=guest-debug
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

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

# run_test TEST NODE...: TEST on each NODE, TAP output kept per node.
run_test() {
	local t=$1 bin=$REPO/build/tests/$1 node name
	shift
	step "$t is built" test -x "$bin" || return
	for node in "$@"; do
		name=$(node_name "$node")
		log "$t -d $node ($name)"
		timeout 900 "$bin" -d "$node" > "$RESULTS/tap-$t-$name.txt" 2>&1
		echo $? > "$RESULTS/tap-$t-$name.status"
	done
}

for t in "${DEBUG_BOTH[@]}"; do
	run_test "$t" "${ours[@]}"
done
i=0
for t in "${DEBUG_ONE[@]}"; do
	run_test "$t" "${ours[$((i % ${#ours[@]}))]:-/dev/null}"
	i=$((i + 1))
done

# held_charged NODE: an exported dma-buf of NODE outlives the node's
# close and its queue, and its memory stays charged to the budget while
# it is held (so nothing_charged below can fail: the figure is live).
held_charged() {
	local out=$RESULTS/dmabuf-hold.txt pid used=none i st
	"$REPO/build/utils/dmabuf-hold" -d "$1" > "$out" 2>&1 &
	pid=$!
	for i in $(seq 1 60); do
		grep -q '^holding dma-buf' "$out" && break
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.5
	done
	grep -q '^holding dma-buf' "$out" &&
		used=$(cat /sys/module/vivid_expbuf/parameters/mem_used)
	kill -TERM "$pid" 2> /dev/null
	wait "$pid"
	st=$?
	echo "$(cat "$out"); mem_used while held: $used; exit status $st"
	[ "$used" != none ] && [ "$used" -gt 0 ] && [ $st -eq 0 ]
}
step "an exported dma-buf of ${ours[0]:-none} held across the close stays charged" \
	held_charged "${ours[0]:-/dev/null}"
step "nothing charged to the memory budget after the tests" nothing_charged
step "rmmod vivid-expbuf" rmmod vivid_expbuf
step "rmmod vgem" rmmod vgem


# The fuzzers, on a fresh load of the module.
mkdir -p "$RESULTS/fuzz"
RESULTS=$RESULTS/fuzz bash "$REPO/scripts/guest-fuzz.sh"
step "guest-fuzz.sh finished" test -e "$RESULTS/fuzz/fuzz-done"

dmesg > "$RESULTS/dmesg-check.txt"
echo done > "$RESULTS/check-done"
log "done"
