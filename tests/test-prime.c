// SPDX-License-Identifier: GPL-2.0-only
/*
 * Our exports imported by a DRM driver: vgem takes a captured buffer's
 * dma-buf with PRIME (attaching it and mapping its sg_table for the vgem
 * device), hands the very same dma-buf back when asked to export the
 * handle, keeps the memory and the frame alive after the queue freed its
 * buffers, and shares the plane's reservation object: a fence vgem adds to
 * its object is seen through our export.
 *
 * The DRM core refuses MODE_MAP_DUMB of an imported object (it has no
 * shmem pages of its own), so the frame is read through the dma-buf that
 * vgem exports for its handle, and that it is the same dma-buf is checked
 * by its inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
static struct vlib_fmt fmt;

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * Reads @len bytes of dma-buf @fd into @copy inside a CPU access bracket.
 * Returns 0, or -1 with @why set.
 */
static int read_dmabuf(int fd, size_t len, uint8_t *copy, char *why,
		       size_t why_len)
{
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	void *map;

	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(why, why_len, "mmap: %s", strerror(errno));
		return -1;
	}
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	memcpy(copy, map, len);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	munmap(map, len);
	return 0;
}

/* Captures one frame; returns the index of the filled buffer or -1. */
static int capture_one(struct vlib_frame *fr, char *why, size_t len)
{
	int i;

	for (i = 0; i < NBUFS; i++) {
		if (vlib_qbuf_mmap(&dev, i)) {
			snprintf(why, len, "QBUF %d: %s", i, strerror(errno));
			return -1;
		}
	}
	if (vlib_streamon(&dev) ||
	    vlib_dqbuf(&dev, V4L2_MEMORY_MMAP, fr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, len, "STREAMON/DQBUF: %s", strerror(errno));
		return -1;
	}
	vlib_streamoff(&dev);
	return fr->buf.index;
}

/* The DRM core gives imported objects no mmap offset of their own. */
static void map_dumb_check(bool imported, int vgem, uint32_t handle,
			   size_t len)
{
	void *map = imported ? vgem_map(vgem, handle, len) : NULL;
	int err = errno;

	if (map && map != MAP_FAILED)
		munmap(map, len);
	tap_ok(imported && map == MAP_FAILED && err == EINVAL,
	       "prime: MODE_MAP_DUMB of the imported object gets EINVAL");
}

static void fence_checks(bool imported, int vgem, uint32_t handle, int ours)
{
	uint32_t fence;
	bool attached;

	attached = imported && !vgem_fence_attach(vgem, handle, true, &fence);
	tap_ok(attached, "prime: VGEM_FENCE_ATTACH on the imported buffer");
	tap_ok(attached && sync_poll(ours, POLLIN, 0) == 0,
	       "prime: our export waits for vgem's write fence");
	tap_ok(attached && !vgem_fence_signal(vgem, fence) &&
	       sync_poll(ours, POLLIN, SIGNAL_MS) == 1,
	       "prime: our export is readable once vgem signals");
}

static void prime_checks(int vgem)
{
	uint8_t *frame = NULL, *seen = NULL;
	struct vlib_frame fr;
	struct vlib_buf vb;
	int index, ours = -1, back = -1;
	uint32_t handle = 0;
	char why[400] = "";
	size_t len = fmt.sizeimage[0];
	bool imported, same;

	index = capture_one(&fr, why, sizeof(why));
	if (!tap_ok(index >= 0, "prime: capture a frame"))
		tap_diag("%s", why);
	frame = malloc(len);
	seen = malloc(len);
	if (index >= 0 && frame && seen && !vlib_mmap_buf(&dev, index, &vb)) {
		memcpy(frame, vb.start[0], len);
		vlib_unmap_buf(&vb);
	} else if (index >= 0) {
		tap_diag("V4L2 mmap of buffer %d: %s", index, strerror(errno));
		index = -1;
	}
	if (index >= 0)
		ours = vlib_expbuf(&dev, index, 0, O_RDWR | O_CLOEXEC);
	imported = ours >= 0 && vgem >= 0 && !vgem_import(vgem, ours, &handle);
	if (!tap_ok(imported, "prime: vgem imports our export"))
		tap_diag("export %d, vgem fd %d: %s", ours, vgem,
			 strerror(errno));
	map_dumb_check(imported, vgem, handle, len);
	back = imported ? vgem_export(vgem, handle, false) : -1;
	same = back >= 0 && same_file(back, ours);
	tap_ok(same, "prime: vgem exports the same dma-buf for its handle");
	tap_ok(same && !read_dmabuf(back, len, seen, why, sizeof(why)) &&
	       !memcmp(seen, frame, len),
	       "prime: the dma-buf vgem holds has the captured bytes");

	fence_checks(imported, vgem, handle, ours);

	close_if(ours);
	close_if(back);
	back = -1;
	tap_ok(vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL) == 0,
	       "prime: REQBUFS 0 while vgem holds the import");
	if (imported)
		back = vgem_export(vgem, handle, false);
	memset(seen, 0, len);
	tap_ok(back >= 0 && !read_dmabuf(back, len, seen, why, sizeof(why)) &&
	       !memcmp(seen, frame, len),
	       "prime: vgem's import keeps the orphaned frame");
	close_if(back);
	if (imported)
		vgem_close_handle(vgem, handle);
	free(frame);
	free(seen);
}

int main(int argc, char **argv)
{
	char why[200];
	int vgem;

	vlib_start(argc, argv, &dev, NULL);
	tap_plan(12);
	if (vlib_set_fmt(&dev, V4L2_PIX_FMT_XBGR32, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
	tap_ok(vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, NBUFS, NULL) >= NBUFS,
	       "prime: REQBUFS of MMAP buffers");
	vgem = vgem_open();
	prime_checks(vgem);
	close_if(vgem);
	if (!tap_ok(!vlib_smoke_stream(&dev, why, sizeof(why)),
		    "prime: the queue streams after vgem let go"))
		tap_diag("%s", why);
	vlib_close(&dev);
	return tap_done();
}
