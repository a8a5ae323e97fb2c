// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-core.c - buffer queue state machine of the vivid-expbuf videobuf2
 *
 * A buffer moves DEQUEUED -> (PREPARED) -> QUEUED -> ACTIVE -> DONE/ERROR
 * -> DEQUEUED. Everything except vb2x_buffer_done() runs with
 * &vb2x_queue.lock held; vb2x_buffer_done() may run in any context and
 * touches only the done list, the buffer state and the driver count, under
 * &vb2x_queue.done_lock. This file knows nothing of V4L2 structures.
 * The fences published for buffers (vb2x-fence.c) are created when a
 * capture MMAP buffer is handed to the running driver, or when the driver
 * begins to access an imported buffer, and signalled when the buffer
 * leaves the device: in vb2x_buffer_done() or, when vb2x takes the
 * buffers back, in vb2x_queue_cancel(). A buffer that is only queued
 * (the driver is not running) has no fence, so no fence of ours waits for
 * userspace.
 *
 * The queue's owner is published together with its buffers, and a DQBUF
 * that slept without &vb2x_queue.lock checks again, before it takes a
 * buffer, that its caller still owns the queue and that the buffer fits
 * the caller's plane array.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/lockdep.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <media/vb2x-memops.h>

#include "vb2x-internal.h"

static enum dma_data_direction vb2x_dma_dir(struct vb2x_queue *q)
{
	return q->is_output ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

/**
 * vb2x_core_queue_init() - initialize the state vb2x owns in a queue
 * @q: the queue, already checked by vb2x_queue_init()
 */
void vb2x_core_queue_init(struct vb2x_queue *q)
{
	mutex_init(&q->mmap_lock);
	INIT_LIST_HEAD(&q->queued_list);
	INIT_LIST_HEAD(&q->done_list);
	spin_lock_init(&q->done_lock);
	init_waitqueue_head(&q->done_wq);
	atomic_set(&q->owned_by_drv_count, 0);
	q->memory = VB2X_MEMORY_UNSET;
	q->owner = NULL;
	q->num_buffers = 0;
	q->queued_count = 0;
	vb2x_fence_queue_init(q);
}

/**
 * vb2x_core_check_memory() - check a memory kind asked for by userspace
 * @q: the queue
 * @memory: &enum vb2x_memory value from userspace
 *
 * Return: 0 if @q accepts @memory, -EINVAL otherwise.
 */
int vb2x_core_check_memory(struct vb2x_queue *q, unsigned int memory)
{
	unsigned int mode;

	switch (memory) {
	case VB2X_MEMORY_MMAP:
		mode = VB2X_MMAP;
		break;
	case VB2X_MEMORY_USERPTR:
		mode = VB2X_USERPTR;
		break;
	case VB2X_MEMORY_DMABUF:
		mode = VB2X_DMABUF;
		break;
	default:
		vb2x_dbg(q, "unknown memory type %u\n", memory);
		return -EINVAL;
	}
	if (!(q->io_modes & mode)) {
		vb2x_dbg(q, "memory type %u not supported by the queue\n",
			 memory);
		return -EINVAL;
	}
	if (memory == VB2X_MEMORY_MMAP &&
	    (!q->mem_ops->alloc || !q->mem_ops->put || !q->mem_ops->mmap)) {
		vb2x_dbg(q, "allocator cannot provide MMAP memory\n");
		return -EINVAL;
	}
	if (memory == VB2X_MEMORY_USERPTR &&
	    (!q->mem_ops->get_userptr || !q->mem_ops->put_userptr)) {
		vb2x_dbg(q, "allocator cannot use USERPTR memory\n");
		return -EINVAL;
	}
	return 0;
}

/* Drop the memory a plane holds; the memory itself may live on if mapped. */
static void vb2x_plane_release(struct vb2x_buffer *vb, unsigned int plane)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	struct vb2x_plane *p = &vb->planes[plane];

	if (!p->mem_priv)
		return;
	if (vb->memory == VB2X_MEMORY_MMAP) {
		if (q->mem_ops->num_users &&
		    q->mem_ops->num_users(p->mem_priv) > 1)
			vb2x_dbg(q, "buffer %u plane %u still mapped, orphaned\n",
				 vb->index, plane);
		q->mem_ops->put(p->mem_priv);
	} else if (vb->memory == VB2X_MEMORY_DMABUF) {
		vb2x_import_release(p->mem_priv);
		p->m.fd = 0;
	} else {
		q->mem_ops->put_userptr(p->mem_priv);
		p->m.userptr = 0;
	}
	p->mem_priv = NULL;
}

static void vb2x_buffer_free(struct vb2x_buffer *vb)
{
	unsigned int plane;

	for (plane = 0; plane < vb->num_planes; plane++)
		vb2x_plane_release(vb, plane);
	kfree(vb);
}

/*
 * Free the buffers from index @first on; the queue must not be streaming.
 * They leave the array under &vb2x_queue.mmap_lock, with the owner when
 * none remains, but their memory is released after it, so that unpinning
 * user pages never nests in it.
 */
static void vb2x_queue_free_from(struct vb2x_queue *q, unsigned int first)
{
	struct vb2x_buffer *gone[VB2X_MAX_BUFFERS];
	unsigned int i, n = 0;

	lockdep_assert_held(q->lock);
	mutex_lock(&q->mmap_lock);
	while (q->num_buffers > first) {
		q->num_buffers--;
		gone[n++] = q->bufs[q->num_buffers];
		q->bufs[q->num_buffers] = NULL;
	}
	if (!q->num_buffers) {
		q->memory = VB2X_MEMORY_UNSET;
		q->owner = NULL;
	}
	mutex_unlock(&q->mmap_lock);

	for (i = 0; i < n; i++)
		vb2x_buffer_free(gone[i]);
}

