// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-fence.c - implicit synchronization: the fences vb2x puts into the
 * reservation objects of a buffer's dma-bufs, and the wait for the fences
 * others put there
 *
 * Two kinds of fence, one per buffer at a time (&vb2x_buffer.fence):
 *
 * - Exporter fence: a capture MMAP buffer gets a write fence in the
 *   reservation object of each of its planes (shared by every dma-buf
 *   exported from the plane) when it is handed to the running driver
 *   (QBUF while streaming, or STREAMON), never while it only waits in the
 *   queue, so that no fence of ours waits for userspace. It signals when
 *   the buffer leaves the device: in vb2x_buffer_done() (with -EIO when
 *   the buffer is returned as ERROR) or when vb2x takes the buffers back
 *   (with -ECANCELED, in the order the fences were made).
 * - Access fence: before the driver accesses an imported (DMABUF) buffer,
 *   vb2x_buffer_begin_access() checks the fences of its dma-bufs (writers
 *   for output, all for capture) without blocking and, once they are all
 *   signalled, publishes a read fence (output) or a write fence (capture)
 *   of our own that signals in vb2x_buffer_done().
 *
 * Every fence is signalled exactly once, by whoever takes it out of
 * &vb2x_buffer.fence, and every path that takes a buffer from the device
 * (done, error, STREAMOFF, REQBUFS, the owner's close) does. A fence is
 * published only while the device runs and will reach the buffer within
 * bounded time (the frame periods of the buffers ahead of it, plus at
 * most the one-second bound on waiting for the fences of others), so
 * every fence of ours signals in bounded time without help from
 * userspace. The paths that signal run in dma_fence_begin_signalling()
 * sections for lockdep.
 *
 * Lifetime: a fence is a refcounted &struct dma_fence. &vb2x_buffer.fence
 * holds one reference until the fence is signalled, each reservation
 * object it was added to holds one until the fence is replaced or the
 * object freed, and sync_files or other drivers may hold more for as long
 * as they like. Each fence has its own spinlock (a queue may be gone
 * before its fences are) and holds a reference to this module from its
 * creation until an RCU grace period after its release, so that its ops
 * stay valid: rmmod fails with EBUSY while anyone still holds one of our
 * fences, and the module's exit waits (vb2x_fence_exit()) for the RCU
 * callbacks that dropped the last references to finish.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <media/vb2x-memops.h>

#include "vb2x-internal.h"

/*
 * How long a queued imported buffer may wait for the fences of others
 * before it is returned as ERROR.
 */
#define VB2X_FENCE_TIMEOUT_NS	NSEC_PER_SEC

/**
 * struct vb2x_fence - a fence of ours
 * @base: the fence; first member, so that dma_fence_free() frees it all
 * @lock: the fence's lock (&dma_fence.lock), taken by the dma-fence core
 * @timeline: static name of what the fence stands for
 */
struct vb2x_fence {
	struct dma_fence	base;
	spinlock_t		lock;	/* the fence's signalling state */
	const char		*timeline;
};

static const char *vb2x_fence_driver_name(struct dma_fence *f)
{
	return KBUILD_MODNAME;
}

static const char *vb2x_fence_timeline_name(struct dma_fence *f)
{
	return container_of(f, struct vb2x_fence, base)->timeline;
}

/* An RCU grace period after the release: free, then let the module go. */
static void vb2x_fence_free_rcu(struct rcu_head *rcu)
{
	struct dma_fence *f = container_of(rcu, struct dma_fence, rcu);

	kfree(container_of(f, struct vb2x_fence, base));
	module_put(THIS_MODULE);
}

/*
 * The last reference is gone. Lockless readers of the fence (dma_resv
 * iterators) may still look at it for a grace period, and the module may
 * only go once this code has run: both are left to an RCU callback, which
 * vb2x_fence_exit() waits for.
 */
static void vb2x_fence_release(struct dma_fence *f)
{
	call_rcu(&f->rcu, vb2x_fence_free_rcu);
}

static const struct dma_fence_ops vb2x_fence_ops = {
	.get_driver_name = vb2x_fence_driver_name,
	.get_timeline_name = vb2x_fence_timeline_name,
	.release = vb2x_fence_release,
};

/**
 * vb2x_fence_exit() - wait for the fences of vb2x to be freed
 *
 * Called from the exit of the module vb2x is linked into, which runs only
 * once no fence of ours is held (each holds a module reference): waits
 * for the RCU callbacks that free released fences to have finished.
 */
void vb2x_fence_exit(void)
{
	rcu_barrier();
}

/**
 * vb2x_fence_queue_init() - give a queue its fence timeline
 * @q: the queue
 */
void vb2x_fence_queue_init(struct vb2x_queue *q)
{
	q->fence_context = dma_fence_context_alloc(1);
	atomic64_set(&q->fence_seqno, 0);
}

static struct dma_fence *vb2x_fence_create(struct vb2x_queue *q,
					   const char *timeline)
{
	struct vb2x_fence *f;

	BUILD_BUG_ON(offsetof(struct vb2x_fence, base));
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	f->timeline = timeline;
	__module_get(THIS_MODULE);
	dma_fence_init(&f->base, &vb2x_fence_ops, &f->lock, q->fence_context,
		       atomic64_inc_return(&q->fence_seqno));
	return &f->base;
}

/* The reservation object of a plane, NULL if the plane's memory has none. */
static struct dma_resv *vb2x_plane_resv(struct vb2x_buffer *vb,
					unsigned int plane)
{
	const struct vb2x_mem_ops *ops = vb->vb2x_queue->mem_ops;
	void *priv = vb->planes[plane].mem_priv;

	if (!priv)
		return NULL;
	if (vb->memory == VB2X_MEMORY_DMABUF)
		return vb2x_import_resv(priv);
	if (vb->memory == VB2X_MEMORY_MMAP && ops->resv)
		return ops->resv(priv);
	return NULL;
}

/*
 * Add @fence with @usage to the reservation object of every plane that has
 * one. If a plane's object cannot make room the fence is signalled at once
 * (without error: it guards nothing) and -ENOMEM returned.
 */
static int vb2x_fence_publish(struct vb2x_buffer *vb, struct dma_fence *fence,
			      enum dma_resv_usage usage)
{
	struct dma_resv *resv;
	unsigned int plane;
	int ret;

	for (plane = 0; plane < vb->num_planes; plane++) {
		resv = vb2x_plane_resv(vb, plane);
		if (!resv)
			continue;
		dma_resv_lock(resv, NULL);
		ret = dma_resv_reserve_fences(resv, 1);
		if (!ret)
			dma_resv_add_fence(resv, fence, usage);
		dma_resv_unlock(resv);
		if (ret) {
			vb2x_dbg(vb->vb2x_queue,
				 "buffer %u plane %u: no room for a fence\n",
				 vb->index, plane);
			dma_fence_signal(fence);
			return ret;
		}
	}
	return 0;
}

/**
 * vb2x_fence_enqueue() - a buffer goes to the running driver: give a
 *	capture MMAP buffer its write fence
 * @vb: the buffer, being handed to the driver
 *
 * Other buffers (output, USERPTR, DMABUF) get no fence here. Called with
 * &vb2x_queue.lock held, only while the driver runs
 * (&vb2x_queue.start_streaming_called), so the fence signals when the
 * device is done with the buffer, in bounded time.
 *
 * Return: 0 or -ENOMEM (no fence, or no room for it in a plane's
 * reservation object).
 */
int vb2x_fence_enqueue(struct vb2x_buffer *vb)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	struct dma_fence *fence;
	int ret;

	lockdep_assert_held(q->lock);
	if (q->is_output || vb->memory != VB2X_MEMORY_MMAP ||
	    !q->mem_ops->resv)
		return 0;
	if (WARN_ON_ONCE(vb->fence))
		vb2x_fence_signal(vb, -EIO);
	fence = vb2x_fence_create(q, "vb2x-capture");
	if (!fence)
		return -ENOMEM;
	ret = vb2x_fence_publish(vb, fence, DMA_RESV_USAGE_WRITE);
	if (ret) {
		dma_fence_put(fence);
		return ret;
	}
	vb->fence = fence;
	return 0;
}

