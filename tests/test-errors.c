// SPDX-License-Identifier: GPL-2.0-only
/*
 * Error tests: each bad request must fail with the documented errno, and the
 * queue must still stream a frame afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "v4l2-lib.h"

#define WIDTH	320
#define HEIGHT	240

static struct vlib_dev dev;
static struct vlib_fmt fmt;

/* Reports that @ret/@err is the failure @want. */
static bool expect_errno(int ret, int err, int want, const char *name)
{
	return tap_errno(ret, err, want, "errors: %s", name);
}

static void works_after(const char *name)
{
	char why[200];

	if (!tap_ok(!vlib_smoke_stream(&dev, why, sizeof(why)),
		    "errors: %s: queue works after", name))
		tap_diag("%s", why);
}

/* Fresh state: not streaming, no buffers, the test's default format. */
static void reset(void)
{
	vlib_streamoff(&dev);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_set_fmt(&dev, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt);
}

static int reqbufs_type(uint32_t type, uint32_t memory, uint32_t count)
{
	struct v4l2_requestbuffers rb;

	memset(&rb, 0, sizeof(rb));
	rb.type = type;
	rb.memory = memory;
	rb.count = count;
	return xioctl(dev.fd, VIDIOC_REQBUFS, &rb);
}

static int qbuf_raw(uint32_t type, uint32_t memory, uint32_t index)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;

	memset(&b, 0, sizeof(b));
	memset(planes, 0, sizeof(planes));
	b.type = type;
	b.memory = memory;
	b.index = index;
	b.m.planes = planes;
	b.length = fmt.num_planes;
	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ||
	    type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)
		b.length = VLIB_MAX_PLANES;
	return xioctl(dev.fd, VIDIOC_QBUF, &b);
}

static int streamon_type(uint32_t type)
{
	int t = type;

	return xioctl(dev.fd, VIDIOC_STREAMON, &t);
}

static void bad_types(void)
{
	uint32_t out_type = dev.mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE :
					 V4L2_BUF_TYPE_VIDEO_OUTPUT;
	int ret, err;

	reset();
	ret = reqbufs_type(dev.other_type, V4L2_MEMORY_MMAP, 2);
	err = errno;
	expect_errno(ret, err, EINVAL, "reqbufs other api type");
	ret = reqbufs_type(out_type, V4L2_MEMORY_MMAP, 2);
	err = errno;
	expect_errno(ret, err, EINVAL, "reqbufs output type");
	works_after("reqbufs bad type");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	ret = qbuf_raw(dev.other_type, V4L2_MEMORY_MMAP, 0);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf other api type");
	ret = qbuf_raw(out_type, V4L2_MEMORY_MMAP, 0);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf output type");
	works_after("qbuf bad type");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	vlib_qbuf_mmap(&dev, 0);
	ret = streamon_type(dev.other_type);
	err = errno;
	expect_errno(ret, err, EINVAL, "streamon other api type");
	ret = streamon_type(out_type);
	err = errno;
	expect_errno(ret, err, EINVAL, "streamon output type");
	works_after("streamon bad type");
}

static void bad_index(void)
{
	struct vlib_frame fr;
	int count, ret, err;

	reset();
	count = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	if (count < 1)
		tap_diag("REQBUFS(2) gave %d: %s", count, strerror(errno));
	ret = qbuf_raw(dev.type, V4L2_MEMORY_MMAP, count);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf bad index");
	ret = qbuf_raw(dev.type, V4L2_MEMORY_MMAP, 0xffffffff);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf index 0xffffffff");
	ret = vlib_querybuf(&dev, count, &fr);
	err = errno;
	expect_errno(ret, err, EINVAL, "querybuf bad index");
	works_after("bad index");
}

static void bad_memory(void)
{
	int ret, err;

	reset();
	ret = reqbufs_type(dev.type, 0, 2);
	err = errno;
	expect_errno(ret, err, EINVAL, "reqbufs memory 0");
	ret = reqbufs_type(dev.type, 99, 2);
	err = errno;
	expect_errno(ret, err, EINVAL, "reqbufs memory 99");
	works_after("reqbufs bad memory");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	ret = qbuf_raw(dev.type, V4L2_MEMORY_USERPTR, 0);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf userptr on mmap queue");
	works_after("qbuf memory mismatch");
}