/* The mmap() offset following the last plane of the last buffer. */
static unsigned long vb2x_next_offset(struct vb2x_queue *q)
{
	struct vb2x_buffer *last;
	struct vb2x_plane *p;

	if (!q->num_buffers || q->memory != VB2X_MEMORY_MMAP)
		return 0;
	last = q->bufs[q->num_buffers - 1];
	p = &last->planes[last->num_planes - 1];
	return PAGE_ALIGN((unsigned long)p->m.offset + p->length);
}

/*
 * Allocate a buffer and, for MMAP, its memory. Returns the buffer or an
 * ERR_PTR(): -EDQUOT when the budget refused the memory, -ENOMEM else.
 */
static struct vb2x_buffer *vb2x_buffer_alloc(struct vb2x_queue *q,
					     unsigned int index,
					     unsigned int memory,
					     unsigned int num_planes,
					     const unsigned int sizes[],
					     unsigned long *offset)
{
	struct vb2x_buffer *vb;
	unsigned long size;
	unsigned int plane;
	void *mem;

	vb = kzalloc(q->buf_struct_size, GFP_KERNEL_ACCOUNT);
	if (!vb)
		return ERR_PTR(-ENOMEM);
	vb->vb2x_queue = q;
	vb->index = index;
	vb->type = q->type;
	vb->memory = memory;
	vb->num_planes = num_planes;
	vb->state = VB2X_BUF_STATE_DEQUEUED;
	INIT_LIST_HEAD(&vb->queued_entry);
	INIT_LIST_HEAD(&vb->done_entry);
	for (plane = 0; plane < num_planes; plane++) {
		vb->planes[plane].length = sizes[plane];
		vb->planes[plane].min_length = sizes[plane];
		if (memory != VB2X_MEMORY_MMAP)
			continue;
		/*
		 * MMAP memory comes in whole pages. The plane reports the
		 * length it was created for (REQBUFS: the format's sizeimage,
		 * CREATE_BUFS: the size asked for), as current videobuf2 does;
		 * mmap() and an exported dma-buf (lseek) cover the whole pages.
		 */
		size = PAGE_ALIGN((unsigned long)sizes[plane]);
		if (*offset + size > U32_MAX) {
			vb2x_dbg(q, "mmap offsets exhausted\n");
			vb2x_buffer_free(vb);
			return ERR_PTR(-ENOMEM);
		}
		mem = q->mem_ops->alloc(q->dev, q->budget, sizes[plane],
					vb2x_dma_dir(q));
		if (IS_ERR_OR_NULL(mem)) {
			vb2x_buffer_free(vb);
			if (PTR_ERR(mem) == -EDQUOT) {
				vb2x_dbg(q, "buffer memory limit reached\n");
				return ERR_PTR(-EDQUOT);
			}
			if (PTR_ERR(mem) == -EINTR)
				return ERR_PTR(-EINTR);
			return ERR_PTR(-ENOMEM);
		}
		vb->planes[plane].mem_priv = mem;
		vb->planes[plane].m.offset = *offset;
		*offset += size;
	}
	return vb;
}

/*
 * Allocate up to @count buffers after the existing ones and publish them,
 * with @owner as the queue's owner, in one &vb2x_queue.mmap_lock section:
 * mmap() never sees buffers without their owner. The allocation itself
 * runs without that lock (it may take long and fault) and stops early when
 * the caller is killed. Returns how many were allocated; fewer than asked
 * when memory ran out, and then *@err says why (-EDQUOT: the budget
 * refused, -EINTR: a fatal signal).
 */
static unsigned int vb2x_queue_alloc(struct vb2x_queue *q, void *owner,
				     unsigned int memory, unsigned int count,
				     unsigned int num_planes,
				     const unsigned int sizes[], int *err)
{
	unsigned long offset = vb2x_next_offset(q);
	struct vb2x_buffer *fresh[VB2X_MAX_BUFFERS];
	unsigned int first = q->num_buffers;
	struct vb2x_buffer *vb;
	unsigned int i, n;

	lockdep_assert_held(q->lock);
	*err = 0;
	for (n = 0; n < count; n++) {
		if (fatal_signal_pending(current)) {
			*err = -EINTR;
			break;
		}
		vb = vb2x_buffer_alloc(q, first + n, memory, num_planes, sizes,
				       &offset);
		if (IS_ERR(vb)) {
			*err = PTR_ERR(vb);
			break;
		}
		fresh[n] = vb;
	}
	if (!n)
		return 0;

	mutex_lock(&q->mmap_lock);
	for (i = 0; i < n; i++)
		q->bufs[q->num_buffers++] = fresh[i];
	q->memory = memory;
	q->owner = owner;
	mutex_unlock(&q->mmap_lock);
	return n;
}

static int vb2x_check_setup(struct vb2x_queue *q, unsigned int num_planes,
			    const unsigned int sizes[])
{
	unsigned int plane;

	if (WARN_ON_ONCE(!num_planes || num_planes > VB2X_MAX_PLANES))
		return -EINVAL;
	for (plane = 0; plane < num_planes; plane++)
		if (WARN_ON_ONCE(!sizes[plane]))
			return -EINVAL;
	return 0;
}

