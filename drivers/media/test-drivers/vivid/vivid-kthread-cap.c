// SPDX-License-Identifier: GPL-2.0
/*
 * The frame timing thread of the capture node
 *
 * Time since STREAMON is cut into periods of the configured frame
 * interval, numbered from 0. At the end of each period the thread fills
 * the oldest queued buffer with that period's frame and returns it with
 * the period number as its sequence and the end of the period
 * (CLOCK_MONOTONIC) as its timestamp. A period that ends while no buffer is
 * queued is dropped: the sequence number skips it. If the thread wakes up
 * late, it catches up on every period that ended meanwhile, in order, as
 * long as buffers are queued.
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
 */
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched.h>

#include "vivid-core.h"

/*
 * Fill a buffer with the frame of period @period, timestamped with the end
 * of the period; false if no buffer is queued or ready.
 */
static bool vivid_cap_produce(struct vivid_cap *cap, u64 period,
			      u64 period_ns)
{
	const struct vivid_frame_geom *geom = &cap->pattern.geom;
	struct vivid_dev *dev = cap->dev;
	struct vivid_buffer *buf;
	struct vb2x_buffer *vb;
	u8 *plane0, *plane1;
	unsigned int p;
	bool failed;

	buf = vivid_next_ready_buf(&cap->slock, &cap->active, &failed);
	if (!buf)
		return failed;
	vb = &buf->vb.vb2x_buf;

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
	vb->timestamp = cap->start_ns + (period + 1) * period_ns;
	vb2x_buffer_done(vb, VB2X_BUF_STATE_DONE);
	return true;
}

static int vivid_cap_thread(void *data)
{
	struct vivid_cap *cap = data;
	const struct v4l2_fract *tpf = &vivid_intervals[cap->interval];
	u64 period_ns = div_u64((u64)tpf->numerator * NSEC_PER_SEC,
				tpf->denominator);
	u64 next_period = 0;
	u64 elapsed, ended;
	ktime_t wake;

	for (;;) {
		wake = ns_to_ktime(cap->start_ns + (next_period + 1) * period_ns);
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		schedule_hrtimeout(&wake, HRTIMER_MODE_ABS);

		elapsed = ktime_get_ns() - cap->start_ns;
		ended = div64_u64(elapsed, period_ns);
		/* no more buffers than the queue can hold can catch up */
		if (ended > next_period + VB2X_MAX_BUFFERS)
			next_period = ended - VB2X_MAX_BUFFERS;
		for (; next_period < ended; next_period++) {
			if (!vivid_cap_produce(cap, next_period, period_ns))
				dev_dbg(cap->dev->pdev_dev,
					"no buffer, period %llu dropped\n",
					next_period);
		}
	}
	return 0;
}

/**
 * vivid_cap_thread_start() - start producing frames
 * @cap: the capture node; &vivid_cap.pattern must be set up
 *
 * Called from start_streaming with &vivid_cap.lock held. Period 0 starts
 * now.
 *
 * Return: 0 or the errno of the failed thread creation.
 */
int vivid_cap_thread_start(struct vivid_cap *cap)
{
	struct task_struct *thread;

	lockdep_assert_held(&cap->lock);
	cap->start_ns = ktime_get_ns();
	thread = kthread_run(vivid_cap_thread, cap, "%s-cap",
			     cap->dev->v4l2_dev.name);
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	cap->thread = thread;
	return 0;
}

/**
 * vivid_cap_thread_stop() - stop producing frames
 * @cap: the capture node
 *
 * Called from stop_streaming with &vivid_cap.lock held. On return the
 * thread has exited and no buffer is being filled.
 */
void vivid_cap_thread_stop(struct vivid_cap *cap)
{
	lockdep_assert_held(&cap->lock);
	if (!cap->thread)
		return;
	kthread_stop(cap->thread);
	cap->thread = NULL;
}
