#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvers.sh [--check]
#
# Print the installed Debian kernels that can be built for and booted: both
# /boot/vmlinuz-<ver> and /lib/modules/<ver>/build exist. With --check print
# the newest 6.1 and the newest 6.12 kernel only, and fail if one is missing.

set -euo pipefail

usable() {
	local f v
	for f in /boot/vmlinuz-*; do
		[ -e "$f" ] || continue
		v=${f#/boot/vmlinuz-}
		[ -d "/lib/modules/$v/build" ] && echo "$v"
	done | sort -V
}

if [ "${1:-}" != --check ]; then
	usable
	exit 0
fi

status=0
for line in '6\.1\.0-.*-amd64' '6\.12\..*-amd64'; do
	v=$(usable | grep -x "$line" | tail -n 1 || true)
	if [ -z "$v" ]; then
		echo "kvers: no usable kernel matching $line (run scripts/deps.sh)" >&2
		status=1
	else
		echo "$v"
	fi
done
exit $status
