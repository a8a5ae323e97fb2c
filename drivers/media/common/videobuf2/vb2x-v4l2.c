// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-v4l2.c - V4L2 ioctl and file-operation glue of the vivid-expbuf
 * videobuf2
 *
 * Translates struct v4l2_buffer, v4l2_requestbuffers and v4l2_create_buffers
 * to the core calls of vb2x-core.c and back, and enforces queue ownership:
 * the file handle that allocates buffers owns the queue until it frees
 * them or closes. Every ioctl here runs with &vb2x_queue.lock held by
 * videodev (the driver sets it as &video_device.lock). The file handle is
 * always taken from the file (&file.private_data, set at open), never
 * from the ioctl's priv argument, which newer kernels pass as NULL.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <media/v4l2-common.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-event.h>
#include <media/vb2x-compat.h>
#include <media/vb2x-memops.h>
#include <media/vb2x-v4l2.h>

#include "vb2x-internal.h"

/* Flags vb2x computes for every reported buffer, never stored. */
#define VB2X_STATE_FLAGS	(V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE | \
				 V4L2_BUF_FLAG_ERROR | V4L2_BUF_FLAG_PREPARED | \
				 V4L2_BUF_FLAG_MAPPED | \
				 V4L2_BUF_FLAG_IN_REQUEST | \
				 V4L2_BUF_FLAG_REQUEST_FD | \
				 V4L2_BUF_FLAG_NO_CACHE_INVALIDATE | \
				 V4L2_BUF_FLAG_NO_CACHE_CLEAN | \
				 V4L2_BUF_FLAG_TIMESTAMP_MASK | \
				 V4L2_BUF_FLAG_TSTAMP_SRC_MASK)

/* Flags userspace may pass with an output buffer. */
#define VB2X_OUTPUT_FLAGS	(V4L2_BUF_FLAG_TIMECODE | \
				 V4L2_BUF_FLAG_KEYFRAME | \
				 V4L2_BUF_FLAG_PFRAME | \
				 V4L2_BUF_FLAG_BFRAME)

static struct vb2x_fh *file_to_vb2x_fh(struct file *file)
{
	return container_of((struct v4l2_fh *)file->private_data,
			    struct vb2x_fh, fh);
}

static bool vb2x_ts_is_copy(struct vb2x_queue *q)
{
	return (q->timestamp_flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) ==
	       V4L2_BUF_FLAG_TIMESTAMP_COPY;
}

/* A handle other than the owner may not touch a queue with buffers. */
static int vb2x_check_owner(struct vb2x_fh *fh)
{
	struct vb2x_queue *q = fh->queue;

	lockdep_assert_held(q->lock);
	if (q->owner && q->owner != fh) {
		vb2x_dbg(q, "queue owned by another file handle\n");
		return -EBUSY;
	}
	return 0;
}

static u32 vb2x_buf_caps(struct vb2x_queue *q)
{
	u32 caps = V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;

	if (q->io_modes & VB2X_MMAP)
		caps |= V4L2_BUF_CAP_SUPPORTS_MMAP;
	if (q->io_modes & VB2X_USERPTR)
		caps |= V4L2_BUF_CAP_SUPPORTS_USERPTR;
	if (q->io_modes & VB2X_DMABUF)
		caps |= V4L2_BUF_CAP_SUPPORTS_DMABUF;
#ifdef V4L2_BUF_CAP_SUPPORTS_MAX_NUM_BUFFERS
	caps |= V4L2_BUF_CAP_SUPPORTS_MAX_NUM_BUFFERS;
#endif
	return caps;
}

/**
 * vb2x_queue_init() - check and initialize a queue set up by the driver
 * @q: the queue, with the driver's fields filled in
 *
 * Checks the V4L2 buffer type and timestamp flags before initializing the
 * core state.
 *
 * Return: 0, or -EINVAL if a required field or callback is missing.
 */
