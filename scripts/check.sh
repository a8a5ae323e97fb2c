#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: what `make check` does. Lint the sources, build the Debian sid
# root when it is missing (scripts/sid-root.sh, in the background), build
# the tests and utils, build the module for the newest kernel of each line
# of scripts/kernel-lines.txt (6.1, 6.12, 7.2), then run the jobs in
# CHECK_LANES lanes (default 1) and print the summary
# (scripts/summarize.sh), whose last line is "N passed, N failed". The
# jobs:
#
#   one per kernel line: boot its kernel in QEMU twice, with a cirrus
#     display for scripts/display-check.sh, then with
#     scripts/guest-check.sh;
#   the debug tier (scripts/debug-check.sh: detector self-test, the whole
#     guest suite and the fuzzers, the display check, on the 6.1 debug
#     kernel).
#
# The guests are paced by frame periods more than by the CPU, so two lanes
# take little more than half the time of one (37.7 minutes for the three
# lines and the tier, the debug kernel built meanwhile); but beside the
# debug tier the timing checks of test-sync (a fence wait within its 1 s
# bound) failed now and then on the loaded host, so one lane by default.
# v4l2-compliance, the check
# most sensitive to a starved guest (a requeue later than the buffers
# queued cover is a dropped frame, which it warns about), runs with one
# CPU of the guest online (scripts/guest-check.sh). The debug kernel is
# cached outside the clone (scripts/debug-kernel.sh); when it is missing
# it is built from the start in the background at idle priority
# (SCHED_IDLE), so that it takes only the CPU time the guests leave.
# CHECK_DEBUG=0 leaves the debug tier out (the summary then fails one step
# saying so). A failing step (lint's exit status included) is recorded and
# counted; the other steps still run. Results of an earlier run are
# removed first, so that only this run's are counted.

set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
start=$(date +%s)
steps=build/check/steps.txt
mkdir -p build/check
: > "$steps"

record() {
	if [ "$2" -eq 0 ]; then
		echo "pass $1" >> "$steps"
	else
		echo "fail $1 -- $3" >> "$steps"
	fi
}

# Nothing of an earlier run may be counted: lint's results go first, and
# lint's own exit status is a step (it fails when checkpatch cannot run).
# The sid root (7.2's kernel and headers, v4l2-compliance 1.32) is built
# meanwhile when missing: its download and install take 2 to 4 minutes.
scripts/sid-root.sh > build/check/sid-root.log 2>&1 &
sid_job=$!

echo "== lint =="
rm -rf build/lint
scripts/lint.sh
record "lint: checkpatch --strict on every C file" $? \
	"scripts/lint.sh failed, see build/lint/"

echo "== build =="
make --no-print-directory -k tests utils
record "build tests and utils" $? "make tests utils failed"

wait "$sid_job"
status=$?
tail -n 1 build/check/sid-root.log
record "build the Debian sid root (7.2, v4l2-compliance 1.32)" $status \
	"see build/check/sid-root.log"

