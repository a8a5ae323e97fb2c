// SPDX-License-Identifier: GPL-2.0-only
/*
 * Queue ownership tests: the file handle that allocated buffers owns the
 * queue until it frees them or closes; other handles get EBUSY, may QUERYBUF
 * but may not mmap. Also checks orphaned buffers that stay mapped after
 * REQBUFS(0).
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
#define NBUFS	4

static struct vlib_dev d1, d2;
static struct vlib_fmt fmt;

static bool expect_errno(int ret, int err, int want, const char *name)
{
	return tap_errno(ret, err, want, "ownership: %s", name);
}

static int streamon_off(struct vlib_dev *d, unsigned long req)
{
	int type = d->type;

	return xioctl(d->fd, req, &type);
}

/* Streams one frame on the owner's already mapped and queued buffers. */
static int owner_frame(struct vlib_dev *d, struct vlib_frame *fr)
{
	if (vlib_dqbuf(d, V4L2_MEMORY_MMAP, fr, VLIB_DQBUF_TIMEOUT_MS))
		return -1;
	return vlib_qbuf_mmap(d, fr->buf.index);
}

static void non_owner(void)
{
	struct vlib_buf bufs[NBUFS];
	struct v4l2_create_buffers cb;
	struct vlib_frame fr;
	int ret, err, count, i;
	void *p;

	memset(bufs, 0, sizeof(bufs));
	count = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS, NULL);
	if (!tap_ok(count >= 1, "ownership: owner reqbufs"))
		tap_diag("REQBUFS: %s", strerror(errno));
	if (count > NBUFS)
		count = NBUFS;

	ret = vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 1, NULL);
	expect_errno(ret, errno, EBUSY, "non-owner reqbufs");
	ret = vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 0, NULL);
	expect_errno(ret, errno, EBUSY, "non-owner reqbufs 0");
	memset(&cb, 0, sizeof(cb));
	cb.count = 1;
	cb.memory = V4L2_MEMORY_MMAP;
	cb.format.type = d2.type;
	xioctl(d2.fd, VIDIOC_G_FMT, &cb.format);
	ret = xioctl(d2.fd, VIDIOC_CREATE_BUFS, &cb);
	expect_errno(ret, errno, EBUSY, "non-owner create_bufs");
	ret = vlib_qbuf_mmap(&d2, 0);
	expect_errno(ret, errno, EBUSY, "non-owner qbuf");
	vlib_init_buf(&d2, &fr.buf, fr.planes, V4L2_MEMORY_MMAP, 0);
	ret = ioctl_timeout(d2.fd, VIDIOC_DQBUF, &fr.buf, 3);
	expect_errno(ret, errno, EBUSY, "non-owner dqbuf");
	ret = streamon_off(&d2, VIDIOC_STREAMON);
	expect_errno(ret, errno, EBUSY, "non-owner streamon");
	ret = streamon_off(&d2, VIDIOC_STREAMOFF);
	expect_errno(ret, errno, EBUSY, "non-owner streamoff");
	ret = vlib_set_fmt(&d2, V4L2_PIX_FMT_RGB24, WIDTH, HEIGHT, NULL);
	expect_errno(ret, errno, EBUSY, "non-owner s_fmt");

	ret = vlib_querybuf(&d2, 0, &fr);
	if (!tap_ok(!ret, "ownership: non-owner querybuf"))
		tap_diag("QUERYBUF: %s", strerror(errno));
	if (!ret) {
		off_t off = d2.mplane ? fr.planes[0].m.mem_offset :
					fr.buf.m.offset;

		p = mmap(NULL, fr.length[0], PROT_READ, MAP_SHARED, d2.fd,
			 off);
		err = errno;
		expect_errno(p == MAP_FAILED ? -1 : 0, err, EBUSY,
			     "non-owner mmap");
		if (p != MAP_FAILED)
			munmap(p, fr.length[0]);
	}

	/* The owner streams after all that. */
	ret = 0;
	for (i = 0; i < count && !ret; i++)
		ret = vlib_mmap_buf(&d1, i, &bufs[i]) ||
		      vlib_qbuf_mmap(&d1, i);
	if (!ret)
		ret = vlib_streamon(&d1);
	if (!ret)
		ret = owner_frame(&d1, &fr);
	if (!tap_ok(!ret, "ownership: owner streams after non-owner attempts"))
		tap_diag("owner: %s", strerror(errno));
	ret = streamon_off(&d2, VIDIOC_STREAMOFF);
	expect_errno(ret, errno, EBUSY, "non-owner streamoff while streaming");
	ret = owner_frame(&d1, &fr);
	if (!tap_ok(!ret, "ownership: owner still streaming"))
		tap_diag("owner DQBUF: %s", strerror(errno));

	vlib_streamoff(&d1);
	for (i = 0; i < NBUFS; i++)
		vlib_unmap_buf(&bufs[i]);
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	if (!tap_ok(ret == 0, "ownership: owner reqbufs 0"))
		tap_diag("REQBUFS(0): %s", strerror(errno));
	ret = vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 2, NULL);
	if (!tap_ok(ret >= 1, "ownership: reqbufs 0 releases ownership"))
		tap_diag("fd2 REQBUFS: %s", strerror(errno));
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL);
	expect_errno(ret, errno, EBUSY, "old owner gets EBUSY");

	vlib_close(&d2);
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL);
	if (!tap_ok(ret >= 1, "ownership: close releases ownership"))
		tap_diag("fd1 REQBUFS after close of owner: %s",
			 strerror(errno));
	if (vlib_open(&d2, d1.path, 0))
		tap_diag("reopen: %s", strerror(errno));
	ret = vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 1, NULL);
	expect_errno(ret, errno, EBUSY, "reopened handle is not owner");
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
}

