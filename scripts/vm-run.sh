#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh KVER GUEST-SCRIPT [EXTRA-QEMU-ARGS...]
#
# Boot ROOT/boot/vmlinuz-KVER under QEMU (TCG) with a small busybox
# initramfs that mounts ROOT read-only over 9p, binds the repository (its
# own read-only share) at its path there, chroots into ROOT and runs
# GUEST-SCRIPT with RESULTS=/run/results KVER=KVER REPO=<repo path>
# SID_ROOT=<the sid root's path, for its tools: scripts/guest-lib.sh>.
# ROOT is the root file system of KVER's line (scripts/kvers.sh --root):
# this machine's / for 6.1 and 6.12, the Debian sid root for 7.2.
# /run/results is the host directory build/KVER/results (emptied first;
# VM_OUT/results with VM_OUT).
# The guest's dmesg is saved to results/dmesg.txt, and results/vm-status
# holds the guest script's exit status once the guest has finished.
#
# Environment: VM_OUT (the directory of results/, console.log and the
# initramfs, default build/KVER; another one lets two guests of one kernel
# run at once), VM_TIMEOUT (seconds, default 1200), VM_QUIET=1 to keep the
# serial console out of stdout (it always goes to VM_OUT/console.log),
# VM_APPEND for more kernel arguments (e.g. loglevel=5), VM_MONITOR=PATH
# to put the QEMU monitor on a unix socket at PATH (e.g. for `screendump`;
# the serial console stays on stdio). VM_MACHINE (QEMU -machine, default
# QEMU's own, pc), VM_ACCEL (QEMU -accel, default tcg) and VM_MEM (guest
# memory, default 2G) serve the debug kernel (scripts/debug-tier.sh):
# VM_MACHINE=q35 (on pc a KASAN kernel spent 6-25 s in 9p setup),
# VM_ACCEL=tcg,thread=single (multi-threaded TCG crashed on an int3 in
# kernel text patching under a fuzzer). Modules built into the kernel
# (9p and virtio in the debug kernel) are left out of the initramfs.
#
# EXTRA-QEMU-ARGS go last on the QEMU command line, e.g. `-vga cirrus` to
# give the guest a cirrus display (QEMU has no window, -nographic: the
# screen is seen through the monitor's screendump).
#
# Exit status: the guest script's, or 124 on timeout, or 125 when the guest
# did not finish (could not boot, crashed, ...).

set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 KVER GUEST-SCRIPT [EXTRA-QEMU-ARGS...]" >&2
	exit 2
fi

kver=$1
guest_script=$(realpath "$2")
shift 2

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${VM_OUT:-$repo/build/$kver}
results=$out/results
initramfs=$out/initramfs.cpio.gz
console=$out/console.log
timeout_s=${VM_TIMEOUT:-1200}
accel=${VM_ACCEL:-tcg}
mem=${VM_MEM:-2G}
machine=()
[ -z "${VM_MACHINE:-}" ] || machine=(-machine "$VM_MACHINE")

root=$("$repo/scripts/kvers.sh" --root "$kver")
root=${root%/}
kernel=$root/boot/vmlinuz-$kver
if [ ! -r "$kernel" ] || [ ! -d "$root/lib/modules/$kver" ]; then
	echo "vm-run: cannot boot $kver: need $kernel and $root/lib/modules/$kver" >&2
	exit 125
fi
# The guest binds the repository here; the directory must exist in ROOT.
[ -d "$root$repo" ] || mkdir -p "$root$repo"
if [ ! -r "$guest_script" ]; then
	echo "vm-run: no guest script $guest_script" >&2
	exit 2
fi

mkdir -p "$out"

