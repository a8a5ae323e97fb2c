// SPDX-License-Identifier: GPL-2.0
/*
 * What the frame threads of both nodes share: the hand-over of queued
 * buffers (the oldest buffer of the node's active list, once the fences
 * of its dma-bufs allow the device to touch it) and the frame clock that
 * wakes the thread at the end of each period.
 *
 * The threads allow SIGKILL: vb2x sends it to cut a wait for fences short
 * (vb2x_buffer_begin_access()), and vivid_thread_stop() sends it before
 * kthread_stop() so that a thread waiting for a fence stops at once. The
 * signal is flushed before each sleep, so it never turns a sleep into a
 * busy loop.
 */
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

/**
 * vivid_frame_loop() - the body of a node's frame thread
 * @start_ns: CLOCK_MONOTONIC start of period 0 (STREAMON)
 * @tpf: the frame interval
 * @period_end: called for each period that ended, in order, with its
 *	number and length; if the thread woke up late it is called for every
 *	period that ended meanwhile, at most as many as a queue holds
 *	buffers
 * @arg: passed to @period_end
 *
 * Runs until kthread_stop(). Allows SIGKILL first (see the top of this
 * file).
 *
 * Return: 0, the thread's exit code.
 */
int vivid_frame_loop(u64 start_ns, const struct v4l2_fract *tpf,
		     void (*period_end)(void *arg, u64 period, u64 period_ns),
		     void *arg)
{
	u64 period_ns = div_u64((u64)tpf->numerator * NSEC_PER_SEC,
				tpf->denominator);
	u64 next = 0;
	u64 ended;

	allow_signal(SIGKILL);
	while (vivid_thread_sleep(start_ns + (next + 1) * period_ns)) {
		ended = div64_u64(ktime_get_ns() - start_ns, period_ns);
		if (ended > next + VB2X_MAX_BUFFERS)
			next = ended - VB2X_MAX_BUFFERS;
		for (; next < ended; next++)
			period_end(arg, next, period_ns);
	}
	return 0;
}

/**
 * vivid_thread_stop() - stop a node's frame thread
 * @thread: the thread, or NULL; set to NULL
 *
 * SIGKILL first ends a wait of the thread for the fences of others, so
 * that stopping never waits for a fence; then kthread_stop() waits for the
 * thread to finish the buffer at hand and exit.
 */
void vivid_thread_stop(struct task_struct **thread)
{
	if (!*thread)
		return;
	send_sig(SIGKILL, *thread, 1);
	kthread_stop(*thread);
	*thread = NULL;
}
