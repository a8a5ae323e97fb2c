/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-compat.h - the differences between the kernel lines vivid-expbuf
 * builds for (6.1, 6.12 and 7.2), in one place
 *
 * Every version conditional of the tree lives here; the code calls the
 * helpers below and never tests versions itself. The gates are upstream
 * versions: the code uses no symbol that a distribution backported into
 * one line only.
 */
#ifndef _MEDIA_VB2X_COMPAT_H
#define _MEDIA_VB2X_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/timer.h>
#include <linux/version.h>
#include <media/v4l2-fh.h>

/*
 * The DMA_BUF symbol namespace: from 6.13 on MODULE_IMPORT_NS() takes a
 * string literal (a bare name no longer builds), before it a bare name (a
 * literal then names a namespace modpost does not know).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define VB2X_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define VB2X_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/*
 * The member of &struct platform_driver that takes a remove callback
 * returning void: .remove from 6.11 on (.remove_new, its old name, is gone
 * in 6.13), .remove_new before (.remove returned int).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define VB2X_PLATFORM_REMOVE(fn)	.remove = (fn)
#else
#define VB2X_PLATFORM_REMOVE(fn)	.remove_new = (fn)
#endif

/*
 * From 6.18 on v4l2_fh_add() and v4l2_fh_del() take the file too, and
 * v4l2_fh_add() points file->private_data at the handle; before, the
 * caller sets file->private_data. Either way it is the handle afterwards,
 * and the ioctls find their handle there (from 6.18 on their priv
 * argument is always NULL).
 */
static inline void vb2x_v4l2_fh_add(struct v4l2_fh *fh, struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	v4l2_fh_add(fh, file);
#else
	file->private_data = fh;
	v4l2_fh_add(fh);
#endif
}

static inline void vb2x_v4l2_fh_del(struct v4l2_fh *fh, struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	v4l2_fh_del(fh, file);
#else
	v4l2_fh_del(fh);
#endif
}

/*
 * From 6.2 on dma_buf_vmap() wants the reservation lock held by the
 * caller, and the _unlocked variants take it. On 6.1 dma_buf_vmap()
 * serializes on the dma-buf's own mutex, and the vmap of several exporters
 * (TTM, i915, qxl, the VRAM helpers) takes the reservation lock itself:
 * the caller must not hold it.
 */
static inline int vb2x_dma_buf_vmap(struct dma_buf *dbuf,
				    struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_vmap_unlocked(dbuf, map);
#else
	return dma_buf_vmap(dbuf, map);
#endif
}

static inline void vb2x_dma_buf_vunmap(struct dma_buf *dbuf,
				       struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(dbuf, map);
#else
	dma_buf_vunmap(dbuf, map);
#endif
}

/*
 * Whether the dma-buf core calls an exporter's vmap with the reservation
 * lock held (6.2 on). Before, an exporter whose vmap needs the lock takes
 * it itself, as the test-only tests/exporter/vx-exporter.c does.
 */
static inline bool vb2x_dma_buf_vmap_holds_resv(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return true;
#else
	return false;
#endif
}

/* 6.16 renamed destroy_timer_on_stack() to timer_destroy_on_stack(). */
static inline void vb2x_timer_destroy_on_stack(struct timer_list *timer)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
	timer_destroy_on_stack(timer);
#else
	destroy_timer_on_stack(timer);
#endif
}

/* From 6.3 on vm_flags is written through helpers only. */
static inline void vb2x_vma_clear_flags(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

#endif /* _MEDIA_VB2X_COMPAT_H */
