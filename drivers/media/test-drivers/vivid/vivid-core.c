// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, instances and their life cycle
 *
 * Each instance is a platform device "vivid-expbuf" whose id is the
 * instance number; probing it creates the V4L2 device, the controls and
 * the video nodes asked for in node_types. The instance's memory is freed
 * by the V4L2 device's release, once the platform device is gone and the
 * last file handle of its nodes is closed. One memory budget bounds the
 * buffer memory of all instances together.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <media/vb2x-budget.h>
#include <media/vb2x-compat.h>
#include <media/vb2x-dma-contig.h>
#include <media/vb2x-vmalloc.h>

#include "vivid-core.h"

static unsigned int n_devs = 1;
module_param(n_devs, uint, 0444);
MODULE_PARM_DESC(n_devs, " number of instances to create (1-8), default 1");

static unsigned int node_types[VIVID_MAX_DEVS] = {
	[0 ... VIVID_MAX_DEVS - 1] = VIVID_NODE_VID_CAP
};
module_param_array(node_types, uint, NULL, 0444);
MODULE_PARM_DESC(node_types,
		 " nodes of each instance, default 0x1: bit 0 = video capture, bit 8 = video output; other bits are ignored");

static unsigned int multiplanar[VIVID_MAX_DEVS] = {
	[0 ... VIVID_MAX_DEVS - 1] = 1
};
module_param_array(multiplanar, uint, NULL, 0444);
MODULE_PARM_DESC(multiplanar,
		 " API of each instance, default 1: 1 = single-planar, 2 = multi-planar");

static unsigned int allocators[VIVID_MAX_DEVS];
module_param_array(allocators, uint, NULL, 0444);
MODULE_PARM_DESC(allocators,
		 " buffer memory of each instance, default 0: 0 = vmalloc, 1 = dma-contig (physically contiguous, no USERPTR)");

static unsigned int mem_limit_mb;
module_param(mem_limit_mb, uint, 0644);
MODULE_PARM_DESC(mem_limit_mb,
		 " limit in MiB on the buffer memory of all instances together still alive, orphaned buffers included; 0 (default) = a quarter of RAM");

/*
 * The budget of every instance's queues, from module init to exit: the
 * module outlives every charge, since open files and dma-bufs of ours pin
 * it.
 */
static struct vb2x_budget *vivid_budget;

/* The budget limit in bytes, read at each buffer allocation. */
static unsigned long vivid_mem_limit(void)
{
	unsigned int mb = READ_ONCE(mem_limit_mb);

	if (!mb)
		return (totalram_pages() / 4) << PAGE_SHIFT;
	return (unsigned long)mb << 20;
}

/*
 * mem_used: the bytes charged to the budget now, for tests that check that
 * nothing stays charged once every buffer, mapping and dma-buf is gone.
 */
static int vivid_mem_used_get(char *buf, const struct kernel_param *kp)
{
	struct vb2x_budget *budget = READ_ONCE(vivid_budget);

	return sysfs_emit(buf, "%ld\n",
			  budget ? atomic_long_read(&budget->used) : 0L);
}

static const struct kernel_param_ops vivid_mem_used_ops = {
	.get = vivid_mem_used_get,
};

module_param_cb(mem_used, &vivid_mem_used_ops, NULL, 0444);
MODULE_PARM_DESC(mem_used,
		 " read-only: bytes of buffer memory charged to mem_limit_mb now, orphaned buffers included");

static struct platform_device *vivid_pdevs[VIVID_MAX_DEVS];

/*
 * Pick the instance's allocator. The platform device is virtual and
 * reaches all memory: a 64-bit mask lets dma-contig memory, and dma-bufs
 * imported by either allocator, come from anywhere without bounce buffers;
 * and it has no limit on the length of a DMA segment, so the scatter
 * lists of exporters that hand out large segments (the system heap's
 * high-order pages) map as they are instead of past the platform
 * default of 64 KiB.
 */
static int vivid_set_allocator(struct vivid_dev *dev, struct device *pdev_dev)
{
	int ret;

	switch (allocators[dev->inst]) {
	case 0:
		dev->mem_ops = &vb2x_vmalloc_memops;
		dev->io_modes = VB2X_MMAP | VB2X_USERPTR | VB2X_DMABUF;
		break;
	case 1:
		dev->mem_ops = &vb2x_dma_contig_memops;
		dev->io_modes = VB2X_MMAP | VB2X_DMABUF;
		break;
	default:
		dev_err(pdev_dev, "allocators[%u] must be 0 or 1, not %u\n",
			dev->inst, allocators[dev->inst]);
		return -EINVAL;
	}
	ret = dma_coerce_mask_and_coherent(pdev_dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(pdev_dev, "no 64-bit DMA mask: %d\n", ret);
		return ret;
	}
	/* Platform devices have dma_parms: this cannot fail. */
	dma_set_max_seg_size(pdev_dev, UINT_MAX);
	return 0;
}

