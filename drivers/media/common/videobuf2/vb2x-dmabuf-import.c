// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-dmabuf-import.c - DMABUF planes: memory imported from a dma-buf
 *
 * Import works the same for every allocator, so it lives here and not
 * behind &struct vb2x_mem_ops. A DMABUF plane's &vb2x_plane.mem_priv is a
 * &struct vb2x_import, which holds one dma-buf reference (dma_buf_get())
 * and one attachment to &vb2x_queue.dev from the QBUF or PREPARE_BUF that
 * brought the dma-buf until another dma-buf replaces it at the same
 * plane or the buffer is freed. While the buffer is prepared, queued or
 * with the driver, the attachment is also mapped and the dma-buf vmapped
 * for the driver's CPU access (vb2x_plane_vaddr()); the mapping is taken
 * at prepare time and dropped at DQBUF, STREAMOFF or when the buffers
 * are freed. All of this runs with &vb2x_queue.lock held.
 *
 * The exporter's begin CPU access, which also waits for the dma-buf's
 * fences, is called only once vb2x_buffer_begin_access() found those
 * fences signalled (from the driver's thread, without &vb2x_queue.lock,
 * while the driver holds the buffer), and its wait for a fence added in
 * between is cut short by SIGKILL when the bound runs out; its end comes
 * with the unmapping.
 *
 * The device is the CPU, through the kernel mapping, so the attachment is
 * mapped for both directions: an exporter syncs its attachments in the
 * direction of the CPU access (the driver writes capture buffers and
 * reads output buffers), which the DMA API accepts only for a
 * bidirectional mapping.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <media/vb2x-compat.h>
#include <media/vb2x-core.h>

#include "vb2x-internal.h"

VB2X_IMPORT_NS_DMA_BUF();

/**
 * struct vb2x_import - a dma-buf imported into one plane
 * @dbuf: the dma-buf; this struct holds one reference to it
 * @attach: attachment of @dbuf to &vb2x_queue.dev, owned by this struct
 * @sgt: the attachment's mapping, NULL while unmapped
 * @map: kernel mapping of @dbuf, valid while @sgt is set
 * @write: the device writes (capture), else it reads (output)
 * @cpu: dma_buf_begin_cpu_access() was called and the end is due at
 *	unmapping
 *
 * All fields are protected by &vb2x_queue.lock, except that the driver's
 * thread sets @cpu while it holds the buffer, when nothing else touches
 * it.
 */
struct vb2x_import {
	struct dma_buf			*dbuf;
	struct dma_buf_attachment	*attach;
	struct sg_table			*sgt;
	struct iosys_map		map;
	bool				write;
	bool				cpu;
};

