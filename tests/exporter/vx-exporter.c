// SPDX-License-Identifier: GPL-2.0
/*
 * vx-exporter: a test-only module that plays a hostile dma-buf exporter
 * and an in-kernel importer against vivid-expbuf, so that the importer and
 * exporter fixes only reachable from inside the kernel have a test
 * (tests/test-exporters.c). Load it only in a throw-away test guest.
 *
 * /dev/vx-exporter takes the ioctls of vx-exporter.h:
 *
 *   VX_EXP_IOC_CREATE     a dma-buf of vmalloc memory whose begin of CPU
 *                         access may wait until a signal, and whose vmap
 *                         hands out the memory, marks it I/O memory, or
 *                         needs the reservation lock (on 6.1 it takes
 *                         the lock itself, as TTM and the VRAM helpers do)
 *   VX_EXP_IOC_STATS      how often vmap and vunmap were called, how many
 *                         dma-bufs were made and released
 *   VX_EXP_IOC_MAP_TWICE  attach to a dma-buf with a device of our own, map
 *                         the attachment twice, unmap both, detach
 *   VX_EXP_IOC_SET_MMAP   the dma-buf that mmap() of this open file maps
 *                         with dma_buf_mmap(), as a DRM GEM mmap of an
 *                         imported object does
 */

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <media/vb2x-compat.h>

#include "vx-exporter.h"

#define VX_EXP_NAME		"vx-exporter"
/* the largest dma-buf VX_EXP_IOC_CREATE makes */
#define VX_EXP_MAX_SIZE		(64UL << 20)

VB2X_IMPORT_NS_DMA_BUF();

/**
 * struct vx_exp - the module's state
 * @pdev: a platform device of our own, the importer of VX_EXP_IOC_MAP_TWICE
 * @misc: /dev/vx-exporter
 * @vmaps: calls of vx_exp_vmap()
 * @vunmaps: calls of vx_exp_vunmap()
 * @exported: dma-bufs made
 * @released: dma-bufs released
 * @cpu_stalls: waits begun in vx_exp_begin_cpu()
 * @cpu_stalls_ended: waits of vx_exp_begin_cpu() that returned
 */
struct vx_exp {
	struct platform_device *pdev;
	struct miscdevice misc;
	atomic64_t vmaps;
	atomic64_t vunmaps;
	atomic64_t exported;
	atomic64_t released;
	atomic64_t cpu_stalls;
	atomic64_t cpu_stalls_ended;
};

static struct vx_exp vx_exp;

/**
 * struct vx_exp_buf - the memory behind one of our dma-bufs
 * @vaddr: vmalloc memory of @n_pages pages
 * @pages: the pages of @vaddr
 * @n_pages: number of pages
 * @mode: how vmap and CPU access behave, a VX_EXP_VMAP_* value or
 *	VX_EXP_CPU_STALL
 */
struct vx_exp_buf {
	void *vaddr;
	struct page **pages;
	unsigned int n_pages;
	u32 mode;
};

/**
 * struct vx_exp_file - one open file of /dev/vx-exporter
 * @lock: serializes VX_EXP_IOC_SET_MMAP and mmap()
 * @mmap_dbuf: the dma-buf mmap() maps (we hold a reference), or NULL
 */
struct vx_exp_file {
	struct mutex lock;	/* mmap_dbuf */
	struct dma_buf *mmap_dbuf;
};

static struct sg_table *vx_exp_map(struct dma_buf_attachment *attach,
				   enum dma_data_direction dir)
{
	struct vx_exp_buf *buf = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, buf->pages, buf->n_pages, 0,
					(size_t)buf->n_pages << PAGE_SHIFT,
					GFP_KERNEL);
	if (ret)
		goto free;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto free_table;
	return sgt;

free_table:
	sg_free_table(sgt);
