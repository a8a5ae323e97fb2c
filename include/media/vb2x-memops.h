/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-memops.h - the interface between the vivid-expbuf videobuf2 and
 * its allocators
 */
#ifndef _MEDIA_VB2X_MEMOPS_H
#define _MEDIA_VB2X_MEMOPS_H

#include <media/vb2x-core.h>

struct vm_area_struct;

/**
 * struct vb2x_mem_ops - an allocator
 *
 * Defined by the vb2x helper that implements it.
 */
struct vb2x_mem_ops;

#endif /* _MEDIA_VB2X_MEMOPS_H */
