// SPDX-License-Identifier: GPL-2.0
/*
 * The hand-over of queued buffers to a node's frame thread: the oldest
 * buffer of the node's active list, once the fences of its dma-bufs allow
 * the device to touch it
 */
#include <linux/list.h>
#include <linux/spinlock.h>

#include "vivid-core.h"

/**
 * vivid_next_ready_buf() - take the oldest queued buffer if it is ready
 * @slock: the node's lock of @active
 * @active: the node's list of queued buffers (&vivid_buffer.list)
 * @failed: set to true when a buffer was returned as ERROR, else false
 *
 * Called by the node's frame thread only. The buffer at the head of
 * @active is taken off the list if vb2x_buffer_begin_access() lets the
 * device access it; while its fences are pending it stays at the head. A
 * buffer whose wait failed (fence error, timeout) is taken off and
 * returned with %VB2X_BUF_STATE_ERROR. Only the frame thread removes
 * buffers from @active while it runs, so the head stays put while its
 * fences are checked without @slock.
 *
 * Return: the buffer, removed from @active, or NULL if none is queued,
 * the oldest must wait or it was returned as ERROR.
 */
struct vivid_buffer *vivid_next_ready_buf(spinlock_t *slock,
					  struct list_head *active,
					  bool *failed)
{
	struct vivid_buffer *buf;
	int ret;

	*failed = false;
	spin_lock(slock);
	buf = list_first_entry_or_null(active, struct vivid_buffer, list);
	spin_unlock(slock);
	if (!buf)
		return NULL;
	ret = vb2x_buffer_begin_access(&buf->vb.vb2x_buf);
	if (ret == -EAGAIN)
		return NULL;
	spin_lock(slock);
	list_del(&buf->list);
	spin_unlock(slock);
	if (ret) {
		vb2x_buffer_done(&buf->vb.vb2x_buf, VB2X_BUF_STATE_ERROR);
		*failed = true;
		return NULL;
	}
	return buf;
}
