#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# summarize.sh KVER...
#
# Count the checks of `make check` and print a summary; the last line is
# "N passed, N failed". Exit status 1 when anything failed.
#
# Inputs: build/check/steps.txt (host steps: lint's status, builds),
# build/lint/results.txt, and per kernel build/KVER/results/ (written by
# guest-check.sh in the guest), build/KVER/console.log and
# build/KVER/display/ (steps.txt, console.log, dmesg.txt, written by
# display-check.sh). What counts:
#   - each host step, each lint file, each guest step, each display step:
#     one check;
#   - the guest finished (check-done marker): one check;
#   - v4l2-compliance per node, Debian 12's 1.22.1 (compliance-NODE.txt)
#     and sid's 1.32 (compliance-sid-NODE.txt, which must say it is 1.32:
#     one check): each "test NAME: OK" line passes; each fail:/warn:
#     message fails unless it is in tests/known-failures.txt or, for 1.22.1
#     only, in scripts/compliance-skew-<line>.txt (then it is shown as
#     skew); a "test NAME: FAIL" line with no fail:
#     message of its own fails; a promised test (promised_tests below) that
#     did not run or says "OK (Not Supported)" fails; no Totals line fails,
#     and so do Totals that disagree with the test lines and warn: lines
#     (one check);
#   - each TAP ok / not ok line of a test binary: one check; an ok with a
#     "# SKIP reason" passes only when tests/expected-skips.txt lists it for
#     the run's allocator (tap-dc-*: dma-contig, other tap-*: vmalloc) and
#     kernel line; a not ok listed in tests/known-failures.txt is a known
#     failure; a run without a plan, with more than one, with its plan
#     after its first result, with another number of results than planned,
#     or with a non-zero exit status and no not ok line is one more failure;
#   - the kernel log of each boot, guest and display (console and dmesg,
#     both must be there), with no line that scripts/kernel-log-patterns.txt
#     names: one check each.

set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
known_file=$repo/tests/known-failures.txt
skips_file=$repo/tests/expected-skips.txt
patterns_file=$repo/scripts/kernel-log-patterns.txt

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

# kernel_line KVER: the name of KVER's line (6.1, 6.12, 7.2, ...)
kernel_line() { "$repo/scripts/kvers.sh" --line "$1"; }

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

# Streaming features we promise (vivid-expbuf.rst, vivid-expbuf-expbuf.rst,
# vivid-expbuf-dmabuf.rst), as each v4l2-compliance version names its
# tests: on every node a result other than OK (OK (Not Supported), "Cannot
# test", no line at all) is a failure. 1.22.1 has no streaming test of its
# own for CREATE_BUFS: it is part of "VIDIOC_REQBUFS/CREATE_BUFS/QUERYBUF";
# 1.32 streams MMAP buffers made by REQBUFS and by CREATE_BUFS. USERPTR is
# promised by the vmalloc allocator only (compliance-dc-* files are
# dma-contig runs).
promised_tests=("VIDIOC_REQBUFS/CREATE_BUFS/QUERYBUF" "VIDIOC_EXPBUF"
	"MMAP (no poll)" "MMAP (select)" "MMAP (epoll)" "DMABUF (no poll)"
	"DMABUF (select)")
promised_sid=("VIDIOC_REQBUFS/CREATE_BUFS/QUERYBUF" "VIDIOC_EXPBUF"
	"CREATE_BUFS maximum buffers"
	"MMAP (no poll, REQBUFS)" "MMAP (select, REQBUFS)" "MMAP (epoll, REQBUFS)"
	"MMAP (no poll, CREATE_BUFS)" "MMAP (select, CREATE_BUFS)"
	"MMAP (epoll, CREATE_BUFS)" "DMABUF (no poll)" "DMABUF (select)")
promised_userptr=("USERPTR (no poll)" "USERPTR (select)")

