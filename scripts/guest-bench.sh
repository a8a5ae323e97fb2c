#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-bench.sh: run by vm-run.sh for `make bench`. Load vivid-expbuf
# (n_devs=2 node_types=0x101,0x101) and stock vivid (the same nodes) side
# by side and stream 1920x1080 YUYV from a capture node to an output node
# with build/utils/zc-pipeline, BENCH_REPS times (default 3) in turn:
#   a  vivid-expbuf capture 1 -> output 0, DMABUF import of EXPBUF dma-bufs
#   b  the same nodes, MMAP + memcpy
#   c  stock vivid capture 1 (HDMI input) -> output 0 (HDMI), DMABUF
# Stock vivid's HDMI input and output get the same CVT reduced-blanking v2
# timings, 1920x1080 at exactly 15 frames/s; vivid-expbuf runs at 1/15 s.
# Each result line goes to $RESULTS/bench-raw.txt as "cfg=X rep=N result
# ...", a failed run as "cfg=X rep=N failed status=S"; before the runs, the
# whole-guest CPU time of an idle period is written as "idle ...".

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"

reps=${BENCH_REPS:-3}
frames=${BENCH_FRAMES:-120}
warmup=${BENCH_WARMUP:-15}
fps=15
timings=cvt,width=1920,height=1080,fps=$fps,reduced-blanking=2
zc=$REPO/build/utils/zc-pipeline
raw=$RESULTS/bench-raw.txt
: > "$raw"

say() { echo "guest-bench: $*"; }

# /dev/videoN of the node whose sysfs name is $1
find_node() {
	local d
	for d in /sys/class/video4linux/video*; do
		if [ "$(cat "$d/name")" = "$1" ]; then
			echo "/dev/${d##*/}"
			return 0
		fi
	done
	say "no node named $1"
	return 1
}

# Index of the first input (or output, $1) of node $2 whose name has HDMI.
hdmi_index() {
	timeout 20 v4l2-ctl -d "$2" "--list-$1s" |
		awk '/(Input|Output) *:/ { i = $NF } /Name *:.*HDMI/ { print i; exit }'
}

# Sum of field 7 (run time of all tasks but idle, ns) of the cpuN lines.
guest_cpu_ns() {
	awk '/^cpu[0-9]/ { s += $8 } END { printf "%.0f\n", s }' /proc/schedstat
}

modprobe videodev || exit 1
timeout 60 modprobe vivid n_devs=2 node_types=0x101,0x101 || exit 1
timeout 60 insmod "$REPO/build/$KVER/vivid-expbuf.ko" n_devs=2 \
	node_types=0x101,0x101 || exit 1

ours_cap=$(find_node vivid-expbuf-1-vid-cap) || exit 1
ours_out=$(find_node vivid-expbuf-0-vid-out) || exit 1
stock_cap=$(find_node vivid-001-vid-cap) || exit 1
stock_out=$(find_node vivid-000-vid-out) || exit 1

in_idx=$(hdmi_index input "$stock_cap")
out_idx=$(hdmi_index output "$stock_out")
if [ -z "$in_idx" ] || [ -z "$out_idx" ]; then
	say "stock vivid has no HDMI input or output"
	exit 1
fi
timeout 20 v4l2-ctl -d "$stock_cap" --set-input="$in_idx" > /dev/null &&
	timeout 20 v4l2-ctl -d "$stock_out" --set-output="$out_idx" > /dev/null &&
	timeout 20 v4l2-ctl -d "$stock_cap" --set-dv-bt-timings "$timings" > /dev/null &&
	timeout 20 v4l2-ctl -d "$stock_out" --set-dv-bt-timings "$timings" > /dev/null
if [ $? -ne 0 ]; then
	say "cannot set stock vivid's HDMI input and output to $timings"
	exit 1
fi
say "a, b: $ours_cap -> $ours_out; c: $stock_cap (input $in_idx) -> $stock_out (output $out_idx)"

# Whole-guest CPU time while nothing streams: the background every run pays.
t0=$(date +%s%N)
c0=$(guest_cpu_ns)
sleep 5
c1=$(guest_cpu_ns)
t1=$(date +%s%N)
echo "idle seconds=$(((t1 - t0) / 1000000))e-3 sys_cpu_us_per_s=$(((c1 - c0) * 1000 / (t1 - t0)))" >> "$raw"

status=0
for rep in $(seq 1 "$reps"); do
	for cfg in a b c; do
		case $cfg in
		a) args=(-c "$ours_cap" -o "$ours_out" -m dmabuf) ;;
		b) args=(-c "$ours_cap" -o "$ours_out" -m copy) ;;
		c) args=(-c "$stock_cap" -o "$stock_out" -m dmabuf) ;;
		esac
		out=$RESULTS/run-$cfg-$rep.txt
		timeout -k 5 120 "$zc" "${args[@]}" -f YUYV -s 1920x1080 \
			-r "$fps" -n "$frames" -w "$warmup" > "$out" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && grep -q '^result ' "$out"; then
			echo "cfg=$cfg rep=$rep $(grep '^result ' "$out")" >> "$raw"
			say "$cfg rep $rep: $(grep -o ' fps=[^ ]*\| cpu_us_per_frame=[^ ]*\| sys_cpu_us_per_frame=[^ ]*\| gaps=[^ ]*' "$out" | tr -d '\n')"
		else
			echo "cfg=$cfg rep=$rep failed status=$rc" >> "$raw"
			say "$cfg rep $rep failed (status $rc): $(tail -n 2 "$out" | tr '\n' ' ')"
			status=1
		fi
	done
done

rmmod vivid_expbuf vivid
exit $status
