# SPDX-License-Identifier: GPL-2.0
vivid-objs := vivid-buffers.o vivid-core.o vivid-ctrls.o vivid-fmt.o \
	      vivid-kthread-cap.o vivid-kthread-out.o vivid-node.o \
	      vivid-pattern.o vivid-vid-cap.o vivid-vid-out.o