/*
 * Return every buffer to userspace ownership and stop the driver. The
 * fences of the buffers the driver gives back are signalled afterwards,
 * all with -ECANCELED and in the order they were created.
 */
static void vb2x_queue_cancel(struct vb2x_queue *q)
{
	struct vb2x_buffer *vb;
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(q->lock);
	WRITE_ONCE(q->stopping, true);
	if (q->start_streaming_called)
		q->ops->stop_streaming(q);

	/* The driver must have given every buffer back; force it if not. */
	if (WARN_ON_ONCE(atomic_read(&q->owned_by_drv_count))) {
		for (i = 0; i < q->num_buffers; i++)
			if (q->bufs[i]->state == VB2X_BUF_STATE_ACTIVE)
				vb2x_buffer_done(q->bufs[i],
						 VB2X_BUF_STATE_ERROR);
	}

	WRITE_ONCE(q->streaming, false);
	q->start_streaming_called = false;
	vb2x_fence_cancel_all(q);
	WRITE_ONCE(q->stopping, false);

	INIT_LIST_HEAD(&q->queued_list);
	q->queued_count = 0;
	spin_lock_irqsave(&q->done_lock, flags);
	INIT_LIST_HEAD(&q->done_list);
	for (i = 0; i < q->num_buffers; i++) {
		vb = q->bufs[i];
		vb->state = VB2X_BUF_STATE_DEQUEUED;
		INIT_LIST_HEAD(&vb->queued_entry);
		INIT_LIST_HEAD(&vb->done_entry);
	}
	spin_unlock_irqrestore(&q->done_lock, flags);
	wake_up_all(&q->done_wq);

	/* No buffer is with the driver any more: drop the dma-buf mappings. */
	if (q->memory == VB2X_MEMORY_DMABUF)
		for (i = 0; i < q->num_buffers; i++)
			vb2x_import_unmap_buffer(q->bufs[i]);
}

/**
 * vb2x_core_reqbufs() - free the buffers and allocate new ones
 * @q: the queue
 * @owner: cookie of the file handle asking, the owner of the new buffers
 * @memory: &enum vb2x_memory, already checked with vb2x_core_check_memory()
 * @count: in: buffers wanted, 0 to only free; out: buffers allocated
 *
 * Streaming stops first if it is on. The queue has no owner once its
 * buffers are freed, and @owner as its owner from the moment the new ones
 * can be seen. Called with &vb2x_queue.lock held.
 *
 * Return: 0, -ENOMEM (also when the buffers would exceed &vb2x_queue.budget:
 * then none is kept), -EINTR (the caller was killed while allocating), or
 * an error from &vb2x_ops.queue_setup.
 */
int vb2x_core_reqbufs(struct vb2x_queue *q, void *owner, unsigned int memory,
		      unsigned int *count)
{
	unsigned int sizes[VB2X_MAX_PLANES] = { };
	unsigned int num_planes = 0;
	unsigned int num, allocated;
	int ret;

	lockdep_assert_held(q->lock);
	if (q->streaming)
		vb2x_dbg(q, "reqbufs while streaming: stopping\n");
	vb2x_queue_cancel(q);
	vb2x_queue_free_from(q, 0);
	if (!*count)
		return 0;

	num = clamp_t(unsigned int, *count, max(q->min_queued_buffers, 1U),
		      VB2X_MAX_BUFFERS);
	ret = q->ops->queue_setup(q, &num, &num_planes, sizes);
	if (ret)
		return ret;
	ret = vb2x_check_setup(q, num_planes, sizes);
	if (ret)
		return ret;
	num = clamp_t(unsigned int, num, 1, VB2X_MAX_BUFFERS);

	allocated = vb2x_queue_alloc(q, owner, memory, num, num_planes, sizes,
				     &ret);
	if (ret == -EDQUOT || ret == -EINTR || !allocated ||
	    allocated < q->min_queued_buffers) {
		vb2x_dbg(q, "only %u of %u buffers allocated\n", allocated, num);
		vb2x_queue_free_from(q, 0);
		return ret == -EINTR ? -EINTR : -ENOMEM;
	}
	if (allocated < num)
		vb2x_dbg(q, "allocated %u of %u buffers\n", allocated, num);
	*count = allocated;
	return 0;
}

/**
 * vb2x_core_create_bufs() - add buffers of a given size to the queue
 * @q: the queue
 * @owner: cookie of the file handle asking, the queue's owner from now on
 * @memory: &enum vb2x_memory, already checked with vb2x_core_check_memory()
 * @count: in: buffers wanted (non-zero); out: buffers allocated
 * @num_planes: planes per buffer asked by userspace
 * @sizes: size of each plane asked by userspace, checked by the driver in
 *	&vb2x_ops.queue_setup
 *
 * Called with &vb2x_queue.lock held.
 *
 * Return: 0, -EINVAL (memory differs from the existing buffers', sizes
 * refused by the driver), -ENOBUFS (queue full), -EINTR (the caller was
 * killed while allocating) or -ENOMEM (also when the new buffers would
 * exceed &vb2x_queue.budget: then none is added).
 */