int vb2x_queue_init(struct vb2x_queue *q)
{
	if (WARN_ON(!q->ops || !q->ops->queue_setup || !q->ops->buf_queue ||
		    !q->ops->start_streaming || !q->ops->stop_streaming))
		return -EINVAL;
	if (WARN_ON(!q->mem_ops || !q->io_modes || !q->lock))
		return -EINVAL;
	if (WARN_ON(q->type != V4L2_BUF_TYPE_VIDEO_CAPTURE &&
		    q->type != V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE &&
		    q->type != V4L2_BUF_TYPE_VIDEO_OUTPUT &&
		    q->type != V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE))
		return -EINVAL;
	if (!q->buf_struct_size)
		q->buf_struct_size = sizeof(struct vb2x_v4l2_buffer);
	if (WARN_ON(q->buf_struct_size < sizeof(struct vb2x_v4l2_buffer)))
		return -EINVAL;
	if (WARN_ON((q->timestamp_flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) ==
		    V4L2_BUF_FLAG_TIMESTAMP_UNKNOWN))
		return -EINVAL;

	q->is_multiplanar = V4L2_TYPE_IS_MULTIPLANAR(q->type);
	q->is_output = V4L2_TYPE_IS_OUTPUT(q->type);
	vb2x_core_queue_init(q);
	return 0;
}

/* Report a buffer's state to userspace. */
static void vb2x_fill_v4l2_buffer(struct vb2x_buffer *vb,
				  struct v4l2_buffer *b)
{
	struct vb2x_v4l2_buffer *vbuf = to_vb2x_v4l2_buffer(vb);
	struct vb2x_queue *q = vb->vb2x_queue;
	struct v4l2_plane *pd;
	struct vb2x_plane *p;
	unsigned int plane;

	b->index = vb->index;
	b->type = vb->type;
	b->memory = vb->memory;
	b->field = vbuf->field;
	v4l2_buffer_set_timestamp(b, vb->timestamp);
	b->timecode = vbuf->timecode;
	b->sequence = vbuf->sequence;
	b->reserved2 = 0;
	b->request_fd = 0;

	if (q->is_multiplanar) {
		b->length = vb->num_planes;
		for (plane = 0; plane < vb->num_planes; plane++) {
			p = &vb->planes[plane];
			pd = &b->m.planes[plane];
			memset(pd, 0, sizeof(*pd));
			pd->bytesused = p->bytesused;
			pd->length = p->length;
			pd->data_offset = p->data_offset;
			if (vb->memory == VB2X_MEMORY_MMAP)
				pd->m.mem_offset = p->m.offset;
			else if (vb->memory == VB2X_MEMORY_DMABUF)
				pd->m.fd = p->m.fd;
			else
				pd->m.userptr = p->m.userptr;
		}
	} else {
		p = &vb->planes[0];
		b->length = p->length;
		b->bytesused = p->bytesused;
		if (vb->memory == VB2X_MEMORY_MMAP)
			b->m.offset = p->m.offset;
		else if (vb->memory == VB2X_MEMORY_DMABUF)
			b->m.fd = p->m.fd;
		else
			b->m.userptr = p->m.userptr;
	}

	b->flags = vbuf->flags & ~VB2X_STATE_FLAGS;
	b->flags |= q->timestamp_flags & V4L2_BUF_FLAG_TIMESTAMP_MASK;
	if (q->is_output && vb2x_ts_is_copy(q))
		b->flags |= vbuf->flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK;
	else
		b->flags |= q->timestamp_flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK;

	switch (vb->state) {
	case VB2X_BUF_STATE_QUEUED:
	case VB2X_BUF_STATE_ACTIVE:
		b->flags |= V4L2_BUF_FLAG_QUEUED;
		break;
	case VB2X_BUF_STATE_ERROR:
		b->flags |= V4L2_BUF_FLAG_ERROR | V4L2_BUF_FLAG_DONE;
		break;
	case VB2X_BUF_STATE_DONE:
		b->flags |= V4L2_BUF_FLAG_DONE;
		break;
	case VB2X_BUF_STATE_PREPARED:
		b->flags |= V4L2_BUF_FLAG_PREPARED;
		break;
	case VB2X_BUF_STATE_DEQUEUED:
		break;
	}
	if (vb2x_core_buffer_mapped(vb))
		b->flags |= V4L2_BUF_FLAG_MAPPED;
}

/* The planes array of a multi-planar buffer must hold every plane. */
static int vb2x_check_planes_array(struct vb2x_queue *q,
				   const struct v4l2_buffer *b,
				   unsigned int num_planes)
{
	if (!q->is_multiplanar)
		return 0;
	if (!b->m.planes) {
		vb2x_dbg(q, "multi-planar buffer without planes array\n");
		return -EINVAL;
	}
	if (b->length < num_planes || b->length > VIDEO_MAX_PLANES) {
		vb2x_dbg(q, "planes array holds %u planes, buffer has %u\n",
			 b->length, num_planes);
		return -EINVAL;
	}
	return 0;
}

