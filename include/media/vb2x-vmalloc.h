/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-vmalloc.h - vmalloc memory ops of the vivid-expbuf videobuf2
 */
#ifndef _MEDIA_VB2X_VMALLOC_H
#define _MEDIA_VB2X_VMALLOC_H

#include <media/vb2x-memops.h>

/*
 * vb2x_vmalloc_memops - allocator for devices that reach their buffers
 * through a kernel mapping only: MMAP memory from vmalloc_user(), zeroed
 * and reference counted so that it outlives the queue while mapped, and
 * USERPTR memory pinned and mapped with vm_map_ram().
 */
extern const struct vb2x_mem_ops vb2x_vmalloc_memops;

#endif /* _MEDIA_VB2X_VMALLOC_H */
