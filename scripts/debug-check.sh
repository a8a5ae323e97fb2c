#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-check.sh: the debug-kernel tier (`make debug-check`). Builds and
# installs the 6.1 debug kernel when it is missing (scripts/debug-kernel.sh,
# cached outside the clone), builds the module and the detector self-test
# module for it, then boots it three times:
#
#   1. scripts/detectors-check.sh: every detector (KASAN, UBSAN, lockdep,
#      kmemleak, DEBUG_OBJECTS, DMA-API debug, hung task, ...) fires on a
#      bug committed on purpose; results in build/KVER/detectors/;
#   2. scripts/fuzz.sh: vx-fuzz (DEBUG_FUZZ_OPS operations, default 10^5,
#      fixed seed DEBUG_FUZZ_SEED) and trinity, then rmmod; results moved
#      to build/KVER/fuzz/;
#   3. scripts/debug-tier.sh with scripts/guest-debug.sh: the attacking
#      tests on both capture nodes between two kmemleak scans; results in
#      build/KVER/results/.
#
# Then scripts/summarize.sh KVER counts it all: any detector report in the
# logs of boots 2 and 3 fails. Unless DEBUG_SUMMARY=0, prints that summary;
# its last line is "N passed, N failed".

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

echo "== debug $kver: detectors =="
scripts/detectors-check.sh "$kver"
tier_step "detectors-check.sh: every detector of $kver fires" $?

echo "== debug $kver: fuzz =="
rm -rf "$out/fuzz"
FUZZ_KVER=$kver FUZZ_OPS=${DEBUG_FUZZ_OPS:-100000} \
	FUZZ_SEED=${DEBUG_FUZZ_SEED:-8} FUZZ_SECONDS=${DEBUG_FUZZ_SECONDS:-1200} \
	TRINITY_SECONDS=${DEBUG_TRINITY_SECONDS:-30} scripts/fuzz.sh
tier_step "fuzz.sh on $kver: no violation, no kernel report" $?
if [ -d "$out/results" ]; then
	mv "$out/results" "$out/fuzz"
	cp "$out/console.log" "$out/fuzz/console.log" 2>/dev/null
fi

echo "== debug $kver: guest-debug =="
VM_TIMEOUT=${VM_TIMEOUT:-3600} scripts/debug-tier.sh "$kver" \
	scripts/guest-debug.sh | grep -a -E '^(guest-debug|debug-tier|vm-run)'
tier_step "debug-tier.sh guest-debug.sh on $kver finished" \
	"$([ -e "$out/results/check-done" ]; echo $?)"

echo "== debug $kver: $(($(date +%s) - start)) s =="
[ "${DEBUG_SUMMARY:-1}" = 0 ] || scripts/summarize.sh "$kver"