int vb2x_core_create_bufs(struct vb2x_queue *q, void *owner,
			  unsigned int memory,
			  unsigned int *count, unsigned int num_planes,
			  const unsigned int sizes[])
{
	unsigned int plane_sizes[VB2X_MAX_PLANES] = { };
	unsigned int planes = num_planes;
	unsigned int num, allocated, first;
	int ret;

	lockdep_assert_held(q->lock);
	if (q->num_buffers && q->memory != memory) {
		vb2x_dbg(q, "create_bufs memory %u differs from queue's %u\n",
			 memory, q->memory);
		return -EINVAL;
	}
	if (q->num_buffers == VB2X_MAX_BUFFERS) {
		vb2x_dbg(q, "queue already holds %u buffers\n",
			 VB2X_MAX_BUFFERS);
		return -ENOBUFS;
	}
	memcpy(plane_sizes, sizes, num_planes * sizeof(*sizes));
	num = min(*count, VB2X_MAX_BUFFERS - q->num_buffers);
	ret = q->ops->queue_setup(q, &num, &planes, plane_sizes);
	if (ret)
		return ret;
	ret = vb2x_check_setup(q, planes, plane_sizes);
	if (ret)
		return ret;
	num = clamp_t(unsigned int, num, 1,
		      VB2X_MAX_BUFFERS - q->num_buffers);

	first = q->num_buffers;
	allocated = vb2x_queue_alloc(q, owner, memory, num, planes,
				     plane_sizes, &ret);
	if (ret == -EDQUOT || ret == -EINTR || !allocated) {
		vb2x_dbg(q, "%u of %u buffers allocated, none kept\n",
			 allocated, num);
		vb2x_queue_free_from(q, first);
		return ret == -EINTR ? -EINTR : -ENOMEM;
	}
	*count = allocated;
	return 0;
}

/* Pin or swap the user memory of a USERPTR buffer. */
static int vb2x_prepare_userptr(struct vb2x_buffer *vb,
				const struct vb2x_plane_info *info)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	struct vb2x_plane *p;
	unsigned int plane;
	void *mem;

	for (plane = 0; plane < vb->num_planes; plane++) {
		p = &vb->planes[plane];
		if (info[plane].length < p->min_length) {
			vb2x_dbg(q, "userptr plane %u too short: %u < %u\n",
				 plane, info[plane].length, p->min_length);
			return -EINVAL;
		}
		if (!info[plane].userptr) {
			vb2x_dbg(q, "userptr plane %u is NULL\n", plane);
			return -EINVAL;
		}
		if (p->mem_priv && p->m.userptr == info[plane].userptr &&
		    p->length == info[plane].length)
			continue;
		vb2x_plane_release(vb, plane);
		mem = q->mem_ops->get_userptr(q->dev, info[plane].userptr,
					      info[plane].length,
					      vb2x_dma_dir(q));
		if (IS_ERR(mem)) {
			vb2x_dbg(q, "cannot use user memory of plane %u: %ld\n",
				 plane, PTR_ERR(mem));
			return PTR_ERR(mem);
		}
		p->mem_priv = mem;
		p->m.userptr = info[plane].userptr;
		p->length = info[plane].length;
	}
	return 0;
}

/* DEQUEUED -> PREPARED: take in userspace's plane data, let the driver check. */
static int vb2x_buf_prepare(struct vb2x_buffer *vb,
			    const struct vb2x_plane_info *info)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	struct vb2x_plane *p;
	unsigned int plane;
	int ret = 0;

	if (vb->memory == VB2X_MEMORY_DMABUF) {
		ret = vb2x_import_prepare(vb, info);
		if (ret)
			return ret;
		ret = vb2x_import_map_buffer(vb);
	} else if (vb->memory == VB2X_MEMORY_USERPTR) {
		ret = vb2x_prepare_userptr(vb, info);
	}
	if (ret)
		goto release;

	for (plane = 0; plane < vb->num_planes; plane++) {
		p = &vb->planes[plane];
		if (q->is_output) {
			p->bytesused = info[plane].bytesused ?
				       info[plane].bytesused : p->length;
			p->data_offset = info[plane].data_offset;
		} else {
			p->bytesused = 0;
			p->data_offset = 0;
		}
	}
	if (q->ops->buf_prepare) {
		ret = q->ops->buf_prepare(vb);
		if (ret) {
			vb2x_dbg(q, "driver refused buffer %u: %d\n",
				 vb->index, ret);
			goto release;
		}
	}
	vb->state = VB2X_BUF_STATE_PREPARED;
	return 0;

release:
	/* A refused buffer keeps no user pages and no dma-buf of this call. */
	if (vb->memory != VB2X_MEMORY_MMAP)
		for (plane = 0; plane < vb->num_planes; plane++)
			vb2x_plane_release(vb, plane);
	return ret;
}

/**
 * vb2x_core_prepare_buf() - VIDIOC_PREPARE_BUF on a buffer
 * @q: the queue
 * @vb: the buffer, of @q
 * @info: per-plane data from userspace
 *
 * Called with &vb2x_queue.lock held.
 *
 * Return: 0, -EINVAL if the buffer is not dequeued or is refused, or an
 * error from pinning user memory.
 */
int vb2x_core_prepare_buf(struct vb2x_queue *q, struct vb2x_buffer *vb,
			  const struct vb2x_plane_info *info)
{
	lockdep_assert_held(q->lock);
	if (vb->state != VB2X_BUF_STATE_DEQUEUED) {
		vb2x_dbg(q, "buffer %u is not dequeued (state %d)\n",
			 vb->index, vb->state);
		return -EINVAL;
	}
	return vb2x_buf_prepare(vb, info);
}

