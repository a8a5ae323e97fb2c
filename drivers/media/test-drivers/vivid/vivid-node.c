// SPDX-License-Identifier: GPL-2.0
/*
 * What the video capture and output nodes share: their creation,
 * registration and release, the file operations, the vb2x buffer
 * and streaming callbacks, and the format, size and frame interval
 * ioctls. What sets
 * the two apart is their direction (&struct vivid_node_dir), defined in
 * vivid-vid-cap.c and vivid-vid-out.c.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/videodev2.h>
#include <media/v4l2-ioctl.h>

#include "vivid-core.h"

/* ENUM_FRAMEINTERVALS order; S_PARM picks the nearest */
const struct v4l2_fract vivid_intervals[] = {
	{ 1, 60 }, { 1, 50 }, { 1, 30 }, { 1, 25 }, { 1, 15 }, { 1, 10 },
	{ 1, 5 },
};

const unsigned int vivid_num_intervals = ARRAY_SIZE(vivid_intervals);

static struct vivid_buffer *to_vivid_buffer(struct vb2x_buffer *vb)
{
	return container_of(to_vb2x_v4l2_buffer(vb), struct vivid_buffer, vb);
}

/**
 * vivid_node_queue_setup() - the queue_setup callback of a node's queue
 * @q: the queue
 * @num_buffers: buffers asked for; raised to &vivid_node_dir.min_buffers
 *	by REQBUFS
 * @num_planes: 0 for REQBUFS, else the planes asked for by CREATE_BUFS
 * @sizes: plane sizes; set by REQBUFS, checked for CREATE_BUFS
 *
 * Return: 0, or -EINVAL for CREATE_BUFS planes that do not fit the format.
 */
static int vivid_node_queue_setup(struct vb2x_queue *q,
				  unsigned int *num_buffers,
				  unsigned int *num_planes,
				  unsigned int sizes[])
{
	struct vivid_node *node = vb2x_get_drv_priv(q);
	const struct vivid_frame_geom *geom = &node->geom;
	unsigned int planes = geom->fmt->mem_planes;
	unsigned int p;

	if (*num_planes) {
		if (*num_planes != planes) {
			dev_dbg(node->dev->pdev_dev, "%u planes, format has %u\n",
				*num_planes, planes);
			return -EINVAL;
		}
		for (p = 0; p < planes; p++) {
			if (sizes[p] < geom->plane_size[p]) {
				dev_dbg(node->dev->pdev_dev,
					"plane %u: %u bytes, need %u\n", p,
					sizes[p], geom->plane_size[p]);
				return -EINVAL;
			}
		}
		return 0;
	}

	*num_buffers = max(*num_buffers, node->dir->min_buffers);
	*num_planes = planes;
	for (p = 0; p < planes; p++)
		sizes[p] = geom->plane_size[p];
	return 0;
}

/**
 * vivid_node_buf_prepare() - the buf_prepare callback of a node's queue
 * @vb: the buffer
 *
 * Checks that every plane holds a frame of the node's format. A capture
 * buffer's payload is set to the whole frame; an output buffer's is what
 * the application queued.
 *
 * Return: 0, or -EINVAL for a plane too small.
 */
static int vivid_node_buf_prepare(struct vb2x_buffer *vb)
{
	struct vivid_node *node = vb2x_get_drv_priv(vb->vb2x_queue);
	const struct vivid_frame_geom *geom = &node->geom;
	unsigned int p;

	for (p = 0; p < geom->fmt->mem_planes; p++) {
		if (vb2x_plane_size(vb, p) < geom->plane_size[p]) {
			dev_dbg(node->dev->pdev_dev,
				"buffer %u plane %u: %lu bytes, need %u\n",
				vb->index, p, vb2x_plane_size(vb, p),
				geom->plane_size[p]);
			return -EINVAL;
		}
		if (!node->dir->output)
			vb2x_set_plane_payload(vb, p, geom->plane_size[p]);
	}
	return 0;
}

/**
 * vivid_node_buf_queue() - the buf_queue callback of a node's queue
 * @vb: the buffer, added to the tail of &vivid_node.active
 */
static void vivid_node_buf_queue(struct vb2x_buffer *vb)
{
	struct vivid_node *node = vb2x_get_drv_priv(vb->vb2x_queue);
	struct vivid_buffer *buf = to_vivid_buffer(vb);

	spin_lock(&node->slock);
	list_add_tail(&buf->list, &node->active);
	spin_unlock(&node->slock);
}

/**
 * vivid_node_return_all() - give every queued buffer back to vb2x
 * @node: the node, whose thread is not running
 * @state: the state the buffers are returned in
 */
