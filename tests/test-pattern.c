// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frame content tests: every format the node offers, at two sizes, with the
 * colour bars, HFLIP and the black test pattern, checked pixel by pixel
 * against the model of the device contract.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v4l2-lib.h"

#define NFRAMES	3
#define NBUFS	3

static struct vlib_dev dev;

static const struct {
	uint32_t width;
	uint32_t height;
} sizes[] = {
	{ 640, 480 },
	{ 176, 144 },
};

static const struct {
	const char *name;
	int hflip;
	int test_pattern;
} variants[] = {
	{ "bars", 0, 0 },
	{ "hflip", 1, 0 },
	{ "black", 0, 1 },
};

static void check_controls(void)
{
	struct v4l2_queryctrl qc;
	struct v4l2_querymenu qm;
	bool ok;
	int i;

	memset(&qc, 0, sizeof(qc));
	qc.id = V4L2_CID_HFLIP;
	ok = !xioctl(dev.fd, VIDIOC_QUERYCTRL, &qc);
	if (!tap_ok(ok && qc.type == V4L2_CTRL_TYPE_BOOLEAN &&
		    qc.minimum == 0 && qc.maximum == 1 &&
		    qc.default_value == 0, "pattern: hflip control"))
		tap_diag("QUERYCTRL(HFLIP) ret %d type %u min %d max %d def %d",
			 ok ? 0 : -errno, qc.type, qc.minimum, qc.maximum,
			 qc.default_value);

	memset(&qc, 0, sizeof(qc));
	qc.id = V4L2_CID_TEST_PATTERN;
	ok = !xioctl(dev.fd, VIDIOC_QUERYCTRL, &qc);
	if (!tap_ok(ok && qc.type == V4L2_CTRL_TYPE_MENU &&
		    qc.minimum == 0 && qc.maximum == 1 &&
		    qc.default_value == 0, "pattern: test_pattern control"))
		tap_diag("QUERYCTRL(TEST_PATTERN) ret %d type %u min %d max %d def %d",
			 ok ? 0 : -errno, qc.type, qc.minimum, qc.maximum,
			 qc.default_value);
	ok = true;
	for (i = 0; i < 2; i++) {
		static const char * const names[] = { "Colour Bars", "Black" };

		memset(&qm, 0, sizeof(qm));
		qm.id = V4L2_CID_TEST_PATTERN;
		qm.index = i;
		if (xioctl(dev.fd, VIDIOC_QUERYMENU, &qm) ||
		    strcmp((char *)qm.name, names[i])) {
			tap_diag("QUERYMENU %d: %s name '%s'", i,
				 strerror(errno), (char *)qm.name);
			ok = false;
		}
	}
	tap_ok(ok, "pattern: test_pattern menu names");
}

/* Returns the number of formats ENUM_FMT gives, at most @max, in @list. */
static int enum_formats(uint32_t *list, int max)
{
	struct v4l2_fmtdesc fd;
	int n;

	for (n = 0; n < max; n++) {
		memset(&fd, 0, sizeof(fd));
		fd.type = dev.type;
		fd.index = n;
		if (xioctl(dev.fd, VIDIOC_ENUM_FMT, &fd))
			break;
		list[n] = fd.pixelformat;
	}
	return n;
}

static void check_format_list(const uint32_t *list, int n)
{
	static const uint32_t expected[] = {
		V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_XBGR32,
		V4L2_PIX_FMT_RGB565, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_NV12M,
	};
	int nexp = dev.mplane ? 6 : 5;
	char a[5], b[5];
	bool ok = true;

	if (n != nexp) {
		tap_diag("ENUM_FMT gave %d formats, expected %d", n, nexp);
		ok = false;
	}
	for (int i = 0; i < n && i < nexp && ok; i++) {
		if (list[i] != expected[i]) {
			tap_diag("format %d is %s, expected %s", i,
				 vlib_fourcc_str(list[i], a),
				 vlib_fourcc_str(expected[i], b));
			ok = false;
		}
	}
	tap_ok(ok, "pattern: enum_fmt list");
}

