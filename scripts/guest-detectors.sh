#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-detectors.sh: prove the debug kernel's detectors live, run inside the
# guest by vm-run.sh (needs RESULTS, KVER and REPO; scripts/detectors-check.sh
# boots it). Loads tests/detectors/vx-detectors.ko (built by
# detectors-check.sh into build/KVER/detectors-build/), commits one bug of
# each class through its debugfs trigger and checks, after each, that the
# kernel log gained that detector's report since a marker written just
# before. One step per class; a detector that stays silent fails its step.
#
# With vx_detectors.control=1 on the kernel command line the module is loaded
# with control=1: the triggers do their work without the bug, and every
# class step must then fail (which proves that the checks can fail).
#
# Writes into $RESULTS:
#   steps.txt         "pass STEP" / "fail STEP -- DETAIL", one a step; the
#                     class steps are named "detector CLASS: ..."
#   detectors.txt     "CLASS: <first report line seen>" per class that fired
#   env.txt           kernel, command line, taint and lockdep state
#   kmemleak.txt      /sys/kernel/debug/kmemleak after the scans
#   dmesg-detectors.txt  the kernel log at the end
#   detectors-done    written last: the script ran to the end
#
# This boot's log is full of reports on purpose: it must never be scanned
# as a failure by the main suite's summary.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
ko=$REPO/build/$KVER/detectors-build/vx-detectors.ko
steps=$RESULTS/steps.txt
seen=$RESULTS/detectors.txt
env=$RESULTS/env.txt
dbg=/sys/kernel/debug
dir=$dbg/vx-detectors
hung=/proc/sys/kernel/hung_task_timeout_secs
: > "$steps"
: > "$seen"

GUEST_NAME=guest-detectors
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

# mark CLASS: a marker in the kernel log; since CLASS prints the log after it.
mark() { echo "vx-detectors-check: begin $1 ." > /dev/kmsg; }
since() {
	dmesg | awk -v m="vx-detectors-check: begin $1 ." '
		on { print }
		length($0) >= length(m) && substr($0, length($0) - length(m) + 1) == m { on = 1 }'
}

# fire CLASS WORD: mark the log, write WORD to the trigger from a child
# process (a trigger may oops on purpose, killing the writer).
fire() {
	local st

	mark "$1"
	sh -c "echo $2 > $dir/trigger" > /dev/null 2>&1
	st=$?
	log "trigger $2: writer exited with status $st"
	echo "$1: trigger '$2' writer status $st" >> "$env"
}

# detect CLASS WAIT PATTERN [ALSO]: within WAIT seconds the log since CLASS's
# marker must hold a line matching the extended regex PATTERN (the report's
# opening line) and, if given, a line matching ALSO (which ties the report
# to our module); records the class's step.
detect() {
	local class=$1 wait=$2 pattern=$3 also=${4:-} name line text t=0

	name="detector $class: '$pattern'"
	[ -n "$also" ] && name="$name and '$also'"
	while :; do
		text=$(since "$class")
		line=$(echo "$text" | grep -E -m 1 -e "$pattern")
		if [ -n "$line" ] && { [ -z "$also" ] || echo "$text" | grep -q -E -e "$also"; }; then
			echo "$class: ${line#\[*\] }" >> "$seen"
			pass "$name"
			return 0
		fi
		[ $t -ge "$wait" ] && break
		sleep 1
		t=$((t + 1))
	done
	if [ -n "$line" ]; then
		fail "$name" "report seen but not tied to vx-detectors ($also missing): $line"
	else
		fail "$name" "no such report in the kernel log after $wait s"
	fi
	return 1
}

classes=(lockdep atomic-sleep refcount odebug dma-api ubsan kasan-uaf kasan-oob
	kmemleak hung-task list)

control=0
grep -q -w 'vx_detectors.control=1' /proc/cmdline && control=1

{
	echo "kernel: $(uname -r)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "control: $control"
	echo "tainted at start: $(cat /proc/sys/kernel/tainted)"
} > "$env"
log "kernel $(uname -r), module $ko, control $control"

mountpoint -q "$dbg" || mount -t debugfs none "$dbg"
step "debugfs mounted on $dbg" mountpoint -q "$dbg"
# refcount_t and other WARN_ONCE reports print once per boot and call
# site: forget those that boot-time code may have used.
[ -w "$dbg/clear_warn_once" ] && echo 1 > "$dbg/clear_warn_once"
if ! step "insmod vx-detectors control=$control" insmod "$ko" control=$control; then
	for c in "${classes[@]}"; do
		fail "detector $c" "vx-detectors.ko did not load"
	done
	dmesg > "$RESULTS/dmesg-detectors.txt"
	echo finished > "$RESULTS/detectors-done"
	exit 0
fi

# lockdep first: it switches itself off after one report, and KASAN's
# reports taint the kernel with LOCKDEP_NOW_UNRELIABLE, which does too.
echo "lockdep before its trigger: $(grep -s 'debug_locks:' /proc/lockdep_stats ||
	echo 'no /proc/lockdep_stats')" >> "$env"
