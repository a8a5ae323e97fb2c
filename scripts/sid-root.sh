#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sid-root.sh [--dir | --kver]
#
# Build the Debian sid root file system of the newest kernel line: made
# with debootstrap, it holds sid's kernel image and headers (built with
# sid's gcc), current v4l-utils (v4l2-compliance 1.32), GStreamer and
# what the guest scripts run. scripts/build-module.sh builds our module
# for that kernel inside it (chroot), scripts/vm-run.sh boots that kernel
# with the root shared over 9p, and the 6.1 and 6.12 guests enter it with
# chroot to run its v4l2-compliance (scripts/guest-lib.sh).
#
# The root is kept outside the clone, in
# ${VX_CACHE:-/var/cache/vivid-expbuf}/sid-KEY/root, where KEY is a short
# hash of this script (the package list is in it); it is built in a
# temporary directory and renamed once complete, so a root that exists is
# whole. Older sid-* roots are removed once a new one is complete. The
# build log is sid-KEY.log. Two runs at once are serialized (flock).
#
#   --dir   print the root's directory (whether built or not)
#   --kver  print the kernel version installed in the root (fails if the
#           root is not built)
#
# Needs root (or sudo) and debootstrap (scripts/deps.sh installs it).

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
self=$repo/scripts/sid-root.sh
cache_root=${VX_CACHE:-/var/cache/vivid-expbuf}
mirror=http://deb.debian.org/debian

# What debootstrap puts in; the rest comes with apt inside the root.
base=make,gcc,libc6-dev,kmod,xz-utils,ca-certificates
pkgs=(
	linux-image-amd64 linux-headers-amd64
	v4l-utils libv4l-0 libdrm2
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	procps util-linux
)

key=$(sha256sum "$self" | cut -c1-12)
dir=$cache_root/sid-$key
root=$dir/root

# The kernel version of a root: its newest with an image and headers.
kver_in() { "$repo/scripts/kvers.sh" --in "$1" | tail -n 1; }

case "${1:-}" in
--dir)
	echo "$root"
	exit 0
	;;
--kver)
	v=$(kver_in "$root")
	[ -n "$v" ] || { echo "sid-root: $root is not built" >&2; exit 1; }
	echo "$v"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--dir | --kver]" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$self" "$@"
fi

mkdir -p "$cache_root"
exec 9> "$cache_root/sid.lock"
flock 9

if [ -n "$(kver_in "$root")" ]; then
	echo "sid-root: $root ($(kver_in "$root")) is built"
	exit 0
fi
command -v debootstrap > /dev/null || "$repo/scripts/deps.sh"

log=$dir.log
tmp=$dir.new
rm -rf "$tmp"
mkdir -p "$tmp"
start=$(date +%s)
echo "sid-root: building $root (log $log)"
(
	set -x
	debootstrap --variant=minbase --include="$base" sid "$tmp/root" "$mirror"
	# sid's Release file is sometimes weeks past its Valid-Until.
	echo 'Acquire::Check-Valid-Until "false";' > "$tmp/root/etc/apt/apt.conf.d/90vx"
	# No daemons start inside a root that is being built.
	printf '#!/bin/sh\nexit 101\n' > "$tmp/root/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/root/usr/sbin/policy-rc.d"
	unshare --mount --fork sh -c "
		mount -t proc proc '$tmp/root/proc' &&
		chroot '$tmp/root' apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive chroot '$tmp/root' \
			apt-get install -y -q --no-install-recommends ${pkgs[*]} &&
		chroot '$tmp/root' apt-get clean"
	rm -f "$tmp/root/usr/sbin/policy-rc.d"
	# The guests mount over these, and need them to exist.
	mkdir -p "$tmp/root/run/results" "$tmp/root/dev/pts" "$tmp/root/dev/shm"
) > "$log" 2>&1 || {
	tail -n 20 "$log" >&2
	echo "sid-root: debootstrap or apt failed, see $log" >&2
	exit 1
}
v=$(kver_in "$tmp/root")
if [ -z "$v" ]; then
	echo "sid-root: no kernel with headers in the new root, see $log" >&2
	exit 1
fi
rm -rf "$dir"
mv "$tmp" "$dir"
for old in "$cache_root"/sid-*; do
	[ "$old" = "$dir" ] || [ "$old" = "$dir.log" ] || rm -rf "$old"
done
echo "sid-root: built $root with kernel $v in $(($(date +%s) - start)) s"