static bool frame_ok(const struct vlib_buf *b, uint32_t seq, char *msg,
		     size_t len)
{
	struct vlib_pattern pat = { .sequence = seq };
	void *planes[VLIB_MAX_PLANES] = { b->start[0], b->start[1] };

	return pattern_check(&fmt, &pat, planes, msg, len);
}

static void orphan_checks(void)
{
	struct vlib_buf bufs[2], orphan;
	struct vlib_frame fr;
	uint8_t *copy = NULL;
	uint32_t caps = 0, seq = 0;
	int ret, count, i, idx = -1;
	char msg[400];
	size_t len = 0;

	memset(bufs, 0, sizeof(bufs));
	memset(&orphan, 0, sizeof(orphan));
	count = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, &caps);
	if (!tap_ok(caps & V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS,
		    "ownership: orphaned bufs capability"))
		tap_diag("REQBUFS capabilities 0x%x", caps);
	if (count > 2)
		count = 2;
	ret = count < 1;
	for (i = 0; i < count && !ret; i++)
		ret = vlib_mmap_buf(&d1, i, &bufs[i]) ||
		      vlib_qbuf_mmap(&d1, i);
	if (!ret)
		ret = vlib_streamon(&d1);
	if (!ret)
		ret = vlib_dqbuf(&d1, V4L2_MEMORY_MMAP, &fr,
				 VLIB_DQBUF_TIMEOUT_MS);
	if (!tap_ok(!ret, "ownership: capture a frame to orphan")) {
		tap_diag("%s", strerror(errno));
		goto out;
	}
	idx = fr.buf.index;
	seq = fr.buf.sequence;
	orphan = bufs[idx];
	memset(&bufs[idx], 0, sizeof(bufs[idx]));
	len = orphan.length[0];
	copy = malloc(len);
	memcpy(copy, orphan.start[0], len);
	vlib_streamoff(&d1);
	vlib_unmap_buf(&bufs[1 - idx]);

	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	if (!tap_ok(ret == 0, "ownership: reqbufs 0 with a mapped buffer"))
		tap_diag("REQBUFS(0): %d %s", ret, strerror(errno));
	ret = !memcmp(copy, orphan.start[0], len);
	tap_ok(ret, "ownership: orphaned mapping readable and intact");
	if (!tap_ok(frame_ok(&orphan, seq, msg, sizeof(msg)),
		    "ownership: orphaned buffer holds its frame"))
		tap_diag("%s", msg);

	/* New buffers stream and leave the orphan alone. */
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL) < 1;
	for (i = 0; i < 2 && !ret; i++)
		ret = vlib_mmap_buf(&d1, i, &bufs[i]) ||
		      vlib_qbuf_mmap(&d1, i);
	if (!ret)
		ret = vlib_streamon(&d1);
	for (i = 0; i < 4 && !ret; i++)
		ret = owner_frame(&d1, &fr);
	if (!tap_ok(!ret, "ownership: new buffers stream after orphaning"))
		tap_diag("%s", strerror(errno));
	vlib_streamoff(&d1);
	for (i = 0; i < 2; i++)
		vlib_unmap_buf(&bufs[i]);
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	tap_ok(!memcmp(copy, orphan.start[0], len),
	       "ownership: orphan untouched by new streaming");

	vlib_close(&d1);
	tap_ok(!memcmp(copy, orphan.start[0], len),
	       "ownership: orphan survives close of the file handle");
	if (vlib_open(&d1, d2.path, 0))
		tap_diag("reopen: %s", strerror(errno));
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL);
	if (!tap_ok(ret >= 1, "ownership: queue usable with orphan mapped"))
		tap_diag("REQBUFS: %s", strerror(errno));
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
out:
	vlib_streamoff(&d1);
	for (i = 0; i < 2; i++)
		vlib_unmap_buf(&bufs[i]);
	vlib_unmap_buf(&orphan);
	free(copy);
}

int main(int argc, char **argv)
{
	vlib_start(argc, argv, &d1, &d2);
	/* non_owner 19 results, orphan_checks 9 */
	tap_plan(19 + 9);
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	if (vlib_set_fmt(&d1, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
	non_owner();
	orphan_checks();
	vlib_close(&d1);
	vlib_close(&d2);
	return tap_done();
}
