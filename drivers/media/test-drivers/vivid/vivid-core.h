/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared definitions of the vivid-expbuf virtual driver
 *
 * One instance (&struct vivid_dev) per platform device; each instance has
 * at most one video capture node (&struct vivid_cap) fed by a kernel
 * thread that draws the test pattern described in
 * Documentation/userspace-api/media/vivid-expbuf.rst.
 */
#ifndef _VIVID_CORE_H
#define _VIVID_CORE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-device.h>
#include <media/vb2x-v4l2.h>

#define VIVID_DRV_NAME		"vivid-expbuf"
#define VIVID_MAX_DEVS		8

#define VIVID_MIN_WIDTH		16
#define VIVID_MAX_WIDTH		3840
#define VIVID_MIN_HEIGHT	16
#define VIVID_MAX_HEIGHT	2160
#define VIVID_SIZE_STEP		2
#define VIVID_DEF_WIDTH		640
#define VIVID_DEF_HEIGHT	480

/* node_types module parameter bits */
#define VIVID_NODE_VID_CAP	BIT(0)
#define VIVID_NODE_VID_OUT	BIT(8)

/* the private Loopback control of the user class */
#define VIVID_CID_LOOPBACK	(V4L2_CID_USER_BASE | 0xf000)

/* values of the V4L2_CID_TEST_PATTERN menu */
#define VIVID_PATTERN_BARS	0
#define VIVID_PATTERN_BLACK	1

/**
 * struct vivid_fmt - a pixel format the capture node offers
 * @fourcc: V4L2_PIX_FMT_* code
 * @bpp: bytes per pixel of the first (or only) plane's lines
 * @is_yuv: YCbCr format (limited quantization) rather than RGB (full)
 * @has_chroma: NV12-style: a Cb,Cr plane of half height follows the Y
 *	plane, with lines as long as the Y plane's
 * @mem_planes: memory planes (buffers) of the format: 2 for NV12M, else 1
 * @mplane_only: offered on multi-planar nodes only
 */
struct vivid_fmt {
	u32	fourcc;
	u8	bpp;
	bool	is_yuv;
	bool	has_chroma;
	u8	mem_planes;
	bool	mplane_only;
};

/**
 * struct vivid_frame_geom - the geometry of a format at a size
 * @fmt: the pixel format
 * @width: width in pixels, even
 * @height: height in lines, even
 * @bytesperline: bytes per line of every plane (Y and CbCr alike)
 * @plane_size: bytes of each memory plane (@fmt->mem_planes entries used);
 *	for single-buffer NV12, entry 0 covers both the Y and CbCr planes
 */
struct vivid_frame_geom {
	const struct vivid_fmt	*fmt;
	u32			width;
	u32			height;
	u32			bytesperline;
	u32			plane_size[2];
};

/**
 * struct vivid_pattern - line templates used to draw frames of one geometry
 * @geom: the geometry the templates were built for
 * @rgb: scratch line of @geom.width R,G,B triplets
 * @bars: bar-area line: [0] Y or packed pixels, [1] CbCr (NV12 only)
 * @band: counter-band line, same layout as @bars
 * @bars_hflip: HFLIP setting @bars was drawn with
 * @bars_pattern: TEST_PATTERN setting @bars was drawn with
 * @bars_valid: @bars matches @bars_hflip and @bars_pattern
 * @band_seq: sequence number @band was drawn for
 * @band_valid: @band matches @band_seq
 *
 * Owned by the capture thread while streaming; built before the thread
 * starts and freed after it stopped, so it needs no lock.
 */
struct vivid_pattern {
	struct vivid_frame_geom	geom;
	u8			*rgb;
	u8			*bars[2];
	u8			*band[2];
	bool			bars_hflip;
	u32			bars_pattern;
	bool			bars_valid;
	u32			band_seq;
	bool			band_valid;
};

/**
 * struct vivid_buffer - a capture or output buffer
 * @vb: the vb2x buffer; must stay first (&vb2x_queue.buf_struct_size)
 * @list: link in the node's active list (&vivid_node.active), protected
 *	by &vivid_node.slock
 */
struct vivid_buffer {
	struct vb2x_v4l2_buffer	vb;
	struct list_head	list;
};

struct vb2x_budget;
struct vivid_dev;
struct vivid_node;

/* index into vivid_intervals[] of a new node: 1/30 */
#define VIVID_DEF_INTERVAL	2

