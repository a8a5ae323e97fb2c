// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-bufs made by foreign exporters in the capture and output queues:
 * vgem dumb buffers exported with DRM PRIME, udmabuf (memfd pages) and the
 * dma-buf system heap. For each exporter and format a frame captured into
 * its buffers is read back through the exporter's own mapping and compared
 * with the pattern, and a buffer filled through that mapping is queued on
 * the output node of the same instance and must come back byte for byte
 * in a capture frame through the Loopback control. A read-only vgem
 * dma-buf must be refused by the capture queue with EACCES and be read by
 * the output queue.
 *
 * udmabuf and the system heap are built into the 6.12 kernels and not
 * configured in 6.1: from 6.12 on a missing device fails its checks, on
 * older kernels they are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/types.h>
#include <linux/udmabuf.h>

#include "v4l2-lib.h"
#include "vgem-lib.h"

#define WIDTH		160
#define HEIGHT		120
#define CAP_BUFS	2
#define LOOP_CAP_BUFS	4
#define CID_LOOPBACK	(V4L2_CID_USER_BASE | 0xf000)
#define FILL_BYTE	0xa5
#define NAME_LEN	160
#define WHY_LEN		400
#define UDMABUF_DEV	"/dev/udmabuf"
#define HEAP_DEV	"/dev/dma_heap/system"
#define MAX_FORMATS	2

/**
 * struct fbuf - one foreign dma-buf and the exporter's view of its memory
 * @dmabuf: the dma-buf file descriptor, -1 when none
 * @view: mapping of the memory that does not go through vivid-expbuf: the
 *	vgem dumb mapping, the memfd behind a udmabuf, the heap dma-buf itself
 * @size: size of the dma-buf and of @view
 * @memfd: udmabuf only: the memfd that holds the pages, else -1
 */
struct fbuf {
	int dmabuf;
	uint8_t *view;
	size_t size;
	int memfd;
};

/* The buffers of one frame: one dma-buf per plane. */
struct fset {
	struct fbuf plane[VLIB_MAX_PLANES];
	unsigned int num_planes;
};

/**
 * struct exporter - a source of foreign dma-bufs
 * @name: short name used in the TAP descriptions
 * @dev: the exporter's device (vgem card, udmabuf, heap), -1 if missing
 * @missing: why @dev is -1
 * @required: true if a missing exporter fails its checks, false if they
 *	are skipped
 * @alloc: makes a dma-buf of at least @size bytes with @b->view mapping
 *	its memory; returns 0, or -1 with @why set. The dma-buf file is
 *	read-only when @rw is false, which only vgem honours (the tests ask
 *	the others for writable ones only)
 */
struct exporter {
	const char *name;
	int dev;
	char missing[128];
	bool required;
	int (*alloc)(struct exporter *e, struct fbuf *b, size_t size, bool rw,
		     char *why, size_t len);
};

static struct vlib_dev cap, out;
static bool have_out;
static char out_path[64];
static size_t page;
static bool kernel_612;

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

static size_t page_round(size_t n)
{
	return (n + page - 1) / page * page;
}

static void fbuf_init(struct fbuf *b)
{
	memset(b, 0, sizeof(*b));
	b->dmabuf = -1;
	b->memfd = -1;
}

static void fbuf_release(struct fbuf *b)
{
	if (b->view)
		munmap(b->view, b->size);
	close_if(b->dmabuf);
	close_if(b->memfd);
	fbuf_init(b);
}

/* ------------------------------------------------------------ exporters */

