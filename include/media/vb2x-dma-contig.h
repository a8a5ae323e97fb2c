/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-dma-contig.h - physically contiguous memory ops of the
 * vivid-expbuf videobuf2
 */
#ifndef _MEDIA_VB2X_DMA_CONTIG_H
#define _MEDIA_VB2X_DMA_CONTIG_H

#include <media/vb2x-memops.h>

/*
 * vb2x_dma_contig_memops - allocator for devices, or importers of their
 * dma-bufs, that need each plane in one physically contiguous block: MMAP
 * memory from dma_alloc_attrs() for &vb2x_queue.dev, which must have a
 * coherent DMA mask. Zeroed, charged and reference counted exactly like
 * vb2x_vmalloc_memops' memory, and exported by the same dma-buf exporter.
 * A plane is limited to what the page allocator (or CMA, where the kernel
 * has it) can give in one block; larger requests fail with -ENOMEM. No
 * USERPTR: user memory is not contiguous, so a queue using these ops must
 * leave %VB2X_USERPTR out of &vb2x_queue.io_modes.
 */
extern const struct vb2x_mem_ops vb2x_dma_contig_memops;

#endif /* _MEDIA_VB2X_DMA_CONTIG_H */
