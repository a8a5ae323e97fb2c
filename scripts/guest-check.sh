#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-check.sh: the checks of `make check`, run inside the guest by
# vm-run.sh (needs RESULTS, KVER and REPO in the environment).
#
# Writes into $RESULTS:
#   steps.txt                 "pass STEP" / "fail STEP -- DETAIL", one a step
#   compliance-sid-NODE.txt   v4l2-compliance 1.32 -s -e output per node
#   compliance-NODE.txt       the same of Debian 12's 1.22.1 (6.1, 6.12)
#   tap-TEST-NODE.txt (+ .status)  output and exit status of each test binary
#   check-done                written last: the checks ran to the end

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
ko=$REPO/build/$KVER/vivid-expbuf.ko
steps=$RESULTS/steps.txt
: > "$steps"

GUEST_NAME=guest-check
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

# find_caps N WHEN: look our capture nodes up again into ours[] and record
# a step that fails unless there are exactly N of them.
find_caps() {
	mapfile -t ours < <(nodes_named 'vivid-expbuf-*-vid-cap')
	step "$1 vivid-expbuf capture node(s) $2 (found ${#ours[@]}: ${ours[*]})" \
		test ${#ours[@]} -eq "$1"
}

stream5() { v4l2-ctl -d "$1" --stream-mmap --stream-count=5 --stream-to=/dev/null; }

loaded() { grep -q "^$1 " /proc/modules; }

log "kernel $(uname -r), module $ko"
# test-memcg needs cgroup v2; the guest's init does not mount it.
grep -q ' cgroup2 ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
step "modprobe videodev" modprobe videodev
# Instance 0 single-planar, instance 1 multi-planar; each with a capture
# and an output node.
params="n_devs=2 multiplanar=1,2 node_types=0x101,0x101"
# shellcheck disable=SC2086
if ! step "insmod vivid-expbuf $params" insmod "$ko" $params; then
	echo done > "$RESULTS/check-done"
	exit 0
fi

find_caps 2 "after insmod $params"
mapfile -t outs < <(nodes_named 'vivid-expbuf-*-vid-out')
step "two vivid-expbuf output nodes (found ${#outs[@]}: ${outs[*]})" \
	test ${#outs[@]} -eq 2

# Real clients: GStreamer (v4l2src io-mode=dmabuf, v4l2sink
# io-mode=dmabuf-import) and a libv4l2 application, at the default 30 fps,
# before the compliance runs below lower the rate.
cap0=$(nodes_named 'vivid-expbuf-0-vid-cap' | head -n 1)
out0=$(nodes_named 'vivid-expbuf-0-vid-out' | head -n 1)
cap1=$(nodes_named 'vivid-expbuf-1-vid-cap' | head -n 1)
if step "nodes for the real clients (${cap0:-none} ${out0:-none} ${cap1:-none})" \
	test -n "$cap0" -a -n "$out0" -a -n "$cap1"; then
	log "real clients on $cap0 $out0 $cap1"
	timeout 600 "$REPO/scripts/guest-clients.sh" "$cap0" "$out0" "$cap1"
	st=$?
	step "guest-clients.sh finished (status $st)" test "$st" -ne 124
fi

# other_capture NAME: the capture node of the other instance than NAME's.
other_capture() {
	local inst=${1#vivid-expbuf-}

	inst=${inst%%-*}
	nodes_named "vivid-expbuf-$((1 - inst))-vid-cap" | head -n 1
}

# compliance_run TOOL FILE NODE EXPORTER: one v4l2-compliance -s -e run,
# with the guest's second CPU offline. Compliance streams at the nominal
# 30 fps (its G/S_PARM test resets the interval), and if it has not
# requeued a buffer by the end of a period the device drops that period,
# as the uAPI page says, and compliance warns about the sequence gap. On
# a loaded host one virtual CPU of a TCG guest can be descheduled for
# several periods while the other one runs our frame thread: a drop a
# real machine would not see. With one CPU a stall stops the thread too,
# and a thread that runs late does not drop the periods it missed (it
# stretches them; vivid-expbuf.rst, Buffers and timing). Measured on a
# host loaded by two other guests and a busy process: 3 gaps in 4 runs
# with both CPUs, none with one.
compliance_run() {
	local cpu1=/sys/devices/system/cpu/cpu1/online

	[ -w "$cpu1" ] && step "CPU 1 offline for $2" sh -c "echo 0 > $cpu1"
	timeout 900 "$1" -d "$3" --streaming=30 -e "$4" > "$RESULTS/$2.txt" 2>&1
	echo $? > "$RESULTS/$2.status"
	[ -w "$cpu1" ] && step "CPU 1 online after $2" sh -c "echo 1 > $cpu1"
}

# Two v4l2-compliance versions: sid's 1.32 on every kernel
# (compliance-sid-NODE.txt, judged with no skew list), and in the 6.1 and
# 6.12 guests Debian 12's 1.22.1 too (compliance-NODE.txt, with the skew
# list of scripts/compliance-skew-LINE.txt): it is what bookworm users run.
sid_compliance=$REPO/scripts/sid-compliance.sh
step "v4l2-compliance 1.32 of the sid root runs" \
	sh -c "'$sid_compliance' --version | grep -q '^v4l2-compliance 1\\.32'"
# DEBIAN_COMPLIANCE=0 (the debug kernel's boot, scripts/guest-debug.sh)
# leaves 1.22.1 out: it reaches no kernel code that 1.32 does not.
debian_compliance=
[ "${DEBIAN_COMPLIANCE:-1}" = 1 ] &&
	v4l2-compliance --version 2>/dev/null | grep -q '^v4l2-compliance 1\.22' &&
	debian_compliance=v4l2-compliance
for node in "${ours[@]}" "${outs[@]}"; do
	name=$(node_name "$node")
	exporter=$(other_capture "$name")
	log "v4l2-compliance 1.32 -s -e $exporter on $node ($name)"
	compliance_run "$sid_compliance" "compliance-sid-$name" "$node" "$exporter"
	[ -n "$debian_compliance" ] || continue
	log "v4l2-compliance 1.22.1 -s -e $exporter on $node ($name)"
	compliance_run v4l2-compliance "compliance-$name" "$node" "$exporter"
done

# vgem is the foreign DRM exporter and fence source of the tests.
step "modprobe vgem" modprobe vgem

# run_tests PREFIX TEST...: run each test binary on every capture node of
# ours; its output goes to tap-PREFIXTEST-NODE.txt.
run_tests() {
	local prefix=$1 t node name base
	shift
	for t in "$@"; do
		t=$REPO/build/tests/$t
		step "${t##*/} is built" test -x "$t" || continue
		for node in "${ours[@]}"; do
			name=$(node_name "$node")
			base=tap-$prefix${t##*/}-$name
			log "${t##*/} -d $node ($name${prefix:+, $prefix})"
			timeout 300 "$t" -d "$node" > "$RESULTS/$base.txt" 2>&1
			echo $? > "$RESULTS/$base.status"
		done
	done
}

# test-exporters drives the hostile exporter and in-kernel importer of the
# test-only module tests/exporter/vx-exporter.ko (scripts/exporter-build.sh).
step "insmod vx-exporter" insmod "$REPO/build/$KVER/exporter/vx-exporter.ko"

# One program per tests/*.c (helpers named *-lib.c are linked into each).
mapfile -t all_tests < <(cd "$REPO/tests" && ls -- *.c | grep -v -- '-lib\.c$' |
	sed 's/\.c$//')
run_tests "" "${all_tests[@]}"

# Real-client zero-copy loopback: v4l2-ctl captures from instance 1 (MMAP,
# exported as dma-bufs) into instance 0's output (DMABUF import); with the
# Loopback control on, instance 0's capture must show only frames that were
# sent. Instance 1 mirrors its bars, so a looped frame cannot be mistaken
# for instance 0's own pattern; with Loopback off none may match.
# The raw frames go to the guest's tmpfs: v4l2-ctl writes them straight
# from the PFN-mapped buffers, which the 9p results share cannot take.
loopdir=/tmp/v4l2ctl-loop
loop_frame=$((160 * 120 * 2))

# loop_capture CAP0 OUT0 CAP1: stream 120 frames CAP1 -> OUT0 and record 10
# frames of CAP0 meanwhile; frames go to $loopdir/{sent,looped}.raw.
loop_capture() {
	local pipe st=0 i
	rm -rf "$loopdir"
	mkdir -p "$loopdir"
	v4l2-ctl -d "$3" -v width=160,height=120,pixelformat=YUYV \
		-c horizontal_flip=1 || return 1
	v4l2-ctl -d "$2" -x width=160,height=120,pixelformat=YUYV \
		--set-output-parm=30 || return 1
	v4l2-ctl -d "$1" -v width=160,height=120,pixelformat=YUYV \
		--set-parm=30 -c horizontal_flip=0,loopback=1 || return 1
	timeout 60 v4l2-ctl -d "$3" --stream-mmap --out-device "$2" \
		--stream-out-dmabuf --stream-count=120 \
		--stream-to="$loopdir/sent.raw" > "$loopdir/cap2out.txt" 2>&1 &
	pipe=$!
	# The looped capture starts once the output has sent a frame (v4l2-ctl
	# prints '>' for each): a slow guest (the debug kernel) takes more
	# than a fixed pause to get there.
	for i in $(seq 1 60); do
		grep -q '>' "$loopdir/cap2out.txt" && break
		sleep 0.5
	done
	timeout 30 v4l2-ctl -d "$1" --stream-mmap --stream-count=10 \
		--stream-to="$loopdir/looped.raw" > /dev/null 2>&1 || st=1
	wait "$pipe" || st=1
	v4l2-ctl -d "$1" -c loopback=0
	timeout 30 v4l2-ctl -d "$1" --stream-mmap --stream-count=3 \
		--stream-to="$loopdir/own.raw" > /dev/null 2>&1 || st=1
	v4l2-ctl -d "$3" -c horizontal_flip=0
	return $st
}

# frame_md5s FILE PREFIX: md5 of each loop_frame-sized frame of FILE.
frame_md5s() {
	(cd "$loopdir" && split -a 3 -d -b "$loop_frame" "$1" "$2." &&
		md5sum "$2".* | cut -d' ' -f1)
}

# loop_matches: 10 looped frames, at least 2 different, all among the sent
# (at least 100 different ones). Prints the counts.
loop_matches() {
	local sent looped ns nl nd nx
	sent=$(frame_md5s sent.raw s | sort -u)
	looped=$(frame_md5s looped.raw l)
	ns=$(echo "$sent" | wc -l)
	nl=$(echo "$looped" | wc -l)
	nd=$(echo "$looped" | sort -u | wc -l)
	nx=$(echo "$looped" | grep -cvxF -e "$sent")
	echo "sent $ns different frames; looped $nl, $nd different, $nx not sent"
	[ "$ns" -ge 100 ] && [ "$nl" -eq 10 ] && [ "$nd" -ge 2 ] && [ "$nx" -eq 0 ]
}

# loop_off_differs: with Loopback 0 no frame of CAP0 is among the sent.
loop_off_differs() {
	local sent own
	sent=$(frame_md5s sent.raw s | sort -u)
	own=$(frame_md5s own.raw o)
	[ "$(echo "$own" | wc -l)" -eq 3 ] &&
	! echo "$own" | grep -xF -e "$sent" > /dev/null
}

cap0=$(nodes_named 'vivid-expbuf-0-vid-cap')
out0=$(nodes_named 'vivid-expbuf-0-vid-out')
cap1=$(nodes_named 'vivid-expbuf-1-vid-cap')
if step "v4l2-ctl streams ${cap1:-none} into ${out0:-none} as DMABUF with loopback on ${cap0:-none}" \
	loop_capture "${cap0:-/dev/null}" "${out0:-/dev/null}" "${cap1:-/dev/null}"; then
	step "v4l2-ctl loopback: instance 0 captures only frames sent through its output" \
		loop_matches
	step "v4l2-ctl loopback: with Loopback 0 no captured frame is a sent one" \
		loop_off_differs
fi

# The dma-contig allocator (allocators=1,1) under the same tests, but for
# test-memcg (dma_alloc_attrs charges whole power-of-two blocks) and
# test-foreign (imports only). A dma-contig queue takes no USERPTR
# buffers: those checks report SKIP.
dc_tests=(test-streaming test-errors test-ownership test-pattern test-expbuf
	test-fences test-sync test-dmabuf test-prime test-loopback test-race)
step "nothing charged to the memory budget after the vmalloc pass" nothing_charged
step "rmmod vivid-expbuf before the dma-contig pass" rmmod vivid_expbuf
# shellcheck disable=SC2086
if step "insmod vivid-expbuf $params allocators=1,1" \
	insmod "$ko" $params allocators=1,1; then
	find_caps 2 "with allocators=1,1"
	run_tests dc- "${dc_tests[@]}"
	step "nothing charged to the memory budget after the dma-contig pass" \
		nothing_charged
	step "rmmod vivid-expbuf after the dma-contig pass" rmmod vivid_expbuf
fi
# shellcheck disable=SC2086
step "insmod vivid-expbuf $params again" insmod "$ko" $params
find_caps 2 "after the dma-contig pass"

# Coexistence with the stock videobuf2, vivid and uvcvideo modules.
first=${ours[0]:-/dev/null}
step "modprobe videobuf2-vmalloc" modprobe videobuf2-vmalloc
step "modprobe vivid" modprobe vivid
stock=$(nodes_named 'vivid-000-vid-cap' | head -n 1)
step "stream 5 frames from vivid-expbuf beside vivid ($first)" stream5 "$first"
step "stream 5 frames from stock vivid beside vivid-expbuf (${stock:-none})" \
	stream5 "${stock:-/dev/null}"
# uvcvideo (no USB camera in the guest) uses the stock videobuf2 too.
step "modprobe uvcvideo beside vivid-expbuf and vivid" modprobe uvcvideo
step "stream 5 frames from vivid-expbuf beside uvcvideo ($first)" \
	stream5 "$first"
step "rmmod vivid-expbuf while vivid is loaded" rmmod vivid_expbuf
step "rmmod vivid after vivid-expbuf" rmmod vivid
step "insmod vivid-expbuf again" insmod "$ko"
step "modprobe vivid after vivid-expbuf" modprobe vivid
step "rmmod vivid while vivid-expbuf is loaded" rmmod vivid
# Loaded with the default parameters: one instance, a capture node only.
find_caps 1 "after vivid left"
step "stream 5 frames from vivid-expbuf after vivid left (${ours[0]:-none})" \
	stream5 "${ours[0]:-/dev/null}"

# hold_check WHAT [-s]: an open WHAT keeps the module. dmabuf-hold exports
# one buffer and closes the video node, holding the dma-buf (or, with -s, a
# sync_file of the buffer's write fence, which the close signalled); rmmod
# must fail until the holder exits and succeed then. A held dma-buf keeps
# its memory charged to the budget (so the nothing_charged checks read a
# live figure); once closed nothing is. Loads the module again.
hold_check() {
	local what=$1 out=$RESULTS/dmabuf-hold${2:-}.txt holder= st
	shift
	find_caps 1 "before the $what hold"
	if step "start dmabuf-hold $* on ${ours[0]:-none}" test -n "${ours[0]:-}"; then
		timeout 120 "$REPO/build/utils/dmabuf-hold" -d "${ours[0]}" "$@" \
			> "$out" 2>&1 &
		holder=$!
		step "dmabuf-hold $* holds a $what" \
			timeout 30 sh -c "until grep -q '^holding' '$out'; do sleep 0.2; done"
		# shellcheck disable=SC2016
		[ $# -eq 0 ] && step "the held $what stays charged to the memory budget" \
			sh -c 'u=$(cat /sys/module/vivid_expbuf/parameters/mem_used); echo "mem_used $u"; [ "$u" -gt 0 ]'
	fi
	step "rmmod refused while a $what is open" \
		sh -c '! rmmod vivid_expbuf && grep -q "^vivid_expbuf " /proc/modules'
	if [ -n "$holder" ]; then
		kill "$holder"
		wait "$holder"
		st=$?
		step "dmabuf-hold $* exits 0 on SIGTERM (status $st)" test "$st" -eq 0
	fi
	step "nothing charged after the last $what closed" nothing_charged
	step "rmmod after the last $what closed" rmmod vivid_expbuf
	step "insmod vivid-expbuf after the $what hold" insmod "$ko"
}

hold_check dma-buf
hold_check "sync_file of our fence" -s
step "closing the node signalled the held fence with ECANCELED" \
	grep -q '^holding sync_file fd [0-9]* (status -125)' \
	"$RESULTS/dmabuf-hold-s.txt"
step "rmmod vivid-expbuf last" rmmod vivid_expbuf
step "rmmod vx-exporter" rmmod vx_exporter
step "rmmod uvcvideo after vivid-expbuf" rmmod uvcvideo
loaded vivid_expbuf && rmmod vivid_expbuf

dmesg > "$RESULTS/dmesg-check.txt"
echo done > "$RESULTS/check-done"
log "done"
