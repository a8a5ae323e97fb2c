#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh [--conf-only]: what `make fuzz` does. Builds the module and the
# tools, boots a kernel in QEMU with scripts/guest-fuzz.sh (vx-fuzz, then
# trinity, then nothing left charged and rmmod), and prints the seed, the
# operations, the seconds, the calls and errnos reached and a verdict. The
# verdict fails on a vx-fuzz violation, a failed guest step, or a kernel
# report in the guest's dmesg, on the serial console or (debug kernel) in
# the kmemleak scan after the rmmod (BUG:, WARNING:, KASAN, UBSAN, Oops,
# Call Trace, unreferenced object, ...). With --conf-only it writes
# build/fuzz.conf and stops (scripts/debug-check.sh runs the fuzzer inside
# its own boot).
#
# Environment:
#   FUZZ_KVER      kernel to boot (default: the 6.1 debug kernel, built by
#                  scripts/debug-kernel.sh when missing); a debug kernel
#                  (release ending in -vxdebug) boots through
#                  scripts/debug-tier.sh (q35, kmemleak=on, loglevel=7)
#   FUZZ_OPS       vx-fuzz operations (default 1000000)
#   FUZZ_SECONDS   vx-fuzz time bound (default 3000)
#   FUZZ_SEED, FUZZ_PROCS, FUZZ_THREADS, FUZZ_PROFILE, FUZZ_DESTRUCTIVE,
#   FUZZ_EXTRA, TRINITY_COUNT, TRINITY_SECONDS, TRINITY_DROPPRIVS,
#   TRINITY_NODES: see scripts/guest-fuzz.sh
# They reach the guest through build/fuzz.conf. Exit status 0 only for a
# clean verdict.

set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1

ops=${FUZZ_OPS:-1000000}
secs=${FUZZ_SECONDS:-3000}

mkdir -p build
{
	echo "FUZZ_OPS=$ops"
	echo "FUZZ_SECONDS=$secs"
	for v in FUZZ_SEED FUZZ_PROCS FUZZ_THREADS FUZZ_PROFILE \
		FUZZ_DESTRUCTIVE FUZZ_EXTRA TRINITY_COUNT TRINITY_SECONDS \
		TRINITY_DROPPRIVS TRINITY_NODES; do
		[ -n "${!v:-}" ] && echo "$v=${!v}"
	done
} > build/fuzz.conf
[ "${1:-}" = --conf-only ] && exit 0

kver=${FUZZ_KVER:-}
if [ -z "$kver" ]; then
	scripts/debug-kernel.sh || exit 1
	kver=$(scripts/debug-kernel.sh --kver) || exit 1
fi

make --no-print-directory utils || exit 1
scripts/build-module.sh "$kver" || exit 1

# vx-fuzz, trinity on four nodes, boot and rmmod, with room to spare.
timeout_s=$((secs + 4 * ${TRINITY_SECONDS:-60} + 600))
echo "fuzz: booting $kver, $ops operations, at most $secs s of vx-fuzz"
start=$(date +%s)
case "$kver" in
*-vxdebug)
	# kmemleak scans around the run, detector lines to detectors.txt.
	VM_TIMEOUT=$timeout_s VM_QUIET=1 \
		scripts/debug-tier.sh "$kver" scripts/guest-fuzz.sh |
		grep -a -E '^(debug-tier|vm-run)'
	vm_status=${PIPESTATUS[0]}
	# 3: a detector reported; the scan below says what.
	[ "$vm_status" -eq 3 ] && vm_status=0
	;;
*)
	VM_QUIET=1 VM_TIMEOUT=$timeout_s VM_APPEND=${VM_APPEND:-loglevel=5} \
		scripts/vm-run.sh "$kver" scripts/guest-fuzz.sh
	vm_status=$?
	;;
esac
echo "fuzz: guest ran $(($(date +%s) - start)) s, status $vm_status"

res=build/$kver/results
console=build/$kver/console.log
out=$res/vx-fuzz.txt
verdict=ok
why=()

if [ -r "$out" ]; then
	grep -E '^vx-fuzz: (seed|ops|calls reached|errnos reached|violations|VIOLATION)' "$out"
	grep -A 20 '^vx-fuzz: states reached' "$out" | sed -n '1,14p'
else
	why+=("no vx-fuzz output")
fi
[ "$vm_status" -eq 0 ] || why+=("guest status $vm_status")
if [ -r "$res/steps.txt" ]; then
	grep '^fail ' "$res/steps.txt" && why+=("failed guest steps")
	[ -e "$res/fuzz-done" ] || why+=("guest-fuzz.sh did not finish")
else
	why+=("no steps.txt")
fi
patterns=$(grep -v -e '^#' -e '^$' scripts/kernel-log-patterns.txt)
for f in "$res/dmesg.txt" "$console" "$res/kmemleak.txt"; do
	[ -r "$f" ] || continue
	if grep -a -q -E -e "$patterns" "$f"; then
		echo "fuzz: kernel report in $f:"
		grep -a -E -m 10 -e "$patterns" "$f"
		why+=("kernel report in ${f##*/}")
	fi
done
[ -r "$res/dmesg.txt" ] || why+=("no dmesg.txt")

[ ${#why[@]} -eq 0 ] || verdict="FAIL (${why[*]})"
echo "fuzz: results in $res"
echo "fuzz: verdict $verdict"
[ "$verdict" = ok ]