# compliance KVER FILE: the checks of one v4l2-compliance run (1.22.1, or
# 1.32 for a compliance-sid-* file). Each "test NAME: OK" line passes. A
# fail: message is a failure unless it is a known failure or, for 1.22.1,
# documented skew; a "test NAME: FAIL" line whose own
# fail: messages (the lines since the previous test line) are all skew or
# known is explained by them, one with no fail: message at all is a
# failure. A promised test that is missing or not OK fails. The Totals
# line must agree with what was counted: Failed with the FAIL lines,
# Warnings with the warn: lines, Succeeded with the OK lines and Total
# with both.
compliance() {
	local kver=$1 f=$2 node skewfile totals kind msg n shape l name result
	local n_ok=0 n_fail=0 n_warn=0 t_total t_ok t_fail t_warn
	local pend=0 want version
	node=${f##*/compliance-}
	node=${node%.txt}
	version=$(grep -a -m1 -o '^v4l2-compliance [0-9.]*' "$f")
	if [ "${node#sid-}" != "$node" ]; then
		node=${node#sid-}
		skewfile=
		want=("${promised_sid[@]}")
		if [[ $version == "v4l2-compliance 1.32"* ]]; then
			pass
		else
			fail "$node: sid's v4l2-compliance is not 1.32: ${version:-no version line}"
		fi
	else
		skewfile=$repo/scripts/compliance-skew-$(kernel_line "$kver").txt
		want=("${promised_tests[@]}")
	fi
	totals=$(grep -a -o 'Total for .*' "$f" | tail -n 1)
	echo "  ${version:-v4l2-compliance} $node: ${totals:-no totals line}"
	if [ -z "$totals" ]; then
		fail "v4l2-compliance on $node did not complete (see ${f#"$repo"/})"
		return
	fi
	case "$node" in
	dc-*) ;;
	*) want+=("${promised_userptr[@]}") ;;
	esac
	declare -A shown=() results=()
	# A streaming test's lines start after its frame counter: each "test"
	# or fail:/warn: message after a tab starts a line of its own.
	while IFS= read -r l; do
		if [[ $l =~ ^[[:space:]]*test\ (.*):\ ([^:]*)$ ]]; then
			name=${BASH_REMATCH[1]}
			result=${BASH_REMATCH[2]}
			results[$name]=$result
			case "$result" in
			OK | "OK (Not Supported)")
				n_ok=$((n_ok + 1))
				pass ;;
			FAIL)
				n_fail=$((n_fail + 1))
				[ "$pend" -eq 0 ] &&
					fail "$node: test $name: FAIL with no fail: message" ;;
			*)
				fail "$node: test $name: unknown result '$result'" ;;
			esac
			pend=0
			continue
		fi
		kind=${l%%:*}
		kind=${kind##*[[:space:]]}
		msg=${l#*"$kind": }
		[ "$kind" = warn ] && n_warn=$((n_warn + 1))
		[ "$kind" = fail ] && pend=$((pend + 1))
		if [ -n "$skewfile" ] && [ -r "$skewfile" ] &&
			grep -qxF -- "$msg" "$skewfile"; then
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
	done < <(tr -d '\r' < "$f" | sed -E -e 's/\t(test )/\n\t\1/g' \
		-e 's/\t+((fail|warn): )/\n\t\t\1/g' |
		grep -a -E '(^|[[:space:]])(fail|warn): |^[[:space:]]*test .*: [^:]*$')
	for shape in "${!shown[@]}"; do
		[ "${shown[$shape]}" -gt 3 ] &&
			echo "    ... $((${shown[$shape]} - 3)) more failures like: $shape"
	done
	for name in "${want[@]}"; do
		if [ -z "${results[$name]:-}" ]; then
			fail "$node: promised test $name did not run"
		elif [ "${results[$name]}" = "OK (Not Supported)" ]; then
			failed=$((failed + 1))
			passed=$((passed - 1))
			echo "    FAIL $node: test $name: OK (Not Supported), but we promise it"
		elif [ "${results[$name]}" != OK ] && [ "${results[$name]}" != FAIL ]; then
			fail "$node: promised test $name: ${results[$name]}"
		fi
	done
	t_total=$(echo "$totals" | sed -nE 's/.*: ([0-9]+), Succeeded: .*/\1/p')
	t_ok=$(echo "$totals" | sed -nE 's/.*Succeeded: ([0-9]+).*/\1/p')
	t_fail=$(echo "$totals" | sed -nE 's/.*Failed: ([0-9]+).*/\1/p')
	t_warn=$(echo "$totals" | sed -nE 's/.*Warnings: ([0-9]+).*/\1/p')
	if [ "${t_total:-x}" != $((n_ok + n_fail)) ] || [ "${t_ok:-x}" != "$n_ok" ] ||
		[ "${t_fail:-x}" != "$n_fail" ] || [ "${t_warn:-x}" != "$n_warn" ]; then
		fail "$node: Totals (${t_total:-?} tests, ${t_ok:-?} succeeded," \
			"${t_fail:-?} failed, ${t_warn:-?} warnings) disagree with the" \
			"output: $((n_ok + n_fail)) test lines, $n_ok OK, $n_fail FAIL," \
			"$n_warn warn: lines"
	else
		pass
	fi
}

# skip_reason ALLOC LINE NAME: print the reason when NAME is an expected
# SKIP of allocator ALLOC (vmalloc, dma-contig) on kernel line LINE.
skip_reason() {
	local alloc=$1 line=$2 name=$3 entry a kl rest kname
	[ -r "$skips_file" ] || return 1
	while IFS= read -r entry; do
		case "$entry" in '' | '#'*) continue ;; esac
		read -r a kl rest <<< "$entry"
		kname=${rest%% -- *}
		[ "$a" = any ] || [ "$a" = "$alloc" ] || continue
		[ "$kl" = any ] || [ "$kl" = "$line" ] || continue
		if [ "$kname" = "$name" ]; then
			echo "${rest#* -- }"
			return 0
		fi
	done < "$skips_file"
	return 1
}

