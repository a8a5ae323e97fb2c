#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-fuzz.sh: the fuzz run, inside the guest started by vm-run.sh
# (needs RESULTS, KVER and REPO in the environment, as guest-check.sh).
#
# Loads vivid-expbuf (two instances, capture + output each; videodev and
# vgem first), runs build/utils/vx-fuzz, then trinity's ioctl fuzzing on
# our capture and output nodes (a failed step if trinity is missing),
# then requires rmmod vivid_expbuf to succeed.
#
# Settings come from the environment or, since vm-run.sh passes only
# RESULTS, KVER and REPO, from $REPO/build/fuzz.conf (shell assignments
# written by scripts/fuzz.sh; the environment wins):
#   FUZZ_OPS (100000)        vx-fuzz operations
#   FUZZ_SECONDS (900)       vx-fuzz time bound
#   FUZZ_SEED                seed (default: vx-fuzz picks one)
#   FUZZ_PROCS (2), FUZZ_THREADS (3)
#   FUZZ_PROFILE (all)       all, dqbuf or mmap (targeted runs)
#   FUZZ_DESTRUCTIVE (1)     1: also unbind/bind (-U) and rmmod (-R)
#   FUZZ_EXTRA               more vx-fuzz arguments
#   TRINITY_COUNT (2000)     trinity syscalls per node, 0 to skip trinity
#   TRINITY_SECONDS (60)     time bound of each trinity run
#   TRINITY_DROPPRIVS (1)    1: trinity -X (as nobody), 0: as root (--dangerous)
#   TRINITY_NODES (vivid-expbuf-*)  globs (separated by spaces) of the
#                            sysfs names of the nodes trinity fuzzes
#
# Writes into $RESULTS: steps.txt ("pass STEP" / "fail STEP -- DETAIL"),
# vx-fuzz.txt, trinity-NODE.txt, fuzz-done (last); vm-run.sh adds
# dmesg.txt.

set -uo pipefail

: "${RESULTS:?}" "${KVER:?}" "${REPO:?}"
conf=$REPO/build/fuzz.conf
if [ -r "$conf" ]; then
	# Only FUZZ_* and TRINITY_* assignments, and never over the environment.
	while IFS='=' read -r key value; do
		case "$key" in
		FUZZ_* | TRINITY_*) [ -n "${!key:-}" ] || export "$key=$value" ;;
		esac
	done < "$conf"
fi
ops=${FUZZ_OPS:-100000}
secs=${FUZZ_SECONDS:-900}
procs=${FUZZ_PROCS:-2}
threads=${FUZZ_THREADS:-3}
profile=${FUZZ_PROFILE:-all}
destructive=${FUZZ_DESTRUCTIVE:-1}
tcount=${TRINITY_COUNT:-2000}
tsecs=${TRINITY_SECONDS:-60}
tdrop=${TRINITY_DROPPRIVS:-1}
tnodes=${TRINITY_NODES:-vivid-expbuf-*}

ko=$REPO/build/$KVER/vivid-expbuf.ko
params="n_devs=2 multiplanar=1,2 node_types=0x101,0x101"
steps=$RESULTS/steps.txt
: > "$steps"

GUEST_NAME=guest-fuzz
# shellcheck source=scripts/guest-lib.sh
. "$REPO/scripts/guest-lib.sh"

finish() {
	echo "done" > "$RESULTS/fuzz-done"
	exit 0
}

log "kernel $(uname -r), module $ko"
step "modprobe videodev" modprobe videodev
step "modprobe vgem" modprobe vgem
# sw_sync lives in debugfs (debug kernels only).
grep -q ' debugfs ' /proc/mounts || mount -t debugfs none /sys/kernel/debug 2>/dev/null
# shellcheck disable=SC2086
step "insmod vivid-expbuf $params" insmod "$ko" $params || finish

