// SPDX-License-Identifier: GPL-2.0
/*
 * The frame timing thread of the output node, and the loopback frame
 *
 * Time since STREAMON is cut into periods of the configured frame
 * interval. At the end of each period the thread takes the oldest queued
 * buffer, reads its frame and returns it DONE with the next sequence
 * number (0, 1, 2, ... in the order buffers are consumed). A period that
 * ends with no buffer queued consumes nothing. A thread that wakes up
 * late consumes one buffer, and the clock moves on from there
 * (vivid_node_thread()).
 *
 * An imported (DMABUF) buffer is read only once the write fences of its
 * dma-bufs have signalled (vb2x_buffer_begin_access()): while one is
 * pending the buffer stays at the head of the queue and the period
 * consumes nothing; a fence error, or a fence pending for more than a
 * second, return the buffer as ERROR in that period (without a sequence
 * number).
 *
 * Reading a frame means copying it into the instance's loopback frame
 * (&struct vivid_loop) when the Loopback control is on; the capture
 * thread then copies that frame into its buffers instead of drawing the
 * test pattern.
 *
 * The reading of a buffer, from the moment the thread has it to its
 * return, is the signalling path of the buffer's read fence: it runs in a
 * dma_fence_begin_signalling() section.
 */
#include <linux/container_of.h>
#include <linux/dma-fence.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vivid-core.h"

/* bytes of all planes of a frame of @geom */
static size_t vivid_loop_size(const struct vivid_frame_geom *geom)
{
	return (size_t)geom->plane_size[0] + geom->plane_size[1];
}

/**
 * vivid_loop_start() - make room for the output's frames
 * @dev: the instance
 * @geom: the output node's format
 *
 * Called from the output node's start_streaming, before its thread
 * starts. The loopback frame stays invalid until the thread consumes a
 * buffer with the Loopback control on.
 *
 * Return: 0 or -ENOMEM.
 */
int vivid_loop_start(struct vivid_dev *dev,
		     const struct vivid_frame_geom *geom)
{
	struct vivid_loop *loop = &dev->loop;
	u8 *frame;

	frame = kvzalloc(vivid_loop_size(geom), GFP_KERNEL_ACCOUNT);
	if (!frame)
		return -ENOMEM;
	mutex_lock(&loop->lock);
	loop->frame = frame;
	loop->geom = *geom;
	loop->valid = false;
	mutex_unlock(&loop->lock);
	return 0;
}

/**
 * vivid_loop_stop() - drop the output's frames
 * @dev: the instance
 *
 * Called from the output node's stop_streaming, after its thread stopped;
 * from now on the capture node draws the test pattern again.
 */
void vivid_loop_stop(struct vivid_dev *dev)
{
	struct vivid_loop *loop = &dev->loop;
	u8 *frame;

	mutex_lock(&loop->lock);
	frame = loop->frame;
	loop->frame = NULL;
	loop->valid = false;
	mutex_unlock(&loop->lock);
	kvfree(frame);
}

/**
 * vivid_loop_fetch() - copy the output's last frame into a capture buffer
 * @dev: the instance
 * @geom: the capture node's format
 * @plane0: the capture buffer's first plane (the whole frame for
 *	single-buffer formats)
 * @plane1: the CbCr plane: the buffer's second plane for NV12M, inside
 *	@plane0 for NV12, unused otherwise
 *
 * Called by the capture thread, which may sleep. Copies nothing unless the
 * Loopback control is on, the output streams with the same format and
 * size as @geom and has consumed a frame since it started.
 *
 * Return: true if the frame was copied.
 */
bool vivid_loop_fetch(struct vivid_dev *dev,
		      const struct vivid_frame_geom *geom,
		      u8 *plane0, u8 *plane1)
{
	struct vivid_loop *loop = &dev->loop;
	u32 luma = geom->bytesperline * geom->height;
	bool copied = false;

	if (!READ_ONCE(dev->loopback))
		return false;
	mutex_lock(&loop->lock);
	if (loop->frame && loop->valid && loop->geom.fmt == geom->fmt &&
	    loop->geom.width == geom->width &&
	    loop->geom.height == geom->height) {
		memcpy(plane0, loop->frame, luma);
		if (geom->fmt->has_chroma)
			memcpy(plane1, loop->frame + luma, luma / 2);
		copied = true;
	}
	mutex_unlock(&loop->lock);
	return copied;
}

/* Copy a consumed output frame into the loopback frame. */
static void vivid_loop_store(struct vivid_dev *dev, const u8 *plane0,
			     const u8 *plane1)
{
	struct vivid_loop *loop = &dev->loop;
	const struct vivid_frame_geom *geom = &loop->geom;
	u32 luma = geom->bytesperline * geom->height;

	mutex_lock(&loop->lock);
	if (loop->frame) {
		memcpy(loop->frame, plane0, luma);
		if (geom->fmt->has_chroma)
			memcpy(loop->frame + luma, plane1, luma / 2);
		loop->valid = true;
	}
	mutex_unlock(&loop->lock);
}

/* Consume the oldest queued buffer; false if none is queued or ready. */
static bool vivid_out_consume(struct vivid_out *out)
{
	const struct vivid_frame_geom *geom = &out->node.geom;
	struct vivid_dev *dev = out->node.dev;
	struct vivid_buffer *buf;
	struct vb2x_buffer *vb;
	u8 *plane0, *plane1;
	bool failed;
	bool cookie;

	buf = vivid_next_ready_buf(&out->node.slock, &out->node.active,
				   &failed);
	if (!buf)
		return failed;
	vb = &buf->vb.vb2x_buf;
	cookie = dma_fence_begin_signalling();

	plane0 = vb2x_plane_vaddr(vb, 0);
	if (geom->fmt->mem_planes == 2)
		plane1 = vb2x_plane_vaddr(vb, 1);
	else if (plane0)
		plane1 = plane0 + geom->bytesperline * geom->height;
	else
		plane1 = NULL;
	if (!plane0 || (geom->fmt->has_chroma && !plane1)) {
		dev_dbg(dev->pdev_dev, "buffer %u has no kernel mapping\n",
			vb->index);
		vb2x_buffer_done(vb, VB2X_BUF_STATE_ERROR);
		dma_fence_end_signalling(cookie);
		return true;
	}
	if (READ_ONCE(dev->loopback))
		vivid_loop_store(dev, plane0, plane1);
	buf->vb.sequence = out->sequence++;
	vb2x_buffer_done(vb, VB2X_BUF_STATE_DONE);
	dma_fence_end_signalling(cookie);
	return true;
}

/**
 * vivid_out_period_end() - the end of a frame period of the output node
 * @node: the output node (&vivid_out.node)
 * @period: unused
 * @end_ns: unused
 *
 * Called by the node's thread (&vivid_node_dir.period_end): consumes the
 * oldest queued buffer, if one is ready.
 */
void vivid_out_period_end(struct vivid_node *node, u64 period, u64 end_ns)
{
	vivid_out_consume(container_of(node, struct vivid_out, node));
}