nlines=$(grep -c -v -e '^#' -e '^$' scripts/kernel-lines.txt)
mapfile -t kvers < <(scripts/kvers.sh --check)
record "find a kernel of each of the $nlines lines of scripts/kernel-lines.txt" \
	$((${#kvers[@]} != nlines)) "found: ${kvers[*]}"

# debug_lane: build and install the debug kernel when it is missing, at
# idle priority, then run the tier at normal priority.
debug_lane() {
	local status
	chrt -i 0 scripts/debug-kernel.sh > build/check/debug-kernel.log 2>&1
	status=$?
	tail -n 1 build/check/debug-kernel.log
	record "build and install the debug kernel $debug_kver" $status \
		"see build/check/debug-kernel.log"
	[ $status -eq 0 ] || return
	echo "== debug lane: tier from $(($(date +%s) - start)) s =="
	rm -rf "build/$debug_kver/results" "build/$debug_kver/display" \
		"build/$debug_kver/detectors" "build/$debug_kver/console.log"
	DEBUG_SUMMARY=0 scripts/debug-check.sh
}

# The build of every line's module, in this order.
built=()
for k in "${kvers[@]}"; do
	# Nor results of an earlier boot of this kernel.
	rm -rf "build/$k/results" "build/$k/display" "build/$k/console.log"
	scripts/build-module.sh "$k"
	status=$?
	record "build vivid-expbuf.ko for $k with W=1, no warnings" $status \
		"see build/$k/build.log"
	[ $status -eq 0 ] && built+=("$k")
	scripts/exporter-build.sh "$k"
	record "build the test module vx-exporter.ko for $k with W=1, no warnings" $? \
		"see build/$k/exporter/build.log"
done

# kernel_job KVER: the display check, then the guest suite, of one kernel.
kernel_job() {
	echo "== display $1 =="
	scripts/display-check.sh "$1" | grep -a -E '^(display-check|fail )'
	echo "== guest $1 =="
	VM_QUIET=0 VM_TIMEOUT=${VM_TIMEOUT:-1200} VM_APPEND=loglevel=5 \
		scripts/vm-run.sh "$1" scripts/guest-check.sh 2>&1 |
		grep -a --line-buffered -E -e '^(guest-check|guest-clients|vm-run|VMRUN)' \
			-f <(grep -v -e '^#' -e '^$' scripts/kernel-log-patterns.txt)
}

# The jobs: the debug tier and one job per kernel. CHECK_LANES lanes
# (default 1) take the next job whenever they are free, the debug tier
# (the longest) first; a job's output goes to build/check/job-N.log and is
# shown, in job order, once all are done. With one lane the jobs run one
# after the other, the debug tier last, their output shown as it comes.
# The debug kernel is built (when not cached) in the background from the
# start, at idle priority; the tier's own debug-kernel.sh waits for it.
lanes=${CHECK_LANES:-1}
debug_kver=
jobs=("${built[@]}")
if [ "${CHECK_DEBUG:-1}" = 1 ]; then
	debug_kver=$(scripts/debug-kernel.sh --kver)
	record "name the debug kernel" $? "scripts/debug-kernel.sh --kver failed"
	echo "== debug kernel $debug_kver: scripts/debug-kernel.sh in the background =="
	chrt -i 0 scripts/debug-kernel.sh > build/check/debug-kernel-bg.log 2>&1 &
	if [ "$lanes" -le 1 ]; then
		jobs+=(debug)
	else
		jobs=(debug "${jobs[@]}")
	fi
else
	record "the debug tier runs" 1 "CHECK_DEBUG=${CHECK_DEBUG}"
fi

run_job() {
	echo "== job $1 from $(($(date +%s) - start)) s =="
	if [ "$1" = debug ]; then
		debug_lane
	else
		kernel_job "$1"
	fi
	echo "== job $1 done at $(($(date +%s) - start)) s =="
}

# next_job: the index of the next job nobody took, or nothing.
queue=build/check/job-queue
echo 0 > "$queue"
next_job() {
	local i
	{
		flock 8
		i=$(cat "$queue")
		echo $((i + 1)) > "$queue"
	} 8> "$queue.lock"
	[ "$i" -lt ${#jobs[@]} ] && echo "$i"
}

lane() {
	local i
	while i=$(next_job); do
		run_job "${jobs[$i]}" > "build/check/job-$i.log" 2>&1
	done
}

echo "== ${#jobs[@]} jobs (${jobs[*]}) in $lanes lane(s) =="
if [ "$lanes" -le 1 ]; then
	for i in "${!jobs[@]}"; do
		run_job "${jobs[$i]}" 2>&1 | tee "build/check/job-$i.log"
	done
else
	lane_pids=()
	for ((l = 0; l < lanes; l++)); do
		lane &
		lane_pids+=($!)
	done
	wait "${lane_pids[@]}"
	for i in "${!jobs[@]}"; do
		cat "build/check/job-$i.log"
	done
fi

echo "== summary ($(($(date +%s) - start)) s) =="
scripts/summarize.sh "${kvers[@]}" ${debug_kver:+"$debug_kver"}
