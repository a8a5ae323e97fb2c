#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# display-check.sh [--demo] KVER
#
# Capture to display with no copy: boot KVER in QEMU with a cirrus display
# and a monitor socket, run scripts/guest-display.sh there (drm-show puts
# the frames of vivid-expbuf on the cirrus DRM device, XR24 then RGBP, then
# XR24 with --fence: committed before the capture is done, relying on the
# buffer's fence), and whenever the guest holds its last frame on screen
# take a screendump through the monitor and check it pixel by pixel against
# the frame content of vivid-expbuf.rst: the eight colour bars at their x
# positions and the counter band showing the sequence number of the frame
# drm-show held (with --fence, a display that did not wait would show an
# older frame of that buffer).
#
# Needs build/KVER/vivid-expbuf.ko and build/utils/drm-show. Everything goes
# to build/KVER/display/: steps.txt ("pass STEP" / "fail STEP -- DETAIL",
# the guest's steps and the host's), screen-RUN.ppm, drm-show-RUN.txt,
# console.log and dmesg.txt (the guest's kernel log, booted with
# loglevel=5 so warnings reach the console; both are scanned for the lines
# of scripts/kernel-log-patterns.txt, and a missing one fails that step).
# The debug kernel (KVER *-vxdebug) boots through scripts/debug-tier.sh:
# its kmemleak.txt is scanned too, and a DMA-API error fails a step.
# The boot itself runs in build/KVER/display.vm/ (its results/ and
# console.log), so no other boot of KVER is touched, and the two can run
# at the same time. With --demo the XR24 screendump is also written to
# out/demo.png.
# VM_TIMEOUT (seconds, default 900) bounds the boot.
#
# Exit status: 0 when every step passed, 1 otherwise, 2 on bad usage.

set -uo pipefail

demo=0
if [ "${1:-}" = --demo ]; then
	demo=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: $0 [--demo] KVER" >&2
	exit 2
fi
kver=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
# The boot has a directory of its own (results/, console.log), so that
# it never touches the results of another boot of KVER.
vmout=$repo/build/$kver/display.vm
res=$vmout/results
dir=$repo/build/$kver/display
monitor=$repo/build/$kver/monitor.sock
steps=$dir/steps.txt
runs="XR24 RGBP XR24-fence"
timeout_s=${VM_TIMEOUT:-900}

rm -rf "$dir"
mkdir -p "$dir"
: > "$dir/host-steps.txt"

log() { echo "display-check: $*"; }
record() {
	if [ "$2" -eq 0 ]; then
		echo "pass $1" >> "$dir/host-steps.txt"
	else
		echo "fail $1 -- $3" >> "$dir/host-steps.txt"
	fi
}

for f in "$repo/build/$kver/vivid-expbuf.ko" "$repo/build/utils/drm-show"; do
	if [ ! -e "$f" ]; then
		echo "display-check: $f is missing (build it first)" >&2
		exit 1
	fi
done