free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void vx_exp_unmap(struct dma_buf_attachment *attach,
			 struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static int vx_exp_vmap(struct dma_buf *dbuf, struct iosys_map *map)
{
	struct vx_exp_buf *buf = dbuf->priv;

	atomic64_inc(&vx_exp.vmaps);
	switch (buf->mode) {
	case VX_EXP_VMAP_IOMEM:
		/* never dereferenced: an importer must refuse it */
		iosys_map_set_vaddr_iomem(map, (void __iomem __force *)buf->vaddr);
		return 0;
	case VX_EXP_VMAP_RESV:
		/*
		 * Like the 6.1 TTM and VRAM helpers: the vmap takes the
		 * reservation lock, so an importer holding it deadlocks. From
		 * 6.2 on the dma-buf core holds it for us.
		 */
		if (vb2x_dma_buf_vmap_holds_resv()) {
			dma_resv_assert_held(dbuf->resv);
		} else {
			dma_resv_lock(dbuf->resv, NULL);
			dma_resv_unlock(dbuf->resv);
		}
		break;
	default:
		break;
	}
	iosys_map_set_vaddr(map, buf->vaddr);
	return 0;
}

static void vx_exp_vunmap(struct dma_buf *dbuf, struct iosys_map *map)
{
	atomic64_inc(&vx_exp.vunmaps);
}

static void vx_exp_release(struct dma_buf *dbuf)
{
	struct vx_exp_buf *buf = dbuf->priv;

	vfree(buf->vaddr);
	kfree(buf->pages);
	kfree(buf);
	atomic64_inc(&vx_exp.released);
}

/* Nothing ever wakes it: only a signal ends a wait on it. */
static DECLARE_WAIT_QUEUE_HEAD(vx_exp_never);

/*
 * CPU_STALL plays an exporter whose implicit wait finds a fence that was
 * added after the importer saw them all signalled, and that never
 * signals: the wait is interruptible, and only a signal ends it.
 */
static int vx_exp_begin_cpu(struct dma_buf *dbuf, enum dma_data_direction dir)
{
	struct vx_exp_buf *buf = dbuf->priv;
	int ret;

	if (buf->mode != VX_EXP_CPU_STALL)
		return 0;
	atomic64_inc(&vx_exp.cpu_stalls);
	ret = wait_event_interruptible(vx_exp_never, false);
	atomic64_inc(&vx_exp.cpu_stalls_ended);
	return ret;
}

static const struct dma_buf_ops vx_exp_dmabuf_ops = {
	.begin_cpu_access = vx_exp_begin_cpu,
	.map_dma_buf = vx_exp_map,
	.unmap_dma_buf = vx_exp_unmap,
	.vmap = vx_exp_vmap,
	.vunmap = vx_exp_vunmap,
	.release = vx_exp_release,
};

static int vx_exp_create(struct vx_exp_create __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct vx_exp_create arg;
	struct vx_exp_buf *buf;
	struct dma_buf *dbuf;
	unsigned int i;
	int ret = -ENOMEM;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.size || arg.size > VX_EXP_MAX_SIZE ||
	    arg.mode >= VX_EXP_VMAP_MODES || arg.pad)
		return -EINVAL;
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->mode = arg.mode;
	buf->n_pages = PAGE_ALIGN(arg.size) >> PAGE_SHIFT;
	buf->vaddr = vzalloc((size_t)buf->n_pages << PAGE_SHIFT);
	buf->pages = kcalloc(buf->n_pages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->vaddr || !buf->pages)
		goto free;
	for (i = 0; i < buf->n_pages; i++)
		buf->pages[i] = vmalloc_to_page(buf->vaddr +
						((size_t)i << PAGE_SHIFT));

	info.exp_name = VX_EXP_NAME;
	info.ops = &vx_exp_dmabuf_ops;
	info.size = (size_t)buf->n_pages << PAGE_SHIFT;
	info.flags = O_RDWR;
	info.priv = buf;
	dbuf = dma_buf_export(&info);
	if (IS_ERR(dbuf)) {
		ret = PTR_ERR(dbuf);
		goto free;
	}
	/* from here on the release callback frees @buf */
	atomic64_inc(&vx_exp.exported);
	arg.fd = dma_buf_fd(dbuf, O_CLOEXEC);
	if (arg.fd < 0) {
		ret = arg.fd;
		dma_buf_put(dbuf);
		return ret;
	}
	if (put_user(arg.fd, &uarg->fd)) {
		/* the fd is installed: userspace owns it now */
		return -EFAULT;
	}
	return 0;

free:
	vfree(buf->vaddr);
	kfree(buf->pages);
	kfree(buf);
	return ret;
}

/* The DMA length of @sgt covers @size bytes. */
static bool vx_exp_sgt_covers(struct sg_table *sgt, size_t size)
{
	struct scatterlist *sg;
	size_t len = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!sg_dma_len(sg))
			return false;
		len += sg_dma_len(sg);
	}
	return sgt->nents && len >= size;
}

