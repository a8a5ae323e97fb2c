// SPDX-License-Identifier: GPL-2.0-only
/*
 * libv4l2-expbuf: capture through libv4l2 (v4l2_open, v4l2_ioctl,
 * v4l2_mmap) as an application linked with it does, export every MMAP
 * buffer with VIDIOC_EXPBUF and check each frame through a mapping of its
 * dma-buf, bracketed by DMA_BUF_IOCTL_SYNC: the frame must be the
 * vivid-expbuf test pattern (colour bars, counter band showing the
 * buffer's sequence) byte for byte, and equal what v4l2_mmap shows.
 *
 * usage: libv4l2-expbuf -d /dev/videoN [-s WxH] [-n frames]
 *
 * The node must be a single-planar capture node; the format is YUYV.
 * Exit status 0 when every frame matched, 1 otherwise, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <libv4l2.h>
#include <linux/dma-buf.h>
#include "vivid-pattern.h"

#define NBUFS	4

struct capture_buf {
	void *mmap_mem;
	void *dmabuf_mem;
	size_t length;
	int dmabuf_fd;
};

struct capture {
	int fd;
	struct vpat_frame frame;
	struct capture_buf bufs[NBUFS];
	unsigned int count;
	uint8_t *expected;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = v4l2_ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

static void die(const char *what)
{
	fprintf(stderr, "libv4l2-expbuf: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: libv4l2-expbuf -d /dev/videoN [-s WxH] [-n frames]\n");
	exit(2);
}

static void set_format(struct capture *c)
{
	struct v4l2_capability cap;
	struct v4l2_format f;

	if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap))
		die("VIDIOC_QUERYCAP");
	if (!(cap.device_caps & V4L2_CAP_VIDEO_CAPTURE)) {
		fprintf(stderr,
			"libv4l2-expbuf: not a single-planar capture node\n");
		exit(1);
	}
	memset(&f, 0, sizeof(f));
	f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.width = c->frame.width;
	f.fmt.pix.height = c->frame.height;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (xioctl(c->fd, VIDIOC_S_FMT, &f))
		die("VIDIOC_S_FMT");
	if (f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV ||
	    f.fmt.pix.width != c->frame.width ||
	    f.fmt.pix.height != c->frame.height ||
	    f.fmt.pix.bytesperline != c->frame.width * 2) {
		fprintf(stderr,
			"libv4l2-expbuf: S_FMT gave %ux%u bytesperline %u, not YUYV %ux%u\n",
			f.fmt.pix.width, f.fmt.pix.height,
			f.fmt.pix.bytesperline, c->frame.width,
			c->frame.height);
		exit(1);
	}
}

static void init_buf(struct v4l2_buffer *b, uint32_t index)
{
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = V4L2_MEMORY_MMAP;
	b->index = index;
}

/* REQBUFS, then map and export every buffer and queue it. */
static void start(struct capture *c)
{
	struct v4l2_requestbuffers rb;
	struct v4l2_exportbuffer eb;
	struct v4l2_buffer b;
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned int i;

	memset(&rb, 0, sizeof(rb));
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	rb.count = NBUFS;
	if (xioctl(c->fd, VIDIOC_REQBUFS, &rb))
		die("VIDIOC_REQBUFS");
	c->count = rb.count < NBUFS ? rb.count : NBUFS;
	for (i = 0; i < c->count; i++) {
		struct capture_buf *buf = &c->bufs[i];

		init_buf(&b, i);
		if (xioctl(c->fd, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF");
		buf->length = b.length;
		buf->mmap_mem = v4l2_mmap(NULL, b.length, PROT_READ,
					  MAP_SHARED, c->fd, b.m.offset);
		if (buf->mmap_mem == MAP_FAILED)
			die("v4l2_mmap");
		memset(&eb, 0, sizeof(eb));
		eb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		eb.index = i;
		eb.flags = O_RDONLY | O_CLOEXEC;
		if (xioctl(c->fd, VIDIOC_EXPBUF, &eb))
			die("VIDIOC_EXPBUF");
		buf->dmabuf_fd = eb.fd;
		buf->dmabuf_mem = mmap(NULL, b.length, PROT_READ, MAP_SHARED,
				       eb.fd, 0);
		if (buf->dmabuf_mem == MAP_FAILED)
			die("mmap of the dma-buf");
		if (xioctl(c->fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF");
	}
	if (xioctl(c->fd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON");
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

/* Check one dequeued frame through its dma-buf; 0 if it is the pattern. */
static int check_frame(struct capture *c, const struct v4l2_buffer *b)
{
	const struct capture_buf *buf = &c->bufs[b->index];
	size_t size = vpat_frame_size(&c->frame);
	uint32_t shown;
	long diff = -1;
	int same_as_mmap;

	if (b->bytesused != size) {
		printf("sequence %u: bytesused %u, expected %zu\n",
		       b->sequence, b->bytesused, size);
		return -1;
	}
	if (dmabuf_sync(buf->dmabuf_fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
		die("DMA_BUF_IOCTL_SYNC start");
	shown = vpat_read_counter(&c->frame, buf->dmabuf_mem);
	if (shown == b->sequence) {
		vpat_draw(&c->frame, 0, b->sequence, c->expected);
		diff = vpat_first_diff(buf->dmabuf_mem, c->expected, size);
	}
	same_as_mmap = !memcmp(buf->dmabuf_mem, buf->mmap_mem, size);
	if (dmabuf_sync(buf->dmabuf_fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
		die("DMA_BUF_IOCTL_SYNC end");
	if (shown != b->sequence) {
		printf("sequence %u: the counter band shows %u\n",
		       b->sequence, shown);
		return -1;
	}
	if (diff >= 0) {
		printf("sequence %u: differs from the pattern at pixel %lu,%lu\n",
		       b->sequence, (unsigned long)diff / 2 % c->frame.width,
		       (unsigned long)diff / 2 / c->frame.width);
		return -1;
	}
	if (!same_as_mmap) {
		printf("sequence %u: the dma-buf and v4l2_mmap mappings differ\n",
		       b->sequence);
		return -1;
	}
	printf("sequence %u: buffer %u, pattern ok through dma-buf fd %d\n",
	       b->sequence, b->index, buf->dmabuf_fd);
	return 0;
}

static void stop(struct capture *c)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers rb;
	unsigned int i;

	if (xioctl(c->fd, VIDIOC_STREAMOFF, &type))
		die("VIDIOC_STREAMOFF");
	for (i = 0; i < c->count; i++) {
		munmap(c->bufs[i].dmabuf_mem, c->bufs[i].length);
		close(c->bufs[i].dmabuf_fd);
		v4l2_munmap(c->bufs[i].mmap_mem, c->bufs[i].length);
	}
	memset(&rb, 0, sizeof(rb));
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	if (xioctl(c->fd, VIDIOC_REQBUFS, &rb))
		die("VIDIOC_REQBUFS 0");
	v4l2_close(c->fd);
}

int main(int argc, char **argv)
{
	struct capture c = {
		.frame = { V4L2_PIX_FMT_YUYV, 320, 240 },
	};
	const char *dev = NULL;
	struct pollfd pfd;
	struct v4l2_buffer b;
	int opt, frames = 10, i, failed = 0;

	while ((opt = getopt(argc, argv, "d:s:n:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &c.frame.width,
				   &c.frame.height) != 2)
				print_usage();
			break;
		case 'n':
			frames = atoi(optarg);
			break;
		default:
			print_usage();
		}
	}
	if (!dev || frames < 1 || c.frame.width < 16 || c.frame.height < 16 ||
	    c.frame.width % 2 || c.frame.height % 2)
		print_usage();
	c.expected = malloc(vpat_frame_size(&c.frame));
	if (!c.expected)
		die("malloc");
	c.fd = v4l2_open(dev, O_RDWR);
	if (c.fd < 0)
		die(dev);
	set_format(&c);
	start(&c);
	pfd.fd = c.fd;
	pfd.events = POLLIN;
	for (i = 0; i < frames; i++) {
		int ret;

		do {
			ret = poll(&pfd, 1, 5000);
		} while (ret == -1 && errno == EINTR);
		if (ret <= 0) {
			fprintf(stderr, "libv4l2-expbuf: no frame within 5 s\n");
			return 1;
		}
		init_buf(&b, 0);
		if (xioctl(c.fd, VIDIOC_DQBUF, &b))
			die("VIDIOC_DQBUF");
		if (b.index >= c.count) {
			fprintf(stderr, "libv4l2-expbuf: bad buffer index %u\n",
				b.index);
			return 1;
		}
		if (check_frame(&c, &b))
			failed++;
		if (xioctl(c.fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF");
	}
	stop(&c);
	free(c.expected);
	printf("%d frames through %u exported buffers, %d not the pattern\n",
	       frames, c.count, failed);
	return failed ? 1 : 0;
}
