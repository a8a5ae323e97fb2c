# SPDX-License-Identifier: GPL-2.0
vb2x-objs := vb2x-stub.o