/* Look up the buffer a struct v4l2_buffer from userspace names. */
static int vb2x_lookup(struct vb2x_queue *q, const struct v4l2_buffer *b,
		       bool check_memory, struct vb2x_buffer **vbp)
{
	struct vb2x_buffer *vb;

	if (b->type != q->type) {
		vb2x_dbg(q, "wrong buffer type %u\n", b->type);
		return -EINVAL;
	}
	if (b->index >= q->num_buffers) {
		vb2x_dbg(q, "buffer index %u out of range (%u buffers)\n",
			 b->index, q->num_buffers);
		return -EINVAL;
	}
	vb = q->bufs[b->index];
	if (check_memory && b->memory != q->memory) {
		vb2x_dbg(q, "memory %u does not match the queue's %u\n",
			 b->memory, q->memory);
		return -EINVAL;
	}
	*vbp = vb;
	return vb2x_check_planes_array(q, b, vb->num_planes);
}

/* Collect and check the plane data of QBUF / PREPARE_BUF. */
static int vb2x_get_plane_info(struct vb2x_buffer *vb,
			       const struct v4l2_buffer *b,
			       struct vb2x_plane_info *info)
{
	struct vb2x_queue *q = vb->vb2x_queue;
	const struct v4l2_plane *ps;
	unsigned int plane, length;

	for (plane = 0; plane < vb->num_planes; plane++) {
		if (q->is_multiplanar) {
			ps = &b->m.planes[plane];
			info[plane].bytesused = ps->bytesused;
			info[plane].length = ps->length;
			info[plane].userptr = ps->m.userptr;
			info[plane].data_offset = ps->data_offset;
			info[plane].fd = ps->m.fd;
		} else {
			info[plane].bytesused = b->bytesused;
			info[plane].length = b->length;
			info[plane].userptr = b->m.userptr;
			info[plane].data_offset = 0;
			info[plane].fd = b->m.fd;
		}
		/* A dma-buf's payload is checked against its size on import. */
		if (!q->is_output || vb->memory == VB2X_MEMORY_DMABUF)
			continue;

		length = vb->memory == VB2X_MEMORY_USERPTR ?
			 info[plane].length : vb->planes[plane].length;
		if (!info[plane].bytesused)
			info[plane].bytesused = length;
		if (info[plane].bytesused > length) {
			vb2x_dbg(q, "plane %u bytesused %u > length %u\n",
				 plane, info[plane].bytesused, length);
			return -EINVAL;
		}
		if (info[plane].data_offset >= info[plane].bytesused) {
			vb2x_dbg(q, "plane %u data_offset %u >= bytesused %u\n",
				 plane, info[plane].data_offset,
				 info[plane].bytesused);
			return -EINVAL;
		}
	}
	if (q->is_output &&
	    (b->field == V4L2_FIELD_ALTERNATE ||
	     b->field > V4L2_FIELD_INTERLACED_BT)) {
		vb2x_dbg(q, "invalid field %u for an output buffer\n",
			 b->field);
		return -EINVAL;
	}
	return 0;
}

/* Store the per-buffer V4L2 fields of a buffer userspace is queueing. */
static void vb2x_take_v4l2_fields(struct vb2x_buffer *vb,
				  const struct v4l2_buffer *b)
{
	struct vb2x_v4l2_buffer *vbuf = to_vb2x_v4l2_buffer(vb);
	struct vb2x_queue *q = vb->vb2x_queue;

	if (!q->is_output) {
		vbuf->flags = 0;
		vbuf->field = V4L2_FIELD_NONE;
		vbuf->sequence = 0;
		memset(&vbuf->timecode, 0, sizeof(vbuf->timecode));
		vb->timestamp = 0;
		return;
	}
	vbuf->flags = b->flags & VB2X_OUTPUT_FLAGS;
	vbuf->field = b->field == V4L2_FIELD_ANY ? V4L2_FIELD_NONE : b->field;
	vbuf->sequence = 0;
	if (b->flags & V4L2_BUF_FLAG_TIMECODE)
		vbuf->timecode = b->timecode;
	else
		memset(&vbuf->timecode, 0, sizeof(vbuf->timecode));
	if (vb2x_ts_is_copy(q)) {
		vb->timestamp = v4l2_buffer_get_timestamp(b);
		vbuf->flags |= b->flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK;
	} else {
		vb->timestamp = 0;
	}
}

