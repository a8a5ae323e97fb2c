// SPDX-License-Identifier: GPL-2.0
/*
 * The video capture node of vivid-expbuf: file and ioctl
 * operations, and the vb2x queue callbacks
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/videodev2.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "vivid-core.h"

/* ENUM_FRAMEINTERVALS order; S_PARM picks the nearest */
const struct v4l2_fract vivid_intervals[] = {
	{ 1, 60 }, { 1, 50 }, { 1, 30 }, { 1, 25 }, { 1, 15 }, { 1, 10 },
	{ 1, 5 },
};

const unsigned int vivid_num_intervals = ARRAY_SIZE(vivid_intervals);

#define VIVID_DEF_INTERVAL	2	/* 1/30 */

/*
 * REQBUFS allocates at least this many buffers, so that an application
 * that holds one buffer for a few frame periods still leaves the thread a
 * buffer to fill and no period is dropped.
 */
#define VIVID_MIN_BUFFERS	4

static struct vivid_buffer *to_vivid_buffer(struct vb2x_buffer *vb)
{
	return container_of(to_vb2x_v4l2_buffer(vb), struct vivid_buffer, vb);
}

static int vivid_queue_setup(struct vb2x_queue *q, unsigned int *num_buffers,
			     unsigned int *num_planes, unsigned int sizes[])
{
	struct vivid_cap *cap = vb2x_get_drv_priv(q);
	const struct vivid_frame_geom *geom = &cap->geom;
	unsigned int planes = geom->fmt->mem_planes;
	unsigned int p;

	if (*num_planes) {
		if (*num_planes != planes) {
			dev_dbg(cap->dev->pdev_dev, "%u planes, format has %u\n",
				*num_planes, planes);
			return -EINVAL;
		}
		for (p = 0; p < planes; p++) {
			if (sizes[p] < geom->plane_size[p]) {
				dev_dbg(cap->dev->pdev_dev,
					"plane %u: %u bytes, need %u\n", p,
					sizes[p], geom->plane_size[p]);
				return -EINVAL;
			}
		}
		return 0;
	}

	*num_buffers = max(*num_buffers, VIVID_MIN_BUFFERS);
	*num_planes = planes;
	for (p = 0; p < planes; p++)
		sizes[p] = geom->plane_size[p];
	return 0;
}

static int vivid_buf_prepare(struct vb2x_buffer *vb)
{
	struct vivid_cap *cap = vb2x_get_drv_priv(vb->vb2x_queue);
	const struct vivid_frame_geom *geom = &cap->geom;
	unsigned int p;

	for (p = 0; p < geom->fmt->mem_planes; p++) {
		if (vb2x_plane_size(vb, p) < geom->plane_size[p]) {
			dev_dbg(cap->dev->pdev_dev,
				"buffer %u plane %u: %lu bytes, need %u\n",
				vb->index, p, vb2x_plane_size(vb, p),
				geom->plane_size[p]);
			return -EINVAL;
		}
		vb2x_set_plane_payload(vb, p, geom->plane_size[p]);
	}
	return 0;
}

static void vivid_buf_queue(struct vb2x_buffer *vb)
{
	struct vivid_cap *cap = vb2x_get_drv_priv(vb->vb2x_queue);
	struct vivid_buffer *buf = to_vivid_buffer(vb);

	spin_lock(&cap->slock);
	list_add_tail(&buf->list, &cap->active);
	spin_unlock(&cap->slock);
}

static void vivid_cap_return_all(struct vivid_cap *cap,
				 enum vb2x_buffer_state state)
{
	struct vivid_buffer *buf, *tmp;
	LIST_HEAD(bufs);

	spin_lock(&cap->slock);
	list_splice_init(&cap->active, &bufs);
	spin_unlock(&cap->slock);

	list_for_each_entry_safe(buf, tmp, &bufs, list) {
		list_del(&buf->list);
		vb2x_buffer_done(&buf->vb.vb2x_buf, state);
	}
}

static int vivid_start_streaming(struct vb2x_queue *q, unsigned int count)
{
	struct vivid_cap *cap = vb2x_get_drv_priv(q);
	int ret;

	ret = vivid_pattern_init(&cap->pattern, &cap->geom);
	if (ret)
		goto return_bufs;
	ret = vivid_cap_thread_start(cap);
	if (ret) {
		vivid_pattern_free(&cap->pattern);
		goto return_bufs;
	}
	return 0;

return_bufs:
	vivid_cap_return_all(cap, VB2X_BUF_STATE_QUEUED);
	return ret;
}

