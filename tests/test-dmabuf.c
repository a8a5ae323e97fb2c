// SPDX-License-Identifier: GPL-2.0-only
/*
 * V4L2_MEMORY_DMABUF import tests. The node under test imports dma-bufs
 * exported (VIDIOC_EXPBUF of MMAP buffers) by the other instance's capture
 * node, into its own capture queue and into its instance's output queue.
 * Checks the frames that land in imported memory, the access, size and
 * descriptor rules of QBUF, that mmap() and EXPBUF are refused on a
 * DMABUF queue, requeueing and replacing an import, and imports that
 * outlive their descriptor and their exporter's queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "v4l2-lib.h"

#define WIDTH		160
#define HEIGHT		120
/* width and height of the frame whose dma-buf is too small to import */
#define SMALL_SIZE	16
#define NBUFS		4
/* dma-bufs exported at WIDTH x HEIGHT; the last one is never a buffer's */
#define POOL_SIZE	10
#define SPARE		(POOL_SIZE - 1)
/* frames captured per format, output frames streamed, loopback attempts */
#define FRAMES		3
#define OUT_FRAMES	6
#define LOOP_FRAMES	12
/* frames each queue completes while they share dma-bufs */
#define SHARED_FRAMES	8
/* output buffers are queued with bytesused this much below sizeimage */
#define SHORT_BY	64
/* dma-buf content before a capture, and content that must stay untouched */
#define FILL_BYTE	0xaa
#define STALE_BYTE	0x55
/* counter of the frame the output node reads (never a capture sequence) */
#define OUT_SEQUENCE	0x5a5a5a5a
#define CID_LOOPBACK	(V4L2_CID_USER_BASE | 0xf000)

/* One dma-buf exported by the exporter node, mapped for the checks. */
struct dbuf {
	int fd;
	void *map;
	size_t size;
};

/* What QBUF passes for one plane of a DMABUF buffer. */
struct plane_req {
	int fd;
	unsigned int length;
	unsigned int bytesused;
	unsigned int data_offset;
};

/* Checks of capture_import(), run once per capture format. */
static const char *const import_checks[] = {
	"capture reqbufs reports SUPPORTS_DMABUF",
	"capture DQBUF reports bytesused, fd and length",
	"capture frames land in the imported dma-bufs",
	"refused QBUF keeps the buffer's imports",
	"requeue after a refused QBUF captures into the same dma-bufs",
};

static struct vlib_dev imp, exporter, out;
static struct vlib_fmt fmt;
static struct dbuf pool[POOL_SIZE];
static struct dbuf small;
static char exporter_path[64], output_path[64];

static bool expect_errno(int ret, int err, int want, const char *name)
{
	return tap_errno(ret, err, want, "dmabuf: %s", name);
}

