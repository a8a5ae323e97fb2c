// SPDX-License-Identifier: GPL-2.0-only
/*
 * drm-show: show the frames of a V4L2 capture node on a DRM display with no
 * copy in userspace. Each MMAP capture buffer is exported with VIDIOC_EXPBUF,
 * imported into the DRM device (PRIME) and wrapped in a framebuffer once;
 * every captured frame is then put on screen by flipping to its buffer's
 * framebuffer, and a buffer goes back to the capture queue only when the
 * next flip has completed, so the display never scans out a buffer that the
 * device is filling.
 *
 * With --fence a frame goes the other way round: its buffer is queued for
 * capture and its framebuffer committed at once, before the frame is done,
 * and only then dequeued. The commit waits for the write fence that the
 * queued buffer holds in its dma-buf's reservation object
 * (vivid-expbuf-fences.rst), so the display takes the frame only once it is
 * complete. For each frame drm-show prints when the commit was made and when
 * it completed (the end of a blocking commit, the time of a flip event),
 * both from the end of the frame's capture (its CLOCK_MONOTONIC timestamp),
 * and at the end how many frames were on screen before their capture was
 * done: 0 when the fence was honoured. This needs atomic modesetting.
 *
 * usage: drm-show -d /dev/videoN [-D /dev/dri/cardN] [-f XR24|RGBP|RGB3]
 *                 [-s WxH] [-n frames] [--hold SECONDS] [--legacy|--fence]
 *
 * The frame size is the size of the connector's preferred mode, or with -s
 * the size of one of its modes. Atomic modesetting is used when the DRM
 * driver offers it (--legacy forces SETCRTC and PAGE_FLIP). A line starting
 * with "showing" is printed when the first frame is on screen; with --hold
 * the last frame stays on screen for SECONDS after a line starting with
 * "holding", which names that frame's sequence number.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/videodev2.h>
#include <libdrm/drm.h>
#include <libdrm/drm_fourcc.h>
#include <libdrm/drm_mode.h>

#define PROG		"drm-show"
#define NBUFS		4
#define WAIT_MS		5000

/* Plane properties set by an atomic commit, in this order. */
enum plane_prop {
	PLANE_FB_ID,
	PLANE_CRTC_ID,
	PLANE_SRC_X,
	PLANE_SRC_Y,
	PLANE_SRC_W,
	PLANE_SRC_H,
	PLANE_CRTC_X,
	PLANE_CRTC_Y,
	PLANE_CRTC_W,
	PLANE_CRTC_H,
	PLANE_NPROPS
};

static const char * const plane_prop_names[PLANE_NPROPS] = {
	"FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H",
	"CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H",
};

struct capture {
	int fd;
	__u32 type;
	bool mplane;
	__u32 fourcc;
	__u32 width;
	__u32 height;
	__u32 bytesperline;
	unsigned int count;
};

struct display {
	int fd;
	bool atomic;
	__u32 format;
	__u32 connector_id;
	__u32 crtc_id;
	__u32 plane_id;
	struct drm_mode_modeinfo mode;
	__u32 fb_ids[NBUFS];
	/* property ids, for atomic commits only */
	__u32 connector_crtc_prop;
	__u32 crtc_mode_prop;
	__u32 crtc_active_prop;
	__u32 plane_props[PLANE_NPROPS];
	__u32 mode_blob;
};

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static void bad_usage(void)
{
	fputs("usage: " PROG " -d /dev/videoN [-D /dev/dri/cardN] [-f XR24|RGBP|RGB3]\n"
	      "       [-s WxH] [-n frames] [--hold SECONDS] [--legacy|--fence]\n",
	      stderr);
	exit(2);
}

/* ioctl() that retries when interrupted (DRM also asks for EAGAIN). */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