static void vivid_dev_release(struct v4l2_device *v4l2_dev)
{
	struct vivid_dev *dev = container_of(v4l2_dev, struct vivid_dev,
					     v4l2_dev);

	vivid_node_free(dev->cap);
	vivid_node_free(dev->out);
	mutex_destroy(&dev->loop.lock);
	v4l2_ctrl_handler_free(&dev->ctrl_handler);
	put_device(dev->pdev_dev);
	kfree(dev);
}

static int vivid_probe(struct platform_device *pdev)
{
	unsigned int inst = pdev->id;
	struct vivid_dev *dev;
	int ret;

	if (pdev->id < 0 || inst >= VIVID_MAX_DEVS) {
		dev_dbg(&pdev->dev, "instance number %d out of range\n",
			pdev->id);
		return -EINVAL;
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->inst = inst;
	ret = vivid_set_allocator(dev, &pdev->dev);
	if (ret) {
		kfree(dev);
		return ret;
	}
	mutex_init(&dev->loop.lock);
	dev->budget = vivid_budget;
	dev->pdev_dev = get_device(&pdev->dev);
	snprintf(dev->v4l2_dev.name, sizeof(dev->v4l2_dev.name), "%s-%u",
		 VIVID_DRV_NAME, inst);
	dev->v4l2_dev.release = vivid_dev_release;
	platform_set_drvdata(pdev, dev);

	ret = v4l2_device_register(&pdev->dev, &dev->v4l2_dev);
	if (ret) {
		put_device(dev->pdev_dev);
		mutex_destroy(&dev->loop.lock);
		kfree(dev);
		return ret;
	}

	ret = vivid_ctrls_init(dev);
	if (ret)
		goto put_dev;
	if (node_types[inst] & VIVID_NODE_VID_CAP) {
		ret = vivid_node_create(dev, &vivid_cap_dir,
					multiplanar[inst] == 2, &dev->cap);
		if (ret)
			goto put_dev;
	}
	if (node_types[inst] & VIVID_NODE_VID_OUT) {
		ret = vivid_node_create(dev, &vivid_out_dir,
					multiplanar[inst] == 2, &dev->out);
		if (ret)
			goto unregister_cap;
	}
	return 0;

unregister_cap:
	vivid_node_unregister(dev->cap);

put_dev:
	v4l2_device_unregister(&dev->v4l2_dev);
	v4l2_device_put(&dev->v4l2_dev);
	return ret;
}

static void vivid_remove(struct platform_device *pdev)
{
	struct vivid_dev *dev = platform_get_drvdata(pdev);

	vivid_node_unregister(dev->cap);
	vivid_node_unregister(dev->out);
	v4l2_device_unregister(&dev->v4l2_dev);
	v4l2_device_put(&dev->v4l2_dev);
}

static struct platform_driver vivid_pdrv = {
	.probe		= vivid_probe,
	VB2X_PLATFORM_REMOVE(vivid_remove),
	.driver		= {
		.name	= VIVID_DRV_NAME,
	},
};

static void vivid_unregister_pdevs(unsigned int count)
{
	while (count--) {
		platform_device_unregister(vivid_pdevs[count]);
		vivid_pdevs[count] = NULL;
	}
}

static int __init vivid_init(void)
{
	struct platform_device *pdev;
	unsigned int i;
	int ret;

	if (!n_devs || n_devs > VIVID_MAX_DEVS) {
		pr_err("n_devs must be 1 to %u, not %u\n", VIVID_MAX_DEVS,
		       n_devs);
		return -EINVAL;
	}

	vivid_budget = vb2x_budget_create(vivid_mem_limit);
	if (!vivid_budget)
		return -ENOMEM;
	ret = platform_driver_register(&vivid_pdrv);
	if (ret)
		goto put_budget;
	for (i = 0; i < n_devs; i++) {
		pdev = platform_device_register_simple(VIVID_DRV_NAME, i,
						       NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			vivid_unregister_pdevs(i);
			platform_driver_unregister(&vivid_pdrv);
			goto put_budget;
		}
		vivid_pdevs[i] = pdev;
	}
	return 0;

put_budget:
	vb2x_budget_put(vivid_budget);
	return ret;
}

static void __exit vivid_exit(void)
{
	vivid_unregister_pdevs(n_devs);
	platform_driver_unregister(&vivid_pdrv);
	vb2x_budget_put(vivid_budget);
	vb2x_fence_exit();
}

module_init(vivid_init);
module_exit(vivid_exit);

MODULE_DESCRIPTION("vivid-expbuf: virtual video capture and output driver on the vb2x videobuf2");
MODULE_AUTHOR("vivid-expbuf developers");
MODULE_LICENSE("GPL");