static bool expect_ok(int ret, int err, const char *name)
{
	if (tap_ok(ret >= 0, "dmabuf: %s", name))
		return true;
	tap_diag("expected success, got %s", tap_errname(ret, err));
	return false;
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int sync_dbuf(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return xioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
}

/* Writes @len bytes of @src, or @byte everywhere when @src is NULL. */
static void dbuf_write(const struct dbuf *b, const unsigned char *src, size_t len,
		       unsigned char byte)
{
	if (!b->map)
		return;
	sync_dbuf(b->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	if (src)
		memcpy(b->map, src, len < b->size ? len : b->size);
	else
		memset(b->map, byte, b->size);
	sync_dbuf(b->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
}

/* True if every byte of @b reads as @byte. */
static bool dbuf_all(const struct dbuf *b, unsigned char byte)
{
	const unsigned char *m = b->map;
	bool ok = true;
	size_t i;

	if (!m)
		return false;
	sync_dbuf(b->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; ok && i < b->size; i++)
		ok = m[i] == byte;
	sync_dbuf(b->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return ok;
}

/*
 * Checks that the dma-bufs @planes, one per plane of the importer's
 * format, hold the test pattern of sequence @seq, reading them between
 * the start and end of DMA_BUF_IOCTL_SYNC.
 */
static bool frame_in(struct dbuf *const planes[], unsigned int seq, char *msg,
		     size_t len)
{
	void *maps[VLIB_MAX_PLANES] = { NULL, NULL };
	struct vlib_pattern pat = { .sequence = seq };
	unsigned int p;
	bool ok;

	for (p = 0; p < fmt.num_planes; p++) {
		if (!planes[p]->map) {
			snprintf(msg, len, "plane %u is not mapped", p);
			return false;
		}
		maps[p] = planes[p]->map;
		sync_dbuf(planes[p]->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	}
	ok = pattern_check(&fmt, &pat, maps, msg, len);
	for (p = 0; p < fmt.num_planes; p++)
		sync_dbuf(planes[p]->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return ok;
}

/* The pool dma-bufs that importer buffer @index uses, one per plane. */
static void buffer_planes(unsigned int index, struct dbuf *planes[])
{
	unsigned int p;

	for (p = 0; p < VLIB_MAX_PLANES; p++)
		planes[p] = &pool[(index * fmt.num_planes + p) % POOL_SIZE];
}

static int queue_pool(struct vlib_dev *d, unsigned int index)
{
	struct dbuf *planes[VLIB_MAX_PLANES];
	int fds[VLIB_MAX_PLANES];
	unsigned int p;

	buffer_planes(index, planes);
	for (p = 0; p < fmt.num_planes; p++)
		fds[p] = planes[p]->fd;
	return vlib_qbuf_dmabuf(d, index, fds, fmt.num_planes, NULL);
}

/* QBUF of a DMABUF buffer with every plane field given. */
static int qbuf_planes(struct vlib_dev *d, unsigned int index,
		       const struct plane_req *req, unsigned int num_planes)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int p;

	vlib_init_buf(d, &b, planes, V4L2_MEMORY_DMABUF, index);
	if (!d->mplane) {
		b.m.fd = req[0].fd;
		b.length = req[0].length;
		b.bytesused = req[0].bytesused;
		return xioctl(d->fd, VIDIOC_QBUF, &b);
	}
	b.length = num_planes;
	for (p = 0; p < num_planes; p++) {
		planes[p].m.fd = req[p].fd;
		planes[p].length = req[p].length;
		planes[p].bytesused = req[p].bytesused;
		planes[p].data_offset = req[p].data_offset;
	}
	return xioctl(d->fd, VIDIOC_QBUF, &b);
}

static int frame_fd(const struct vlib_dev *d, const struct vlib_frame *fr,
		    unsigned int plane)
{
	return d->mplane ? fr->planes[plane].m.fd : fr->buf.m.fd;
}

/* True if QUERYBUF of buffer @index works and shows it not queued. */
static bool dequeued(struct vlib_dev *d, unsigned int index,
		     struct vlib_frame *fr)
{
	if (vlib_querybuf(d, index, fr)) {
		tap_diag("QUERYBUF %u: %s", index, strerror(errno));
		return false;
	}
	if (fr->buf.flags & V4L2_BUF_FLAG_QUEUED)
		tap_diag("buffer %u flags 0x%x: queued", index, fr->buf.flags);
	return !(fr->buf.flags & V4L2_BUF_FLAG_QUEUED);
}

/* Exports plane 0 of exporter buffer @index; returns the fd or -1. */
static int export_fd(unsigned int index, int flags)
{
	int fd = vlib_expbuf(&exporter, index, 0, O_CLOEXEC | flags);

	if (fd < 0)
		tap_diag("EXPBUF %u flags 0x%x: %s", index, flags,
			 strerror(errno));
	return fd;
}

static int export_dbuf(unsigned int index, struct dbuf *b, char *why, size_t len)
{
	off_t end;

	b->fd = vlib_expbuf(&exporter, index, 0, O_CLOEXEC | O_RDWR);
	if (b->fd < 0) {
		snprintf(why, len, "EXPBUF %u: %s", index, strerror(errno));
		return -1;
	}
	end = lseek(b->fd, 0, SEEK_END);
	if (end <= 0) {
		snprintf(why, len, "lseek of export %u: %s", index,
			 end < 0 ? strerror(errno) : "size 0");
		return -1;
	}
	b->size = end;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      b->fd, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		snprintf(why, len, "mmap of export %u: %s", index,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void dbuf_release(struct dbuf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	close_if(b->fd);
	b->map = NULL;
	b->fd = -1;
}

/*
 * Exports from the exporter node: one buffer of a SMALL_SIZE square frame
 * (orphaned at once), then POOL_SIZE buffers of a WIDTH x HEIGHT YUYV
 * frame, which the exporter keeps allocated. Returns 0 or -1 with @why.
 */
static int pool_create(char *why, size_t len)
{
	int count, i;

	vlib_streamoff(&exporter);
	vlib_reqbufs(&exporter, V4L2_MEMORY_MMAP, 0, NULL);
	if (vlib_set_fmt(&exporter, V4L2_PIX_FMT_YUYV, SMALL_SIZE, SMALL_SIZE,
			 NULL) ||
	    vlib_reqbufs(&exporter, V4L2_MEMORY_MMAP, 1, NULL) < 1) {
		snprintf(why, len, "small exporter buffer: %s",
			 strerror(errno));
		return -1;
	}
	if (export_dbuf(0, &small, why, len))
		return -1;
	if (vlib_reqbufs(&exporter, V4L2_MEMORY_MMAP, 0, NULL) ||
	    vlib_set_fmt(&exporter, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, NULL)) {
		snprintf(why, len, "exporter REQBUFS(0) or S_FMT: %s",
			 strerror(errno));
		return -1;
	}
	count = vlib_reqbufs(&exporter, V4L2_MEMORY_MMAP, POOL_SIZE, NULL);
	if (count < POOL_SIZE) {
		snprintf(why, len, "exporter REQBUFS(%d): %s", POOL_SIZE,
			 count < 0 ? strerror(errno) : "too few");
		return -1;
	}
	for (i = 0; i < POOL_SIZE; i++)
		if (export_dbuf(i, &pool[i], why, len))
			return -1;
	return 0;
}

/*
 * Stops the importer, sets @fourcc at WIDTH x HEIGHT and allocates NBUFS
 * DMABUF buffers. Returns the count or -1; the capabilities go to @caps.
 */
static int importer_setup(unsigned int fourcc, unsigned int *caps)
{
	int count;

	vlib_streamoff(&imp);
	vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, 0, NULL);
	if (vlib_set_fmt(&imp, fourcc, WIDTH, HEIGHT, &fmt)) {
		tap_diag("S_FMT: %s", strerror(errno));
		return -1;
	}
	count = vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, NBUFS, caps);
	if (count < NBUFS) {
		tap_diag("REQBUFS(DMABUF, %d): %s", NBUFS,
			 count < 0 ? strerror(errno) : "too few buffers");
		return -1;
	}
	return count;
}

static void importer_stop(void)
{
	vlib_streamoff(&imp);
	if (vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, 0, NULL))
		tap_diag("importer REQBUFS(0): %s", strerror(errno));
}

/* Dequeues one importer frame; false with @why set if none or bad index. */
static bool dq_import(struct vlib_frame *fr, char *why, size_t len)
{
	if (vlib_dqbuf(&imp, V4L2_MEMORY_DMABUF, fr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, len, "DQBUF: %s", strerror(errno));
		return false;
	}
	if (fr->buf.index >= NBUFS) {
		snprintf(why, len, "DQBUF index %u", fr->buf.index);
		return false;
	}
	return true;
}

/* bytesused, fd and length of every plane of an importer frame. */
static bool frame_meta_ok(const struct vlib_frame *fr, char *why, size_t len)
{
	struct dbuf *planes[VLIB_MAX_PLANES];
	unsigned int p;

	buffer_planes(fr->buf.index, planes);
	for (p = 0; p < fmt.num_planes; p++) {
		if (fr->bytesused[p] == fmt.sizeimage[p] &&
		    frame_fd(&imp, fr, p) == planes[p]->fd &&
		    fr->length[p] == planes[p]->size)
			continue;
		snprintf(why, len,
			 "buffer %u plane %u: bytesused %u fd %d length %u, expected %u, %d, %zu",
			 fr->buf.index, p, fr->bytesused[p],
			 frame_fd(&imp, fr, p), fr->length[p],
			 fmt.sizeimage[p], planes[p]->fd, planes[p]->size);
		return false;
	}
	return true;
}

/*
 * A refused QBUF of dequeued buffer @index (its last plane a too small
 * dma-buf, the others a spare one) must leave the buffer's imports as
 * they were; then the buffer is requeued with them and must capture
 * into them. Reports two checks named after @name.
 */
static void refused_keeps_imports(const char *name, unsigned int index)
{
	struct plane_req req[VLIB_MAX_PLANES];
	struct dbuf *planes[VLIB_MAX_PLANES];
	struct vlib_frame before, after, fr;
	char why[300] = "no frame";
	unsigned int p, i;
	int ret, err;
	bool ok;

	memset(req, 0, sizeof(req));
	for (p = 0; p < fmt.num_planes; p++)
		req[p].fd = pool[SPARE].fd;
	req[fmt.num_planes - 1].fd = small.fd;
	ok = !vlib_querybuf(&imp, index, &before);
	ret = qbuf_planes(&imp, index, req, fmt.num_planes);
	err = errno;
	if (ret != -1 || err != EINVAL)
		tap_diag("QBUF with a too small dma-buf: expected EINVAL, got %s",
			 tap_errname(ret, err));
	ok = ok && ret == -1 && err == EINVAL &&
	     dequeued(&imp, index, &after);
	for (p = 0; ok && p < fmt.num_planes; p++) {
		ok = frame_fd(&imp, &after, p) == frame_fd(&imp, &before, p) &&
		     after.length[p] == before.length[p];
		if (!ok)
			tap_diag("plane %u: fd %d length %u, before %d %u", p,
				 frame_fd(&imp, &after, p), after.length[p],
				 frame_fd(&imp, &before, p), before.length[p]);
	}
	tap_ok(ok, "dmabuf: %s %s", name, import_checks[3]);

	buffer_planes(index, planes);
	for (p = 0; p < fmt.num_planes; p++)
		dbuf_write(planes[p], NULL, 0, FILL_BYTE);
	ok = false;
	if (queue_pool(&imp, index)) {
		snprintf(why, sizeof(why), "requeue: %s", strerror(errno));
	} else {
		for (i = 0; i < NBUFS && dq_import(&fr, why, sizeof(why)); i++) {
			if (fr.buf.index != index)
				continue;
			ok = frame_in(planes, fr.buf.sequence, why,
				      sizeof(why));
			break;
		}
	}
	if (!tap_ok(ok, "dmabuf: %s %s", name, import_checks[4]))
		tap_diag("%s", why);
}

/*
 * Captures into pool dma-bufs imported into every buffer, in format
 * @fourcc: metadata and content of the frames, then a refused QBUF.
 */
static void capture_import(unsigned int fourcc)
{
	struct dbuf *planes[VLIB_MAX_PLANES];
	char name[8], why[300] = "", meta[300] = "";
	bool meta_ok = true, content_ok = true;
	struct vlib_frame fr;
	unsigned int caps = 0;
	int count, i;

	vlib_fourcc_str(fourcc, name);
	count = importer_setup(fourcc, &caps);
	if (!tap_ok(count > 0 && (caps & V4L2_BUF_CAP_SUPPORTS_DMABUF),
		    "dmabuf: %s %s", name, import_checks[0]))
		tap_diag("capabilities 0x%x", caps);
	for (i = 0; i < POOL_SIZE; i++)
		dbuf_write(&pool[i], NULL, 0, FILL_BYTE);
	for (i = 0; i < NBUFS && count > 0; i++) {
		if (queue_pool(&imp, i)) {
			snprintf(why, sizeof(why), "QBUF %d: %s", i,
				 strerror(errno));
			count = -1;
		}
	}
	if (count > 0 && vlib_streamon(&imp)) {
		snprintf(why, sizeof(why), "STREAMON: %s", strerror(errno));
		count = -1;
	}
	for (i = 0; i < FRAMES && count > 0; i++) {
		if (!dq_import(&fr, why, sizeof(why))) {
			count = -1;
			break;
		}
		if (meta_ok)
			meta_ok = frame_meta_ok(&fr, meta, sizeof(meta));
		buffer_planes(fr.buf.index, planes);
		if (content_ok)
			content_ok = frame_in(planes, fr.buf.sequence, why,
					      sizeof(why));
		if (i + 1 < FRAMES && queue_pool(&imp, fr.buf.index)) {
			snprintf(why, sizeof(why), "requeue %u: %s",
				 fr.buf.index, strerror(errno));
			count = -1;
		}
	}
	if (!tap_ok(count > 0 && meta_ok, "dmabuf: %s %s", name,
		    import_checks[1]))
		tap_diag("%s", count > 0 ? meta : why);
	if (!tap_ok(count > 0 && content_ok, "dmabuf: %s %s", name,
		    import_checks[2]))
		tap_diag("%s", why);
	if (count > 0) {
		refused_keeps_imports(name, fr.buf.index);
	} else {
		tap_ok(false, "dmabuf: %s %s", name, import_checks[3]);
		tap_ok(false, "dmabuf: %s %s", name, import_checks[4]);
	}
	importer_stop();
}

/* Capture access rule: read-only dma-bufs refused, write-only ones taken. */
static void capture_access(void)
{
	struct dbuf *planes[VLIB_MAX_PLANES];
	struct vlib_frame fr;
	char why[300] = "no frame";
	int ro, wo, ret, i, got = 0;
	bool ok;

	importer_setup(V4L2_PIX_FMT_YUYV, NULL);
	ro = export_fd(0, O_RDONLY);
	wo = export_fd(1, O_WRONLY);
	ret = vlib_qbuf_dmabuf(&imp, 0, &ro, 1, NULL);
	expect_errno(ret, errno, EACCES,
		     "capture refuses a read-only dma-buf with EACCES");
	tap_ok(dequeued(&imp, 0, &fr),
	       "dmabuf: capture buffer stays dequeued after EACCES");
	ret = vlib_qbuf_dmabuf(&imp, 0, &pool[0].fd, 1, NULL);
	expect_ok(ret, errno, "capture takes a good dma-buf after EACCES");
	ret = vlib_qbuf_dmabuf(&imp, 1, &wo, 1, NULL);
	expect_ok(ret, errno, "capture accepts a write-only dma-buf");

	dbuf_write(&pool[0], NULL, 0, FILL_BYTE);
	dbuf_write(&pool[1], NULL, 0, FILL_BYTE);
	ok = !vlib_streamon(&imp);
	if (!ok)
		snprintf(why, sizeof(why), "STREAMON: %s", strerror(errno));
	for (i = 0; i < 2 && ok; i++) {
		ok = dq_import(&fr, why, sizeof(why));
		if (!ok)
			break;
		buffer_planes(fr.buf.index, planes);
		ok = frame_in(planes, fr.buf.sequence, why, sizeof(why));
		got |= 1 << fr.buf.index;
	}
	if (ok && got != 3) {
		snprintf(why, sizeof(why), "dequeued buffers mask 0x%x", got);
		ok = false;
	}
	if (!tap_ok(ok, "dmabuf: read-only and write-only queued buffers both get frames"))
		tap_diag("%s", why);
	importer_stop();
	close_if(ro);
	close_if(wo);
}

/* Capture size rules: dma-buf size and the plane length passed. */
static void capture_sizes(void)
{
	struct plane_req req = { .fd = pool[0].fd };
	struct vlib_frame fr;
	size_t page = sysconf(_SC_PAGESIZE);
	int ret;
	bool ok;

	importer_setup(V4L2_PIX_FMT_YUYV, NULL);
	ret = vlib_qbuf_dmabuf(&imp, 0, &small.fd, 1, NULL);
	expect_errno(ret, errno, EINVAL,
		     "dma-buf smaller than sizeimage gets EINVAL");
	req.length = pool[0].size + page;
	ret = qbuf_planes(&imp, 0, &req, 1);
	expect_errno(ret, errno, EINVAL,
		     "length beyond the dma-buf size gets EINVAL");
	req.length = fmt.sizeimage[0] - 2;
	ret = qbuf_planes(&imp, 0, &req, 1);
	expect_errno(ret, errno, EINVAL, "length below sizeimage gets EINVAL");
	tap_ok(dequeued(&imp, 0, &fr),
	       "dmabuf: buffer stays dequeued after size refusals");

	req.length = 0;
	ret = qbuf_planes(&imp, 0, &req, 1);
	if (ret)
		tap_diag("QBUF length 0: %s", strerror(errno));
	ok = !ret && !vlib_querybuf(&imp, 0, &fr) &&
	     fr.length[0] == pool[0].size;
	if (!tap_ok(ok, "dmabuf: length 0 takes the dma-buf size") && !ret)
		tap_diag("QUERYBUF length %u, dma-buf size %zu", fr.length[0],
			 pool[0].size);

	req.fd = pool[1].fd;
	req.length = fmt.sizeimage[0];
	ret = qbuf_planes(&imp, 1, &req, 1);
	if (ret)
		tap_diag("QBUF length sizeimage: %s", strerror(errno));
	ok = !ret && !vlib_querybuf(&imp, 1, &fr) &&
	     fr.length[0] == fmt.sizeimage[0];
	if (!tap_ok(ok, "dmabuf: length passed with the plane is kept") && !ret)
		tap_diag("QUERYBUF length %u, passed %u", fr.length[0],
			 fmt.sizeimage[0]);
	importer_stop();
}

/*
 * Descriptors that are not open or not dma-bufs; then, on the same DMABUF
 * queue, mmap() and EXPBUF, which it refuses.
 */
static void bad_fds(void)
{
	struct vlib_frame before, after;
	int ret, err, fd, pipe_fds[2] = { -1, -1 };
	bool ok;
	void *m;

	importer_setup(V4L2_PIX_FMT_YUYV, NULL);
	if (vlib_querybuf(&imp, 0, &before))
		tap_diag("QUERYBUF 0: %s", strerror(errno));

	fd = -1;
	ret = vlib_qbuf_dmabuf(&imp, 0, &fd, 1, NULL);
	expect_errno(ret, errno, EBADF, "fd -1 gets EBADF");
	fd = dup(pool[0].fd);
	close_if(fd);
	ret = vlib_qbuf_dmabuf(&imp, 0, &fd, 1, NULL);
	expect_errno(ret, errno, EBADF, "closed fd gets EBADF");
	if (pipe(pipe_fds))
		tap_diag("pipe: %s", strerror(errno));
	ret = vlib_qbuf_dmabuf(&imp, 0, &pipe_fds[0], 1, NULL);
	expect_errno(ret, errno, EINVAL, "pipe fd gets EINVAL");
	close_if(pipe_fds[0]);
	close_if(pipe_fds[1]);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ret = vlib_qbuf_dmabuf(&imp, 0, &fd, 1, NULL);
	expect_errno(ret, errno, EINVAL, "/dev/null fd gets EINVAL");
	close_if(fd);
	fd = memfd_create("dmabuf-test", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, pool[0].size))
		tap_diag("ftruncate memfd: %s", strerror(errno));
	ret = vlib_qbuf_dmabuf(&imp, 0, &fd, 1, NULL);
	expect_errno(ret, errno, EINVAL, "memfd gets EINVAL");
	close_if(fd);
	ret = vlib_qbuf_dmabuf(&imp, 0, &imp.fd, 1, NULL);
	expect_errno(ret, errno, EINVAL, "video node fd gets EINVAL");

	ok = dequeued(&imp, 0, &after) &&
	     frame_fd(&imp, &after, 0) == frame_fd(&imp, &before, 0) &&
	     after.length[0] == before.length[0];
	if (!tap_ok(ok, "dmabuf: buffer unchanged after bad fds"))
		tap_diag("fd %d length %u, before %d %u",
			 frame_fd(&imp, &after, 0), after.length[0],
			 frame_fd(&imp, &before, 0), before.length[0]);
	ret = vlib_qbuf_dmabuf(&imp, 0, &pool[0].fd, 1, NULL);
	expect_ok(ret, errno, "good fd queues after bad fds");

	m = mmap(NULL, fmt.sizeimage[0], PROT_READ, MAP_SHARED, imp.fd, 0);
	err = errno;
	expect_errno(m == MAP_FAILED ? -1 : 0, err, EINVAL,
		     "mmap of a DMABUF queue gets EINVAL");
	if (m != MAP_FAILED)
		munmap(m, fmt.sizeimage[0]);
	fd = vlib_expbuf(&imp, 0, 0, O_CLOEXEC | O_RDWR);
	expect_errno(fd, errno, EINVAL, "EXPBUF on a DMABUF queue gets EINVAL");
	close_if(fd);
	importer_stop();
}

/* The same dma-buf again, then a different one, at index 0. */
static void reuse_replace(void)
{
	struct dbuf *a = &pool[0], *b = &pool[1];
	struct vlib_frame fr, q;
	char why[300] = "no frame";
	bool ok;

	importer_setup(V4L2_PIX_FMT_YUYV, NULL);
	dbuf_write(a, NULL, 0, FILL_BYTE);
	ok = !vlib_qbuf_dmabuf(&imp, 0, &a->fd, 1, NULL) &&
	     !vlib_streamon(&imp);
	if (!ok)
		snprintf(why, sizeof(why), "first QBUF or STREAMON: %s",
			 strerror(errno));
	ok = ok && dq_import(&fr, why, sizeof(why)) &&
	     frame_in(&a, fr.buf.sequence, why, sizeof(why));
	if (!tap_ok(ok, "dmabuf: single buffer captures into its dma-buf"))
		tap_diag("%s", why);

	dbuf_write(a, NULL, 0, FILL_BYTE);
	ok = !vlib_qbuf_dmabuf(&imp, 0, &a->fd, 1, NULL);
	if (!ok)
		snprintf(why, sizeof(why), "QBUF again: %s", strerror(errno));
	ok = ok && dq_import(&fr, why, sizeof(why));
	if (ok && frame_fd(&imp, &fr, 0) != a->fd) {
		snprintf(why, sizeof(why), "DQBUF fd %d, queued %d",
			 frame_fd(&imp, &fr, 0), a->fd);
		ok = false;
	}
	ok = ok && frame_in(&a, fr.buf.sequence, why, sizeof(why));
	if (!tap_ok(ok, "dmabuf: same dma-buf requeued at the same index gets the frame"))
		tap_diag("%s", why);

	dbuf_write(a, NULL, 0, STALE_BYTE);
	dbuf_write(b, NULL, 0, FILL_BYTE);
	ok = !vlib_qbuf_dmabuf(&imp, 0, &b->fd, 1, NULL);
	if (!ok)
		snprintf(why, sizeof(why), "QBUF of another dma-buf: %s",
			 strerror(errno));
	if (ok && (vlib_querybuf(&imp, 0, &q) || frame_fd(&imp, &q, 0) != b->fd)) {
		snprintf(why, sizeof(why), "QUERYBUF fd %d, queued %d",
			 frame_fd(&imp, &q, 0), b->fd);
		ok = false;
	}
	ok = ok && dq_import(&fr, why, sizeof(why));
	if (ok && frame_fd(&imp, &fr, 0) != b->fd) {
		snprintf(why, sizeof(why), "DQBUF fd %d, queued %d",
			 frame_fd(&imp, &fr, 0), b->fd);
		ok = false;
	}
	if (!tap_ok(ok, "dmabuf: another dma-buf at the same index replaces the old one"))
		tap_diag("%s", why);
	ok = ok && frame_in(&b, fr.buf.sequence, why, sizeof(why));
	if (!tap_ok(ok, "dmabuf: frame lands in the replacing dma-buf"))
		tap_diag("%s", why);
	tap_ok(dbuf_all(a, STALE_BYTE),
	       "dmabuf: replaced dma-buf is not written any more");
	importer_stop();
}

/* One output DQBUF: the fd, length and bytesused queued with it in @req. */
static bool out_frame_ok(const struct vlib_frame *fr,
			 const struct plane_req *req, char *why, size_t len)
{
	const struct plane_req *r = &req[fr->buf.index];
	unsigned int length = r->length ? r->length : pool[0].size;

	if (frame_fd(&out, fr, 0) == r->fd && fr->bytesused[0] == r->bytesused &&
	    fr->length[0] == length)
		return true;
	snprintf(why, len,
		 "buffer %u: fd %d bytesused %u length %u, queued %d %u %u",
		 fr->buf.index, frame_fd(&out, fr, 0), fr->bytesused[0],
		 fr->length[0], r->fd, r->bytesused, length);
	return false;
}

/* Captures frames until one equals @expect; false after @tries. */
static bool loop_frame_seen(struct vlib_buf *cap, const unsigned char *expect,
			    int tries, char *why, size_t len)
{
	struct vlib_frame fr;
	int i;

	if (!expect) {
		snprintf(why, len, "out of memory");
		return false;
	}
	for (i = 0; i < tries; i++) {
		if (vlib_dqbuf(&imp, V4L2_MEMORY_MMAP, &fr,
			       VLIB_DQBUF_TIMEOUT_MS) || fr.buf.index >= NBUFS) {
			snprintf(why, len, "capture DQBUF: %s", strerror(errno));
			return false;
		}
		if (cap[fr.buf.index].start[0] &&
		    !memcmp(cap[fr.buf.index].start[0], expect,
			    fmt.sizeimage[0]))
			return true;
		if (vlib_qbuf_mmap(&imp, fr.buf.index)) {
			snprintf(why, len, "capture QBUF: %s", strerror(errno));
			return false;
		}
	}
	snprintf(why, len, "no looped frame in %d capture frames", tries);
	return false;
}

/*
 * Streams the output queue, its buffers queued as @req, while the
 * capture node captures the looped back frame, which must equal @expect.
 */
static void output_stream(struct plane_req *req, const unsigned char *expect)
{
	char why[300] = "", meta[300] = "", loop_why[300] = "not started";
	bool streamed = false, seq_ok = true, meta_ok = true, looped = false;
	struct vlib_buf cap[NBUFS];
	struct vlib_frame fr;
	int i, n;

	memset(cap, 0, sizeof(cap));
	n = vlib_reqbufs(&imp, V4L2_MEMORY_MMAP, NBUFS, NULL);
	for (i = 0; i < n && i < NBUFS; i++)
		if (vlib_mmap_buf(&imp, i, &cap[i]) || vlib_qbuf_mmap(&imp, i))
			tap_diag("capture buffer %d: %s", i, strerror(errno));
	if (vlib_set_ctrl(&imp, CID_LOOPBACK, 1))
		tap_diag("Loopback control: %s", strerror(errno));
	streamed = !vlib_streamon(&out) && !vlib_streamon(&imp);
	if (!streamed)
		snprintf(why, sizeof(why), "STREAMON: %s", strerror(errno));
	for (i = 0; i < OUT_FRAMES && streamed; i++) {
		if (vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr,
			       VLIB_DQBUF_TIMEOUT_MS) || fr.buf.index >= NBUFS) {
			snprintf(why, sizeof(why), "output DQBUF %d: %s", i,
				 strerror(errno));
			streamed = false;
			break;
		}
		if (seq_ok && fr.buf.sequence != (unsigned int)i) {
			snprintf(why, sizeof(why), "sequence %u, expected %d",
				 fr.buf.sequence, i);
			seq_ok = false;
		}
		if (meta_ok)
			meta_ok = out_frame_ok(&fr, req, meta, sizeof(meta));
		if (qbuf_planes(&out, fr.buf.index, &req[fr.buf.index], 1)) {
			snprintf(why, sizeof(why), "output requeue: %s",
				 strerror(errno));
			streamed = false;
		}
		if (!looped && i >= 1)
			looped = loop_frame_seen(cap, expect, 1, loop_why,
						 sizeof(loop_why));
	}
	if (streamed && !looped)
		looped = loop_frame_seen(cap, expect, LOOP_FRAMES, loop_why,
					 sizeof(loop_why));
	if (!tap_ok(streamed && seq_ok,
		    "dmabuf: output DQBUF sequence counts 0, 1, 2, ..."))
		tap_diag("%s", why);
	if (!tap_ok(streamed && meta_ok,
		    "dmabuf: output DQBUF returns the fd, length and bytesused queued"))
		tap_diag("%s", streamed ? meta : why);
	if (!tap_ok(looped,
		    "dmabuf: loopback capture shows the frame the output read from its dma-buf"))
		tap_diag("%s", loop_why);
	vlib_streamoff(&out);
	vlib_streamoff(&imp);
	vlib_set_ctrl(&imp, CID_LOOPBACK, 0);
	for (i = 0; i < NBUFS; i++)
		vlib_unmap_buf(&cap[i]);
	vlib_reqbufs(&imp, V4L2_MEMORY_MMAP, 0, NULL);
}

/*
 * Imports into the output queue of the node's instance: access and
 * payload rules, then streaming.
 */
static void output_import(void)
{
	struct vlib_pattern pat = { .hflip = 1, .sequence = OUT_SEQUENCE };
	struct plane_req req[NBUFS], bad;
	struct vlib_frame fr;
	unsigned char *expect;
	unsigned int caps = 0, size;
	int ro0, ro1, wo, count, ret, i;

	vlib_streamoff(&imp);
	vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, 0, NULL);
	vlib_streamoff(&out);
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	if (vlib_set_fmt(&imp, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt) ||
	    vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, NULL))
		tap_diag("S_FMT: %s", strerror(errno));
	size = fmt.sizeimage[0];
	count = vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, NBUFS, &caps);
	if (!tap_ok(count >= NBUFS && (caps & V4L2_BUF_CAP_SUPPORTS_DMABUF),
		    "dmabuf: output reqbufs reports SUPPORTS_DMABUF"))
		tap_diag("count %d capabilities 0x%x", count, caps);

	expect = calloc(1, size);
	if (expect)
		pattern_fill(&fmt, &pat, &expect);
	for (i = 0; i < NBUFS; i++)
		dbuf_write(&pool[i], expect, size, 0);
	ro0 = export_fd(0, O_RDONLY);
	ro1 = export_fd(1, O_RDONLY);
	wo = export_fd(2, O_WRONLY);
	req[0] = (struct plane_req){ .fd = ro0, .bytesused = size };
	req[1] = (struct plane_req){ .fd = ro1, .bytesused = size - SHORT_BY };
	req[2] = (struct plane_req){ .fd = pool[2].fd, .bytesused = size };
	req[3] = (struct plane_req){ .fd = pool[3].fd, .length = size,
				     .bytesused = size - 2 * SHORT_BY };

	bad = (struct plane_req){ .fd = wo, .bytesused = size };
	ret = qbuf_planes(&out, 0, &bad, 1);
	expect_errno(ret, errno, EACCES,
		     "output refuses a write-only dma-buf with EACCES");
	tap_ok(dequeued(&out, 0, &fr),
	       "dmabuf: output buffer stays dequeued after EACCES");
	bad = (struct plane_req){ .fd = pool[2].fd, .length = size,
				  .bytesused = size + 1 };
	ret = qbuf_planes(&out, 0, &bad, 1);
	expect_errno(ret, errno, EINVAL,
		     "output bytesused beyond length gets EINVAL");
	if (out.mplane) {
		bad = (struct plane_req){ .fd = pool[2].fd, .bytesused = size,
					  .data_offset = size };
		ret = qbuf_planes(&out, 0, &bad, 1);
		expect_errno(ret, errno, EINVAL,
			     "output data_offset not below bytesused gets EINVAL");
	} else {
		tap_skip("single-planar API has no data_offset",
			 "dmabuf: output data_offset not below bytesused gets EINVAL");
	}
	tap_ok(dequeued(&out, 0, &fr),
	       "dmabuf: output buffer stays dequeued after EINVAL");

	ret = qbuf_planes(&out, 0, &req[0], 1);
	if (!ret)
		ret = qbuf_planes(&out, 1, &req[1], 1);
	expect_ok(ret, errno, "output accepts read-only dma-bufs");
	ret = qbuf_planes(&out, 2, &req[2], 1);
	if (!ret)
		ret = qbuf_planes(&out, 3, &req[3], 1);
	expect_ok(ret, errno, "output accepts read-write dma-bufs");

	output_stream(req, expect);
	if (vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL))
		tap_diag("output REQBUFS(0): %s", strerror(errno));
	close_if(ro0);
	close_if(ro1);
	close_if(wo);
	free(expect);
}