static int vx_exp_map_twice(int fd)
{
	struct dma_buf_attachment *attach;
	struct sg_table *first, *second;
	struct dma_buf *dbuf;
	int ret = 0;

	dbuf = dma_buf_get(fd);
	if (IS_ERR(dbuf))
		return PTR_ERR(dbuf);
	attach = dma_buf_attach(dbuf, &vx_exp.pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto put;
	}
	first = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(first)) {
		ret = PTR_ERR(first);
		pr_info(VX_EXP_NAME ": first map of %s: %d\n", dbuf->exp_name,
			ret);
		goto detach;
	}
	second = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(second)) {
		ret = PTR_ERR(second);
		pr_info(VX_EXP_NAME ": second map of %s: %d\n", dbuf->exp_name,
			ret);
		goto unmap;
	}
	if (!vx_exp_sgt_covers(first, dbuf->size) ||
	    !vx_exp_sgt_covers(second, dbuf->size)) {
		pr_info(VX_EXP_NAME ": %s: a mapping does not cover the dma-buf\n",
			dbuf->exp_name);
		ret = -EFAULT;
	}
	dma_buf_unmap_attachment_unlocked(attach, second, DMA_BIDIRECTIONAL);
unmap:
	dma_buf_unmap_attachment_unlocked(attach, first, DMA_BIDIRECTIONAL);
detach:
	dma_buf_detach(dbuf, attach);
put:
	dma_buf_put(dbuf);
	return ret;
}

static int vx_exp_set_mmap(struct vx_exp_file *f, int fd)
{
	struct dma_buf *dbuf = NULL;

	if (fd >= 0) {
		dbuf = dma_buf_get(fd);
		if (IS_ERR(dbuf))
			return PTR_ERR(dbuf);
	}
	mutex_lock(&f->lock);
	swap(f->mmap_dbuf, dbuf);
	mutex_unlock(&f->lock);
	if (dbuf)
		dma_buf_put(dbuf);
	return 0;
}

static long vx_exp_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct vx_exp_stats stats;
	int fd;

	switch (cmd) {
	case VX_EXP_IOC_CREATE:
		return vx_exp_create(uarg);
	case VX_EXP_IOC_STATS:
		memset(&stats, 0, sizeof(stats));
		stats.vmaps = atomic64_read(&vx_exp.vmaps);
		stats.vunmaps = atomic64_read(&vx_exp.vunmaps);
		stats.exported = atomic64_read(&vx_exp.exported);
		stats.released = atomic64_read(&vx_exp.released);
		stats.cpu_stalls = atomic64_read(&vx_exp.cpu_stalls);
		stats.cpu_stalls_ended = atomic64_read(&vx_exp.cpu_stalls_ended);
		return copy_to_user(uarg, &stats, sizeof(stats)) ? -EFAULT : 0;
	case VX_EXP_IOC_MAP_TWICE:
		if (get_user(fd, (int __user *)uarg))
			return -EFAULT;
		return vx_exp_map_twice(fd);
	case VX_EXP_IOC_SET_MMAP:
		if (get_user(fd, (int __user *)uarg))
			return -EFAULT;
		return vx_exp_set_mmap(file->private_data, fd);
	default:
		return -ENOTTY;
	}
}

/* The VMA becomes one of the dma-buf's file, mapped by its exporter. */
static int vx_exp_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vx_exp_file *f = file->private_data;
	int ret = -ENODEV;

	mutex_lock(&f->lock);
	if (f->mmap_dbuf)
		ret = dma_buf_mmap(f->mmap_dbuf, vma, 0);
	mutex_unlock(&f->lock);
	return ret;
}

static int vx_exp_open(struct inode *inode, struct file *file)
{
	struct vx_exp_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int vx_exp_file_release(struct inode *inode, struct file *file)
{
	struct vx_exp_file *f = file->private_data;

	if (f->mmap_dbuf)
		dma_buf_put(f->mmap_dbuf);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations vx_exp_fops = {
	.owner = THIS_MODULE,
	.open = vx_exp_open,
	.release = vx_exp_file_release,
	.unlocked_ioctl = vx_exp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vx_exp_mmap,
};

static int __init vx_exp_init(void)
{
	struct platform_device_info info = {
		.name = VX_EXP_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	vx_exp.pdev = platform_device_register_full(&info);
	if (IS_ERR(vx_exp.pdev))
		return PTR_ERR(vx_exp.pdev);
	vx_exp.misc.minor = MISC_DYNAMIC_MINOR;
	vx_exp.misc.name = VX_EXP_NAME;
	vx_exp.misc.fops = &vx_exp_fops;
	ret = misc_register(&vx_exp.misc);
	if (ret) {
		platform_device_unregister(vx_exp.pdev);
		return ret;
	}
	pr_info(VX_EXP_NAME ": loaded\n");
	return 0;
}

static void __exit vx_exp_exit(void)
{
	misc_deregister(&vx_exp.misc);
	platform_device_unregister(vx_exp.pdev);
}

module_init(vx_exp_init);
module_exit(vx_exp_exit);

MODULE_DESCRIPTION("Test only: a hostile dma-buf exporter and in-kernel importer for vivid-expbuf");
MODULE_LICENSE("GPL");
