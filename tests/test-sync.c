// SPDX-License-Identifier: GPL-2.0-only
/*
 * Implicit synchronization through the dma-bufs' fences
 * (Documentation/userspace-api/media/vivid-expbuf-fences.rst):
 *
 * - exporter: a capture MMAP buffer queued while the device does not run
 *   has no fence (its exports stay readable: no fence of ours waits for
 *   userspace); once the device runs, a queued buffer's exports are not
 *   readable (poll, EXPORT_SYNC_FILE) until its frame is done, the same
 *   through every export of a plane; STREAMOFF, REQBUFS(0) and close
 *   signal the fence with an error; a fence held only by a sync_file pins
 *   the module.
 * - importer: the output node does not read an imported dma-buf while a
 *   write fence (VGEM_FENCE_ATTACH, IMPORT_SYNC_FILE) is pending, returns
 *   it as ERROR when the fence stays pending too long or signals an error
 *   while it waits; the capture node does not write one while any fence
 *   is pending; both publish a fence of their own (seen in debugfs).
 *
 * A capture buffer's fence stays pending only while the device is busy
 * with the buffers ahead of it, so the checks queue others first at 5
 * frames per second.
 *
 * Runs on a capture node (-d) and uses its instance's output node and
 * vgem.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "sync-lib.h"
#include "v4l2-lib.h"
#include "vgem-lib.h"

#define WIDTH		160
#define HEIGHT		120
#define NBUFS		4
#define HOLD_MS		500	/* a held buffer must stay held this long */
#define DONE_MS		3000	/* a released buffer must be done by then */
#define TIMEOUT_SEC	1.0	/* documented bound of the importer's wait */
#define BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"
#define REFCNT		"/sys/module/vivid_expbuf/refcnt"

static struct vlib_dev cap, out;
static char out_path[64];
static int vgem = -1;

/* The first fence of @sync_fd; 0 or -1 (errno set). */
static int sync_fence(int sync_fd, struct sync_fence_info *fi)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	memset(fi, 0, sizeof(*fi));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)fi;
	if (sync_fd < 0) {
		errno = EBADF;
		return -1;
	}
	return ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info);
}

/* Whether the single fence of @sync_fd is ours, of timeline @timeline. */
static bool sync_is_ours(int sync_fd, const char *timeline)
{
	struct sync_fence_info fi;

	if (sync_fence(sync_fd, &fi)) {
		tap_diag("SYNC_IOC_FILE_INFO: %s", strerror(errno));
		return false;
	}
	if (!strcmp(fi.driver_name, "vivid_expbuf") &&
	    !strcmp(fi.obj_name, timeline))
		return true;
	tap_diag("fence of driver '%s', timeline '%s'", fi.driver_name,
		 fi.obj_name);
	return false;
}

