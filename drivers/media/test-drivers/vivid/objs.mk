# SPDX-License-Identifier: GPL-2.0
vivid-objs := vivid-stub.o