/**
 * vb2x_fence_signal() - signal the fence of a buffer, if it has one
 * @vb: the buffer, no longer accessed by the device
 * @error: 0, or the negative errno the fence signals with
 *
 * Drops &vb2x_buffer.fence. May be called from any context; the caller
 * makes sure no one else signals the same buffer's fence at the same time
 * (the buffer is either with the driver, which calls vb2x_buffer_done()
 * once, or not, and then only &vb2x_queue.lock holders touch it).
 */
void vb2x_fence_signal(struct vb2x_buffer *vb, int error)
{
	struct dma_fence *fence = vb->fence;

	if (!fence)
		return;
	vb->fence = NULL;
	if (error)
		dma_fence_set_error(fence, error);
	dma_fence_signal(fence);
	dma_fence_put(fence);
}

/**
 * vb2x_fence_cancel_all() - signal the fences of every buffer taken back
 * @q: the queue; the driver no longer holds any of its buffers
 *
 * Signals each pending &vb2x_buffer.fence with -ECANCELED, oldest fence
 * first, so that the fences of the queue's context signal in the order of
 * their sequence numbers. Called with &vb2x_queue.lock held.
 */
void vb2x_fence_cancel_all(struct vb2x_queue *q)
{
	struct vb2x_buffer *oldest;
	bool cookie;
	unsigned int i;

	lockdep_assert_held(q->lock);
	cookie = dma_fence_begin_signalling();
	for (;;) {
		oldest = NULL;
		for (i = 0; i < q->num_buffers; i++) {
			if (!q->bufs[i]->fence)
				continue;
			if (!oldest || q->bufs[i]->fence->seqno <
				       oldest->fence->seqno)
				oldest = q->bufs[i];
		}
		if (!oldest)
			break;
		vb2x_fence_signal(oldest, -ECANCELED);
	}
	dma_fence_end_signalling(cookie);
}

