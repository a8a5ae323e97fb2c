#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# summarize.sh KVER...
#
# Count the checks of `make check` and print a summary; the last line is
# "N passed, N failed". Exit status 1 when anything failed.
#
# Inputs: build/check/steps.txt (host steps: builds), build/lint/results.txt,
# and per kernel build/KVER/results/ (written by guest-check.sh in the
# guest), build/KVER/console.log and build/KVER/display/steps.txt (written
# by display-check.sh). What counts:
#   - each host step, each lint file, each guest step, each display step:
#     one check;
#   - the guest finished (check-done marker): one check;
#   - v4l2-compliance per node: "Succeeded" tests pass; each fail:/warn:
#     line fails unless its message is in scripts/compliance-skew-<line>.txt
#     (then it is shown as skew) or in tests/known-failures.txt; no Totals
#     line is a failure;
#   - each TAP ok / not ok line of a test binary: one check (an ok with a
#     "# SKIP reason" passes and is counted as skipped in the test's line);
#     a not ok listed in tests/known-failures.txt is a known failure; a run
#     without a plan, with fewer results than planned, or with a non-zero
#     exit status and no not ok line is one more failure;
#   - the kernel log (console and dmesg) mentioning WARNING:, BUG:, Oops or
#     Call Trace: one check.

set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
known_file=$repo/tests/known-failures.txt

passed=0
failed=0
known=0
skew=0
known_seen=()

pass() { passed=$((passed + ${1:-1})); }
fail() {
	failed=$((failed + 1))
	echo "    FAIL $*"
}

