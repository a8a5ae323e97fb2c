// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-vmalloc.c - vmalloc memory ops of the vivid-expbuf videobuf2
 *
 * MMAP memory comes from vmalloc_user() (zeroed, mappable to userspace) and
 * is reference counted: the plane holds one reference and every VMA one
 * more, so buffers freed while mapped stay valid until unmapped. USERPTR
 * memory is pinned with pin_user_pages_fast() and mapped into the kernel
 * with vm_map_ram() while the plane uses it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <media/vb2x-vmalloc.h>

/**
 * struct vb2x_vmalloc_buf - memory of one plane
 * @vaddr: kernel address of the first byte of the plane
 * @size: size of the plane in bytes
 * @refcount: MMAP: one reference for the plane, one per VMA; the memory is
 *	freed when it drops to zero
 * @pages: USERPTR: the pinned user pages
 * @n_pages: USERPTR: entries in @pages
 * @map: USERPTR: start of the vm_map_ram() mapping of @pages
 * @dirty: USERPTR: the device writes, so mark the pages dirty on unpin
 */
struct vb2x_vmalloc_buf {
	void		*vaddr;
	unsigned long	size;
	refcount_t	refcount;
	struct page	**pages;
	unsigned int	n_pages;
	void		*map;
	bool		dirty;
};

static void *vb2x_vmalloc_alloc(struct device *dev, unsigned long size,
				enum dma_data_direction dir)
{
	struct vb2x_vmalloc_buf *buf;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->size = PAGE_ALIGN(size);
	buf->vaddr = vmalloc_user(buf->size);
	if (!buf->vaddr) {
		kfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	refcount_set(&buf->refcount, 1);
	return buf;
}

static void vb2x_vmalloc_put(void *buf_priv)
{
	struct vb2x_vmalloc_buf *buf = buf_priv;

	if (!refcount_dec_and_test(&buf->refcount))
		return;
	vfree(buf->vaddr);
	kfree(buf);
}

static void *vb2x_vmalloc_get_userptr(struct device *dev, unsigned long vaddr,
				      unsigned long size,
				      enum dma_data_direction dir)
{
	unsigned long first = vaddr & PAGE_MASK;
	unsigned int gup_flags = FOLL_LONGTERM;
	struct vb2x_vmalloc_buf *buf;
	unsigned long n_pages;
	int pinned;
	int ret;

	if (!size || vaddr + size < vaddr)
		return ERR_PTR(-EINVAL);
	n_pages = (PAGE_ALIGN(vaddr + size) - first) >> PAGE_SHIFT;
	if (n_pages > INT_MAX)
		return ERR_PTR(-EINVAL);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->pages = kvmalloc_array(n_pages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages) {
		ret = -ENOMEM;
		goto free_buf;
	}
	buf->dirty = dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL;
	if (buf->dirty)
		gup_flags |= FOLL_WRITE;

	pinned = pin_user_pages_fast(first, n_pages, gup_flags, buf->pages);
	if (pinned < 0) {
		ret = pinned;
		goto free_pages;
	}
	buf->n_pages = pinned;
	if (pinned != n_pages) {
		ret = -EFAULT;
		goto unpin;
	}

	buf->map = vm_map_ram(buf->pages, buf->n_pages, NUMA_NO_NODE);
	if (!buf->map) {
		ret = -ENOMEM;
		goto unpin;
	}
	buf->vaddr = buf->map + (vaddr & ~PAGE_MASK);
	buf->size = size;
	refcount_set(&buf->refcount, 1);
	return buf;

unpin:
	unpin_user_pages(buf->pages, buf->n_pages);
free_pages:
	kvfree(buf->pages);
free_buf:
	kfree(buf);
	return ERR_PTR(ret);
}

static void vb2x_vmalloc_put_userptr(void *buf_priv)
{
	struct vb2x_vmalloc_buf *buf = buf_priv;

	vm_unmap_ram(buf->map, buf->n_pages);
	unpin_user_pages_dirty_lock(buf->pages, buf->n_pages, buf->dirty);
	kvfree(buf->pages);
	kfree(buf);
}

static void *vb2x_vmalloc_vaddr(void *buf_priv)
{
	struct vb2x_vmalloc_buf *buf = buf_priv;

	return buf->vaddr;
}

static unsigned int vb2x_vmalloc_num_users(void *buf_priv)
{
	struct vb2x_vmalloc_buf *buf = buf_priv;

	return refcount_read(&buf->refcount);
}

/* A VMA was duplicated (fork) or split: the copy holds its own reference. */
static void vb2x_vmalloc_vm_open(struct vm_area_struct *vma)
{
	struct vb2x_vmalloc_buf *buf = vma->vm_private_data;

	refcount_inc(&buf->refcount);
}

static void vb2x_vmalloc_vm_close(struct vm_area_struct *vma)
{
	vb2x_vmalloc_put(vma->vm_private_data);
}

static const struct vm_operations_struct vb2x_vmalloc_vm_ops = {
	.open = vb2x_vmalloc_vm_open,
	.close = vb2x_vmalloc_vm_close,
};

static int vb2x_vmalloc_mmap(void *buf_priv, struct vm_area_struct *vma)
{
	struct vb2x_vmalloc_buf *buf = buf_priv;
	int ret;

	ret = remap_vmalloc_range(vma, buf->vaddr, 0);
	if (ret)
		return ret;
	vma->vm_private_data = buf;
	vma->vm_ops = &vb2x_vmalloc_vm_ops;
	vb2x_vmalloc_vm_open(vma);
	return 0;
}

const struct vb2x_mem_ops vb2x_vmalloc_memops = {
	.alloc = vb2x_vmalloc_alloc,
	.put = vb2x_vmalloc_put,
	.get_userptr = vb2x_vmalloc_get_userptr,
	.put_userptr = vb2x_vmalloc_put_userptr,
	.vaddr = vb2x_vmalloc_vaddr,
	.num_users = vb2x_vmalloc_num_users,
	.mmap = vb2x_vmalloc_mmap,
};