static __u64 ptr(const void *p)
{
	return (__u64)(unsigned long)p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("calloc");
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fourcc_str(__u32 fourcc, char str[5])
{
	int i;

	for (i = 0; i < 4; i++)
		str[i] = (fourcc >> (8 * i)) & 0xff;
	str[4] = '\0';
}

/*
 * The DRM format whose bytes in memory are those of the V4L2 format.
 * XBGR32 is B, G, R, X in memory, as DRM's little-endian XRGB8888; both
 * RGB565 are little-endian with red in bits 15:11. V4L2's RGB24 is R, G, B
 * in memory but DRM's RGB888 is B, G, R: that one would need BGR24, which
 * the device does not offer.
 */
static __u32 drm_format_of(__u32 v4l2_fourcc)
{
	switch (v4l2_fourcc) {
	case V4L2_PIX_FMT_XBGR32:
		return DRM_FORMAT_XRGB8888;
	case V4L2_PIX_FMT_RGB565:
		return DRM_FORMAT_RGB565;
	case V4L2_PIX_FMT_RGB24:
		fail("RGB3 is R, G, B in memory, DRM_FORMAT_RGB888 is B, G, R: %s",
		     "no DRM format matches it (BGR24 would)");
		break;
	default:
		bad_usage();
	}
	return 0;
}

/*
 * Id of the property @name of a KMS object, or 0 when it has none; its
 * current value goes to @value when @value is not NULL.
 */
static __u32 prop_id(int fd, __u32 obj_id, __u32 obj_type, const char *name,
		     __u64 *value)
{
	struct drm_mode_obj_get_properties op = {
		.obj_id = obj_id, .obj_type = obj_type,
	};
	__u32 *ids, found = 0, i;
	__u64 *values;

	if (xioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		die("DRM_IOCTL_MODE_OBJ_GETPROPERTIES");
	ids = xcalloc(op.count_props, sizeof(*ids));
	values = xcalloc(op.count_props, sizeof(*values));
	op.props_ptr = ptr(ids);
	op.prop_values_ptr = ptr(values);
	if (xioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &op))
		die("DRM_IOCTL_MODE_OBJ_GETPROPERTIES");
	for (i = 0; i < op.count_props && !found; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };

		if (xioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &p))
			die("DRM_IOCTL_MODE_GETPROPERTY");
		if (!strcmp(p.name, name)) {
			found = ids[i];
			if (value)
				*value = values[i];
		}
	}
	free(ids);
	free(values);
	return found;
}

static __u32 need_prop(int fd, __u32 obj_id, __u32 obj_type, const char *name)
{
	__u32 id = prop_id(fd, obj_id, obj_type, name, NULL);

	if (!id)
		fail("KMS object %u has no %s property", obj_id, name);
	return id;
}

static void open_display(struct display *d, const char *path, bool legacy)
{
	struct drm_get_cap prime = { .capability = DRM_CAP_PRIME };
	struct drm_set_client_cap universal = {
		.capability = DRM_CLIENT_CAP_UNIVERSAL_PLANES, .value = 1,
	};
	struct drm_set_client_cap atomic = {
		.capability = DRM_CLIENT_CAP_ATOMIC, .value = 1,
	};
	struct drm_version version = { 0 };
	char name[64] = "";

	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		die(path);
	version.name = name;
	version.name_len = sizeof(name) - 1;
	if (xioctl(d->fd, DRM_IOCTL_VERSION, &version))
		die("DRM_IOCTL_VERSION");
	if (xioctl(d->fd, DRM_IOCTL_GET_CAP, &prime))
		die("DRM_IOCTL_GET_CAP(DRM_CAP_PRIME)");
	if (!(prime.value & DRM_PRIME_CAP_IMPORT))
		fail("%s (driver %s) cannot import dma-bufs: no DRM_PRIME_CAP_IMPORT",
		     path, name);
	if (xioctl(d->fd, DRM_IOCTL_SET_CLIENT_CAP, &universal))
		die("DRM_CLIENT_CAP_UNIVERSAL_PLANES");
	d->atomic = !legacy &&
		    !xioctl(d->fd, DRM_IOCTL_SET_CLIENT_CAP, &atomic);
	printf("drm: %s, driver %s, %s modesetting\n", path, name,
	       d->atomic ? "atomic" : "legacy");
}

/* The mode of @conn to use: @w x @h, or the preferred one when @w is 0. */
static bool pick_mode(const struct drm_mode_modeinfo *modes, __u32 count,
		      __u32 w, __u32 h, struct drm_mode_modeinfo *mode)
{
	__u32 i;

	for (i = 0; i < count; i++) {
		if (w ? modes[i].hdisplay == w && modes[i].vdisplay == h :
			modes[i].type & DRM_MODE_TYPE_PREFERRED) {
			*mode = modes[i];
			return true;
		}
	}
	if (w || !count)
		return false;
	*mode = modes[0];
	return true;
}