static void vivid_stop_streaming(struct vb2x_queue *q)
{
	struct vivid_cap *cap = vb2x_get_drv_priv(q);

	vivid_cap_thread_stop(cap);
	vivid_cap_return_all(cap, VB2X_BUF_STATE_ERROR);
	vivid_pattern_free(&cap->pattern);
}

static const struct vb2x_ops vivid_cap_qops = {
	.queue_setup		= vivid_queue_setup,
	.buf_prepare		= vivid_buf_prepare,
	.buf_queue		= vivid_buf_queue,
	.start_streaming	= vivid_start_streaming,
	.stop_streaming		= vivid_stop_streaming,
};

static int vivid_cap_open(struct file *file)
{
	struct vivid_cap *cap = video_drvdata(file);

	return vb2x_fh_open(file, &cap->queue);
}

static bool vivid_cap_type_ok(struct vivid_cap *cap, u32 type)
{
	if (type == cap->queue.type)
		return true;
	dev_dbg(cap->dev->pdev_dev, "buffer type %u is not the node's %u\n",
		type, cap->queue.type);
	return false;
}

/* Format, input and frame rate may change only on an idle queue. */
static int vivid_cap_may_change(struct file *file, struct vivid_cap *cap)
{
	if (!vb2x_fh_is_owner_or_free(file) || vb2x_is_busy(&cap->queue)) {
		dev_dbg(cap->dev->pdev_dev, "queue busy\n");
		return -EBUSY;
	}
	return 0;
}

/* the instance of a capture or output node */
static struct vivid_dev *vivid_file_to_dev(struct file *file)
{
	return container_of(video_devdata(file)->v4l2_dev, struct vivid_dev,
			    v4l2_dev);
}

static bool vivid_file_is_mplane(struct file *file)
{
	return video_devdata(file)->device_caps &
	       (V4L2_CAP_VIDEO_CAPTURE_MPLANE | V4L2_CAP_VIDEO_OUTPUT_MPLANE);
}

/**
 * vivid_vidioc_querycap() - VIDIOC_QUERYCAP of a capture or output node
 * @file: the open node
 * @fh: unused
 * @caps: filled in with the instance's driver, card and bus names
 *
 * Return: 0.
 */
int vivid_vidioc_querycap(struct file *file, void *fh,
			  struct v4l2_capability *caps)
{
	struct vivid_dev *dev = vivid_file_to_dev(file);

	strscpy(caps->driver, VIVID_DRV_NAME, sizeof(caps->driver));
	snprintf(caps->card, sizeof(caps->card), "%s %u", VIVID_DRV_NAME,
		 dev->inst);
	snprintf(caps->bus_info, sizeof(caps->bus_info), "platform:%s-%u",
		 VIVID_DRV_NAME, dev->inst);
	return 0;
}

static int vivid_vidioc_enum_fmt(struct file *file, void *fh,
				 struct v4l2_fmtdesc *f)
{
	struct vivid_cap *cap = video_drvdata(file);
	const struct vivid_fmt *fmt;

	if (!vivid_cap_type_ok(cap, f->type))
		return -EINVAL;
	fmt = vivid_enum_fmt(f->index, cap->multiplanar);
	if (!fmt)
		return -EINVAL;
	f->pixelformat = fmt->fourcc;
	return 0;
}

static int vivid_vidioc_g_fmt(struct file *file, void *fh,
			      struct v4l2_format *f)
{
	struct vivid_cap *cap = video_drvdata(file);

	if (!vivid_cap_type_ok(cap, f->type))
		return -EINVAL;
	vivid_geom_to_fmt(&cap->geom, f, cap->multiplanar);
	return 0;
}

static int vivid_vidioc_try_fmt(struct file *file, void *fh,
				struct v4l2_format *f)
{
	struct vivid_cap *cap = video_drvdata(file);
	struct vivid_frame_geom geom;

	if (!vivid_cap_type_ok(cap, f->type))
		return -EINVAL;
	vivid_try_fmt(f, cap->multiplanar, &geom);
	return 0;
}

static int vivid_vidioc_s_fmt(struct file *file, void *fh,
			      struct v4l2_format *f)
{
	struct vivid_cap *cap = video_drvdata(file);
	struct vivid_frame_geom geom;
	int ret;