/*
 * QUEUED -> ACTIVE: hand a buffer to the running driver. From now on the
 * device will fill or read it within bounded time, so this is where a
 * capture MMAP buffer gets its write fence; if there is no memory for
 * the fence the buffer goes straight back as ERROR.
 */
static void vb2x_enqueue(struct vb2x_buffer *vb)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	int ret;

	vb->state = VB2X_BUF_STATE_ACTIVE;
	/* Only the fence checks of imported buffers look at the time. */
	if (vb->memory == VB2X_MEMORY_DMABUF)
		vb->queued_ns = ktime_get_ns();
	vb->fence_wait_since = 0;
	atomic_inc(&q->owned_by_drv_count);
	ret = vb2x_fence_enqueue(vb);
	if (ret) {
		vb2x_buffer_done(vb, VB2X_BUF_STATE_ERROR);
		return;
	}
	q->ops->buf_queue(vb);
}

/* Give the queued buffers to the driver and start it. */
static int vb2x_start_streaming(struct vb2x_queue *q)
{
	struct vb2x_buffer *vb;
	unsigned long flags;
	unsigned int i;
	int ret;

	list_for_each_entry(vb, &q->queued_list, queued_entry)
		vb2x_enqueue(vb);

	q->start_streaming_called = true;
	ret = q->ops->start_streaming(q, q->queued_count);
	if (!ret)
		return 0;

	q->start_streaming_called = false;
	vb2x_dbg(q, "driver failed to start streaming: %d\n", ret);
	/* The driver must have returned all buffers as QUEUED; force it. */
	if (WARN_ON_ONCE(atomic_read(&q->owned_by_drv_count))) {
		for (i = 0; i < q->num_buffers; i++)
			if (q->bufs[i]->state == VB2X_BUF_STATE_ACTIVE)
				vb2x_buffer_done(q->bufs[i],
						 VB2X_BUF_STATE_QUEUED);
	}
	spin_lock_irqsave(&q->done_lock, flags);
	if (WARN_ON_ONCE(!list_empty(&q->done_list))) {
		list_for_each_entry(vb, &q->done_list, done_entry)
			vb->state = VB2X_BUF_STATE_QUEUED;
		INIT_LIST_HEAD(&q->done_list);
	}
	spin_unlock_irqrestore(&q->done_lock, flags);
	/* The buffers went back to QUEUED: the device will not touch them. */
	vb2x_fence_cancel_all(q);
	return ret;
}

/**
 * vb2x_core_qbuf() - VIDIOC_QBUF on a buffer
 * @q: the queue
 * @vb: the buffer, of @q
 * @info: per-plane data from userspace, used unless @vb is prepared
 * @report: called with @arg once @vb is queued and before the driver can
 *	see it, so that the state reported to userspace is never one the
 *	driver has already moved the buffer past
 * @arg: passed to @report
 *
 * Starts streaming when STREAMON was called and enough buffers are now
 * queued. Called with &vb2x_queue.lock held.
 *
 * A capture MMAP buffer gets its write fence (vb2x-fence.c) only once it
 * reaches the running driver, here or at STREAMON.
 *
 * Return: 0, -EINVAL (already queued, refused), an error from pinning
 * user memory, importing a dma-buf or from &vb2x_ops.start_streaming.
 */
int vb2x_core_qbuf(struct vb2x_queue *q, struct vb2x_buffer *vb,
		   const struct vb2x_plane_info *info,
		   void (*report)(struct vb2x_buffer *vb, void *arg), void *arg)
{
	int ret;

	lockdep_assert_held(q->lock);
	switch (vb->state) {
	case VB2X_BUF_STATE_DEQUEUED:
		ret = vb2x_buf_prepare(vb, info);
		if (ret)
			return ret;
		break;
	case VB2X_BUF_STATE_PREPARED:
		break;
	default:
		vb2x_dbg(q, "buffer %u already queued (state %d)\n",
			 vb->index, vb->state);
		return -EINVAL;
	}
	list_add_tail(&vb->queued_entry, &q->queued_list);
	q->queued_count++;
	vb->state = VB2X_BUF_STATE_QUEUED;
	report(vb, arg);

	if (q->start_streaming_called)
		vb2x_enqueue(vb);
	else if (q->streaming && q->queued_count >= q->min_queued_buffers)
		return vb2x_start_streaming(q);
	return 0;
}

static bool vb2x_done_pending(struct vb2x_queue *q)
{
	unsigned long flags;
	bool pending;

	spin_lock_irqsave(&q->done_lock, flags);
	pending = !list_empty(&q->done_list);
	spin_unlock_irqrestore(&q->done_lock, flags);
	return pending;
}

/*
 * Wait, dropping &vb2x_queue.lock, until a buffer is done. Everything is
 * checked again each time the lock is taken back: while the caller slept,
 * another thread may have stopped the queue, freed its buffers or let
 * another file handle take it.
 */
static int vb2x_wait_for_done(struct vb2x_queue *q, void *owner,
			      bool nonblocking)
{
	int ret;

	for (;;) {
		if (!q->streaming) {
			vb2x_dbg(q, "not streaming, no buffer to dequeue\n");
			return -EINVAL;
		}
		/* Streaming, so the queue has buffers and an owner. */
		if (q->owner != owner) {
			vb2x_dbg(q, "dqbuf: queue owned by another file handle\n");
			return -EBUSY;
		}
		if (vb2x_done_pending(q))
			return 0;
		if (nonblocking)
			return -EAGAIN;

		mutex_unlock(q->lock);
		ret = wait_event_interruptible(q->done_wq,
					       vb2x_done_pending(q) ||
					       !READ_ONCE(q->streaming));
		mutex_lock(q->lock);
		if (ret)
			return ret;
	}
}