/* The dma-buf capture buffer @index imports in shared_import(). */
static int shared_fd(unsigned int index)
{
	return pool[index == NBUFS - 1 ? 0 : index].fd;
}

/* One output buffer of shared_import() dequeued and queued again. */
static bool shared_play(unsigned int size, char *why, size_t len)
{
	struct plane_req req = { .bytesused = size };
	struct vlib_frame fr;

	if (vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr, VLIB_DQBUF_TIMEOUT_MS) ||
	    fr.buf.index >= NBUFS) {
		snprintf(why, len, "output DQBUF: %s", strerror(errno));
		return false;
	}
	req.fd = shared_fd(fr.buf.index);
	if ((fr.buf.flags & V4L2_BUF_FLAG_ERROR) ||
	    qbuf_planes(&out, fr.buf.index, &req, 1)) {
		snprintf(why, len, "output buffer %u: flags 0x%x, requeue: %s",
			 fr.buf.index, fr.buf.flags, strerror(errno));
		return false;
	}
	return true;
}

/*
 * One dma-buf in several queues at once: capture buffers 0 and NBUFS - 1
 * import the same dma-buf, and the instance's output queue imports the
 * dma-buf of every capture buffer, while both queues stream. The exporter
 * then has two attachments of one memory mapped for the device writing
 * and one mapped for it reading, all at the same time (DMA-API debugging
 * checks those mappings on the debug kernel). Both queues must go on
 * completing buffers without error, and the capture buffers that have
 * their dma-buf to themselves must hold the pattern.
 */
