// SPDX-License-Identifier: GPL-2.0-only
/*
 * Video output node and capture loopback tests: the output node's identity,
 * formats and frame interval; output streaming with MMAP and USERPTR (order,
 * sequence, copied timestamps, pace, STREAMOFF); the Loopback control for
 * every format (capture frames are byte copies of output frames, and the
 * test pattern comes back when the control, the output or the format says
 * so); and the zero-copy pipeline in which the other instance's capture
 * buffers are exported and queued as DMABUF buffers to this instance's
 * output, looped back to this instance's capture.
 *
 * Run with -d <capture node>; the same instance's output node and the other
 * instance's capture node are found by their sysfs names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "v4l2-lib.h"

#define LOOPBACK_CID	(V4L2_CID_USER_BASE | 0xf000)
#define WIDTH		160
#define HEIGHT		120
#define OTHER_WIDTH	176
#define OTHER_HEIGHT	144
#define FPS		30
#define CAP_NBUFS	4
#define OUT_NBUFS	4
#define OUT_FRAMES	8
#define MAX_REC		48
#define WANT_LOOPED	10
#define MIN_LOOPED	6
#define MIN_DISTINCT	3
#define AFTER_FRAMES	3
#define PUMP_SECS	8.0
#define PACE_SLACK	0.8
#define FRAME_MAGIC	0x4c4f4f50u
#define MAX_SENT	512

enum frame_kind {
	FRAME_PATTERN,
	FRAME_LOOPED,
	FRAME_OTHER,
};

/* One capture frame as the loop saw it. */
struct cap_rec {
	enum frame_kind kind;
	__u32 frame_no;
	__u32 sequence;
	double ts;
};

/* What an output buffer is queued with, and must come back with. */
struct out_meta {
	struct timeval ts;
	struct v4l2_timecode tc;
	__u32 src_flag;
	__u32 bytesused[VLIB_MAX_PLANES];
};

/*
 * The state of a capture + output stream on this instance. Output frames
 * are numbered in the order they are written (@sent); a frame carries its
 * number in its first four bytes, the rest is a byte signature of it.
 */
struct loop_ctx {
	struct vlib_fmt cfmt;
	struct vlib_fmt ofmt;
	struct vlib_buf cbufs[VLIB_MAX_BUFS];
	struct vlib_buf obufs[VLIB_MAX_BUFS];
	int ccount;
	int ocount;
	bool out_on;
	__u32 sent;
	__u32 out_done;
	struct cap_rec rec[MAX_REC];
	unsigned int nrec;
	unsigned int looped;
	char why[400];
};

/* When a pump stops: all of these hold. */
struct pump_goal {
	unsigned int cap_after;
	double after;
	unsigned int out_min;
	unsigned int looped;
};

static struct vlib_dev cap, out, peer;
static const char *cap_path;
static char out_path[64], peer_path[64];
static bool have_peer;
static struct loop_ctx lc;

static __printf(3, 4) void set_why(char *why, size_t len, const char *fmt, ...);

/* Keeps the first reason given: the later ones are usually consequences. */
static void set_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static const char *fcc(__u32 fourcc)
{
	static char buf[4][5];
	static unsigned int next;

	next = (next + 1) % 4;
	return vlib_fourcc_str(fourcc, buf[next]);
}

/* ------------------------------------------------------ frame content */

/* Fills @len bytes with a xorshift sequence seeded by @seed. */
static void sig_bytes(__u8 *dst, size_t len, __u32 seed)
{
	__u32 x = 0x9e3779b9u ^ (seed * 0x85ebca6bu);
	size_t i;

	if (!x)
		x = 1;
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		dst[i] = x >> 24;
	}
}

/* Writes output frame number @n of format @f into @planes. */
static void sig_fill(const struct vlib_fmt *f, __u32 n, void *const planes[])
{
	__u32 tag = n ^ FRAME_MAGIC;
	unsigned int p;

	for (p = 0; p < f->num_planes; p++)
		sig_bytes(planes[p], f->sizeimage[p], n * 2 + p);
	memcpy(planes[0], &tag, sizeof(tag));
}

/*
 * Tells whether @planes hold an output frame numbered below @sent, as
 * written by sig_fill(). Returns 1 with *@n set if so, 0 if the frame
 * carries no such number, -1 if it does but its bytes differ.
 */
static int sig_match(const struct vlib_fmt *f, void *const planes[],
		     __u32 sent, __u32 *n, char *why, size_t len)
{
	__u8 *want[VLIB_MAX_PLANES] = { NULL, NULL };
	unsigned int p;
	__u32 tag;
	int ret = 1;

	memcpy(&tag, planes[0], sizeof(tag));
	tag ^= FRAME_MAGIC;
	if (tag >= sent)
		return 0;
	*n = tag;
	for (p = 0; p < f->num_planes; p++) {
		want[p] = malloc(f->sizeimage[p]);
		if (!want[p]) {
			set_why(why, len, "out of memory");
			ret = -1;
			goto out;
		}
	}
	sig_fill(f, tag, (void *const *)want);
	for (p = 0; p < f->num_planes && ret == 1; p++) {
		const __u8 *got = planes[p];
		size_t i;

		for (i = 0; i < f->sizeimage[p]; i++)
			if (got[i] != want[p][i])
				break;
		if (i < f->sizeimage[p]) {
			set_why(why, len,
				"frame %u: plane %u byte %zu is 0x%02x, sent 0x%02x",
				tag, p, i, got[i], want[p][i]);
			ret = -1;
		}
	}
out:
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		free(want[p]);
	return ret;
}

/* The capture's own frame: the test pattern without flip. */
static bool is_pattern(const struct vlib_fmt *f, void *const planes[],
		       __u32 sequence, char *msg, size_t len)
{
	struct vlib_pattern pat = { .sequence = sequence };

	return pattern_check(f, &pat, planes, msg, len);
}

/* -------------------------------------------------------- buffer helpers */

static size_t page_round(size_t n)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

static int alloc_user(const struct vlib_fmt *f, struct vlib_buf *b)
{
	unsigned int p;

	memset(b, 0, sizeof(*b));
	b->num_planes = f->num_planes;
	for (p = 0; p < f->num_planes; p++) {
		b->length[p] = page_round(f->sizeimage[p]);
		if (posix_memalign(&b->start[p], sysconf(_SC_PAGESIZE),
				   b->length[p]))
			return -1;
		memset(b->start[p], 0, b->length[p]);
	}
	return 0;
}

static void release_buf(struct vlib_buf *b)
{
	unsigned int p;

	if (b->mmapped) {
		vlib_unmap_buf(b);
		return;
	}
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		free(b->start[p]);
	memset(b, 0, sizeof(*b));
}

static void release_bufs(struct vlib_buf *bufs)
{
	int i;

	for (i = 0; i < VLIB_MAX_BUFS; i++)
		release_buf(&bufs[i]);
}

static int querybuf(struct vlib_dev *d, __u32 memory, __u32 index,
		    struct vlib_frame *fr)
{
	vlib_init_buf(d, &fr->buf, fr->planes, memory, index);
	return xioctl(d->fd, VIDIOC_QUERYBUF, &fr->buf);
}

/* Queues output buffer @index with the metadata @m (USERPTR: memory @ub). */
static int out_qbuf(__u32 memory, __u32 index, const struct vlib_buf *ub,
		    const struct out_meta *m, unsigned int num_planes)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int p;

	vlib_init_buf(&out, &b, planes, memory, index);
	b.field = V4L2_FIELD_NONE;
	b.flags = V4L2_BUF_FLAG_TIMECODE | m->src_flag;
	b.timestamp = m->ts;
	b.timecode = m->tc;
	if (!out.mplane) {
		b.bytesused = m->bytesused[0];
		if (memory == V4L2_MEMORY_USERPTR) {
			b.m.userptr = (unsigned long)ub->start[0];
			b.length = ub->length[0];
		}
		return xioctl(out.fd, VIDIOC_QBUF, &b);
	}
	b.length = num_planes;
	for (p = 0; p < num_planes; p++) {
		planes[p].bytesused = m->bytesused[p];
		if (memory == V4L2_MEMORY_USERPTR) {
			planes[p].m.userptr = (unsigned long)ub->start[p];
			planes[p].length = ub->length[p];
		}
	}
	return xioctl(out.fd, VIDIOC_QBUF, &b);
}

