// SPDX-License-Identifier: GPL-2.0-only
/*
 * v4l2-fps: set the frame interval of a video capture or output node,
 * single- or multi-planar.
 *
 *	v4l2-fps -d /dev/videoN -r FPS
 *
 * VIDIOC_S_PARM takes the node's own buffer type (the multi-planar type on
 * a multi-planar node, as for VIDIOC_S_FMT). v4l2-ctl 1.22's --set-parm
 * and --set-output-parm always pass the single-planar types, which a
 * multi-planar node refuses with EINVAL; this tool passes the right one.
 * Prints the interval the driver chose.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

static int fail(const char *what)
{
	fprintf(stderr, "v4l2-fps: %s: %s\n", what, strerror(errno));
	return 1;
}

/* The buffer type of the node's video API, or 0 if it has none. */
static unsigned int node_type(const struct v4l2_capability *cap)
{
	unsigned int caps = cap->capabilities;

	if (caps & V4L2_CAP_DEVICE_CAPS)
		caps = cap->device_caps;
	if (caps & V4L2_CAP_VIDEO_CAPTURE)
		return V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
		return V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	if (caps & V4L2_CAP_VIDEO_OUTPUT)
		return V4L2_BUF_TYPE_VIDEO_OUTPUT;
	if (caps & V4L2_CAP_VIDEO_OUTPUT_MPLANE)
		return V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	return 0;
}

int main(int argc, char **argv)
{
	struct v4l2_fract *tpf;
	struct v4l2_streamparm parm;
	struct v4l2_capability cap;
	const char *path = NULL;
	unsigned long fps = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "d:r:")) != -1) {
		if (opt == 'd')
			path = optarg;
		else if (opt == 'r')
			fps = strtoul(optarg, NULL, 10);
		else
			path = NULL;
	}
	if (!path || !fps || fps > 1000) {
		fprintf(stderr, "usage: %s -d /dev/videoN -r FPS (1..1000)\n",
			argv[0]);
		return 2;
	}
	fd = open(path, O_RDWR);
	if (fd < 0)
		return fail(path);
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap))
		return fail("VIDIOC_QUERYCAP");
	memset(&parm, 0, sizeof(parm));
	parm.type = node_type(&cap);
	if (!parm.type) {
		errno = ENOTTY;
		return fail("not a video capture or output node");
	}
	if (V4L2_TYPE_IS_OUTPUT(parm.type))
		tpf = &parm.parm.output.timeperframe;
	else
		tpf = &parm.parm.capture.timeperframe;
	tpf->numerator = 1;
	tpf->denominator = fps;
	if (ioctl(fd, VIDIOC_S_PARM, &parm))
		return fail("VIDIOC_S_PARM");
	printf("%s: frame interval %u/%u s\n", path, tpf->numerator,
	       tpf->denominator);
	close(fd);
	return 0;
}