/* QBUF's reply, taken while the buffer is queued and not yet the driver's. */
static void vb2x_report_queued(struct vb2x_buffer *vb, void *arg)
{
	vb2x_fill_v4l2_buffer(vb, arg);
}

/* Common part of QBUF and PREPARE_BUF. */
static int vb2x_queue_or_prepare(struct file *file, struct v4l2_buffer *b,
				 bool queue)
{
	struct vb2x_plane_info info[VB2X_MAX_PLANES] = { };
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;
	struct vb2x_buffer *vb;
	int ret;

	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	ret = vb2x_lookup(q, b, true, &vb);
	if (ret)
		return ret;
	if (b->flags & V4L2_BUF_FLAG_REQUEST_FD) {
		vb2x_dbg(q, "requests are not supported\n");
		return -EBADR;
	}
	if (vb->state != VB2X_BUF_STATE_DEQUEUED &&
	    !(queue && vb->state == VB2X_BUF_STATE_PREPARED)) {
		vb2x_dbg(q, "buffer %u is already %s\n", vb->index,
			 vb->state == VB2X_BUF_STATE_PREPARED ? "prepared" :
			 "queued");
		return -EINVAL;
	}
	if (vb->state == VB2X_BUF_STATE_DEQUEUED) {
		ret = vb2x_get_plane_info(vb, b, info);
		if (ret)
			return ret;
	}
	vb2x_take_v4l2_fields(vb, b);

	if (queue)
		return vb2x_core_qbuf(q, vb, info, vb2x_report_queued, b);
	/* An output timestamp is copied when the buffer is queued, not here. */
	vb->timestamp = 0;
	ret = vb2x_core_prepare_buf(q, vb, info);
	if (ret)
		return ret;
	vb2x_fill_v4l2_buffer(vb, b);
	return 0;
}

/**
 * vb2x_ioctl_reqbufs() - VIDIOC_REQBUFS
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the request
 *
 * Return: 0 or a negative errno (-EINVAL, -EBUSY, -ENOMEM).
 */
int vb2x_ioctl_reqbufs(struct file *file, void *priv,
		       struct v4l2_requestbuffers *p)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;
	int ret;

	p->capabilities = vb2x_buf_caps(q);
	p->flags = 0;
	if (p->type != q->type) {
		vb2x_dbg(q, "reqbufs: wrong buffer type %u\n", p->type);
		return -EINVAL;
	}
	ret = vb2x_core_check_memory(q, p->memory);
	if (ret)
		return ret;
	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	return vb2x_core_reqbufs(q, fh, p->memory, &p->count);
}

