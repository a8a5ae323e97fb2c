// SPDX-License-Identifier: GPL-2.0
/*
 * What the frame threads of both nodes share: their start and stop, the
 * hand-over of queued buffers (the oldest buffer of the node's active
 * list, once the fences of its dma-bufs allow the device to touch it) and
 * the frame clock that wakes the thread at the end of each period.
 *
 * The threads allow SIGKILL: vb2x sends it to cut a wait for fences short
 * (vb2x_buffer_begin_access()), and vivid_node_thread_stop() sends it
 * before kthread_stop() so that a thread waiting for a fence stops at
 * once. The signal is flushed before each sleep, so it never turns a sleep
 * into a busy loop.
 */
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
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

/* Sleep until @wake_ns; false when the thread must stop instead. */
static bool vivid_thread_sleep(u64 wake_ns)
{
	ktime_t wake = ns_to_ktime(wake_ns);

	flush_signals(current);
	set_current_state(TASK_INTERRUPTIBLE);
	if (kthread_should_stop()) {
		__set_current_state(TASK_RUNNING);
		return false;
	}
	schedule_hrtimeout(&wake, HRTIMER_MODE_ABS);
	return true;
}

/*
 * The body of a node's frame thread: runs until kthread_stop(), calling
 * &vivid_node_dir.period_end for each period that ended, in order, with
 * its number and end. Periods follow each other from STREAMON; a thread
 * that wakes up more than a period late (it, or the whole machine, did
 * not run: a busy host, a descheduled VM) ends one period then and moves
 * the clock on, so that the next one ends a period later. The periods it
 * slept through are not dropped frames of the application: the sequence
 * goes on, and the frame rate stretches. Allows SIGKILL first (see the
 * top of this file).
 */
static int vivid_node_thread(void *data)
{
	struct vivid_node *node = data;
	const struct v4l2_fract *tpf = &vivid_intervals[node->interval];
	u64 period_ns = div_u64((u64)tpf->numerator * NSEC_PER_SEC,
				tpf->denominator);
	u64 start_ns = node->start_ns;
	u64 next = 0;
	u64 ended;

	allow_signal(SIGKILL);
	while (vivid_thread_sleep(start_ns + (next + 1) * period_ns)) {
		ended = div64_u64(ktime_get_ns() - start_ns, period_ns);
		if (ended <= next)
			continue;
		start_ns += (ended - next - 1) * period_ns;
		node->dir->period_end(node, next, start_ns + (next + 1) * period_ns);
		next++;
	}
	return 0;
}

/**
 * vivid_node_thread_start() - start a node's frame thread
 * @node: the node, with what its thread uses set up
 *	(&vivid_node_dir.start)
 *
 * Called from start_streaming with &vivid_node.lock held. Period 0 starts
 * now.
 *
 * Return: 0 or the errno of the failed thread creation.
 */
int vivid_node_thread_start(struct vivid_node *node)
{
	struct task_struct *thread;

	lockdep_assert_held(&node->lock);
	node->start_ns = ktime_get_ns();
	thread = kthread_run(vivid_node_thread, node, "%s-%s",
			     node->dev->v4l2_dev.name,
			     node->dir->output ? "out" : "cap");
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	node->thread = thread;
	return 0;
}

/**
 * vivid_node_thread_stop() - stop a node's frame thread
 * @node: the node; its thread may have stopped already
 *
 * Called from stop_streaming with &vivid_node.lock held. SIGKILL first
 * ends a wait of the thread for the fences of others, so that stopping
 * never waits for a fence; then kthread_stop() waits for the thread to
 * finish the buffer at hand and exit. On return no buffer is being filled
 * or read.
 */
void vivid_node_thread_stop(struct vivid_node *node)
{
	lockdep_assert_held(&node->lock);
	if (!node->thread)
		return;
	send_sig(SIGKILL, node->thread, 1);
	kthread_stop(node->thread);
	node->thread = NULL;
}
