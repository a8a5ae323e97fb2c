#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh: the debug kernel's main boot, run inside a guest of the
# -vxdebug kernel by scripts/debug-tier.sh (which adds the kmemleak scans
# around it). First the whole guest suite, scripts/guest-check.sh, with
# its results in $RESULTS as on the stock kernels (v4l2-compliance 1.32
# only, not Debian's 1.22.1 as well); then the fuzzers,
# scripts/guest-fuzz.sh (vx-fuzz, trinity, nothing left charged, rmmod),
# with theirs in $RESULTS/fuzz/. check-done is written last, once both
# ran to the end; scripts/summarize.sh counts it all, and its scan of
# this boot's kernel log fails on any detector report of either part.
#
# The fuzz settings (FUZZ_OPS, ...) come from $REPO/build/fuzz.conf, which
# scripts/debug-check.sh writes through scripts/fuzz.sh's conventions.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"

GUEST_NAME=guest-debug
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

log "kernel $(uname -r): the guest suite, then the fuzzers"
DEBIAN_COMPLIANCE=0 bash "$REPO/scripts/guest-check.sh"
# guest-check.sh wrote steps.txt and check-done; this boot is done only
# at the end of this script.
mv -f "$RESULTS/check-done" "$RESULTS/suite-done" 2> /dev/null
steps=$RESULTS/steps.txt
step "the guest suite ran to the end" test -e "$RESULTS/suite-done"

mkdir -p "$RESULTS/fuzz"
RESULTS=$RESULTS/fuzz bash "$REPO/scripts/guest-fuzz.sh"
step "guest-fuzz.sh finished" test -e "$RESULTS/fuzz/fuzz-done"

dmesg > "$RESULTS/dmesg-check.txt"
echo done > "$RESULTS/check-done"
log "done"