# screendump FILE: ask QEMU's monitor for a PPM of the screen.
screendump() {
	# shellcheck disable=SC2016
	timeout 30 perl -MIO::Socket::UNIX -e '
		my ($path, $file) = @ARGV;
		my $s = IO::Socket::UNIX->new(Peer => $path) or die "connect $path: $!\n";
		my $buf = "";
		# Wait for the prompt, send the command, wait for the next prompt.
		for my $cmd ("", "screendump $file\n") {
			print $s $cmd;
			$buf = "";
			while ($buf !~ /\(qemu\) $/) {
				sysread($s, $buf, 4096, length $buf) or die "monitor closed\n";
			}
		}
		$buf =~ s/\e\[[0-9;]*[A-Za-z]//g;
		print $buf;' "$monitor" "$1"
}

# check_screen PPM RUN SEQUENCE W H: print "pass ..."/"fail ..." lines for the
# bars and the counter band of a W x H frame with that sequence number (RUN
# is a format, maybe with a suffix).
check_screen() {
	# shellcheck disable=SC2016
	perl -e '
		my ($ppm, $fmt, $seq, $w, $h) = @ARGV;
		open(my $fh, "<:raw", $ppm) or die "$ppm: $!\n";
		local $/;
		my $img = <$fh>;
		my $tag = "display: $fmt screendump";
		unless ($img =~ s/^P6\s+(\d+)\s+(\d+)\s+255\s//) {
			print "fail $tag is a PPM -- no P6 header\n";
			exit;
		}
		if ($1 != $w || $2 != $h || length($img) != 3 * $w * $h) {
			print "fail $tag is ${w}x${h} -- it is $1x$2, ", length($img), " bytes\n";
			exit;
		}
		# RGB565 keeps 5 or 6 bits: the screendump may show 255 as 248.
		my $tol = $fmt =~ /^RGBP/ ? 7 : 0;
		my @bars = ([1,1,1], [1,1,0], [0,1,1], [0,1,0], [1,0,1], [1,0,0], [0,0,1], [0,0,0]);
		my $pix = sub { pack("C3", map { $_ ? 255 : 0 } @_) };
		my $bar_row = join("", map { $pix->(@{$bars[int($_ * 8 / $w)]}) } 0 .. $w - 1);
		my $band_row = join("", map {
			my $on = ($seq >> (31 - int($_ * 32 / $w))) & 1;
			$pix->($on, $on, $on) } 0 .. $w - 1);
		my $band_y = $h - int($h / 8);
		my (%bad, %first);
		for my $y (0 .. $h - 1) {
			my $part = $y < $band_y ? "bars" : "band";
			my $want = $part eq "bars" ? $bar_row : $band_row;
			my $got = substr($img, 3 * $w * $y, 3 * $w);
			next if $got eq $want;
			my @g = unpack("C*", $got);
			my @e = unpack("C*", $want);
			for my $i (0 .. $#g) {
				next if abs($g[$i] - $e[$i]) <= $tol;
				my $x = int($i / 3);
				$bad{$part}++;
				$first{$part} //= sprintf("first at (%d,%d): (%d,%d,%d), expected (%d,%d,%d)",
					$x, $y, @g[3 * $x .. 3 * $x + 2], @e[3 * $x .. 3 * $x + 2]);
				last;
			}
		}
		my %what = (bars => "8 colour bars at x = b * $w / 8 in rows 0-" . ($band_y - 1),
			    band => "counter band shows sequence $seq in rows $band_y-" . ($h - 1));
		for my $part ("bars", "band") {
			if ($bad{$part}) {
				print "fail $tag: $what{$part} -- $bad{$part} rows differ, $first{$part}\n";
			} else {
				print "pass $tag: $what{$part}\n";
			}
		}' "$@"
}

rm -rf "$res"
mkdir -p "$res"
# The debug kernel boots through scripts/debug-tier.sh: its knobs, the
# kmemleak scans around the guest script and the DMA-API error count.
runner=$repo/scripts/vm-run.sh
case "$kver" in
*-vxdebug) runner=$repo/scripts/debug-tier.sh ;;
esac
log "booting $kver with -vga cirrus (console in ${vmout#"$repo"/}/console.log)"
# vm-run.sh boots with `quiet` (console loglevel 4): loglevel=5 lets the
# kernel's warnings (KERN_WARNING) reach the console too.
VM_OUT=$vmout VM_QUIET=1 VM_TIMEOUT=$timeout_s VM_MONITOR=$monitor \
	VM_APPEND="loglevel=5${VM_APPEND:+ $VM_APPEND}" \
	"$runner" "$kver" "$repo/scripts/guest-display.sh" \
	-vga cirrus > "$dir/vm-run.txt" 2>&1 &
vm=$!