/* CPU access as the driver does it: it writes capture, reads output. */
static enum dma_data_direction vb2x_cpu_dir(const struct vb2x_import *imp)
{
	return imp->write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

static void vb2x_import_unmap(struct vb2x_import *imp)
{
	if (!imp->sgt)
		return;
	if (imp->cpu)
		dma_buf_end_cpu_access(imp->dbuf, vb2x_cpu_dir(imp));
	imp->cpu = false;
	vb2x_dma_buf_vunmap(imp->dbuf, &imp->map);
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	imp->sgt = NULL;
}

static int vb2x_import_map(struct vb2x_queue *q, struct vb2x_import *imp)
{
	struct sg_table *sgt;
	int ret;

	if (imp->sgt)
		return 0;
	sgt = dma_buf_map_attachment_unlocked(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		vb2x_dbg(q, "cannot map dma-buf: %ld\n", PTR_ERR(sgt));
		return PTR_ERR(sgt);
	}
	if (!imp->dbuf->ops->vmap) {
		vb2x_dbg(q, "exporter %s gives no kernel mapping (no vmap): cannot use its dma-bufs\n",
			 imp->dbuf->exp_name);
		ret = -EOPNOTSUPP;
		goto unmap;
	}
	ret = vb2x_dma_buf_vmap(imp->dbuf, &imp->map);
	if (ret) {
		vb2x_dbg(q, "exporter %s refused a kernel mapping: %d\n",
			 imp->dbuf->exp_name, ret);
		goto unmap;
	}
	if (imp->map.is_iomem || !imp->map.vaddr) {
		vb2x_dbg(q, "exporter %s gave an I/O or empty kernel mapping\n",
			 imp->dbuf->exp_name);
		vb2x_dma_buf_vunmap(imp->dbuf, &imp->map);
		ret = -EOPNOTSUPP;
		goto unmap;
	}
	imp->sgt = sgt;
	return 0;

unmap:
	dma_buf_unmap_attachment_unlocked(imp->attach, sgt, DMA_BIDIRECTIONAL);
	return ret;
}

/**
 * vb2x_import_release() - unmap, detach and drop an imported dma-buf
 * @priv: the &struct vb2x_import of a DMABUF plane
 */
void vb2x_import_release(void *priv)
{
	struct vb2x_import *imp = priv;

	vb2x_import_unmap(imp);
	dma_buf_detach(imp->dbuf, imp->attach);
	dma_buf_put(imp->dbuf);
	kfree(imp);
}

/**
 * vb2x_import_vaddr() - kernel address of a mapped DMABUF plane
 * @priv: the &struct vb2x_import of the plane
 *
 * Return: the address, or NULL while the plane is not mapped.
 */
void *vb2x_import_vaddr(void *priv)
{
	struct vb2x_import *imp = priv;

	return imp->sgt ? imp->map.vaddr : NULL;
}

/**
 * struct vb2x_cpu_watchdog - bound on the exporter's wait in begin CPU access
 * @timer: fires when the bound runs out
 * @task: the waiting driver thread, sent SIGKILL by @timer
 */
struct vb2x_cpu_watchdog {
	struct timer_list	timer;
	struct task_struct	*task;
};

static void vb2x_cpu_watchdog_fire(struct timer_list *t)
{
	struct vb2x_cpu_watchdog *w = container_of(t, struct vb2x_cpu_watchdog,
						   timer);

	send_sig(SIGKILL, w->task, 1);
}

/**
 * vb2x_import_begin_cpu() - begin the driver's CPU access to a mapped plane
 * @priv: the &struct vb2x_import of the plane
 * @timeout_ns: how long the exporter may wait for fences added since the
 *	caller found them all signalled
 *
 * Called by vb2x_buffer_begin_access() from the driver's kernel thread,
 * which allows SIGKILL, once the dma-buf's fences have signalled, so that
 * the exporter's implicit wait normally does not block. A fence added in
 * between is waited for at most @timeout_ns: then the thread is sent
 * SIGKILL, which ends the (interruptible) wait; the signal is flushed
 * again before returning. The driver's stop sends SIGKILL too.
 *
 * Return: 0, -ETIMEDOUT when the wait was cut short, -EINTR when the
 * driver stopped meanwhile, or the exporter's error.
 */
int vb2x_import_begin_cpu(void *priv, u64 timeout_ns)
{
	struct vb2x_import *imp = priv;
	struct vb2x_cpu_watchdog w = { .task = current };
	bool fired;
	int ret;

	if (signal_pending(current))
		return -EINTR;
	timer_setup_on_stack(&w.timer, vb2x_cpu_watchdog_fire, 0);
	mod_timer(&w.timer, jiffies + nsecs_to_jiffies(timeout_ns) + 1);
	ret = dma_buf_begin_cpu_access(imp->dbuf, vb2x_cpu_dir(imp));
	fired = !timer_delete_sync(&w.timer) && signal_pending(current);
	vb2x_timer_destroy_on_stack(&w.timer);
	if (ret) {
		if (fired) {
			flush_signals(current);
			return -ETIMEDOUT;
		}
		return signal_pending(current) ? -EINTR : ret;
	}
	if (fired)
		flush_signals(current);
	imp->cpu = true;
	return 0;
}

/**
 * vb2x_import_resv() - the reservation object of an imported dma-buf
 * @priv: the &struct vb2x_import of a DMABUF plane
 *
 * Return: the dma-buf's reservation object, valid while the plane holds
 * the import.
 */
struct dma_resv *vb2x_import_resv(void *priv)
{
	struct vb2x_import *imp = priv;

	return imp->dbuf->resv;
}

/*
 * Take a reference to the dma-buf behind @info->fd and check it fits the
 * plane. The plane's length is @info->length, or the dma-buf's size when
 * userspace passes 0; it must lie between the plane's minimum and the
 * dma-buf's size.
 */
static struct dma_buf *vb2x_import_get(struct vb2x_buffer *vb,
				       unsigned int plane,
				       const struct vb2x_plane_info *info,
				       unsigned int *length)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	fmode_t need = q->is_output ? FMODE_READ : FMODE_WRITE;
	unsigned int bytesused;
	struct dma_buf *dbuf;
	int ret = -EINVAL;

	dbuf = dma_buf_get(info->fd);
	if (IS_ERR(dbuf)) {
		vb2x_dbg(q, "plane %u: fd %d is not a dma-buf: %ld\n", plane,
			 info->fd, PTR_ERR(dbuf));
		return dbuf;
	}
	if (!(dbuf->file->f_mode & need)) {
		vb2x_dbg(q, "plane %u: dma-buf not opened for %s\n", plane,
			 q->is_output ? "reading" : "writing");
		ret = -EACCES;
		goto put;
	}
	if (dbuf->size > UINT_MAX) {
		vb2x_dbg(q, "plane %u: dma-buf of %zu bytes too large\n",
			 plane, dbuf->size);
		goto put;
	}
	*length = info->length ? info->length : dbuf->size;
	if (*length < vb->planes[plane].min_length || *length > dbuf->size) {
		vb2x_dbg(q, "plane %u: length %u, dma-buf size %zu, plane needs %u\n",
			 plane, *length, dbuf->size,
			 vb->planes[plane].min_length);
		goto put;
	}
	if (q->is_output) {
		bytesused = info->bytesused ? info->bytesused : *length;
		if (bytesused > *length || info->data_offset >= bytesused) {
			vb2x_dbg(q, "plane %u: bytesused %u, data_offset %u, length %u\n",
				 plane, bytesused, info->data_offset, *length);
			goto put;
		}
	}
	return dbuf;

put:
	dma_buf_put(dbuf);
	return ERR_PTR(ret);
}

