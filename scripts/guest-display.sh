#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-display.sh: the guest side of scripts/display-check.sh, run by
# vm-run.sh in a guest booted with `-vga cirrus` (needs RESULTS, KVER and
# REPO in the environment). Loads videodev, vivid-expbuf and cirrus, then
# runs build/utils/drm-show on the capture node with --hold three times:
# XR24, RGBP, and XR24-fence (XR24 with --fence: each frame committed to
# the display before its capture is done, relying on the buffer's fence;
# drm-show's report must show no frame on screen before it was done). While
# the last frame of a run is held on screen it hands over to the host:
#
#   drm-show-RUN.txt   drm-show's output (its "holding:" line names the
#                      sequence number of the frame on screen)
#   showing-RUN        written when that frame is on screen: the host then
#                      takes a screendump
#   dumped-RUN         written by the host when its screendump is done
#   steps.txt          "pass STEP" / "fail STEP -- DETAIL" lines
#   display-done       written last

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
steps=$RESULTS/steps.txt
show=$REPO/build/utils/drm-show
frames=60
hold_s=60
: > "$steps"

log() { echo "guest-display: $*"; }
record() {
	if [ "$2" -eq 0 ]; then
		echo "pass $1" >> "$steps"
		log "ok   $1"
	else
		echo "fail $1 -- $3" >> "$steps"
		log "FAIL $1 -- $3"
	fi
}
finish() {
	echo finished > "$RESULTS/display-done"
	exit 0
}

# wait_for FILE SECONDS: wait until FILE exists; 1 on timeout.
wait_for() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

out=$(modprobe videodev 2>&1 && insmod "$REPO/build/$KVER/vivid-expbuf.ko" 2>&1)
record "display: load videodev and vivid-expbuf" $? "$out"
# The driver is cirrus up to 6.14, cirrus-qemu from 6.15 on (7.2).
cirrus=cirrus
modinfo cirrus-qemu > /dev/null 2>&1 && cirrus=cirrus-qemu
out=$(modprobe "$cirrus" 2>&1)
record "display: load $cirrus" $? "$out"

node=
for d in /sys/class/video4linux/video*; do
	[ "$(cat "$d/name" 2>/dev/null)" = vivid-expbuf-0-vid-cap ] && node=/dev/${d##*/}
done
card=
for ((i = 0; i < 50; i++)); do
	for d in /sys/class/drm/card[0-9]; do
		case "$(basename "$(readlink -f "$d/device/driver")")" in
		cirrus*) ;;
		*) continue ;;
		esac
		[ -e "/dev/dri/${d##*/}" ] && card=/dev/dri/${d##*/}
	done
	[ -n "$card" ] && break
	sleep 0.2
done
record "display: capture node ($node) and cirrus card ($card)" \
	"$([ -n "$node" ] && [ -n "$card" ]; echo $?)" "node '$node' card '$card'"
{ [ -n "$node" ] && [ -n "$card" ]; } || finish

# check_fence TXT: 0 when drm-show --fence reports that no frame was on
# screen before its capture was done, and that at least half of the frames
# were committed before it was done (a frame committed later proves
# nothing: under TCG the capture thread may fill a buffer late).
check_fence() {
	local sum before early
	sum=$(grep '^fence: [0-9]* frames' "$1")
	before=$(sed -nE 's/.* frames, ([0-9]+) committed before .*/\1/p' <<< "$sum")
	early=$(sed -nE 's/.* before it was done: ([0-9]+);.*/\1/p' <<< "$sum")
	echo "$sum"
	[ -n "$before" ] && [ -n "$early" ] && [ "$early" -eq 0 ] &&
		[ $((2 * before)) -ge "$frames" ]
}

# With legacy modesetting drm-show refuses --fence, clearly.
out=$("$show" -d "$node" -D "$card" -n 1 --legacy --fence 2>&1)
status=$?
[ $status -eq 1 ] && grep -q -- '--fence needs atomic modesetting' <<< "$out"
record "display: drm-show --legacy --fence refuses" $? "status $status: $out"

for run in XR24 RGBP XR24-fence; do
	fmt=${run%-fence}
	opts=()
	[ "$run" != "$fmt" ] && opts=(--fence)
	txt=$RESULTS/drm-show-$run.txt
	log "drm-show -d $node -D $card -f $fmt -n $frames --hold $hold_s ${opts[*]}"
	"$show" -d "$node" -D "$card" -f "$fmt" -n "$frames" --hold "$hold_s" \
		"${opts[@]}" > "$txt" 2>&1 &
	pid=$!
	# drm-show fails at once or shows $frames frames (30 per second
	# at most) and then holds: give it two seconds a frame under TCG.
	held=1
	for ((i = 0; i < frames * 10; i++)); do
		grep -q '^holding:' "$txt" && { held=0; break; }
		kill -0 $pid 2> /dev/null || break
		sleep 0.2
	done
	cat "$txt"
	record "display: drm-show $fmt ${opts[*]}${opts[*]:+ }shows $frames frames" $held \
		"$(grep -v '^drm:' "$txt" | tail -n 2 | tr '\n' ' ')"
	if [ ${#opts[@]} -gt 0 ]; then
		out=$(check_fence "$txt")
		record "display: drm-show --fence: no frame on screen before its capture was done" \
			$? "$out"
	fi
	if [ $held -eq 0 ]; then
		# Written whole, then renamed: the host polls for the name.
		grep '^holding:' "$txt" > "$RESULTS/.showing-$run"
		mv "$RESULTS/.showing-$run" "$RESULTS/showing-$run"
		wait_for "$RESULTS/dumped-$run" 60 ||
			log "no screendump from the host for $run"
	fi
	kill $pid 2> /dev/null
	wait $pid 2> /dev/null
done
finish