	if (!vivid_cap_type_ok(cap, f->type))
		return -EINVAL;
	ret = vivid_cap_may_change(file, cap);
	if (ret)
		return ret;
	vivid_try_fmt(f, cap->multiplanar, &geom);
	cap->geom = geom;
	return 0;
}

/**
 * vivid_vidioc_enum_framesizes() - VIDIOC_ENUM_FRAMESIZES of a capture or
 *	output node
 * @file: the open node
 * @fh: unused
 * @fsize: the request; filled in with the stepwise size range
 *
 * Return: 0, or -EINVAL for an index other than 0 or an unknown format.
 */
int vivid_vidioc_enum_framesizes(struct file *file, void *fh,
				 struct v4l2_frmsizeenum *fsize)
{
	if (fsize->index ||
	    !vivid_find_fmt(fsize->pixel_format, vivid_file_is_mplane(file)))
		return -EINVAL;
	fsize->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fsize->stepwise.min_width = VIVID_MIN_WIDTH;
	fsize->stepwise.max_width = VIVID_MAX_WIDTH;
	fsize->stepwise.step_width = VIVID_SIZE_STEP;
	fsize->stepwise.min_height = VIVID_MIN_HEIGHT;
	fsize->stepwise.max_height = VIVID_MAX_HEIGHT;
	fsize->stepwise.step_height = VIVID_SIZE_STEP;
	return 0;
}

/**
 * vivid_vidioc_enum_frameintervals() - VIDIOC_ENUM_FRAMEINTERVALS of a
 *	capture or output node
 * @file: the open node
 * @fh: unused
 * @fival: the request; filled in with one discrete interval
 *
 * Return: 0, or -EINVAL past the last interval or for an unknown format
 * or size.
 */
int vivid_vidioc_enum_frameintervals(struct file *file, void *fh,
				     struct v4l2_frmivalenum *fival)
{
	if (fival->index >= vivid_num_intervals ||
	    !vivid_find_fmt(fival->pixel_format, vivid_file_is_mplane(file)) ||
	    !vivid_valid_size(fival->width, fival->height))
		return -EINVAL;
	fival->type = V4L2_FRMIVAL_TYPE_DISCRETE;
	fival->discrete = vivid_intervals[fival->index];
	return 0;
}

/**
 * vivid_nearest_interval() - the frame interval table entry nearest a request
 * @tpf: the requested time per frame; a zero fraction selects the default
 *
 * Return: an index into vivid_intervals[].
 */
unsigned int vivid_nearest_interval(const struct v4l2_fract *tpf)
{
	unsigned int i, best = VIVID_DEF_INTERVAL;
	u64 diff, best_diff = U64_MAX;
	u64 want, have;

	if (!tpf->numerator || !tpf->denominator)
		return VIVID_DEF_INTERVAL;
	/*
	 * |n/d - ni/di| = |n*di - ni*d| / (d*di); d is common to every
	 * entry, so compare |n*di - ni*d| / di across entries.
	 */
	for (i = 0; i < vivid_num_intervals; i++) {
		want = (u64)tpf->numerator * vivid_intervals[i].denominator;
		have = (u64)vivid_intervals[i].numerator * tpf->denominator;
		diff = want > have ? want - have : have - want;
		/* diff / di < best_diff / dbest */
		if (best_diff == U64_MAX ||
		    diff * vivid_intervals[best].denominator <
		    best_diff * vivid_intervals[i].denominator) {
			best = i;
			best_diff = diff;
		}
	}
	return best;
}

static void vivid_fill_parm(struct vivid_cap *cap, struct v4l2_streamparm *a)
{
	memset(&a->parm.capture, 0, sizeof(a->parm.capture));
	a->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	a->parm.capture.timeperframe = vivid_intervals[cap->interval];
}

static int vivid_vidioc_g_parm(struct file *file, void *fh,
			       struct v4l2_streamparm *a)
{
	struct vivid_cap *cap = video_drvdata(file);

	if (!vivid_cap_type_ok(cap, a->type))
		return -EINVAL;
	vivid_fill_parm(cap, a);
	return 0;
}

static int vivid_vidioc_s_parm(struct file *file, void *fh,
			       struct v4l2_streamparm *a)
{
	struct vivid_cap *cap = video_drvdata(file);
	int ret;

	if (!vivid_cap_type_ok(cap, a->type))
		return -EINVAL;
	ret = vivid_cap_may_change(file, cap);
	if (ret)
		return ret;
	cap->interval = vivid_nearest_interval(&a->parm.capture.timeperframe);
	vivid_fill_parm(cap, a);
	return 0;
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
	struct vivid_cap *cap = video_drvdata(file);