/* Queues output MMAP buffer @index whole, with no timestamp of note. */
static int out_qbuf_whole(__u32 index, const struct vlib_fmt *f)
{
	struct out_meta m;
	unsigned int p;

	memset(&m, 0, sizeof(m));
	for (p = 0; p < f->num_planes; p++)
		m.bytesused[p] = f->sizeimage[p];
	return out_qbuf(V4L2_MEMORY_MMAP, index, NULL, &m, f->num_planes);
}

/* Stops @d and frees its buffers. */
static void reset_queue(struct vlib_dev *d, __u32 memory)
{
	vlib_streamoff(d);
	vlib_reqbufs(d, memory, 0, NULL);
}

/* ------------------------------------------------------ output basics */

static bool same_str(const __u8 *a, const __u8 *b, size_t len)
{
	return !strncmp((const char *)a, (const char *)b, len);
}

static void querycap_checks(void)
{
	__u32 want = (cap.mplane ? V4L2_CAP_VIDEO_OUTPUT_MPLANE :
				      V4L2_CAP_VIDEO_OUTPUT) | V4L2_CAP_STREAMING;
	__u32 mask = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE |
			V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
			V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE |
			V4L2_CAP_STREAMING | V4L2_CAP_READWRITE;
	__u32 dc = out.cap.device_caps;

	if (!tap_ok((out.cap.capabilities & V4L2_CAP_DEVICE_CAPS) &&
		    (dc & mask) == want,
		    "loopback: output device_caps are the instance's output API with streaming"))
		tap_diag("device_caps 0x%08x, want 0x%08x among 0x%08x", dc,
			 want, mask);
	if (!tap_ok(same_str(out.cap.driver, cap.cap.driver,
			     sizeof(cap.cap.driver)) &&
		    same_str(out.cap.card, cap.cap.card, sizeof(cap.cap.card)) &&
		    same_str(out.cap.bus_info, cap.cap.bus_info,
			     sizeof(cap.cap.bus_info)),
		    "loopback: output driver, card and bus_info are the capture node's"))
		tap_diag("output '%s' '%s' '%s', capture '%s' '%s' '%s'",
			 (char *)out.cap.driver, (char *)out.cap.card,
			 (char *)out.cap.bus_info, (char *)cap.cap.driver,
			 (char *)cap.cap.card, (char *)cap.cap.bus_info);
}

static void output_enum_checks(void)
{
	struct v4l2_output o;
	int ret, err, index = -1;

	memset(&o, 0, sizeof(o));
	ret = xioctl(out.fd, VIDIOC_ENUMOUTPUT, &o);
	if (!tap_ok(!ret && o.index == 0 && o.type == V4L2_OUTPUT_TYPE_ANALOG &&
		    !strcmp((char *)o.name, "Output 0"),
		    "loopback: ENUM_OUTPUT 0 is the analog output 'Output 0'"))
		tap_diag("ENUM_OUTPUT 0: %s, type %u, name '%.32s'",
			 tap_errname(ret, errno), o.type, (char *)o.name);
	memset(&o, 0, sizeof(o));
	o.index = 1;
	ret = xioctl(out.fd, VIDIOC_ENUMOUTPUT, &o);
	tap_errno(ret, errno, EINVAL, "loopback: ENUM_OUTPUT 1 gets EINVAL");

	ret = xioctl(out.fd, VIDIOC_G_OUTPUT, &index);
	if (!tap_ok(!ret && index == 0, "loopback: G_OUTPUT is 0"))
		tap_diag("G_OUTPUT: %s, index %d", tap_errname(ret, errno),
			 index);
	index = 0;
	ret = xioctl(out.fd, VIDIOC_S_OUTPUT, &index);
	err = errno;
	if (!tap_ok(!ret, "loopback: S_OUTPUT 0 works"))
		tap_diag("S_OUTPUT 0: %s", tap_errname(ret, err));
	index = 1;
	ret = xioctl(out.fd, VIDIOC_S_OUTPUT, &index);
	tap_errno(ret, errno, EINVAL, "loopback: S_OUTPUT 1 gets EINVAL");
}

static void enum_fmt_checks(void)
{
	struct v4l2_fmtdesc a, b;
	unsigned int i, n = 0;
	char why[200] = "";

	for (i = 0; i < 32 && !why[0]; i++) {
		int ra, rb;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.index = i;
		b.index = i;
		a.type = cap.type;
		b.type = out.type;
		ra = xioctl(cap.fd, VIDIOC_ENUM_FMT, &a);
		rb = xioctl(out.fd, VIDIOC_ENUM_FMT, &b);
		if (ra && rb)
			break;
		if (ra || rb)
			set_why(why, sizeof(why),
				"index %u: capture %s, output %s", i,
				ra ? "ends" : fcc(a.pixelformat),
				rb ? "ends" : fcc(b.pixelformat));
		else if (a.pixelformat != b.pixelformat || a.flags != b.flags)
			set_why(why, sizeof(why),
				"index %u: capture %s flags 0x%x, output %s flags 0x%x",
				i, fcc(a.pixelformat), a.flags,
				fcc(b.pixelformat), b.flags);
		else
			n++;
	}
	if (!n)
		set_why(why, sizeof(why), "no format listed");
	if (!tap_ok(!why[0], "loopback: output ENUM_FMT lists the capture node's formats"))
		tap_diag("%s", why);
}

/* TRY_FMT on both nodes gives the same answer for every pixel format. */
static void try_fmt_checks(void)
{
	static const __u32 fourccs[] = {
		V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_XBGR32,
		V4L2_PIX_FMT_RGB565, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_NV12M,
		V4L2_PIX_FMT_GREY,
	};
	char why[300] = "";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fourccs) && !why[0]; i++) {
		struct v4l2_format fc, fo;
		int rc, ro;

		memset(&fc, 0, sizeof(fc));
		fc.type = cap.type;
		if (cap.mplane) {
			fc.fmt.pix_mp.pixelformat = fourccs[i];
			fc.fmt.pix_mp.width = 333;
			fc.fmt.pix_mp.height = 201;
		} else {
			fc.fmt.pix.pixelformat = fourccs[i];
			fc.fmt.pix.width = 333;
			fc.fmt.pix.height = 201;
		}
		fo = fc;
		fo.type = out.type;
		rc = xioctl(cap.fd, VIDIOC_TRY_FMT, &fc);
		ro = xioctl(out.fd, VIDIOC_TRY_FMT, &fo);
		fo.type = cap.type;
		if (rc || ro)
			set_why(why, sizeof(why), "%s: TRY_FMT capture %d output %d",
				fcc(fourccs[i]), rc, ro);
		else if (memcmp(&fc, &fo, sizeof(fc)))
			set_why(why, sizeof(why),
				"%s 333x201: the two TRY_FMT answers differ",
				fcc(fourccs[i]));
	}
	if (!tap_ok(!why[0], "loopback: output TRY_FMT answers as the capture node's"))
		tap_diag("%s", why);
}

/* Minimal bytesperline and sizeimage of plane @p, as the uAPI page says. */
static void min_sizes(const struct vlib_fmt *f, unsigned int p, __u32 *bpl,
		      __u32 *size)
{
	__u32 w = f->width, h = f->height;

	switch (f->fourcc) {
	case V4L2_PIX_FMT_RGB24:
		*bpl = 3 * w;
		break;
	case V4L2_PIX_FMT_XBGR32:
		*bpl = 4 * w;
		break;
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_NV12M:
		*bpl = w;
		break;
	default:
		*bpl = 2 * w;
		break;
	}
	*size = *bpl * h;
	if (f->fourcc == V4L2_PIX_FMT_NV12)
		*size = w * h * 3 / 2;
	else if (f->fourcc == V4L2_PIX_FMT_NV12M && p == 1)
		*size = w * h / 2;
}

/*
 * The current output format, whatever set it (the default YUYV 640x480 is
 * gone once another program ran): a listed one, with minimal sizes.
 */
