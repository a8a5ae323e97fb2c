/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vb2x-budget.h - a bound on the buffer memory of a device that is still
 * alive, orphaned buffers included
 *
 * A driver creates one budget per device and points its queues at it
 * (&vb2x_queue.budget). Every MMAP allocation charges its size and holds a
 * reference to the budget until its memory is finally freed, which may be
 * long after the queue and the device are gone (the last dma-buf or
 * mapping may be closed after the device was unbound).
 */
#ifndef _MEDIA_VB2X_BUDGET_H
#define _MEDIA_VB2X_BUDGET_H

#include <linux/atomic.h>
#include <linux/kref.h>

/**
 * struct vb2x_budget - a refcounted memory budget
 * @ref: one reference for the driver (dropped with vb2x_budget_put() when
 *	the device goes away) and one per charged allocation (dropped by
 *	vb2x_budget_uncharge() when that memory is freed)
 * @used: bytes charged and not yet uncharged; atomic, needs no lock
 * @limit: returns the limit in bytes; called at each charge, only while the
 *	device that created the budget exists
 */
struct vb2x_budget {
	struct kref	ref;
	atomic_long_t	used;
	unsigned long	(*limit)(void);
};

struct vb2x_budget *vb2x_budget_create(unsigned long (*limit)(void));
void vb2x_budget_put(struct vb2x_budget *budget);
int vb2x_budget_charge(struct vb2x_budget *budget, unsigned long bytes);
void vb2x_budget_uncharge(struct vb2x_budget *budget, unsigned long bytes);

#endif /* _MEDIA_VB2X_BUDGET_H */
