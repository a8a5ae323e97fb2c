// SPDX-License-Identifier: GPL-2.0
/*
 * The video capture node of vivid-expbuf: its direction, what its thread
 * needs while streaming, and its input ioctls; the rest is vivid-node.c
 */
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/videodev2.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "vivid-core.h"

/*
 * REQBUFS allocates at least this many buffers, so that an application
 * that holds one buffer for a few frame periods still leaves the thread a
 * buffer to fill and no period is dropped.
 */
#define VIVID_MIN_BUFFERS	4

static_assert(offsetof(struct vivid_cap, node) == 0);

static struct vivid_cap *to_vivid_cap(struct vivid_node *node)
{
	return container_of(node, struct vivid_cap, node);
}

/* the pattern templates of the capture thread */
static int vivid_cap_start(struct vivid_node *node)
{
	return vivid_pattern_init(&to_vivid_cap(node)->pattern, &node->geom);
}

static void vivid_cap_stop(struct vivid_node *node)
{
	vivid_pattern_free(&to_vivid_cap(node)->pattern);
}

static int vivid_vidioc_enum_input(struct file *file, void *fh,
				   struct v4l2_input *inp)
{
	if (inp->index)
		return -EINVAL;
	inp->type = V4L2_INPUT_TYPE_CAMERA;
	strscpy(inp->name, "Camera 0", sizeof(inp->name));
	return 0;
}

static int vivid_vidioc_g_input(struct file *file, void *fh,
				unsigned int *i)
{
	*i = 0;
	return 0;
}

static int vivid_vidioc_s_input(struct file *file, void *fh,
				unsigned int i)
{
	struct vivid_node *node = video_drvdata(file);

	if (i) {
		dev_dbg(node->dev->pdev_dev, "no input %u\n", i);
		return -EINVAL;
	}
	return vivid_node_may_change(file, node);
}

static const struct v4l2_ioctl_ops vivid_cap_ioctl_ops = {
	.vidioc_querycap		= vivid_vidioc_querycap,

	.vidioc_enum_fmt_vid_cap	= vivid_vidioc_enum_fmt,
	.vidioc_g_fmt_vid_cap		= vivid_vidioc_g_fmt,
	.vidioc_try_fmt_vid_cap		= vivid_vidioc_try_fmt,
	.vidioc_s_fmt_vid_cap		= vivid_vidioc_s_fmt,
	.vidioc_g_fmt_vid_cap_mplane	= vivid_vidioc_g_fmt,
	.vidioc_try_fmt_vid_cap_mplane	= vivid_vidioc_try_fmt,
	.vidioc_s_fmt_vid_cap_mplane	= vivid_vidioc_s_fmt,
	.vidioc_enum_framesizes		= vivid_vidioc_enum_framesizes,
	.vidioc_enum_frameintervals	= vivid_vidioc_enum_frameintervals,
	.vidioc_g_parm			= vivid_vidioc_g_parm,
	.vidioc_s_parm			= vivid_vidioc_s_parm,

	.vidioc_enum_input		= vivid_vidioc_enum_input,
	.vidioc_g_input			= vivid_vidioc_g_input,
	.vidioc_s_input			= vivid_vidioc_s_input,

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

const struct vivid_node_dir vivid_cap_dir = {
	.output			= false,
	.size			= sizeof(struct vivid_cap),
	.name			= "vid-cap",
	.what			= "capture",
	.min_buffers		= VIVID_MIN_BUFFERS,
	.timestamp_flags	= V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
				  V4L2_BUF_FLAG_TSTAMP_SRC_EOF,
	.ioctl_ops		= &vivid_cap_ioctl_ops,
	.start			= vivid_cap_start,
	.stop			= vivid_cap_stop,
	.period_end		= vivid_cap_period_end,
};