static void shared_import(void)
{
	char why[300] = "";
	struct plane_req req = { 0 };
	struct vlib_frame fr;
	int i, captured = 0, played = 0;
	bool ok;

	ok = importer_setup(V4L2_PIX_FMT_YUYV, NULL) >= NBUFS;
	if (!ok)
		snprintf(why, sizeof(why), "capture setup: %s", strerror(errno));
	vlib_streamoff(&out);
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	req.bytesused = fmt.sizeimage[0];
	if (ok && (vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, NULL) ||
		   vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, NBUFS, NULL) < NBUFS)) {
		snprintf(why, sizeof(why), "output S_FMT or REQBUFS: %s",
			 strerror(errno));
		ok = false;
	}
	for (i = 0; ok && i < NBUFS; i++) {
		req.fd = shared_fd(i);
		if (qbuf_planes(&imp, i, &req, 1) || qbuf_planes(&out, i, &req, 1)) {
			snprintf(why, sizeof(why), "QBUF %d: %s", i,
				 strerror(errno));
			ok = false;
		}
	}
	if (ok && (vlib_streamon(&out) || vlib_streamon(&imp))) {
		snprintf(why, sizeof(why), "STREAMON: %s", strerror(errno));
		ok = false;
	}
	while (ok && (captured < SHARED_FRAMES || played < SHARED_FRAMES)) {
		if (captured < SHARED_FRAMES) {
			/* Check the frame before the buffer goes back. */
			if (vlib_dqbuf(&imp, V4L2_MEMORY_DMABUF, &fr,
				       VLIB_DQBUF_TIMEOUT_MS) ||
			    fr.buf.index >= NBUFS) {
				snprintf(why, sizeof(why), "capture DQBUF: %s",
					 strerror(errno));
				ok = false;
				break;
			}
			if (fr.buf.index != 0 && fr.buf.index != NBUFS - 1 &&
			    !frame_in((struct dbuf *[]){ &pool[fr.buf.index] },
				      fr.buf.sequence, why, sizeof(why))) {
				ok = false;
				break;
			}
			req.fd = shared_fd(fr.buf.index);
			if ((fr.buf.flags & V4L2_BUF_FLAG_ERROR) ||
			    qbuf_planes(&imp, fr.buf.index, &req, 1)) {
				snprintf(why, sizeof(why),
					 "capture buffer %u: flags 0x%x, requeue: %s",
					 fr.buf.index, fr.buf.flags,
					 strerror(errno));
				ok = false;
				break;
			}
			captured++;
		}
		if (played < SHARED_FRAMES) {
			ok = shared_play(req.bytesused, why, sizeof(why));
			played++;
		}
	}
	if (!tap_ok(ok, "dmabuf: one dma-buf in 2 capture buffers and 1 output buffer: all stream"))
		tap_diag("%s (%d captured, %d played)", why, captured, played);
	vlib_streamoff(&out);
	vlib_streamoff(&imp);
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, 0, NULL);
}

