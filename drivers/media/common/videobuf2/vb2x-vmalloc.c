// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-vmalloc.c - vmalloc memory ops of the vivid-expbuf videobuf2
 *
 * MMAP memory is made of zeroed pages charged to the allocating process's
 * memory cgroup and to the device's budget, mapped into the kernel with
 * vmap(). It is reference counted (see &struct vb2x_vmalloc_buf): the
 * plane, every VMA and every exported dma-buf hold a reference, so buffers
 * freed while mapped or exported stay valid until the last user goes. USERPTR
 * memory is pinned with pin_user_pages_fast() and mapped into the kernel
 * with vm_map_ram() while the plane uses it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <media/vb2x-budget.h>
#include <media/vb2x-vmalloc.h>

#include "vb2x-vmalloc-priv.h"

static void vb2x_vmalloc_free_pages(struct page **pages, unsigned int n)
{
	while (n--)
		__free_page(pages[n]);
	kvfree(pages);
}

static void *vb2x_vmalloc_alloc(struct device *dev, struct vb2x_budget *budget,
				unsigned long size, enum dma_data_direction dir)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	struct vb2x_vmalloc_buf *buf;
	unsigned int i;
	int ret;

	size = PAGE_ALIGN(size);
	if (!size || (size >> PAGE_SHIFT) > INT_MAX)
		return ERR_PTR(-EINVAL);
	ret = vb2x_budget_charge(budget, size);
	if (ret)
		return ERR_PTR(ret);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		goto uncharge;
	buf->size = size;
	buf->n_pages = size >> PAGE_SHIFT;
	buf->pages = kvcalloc(buf->n_pages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages)
		goto free_buf;
	for (i = 0; i < buf->n_pages; i++) {
		buf->pages[i] = alloc_page(gfp);
		if (!buf->pages[i]) {
			vb2x_vmalloc_free_pages(buf->pages, i);
			goto free_buf;
		}
	}
	/* VM_USERMAP lets remap_vmalloc_range() map it for V4L2 mmap(). */
	buf->vaddr = vmap(buf->pages, buf->n_pages, VM_MAP | VM_USERMAP,
			  PAGE_KERNEL);
	if (!buf->vaddr) {
		vb2x_vmalloc_free_pages(buf->pages, buf->n_pages);
		goto free_buf;
	}
	dma_resv_init(&buf->resv);
	buf->budget = budget;
	refcount_set(&buf->refcount, 1);
	return buf;

free_buf:
	kfree(buf);
uncharge:
	vb2x_budget_uncharge(budget, size);
	return ERR_PTR(-ENOMEM);
}

/**
 * vb2x_vmalloc_buf_get() - take one more reference to MMAP memory
 * @buf: the memory, on which the caller already holds a reference
 */
void vb2x_vmalloc_buf_get(struct vb2x_vmalloc_buf *buf)
{
	refcount_inc(&buf->refcount);
}

/**
 * vb2x_vmalloc_buf_put() - drop a reference to MMAP memory
 * @buf: the memory
 *
 * The last reference frees the memory, its reservation object and its
 * budget charge: this is the only place that does.
 */
void vb2x_vmalloc_buf_put(struct vb2x_vmalloc_buf *buf)
{
	if (!refcount_dec_and_test(&buf->refcount))
		return;
	vunmap(buf->vaddr);
	vb2x_vmalloc_free_pages(buf->pages, buf->n_pages);
	dma_resv_fini(&buf->resv);
	vb2x_budget_uncharge(buf->budget, buf->size);
	kfree(buf);
}

static void vb2x_vmalloc_put(void *buf_priv)
{
	vb2x_vmalloc_buf_put(buf_priv);
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
	vb2x_vmalloc_buf_get(vma->vm_private_data);
}

static void vb2x_vmalloc_vm_close(struct vm_area_struct *vma)
{
	vb2x_vmalloc_buf_put(vma->vm_private_data);
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
	.get_dmabuf = vb2x_vmalloc_get_dmabuf,
};
