// SPDX-License-Identifier: GPL-2.0
/*
 * The video output node of vivid-expbuf: file and ioctl
 * operations, and the vb2x queue callbacks
 *
 * The node takes the same formats, sizes and frame intervals as the
 * capture node; a kernel thread (vivid-kthread-out.c) consumes one queued
 * buffer per frame period.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/videodev2.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "vivid-core.h"

#define VIVID_OUT_DEF_INTERVAL	2	/* 1/30, as the capture node */

/* REQBUFS allocates at least this many buffers */
#define VIVID_OUT_MIN_BUFFERS	2

static struct vivid_buffer *to_vivid_out_buffer(struct vb2x_buffer *vb)
{
	return container_of(to_vb2x_v4l2_buffer(vb), struct vivid_buffer, vb);
}

static int vivid_out_queue_setup(struct vb2x_queue *q,
				 unsigned int *num_buffers,
				 unsigned int *num_planes, unsigned int sizes[])
{
	struct vivid_out *out = vb2x_get_drv_priv(q);
	const struct vivid_frame_geom *geom = &out->geom;
	unsigned int planes = geom->fmt->mem_planes;
	unsigned int p;

	if (*num_planes) {
		if (*num_planes != planes) {
			dev_dbg(out->dev->pdev_dev, "%u planes, format has %u\n",
				*num_planes, planes);
			return -EINVAL;
		}
		for (p = 0; p < planes; p++) {
			if (sizes[p] < geom->plane_size[p]) {
				dev_dbg(out->dev->pdev_dev,
					"plane %u: %u bytes, need %u\n", p,
					sizes[p], geom->plane_size[p]);
				return -EINVAL;
			}
		}
		return 0;
	}

	*num_buffers = max(*num_buffers, VIVID_OUT_MIN_BUFFERS);
	*num_planes = planes;
	for (p = 0; p < planes; p++)
		sizes[p] = geom->plane_size[p];
	return 0;
}

static int vivid_out_buf_prepare(struct vb2x_buffer *vb)
{
	struct vivid_out *out = vb2x_get_drv_priv(vb->vb2x_queue);
	const struct vivid_frame_geom *geom = &out->geom;
	unsigned int p;

	for (p = 0; p < geom->fmt->mem_planes; p++) {
		if (vb2x_plane_size(vb, p) < geom->plane_size[p]) {
			dev_dbg(out->dev->pdev_dev,
				"buffer %u plane %u: %lu bytes, need %u\n",
				vb->index, p, vb2x_plane_size(vb, p),
				geom->plane_size[p]);
			return -EINVAL;
		}
	}
	return 0;
}

static void vivid_out_buf_queue(struct vb2x_buffer *vb)
{
	struct vivid_out *out = vb2x_get_drv_priv(vb->vb2x_queue);
	struct vivid_buffer *buf = to_vivid_out_buffer(vb);

	spin_lock(&out->slock);
	list_add_tail(&buf->list, &out->active);
	spin_unlock(&out->slock);
}

static void vivid_out_return_all(struct vivid_out *out,
				 enum vb2x_buffer_state state)
{
	struct vivid_buffer *buf, *tmp;
	LIST_HEAD(bufs);

	spin_lock(&out->slock);
	list_splice_init(&out->active, &bufs);
	spin_unlock(&out->slock);

	list_for_each_entry_safe(buf, tmp, &bufs, list) {
		list_del(&buf->list);
		vb2x_buffer_done(&buf->vb.vb2x_buf, state);
	}
}

static int vivid_out_start_streaming(struct vb2x_queue *q,
				     unsigned int count)
{
	struct vivid_out *out = vb2x_get_drv_priv(q);
	int ret;

	ret = vivid_loop_start(out->dev, &out->geom);
	if (ret)
		goto return_bufs;
	ret = vivid_out_thread_start(out);
	if (ret) {
		vivid_loop_stop(out->dev);
		goto return_bufs;
	}
	return 0;

return_bufs:
	vivid_out_return_all(out, VB2X_BUF_STATE_QUEUED);
	return ret;
}

static void vivid_out_stop_streaming(struct vb2x_queue *q)
{
	struct vivid_out *out = vb2x_get_drv_priv(q);

	vivid_out_thread_stop(out);
	vivid_out_return_all(out, VB2X_BUF_STATE_ERROR);
	vivid_loop_stop(out->dev);
}

