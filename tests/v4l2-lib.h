/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vivid-expbuf userspace tests: device access for the
 * single- and multi-planar APIs, TAP output and the frame content model of
 * the device contract.
 */
#ifndef VIVID_EXPBUF_TESTS_V4L2_LIB_H
#define VIVID_EXPBUF_TESTS_V4L2_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/videodev2.h>
#include <unistd.h>

#define __printf(fmt_arg, first_arg) \
	__attribute__((__format__(__printf__, fmt_arg, first_arg)))
#define ARRAY_SIZE(array)	(sizeof(array) / sizeof((array)[0]))

#define VLIB_MAX_PLANES		2
#define VLIB_MAX_BUFS		32
#define VLIB_DQBUF_TIMEOUT_MS	3000

/**
 * struct vlib_fmt - the active format as the tests need it
 * @fourcc: pixel format
 * @width: width in pixels
 * @height: height in lines
 * @num_planes: number of memory planes (1, or 2 for NV12M)
 * @bytesperline: bytes per line of each memory plane
 * @sizeimage: size in bytes of each memory plane
 * @colorspace: colorspace reported by the driver
 * @xfer_func: transfer function reported by the driver
 * @ycbcr_enc: Y'CbCr encoding reported by the driver
 * @quantization: quantization reported by the driver
 * @field: field order reported by the driver
 */
struct vlib_fmt {
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	unsigned int num_planes;
	uint32_t bytesperline[VLIB_MAX_PLANES];
	uint32_t sizeimage[VLIB_MAX_PLANES];
	uint32_t colorspace;
	uint32_t xfer_func;
	uint32_t ycbcr_enc;
	uint32_t quantization;
	uint32_t field;
};

/**
 * struct vlib_dev - an open video node
 * @fd: file descriptor
 * @path: device path
 * @mplane: true if the node uses the multi-planar API
 * @output: true for a video output node, false for a capture node
 * @type: buffer type of the node's API (capture or output)
 * @other_type: buffer type of the other API, same direction
 * @cap: QUERYCAP result
 */
struct vlib_dev {
	int fd;
	const char *path;
	bool mplane;
	bool output;
	uint32_t type;
	uint32_t other_type;
	struct v4l2_capability cap;
};

/**
 * struct vlib_buf - one buffer with its per-plane memory
 * @start: mapping or user memory of each plane
 * @length: length of each plane
 * @num_planes: number of planes in use
 * @mmapped: true if @start came from mmap() of the device
 */
struct vlib_buf {
	void *start[VLIB_MAX_PLANES];
	size_t length[VLIB_MAX_PLANES];
	unsigned int num_planes;
	bool mmapped;
};

/**
 * struct vlib_frame - result of a DQBUF
 * @buf: the v4l2_buffer as returned by the driver
 * @planes: plane array used by @buf on multi-planar nodes
 * @bytesused: bytes used of each plane (copied from either API)
 * @length: length of each plane (copied from either API)
 * @userptr: user pointer of each plane (USERPTR only)
 */
struct vlib_frame {
	struct v4l2_buffer buf;
	struct v4l2_plane planes[VLIB_MAX_PLANES];
	uint32_t bytesused[VLIB_MAX_PLANES];
	uint32_t length[VLIB_MAX_PLANES];
	unsigned long userptr[VLIB_MAX_PLANES];
};

/**
 * struct vlib_pattern - parameters of the expected frame content
 * @hflip: value of V4L2_CID_HFLIP
 * @test_pattern: value of V4L2_CID_TEST_PATTERN
 * @sequence: sequence number of the buffer
 */
struct vlib_pattern {
	int hflip;
	int test_pattern;
	uint32_t sequence;
};

