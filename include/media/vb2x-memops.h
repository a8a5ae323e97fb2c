/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-memops.h - the interface between the vivid-expbuf videobuf2 and
 * its allocators
 *
 * Who holds which reference to the memory of a plane:
 *
 * - MMAP: &vb2x_mem_ops.alloc returns a handle holding one reference, owned
 *   by the plane (&vb2x_plane.mem_priv) and dropped with &vb2x_mem_ops.put
 *   when the buffers are freed (REQBUFS(0), a REQBUFS with another count or
 *   memory, or the owner's close). Every VMA created by &vb2x_mem_ops.mmap
 *   holds one more reference for its whole life, including the copies made
 *   when a VMA is split or duplicated by fork(). Every dma-buf made by
 *   &vb2x_mem_ops.get_dmabuf holds one more reference until its release,
 *   and every mmap() VMA of such a dma-buf one more until its close. The
 *   memory is freed at the last put, so buffers freed while still mapped
 *   or exported live on as "orphans" until their last user goes. The
 *   &struct dma_resv of a plane, shared by all its dma-bufs, and the
 *   budget charge of the plane belong to this refcounted handle, so they
 *   outlive the queue just like the memory does.
 * - USERPTR: &vb2x_mem_ops.get_userptr pins the user pages and returns a
 *   handle owned by the plane; &vb2x_mem_ops.put_userptr unpins them. The
 *   pin is kept while the buffer is requeued with the same address and
 *   length, and dropped when the address changes or the buffers are freed.
 *
 * - DMABUF: not an allocator matter. vb2x-dmabuf-import.c imports the
 *   dma-buf for every allocator alike: the plane holds one dma-buf
 *   reference (dma_buf_get()) and one attachment to &vb2x_queue.dev from
 *   the QBUF or PREPARE_BUF that brought it until another dma-buf replaces
 *   it or the buffer is freed, and maps the attachment and vmaps the
 *   dma-buf only while the buffer is prepared, queued or with the driver.
 *
 * The core calls only the members its memory kind needs.
 */
#ifndef _MEDIA_VB2X_MEMOPS_H
#define _MEDIA_VB2X_MEMOPS_H

#include <linux/dma-direction.h>
#include <media/vb2x-core.h>

struct dma_buf;
struct dma_resv;
struct vb2x_budget;
struct vm_area_struct;

/**
 * struct vb2x_mem_ops - an allocator
 * @alloc: MMAP: allocate @size bytes (rounded up to whole pages) of zeroed
 *	memory for @dev, to be filled in direction @dir, charged to the
 *	current process's memory cgroup and to @budget (NULL: no limit).
 *	Return a handle holding one reference, or ERR_PTR(-EDQUOT) when
 *	@budget refuses, or another ERR_PTR().
 * @put: MMAP: drop the reference taken by @alloc; the memory is freed when
 *	no mapping holds a reference any more.
 * @get_userptr: USERPTR: pin @size bytes of user memory at @vaddr (need
 *	not be page aligned) for @dev and map them into the kernel; @dir is
 *	%DMA_FROM_DEVICE when the device writes (capture). Return a handle or
 *	an ERR_PTR() (-EFAULT and the like from pinning).
 * @put_userptr: USERPTR: unmap and unpin, marking the pages dirty when the
 *	device wrote to them.
 * @vaddr: kernel address of the memory, or NULL if it has none.
 * @num_users: references held on the memory: 1 while only the plane
 *	holds it, more while it is mapped.
 * @mmap: MMAP: map the memory into @vma, which starts at the plane start
 *	and is no larger than the plane (checked by the caller); on success
 *	the VMA holds its own reference.
 * @get_dmabuf: optional, MMAP: export the memory as a new dma-buf whose
 *	file is opened with the access mode in @flags (O_RDONLY, O_WRONLY or
 *	O_RDWR); the dma-buf holds its own reference. Return the dma-buf or
 *	an ERR_PTR().
 * @resv: optional, MMAP: the reservation object shared by every dma-buf
 *	exported from the memory, which vb2x puts the buffer's fences in;
 *	valid for as long as the caller holds its reference to the memory.
 *
 * All callbacks are called in process context; @alloc, @put, @get_userptr
 * and @put_userptr with &vb2x_queue.lock held, @mmap with the mm's
 * mmap_lock and &vb2x_queue.mmap_lock held, @get_dmabuf with
 * &vb2x_queue.lock held, @resv with or without it.
 */
struct vb2x_mem_ops {
	void *(*alloc)(struct device *dev, struct vb2x_budget *budget,
		       unsigned long size, enum dma_data_direction dir);
	void (*put)(void *buf_priv);
	void *(*get_userptr)(struct device *dev, unsigned long vaddr,
			     unsigned long size, enum dma_data_direction dir);
	void (*put_userptr)(void *buf_priv);
	void *(*vaddr)(void *buf_priv);
	unsigned int (*num_users)(void *buf_priv);
	int (*mmap)(void *buf_priv, struct vm_area_struct *vma);
	struct dma_buf *(*get_dmabuf)(void *buf_priv, unsigned long flags);
	struct dma_resv *(*resv)(void *buf_priv);
};

#endif /* _MEDIA_VB2X_MEMOPS_H */