static void vivid_node_return_all(struct vivid_node *node,
				  enum vb2x_buffer_state state)
{
	struct vivid_buffer *buf, *tmp;
	LIST_HEAD(bufs);

	spin_lock(&node->slock);
	list_splice_init(&node->active, &bufs);
	spin_unlock(&node->slock);

	list_for_each_entry_safe(buf, tmp, &bufs, list) {
		list_del(&buf->list);
		vb2x_buffer_done(&buf->vb.vb2x_buf, state);
	}
}

/**
 * vivid_node_start_streaming() - the start_streaming callback of a node's
 *	queue
 * @q: the queue
 * @count: unused
 *
 * Sets up what the node's thread uses (&vivid_node_dir.start) and starts
 * the thread; on failure the queued buffers go back to vb2x as QUEUED.
 *
 * Return: 0 or a negative errno.
 */
static int vivid_node_start_streaming(struct vb2x_queue *q,
				      unsigned int count)
{
	struct vivid_node *node = vb2x_get_drv_priv(q);
	int ret;

	ret = node->dir->start(node);
	if (ret)
		goto return_bufs;
	ret = vivid_node_thread_start(node);
	if (ret) {
		node->dir->stop(node);
		goto return_bufs;
	}
	return 0;

return_bufs:
	vivid_node_return_all(node, VB2X_BUF_STATE_QUEUED);
	return ret;
}

/**
 * vivid_node_stop_streaming() - the stop_streaming callback of a node's
 *	queue
 * @q: the queue
 *
 * Stops the node's thread, returns the queued buffers as ERROR and undoes
 * &vivid_node_dir.start.
 */
static void vivid_node_stop_streaming(struct vb2x_queue *q)
{
	struct vivid_node *node = vb2x_get_drv_priv(q);

	vivid_node_thread_stop(node);
	vivid_node_return_all(node, VB2X_BUF_STATE_ERROR);
	node->dir->stop(node);
}

static const struct vb2x_ops vivid_node_qops = {
	.queue_setup		= vivid_node_queue_setup,
	.buf_prepare		= vivid_node_buf_prepare,
	.buf_queue		= vivid_node_buf_queue,
	.start_streaming	= vivid_node_start_streaming,
	.stop_streaming		= vivid_node_stop_streaming,
};

static int vivid_node_open(struct file *file)
{
	struct vivid_node *node = video_drvdata(file);

	return vb2x_fh_open(file, &node->queue);
}

static const struct v4l2_file_operations vivid_node_fops = {
	.owner		= THIS_MODULE,
	.open		= vivid_node_open,
	.release	= vb2x_fop_release,
	.mmap		= vb2x_fop_mmap,
	.poll		= vb2x_fop_poll,
	.unlocked_ioctl	= video_ioctl2,
};

static bool vivid_node_type_ok(struct vivid_node *node, u32 type)
{
	if (type == node->queue.type)
		return true;
	dev_dbg(node->dev->pdev_dev, "buffer type %u is not the node's %u\n",
		type, node->queue.type);
	return false;
}

/**
 * vivid_node_may_change() - whether a file may change the node's settings
 * @file: the open node
 * @node: the node
 *
 * Format, input or output, and frame rate may change only on an idle
 * queue.
 *
 * Return: 0, or -EBUSY if another file owns the queue or it is busy.
 */
int vivid_node_may_change(struct file *file, struct vivid_node *node)
{
	if (!vb2x_fh_is_owner_or_free(file) || vb2x_is_busy(&node->queue)) {
		dev_dbg(node->dev->pdev_dev, "queue busy\n");
		return -EBUSY;
	}
	return 0;
}

/* S_FMT and S_PARM: the buffer type must be the node's, the queue idle */
static int vivid_node_may_set(struct file *file, struct vivid_node *node,
			      u32 type)
{
	if (!vivid_node_type_ok(node, type))
		return -EINVAL;
	return vivid_node_may_change(file, node);
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
	struct vivid_node *node = video_drvdata(file);

	strscpy(caps->driver, VIVID_DRV_NAME, sizeof(caps->driver));
	snprintf(caps->card, sizeof(caps->card), "%s %u", VIVID_DRV_NAME,
		 node->dev->inst);
	snprintf(caps->bus_info, sizeof(caps->bus_info), "platform:%s-%u",
		 VIVID_DRV_NAME, node->dev->inst);
	return 0;
}

/**
 * vivid_vidioc_enum_fmt() - VIDIOC_ENUM_FMT of a capture or output node
 * @file: the open node
 * @fh: unused
 * @f: the request; filled in with the format's fourcc
 *
 * Return: 0, or -EINVAL for another buffer type or past the last format.
 */
int vivid_vidioc_enum_fmt(struct file *file, void *fh,
			  struct v4l2_fmtdesc *f)
{
	struct vivid_node *node = video_drvdata(file);
	const struct vivid_fmt *fmt;