static void current_fmt_check(void)
{
	unsigned int p, want_planes;
	char why[200] = "";
	struct vlib_fmt f;
	__u32 bpl, size;

	if (vlib_get_fmt(&out, &f)) {
		set_why(why, sizeof(why), "G_FMT: %s", strerror(errno));
	} else if (!pattern_supported(f.fourcc) ||
		   (f.fourcc == V4L2_PIX_FMT_NV12M && !out.mplane) ||
		   f.field != V4L2_FIELD_NONE ||
		   f.colorspace != V4L2_COLORSPACE_SRGB) {
		set_why(why, sizeof(why), "%s field %u colorspace %u",
			fcc(f.fourcc), f.field, f.colorspace);
	} else {
		want_planes = f.fourcc == V4L2_PIX_FMT_NV12M ? 2 : 1;
		if (f.num_planes != want_planes)
			set_why(why, sizeof(why), "%s with %u planes",
				fcc(f.fourcc), f.num_planes);
		for (p = 0; p < f.num_planes && p < want_planes; p++) {
			min_sizes(&f, p, &bpl, &size);
			if (f.bytesperline[p] != bpl || f.sizeimage[p] != size)
				set_why(why, sizeof(why),
					"%s %ux%u plane %u: bytesperline %u sizeimage %u, want %u %u",
					fcc(f.fourcc), f.width, f.height, p,
					f.bytesperline[p], f.sizeimage[p], bpl,
					size);
		}
	}
	if (!tap_ok(!why[0], "loopback: output G_FMT is a listed format with minimal sizes"))
		tap_diag("%s", why);
}

static void control_checks(void)
{
	struct v4l2_queryctrl qc = { .id = LOOPBACK_CID };
	__s32 on_out = -1, on_cap = -1;
	int ret;

	ret = xioctl(out.fd, VIDIOC_QUERYCTRL, &qc);
	if (!tap_ok(!ret && qc.type == V4L2_CTRL_TYPE_BOOLEAN &&
		    !strcmp((char *)qc.name, "Loopback") && qc.minimum == 0 &&
		    qc.maximum == 1 && qc.default_value == 0,
		    "loopback: output node lists Loopback, boolean, default 0"))
		tap_diag("QUERYCTRL: %s, type %u name '%.32s' %d..%d default %d",
			 tap_errname(ret, errno), qc.type, (char *)qc.name,
			 qc.minimum, qc.maximum, qc.default_value);
	ret = vlib_set_ctrl(&cap, LOOPBACK_CID, 1) ||
	      vlib_get_ctrl(&out, LOOPBACK_CID, &on_out) ||
	      vlib_set_ctrl(&out, LOOPBACK_CID, 0) ||
	      vlib_get_ctrl(&cap, LOOPBACK_CID, &on_cap);
	if (!tap_ok(!ret && on_out == 1 && on_cap == 0,
		    "loopback: Loopback is one control for the capture and output nodes"))
		tap_diag("S_CTRL/G_CTRL: %s; output reads %d after 1, capture %d after 0",
			 ret ? strerror(errno) : "ok", on_out, on_cap);
}

static int get_parm(struct vlib_dev *d, struct v4l2_streamparm *parm)
{
	memset(parm, 0, sizeof(*parm));
	parm->type = d->type;
	return xioctl(d->fd, VIDIOC_G_PARM, parm);
}

static void parm_checks(void)
{
	struct v4l2_streamparm po, pc, pc2;
	struct v4l2_fract *t = &po.parm.output.timeperframe;
	struct vlib_fmt cf, cf2, of;
	int ret, rc;

	memset(&po, 0, sizeof(po));
	po.type = out.type;
	ret = xioctl(out.fd, VIDIOC_S_PARM, &po);
	if (!tap_ok(!ret && t->numerator == 1 && t->denominator == 30,
		    "loopback: output S_PARM 0/0 selects the default 1/30"))
		tap_diag("S_PARM: %s, %u/%u", tap_errname(ret, errno),
			 t->numerator, t->denominator);
	ret = get_parm(&out, &po);
	if (!tap_ok(!ret && (po.parm.output.capability & V4L2_CAP_TIMEPERFRAME) &&
		    t->numerator == 1 && t->denominator == 30,
		    "loopback: output G_PARM reports TIMEPERFRAME and 1/30 in parm.output"))
		tap_diag("G_PARM: %s, capability 0x%x, %u/%u",
			 tap_errname(ret, errno), po.parm.output.capability,
			 t->numerator, t->denominator);

	rc = get_parm(&cap, &pc);
	memset(&po, 0, sizeof(po));
	po.type = out.type;
	t->numerator = 2;
	t->denominator = 31;
	ret = xioctl(out.fd, VIDIOC_S_PARM, &po);
	if (!tap_ok(!ret && t->numerator == 1 && t->denominator == 15 &&
		    (po.parm.output.capability & V4L2_CAP_TIMEPERFRAME),
		    "loopback: output S_PARM 2/31 selects 1/15"))
		tap_diag("S_PARM: %s, %u/%u, capability 0x%x",
			 tap_errname(ret, errno), t->numerator, t->denominator,
			 po.parm.output.capability);
	ret = get_parm(&out, &po);
	if (!tap_ok(!ret && t->numerator == 1 && t->denominator == 15,
		    "loopback: output G_PARM returns the interval set"))
		tap_diag("G_PARM: %s, %u/%u", tap_errname(ret, errno),
			 t->numerator, t->denominator);

	ret = vlib_get_fmt(&cap, &cf) ||
	      vlib_set_fmt(&out, V4L2_PIX_FMT_RGB24, OTHER_WIDTH, OTHER_HEIGHT,
			   &of) || vlib_get_fmt(&cap, &cf2);
	if (!rc)
		rc = get_parm(&cap, &pc2);
	if (!tap_ok(!ret && !rc && !memcmp(&cf, &cf2, sizeof(cf)) &&
		    !memcmp(&pc, &pc2, sizeof(pc)) &&
		    of.fourcc == V4L2_PIX_FMT_RGB24 && of.width == OTHER_WIDTH,
		    "loopback: output format and interval are set apart from the capture's"))
		tap_diag("S_FMT/G_FMT/G_PARM: %s; capture %s %ux%u -> %s %ux%u, %u/%u -> %u/%u",
			 ret || rc ? strerror(errno) : "ok", fcc(cf.fourcc),
			 cf.width, cf.height, fcc(cf2.fourcc), cf2.width,
			 cf2.height, pc.parm.capture.timeperframe.numerator,
			 pc.parm.capture.timeperframe.denominator,
			 pc2.parm.capture.timeperframe.numerator,
			 pc2.parm.capture.timeperframe.denominator);
	vlib_set_fps(&out, 1, 30);
}

/* ---------------------------------------------------- output streaming */

static void make_meta(const struct vlib_fmt *f, unsigned int i,
		      struct out_meta *m)
{
	unsigned int p;

	memset(m, 0, sizeof(*m));
	m->ts.tv_sec = 1000 + i;
	m->ts.tv_usec = 1000 * i + 7;
	m->tc.type = V4L2_TC_TYPE_25FPS;
	m->tc.frames = i;
	m->tc.seconds = 1 + i;
	m->tc.minutes = 2;
	m->tc.hours = 3;
	m->tc.userbits[0] = 'v';
	m->tc.userbits[3] = i;
	m->src_flag = (i & 1) ? V4L2_BUF_FLAG_TSTAMP_SRC_SOE :
				V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
	for (p = 0; p < f->num_planes; p++)
		m->bytesused[p] = f->sizeimage[p] - 8 * i;
}

