// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-mem-dmabuf.c - dma-buf exporter of MMAP memory, common to all
 * allocators
 *
 * Each dma-buf holds a reference to the plane's memory from export to its
 * release, and each mmap() VMA of a dma-buf one more from mmap (or the
 * VMA's open) to its close. Importers get a scatter list of the plane's
 * pages (from &vb2x_mem_kind.get_sgtable, in entries no longer than the
 * importing device's maximum DMA segment size; as few for contiguous
 * memory), mapped for their device in the direction they ask; the DMA
 * mapping is made at the first map and kept until detach, so an importer
 * that maps and unmaps for every frame pays for one mapping. An importer
 * that maps the same attachment again while its first mapping is in use
 * gets a mapping of its own for that map, made and dropped with it.
 * Mappings are made and dropped with DMA_ATTR_SKIP_CPU_SYNC, and the cache
 * maintenance is explicit (a sync for the device after each map, for the
 * CPU at each unmap and CPU access): several importers, and several maps of
 * one, may map the same pages at once, which the DMA API allows only for
 * mappings that leave their syncs to the driver.
 * Userspace mappings are VM_PFNMAP (&vb2x_mem_kind.remap_pfn), so the
 * pages cannot be pinned through them (get_user_pages, vmsplice and
 * USERPTR buffers all fail on them), and a dma-buf whose file is not open
 * for writing is never mapped writable, also not through an importer's
 * dma_buf_mmap(). All dma-bufs of a plane share the plane's reservation
 * object.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <media/vb2x-compat.h>

#include "vb2x-mem-priv.h"

VB2X_IMPORT_NS_DMA_BUF();

/**
 * struct vb2x_mem_attach - one importer's view of a plane
 * @sgt: the plane's pages, built at attach
 * @dir: direction @sgt is DMA-mapped in for the importer's device, or
 *	%DMA_NONE before the first map. The mapping stays from the first map
 *	to detach, or to a map in another direction, which remaps.
 * @in_use: the importer holds @sgt's mapping (from map to unmap); a map
 *	meanwhile gets a table of its own
 * @need_sync: the importer's device needs cache maintenance or bounce
 *	buffers for @sgt (dma_need_sync() of an entry); when false the syncs
 *	of a kept mapping are skipped
 *
 * @dir, @in_use and @need_sync change in map and unmap, which the dma-buf
 * core calls under the reservation lock on 6.12 (on 6.1 only for dynamic
 * importers); the CPU access callbacks read them under that lock, so on
 * 6.1 a sync racing with a static importer's own map or unmap may skip or
 * add one sync of that importer's mapping.
 */
struct vb2x_mem_attach {
	struct sg_table			sgt;
	enum dma_data_direction		dir;
	bool				in_use;
	bool				need_sync;
};

static int vb2x_dmabuf_attach(struct dma_buf *dbuf,
			      struct dma_buf_attachment *attach)
{
	struct vb2x_mem *mem = dbuf->priv;
	struct vb2x_mem_attach *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	ret = mem->kind->get_sgtable(mem, &a->sgt,
				     dma_get_max_seg_size(attach->dev));
	if (ret) {
		kfree(a);
		return ret;
	}
	a->dir = DMA_NONE;
	attach->priv = a;
	return 0;
}

static void vb2x_dmabuf_detach(struct dma_buf *dbuf,
			       struct dma_buf_attachment *attach)
{
	struct vb2x_mem_attach *a = attach->priv;

	/* Not in use: the last unmap synced it for the CPU. */
	if (a->dir != DMA_NONE)
		dma_unmap_sgtable(attach->dev, &a->sgt, a->dir,
				  DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(&a->sgt);
	kfree(a);
}

static bool vb2x_sgt_need_sync(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i)
		if (dma_need_sync(dev, sg_dma_address(sg)))
			return true;
	return false;
}

/* A second map of an attachment whose kept mapping is in use. */
static struct sg_table *vb2x_dmabuf_map_extra(struct dma_buf_attachment *attach,
					      enum dma_data_direction dir)
{
	struct vb2x_mem *mem = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL_ACCOUNT);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = mem->kind->get_sgtable(mem, sgt,
				     dma_get_max_seg_size(attach->dev));
	if (ret)
		goto free;
	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		goto free_table;
	dma_sync_sgtable_for_device(attach->dev, sgt, dir);
	return sgt;

free_table:
	sg_free_table(sgt);
free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static struct sg_table *vb2x_dmabuf_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct vb2x_mem_attach *a = attach->priv;
	int ret;

	if (a->in_use)
		return vb2x_dmabuf_map_extra(attach, dir);
	if (a->dir != dir) {
		if (a->dir != DMA_NONE)
			dma_unmap_sgtable(attach->dev, &a->sgt, a->dir,
					  DMA_ATTR_SKIP_CPU_SYNC);
		a->dir = DMA_NONE;
		ret = dma_map_sgtable(attach->dev, &a->sgt, dir,
				      DMA_ATTR_SKIP_CPU_SYNC);
		if (ret)
			return ERR_PTR(ret);
		a->dir = dir;
		a->need_sync = vb2x_sgt_need_sync(attach->dev, &a->sgt);
	}
	if (a->need_sync)
		dma_sync_sgtable_for_device(attach->dev, &a->sgt, dir);
	a->in_use = true;
	return &a->sgt;
}

/*
 * The kept DMA mapping stays for the next map, only the ownership goes
 * back; the table of a second map goes with its unmap.
 */