/* TAP output */
/* n rounded up to whole pages */
static inline size_t page_up(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

void tap_plan(unsigned int n);
bool tap_ok(bool cond, const char *fmt, ...)
	__printf(2, 3);
void tap_skip(const char *reason, const char *fmt, ...)
	__printf(2, 3);
void tap_diag(const char *fmt, ...) __printf(1, 2);
int tap_done(void);
const char *tap_errname(int ret, int err);
bool tap_errno(int ret, int err, int want, const char *fmt, ...)
	__printf(4, 5);

/* Device access */
int xioctl(int fd, unsigned long req, void *arg);
int ioctl_timeout(int fd, unsigned long req, void *arg, unsigned int secs);
const char *vlib_parse_args(int argc, char **argv);
const char *vlib_start(int argc, char **argv, struct vlib_dev *d1,
		       struct vlib_dev *d2);
int vlib_open(struct vlib_dev *d, const char *path, int flags);
void vlib_close(struct vlib_dev *d);
int vlib_get_fmt(struct vlib_dev *d, struct vlib_fmt *f);
int vlib_set_fmt(struct vlib_dev *d, uint32_t fourcc, uint32_t w, uint32_t h,
		 struct vlib_fmt *f);
int vlib_set_fps(struct vlib_dev *d, uint32_t num, uint32_t den);
int vlib_reqbufs(struct vlib_dev *d, uint32_t memory, uint32_t count,
		 uint32_t *caps);
uint32_t vlib_buf_caps(struct vlib_dev *d);
bool vlib_has_userptr(struct vlib_dev *d);
void vlib_init_buf(struct vlib_dev *d, struct v4l2_buffer *b,
		   struct v4l2_plane *planes, uint32_t memory, uint32_t index);
int vlib_querybuf(struct vlib_dev *d, uint32_t index, struct vlib_frame *fr);
int vlib_mmap_buf(struct vlib_dev *d, uint32_t index, struct vlib_buf *buf);
void vlib_unmap_buf(struct vlib_buf *buf);
int vlib_qbuf_mmap(struct vlib_dev *d, uint32_t index);
int vlib_expbuf(struct vlib_dev *d, uint32_t index, uint32_t plane,
		uint32_t flags);
int vlib_node_name(const char *path, char *name, size_t len);
int vlib_find_output(const char *cap_path, char *out, size_t len);
int vlib_find_node(const char *prefix, const char *suffix, const char *skip,
		   char *out, size_t len);
int vlib_qbuf_userptr(struct vlib_dev *d, uint32_t index,
		      const struct vlib_buf *buf);
int vlib_qbuf_dmabuf(struct vlib_dev *d, uint32_t index, const int fds[],
		     unsigned int num_planes, const uint32_t bytesused[]);
int vlib_dqbuf(struct vlib_dev *d, uint32_t memory, struct vlib_frame *fr,
	       int timeout_ms);
int vlib_streamon(struct vlib_dev *d);
int vlib_streamoff(struct vlib_dev *d);
int vlib_set_ctrl(struct vlib_dev *d, uint32_t id, int32_t value);
int vlib_get_ctrl(struct vlib_dev *d, uint32_t id, int32_t *value);
int vlib_smoke_stream(struct vlib_dev *d, char *why, size_t len);
const char *vlib_fourcc_str(uint32_t fourcc, char *out);
double vlib_ts_to_sec(const struct timeval *tv);
double vlib_now_sec(void);

/* Frame content model */
void pattern_rgb(const struct vlib_fmt *f, const struct vlib_pattern *p,
		 uint32_t x, uint32_t y, uint8_t rgb[3]);
void rgb_to_ycbcr(const uint8_t rgb[3], uint8_t ycc[3]);
bool pattern_supported(uint32_t fourcc);
int pattern_fill(const struct vlib_fmt *f, const struct vlib_pattern *p,
		 uint8_t *const planes[]);
bool pattern_check(const struct vlib_fmt *f, const struct vlib_pattern *p,
		   void *const planes[], char *msg, size_t len);
int pattern_decode_counter(const struct vlib_fmt *f, void *const planes[],
			   uint32_t *seq);

#endif
