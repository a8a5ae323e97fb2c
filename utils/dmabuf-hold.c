// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-hold: export one MMAP buffer of a capture node as a dma-buf, close
 * the video node and keep only the dma-buf open until SIGTERM (or SIGINT).
 *
 *	dmabuf-hold -d /dev/videoN
 *
 * Prints "holding dma-buf fd N (size S)" once the video node is closed, so
 * a script can wait for that line and then test what an open dma-buf does
 * to the module (it must keep the module loaded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
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

int main(int argc, char **argv)
{
	struct v4l2_requestbuffers rb;
	struct v4l2_exportbuffer eb;
	struct v4l2_capability cap;
	const char *path = NULL;
	unsigned int caps, type;
	sigset_t mask;
	off_t size;
	int opt, fd, sig;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd') {
			fprintf(stderr, "usage: %s -d /dev/videoN\n", argv[0]);
			return 2;
		}
		path = optarg;
	}
	if (!path) {
		fprintf(stderr, "usage: %s -d /dev/videoN\n", argv[0]);
		return 2;
	}

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

	memset(&rb, 0, sizeof(rb));
	rb.type = type;
	rb.memory = V4L2_MEMORY_MMAP;
	rb.count = 1;
	if (xioctl(fd, VIDIOC_REQBUFS, &rb))
		return fail("VIDIOC_REQBUFS");
	if (rb.count < 1) {
		fprintf(stderr, "dmabuf-hold: REQBUFS gave no buffers\n");
		return 1;
	}
	memset(&eb, 0, sizeof(eb));
	eb.type = type;
	eb.index = 0;
	eb.plane = 0;
	eb.flags = O_CLOEXEC | O_RDONLY;
	if (xioctl(fd, VIDIOC_EXPBUF, &eb))
		return fail("VIDIOC_EXPBUF");
	close(fd);

	size = lseek(eb.fd, 0, SEEK_END);
	printf("holding dma-buf fd %d (size %lld)\n", eb.fd, (long long)size);
	fflush(stdout);

	sigwait(&mask, &sig);

	close(eb.fd);
	return 0;
}
