#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-clients.sh CAP0 OUT0 CAP1
#
# Real clients of vivid-expbuf in the guest, each checked by the content
# of the frames it received (utils/pattern-check, utils/libv4l2-expbuf) and
# by their count:
#   - GStreamer v4l2src io-mode=dmabuf (VIDIOC_EXPBUF) on CAP0 (YUY2) and
#     on the multi-planar CAP1 (NV12): exactly the frames asked for, each
#     the test pattern, in sequence order;
#   - GStreamer v4l2src io-mode=dmabuf on CAP1 into v4l2sink
#     io-mode=dmabuf-import on OUT0 (zero copy between two instances)
#     with the Loopback control on and CAP1 mirrored: CAP0, read with
#     v4l2-ctl, returns CAP1's mirrored frames byte for byte;
#   - a libv4l2 application exporting every buffer and reading the frames
#     through the dma-bufs.
# CAP0 and OUT0 are instance 0's capture and output nodes (single-planar),
# CAP1 instance 1's capture node (multi-planar), as loaded by guest-check.sh.
#
# Needs RESULTS, KVER and REPO in the environment. Appends "pass STEP" /
# "fail STEP -- DETAIL" lines to $RESULTS/steps.txt and keeps each client's
# output in $RESULTS/clients/. On exit no client runs, the controls it set
# are back to 0 and every node is idle with the default format.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
if [ $# -ne 3 ]; then
	echo "usage: $0 CAP0 OUT0 CAP1" >&2
	exit 2
fi
cap0=$1
out0=$2
cap1=$3
steps=$RESULTS/steps.txt
logs=$RESULTS/clients
utils=$REPO/build/utils
mkdir -p "$logs"
# Frames go to the guest's tmpfs, not over 9p.
frames=$(mktemp -d /tmp/guest-clients.XXXXXX)
# gst-launch-1.0 loads only the plugins of the pipelines (scanning all of
# them takes a minute under TCG), once, into a registry of its own.
plugins=/usr/lib/$(uname -m)-linux-gnu/gstreamer-1.0
mkdir -p "$frames/gst-plugins"
ln -s "$plugins/libgstcoreelements.so" "$plugins/libgstvideo4linux2.so" \
	"$frames/gst-plugins/"
export GST_PLUGIN_SYSTEM_PATH_1_0=$frames/gst-plugins
export GST_PLUGIN_PATH_1_0=
export GST_REGISTRY_1_0=$frames/gst-registry.bin
started=$(date +%s)

# Frames of 320x240 at the default 1/30 s; COUNT is what v4l2src is asked
# for. CAP0 reads LOOP_READ frames (2 s) while the loopback pipeline runs.
width=320
height=240
count=30
loop_read=60

GUEST_NAME=guest-clients
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

loop_pid=
cleanup() {
	if [ -n "$loop_pid" ]; then
		kill "$loop_pid" 2> /dev/null
		wait "$loop_pid" 2> /dev/null
	fi
	rm -rf "$frames"
}
trap cleanup EXIT

# ctl NODE NAME=VALUE: set a control by its v4l2-ctl name.
ctl() { timeout 10 v4l2-ctl -d "$1" -c "$2"; }

# gst LOG ELEMENTS...: run gst-launch-1.0, its output and the v4l2
# allocator's log (exports and imports of dma-bufs) in LOG.
gst() {
	local out=$1
	shift
	GST_DEBUG=v4l2allocator:6 GST_DEBUG_NO_COLOR=1 \
		timeout -k 5 60 gst-launch-1.0 "$@" > "$out" 2>&1
}

exit_status_is_0() {
	echo "exit status $1"
	[ "$1" -eq 0 ]
}

# says FILE LINE: FILE has the line LINE (an extended regex); prints its
# end, which a failed step shows.
says() {
	tail -n 3 "$1"
	grep -qxE "$2" "$1"
}

# expect_lines FILE PATTERN MIN: FILE has at least MIN lines matching PATTERN.
expect_lines() {
	local n

	n=$(grep -c -E "$2" "$1")
	echo "$n lines match '$2' in ${1##*/}"
	[ "$n" -ge "$3" ]
}

# sequences_increase FILE KIND: the sequences of the frames that
# pattern-check reported as KIND grow (strictly with "strict").
sequences_increase() {
	awk -v kind="$2" -v strict="${3:-}" '
		$1 == "frame" && $5 == kind {
			if (seen && ($4 < last || (strict && $4 == last))) {
				print "sequence " $4 " after " last; bad = 1
			}
			last = $4; seen = 1
		}
		END { exit bad }' "$1"
}

# distinct_sequences FILE KIND MIN: pattern-check reported at least MIN
# different sequences among the frames of KIND.
distinct_sequences() {
	local n

	n=$(awk -v kind="$2" '$1 == "frame" && $5 == kind { print $4 }' "$1" |
		sort -u | wc -l)
	echo "$n different sequences"
	[ "$n" -ge "$3" ]
}

# capture_check NODE GSTFORMAT FOURCC: v4l2src io-mode=dmabuf on NODE into
# a file; $count frames, each the (plain) pattern, sequences growing.
capture_check() {
	local node=$1 gst_format=$2 fourcc=$3 name base
	name=$(node_name "$node")
	base=$logs/v4l2src-dmabuf-$name-$gst_format

	step "gst v4l2src io-mode=dmabuf $gst_format on $name runs" \
		gst "$base-gst.txt" v4l2src device="$node" io-mode=dmabuf \
		num-buffers=$count ! \
		"video/x-raw,format=$gst_format,width=$width,height=$height" ! \
		filesink location="$frames/$name.raw" || return
	step "gst v4l2src io-mode=dmabuf on $name exports its buffers" \
		expect_lines "$base-gst.txt" 'exported DMABUF as fd' 2
	timeout 60 "$utils/pattern-check" -f "$fourcc" -s "${width}x$height" \
		-n $count "$frames/$name.raw" > "$base-check.txt" 2>&1
	step "gst v4l2src $gst_format on $name: $count frames, each the pattern" \
		says "$base-check.txt" "$count frames: $count plain, 0 mirrored, 0 bad"
	step "gst v4l2src $gst_format on $name: sequences increase" \
		sequences_increase "$base-check.txt" plain strict
	rm -f "$frames/$name.raw"
}

# loopback_name NODE: the v4l2-ctl name of the Loopback control
# (V4L2_CID_USER_BASE | 0xf000 = 0x0098f900).
loopback_name() {
	timeout 10 v4l2-ctl -d "$1" -l | awk '$2 == "0x0098f900" { print $1 }'
}

# wait_imports LOG N: gst-launch-1.0's v4l2sink has imported N dma-bufs.
wait_imports() {
	timeout 60 sh -c "until [ \$(grep -c 'imported DMABUF as fd' '$1') -ge $2 ]; do sleep 0.2; done"
}

# stop_gst PID: SIGINT to gst-launch-1.0 -e, which ends its pipeline with
# EOS and exits 0; SIGKILL if it has not exited 30 s later. Returns its
# exit status.
stop_gst() {
	local tries=150

	kill -INT "$1"
	while kill -0 "$1" 2> /dev/null && [ $tries -gt 0 ]; do
		sleep 0.2
		tries=$((tries - 1))
	done
	[ $tries -gt 0 ] || kill -KILL "$1"
	wait "$1"
}

# loopback_check: CAP1 (mirrored) -> OUT0 zero copy, CAP0 reads it back.
loopback_check() {
	local n0 n1 o0 loop base status
	n0=$(node_name "$cap0")
	n1=$(node_name "$cap1")
	o0=$(node_name "$out0")
	base=$logs/loopback-$n1-$o0
	loop=$(loopback_name "$out0")
	step "Loopback control listed by v4l2-ctl -l on $o0" \
		test -n "$loop" || return
	step "Loopback on for instance 0" ctl "$out0" "$loop=1" || return
	step "horizontal_flip on for instance 1" ctl "$cap1" horizontal_flip=1
	step "$n0 format YUYV ${width}x$height" timeout 10 v4l2-ctl -d "$cap0" \
		-v "width=$width,height=$height,pixelformat=YUYV"

	# The pipeline runs until CAP0 has read its frames, then gets SIGINT
	# (-e: EOS, a clean stop); stop_gst bounds its run.
	GST_DEBUG=v4l2allocator:6 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 -e \
		v4l2src device="$cap1" io-mode=dmabuf ! \
		"video/x-raw,format=YUY2,width=$width,height=$height" ! \
		v4l2sink device="$out0" io-mode=dmabuf-import sync=false \
		> "$base-gst.txt" 2>&1 &
	loop_pid=$!
	# CAP0 reads once the loop runs: OUT0 has been given 10 frames.
	if step "gst $n1 -> $o0 pipeline running" \
		wait_imports "$base-gst.txt" 10; then
		step "v4l2-ctl reads $loop_read frames from $n0" \
			timeout 60 v4l2-ctl -d "$cap0" --stream-mmap \
			--stream-count=$loop_read --stream-to="$frames/looped.raw"
	fi
	stop_gst "$loop_pid"
	status=$?
	loop_pid=
	step "gst v4l2src io-mode=dmabuf $n1 -> v4l2sink io-mode=dmabuf-import $o0 stops cleanly" \
		exit_status_is_0 $status
	step "v4l2sink on $o0 imports the dma-bufs of $n1" \
		expect_lines "$base-gst.txt" 'imported DMABUF as fd' 10

	timeout 60 "$utils/pattern-check" -f YUYV -s "${width}x$height" \
		-n $loop_read "$frames/looped.raw" > "$base-check.txt" 2>&1
	step "$n0 looped frames: each one of $n1's mirrored frames" \
		says "$base-check.txt" \
		"$loop_read frames: 0 plain, $loop_read mirrored, 0 bad"
	step "$n0 looped frames: $n1's sequences do not go back" \
		sequences_increase "$base-check.txt" mirrored
	step "$n0 looped frames: at least 3 different frames of $n1" \
		distinct_sequences "$base-check.txt" mirrored 3
	rm -f "$frames/looped.raw"

	step "Loopback off for instance 0" ctl "$out0" "$loop=0"
	step "horizontal_flip off for instance 1" ctl "$cap1" horizontal_flip=0
}

# idle NODE: S_FMT back to the default YUYV 640x480, refused (EBUSY) while
# anyone still holds buffers of NODE.
idle() {
	local set=-v get=-V

	case "$(node_name "$1")" in
	*-vid-out) set=-x get=-X ;;
	esac
	timeout 10 v4l2-ctl -d "$1" $set width=640,height=480,pixelformat=YUYV &&
		timeout 10 v4l2-ctl -d "$1" $get | grep -q "Width/Height *: 640/480"
}

log "clients on $cap0 $out0 $cap1, kernel $KVER"
step "GStreamer v4l2src and v4l2sink are installed" \
	sh -c 'timeout 120 gst-inspect-1.0 --exists v4l2src &&
		timeout 60 gst-inspect-1.0 --exists v4l2sink'
capture_check "$cap0" YUY2 YUYV
capture_check "$cap1" NV12 NV12
loopback_check

timeout 60 "$utils/libv4l2-expbuf" -d "$cap0" -s "${width}x$height" -n 10 \
	> "$logs/libv4l2-expbuf-$(node_name "$cap0").txt" 2>&1
step "libv4l2-expbuf on $(node_name "$cap0"): 10 frames, each the pattern through its dma-buf" \
	says "$logs/libv4l2-expbuf-$(node_name "$cap0").txt" \
	"10 frames through [0-9]+ exported buffers, 0 not the pattern"

for node in "$cap0" "$out0" "$cap1"; do
	step "$(node_name "$node") idle after the clients" idle "$node"
done
log "done in $(($(date +%s) - started)) s"
