// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-vmalloc.c - vmalloc memory ops of the vivid-expbuf videobuf2
 *
 * MMAP memory is made of zeroed pages charged to the allocating process's
 * memory cgroup and to the device's budget, mapped into the kernel with
 * vmap(), and into userspace by PFN (V4L2 mmap and dma-buf mmap alike),
 * so that no page can be pinned through a mapping and outlive the point
 * where the budget is credited back. It is reference counted (see
 * &struct vb2x_mem): the plane, every VMA and every exported dma-buf hold
 * a reference, so buffers freed while mapped or exported stay valid until
 * the last user goes; its dma-bufs are those of vb2x-mem-dmabuf.c.
 * USERPTR memory is pinned with pin_user_pages_fast() and mapped into the
 * kernel with vm_map_ram() while the plane uses it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <media/vb2x-budget.h>
#include <media/vb2x-vmalloc.h>

#include "vb2x-mem-priv.h"

/**
 * struct vb2x_vmalloc_buf - memory of one plane
 * @mem: the common part; &vb2x_mem.vaddr is the vmap() (MMAP) or the
 *	vm_map_ram() address plus the offset of the user address (USERPTR);
 *	the handle given to the core is &mem
 * @pages: the pages: MMAP: allocated zeroed and charged to the allocating
 *	process's memory cgroup; USERPTR: pinned user pages
 * @n_pages: entries in @pages
 * @map: USERPTR: start of the vm_map_ram() mapping of @pages
 * @dirty: USERPTR: the device writes, so mark the pages dirty on unpin
 */
struct vb2x_vmalloc_buf {
	struct vb2x_mem		mem;
	struct page		**pages;
	unsigned int		n_pages;
	void			*map;
	bool			dirty;
};

static struct vb2x_vmalloc_buf *to_vmalloc_buf(struct vb2x_mem *mem)
{
	return container_of(mem, struct vb2x_vmalloc_buf, mem);
}

static void vb2x_vmalloc_free_pages(struct page **pages, unsigned int n)
{
	while (n--)
		__free_page(pages[n]);
	kvfree(pages);
}

static void vb2x_vmalloc_free(struct vb2x_mem *mem)
{
	struct vb2x_vmalloc_buf *buf = to_vmalloc_buf(mem);

	vunmap(mem->vaddr);
	vb2x_vmalloc_free_pages(buf->pages, buf->n_pages);
	kfree(buf);
}

static int vb2x_vmalloc_get_sgtable(struct vb2x_mem *mem, struct sg_table *sgt,
				    unsigned int max_seg)
{
	struct vb2x_vmalloc_buf *buf = to_vmalloc_buf(mem);

	return sg_alloc_table_from_pages_segment(sgt, buf->pages, buf->n_pages,
						 0, mem->size,
						 max_t(unsigned int, max_seg,
						       PAGE_SIZE),
						 GFP_KERNEL_ACCOUNT);
}

static int vb2x_vmalloc_remap_pfn(struct vb2x_mem *mem,
				  struct vm_area_struct *vma)
{
	struct vb2x_vmalloc_buf *buf = to_vmalloc_buf(mem);
	unsigned long count = vma_pages(vma);
	unsigned long i;
	int ret;

	for (i = 0; i < count; i++) {
		ret = remap_pfn_range(vma, vma->vm_start + (i << PAGE_SHIFT),
				      page_to_pfn(buf->pages[vma->vm_pgoff + i]),
				      PAGE_SIZE, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
}

/* The kernel mapping is a vmap() alias of the pages. */
static void vb2x_vmalloc_sync_vaddr(struct vb2x_mem *mem, bool for_cpu)
{
	if (for_cpu)
		invalidate_kernel_vmap_range(mem->vaddr, mem->size);
	else
		flush_kernel_vmap_range(mem->vaddr, mem->size);
}

static const struct vb2x_mem_kind vb2x_vmalloc_kind = {
	.free = vb2x_vmalloc_free,
	.get_sgtable = vb2x_vmalloc_get_sgtable,
	.remap_pfn = vb2x_vmalloc_remap_pfn,
	.sync_vaddr = vb2x_vmalloc_sync_vaddr,
};

static void *vb2x_vmalloc_alloc(struct device *dev, struct vb2x_budget *budget,
				unsigned long size, enum dma_data_direction dir)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	struct vb2x_vmalloc_buf *buf;
	unsigned int i;
	void *vaddr;
	int ret;

	size = PAGE_ALIGN(size);
	if (!size || (size >> PAGE_SHIFT) > INT_MAX)
		return ERR_PTR(-EINVAL);
	ret = vb2x_budget_charge(budget, size);
	if (ret)
		return ERR_PTR(ret);

	ret = -ENOMEM;
	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto uncharge;
	buf->n_pages = size >> PAGE_SHIFT;
	buf->pages = kvcalloc(buf->n_pages, sizeof(*buf->pages),
			      GFP_KERNEL_ACCOUNT);
	if (!buf->pages)
		goto free_buf;
	for (i = 0; i < buf->n_pages; i++) {
		/* A killed REQBUFS stops instead of allocating on. */
		if (fatal_signal_pending(current))
			ret = -EINTR;
		else
			buf->pages[i] = alloc_page(gfp);
		if (!buf->pages[i]) {
			vb2x_vmalloc_free_pages(buf->pages, i);
			goto free_buf;
		}
	}
	vaddr = vmap(buf->pages, buf->n_pages, VM_MAP, PAGE_KERNEL);
	if (!vaddr) {
		vb2x_vmalloc_free_pages(buf->pages, buf->n_pages);
		goto free_buf;
	}
	vb2x_mem_init(&buf->mem, &vb2x_vmalloc_kind, vaddr, size, budget);
	return &buf->mem;

free_buf:
	kfree(buf);
uncharge:
	vb2x_budget_uncharge(budget, size);
	return ERR_PTR(ret);
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

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->pages = kvmalloc_array(n_pages, sizeof(*buf->pages),
				    GFP_KERNEL_ACCOUNT);
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
	buf->mem.vaddr = buf->map + (vaddr & ~PAGE_MASK);
	buf->mem.size = size;
	return &buf->mem;

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
	struct vb2x_vmalloc_buf *buf = to_vmalloc_buf(buf_priv);

	vm_unmap_ram(buf->map, buf->n_pages);
	unpin_user_pages_dirty_lock(buf->pages, buf->n_pages, buf->dirty);
	kvfree(buf->pages);
	kfree(buf);
}

/*
 * The V4L2 mmap() of a plane: by PFN from the plane's first page, like
 * the dma-buf mmap; vm_pgoff was only the cookie naming the plane.
 */
static int vb2x_vmalloc_mmap(void *buf_priv, struct vm_area_struct *vma)
{
	struct vb2x_mem *mem = buf_priv;
	int ret;

	vma->vm_pgoff = 0;
	ret = vb2x_vmalloc_remap_pfn(mem, vma);
	if (ret)
		return ret;
	vb2x_mem_vma_attach(vma, mem);
	return 0;
}

const struct vb2x_mem_ops vb2x_vmalloc_memops = {
	.alloc = vb2x_vmalloc_alloc,
	.put = vb2x_mem_put_priv,
	.get_userptr = vb2x_vmalloc_get_userptr,
	.put_userptr = vb2x_vmalloc_put_userptr,
	.vaddr = vb2x_mem_vaddr,
	.num_users = vb2x_mem_num_users,
	.mmap = vb2x_vmalloc_mmap,
	.get_dmabuf = vb2x_mem_get_dmabuf,
	.resv = vb2x_mem_resv,
};