static bool is_yuv(uint32_t fourcc)
{
	return fourcc == V4L2_PIX_FMT_YUYV || fourcc == V4L2_PIX_FMT_NV12 ||
	       fourcc == V4L2_PIX_FMT_NV12M;
}

/* Checks the format fields against the contract. */
static bool check_fmt(const struct vlib_fmt *f, uint32_t fourcc, uint32_t w,
		      uint32_t h, char *msg, size_t len)
{
	uint32_t bpl[2] = { 0, 0 }, size[2] = { 0, 0 };
	unsigned int planes = 1, i;
	uint32_t quant;

	switch (fourcc) {
	case V4L2_PIX_FMT_YUYV:
	case V4L2_PIX_FMT_RGB565:
		bpl[0] = 2 * w;
		size[0] = bpl[0] * h;
		break;
	case V4L2_PIX_FMT_RGB24:
		bpl[0] = 3 * w;
		size[0] = bpl[0] * h;
		break;
	case V4L2_PIX_FMT_XBGR32:
		bpl[0] = 4 * w;
		size[0] = bpl[0] * h;
		break;
	case V4L2_PIX_FMT_NV12:
		bpl[0] = w;
		size[0] = w * h * 3 / 2;
		break;
	case V4L2_PIX_FMT_NV12M:
		planes = 2;
		bpl[0] = w;
		bpl[1] = w;
		size[0] = w * h;
		size[1] = w * h / 2;
		break;
	}
	if (f->fourcc != fourcc || f->width != w || f->height != h) {
		snprintf(msg, len, "got %ux%u fourcc 0x%08x", f->width,
			 f->height, f->fourcc);
		return false;
	}
	if (f->num_planes != planes) {
		snprintf(msg, len, "num_planes %u, expected %u", f->num_planes,
			 planes);
		return false;
	}
	for (i = 0; i < planes; i++) {
		if (f->bytesperline[i] != bpl[i] || f->sizeimage[i] != size[i]) {
			snprintf(msg, len,
				 "plane %u: bytesperline %u sizeimage %u, expected %u %u",
				 i, f->bytesperline[i], f->sizeimage[i], bpl[i],
				 size[i]);
			return false;
		}
	}
	quant = is_yuv(fourcc) ? V4L2_QUANTIZATION_LIM_RANGE :
				 V4L2_QUANTIZATION_FULL_RANGE;
	if (f->field != V4L2_FIELD_NONE ||
	    f->colorspace != V4L2_COLORSPACE_SRGB ||
	    f->xfer_func != V4L2_XFER_FUNC_SRGB ||
	    f->ycbcr_enc != V4L2_YCBCR_ENC_601 || f->quantization != quant) {
		snprintf(msg, len,
			 "field %u colorspace %u xfer %u enc %u quant %u, expected %u %u %u %u %u",
			 f->field, f->colorspace, f->xfer_func, f->ycbcr_enc,
			 f->quantization, V4L2_FIELD_NONE, V4L2_COLORSPACE_SRGB,
			 V4L2_XFER_FUNC_SRGB, V4L2_YCBCR_ENC_601, quant);
		return false;
	}
	return true;
}

