#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--kver]
#
# Build the 6.1 debug kernel (KASAN, lockdep, kmemleak, UBSAN, DMA-API
# debugging, ...) from Debian's linux-source-6.1 with the fragment
# scripts/debug-kernel.config, and install it so that scripts/vm-run.sh
# can boot it and scripts/build-module.sh can build our module for it:
#
#   /boot/vmlinuz-KVER                 (plus System.map-KVER, config-KVER)
#   /lib/modules/KVER/                 make modules_install
#   /lib/modules/KVER/build            -> the cached, built tree
#
# KVER is <upstream version of linux-source-6.1><CONFIG_LOCALVERSION>,
# e.g. 6.1.192-vxdebug; `debug-kernel.sh --kver` prints it and builds
# nothing.
#
# The tree is kept outside the clone, in
# ${VX_CACHE:-/var/cache/vivid-expbuf}/debug-6.1-KEY/, where KEY is a short
# hash of the config fragment, the linux-source-6.1 package version and this
# script. The build runs only when that directory holds no finished build;
# the install runs when anything installed is missing or came from another
# KEY. Otherwise the script only checks, and exits 0 in about a second.
# Older debug-6.1-* trees are removed once a new one is installed. The build
# log is debug-6.1-KEY/build.log. Missing apt packages (compiler, flex,
# bison, ..., linux-source-6.1) are installed first, as scripts/deps.sh does.
# Needs root (or sudo) for the install and apt-get.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
self=$repo/scripts/debug-kernel.sh
fragment=$repo/scripts/debug-kernel.config
srcpkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
cache_root=${VX_CACHE:-/var/cache/vivid-expbuf}

if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
else
	sudo=
fi

# The release suffix comes from the fragment, so it is written once.
localversion=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$fragment")
if [ -z "$localversion" ]; then
	echo "debug-kernel: $fragment sets no CONFIG_LOCALVERSION" >&2
	exit 1
fi

# Version of linux-source-6.1: the installed one, else the one apt would
# install (so --kver works before the package is there).
pkg_version() {
	local v
	v=$(dpkg-query -W -f '${db:Status-Status} ${Version}' "$srcpkg" 2>/dev/null || true)
	case "$v" in
	"installed "*) echo "${v#installed }"; return 0 ;;
	esac
	v=$(apt-cache policy "$srcpkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		echo "debug-kernel: cannot tell the version of $srcpkg" >&2
		return 1
	fi
	echo "$v"
}

# Debian's source versions are <upstream>-<debian revision>.
kver_of() {
	echo "${1%%-*}$localversion"
}

if [ "${1:-}" = --kver ]; then
	kver_of "$(pkg_version)"
	exit 0
