// SPDX-License-Identifier: GPL-2.0
/*
 * The frame generator of vivid-expbuf
 *
 * A frame is two kinds of lines: the bar area (colour bars, or black) and
 * the counter band (the sequence number in 32 black/white cells). Each kind
 * is drawn once as a line template in the frame's pixel format; a frame is
 * then only memcpy() of templates into the buffer, which keeps 1080p cheap.
 * The exact content is specified in
 * Documentation/userspace-api/media/vivid-expbuf.rst.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/videodev2.h>

#include "vivid-core.h"

#define VIVID_NUM_BARS		8
#define VIVID_NUM_CELLS		32

static const u8 vivid_bar_rgb[VIVID_NUM_BARS][3] = {
	{ 255, 255, 255 },	/* white */
	{ 255, 255, 0 },	/* yellow */
	{ 0, 255, 255 },	/* cyan */
	{ 0, 255, 0 },		/* green */
	{ 255, 0, 255 },	/* magenta */
	{ 255, 0, 0 },		/* red */
	{ 0, 0, 255 },		/* blue */
	{ 0, 0, 0 },		/* black */
};

static const u8 vivid_white[3] = { 255, 255, 255 };
static const u8 vivid_black[3] = { 0, 0, 0 };

/* BT.601 limited range; >> on a negative int is a floor division here. */
static u8 vivid_y(const u8 *rgb)
{
	return ((66 * rgb[0] + 129 * rgb[1] + 25 * rgb[2] + 128) >> 8) + 16;
}

static u8 vivid_cb(const u8 *rgb)
{
	return ((-38 * rgb[0] - 74 * rgb[1] + 112 * rgb[2] + 128) >> 8) + 128;
}

static u8 vivid_cr(const u8 *rgb)
{
	return ((112 * rgb[0] - 94 * rgb[1] - 18 * rgb[2] + 128) >> 8) + 128;
}

/*
 * Convert a line of R,G,B triplets into the geometry's pixel format: @out
 * gets the packed pixels or the Y samples, @chroma (NV12 formats only) the
 * Cb,Cr pairs taken from the even pixels.
 */
static void vivid_render_line(const struct vivid_frame_geom *geom,
			      const u8 *rgb, u8 *out, u8 *chroma)
{
	u32 width = geom->width;
	const u8 *px;
	u16 rgb565;
	u32 x;

	switch (geom->fmt->fourcc) {
	case V4L2_PIX_FMT_YUYV:
		for (x = 0; x < width; x += 2, out += 4) {
			px = rgb + x * 3;
			out[0] = vivid_y(px);
			out[1] = vivid_cb(px);
			out[2] = vivid_y(px + 3);
			out[3] = vivid_cr(px);
		}
		break;
	case V4L2_PIX_FMT_RGB24:
		memcpy(out, rgb, width * 3);
		break;
	case V4L2_PIX_FMT_XBGR32:
		for (x = 0; x < width; x++, out += 4) {
			px = rgb + x * 3;
			out[0] = px[2];
			out[1] = px[1];
			out[2] = px[0];
			out[3] = 0xff;
		}
		break;
	case V4L2_PIX_FMT_RGB565:
		for (x = 0; x < width; x++, out += 2) {
			px = rgb + x * 3;
			rgb565 = (px[0] >> 3) << 11 | (px[1] >> 2) << 5 |
				 px[2] >> 3;
			out[0] = rgb565 & 0xff;
			out[1] = rgb565 >> 8;
		}
		break;
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_NV12M:
		for (x = 0; x < width; x++) {
			px = rgb + x * 3;
			out[x] = vivid_y(px);
			if (x & 1)
				continue;
			chroma[x] = vivid_cb(px);
			chroma[x + 1] = vivid_cr(px);
		}
		break;
	}
}