/* Streams NFRAMES frames with the given controls and checks each one. */
static void capture_variant(const struct vlib_fmt *f, const char *tag,
			    int v)
{
	struct vlib_buf bufs[NBUFS];
	struct vlib_frame fr;
	struct vlib_pattern pat = {
		.hflip = variants[v].hflip,
		.test_pattern = variants[v].test_pattern,
	};
	char msg[512] = "", cmsg[200] = "";
	bool ok = true, cok = true;
	int count, i, n = 0;

	memset(bufs, 0, sizeof(bufs));
	if (vlib_set_ctrl(&dev, V4L2_CID_HFLIP, pat.hflip) ||
	    vlib_set_ctrl(&dev, V4L2_CID_TEST_PATTERN, pat.test_pattern)) {
		snprintf(msg, sizeof(msg), "S_CTRL: %s", strerror(errno));
		ok = false;
		goto out;
	}
	count = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, NBUFS, NULL);
	if (count < 1) {
		snprintf(msg, sizeof(msg), "REQBUFS: %s", strerror(errno));
		ok = false;
		goto out;
	}
	if (count > NBUFS)
		count = NBUFS;
	for (i = 0; i < count && ok; i++) {
		if (vlib_mmap_buf(&dev, i, &bufs[i]) ||
		    vlib_qbuf_mmap(&dev, i)) {
			snprintf(msg, sizeof(msg), "buffer %d: %s", i,
				 strerror(errno));
			ok = false;
		}
	}
	if (ok && vlib_streamon(&dev)) {
		snprintf(msg, sizeof(msg), "STREAMON: %s", strerror(errno));
		ok = false;
	}
	for (n = 0; n < NFRAMES && ok; n++) {
		void *planes[VLIB_MAX_PLANES];
		uint32_t seq;
		int dret;

		if (vlib_dqbuf(&dev, V4L2_MEMORY_MMAP, &fr,
			       VLIB_DQBUF_TIMEOUT_MS)) {
			snprintf(msg, sizeof(msg), "DQBUF: %s",
				 strerror(errno));
			ok = false;
			break;
		}
		pat.sequence = fr.buf.sequence;
		for (i = 0; i < VLIB_MAX_PLANES; i++)
			planes[i] = bufs[fr.buf.index].start[i];
		if (!pattern_check(f, &pat, planes, msg, sizeof(msg)))
			ok = false;
		seq = 0;
		dret = pattern_decode_counter(f, planes, &seq);
		if (cok && (dret || seq != fr.buf.sequence)) {
			if (dret)
				snprintf(cmsg, sizeof(cmsg),
					 "frame %d: sequence %u, counter band undecodable",
					 n, fr.buf.sequence);
			else
				snprintf(cmsg, sizeof(cmsg),
					 "frame %d: sequence %u, counter band decodes to %u",
					 n, fr.buf.sequence, seq);
			cok = false;
		}
		vlib_qbuf_mmap(&dev, fr.buf.index);
	}
out:
	if (!tap_ok(ok, "pattern: %s %s", tag, variants[v].name))
		tap_diag("%s", msg);
	if (!strcmp(variants[v].name, "bars") &&
	    !tap_ok(ok && cok, "pattern: %s counter band == sequence", tag))
		tap_diag("%s", cmsg[0] ? cmsg : "no frame checked");
	vlib_streamoff(&dev);
	for (i = 0; i < NBUFS; i++)
		vlib_unmap_buf(&bufs[i]);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
}

/*
 * Turns HFLIP on while streaming: frames filled before may still arrive, but
 * once a flipped frame is seen every later frame must be flipped too.
 */
static void live_hflip(void)
{
	struct vlib_pattern plain = { 0 }, flip = { .hflip = 1 };
	struct vlib_buf bufs[NBUFS];
	struct vlib_frame fr;
	struct vlib_fmt f;
	char msg[512] = "", tmp[400];
	bool ok = true, flipped = false;
	int count, i, n;

	memset(bufs, 0, sizeof(bufs));
	vlib_set_ctrl(&dev, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&dev, V4L2_CID_TEST_PATTERN, 0);
	if (vlib_set_fmt(&dev, V4L2_PIX_FMT_YUYV, 640, 480, &f)) {
		snprintf(msg, sizeof(msg), "S_FMT: %s", strerror(errno));
		ok = false;
	}
	count = ok ? vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, NBUFS, NULL) : -1;
	if (count > NBUFS)
		count = NBUFS;
	for (i = 0; i < count && ok; i++)
		ok = !vlib_mmap_buf(&dev, i, &bufs[i]) &&
		     !vlib_qbuf_mmap(&dev, i);
	ok = ok && count > 0 && !vlib_streamon(&dev);
	if (!ok && !msg[0])
		snprintf(msg, sizeof(msg), "setup: %s", strerror(errno));
	for (n = 0; n < 12 && ok; n++) {
		void *planes[VLIB_MAX_PLANES] = { NULL, NULL };

		if (n == 2 && vlib_set_ctrl(&dev, V4L2_CID_HFLIP, 1)) {
			snprintf(msg, sizeof(msg), "S_CTRL: %s",
				 strerror(errno));
			ok = false;
			break;
		}
		if (vlib_dqbuf(&dev, V4L2_MEMORY_MMAP, &fr,
			       VLIB_DQBUF_TIMEOUT_MS)) {
			snprintf(msg, sizeof(msg), "DQBUF: %s",
				 strerror(errno));
			ok = false;
			break;
		}
		planes[0] = bufs[fr.buf.index].start[0];
		plain.sequence = fr.buf.sequence;
		flip.sequence = fr.buf.sequence;
		if (pattern_check(&f, &flip, planes, tmp, sizeof(tmp))) {
			flipped = n >= 2;
			if (n < 2) {
				snprintf(msg, sizeof(msg),
					 "frame %d flipped before S_CTRL", n);
				ok = false;
			}
		} else if (flipped || n >= 2 + NBUFS + 1 ||
			   !pattern_check(&f, &plain, planes, tmp,
					  sizeof(tmp))) {
			snprintf(msg, sizeof(msg), "frame %d: %s", n, tmp);
			ok = false;
		}
		vlib_qbuf_mmap(&dev, fr.buf.index);
	}
	if (ok && !flipped) {
		snprintf(msg, sizeof(msg), "no flipped frame seen");
		ok = false;
	}
	if (!tap_ok(ok, "pattern: hflip applies while streaming"))
		tap_diag("%s", msg);
	vlib_streamoff(&dev);
	for (i = 0; i < NBUFS; i++)
		vlib_unmap_buf(&bufs[i]);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
}