	if (i) {
		dev_dbg(cap->dev->pdev_dev, "no input %u\n", i);
		return -EINVAL;
	}
	return vivid_cap_may_change(file, cap);
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

static const struct v4l2_file_operations vivid_cap_fops = {
	.owner		= THIS_MODULE,
	.open		= vivid_cap_open,
	.release	= vb2x_fop_release,
	.mmap		= vb2x_fop_mmap,
	.poll		= vb2x_fop_poll,
	.unlocked_ioctl	= video_ioctl2,
};

static int vivid_cap_init_queue(struct vivid_cap *cap)
{
	struct vb2x_queue *q = &cap->queue;

	q->type = cap->multiplanar ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
				     V4L2_BUF_TYPE_VIDEO_CAPTURE;
	q->io_modes = cap->dev->io_modes;
	q->dev = cap->dev->pdev_dev;
	q->ops = &vivid_cap_qops;
	q->mem_ops = cap->dev->mem_ops;
	q->budget = cap->dev->budget;
	q->drv_priv = cap;
	q->buf_struct_size = sizeof(struct vivid_buffer);
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			     V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
	q->min_queued_buffers = 1;
	q->lock = &cap->lock;
	return vb2x_queue_init(q);
}

/**
 * vivid_cap_create() - create and register the capture node of an instance
 * @dev: the instance, with its V4L2 device and controls set up
 * @multiplanar: use the multi-planar API
 *
 * On success &vivid_dev.cap is set; the node is freed by vivid_cap_free()
 * from the instance's release.
 *
 * Return: 0 or a negative errno; on failure nothing is left allocated.
 */
int vivid_cap_create(struct vivid_dev *dev, bool multiplanar)
{
	struct video_device *vdev;
	struct vivid_cap *cap;
	int ret;

	cap = kzalloc(sizeof(*cap), GFP_KERNEL);
	if (!cap)
		return -ENOMEM;
	cap->dev = dev;
	cap->multiplanar = multiplanar;
	mutex_init(&cap->lock);
	spin_lock_init(&cap->slock);
	INIT_LIST_HEAD(&cap->active);
	vivid_fill_geom(&cap->geom, vivid_enum_fmt(0, multiplanar),
			VIVID_DEF_WIDTH, VIVID_DEF_HEIGHT);
	cap->interval = VIVID_DEF_INTERVAL;

	ret = vivid_cap_init_queue(cap);
	if (ret)
		goto free_cap;

	vdev = &cap->vdev;
	snprintf(vdev->name, sizeof(vdev->name), "%s-%u-vid-cap",
		 VIVID_DRV_NAME, dev->inst);
	vdev->fops = &vivid_cap_fops;
	vdev->ioctl_ops = &vivid_cap_ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->v4l2_dev = &dev->v4l2_dev;
	vdev->ctrl_handler = &dev->ctrl_handler;
	vdev->lock = &cap->lock;
	vdev->vfl_dir = VFL_DIR_RX;
	vdev->device_caps = V4L2_CAP_STREAMING |
			    (multiplanar ? V4L2_CAP_VIDEO_CAPTURE_MPLANE :
					   V4L2_CAP_VIDEO_CAPTURE);
	video_set_drvdata(vdev, cap);

	ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_cap;
	dev->cap = cap;
	v4l2_info(&dev->v4l2_dev, "capture node %s (%s)\n",
		  video_device_node_name(vdev),
		  multiplanar ? "multi-planar" : "single-planar");
	return 0;

free_cap:
	mutex_destroy(&cap->lock);
	kfree(cap);
	return ret;
}

/**
 * vivid_cap_unregister() - unregister the capture node of an instance
 * @dev: the instance
 *
 * Open file handles keep working until closed, but every new ioctl fails;
 * the node's memory stays until vivid_cap_free().
 */
void vivid_cap_unregister(struct vivid_dev *dev)
{
	if (dev->cap)
		video_unregister_device(&dev->cap->vdev);
}

/**
 * vivid_cap_free() - free the capture node of an instance
 * @dev: the instance, from its release (no file handle is left open)
 */
void vivid_cap_free(struct vivid_dev *dev)
{
	if (!dev->cap)
		return;
	mutex_destroy(&dev->cap->lock);
	kfree(dev->cap);
	dev->cap = NULL;
}