	if (!vivid_node_type_ok(node, f->type))
		return -EINVAL;
	fmt = vivid_enum_fmt(f->index, node->multiplanar);
	if (!fmt)
		return -EINVAL;
	f->pixelformat = fmt->fourcc;
	return 0;
}

/**
 * vivid_vidioc_g_fmt() - VIDIOC_G_FMT of a capture or output node
 * @file: the open node
 * @fh: unused
 * @f: filled in with the node's format
 *
 * Return: 0, or -EINVAL for another buffer type.
 */
int vivid_vidioc_g_fmt(struct file *file, void *fh, struct v4l2_format *f)
{
	struct vivid_node *node = video_drvdata(file);

	if (!vivid_node_type_ok(node, f->type))
		return -EINVAL;
	vivid_geom_to_fmt(&node->geom, f, node->multiplanar);
	return 0;
}

/**
 * vivid_vidioc_try_fmt() - VIDIOC_TRY_FMT of a capture or output node
 * @file: the open node
 * @fh: unused
 * @f: the request; adjusted to the nearest format the node takes
 *
 * Return: 0, or -EINVAL for another buffer type.
 */
int vivid_vidioc_try_fmt(struct file *file, void *fh, struct v4l2_format *f)
{
	struct vivid_node *node = video_drvdata(file);
	struct vivid_frame_geom geom;

	if (!vivid_node_type_ok(node, f->type))
		return -EINVAL;
	vivid_try_fmt(f, node->multiplanar, &geom);
	return 0;
}

/**
 * vivid_vidioc_s_fmt() - VIDIOC_S_FMT of a capture or output node
 * @file: the open node
 * @fh: unused
 * @f: the request; adjusted as by TRY_FMT and made the node's format
 *
 * Return: 0, -EINVAL for another buffer type, or -EBUSY (see
 * vivid_node_may_change()).
 */