/* Compares a dequeued output buffer with what it was queued with. */
static bool meta_matches(const struct vlib_frame *fr, const struct out_meta *m,
			 char *why, size_t len)
{
	const struct v4l2_buffer *b = &fr->buf;
	__u32 want = V4L2_BUF_FLAG_TIMESTAMP_COPY | V4L2_BUF_FLAG_TIMECODE |
			m->src_flag;
	__u32 mask = V4L2_BUF_FLAG_TIMESTAMP_MASK | V4L2_BUF_FLAG_TIMECODE |
			V4L2_BUF_FLAG_TSTAMP_SRC_MASK | V4L2_BUF_FLAG_ERROR;

	if (b->timestamp.tv_sec != m->ts.tv_sec ||
	    b->timestamp.tv_usec != m->ts.tv_usec) {
		snprintf(why, len, "timestamp %ld.%06ld, queued %ld.%06ld",
			 (long)b->timestamp.tv_sec, (long)b->timestamp.tv_usec,
			 (long)m->ts.tv_sec, (long)m->ts.tv_usec);
		return false;
	}
	if (memcmp(&b->timecode, &m->tc, sizeof(m->tc))) {
		snprintf(why, len, "timecode %u:%u:%u:%u type %u, queued %u:%u:%u:%u type %u",
			 b->timecode.hours, b->timecode.minutes,
			 b->timecode.seconds, b->timecode.frames,
			 b->timecode.type, m->tc.hours, m->tc.minutes,
			 m->tc.seconds, m->tc.frames, m->tc.type);
		return false;
	}
	if ((b->flags & mask) != want) {
		snprintf(why, len, "flags 0x%08x, want 0x%08x under mask 0x%08x",
			 b->flags, want, mask);
		return false;
	}
	return true;
}

static bool bytesused_matches(const struct vlib_frame *fr,
			      const struct out_meta *m, unsigned int num_planes,
			      char *why, size_t len)
{
	unsigned int p;

	for (p = 0; p < num_planes; p++) {
		if (fr->bytesused[p] != m->bytesused[p]) {
			snprintf(why, len, "plane %u bytesused %u, queued %u", p,
				 fr->bytesused[p], m->bytesused[p]);
			return false;
		}
	}
	return true;
}

/* Results of one pass of output streaming, one field a TAP line. */
struct out_result {
	char order[200];
	char sequence[200];
	char meta[300];
	char bytesused[200];
	char pace[200];
};

/*
 * Queues @n buffers in the order @order, starts streaming at @t0 (0: the
 * queue is already streaming) and dequeues them, checking each against
 * what it was queued with; the sequence numbers must be @first_seq on.
 */
static int out_run(__u32 memory, const struct vlib_fmt *f, struct vlib_buf *bufs,
		   const unsigned int *order, unsigned int n, __u32 first_seq,
		   bool start, struct out_result *r)
{
	double t0 = 0, period = 1.0 / FPS;
	struct out_meta meta[VLIB_MAX_BUFS];
	unsigned int k;

	for (k = 0; k < n; k++) {
		unsigned int i = order[k];

		make_meta(f, i, &meta[i]);
		if (out_qbuf(memory, i, &bufs[i], &meta[i], f->num_planes)) {
			set_why(r->order, sizeof(r->order), "QBUF %u: %s", i,
				strerror(errno));
			return -1;
		}
	}
	if (start) {
		t0 = vlib_now_sec();
		if (vlib_streamon(&out)) {
			set_why(r->order, sizeof(r->order), "STREAMON: %s",
				strerror(errno));
			return -1;
		}
	}
	for (k = 0; k < n; k++) {
		struct vlib_frame fr;
		unsigned int i = order[k];
		char why[300];
		double t;

		if (vlib_dqbuf(&out, memory, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
			set_why(r->order, sizeof(r->order), "DQBUF %u of %u: %s",
				k, n, strerror(errno));
			return -1;
		}
		t = vlib_now_sec();
		if (fr.buf.index != i)
			set_why(r->order, sizeof(r->order),
				"dequeue %u is buffer %u, queued as %u", k,
				fr.buf.index, i);
		if (fr.buf.sequence != first_seq + k)
			set_why(r->sequence, sizeof(r->sequence),
				"dequeue %u has sequence %u, want %u", k,
				fr.buf.sequence, first_seq + k);
		if (fr.buf.index >= VLIB_MAX_BUFS)
			continue;
		if (!meta_matches(&fr, &meta[fr.buf.index], why, sizeof(why)))
			set_why(r->meta, sizeof(r->meta), "buffer %u: %s",
				fr.buf.index, why);
		if (!bytesused_matches(&fr, &meta[fr.buf.index], f->num_planes,
				       why, sizeof(why)))
			set_why(r->bytesused, sizeof(r->bytesused),
				"buffer %u: %s", fr.buf.index, why);
		if (start && t - t0 < PACE_SLACK * (k + 1) * period)
			set_why(r->pace, sizeof(r->pace),
				"buffer %u of %u came back %.1f ms after STREAMON, its period ends at %.1f ms",
				k + 1, n, (t - t0) * 1e3, (k + 1) * period * 1e3);
	}
	if (start)
		tap_diag("%u output buffers consumed in %.1f ms (%u periods: %.1f ms)",
			 n, (vlib_now_sec() - t0) * 1e3, n, n * period * 1e3);
	return 0;
}

/* After STREAMOFF no buffer may be queued or done, and DQBUF fails. */
static void check_streamoff(__u32 memory, int count, char *why, size_t len)
{
	struct vlib_frame fr;
	int i, ret;

	for (i = 0; i < count; i++) {
		if (querybuf(&out, memory, i, &fr)) {
			set_why(why, len, "QUERYBUF %d: %s", i, strerror(errno));
			return;
		}
		if (fr.buf.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE |
				    V4L2_BUF_FLAG_ERROR))
			set_why(why, len, "buffer %d has flags 0x%08x after STREAMOFF",
				i, fr.buf.flags);
	}
	vlib_init_buf(&out, &fr.buf, fr.planes, memory, 0);
	ret = ioctl_timeout(out.fd, VIDIOC_DQBUF, &fr.buf, 2);
	if (ret != -1 || errno != EINVAL)
		set_why(why, len, "DQBUF after STREAMOFF: %s, want EINVAL",
			tap_errname(ret, errno));
}

static void output_stream_checks(__u32 memory)
{
	const char *mem = memory == V4L2_MEMORY_MMAP ? "mmap" : "userptr";
	unsigned int order[OUT_FRAMES], again[OUT_FRAMES];
	struct vlib_buf bufs[VLIB_MAX_BUFS];
	__u32 fourcc = out.mplane ? V4L2_PIX_FMT_NV12M : V4L2_PIX_FMT_YUYV;
	struct out_result r, r2, r3;
	char idle[300] = "", off[300] = "", restart[300] = "";
	struct vlib_frame fr;
	struct vlib_fmt f;
	unsigned int k, n = OUT_FRAMES;
	int count, i;

	if (memory == V4L2_MEMORY_USERPTR && !vlib_has_userptr(&out)) {
		tap_skip("no USERPTR on this queue", "loopback: output %s", mem);
		return;
	}
	memset(bufs, 0, sizeof(bufs));
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	reset_queue(&out, V4L2_MEMORY_MMAP);
	reset_queue(&out, V4L2_MEMORY_USERPTR);
	count = -1;
	if (!vlib_set_fmt(&out, fourcc, WIDTH, HEIGHT, &f) &&
	    !vlib_set_fps(&out, 1, FPS))
		count = vlib_reqbufs(&out, memory, OUT_FRAMES, NULL);
	if (count < (int)OUT_FRAMES) {
		set_why(r.order, sizeof(r.order), "S_FMT/S_PARM/REQBUFS(%u): %s",
			OUT_FRAMES, count < 0 ? strerror(errno) : "too few");
		goto report;
	}
	for (i = 0; i < OUT_FRAMES; i++) {
		int ret = memory == V4L2_MEMORY_MMAP ?
			  vlib_mmap_buf(&out, i, &bufs[i]) :
			  alloc_user(&f, &bufs[i]);

		if (ret) {
			set_why(r.order, sizeof(r.order), "buffer %d memory: %s",
				i, strerror(errno));
			goto report;
		}
		sig_fill(&f, i, bufs[i].start);
	}
	/* queueing order is not index order: 0, 3, 6, 1, 4, 7, 2, 5 */
	for (k = 0; k < n; k++)
		order[k] = (k * 3) % n;
	if (out_run(memory, &f, bufs, order, n, 0, true, &r))
		goto report;

	/* idle periods consume nothing and leave no gap in the sequence */
	usleep(4 * 1000000 / FPS);
	for (k = 0; k < 3; k++)
		again[k] = k;
	if (out_run(memory, &f, bufs, again, 3, n, false, &r2))
		set_why(idle, sizeof(idle), "%s", r2.order);
	set_why(idle, sizeof(idle), "%s", r2.sequence);

	/* STREAMOFF with buffers still queued */
	for (k = 0; k < n; k++) {
		struct out_meta m;

		make_meta(&f, k, &m);
		if (out_qbuf(memory, k, &bufs[k], &m, f.num_planes))
			set_why(off, sizeof(off), "QBUF %u: %s", k,
				strerror(errno));
	}
	if (vlib_dqbuf(&out, memory, &fr, VLIB_DQBUF_TIMEOUT_MS))
		set_why(off, sizeof(off), "DQBUF before STREAMOFF: %s",
			strerror(errno));
	if (vlib_streamoff(&out))
		set_why(off, sizeof(off), "STREAMOFF: %s", strerror(errno));
	check_streamoff(memory, n, off, sizeof(off));

	/* every buffer can be queued again; the sequence restarts at 0 */
	for (k = 0; k < n; k++)
		again[k] = n - 1 - k;
	if (out_run(memory, &f, bufs, again, n, 0, true, &r3))
		set_why(restart, sizeof(restart), "%s", r3.order);
	set_why(restart, sizeof(restart), "%s", r3.sequence);

report:
	if (!tap_ok(!r.order[0], "loopback: output %s: buffers come back in queueing order",
		    mem))
		tap_diag("%s", r.order);
	if (!tap_ok(!r.order[0] && !r.sequence[0],
		    "loopback: output %s: sequence counts consumed buffers from 0", mem))
		tap_diag("%s", r.order[0] ? "no run" : r.sequence);
	if (!tap_ok(!r.order[0] && !r.meta[0],
		    "loopback: output %s: timestamp, timecode and flags come back as queued",
		    mem))
		tap_diag("%s", r.order[0] ? "no run" : r.meta);
	if (!tap_ok(!r.order[0] && !r.bytesused[0],
		    "loopback: output %s: bytesused comes back as queued", mem))
		tap_diag("%s", r.order[0] ? "no run" : r.bytesused);
	if (!tap_ok(!r.order[0] && !r.pace[0],
		    "loopback: output %s: no buffer is consumed before its period ends", mem))
		tap_diag("%s", r.order[0] ? "no run" : r.pace);
	if (!tap_ok(!r.order[0] && !idle[0],
		    "loopback: output %s: idle periods leave no gap in the sequence", mem))
		tap_diag("%s", r.order[0] ? "no run" : idle);
	if (!tap_ok(!r.order[0] && !off[0],
		    "loopback: output %s: STREAMOFF returns the unconsumed buffers", mem))
		tap_diag("%s", r.order[0] ? "no run" : off);
	if (!tap_ok(!r.order[0] && !restart[0],
		    "loopback: output %s: requeued after STREAMOFF, sequence restarts at 0",
		    mem))
		tap_diag("%s", r.order[0] ? "no run" : restart);

	reset_queue(&out, memory);
	for (i = 0; i < VLIB_MAX_BUFS; i++)
		release_buf(&bufs[i]);
}

