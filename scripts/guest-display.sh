#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-display.sh: the guest side of scripts/display-check.sh, run by
# vm-run.sh in a guest booted with `-vga cirrus` (needs RESULTS, KVER and
# REPO in the environment). Loads videodev, vivid-expbuf and cirrus, then
# for each of the formats XR24 and RGBP runs build/utils/drm-show on
# the capture node with --hold, and while the last frame is held on screen
# hands over to the host:
#
#   drm-show-FMT.txt   drm-show's output (its "holding:" line names the
#                      sequence number of the frame on screen)
#   showing-FMT        written when that frame is on screen: the host then
#                      takes a screendump
#   dumped-FMT         written by the host when its screendump is done
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
out=$(modprobe cirrus 2>&1)
record "display: load cirrus" $? "$out"

node=
for d in /sys/class/video4linux/video*; do
	[ "$(cat "$d/name" 2>/dev/null)" = vivid-expbuf-0-vid-cap ] && node=/dev/${d##*/}
done
card=
for ((i = 0; i < 50; i++)); do
	for d in /sys/class/drm/card[0-9]; do
		[ "$(basename "$(readlink -f "$d/device/driver")")" = cirrus ] &&
			[ -e "/dev/dri/${d##*/}" ] && card=/dev/dri/${d##*/}
	done
	[ -n "$card" ] && break
	sleep 0.2
done
record "display: capture node ($node) and cirrus card ($card)" \
	"$([ -n "$node" ] && [ -n "$card" ]; echo $?)" "node '$node' card '$card'"
{ [ -n "$node" ] && [ -n "$card" ]; } || finish

for fmt in XR24 RGBP; do
	txt=$RESULTS/drm-show-$fmt.txt
	log "drm-show -d $node -D $card -f $fmt -n $frames --hold $hold_s"
	"$show" -d "$node" -D "$card" -f "$fmt" -n "$frames" --hold "$hold_s" \
		> "$txt" 2>&1 &
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
	record "display: drm-show $fmt shows $frames frames" $held \
		"$(grep -v '^drm:' "$txt" | tail -n 2 | tr '\n' ' ')"
	if [ $held -eq 0 ]; then
		# Written whole, then renamed: the host polls for the name.
		grep '^holding:' "$txt" > "$RESULTS/.showing-$fmt"
		mv "$RESULTS/.showing-$fmt" "$RESULTS/showing-$fmt"
		wait_for "$RESULTS/dumped-$fmt" 60 ||
			log "no screendump from the host for $fmt"
	fi
	kill $pid 2> /dev/null
	wait $pid 2> /dev/null
done
finish
