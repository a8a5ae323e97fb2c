/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-v4l2.h - V4L2 ioctl and file-operation glue of the vivid-expbuf
 * videobuf2
 *
 * Every file handle of a node using these helpers is a &struct vb2x_fh,
 * opened with vb2x_fh_open(). The handle that allocates buffers (REQBUFS or
 * CREATE_BUFS with a count) becomes the queue's owner; only the owner may
 * then change the buffers, queue, dequeue, stream, export or mmap; other
 * handles get -EBUSY. Ownership ends when the owner closes or frees the buffers
 * with REQBUFS(0).
 */
#ifndef _MEDIA_VB2X_V4L2_H
#define _MEDIA_VB2X_V4L2_H

#include <linux/videodev2.h>
#include <media/v4l2-fh.h>
#include <media/vb2x-core.h>

struct file;
struct poll_table_struct;
struct vm_area_struct;

/**
 * struct vb2x_v4l2_buffer - a buffer with its V4L2 fields
 * @vb2x_buf: the core buffer
 * @flags: V4L2_BUF_FLAG_* reported at DQBUF (the driver may set
 *	V4L2_BUF_FLAG_KEYFRAME and the like before vb2x_buffer_done())
 * @field: V4L2 field order of the frame, set by the driver for capture
 * @timecode: timecode, copied for output buffers
 * @sequence: frame sequence number, set by the driver for capture
 */
struct vb2x_v4l2_buffer {
	struct vb2x_buffer	vb2x_buf;
	u32			flags;
	u32			field;
	struct v4l2_timecode	timecode;
	u32			sequence;
};

/**
 * to_vb2x_v4l2_buffer() - the V4L2 buffer containing a core buffer
 * @vb: the core buffer
 *
 * Return: the containing &struct vb2x_v4l2_buffer.
 */
static inline struct vb2x_v4l2_buffer *
to_vb2x_v4l2_buffer(struct vb2x_buffer *vb)
{
	return container_of(vb, struct vb2x_v4l2_buffer, vb2x_buf);
}

/**
 * struct vb2x_fh - a file handle on a node with a vb2x queue
 * @fh: the V4L2 file handle (events, priority)
 * @queue: the node's queue
 *
 * Allocated by vb2x_fh_open(), freed by vb2x_fop_release(). A handle does
 * not hold a reference on the queue: the driver keeps the queue alive
 * until the last file handle of the node is released.
 */
struct vb2x_fh {
	struct v4l2_fh		fh;
	struct vb2x_queue	*queue;
};

/**
 * vb2x_fh_open() - open a file handle on a node with a vb2x queue
 * @file: the file being opened (video_devdata(@file) is the node)
 * @q: the node's queue
 *
 * Drivers call this from their &v4l2_file_operations.open.
 *
 * Return: 0 or -ENOMEM.
 */
int vb2x_fh_open(struct file *file, struct vb2x_queue *q);

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
int vb2x_fop_release(struct file *file);

/**
 * vb2x_fop_mmap() - &v4l2_file_operations.mmap for vb2x nodes
 * @file: the file
 * @vma: the mapping; vm_pgoff selects buffer and plane
 *
 * Return: 0, -EBUSY for a handle that does not own the queue, -EINVAL for
 * an offset that names no MMAP plane, a size past the plane or a private
 * (non-shared) mapping, -EACCES for a missing access right.
 */
int vb2x_fop_mmap(struct file *file, struct vm_area_struct *vma);

/**
 * vb2x_fop_poll() - &v4l2_file_operations.poll for vb2x nodes
 * @file: the file
 * @wait: the poll table
 *
 * Return: EPOLLIN/EPOLLRDNORM (capture) or EPOLLOUT/EPOLLWRNORM (output)
 * when a buffer can be dequeued, EPOLLERR when streaming is off, EPOLLPRI
 * when a V4L2 event is pending.
 */
__poll_t vb2x_fop_poll(struct file *file, struct poll_table_struct *wait);

/**
 * vb2x_ioctl_reqbufs() - VIDIOC_REQBUFS
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the request
 *
 * Return: 0 or a negative errno (-EINVAL, -EBUSY, -ENOMEM).
 */
int vb2x_ioctl_reqbufs(struct file *file, void *priv,
		       struct v4l2_requestbuffers *p);

/**
 * vb2x_ioctl_create_bufs() - VIDIOC_CREATE_BUFS
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the request
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_create_bufs(struct file *file, void *priv,
			   struct v4l2_create_buffers *p);

/**
 * vb2x_ioctl_prepare_buf() - VIDIOC_PREPARE_BUF
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_prepare_buf(struct file *file, void *priv,
			   struct v4l2_buffer *p);

/**
 * vb2x_ioctl_querybuf() - VIDIOC_QUERYBUF, open to every file handle
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the buffer
 *
 * Return: 0 or -EINVAL.
 */
int vb2x_ioctl_querybuf(struct file *file, void *priv, struct v4l2_buffer *p);

/**
 * vb2x_ioctl_qbuf() - VIDIOC_QBUF
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_qbuf(struct file *file, void *priv, struct v4l2_buffer *p);

/**
 * vb2x_ioctl_dqbuf() - VIDIOC_DQBUF, blocking unless O_NONBLOCK
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @p: the buffer
 *
 * Return: 0 or a negative errno (-EAGAIN, -EINVAL, -EPIPE, -EIO).
 */
int vb2x_ioctl_dqbuf(struct file *file, void *priv, struct v4l2_buffer *p);

/**
 * vb2x_ioctl_streamon() - VIDIOC_STREAMON
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @type: the buffer type
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_streamon(struct file *file, void *priv, enum v4l2_buf_type type);

/**
 * vb2x_ioctl_streamoff() - VIDIOC_STREAMOFF
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
 * @type: the buffer type
 *
 * Return: 0 or a negative errno.
 */
int vb2x_ioctl_streamoff(struct file *file, void *priv,
			 enum v4l2_buf_type type);

/**
 * vb2x_ioctl_expbuf() - VIDIOC_EXPBUF, for the queue's owner only
 * @file: the file
 * @priv: the &struct v4l2_fh of @file
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
		      struct v4l2_exportbuffer *p);

/**
 * vb2x_fh_is_owner_or_free() - whether a handle may change the queue
 * @file: the file
 *
 * Drivers use it in S_FMT and the like to answer -EBUSY to a handle that
 * does not own a busy queue.
 *
 * Return: true if @file owns the queue or nobody does.
 */
bool vb2x_fh_is_owner_or_free(struct file *file);

#endif /* _MEDIA_VB2X_V4L2_H */