/* Plane count and sizes asked for by the format of CREATE_BUFS. */
static int vb2x_create_sizes(struct vb2x_queue *q, const struct v4l2_format *f,
			     unsigned int *num_planes, unsigned int sizes[])
{
	unsigned int plane;

	if (q->is_multiplanar) {
		*num_planes = f->fmt.pix_mp.num_planes;
		if (!*num_planes || *num_planes > VB2X_MAX_PLANES) {
			vb2x_dbg(q, "create_bufs: %u planes\n", *num_planes);
			return -EINVAL;
		}
		for (plane = 0; plane < *num_planes; plane++)
			sizes[plane] = f->fmt.pix_mp.plane_fmt[plane].sizeimage;
	} else {
		*num_planes = 1;
		sizes[0] = f->fmt.pix.sizeimage;
	}
	for (plane = 0; plane < *num_planes; plane++) {
		if (!sizes[plane]) {
			vb2x_dbg(q, "create_bufs: plane %u of size 0\n", plane);
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * vb2x_ioctl_create_bufs() - VIDIOC_CREATE_BUFS
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the request
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_create_bufs(struct file *file, void *priv,
			   struct v4l2_create_buffers *p)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;
	unsigned int sizes[VB2X_MAX_PLANES] = { };
	unsigned int num_planes;
	int ret;

	p->capabilities = vb2x_buf_caps(q);
	p->flags = 0;
#ifdef V4L2_BUF_CAP_SUPPORTS_MAX_NUM_BUFFERS
	p->max_num_buffers = VB2X_MAX_BUFFERS;
#endif
	memset(p->reserved, 0, sizeof(p->reserved));
	p->index = q->num_buffers;
	if (p->format.type != q->type) {
		vb2x_dbg(q, "create_bufs: wrong format type %u\n",
			 p->format.type);
		return -EINVAL;
	}
	ret = vb2x_core_check_memory(q, p->memory);
	if (ret || !p->count)
		return ret;
	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	ret = vb2x_create_sizes(q, &p->format, &num_planes, sizes);
	if (ret)
		return ret;
	return vb2x_core_create_bufs(q, fh, p->memory, &p->count, num_planes,
				     sizes);
}

/**
 * vb2x_ioctl_prepare_buf() - VIDIOC_PREPARE_BUF
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_prepare_buf(struct file *file, void *priv,
			   struct v4l2_buffer *p)
{
	return vb2x_queue_or_prepare(file, p, false);
}

/**
 * vb2x_ioctl_querybuf() - VIDIOC_QUERYBUF, open to every file handle
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the buffer
 *
 * Return: 0 or -EINVAL.
 */
int vb2x_ioctl_querybuf(struct file *file, void *priv, struct v4l2_buffer *p)
{
	struct vb2x_queue *q = file_to_vb2x_fh(file)->queue;
	struct vb2x_buffer *vb;
	int ret;

	ret = vb2x_lookup(q, p, false, &vb);
	if (ret)
		return ret;
	vb2x_fill_v4l2_buffer(vb, p);
	return 0;
}

/**
 * vb2x_ioctl_qbuf() - VIDIOC_QBUF
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_qbuf(struct file *file, void *priv, struct v4l2_buffer *p)
{
	return vb2x_queue_or_prepare(file, p, true);
}

/**
 * vb2x_ioctl_dqbuf() - VIDIOC_DQBUF, blocking unless O_NONBLOCK
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno (-EAGAIN, -EINVAL, -EPIPE, -EIO).
 */
int vb2x_ioctl_dqbuf(struct file *file, void *priv, struct v4l2_buffer *p)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;
	unsigned int i, max_planes = 1;
	struct vb2x_buffer *vb;
	int ret;

	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	if (p->type != q->type) {
		vb2x_dbg(q, "dqbuf: wrong buffer type %u\n", p->type);
		return -EINVAL;
	}
	for (i = 0; i < q->num_buffers; i++)
		max_planes = max(max_planes, q->bufs[i]->num_planes);
	ret = vb2x_check_planes_array(q, p, max_planes);
	if (ret)
		return ret;

	/*
	 * videodev sized its copy of the plane array from p->length before
	 * the call: the core takes no buffer with more planes, also when the
	 * buffers changed while it slept.
	 */
	ret = vb2x_core_dqbuf(q, fh, q->is_multiplanar ? p->length : 1, &vb,
			      file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;
	vb2x_fill_v4l2_buffer(vb, p);
	/* A dequeued buffer is no longer done, whatever its error state. */
	p->flags &= ~V4L2_BUF_FLAG_DONE;
	vb2x_core_dqbuf_finish(vb);
	return 0;
}

/**
 * vb2x_ioctl_streamon() - VIDIOC_STREAMON
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @type: the buffer type
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_streamon(struct file *file, void *priv, enum v4l2_buf_type type)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	int ret;

	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	return vb2x_core_streamon(fh->queue, type);
}

/**
 * vb2x_ioctl_streamoff() - VIDIOC_STREAMOFF
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @type: the buffer type
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_streamoff(struct file *file, void *priv,
			 enum v4l2_buf_type type)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	int ret;

	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	return vb2x_core_streamoff(fh->queue, type);
}

/**
 * vb2x_ioctl_expbuf() - VIDIOC_EXPBUF, for the queue's owner only
 * @file: the file
 * @priv: unused (NULL on newer kernels): the handle comes from @file
 * @p: the request: type, index and plane of an MMAP buffer, flags
 *	O_CLOEXEC and an access mode (O_RDONLY, O_WRONLY or O_RDWR);
 *	@p->fd is set on success
 *
 * The dma-buf keeps the plane's memory alive after REQBUFS(0) or the
 * owner's close, until its last file descriptor and mapping are gone.
 *
 * Return: 0, -EBUSY for a handle that does not own the queue, -EINVAL for
 * a wrong type, index, plane or flags or a queue without MMAP buffers, or
 * another negative errno.
 */
int vb2x_ioctl_expbuf(struct file *file, void *priv,
		      struct v4l2_exportbuffer *p)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	int ret;

	ret = vb2x_check_owner(fh);
	if (ret)
		return ret;
	return vb2x_core_expbuf(fh->queue, p->type, p->index, p->plane,
				p->flags, &p->fd);
}

/**
 * vb2x_fh_is_owner_or_free() - whether a handle may change the queue
 * @file: the file
 *
 * Drivers use it in S_FMT and the like to answer -EBUSY to a handle that
 * does not own a busy queue.
 *
 * Return: true if @file owns the queue or nobody does.
 */
bool vb2x_fh_is_owner_or_free(struct file *file)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);

	return !fh->queue->owner || fh->queue->owner == fh;
}

