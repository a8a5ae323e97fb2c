/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-core.h - buffer queue state machine of the vivid-expbuf videobuf2
 *
 * The names carry a "vb2x_" prefix so that this framework, which is linked
 * into vivid-expbuf.ko and exports nothing, never clashes with the stock
 * videobuf2 modules loaded in the same kernel, nor with their headers.
 * This file knows nothing of V4L2 structures; vb2x-v4l2.h translates.
 */
#ifndef _MEDIA_VB2X_CORE_H
#define _MEDIA_VB2X_CORE_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#define VB2X_MAX_BUFFERS	32
#define VB2X_MAX_PLANES		8

struct device;
struct dma_fence;
struct vb2x_budget;
struct vb2x_buffer;
struct vb2x_mem_ops;
struct vb2x_queue;

/**
 * enum vb2x_memory - kind of memory behind a queue's buffers
 * @VB2X_MEMORY_UNSET: no buffers allocated
 * @VB2X_MEMORY_MMAP: allocated by the queue's memory ops, mapped with mmap()
 * @VB2X_MEMORY_USERPTR: user memory, pinned while the buffer is queued
 * @VB2X_MEMORY_DMABUF: memory imported from a dma-buf
 *
 * The values equal the V4L2_MEMORY_* values of the uAPI.
 */
enum vb2x_memory {
	VB2X_MEMORY_UNSET	= 0,
	VB2X_MEMORY_MMAP	= 1,
	VB2X_MEMORY_USERPTR	= 2,
	VB2X_MEMORY_DMABUF	= 4,
};

/**
 * enum vb2x_io_modes - memory kinds a queue accepts (bit mask)
 * @VB2X_MMAP: MMAP buffers
 * @VB2X_USERPTR: USERPTR buffers
 * @VB2X_DMABUF: imported dma-bufs
 */
enum vb2x_io_modes {
	VB2X_MMAP	= BIT(0),
	VB2X_USERPTR	= BIT(1),
	VB2X_DMABUF	= BIT(2),
};

/**
 * enum vb2x_buffer_state - where a buffer is in its life cycle
 * @VB2X_BUF_STATE_DEQUEUED: owned by userspace
 * @VB2X_BUF_STATE_PREPARED: prepared, still owned by userspace
 * @VB2X_BUF_STATE_QUEUED: queued in vb2x, not yet handed to the driver
 * @VB2X_BUF_STATE_ACTIVE: owned by the driver
 * @VB2X_BUF_STATE_DONE: returned by the driver, waiting for DQBUF
 * @VB2X_BUF_STATE_ERROR: returned by the driver with an error, waiting
 *	for DQBUF (dequeued with the error flag set)
 *
 * Drivers pass only %VB2X_BUF_STATE_DONE or %VB2X_BUF_STATE_ERROR to
 * vb2x_buffer_done(), or %VB2X_BUF_STATE_QUEUED when returning buffers from
 * a failed &vb2x_ops.start_streaming.
 */
enum vb2x_buffer_state {
	VB2X_BUF_STATE_DEQUEUED,
	VB2X_BUF_STATE_PREPARED,
	VB2X_BUF_STATE_QUEUED,
	VB2X_BUF_STATE_ACTIVE,
	VB2X_BUF_STATE_DONE,
	VB2X_BUF_STATE_ERROR,
};

/**
 * struct vb2x_plane - one memory plane of a buffer
 * @mem_priv: the memory ops' handle of this plane's memory (for DMABUF the
 *	import of vb2x-dmabuf-import.c); the buffer holds one reference to
 *	it, dropped when the buffer is freed or its memory replaced
 * @bytesused: bytes of payload in the plane
 * @length: size of the plane's memory in bytes
 * @min_length: size the driver asked for in &vb2x_ops.queue_setup
 * @m: memory-kind specific cookie
 * @m.offset: MMAP: the offset userspace passes to mmap()
 * @m.userptr: USERPTR: the user address
 * @m.fd: DMABUF: the file descriptor userspace queued
 * @data_offset: offset of the payload from the start of the plane
 */
struct vb2x_plane {
	void			*mem_priv;
	unsigned int		bytesused;
	unsigned int		length;
	unsigned int		min_length;
	union {
		unsigned int	offset;
		unsigned long	userptr;
		int		fd;
	} m;
	unsigned int		data_offset;
};

