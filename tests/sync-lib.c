// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the tests of dma-buf fences, see sync-lib.h.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "sync-lib.h"

/* 1 if @fd polls ready for @events within @ms, 0 if not, -1 on error. */
int sync_poll(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	if (fd < 0)
		return -1;
	do {
		ret = poll(&pfd, 1, ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -1;
	return ret > 0 && (pfd.revents & events);
}

/* A sync_file of the fences of dma-buf @dmabuf_fd @flags asks for, or -1. */
int sync_export(int dmabuf_fd, uint32_t flags)
{
	struct dma_buf_export_sync_file arg = { .flags = flags, .fd = -1 };

	if (dmabuf_fd < 0 ||
	    ioctl(dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		return -1;
	return arg.fd;
}

/* Adds the fence of @sync_fd to dma-buf @dmabuf_fd as @flags; 0 or -1. */
int sync_import(int dmabuf_fd, uint32_t flags, int sync_fd)
{
	struct dma_buf_import_sync_file arg = { .flags = flags,
						.fd = sync_fd };

	if (dmabuf_fd < 0 || sync_fd < 0)
		return -1;
	return ioctl(dmabuf_fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg);
}

/* A sync_file's status: 1 signalled, 0 pending, <0 error; SYNC_NO_STATUS. */
int sync_status(int sync_fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (sync_fd < 0 || ioctl(sync_fd, SYNC_IOC_FILE_INFO, &info))
		return SYNC_NO_STATUS;
	return info.status;
}
