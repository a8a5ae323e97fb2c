#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: what `make bench` does. Build vivid-expbuf.ko for the newest
# installed 6.12 kernel (or the newest kernel) and the utils, boot that
# kernel once in QEMU with scripts/guest-bench.sh, and print a table of the
# medians over the repetitions of each configuration:
#   a  vivid-expbuf capture -> output, zero copy (DMABUF import of EXPBUF)
#   b  the same nodes, MMAP + memcpy in userspace
#   c  stock vivid capture -> output, zero copy
# with the ratios a/b and a/c of the CPU time per frame next to their
# targets (printed, not asserted). The table also goes to out/bench.txt.
#
# Environment: BENCH_REPS (default 3), BENCH_FRAMES (default 120).
# Exit status: 0 when every run produced a result, 1 otherwise.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

kvers=$(scripts/kvers.sh)
kver=$(echo "$kvers" | grep -E '^6\.12\.' | tail -n 1 || true)
[ -n "$kver" ] || kver=$(echo "$kvers" | tail -n 1)
if [ -z "$kver" ]; then
	echo "bench: no kernel with /boot/vmlinuz-V and /lib/modules/V/build" >&2
	exit 1
fi

echo "bench: building the module for $kver and the utils"
scripts/build-module.sh "$kver"
make --no-print-directory -s utils

echo "bench: booting $kver in QEMU (console in build/$kver/console.log)"
set +e
BENCH_REPS=${BENCH_REPS:-3} BENCH_FRAMES=${BENCH_FRAMES:-120} \
	VM_QUIET=1 VM_TIMEOUT=840 scripts/vm-run.sh "$kver" scripts/guest-bench.sh
vm_status=$?
set -e
grep -a '^guest-bench:' "build/$kver/console.log" || true
raw=build/$kver/results/bench-raw.txt
if [ ! -s "$raw" ]; then
	echo "bench: no results from the guest (status $vm_status)" >&2
	exit 1
fi

mkdir -p out
perl -e '
use strict;
use warnings;

my ($kver, $status) = @ARGV;
my (%runs, %failed, $idle);
while (my $line = <STDIN>) {
	if ($line =~ /^idle .*sys_cpu_us_per_s=(\d+)/) {
		$idle = $1;
	} elsif ($line =~ /^cfg=(\w) rep=\d+ failed/) {
		$failed{$1}++;
	} elsif ($line =~ /^cfg=(\w) rep=\d+ result (.*)/) {
		my ($cfg, %kv) = ($1, map { split /=/, $_, 2 } split " ", $2);
		push @{$runs{$cfg}}, \%kv;
	}
}

sub median {
	my @v = sort { $a <=> $b } grep { $_ ne "na" } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub med {
	my ($cfg, $key) = @_;
	return median(map { $_->{$key} } @{$runs{$cfg} || []});
}

sub fmt {
	my ($v, $prec) = @_;
	return defined $v ? sprintf("%.${prec}f", $v) : "-";
}

my @cfgs = (
	[ "a", "vivid-expbuf, DMABUF zero copy" ],
	[ "b", "vivid-expbuf, MMAP + memcpy" ],
	[ "c", "stock vivid, DMABUF zero copy" ],
);
my @cols = (
	[ "fps", "fps", 2 ],
	[ "cpu_us_per_frame", "proc CPU us/f", 0 ],
	[ "sys_cpu_us_per_frame", "guest CPU us/f", 0 ],
	[ "qbuf_us", "QBUF us", 1 ],
	[ "out_qbuf_us", "out QBUF us", 1 ],
	[ "dqbuf_us", "DQBUF us", 1 ],
	[ "out_dqbuf_us", "out DQBUF us", 1 ],
	[ "expbuf_us", "EXPBUF us", 1 ],
);

my $fps = (map { $_->{interval} } @{$runs{a} || []})[0] // "?";
printf "vivid-expbuf bench on %s: 1920x1080 YUYV, capture and output at %s s,\n", $kver, $fps;
print "medians of the repetitions; CPU per frame: process (/proc/self/schedstat)\n";
print "and whole guest (/proc/schedstat, all CPUs, kernel threads included)\n\n";
printf "%-33s %5s", "configuration", "runs";
printf " %*s", length($_->[1]) > 8 ? length($_->[1]) : 8, $_->[1] for @cols;
printf " %7s\n", "dropped";
for my $c (@cfgs) {
	my ($cfg, $name) = @$c;
	my $n = scalar @{$runs{$cfg} || []};
	my $drops = 0;
	$drops += $_->{gaps} for @{$runs{$cfg} || []};
	printf "%-33s %5s", "$cfg  $name", $n . ($failed{$cfg} ? "+$failed{$cfg}F" : "");
	printf " %*s", length($_->[1]) > 8 ? length($_->[1]) : 8,
		fmt(med($cfg, $_->[0]), $_->[2]) for @cols;
	printf " %7s\n", $n ? $drops : "-";
}
print "\n";
printf "idle guest CPU: %s us per second (%s us per frame period), included in the guest figures\n",
	$idle // "-", defined $idle && $fps =~ m{^(\d+)/(\d+)$} ? fmt($idle * $1 / $2, 0) : "-";

sub ratio {
	my ($x, $y, $key) = @_;
	my ($u, $v) = (med($x, $key), med($y, $key));
	return defined $u && defined $v && $v > 0 ? $u / $v : undef;
}

print "\nratios of the medians              process CPU   guest CPU   target\n";
printf "a/b  zero copy vs memcpy           %11s %11s   <= 0.3 (process CPU)\n",
	fmt(ratio("a", "b", "cpu_us_per_frame"), 2),
	fmt(ratio("a", "b", "sys_cpu_us_per_frame"), 2);
printf "a/c  vivid-expbuf vs stock vivid   %11s %11s   <= 0.9 (process CPU)\n",
	fmt(ratio("a", "c", "cpu_us_per_frame"), 2),
	fmt(ratio("a", "c", "sys_cpu_us_per_frame"), 2);
my @drops;
for my $c (qw(a b c)) {
	my $d = 0;
	$d += $_->{gaps} for @{$runs{$c} || []};
	push @drops, "$c " . (@{$runs{$c} || []} ? $d : "-");
}
printf "dropped capture frames (all runs): %s   target: 0\n", join(", ", @drops);
my $nfail = 0;
$nfail += $_ for values %failed;
printf "failed runs: %d (guest status %s)\n", $nfail, $status;
' "$kver" "$vm_status" < "$raw" | tee out/bench.txt
echo "bench: wrote out/bench.txt (raw results: $raw)"
[ "$vm_status" -eq 0 ]