int vivid_vidioc_s_fmt(struct file *file, void *fh, struct v4l2_format *f)
{
	struct vivid_node *node = video_drvdata(file);
	struct vivid_frame_geom geom;
	int ret;

	ret = vivid_node_may_set(file, node, f->type);
	if (ret)
		return ret;
	vivid_try_fmt(f, node->multiplanar, &geom);
	node->geom = geom;
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
	struct vivid_node *node = video_drvdata(file);

	if (fsize->index ||
	    !vivid_find_fmt(fsize->pixel_format, node->multiplanar))
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
	struct vivid_node *node = video_drvdata(file);

	if (fival->index >= vivid_num_intervals ||
	    !vivid_find_fmt(fival->pixel_format, node->multiplanar) ||
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

/* the time per frame of @a: its output or capture parameters */
static struct v4l2_fract *vivid_parm_tpf(struct vivid_node *node,
					 struct v4l2_streamparm *a)
{
	if (node->dir->output)
		return &a->parm.output.timeperframe;
	return &a->parm.capture.timeperframe;
}

static void vivid_fill_parm(struct vivid_node *node,
			    struct v4l2_streamparm *a)
{
	if (node->dir->output) {
		memset(&a->parm.output, 0, sizeof(a->parm.output));
		a->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
	} else {
		memset(&a->parm.capture, 0, sizeof(a->parm.capture));
		a->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	}
	*vivid_parm_tpf(node, a) = vivid_intervals[node->interval];
}

/**
 * vivid_vidioc_g_parm() - VIDIOC_G_PARM of a capture or output node
 * @file: the open node
 * @fh: unused
 * @a: filled in with the node's frame interval
 *
 * Return: 0, or -EINVAL for another buffer type.
 */
int vivid_vidioc_g_parm(struct file *file, void *fh,
			struct v4l2_streamparm *a)
{
	struct vivid_node *node = video_drvdata(file);

	if (!vivid_node_type_ok(node, a->type))
		return -EINVAL;
	vivid_fill_parm(node, a);
	return 0;
}

/**
 * vivid_vidioc_s_parm() - VIDIOC_S_PARM of a capture or output node
 * @file: the open node
 * @fh: unused
 * @a: the request; the node takes the nearest frame interval of
 *	vivid_intervals[] and @a is filled in with it
 *
 * Return: 0, -EINVAL for another buffer type, or -EBUSY (see
 * vivid_node_may_change()).
 */
int vivid_vidioc_s_parm(struct file *file, void *fh,
			struct v4l2_streamparm *a)
{
	struct vivid_node *node = video_drvdata(file);
	int ret;

	ret = vivid_node_may_set(file, node, a->type);
	if (ret)
		return ret;
	node->interval = vivid_nearest_interval(vivid_parm_tpf(node, a));
	vivid_fill_parm(node, a);
	return 0;
}

static int vivid_node_init_queue(struct vivid_node *node)
{
	struct vb2x_queue *q = &node->queue;

	if (node->dir->output)
		q->type = node->multiplanar ?
			  V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE :
			  V4L2_BUF_TYPE_VIDEO_OUTPUT;
	else
		q->type = node->multiplanar ?
			  V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
			  V4L2_BUF_TYPE_VIDEO_CAPTURE;
	q->io_modes = node->dev->io_modes;
	q->dev = node->dev->pdev_dev;
	q->ops = &vivid_node_qops;
	q->mem_ops = node->dev->mem_ops;
	q->budget = node->dev->budget;
	q->drv_priv = node;
	q->buf_struct_size = sizeof(struct vivid_buffer);
	q->timestamp_flags = node->dir->timestamp_flags;
	q->min_queued_buffers = 1;
	q->lock = &node->lock;
	return vb2x_queue_init(q);
}

static void vivid_node_init_vdev(struct vivid_node *node)
{
	struct video_device *vdev = &node->vdev;
	struct vivid_dev *dev = node->dev;
	u32 caps;

	snprintf(vdev->name, sizeof(vdev->name), "%s-%u-%s",
		 VIVID_DRV_NAME, dev->inst, node->dir->name);
	vdev->fops = &vivid_node_fops;
	vdev->ioctl_ops = node->dir->ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->v4l2_dev = &dev->v4l2_dev;
	vdev->ctrl_handler = &dev->ctrl_handler;
	vdev->lock = &node->lock;
	if (node->dir->output) {
		vdev->vfl_dir = VFL_DIR_TX;
		caps = node->multiplanar ? V4L2_CAP_VIDEO_OUTPUT_MPLANE :
					   V4L2_CAP_VIDEO_OUTPUT;
	} else {
		vdev->vfl_dir = VFL_DIR_RX;
		caps = node->multiplanar ? V4L2_CAP_VIDEO_CAPTURE_MPLANE :
					   V4L2_CAP_VIDEO_CAPTURE;
	}
	vdev->device_caps = V4L2_CAP_STREAMING | caps;
	video_set_drvdata(vdev, node);
}

/**
 * vivid_node_create() - create and register a video node of an instance
 * @dev: the instance, with its V4L2 device and controls set up
 * @dir: the node's direction: &vivid_cap_dir or &vivid_out_dir
 * @multiplanar: use the multi-planar API
 * @nodep: set to the node on success (&vivid_dev.cap or &vivid_dev.out)
 *
 * Allocates the node's struct (&vivid_node_dir.size bytes, zeroed) with
 * the default format and frame interval; the node is freed by
 * vivid_node_free() from the instance's release.
 *
 * Return: 0 or a negative errno; on failure nothing is left allocated.
 */
int vivid_node_create(struct vivid_dev *dev, const struct vivid_node_dir *dir,
		      bool multiplanar, struct vivid_node **nodep)
{
	struct vivid_node *node;
	int ret;

	node = kzalloc(dir->size, GFP_KERNEL);
	if (!node)
		return -ENOMEM;
	node->dev = dev;
	node->dir = dir;
	node->multiplanar = multiplanar;
	mutex_init(&node->lock);
	spin_lock_init(&node->slock);
	INIT_LIST_HEAD(&node->active);
	vivid_fill_geom(&node->geom, vivid_enum_fmt(0, multiplanar),
			VIVID_DEF_WIDTH, VIVID_DEF_HEIGHT);
	node->interval = VIVID_DEF_INTERVAL;

	ret = vivid_node_init_queue(node);
	if (ret)
		goto free_node;
	vivid_node_init_vdev(node);
	ret = video_register_device(&node->vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_node;
	*nodep = node;
	v4l2_info(&dev->v4l2_dev, "%s node %s (%s)\n", dir->what,
		  video_device_node_name(&node->vdev),
		  multiplanar ? "multi-planar" : "single-planar");
	return 0;

free_node:
	mutex_destroy(&node->lock);
	kfree(node);
	return ret;
}

/**
 * vivid_node_unregister() - unregister a video node of an instance
 * @node: the node, or NULL
 *
 * Open file handles keep working until closed, but every new ioctl fails;
 * the node's memory stays until vivid_node_free().
 */
void vivid_node_unregister(struct vivid_node *node)
{
	if (node)
		video_unregister_device(&node->vdev);
}

/**
 * vivid_node_free() - free a video node of an instance
 * @node: the node, or NULL; from the instance's release (no file handle
 *	is left open)
 */
void vivid_node_free(struct vivid_node *node)
{
	if (!node)
		return;
	mutex_destroy(&node->lock);
	kfree(node);
}
