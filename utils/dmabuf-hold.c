// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-hold: export one MMAP buffer of a capture node as a dma-buf, close
 * the video node and keep only the dma-buf open until SIGTERM (or SIGINT).
 *
 *	dmabuf-hold -d /dev/videoN [-s]
 *
 * Prints "holding dma-buf fd N (size S)" once the video node is closed, so
 * a script can wait for that line and then test what an open dma-buf does
 * to the module (it must keep the module loaded).
 *
 * With -s it streams first, at 5 fps with the exported buffer queued
 * behind two others (a capture buffer has a write fence only while the
 * device runs), takes a sync_file of the buffer's pending write fence
 * (DMA_BUF_IOCTL_EXPORT_SYNC_FILE), closes the dma-buf and the node (which
 * signals the fence, with ECANCELED) and holds only the sync_file:
 * "holding sync_file fd N (status S)". The fence is the module's, so that
 * too must keep the module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

static int fail(const char *what)
{
	fprintf(stderr, "dmabuf-hold: %s: %s\n", what, strerror(errno));
	return 1;
}

static int print_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s -d /dev/videoN [-s]\n", argv0);
	return 2;
}

#define HOLD_BUFS	3

static int queue_one(int fd, unsigned int type, unsigned int index)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	memset(&b, 0, sizeof(b));
	memset(planes, 0, sizeof(planes));
	b.type = type;
	b.memory = V4L2_MEMORY_MMAP;
	b.index = index;
	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		b.m.planes = planes;
		b.length = VIDEO_MAX_PLANES;
	}
	return xioctl(fd, VIDIOC_QBUF, &b);
}

/* 5 fps, before buffers are allocated (the interval is fixed then). */
static int set_5fps(int fd, unsigned int type)
{
	struct v4l2_streamparm parm;

	memset(&parm, 0, sizeof(parm));
	parm.type = type;
	parm.parm.capture.timeperframe.numerator = 1;
	parm.parm.capture.timeperframe.denominator = 5;
	return xioctl(fd, VIDIOC_S_PARM, &parm);
}

/*
 * Stream (at 5 fps) with buffer 0 queued last, so that its frame is done
 * some 600 ms later, and return a sync_file of its fence, or -1.
 */
static int queue_and_sync_file(int fd, unsigned int type, int dmabuf)
{
	struct dma_buf_export_sync_file sf;
	unsigned int i;

	for (i = 1; i <= HOLD_BUFS; i++) {
		if (queue_one(fd, type, i % HOLD_BUFS)) {
			fail("VIDIOC_QBUF");
			return -1;
		}
	}
	if (xioctl(fd, VIDIOC_STREAMON, &type)) {
		fail("VIDIOC_STREAMON");
		return -1;
	}
	memset(&sf, 0, sizeof(sf));
	sf.flags = DMA_BUF_SYNC_READ;
	sf.fd = -1;
	if (xioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf)) {
		fail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
		return -1;
	}
	return sf.fd;
}

static int sync_file_status(int sync_fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (xioctl(sync_fd, SYNC_IOC_FILE_INFO, &info))
		return -1000;
	return info.status;
}

int main(int argc, char **argv)
{
	struct v4l2_requestbuffers rb;
	struct v4l2_exportbuffer eb;
	struct v4l2_capability cap;
	const char *path = NULL;
	unsigned int caps, type;
	int opt, fd, sig, held, sync_fd = -1;
	bool sync_file = false;
	sigset_t mask;
	off_t size;

	while ((opt = getopt(argc, argv, "d:s")) != -1) {
		if (opt == 'd')
			path = optarg;
		else if (opt == 's')
			sync_file = true;
		else
			return print_usage(argv[0]);
	}
	if (!path)
		return print_usage(argv[0]);

	/* Blocked here, taken by sigwait() below: no handler needed. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(path);
	memset(&cap, 0, sizeof(cap));
	if (xioctl(fd, VIDIOC_QUERYCAP, &cap))
		return fail("VIDIOC_QUERYCAP");
	caps = cap.capabilities;
	if (caps & V4L2_CAP_DEVICE_CAPS)
		caps = cap.device_caps;
	if (caps & V4L2_CAP_VIDEO_CAPTURE) {
		type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	} else if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) {
		type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	} else {
		fprintf(stderr, "dmabuf-hold: %s is not a capture node\n",
			path);
		return 1;
	}

	if (sync_file && set_5fps(fd, type))
		return fail("VIDIOC_S_PARM");
	memset(&rb, 0, sizeof(rb));
	rb.type = type;
	rb.memory = V4L2_MEMORY_MMAP;
	rb.count = sync_file ? HOLD_BUFS : 1;
	if (xioctl(fd, VIDIOC_REQBUFS, &rb))
		return fail("VIDIOC_REQBUFS");
	if (rb.count < (sync_file ? HOLD_BUFS : 1)) {
		fprintf(stderr, "dmabuf-hold: REQBUFS gave %u buffers\n",
			rb.count);
		return 1;
	}
	memset(&eb, 0, sizeof(eb));
	eb.type = type;
	eb.index = 0;
	eb.plane = 0;
	eb.flags = O_CLOEXEC | O_RDONLY;
	if (xioctl(fd, VIDIOC_EXPBUF, &eb))
		return fail("VIDIOC_EXPBUF");
	if (sync_file) {
		sync_fd = queue_and_sync_file(fd, type, eb.fd);
		if (sync_fd < 0)
			return 1;
	}
	close(fd);

	if (sync_file) {
		close(eb.fd);
		held = sync_fd;
		printf("holding sync_file fd %d (status %d)\n", sync_fd,
		       sync_file_status(sync_fd));
	} else {
		held = eb.fd;
		size = lseek(eb.fd, 0, SEEK_END);
		printf("holding dma-buf fd %d (size %lld)\n", eb.fd,
		       (long long)size);
	}
	fflush(stdout);

	sigwait(&mask, &sig);

	close(held);
	return 0;
}
