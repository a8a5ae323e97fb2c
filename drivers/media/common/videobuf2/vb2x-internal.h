/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-internal.h - the core calls the V4L2 glue of the vivid-expbuf
 * videobuf2 makes; not for drivers
 */
#ifndef _VB2X_INTERNAL_H
#define _VB2X_INTERNAL_H

#include <linux/printk.h>
#include <linux/poll.h>
#include <media/vb2x-core.h>

struct file;
struct vm_area_struct;

/**
 * vb2x_dbg() - say why a request from userspace was refused
 * @q: the queue the request was made on
 * @fmt: printf format, ending in a newline
 *
 * Every user input error is logged through this, with pr_debug(), so that
 * dynamic debug can enable it per call site
 * (echo 'module vivid_expbuf +p' > /sys/kernel/debug/dynamic_debug/control).
 */
#define vb2x_dbg(q, fmt, ...) \
	pr_debug("vb2x: queue %p: " fmt, q, ##__VA_ARGS__)

/**
 * struct vb2x_plane_info - what userspace passes for one plane
 * @bytesused: payload of an output plane (0 means the whole plane)
 * @length: USERPTR: size of the user memory; DMABUF: plane length to use,
 *	0 for the dma-buf's size
 * @userptr: USERPTR: address of the user memory
 * @data_offset: offset of an output plane's payload
 * @fd: DMABUF: file descriptor of the dma-buf
 */
struct vb2x_plane_info {
	unsigned int	bytesused;
	unsigned int	length;
	unsigned long	userptr;
	unsigned int	data_offset;
	int		fd;
};

void vb2x_core_queue_init(struct vb2x_queue *q);
int vb2x_core_check_memory(struct vb2x_queue *q, unsigned int memory);
int vb2x_core_reqbufs(struct vb2x_queue *q, void *owner, unsigned int memory,
		      unsigned int *count);
int vb2x_core_create_bufs(struct vb2x_queue *q, void *owner,
			  unsigned int memory, unsigned int *count,
			  unsigned int num_planes, const unsigned int sizes[]);
int vb2x_core_prepare_buf(struct vb2x_queue *q, struct vb2x_buffer *vb,
			  const struct vb2x_plane_info *info);
int vb2x_core_qbuf(struct vb2x_queue *q, struct vb2x_buffer *vb,
		   const struct vb2x_plane_info *info,
		   void (*report)(struct vb2x_buffer *vb, void *arg), void *arg);
int vb2x_core_dqbuf(struct vb2x_queue *q, void *owner,
		    unsigned int max_planes, struct vb2x_buffer **vbp,
		    bool nonblocking);
void vb2x_core_dqbuf_finish(struct vb2x_buffer *vb);
int vb2x_core_streamon(struct vb2x_queue *q, unsigned int type);
int vb2x_core_streamoff(struct vb2x_queue *q, unsigned int type);
void vb2x_core_queue_release(struct vb2x_queue *q);
bool vb2x_core_buffer_mapped(struct vb2x_buffer *vb);
__poll_t vb2x_core_poll(struct vb2x_queue *q, struct file *file,
			poll_table *wait);
int vb2x_core_expbuf(struct vb2x_queue *q, unsigned int type,
		     unsigned int index, unsigned int plane, unsigned int flags,
		     int *fd);
int vb2x_core_mmap(struct vb2x_queue *q, void *owner,
		   struct vm_area_struct *vma);

int vb2x_import_prepare(struct vb2x_buffer *vb,
			const struct vb2x_plane_info *info);
int vb2x_import_map_buffer(struct vb2x_buffer *vb);
void vb2x_import_unmap_buffer(struct vb2x_buffer *vb);
void vb2x_import_release(void *priv);
void *vb2x_import_vaddr(void *priv);
struct dma_resv *vb2x_import_resv(void *priv);
int vb2x_import_begin_cpu(void *priv, u64 timeout_ns);

void vb2x_fence_queue_init(struct vb2x_queue *q);
int vb2x_fence_enqueue(struct vb2x_buffer *vb);
void vb2x_fence_signal(struct vb2x_buffer *vb, int error);
void vb2x_fence_cancel_all(struct vb2x_queue *q);

#endif /* _VB2X_INTERNAL_H */