static void test_format(uint32_t fourcc, uint32_t w, uint32_t h)
{
	struct vlib_fmt f;
	char tag[48], fcc[5], msg[200] = "";
	unsigned int v;
	int ret;

	snprintf(tag, sizeof(tag), "%s %ux%u", vlib_fourcc_str(fourcc, fcc),
		 w, h);
	ret = vlib_set_fmt(&dev, fourcc, w, h, &f);
	if (ret)
		snprintf(msg, sizeof(msg), "S_FMT: %s", strerror(errno));
	if (!tap_ok(!ret && check_fmt(&f, fourcc, w, h, msg, sizeof(msg)),
		    "pattern: %s format", tag))
		tap_diag("%s", msg);
	if (ret)
		return;
	for (v = 0; v < ARRAY_SIZE(variants); v++)
		capture_variant(&f, tag, v);
}

int main(int argc, char **argv)
{
	uint32_t formats[16];
	int32_t hflip = -1, tp = -1;
	unsigned int s, planned;
	int n, i;

	vlib_start(argc, argv, &dev, NULL);
	n = enum_formats(formats, 16);
	/*
	 * 3 control checks, the format list, per format in the model and
	 * size: its format and per variant its frames (bars: and the
	 * counter band); one result for a format not in the model; live
	 * hflip and the controls restored.
	 */
	planned = 3 + 1 + 2;
	for (i = 0; i < n; i++)
		planned += pattern_supported(formats[i]) ?
			   ARRAY_SIZE(sizes) * (1 + ARRAY_SIZE(variants) + 1) : 1;
	tap_plan(planned);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_set_fps(&dev, 1, 30);
	check_controls();
	check_format_list(formats, n);
	for (i = 0; i < n; i++) {
		if (!pattern_supported(formats[i])) {
			char fcc[5];

			tap_ok(false, "pattern: %s in the model",
			       vlib_fourcc_str(formats[i], fcc));
			continue;
		}
		for (s = 0; s < ARRAY_SIZE(sizes); s++)
			test_format(formats[i], sizes[s].width,
				    sizes[s].height);
	}
	live_hflip();
	vlib_set_ctrl(&dev, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&dev, V4L2_CID_TEST_PATTERN, 0);
	vlib_get_ctrl(&dev, V4L2_CID_HFLIP, &hflip);
	vlib_get_ctrl(&dev, V4L2_CID_TEST_PATTERN, &tp);
	if (!tap_ok(hflip == 0 && tp == 0, "pattern: controls restored"))
		tap_diag("HFLIP %d TEST_PATTERN %d", hflip, tp);
	vlib_set_fmt(&dev, V4L2_PIX_FMT_YUYV, 640, 480, NULL);
	vlib_close(&dev);
	return tap_done();
}
