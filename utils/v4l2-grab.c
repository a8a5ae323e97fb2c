// SPDX-License-Identifier: GPL-2.0-only
/*
 * v4l2-grab: capture frames from a V4L2 capture node with MMAP streaming
 * and write the last one as a binary PPM.
 *
 * usage: v4l2-grab -d /dev/videoN [-f XR24|RGB3|YUYV|RGBP|NV12]
 *                  [-s WxH] [-n frames] -o out.ppm
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/videodev2.h>

#define NBUFS	4

struct grab {
	int fd;
	uint32_t type;
	int mplane;
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	uint32_t bytesperline;
	void *mem[NBUFS];
	size_t len[NBUFS];
	int count;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

static void die(const char *what)
{
	fprintf(stderr, "v4l2-grab: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: v4l2-grab -d /dev/videoN [-f XR24|RGB3|YUYV|RGBP|NV12] [-s WxH] [-n frames] -o out.ppm\n");
	exit(2);
}

static uint8_t clamp(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* BT.601 limited range Y'CbCr to full range RGB, 8.8 fixed point. */
static void ycbcr_to_rgb(int y, int cb, int cr, uint8_t *rgb)
{
	int c = 298 * (y - 16), d = cb - 128, e = cr - 128;

	rgb[0] = clamp((c + 409 * e + 128) >> 8);
	rgb[1] = clamp((c - 100 * d - 208 * e + 128) >> 8);
	rgb[2] = clamp((c + 516 * d + 128) >> 8);
}

static void to_rgb(const struct grab *g, const uint8_t *src, uint8_t *out)
{
	uint32_t x, y, w = g->width, h = g->height;

	for (y = 0; y < h; y++) {
		const uint8_t *line = src + (size_t)y * g->bytesperline;
		uint8_t *o = out + (size_t)y * w * 3;

		for (x = 0; x < w; x++, o += 3) {
			const uint8_t *px, *uv;
			uint16_t v;

			switch (g->fourcc) {
			case V4L2_PIX_FMT_XBGR32:
				px = line + 4 * x;
				o[0] = px[2];
				o[1] = px[1];
				o[2] = px[0];
				break;
			case V4L2_PIX_FMT_RGB24:
				memcpy(o, line + 3 * x, 3);
				break;
			case V4L2_PIX_FMT_RGB565:
				v = line[2 * x] | (line[2 * x + 1] << 8);
				o[0] = (v >> 11) << 3;
				o[1] = ((v >> 5) & 0x3f) << 2;
				o[2] = (v & 0x1f) << 3;
				break;
			case V4L2_PIX_FMT_YUYV:
				px = line + (x & ~1u) * 2;
				ycbcr_to_rgb(px[(x & 1) * 2], px[1], px[3], o);
				break;
			case V4L2_PIX_FMT_NV12:
				uv = src + (size_t)w * h + (size_t)(y / 2) * w +
				     (x & ~1u);
				ycbcr_to_rgb(line[x], uv[0], uv[1], o);
				break;
			}
		}
	}
}

static uint32_t parse_fourcc(const char *s)
{
	if (strlen(s) != 4)
		print_usage();
	return v4l2_fourcc(s[0], s[1], s[2], s[3]);
}

static void setup(struct grab *g, const char *dev)
{
	struct v4l2_capability cap;
	struct v4l2_format f;
	uint32_t caps;

	g->fd = open(dev, O_RDWR);
	if (g->fd < 0)
		die(dev);
	if (xioctl(g->fd, VIDIOC_QUERYCAP, &cap))
		die("VIDIOC_QUERYCAP");
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps :
							 cap.capabilities;
	g->mplane = !(caps & V4L2_CAP_VIDEO_CAPTURE);
	g->type = g->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
			      V4L2_BUF_TYPE_VIDEO_CAPTURE;
	memset(&f, 0, sizeof(f));
	f.type = g->type;
	if (g->mplane) {
		f.fmt.pix_mp.pixelformat = g->fourcc;
		f.fmt.pix_mp.width = g->width;
		f.fmt.pix_mp.height = g->height;
		f.fmt.pix_mp.field = V4L2_FIELD_NONE;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.pixelformat = g->fourcc;
		f.fmt.pix.width = g->width;
		f.fmt.pix.height = g->height;
		f.fmt.pix.field = V4L2_FIELD_NONE;
	}
	if (xioctl(g->fd, VIDIOC_S_FMT, &f))
		die("VIDIOC_S_FMT");
	if (g->mplane) {
		if (f.fmt.pix_mp.num_planes != 1) {
			fprintf(stderr, "v4l2-grab: only single-plane formats\n");
			exit(1);
		}
		g->fourcc = f.fmt.pix_mp.pixelformat;
		g->width = f.fmt.pix_mp.width;
		g->height = f.fmt.pix_mp.height;
		g->bytesperline = f.fmt.pix_mp.plane_fmt[0].bytesperline;
	} else {
		g->fourcc = f.fmt.pix.pixelformat;
		g->width = f.fmt.pix.width;
		g->height = f.fmt.pix.height;
		g->bytesperline = f.fmt.pix.bytesperline;
	}
}

