// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reservation objects of exported buffers: every dma-buf exported from one
 * plane shares that plane's dma_resv, so a fence added through one export
 * is seen through every other export of the plane, old or new, and not
 * through exports of other planes or buffers. The fence comes from vgem
 * (an unsignalled fence userspace signals) and is added to our export with
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE; poll() and DMA_BUF_IOCTL_EXPORT_SYNC_FILE
 * show which dma-bufs see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "sync-lib.h"
#include "v4l2-lib.h"
#include "vgem-lib.h"

#define WIDTH		160
#define HEIGHT		120
#define NBUFS		4
#define SIGNAL_MS	2000

static struct vlib_dev dev;

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The exports the checks look through. */
struct exports {
	int rw;		/* buffer 0 plane 0, O_RDWR: the fence goes in here */
	int ro;		/* buffer 0 plane 0 again, O_RDONLY */
	int other_buf;	/* buffer 1 plane 0 */
	int other_plane; /* buffer 0 plane 1 (multi-planar formats only) */
	int late;	/* buffer 0 plane 0, exported after the fence */
};

/*
 * Makes a vgem buffer with an unsignalled write fence and returns a
 * sync_file of that fence, or -1 with @why set.
 */
static int vgem_pending_sync_file(int vgem, uint32_t *handle,
				  uint32_t *fence, char *why, size_t len)
{
	int dmabuf, sync_fd;

	if (vgem_create(vgem, 64, 64, 32, handle, NULL)) {
		snprintf(why, len, "vgem dumb buffer: %s", strerror(errno));
		return -1;
	}
	if (vgem_fence_attach(vgem, *handle, true, fence)) {
		snprintf(why, len, "VGEM_FENCE_ATTACH: %s", strerror(errno));
		return -1;
	}
	dmabuf = vgem_export(vgem, *handle, true);
	if (dmabuf < 0) {
		snprintf(why, len, "vgem PRIME export: %s", strerror(errno));
		return -1;
	}
	sync_fd = sync_export(dmabuf, DMA_BUF_SYNC_RW);
	if (sync_fd < 0)
		snprintf(why, len, "EXPORT_SYNC_FILE of the vgem buffer: %s",
			 strerror(errno));
	close(dmabuf);
	return sync_fd;
}

static void shared_resv_checks(const struct vlib_fmt *fmt, int vgem)
{
	struct exports x = { -1, -1, -1, -1, -1 };
	uint32_t handle = 0, fence = 0;
	bool two_planes = fmt->num_planes > 1;
	int sync_fd, seen_fd;
	char why[200] = "";

	x.rw = vlib_expbuf(&dev, 0, 0, O_RDWR | O_CLOEXEC);
	x.ro = vlib_expbuf(&dev, 0, 0, O_RDONLY | O_CLOEXEC);
	x.other_buf = vlib_expbuf(&dev, 1, 0, O_RDWR | O_CLOEXEC);
	if (two_planes)
		x.other_plane = vlib_expbuf(&dev, 0, 1, O_RDWR | O_CLOEXEC);
	tap_ok(x.rw >= 0 && x.ro >= 0 && x.other_buf >= 0 &&
	       (!two_planes || x.other_plane >= 0),
	       "resv: export a plane twice, another buffer, another plane");
	tap_ok(sync_poll(x.rw, POLLIN, 0) == 1 && sync_poll(x.ro, POLLIN, 0) == 1,
	       "resv: idle exports poll readable");

	sync_fd = vgem < 0 ? -1 :
		  vgem_pending_sync_file(vgem, &handle, &fence, why,
					 sizeof(why));
	if (vgem < 0)
		snprintf(why, sizeof(why), "no vgem device: %s",
			 strerror(errno));
	if (!tap_ok(sync_fd >= 0 && sync_poll(sync_fd, POLLIN, 0) == 0,
		    "resv: vgem gives a pending fence"))
		tap_diag("%s", why);
	tap_ok(sync_fd >= 0 && x.rw >= 0 &&
	       !sync_import(x.rw, DMA_BUF_SYNC_WRITE, sync_fd),
	       "resv: IMPORT_SYNC_FILE of a write fence into an export");

	tap_ok(x.rw >= 0 && sync_poll(x.rw, POLLIN, 0) == 0,
	       "resv: the export holding the write fence is not readable");
	tap_ok(x.ro >= 0 && sync_poll(x.ro, POLLIN, 0) == 0,
	       "resv: a second export of the plane sees the fence");
	x.late = vlib_expbuf(&dev, 0, 0, O_RDONLY | O_CLOEXEC);
	tap_ok(x.late >= 0 && sync_poll(x.late, POLLIN, 0) == 0,
	       "resv: an export made after the fence sees it");
	seen_fd = x.ro >= 0 ? sync_export(x.ro, DMA_BUF_SYNC_READ) : -1;
	tap_ok(seen_fd >= 0 && sync_poll(seen_fd, POLLIN, 0) == 0,
	       "resv: EXPORT_SYNC_FILE of the second export is pending");
	tap_ok(x.other_buf >= 0 && sync_poll(x.other_buf, POLLIN, 0) == 1,
	       "resv: another buffer's export does not see the fence");
	if (two_planes)
		tap_ok(x.other_plane >= 0 &&
		       sync_poll(x.other_plane, POLLIN, 0) == 1,
		       "resv: another plane's export does not see the fence");
	else
		tap_skip("single-plane format",
			 "resv: another plane's export does not see the fence");

	tap_ok(sync_fd >= 0 && !vgem_fence_signal(vgem, fence),
	       "resv: VGEM_FENCE_SIGNAL");
	tap_ok(x.ro >= 0 && sync_poll(x.ro, POLLIN, SIGNAL_MS) == 1 &&
	       sync_poll(x.rw, POLLIN, 0) == 1 &&
	       (x.late < 0 || sync_poll(x.late, POLLIN, 0) == 1),
	       "resv: every export of the plane is readable once signalled");
	tap_ok(seen_fd >= 0 && sync_poll(seen_fd, POLLIN, 0) == 1,
	       "resv: the exported sync_file signals with the fence");

	close_if(seen_fd);
	close_if(sync_fd);
	if (handle)
		vgem_close_handle(vgem, handle);
	close_if(x.rw);
	close_if(x.ro);
	close_if(x.other_buf);
	close_if(x.other_plane);
	close_if(x.late);
}

int main(int argc, char **argv)
{
	struct vlib_fmt fmt;
	char why[200];
	int vgem, n;

	vlib_start(argc, argv, &dev, NULL);
	tap_plan(16);
	if (vlib_set_fmt(&dev, dev.mplane ? V4L2_PIX_FMT_NV12M :
			 V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
	n = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, NBUFS, NULL);
	tap_ok(n >= 2, "resv: REQBUFS of MMAP buffers");
	vgem = vgem_open();
	shared_resv_checks(&fmt, vgem);
	close_if(vgem);
	tap_ok(vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL) == 0,
	       "resv: REQBUFS 0 after the fence checks");
	if (!tap_ok(!vlib_smoke_stream(&dev, why, sizeof(why)),
		    "resv: the queue streams after the fence checks"))
		tap_diag("%s", why);
	vlib_close(&dev);
	return tap_done();
}