static void counts(void)
{
	struct vlib_frame fr;
	int count, ret, err;

	reset();
	count = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 100000, NULL);
	if (!tap_ok(count >= 1 && count <= 32, "errors: reqbufs huge count clamped"))
		tap_diag("REQBUFS(100000) gave %d (%s)", count,
			 count < 0 ? strerror(errno) : "count");
	if (count > 0) {
		ret = vlib_querybuf(&dev, count - 1, &fr);
		if (!tap_ok(!ret, "errors: querybuf last clamped buffer"))
			tap_diag("QUERYBUF %d: %s", count - 1, strerror(errno));
		ret = vlib_querybuf(&dev, count, &fr);
		err = errno;
		expect_errno(ret, err, EINVAL, "querybuf beyond clamped count");
	}
	count = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
	if (!tap_ok(count == 0, "errors: reqbufs 0 frees"))
		tap_diag("REQBUFS(0) gave %d (%s)", count, strerror(errno));
	ret = vlib_querybuf(&dev, 0, &fr);
	err = errno;
	expect_errno(ret, err, EINVAL, "querybuf after reqbufs 0");
	works_after("counts");
}

/* Queues USERPTR buffer 0 with the given plane memory and lengths. */
static int qbuf_user(void *const mem[], const uint32_t len[])
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int i;

	vlib_init_buf(&dev, &b, planes, V4L2_MEMORY_USERPTR, 0);
	if (dev.mplane) {
		b.length = fmt.num_planes;
		for (i = 0; i < fmt.num_planes; i++) {
			planes[i].m.userptr = (unsigned long)mem[i];
			planes[i].length = len[i];
		}
	} else {
		b.m.userptr = (unsigned long)mem[0];
		b.length = len[0];
	}
	return xioctl(dev.fd, VIDIOC_QBUF, &b);
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void userptr_cases(void)
{
	void *mem[VLIB_MAX_PLANES] = { NULL, NULL };
	uint32_t len[VLIB_MAX_PLANES] = { 0, 0 };
	size_t size;
	int ret, err, count;
	unsigned int i;

	if (!vlib_has_userptr(&dev)) {
		tap_skip("no USERPTR on this queue", "errors: userptr cases");
		return;
	}
	reset();
	count = vlib_reqbufs(&dev, V4L2_MEMORY_USERPTR, 2, NULL);
	if (!tap_ok(count >= 1, "errors: userptr reqbufs"))
		tap_diag("REQBUFS(USERPTR) %s", strerror(errno));
	size = fmt.sizeimage[0] + 2 * sysconf(_SC_PAGESIZE);
	mem[0] = map_anon(size);
	len[0] = fmt.sizeimage[0] - 1;
	ret = qbuf_user(mem, len);
	err = errno;
	expect_errno(ret, err, EINVAL, "userptr length below sizeimage");
	len[0] = 0;
	ret = qbuf_user(mem, len);
	err = errno;
	expect_errno(ret, err, EINVAL, "userptr length 0");
	munmap(mem[0], size);
	works_after("userptr too short");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_USERPTR, 2, NULL);
	mem[0] = map_anon(size);
	munmap(mem[0], size);
	len[0] = fmt.sizeimage[0];
	ret = qbuf_user(mem, len);
	err = errno;
	expect_errno(ret, err, EFAULT, "userptr unmapped memory");
	works_after("userptr unmapped");

	/* The second plane of NV12M too short. */
	if (!dev.mplane) {
		tap_skip("single-planar node", "errors: userptr plane 1 too short");
		return;
	}
	reset();
	vlib_set_fmt(&dev, V4L2_PIX_FMT_NV12M, WIDTH, HEIGHT, &fmt);
	vlib_reqbufs(&dev, V4L2_MEMORY_USERPTR, 2, NULL);
	for (i = 0; i < 2; i++) {
		mem[i] = map_anon(fmt.sizeimage[i]);
		len[i] = fmt.sizeimage[i];
	}
	len[1] = fmt.sizeimage[1] - 1;
	ret = qbuf_user(mem, len);
	err = errno;
	expect_errno(ret, err, EINVAL, "userptr plane 1 too short");
	for (i = 0; i < 2; i++)
		munmap(mem[i], fmt.sizeimage[i]);
	works_after("userptr plane 1 too short");
}

