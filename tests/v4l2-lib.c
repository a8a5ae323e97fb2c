// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the vivid-expbuf userspace tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "v4l2-lib.h"

static unsigned int tap_count;
static unsigned int tap_failed;
static unsigned int tap_planned;

/* ---------------------------------------------------------------- TAP */

void tap_plan(unsigned int n)
{
	tap_planned = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %u - ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * Prints the plan at the end unless one was printed up front, and returns
 * the exit status of the test program. A plan printed here comes after
 * the results, which scripts/summarize.sh counts as a failure: a test
 * calls tap_plan() before its first result.
 */
int tap_done(void)
{
	if (!tap_planned) {
		printf("1..%u\n", tap_count);
	} else if (tap_planned != tap_count) {
		tap_diag("planned %u tests but ran %u", tap_planned, tap_count);
		tap_failed++;
	}
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* ------------------------------------------------------- device access */

int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

static void alarm_handler(int sig)
{
	(void)sig;
}

/*
 * Issues one ioctl that might block; if it has not returned after @secs
 * seconds it is interrupted and fails with errno ETIMEDOUT.
 */
int ioctl_timeout(int fd, unsigned long req, void *arg, unsigned int secs)
{
	struct sigaction sa, old;
	int ret, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(secs);
	ret = ioctl(fd, req, arg);
	err = errno;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	if (ret == -1 && err == EINTR)
		err = ETIMEDOUT;
	errno = err;
	return ret;
}

/* "success (ret N)" or "errno N (text)": what a call returned, for diagnostics. */
const char *tap_errname(int ret, int err)
{
	static char buf[64];

	if (ret != -1)
		snprintf(buf, sizeof(buf), "success (ret %d)", ret);
	else
		snprintf(buf, sizeof(buf), "errno %d (%s)", err, strerror(err));
	return buf;
}

/* One check: the call returned -1 with errno @want. */
bool tap_errno(int ret, int err, int want, const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (tap_ok(ret == -1 && err == want, "%s", name))
		return true;
	tap_diag("expected errno %d (%s), got %s", want, strerror(want),
		 tap_errname(ret, err));
	return false;
}

const char *vlib_parse_args(int argc, char **argv)
{
	const char *path = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "d:h")) != -1) {
		switch (opt) {
		case 'd':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s -d /dev/videoN\n", argv[0]);
			exit(2);
		}
	}
	if (!path) {
		fprintf(stderr, "usage: %s -d /dev/videoN\n", argv[0]);
		exit(2);
	}
	return path;
}

/*
 * Parse -d and open the node as @d1 (and @d2 when not NULL); print the
 * node's identity. A node that cannot be opened ends the program with an
 * empty TAP plan that says why.
 */
const char *vlib_start(int argc, char **argv, struct vlib_dev *d1,
		       struct vlib_dev *d2)
{
	const char *path = vlib_parse_args(argc, argv);

	if (vlib_open(d1, path, 0) || (d2 && vlib_open(d2, path, 0))) {
		printf("1..0 # SKIP cannot open %s: %s\n", path,
		       strerror(errno));
		exit(1);
	}
	tap_diag("%s: %s, %s API", path, (char *)d1->cap.card,
		 d1->mplane ? "multi-planar" : "single-planar");
	return path;
}

int vlib_open(struct vlib_dev *d, const char *path, int flags)
{
	uint32_t caps;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->fd = open(path, O_RDWR | flags);
	if (d->fd < 0)
		return -1;
	if (xioctl(d->fd, VIDIOC_QUERYCAP, &d->cap)) {
		close(d->fd);
		d->fd = -1;
		return -1;
	}
	caps = d->cap.capabilities;
	if (caps & V4L2_CAP_DEVICE_CAPS)
		caps = d->cap.device_caps;
	d->output = !(caps & (V4L2_CAP_VIDEO_CAPTURE |
			      V4L2_CAP_VIDEO_CAPTURE_MPLANE)) &&
		    (caps & (V4L2_CAP_VIDEO_OUTPUT |
			     V4L2_CAP_VIDEO_OUTPUT_MPLANE));
	if (d->output) {
		d->mplane = !(caps & V4L2_CAP_VIDEO_OUTPUT);
		d->type = d->mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE :
				      V4L2_BUF_TYPE_VIDEO_OUTPUT;
		d->other_type = d->mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT :
					    V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
		return 0;
	}
	d->mplane = !(caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE);
	d->type = d->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
			      V4L2_BUF_TYPE_VIDEO_CAPTURE;
	d->other_type = d->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE :
				    V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	return 0;
}