/**
 * vb2x_fh_open() - open a file handle on a node with a vb2x queue
 * @file: the file being opened (video_devdata(@file) is the node)
 * @q: the node's queue
 *
 * Drivers call this from their &v4l2_file_operations.open.
 *
 * Return: 0 or -ENOMEM.
 */
int vb2x_fh_open(struct file *file, struct vb2x_queue *q)
{
	struct vb2x_fh *fh;

	fh = kzalloc(sizeof(*fh), GFP_KERNEL);
	if (!fh)
		return -ENOMEM;
	v4l2_fh_init(&fh->fh, video_devdata(file));
	fh->queue = q;
	vb2x_v4l2_fh_add(&fh->fh, file);
	return 0;
}

/**
 * vb2x_fop_release() - &v4l2_file_operations.release for vb2x nodes
 * @file: the file being closed
 *
 * If the handle owns the queue, streaming stops and the buffers are freed
 * (their memory lives on while mappings of it exist). Takes
 * &vb2x_queue.lock.
 *
 * Return: 0.
 */
int vb2x_fop_release(struct file *file)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;

	mutex_lock(q->lock);
	if (q->owner == fh)
		vb2x_core_queue_release(q);
	mutex_unlock(q->lock);

	vb2x_v4l2_fh_del(&fh->fh, file);
	v4l2_fh_exit(&fh->fh);
	file->private_data = NULL;
	kfree(fh);
	return 0;
}

/**
 * vb2x_fop_mmap() - &v4l2_file_operations.mmap for vb2x nodes
 * @file: the file
 * @vma: the mapping; vm_pgoff selects buffer and plane
 *
 * Return: 0, -EBUSY for a handle that does not own the queue, -EINVAL for
 * an offset that names no MMAP plane, a size past the plane or a private
 * (non-shared) mapping, -EACCES for a missing access right.
 */
int vb2x_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);

	return vb2x_core_mmap(fh->queue, fh, vma);
}

/**
 * vb2x_fop_poll() - &v4l2_file_operations.poll for vb2x nodes
 * @file: the file
 * @wait: the poll table
 *
 * Return: EPOLLIN/EPOLLRDNORM (capture) or EPOLLOUT/EPOLLWRNORM (output)
 * when a buffer can be dequeued, EPOLLERR when streaming is off, EPOLLPRI
 * when a V4L2 event is pending.
 */
__poll_t vb2x_fop_poll(struct file *file, struct poll_table_struct *wait)
{
	struct vb2x_fh *fh = file_to_vb2x_fh(file);
	struct vb2x_queue *q = fh->queue;
	__poll_t req = poll_requested_events(wait);
	__poll_t want = q->is_output ? EPOLLOUT | EPOLLWRNORM :
				       EPOLLIN | EPOLLRDNORM;
	__poll_t res = 0;
	__poll_t buf_res;

	poll_wait(file, &fh->fh.wait, wait);
	if (v4l2_event_pending(&fh->fh))
		res = EPOLLPRI;

	/*
	 * Always wait on the done queue: epoll registers the wait queues only
	 * once, and may add EPOLLIN with EPOLL_CTL_MOD later.
	 */
	mutex_lock(q->lock);
	buf_res = vb2x_core_poll(q, file, wait);
	mutex_unlock(q->lock);
	if (req & want)
		res |= buf_res;
	return res;
}