for run in $runs; do
	ppm=$dir/screen-$run.ppm
	while kill -0 $vm 2> /dev/null && [ ! -e "$res/showing-$run" ] &&
		[ ! -e "$res/display-done" ]; do
		sleep 0.5
	done
	if [ ! -e "$res/showing-$run" ]; then
		record "display: $run screendump" 1 "the guest never showed $run"
		continue
	fi
	seq=$(sed -nE 's/^holding: last frame \(sequence ([0-9]+)\).*/\1/p' "$res/showing-$run")
	size=$(sed -nE 's/^showing: .* ([0-9]+)x([0-9]+) .*/\1 \2/p' "$res/drm-show-$run.txt")
	out=$(screendump "$ppm" 2>&1)
	status=$?
	echo taken > "$res/dumped-$run"
	[ -s "$ppm" ] || status=1
	record "display: $run screendump through the QEMU monitor" $status "$out"
	log "$run: $(grep -E '^(showing|shown|holding)' "$res/drm-show-$run.txt" | tr '\n' ' ')"
	if [ $status -eq 0 ] && [ -n "$seq" ] && [ -n "$size" ]; then
		# shellcheck disable=SC2086
		check_screen "$ppm" "$run" "$seq" $size >> "$dir/host-steps.txt"
	elif [ $status -eq 0 ]; then
		record "display: $run screendump check" 1 "no sequence or size in drm-show's output"
	fi
done

wait $vm
vm_status=$?
record "display: guest ran to the end" \
	"$([ -e "$res/display-done" ]; echo $?)" "vm-run status $vm_status, see $dir/vm-run.txt"
cp "$vmout/console.log" "$dir/console.log" 2> /dev/null
for f in "$res"/drm-show-*.txt "$res"/dmesg.txt "$res"/kmemleak.txt \
	"$res"/dma-api-errors.txt; do
	[ -e "$f" ] && cp "$f" "$dir/"
done
logs=("$dir/console.log" "$dir/dmesg.txt")
case "$runner" in
*/debug-tier.sh)
	logs+=("$dir/kmemleak.txt")
	record "display: DMA-API debug counted no error" \
		"$([ "$(cat "$dir/dma-api-errors.txt" 2>/dev/null)" = 0 ]; echo $?)" \
		"count: $(cat "$dir/dma-api-errors.txt" 2>/dev/null || echo none)"
	;;
esac
# The guest's dmesg (saved by vm-run.sh when the guest script ended) must
# be there (and on the debug kernel the kmemleak scan), and none of them
# nor the console may have a line that scripts/kernel-log-patterns.txt
# names.
if cat "${logs[@]}" > /dev/null 2>&1; then
	hits=$(cat "${logs[@]}" |
		grep -a -E -f <(grep -v -e '^#' -e '^$' "$repo/scripts/kernel-log-patterns.txt") |
		sort -u | head -n 5 | tr '\n' ' ')
else
	hits="missing from the guest: $(for f in "${logs[@]}"; do [ -r "$f" ] || echo "${f##*/}"; done | tr '\n' ' ')"
fi
record "display: kernel log has none of scripts/kernel-log-patterns.txt" \
	"$([ -z "$hits" ]; echo $?)" "$hits"

cat "$res/steps.txt" "$dir/host-steps.txt" > "$steps" 2> /dev/null
rm -f "$dir/host-steps.txt"
cat "$steps"
if [ $demo -eq 1 ]; then
	mkdir -p "$repo/out"
	if [ -s "$dir/screen-XR24.ppm" ] && pnmtopng "$dir/screen-XR24.ppm" > "$repo/out/demo.png"; then
		log "wrote out/demo.png"
	else
		log "no XR24 screendump for out/demo.png"
		echo "fail display: out/demo.png written" >> "$steps"
	fi
fi
if grep -q '^fail ' "$steps" || ! grep -q '^pass ' "$steps"; then
	log "$kver: $(grep -c '^pass ' "$steps") passed, $(grep -c '^fail ' "$steps") failed"
	exit 1
fi
log "$kver: all $(grep -c '^pass ' "$steps") steps passed"
exit 0
