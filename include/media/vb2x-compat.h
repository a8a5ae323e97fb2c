/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-compat.h - the differences between the kernel lines vivid-expbuf
 * builds for (6.1 and 6.12), in one place
 *
 * Every version conditional of the tree lives here; the code calls the
 * helpers below and never tests versions itself.
 */
#ifndef _MEDIA_VB2X_COMPAT_H
#define _MEDIA_VB2X_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/version.h>

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
