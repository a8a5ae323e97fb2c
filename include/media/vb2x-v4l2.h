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

int vb2x_fh_open(struct file *file, struct vb2x_queue *q);
int vb2x_fop_release(struct file *file);
int vb2x_fop_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t vb2x_fop_poll(struct file *file, struct poll_table_struct *wait);

int vb2x_ioctl_reqbufs(struct file *file, void *priv,
		       struct v4l2_requestbuffers *p);
int vb2x_ioctl_create_bufs(struct file *file, void *priv,
			   struct v4l2_create_buffers *p);
int vb2x_ioctl_prepare_buf(struct file *file, void *priv,
			   struct v4l2_buffer *p);
int vb2x_ioctl_querybuf(struct file *file, void *priv, struct v4l2_buffer *p);
int vb2x_ioctl_qbuf(struct file *file, void *priv, struct v4l2_buffer *p);
int vb2x_ioctl_dqbuf(struct file *file, void *priv, struct v4l2_buffer *p);
int vb2x_ioctl_streamon(struct file *file, void *priv, enum v4l2_buf_type type);
int vb2x_ioctl_streamoff(struct file *file, void *priv,
			 enum v4l2_buf_type type);
int vb2x_ioctl_expbuf(struct file *file, void *priv,
		      struct v4l2_exportbuffer *p);

bool vb2x_fh_is_owner_or_free(struct file *file);

#endif /* _MEDIA_VB2X_V4L2_H */