static int vgem_alloc(struct exporter *e, struct fbuf *b, size_t size,
		      bool rw, char *why, size_t len)
{
	uint32_t width = 4096, handle;
	uint64_t got;
	void *view;
	int ret = -1;

	if (vgem_create(e->dev, width, (size + width - 1) / width, 8, &handle,
			&got)) {
		snprintf(why, len, "vgem MODE_CREATE_DUMB of %zu bytes: %s",
			 size, strerror(errno));
		return -1;
	}
	if (got < size) {
		snprintf(why, len, "vgem dumb buffer of %llu bytes, asked %zu",
			 (unsigned long long)got, size);
		goto close_handle;
	}
	view = vgem_map(e->dev, handle, got);
	if (view == MAP_FAILED) {
		snprintf(why, len, "mmap of the vgem dumb buffer: %s",
			 strerror(errno));
		goto close_handle;
	}
	b->dmabuf = vgem_export(e->dev, handle, rw);
	if (b->dmabuf < 0) {
		snprintf(why, len, "vgem PRIME_HANDLE_TO_FD: %s",
			 strerror(errno));
		munmap(view, got);
		goto close_handle;
	}
	b->view = view;
	b->size = got;
	ret = 0;
close_handle:
	/* The dma-buf and the mapping hold the object; the handle can go. */
	vgem_close_handle(e->dev, handle);
	return ret;
}

static int udmabuf_alloc(struct exporter *e, struct fbuf *b, size_t size,
			 bool rw, char *why, size_t len)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	int fd;

	(void)rw;
	size = page_round(size);
	b->memfd = memfd_create("test-foreign", MFD_ALLOW_SEALING |
				MFD_CLOEXEC);
	if (b->memfd < 0) {
		snprintf(why, len, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(b->memfd, size) ||
	    fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		snprintf(why, len, "memfd of %zu bytes sealed against shrinking: %s",
			 size, strerror(errno));
		goto fail;
	}
	b->view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       b->memfd, 0);
	if (b->view == MAP_FAILED) {
		b->view = NULL;
		snprintf(why, len, "mmap of the memfd: %s", strerror(errno));
		goto fail;
	}
	b->size = size;
	create.memfd = b->memfd;
	create.size = size;
	fd = xioctl(e->dev, UDMABUF_CREATE, &create);
	if (fd < 0) {
		snprintf(why, len, "UDMABUF_CREATE of %zu bytes: %s", size,
			 strerror(errno));
		goto fail;
	}
	b->dmabuf = fd;
	return 0;
fail:
	fbuf_release(b);
	return -1;
}

static int heap_alloc(struct exporter *e, struct fbuf *b, size_t size,
		      bool rw, char *why, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *view;

	(void)rw;
	if (xioctl(e->dev, DMA_HEAP_IOCTL_ALLOC, &data)) {
		snprintf(why, len, "DMA_HEAP_IOCTL_ALLOC of %zu bytes: %s",
			 size, strerror(errno));
		return -1;
	}
	b->dmabuf = data.fd;
	view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->dmabuf,
		    0);
	if (view == MAP_FAILED) {
		snprintf(why, len, "mmap of the heap dma-buf: %s",
			 strerror(errno));
		fbuf_release(b);
		return -1;
	}
	b->view = view;
	b->size = size;
	return 0;
}

static void exporter_open(struct exporter *e, const char *path)
{
	e->dev = open(path, O_RDONLY | O_CLOEXEC);
	if (e->dev >= 0)
		return;
	snprintf(e->missing, sizeof(e->missing), "no %s (%s)%s", path,
		 strerror(errno),
		 e->required ? "" : ": not configured before 6.12");
}

/* ----------------------------------------------------------- buffer sets */

static void fset_release(struct fset *s)
{
	unsigned int p;

	for (p = 0; p < VLIB_MAX_PLANES; p++)
		fbuf_release(&s->plane[p]);
	s->num_planes = 0;
}

/* One foreign dma-buf per plane of @f, each at least as large as the plane. */
static int fset_alloc(struct exporter *e, const struct vlib_fmt *f, bool rw,
		      struct fset *s, char *why, size_t len)
{
	unsigned int p;

	memset(s, 0, sizeof(*s));
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		fbuf_init(&s->plane[p]);
	s->num_planes = f->num_planes;
	for (p = 0; p < f->num_planes; p++) {
		if (e->alloc(e, &s->plane[p], f->sizeimage[p], rw, why, len)) {
			fset_release(s);
			return -1;
		}
	}
	return 0;
}

static void fset_fds(const struct fset *s, int fds[])
{
	unsigned int p;

	for (p = 0; p < s->num_planes; p++)
		fds[p] = s->plane[p].dmabuf;
}

