// SPDX-License-Identifier: GPL-2.0
/*
 * The video output node of vivid-expbuf: its direction, what its thread
 * needs while streaming, and its output ioctls; the rest is vivid-node.c
 *
 * The node takes the same formats, sizes and frame intervals as the
 * capture node; a kernel thread (vivid-kthread-out.c) consumes one queued
 * buffer per frame period.
 */
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/videodev2.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "vivid-core.h"

/* REQBUFS allocates at least this many buffers */
#define VIVID_OUT_MIN_BUFFERS	2

static_assert(offsetof(struct vivid_out, node) == 0);

static struct vivid_out *to_vivid_out(struct vivid_node *node)
{
	return container_of(node, struct vivid_out, node);
}

/*
 * The loopback frame the output thread stores its frames in; the first
 * consumed buffer gets sequence number 0.
 */
static int vivid_out_start(struct vivid_node *node)
{
	to_vivid_out(node)->sequence = 0;
	return vivid_loop_start(node->dev, &node->geom);
}

static void vivid_out_stop(struct vivid_node *node)
{
	vivid_loop_stop(node->dev);
}

static int vivid_out_enum_output(struct file *file, void *fh,
				 struct v4l2_output *o)
{
	if (o->index)
		return -EINVAL;
	o->type = V4L2_OUTPUT_TYPE_ANALOG;
	strscpy(o->name, "Output 0", sizeof(o->name));
	return 0;
}

static int vivid_out_g_output(struct file *file, void *fh, unsigned int *i)
{
	*i = 0;
	return 0;
}

static int vivid_out_s_output(struct file *file, void *fh, unsigned int i)
{
	struct vivid_node *node = video_drvdata(file);

	if (i) {
		dev_dbg(node->dev->pdev_dev, "no output %u\n", i);
		return -EINVAL;
	}
	return vivid_node_may_change(file, node);
}

static const struct v4l2_ioctl_ops vivid_out_ioctl_ops = {
	.vidioc_querycap		= vivid_vidioc_querycap,

	.vidioc_enum_fmt_vid_out	= vivid_vidioc_enum_fmt,
	.vidioc_g_fmt_vid_out		= vivid_vidioc_g_fmt,
	.vidioc_try_fmt_vid_out		= vivid_vidioc_try_fmt,
	.vidioc_s_fmt_vid_out		= vivid_vidioc_s_fmt,
	.vidioc_g_fmt_vid_out_mplane	= vivid_vidioc_g_fmt,
	.vidioc_try_fmt_vid_out_mplane	= vivid_vidioc_try_fmt,
	.vidioc_s_fmt_vid_out_mplane	= vivid_vidioc_s_fmt,
	.vidioc_enum_framesizes		= vivid_vidioc_enum_framesizes,
	.vidioc_enum_frameintervals	= vivid_vidioc_enum_frameintervals,
	.vidioc_g_parm			= vivid_vidioc_g_parm,
	.vidioc_s_parm			= vivid_vidioc_s_parm,

	.vidioc_enum_output		= vivid_out_enum_output,
	.vidioc_g_output		= vivid_out_g_output,
	.vidioc_s_output		= vivid_out_s_output,

	.vidioc_reqbufs			= vb2x_ioctl_reqbufs,
	.vidioc_create_bufs		= vb2x_ioctl_create_bufs,
	.vidioc_prepare_buf		= vb2x_ioctl_prepare_buf,
	.vidioc_querybuf		= vb2x_ioctl_querybuf,
	.vidioc_qbuf			= vb2x_ioctl_qbuf,
	.vidioc_dqbuf			= vb2x_ioctl_dqbuf,
	.vidioc_streamon		= vb2x_ioctl_streamon,
	.vidioc_streamoff		= vb2x_ioctl_streamoff,
	.vidioc_expbuf			= vb2x_ioctl_expbuf,

	.vidioc_log_status		= v4l2_ctrl_log_status,
	.vidioc_subscribe_event		= v4l2_ctrl_subscribe_event,
	.vidioc_unsubscribe_event	= v4l2_event_unsubscribe,
};

const struct vivid_node_dir vivid_out_dir = {
	.output			= true,
	.size			= sizeof(struct vivid_out),
	.name			= "vid-out",
	.what			= "output",
	.min_buffers		= VIVID_OUT_MIN_BUFFERS,
	.timestamp_flags	= V4L2_BUF_FLAG_TIMESTAMP_COPY,
	.ioctl_ops		= &vivid_out_ioctl_ops,
	.start			= vivid_out_start,
	.stop			= vivid_out_stop,
	.period_end		= vivid_out_period_end,
};