/**
 * vb2x_core_dqbuf() - VIDIOC_DQBUF: take the oldest done buffer
 * @q: the queue
 * @owner: cookie of the file handle asking, which owned the queue when
 *	the call began
 * @max_planes: planes the caller's plane array holds
 * @vbp: the buffer, returned in state DONE or ERROR so the caller can
 *	report it; the caller then calls vb2x_core_dqbuf_finish()
 * @nonblocking: return -EAGAIN instead of sleeping
 *
 * Sleeps with &vb2x_queue.lock dropped; called with it held. A buffer is
 * taken only if @owner still owns the queue and the buffer has at most
 * @max_planes planes; otherwise it stays done for the owner to dequeue.
 *
 * Return: 0, -EBUSY (@owner no longer owns the queue), -EINVAL (not
 * streaming, or the buffer has more planes than @max_planes), -EAGAIN or
 * -ERESTARTSYS.
 */
int vb2x_core_dqbuf(struct vb2x_queue *q, void *owner,
		    unsigned int max_planes, struct vb2x_buffer **vbp,
		    bool nonblocking)
{
	struct vb2x_buffer *vb;
	unsigned long flags;
	int ret;

	lockdep_assert_held(q->lock);
	ret = vb2x_wait_for_done(q, owner, nonblocking);
	if (ret)
		return ret;

	spin_lock_irqsave(&q->done_lock, flags);
	vb = list_first_entry(&q->done_list, struct vb2x_buffer, done_entry);
	if (vb->num_planes > max_planes) {
		spin_unlock_irqrestore(&q->done_lock, flags);
		vb2x_dbg(q, "dqbuf: buffer %u has %u planes, array holds %u\n",
			 vb->index, vb->num_planes, max_planes);
		return -EINVAL;
	}
	list_del_init(&vb->done_entry);
	spin_unlock_irqrestore(&q->done_lock, flags);

	list_del_init(&vb->queued_entry);
	q->queued_count--;
	*vbp = vb;
	return 0;
}

/**
 * vb2x_core_dqbuf_finish() - hand a dequeued buffer back to userspace
 * @vb: the buffer vb2x_core_dqbuf() returned, once it has been reported
 *
 * Called with &vb2x_queue.lock held.
 */
void vb2x_core_dqbuf_finish(struct vb2x_buffer *vb)
{
	lockdep_assert_held(vb->vb2x_queue->lock);
	if (vb->memory == VB2X_MEMORY_DMABUF)
		vb2x_import_unmap_buffer(vb);
	vb->state = VB2X_BUF_STATE_DEQUEUED;
}

/**
 * vb2x_core_streamon() - VIDIOC_STREAMON
 * @q: the queue
 * @type: buffer type from userspace
 *
 * Called with &vb2x_queue.lock held.
 *
 * Return: 0 (also when already streaming), -EINVAL (wrong type, no or too
 * few buffers) or an error from &vb2x_ops.start_streaming.
 */
int vb2x_core_streamon(struct vb2x_queue *q, unsigned int type)
{
	int ret;

	lockdep_assert_held(q->lock);
	if (type != q->type) {
		vb2x_dbg(q, "streamon: wrong buffer type %u\n", type);
		return -EINVAL;
	}
	if (q->streaming)
		return 0;
	if (!q->num_buffers) {
		vb2x_dbg(q, "streamon: no buffers allocated\n");
		return -EINVAL;
	}
	if (q->num_buffers < q->min_queued_buffers) {
		vb2x_dbg(q, "streamon: need %u buffers, have %u\n",
			 q->min_queued_buffers, q->num_buffers);
		return -EINVAL;
	}
	if (q->queued_count >= q->min_queued_buffers) {
		ret = vb2x_start_streaming(q);
		if (ret)
			return ret;
	}
	WRITE_ONCE(q->streaming, true);
	return 0;
}

/**
 * vb2x_core_streamoff() - VIDIOC_STREAMOFF
 * @q: the queue
 * @type: buffer type from userspace
 *
 * Stops the driver and returns every buffer to the dequeued state, also
 * when not streaming. Called with &vb2x_queue.lock held.
 *
 * Return: 0 or -EINVAL for a wrong type.
 */
int vb2x_core_streamoff(struct vb2x_queue *q, unsigned int type)
{
	lockdep_assert_held(q->lock);
	if (type != q->type) {
		vb2x_dbg(q, "streamoff: wrong buffer type %u\n", type);
		return -EINVAL;
	}
	vb2x_queue_cancel(q);
	return 0;
}

/**
 * vb2x_core_queue_release() - stop streaming and free all buffers
 * @q: the queue
 *
 * Used when the owner closes. Mapped memory lives on until unmapped.
 * Called with &vb2x_queue.lock held.
 */
void vb2x_core_queue_release(struct vb2x_queue *q)
{
	lockdep_assert_held(q->lock);
	vb2x_queue_cancel(q);
	vb2x_queue_free_from(q, 0);
}

/**
 * vb2x_core_buffer_mapped() - whether a buffer's memory is mapped
 * @vb: the buffer
 *
 * Return: true if a plane's memory has more users than the buffer.
 */
