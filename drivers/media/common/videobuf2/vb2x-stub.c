// SPDX-License-Identifier: GPL-2.0
#include <media/vb2x-v4l2.h>
#include <media/vb2x-vmalloc.h>
