/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vx-exporter.h - the ioctls of /dev/vx-exporter, shared by the test-only
 * module vx-exporter.ko and tests/test-exporters.c
 */
#ifndef VX_EXPORTER_H
#define VX_EXPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VX_EXP_NODE		"/dev/vx-exporter"

/* How the vmap of a dma-buf made by VX_EXP_IOC_CREATE behaves. */
#define VX_EXP_VMAP_NORMAL	0	/* a kernel address of the memory */
#define VX_EXP_VMAP_IOMEM	1	/* the same address, marked I/O memory */
#define VX_EXP_VMAP_RESV	2	/* needs the reservation lock (6.1: takes it) */
/* vmap as NORMAL; begin_cpu_access waits until a signal ends the wait */
#define VX_EXP_CPU_STALL	3
#define VX_EXP_VMAP_MODES	4

/**
 * struct vx_exp_create - a dma-buf of the module's own
 * @size: size in bytes, rounded up to whole pages
 * @mode: a VX_EXP_VMAP_* value or VX_EXP_CPU_STALL
 * @fd: out: the dma-buf's file descriptor, open O_RDWR | O_CLOEXEC
 * @pad: zero
 */
struct vx_exp_create {
	__u64 size;
	__u32 mode;
	__s32 fd;
	__u32 pad;
};

/**
 * struct vx_exp_stats - what the module's exporter was asked to do so far
 * @vmaps: calls of the vmap callback
 * @vunmaps: calls of the vunmap callback
 * @exported: dma-bufs created
 * @released: dma-bufs released
 * @cpu_stalls: calls of begin_cpu_access that began to wait (CPU_STALL)
 * @cpu_stalls_ended: those of them that returned
 */
struct vx_exp_stats {
	__u64 vmaps;
	__u64 vunmaps;
	__u64 exported;
	__u64 released;
	__u64 cpu_stalls;
	__u64 cpu_stalls_ended;
};

#define VX_EXP_IOC_CREATE	_IOWR('X', 0x40, struct vx_exp_create)
#define VX_EXP_IOC_STATS	_IOR('X', 0x41, struct vx_exp_stats)
/* Attach to the dma-buf fd, map twice, unmap both, detach: 0 or -errno. */
#define VX_EXP_IOC_MAP_TWICE	_IOW('X', 0x42, __s32)
/* The dma-buf fd that mmap() of this open file maps with dma_buf_mmap(). */
#define VX_EXP_IOC_SET_MMAP	_IOW('X', 0x43, __s32)

#endif
