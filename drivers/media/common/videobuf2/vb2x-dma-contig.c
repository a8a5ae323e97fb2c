// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-dma-contig.c - physically contiguous memory ops of the vivid-expbuf
 * videobuf2
 *
 * MMAP memory is one block from dma_alloc_attrs() for the queue's device,
 * forced physically contiguous even behind an IOMMU, so that every
 * importer of its dma-bufs gets a single scatter list entry. The DMA API
 * zeroes it; __GFP_ACCOUNT charges it to the allocating process's memory
 * cgroup when it comes from the page allocator (not from a CMA area, which
 * the DMA API does not account). It is charged to the device's budget and
 * reference counted like every vb2x plane (&struct vb2x_mem), and exported
 * by the common exporter of vb2x-mem-dmabuf.c. Mappings of it, V4L2 and
 * dma-buf alike, are PFN maps made by dma_mmap_attrs().
 *
 * There is no USERPTR: user memory is almost never physically contiguous.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <media/vb2x-budget.h>
#include <media/vb2x-dma-contig.h>

#include "vb2x-mem-priv.h"

/*
 * One physically contiguous block even where an IOMMU could make pages
 * look contiguous to the device; a failed allocation is an ordinary
 * ENOMEM for userspace, not a kernel warning.
 */
#define VB2X_DC_ATTRS	(DMA_ATTR_FORCE_CONTIGUOUS | DMA_ATTR_NO_WARN)

/**
 * struct vb2x_dc_buf - memory of one plane
 * @mem: the common part; &vb2x_mem.vaddr is the kernel address given by
 *	dma_alloc_attrs(); the handle given to the core is &mem
 * @dev: the device the memory was allocated for, referenced until the
 *	memory is freed, which may be after the device was unbound
 * @dma_addr: the DMA address of the memory for @dev
 */
struct vb2x_dc_buf {
	struct vb2x_mem		mem;
	struct device		*dev;
	dma_addr_t		dma_addr;
};

static struct vb2x_dc_buf *to_dc_buf(struct vb2x_mem *mem)
{
	return container_of(mem, struct vb2x_dc_buf, mem);
}

static void vb2x_dc_free(struct vb2x_mem *mem)
{
	struct vb2x_dc_buf *buf = to_dc_buf(mem);

	dma_free_attrs(buf->dev, mem->size, mem->vaddr, buf->dma_addr,
		       VB2X_DC_ATTRS);
	put_device(buf->dev);
	kfree(buf);
}

/*
 * The block is one run of pages (the DMA API's own table of it has one
 * entry); it is cut into entries of at most @max_seg bytes for importers
 * whose device takes no longer DMA segments.
 */
static int vb2x_dc_get_sgtable(struct vb2x_mem *mem, struct sg_table *sgt,
			       unsigned int max_seg)
{
	struct vb2x_dc_buf *buf = to_dc_buf(mem);
	unsigned long done = 0, len;
	struct scatterlist *sg;
	struct sg_table whole;
	struct page *first;
	unsigned int i;
	int ret;

	ret = dma_get_sgtable_attrs(buf->dev, &whole, mem->vaddr, buf->dma_addr,
				    mem->size, VB2X_DC_ATTRS);
	if (ret)
		return ret;
	first = sg_page(whole.sgl);
	sg_free_table(&whole);

	max_seg = max_t(unsigned int, rounddown(max_seg, PAGE_SIZE), PAGE_SIZE);
	ret = sg_alloc_table(sgt, DIV_ROUND_UP(mem->size, max_seg),
			     GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	for_each_sgtable_sg(sgt, sg, i) {
		len = min_t(unsigned long, mem->size - done, max_seg);
		sg_set_page(sg, first + (done >> PAGE_SHIFT), len, 0);
		done += len;
	}
	return 0;
}

/* dma_mmap_attrs() maps by PFN from vma->vm_pgoff on, within the block. */
static int vb2x_dc_remap_pfn(struct vb2x_mem *mem, struct vm_area_struct *vma)
{
	struct vb2x_dc_buf *buf = to_dc_buf(mem);

	return dma_mmap_attrs(buf->dev, vma, mem->vaddr, buf->dma_addr,
			      mem->size, VB2X_DC_ATTRS);
}

static const struct vb2x_mem_kind vb2x_dc_kind = {
	.free = vb2x_dc_free,
	.get_sgtable = vb2x_dc_get_sgtable,
	.remap_pfn = vb2x_dc_remap_pfn,
};

static void *vb2x_dc_alloc(struct device *dev, struct vb2x_budget *budget,
			   unsigned long size, enum dma_data_direction dir)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN;
	struct vb2x_dc_buf *buf;
	void *vaddr;
	int ret;

	size = PAGE_ALIGN(size);
	if (!size)
		return ERR_PTR(-EINVAL);
	ret = vb2x_budget_charge(budget, size);
	if (ret)
		return ERR_PTR(ret);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto uncharge;
	vaddr = dma_alloc_attrs(dev, size, &buf->dma_addr, gfp, VB2X_DC_ATTRS);
	if (!vaddr) {
		dev_dbg(dev, "vb2x: no block of %lu contiguous bytes\n", size);
		goto free_buf;
	}
	buf->dev = get_device(dev);
	vb2x_mem_init(&buf->mem, &vb2x_dc_kind, vaddr, size, budget);
	return &buf->mem;

free_buf:
	kfree(buf);
uncharge:
	vb2x_budget_uncharge(budget, size);
	return ERR_PTR(-ENOMEM);
}

/*
 * The VMA's page offset is the plane's mmap cookie; the mapping starts at
 * the plane's first byte.
 */
static int vb2x_dc_mmap(void *buf_priv, struct vm_area_struct *vma)
{
	struct vb2x_mem *mem = buf_priv;
	int ret;

	vma->vm_pgoff = 0;
	ret = vb2x_dc_remap_pfn(mem, vma);
	if (ret)
		return ret;
	vb2x_mem_vma_attach(vma, mem);
	return 0;
}

const struct vb2x_mem_ops vb2x_dma_contig_memops = {
	.alloc = vb2x_dc_alloc,
	.put = vb2x_mem_put_priv,
	.vaddr = vb2x_mem_vaddr,
	.num_users = vb2x_mem_num_users,
	.mmap = vb2x_dc_mmap,
	.get_dmabuf = vb2x_mem_get_dmabuf,
	.resv = vb2x_mem_resv,
};
