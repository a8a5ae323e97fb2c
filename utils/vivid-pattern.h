/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vivid-pattern.h: the test pattern of a vivid-expbuf capture frame, as
 * specified in Documentation/userspace-api/media/vivid-expbuf.rst ("Frame
 * content"), drawn in YUYV or NV12 so that a utility can compare a frame it
 * received with the frame the device should have made.
 */
#ifndef VIVID_PATTERN_H
#define VIVID_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <linux/videodev2.h>

/**
 * struct vpat_frame - a frame layout the pattern can be drawn in
 * @fourcc: V4L2_PIX_FMT_YUYV or V4L2_PIX_FMT_NV12
 * @width: width in pixels (even)
 * @height: height in lines (even)
 */
struct vpat_frame {
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
};

/* Bytes of one frame with minimal line lengths, or 0 for another fourcc. */
static inline size_t vpat_frame_size(const struct vpat_frame *f)
{
	size_t pixels = (size_t)f->width * f->height;

	switch (f->fourcc) {
	case V4L2_PIX_FMT_YUYV:
		return pixels * 2;
	case V4L2_PIX_FMT_NV12:
		return pixels * 3 / 2;
	}
	return 0;
}

/* First line of the counter band. */
static inline uint32_t vpat_band_top(const struct vpat_frame *f)
{
	return f->height - f->height / 8;
}

/* Colour of pixel (x, y) for a HFLIP value and a buffer sequence. */
static inline const uint8_t *vpat_rgb(const struct vpat_frame *f, uint32_t x,
				      uint32_t y, int hflip, uint32_t sequence)
{
	/* R, G, B of the eight bars, left to right. */
	static const uint8_t bars[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 },
		{ 0, 255, 0 }, { 255, 0, 255 }, { 255, 0, 0 },
		{ 0, 0, 255 }, { 0, 0, 0 },
	};
	uint32_t xs = hflip ? f->width - 1 - x : x;
	uint32_t cell;

	if (y < vpat_band_top(f))
		return bars[(uint64_t)xs * 8 / f->width];
	cell = (uint64_t)x * 32 / f->width;
	return (sequence >> (31 - cell)) & 1 ? bars[0] : bars[7];
}

/* BT.601 limited range, with >> as a floor division by 256. */
static inline void vpat_ycbcr(const uint8_t *rgb, uint8_t *ycc)
{
	int r = rgb[0], g = rgb[1], b = rgb[2];

	ycc[0] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
	ycc[1] = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
	ycc[2] = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
}

/*
 * Draw the frame the device makes for @sequence into @out
 * (vpat_frame_size() bytes). Returns -1 for an unsupported fourcc.
 */
static inline int vpat_draw(const struct vpat_frame *f, int hflip,
			    uint32_t sequence, uint8_t *out)
{
	uint32_t w = f->width, h = f->height, x, y;
	uint8_t left[3], right[3];
	uint8_t *chroma = out + (size_t)w * h;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x += 2) {
			vpat_ycbcr(vpat_rgb(f, x, y, hflip, sequence), left);
			vpat_ycbcr(vpat_rgb(f, x + 1, y, hflip, sequence), right);
			if (f->fourcc == V4L2_PIX_FMT_YUYV) {
				uint8_t *px = out + ((size_t)y * w + x) * 2;

				px[0] = left[0];
				px[1] = left[1];
				px[2] = right[0];
				px[3] = left[2];
			} else if (f->fourcc == V4L2_PIX_FMT_NV12) {
				uint8_t *luma = out + (size_t)y * w + x;

				luma[0] = left[0];
				luma[1] = right[0];
				if (y % 2 == 0) {
					uint8_t *cbcr = chroma +
							(size_t)(y / 2) * w + x;

					cbcr[0] = left[1];
					cbcr[1] = left[2];
				}
			} else {
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Read the sequence number shown by the counter band: the luma of the
 * middle pixel of each cell on the band's first line, white above mid-grey.
 */
static inline uint32_t vpat_read_counter(const struct vpat_frame *f,
					 const uint8_t *frame)
{
	size_t bytes_per_luma = f->fourcc == V4L2_PIX_FMT_YUYV ? 2 : 1;
	const uint8_t *line = frame + (size_t)vpat_band_top(f) * f->width *
				      bytes_per_luma;
	uint32_t sequence = 0, cell, x;

	for (cell = 0; cell < 32; cell++) {
		x = (uint32_t)(((uint64_t)cell * 2 + 1) * f->width / 64);
		sequence = sequence << 1 | (line[x * bytes_per_luma] > 128);
	}
	return sequence;
}

/* Index of the first byte where two frames differ, or -1 if none. */
static inline long vpat_first_diff(const uint8_t *a, const uint8_t *b,
				   size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

#endif /* VIVID_PATTERN_H */