fi
if [ $# -ne 0 ]; then
	echo "usage: $0 [--kver]" >&2
	exit 2
fi

install_deps() {
	local p status missing=()
	for p in make gcc flex bison bc libelf-dev libssl-dev dwarves \
		xz-utils cpio kmod "$srcpkg"; do
		status=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$status" = installed ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "debug-kernel: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_deps

version=$(pkg_version)
kver=$(kver_of "$version")
key=$({
	cat "$fragment"
	echo "$srcpkg $version"
	cat "$self"
} | sha256sum | cut -c1-12)
dir=$cache_root/debug-6.1-$key
tree=$dir/linux
log=$dir/build.log
stamp=$dir/built
modlib=/lib/modules/$kver
installed_key=$modlib/vxdebug-key

$sudo mkdir -p "$cache_root"
[ -w "$cache_root" ] || $sudo chown "$(id -un)" "$cache_root"
# One build or install at a time (two worktrees may run check at once).
exec 9> "$cache_root/debug-6.1.lock"
if ! flock -n 9; then
	echo "debug-kernel: waiting for another debug-kernel.sh to finish"
	flock 9
fi

start=$(date +%s)
elapsed() {
	local s=$(($(date +%s) - start))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# Run a build step with its output in the log; on failure show the end.
step() {
	local what=$1
	shift
	echo "  $what"
	echo "=== $what: $*" >> "$log"
	if ! "$@" >> "$log" 2>&1; then
		echo "debug-kernel: $what failed after $(elapsed); end of $log:" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

# Every line of the fragment must hold in the final .config.
verify_config() {
	local line sym bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$tree/.config" && continue
			sym=${line%%=*}
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$tree/.config" || continue
			;;
		*) continue ;;
		esac
		echo "debug-kernel: asked for '$line', got:" \
			"'$(grep -E "^$sym=|^# $sym is not set" "$tree/.config" || echo "$sym absent")'" >&2
		bad=1
	done < "$fragment"
	if [ $bad -ne 0 ]; then
		echo "debug-kernel: the config fragment did not stick (see above)" >&2
		exit 1
	fi
}

kmake() {
	make -C "$tree" LOCALVERSION= "$@"
}

build() {
	echo "debug-kernel: building $kver in $dir (log: $log)"
	mkdir -p "$dir"
	: > "$log"
	if [ ! -e "$tree/Makefile" ]; then
		rm -rf "$tree" "$dir/extract"
		mkdir -p "$dir/extract"
		step "extract $tarball" tar -xJf "$tarball" -C "$dir/extract"
		mv "$dir/extract/linux-source-6.1" "$tree"
		rmdir "$dir/extract"
	fi
	step "allnoconfig" kmake allnoconfig
	step "kvm_guest.config" kmake kvm_guest.config
	step "merge $(basename "$fragment")" \
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" \
		"$tree/.config" "$fragment"
	step "olddefconfig" kmake olddefconfig
	verify_config
	# modules_prepare writes the release: check it before the long part.
	step "modules_prepare" kmake -j"$(nproc)" modules_prepare
	local release
	release=$(cat "$tree/include/config/kernel.release")
	if [ "$release" != "$kver" ]; then
		echo "debug-kernel: the tree's release is $release, expected $kver" >&2
		exit 1
	fi
	step "make -j$(nproc) bzImage modules" kmake -j"$(nproc)" bzImage modules
	if [ ! -s "$tree/Module.symvers" ]; then
		echo "debug-kernel: no Module.symvers in $tree" >&2
		exit 1
	fi
	echo "$kver" > "$stamp"
	echo "debug-kernel: built $kver in $(elapsed)"
}

# Is the installed kernel this build, and complete?
installed() {
	[ -s "$installed_key" ] && [ "$(cat "$installed_key")" = "$key" ] &&
		cmp -s "$tree/arch/x86/boot/bzImage" "/boot/vmlinuz-$kver" &&
		[ -s "$modlib/modules.dep" ] && [ -s "$modlib/modules.builtin" ] &&
		[ "$(readlink "$modlib/build")" = "$tree" ]
}

install() {
	echo "debug-kernel: installing $kver"
	$sudo rm -rf "$modlib"
	step "modules_install" $sudo make -C "$tree" LOCALVERSION= modules_install
	$sudo rm -f "$modlib/build" "$modlib/source"
	$sudo ln -s "$tree" "$modlib/build"
	$sudo cp "$tree/arch/x86/boot/bzImage" "/boot/vmlinuz-$kver"
	$sudo cp "$tree/System.map" "/boot/System.map-$kver"
	$sudo cp "$tree/.config" "/boot/config-$kver"
	echo "$key" | $sudo tee "$installed_key" > /dev/null
	# Trees of other keys are stale now: they are several GiB each.
	local old
	for old in "$cache_root"/debug-6.1-*; do
		[ "$old" = "$dir" ] || [ ! -d "$old" ] || $sudo rm -rf "$old"
	done
}

if [ ! -s "$stamp" ] || [ ! -s "$tree/Module.symvers" ] ||
	[ ! -s "$tree/arch/x86/boot/bzImage" ]; then
	build
fi
if ! installed; then
	# A log of its own when only the install runs.
	[ -e "$log" ] || : > "$log"
	install
fi
if ! installed; then
	echo "debug-kernel: $kver is not installed correctly after the install" >&2
	exit 1
fi
echo "debug-kernel: $kver ready (/boot/vmlinuz-$kver, $modlib/build -> $tree; $(elapsed))"