/* A CRTC index that an encoder of the connector can drive, or -1. */
static int pick_crtc(int fd, const __u32 *encoders, __u32 n_encoders,
		     __u32 n_crtcs)
{
	__u32 i, c;

	for (i = 0; i < n_encoders; i++) {
		struct drm_mode_get_encoder enc = { .encoder_id = encoders[i] };

		if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &enc))
			die("DRM_IOCTL_MODE_GETENCODER");
		for (c = 0; c < n_crtcs; c++)
			if (enc.possible_crtcs & (1u << c))
				return c;
	}
	return -1;
}

/*
 * Find a connected connector with a mode of the wanted size and a CRTC for
 * it; @w is 0 for the preferred mode.
 */
static void pick_output(struct display *d, __u32 w, __u32 h)
{
	struct drm_mode_card_res res = { 0 };
	__u32 *connectors, *crtcs, i;

	if (xioctl(d->fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("DRM_IOCTL_MODE_GETRESOURCES");
	connectors = xcalloc(res.count_connectors, sizeof(*connectors));
	crtcs = xcalloc(res.count_crtcs, sizeof(*crtcs));
	res.connector_id_ptr = ptr(connectors);
	res.crtc_id_ptr = ptr(crtcs);
	res.count_fbs = 0;
	res.count_encoders = 0;
	if (xioctl(d->fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("DRM_IOCTL_MODE_GETRESOURCES");
	for (i = 0; i < res.count_connectors && !d->crtc_id; i++) {
		struct drm_mode_get_connector conn = {
			.connector_id = connectors[i],
		};
		struct drm_mode_modeinfo *modes;
		__u32 *encoders, n_modes, n_encoders;
		int crtc;

		/* The first call probes the connector and counts its modes. */
		if (xioctl(d->fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn))
			die("DRM_IOCTL_MODE_GETCONNECTOR");
		if (conn.connection != 1)
			continue;
		n_modes = conn.count_modes;
		n_encoders = conn.count_encoders;
		modes = xcalloc(n_modes, sizeof(*modes));
		encoders = xcalloc(n_encoders, sizeof(*encoders));
		memset(&conn, 0, sizeof(conn));
		conn.connector_id = connectors[i];
		conn.count_modes = n_modes;
		conn.modes_ptr = ptr(modes);
		conn.count_encoders = n_encoders;
		conn.encoders_ptr = ptr(encoders);
		if (xioctl(d->fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn))
			die("DRM_IOCTL_MODE_GETCONNECTOR");
		if (conn.count_modes > n_modes)
			conn.count_modes = n_modes;
		if (conn.count_encoders > n_encoders)
			conn.count_encoders = n_encoders;
		crtc = pick_crtc(d->fd, encoders, conn.count_encoders,
				 res.count_crtcs);
		if (crtc >= 0 &&
		    pick_mode(modes, conn.count_modes, w, h, &d->mode)) {
			d->connector_id = connectors[i];
			d->crtc_id = crtcs[crtc];
		}
		free(modes);
		free(encoders);
	}
	free(connectors);
	free(crtcs);
	if (!d->crtc_id) {
		if (w)
			fail("no connected connector has a %ux%u mode and a CRTC", w, h);
		fail("no connected connector with a mode and a CRTC");
	}
}

static bool has_format(const __u32 *formats, __u32 count, __u32 format)
{
	__u32 i;

	for (i = 0; i < count; i++)
		if (formats[i] == format)
			return true;
	return false;
}

static void print_formats(const __u32 *formats, __u32 count)
{
	char str[5];
	__u32 i;

	printf("drm: plane formats:");
	for (i = 0; i < count; i++) {
		fourcc_str(formats[i], str);
		printf(" %s", str);
	}
	printf("\n");
}

/* Index of the CRTC id @crtc_id in the card's CRTC list. */
static int crtc_index(int fd, __u32 crtc_id)
{
	struct drm_mode_card_res res = { 0 };
	__u32 *crtcs, i;
	int index = -1;

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("DRM_IOCTL_MODE_GETRESOURCES");
	crtcs = xcalloc(res.count_crtcs, sizeof(*crtcs));
	res.crtc_id_ptr = ptr(crtcs);
	res.count_connectors = 0;
	res.count_fbs = 0;
	res.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("DRM_IOCTL_MODE_GETRESOURCES");
	for (i = 0; i < res.count_crtcs; i++)
		if (crtcs[i] == crtc_id)
			index = i;
	free(crtcs);
	return index;
}

/* Whether the "type" enum property of the plane is "Primary". */
static bool is_primary(int fd, __u32 plane_id)
{
	struct drm_mode_get_property p = { 0 };
	struct drm_mode_property_enum *enums;
	__u64 type = 0;
	bool primary = false;
	__u32 n, i;

	p.prop_id = prop_id(fd, plane_id, DRM_MODE_OBJECT_PLANE, "type", &type);
	if (!p.prop_id)
		return false;
	if (xioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &p))
		die("DRM_IOCTL_MODE_GETPROPERTY");
	n = p.count_enum_blobs;
	enums = xcalloc(n, sizeof(*enums));
	p.enum_blob_ptr = ptr(enums);
	p.count_values = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &p))
		die("DRM_IOCTL_MODE_GETPROPERTY");
	for (i = 0; i < n && i < p.count_enum_blobs; i++)
		if (enums[i].value == type && !strcmp(enums[i].name, "Primary"))
			primary = true;
	free(enums);
	return primary;
}

/* The primary plane of the CRTC, which must support the format. */
static void pick_plane(struct display *d)
{
	struct drm_mode_get_plane_res pres = { 0 };
	int index = crtc_index(d->fd, d->crtc_id);
	char str[5];
	__u32 *planes, i;

	if (xioctl(d->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres))
		die("DRM_IOCTL_MODE_GETPLANERESOURCES");
	planes = xcalloc(pres.count_planes, sizeof(*planes));
	pres.plane_id_ptr = ptr(planes);
	if (xioctl(d->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres))
		die("DRM_IOCTL_MODE_GETPLANERESOURCES");
	for (i = 0; i < pres.count_planes && !d->plane_id; i++) {
		struct drm_mode_get_plane p = { .plane_id = planes[i] };
		__u32 *formats, n_formats;

		if (xioctl(d->fd, DRM_IOCTL_MODE_GETPLANE, &p))
			die("DRM_IOCTL_MODE_GETPLANE");
		if (index < 0 || !(p.possible_crtcs & (1u << index)))
			continue;
		if (!is_primary(d->fd, planes[i]))
			continue;
		n_formats = p.count_format_types;
		formats = xcalloc(n_formats, sizeof(*formats));
		p.format_type_ptr = ptr(formats);
		if (xioctl(d->fd, DRM_IOCTL_MODE_GETPLANE, &p))
			die("DRM_IOCTL_MODE_GETPLANE");
		if (p.count_format_types > n_formats)
			p.count_format_types = n_formats;
		print_formats(formats, p.count_format_types);
		if (has_format(formats, p.count_format_types, d->format))
			d->plane_id = planes[i];
		free(formats);
	}
	free(planes);
	fourcc_str(d->format, str);
	if (!d->plane_id)
		fail("no primary plane of CRTC %u supports DRM format %s",
		     d->crtc_id, str);
	printf("drm: connector %u, mode %ux%u@%u, crtc %u, plane %u, format %s\n",
	       d->connector_id, d->mode.hdisplay, d->mode.vdisplay,
	       d->mode.vrefresh, d->crtc_id, d->plane_id, str);
}

static void atomic_props(struct display *d)
{
	struct drm_mode_create_blob blob = {
		.data = ptr(&d->mode), .length = sizeof(d->mode),
	};
	int i;

	d->connector_crtc_prop = need_prop(d->fd, d->connector_id,
					   DRM_MODE_OBJECT_CONNECTOR,
					   "CRTC_ID");
	d->crtc_mode_prop = need_prop(d->fd, d->crtc_id, DRM_MODE_OBJECT_CRTC,
				      "MODE_ID");
	d->crtc_active_prop = need_prop(d->fd, d->crtc_id,
					DRM_MODE_OBJECT_CRTC, "ACTIVE");
	for (i = 0; i < PLANE_NPROPS; i++)
		d->plane_props[i] = need_prop(d->fd, d->plane_id,
					      DRM_MODE_OBJECT_PLANE,
					      plane_prop_names[i]);
	if (xioctl(d->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &blob))
		die("DRM_IOCTL_MODE_CREATEPROPBLOB");
	d->mode_blob = blob.blob_id;
}

/*
 * Atomic commit of framebuffer @fb_id on the plane; with @modeset also the
 * connector routing, the mode and the full-screen plane geometry
 * (blocking), otherwise a non-blocking flip that sends an event.
 */
static void atomic_show(struct display *d, __u32 fb_id, bool modeset,
			__u64 user_data)
{
	__u32 objs[3], counts[3], props[3 + PLANE_NPROPS];
	__u64 values[3 + PLANE_NPROPS];
	__u32 w = d->mode.hdisplay, h = d->mode.vdisplay;
	struct drm_mode_atomic req = { 0 };
	__u32 n_objs = 0, n = 0;

	if (modeset) {
		objs[n_objs] = d->connector_id;
		counts[n_objs++] = 1;
		props[n] = d->connector_crtc_prop;
		values[n++] = d->crtc_id;
		objs[n_objs] = d->crtc_id;
		counts[n_objs++] = 2;
		props[n] = d->crtc_mode_prop;
		values[n++] = d->mode_blob;
		props[n] = d->crtc_active_prop;
		values[n++] = 1;
	}
	objs[n_objs] = d->plane_id;
	counts[n_objs++] = modeset ? PLANE_NPROPS : 1;
	props[n] = d->plane_props[PLANE_FB_ID];
	values[n++] = fb_id;
	if (modeset) {
		const __u64 geometry[PLANE_NPROPS] = {
			[PLANE_CRTC_ID] = d->crtc_id,
			[PLANE_SRC_W] = (__u64)w << 16,
			[PLANE_SRC_H] = (__u64)h << 16,
			[PLANE_CRTC_W] = w,
			[PLANE_CRTC_H] = h,
		};
		int i;

		for (i = PLANE_CRTC_ID; i < PLANE_NPROPS; i++) {
			props[n] = d->plane_props[i];
			values[n++] = geometry[i];
		}
		req.flags = DRM_MODE_ATOMIC_ALLOW_MODESET;
	} else {
		req.flags = DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT;
	}
	req.count_objs = n_objs;
	req.objs_ptr = ptr(objs);
	req.count_props_ptr = ptr(counts);
	req.props_ptr = ptr(props);
	req.prop_values_ptr = ptr(values);
	req.user_data = user_data;
	if (xioctl(d->fd, DRM_IOCTL_MODE_ATOMIC, &req))
		die(modeset ? "atomic modeset" : "atomic flip");
}

/* Put the first frame on screen; returns once it is there. */
static void show_first(struct display *d, unsigned int index)
{
	struct drm_mode_crtc crtc = { 0 };

	if (d->atomic) {
		atomic_show(d, d->fb_ids[index], true, 0);
		return;
	}
	crtc.set_connectors_ptr = ptr(&d->connector_id);
	crtc.count_connectors = 1;
	crtc.crtc_id = d->crtc_id;
	crtc.fb_id = d->fb_ids[index];
	crtc.mode_valid = 1;
	crtc.mode = d->mode;
	if (xioctl(d->fd, DRM_IOCTL_MODE_SETCRTC, &crtc))
		die("DRM_IOCTL_MODE_SETCRTC");
}

/*
 * Wait for the completion event of the flip tagged @index; returns the
 * event's time (CLOCK_MONOTONIC, in seconds). read() of a DRM device
 * returns whole events only, each starting with struct drm_event.
 */
static double wait_flip(struct display *d, unsigned int index)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	struct drm_event_vblank ev;
	char buf[1024];
	ssize_t len, off;
	int ret;

	for (;;) {
		ret = poll(&pfd, 1, WAIT_MS);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			die("poll on the DRM device");
		if (ret == 0)
			fail("no flip completion within %d ms", WAIT_MS);
		len = read(d->fd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			die("read of DRM events");
		for (off = 0; off < len; off += ev.base.length) {
			memcpy(&ev.base, buf + off, sizeof(ev.base));
			if (ev.base.length < sizeof(ev.base) ||
			    ev.base.length > len - off)
				fail("malformed DRM event");
			if (ev.base.type != DRM_EVENT_FLIP_COMPLETE ||
			    ev.base.length < sizeof(ev))
				continue;
			memcpy(&ev, buf + off, sizeof(ev));
			if (ev.user_data == index)
				return ev.tv_sec + ev.tv_usec / 1e6;
		}
	}
}

/* Flip to buffer @index's framebuffer and wait until it is on screen. */
static void flip(struct display *d, unsigned int index)
{
	struct drm_mode_crtc_page_flip pf = { 0 };

	if (d->atomic) {
		atomic_show(d, d->fb_ids[index], false, index);
	} else {
		pf.crtc_id = d->crtc_id;
		pf.fb_id = d->fb_ids[index];
		pf.flags = DRM_MODE_PAGE_FLIP_EVENT;
		pf.user_data = index;
		if (xioctl(d->fd, DRM_IOCTL_MODE_PAGE_FLIP, &pf))
			die("DRM_IOCTL_MODE_PAGE_FLIP");
	}
	wait_flip(d, index);
}

static void init_buf(const struct capture *c, struct v4l2_buffer *b,
		     struct v4l2_plane *plane, __u32 index)
{
	memset(b, 0, sizeof(*b));
	memset(plane, 0, sizeof(*plane));
	b->type = c->type;
	b->memory = V4L2_MEMORY_MMAP;
	b->index = index;
	if (c->mplane) {
		b->m.planes = plane;
		b->length = 1;
	}
}

static void open_capture(struct capture *c, const char *dev)
{
	struct v4l2_capability cap;
	struct v4l2_format f;
	__u32 caps, want = c->fourcc;

	c->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		die(dev);
	if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap))
		die("VIDIOC_QUERYCAP");
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps :
							 cap.capabilities;
	c->mplane = !(caps & V4L2_CAP_VIDEO_CAPTURE);
	c->type = c->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
			      V4L2_BUF_TYPE_VIDEO_CAPTURE;
	memset(&f, 0, sizeof(f));
	f.type = c->type;
	if (c->mplane) {
		f.fmt.pix_mp.pixelformat = c->fourcc;
		f.fmt.pix_mp.width = c->width;
		f.fmt.pix_mp.height = c->height;
		f.fmt.pix_mp.field = V4L2_FIELD_NONE;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.pixelformat = c->fourcc;
		f.fmt.pix.width = c->width;
		f.fmt.pix.height = c->height;
		f.fmt.pix.field = V4L2_FIELD_NONE;
	}
	if (xioctl(c->fd, VIDIOC_S_FMT, &f))
		die("VIDIOC_S_FMT");
	if (c->mplane) {
		if (f.fmt.pix_mp.num_planes != 1)
			fail("%s: only single-plane formats", dev);
		c->fourcc = f.fmt.pix_mp.pixelformat;
		c->width = f.fmt.pix_mp.width;
		c->height = f.fmt.pix_mp.height;
		c->bytesperline = f.fmt.pix_mp.plane_fmt[0].bytesperline;
	} else {
		c->fourcc = f.fmt.pix.pixelformat;
		c->width = f.fmt.pix.width;
		c->height = f.fmt.pix.height;
		c->bytesperline = f.fmt.pix.bytesperline;
	}
	if (c->fourcc != want)
		fail("%s does not offer the format asked for", dev);
}

