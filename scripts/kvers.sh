#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvers.sh [--check | --root KVER | --line KVER | --in ROOT]
#
# The kernels of the lines in scripts/kernel-lines.txt that can be built
# for and booted: ROOT/boot/vmlinuz-<ver> and ROOT/lib/modules/<ver>/build
# both exist, ROOT being the line's root file system.
#
#   (none)       print every usable kernel of this machine's root
#   --check      print the newest usable kernel of each line, in the
#                table's order; fail if a line has none
#   --root KVER  print the root file system KVER's kernel, headers and
#                guest userspace come from ("/" or a cached root)
#   --line KVER  print the name of KVER's line (6.1, 6.12, 7.2, ...); a
#                kernel of no line (the debug kernel) is named by its
#                major.minor
#   --in ROOT    print every usable kernel of the root file system ROOT

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
table=$repo/scripts/kernel-lines.txt

# root_dir NAME: the directory of a root named in the table.
root_dir() {
	case "$1" in
	host) echo / ;;
	sid) "$repo/scripts/sid-root.sh" --dir ;;
	*)
		echo "kvers: unknown root '$1' in $table" >&2
		return 1
		;;
	esac
}

# usable ROOT: the kernels in ROOT with an image and headers.
usable() {
	local f v
	for f in "${1%/}"/boot/vmlinuz-*; do
		[ -e "$f" ] || continue
		v=${f##*/vmlinuz-}
		[ -d "${1%/}/lib/modules/$v/build" ] && echo "$v"
	done | sort -V
}

lines() { grep -v -e '^#' -e '^$' "$table"; }

case "${1:-}" in
"")
	usable /
	;;
--in)
	usable "${2:?usage: kvers.sh --in ROOT}"
	;;
--check)
	status=0
	while read -r name re root; do
		v=$(usable "$(root_dir "$root")" | grep -E -x "$re" | tail -n 1 || true)
		if [ -z "$v" ]; then
			echo "kvers: no usable kernel of line $name ($re) in root $root" >&2
			status=1
		else
			echo "$v"
		fi
	done < <(lines)
	exit $status
	;;
--root | --line)
	kver=${2:?usage: kvers.sh $1 KVER}
	while read -r name re root; do
		echo "$kver" | grep -q -E -x "$re" || continue
		if [ "$1" = --root ]; then
			root_dir "$root"
		else
			echo "$name"
		fi
		exit 0
	done < <(lines)
	if [ "$1" = --root ]; then
		echo /
	else
		echo "$kver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'
	fi
	;;
*)
	echo "usage: $0 [--check | --root KVER | --line KVER | --in ROOT]" >&2
	exit 2
	;;
esac