# Print the modules needed for MOD (dependencies first), skipping built-ins.
mod_closure() {
	local mod=$1 file dep
	case " $seen " in *" $mod "*) return 0 ;; esac
	seen="$seen $mod"
	file=$(modinfo -b "${root:-/}" -k "$kver" -F filename "$mod" 2>/dev/null) || {
		echo "vm-run: module $mod not found for $kver" >&2
		return 1
	}
	case "$file" in
	/*) ;;
	"(builtin)") return 0 ;;	# built in: so are its dependencies
	*)
		echo "vm-run: module $mod of $kver: unexpected file name '$file'" >&2
		return 1
		;;
	esac
	for dep in $(modinfo -b "${root:-/}" -k "$kver" -F depends "$mod" | tr ',' ' '); do
		mod_closure "$dep"
	done
	echo "$file"
}

write_init() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do
	insmod "/modules/$m" || echo "init: insmod $m failed"
done
opts=trans=virtio,version=9p2000.L,msize=262144
if ! mount -t 9p -o $opts,ro root /mnt/root; then
	echo "VMRUN: cannot mount the root file system"
	poweroff -f
fi
r=/mnt/root
res=$r/run/results
mkdir -p /results /repo
if ! mount -t 9p -o $opts results /results ||
	! mount -t 9p -o $opts,ro repo /repo; then
	echo "VMRUN: cannot mount the results or repository share"
	poweroff -f
fi
. /results/.vmrun.env
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mount -t tmpfs tmp $r/tmp
mount -t tmpfs run $r/run
mkdir -p $res $r/dev/pts $r/dev/shm
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mount -t devpts devpts $r/dev/pts
mount -t tmpfs shm $r/dev/shm
mount -o bind /results $res
# After the tmpfs mounts: a repository under /tmp or /run shows through.
mkdir -p "$r$VMRUN_REPO" 2>/dev/null
mount -o bind /repo "$r$VMRUN_REPO"
echo "VMRUN: guest up, running $VMRUN_SCRIPT"
echo started > $res/vm-started
chroot $r /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	RESULTS=/run/results KVER="$VMRUN_KVER" REPO="$VMRUN_REPO" \
	SID_ROOT="$VMRUN_SID_ROOT" \
	/bin/bash "$VMRUN_SCRIPT"
status=$?
dmesg > $res/dmesg.txt
echo $status > $res/vm-status
sync
echo "VMRUN: guest script exited with status $status"
umount $res /results 2>/dev/null
poweroff -f
EOF
}

# The initramfs is rebuilt when this script or the kernel's modules
# (a reinstalled kernel may build in what was a module) are newer than it.
if [ ! -s "$initramfs" ] || [ "$initramfs" -ot "$0" ] ||
	[ "$initramfs" -ot "$root/lib/modules/$kver/modules.dep" ]; then
	echo "vm-run: building $initramfs"
	tmp=$(mktemp -d "$out/initramfs.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/bin" "$tmp/modules"
	cp /bin/busybox "$tmp/bin/busybox"
	write_init > "$tmp/init"
	chmod 755 "$tmp/init"
	seen=
	: > "$tmp/modules.list"
	files=$(mod_closure 9p && mod_closure 9pnet_virtio && mod_closure virtio_pci)
	for f in $files; do
		name=$(basename "$f")
		case "$name" in
		*.ko.xz) name=${name%.xz}; xz -dc "$f" > "$tmp/modules/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc "$f" > "$tmp/modules/$name" ;;
		*.ko) cp "$f" "$tmp/modules/$name" ;;
		esac
		grep -qx "$name" "$tmp/modules.list" || echo "$name" >> "$tmp/modules.list"
	done
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$initramfs.new"
	mv "$initramfs.new" "$initramfs"
	rm -rf "$tmp"
	trap - EXIT
fi

rm -rf "$results"
mkdir -p "$results"
# The guest mounts tmpfs over /tmp and /run (the repository is bound back
# in): a script from there, outside the repository, is copied.
case "$guest_script" in
"$repo"/*) ;;
/tmp/* | /run/*)
	cp "$guest_script" "$results/.guest-script"
	guest_script=/run/results/.guest-script
	;;
esac
{
	printf 'VMRUN_SCRIPT=%q\n' "$guest_script"
	printf 'VMRUN_KVER=%q\n' "$kver"
	printf 'VMRUN_REPO=%q\n' "$repo"
	printf 'VMRUN_SID_ROOT=%q\n' "$("$repo/scripts/sid-root.sh" --dir)"
} > "$results/.vmrun.env"

monitor=()
if [ -n "${VM_MONITOR:-}" ]; then
	rm -f "$VM_MONITOR"
	monitor=(-monitor "unix:$VM_MONITOR,server,nowait")
fi

# run_qemu: one boot, its console filtered into $console (and stdout
# unless VM_QUIET=1); the timeout process's pid goes to $qemu_pid_file.
run_qemu() {
	{
		timeout -k 10 "$timeout_s" \
			qemu-system-x86_64 "${machine[@]}" -accel "$accel" -m "$mem" -smp 2 \
			-nographic -no-reboot -nic none \
			-kernel "$kernel" -initrd "$initramfs" \
			-append "console=ttyS0 panic=-1 quiet cryptomgr.notests ${VM_APPEND:-}" \
			-virtfs "local,path=${root:-/},mount_tag=root,security_model=none,readonly=on,multidevs=remap" \
			-virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
			-virtfs "local,path=$results,mount_tag=results,security_model=none" \
			"${monitor[@]}" "$@" < /dev/null 2>&1 &
		echo $! > "$qemu_pid_file"
		wait $!
	} | tr -d '\r\033' | if [ "${VM_QUIET:-0}" = 1 ]; then
		cat > "$console"
	else
		tee "$console"
	fi
	return "${PIPESTATUS[0]}"
}

# A guest whose init has not started after VM_BOOT_TIMEOUT seconds (default
# 300; a stock kernel boots in about 10 s, the debug kernel in 20 to 60 s)
# hung in the kernel's own boot, before anything of ours ran: seen with the
# debug kernel under multi-threaded TCG on a loaded host, stuck while
# bringing up the second CPU. It is killed and booted once more, and says
# so; a second hang fails as a guest that could not boot.
boot_timeout=${VM_BOOT_TIMEOUT:-300}
qemu_pid_file=$out/.qemu-pid
start=$(date +%s)
for attempt in 1 2; do
	echo "vm-run: booting $kver (${VM_MACHINE:+machine $VM_MACHINE, }accel $accel, timeout ${timeout_s}s, console: $console)"
	boot_start=$(date +%s)
	set +e
	run_qemu "$@" &
	runner=$!
	hung=0
	while kill -0 "$runner" 2> /dev/null; do
		if [ ! -e "$results/vm-started" ] &&
			[ $(($(date +%s) - boot_start)) -ge "$boot_timeout" ]; then
			hung=1
			kill "$(cat "$qemu_pid_file")" 2> /dev/null
			break
		fi
		sleep 1
	done
	wait "$runner"
	qemu_status=$?
	set -e
	[ $hung = 1 ] || break
	echo "vm-run: $kver: no init after ${boot_timeout}s (attempt $attempt), the console ends with: $(tail -n 1 "$console")" >&2
	[ "$attempt" = 1 ] && cp "$console" "$console.hung"
done
rm -f "$qemu_pid_file"
echo "vm-run: $kver guest ran for $(($(date +%s) - start)) s"

if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
	echo "vm-run: $kver: timed out after ${timeout_s}s (see $console)" >&2
	exit 124
fi
if [ ! -e "$results/vm-started" ]; then
	echo "vm-run: $kver: the guest could not boot (qemu status $qemu_status); end of $console:" >&2
	tail -n 30 "$console" >&2
	exit 125
fi
if [ ! -s "$results/vm-status" ]; then
	echo "vm-run: $kver: the guest did not finish (qemu status $qemu_status); see $console" >&2
	exit 125
fi
exit "$(cat "$results/vm-status")"