bool vb2x_core_buffer_mapped(struct vb2x_buffer *vb)
{
	const struct vb2x_mem_ops *ops = vb->vb2x_queue->mem_ops;
	unsigned int plane;

	if (!ops->num_users || vb->memory != VB2X_MEMORY_MMAP)
		return false;
	for (plane = 0; plane < vb->num_planes; plane++)
		if (vb->planes[plane].mem_priv &&
		    ops->num_users(vb->planes[plane].mem_priv) > 1)
			return true;
	return false;
}

/**
 * vb2x_core_poll() - buffer part of poll()
 * @q: the queue
 * @file: the polled file
 * @wait: the poll table
 *
 * Called with &vb2x_queue.lock held.
 *
 * Return: EPOLLIN | EPOLLRDNORM (capture) or EPOLLOUT | EPOLLWRNORM
 * (output) when a buffer is done, EPOLLERR when not streaming.
 */
__poll_t vb2x_core_poll(struct vb2x_queue *q, struct file *file,
			poll_table *wait)
{
	__poll_t ready = q->is_output ? EPOLLOUT | EPOLLWRNORM :
					EPOLLIN | EPOLLRDNORM;

	lockdep_assert_held(q->lock);
	poll_wait(file, &q->done_wq, wait);
	if (!q->streaming)
		return EPOLLERR;
	if (vb2x_done_pending(q))
		return ready;
	return 0;
}

/**
 * vb2x_core_expbuf() - VIDIOC_EXPBUF: export a plane as a dma-buf
 * @q: the queue
 * @type: buffer type from userspace
 * @index: buffer index
 * @plane: plane index
 * @flags: O_CLOEXEC and an access mode (O_RDONLY, O_WRONLY or O_RDWR)
 * @fd: out: the new file descriptor
 *
 * The dma-buf holds its own reference to the plane's memory, so it stays
 * valid after the buffers are freed. Called with &vb2x_queue.lock held, by
 * the owner of the queue only.
 *
 * Return: 0, -EINVAL (wrong type, index, plane or flags, no MMAP buffers,
 * allocator cannot export) or an error from the export or fd allocation.
 */
int vb2x_core_expbuf(struct vb2x_queue *q, unsigned int type,
		     unsigned int index, unsigned int plane, unsigned int flags,
		     int *fd)
{
	struct vb2x_buffer *vb;
	struct dma_buf *dbuf;
	int ret;

	lockdep_assert_held(q->lock);
	if (type != q->type) {
		vb2x_dbg(q, "expbuf: wrong buffer type %u\n", type);
		return -EINVAL;
	}
	if (flags & ~(O_CLOEXEC | O_ACCMODE) ||
	    (flags & O_ACCMODE) == O_ACCMODE) {
		vb2x_dbg(q, "expbuf: invalid flags 0x%x\n", flags);
		return -EINVAL;
	}
	if (!q->num_buffers || q->memory != VB2X_MEMORY_MMAP) {
		vb2x_dbg(q, "expbuf: queue has no MMAP buffers\n");
		return -EINVAL;
	}
	if (!q->mem_ops->get_dmabuf) {
		vb2x_dbg(q, "expbuf: allocator cannot export\n");
		return -EINVAL;
	}
	if (index >= q->num_buffers) {
		vb2x_dbg(q, "expbuf: no buffer %u\n", index);
		return -EINVAL;
	}
	vb = q->bufs[index];
	if (plane >= vb->num_planes) {
		vb2x_dbg(q, "expbuf: buffer %u has no plane %u\n", index, plane);
		return -EINVAL;
	}

	dbuf = q->mem_ops->get_dmabuf(vb->planes[plane].mem_priv,
				      flags & O_ACCMODE);
	if (IS_ERR(dbuf)) {
		vb2x_dbg(q, "expbuf: export of buffer %u plane %u failed\n",
			 index, plane);
		return PTR_ERR(dbuf);
	}
	ret = dma_buf_fd(dbuf, flags & O_CLOEXEC);
	if (ret < 0) {
		vb2x_dbg(q, "expbuf: no file descriptor: %d\n", ret);
		dma_buf_put(dbuf);
		return ret;
	}
	*fd = ret;
	return 0;
}

/**
 * vb2x_core_mmap() - map the MMAP plane named by a VMA's offset
 * @q: the queue
 * @owner: the file handle asking; must own the queue
 * @vma: the mapping
 *
 * Takes &vb2x_queue.mmap_lock, not &vb2x_queue.lock (see there).
 *
 * Return: 0, -EBUSY (not the owner), -EINVAL (no such plane, not MMAP,
 * too large, not shared), -EACCES (capture not readable, output not
 * writable) or an error from &vb2x_mem_ops.mmap.
 */