/**
 * struct vivid_node_dir - the direction of a video node: what sets a
 *	capture node apart from an output node
 * @output: an output node (VFL_DIR_TX, the VIDEO_OUTPUT buffer types and
 *	capabilities, &v4l2_streamparm.parm.output); else a capture node
 *	(VFL_DIR_RX, VIDEO_CAPTURE, &v4l2_streamparm.parm.capture)
 * @size: bytes of the node's struct (&struct vivid_cap or &struct
 *	vivid_out), whose first member is its &struct vivid_node
 * @name: suffix of the video device name, after the instance's name
 * @what: the node's kind in the kernel log line of its registration
 * @min_buffers: REQBUFS allocates at least this many buffers
 * @timestamp_flags: &vb2x_queue.timestamp_flags of the node's queue
 * @ioctl_ops: the node's ioctls
 * @start: sets up what the node's thread uses while streaming; called by
 *	start_streaming with &vivid_node.lock held, before the thread
 *	starts. Return: 0 or a negative errno.
 * @stop: undoes @start; called with &vivid_node.lock held by
 *	stop_streaming after the thread stopped, and by start_streaming if
 *	the thread does not start
 * @period_end: called by the node's thread at the end of each frame
 *	period, in order, with the period's number and its end
 *	(CLOCK_MONOTONIC ns); fills (capture) or consumes (output) the oldest
 *	queued buffer
 *
 * One constant instance per direction: vivid_cap_dir and vivid_out_dir.
 */
struct vivid_node_dir {
	bool				output;
	size_t				size;
	const char			*name;
	const char			*what;
	unsigned int			min_buffers;
	u32				timestamp_flags;
	const struct v4l2_ioctl_ops	*ioctl_ops;
	int	(*start)(struct vivid_node *node);
	void	(*stop)(struct vivid_node *node);
	void	(*period_end)(struct vivid_node *node, u64 period,
			      u64 end_ns);
};

/**
 * struct vivid_node - a video node, capture or output
 * @dev: the instance this node belongs to
 * @dir: the node's direction
 * @vdev: the video device; its lock is @lock, its queue pointer stays NULL,
 *	its driver data is this node
 * @queue: the vb2x buffer queue; its driver data is this node
 * @lock: serializes every ioctl, mmap and release on the node, and the
 *	vb2x queue (&video_device.lock and &vb2x_queue.lock point to it).
 *	Protects @geom, @interval and @multiplanar readers against changes.
 * @multiplanar: the node uses the multi-planar API
 * @geom: current format; changed by S_FMT under @lock while not busy
 * @interval: index into vivid_intervals[]; changed by S_PARM under @lock
 *	while not busy
 * @slock: protects @active; taken by buf_queue and by the node's thread
 * @active: buffers handed to the driver and not yet filled (capture) or
 *	consumed (output)
 * @thread: the node's frame thread while streaming, NULL otherwise;
 *	started and stopped under @lock
 * @start_ns: CLOCK_MONOTONIC time of STREAMON, set before @thread starts
 *
 * Embedded first in &struct vivid_cap and &struct vivid_out. Created and
 * registered by vivid_node_create() when the instance is probed,
 * unregistered by vivid_node_unregister() when it is removed, and freed by
 * vivid_node_free() from the instance's release. The node has no reference
 * count of its own: its registered video device holds a reference to
 * &vivid_dev.v4l2_dev until it is unregistered and its last file handle
 * is closed, so the node outlives every user and &video_device.release is
 * empty.
 */
struct vivid_node {
	struct vivid_dev		*dev;
	const struct vivid_node_dir	*dir;
	struct video_device		vdev;
	struct vb2x_queue		queue;
	struct mutex			lock; /* see @lock above */
	bool				multiplanar;
	struct vivid_frame_geom		geom;
	unsigned int			interval;
	spinlock_t			slock; /* protects @active */
	struct list_head		active;
	struct task_struct		*thread;
	u64				start_ns;
};

/**
 * struct vivid_cap - a video capture node
 * @node: the node; must stay first (&vivid_node_dir.size)
 * @pattern: templates of the frame generator; set up before
 *	&vivid_node.thread starts and freed after it stopped
 */
struct vivid_cap {
	struct vivid_node	node;
	struct vivid_pattern	pattern;
};

/**
 * struct vivid_out - a video output node
 * @node: the node; must stay first (&vivid_node_dir.size)
 * @sequence: sequence number of the next consumed buffer; used by
 *	&vivid_node.thread only, reset before it starts
 */
struct vivid_out {
	struct vivid_node	node;
	u32			sequence;
};

/**
 * struct vivid_loop - the frame the output node passes to the capture node
 * @lock: protects every other field. Taken by the output node's
 *	start/stop_streaming and its thread (writers) and by the capture
 *	thread (reader); both threads may sleep, so it is a mutex, held
 *	while a frame is copied in or out.
 * @frame: the output's frame memory, all planes one after the other;
 *	allocated when the output starts streaming and freed when it
 *	stops, so @frame is non-NULL exactly while the output streams
 * @geom: the output's format while @frame is allocated
 * @valid: @frame holds a frame the output consumed
 */
struct vivid_loop {
	struct mutex		lock; /* see @lock above */
	u8			*frame;
	struct vivid_frame_geom	geom;
	bool			valid;
};