# tap KVER FILE: the checks of one test run. Each ok passes, each not ok
# fails unless it is a known failure, each SKIP passes only when it is
# listed in tests/expected-skips.txt for this allocator and kernel line.
# The run fails once more when it has no plan, more than one, a plan after
# its first result, a number of results other than planned, or a non-zero
# exit status with every result ok.
tap() {
	local kver=$1 f=$2 base status plan nres nnot nskip name l alloc
	local nplans plan_at first_at
	base=${f##*/tap-}
	base=${base%.txt}
	alloc=vmalloc
	case "$base" in dc-*) alloc=dma-contig ;; esac
	status=$(cat "${f%.txt}.status" 2>/dev/null || echo '?')
	plan=$(grep -a -m1 -oE '^1\.\.[0-9]+' "$f" | cut -d. -f3)
	nplans=$(grep -a -cE '^1\.\.[0-9]+' "$f")
	plan_at=$(grep -a -n -m1 -E '^1\.\.[0-9]+' "$f" | cut -d: -f1)
	first_at=$(grep -a -n -m1 -E '^(not )?ok [0-9]+' "$f" | cut -d: -f1)
	nres=$(grep -a -cE '^(not )?ok [0-9]+' "$f")
	nnot=$(grep -a -cE '^not ok [0-9]+' "$f")
	nskip=$(grep -a -cE '^ok [0-9]+.*# SKIP' "$f")
	echo "  $base: $((nres - nnot)) ok ($nskip skipped), $nnot not ok${plan:+, plan $plan}, exit $status"
	pass $((nres - nnot))
	while IFS= read -r l; do
		name=$(echo "$l" | sed -E 's/^not ok [0-9]+ *(- *)?//; s/ +# .*$//')
		is_known "$kver" "$name" || fail "$base: $l"
	done < <(grep -a -E '^not ok [0-9]+' "$f")
	while IFS= read -r l; do
		name=$(echo "$l" | sed -E 's/^ok [0-9]+ *(- *)?//; s/ +# SKIP.*$//')
		if ! skip_reason "$alloc" "$(kernel_line "$kver")" "$name" > /dev/null; then
			passed=$((passed - 1))
			fail "$base: unexpected SKIP ($alloc, $(kernel_line "$kver")): $l"
		fi
	done < <(grep -a -E '^ok [0-9]+.*# SKIP' "$f")
	if [ -z "$plan" ]; then
		fail "$base: no TAP plan (exit status $status)"
	elif [ "$nplans" -gt 1 ]; then
		fail "$base: $nplans TAP plans"
	elif [ -n "$first_at" ] && [ "$plan_at" -gt "$first_at" ]; then
		fail "$base: TAP plan (line $plan_at) after its first result (line $first_at)"
	elif [ "$nres" -ne "$plan" ]; then
		fail "$base: $nres results for a plan of $plan (exit status $status)"
	elif [ "$status" != 0 ] && [ "$nnot" -eq 0 ]; then
		fail "$base: exit status $status with every result ok"
	fi
}