static void state_cases(void)
{
	struct vlib_frame fr;
	struct v4l2_format f;
	int ret, err;

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	vlib_qbuf_mmap(&dev, 0);
	vlib_init_buf(&dev, &fr.buf, fr.planes, V4L2_MEMORY_MMAP, 0);
	ret = ioctl_timeout(dev.fd, VIDIOC_DQBUF, &fr.buf, 3);
	err = errno;
	expect_errno(ret, err, EINVAL, "dqbuf before streamon");
	works_after("dqbuf before streamon");

	reset();
	ret = vlib_streamon(&dev);
	err = errno;
	expect_errno(ret, err, EINVAL, "streamon without buffers");
	works_after("streamon without buffers");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	ret = vlib_qbuf_mmap(&dev, 0);
	if (!tap_ok(!ret, "errors: first qbuf succeeds"))
		tap_diag("QBUF: %s", strerror(errno));
	ret = vlib_qbuf_mmap(&dev, 0);
	err = errno;
	expect_errno(ret, err, EINVAL, "qbuf same buffer twice");
	works_after("qbuf twice");

	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	ret = vlib_set_fmt(&dev, V4L2_PIX_FMT_RGB24, WIDTH / 2, HEIGHT / 2,
			   NULL);
	err = errno;
	expect_errno(ret, err, EBUSY, "s_fmt while buffers allocated");
	memset(&f, 0, sizeof(f));
	f.type = dev.type;
	ret = xioctl(dev.fd, VIDIOC_G_FMT, &f);
	if (!tap_ok(!ret && (dev.mplane ? f.fmt.pix_mp.width : f.fmt.pix.width) == WIDTH,
		    "errors: format unchanged after busy s_fmt"))
		tap_diag("G_FMT ret %d width %u", ret,
			 dev.mplane ? f.fmt.pix_mp.width : f.fmt.pix.width);
	ret = xioctl(dev.fd, VIDIOC_TRY_FMT, &f);
	if (!tap_ok(!ret, "errors: try_fmt while buffers allocated"))
		tap_diag("TRY_FMT: %s", strerror(errno));
	works_after("s_fmt busy");
}

static void mplane_cases(void)
{
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	struct v4l2_buffer b;
	int ret, err;

	if (!dev.mplane) {
		tap_skip("single-planar node", "errors: mplane qbuf zero planes");
		tap_skip("single-planar node", "errors: mplane qbuf fewer planes than format");
		return;
	}
	reset();
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	vlib_init_buf(&dev, &b, planes, V4L2_MEMORY_MMAP, 0);
	b.length = 0;
	ret = xioctl(dev.fd, VIDIOC_QBUF, &b);
	err = errno;
	expect_errno(ret, err, EINVAL, "mplane qbuf zero planes");
	works_after("mplane qbuf zero planes");

	reset();
	vlib_set_fmt(&dev, V4L2_PIX_FMT_NV12M, WIDTH, HEIGHT, &fmt);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 2, NULL);
	vlib_init_buf(&dev, &b, planes, V4L2_MEMORY_MMAP, 0);
	b.length = 1;
	ret = xioctl(dev.fd, VIDIOC_QBUF, &b);
	err = errno;
	expect_errno(ret, err, EINVAL, "mplane qbuf fewer planes than format");
	works_after("mplane qbuf fewer planes");
}

/*
 * The number of results, known before the first: bad_types 9, bad_index 4,
 * bad_memory 5, counts 6, state_cases 11; userptr_cases 1 (skipped) or 6,
 * plus 1 (skipped) or 2 for plane 1; mplane_cases 2 (skipped) or 4.
 */
static unsigned int planned(void)
{
	unsigned int n = 9 + 4 + 5 + 6 + 11;

	if (vlib_has_userptr(&dev))
		n += 6 + (dev.mplane ? 2 : 1);
	else
		n += 1;
	return n + (dev.mplane ? 4 : 2);
}

int main(int argc, char **argv)
{
	vlib_start(argc, argv, &dev, NULL);
	tap_plan(planned());
	bad_types();
	bad_index();
	bad_memory();
	counts();
	userptr_cases();
	state_cases();
	mplane_cases();
	reset();
	vlib_close(&dev);
	return tap_done();
}