/*
 * An import outlives the closed descriptor it came from (the frame is read
 * through another export of the same memory) and the exporter's
 * REQBUFS(0); after the importer frees its buffers both nodes still
 * stream.
 */
static void lifetime(void)
{
	struct dbuf *planes[VLIB_MAX_PLANES];
	struct dbuf *kept = &pool[NBUFS - 1];
	char why[300] = "no frame";
	struct vlib_frame fr;
	int fd, ret, i;
	bool ok;

	importer_setup(V4L2_PIX_FMT_YUYV, NULL);
	dbuf_write(kept, NULL, 0, FILL_BYTE);
	fd = export_fd(NBUFS - 1, O_RDWR);
	ok = !vlib_qbuf_dmabuf(&imp, 0, &fd, 1, NULL);
	close_if(fd);
	for (i = 1; ok && i < NBUFS - 1; i++)
		ok = !queue_pool(&imp, i);
	ok = ok && !vlib_streamon(&imp);
	if (!ok)
		snprintf(why, sizeof(why), "QBUF or STREAMON: %s",
			 strerror(errno));
	ok = ok && dq_import(&fr, why, sizeof(why));
	if (ok && fr.buf.index != 0) {
		snprintf(why, sizeof(why), "first DQBUF index %u", fr.buf.index);
		ok = false;
	}
	ok = ok && frame_in(&kept, fr.buf.sequence, why, sizeof(why));
	if (!tap_ok(ok, "dmabuf: frame arrives after the queued fd was closed"))
		tap_diag("%s", why);

	ret = vlib_reqbufs(&exporter, V4L2_MEMORY_MMAP, 0, NULL);
	expect_ok(ret, errno,
		  "exporter reqbufs 0 while its dma-bufs are imported");
	ok = !queue_pool(&imp, 0);
	if (!ok)
		snprintf(why, sizeof(why), "requeue 0: %s", strerror(errno));
	for (i = 0; ok && i < NBUFS; i++) {
		ok = dq_import(&fr, why, sizeof(why));
		if (!ok)
			break;
		buffer_planes(fr.buf.index, planes);
		ok = frame_in(planes, fr.buf.sequence, why, sizeof(why));
		if (ok && queue_pool(&imp, fr.buf.index)) {
			snprintf(why, sizeof(why), "requeue %u: %s",
				 fr.buf.index, strerror(errno));
			ok = false;
		}
	}
	if (!tap_ok(ok, "dmabuf: capture completes after the exporter freed its queue"))
		tap_diag("%s", why);

	vlib_streamoff(&imp);
	ret = vlib_reqbufs(&imp, V4L2_MEMORY_DMABUF, 0, NULL);
	expect_ok(ret, errno, "importer reqbufs 0 with orphaned imports");
	for (i = 0; i < POOL_SIZE; i++)
		dbuf_release(&pool[i]);
	dbuf_release(&small);
	if (!tap_ok(!vlib_smoke_stream(&imp, why, sizeof(why)),
		    "dmabuf: importer streams after the imports ended"))
		tap_diag("%s", why);
	if (!tap_ok(!vlib_smoke_stream(&exporter, why, sizeof(why)),
		    "dmabuf: exporter streams after the imports ended"))
		tap_diag("%s", why);
}