void vlib_close(struct vlib_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static void fmt_from_v4l2(const struct vlib_dev *d, const struct v4l2_format *v,
			  struct vlib_fmt *f)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	if (d->mplane) {
		const struct v4l2_pix_format_mplane *mp = &v->fmt.pix_mp;

		f->fourcc = mp->pixelformat;
		f->width = mp->width;
		f->height = mp->height;
		f->num_planes = mp->num_planes;
		if (f->num_planes > VLIB_MAX_PLANES)
			f->num_planes = VLIB_MAX_PLANES;
		for (i = 0; i < f->num_planes; i++) {
			f->bytesperline[i] = mp->plane_fmt[i].bytesperline;
			f->sizeimage[i] = mp->plane_fmt[i].sizeimage;
		}
		f->colorspace = mp->colorspace;
		f->xfer_func = mp->xfer_func;
		f->ycbcr_enc = mp->ycbcr_enc;
		f->quantization = mp->quantization;
		f->field = mp->field;
	} else {
		const struct v4l2_pix_format *p = &v->fmt.pix;

		f->fourcc = p->pixelformat;
		f->width = p->width;
		f->height = p->height;
		f->num_planes = 1;
		f->bytesperline[0] = p->bytesperline;
		f->sizeimage[0] = p->sizeimage;
		f->colorspace = p->colorspace;
		f->xfer_func = p->xfer_func;
		f->ycbcr_enc = p->ycbcr_enc;
		f->quantization = p->quantization;
		f->field = p->field;
	}
}

int vlib_get_fmt(struct vlib_dev *d, struct vlib_fmt *f)
{
	struct v4l2_format v;

	memset(&v, 0, sizeof(v));
	v.type = d->type;
	if (xioctl(d->fd, VIDIOC_G_FMT, &v))
		return -1;
	fmt_from_v4l2(d, &v, f);
	return 0;
}

int vlib_set_fmt(struct vlib_dev *d, uint32_t fourcc, uint32_t w, uint32_t h,
		 struct vlib_fmt *f)
{
	struct v4l2_format v;

	memset(&v, 0, sizeof(v));
	v.type = d->type;
	if (d->mplane) {
		v.fmt.pix_mp.pixelformat = fourcc;
		v.fmt.pix_mp.width = w;
		v.fmt.pix_mp.height = h;
		v.fmt.pix_mp.field = V4L2_FIELD_NONE;
	} else {
		v.fmt.pix.pixelformat = fourcc;
		v.fmt.pix.width = w;
		v.fmt.pix.height = h;
		v.fmt.pix.field = V4L2_FIELD_NONE;
	}
	if (xioctl(d->fd, VIDIOC_S_FMT, &v))
		return -1;
	if (f)
		fmt_from_v4l2(d, &v, f);
	return 0;
}

int vlib_set_fps(struct vlib_dev *d, uint32_t num, uint32_t den)
{
	struct v4l2_streamparm parm;

	memset(&parm, 0, sizeof(parm));
	parm.type = d->type;
	if (d->output) {
		parm.parm.output.timeperframe.numerator = num;
		parm.parm.output.timeperframe.denominator = den;
	} else {
		parm.parm.capture.timeperframe.numerator = num;
		parm.parm.capture.timeperframe.denominator = den;
	}
	return xioctl(d->fd, VIDIOC_S_PARM, &parm);
}

/* Returns the count granted by the driver, or -1 with errno set. */
int vlib_reqbufs(struct vlib_dev *d, uint32_t memory, uint32_t count,
		 uint32_t *caps)
{
	struct v4l2_requestbuffers rb;

	memset(&rb, 0, sizeof(rb));
	rb.type = d->type;
	rb.memory = memory;
	rb.count = count;
	if (xioctl(d->fd, VIDIOC_REQBUFS, &rb))
		return -1;
	if (caps)
		*caps = rb.capabilities;
	return rb.count;
}

/*
 * Returns the queue's V4L2_BUF_CAP_* flags from CREATE_BUFS with a count of
 * 0, which allocates nothing and leaves the ownership alone; 0 on error.
 */