/**
 * struct vb2x_buffer - one buffer of a queue
 * @vb2x_queue: the queue this buffer belongs to
 * @index: position in the queue's buffer array
 * @type: V4L2 buffer type (same as the queue's)
 * @memory: &enum vb2x_memory of its planes
 * @num_planes: planes in use
 * @timestamp: capture or output time in ns (CLOCK_MONOTONIC), set by the
 *	driver before vb2x_buffer_done() for capture queues
 * @state: &enum vb2x_buffer_state; changed under &vb2x_queue.done_lock
 *	once the buffer has been handed to the driver
 * @planes: the memory planes
 * @queued_entry: link in &vb2x_queue.queued_list, from QBUF to DQBUF
 * @done_entry: link in &vb2x_queue.done_list, protected by
 *	&vb2x_queue.done_lock
 * @fence: the fence vb2x published for the device's current use of the
 *	buffer (vb2x-fence.c), NULL when none is pending; the buffer holds
 *	one reference to it until it is signalled. Set when the buffer is
 *	handed to the running driver (capture MMAP) or by
 *	vb2x_buffer_begin_access() (DMABUF), taken and signalled by
 *	vb2x_buffer_done() or when streaming stops.
 * @queued_ns: DMABUF only: when the buffer was handed to the driver
 *	(CLOCK_MONOTONIC ns); fences of others that signalled with an error
 *	before then are not this queueing's concern
 * @fence_wait_since: when vb2x_buffer_begin_access() first found a fence
 *	pending since the buffer was queued (CLOCK_MONOTONIC ns), 0 if it
 *	has not; used only by the driver's thread that asks
 *
 * Drivers embed &struct vb2x_v4l2_buffer (which embeds this) as the first
 * member of their own buffer struct and set &vb2x_queue.buf_struct_size.
 */
struct vb2x_buffer {
	struct vb2x_queue	*vb2x_queue;
	unsigned int		index;
	unsigned int		type;
	unsigned int		memory;
	unsigned int		num_planes;
	u64			timestamp;
	enum vb2x_buffer_state	state;
	struct vb2x_plane	planes[VB2X_MAX_PLANES];
	struct list_head	queued_entry;
	struct list_head	done_entry;
	struct dma_fence	*fence;
	u64			queued_ns;
	u64			fence_wait_since;
};

/**
 * struct vb2x_ops - driver callbacks
 * @queue_setup: called from REQBUFS and CREATE_BUFS. With *@num_planes
 *	zero (REQBUFS) the driver fills @num_planes and @sizes for its
 *	current format and may adjust *@num_buffers; with *@num_planes
 *	non-zero (CREATE_BUFS) it checks the given plane count and sizes
 *	against its format and returns -EINVAL if they are too small.
 *	Called with &vb2x_queue.lock held.
 * @buf_prepare: optional; check the buffer (plane sizes) before it is
 *	queued or prepared, return -EINVAL to refuse it.
 * @buf_queue: required; hand a buffer to the driver. Called with
 *	&vb2x_queue.lock held, only while streaming has started.
 * @start_streaming: required; start the device with @count buffers
 *	already given through @buf_queue. On failure the driver returns
 *	every buffer it holds with %VB2X_BUF_STATE_QUEUED.
 * @stop_streaming: required; stop the device and return every buffer it
 *	holds with vb2x_buffer_done(%VB2X_BUF_STATE_ERROR) before returning.
 */
struct vb2x_ops {
	int (*queue_setup)(struct vb2x_queue *q, unsigned int *num_buffers,
			   unsigned int *num_planes, unsigned int sizes[]);
	int (*buf_prepare)(struct vb2x_buffer *vb);
	void (*buf_queue)(struct vb2x_buffer *vb);
	int (*start_streaming)(struct vb2x_queue *q, unsigned int count);
	void (*stop_streaming)(struct vb2x_queue *q);
};

