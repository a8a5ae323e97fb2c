// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgem access for the vivid-expbuf tests. The vgem fence ioctls are not in
 * libdrm's headers; their numbers and argument layouts are the kernel's
 * uAPI (include/uapi/drm/vgem_drm.h), restated here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <libdrm/drm.h>
#include <libdrm/drm_mode.h>

#include "vgem-lib.h"

struct vgem_fence_attach_arg {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal_arg {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_WRITE_FLAG	0x1
#define VGEM_IOCTL_FENCE_ATTACH	\
	DRM_IOWR(DRM_COMMAND_BASE + 1, struct vgem_fence_attach_arg)
#define VGEM_IOCTL_FENCE_SIGNAL	\
	DRM_IOW(DRM_COMMAND_BASE + 2, struct vgem_fence_signal_arg)

static int drm_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/* True when @fd is a DRM device whose driver is called "vgem". */
static bool is_vgem(int fd)
{
	struct drm_version v;
	char name[16];

	memset(&v, 0, sizeof(v));
	memset(name, 0, sizeof(name));
	v.name = name;
	v.name_len = sizeof(name) - 1;
	if (drm_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	return !strcmp(name, "vgem");
}

/* Opens the vgem card (/dev/dri/cardN); returns its fd or -1 (ENODEV). */
int vgem_open(void)
{
	struct dirent *de;
	int fd = -1;
	DIR *dir;

	dir = opendir("/dev/dri");
	if (!dir)
		goto none;
	while (fd < 0 && (de = readdir(dir))) {
		char path[300];

		if (strncmp(de->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !is_vgem(fd)) {
			close(fd);
			fd = -1;
		}
	}
	closedir(dir);
	if (fd >= 0)
		return fd;
none:
	errno = ENODEV;
	return -1;
}

/* Creates a dumb buffer; returns 0 with its handle and size, or -1. */
int vgem_create(int fd, uint32_t width, uint32_t height, uint32_t bpp,
		uint32_t *handle, uint64_t *size)
{
	struct drm_mode_create_dumb dumb;

	memset(&dumb, 0, sizeof(dumb));
	dumb.width = width;
	dumb.height = height;
	dumb.bpp = bpp;
	if (drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -1;
	*handle = dumb.handle;
	if (size)
		*size = dumb.size;
	return 0;
}

/*
 * Maps @size bytes of a dumb buffer read-write through the vgem device
 * (not through a dma-buf). Returns the address, or MAP_FAILED.
 */
void *vgem_map(int fd, uint32_t handle, size_t size)
{
	struct drm_mode_map_dumb map;

	memset(&map, 0, sizeof(map));
	map.handle = handle;
	if (drm_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map))
		return MAP_FAILED;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    map.offset);
}

/*
 * Exports a buffer as a dma-buf with O_CLOEXEC, read-write when @writable,
 * else read-only. Returns the dma-buf fd or -1.
 */
int vgem_export(int fd, uint32_t handle, bool writable)
{
	struct drm_prime_handle prime;

	memset(&prime, 0, sizeof(prime));
	prime.handle = handle;
	prime.flags = DRM_CLOEXEC | (writable ? DRM_RDWR : 0);
	prime.fd = -1;
	if (drm_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		return -1;
	return prime.fd;
}

/*
 * Imports the dma-buf @dmabuf into vgem (PRIME): vgem attaches it and maps
 * it for its device. Returns 0 with the new GEM handle, or -1.
 */
int vgem_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle prime;

	memset(&prime, 0, sizeof(prime));
	prime.fd = dmabuf;
	if (drm_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		return -1;
	*handle = prime.handle;
	return 0;
}

/*
 * Adds an unsignalled vgem fence to the buffer's reservation object, as a
 * writer when @write, else as a reader. vgem signals it at
 * vgem_fence_signal() or by itself after 10 seconds.
 */
int vgem_fence_attach(int fd, uint32_t handle, bool write, uint32_t *fence)
{
	struct vgem_fence_attach_arg arg;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	arg.flags = write ? VGEM_FENCE_WRITE_FLAG : 0;
	if (drm_ioctl(fd, VGEM_IOCTL_FENCE_ATTACH, &arg))
		return -1;
	*fence = arg.out_fence;
	return 0;
}

int vgem_fence_signal(int fd, uint32_t fence)
{
	struct vgem_fence_signal_arg arg;

	memset(&arg, 0, sizeof(arg));
	arg.fence = fence;
	return drm_ioctl(fd, VGEM_IOCTL_FENCE_SIGNAL, &arg);
}

void vgem_close_handle(int fd, uint32_t handle)
{
	struct drm_gem_close req;

	memset(&req, 0, sizeof(req));
	req.handle = handle;
	drm_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &req);
}