/*
 * Allocate the capture buffers, export each one, import the dma-buf into
 * the DRM device and make it a framebuffer, then queue it if @queue.
 */
static void share_buffers(struct capture *c, struct display *d, bool queue)
{
	struct v4l2_requestbuffers rb = { 0 };
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	unsigned int i;

	rb.type = c->type;
	rb.memory = V4L2_MEMORY_MMAP;
	rb.count = NBUFS;
	if (xioctl(c->fd, VIDIOC_REQBUFS, &rb))
		die("VIDIOC_REQBUFS");
	if (rb.count < 2)
		fail("VIDIOC_REQBUFS gave %u buffers, need 2", rb.count);
	c->count = rb.count < NBUFS ? rb.count : NBUFS;
	for (i = 0; i < c->count; i++) {
		struct v4l2_exportbuffer exp = {
			.type = c->type, .index = i,
			.flags = O_RDONLY | O_CLOEXEC,
		};
		struct drm_prime_handle prime = { 0 };
		struct drm_mode_fb_cmd2 fb = { 0 };
		struct drm_gem_close gem = { 0 };

		if (xioctl(c->fd, VIDIOC_EXPBUF, &exp))
			die("VIDIOC_EXPBUF");
		prime.fd = exp.fd;
		if (xioctl(d->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
			fail("DRM cannot import buffer %u (PRIME_FD_TO_HANDLE): %s",
			     i, strerror(errno));
		close(exp.fd);
		fb.width = c->width;
		fb.height = c->height;
		fb.pixel_format = d->format;
		fb.handles[0] = prime.handle;
		fb.pitches[0] = c->bytesperline;
		if (xioctl(d->fd, DRM_IOCTL_MODE_ADDFB2, &fb))
			fail("DRM_IOCTL_MODE_ADDFB2 of buffer %u (%ux%u, pitch %u): %s",
			     i, c->width, c->height, c->bytesperline,
			     strerror(errno));
		d->fb_ids[i] = fb.fb_id;
		/* The framebuffer holds the object: drop the handle. */
		gem.handle = prime.handle;
		if (xioctl(d->fd, DRM_IOCTL_GEM_CLOSE, &gem))
			die("DRM_IOCTL_GEM_CLOSE");
		if (queue) {
			init_buf(c, &b, &plane, i);
			if (xioctl(c->fd, VIDIOC_QBUF, &b))
				die("VIDIOC_QBUF");
		}
	}
}

static void queue_buffer(const struct capture *c, unsigned int index)
{
	struct v4l2_plane plane;
	struct v4l2_buffer b;

	init_buf(c, &b, &plane, index);
	if (xioctl(c->fd, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF");
}

/*
 * Wait for the next frame; returns its buffer index, its sequence and its
 * timestamp (CLOCK_MONOTONIC, in seconds).
 */
static unsigned int next_frame(const struct capture *c, __u32 *sequence,
			       double *timestamp)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	int ret;

	do {
		ret = poll(&pfd, 1, WAIT_MS);
	} while (ret == -1 && errno == EINTR);
	if (ret < 0)
		die("poll on the capture node");
	if (ret == 0)
		fail("no frame within %d ms", WAIT_MS);
	init_buf(c, &b, &plane, 0);
	if (xioctl(c->fd, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF");
	if (b.index >= c->count)
		fail("VIDIOC_DQBUF returned buffer index %u of %u", b.index,
		     c->count);
	if (b.flags & V4L2_BUF_FLAG_ERROR)
		fail("buffer %u came back with V4L2_BUF_FLAG_ERROR", b.index);
	*sequence = b.sequence;
	*timestamp = b.timestamp.tv_sec + b.timestamp.tv_usec / 1e6;
	return b.index;
}

/* What was shown: the first and last frame's sequence, when the first was. */
struct run {
	__u32 first_seq;
	__u32 seq;
	double t_first;
};

static void print_showing(const struct capture *c, __u32 seq)
{
	char str[5];

	fourcc_str(c->fourcc, str);
	printf("showing: frame %u on screen, %ux%u %s, %u buffers\n",
	       seq, c->width, c->height, str, c->count);
	fflush(stdout);
}

/*
 * Show each captured frame once it is done, by a flip to its buffer; the
 * buffer shown before goes back to the capture queue once the flip has
 * completed.
 */
static void show_done(const struct capture *c, struct display *d, int frames,
		      struct run *r)
{
	unsigned int index, shown = 0;
	double timestamp;
	int i;

	for (i = 0; i < frames; i++) {
		index = next_frame(c, &r->seq, &timestamp);
		if (i == 0) {
			show_first(d, index);
			r->t_first = now();
			r->first_seq = r->seq;
			print_showing(c, r->seq);
		} else {
			flip(d, index);
			/* The previous buffer is off screen now: refill it. */
			queue_buffer(c, shown);
		}
		shown = index;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * --fence: for each frame queue buffer i % count, commit its framebuffer at
 * once (the first frame with a blocking modeset, the others as non-blocking
 * flips), wait for the commit to complete and then dequeue the frame. The
 * buffer queued is not the one on screen: that one left the screen when the
 * previous commit completed. The frame's timestamp is the end of its
 * capture period; it is done, and its fence signalled, at or after it, so a
 * commit that completes before it did not wait for the fence.
 */
static void show_fenced(const struct capture *c, struct display *d,
			int frames, struct run *r)
{
	double *margins = xcalloc(frames, sizeof(*margins));
	double t_commit, t_shown, t_done;
	unsigned int index, got, before = 0, early = 0;
	int i;

	for (i = 0; i < frames; i++) {
		index = i % c->count;
		queue_buffer(c, index);
		t_commit = now();
		if (i == 0) {
			atomic_show(d, d->fb_ids[index], true, 0);
			t_shown = now();
		} else {
			atomic_show(d, d->fb_ids[index], false, index);
			t_shown = wait_flip(d, index);
		}
		got = next_frame(c, &r->seq, &t_done);
		if (got != index)
			fail("VIDIOC_DQBUF returned buffer %u, only buffer %u was queued",
			     got, index);
		if (i == 0) {
			r->t_first = t_shown;
			r->first_seq = r->seq;
			print_showing(c, r->seq);
		}
		margins[i] = (t_shown - t_done) * 1e3;
		before += t_commit < t_done;
		early += t_shown < t_done;
		printf("fence: frame %u (buffer %u): committed %+.1f ms, %s %+.1f ms %s\n",
		       r->seq, index, (t_commit - t_done) * 1e3, "on screen",
		       margins[i], "from the end of its capture");
	}
	qsort(margins, frames, sizeof(*margins), cmp_double);
	printf("fence: %d frames, %u committed before their capture was done, %s %u;",
	       frames, before, "on screen before it was done:", early);
	printf(" on screen after it by %.1f ms min, %.1f ms median, %.1f ms max\n",
	       margins[0],
	       (margins[(frames - 1) / 2] + margins[frames / 2]) / 2,
	       margins[frames - 1]);
	free(margins);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "hold", required_argument, NULL, 'H' },
		{ "legacy", no_argument, NULL, 'L' },
		{ "fence", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct capture c = { .fourcc = V4L2_PIX_FMT_XBGR32 };
	struct display d = { 0 };
	const char *dev = NULL, *card = "/dev/dri/card0";
	__u32 want_w = 0, want_h = 0;
	int opt, frames = 100, hold = 0, type;
	bool legacy = false, fence = false;
	struct run r = { 0 };
	double t_last;

	while ((opt = getopt_long(argc, argv, "d:D:f:s:n:", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'D':
			card = optarg;
			break;
		case 'f':
			if (strlen(optarg) != 4)
				bad_usage();
			c.fourcc = v4l2_fourcc(optarg[0], optarg[1], optarg[2],
					       optarg[3]);
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &want_w, &want_h) != 2 ||
			    !want_w || !want_h)
				bad_usage();
			break;
		case 'n':
			frames = atoi(optarg);
			break;
		case 'H':
			hold = atoi(optarg);
			break;
		case 'L':
			legacy = true;
			break;
		case 'F':
			fence = true;
			break;
		default:
			bad_usage();
		}
	}
	if (!dev || frames < 1 || hold < 0 || optind != argc)
		bad_usage();
	d.format = drm_format_of(c.fourcc);

	open_display(&d, card, legacy);
	if (fence && !d.atomic)
		fail("--fence needs atomic modesetting (%s): %s",
		     legacy ? "--legacy turns it off" : "the driver has none",
		     "it relies on atomic commits waiting for implicit fences");
	pick_output(&d, want_w, want_h);
	pick_plane(&d);
	if (d.atomic)
		atomic_props(&d);
	c.width = d.mode.hdisplay;
	c.height = d.mode.vdisplay;
	open_capture(&c, dev);
	if (c.width != d.mode.hdisplay || c.height != d.mode.vdisplay)
		fail("%s cannot capture %ux%u (offers %ux%u)", dev,
		     d.mode.hdisplay, d.mode.vdisplay, c.width, c.height);
	share_buffers(&c, &d, !fence);
	type = c.type;
	if (xioctl(c.fd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON");
	if (fence)
		show_fenced(&c, &d, frames, &r);
	else
		show_done(&c, &d, frames, &r);
	t_last = now();
	printf("shown %d frames in %.2f s: %.1f frames/s, sequence %u to %u (%u periods dropped)\n",
	       frames, t_last - r.t_first,
	       frames > 1 ? (frames - 1) / (t_last - r.t_first) : 0.0,
	       r.first_seq, r.seq, r.seq - r.first_seq + 1 - frames);
	if (hold) {
		printf("holding: last frame (sequence %u) on screen for %d s\n",
		       r.seq, hold);
		fflush(stdout);
		sleep(hold);
	}
	/* Closing the DRM device removes its framebuffers and imports. */
	if (xioctl(c.fd, VIDIOC_STREAMOFF, &type))
		die("VIDIOC_STREAMOFF");
	close(d.fd);
	close(c.fd);
	return 0;
}