static struct vb2x_import *vb2x_import_attach(struct vb2x_queue *q,
					      struct dma_buf *dbuf)
{
	struct dma_buf_attachment *attach;
	struct vb2x_import *imp;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	attach = dma_buf_attach(dbuf, q->dev);
	if (IS_ERR(attach)) {
		vb2x_dbg(q, "cannot attach dma-buf: %ld\n", PTR_ERR(attach));
		kfree(imp);
		return ERR_CAST(attach);
	}
	imp->attach = attach;
	imp->dbuf = dbuf;
	imp->write = !q->is_output;
	return imp;
}

/**
 * vb2x_import_prepare() - bring the dma-bufs of a QBUF or PREPARE_BUF in
 * @vb: a dequeued DMABUF buffer
 * @info: per-plane data from userspace (file descriptor, payload)
 *
 * A plane already holding the same dma-buf keeps its attachment; another
 * dma-buf replaces the old one, which is detached and put. Every plane is
 * checked before any is replaced, so a refused buffer keeps its imports.
 * Called with &vb2x_queue.lock held.
 *
 * Return: 0, -EBADF (fd not open), -EINVAL (not a dma-buf, length below
 * the plane's minimum or beyond the dma-buf, bad payload), -EACCES (the
 * dma-buf's file lacks the access the device needs) or an error from
 * attaching.
 */
int vb2x_import_prepare(struct vb2x_buffer *vb,
			const struct vb2x_plane_info *info)
{
	struct vb2x_import *fresh[VB2X_MAX_PLANES] = { };
	struct dma_buf *dbufs[VB2X_MAX_PLANES] = { };
	unsigned int lengths[VB2X_MAX_PLANES];
	struct vb2x_queue *q = vb->vb2x_queue;
	struct vb2x_import *old;
	unsigned int plane;
	int ret = 0;

	lockdep_assert_held(q->lock);
	for (plane = 0; plane < vb->num_planes; plane++) {
		dbufs[plane] = vb2x_import_get(vb, plane, &info[plane],
					       &lengths[plane]);
		if (IS_ERR(dbufs[plane])) {
			ret = PTR_ERR(dbufs[plane]);
			dbufs[plane] = NULL;
			goto put;
		}
	}
	for (plane = 0; plane < vb->num_planes; plane++) {
		old = vb->planes[plane].mem_priv;
		if (old && old->dbuf == dbufs[plane])
			continue;
		fresh[plane] = vb2x_import_attach(q, dbufs[plane]);
		if (IS_ERR(fresh[plane])) {
			ret = PTR_ERR(fresh[plane]);
			fresh[plane] = NULL;
			goto detach;
		}
	}

	for (plane = 0; plane < vb->num_planes; plane++) {
		vb->planes[plane].m.fd = info[plane].fd;
		vb->planes[plane].length = lengths[plane];
		if (!fresh[plane]) {
			dma_buf_put(dbufs[plane]);
			continue;
		}
		if (vb->planes[plane].mem_priv)
			vb2x_import_release(vb->planes[plane].mem_priv);
		vb->planes[plane].mem_priv = fresh[plane];
	}
	return 0;

detach:
	for (plane = 0; plane < vb->num_planes; plane++) {
		if (!fresh[plane])
			continue;
		dma_buf_detach(dbufs[plane], fresh[plane]->attach);
		kfree(fresh[plane]);
	}
put:
	for (plane = 0; plane < vb->num_planes; plane++)
		if (dbufs[plane])
			dma_buf_put(dbufs[plane]);
	return ret;
}

/**
 * vb2x_import_map_buffer() - map every plane of a DMABUF buffer
 * @vb: the buffer, its planes imported by vb2x_import_prepare()
 *
 * Called with &vb2x_queue.lock held before the buffer may reach the
 * driver. On failure no plane is left mapped.
 *
 * Return: 0 or an error from mapping, vmapping or CPU access.
 */
int vb2x_import_map_buffer(struct vb2x_buffer *vb)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	unsigned int plane;
	int ret;

	lockdep_assert_held(q->lock);
	for (plane = 0; plane < vb->num_planes; plane++) {
		ret = vb2x_import_map(q, vb->planes[plane].mem_priv);
		if (ret) {
			vb2x_import_unmap_buffer(vb);
			return ret;
		}
	}
	return 0;
}

/**
 * vb2x_import_unmap_buffer() - unmap every plane of a DMABUF buffer
 * @vb: the buffer, no longer with the driver
 *
 * The attachments and dma-buf references stay. Called with
 * &vb2x_queue.lock held; planes not mapped are skipped.
 */
void vb2x_import_unmap_buffer(struct vb2x_buffer *vb)
{
	unsigned int plane;

	lockdep_assert_held(vb->vb2x_queue->lock);
	for (plane = 0; plane < vb->num_planes; plane++)
		if (vb->planes[plane].mem_priv)
			vb2x_import_unmap(vb->planes[plane].mem_priv);
}