# kernel_line KVER: 6.1, 6.12, ... (major.minor)
kernel_line() { echo "$1" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'; }

# known_reason LINE NAME: print the reason when NAME is a known failure.
known_reason() {
	local line=$1 name=$2 kl rest kname reason
	[ -r "$known_file" ] || return 1
	while IFS= read -r entry; do
		case "$entry" in '' | '#'*) continue ;; esac
		kl=${entry%% *}
		rest=${entry#* }
		kname=${rest%% -- *}
		reason=${rest#* -- }
		[ "$kl" = any ] || [ "$kl" = "$line" ] || continue
		if [ "$kname" = "$name" ]; then
			echo "$reason"
			return 0
		fi
	done < "$known_file"
	return 1
}

# is_known KVER NAME: count and print a known failure, or return 1.
is_known() {
	local reason
	reason=$(known_reason "$(kernel_line "$1")" "$2") || return 1
	known=$((known + 1))
	known_seen+=("$1: $2 -- $reason")
	echo "    known failure: $2 -- $reason"
}

# steps_file FILE: count "pass X" / "fail X -- why" lines.
steps_file() {
	local f=$1 n
	[ -r "$f" ] || return 0
	n=$(grep -c '^pass ' "$f")
	pass "$n"
	while IFS= read -r l; do
		fail "${l#fail }"
	done < <(grep '^fail ' "$f")
}

compliance() {
	local kver=$1 f=$2 node skewfile totals kind msg n shape
	node=${f##*/compliance-}
	node=${node%.txt}
	skewfile=$repo/scripts/compliance-skew-$(kernel_line "$kver").txt
	totals=$(grep -a -o 'Total for .*' "$f" | tail -n 1)
	echo "  v4l2-compliance $node: ${totals:-no totals line}"
	if [ -z "$totals" ]; then
		fail "v4l2-compliance on $node did not complete (see ${f#"$repo"/})"
		return
	fi
	n=$(echo "$totals" | sed -nE 's/.*Succeeded: ([0-9]+).*/\1/p')
	pass "${n:-0}"
	# Every fail:/warn: line counts; lines differing only in numbers are
	# printed three times at most.
	declare -A shown=()
	while IFS= read -r l; do
		kind=${l%%:*}
		msg=${l#*: }
		if [ -r "$skewfile" ] && grep -qxF -- "$msg" "$skewfile"; then
			skew=$((skew + 1))
			echo "    skew (documented): $kind: $msg"
		elif ! is_known "$kver" "compliance: $msg"; then
			shape=$(echo "$kind: $msg" | sed -E 's/\(([0-9]+)\)/(\1)/; s/ [0-9]+/ N/g')
			shown[$shape]=$((${shown[$shape]:-0} + 1))
			if [ "${shown[$shape]}" -le 3 ]; then
				fail "$node: $kind: $msg"
			else
				failed=$((failed + 1))
			fi
		fi
	done < <(grep -a -o -E '(fail|warn): .*' "$f")
	for shape in "${!shown[@]}"; do
		[ "${shown[$shape]}" -gt 3 ] &&
			echo "    ... $((${shown[$shape]} - 3)) more failures like: $shape"
	done
}

tap() {
	local kver=$1 f=$2 base status plan nres nnot nskip name l
	base=${f##*/tap-}
	base=${base%.txt}
	status=$(cat "${f%.txt}.status" 2>/dev/null || echo '?')
	plan=$(grep -a -m1 -oE '^1\.\.[0-9]+' "$f" | cut -d. -f3)
	nres=$(grep -a -cE '^(not )?ok [0-9]+' "$f")
	nnot=$(grep -a -cE '^not ok [0-9]+' "$f")
	nskip=$(grep -a -cE '^ok [0-9]+.*# SKIP' "$f")
	echo "  $base: $((nres - nnot)) ok ($nskip skipped), $nnot not ok${plan:+, plan $plan}, exit $status"
	pass $((nres - nnot))
	while IFS= read -r l; do
		name=$(echo "$l" | sed -E 's/^not ok [0-9]+ *(- *)?//; s/ +# .*$//')
		is_known "$kver" "$name" || fail "$base: $l"
	done < <(grep -a -E '^not ok [0-9]+' "$f")
	if [ -z "$plan" ]; then
		fail "$base: no TAP plan (exit status $status)"
	elif [ "$nres" -lt "$plan" ]; then
		fail "$base: $nres results for a plan of $plan (exit status $status)"
	elif [ "$status" != 0 ] && [ "$nnot" -eq 0 ]; then
		fail "$base: exit status $status with every result ok"
	fi
}

kernel_log() {
	local kver=$1 dir=$2 hits
	hits=$(cat "$repo/build/$kver/console.log" "$dir/dmesg.txt" 2>/dev/null |
		grep -a -E 'WARNING:|BUG:|Oops|Call Trace' | sort -u | head -n 20)
	if [ -n "$hits" ]; then
		fail "kernel log of $kver has warnings or oopses:"
		echo "$hits" | sed 's/^/      /'
	else
		echo "  kernel log: no WARNING/BUG/Oops/Call Trace"
		pass
	fi
}

kernel() {
	local kver=$1 dir=$repo/build/$1/results f
	local p0=$passed f0=$failed k0=$known s0=$skew
	echo "== $kver =="
	if [ ! -d "$dir" ]; then
		fail "no results for $kver (the guest did not run)"
	else
		if [ -e "$dir/check-done" ]; then
			pass
			echo "  guest: finished"
		else
			fail "the $kver guest did not finish the checks (see build/$kver/console.log)"
		fi
		steps_file "$dir/steps.txt"
		for f in "$dir"/compliance-*.txt; do
			[ -e "$f" ] && compliance "$kver" "$f"
		done
		for f in "$dir"/tap-*.txt; do
			[ -e "$f" ] && tap "$kver" "$f"
		done
		kernel_log "$kver" "$dir"
	fi
	if [ -r "$repo/build/$kver/display/steps.txt" ]; then
		echo "  display: $(grep -c '^pass ' "$repo/build/$kver/display/steps.txt") steps passed"
		steps_file "$repo/build/$kver/display/steps.txt"
	else
		fail "the display check did not run for $kver"
	fi
	echo "  $kver: $((passed - p0)) passed, $((failed - f0)) failed," \
		"$((known - k0)) known failures, $((skew - s0)) documented skew"
}

echo "== host =="
steps_file "$repo/build/check/steps.txt"
if [ -r "$repo/build/lint/results.txt" ]; then
	echo "  lint: $(grep -c '^pass ' "$repo/build/lint/results.txt") of" \
		"$(wc -l < "$repo/build/lint/results.txt") files clean"
	steps_file "$repo/build/lint/results.txt"
fi

for kver in "$@"; do
	kernel "$kver"
done

echo "== known failures =="
if [ ${#known_seen[@]} -eq 0 ]; then
	echo "  none"
else
	printf '  %s\n' "${known_seen[@]}"
fi
echo "== total: $known known failures, $skew documented v4l2-compliance skew =="
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
