/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgem access for the vivid-expbuf tests: the vgem DRM device gives dumb
 * buffers that export as dma-bufs (PRIME) and fences that userspace
 * signals, which is what the import and fence tests need from a foreign
 * driver.
 */
#ifndef VIVID_EXPBUF_TESTS_VGEM_LIB_H
#define VIVID_EXPBUF_TESTS_VGEM_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int vgem_open(void);
int vgem_create(int fd, uint32_t width, uint32_t height, uint32_t bpp,
		uint32_t *handle, uint64_t *size);
void *vgem_map(int fd, uint32_t handle, size_t size);
int vgem_export(int fd, uint32_t handle, bool writable);
int vgem_import(int fd, int dmabuf, uint32_t *handle);
int vgem_fence_attach(int fd, uint32_t handle, bool write, uint32_t *fence);
int vgem_fence_signal(int fd, uint32_t fence);
void vgem_close_handle(int fd, uint32_t handle);

#endif
