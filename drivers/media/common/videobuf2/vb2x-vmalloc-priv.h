/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-vmalloc-priv.h - the memory of a vmalloc plane, shared by the
 * allocator (vb2x-vmalloc.c) and its dma-buf exporter
 * (vb2x-vmalloc-dmabuf.c); not for drivers
 */
#ifndef _VB2X_VMALLOC_PRIV_H
#define _VB2X_VMALLOC_PRIV_H

#include <linux/dma-resv.h>
#include <linux/refcount.h>
#include <linux/types.h>

struct dma_buf;
struct page;
struct vb2x_budget;

/**
 * struct vb2x_vmalloc_buf - memory of one plane
 * @vaddr: kernel address of the first byte of the plane
 * @size: size of the plane in bytes (whole pages for MMAP)
 * @refcount: MMAP: references to this memory. Held by the plane of the
 *	queue's buffer (from alloc to put), by each V4L2 mmap VMA and each
 *	dma-buf mmap VMA (from mmap or the VMA's open to its close), and by
 *	each exported dma-buf (from export to its release). The last
 *	vb2x_vmalloc_buf_put() frees the memory; nothing else frees it.
 * @pages: the pages: MMAP: allocated zeroed and charged to the allocating
 *	process's memory cgroup; USERPTR: pinned user pages
 * @n_pages: entries in @pages
 * @map: USERPTR: start of the vm_map_ram() mapping of @pages
 * @dirty: USERPTR: the device writes, so mark the pages dirty on unpin
 * @resv: MMAP: the reservation object shared by every dma-buf exported
 *	from this plane; finalized when the memory is freed. Its lock is the
 *	dma-buf reservation lock, which also protects the dma-bufs'
 *	attachment lists.
 * @budget: MMAP: the budget @size is charged to (may be NULL); the charge
 *	and its budget reference are given back when the memory is freed
 */
struct vb2x_vmalloc_buf {
	void			*vaddr;
	unsigned long		size;
	refcount_t		refcount;
	struct page		**pages;
	unsigned int		n_pages;
	void			*map;
	bool			dirty;
	struct dma_resv		resv;
	struct vb2x_budget	*budget;
};

void vb2x_vmalloc_buf_get(struct vb2x_vmalloc_buf *buf);
void vb2x_vmalloc_buf_put(struct vb2x_vmalloc_buf *buf);
struct dma_buf *vb2x_vmalloc_get_dmabuf(void *buf_priv, unsigned long flags);

#endif /* _VB2X_VMALLOC_PRIV_H */
