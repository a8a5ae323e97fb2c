/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-mem-priv.h - the refcounted MMAP memory of a plane and its dma-buf
 * exporter, shared by every allocator (vb2x-vmalloc.c, vb2x-dma-contig.c);
 * not for drivers
 *
 * An allocator embeds &struct vb2x_mem in its own plane struct, fills it
 * with vb2x_mem_init() once the memory is allocated and describes how to
 * free, scatter and PFN-map its memory in a &struct vb2x_mem_kind. The
 * reference counting, the budget charge, the reservation object, the VMA
 * life cycle and the whole dma-buf exporter (vb2x-mem-dmabuf.c) are then
 * the same for all allocators.
 */
#ifndef _VB2X_MEM_PRIV_H
#define _VB2X_MEM_PRIV_H

#include <linux/dma-resv.h>
#include <linux/refcount.h>
#include <linux/types.h>

struct dma_buf;
struct sg_table;
struct vb2x_budget;
struct vb2x_mem;
struct vm_area_struct;

/**
 * struct vb2x_mem_kind - what an allocator tells the common code
 * @free: free the memory and the struct embedding @mem; called once, by
 *	the last vb2x_mem_put(), after the reservation object and the budget
 *	charge are gone
 * @get_sgtable: fill @sgt (not yet allocated) with the memory's pages, no
 *	entry longer than @max_seg bytes (the importing device's maximum DMA
 *	segment size, at least a page), in
 *	as few entries as the memory allows; return 0 or a negative errno
 * @remap_pfn: map the pages vma->vm_pgoff on of the memory into @vma by
 *	PFN (the VMA becomes VM_PFNMAP); the caller has checked that the VMA
 *	lies within the memory. Return 0 or a negative errno.
 * @sync_vaddr: optional: make the kernel mapping coherent with the pages
 *	before (@for_cpu) or after CPU access, for memory whose kernel mapping
 *	is an alias of the pages (vmap); NULL when it needs nothing
 */
struct vb2x_mem_kind {
	void	(*free)(struct vb2x_mem *mem);
	int	(*get_sgtable)(struct vb2x_mem *mem, struct sg_table *sgt,
			       unsigned int max_seg);
	int	(*remap_pfn)(struct vb2x_mem *mem, struct vm_area_struct *vma);
	void	(*sync_vaddr)(struct vb2x_mem *mem, bool for_cpu);
};

/**
 * struct vb2x_mem - memory of one plane, as the common code sees it
 * @kind: the allocator's callbacks (MMAP only)
 * @vaddr: kernel address of the first byte of the plane
 * @size: size of the plane in bytes (whole pages for MMAP)
 * @refcount: MMAP: references to this memory. Held by the plane of the
 *	queue's buffer (from alloc to put), by each V4L2 mmap VMA and each
 *	dma-buf mmap VMA (from mmap or the VMA's open to its close), and by
 *	each exported dma-buf (from export to its release). The last
 *	vb2x_mem_put() frees the memory; nothing else frees it.
 * @resv: MMAP: the reservation object shared by every dma-buf exported
 *	from this plane; finalized when the memory is freed. Its lock is the
 *	dma-buf reservation lock, which also protects the dma-bufs'
 *	attachment lists.
 * @budget: MMAP: the budget @size is charged to (may be NULL); the charge
 *	and its budget reference are given back when the memory is freed
 */
struct vb2x_mem {
	const struct vb2x_mem_kind	*kind;
	void				*vaddr;
	unsigned long			size;
	refcount_t			refcount;
	struct dma_resv			resv;
	struct vb2x_budget		*budget;
};

void vb2x_mem_init(struct vb2x_mem *mem, const struct vb2x_mem_kind *kind,
		   void *vaddr, unsigned long size, struct vb2x_budget *budget);
void vb2x_mem_get(struct vb2x_mem *mem);
void vb2x_mem_put(struct vb2x_mem *mem);
void vb2x_mem_vma_attach(struct vm_area_struct *vma, struct vb2x_mem *mem);

/* &struct vb2x_mem_ops members for a buf_priv that is a struct vb2x_mem */
void vb2x_mem_put_priv(void *buf_priv);
void *vb2x_mem_vaddr(void *buf_priv);
unsigned int vb2x_mem_num_users(void *buf_priv);
struct dma_resv *vb2x_mem_resv(void *buf_priv);

/* vb2x-mem-dmabuf.c */
struct dma_buf *vb2x_mem_get_dmabuf(void *buf_priv, unsigned long flags);

#endif /* _VB2X_MEM_PRIV_H */