static void init_buf(struct grab *g, struct v4l2_buffer *b,
		     struct v4l2_plane *plane, uint32_t index)
{
	memset(b, 0, sizeof(*b));
	memset(plane, 0, sizeof(*plane));
	b->type = g->type;
	b->memory = V4L2_MEMORY_MMAP;
	b->index = index;
	if (g->mplane) {
		b->m.planes = plane;
		b->length = 1;
	}
}

static void start(struct grab *g)
{
	struct v4l2_requestbuffers rb;
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	int i, type = g->type;

	memset(&rb, 0, sizeof(rb));
	rb.type = g->type;
	rb.memory = V4L2_MEMORY_MMAP;
	rb.count = NBUFS;
	if (xioctl(g->fd, VIDIOC_REQBUFS, &rb))
		die("VIDIOC_REQBUFS");
	g->count = rb.count < NBUFS ? rb.count : NBUFS;
	for (i = 0; i < g->count; i++) {
		off_t off;

		init_buf(g, &b, &plane, i);
		if (xioctl(g->fd, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF");
		g->len[i] = g->mplane ? plane.length : b.length;
		off = g->mplane ? plane.m.mem_offset : b.m.offset;
		g->mem[i] = mmap(NULL, g->len[i], PROT_READ, MAP_SHARED,
				 g->fd, off);
		if (g->mem[i] == MAP_FAILED)
			die("mmap");
		if (xioctl(g->fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF");
	}
	if (xioctl(g->fd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON");
}

static void write_ppm(const struct grab *g, const void *frame,
		      const char *path)
{
	size_t size = (size_t)g->width * g->height * 3;
	uint8_t *rgb = malloc(size);
	FILE *fp;

	if (!rgb)
		die("malloc");
	to_rgb(g, frame, rgb);
	fp = fopen(path, "wb");
	if (!fp)
		die(path);
	fprintf(fp, "P6\n%u %u\n255\n", g->width, g->height);
	if (fwrite(rgb, 1, size, fp) != size || fclose(fp))
		die(path);
	free(rgb);
}

int main(int argc, char **argv)
{
	struct grab g = { .fourcc = V4L2_PIX_FMT_XBGR32, .width = 640,
			  .height = 480 };
	const char *dev = NULL, *out = NULL;
	struct pollfd pfd;
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	int opt, n = 1, i, type;

	while ((opt = getopt(argc, argv, "d:f:s:n:o:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'f':
			g.fourcc = parse_fourcc(optarg);
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &g.width, &g.height) != 2)
				print_usage();
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			print_usage();
		}
	}
	if (!dev || !out || n < 1)
		print_usage();
	switch (g.fourcc) {
	case V4L2_PIX_FMT_XBGR32:
	case V4L2_PIX_FMT_RGB24:
	case V4L2_PIX_FMT_RGB565:
	case V4L2_PIX_FMT_YUYV:
	case V4L2_PIX_FMT_NV12:
		break;
	default:
		print_usage();
	}
	setup(&g, dev);
	start(&g);
	pfd.fd = g.fd;
	pfd.events = POLLIN;
	for (i = 0; i < n; i++) {
		int ret;

		do {
			ret = poll(&pfd, 1, 5000);
		} while (ret == -1 && errno == EINTR);
		if (ret == 0) {
			fprintf(stderr, "v4l2-grab: no frame within 5 s\n");
			return 1;
		}
		init_buf(&g, &b, &plane, 0);
		if (xioctl(g.fd, VIDIOC_DQBUF, &b))
			die("VIDIOC_DQBUF");
		if (b.index >= (uint32_t)g.count) {
			fprintf(stderr, "v4l2-grab: bad buffer index %u\n",
				b.index);
			return 1;
		}
		if (i == n - 1)
			break;
		if (xioctl(g.fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF");
	}
	write_ppm(&g, g.mem[b.index], out);
	printf("captured %d frames, last sequence %u, %ux%u %.4s, wrote %s\n",
	       n, b.sequence, g.width, g.height, (char *)&g.fourcc, out);
	type = g.type;
	xioctl(g.fd, VIDIOC_STREAMOFF, &type);
	for (i = 0; i < g.count; i++)
		munmap(g.mem[i], g.len[i]);
	close(g.fd);
	return 0;
}
