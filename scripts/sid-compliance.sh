#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sid-compliance.sh ARGS...: run in a guest, v4l2-compliance of the Debian
# sid root (1.32; scripts/sid-root.sh) with ARGS.
#
# In the 7.2 guest that root is the guest's own root, and its
# v4l2-compliance is on PATH. The 6.1 and 6.12 guests run this machine's
# root, with Debian 12's 1.22.1; they see the sid root at $SID_ROOT
# (scripts/vm-run.sh sets it) through the root's share, and enter it with
# chroot, /dev, /proc and /sys bound into it (once: the binds last as long
# as the guest).

s=${SID_ROOT:-/nonexistent}
if [ ! -x "$s/usr/bin/v4l2-compliance" ]; then
	exec v4l2-compliance "$@"
fi
for d in dev proc sys; do
	mountpoint -q "$s/$d" || mount --bind "/$d" "$s/$d" || exit 125
done
exec chroot "$s" /usr/bin/v4l2-compliance "$@"