fire lockdep lockdep
detect lockdep 3 'WARNING: possible circular locking dependency detected' \
	'vx_det_lock_[ab]'

fire atomic-sleep atomic-sleep
detect atomic-sleep 3 \
	'BUG: sleeping function called from invalid context at .*vx-detectors\.c'

fire refcount refcount
detect refcount 3 'refcount_t: underflow; use-after-free' 'vx_det_refcount'

fire odebug odebug
detect odebug 3 'ODEBUG: init active .*timer_list' 'vx_det_timer_fn'

# dma-debug prints only num_errors reports (1 by default) in all: if an
# earlier error of another driver used it up, allow one more.
dapi=$dbg/dma-api
if [ -r "$dapi/num_errors" ]; then
	echo "dma-api before its trigger: disabled $(cat "$dapi/disabled")," \
		"error_count $(cat "$dapi/error_count"), num_errors $(cat "$dapi/num_errors")" >> "$env"
	[ "$(cat "$dapi/num_errors")" = 0 ] && echo 1 > "$dapi/num_errors"
fi
fire dma-api dma-api
detect dma-api 3 \
	'DMA-API: [^ ]+ vx-detectors: device driver frees DMA memory with different size'

fire ubsan ubsan
detect ubsan 3 'UBSAN: array-index-out-of-bounds in .*vx-detectors\.c'

echo "kasan_multi_shot on the command line: $(grep -c -w kasan_multi_shot /proc/cmdline)" >> "$env"
fire kasan-uaf kasan-uaf
detect kasan-uaf 3 'BUG: KASAN: (slab-)?use-after-free in vx_det_kasan_uaf'

fire kasan-oob kasan-oob
detect kasan-oob 3 'BUG: KASAN: slab-out-of-bounds in vx_det_kasan_oob'

# kmemleak reports objects older than 5 s that no scanned memory points
# to; the leaking writer has exited, and the processes started since have
# reused (and cleared) its cached kernel stack. Up to three scans.
kml=$dbg/kmemleak
fire kmemleak leak
if [ -w "$kml" ]; then
	sleep 6
	for i in 1 2 3; do
		echo scan > "$kml" 2> /dev/null
		grep -q vx_det_leak_alloc "$kml" 2> /dev/null && break
		log "kmemleak scan $i: our object not reported yet"
		sleep 2
	done
	cat "$kml" > "$RESULTS/kmemleak.txt" 2>&1
	if grep -q vx_det_leak_alloc "$RESULTS/kmemleak.txt"; then
		detect kmemleak 1 'kmemleak: [0-9]+ new suspected memory leaks'
	else
		fail "detector kmemleak: 'kmemleak: [0-9]+ new suspected memory leaks' and vx_det_leak_alloc in $kml" \
			"no unreferenced object allocated by vx_det_leak_alloc after 3 scans"
	fi
else
	fail "detector kmemleak: 'kmemleak: [0-9]+ new suspected memory leaks'" \
		"no writable $kml (no CONFIG_DEBUG_KMEMLEAK, or not booted with kmemleak=on)"
fi

# The hung-task detector: a kernel thread waits uninterruptibly on a fence
# that nobody signals; then the fence is signalled and it must recover.
hung_orig=$(cat "$hung" 2> /dev/null)
if [ -n "$hung_orig" ]; then
	echo "hung_task_warnings before its trigger: $(cat /proc/sys/kernel/hung_task_warnings)" >> "$env"
	[ "$(cat /proc/sys/kernel/hung_task_warnings)" = 0 ] &&
		echo 1 > /proc/sys/kernel/hung_task_warnings
	echo 5 > "$hung"
	fire hung-task fence-hang
	detect hung-task 40 \
		'INFO: task vx-fence-wait:[0-9]+ blocked for more than [0-9]+ seconds'
	echo "$hung_orig" > "$hung"
else
	fire hung-task fence-hang
	fail "detector hung-task: 'INFO: task vx-fence-wait:[0-9]+ blocked for more than'" \
		"no $hung (no CONFIG_DETECT_HUNG_TASK)"
fi
sh -c "echo fence-signal > $dir/trigger" > /dev/null 2>&1
step "the fence waiter recovers once the fence is signalled (done, not timed out)" \
	timeout 20 sh -c "until grep -q '^fence-waiter done [1-9]' $dir/status; do sleep 0.5; done"
cat "$dir/status" >> "$env"

# The list last: with CONFIG_BUG_ON_DATA_CORRUPTION (Debian's stock
# kernels) its report is an oops, which kills the writer and taints the
# kernel with TAINT_DIE, after which the hung-task detector stays silent.
fire list list
detect list 3 'list_add corruption' 'vx_det_list'

step "rmmod vx-detectors" rmmod vx_detectors
echo "tainted at end: $(cat /proc/sys/kernel/tainted)" >> "$env"
dmesg > "$RESULTS/dmesg-detectors.txt"
echo finished > "$RESULTS/detectors-done"
log "done"