/*
 * Whether every fence of @usage in @resv has signalled: 1 if so, 0 if one
 * is pending, or the error of a fence that signalled with one at or after
 * @since (CLOCK_MONOTONIC ns). A fence that failed before then is not the
 * current queueing's business: an old cancelled capture, or a GPU reset
 * long ago, must not fail every later use of the dma-buf.
 */
static int vb2x_fence_check(struct dma_resv *resv, enum dma_resv_usage usage,
			    u64 since)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	int status, ret = 1;

	dma_resv_lock(resv, NULL);
	dma_resv_for_each_fence(&cursor, resv, usage, fence) {
		status = dma_fence_get_status(fence);
		if (!status) {
			ret = 0;
			continue;
		}
		if (status < 0 &&
		    (!test_bit(DMA_FENCE_FLAG_TIMESTAMP_BIT, &fence->flags) ||
		     ktime_to_ns(fence->timestamp) >= since)) {
			ret = status;
			break;
		}
	}
	dma_resv_unlock(resv);
	return ret;
}

/**
 * vb2x_buffer_begin_access() - may the driver access a buffer's memory now
 * @vb: a buffer the driver holds (got through &vb2x_ops.buf_queue)
 *
 * Only DMABUF buffers can have to wait. An output buffer waits for the
 * write fences of its dma-bufs, a capture buffer for all their fences
 * (readers and writers). This does not block: while a fence is pending it
 * returns -EAGAIN and the driver leaves the buffer queued and asks again
 * later. Once every fence has signalled, a fence of ours is added to each
 * dma-buf (a read fence for output, a write fence for capture) and
 * signalled by vb2x_buffer_done(). Called by the driver in process
 * context, without &vb2x_queue.lock, before it reads or writes the
 * buffer; the driver must not call it again for the same buffer once it
 * returned 0. Only fences that signalled with an error since the buffer
 * was handed to the driver (&vb2x_buffer.queued_ns) fail it.
 *
 * The exporter's begin CPU access is called between the check and the
 * publication of our fence (it waits for the fences too, and would wait
 * for ours). A fence added by someone else between the check and that
 * call is waited for there, but only for what is left of the one-second
 * bound: the caller must be a kernel thread that allows SIGKILL
 * (allow_signal()), which vb2x sends it when the bound runs out, and
 * which the driver also sends it before kthread_stop() so that stopping
 * never waits for a fence.
 *
 * Return: 0 when the driver may access the buffer; -EAGAIN while a fence
 * is pending; -ETIMEDOUT when fences have been pending for more than one
 * second since the first call for this queueing of the buffer; -EIO when
 * a fence signalled with an error; -ENOMEM when no fence of ours could
 * be published; or the exporter's error from its begin CPU access. On any
 * error other than -EAGAIN the driver returns the buffer with
 * %VB2X_BUF_STATE_ERROR.
 */
int vb2x_buffer_begin_access(struct vb2x_buffer *vb)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	enum dma_resv_usage usage;
	struct dma_fence *fence;
	struct dma_resv *resv;
	unsigned int plane;
	int ready = 1;
	u64 now, left;
	int ret;

	if (vb->memory != VB2X_MEMORY_DMABUF)
		return 0;
	usage = q->is_output ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ;
	for (plane = 0; plane < vb->num_planes && ready > 0; plane++) {
		resv = vb2x_plane_resv(vb, plane);
		if (resv)
			ready = vb2x_fence_check(resv, usage, vb->queued_ns);
	}
	if (ready < 0) {
		vb2x_dbg(q, "buffer %u: a fence signalled error %d\n",
			 vb->index, ready);
		return -EIO;
	}
	now = ktime_get_ns();
	if (!ready) {
		if (!vb->fence_wait_since)
			vb->fence_wait_since = now;
		if (now - vb->fence_wait_since <= VB2X_FENCE_TIMEOUT_NS)
			return -EAGAIN;
		vb2x_dbg(q, "buffer %u: fences still pending after 1 s\n",
			 vb->index);
		return -ETIMEDOUT;
	}
	left = VB2X_FENCE_TIMEOUT_NS;
	if (vb->fence_wait_since)
		left -= min(now - vb->fence_wait_since, left);

	/* Before our own fence is in: the exporter waits for all fences. */
	for (plane = 0; plane < vb->num_planes; plane++) {
		ret = vb2x_import_begin_cpu(vb->planes[plane].mem_priv, left);
		if (ret) {
			vb2x_dbg(q, "buffer %u plane %u: dma-buf refused CPU access: %d\n",
				 vb->index, plane, ret);
			return ret;
		}
	}
	fence = vb2x_fence_create(q, q->is_output ? "vb2x-output-import" :
						    "vb2x-capture-import");
	if (!fence)
		return -ENOMEM;
	ret = vb2x_fence_publish(vb, fence, q->is_output ?
				 DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE);
	if (ret) {
		dma_fence_put(fence);
		return ret;
	}
	vb->fence = fence;
	return 0;
}