static void vivid_draw_bars(struct vivid_pattern *pat, bool hflip,
			    u32 pattern)
{
	u32 width = pat->geom.width;
	const u8 *colour;
	u32 x, xs;

	for (x = 0; x < width; x++) {
		xs = hflip ? width - 1 - x : x;
		if (pattern == VIVID_PATTERN_BLACK)
			colour = vivid_black;
		else
			colour = vivid_bar_rgb[xs * VIVID_NUM_BARS / width];
		memcpy(pat->rgb + x * 3, colour, 3);
	}
	vivid_render_line(&pat->geom, pat->rgb, pat->bars[0], pat->bars[1]);
	pat->bars_hflip = hflip;
	pat->bars_pattern = pattern;
	pat->bars_valid = true;
}

static void vivid_draw_band(struct vivid_pattern *pat, u32 sequence)
{
	u32 width = pat->geom.width;
	u32 x, cell;

	for (x = 0; x < width; x++) {
		cell = x * VIVID_NUM_CELLS / width;
		memcpy(pat->rgb + x * 3,
		       (sequence >> (31 - cell)) & 1 ? vivid_white :
						       vivid_black, 3);
	}
	vivid_render_line(&pat->geom, pat->rgb, pat->band[0], pat->band[1]);
	pat->band_seq = sequence;
	pat->band_valid = true;
}

/**
 * vivid_pattern_init() - allocate the line templates for a geometry
 * @pat: the generator, unused or freed
 * @geom: the frame geometry to draw
 *
 * Return: 0 or -ENOMEM.
 */
int vivid_pattern_init(struct vivid_pattern *pat,
		       const struct vivid_frame_geom *geom)
{
	u32 bpl = geom->bytesperline;
	u8 *mem;

	/* one R,G,B scratch line and four template lines */
	mem = kmalloc(geom->width * 3 + 4 * bpl, GFP_KERNEL);
	if (!mem)
		return -ENOMEM;
	pat->geom = *geom;
	pat->rgb = mem;
	pat->bars[0] = mem + geom->width * 3;
	pat->bars[1] = pat->bars[0] + bpl;
	pat->band[0] = pat->bars[1] + bpl;
	pat->band[1] = pat->band[0] + bpl;
	pat->bars_valid = false;
	pat->band_valid = false;
	return 0;
}

/**
 * vivid_pattern_free() - free the line templates
 * @pat: the generator set up by vivid_pattern_init()
 */
void vivid_pattern_free(struct vivid_pattern *pat)
{
	kfree(pat->rgb);
	pat->rgb = NULL;
}

/**
 * vivid_pattern_fill() - draw one frame
 * @pat: the generator set up by vivid_pattern_init()
 * @plane0: the first plane, of at least &vivid_frame_geom.plane_size[0]
 *	bytes
 * @plane1: NV12 formats: where the CbCr plane goes (inside @plane0 for
 *	single-buffer NV12, the second buffer for NV12M); unused otherwise
 * @sequence: the frame's sequence number, drawn in the counter band
 * @hflip: mirror the bar area
 * @pattern: VIVID_PATTERN_BARS or VIVID_PATTERN_BLACK
 */
void vivid_pattern_fill(struct vivid_pattern *pat, u8 *plane0, u8 *plane1,
			u32 sequence, bool hflip, u32 pattern)
{
	const struct vivid_frame_geom *geom = &pat->geom;
	u32 bar_rows = geom->height - geom->height / 8;
	u32 bpl = geom->bytesperline;
	const u8 *src;
	u32 y;

	if (!pat->bars_valid || pat->bars_hflip != hflip ||
	    pat->bars_pattern != pattern)
		vivid_draw_bars(pat, hflip, pattern);
	if (!pat->band_valid || pat->band_seq != sequence)
		vivid_draw_band(pat, sequence);

	for (y = 0; y < geom->height; y++) {
		src = y < bar_rows ? pat->bars[0] : pat->band[0];
		memcpy(plane0 + y * bpl, src, bpl);
	}
	if (!geom->fmt->has_chroma)
		return;
	/* chroma line j is sampled from pixel line 2j */
	for (y = 0; y < geom->height / 2; y++) {
		src = 2 * y < bar_rows ? pat->bars[1] : pat->band[1];
		memcpy(plane1 + y * bpl, src, bpl);
	}
}