uint32_t vlib_buf_caps(struct vlib_dev *d)
{
	struct v4l2_create_buffers cb;

	memset(&cb, 0, sizeof(cb));
	cb.memory = V4L2_MEMORY_MMAP;
	cb.format.type = d->type;
	if (xioctl(d->fd, VIDIOC_CREATE_BUFS, &cb))
		return 0;
	return cb.capabilities;
}

/* True when the queue takes USERPTR buffers (vmalloc, not dma-contig). */
bool vlib_has_userptr(struct vlib_dev *d)
{
	return vlib_buf_caps(d) & V4L2_BUF_CAP_SUPPORTS_USERPTR;
}

void vlib_init_buf(struct vlib_dev *d, struct v4l2_buffer *b,
		   struct v4l2_plane *planes, uint32_t memory, uint32_t index)
{
	memset(b, 0, sizeof(*b));
	b->type = d->type;
	b->memory = memory;
	b->index = index;
	if (d->mplane) {
		memset(planes, 0, sizeof(*planes) * VLIB_MAX_PLANES);
		b->m.planes = planes;
		b->length = VLIB_MAX_PLANES;
	}
}

static void frame_fill(struct vlib_dev *d, struct vlib_frame *fr)
{
	unsigned int i;

	memset(fr->bytesused, 0, sizeof(fr->bytesused));
	memset(fr->length, 0, sizeof(fr->length));
	memset(fr->userptr, 0, sizeof(fr->userptr));
	if (!d->mplane) {
		fr->bytesused[0] = fr->buf.bytesused;
		fr->length[0] = fr->buf.length;
		if (fr->buf.memory == V4L2_MEMORY_USERPTR)
			fr->userptr[0] = fr->buf.m.userptr;
		return;
	}
	for (i = 0; i < fr->buf.length && i < VLIB_MAX_PLANES; i++) {
		fr->bytesused[i] = fr->planes[i].bytesused;
		fr->length[i] = fr->planes[i].length;
		if (fr->buf.memory == V4L2_MEMORY_USERPTR)
			fr->userptr[i] = fr->planes[i].m.userptr;
	}
}

int vlib_querybuf(struct vlib_dev *d, uint32_t index, struct vlib_frame *fr)
{
	vlib_init_buf(d, &fr->buf, fr->planes, V4L2_MEMORY_MMAP, index);
	if (xioctl(d->fd, VIDIOC_QUERYBUF, &fr->buf))
		return -1;
	frame_fill(d, fr);
	return 0;
}

int vlib_mmap_buf(struct vlib_dev *d, uint32_t index, struct vlib_buf *buf)
{
	struct vlib_frame fr;
	unsigned int i, n;

	memset(buf, 0, sizeof(*buf));
	if (vlib_querybuf(d, index, &fr))
		return -1;
	n = d->mplane ? fr.buf.length : 1;
	if (n > VLIB_MAX_PLANES)
		n = VLIB_MAX_PLANES;
	for (i = 0; i < n; i++) {
		off_t off = d->mplane ? fr.planes[i].m.mem_offset :
					fr.buf.m.offset;
		void *p = mmap(NULL, fr.length[i], PROT_READ | PROT_WRITE,
			       MAP_SHARED, d->fd, off);

		if (p == MAP_FAILED) {
			int err = errno;

			vlib_unmap_buf(buf);
			errno = err;
			return -1;
		}
		buf->start[i] = p;
		buf->length[i] = fr.length[i];
		buf->num_planes = i + 1;
	}
	buf->mmapped = true;
	return 0;
}

void vlib_unmap_buf(struct vlib_buf *buf)
{
	unsigned int i;

	if (!buf->mmapped)
		return;
	for (i = 0; i < buf->num_planes; i++)
		if (buf->start[i])
			munmap(buf->start[i], buf->length[i]);
	memset(buf, 0, sizeof(*buf));
}

int vlib_qbuf_mmap(struct vlib_dev *d, uint32_t index)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	struct vlib_fmt f;

	vlib_init_buf(d, &b, planes, V4L2_MEMORY_MMAP, index);
	if (d->mplane) {
		if (vlib_get_fmt(d, &f))
			return -1;
		b.length = f.num_planes;
	}
	return xioctl(d->fd, VIDIOC_QBUF, &b);
}

/* Exports one plane of an MMAP buffer; returns the dma-buf fd or -1. */
int vlib_expbuf(struct vlib_dev *d, uint32_t index, uint32_t plane,
		uint32_t flags)
{
	struct v4l2_exportbuffer eb;

	memset(&eb, 0, sizeof(eb));
	eb.type = d->type;
	eb.index = index;
	eb.plane = plane;
	eb.flags = flags;
	if (xioctl(d->fd, VIDIOC_EXPBUF, &eb))
		return -1;
	return eb.fd;
}