/* ------------------------------------------------------ loopback loop */

static void cap_classify(struct loop_ctx *c, const struct vlib_frame *fr,
			 struct cap_rec *r)
{
	void *const *planes = c->cbufs[fr->buf.index].start;
	char msg[300];
	int m;

	r->sequence = fr->buf.sequence;
	r->ts = vlib_ts_to_sec(&fr->buf.timestamp);
	r->frame_no = 0;
	msg[0] = '\0';
	m = sig_match(&c->cfmt, planes, c->sent, &r->frame_no, msg,
		      sizeof(msg));
	if (m == 1) {
		r->kind = FRAME_LOOPED;
		c->looped++;
		return;
	}
	if (m == 0 && is_pattern(&c->cfmt, planes, r->sequence, msg,
				 sizeof(msg))) {
		r->kind = FRAME_PATTERN;
		return;
	}
	r->kind = FRAME_OTHER;
	set_why(c->why, sizeof(c->why),
		"capture seq %u is neither a frame sent nor the pattern: %s",
		r->sequence, msg);
}

static int out_cycle(struct loop_ctx *c)
{
	struct vlib_frame fr;

	if (vlib_dqbuf(&out, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		set_why(c->why, sizeof(c->why), "output DQBUF: %s",
			strerror(errno));
		return -1;
	}
	if (fr.buf.flags & V4L2_BUF_FLAG_ERROR)
		set_why(c->why, sizeof(c->why), "output buffer %u: ERROR flag",
			fr.buf.index);
	c->out_done++;
	if (fr.buf.index >= (__u32)c->ocount)
		return -1;
	sig_fill(&c->ofmt, c->sent++, c->obufs[fr.buf.index].start);
	if (out_qbuf_whole(fr.buf.index, &c->ofmt)) {
		set_why(c->why, sizeof(c->why), "output QBUF: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int cap_cycle(struct loop_ctx *c, struct cap_rec *r)
{
	struct vlib_frame fr;

	if (vlib_dqbuf(&cap, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		set_why(c->why, sizeof(c->why), "capture DQBUF: %s",
			strerror(errno));
		return -1;
	}
	if (fr.buf.index >= (__u32)c->ccount)
		return -1;
	cap_classify(c, &fr, r);
	if (vlib_qbuf_mmap(&cap, fr.buf.index)) {
		set_why(c->why, sizeof(c->why), "capture QBUF: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Runs both queues until @g is met, MAX_REC capture frames were recorded or
 * PUMP_SECS passed. Returns 0 if @g was met, else -1 with @c->why set.
 */
static int pump(struct loop_ctx *c, const struct pump_goal *g)
{
	double deadline = vlib_now_sec() + PUMP_SECS;
	unsigned int counted = 0;

	while (counted < g->cap_after || c->out_done < g->out_min ||
	       c->looped < g->looped) {
		struct pollfd pfd[2] = {
			{ .fd = cap.fd, .events = POLLIN },
			{ .fd = out.fd, .events = POLLOUT },
		};
		double left = deadline - vlib_now_sec();
		int ret;

		if (c->nrec >= MAX_REC || left <= 0) {
			set_why(c->why, sizeof(c->why),
				"%s after %u capture frames (%u counted, %u looped), %u output buffers",
				left <= 0 ? "timeout" : "frame limit", c->nrec,
				counted, c->looped, c->out_done);
			return -1;
		}
		ret = poll(pfd, c->out_on ? 2 : 1, (int)(left * 1000) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			set_why(c->why, sizeof(c->why), "poll: %s",
				strerror(errno));
			return -1;
		}
		if ((pfd[0].revents | pfd[1].revents) & POLLERR) {
			set_why(c->why, sizeof(c->why), "poll: POLLERR");
			return -1;
		}
		if ((pfd[1].revents & POLLOUT) && out_cycle(c))
			return -1;
		if (pfd[0].revents & POLLIN) {
			struct cap_rec *r = &c->rec[c->nrec];

			if (cap_cycle(c, r))
				return -1;
			c->nrec++;
			if (r->ts > g->after)
				counted++;
		}
	}
	return 0;
}

static void phase_reset(struct loop_ctx *c)
{
	c->nrec = 0;
	c->looped = 0;
	c->out_done = 0;
	c->why[0] = '\0';
}

/*
 * The frames of a looping phase: test pattern frames, then looped frames
 * only, at least MIN_LOOPED of them showing MIN_DISTINCT output frames in
 * the order they were sent.
 */
static bool eval_looping(const struct loop_ctx *c, char *why, size_t len)
{
	unsigned int i, looped = 0, distinct = 0;
	int first = -1;
	__u32 last = 0;

	for (i = 0; i < c->nrec; i++) {
		const struct cap_rec *r = &c->rec[i];

		if (r->kind == FRAME_OTHER)
			return false;
		if (r->kind == FRAME_PATTERN) {
			if (first >= 0) {
				snprintf(why, len,
					 "capture frame %u (seq %u) is the pattern after %u looped frames",
					 i, r->sequence, looped);
				return false;
			}
			continue;
		}
		if (first < 0)
			first = i;
		if (looped && r->frame_no < last) {
			snprintf(why, len,
				 "capture seq %u shows output frame %u after frame %u",
				 r->sequence, r->frame_no, last);
			return false;
		}
		if (!looped || r->frame_no != last)
			distinct++;
		last = r->frame_no;
		looped++;
	}
	if (looped < MIN_LOOPED || distinct < MIN_DISTINCT) {
		snprintf(why, len,
			 "%u looped frames showing %u output frames among %u captured; want %u and %u",
			 looped, distinct, c->nrec, MIN_LOOPED, MIN_DISTINCT);
		return false;
	}
	tap_diag("%u capture frames: %d pattern, then %u looped showing %u output frames",
		 c->nrec, first, looped, distinct);
	return true;
}

/*
 * Frames whose period ended after @after, taken once the change had
 * returned, were produced after the change and must be of @kind; earlier
 * ones may be of either kind.
 */
static bool eval_after(const struct loop_ctx *c, double after,
		       enum frame_kind kind, char *why, size_t len)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->nrec; i++) {
		const struct cap_rec *r = &c->rec[i];

		if (r->kind == FRAME_OTHER)
			return false;
		if (r->ts <= after)
			continue;
		n++;
		if (r->kind != kind) {
			snprintf(why, len,
				 "capture seq %u, %.1f ms after the change, is %s",
				 r->sequence, (r->ts - after) * 1e3,
				 r->kind == FRAME_LOOPED ? "a looped frame" :
							   "the pattern");
			return false;
		}
	}
	if (n < AFTER_FRAMES) {
		snprintf(why, len, "only %u capture frames after the change", n);
		return false;
	}
	return true;
}

static void stop_all(struct loop_ctx *c)
{
	reset_queue(&cap, V4L2_MEMORY_MMAP);
	reset_queue(&out, V4L2_MEMORY_MMAP);
	release_bufs(c->cbufs);
	release_bufs(c->obufs);
	c->out_on = false;
}

/* Allocates, maps and queues capture buffers and starts the capture. */
static int start_capture(struct loop_ctx *c, __u32 fourcc)
{
	int i;

	reset_queue(&cap, V4L2_MEMORY_MMAP);
	release_bufs(c->cbufs);
	if (vlib_set_fmt(&cap, fourcc, WIDTH, HEIGHT, &c->cfmt) ||
	    vlib_set_fps(&cap, 1, FPS)) {
		set_why(c->why, sizeof(c->why), "capture S_FMT/S_PARM: %s",
			strerror(errno));
		return -1;
	}
	c->ccount = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, CAP_NBUFS, NULL);
	if (c->ccount < 1 || c->ccount > VLIB_MAX_BUFS) {
		set_why(c->why, sizeof(c->why), "capture REQBUFS: %s",
			strerror(errno));
		return -1;
	}
	for (i = 0; i < c->ccount; i++) {
		if (vlib_mmap_buf(&cap, i, &c->cbufs[i]) ||
		    vlib_qbuf_mmap(&cap, i)) {
			set_why(c->why, sizeof(c->why),
				"capture buffer %d: %s", i, strerror(errno));
			return -1;
		}
	}
	if (vlib_streamon(&cap)) {
		set_why(c->why, sizeof(c->why), "capture STREAMON: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Sets the output format, queues numbered frames and starts the output. */
static int start_output(struct loop_ctx *c, __u32 fourcc, __u32 w,
			__u32 h)
{
	int i;

	reset_queue(&out, V4L2_MEMORY_MMAP);
	release_bufs(c->obufs);
	c->out_on = false;
	if (vlib_set_fmt(&out, fourcc, w, h, &c->ofmt) ||
	    vlib_set_fps(&out, 1, FPS)) {
		set_why(c->why, sizeof(c->why), "output S_FMT/S_PARM: %s",
			strerror(errno));
		return -1;
	}
	c->ocount = vlib_reqbufs(&out, V4L2_MEMORY_MMAP, OUT_NBUFS, NULL);
	if (c->ocount < 1 || c->ocount > VLIB_MAX_BUFS) {
		set_why(c->why, sizeof(c->why), "output REQBUFS: %s",
			strerror(errno));
		return -1;
	}
	for (i = 0; i < c->ocount; i++) {
		if (vlib_mmap_buf(&out, i, &c->obufs[i])) {
			set_why(c->why, sizeof(c->why), "output mmap %d: %s",
				i, strerror(errno));
			return -1;
		}
		sig_fill(&c->ofmt, c->sent++, c->obufs[i].start);
		if (out_qbuf_whole(i, &c->ofmt)) {
			set_why(c->why, sizeof(c->why), "output QBUF %d: %s",
				i, strerror(errno));
			return -1;
		}
	}
	if (vlib_streamon(&out)) {
		set_why(c->why, sizeof(c->why), "output STREAMON: %s",
			strerror(errno));
		return -1;
	}
	c->out_on = true;
	return 0;
}

/*
 * The output streams a format the capture does not have: all capture
 * frames are the pattern, also those produced after the output consumed
 * a few buffers with the control on.
 */
static bool mismatch_phase(struct loop_ctx *c, __u32 fourcc, __u32 w,
			   __u32 h, char *why, size_t len)
{
	struct pump_goal g = { .out_min = 2 };
	double start = vlib_now_sec();

	phase_reset(c);
	if (start_output(c, fourcc, w, h) || pump(c, &g))
		return false;
	g.cap_after = AFTER_FRAMES;
	g.after = vlib_now_sec();
	if (pump(c, &g))
		return false;
	return eval_after(c, start, FRAME_PATTERN, why, len);
}

static __printf(4, 5) void report(struct loop_ctx *c, bool ok, const char *why,
				  const char *fmt, ...);

/* Prints one TAP line for a phase: @ok, or the reason in @why or c->why. */
static void report(struct loop_ctx *c, bool ok, const char *why,
		   const char *fmt, ...)
{
	char name[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (!tap_ok(ok && !c->why[0], "%s", name))
		tap_diag("%s", c->why[0] ? c->why : why);
}

static void loop_format(__u32 fourcc)
{
	const char *name = fcc(fourcc);
	struct loop_ctx *c = &lc;
	struct pump_goal g = { .looped = WANT_LOOPED };
	char why[400] = "setup failed";
	bool ok;
	double t;

	memset(c, 0, sizeof(*c));
	vlib_set_ctrl(&cap, LOOPBACK_CID, 1);
	ok = !start_capture(c, fourcc) &&
	     !start_output(c, fourcc, WIDTH, HEIGHT) && !pump(c, &g) &&
	     eval_looping(c, why, sizeof(why));
	report(c, ok, why, "loopback %s: capture frames are copies of output frames, in order",
	       name);

	phase_reset(c);
	snprintf(why, sizeof(why), "S_CTRL Loopback 0 failed");
	ok = c->out_on && !vlib_set_ctrl(&cap, LOOPBACK_CID, 0);
	t = vlib_now_sec();
	g = (struct pump_goal){ .cap_after = AFTER_FRAMES, .after = t };
	ok = ok && !pump(c, &g) &&
	     eval_after(c, t, FRAME_PATTERN, why, sizeof(why));
	report(c, ok, why, "loopback %s: control 0 brings the pattern back", name);

	phase_reset(c);
	snprintf(why, sizeof(why), "S_CTRL Loopback 1 on the output failed");
	ok = c->out_on && !vlib_set_ctrl(&out, LOOPBACK_CID, 1);
	t = vlib_now_sec();
	g.after = t;
	ok = ok && !pump(c, &g) &&
	     eval_after(c, t, FRAME_LOOPED, why, sizeof(why));
	report(c, ok, why, "loopback %s: control 1 set on the output node loops again",
	       name);

	phase_reset(c);
	snprintf(why, sizeof(why), "output STREAMOFF failed");
	ok = c->out_on && !vlib_streamoff(&out);
	c->out_on = false;
	t = vlib_now_sec();
	g.after = t;
	ok = ok && !pump(c, &g) &&
	     eval_after(c, t, FRAME_PATTERN, why, sizeof(why));
	report(c, ok, why, "loopback %s: stopped output brings the pattern back", name);

	snprintf(why, sizeof(why), "setup failed");
	ok = mismatch_phase(c, fourcc, OTHER_WIDTH, OTHER_HEIGHT, why,
			    sizeof(why));
	report(c, ok, why, "loopback %s: output of another size leaves the pattern", name);

	if (fourcc == V4L2_PIX_FMT_YUYV) {
		snprintf(why, sizeof(why), "setup failed");
		ok = mismatch_phase(c, V4L2_PIX_FMT_RGB565, WIDTH, HEIGHT, why,
				    sizeof(why));
		report(c, ok, why,
		       "loopback YUYV: RGBP output of the same sizeimage leaves the pattern");
	}
	stop_all(c);
	vlib_set_ctrl(&cap, LOOPBACK_CID, 0);
}

/* ------------------------------------------------------ zero-copy pipe */

struct pipe_state {
	struct vlib_fmt fmt;
	int fds[VLIB_MAX_BUFS];
	int pcount;
	__u32 out_seq;
	__u32 sent_seq[MAX_SENT];
	unsigned int nsent;
	unsigned int passed;
	char why[400];
};

static bool seq_was_sent(const struct pipe_state *s, __u32 seq)
{
	unsigned int i;

	for (i = 0; i < s->nsent; i++)
		if (s->sent_seq[i] == seq)
			return true;
	return false;
}

/* A capture frame of the pipeline: looped peer frame, own pattern or else. */
static void pipe_classify(struct loop_ctx *c, struct pipe_state *s,
			  const struct vlib_frame *fr, struct cap_rec *r)
{
	void *const *planes = c->cbufs[fr->buf.index].start;
	struct vlib_pattern flipped = { .hflip = 1 };
	char msg[300] = "", own[300] = "";
	__u32 seq;

	r->sequence = fr->buf.sequence;
	r->ts = vlib_ts_to_sec(&fr->buf.timestamp);
	r->frame_no = 0;
	if (!pattern_decode_counter(&s->fmt, planes, &seq)) {
		flipped.sequence = seq;
		if (seq_was_sent(s, seq) &&
		    pattern_check(&s->fmt, &flipped, planes, msg, sizeof(msg))) {
			r->kind = FRAME_LOOPED;
			r->frame_no = seq;
			c->looped++;
			return;
		}
		if (!msg[0] && !seq_was_sent(s, seq))
			snprintf(msg, sizeof(msg),
				 "counter band reads %u, not a sequence sent", seq);
	} else {
		snprintf(msg, sizeof(msg), "counter band unreadable");
	}
	if (is_pattern(&s->fmt, planes, r->sequence, own, sizeof(own))) {
		r->kind = FRAME_PATTERN;
		return;
	}
	r->kind = FRAME_OTHER;
	set_why(c->why, sizeof(c->why),
		"capture seq %u is neither a peer frame (%s) nor the pattern (%s)",
		r->sequence, msg, own);
}

static int pipe_peer_ready(struct loop_ctx *c, struct pipe_state *s)
{
	__u32 used[VLIB_MAX_PLANES];
	struct vlib_frame fr;
	unsigned int p;

	if (vlib_dqbuf(&peer, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		set_why(s->why, sizeof(s->why), "peer DQBUF: %s",
			strerror(errno));
		return -1;
	}
	if (fr.buf.index >= (__u32)s->pcount)
		return -1;
	if (s->nsent < MAX_SENT)
		s->sent_seq[s->nsent++] = fr.buf.sequence;
	for (p = 0; p < s->fmt.num_planes; p++)
		used[p] = s->fmt.sizeimage[p];
	if (vlib_qbuf_dmabuf(&out, fr.buf.index, &s->fds[fr.buf.index],
			     s->fmt.num_planes, used)) {
		set_why(s->why, sizeof(s->why),
			"output QBUF of the export of peer buffer %u: %s",
			fr.buf.index, strerror(errno));
		return -1;
	}
	if (!c->out_on) {
		if (vlib_streamon(&out)) {
			set_why(s->why, sizeof(s->why), "output STREAMON: %s",
				strerror(errno));
			return -1;
		}
		c->out_on = true;
	}
	return 0;
}

static int pipe_out_ready(struct pipe_state *s)
{
	struct vlib_frame fr;
	int fd;

	if (vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		set_why(s->why, sizeof(s->why), "output DQBUF: %s",
			strerror(errno));
		return -1;
	}
	if (fr.buf.index >= (__u32)s->pcount)
		return -1;
	fd = out.mplane ? fr.planes[0].m.fd : fr.buf.m.fd;
	if (fd != s->fds[fr.buf.index])
		set_why(s->why, sizeof(s->why),
			"output buffer %u came back with fd %d, queued with %d",
			fr.buf.index, fd, s->fds[fr.buf.index]);
	if (fr.buf.flags & V4L2_BUF_FLAG_ERROR)
		set_why(s->why, sizeof(s->why), "output buffer %u: ERROR flag",
			fr.buf.index);
	if (fr.buf.sequence != s->out_seq)
		set_why(s->why, sizeof(s->why),
			"output sequence %u, want %u", fr.buf.sequence,
			s->out_seq);
	s->out_seq++;
	s->passed++;
	if (vlib_qbuf_mmap(&peer, fr.buf.index)) {
		set_why(s->why, sizeof(s->why), "peer QBUF %u: %s",
			fr.buf.index, strerror(errno));
		return -1;
	}
	return 0;
}

static int pipe_cap_ready(struct loop_ctx *c, struct pipe_state *s)
{
	struct vlib_frame fr;

	if (vlib_dqbuf(&cap, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		set_why(s->why, sizeof(s->why), "capture DQBUF: %s",
			strerror(errno));
		return -1;
	}
	if (fr.buf.index >= (__u32)c->ccount)
		return -1;
	pipe_classify(c, s, &fr, &c->rec[c->nrec++]);
	if (vlib_qbuf_mmap(&cap, fr.buf.index)) {
		set_why(s->why, sizeof(s->why), "capture QBUF: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Peer capture -> DMABUF output -> loopback -> capture, until enough frames. */
static int pipe_run(struct loop_ctx *c, struct pipe_state *s)
{
	double deadline = vlib_now_sec() + 2 * PUMP_SECS;

	while (c->looped < WANT_LOOPED) {
		struct pollfd pfd[3] = {
			{ .fd = peer.fd, .events = POLLIN },
			{ .fd = cap.fd, .events = POLLIN },
			{ .fd = out.fd, .events = POLLOUT },
		};
		double left = deadline - vlib_now_sec();
		int ret;

		if (c->nrec >= MAX_REC || left <= 0) {
			set_why(s->why, sizeof(s->why),
				"%s after %u capture frames (%u looped), %u passed through the output",
				left <= 0 ? "timeout" : "frame limit", c->nrec,
				c->looped, s->passed);
			return -1;
		}
		ret = poll(pfd, c->out_on ? 3 : 2, (int)(left * 1000) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 ||
		    ((pfd[0].revents | pfd[1].revents | pfd[2].revents) &
		     POLLERR)) {
			set_why(s->why, sizeof(s->why), "poll: %s",
				ret < 0 ? strerror(errno) : "POLLERR");
			return -1;
		}
		if ((pfd[0].revents & POLLIN) && pipe_peer_ready(c, s))
			return -1;
		if ((pfd[2].revents & POLLOUT) && pipe_out_ready(s))
			return -1;
		if ((pfd[1].revents & POLLIN) && pipe_cap_ready(c, s))
			return -1;
	}
	return 0;
}

/* Sets up the three queues of the pipeline; the peer streams at the end. */
static int pipe_setup(struct loop_ctx *c, struct pipe_state *s,
		      __u32 fourcc)
{
	struct vlib_fmt pf, of;
	int i, n;

	reset_queue(&peer, V4L2_MEMORY_MMAP);
	reset_queue(&out, V4L2_MEMORY_DMABUF);
	reset_queue(&out, V4L2_MEMORY_MMAP);
	if (vlib_set_ctrl(&peer, V4L2_CID_HFLIP, 1) ||
	    vlib_set_ctrl(&peer, V4L2_CID_TEST_PATTERN, 0) ||
	    vlib_set_ctrl(&cap, V4L2_CID_HFLIP, 0) ||
	    vlib_set_ctrl(&cap, V4L2_CID_TEST_PATTERN, 0) ||
	    vlib_set_ctrl(&cap, LOOPBACK_CID, 1)) {
		set_why(s->why, sizeof(s->why), "S_CTRL: %s", strerror(errno));
		return -1;
	}
	if (vlib_set_fmt(&peer, fourcc, WIDTH, HEIGHT, &pf) ||
	    vlib_set_fps(&peer, 1, FPS) ||
	    vlib_set_fmt(&out, fourcc, WIDTH, HEIGHT, &of) ||
	    vlib_set_fps(&out, 1, FPS)) {
		set_why(s->why, sizeof(s->why), "peer/output S_FMT/S_PARM: %s",
			strerror(errno));
		return -1;
	}
	s->fmt = of;
	if (pf.fourcc != fourcc || of.fourcc != fourcc ||
	    pf.sizeimage[0] != of.sizeimage[0] || of.num_planes != 1) {
		set_why(s->why, sizeof(s->why), "formats differ: peer %s %u, output %s %u",
			fcc(pf.fourcc), pf.sizeimage[0], fcc(of.fourcc),
			of.sizeimage[0]);
		return -1;
	}
	s->pcount = vlib_reqbufs(&peer, V4L2_MEMORY_MMAP, CAP_NBUFS, NULL);
	if (s->pcount < 1 || s->pcount > VLIB_MAX_BUFS) {
		set_why(s->why, sizeof(s->why), "peer REQBUFS: %s",
			strerror(errno));
		s->pcount = 0;
		return -1;
	}
	for (i = 0; i < s->pcount; i++) {
		s->fds[i] = vlib_expbuf(&peer, i, 0, O_RDONLY | O_CLOEXEC);
		if (s->fds[i] < 0) {
			set_why(s->why, sizeof(s->why),
				"peer EXPBUF %d O_RDONLY: %s", i,
				strerror(errno));
			return -1;
		}
	}
	n = vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, s->pcount, NULL);
	if (n < s->pcount) {
		set_why(s->why, sizeof(s->why), "output REQBUFS(DMABUF, %d): %s",
			s->pcount, n < 0 ? strerror(errno) : "too few");
		return -1;
	}
	if (start_capture(c, fourcc)) {
		set_why(s->why, sizeof(s->why), "%s", c->why);
		return -1;
	}
	for (i = 0; i < s->pcount; i++) {
		if (vlib_qbuf_mmap(&peer, i)) {
			set_why(s->why, sizeof(s->why), "peer QBUF %d: %s", i,
				strerror(errno));
			return -1;
		}
	}
	if (vlib_streamon(&peer)) {
		set_why(s->why, sizeof(s->why), "peer STREAMON: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

static void zero_copy(void)
{
	const char *n1 = "zero-copy: peer capture buffers pass through the output as DMABUF";
	const char *n2 = "zero-copy: looped capture frames are the peer's frames, in order";
	__u32 fourcc = cap.mplane ? V4L2_PIX_FMT_NV12 : V4L2_PIX_FMT_YUYV;
	struct loop_ctx *c = &lc;
	struct pipe_state *s;
	char why[400] = "";
	int i, ret;
	bool ok;

	if (!have_peer) {
		tap_skip("no other vivid-expbuf capture node", "loopback: %s", n1);
		tap_skip("no other vivid-expbuf capture node", "loopback: %s", n2);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		tap_ok(false, "loopback: %s", n1);
		tap_ok(false, "loopback: %s", n2);
		return;
	}
	for (i = 0; i < VLIB_MAX_BUFS; i++)
		s->fds[i] = -1;
	memset(c, 0, sizeof(*c));
	tap_diag("zero-copy: %s %s -> %s DMABUF, loopback to %s, %s %ux%u",
		 peer_path, peer.mplane ? "(mplane)" : "(single-planar)",
		 out_path, cap_path, fcc(fourcc), WIDTH, HEIGHT);
	ret = pipe_setup(c, s, fourcc);
	if (!ret)
		ret = pipe_run(c, s);
	if (!tap_ok(!ret && !s->why[0] && s->passed >= MIN_LOOPED,
		    "loopback: %s", n1))
		tap_diag("%s; %u buffers passed through", s->why[0] ? s->why :
			 "too few buffers", s->passed);
	else
		tap_diag("%u peer frames passed through the output", s->passed);
	ok = c->nrec && eval_looping(c, why, sizeof(why));
	if (!tap_ok(ok && !c->why[0], "loopback: %s", n2))
		tap_diag("%s", c->why[0] ? c->why :
			 why[0] ? why : s->why);

	reset_queue(&out, V4L2_MEMORY_DMABUF);
	reset_queue(&peer, V4L2_MEMORY_MMAP);
	stop_all(c);
	for (i = 0; i < VLIB_MAX_BUFS; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	vlib_set_ctrl(&peer, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&cap, LOOPBACK_CID, 0);
	free(s);
}

/* --------------------------------------------------------------- main */

/* Finds the output node of the capture node's instance and the peer. */
static int find_nodes(void)
{
	char name[128] = "";
	unsigned int inst;

	if (vlib_node_name(cap_path, name, sizeof(name)) ||
	    sscanf(name, "vivid-expbuf-%u-vid-cap", &inst) != 1) {
		tap_diag("%s is not a vivid-expbuf capture node ('%s')",
			 cap_path, name);
		return -1;
	}
	if (vlib_find_output(cap_path, out_path, sizeof(out_path)) ||
	    vlib_open(&out, out_path, 0)) {
		tap_diag("no output node vivid-expbuf-%u-vid-out", inst);
		return -1;
	}
	have_peer = !vlib_find_node("vivid-expbuf-", "-vid-cap", cap_path,
				    peer_path, sizeof(peer_path)) &&
		    !vlib_open(&peer, peer_path, 0);
	tap_diag("instance %u: output %s (%s), peer capture %s", inst,
		 out_path, out.mplane ? "multi-planar" : "single-planar",
		 have_peer ? peer_path : "none");
	return 0;
}

/*
 * The number of results, known before the first once the nodes are found:
 * the output node 1, querycap 2, controls 2, outputs 5, ENUM_FMT, G_FMT and
 * TRY_FMT 1 each, parm 5; output streaming 8 for MMAP and 8 for USERPTR (1
 * when the output queue takes no USERPTR memory); 5 per looped format (6
 * for YUYV); zero_copy 2.
 */
static unsigned int planned(const __u32 *fourccs, unsigned int n)
{
	unsigned int total = 1 + 2 + 2 + 5 + 3 + 5 + 8 + 2, i;

	total += out.fd >= 0 && vlib_has_userptr(&out) ? 8 : 1;
	for (i = 0; i < n; i++)
		if (cap.mplane || fourccs[i] != V4L2_PIX_FMT_NV12M)
			total += fourccs[i] == V4L2_PIX_FMT_YUYV ? 6 : 5;
	return total;
}

int main(int argc, char **argv)
{
	static const __u32 loop_fourccs[] = {
		V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_XBGR32,
		V4L2_PIX_FMT_RGB565, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_NV12M,
	};
	unsigned int i;
	double t0;
	int ret;

	out.fd = -1;
	peer.fd = -1;
	cap_path = vlib_start(argc, argv, &cap, NULL);
	t0 = vlib_now_sec();
	ret = find_nodes();
	tap_plan(planned(loop_fourccs, ARRAY_SIZE(loop_fourccs)));
	if (!tap_ok(!ret, "loopback: the instance has an output node"))
		return tap_done();
	reset_queue(&cap, V4L2_MEMORY_MMAP);
	vlib_set_ctrl(&cap, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&cap, V4L2_CID_TEST_PATTERN, 0);

	querycap_checks();
	control_checks();
	output_enum_checks();
	enum_fmt_checks();
	current_fmt_check();
	try_fmt_checks();
	parm_checks();

	output_stream_checks(V4L2_MEMORY_MMAP);
	output_stream_checks(V4L2_MEMORY_USERPTR);

	for (i = 0; i < ARRAY_SIZE(loop_fourccs); i++)
		if (cap.mplane || loop_fourccs[i] != V4L2_PIX_FMT_NV12M)
			loop_format(loop_fourccs[i]);

	zero_copy();

	vlib_set_ctrl(&cap, LOOPBACK_CID, 0);
	vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, 640, 480, NULL);
	vlib_set_fps(&out, 1, 30);
	vlib_set_fmt(&cap, V4L2_PIX_FMT_YUYV, 640, 480, NULL);
	vlib_set_fps(&cap, 1, 30);
	tap_diag("ran for %.1f s", vlib_now_sec() - t0);
	vlib_close(&out);
	vlib_close(&peer);
	vlib_close(&cap);
	return tap_done();
}