/* Brackets CPU access to the views with DMA_BUF_IOCTL_SYNC. */
static int fset_sync(const struct fset *s, uint64_t flags, char *why,
		     size_t len)
{
	unsigned int p;

	for (p = 0; p < s->num_planes; p++) {
		struct dma_buf_sync sync = { .flags = flags };

		if (xioctl(s->plane[p].dmabuf, DMA_BUF_IOCTL_SYNC, &sync)) {
			snprintf(why, len, "DMA_BUF_IOCTL_SYNC 0x%llx plane %u: %s",
				 (unsigned long long)flags, p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Fills the views with FILL_BYTE, then writes the sizeimage bytes of
 * @data[p] (unless @data is NULL) at the start of each plane.
 */
static int fset_write(const struct fset *s, const struct vlib_fmt *f,
		      uint8_t *const data[], char *why, size_t len)
{
	unsigned int p;

	if (fset_sync(s, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, why, len))
		return -1;
	for (p = 0; p < s->num_planes; p++) {
		const struct fbuf *b = &s->plane[p];

		memset(b->view, FILL_BYTE, b->size);
		if (data)
			memcpy(b->view, data[p], f->sizeimage[p]);
	}
	return fset_sync(s, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, why, len);
}

/* -------------------------------------------------------- test helpers */

static bool kernel_at_least_612(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 12);
}

/* Formats per node: YUYV, and NV12M with two dma-bufs on multi-planar. */
static unsigned int node_formats(uint32_t fourccs[])
{
	fourccs[0] = V4L2_PIX_FMT_YUYV;
	if (!cap.mplane)
		return 1;
	fourccs[1] = V4L2_PIX_FMT_NV12M;
	return 2;
}

static void check_name(char *name, const char *label, uint32_t fourcc,
		       const char *what)
{
	char fc[5];

	snprintf(name, NAME_LEN, "foreign: %s %s %s", label,
		 vlib_fourcc_str(fourcc, fc), what);
}

/* The exporter is missing: its checks fail or are skipped, by kernel. */
static bool exporter_absent(const struct exporter *e, char names[][NAME_LEN],
			    unsigned int n)
{
	unsigned int i;

	if (e->dev >= 0)
		return false;
	for (i = 0; i < n; i++) {
		if (e->required) {
			tap_ok(false, "%s", names[i]);
			tap_diag("%s", e->missing);
		} else {
			tap_skip(e->missing, "%s", names[i]);
		}
	}
	return true;
}

/*
 * Set when our importer refused the exporter's dma-bufs with EOPNOTSUPP:
 * the exporter gives no kernel mapping (6.1's udmabuf has no vmap), which
 * the device needs. The checks of that exporter are then skipped with the
 * reason, not failed: the driver said clearly that it cannot work with
 * that exporter. Reset by stop_all() at the start of each check group.
 */
static bool unusable;

/* A QBUF of foreign dma-bufs failed: why, and whether it means unusable. */
static void qbuf_failed(const char *what, char *why, size_t len)
{
	int err = errno;

	if (err == EOPNOTSUPP) {
		unusable = true;
		snprintf(why, len,
			 "exporter gives no kernel mapping: %s refused with EOPNOTSUPP",
			 what);
		return;
	}
	snprintf(why, len, "%s: %s", what, strerror(err));
}

static void report(bool ok, const char *name, const char *why)
{
	if (!ok && unusable) {
		tap_skip(why, "%s", name);
		return;
	}
	if (!tap_ok(ok, "%s", name))
		tap_diag("%s", why);
}

static void stop_all(void)
{
	unusable = false;
	vlib_streamoff(&cap);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_reqbufs(&cap, V4L2_MEMORY_DMABUF, 0, NULL);
	if (!have_out)
		return;
	vlib_streamoff(&out);
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
}

static int plane_fd(const struct vlib_frame *fr, unsigned int p)
{
	return cap.mplane ? fr->planes[p].m.fd : fr->buf.m.fd;
}

/*
 * Checks a DMABUF capture frame: buffer index, no error flag, one queued
 * dma-buf per plane reported back, bytesused = sizeimage.
 */
static bool frame_ok(const struct vlib_frame *fr, const struct vlib_fmt *f,
		     const struct fset sets[], char *why, size_t len)
{
	unsigned int p;

	if (fr->buf.index >= CAP_BUFS) {
		snprintf(why, len, "DQBUF index %u, only 0..%u queued",
			 fr->buf.index, CAP_BUFS - 1);
		return false;
	}
	if (fr->buf.flags & V4L2_BUF_FLAG_ERROR) {
		snprintf(why, len, "DQBUF flags 0x%x carry ERROR",
			 fr->buf.flags);
		return false;
	}
	for (p = 0; p < f->num_planes; p++) {
		int fd = sets[fr->buf.index].plane[p].dmabuf;

		if (plane_fd(fr, p) != fd) {
			snprintf(why, len, "plane %u: DQBUF fd %d, queued %d",
				 p, plane_fd(fr, p), fd);
			return false;
		}
		if (fr->bytesused[p] != f->sizeimage[p]) {
			snprintf(why, len, "plane %u: bytesused %u, sizeimage %u",
				 p, fr->bytesused[p], f->sizeimage[p]);
			return false;
		}
	}
	return true;
}

/* ----------------------------------------------------- capture import */

/*
 * Captures one frame into foreign dma-bufs and reads it back through the
 * exporter's view, where it must be the pattern of its sequence number.
 */
static void capture_import(struct exporter *e, uint32_t fourcc)
{
	char names[2][NAME_LEN], why[WHY_LEN] = "", msg[WHY_LEN] = "";
	struct fset sets[CAP_BUFS];
	struct vlib_pattern pat = { 0 };
	void *views[VLIB_MAX_PLANES];
	struct vlib_frame fr;
	struct vlib_fmt f;
	bool streamed = false, ok = false;
	unsigned int i, p, n = 0;
	int fds[VLIB_MAX_PLANES];

	check_name(names[0], e->name, fourcc, "capture import streams a frame");
	check_name(names[1], e->name, fourcc,
		   "capture frame in the exporter's mapping is the pattern");
	if (exporter_absent(e, names, 2))
		return;
	stop_all();
	if (vlib_set_fmt(&cap, fourcc, WIDTH, HEIGHT, &f)) {
		snprintf(why, sizeof(why), "capture S_FMT: %s",
			 strerror(errno));
		goto report;
	}
	for (n = 0; n < CAP_BUFS; n++) {
		if (fset_alloc(e, &f, true, &sets[n], why, sizeof(why)))
			goto report;
		if (fset_write(&sets[n], &f, NULL, why, sizeof(why))) {
			fset_release(&sets[n]);
			goto report;
		}
	}
	if (vlib_reqbufs(&cap, V4L2_MEMORY_DMABUF, CAP_BUFS, NULL) < CAP_BUFS) {
		snprintf(why, sizeof(why), "REQBUFS(DMABUF, %d): %s", CAP_BUFS,
			 strerror(errno));
		goto report;
	}
	for (i = 0; i < CAP_BUFS; i++) {
		fset_fds(&sets[i], fds);
		if (vlib_qbuf_dmabuf(&cap, i, fds, f.num_planes, NULL)) {
			qbuf_failed("QBUF", why, sizeof(why));
			goto report;
		}
	}
	if (vlib_streamon(&cap)) {
		snprintf(why, sizeof(why), "STREAMON: %s", strerror(errno));
		goto report;
	}
	if (vlib_dqbuf(&cap, V4L2_MEMORY_DMABUF, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, sizeof(why), "DQBUF: %s", strerror(errno));
		goto report;
	}
	streamed = frame_ok(&fr, &f, sets, why, sizeof(why));
report:
	vlib_streamoff(&cap);
	report(streamed, names[0], why);
	if (streamed) {
		struct fset *s = &sets[fr.buf.index];

		pat.sequence = fr.buf.sequence;
		for (p = 0; p < f.num_planes; p++)
			views[p] = s->plane[p].view;
		ok = !fset_sync(s, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, msg,
				sizeof(msg)) &&
		     pattern_check(&f, &pat, views, msg, sizeof(msg));
		fset_sync(s, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ, why,
			  sizeof(why));
	} else {
		snprintf(msg, sizeof(msg), "no frame captured");
	}
	report(ok, names[1], msg);
	vlib_reqbufs(&cap, V4L2_MEMORY_DMABUF, 0, NULL);
	for (i = 0; i < n; i++)
		fset_release(&sets[i]);
}

/* ----------------------------------------------------- output loopback */

static uint8_t *random_plane(size_t size, uint32_t seed)
{
	uint8_t *buf = malloc(size);
	uint32_t x = seed | 1;
	size_t i;

	if (!buf)
		return NULL;
	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x >> 24;
	}
	return buf;
}

/* Compares the first sizeimage bytes of each plane with what was written. */
static bool same_frame(const struct vlib_fmt *f, struct vlib_buf *got,
		       uint8_t *const want[], char *why, size_t len)
{
	unsigned int p;
	size_t i, bad, first;

	for (p = 0; p < f->num_planes; p++) {
		const uint8_t *g = got->start[p];

		bad = 0;
		first = 0;
		for (i = 0; i < f->sizeimage[p]; i++) {
			if (g[i] == want[p][i])
				continue;
			if (!bad)
				first = i;
			bad++;
		}
		if (bad) {
			snprintf(why, len,
				 "plane %u: %zu of %u bytes differ from those written, first at offset %zu: wrote 0x%02x, captured 0x%02x",
				 p, bad, f->sizeimage[p], first, want[p][first],
				 g[first]);
			return false;
		}
	}
	return true;
}

/* Sets both nodes to the format; they must agree for the loopback. */
static int loop_formats(uint32_t fourcc, struct vlib_fmt *f, char *why,
			size_t len)
{
	struct vlib_fmt cf;

	if (vlib_set_fmt(&out, fourcc, WIDTH, HEIGHT, f) ||
	    vlib_set_fmt(&cap, fourcc, WIDTH, HEIGHT, &cf)) {
		snprintf(why, len, "S_FMT: %s", strerror(errno));
		return -1;
	}
	if (f->fourcc != cf.fourcc || f->width != cf.width ||
	    f->height != cf.height || f->num_planes != cf.num_planes) {
		snprintf(why, len, "output and capture formats differ");
		return -1;
	}
	return 0;
}

/* MMAP capture buffers for the looped frames, all queued. */
static int loop_capture_bufs(struct vlib_buf bufs[], int *count, char *why,
			     size_t len)
{
	int n, i;

	n = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, LOOP_CAP_BUFS, NULL);
	if (n < 1) {
		snprintf(why, len, "capture REQBUFS(MMAP): %s",
			 strerror(errno));
		return -1;
	}
	*count = n > LOOP_CAP_BUFS ? LOOP_CAP_BUFS : n;
	for (i = 0; i < *count; i++) {
		if (vlib_mmap_buf(&cap, i, &bufs[i]) || vlib_qbuf_mmap(&cap, i)) {
			snprintf(why, len, "capture buffer %d: %s", i,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Queues foreign dma-bufs filled through the exporter's view on the output
 * node; with Loopback on, the first capture frame must hold their bytes.
 */
static void output_loopback(struct exporter *e, const char *label,
			    uint32_t fourcc, bool rw)
{
	struct vlib_buf bufs[LOOP_CAP_BUFS];
	uint8_t *want[VLIB_MAX_PLANES] = { NULL, NULL };
	char names[2][NAME_LEN], why[WHY_LEN] = "", msg[WHY_LEN] = "";
	bool consumed = false, looped = false, allocated = false;
	int fds[VLIB_MAX_PLANES], count = 0, i;
	struct vlib_frame ofr, cfr;
	struct vlib_fmt f;
	struct fset set;
	unsigned int p;

	memset(bufs, 0, sizeof(bufs));
	check_name(names[0], label, fourcc, "output queue consumes the buffer");
	check_name(names[1], label, fourcc,
		   "output frame loops back to the capture");
	if (exporter_absent(e, names, 2))
		return;
	stop_all();
	if (!have_out) {
		snprintf(why, sizeof(why), "no output node %s", out_path);
		goto report;
	}
	if (loop_formats(fourcc, &f, why, sizeof(why)))
		goto report;
	for (p = 0; p < f.num_planes; p++) {
		want[p] = random_plane(f.sizeimage[p],
				       fourcc + 7919 * p + e->name[0] + rw);
		if (!want[p]) {
			snprintf(why, sizeof(why), "out of memory");
			goto report;
		}
	}
	if (fset_alloc(e, &f, rw, &set, why, sizeof(why)))
		goto report;
	allocated = true;
	if (fset_write(&set, &f, want, why, sizeof(why)))
		goto report;
	if (vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 1, NULL) < 1) {
		snprintf(why, sizeof(why), "output REQBUFS(DMABUF): %s",
			 strerror(errno));
		goto report;
	}
	if (loop_capture_bufs(bufs, &count, why, sizeof(why)))
		goto report;
	if (vlib_set_ctrl(&cap, CID_LOOPBACK, 1)) {
		snprintf(why, sizeof(why), "Loopback on: %s", strerror(errno));
		goto report;
	}
	fset_fds(&set, fds);
	if (vlib_qbuf_dmabuf(&out, 0, fds, f.num_planes, NULL)) {
		qbuf_failed("output QBUF", why, sizeof(why));
		goto report;
	}
	if (vlib_streamon(&out)) {
		snprintf(why, sizeof(why), "output STREAMON: %s",
			 strerror(errno));
		goto report;
	}
	if (vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &ofr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, sizeof(why), "output DQBUF: %s", strerror(errno));
		goto report;
	}
	consumed = !(ofr.buf.flags & V4L2_BUF_FLAG_ERROR);
	if (!consumed)
		snprintf(why, sizeof(why), "output DQBUF flags 0x%x carry ERROR",
			 ofr.buf.flags);
report:
	report(consumed, names[0], why);
	if (!consumed) {
		snprintf(msg, sizeof(msg), "the output consumed no frame");
	} else if (vlib_streamon(&cap)) {
		snprintf(msg, sizeof(msg), "capture STREAMON: %s",
			 strerror(errno));
	} else if (vlib_dqbuf(&cap, V4L2_MEMORY_MMAP, &cfr,
			      VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(msg, sizeof(msg), "capture DQBUF: %s",
			 strerror(errno));
	} else if (cfr.buf.index >= (uint32_t)count) {
		snprintf(msg, sizeof(msg), "capture DQBUF index %u",
			 cfr.buf.index);
	} else {
		looped = same_frame(&f, &bufs[cfr.buf.index], want, msg,
				    sizeof(msg));
	}
	report(looped, names[1], msg);
	if (have_out)
		vlib_set_ctrl(&cap, CID_LOOPBACK, 0);
	stop_all();
	for (i = 0; i < LOOP_CAP_BUFS; i++)
		vlib_unmap_buf(&bufs[i]);
	if (allocated)
		fset_release(&set);
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		free(want[p]);
}

/* ------------------------------------------------- read-only dma-buf */

/*
 * A vgem PRIME export without DRM_RDWR is an O_RDONLY dma-buf: the capture
 * queue, which writes, must refuse it; the output queue reads it.
 */
static void read_only(struct exporter *vgem)
{
	char names[2][NAME_LEN], why[WHY_LEN] = "";
	uint32_t fourcc = cap.mplane ? V4L2_PIX_FMT_NV12M : V4L2_PIX_FMT_YUYV;
	int fds[VLIB_MAX_PLANES], ret, mode = -1;
	struct vlib_fmt f;
	struct fset set;
	unsigned int p;
	bool allocated = false;

	check_name(names[0], "vgem", fourcc,
		   "PRIME export without DRM_RDWR is read-only");
	check_name(names[1], "vgem", fourcc,
		   "read-only dma-buf refused by the capture queue with EACCES");
	if (exporter_absent(vgem, names, 2))
		goto output;
	stop_all();
	if (vlib_set_fmt(&cap, fourcc, WIDTH, HEIGHT, &f)) {
		snprintf(why, sizeof(why), "capture S_FMT: %s",
			 strerror(errno));
	} else if (!fset_alloc(vgem, &f, false, &set, why, sizeof(why))) {
		allocated = true;
		for (p = 0; p < set.num_planes; p++) {
			mode = fcntl(set.plane[p].dmabuf, F_GETFL);
			if (mode < 0 || (mode & O_ACCMODE) != O_RDONLY)
				break;
		}
		snprintf(why, sizeof(why), "plane %u: F_GETFL %s 0x%x", p,
			 mode < 0 ? strerror(errno) : "gives flags", mode);
	}
	report(allocated && p == set.num_planes, names[0], why);
	if (!allocated) {
		report(false, names[1], why);
	} else if (vlib_reqbufs(&cap, V4L2_MEMORY_DMABUF, 1, NULL) < 1) {
		snprintf(why, sizeof(why), "REQBUFS(DMABUF): %s",
			 strerror(errno));
		report(false, names[1], why);
	} else {
		fset_fds(&set, fds);
		ret = vlib_qbuf_dmabuf(&cap, 0, fds, f.num_planes, NULL);
		tap_errno(ret, errno, EACCES, "%s", names[1]);
	}
	stop_all();
	if (allocated)
		fset_release(&set);
output:
	output_loopback(vgem, "read-only vgem", fourcc, false);
}

/* Finds the output node of the capture node's instance. */
static void find_output(const char *cap_path)
{
	if (vlib_find_output(cap_path, out_path, sizeof(out_path))) {
		snprintf(out_path, sizeof(out_path), "of %s's instance",
			 cap_path);
		return;
	}
	have_out = !vlib_open(&out, out_path, 0) && out.output;
	if (!have_out)
		tap_diag("cannot open %s as an output node: %s", out_path,
			 strerror(errno));
}

int main(int argc, char **argv)
{
	struct exporter vgem = { .name = "vgem", .required = true,
				 .alloc = vgem_alloc };
	struct exporter udmabuf = { .name = "udmabuf", .alloc = udmabuf_alloc };
	struct exporter heap = { .name = "system heap", .alloc = heap_alloc };
	struct exporter *all[] = { &vgem, &udmabuf, &heap };
	uint32_t fourccs[MAX_FORMATS];
	unsigned int i, j, nfmt;
	const char *path;

	page = sysconf(_SC_PAGESIZE);
	kernel_612 = kernel_at_least_612();
	path = vlib_start(argc, argv, &cap, NULL);
	/*
	 * Two results each: capture_import and output_loopback per exporter
	 * and format, read_only and its read-only output_loopback.
	 */
	nfmt = node_formats(fourccs);
	tap_plan(ARRAY_SIZE(all) * nfmt * 2 * 2 + 2 * 2);
	out.fd = -1;
	find_output(path);
	tap_diag("output node %s%s", out_path, have_out ? "" : " not found");

	vgem.dev = vgem_open();
	if (vgem.dev < 0)
		snprintf(vgem.missing, sizeof(vgem.missing),
			 "no DRM card with driver vgem (modprobe vgem?)");
	udmabuf.required = kernel_612;
	heap.required = kernel_612;
	exporter_open(&udmabuf, UDMABUF_DEV);
	exporter_open(&heap, HEAP_DEV);

	stop_all();
	vlib_set_ctrl(&cap, CID_LOOPBACK, 0);
	vlib_set_ctrl(&cap, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&cap, V4L2_CID_TEST_PATTERN, 0);
	vlib_set_fps(&cap, 1, 60);
	if (have_out)
		vlib_set_fps(&out, 1, 60);

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		for (j = 0; j < nfmt; j++) {
			capture_import(all[i], fourccs[j]);
			output_loopback(all[i], all[i]->name, fourccs[j], true);
		}
	}
	read_only(&vgem);

	vlib_set_fps(&cap, 1, 30);
	if (have_out) {
		vlib_set_fps(&out, 1, 30);
		vlib_close(&out);
	}
	for (i = 0; i < ARRAY_SIZE(all); i++)
		close_if(all[i]->dev);
	vlib_close(&cap);
	return tap_done();
}