/**
 * struct vivid_dev - one instance of the driver
 * @v4l2_dev: the V4L2 device; its reference count keeps this struct alive
 *	while a video node or an open file handle uses it
 * @pdev_dev: the platform device, referenced until the instance is freed
 * @inst: instance number, the platform device id
 * @ctrl_handler: the instance's controls (HFLIP, TEST_PATTERN, Loopback),
 *	shared by its capture and output nodes
 * @hflip: current V4L2_CID_HFLIP value; written by the control handler
 *	(under its lock), read locklessly by the capture thread
 * @test_pattern: current V4L2_CID_TEST_PATTERN value; as @hflip
 * @loopback: current Loopback control value; written as @hflip, read
 *	locklessly by the capture and output threads
 * @loop: the output's last frame, for the capture node when @loopback
 * @mem_ops: allocator of the instance's queues (allocators parameter)
 * @io_modes: &enum vb2x_io_modes of the instance's queues: USERPTR only
 *	with an allocator that can use user memory
 * @budget: bound on the buffer memory of the instance's queues still
 *	alive (mem_limit_mb); this struct holds one reference, dropped at
 *	its release, and every allocation charged to it holds one more
 * @cap: the video capture node (&vivid_cap.node), NULL if node_types has
 *	no capture bit
 * @out: the video output node (&vivid_out.node), NULL if node_types has
 *	no output bit
 */
struct vivid_dev {
	struct v4l2_device	v4l2_dev;
	struct device		*pdev_dev;
	unsigned int		inst;
	struct v4l2_ctrl_handler ctrl_handler;
	u32			hflip;
	u32			test_pattern;
	u32			loopback;
	struct vivid_loop	loop;
	const struct vb2x_mem_ops *mem_ops;
	unsigned int		io_modes;
	struct vb2x_budget	*budget;
	struct vivid_node	*cap;
	struct vivid_node	*out;
};

/* vivid-fmt.c */
const struct vivid_fmt *vivid_find_fmt(u32 fourcc, bool multiplanar);
const struct vivid_fmt *vivid_enum_fmt(unsigned int index, bool multiplanar);
void vivid_fill_geom(struct vivid_frame_geom *geom,
		     const struct vivid_fmt *fmt, u32 width, u32 height);
bool vivid_valid_size(u32 width, u32 height);
void vivid_try_fmt(struct v4l2_format *f, bool multiplanar,
		   struct vivid_frame_geom *geom);
void vivid_geom_to_fmt(const struct vivid_frame_geom *geom,
		       struct v4l2_format *f, bool multiplanar);

/* vivid-pattern.c */
int vivid_pattern_init(struct vivid_pattern *pat,
		       const struct vivid_frame_geom *geom);
void vivid_pattern_free(struct vivid_pattern *pat);
void vivid_pattern_fill(struct vivid_pattern *pat, u8 *plane0, u8 *plane1,
			u32 sequence, bool hflip, u32 pattern);

/* vivid-buffers.c */
struct vivid_buffer *vivid_next_ready_buf(spinlock_t *slock,
					  struct list_head *active,
					  bool *failed);
int vivid_node_thread_start(struct vivid_node *node);
void vivid_node_thread_stop(struct vivid_node *node);

/* vivid-kthread-cap.c */
void vivid_cap_period_end(struct vivid_node *node, u64 period,
			  u64 end_ns);

/* vivid-node.c */
extern const struct v4l2_fract vivid_intervals[];
extern const unsigned int vivid_num_intervals;

unsigned int vivid_nearest_interval(const struct v4l2_fract *tpf);
int vivid_node_create(struct vivid_dev *dev, const struct vivid_node_dir *dir,
		      bool multiplanar, struct vivid_node **nodep);
void vivid_node_unregister(struct vivid_node *node);
void vivid_node_free(struct vivid_node *node);
int vivid_node_may_change(struct file *file, struct vivid_node *node);
int vivid_vidioc_querycap(struct file *file, void *fh,
			  struct v4l2_capability *caps);
int vivid_vidioc_enum_fmt(struct file *file, void *fh,
			  struct v4l2_fmtdesc *f);
int vivid_vidioc_g_fmt(struct file *file, void *fh, struct v4l2_format *f);
int vivid_vidioc_try_fmt(struct file *file, void *fh, struct v4l2_format *f);
int vivid_vidioc_s_fmt(struct file *file, void *fh, struct v4l2_format *f);
int vivid_vidioc_enum_framesizes(struct file *file, void *fh,
				 struct v4l2_frmsizeenum *fsize);
int vivid_vidioc_enum_frameintervals(struct file *file, void *fh,
				     struct v4l2_frmivalenum *fival);
int vivid_vidioc_g_parm(struct file *file, void *fh,
			struct v4l2_streamparm *a);
int vivid_vidioc_s_parm(struct file *file, void *fh,
			struct v4l2_streamparm *a);

/* vivid-vid-cap.c */
extern const struct vivid_node_dir vivid_cap_dir;

/* vivid-vid-out.c */
extern const struct vivid_node_dir vivid_out_dir;

/* vivid-kthread-out.c */
void vivid_out_period_end(struct vivid_node *node, u64 period,
			  u64 end_ns);
int vivid_loop_start(struct vivid_dev *dev,
		     const struct vivid_frame_geom *geom);
void vivid_loop_stop(struct vivid_dev *dev);
bool vivid_loop_fetch(struct vivid_dev *dev,
		      const struct vivid_frame_geom *geom,
		      u8 *plane0, u8 *plane1);

/* vivid-ctrls.c */
int vivid_ctrls_init(struct vivid_dev *dev);

#endif /* _VIVID_CORE_H */