static void close_if(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The module's reference count, or -1. */
static long module_refcnt(void)
{
	long n = -1;
	FILE *f;

	f = fopen(REFCNT, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * Whether debugfs lists a fence of timeline @timeline in the dma-buf @fd:
 * 1 yes, 0 no, -1 when debugfs cannot be read.
 */
static int bufinfo_has_fence(int fd, const char *timeline)
{
	char line[512], ino[32];
	bool in_buf = false;
	struct stat st;
	int found = 0;
	FILE *f;

	if (access(BUFINFO, R_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	f = fopen(BUFINFO, "r");
	if (!f || fstat(fd, &st)) {
		if (f)
			fclose(f);
		return -1;
	}
	snprintf(ino, sizeof(ino), "\t%08lu\t", (unsigned long)st.st_ino);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '\t')
			in_buf = !!strstr(line, ino);
		else if (in_buf && strstr(line, "fence:") &&
			 strstr(line, timeline))
			found = 1;
	}
	fclose(f);
	return found;
}

static void bufinfo_check(int fd, const char *timeline, const char *what)
{
	int ret = bufinfo_has_fence(fd, timeline);

	if (ret < 0)
		tap_skip("no debugfs", "%s", what);
	else
		tap_ok(ret == 1, "%s", what);
}

/* A vgem buffer for a WIDTH x HEIGHT YUYV frame, exported; or -1. */
static int vgem_buffer(uint32_t *handle)
{
	int fd;

	*handle = 0;
	if (vgem < 0 || vgem_create(vgem, WIDTH, HEIGHT, 16, handle, NULL))
		return -1;
	fd = vgem_export(vgem, *handle, true);
	if (fd < 0) {
		vgem_close_handle(vgem, *handle);
		*handle = 0;
	}
	return fd;
}

static void vgem_release(int *fd, uint32_t *handle)
{
	close_if(fd);
	if (*handle)
		vgem_close_handle(vgem, *handle);
	*handle = 0;
}

/* DQBUF within @ms: 1 done, 0 done with ERROR, -1 none (errno set). */
static int dq(struct vlib_dev *d, uint32_t memory, int ms, uint32_t *index)
{
	struct vlib_frame fr;

	if (vlib_dqbuf(d, memory, &fr, ms))
		return -1;
	if (index)
		*index = fr.buf.index;
	return !(fr.buf.flags & V4L2_BUF_FLAG_ERROR);
}

static void reset(struct vlib_dev *d, uint32_t memory)
{
	vlib_streamoff(d);
	vlib_reqbufs(d, memory, 0, NULL);
}

/* ------------------------------------------------------------ exporter */

/* The exports of buffer 0 that the checks look through. */
struct exports {
	int rw;		/* plane 0 */
	int ro;		/* plane 0 again, read-only */
	int plane1;	/* plane 1 (multi-planar formats) */
};

static bool all_ready(const struct exports *x, bool want)
{
	return sync_poll(x->rw, POLLIN, 0) == want &&
	       sync_poll(x->ro, POLLIN, 0) == want &&
	       (x->plane1 < 0 || sync_poll(x->plane1, POLLIN, 0) == want);
}

/*
 * Queue buffers 1, 2 and then 0 and start streaming (at 5 fps buffer 0 is
 * done some 600 ms later); return a sync_file of buffer 0's plane 0.
 */
static int queue_pending(int dmabuf)
{
	if (vlib_qbuf_mmap(&cap, 1) || vlib_qbuf_mmap(&cap, 2) ||
	    vlib_qbuf_mmap(&cap, 0) || vlib_streamon(&cap))
		return -1;
	return sync_export(dmabuf, DMA_BUF_SYNC_READ);
}

static void streaming_checks(const struct vlib_fmt *fmt, struct exports *x)
{
	int s1, s2, s3, late, b2;
	uint32_t index = 99;

	tap_ok(all_ready(x, true), "export: exports of an idle buffer poll readable");
	tap_ok(!vlib_qbuf_mmap(&cap, 1) && !vlib_qbuf_mmap(&cap, 2) &&
	       !vlib_qbuf_mmap(&cap, 0) && sync_poll(x->rw, POLLIN, 500) == 1 &&
	       all_ready(x, true),
	       "export: a buffer queued before STREAMON has no fence: its exports stay readable");
	tap_ok(!vlib_streamon(&cap) && all_ready(x, false),
	       "export: after STREAMON every export of a queued buffer is not readable%s",
	       fmt->num_planes > 1 ? " (both planes)" : "");
	late = vlib_expbuf(&cap, 0, 0, O_RDONLY | O_CLOEXEC);
	tap_ok(late >= 0 && sync_poll(late, POLLIN, 0) == 0,
	       "export: an export made while queued is not readable");
	s1 = sync_export(x->rw, DMA_BUF_SYNC_READ);
	s2 = sync_export(x->ro, DMA_BUF_SYNC_READ);
	tap_ok(sync_status(s1) == 0 && sync_status(s2) == 0 &&
	       sync_poll(s1, POLLIN, 0) == 0,
	       "export: EXPORT_SYNC_FILE of a queued buffer is pending, from each export");
	tap_ok(sync_is_ours(s1, "vb2x-capture") &&
	       sync_is_ours(s2, "vb2x-capture"),
	       "export: the sync_file's fence is vivid_expbuf's vb2x-capture fence");

	tap_ok(dq(&cap, V4L2_MEMORY_MMAP, DONE_MS, NULL) == 1 &&
	       dq(&cap, V4L2_MEMORY_MMAP, DONE_MS, NULL) == 1 &&
	       dq(&cap, V4L2_MEMORY_MMAP, DONE_MS, &index) == 1 && index == 0,
	       "export: buffers 1, 2 and 0 dequeued without error");
	tap_ok(all_ready(x, true) && sync_poll(late, POLLIN, 0) == 1,
	       "export: after DQBUF every export polls readable");
	tap_ok(sync_status(s1) == 1 && sync_status(s2) == 1,
	       "export: the sync_files signalled without error");

	b2 = vlib_expbuf(&cap, 2, 0, O_RDONLY | O_CLOEXEC);
	tap_ok(!vlib_qbuf_mmap(&cap, 1) && !vlib_qbuf_mmap(&cap, 2) &&
	       sync_poll(b2, POLLIN, 0) == 0,
	       "export: a buffer queued while streaming, behind another, is not readable");
	s3 = sync_export(b2, DMA_BUF_SYNC_READ);
	tap_ok(sync_status(s3) == 0, "export: its sync_file is pending");
	tap_ok(sync_poll(b2, POLLIN, DONE_MS) == 1 && sync_poll(s3, POLLIN, 0) == 1,
	       "export: its export and sync_file signal when its frame is done");
	tap_ok(dq(&cap, V4L2_MEMORY_MMAP, DONE_MS, NULL) == 1 &&
	       dq(&cap, V4L2_MEMORY_MMAP, DONE_MS, &index) == 1 && index == 2,
	       "export: both buffers dequeued without error");
	vlib_streamoff(&cap);
	close_if(&s1);
	close_if(&s2);
	close_if(&s3);
	close_if(&late);
	close_if(&b2);
}

static void cancel_checks(struct exports *x)
{
	int s;

	s = queue_pending(x->rw);
	tap_ok(sync_status(s) == 0 && !vlib_streamoff(&cap) &&
	       sync_status(s) == -ECANCELED && all_ready(x, true),
	       "export: STREAMOFF signals a queued buffer's fence with ECANCELED");
	close_if(&s);

	s = queue_pending(x->rw);
	tap_ok(sync_status(s) == 0 &&
	       !vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL) &&
	       sync_status(s) == -ECANCELED && all_ready(x, true),
	       "export: REQBUFS(0) signals a queued buffer's fence with ECANCELED");
	close_if(&s);
}

/*
 * A second handle queues a buffer and closes: the fence signals. Then the
 * sync_file is the fence's last holder, and the fence pins the module.
 */
static void close_checks(void)
{
	struct vlib_dev h;
	int x = -1, s = -1;
	long pinned, after;
	int i;

	if (vlib_open(&h, cap.path, 0) ||
	    vlib_reqbufs(&h, V4L2_MEMORY_MMAP, 3, NULL) < 3 ||
	    vlib_qbuf_mmap(&h, 0) || vlib_qbuf_mmap(&h, 1) ||
	    vlib_qbuf_mmap(&h, 2) || vlib_streamon(&h)) {
		tap_ok(false, "export: second handle queues and streams: %s",
		       strerror(errno));
	} else {
		x = vlib_expbuf(&h, 2, 0, O_RDONLY | O_CLOEXEC);
		s = sync_export(x, DMA_BUF_SYNC_READ);
		close_if(&x);
		tap_ok(sync_status(s) == 0,
		       "export: second handle streams, its last buffer's fence is pending");
	}
	if (h.fd >= 0)
		vlib_close(&h);
	tap_ok(sync_status(s) == -ECANCELED,
	       "export: closing the handle signals the fence with ECANCELED");

	/*
	 * The fence lets the module go an RCU grace period after its last
	 * reference (other fences of earlier checks may go meanwhile too).
	 */
	pinned = module_refcnt();
	close_if(&s);
	for (i = 0, after = pinned; i < 100 && after >= pinned; i++) {
		usleep(20 * 1000);
		after = module_refcnt();
	}
	if (pinned < 0)
		tap_skip("no " REFCNT, "export: a fence held by a sync_file pins the module");
	else
		tap_ok(after < pinned,
		       "export: a fence held by a sync_file pins the module (refcnt %ld -> %ld)",
		       pinned, after);
}

static void exporter_checks(void)
{
	struct exports x = { -1, -1, -1 };
	struct vlib_fmt fmt;
	int n;

	if (vlib_set_fmt(&cap, cap.mplane ? V4L2_PIX_FMT_NV12M :
			 V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
	if (vlib_set_fps(&cap, 1, 5))
		tap_diag("S_PARM 5 fps: %s", strerror(errno));
	n = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, NBUFS, NULL);
	x.rw = vlib_expbuf(&cap, 0, 0, O_RDWR | O_CLOEXEC);
	x.ro = vlib_expbuf(&cap, 0, 0, O_RDONLY | O_CLOEXEC);
	if (fmt.num_planes > 1)
		x.plane1 = vlib_expbuf(&cap, 0, 1, O_RDONLY | O_CLOEXEC);
	tap_ok(n >= 3 && x.rw >= 0 && x.ro >= 0 &&
	       (fmt.num_planes < 2 || x.plane1 >= 0),
	       "export: REQBUFS(MMAP) and exports of buffer 0");

	streaming_checks(&fmt, &x);
	cancel_checks(&x);
	close_if(&x.rw);
	close_if(&x.ro);
	close_if(&x.plane1);
	close_checks();
}

/* ------------------------------------------------------------ importer */

/* Queue @fd into the output node's buffer @index and make sure it streams. */
static int out_queue(uint32_t index, int fd)
{
	const int fds[1] = { fd };

	if (fd < 0 || vlib_qbuf_dmabuf(&out, index, fds, 1, NULL))
		return -1;
	return vlib_streamon(&out);
}

/* The output holds a buffer for HOLD_MS and takes it when released. */
static void vgem_fence_output(void)
{
	uint32_t handle, fence = 0;
	int fd;

	fd = vgem_buffer(&handle);
	tap_ok(fd >= 0 && !vgem_fence_attach(vgem, handle, true, &fence) &&
	       !out_queue(0, fd) &&
	       dq(&out, V4L2_MEMORY_DMABUF, HOLD_MS, NULL) < 0 &&
	       errno == ETIMEDOUT,
	       "import: output holds a dma-buf with a pending vgem write fence");
	tap_ok(fence && !vgem_fence_signal(vgem, fence) &&
	       dq(&out, V4L2_MEMORY_DMABUF, DONE_MS, NULL) == 1,
	       "import: after VGEM_FENCE_SIGNAL the output consumes it without error");
	bufinfo_check(fd, "vb2x-output-import",
		      "import: the output published a read fence in the dma-buf");
	vlib_streamoff(&out);
	vgem_release(&fd, &handle);
}

/*
 * A pending fence of our capture: buffer 0 of 3, queued last at 5 fps, so
 * done some 600 ms after STREAMON; its export goes to *@x.
 */
static int capture_pending(int *x)
{
	vlib_set_fps(&cap, 1, 5);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 3, NULL);
	*x = vlib_expbuf(&cap, 0, 0, O_RDONLY | O_CLOEXEC);
	return queue_pending(*x);
}

/* When a sync_file's fence signalled (CLOCK_MONOTONIC seconds), or -1. */
static double sync_signalled_at(int fd)
{
	struct sync_fence_info fence;

	if (sync_fence(fd, &fence) || !fence.status)
		return -1;
	return fence.timestamp_ns / 1e9;
}

/*
 * Same with a sync_file of our pending capture fence, imported: the output
 * consumes the dma-buf only after the capture frame is done.
 */
static void sync_file_output(void)
{
	double consumed = 0, done;
	uint32_t handle;
	int fd, x, s;

	s = capture_pending(&x);
	fd = vgem_buffer(&handle);
	tap_ok(sync_status(s) == 0 &&
	       !sync_import(fd, DMA_BUF_SYNC_WRITE, s) &&
	       !out_queue(1, fd),
	       "import: output queued a dma-buf with a pending IMPORT_SYNC_FILE write fence");
	if (dq(&out, V4L2_MEMORY_DMABUF, DONE_MS, NULL) == 1)
		consumed = vlib_now_sec();
	done = sync_signalled_at(s);
	tap_ok(consumed > 0 && done > 0 && consumed >= done,
	       "import: the output consumes it without error once that capture frame is done (%.3f s after)",
	       consumed - done);
	vlib_streamoff(&out);
	reset(&cap, V4L2_MEMORY_MMAP);
	close_if(&s);
	close_if(&x);
	vgem_release(&fd, &handle);
}

/* A fence pending for too long, or signalled with an error: ERROR. */
static void failed_fence_output(void)
{
	uint32_t handle, fence = 0;
	int fd, x, s, ret = -1;
	double t0, waited = 0;

	fd = vgem_buffer(&handle);
	if (fd >= 0 && !vgem_fence_attach(vgem, handle, true, &fence) &&
	    !out_queue(0, fd)) {
		t0 = vlib_now_sec();
		ret = dq(&out, V4L2_MEMORY_DMABUF, DONE_MS, NULL);
		waited = vlib_now_sec() - t0;
	}
	tap_ok(ret == 0 && waited >= TIMEOUT_SEC - 0.1,
	       "import: a fence pending past the bound returns the output buffer ERROR (after %.2f s)",
	       waited);
	if (fence)
		vgem_fence_signal(vgem, fence);
	vlib_streamoff(&out);
	vgem_release(&fd, &handle);

	/* Our capture fence, cancelled while the output waits for it. */
	s = capture_pending(&x);
	fd = vgem_buffer(&handle);
	ret = -1;
	waited = 0;
	if (sync_status(s) == 0 &&
	    !sync_import(fd, DMA_BUF_SYNC_WRITE, s) && !out_queue(0, fd)) {
		t0 = vlib_now_sec();
		vlib_streamoff(&cap);
		ret = dq(&out, V4L2_MEMORY_DMABUF, DONE_MS, NULL);
		waited = vlib_now_sec() - t0;
	}
	tap_ok(ret == 0 && sync_status(s) == -ECANCELED && waited < TIMEOUT_SEC,
	       "import: a write fence that signals an error while the output waits returns the buffer ERROR at once (%.2f s)",
	       waited);
	vlib_streamoff(&out);
	reset(&cap, V4L2_MEMORY_MMAP);
	close_if(&s);
	close_if(&x);
	vgem_release(&fd, &handle);
}

/* The capture node waits for readers too, and publishes a write fence. */
static void capture_import(void)
{
	uint32_t handle, fence = 0;
	int fds[1];

	fds[0] = vgem_buffer(&handle);
	tap_ok(fds[0] >= 0 &&
	       !vgem_fence_attach(vgem, handle, false, &fence) &&
	       vlib_reqbufs(&cap, V4L2_MEMORY_DMABUF, 1, NULL) >= 1 &&
	       !vlib_qbuf_dmabuf(&cap, 0, fds, 1, NULL) &&
	       !vlib_streamon(&cap) &&
	       dq(&cap, V4L2_MEMORY_DMABUF, HOLD_MS, NULL) < 0 &&
	       errno == ETIMEDOUT,
	       "import: capture holds a dma-buf with a pending vgem read fence");
	tap_ok(fence && !vgem_fence_signal(vgem, fence) &&
	       dq(&cap, V4L2_MEMORY_DMABUF, DONE_MS, NULL) == 1,
	       "import: after VGEM_FENCE_SIGNAL the capture fills it without error");
	bufinfo_check(fds[0], "vb2x-capture-import",
		      "import: the capture published a write fence in the dma-buf");
	reset(&cap, V4L2_MEMORY_DMABUF);
	vgem_release(&fds[0], &handle);
}

static int find_output(void)
{
	if (vlib_find_output(cap.path, out_path, sizeof(out_path)) ||
	    vlib_open(&out, out_path, 0))
		return -1;
	return 0;
}

static void importer_checks(void)
{
	bool have_out = !find_output();

	vgem = vgem_open();
	if (!tap_ok(have_out && vgem >= 0,
		    "import: the instance's output node and vgem"))
		tap_diag("output %s, vgem %s", have_out ? out_path : "none",
			 vgem >= 0 ? "open" : strerror(errno));
	vlib_set_fmt(&cap, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, NULL);
	vlib_set_fps(&cap, 1, 30);
	if (have_out) {
		vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, NULL);
		vlib_set_fps(&out, 1, 30);
		vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 2, NULL);
	}
	vgem_fence_output();
	sync_file_output();
	failed_fence_output();
	capture_import();
	if (have_out) {
		reset(&out, V4L2_MEMORY_DMABUF);
		vlib_close(&out);
	}
	if (vgem >= 0)
		close(vgem);
}

int main(int argc, char **argv)
{
	char why[200];

	vlib_start(argc, argv, &cap, NULL);
	tap_plan(31);
	exporter_checks();
	importer_checks();
	if (!tap_ok(!vlib_smoke_stream(&cap, why, sizeof(why)),
		    "the capture queue streams after the fence checks"))
		tap_diag("%s", why);
	vlib_close(&cap);
	return tap_done();
}