/*
 * Reads the sysfs name of video node @path (/dev/videoN) into @name.
 * Returns 0, or -1 if it has none.
 */
int vlib_node_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char sys[256];
	FILE *f;

	snprintf(sys, sizeof(sys), "/sys/class/video4linux/%s/name", base);
	f = fopen(sys, "r");
	if (!f)
		return -1;
	if (!fgets(name, len, f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return name[0] ? 0 : -1;
}

/*
 * Finds the output node of the vivid-expbuf instance whose capture node
 * is @cap_path (sysfs name vivid-expbuf-N-vid-cap). Writes its /dev path
 * to @out and returns 0, or -1 if @cap_path is no such node or the
 * instance has no output node.
 */
int vlib_find_output(const char *cap_path, char *out, size_t len)
{
	char name[128], prefix[32];
	unsigned int inst;

	if (vlib_node_name(cap_path, name, sizeof(name)) ||
	    sscanf(name, "vivid-expbuf-%u-vid-cap", &inst) != 1)
		return -1;
	snprintf(prefix, sizeof(prefix), "vivid-expbuf-%u-", inst);
	return vlib_find_node(prefix, "-vid-out", NULL, out, len);
}

/*
 * Finds a video node whose sysfs name starts with @prefix and ends with
 * @suffix, other than the node @skip (a path such as /dev/video0, may be
 * NULL). Writes its /dev path to @out and returns 0, or -1 if none.
 */
int vlib_find_node(const char *prefix, const char *suffix, const char *skip,
		   char *out, size_t len)
{
	const char *skip_base = NULL;
	struct dirent *de;
	int ret = -1;
	DIR *dir;

	if (skip)
		skip_base = strrchr(skip, '/') ? strrchr(skip, '/') + 1 : skip;
	dir = opendir("/sys/class/video4linux");
	if (!dir)
		return -1;
	while (ret && (de = readdir(dir))) {
		char path[512], name[128];
		size_t n, ls = strlen(suffix);
		FILE *f;

		if (strncmp(de->d_name, "video", 5))
			continue;
		if (skip_base && !strcmp(de->d_name, skip_base))
			continue;
		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/name",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		fclose(f);
		name[strcspn(name, "\n")] = '\0';
		n = strlen(name);
		if (strncmp(name, prefix, strlen(prefix)) || n < ls ||
		    strcmp(name + n - ls, suffix))
			continue;
		snprintf(out, len, "/dev/%s", de->d_name);
		ret = 0;
	}
	closedir(dir);
	return ret;
}

int vlib_qbuf_userptr(struct vlib_dev *d, uint32_t index,
		      const struct vlib_buf *buf)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int i;

	vlib_init_buf(d, &b, planes, V4L2_MEMORY_USERPTR, index);
	if (d->mplane) {
		b.length = buf->num_planes;
		for (i = 0; i < buf->num_planes; i++) {
			planes[i].m.userptr = (unsigned long)buf->start[i];
			planes[i].length = buf->length[i];
		}
	} else {
		b.m.userptr = (unsigned long)buf->start[0];
		b.length = buf->length[0];
	}
	return xioctl(d->fd, VIDIOC_QBUF, &b);
}

/*
 * Queues buffer @index of a DMABUF queue with the dma-buf @fds[i] as plane
 * i, for @num_planes planes. On an output queue @bytesused[i] is passed too
 * (NULL: 0, meaning the whole plane). Returns QBUF's result.
 */
int vlib_qbuf_dmabuf(struct vlib_dev *d, uint32_t index, const int fds[],
		     unsigned int num_planes, const uint32_t bytesused[])
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int i;

	vlib_init_buf(d, &b, planes, V4L2_MEMORY_DMABUF, index);
	if (!d->mplane) {
		b.m.fd = fds[0];
		b.bytesused = bytesused ? bytesused[0] : 0;
		return xioctl(d->fd, VIDIOC_QBUF, &b);
	}
	b.length = num_planes;
	for (i = 0; i < num_planes && i < VLIB_MAX_PLANES; i++) {
		planes[i].m.fd = fds[i];
		planes[i].bytesused = bytesused ? bytesused[i] : 0;
	}
	return xioctl(d->fd, VIDIOC_QBUF, &b);
}