# kernel_log WHAT LOG...: one check: every LOG (a boot's console and its
# dmesg) is there, and none has a line that scripts/kernel-log-patterns.txt
# names. A missing LOG (a guest that saved no dmesg) fails the check.
kernel_log() {
	local what=$1 hits f missing=
	shift
	for f in "$@"; do
		[ -r "$f" ] || missing="$missing ${f#"$repo"/}"
	done
	hits=$(cat "$@" 2>/dev/null |
		grep -a -E -f <(grep -v -e '^#' -e '^$' "$patterns_file") |
		sort -u | head -n 20)
	if [ -n "$missing" ] || [ -n "$hits" ]; then
		fail "kernel log of $what:${missing:+ missing$missing;}${hits:+ has warnings or oopses:}"
		[ -z "$hits" ] || echo "$hits" | sed 's/^/      /'
	else
		echo "  kernel log of $what: none of scripts/kernel-log-patterns.txt"
		pass
	fi
}

# debug_kernel KVER: whether KVER is the debug kernel of the debug tier.
debug_kernel() { case "$1" in *-vxdebug) return 0 ;; esac; return 1; }

# debug_tier KVER: the parts of the debug tier (scripts/debug-check.sh)
# besides the attacking tests: its own steps, the detector self-test
# (whose boot's log is full of reports on purpose: not scanned) and the
# fuzz run of the guest-debug.sh boot (whose log kernel() scans).
debug_tier() {
	local d=$repo/build/$1
	steps_file "$d/tier-steps.txt"
	if [ -r "$d/detectors/steps.txt" ]; then
		echo "  detectors: $(grep -c '^pass ' "$d/detectors/steps.txt") steps passed"
		steps_file "$d/detectors/steps.txt"
	else
		fail "the detector self-test did not run for $1"
	fi
	if [ -r "$d/results/fuzz/steps.txt" ]; then
		echo "  fuzz: $(grep -c '^pass ' "$d/results/fuzz/steps.txt") steps passed;" \
			"$(grep -a -h -m1 '^vx-fuzz: ops' "$d/results/fuzz/vx-fuzz.txt" 2>/dev/null)"
		steps_file "$d/results/fuzz/steps.txt"
		if [ -e "$d/results/fuzz/fuzz-done" ]; then
			pass
		else
			fail "the fuzz run of $1 did not finish"
		fi
	else
		fail "the fuzz run did not run for $1"
	fi
}

kernel() {
	local kver=$1 dir=$repo/build/$1/results f debug=
	local p0=$passed f0=$failed k0=$known s0=$skew
	debug_kernel "$kver" && debug=1
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
		if debug_kernel "$kver"; then
			kernel_log "$kver" "$repo/build/$kver/console.log" \
				"$dir/dmesg.txt" "$dir/kmemleak.txt"
			if [ "$(cat "$dir/dma-api-errors.txt" 2>/dev/null)" = 0 ]; then
				echo "  DMA-API debug: 0 errors"
				pass
			else
				fail "DMA-API debug of $kver: $(cat "$dir/dma-api-errors.txt" 2>/dev/null || echo no count) errors"
			fi
		else
			kernel_log "$kver" "$repo/build/$kver/console.log" \
				"$dir/dmesg.txt"
		fi
	fi
	if [ -r "$repo/build/$kver/display/steps.txt" ]; then
		echo "  display: $(grep -c '^pass ' "$repo/build/$kver/display/steps.txt") steps passed"
		steps_file "$repo/build/$kver/display/steps.txt"
		kernel_log "the $kver display boot" \
			"$repo/build/$kver/display/console.log" \
			"$repo/build/$kver/display/dmesg.txt" \
			${debug:+"$repo/build/$kver/display/kmemleak.txt"}
	else
		fail "the display check did not run for $kver"
	fi
	[ -z "$debug" ] || debug_tier "$kver"
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
