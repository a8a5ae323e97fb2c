// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-budget.c - per-device bound on live buffer memory
 *
 * The budget is freed by its kref release only, when the driver has
 * dropped its reference and the last charged allocation has been freed.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <media/vb2x-budget.h>

/**
 * vb2x_budget_create() - create a budget
 * @limit: returns the current limit in bytes, read at each charge
 *
 * Return: the budget holding one reference for the caller, or NULL.
 */
struct vb2x_budget *vb2x_budget_create(unsigned long (*limit)(void))
{
	struct vb2x_budget *budget;

	budget = kzalloc(sizeof(*budget), GFP_KERNEL);
	if (!budget)
		return NULL;
	kref_init(&budget->ref);
	atomic_long_set(&budget->used, 0);
	budget->limit = limit;
	return budget;
}

static void vb2x_budget_release(struct kref *ref)
{
	struct vb2x_budget *budget = container_of(ref, struct vb2x_budget, ref);

	WARN_ON_ONCE(atomic_long_read(&budget->used));
	kfree(budget);
}

/**
 * vb2x_budget_put() - drop the creator's reference
 * @budget: the budget, or NULL
 *
 * The budget is freed once no allocation is charged to it any more.
 */
void vb2x_budget_put(struct vb2x_budget *budget)
{
	if (budget)
		kref_put(&budget->ref, vb2x_budget_release);
}

/**
 * vb2x_budget_charge() - charge an allocation to a budget
 * @budget: the budget, or NULL for no limit
 * @bytes: size of the allocation
 *
 * On success the allocation holds a reference to @budget until
 * vb2x_budget_uncharge().
 *
 * Return: 0, or -EDQUOT if @bytes would exceed the limit.
 */
int vb2x_budget_charge(struct vb2x_budget *budget, unsigned long bytes)
{
	unsigned long limit;
	long used;

	if (!budget)
		return 0;
	limit = budget->limit();
	used = atomic_long_add_return(bytes, &budget->used);
	if ((unsigned long)used > limit) {
		atomic_long_sub(bytes, &budget->used);
		pr_debug("vb2x: budget: %lu bytes refused, %ld of %lu in use\n",
			 bytes, used - (long)bytes, limit);
		return -EDQUOT;
	}
	kref_get(&budget->ref);
	return 0;
}

/**
 * vb2x_budget_uncharge() - give back a charge and its reference
 * @budget: the budget passed to vb2x_budget_charge(), or NULL
 * @bytes: the size charged
 */
void vb2x_budget_uncharge(struct vb2x_budget *budget, unsigned long bytes)
{
	if (!budget)
		return;
	atomic_long_sub(bytes, &budget->used);
	kref_put(&budget->ref, vb2x_budget_release);
}