/* Finds and opens the exporter and the output node; false if not. */
static bool open_peers(const char *node)
{
	if (imp.output) {
		tap_diag("%s is not a vivid-expbuf capture node", node);
		return false;
	}
	if (vlib_find_node("vivid-expbuf-", "-vid-cap", node, exporter_path,
			   sizeof(exporter_path)) ||
	    vlib_find_output(node, output_path, sizeof(output_path))) {
		tap_diag("%s: no other vivid-expbuf capture node or no output node",
			 node);
		return false;
	}
	if (vlib_open(&exporter, exporter_path, 0) ||
	    vlib_open(&out, output_path, 0)) {
		tap_diag("open %s or %s: %s", exporter_path, output_path,
			 strerror(errno));
		return false;
	}
	tap_diag("exporter %s, output %s", exporter_path, output_path);
	return true;
}

int main(int argc, char **argv)
{
	char why[300] = "";
	const char *node;
	unsigned int i;

	for (i = 0; i < POOL_SIZE; i++)
		pool[i].fd = -1;
	small.fd = -1;
	exporter.fd = -1;
	out.fd = -1;
	node = vlib_start(argc, argv, &imp, NULL);
	/*
	 * The peers and the pool 2, capture_import import_checks for YUYV
	 * and (checked or skipped) NM12, capture_access 5, capture_sizes 6,
	 * bad_fds 10, reuse_replace 5, output_import 11 (output_stream 3 of
	 * them), shared_import 1, lifetime 6.
	 */
	tap_plan(2 + 2 * ARRAY_SIZE(import_checks) + 5 + 6 + 10 + 5 + 11 + 1 +
		 6);
	if (!tap_ok(open_peers(node), "dmabuf: exporter and output nodes found")) {
		vlib_close(&imp);
		return tap_done();
	}
	vlib_streamoff(&imp);
	vlib_reqbufs(&imp, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_set_ctrl(&imp, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&imp, V4L2_CID_TEST_PATTERN, 0);
	vlib_set_ctrl(&imp, CID_LOOPBACK, 0);
	vlib_set_fps(&imp, 1, 60);
	vlib_set_fps(&out, 1, 60);
	if (!tap_ok(!pool_create(why, sizeof(why)),
		    "dmabuf: other instance exports the dma-bufs to import"))
		tap_diag("%s", why);

	capture_import(V4L2_PIX_FMT_YUYV);
	if (imp.mplane) {
		capture_import(V4L2_PIX_FMT_NV12M);
	} else {
		for (i = 0; i < ARRAY_SIZE(import_checks); i++)
			tap_skip("single-planar node", "dmabuf: NM12 %s",
				 import_checks[i]);
	}
	capture_access();
	capture_sizes();
	bad_fds();
	reuse_replace();
	output_import();
	shared_import();
	lifetime();

	vlib_set_fps(&imp, 1, 30);
	vlib_set_fps(&out, 1, 30);
	vlib_close(&out);
	vlib_close(&exporter);
	vlib_close(&imp);
	return tap_done();
}
