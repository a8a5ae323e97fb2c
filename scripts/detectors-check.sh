#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# detectors-check.sh KVER [--control]
#
# Prove that the detectors of kernel KVER (the -vxdebug debug kernel) are
# live: build tests/detectors/vx-detectors.ko for KVER with W=1 (any
# warning fails), boot KVER in QEMU (q35, kmemleak=on loglevel=7
# kasan_multi_shot) with scripts/guest-detectors.sh, which commits one bug
# of each class and checks that its detector reported it, and print one
# line per class.
#
# With --control the module commits no bug (control=1): every class must
# then FAIL, which shows that the checks can fail.
#
# This boot's kernel log is full of reports on purpose. Its results go to
# build/KVER/detectors/ (build/KVER/detectors-control/ with --control),
# console log included, and never to build/KVER/results/ or
# build/KVER/console.log, so that scripts/summarize.sh never scans this
# boot's log and the main suite's boot can run at the same time.
#
# Exit status: 0 when every class fired (with --control: none fired) and
# every other step passed; 1 otherwise; 2 on a usage error.

set -uo pipefail

kver=${1:-}
mode=${2:-}
if [ -z "$kver" ] || { [ -n "$mode" ] && [ "$mode" != --control ]; }; then
	echo "usage: $0 KVER [--control]" >&2
	exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/$kver
bdir=$out/detectors-build
kdir=/lib/modules/$kver/build
classes=(lockdep atomic-sleep refcount odebug dma-api ubsan kasan-uaf kasan-oob
	kmemleak hung-task list)
dest=$out/detectors
append="kmemleak=on loglevel=7 kasan_multi_shot"
if [ "$mode" = --control ]; then
	dest=$out/detectors-control
	append="$append vx_detectors.control=1"
fi

if [ ! -d "$kdir" ]; then
	echo "detectors-check: no kernel tree for $kver at $kdir" >&2
	exit 1
fi

mkdir -p "$out"
rm -rf "$bdir"
mkdir -p "$bdir"
cp "$repo/tests/detectors/Kbuild" "$repo/tests/detectors/vx-detectors.c" "$bdir/"
echo "  MODULE  vx-detectors for $kver"
make -C "$kdir" M="$bdir" W=1 modules > "$bdir/build.log" 2>&1
status=$?
warnings=$(grep -E 'warning:|WARNING:' "$bdir/build.log" |
	grep -v 'Skipping BTF generation' || true)
if [ $status -ne 0 ] || [ -n "$warnings" ] || [ ! -e "$bdir/vx-detectors.ko" ]; then
	grep -E 'error|warning|WARNING|Error' "$bdir/build.log" >&2
	echo "detectors-check: $kver: build failed (status $status, log $bdir/build.log)" >&2
	exit 1
fi

# A directory of its own: the boot can run beside the main suite's.
vmout=$dest.vm
rm -rf "$vmout"
start=$(date +%s)
VM_OUT=$vmout VM_MACHINE=q35 VM_QUIET=1 VM_TIMEOUT=${VM_TIMEOUT:-1800} \
	VM_APPEND="$append ${VM_APPEND:-}" \
	"$repo/scripts/vm-run.sh" "$kver" "$repo/scripts/guest-detectors.sh"
vm_status=$?
took=$(($(date +%s) - start))

rm -rf "$dest"
mkdir -p "$dest"
[ -d "$vmout/results" ] && cp -a "$vmout/results/." "$dest/"
[ -e "$vmout/console.log" ] && cp "$vmout/console.log" "$dest/console.log"
rm -rf "$vmout"

steps=$dest/steps.txt
echo "detectors-check: $kver${mode:+ $mode}: guest ran $took s (vm-run status $vm_status), results in ${dest#"$repo"/}"
fired=0
silent=0
for c in "${classes[@]}"; do
	line=$(grep -E -m 1 "^(pass|fail) detector ${c}[: ]" "$steps" 2> /dev/null)
	if [ -z "$line" ]; then
		echo "detectors-check: FAIL $c -- no result (the guest did not get there)"
		silent=$((silent + 1))
	elif [ "${line%% *}" = pass ]; then
		echo "detectors-check: pass $c -- $(grep -m 1 "^$c: " "$dest/detectors.txt" | cut -d' ' -f2-)"
		fired=$((fired + 1))
	else
		echo "detectors-check: FAIL $c -- ${line#* -- }"
		silent=$((silent + 1))
	fi
done
other_fail=$(grep '^fail ' "$steps" 2> /dev/null | grep -v -c '^fail detector ')
grep '^fail ' "$steps" 2> /dev/null | grep -v '^fail detector ' |
	sed 's/^fail /detectors-check: FAIL /'
[ -e "$dest/detectors-done" ] ||
	{ echo "detectors-check: FAIL the guest did not finish (see ${dest#"$repo"/}/console.log)"; other_fail=$((other_fail + 1)); }
echo "detectors-check: $fired of ${#classes[@]} detectors fired, $silent silent, $other_fail other steps failed"

if [ "$mode" = --control ]; then
	[ $fired -eq 0 ] && [ "$other_fail" -eq 0 ]
else
	[ $silent -eq 0 ] && [ "$other_fail" -eq 0 ]
fi