static void vb2x_dmabuf_unmap(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct vb2x_mem_attach *a = attach->priv;

	if (sgt != &a->sgt) {
		dma_sync_sgtable_for_cpu(attach->dev, sgt, dir);
		dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
		sg_free_table(sgt);
		kfree(sgt);
		return;
	}
	if (WARN_ON_ONCE(!a->in_use))
		return;
	if (a->need_sync)
		dma_sync_sgtable_for_cpu(attach->dev, &a->sgt, a->dir);
	a->in_use = false;
}

/* Hand the memory to the CPU (@for_cpu) or back to the importers' devices. */
static void vb2x_dmabuf_sync(struct dma_buf *dbuf, bool for_cpu)
{
	struct vb2x_mem *mem = dbuf->priv;
	struct dma_buf_attachment *attach;
	struct vb2x_mem_attach *a;

	dma_resv_lock(dbuf->resv, NULL);
	list_for_each_entry(attach, &dbuf->attachments, node) {
		a = attach->priv;
		if (!a->in_use || !a->need_sync)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(attach->dev, &a->sgt, a->dir);
		else
			dma_sync_sgtable_for_device(attach->dev, &a->sgt,
						    a->dir);
	}
	dma_resv_unlock(dbuf->resv);
	if (mem->kind->sync_vaddr)
		mem->kind->sync_vaddr(mem, for_cpu);
}

static int vb2x_dmabuf_begin_cpu_access(struct dma_buf *dbuf,
					enum dma_data_direction dir)
{
	vb2x_dmabuf_sync(dbuf, true);
	return 0;
}

static int vb2x_dmabuf_end_cpu_access(struct dma_buf *dbuf,
				      enum dma_data_direction dir)
{
	vb2x_dmabuf_sync(dbuf, false);
	return 0;
}

/* The memory is always mapped into the kernel: vmap hands that out. */
static int vb2x_dmabuf_vmap(struct dma_buf *dbuf, struct iosys_map *map)
{
	struct vb2x_mem *mem = dbuf->priv;

	iosys_map_set_vaddr(map, mem->vaddr);
	return 0;
}

static void vb2x_dmabuf_vunmap(struct dma_buf *dbuf, struct iosys_map *map)
{
	iosys_map_clear(map);
}

/*
 * Map the pages by PFN, so the VMA is VM_PFNMAP and no page behind it can
 * be pinned through it. Only shared mappings (VM_MAYSHARE: the VFS clears
 * VM_SHARED on a shared mapping of a read-only file): a private one would
 * need copy-on-write of PFN-mapped memory. A dma-buf not open for writing
 * (an O_RDONLY export) is mapped read-only for good: the VFS checks that
 * for mmap() of the dma-buf itself, but an importer's dma_buf_mmap()
 * hands us a VMA of its own file.
 */
static int vb2x_dmabuf_mmap(struct dma_buf *dbuf, struct vm_area_struct *vma)
{
	struct vb2x_mem *mem = dbuf->priv;
	unsigned long n_pages = mem->size >> PAGE_SHIFT;
	unsigned long first = vma->vm_pgoff;
	unsigned long count = vma_pages(vma);
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		pr_debug("vb2x: dma-buf mmap must be shared\n");
		return -EINVAL;
	}
	if (first > n_pages || count > n_pages - first) {
		pr_debug("vb2x: dma-buf mmap past the end of the buffer\n");
		return -EINVAL;
	}
	if (!(dbuf->file->f_mode & FMODE_WRITE)) {
		if (vma->vm_flags & VM_WRITE) {
			pr_debug("vb2x: writable mmap of a read-only dma-buf\n");
			return -EACCES;
		}
		vb2x_vma_clear_flags(vma, VM_MAYWRITE);
	}
	ret = mem->kind->remap_pfn(mem, vma);
	if (ret)
		return ret;
	vb2x_mem_vma_attach(vma, mem);
	return 0;
}

static void vb2x_dmabuf_release(struct dma_buf *dbuf)
{
	vb2x_mem_put(dbuf->priv);
}

static const struct dma_buf_ops vb2x_mem_dmabuf_ops = {
	.attach = vb2x_dmabuf_attach,
	.detach = vb2x_dmabuf_detach,
	.map_dma_buf = vb2x_dmabuf_map,
	.unmap_dma_buf = vb2x_dmabuf_unmap,
	.begin_cpu_access = vb2x_dmabuf_begin_cpu_access,
	.end_cpu_access = vb2x_dmabuf_end_cpu_access,
	.vmap = vb2x_dmabuf_vmap,
	.vunmap = vb2x_dmabuf_vunmap,
	.mmap = vb2x_dmabuf_mmap,
	.release = vb2x_dmabuf_release,
};

/**
 * vb2x_mem_get_dmabuf() - &vb2x_mem_ops.get_dmabuf: export MMAP memory as
 *	a new dma-buf
 * @buf_priv: the &struct vb2x_mem returned by the allocator
 * @flags: access mode of the dma-buf's file (O_RDONLY, O_WRONLY, O_RDWR)
 *
 * The dma-buf uses the plane's reservation object, holds a reference to
 * the memory until its release, and pins this module (exp_info.owner).
 *
 * Return: the dma-buf or an ERR_PTR().
 */
struct dma_buf *vb2x_mem_get_dmabuf(void *buf_priv, unsigned long flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct vb2x_mem *mem = buf_priv;
	struct dma_buf *dbuf;

	exp_info.ops = &vb2x_mem_dmabuf_ops;
	exp_info.size = mem->size;
	exp_info.flags = flags;
	exp_info.priv = mem;
	exp_info.resv = &mem->resv;

	vb2x_mem_get(mem);
	dbuf = dma_buf_export(&exp_info);
	if (IS_ERR(dbuf))
		vb2x_mem_put(mem);
	return dbuf;
}