int vb2x_core_mmap(struct vb2x_queue *q, void *owner,
		   struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start;
	unsigned long offset;
	struct vb2x_plane *p;
	unsigned int i, plane;
	int ret = -EINVAL;

	if (vma->vm_pgoff > (U32_MAX >> PAGE_SHIFT)) {
		vb2x_dbg(q, "mmap: page offset 0x%lx too large\n",
			 vma->vm_pgoff);
		return -EINVAL;
	}
	offset = vma->vm_pgoff << PAGE_SHIFT;
	if (!(vma->vm_flags & VM_SHARED)) {
		vb2x_dbg(q, "mmap: mapping must be shared\n");
		return -EINVAL;
	}
	if (!(vma->vm_flags & (q->is_output ? VM_WRITE : VM_READ))) {
		vb2x_dbg(q, "mmap: mapping lacks %s access\n",
			 q->is_output ? "write" : "read");
		return -EACCES;
	}

	mutex_lock(&q->mmap_lock);
	if (q->owner && q->owner != owner) {
		vb2x_dbg(q, "mmap: queue owned by another file handle\n");
		ret = -EBUSY;
		goto unlock;
	}
	if (q->memory != VB2X_MEMORY_MMAP) {
		vb2x_dbg(q, "mmap: queue has no MMAP buffers\n");
		goto unlock;
	}
	for (i = 0; i < q->num_buffers; i++) {
		for (plane = 0; plane < q->bufs[i]->num_planes; plane++) {
			p = &q->bufs[i]->planes[plane];
			if (p->m.offset != offset)
				continue;
			if (size > PAGE_ALIGN((unsigned long)p->length)) {
				vb2x_dbg(q, "mmap: %lu bytes exceed plane of %u\n",
					 size, p->length);
				goto unlock;
			}
			ret = q->mem_ops->mmap(p->mem_priv, vma);
			if (ret)
				vb2x_dbg(q, "mmap of buffer %u plane %u failed: %d\n",
					 i, plane, ret);
			goto unlock;
		}
	}
	vb2x_dbg(q, "mmap: offset 0x%lx names no plane\n", offset);
unlock:
	mutex_unlock(&q->mmap_lock);
	return ret;
}

/**
 * vb2x_buffer_done() - the driver returns a buffer to vb2x
 * @vb: a buffer the driver got through &vb2x_ops.buf_queue
 * @state: %VB2X_BUF_STATE_DONE, %VB2X_BUF_STATE_ERROR, or
 *	%VB2X_BUF_STATE_QUEUED from a failed &vb2x_ops.start_streaming
 *
 * Signals the buffer's fence first, with -EIO for %VB2X_BUF_STATE_ERROR.
 * While vb2x takes the buffers back (&vb2x_queue.stopping) and for a
 * buffer returned %VB2X_BUF_STATE_QUEUED the fence is left to vb2x, which
 * cancels it once every buffer is back.
 * May be called from any context, without &vb2x_queue.lock.
 */
void vb2x_buffer_done(struct vb2x_buffer *vb, enum vb2x_buffer_state state)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	unsigned long flags;

	if (WARN_ON_ONCE(vb->state != VB2X_BUF_STATE_ACTIVE))
		return;
	if (WARN_ON_ONCE(state != VB2X_BUF_STATE_DONE &&
			 state != VB2X_BUF_STATE_ERROR &&
			 state != VB2X_BUF_STATE_QUEUED))
		state = VB2X_BUF_STATE_ERROR;

	if (!READ_ONCE(q->stopping) && state != VB2X_BUF_STATE_QUEUED)
		vb2x_fence_signal(vb, state == VB2X_BUF_STATE_ERROR ? -EIO : 0);

	spin_lock_irqsave(&q->done_lock, flags);
	vb->state = state;
	if (state != VB2X_BUF_STATE_QUEUED)
		list_add_tail(&vb->done_entry, &q->done_list);
	atomic_dec(&q->owned_by_drv_count);
	spin_unlock_irqrestore(&q->done_lock, flags);

	if (state != VB2X_BUF_STATE_QUEUED)
		wake_up(&q->done_wq);
}

/**
 * vb2x_plane_vaddr() - kernel address of a plane's memory
 * @vb: the buffer
 * @plane: plane index
 *
 * For a DMABUF plane this is the dma-buf's kernel mapping, valid from the
 * buffer's prepare or queue until it is dequeued or streaming stops, so
 * always while the driver holds the buffer.
 *
 * Return: the address, or NULL if the plane has no kernel mapping.
 */
void *vb2x_plane_vaddr(struct vb2x_buffer *vb, unsigned int plane)
{
	const struct vb2x_mem_ops *ops = vb->vb2x_queue->mem_ops;

	if (plane >= vb->num_planes || !vb->planes[plane].mem_priv)
		return NULL;
	if (vb->memory == VB2X_MEMORY_DMABUF)
		return vb2x_import_vaddr(vb->planes[plane].mem_priv);
	if (!ops->vaddr)
		return NULL;
	return ops->vaddr(vb->planes[plane].mem_priv);
}

/**
 * vb2x_plane_size() - size of a plane's memory
 * @vb: the buffer
 * @plane: plane index
 *
 * Return: the size in bytes, 0 for an invalid plane.
 */
unsigned long vb2x_plane_size(struct vb2x_buffer *vb, unsigned int plane)
{
	if (plane >= vb->num_planes)
		return 0;
	return vb->planes[plane].length;
}

/**
 * vb2x_set_plane_payload() - set the bytes of payload in a plane
 * @vb: the buffer
 * @plane: plane index
 * @size: payload in bytes, at most vb2x_plane_size()
 */
void vb2x_set_plane_payload(struct vb2x_buffer *vb, unsigned int plane,
			    unsigned long size)
{
	if (WARN_ON_ONCE(plane >= vb->num_planes ||
			 size > vb->planes[plane].length))
		return;
	vb->planes[plane].bytesused = size;
}

/**
 * vb2x_get_plane_payload() - bytes of payload in a plane
 * @vb: the buffer
 * @plane: plane index
 *
 * Return: the payload in bytes.
 */
unsigned long vb2x_get_plane_payload(struct vb2x_buffer *vb,
				     unsigned int plane)
{
	if (plane >= vb->num_planes)
		return 0;
	return vb->planes[plane].bytesused;
}