static const struct vb2x_ops vivid_out_qops = {
	.queue_setup		= vivid_out_queue_setup,
	.buf_prepare		= vivid_out_buf_prepare,
	.buf_queue		= vivid_out_buf_queue,
	.start_streaming	= vivid_out_start_streaming,
	.stop_streaming		= vivid_out_stop_streaming,
};

static int vivid_out_open(struct file *file)
{
	struct vivid_out *out = video_drvdata(file);

	return vb2x_fh_open(file, &out->queue);
}

static bool vivid_out_type_ok(struct vivid_out *out, u32 type)
{
	if (type == out->queue.type)
		return true;
	dev_dbg(out->dev->pdev_dev, "buffer type %u is not the node's %u\n",
		type, out->queue.type);
	return false;
}

/* Format, output and frame rate may change only on an idle queue. */
static int vivid_out_may_change(struct file *file, struct vivid_out *out)
{
	if (!vb2x_fh_is_owner_or_free(file) || vb2x_is_busy(&out->queue)) {
		dev_dbg(out->dev->pdev_dev, "queue busy\n");
		return -EBUSY;
	}
	return 0;
}

static int vivid_out_enum_fmt(struct file *file, void *fh,
			      struct v4l2_fmtdesc *f)
{
	struct vivid_out *out = video_drvdata(file);
	const struct vivid_fmt *fmt;

	if (!vivid_out_type_ok(out, f->type))
		return -EINVAL;
	fmt = vivid_enum_fmt(f->index, out->multiplanar);
	if (!fmt)
		return -EINVAL;
	f->pixelformat = fmt->fourcc;
	return 0;
}

static int vivid_out_g_fmt(struct file *file, void *fh, struct v4l2_format *f)
{
	struct vivid_out *out = video_drvdata(file);

	if (!vivid_out_type_ok(out, f->type))
		return -EINVAL;
	vivid_geom_to_fmt(&out->geom, f, out->multiplanar);
	return 0;
}

static int vivid_out_try_fmt(struct file *file, void *fh,
			     struct v4l2_format *f)
{
	struct vivid_out *out = video_drvdata(file);
	struct vivid_frame_geom geom;

	if (!vivid_out_type_ok(out, f->type))
		return -EINVAL;
	vivid_try_fmt(f, out->multiplanar, &geom);
	return 0;
}

static int vivid_out_s_fmt(struct file *file, void *fh, struct v4l2_format *f)
{
	struct vivid_out *out = video_drvdata(file);
	struct vivid_frame_geom geom;
	int ret;

	if (!vivid_out_type_ok(out, f->type))
		return -EINVAL;
	ret = vivid_out_may_change(file, out);
	if (ret)
		return ret;
	vivid_try_fmt(f, out->multiplanar, &geom);
	out->geom = geom;
	return 0;
}

static void vivid_out_fill_parm(struct vivid_out *out,
				struct v4l2_streamparm *a)
{
	memset(&a->parm.output, 0, sizeof(a->parm.output));
	a->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
	a->parm.output.timeperframe = vivid_intervals[out->interval];
}

static int vivid_out_g_parm(struct file *file, void *fh,
			    struct v4l2_streamparm *a)
{
	struct vivid_out *out = video_drvdata(file);

	if (!vivid_out_type_ok(out, a->type))
		return -EINVAL;
	vivid_out_fill_parm(out, a);
	return 0;
}

static int vivid_out_s_parm(struct file *file, void *fh,
			    struct v4l2_streamparm *a)
{
	struct vivid_out *out = video_drvdata(file);
	int ret;

	if (!vivid_out_type_ok(out, a->type))
		return -EINVAL;
	ret = vivid_out_may_change(file, out);
	if (ret)
		return ret;
	out->interval = vivid_nearest_interval(&a->parm.output.timeperframe);
	vivid_out_fill_parm(out, a);
	return 0;
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
	struct vivid_out *out = video_drvdata(file);

	if (i) {
		dev_dbg(out->dev->pdev_dev, "no output %u\n", i);
		return -EINVAL;
	}
	return vivid_out_may_change(file, out);
}