/**
 * struct vb2x_queue - a buffer queue
 *
 * Set by the driver before vb2x_queue_init():
 * @type: V4L2 buffer type (enum v4l2_buf_type value)
 * @io_modes: &enum vb2x_io_modes accepted
 * @dev: device used by the memory ops for allocation and DMA mapping
 * @ops: driver callbacks
 * @mem_ops: allocator, e.g. &vb2x_vmalloc_memops
 * @budget: optional bound on the MMAP memory still alive (orphans
 *	included), usually one per device; the driver keeps its reference
 *	for as long as the queue exists
 * @drv_priv: driver data, returned by vb2x_get_drv_priv()
 * @buf_struct_size: size of the driver's buffer struct
 * @timestamp_flags: V4L2_BUF_FLAG_TIMESTAMP_* and _TSTAMP_SRC_* flags
 * @min_queued_buffers: buffers that must be queued before
 *	&vb2x_ops.start_streaming is called
 * @lock: the driver's mutex serializing every ioctl, mmap, poll setup and
 *	release on this queue; set it as &video_device.lock too. vb2x drops
 *	it while a blocking DQBUF sleeps.
 *
 * Internal, owned by vb2x:
 * @mmap_lock: taken by mmap() instead of @lock, because mmap() runs with
 *	the mm's mmap_lock held while ioctls holding @lock may fault or pin
 *	user pages (lock order: @lock, then the mm's mmap_lock, then
 *	@mmap_lock). Taken inside @lock, briefly and never around an
 *	allocation, by whoever changes @owner, @memory, @bufs or
 *	@num_buffers, so that mmap() sees buffers and their owner together.
 * @owner: opaque cookie of the file handle that allocated the buffers;
 *	NULL exactly when the queue has no buffers. Written with @lock and
 *	@mmap_lock held, in the same @mmap_lock section as @bufs; read with
 *	either.
 * @memory: &enum vb2x_memory of the allocated buffers. Written with @lock
 *	and @mmap_lock held, read with either.
 * @bufs: the buffers. Written with @lock and @mmap_lock held, read with
 *	either.
 * @num_buffers: number of allocated buffers. Written with @lock and
 *	@mmap_lock held, read with either.
 * @queued_list: buffers between QBUF and DQBUF. Protected by @lock.
 * @queued_count: entries in @queued_list. Protected by @lock.
 * @owned_by_drv_count: buffers held by the driver (ACTIVE), atomic.
 * @done_list: buffers returned by the driver, waiting for DQBUF.
 *	Protected by @done_lock.
 * @done_lock: spinlock protecting @done_list and buffer state changes
 *	made by vb2x_buffer_done(), which drivers call from any context.
 * @done_wq: woken when a buffer reaches @done_list or streaming stops.
 * @streaming: STREAMON succeeded and no STREAMOFF since. Written with
 *	@lock held (WRITE_ONCE()); read with @lock held, or with READ_ONCE()
 *	by a DQBUF sleeping without it.
 * @start_streaming_called: &vb2x_ops.start_streaming succeeded: the
 *	driver runs and gets each queued buffer at once. Protected by @lock.
 * @is_multiplanar: @type is a multi-planar type.
 * @is_output: @type is an output type.
 * @fence_context: dma-fence context of the fences published for this
 *	queue's buffers (vb2x-fence.c).
 * @fence_seqno: last sequence number used in @fence_context, atomic.
 * @stopping: vb2x is taking the buffers back (STREAMOFF, REQBUFS, close):
 *	buffers the driver returns now keep their fence, which vb2x then
 *	signals with -ECANCELED in the order of the fences. Written with
 *	@lock held, read by vb2x_buffer_done() in any context.
 */
struct vb2x_queue {
	unsigned int			type;
	unsigned int			io_modes;
	struct device			*dev;
	const struct vb2x_ops		*ops;
	const struct vb2x_mem_ops	*mem_ops;
	struct vb2x_budget		*budget;
	void				*drv_priv;
	unsigned int			buf_struct_size;
	u32				timestamp_flags;
	unsigned int			min_queued_buffers;
	struct mutex			*lock;		/* serializes the queue */

	struct mutex			mmap_lock;	/* mmap() vs. buffers */
	void				*owner;
	unsigned int			memory;
	struct vb2x_buffer		*bufs[VB2X_MAX_BUFFERS];
	unsigned int			num_buffers;
	struct list_head		queued_list;
	unsigned int			queued_count;
	atomic_t			owned_by_drv_count;
	struct list_head		done_list;
	spinlock_t			done_lock;	/* done_list, states */
	wait_queue_head_t		done_wq;
	bool				streaming;
	bool				start_streaming_called;
	bool				is_multiplanar;
	bool				is_output;
	u64				fence_context;
	atomic64_t			fence_seqno;
	bool				stopping;
};

int vb2x_queue_init(struct vb2x_queue *q);

/* Drivers: see the kernel-doc at the definitions (vb2x-core.c, vb2x-fence.c). */
void vb2x_buffer_done(struct vb2x_buffer *vb, enum vb2x_buffer_state state);
int vb2x_buffer_begin_access(struct vb2x_buffer *vb);
void vb2x_fence_exit(void);
void *vb2x_plane_vaddr(struct vb2x_buffer *vb, unsigned int plane);
unsigned long vb2x_plane_size(struct vb2x_buffer *vb, unsigned int plane);
void vb2x_set_plane_payload(struct vb2x_buffer *vb, unsigned int plane,
			    unsigned long size);
unsigned long vb2x_get_plane_payload(struct vb2x_buffer *vb,
				     unsigned int plane);

/**
 * vb2x_get_drv_priv() - the driver data of a queue
 * @q: the queue
 *
 * Return: &vb2x_queue.drv_priv.
 */
static inline void *vb2x_get_drv_priv(struct vb2x_queue *q)
{
	return q->drv_priv;
}

/**
 * vb2x_is_streaming() - whether STREAMON succeeded on the queue
 * @q: the queue
 *
 * Return: true while streaming.
 */
static inline bool vb2x_is_streaming(struct vb2x_queue *q)
{
	return READ_ONCE(q->streaming);
}

/**
 * vb2x_is_busy() - whether the queue has buffers allocated
 * @q: the queue
 *
 * Drivers refuse format changes with -EBUSY while this is true.
 *
 * Return: true if buffers are allocated.
 */
static inline bool vb2x_is_busy(struct vb2x_queue *q)
{
	return q->num_buffers > 0;
}

#endif /* _MEDIA_VB2X_CORE_H */
