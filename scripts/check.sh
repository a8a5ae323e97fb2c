#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: what `make check` does. Lint the sources, build the Debian sid
# root when it is missing (scripts/sid-root.sh, in the background), build
# the tests and utils, build the module for the newest kernel of each line
# of scripts/kernel-lines.txt (6.1, 6.12, 7.2), then run two lanes, one
# after the other (CHECK_LANES=2: at the same time), and print the summary
# (scripts/summarize.sh), whose last line is "N passed, N failed":
#
#   stock lane: boot each line's kernel in QEMU twice: with a cirrus
#     display for scripts/display-check.sh, then with
#     scripts/guest-check.sh (output shown as it comes);
#   debug lane: the debug-kernel tier (scripts/debug-check.sh: detector
#     self-test, display check, the whole guest suite and the fuzzers on
#     the 6.1 debug kernel), its output in build/check/debug-lane.log,
#     shown once the stock lane is done.
#
# The guests are paced by frame periods more than by the CPU, and side by
# side the two lanes take 18 minutes instead of about 30; but
# v4l2-compliance 1.22.1 streams capture at 60 fps whatever the script
# sets, and on the loaded host it then misses buffers now and then (a
# sequence gap, which it warns about): one run in three failed so. So
# one lane by default. The debug kernel is cached
# outside the clone (scripts/debug-kernel.sh); when it is missing the
# debug lane builds it first at idle priority (SCHED_IDLE), so that it
# takes only the CPU time the stock guests leave. CHECK_DEBUG=0 leaves
# the debug lane out (the summary then fails one step saying so).
# A failing step (lint's exit status included) is recorded and counted; the
# other steps still run. Results of an earlier run are removed first, so
# that only this run's are counted.

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

debug_kver=
debug_job=
if [ "${CHECK_DEBUG:-1}" = 1 ]; then
	debug_kver=$(scripts/debug-kernel.sh --kver)
	record "name the debug kernel" $? "scripts/debug-kernel.sh --kver failed"
	if [ "${CHECK_LANES:-1}" = 2 ]; then
		echo "== debug lane ($debug_kver): in the background, output in build/check/debug-lane.log =="
		debug_lane > build/check/debug-lane.log 2>&1 &
		debug_job=$!
	else
		# One lane: only the build overlaps the stock kernels' boots;
		# debug_lane's own debug-kernel.sh then waits for it (flock).
		echo "== debug kernel $debug_kver: scripts/debug-kernel.sh in the background =="
		chrt -i 0 scripts/debug-kernel.sh > build/check/debug-kernel-bg.log 2>&1 &
	fi
else
	record "the debug tier runs" 1 "CHECK_DEBUG=${CHECK_DEBUG}"
fi
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

# The display checks first, then the guest suites.
for k in "${built[@]}"; do
	echo "== display $k =="
	scripts/display-check.sh "$k" | grep -a -E '^(display-check|fail )'
done

for k in "${built[@]}"; do
	echo "== guest $k =="
	VM_QUIET=0 VM_TIMEOUT=${VM_TIMEOUT:-1200} VM_APPEND=loglevel=5 \
		scripts/vm-run.sh "$k" scripts/guest-check.sh 2>&1 |
		grep -a --line-buffered -E -e '^(guest-check|guest-clients|vm-run|VMRUN)' \
			-f <(grep -v -e '^#' -e '^$' scripts/kernel-log-patterns.txt)
done

if [ -n "$debug_job" ]; then
	echo "== debug lane ($(($(date +%s) - start)) s): waiting for it =="
	wait "$debug_job"
	cat build/check/debug-lane.log
elif [ -n "$debug_kver" ]; then
	echo "== debug lane ($(($(date +%s) - start)) s) =="
	debug_lane
fi

echo "== summary ($(($(date +%s) - start)) s) =="
scripts/summarize.sh "${kvers[@]}" ${debug_kver:+"$debug_kver"}
