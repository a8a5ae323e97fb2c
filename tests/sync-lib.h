/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the tests of dma-buf fences: poll readiness, and the
 * sync_files of DMA_BUF_IOCTL_EXPORT_SYNC_FILE / IMPORT_SYNC_FILE.
 */
#ifndef VIVID_EXPBUF_TESTS_SYNC_LIB_H
#define VIVID_EXPBUF_TESTS_SYNC_LIB_H

#include <stdint.h>

/* sync_status() of a file that is no sync_file (or -1) */
#define SYNC_NO_STATUS	(-100000)

int sync_poll(int fd, short events, int ms);
int sync_export(int dmabuf_fd, uint32_t flags);
int sync_import(int dmabuf_fd, uint32_t flags, int sync_fd);
int sync_status(int sync_fd);

#endif /* VIVID_EXPBUF_TESTS_SYNC_LIB_H */
