# SPDX-License-Identifier: GPL-2.0
#
# guest-lib.sh: the helpers every guest script shares, sourced after it
# has set GUEST_NAME (the prefix of its log lines) and steps (the file of
# "pass STEP" / "fail STEP -- DETAIL" lines that scripts/summarize.sh
# counts).

log() { echo "$GUEST_NAME: $*"; }

pass() {
	echo "pass $1" >> "$steps"
	log "ok   $1"
}

fail() {
	echo "fail $1 -- $2" >> "$steps"
	log "FAIL $1 -- $2"
}

# step NAME CMD...: run CMD, record its result as one step; the last
# three lines of its output explain a failure.
step() {
	local name=$1 out status
	shift
	out=$("$@" 2>&1)
	status=$?
	if [ $status -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "status $status: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
	return $status
}

# nodes_named GLOB: the /dev node of every video device whose sysfs name
# matches GLOB, in numeric order.
nodes_named() {
	local d
	for d in /sys/class/video4linux/video*; do
		[ -r "$d/name" ] || continue
		# shellcheck disable=SC2053
		[[ $(cat "$d/name") == $1 ]] && echo "/dev/${d##*/}"
	done | sort -V
}

node_name() { cat "/sys/class/video4linux/${1##*/}/name"; }

# nothing_charged: once every file, mapping and dma-buf of the module is
# closed, no byte may stay charged to its memory budget. Prints the
# figure; fails while something is still charged after 5 s (a dma-buf is
# released by the last fput, which may run a moment after close).
nothing_charged() {
	local used i
	for i in 1 2 3 4 5 6; do
		used=$(cat /sys/module/vivid_expbuf/parameters/mem_used) || return 2
		[ "$used" = 0 ] && break
		[ $i -eq 6 ] || sleep 1
	done
	echo "mem_used $used"
	[ "$used" = 0 ]
}
