#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-check.sh: the debug-kernel tier (`make debug-check`, and the debug
# lane of `make check`). Builds and installs the 6.1 debug kernel when it
# is missing (scripts/debug-kernel.sh, cached outside the clone), builds
# the module and the detector self-test module for it, then boots it
# three times, the first two at the same time:
#
#   1. scripts/detectors-check.sh: every detector (KASAN, UBSAN, lockdep,
#      kmemleak, DEBUG_OBJECTS, DMA-API debug, hung task, ...) fires on a
#      bug committed on purpose; results in build/KVER/detectors/;
#   2. scripts/debug-tier.sh with scripts/guest-debug.sh: the whole guest
#      suite (scripts/guest-check.sh), then scripts/guest-fuzz.sh: vx-fuzz
#      (DEBUG_FUZZ_OPS operations, default 10^5, fixed seed
#      DEBUG_FUZZ_SEED, default 8) and trinity (DEBUG_TRINITY_SECONDS,
#      default 120, on the multi-planar capture node, as root), nothing
#      left charged, rmmod; then a kmemleak scan. Results in
#      build/KVER/results/ (the fuzz part in results/fuzz/);
#   3. scripts/display-check.sh: capture to the cirrus display, checked
#      on screen, as on the stock kernels; results in build/KVER/display/.
#
# Then scripts/summarize.sh KVER counts it all: any detector report in the
# logs of boots 2 and 3 fails. Unless DEBUG_SUMMARY=0, prints that
# summary; its last line is "N passed, N failed".

set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
start=$(date +%s)

scripts/debug-kernel.sh || { echo "debug-check: no debug kernel" >&2; exit 1; }
kver=$(scripts/debug-kernel.sh --kver)
out=build/$kver
make --no-print-directory tests utils || exit 1
scripts/build-module.sh "$kver" || exit 1
mkdir -p "$out"
: > "$out/tier-steps.txt"

tier_step() {
	if [ "$2" -eq 0 ]; then
		echo "pass $1" >> "$out/tier-steps.txt"
	else
		echo "fail $1 -- status $2" >> "$out/tier-steps.txt"
	fi
}

scripts/exporter-build.sh "$kver"
tier_step "build the test module vx-exporter.ko for $kver with W=1, no warnings" $?

# The detector boot mostly waits for its detectors (hung-task timeout,
# kmemleak's scans), and its output goes to a directory of its own: it
# runs beside the suite's boot. The display check, which has a directory
# of its own too, comes last.
echo "== debug $kver: detectors, in the background =="
scripts/detectors-check.sh "$kver" > "$out/detectors-check.log" 2>&1 &
detectors=$!

echo "== debug $kver: the guest suite, then the fuzzers =="
# trinity takes most of a minute to start on this kernel: one node, 2 min.
FUZZ_OPS=${DEBUG_FUZZ_OPS:-100000} FUZZ_SEED=${DEBUG_FUZZ_SEED:-8} \
	FUZZ_SECONDS=${DEBUG_FUZZ_SECONDS:-1800} \
	TRINITY_SECONDS=${DEBUG_TRINITY_SECONDS:-120} TRINITY_DROPPRIVS=0 \
	TRINITY_NODES=vivid-expbuf-1-vid-cap scripts/fuzz.sh --conf-only
rm -rf "$out/results"
VM_TIMEOUT=${VM_TIMEOUT:-3600} scripts/debug-tier.sh "$kver" \
	scripts/guest-debug.sh |
	grep -a -E '^(guest-debug|guest-check|guest-clients|guest-fuzz|debug-tier|vm-run)'
tier_step "debug-tier.sh guest-debug.sh on $kver: no detector report, no DMA-API error" \
	"${PIPESTATUS[0]}"
tier_step "debug-tier.sh guest-debug.sh on $kver finished" \
	"$([ -e "$out/results/check-done" ]; echo $?)"

echo "== debug $kver: display =="
scripts/display-check.sh "$kver" | grep -a -E '^(display-check|fail )'

wait "$detectors"
status=$?
echo "== debug $kver: detectors =="
cat "$out/detectors-check.log"
tier_step "detectors-check.sh: every detector of $kver fires" $status

echo "== debug $kver: $(($(date +%s) - start)) s =="
[ "${DEBUG_SUMMARY:-1}" = 0 ] || scripts/summarize.sh "$kver"
