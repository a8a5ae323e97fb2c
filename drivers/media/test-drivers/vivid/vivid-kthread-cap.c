// SPDX-License-Identifier: GPL-2.0
/*
 * The frame timing thread of the capture node
 *
 * Time since STREAMON is cut into periods of the configured frame
 * interval, numbered from 0. At the end of each period the thread fills
 * the oldest queued buffer with that period's frame and returns it with
 * the period number as its sequence and the end of the period
 * (CLOCK_MONOTONIC) as its timestamp. A period that ends while no buffer is
 * queued is dropped: the sequence number skips it. A thread that wakes up
 * late ends one period, at that moment, and the clock moves on from there
 * (vivid_node_thread()): the machine being busy is no application's drop.
 *
 * With the Loopback control on, a frame is the output node's last
 * consumed frame instead of the pattern whenever vivid_loop_fetch() has
 * one of the capture format and size.
 *
 * An imported (DMABUF) buffer is written only once the fences of its
 * dma-bufs have signalled (vb2x_buffer_begin_access()): while they are
 * pending the buffer stays at the head of the queue and the period is
 * dropped as if no buffer were queued; a fence error, or fences pending
 * for more than a second, return the buffer as ERROR in that period.
 *
 * The filling of a buffer, from the moment the thread has it to its
 * return, is the signalling path of the buffer's fence: it runs in a
 * dma_fence_begin_signalling() section, so that lockdep knows it must not
 * wait for fences.
 */
#include <linux/container_of.h>
#include <linux/dma-fence.h>

#include "vivid-core.h"

/*
 * Fill a buffer with the frame of period @period, timestamped with
 * @end_ns, the end of the period; false if no buffer is queued or ready.
 */
static bool vivid_cap_produce(struct vivid_cap *cap, u64 period, u64 end_ns)
{
	const struct vivid_frame_geom *geom = &cap->pattern.geom;
	struct vivid_dev *dev = cap->node.dev;
	struct vivid_buffer *buf;
	struct vb2x_buffer *vb;
	u8 *plane0, *plane1;
	unsigned int p;
	bool failed;
	bool cookie;

	buf = vivid_next_ready_buf(&cap->node.slock, &cap->node.active,
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

	if (!vivid_loop_fetch(dev, geom, plane0, plane1))
		vivid_pattern_fill(&cap->pattern, plane0, plane1, (u32)period,
				   READ_ONCE(dev->hflip),
				   READ_ONCE(dev->test_pattern));
	for (p = 0; p < geom->fmt->mem_planes; p++)
		vb2x_set_plane_payload(vb, p, geom->plane_size[p]);
	buf->vb.field = V4L2_FIELD_NONE;
	buf->vb.sequence = (u32)period;
	vb->timestamp = end_ns;
	vb2x_buffer_done(vb, VB2X_BUF_STATE_DONE);
	dma_fence_end_signalling(cookie);
	return true;
}

/**
 * vivid_cap_period_end() - the end of a frame period of the capture node
 * @node: the capture node (&vivid_cap.node)
 * @period: the number of the period that ended
 * @end_ns: the end of the period (CLOCK_MONOTONIC)
 *
 * Called by the node's thread (&vivid_node_dir.period_end): fills the
 * oldest queued buffer with the period's frame, or drops the period.
 */
void vivid_cap_period_end(struct vivid_node *node, u64 period, u64 end_ns)
{
	struct vivid_cap *cap = container_of(node, struct vivid_cap, node);

	if (!vivid_cap_produce(cap, period, end_ns))
		dev_dbg(node->dev->pdev_dev,
			"no buffer, period %llu dropped\n", period);
}