/*
 * Waits up to @timeout_ms for a buffer with poll(), then dequeues it. A
 * timeout fails with errno ETIMEDOUT; other failures carry DQBUF's errno.
 */
int vlib_dqbuf(struct vlib_dev *d, uint32_t memory, struct vlib_frame *fr,
	       int timeout_ms)
{
	struct pollfd pfd = { .fd = d->fd, .events = d->output ? POLLOUT :
								 POLLIN };
	int ret;

	if (timeout_ms >= 0) {
		do {
			ret = poll(&pfd, 1, timeout_ms);
		} while (ret == -1 && errno == EINTR);
		if (ret == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	vlib_init_buf(d, &fr->buf, fr->planes, memory, 0);
	if (timeout_ms >= 0)
		ret = ioctl_timeout(d->fd, VIDIOC_DQBUF, &fr->buf,
				    (timeout_ms + 999) / 1000 + 1);
	else
		ret = xioctl(d->fd, VIDIOC_DQBUF, &fr->buf);
	if (ret)
		return -1;
	frame_fill(d, fr);
	return 0;
}

int vlib_streamon(struct vlib_dev *d)
{
	int type = d->type;

	return xioctl(d->fd, VIDIOC_STREAMON, &type);
}

int vlib_streamoff(struct vlib_dev *d)
{
	int type = d->type;

	return xioctl(d->fd, VIDIOC_STREAMOFF, &type);
}

int vlib_set_ctrl(struct vlib_dev *d, uint32_t id, int32_t value)
{
	struct v4l2_control c = { .id = id, .value = value };

	return xioctl(d->fd, VIDIOC_S_CTRL, &c);
}

int vlib_get_ctrl(struct vlib_dev *d, uint32_t id, int32_t *value)
{
	struct v4l2_control c = { .id = id };

	if (xioctl(d->fd, VIDIOC_G_CTRL, &c))
		return -1;
	*value = c.value;
	return 0;
}

/*
 * Checks that the queue still works: allocates two MMAP buffers, streams
 * one frame and frees everything again. Returns 0, or -1 with @why set.
 */
int vlib_smoke_stream(struct vlib_dev *d, char *why, size_t len)
{
	struct vlib_buf bufs[2];
	struct vlib_frame fr;
	struct vlib_fmt f;
	int n, i, ret = -1;

	memset(bufs, 0, sizeof(bufs));
	vlib_streamoff(d);
	vlib_reqbufs(d, V4L2_MEMORY_MMAP, 0, NULL);
	if (vlib_get_fmt(d, &f)) {
		snprintf(why, len, "G_FMT: %s", strerror(errno));
		return -1;
	}
	n = vlib_reqbufs(d, V4L2_MEMORY_MMAP, 2, NULL);
	if (n < 1) {
		snprintf(why, len, "REQBUFS(2): %s",
			 n < 0 ? strerror(errno) : "count 0");
		return -1;
	}
	if (n > 2)
		n = 2;
	for (i = 0; i < n; i++) {
		if (vlib_mmap_buf(d, i, &bufs[i])) {
			snprintf(why, len, "mmap %d: %s", i, strerror(errno));
			goto out;
		}
		if (vlib_qbuf_mmap(d, i)) {
			snprintf(why, len, "QBUF %d: %s", i, strerror(errno));
			goto out;
		}
	}
	if (vlib_streamon(d)) {
		snprintf(why, len, "STREAMON: %s", strerror(errno));
		goto out;
	}
	if (vlib_dqbuf(d, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, len, "DQBUF: %s", strerror(errno));
		goto out;
	}
	if (fr.bytesused[0] != f.sizeimage[0]) {
		snprintf(why, len, "bytesused %u != sizeimage %u",
			 fr.bytesused[0], f.sizeimage[0]);
		goto out;
	}
	ret = 0;
out:
	vlib_streamoff(d);
	for (i = 0; i < 2; i++)
		vlib_unmap_buf(&bufs[i]);
	if (vlib_reqbufs(d, V4L2_MEMORY_MMAP, 0, NULL) && !ret) {
		snprintf(why, len, "REQBUFS(0): %s", strerror(errno));
		ret = -1;
	}
	return ret;
}

const char *vlib_fourcc_str(uint32_t fourcc, char *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		char c = (fourcc >> (8 * i)) & 0xff;

		out[i] = (c >= 32 && c < 127) ? c : '?';
	}
	out[4] = '\0';
	return out;
}

double vlib_ts_to_sec(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

double vlib_now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------ pattern model */

static const uint8_t bar_colours[8][3] = {
	{ 255, 255, 255 },	/* white */
	{ 255, 255, 0 },	/* yellow */
	{ 0, 255, 255 },	/* cyan */
	{ 0, 255, 0 },		/* green */
	{ 255, 0, 255 },	/* magenta */
	{ 255, 0, 0 },		/* red */
	{ 0, 0, 255 },		/* blue */
	{ 0, 0, 0 },		/* black */
};

void pattern_rgb(const struct vlib_fmt *f, const struct vlib_pattern *p,
		 uint32_t x, uint32_t y, uint8_t rgb[3])
{
	uint32_t w = f->width, h = f->height;
	uint8_t v;

	if (y >= h - h / 8) {
		uint32_t cell = (x * 32) / w;

		v = (p->sequence >> (31 - cell)) & 1 ? 255 : 0;
		rgb[0] = v;
		rgb[1] = v;
		rgb[2] = v;
		return;
	}
	if (p->test_pattern == 1) {
		memset(rgb, 0, 3);
		return;
	}
	if (p->hflip)
		x = w - 1 - x;
	memcpy(rgb, bar_colours[(x * 8) / w], 3);
}

/* floor(v / 256), independent of how the compiler shifts negative values */
static int floor_div256(int v)
{
	return v >= 0 ? v / 256 : -((-v + 255) / 256);
}

void rgb_to_ycbcr(const uint8_t rgb[3], uint8_t ycc[3])
{
	int r = rgb[0], g = rgb[1], b = rgb[2];

	ycc[0] = floor_div256(66 * r + 129 * g + 25 * b + 128) + 16;
	ycc[1] = floor_div256(-38 * r - 74 * g + 112 * b + 128) + 128;
	ycc[2] = floor_div256(112 * r - 94 * g - 18 * b + 128) + 128;
}

bool pattern_supported(uint32_t fourcc)
{
	switch (fourcc) {
	case V4L2_PIX_FMT_YUYV:
	case V4L2_PIX_FMT_RGB24:
	case V4L2_PIX_FMT_XBGR32:
	case V4L2_PIX_FMT_RGB565:
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_NV12M:
		return true;
	default:
		return false;
	}
}

static void fill_packed(const struct vlib_fmt *f, const struct vlib_pattern *p,
			uint8_t *out)
{
	uint32_t x, y;
	uint8_t rgb[3], ycc[3], rgb2[3], ycc2[3];

	for (y = 0; y < f->height; y++) {
		uint8_t *line = out + (size_t)y * f->bytesperline[0];

		for (x = 0; x < f->width; x++) {
			uint16_t v;

			pattern_rgb(f, p, x, y, rgb);
			switch (f->fourcc) {
			case V4L2_PIX_FMT_RGB24:
				memcpy(line + 3 * x, rgb, 3);
				break;
			case V4L2_PIX_FMT_XBGR32:
				line[4 * x] = rgb[2];
				line[4 * x + 1] = rgb[1];
				line[4 * x + 2] = rgb[0];
				line[4 * x + 3] = 0xff;
				break;
			case V4L2_PIX_FMT_RGB565:
				v = ((rgb[0] >> 3) << 11) |
				    ((rgb[1] >> 2) << 5) | (rgb[2] >> 3);
				line[2 * x] = v & 0xff;
				line[2 * x + 1] = v >> 8;
				break;
			case V4L2_PIX_FMT_YUYV:
				if (x & 1)
					break;
				rgb_to_ycbcr(rgb, ycc);
				pattern_rgb(f, p, x + 1, y, rgb2);
				rgb_to_ycbcr(rgb2, ycc2);
				line[2 * x] = ycc[0];
				line[2 * x + 1] = ycc[1];
				line[2 * x + 2] = ycc2[0];
				line[2 * x + 3] = ycc[2];
				break;
			}
		}
	}
}

static void fill_nv12(const struct vlib_fmt *f, const struct vlib_pattern *p,
		      uint8_t *luma, uint8_t *chroma)
{
	uint32_t x, y;
	uint8_t rgb[3], ycc[3];

	for (y = 0; y < f->height; y++) {
		for (x = 0; x < f->width; x++) {
			pattern_rgb(f, p, x, y, rgb);
			rgb_to_ycbcr(rgb, ycc);
			luma[(size_t)y * f->width + x] = ycc[0];
			if ((x | y) & 1)
				continue;
			chroma[(size_t)(y / 2) * f->width + x] = ycc[1];
			chroma[(size_t)(y / 2) * f->width + x + 1] = ycc[2];
		}
	}
}

/*
 * Writes the expected frame into @planes, which must be as large as the
 * format's sizeimage. Returns -1 for formats the model does not know.
 */
int pattern_fill(const struct vlib_fmt *f, const struct vlib_pattern *p,
		 uint8_t *const planes[])
{
	switch (f->fourcc) {
	case V4L2_PIX_FMT_YUYV:
	case V4L2_PIX_FMT_RGB24:
	case V4L2_PIX_FMT_XBGR32:
	case V4L2_PIX_FMT_RGB565:
		fill_packed(f, p, planes[0]);
		return 0;
	case V4L2_PIX_FMT_NV12:
		fill_nv12(f, p, planes[0],
			  planes[0] + (size_t)f->width * f->height);
		return 0;
	case V4L2_PIX_FMT_NV12M:
		fill_nv12(f, p, planes[0], planes[1]);
		return 0;
	default:
		return -1;
	}
}

/* Finds the pixel a byte offset of a plane belongs to. */
static void offset_to_pixel(const struct vlib_fmt *f, unsigned int plane,
			    size_t off, uint32_t *x, uint32_t *y, bool *chroma)
{
	size_t luma = (size_t)f->width * f->height;

	*chroma = false;
	switch (f->fourcc) {
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_NV12M:
		if (f->fourcc == V4L2_PIX_FMT_NV12 && off >= luma) {
			off -= luma;
			plane = 1;
		}
		if (plane == 0) {
			*x = off % f->width;
			*y = off / f->width;
		} else {
			*chroma = true;
			*x = (off % f->width) & ~1u;
			*y = (off / f->width) * 2;
		}
		return;
	case V4L2_PIX_FMT_YUYV:
		*x = (off % f->bytesperline[0]) / 4 * 2;
		*y = off / f->bytesperline[0];
		return;
	case V4L2_PIX_FMT_RGB24:
		*x = (off % f->bytesperline[0]) / 3;
		*y = off / f->bytesperline[0];
		return;
	case V4L2_PIX_FMT_XBGR32:
		*x = (off % f->bytesperline[0]) / 4;
		*y = off / f->bytesperline[0];
		return;
	default:
		*x = (off % f->bytesperline[0]) / 2;
		*y = off / f->bytesperline[0];
		return;
	}
}

/* Prints the bytes of the unit (pixel, pixel pair, chroma pair) at @off. */
static void unit_bytes(const struct vlib_fmt *f, unsigned int plane,
		       size_t off, const uint8_t *base, char *out, size_t len)
{
	size_t start, n, i, pos = 0;

	switch (f->fourcc) {
	case V4L2_PIX_FMT_YUYV:
		n = 4;
		break;
	case V4L2_PIX_FMT_RGB24:
		n = 3;
		break;
	case V4L2_PIX_FMT_XBGR32:
		n = 4;
		break;
	case V4L2_PIX_FMT_RGB565:
		n = 2;
		break;
	default:
		n = 1;
		if (plane == 1 || (f->fourcc == V4L2_PIX_FMT_NV12 &&
				   off >= (size_t)f->width * f->height))
			n = 2;
		break;
	}
	if (f->fourcc == V4L2_PIX_FMT_NV12)
		start = off - ((off - (off >= (size_t)f->width * f->height ?
				       (size_t)f->width * f->height : 0)) % n);
	else
		start = off - (off % f->bytesperline[plane]) % n;
	out[0] = '\0';
	for (i = 0; i < n && pos + 4 < len; i++)
		pos += snprintf(out + pos, len - pos, "%s%02x", i ? " " : "",
				base[start + i]);
}

/*
 * Compares a captured frame with the model. On mismatch, describes the first
 * wrong pixel and the number of wrong bytes in @msg and returns false.
 */
bool pattern_check(const struct vlib_fmt *f, const struct vlib_pattern *p,
		   void *const planes[], char *msg, size_t len)
{
	uint8_t *exp[VLIB_MAX_PLANES] = { NULL, NULL };
	bool ok = true;
	unsigned int i;

	msg[0] = '\0';
	for (i = 0; i < f->num_planes; i++) {
		exp[i] = calloc(1, f->sizeimage[i]);
		if (!exp[i]) {
			snprintf(msg, len, "out of memory");
			ok = false;
			goto out;
		}
	}
	if (pattern_fill(f, p, exp)) {
		snprintf(msg, len, "format not in the model");
		ok = false;
		goto out;
	}
	for (i = 0; i < f->num_planes && ok; i++) {
		const uint8_t *act = planes[i];
		size_t off, first = 0, bad = 0;
		char eb[32], ab[32];
		uint32_t x, y;
		bool chroma;

		for (off = 0; off < f->sizeimage[i]; off++) {
			if (act[off] == exp[i][off])
				continue;
			if (!bad)
				first = off;
			bad++;
		}
		if (!bad)
			continue;
		ok = false;
		offset_to_pixel(f, i, first, &x, &y, &chroma);
		unit_bytes(f, i, first, exp[i], eb, sizeof(eb));
		unit_bytes(f, i, first, act, ab, sizeof(ab));
		snprintf(msg, len,
			 "plane %u: %zu bytes differ; first at offset %zu, %spixel (%u,%u): expected [%s] got [%s] (seq %u hflip %d pattern %d)",
			 i, bad, first, chroma ? "chroma of " : "", x, y, eb, ab,
			 p->sequence, p->hflip, p->test_pattern);
	}
out:
	for (i = 0; i < VLIB_MAX_PLANES; i++)
		free(exp[i]);
	return ok;
}

/* Returns the luma or first byte value and pixel stride at (x,y). */
static int sample_pixel(const struct vlib_fmt *f, void *const planes[],
			uint32_t x, uint32_t y, uint8_t *out)
{
	const uint8_t *p0 = planes[0];
	size_t line = (size_t)y * f->bytesperline[0];

	switch (f->fourcc) {
	case V4L2_PIX_FMT_YUYV:
		out[0] = p0[line + 2 * x];
		return 1;
	case V4L2_PIX_FMT_RGB24:
		memcpy(out, p0 + line + 3 * x, 3);
		return 3;
	case V4L2_PIX_FMT_XBGR32:
		memcpy(out, p0 + line + 4 * x, 3);
		return 3;
	case V4L2_PIX_FMT_RGB565:
		memcpy(out, p0 + line + 2 * x, 2);
		return 2;
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_NV12M:
		out[0] = p0[(size_t)y * f->width + x];
		return 1;
	default:
		return -1;
	}
}

/*
 * Reads the 32-bit counter band of the last line of a frame. Returns 0, or
 * -1 if some cell is neither the white nor the black encoding. Cells that
 * hold no pixel (width below 32) read as 0.
 */
int pattern_decode_counter(const struct vlib_fmt *f, void *const planes[],
			   uint32_t *seq)
{
	struct vlib_pattern white = { .sequence = 0xffffffff };
	struct vlib_pattern black = { .sequence = 0 };
	uint8_t *ew[VLIB_MAX_PLANES] = { NULL, NULL };
	uint8_t *eb[VLIB_MAX_PLANES] = { NULL, NULL };
	uint32_t y = f->height - 1, c, v = 0;
	unsigned int i;
	int ret = -1;

	for (i = 0; i < f->num_planes; i++) {
		ew[i] = calloc(1, f->sizeimage[i]);
		eb[i] = calloc(1, f->sizeimage[i]);
		if (!ew[i] || !eb[i])
			goto out;
	}
	if (pattern_fill(f, &white, ew) || pattern_fill(f, &black, eb))
		goto out;
	for (c = 0; c < 32; c++) {
		uint32_t x = (c * f->width + 31) / 32;
		uint8_t a[4], w[4], b[4];
		int n;

		if (x >= f->width || (x * 32) / f->width != c)
			continue;
		n = sample_pixel(f, planes, x, y, a);
		sample_pixel(f, (void *const *)ew, x, y, w);
		sample_pixel(f, (void *const *)eb, x, y, b);
		if (n < 0)
			goto out;
		if (!memcmp(a, w, n))
			v |= 1u << (31 - c);
		else if (memcmp(a, b, n))
			goto out;
	}
	*seq = v;
	ret = 0;
out:
	for (i = 0; i < VLIB_MAX_PLANES; i++) {
		free(ew[i]);
		free(eb[i]);
	}
	return ret;
}
