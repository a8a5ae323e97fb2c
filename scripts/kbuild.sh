#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh KVER DIR LOG [MAKE-VARIABLE=VALUE...]
#
# Build the external modules in DIR (which holds their Kbuild) for kernel
# KVER with W=1, the compiler's output in LOG. The kernel's headers and
# compiler come from the root file system of KVER's line
# (scripts/kvers.sh --root): on this machine's root the build runs here;
# in another root (Debian sid's, for 7.2) it runs chrooted into it, in a
# mount namespace of its own where /proc is mounted (objtool needs it) and
# the repository is bound at its own path, so that DIR and the variables'
# paths mean the same inside. Any compiler or modpost warning fails.
#
# Exit status: 0 when the build succeeded without a warning, 1 otherwise
# (the errors and warnings are printed), 2 on a usage error.

set -uo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 KVER DIR LOG [MAKE-VARIABLE=VALUE...]" >&2
	exit 2
fi
kver=$1 dir=$2 log=$3
shift 3
repo=$(cd "$(dirname "$0")/.." && pwd)
root=$("$repo/scripts/kvers.sh" --root "$kver") || exit 1
root=${root%/}
kdir=/lib/modules/$kver/build

if [ ! -d "$root$kdir" ]; then
	echo "kbuild: no kernel tree for $kver at $root$kdir" >&2
	exit 1
fi

make_args=(make -C "$kdir" M="$dir" W=1 "$@" modules)
if [ -z "$root" ]; then
	"${make_args[@]}" > "$log" 2>&1
else
	mkdir -p "$root$repo"
	# shellcheck disable=SC2016
	unshare --mount --fork sh -c '
		root=$1 repo=$2
		shift 2
		mount -t proc proc "$root/proc" &&
		mount --bind "$repo" "$root$repo" &&
		exec chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$@"
		' sh "$root" "$repo" "${make_args[@]}" > "$log" 2>&1
fi
status=$?

# "Skipping BTF generation" is a notice of the Debian headers, not a warning.
warnings=$(grep -E 'warning:|WARNING:' "$log" | grep -v 'Skipping BTF generation' || true)
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
	grep -E 'error|warning|WARNING|Error' "$log" | grep -v 'Skipping BTF generation' >&2
	echo "kbuild: $kver: build in $dir failed (status $status, log $log)" >&2
	exit 1
fi
exit 0