static const struct v4l2_ioctl_ops vivid_out_ioctl_ops = {
	.vidioc_querycap		= vivid_vidioc_querycap,

	.vidioc_enum_fmt_vid_out	= vivid_out_enum_fmt,
	.vidioc_g_fmt_vid_out		= vivid_out_g_fmt,
	.vidioc_try_fmt_vid_out		= vivid_out_try_fmt,
	.vidioc_s_fmt_vid_out		= vivid_out_s_fmt,
	.vidioc_g_fmt_vid_out_mplane	= vivid_out_g_fmt,
	.vidioc_try_fmt_vid_out_mplane	= vivid_out_try_fmt,
	.vidioc_s_fmt_vid_out_mplane	= vivid_out_s_fmt,
	.vidioc_enum_framesizes		= vivid_vidioc_enum_framesizes,
	.vidioc_enum_frameintervals	= vivid_vidioc_enum_frameintervals,
	.vidioc_g_parm			= vivid_out_g_parm,
	.vidioc_s_parm			= vivid_out_s_parm,

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

static const struct v4l2_file_operations vivid_out_fops = {
	.owner		= THIS_MODULE,
	.open		= vivid_out_open,
	.release	= vb2x_fop_release,
	.mmap		= vb2x_fop_mmap,
	.poll		= vb2x_fop_poll,
	.unlocked_ioctl	= video_ioctl2,
};

static int vivid_out_init_queue(struct vivid_out *out)
{
	struct vb2x_queue *q = &out->queue;

	q->type = out->multiplanar ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE :
				     V4L2_BUF_TYPE_VIDEO_OUTPUT;
	q->io_modes = out->dev->io_modes;
	q->dev = out->dev->pdev_dev;
	q->ops = &vivid_out_qops;
	q->mem_ops = out->dev->mem_ops;
	q->budget = out->dev->budget;
	q->drv_priv = out;
	q->buf_struct_size = sizeof(struct vivid_buffer);
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
	q->min_queued_buffers = 1;
	q->lock = &out->lock;
	return vb2x_queue_init(q);
}

/**
 * vivid_out_create() - create and register the output node of an instance
 * @dev: the instance, with its V4L2 device and controls set up
 * @multiplanar: use the multi-planar API
 *
 * On success &vivid_dev.out is set; the node is freed by vivid_out_free()
 * from the instance's release.
 *
 * Return: 0 or a negative errno; on failure nothing is left allocated.
 */
int vivid_out_create(struct vivid_dev *dev, bool multiplanar)
{
	struct video_device *vdev;
	struct vivid_out *out;
	int ret;

	out = kzalloc(sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	out->dev = dev;
	out->multiplanar = multiplanar;
	mutex_init(&out->lock);
	spin_lock_init(&out->slock);
	INIT_LIST_HEAD(&out->active);
	vivid_fill_geom(&out->geom, vivid_enum_fmt(0, multiplanar),
			VIVID_DEF_WIDTH, VIVID_DEF_HEIGHT);
	out->interval = VIVID_OUT_DEF_INTERVAL;

	ret = vivid_out_init_queue(out);
	if (ret)
		goto free_out;

	vdev = &out->vdev;
	snprintf(vdev->name, sizeof(vdev->name), "%s-%u-vid-out",
		 VIVID_DRV_NAME, dev->inst);
	vdev->fops = &vivid_out_fops;
	vdev->ioctl_ops = &vivid_out_ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->v4l2_dev = &dev->v4l2_dev;
	vdev->ctrl_handler = &dev->ctrl_handler;
	vdev->lock = &out->lock;
	vdev->vfl_dir = VFL_DIR_TX;
	vdev->device_caps = V4L2_CAP_STREAMING |
			    (multiplanar ? V4L2_CAP_VIDEO_OUTPUT_MPLANE :
					   V4L2_CAP_VIDEO_OUTPUT);
	video_set_drvdata(vdev, out);

	ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_out;
	dev->out = out;
	v4l2_info(&dev->v4l2_dev, "output node %s (%s)\n",
		  video_device_node_name(vdev),
		  multiplanar ? "multi-planar" : "single-planar");
	return 0;

free_out:
	mutex_destroy(&out->lock);
	kfree(out);
	return ret;
}

/**
 * vivid_out_unregister() - unregister the output node of an instance
 * @dev: the instance
 *
 * Open file handles keep working until closed, but every new ioctl fails;
 * the node's memory stays until vivid_out_free().
 */
void vivid_out_unregister(struct vivid_dev *dev)
{
	if (dev->out)
		video_unregister_device(&dev->out->vdev);
}

/**
 * vivid_out_free() - free the output node of an instance
 * @dev: the instance, from its release (no file handle is left open)
 */
void vivid_out_free(struct vivid_dev *dev)
{
	if (!dev->out)
		return;
	mutex_destroy(&dev->out->lock);
	kfree(dev->out);
	dev->out = NULL;
}
