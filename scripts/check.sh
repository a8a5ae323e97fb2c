#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: what `make check` does. Lint the sources, build the module for
# the newest installed 6.1 and 6.12 kernels, build the tests and utils, boot
# each kernel in QEMU twice: with a cirrus display for
# scripts/display-check.sh, then with scripts/guest-check.sh; and print the
# summary (scripts/summarize.sh), whose last line is "N passed, N failed".
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
echo "== lint =="
rm -rf build/lint
scripts/lint.sh
record "lint: checkpatch --strict on every C file" $? \
	"scripts/lint.sh failed, see build/lint/"

mapfile -t kvers < <(scripts/kvers.sh --check)
if [ ${#kvers[@]} -ne 2 ]; then
	echo "check: need a 6.1 and a 6.12 kernel with headers" >&2
	record "find the 6.1 and 6.12 kernels" 1 "found: ${kvers[*]}"
fi

echo "== build =="
make --no-print-directory -k tests utils
record "build tests and utils" $? "make tests utils failed"
built=()
for k in "${kvers[@]}"; do
	# Nor results of an earlier boot of this kernel.
	rm -rf "build/$k/results" "build/$k/display" "build/$k/console.log"
	scripts/build-module.sh "$k"
	status=$?
	record "build vivid-expbuf.ko for $k with W=1, no warnings" $status \
		"see build/$k/build.log"
	[ $status -eq 0 ] && built+=("$k")
done

# The display check boots first: every boot empties build/KVER/results.
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

echo "== summary ($(($(date +%s) - start)) s) =="
scripts/summarize.sh "${kvers[@]}"
