#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install with apt-get whatever the build, the checks and the demo
# need and is missing. apt-get update runs only when something is missing.

set -euo pipefail

pkgs=(
	make gcc perl kmod cpio xz-utils gzip coreutils
	qemu-system-x86 busybox-static v4l-utils netpbm libdrm-dev
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.1
	gstreamer1.0-tools gstreamer1.0-plugins-good
	libv4l-dev
	trinity
	debootstrap
)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
else
	sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
