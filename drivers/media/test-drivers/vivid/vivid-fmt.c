// SPDX-License-Identifier: GPL-2.0
/*
 * Pixel formats of the vivid-expbuf capture node and the
 * size arithmetic behind G/S/TRY_FMT
 */
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/videodev2.h>

#include "vivid-core.h"

/* In ENUM_FMT order; the first entry is the default format. */
static const struct vivid_fmt vivid_formats[] = {
	{
		.fourcc = V4L2_PIX_FMT_YUYV,
		.bpp = 2,
		.is_yuv = true,
		.mem_planes = 1,
	}, {
		.fourcc = V4L2_PIX_FMT_RGB24,
		.bpp = 3,
		.mem_planes = 1,
	}, {
		.fourcc = V4L2_PIX_FMT_XBGR32,
		.bpp = 4,
		.mem_planes = 1,
	}, {
		.fourcc = V4L2_PIX_FMT_RGB565,
		.bpp = 2,
		.mem_planes = 1,
	}, {
		.fourcc = V4L2_PIX_FMT_NV12,
		.bpp = 1,
		.is_yuv = true,
		.has_chroma = true,
		.mem_planes = 1,
	}, {
		.fourcc = V4L2_PIX_FMT_NV12M,
		.bpp = 1,
		.is_yuv = true,
		.has_chroma = true,
		.mem_planes = 2,
		.mplane_only = true,
	},
};

/**
 * vivid_enum_fmt() - the format at an ENUM_FMT index
 * @index: the index
 * @multiplanar: the node uses the multi-planar API
 *
 * Return: the format, or NULL past the last one.
 */
const struct vivid_fmt *vivid_enum_fmt(unsigned int index, bool multiplanar)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vivid_formats); i++) {
		if (vivid_formats[i].mplane_only && !multiplanar)
			continue;
		if (!index--)
			return &vivid_formats[i];
	}
	return NULL;
}

/**
 * vivid_find_fmt() - look a format up by its fourcc
 * @fourcc: V4L2_PIX_FMT_* code
 * @multiplanar: the node uses the multi-planar API
 *
 * Return: the format, or NULL if the node does not offer it.
 */
const struct vivid_fmt *vivid_find_fmt(u32 fourcc, bool multiplanar)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vivid_formats); i++) {
		if (vivid_formats[i].mplane_only && !multiplanar)
			continue;
		if (vivid_formats[i].fourcc == fourcc)
			return &vivid_formats[i];
	}
	return NULL;
}

/**
 * vivid_valid_size() - whether a frame size is one the node produces
 * @width: width in pixels
 * @height: height in lines
 *
 * Return: true if both are in range and even.
 */
bool vivid_valid_size(u32 width, u32 height)
{
	return width >= VIVID_MIN_WIDTH && width <= VIVID_MAX_WIDTH &&
	       height >= VIVID_MIN_HEIGHT && height <= VIVID_MAX_HEIGHT &&
	       !(width % VIVID_SIZE_STEP) && !(height % VIVID_SIZE_STEP);
}

/**
 * vivid_fill_geom() - compute line and plane sizes of a format
 * @geom: filled in
 * @fmt: the format
 * @width: a valid width (see vivid_valid_size())
 * @height: a valid height
 */
void vivid_fill_geom(struct vivid_frame_geom *geom,
		     const struct vivid_fmt *fmt, u32 width, u32 height)
{
	u32 luma;

	geom->fmt = fmt;
	geom->width = width;
	geom->height = height;
	geom->bytesperline = width * fmt->bpp;
	luma = geom->bytesperline * height;
	geom->plane_size[1] = 0;
	geom->plane_size[0] = luma;
	if (fmt->has_chroma && fmt->mem_planes == 1)
		geom->plane_size[0] += luma / 2;
	else if (fmt->has_chroma)
		geom->plane_size[1] = luma / 2;
}

static u32 vivid_clamp_dim(u32 val, u32 min, u32 max)
{
	return clamp(val, min, max) & ~(u32)(VIVID_SIZE_STEP - 1);
}

/**
 * vivid_try_fmt() - adjust a format request to what the node can do
 * @f: the request; its type must be the node's type. Every field is
 *	rewritten with the adjusted format.
 * @multiplanar: the node uses the multi-planar API
 * @geom: filled in with the adjusted geometry
 *
 * An unknown pixel format becomes the default (YUYV); width and height are
 * clamped to the supported range and rounded down to even values.
 */
void vivid_try_fmt(struct v4l2_format *f, bool multiplanar,
		   struct vivid_frame_geom *geom)
{
	const struct vivid_fmt *fmt;
	u32 fourcc, width, height;

	if (multiplanar) {
		fourcc = f->fmt.pix_mp.pixelformat;
		width = f->fmt.pix_mp.width;
		height = f->fmt.pix_mp.height;
	} else {
		fourcc = f->fmt.pix.pixelformat;
		width = f->fmt.pix.width;
		height = f->fmt.pix.height;
	}
	fmt = vivid_find_fmt(fourcc, multiplanar);
	if (!fmt)
		fmt = &vivid_formats[0];
	vivid_fill_geom(geom, fmt,
			vivid_clamp_dim(width, VIVID_MIN_WIDTH, VIVID_MAX_WIDTH),
			vivid_clamp_dim(height, VIVID_MIN_HEIGHT,
					VIVID_MAX_HEIGHT));
	vivid_geom_to_fmt(geom, f, multiplanar);
}

/**
 * vivid_geom_to_fmt() - describe a geometry as a V4L2 format
 * @geom: the geometry
 * @f: filled in, including colorimetry; reserved fields are zeroed
 * @multiplanar: fill @f->fmt.pix_mp rather than @f->fmt.pix
 */
void vivid_geom_to_fmt(const struct vivid_frame_geom *geom,
		       struct v4l2_format *f, bool multiplanar)
{
	u8 quant = geom->fmt->is_yuv ? V4L2_QUANTIZATION_LIM_RANGE :
				       V4L2_QUANTIZATION_FULL_RANGE;
	struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;
	struct v4l2_pix_format *pix = &f->fmt.pix;
	unsigned int p;

	if (!multiplanar) {
		memset(pix, 0, sizeof(*pix));
		pix->width = geom->width;
		pix->height = geom->height;
		pix->pixelformat = geom->fmt->fourcc;
		pix->field = V4L2_FIELD_NONE;
		pix->bytesperline = geom->bytesperline;
		pix->sizeimage = geom->plane_size[0];
		pix->colorspace = V4L2_COLORSPACE_SRGB;
		pix->xfer_func = V4L2_XFER_FUNC_SRGB;
		pix->ycbcr_enc = V4L2_YCBCR_ENC_601;
		pix->quantization = quant;
		return;
	}

	memset(mp, 0, sizeof(*mp));
	mp->width = geom->width;
	mp->height = geom->height;
	mp->pixelformat = geom->fmt->fourcc;
	mp->field = V4L2_FIELD_NONE;
	mp->colorspace = V4L2_COLORSPACE_SRGB;
	mp->num_planes = geom->fmt->mem_planes;
	for (p = 0; p < mp->num_planes; p++) {
		mp->plane_fmt[p].bytesperline = geom->bytesperline;
		mp->plane_fmt[p].sizeimage = geom->plane_size[p];
	}
	mp->xfer_func = V4L2_XFER_FUNC_SRGB;
	mp->ycbcr_enc = V4L2_YCBCR_ENC_601;
	mp->quantization = quant;
}