mapfile -t nodes < <(nodes_named 'vivid-expbuf-*')
step "four vivid-expbuf nodes (found ${#nodes[@]}: ${nodes[*]})" \
	test ${#nodes[@]} -eq 4

args=(-p "$procs" -t "$threads" -n "$ops" -T "$secs" -X "$profile")
[ -n "${FUZZ_SEED:-}" ] && args+=(-s "$FUZZ_SEED")
[ "$destructive" = 1 ] && args+=(-U -R -m "$ko" -M "$params")
# shellcheck disable=SC2206
[ -n "${FUZZ_EXTRA:-}" ] && args+=(${FUZZ_EXTRA})
log "vx-fuzz ${args[*]}"
start=$(date +%s)
timeout -k 10 $((secs + 300)) "$REPO/build/utils/vx-fuzz" "${args[@]}" \
	> "$RESULTS/vx-fuzz.txt" 2>&1
st=$?
echo "$st" > "$RESULTS/vx-fuzz.status"
log "vx-fuzz exited with status $st after $(($(date +%s) - start)) s"
grep -E '^vx-fuzz: (seed|ops|violations|verdict|VIOLATION)' "$RESULTS/vx-fuzz.txt"
seed=$(sed -n 's/^vx-fuzz: seed //p' "$RESULTS/vx-fuzz.txt" | head -n 1)
case $st in
0) pass "vx-fuzz seed $seed: no invariant violated" ;;
1) fail "vx-fuzz seed $seed" "$(grep -m 3 VIOLATION "$RESULTS/vx-fuzz.txt" | tr '\n' ' ')" ;;
*) fail "vx-fuzz seed $seed" "status $st: $(tail -n 2 "$RESULTS/vx-fuzz.txt" | tr '\n' ' ')" ;;
esac

# The time bound must not cut the run short of what was asked for.
made=$(sed -n 's/^vx-fuzz: ops \([0-9]*\) in .*/\1/p' "$RESULTS/vx-fuzz.txt" | head -n 1)
step "vx-fuzz made the $ops operations asked for (made ${made:-none} in at most $secs s)" \
	test "${made:-0}" -ge "$ops"

# vx-fuzz's rmmod may have re-inserted the module: find the nodes again.
read -r -a globs <<< "$tnodes"
mapfile -t nodes < <(for g in "${globs[@]}"; do nodes_named "$g"; done)
step "trinity's nodes $tnodes (found ${#nodes[@]}: ${nodes[*]})" \
	test ${#nodes[@]} -gt 0
# A fuzzer that is asked for must run: no trinity is a failure.
[ "$tcount" -gt 0 ] && step "trinity is installed" command -v trinity
if [ "$tcount" -gt 0 ] && command -v trinity > /dev/null; then
	# trinity -X runs as nobody. With -c ioctl it picks fds from its
	# providers: -V replaces the file list of the provider named
	# "pseudo" (trinity 2023.01), which must stay enabled; the others
	# that can be switched off are (bpf, fanotify, inotify and
	# userfaultfd cannot).
	chmod 666 "${nodes[@]}"
	# As root trinity wants --dangerous (harmless here: the guest sees
	# the host root read-only and is thrown away).
	tx=--dangerous
	[ "$tdrop" = 1 ] && tx=-X
	cd /tmp || exit 1
	for node in "${nodes[@]}"; do
		name=$(cat "/sys/class/video4linux/${node##*/}/name")
		log "trinity on $node ($name)"
		timeout -k 10 "$tsecs" trinity ${tx:+"$tx"} -c ioctl -V "$node" \
			-N "$tcount" -C 2 \
			--disable-fds=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm \
			> "$RESULTS/trinity-$name.txt" 2>&1
		tst=$?
		# Without -q trinity logs every call it made.
		calls=$(grep -c '\] ioctl(fd=' "$RESULTS/trinity-$name.txt")
		case $tst in
		0 | 124)
			if [ "$calls" -gt 0 ]; then
				pass "trinity $name (status $tst, $calls ioctls)"
			else
				fail "trinity $name" "status $tst, no ioctl made in ${tsecs} s"
			fi
			;;
		*) fail "trinity $name" "status $tst: $(tail -n 2 "$RESULTS/trinity-$name.txt" | tr '\n' ' ')" ;;
		esac
	done
	cd / || exit 1
fi

# Everything is closed: nothing may stay charged, and the module must go.
sleep 1
if grep -q '^vivid_expbuf ' /proc/modules; then
	step "nothing charged to the memory budget after the fuzzing" nothing_charged
	step "rmmod vivid_expbuf after the fuzzing" rmmod vivid_expbuf
else
	fail "rmmod vivid_expbuf after the fuzzing" "module not loaded (vx-fuzz could not re-insert it)"
fi
finish
