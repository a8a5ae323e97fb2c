// SPDX-License-Identifier: GPL-2.0
/*
 * vb2x-mem.c - reference counting of MMAP memory, common to all allocators
 *
 * The plane, every V4L2 or dma-buf mmap() VMA and every exported dma-buf
 * hold a reference to a &struct vb2x_mem; the last one gone frees the
 * reservation object, the budget charge and, through the allocator's
 * &vb2x_mem_kind.free, the memory.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <media/vb2x-budget.h>

#include "vb2x-mem-priv.h"

/**
 * vb2x_mem_init() - set up freshly allocated MMAP memory
 * @mem: the memory's common part, embedded in the allocator's struct
 * @kind: the allocator's callbacks
 * @vaddr: kernel address of the memory
 * @size: its size in bytes, whole pages
 * @budget: the budget @size was charged to, or NULL
 *
 * On return @mem holds one reference, the plane's, and owns the charge.
 */
void vb2x_mem_init(struct vb2x_mem *mem, const struct vb2x_mem_kind *kind,
		   void *vaddr, unsigned long size, struct vb2x_budget *budget)
{
	mem->kind = kind;
	mem->vaddr = vaddr;
	mem->size = size;
	dma_resv_init(&mem->resv);
	mem->budget = budget;
	refcount_set(&mem->refcount, 1);
}

/**
 * vb2x_mem_get() - take one more reference to MMAP memory
 * @mem: the memory, on which the caller already holds a reference
 */
void vb2x_mem_get(struct vb2x_mem *mem)
{
	refcount_inc(&mem->refcount);
}

/**
 * vb2x_mem_put() - drop a reference to MMAP memory
 * @mem: the memory
 *
 * The last reference frees the reservation object, the budget charge and
 * the memory: this is the only place that does.
 */
void vb2x_mem_put(struct vb2x_mem *mem)
{
	struct vb2x_budget *budget = mem->budget;
	unsigned long size = mem->size;

	if (!refcount_dec_and_test(&mem->refcount))
		return;
	dma_resv_fini(&mem->resv);
	mem->kind->free(mem);
	vb2x_budget_uncharge(budget, size);
}

/* A VMA was duplicated (fork) or split: the copy holds its own reference. */
static void vb2x_mem_vm_open(struct vm_area_struct *vma)
{
	vb2x_mem_get(vma->vm_private_data);
}

static void vb2x_mem_vm_close(struct vm_area_struct *vma)
{
	vb2x_mem_put(vma->vm_private_data);
}

static const struct vm_operations_struct vb2x_mem_vm_ops = {
	.open = vb2x_mem_vm_open,
	.close = vb2x_mem_vm_close,
};

/**
 * vb2x_mem_vma_attach() - make a freshly mapped VMA hold a reference
 * @vma: the VMA, just mapped with the pages of @mem
 * @mem: the memory
 *
 * From now on the VMA, and every copy of it, holds its own reference to
 * @mem until it is closed.
 */
void vb2x_mem_vma_attach(struct vm_area_struct *vma, struct vb2x_mem *mem)
{
	vma->vm_private_data = mem;
	vma->vm_ops = &vb2x_mem_vm_ops;
	vb2x_mem_vm_open(vma);
}

/**
 * vb2x_mem_put_priv() - &vb2x_mem_ops.put for MMAP memory
 * @buf_priv: the &struct vb2x_mem returned by the allocator
 */
void vb2x_mem_put_priv(void *buf_priv)
{
	vb2x_mem_put(buf_priv);
}

/**
 * vb2x_mem_vaddr() - &vb2x_mem_ops.vaddr
 * @buf_priv: the &struct vb2x_mem returned by the allocator
 *
 * Return: the kernel address of the plane's first byte.
 */
void *vb2x_mem_vaddr(void *buf_priv)
{
	struct vb2x_mem *mem = buf_priv;

	return mem->vaddr;
}

/**
 * vb2x_mem_num_users() - &vb2x_mem_ops.num_users for MMAP memory
 * @buf_priv: the &struct vb2x_mem returned by the allocator
 *
 * Return: the references held on the memory.
 */
unsigned int vb2x_mem_num_users(void *buf_priv)
{
	struct vb2x_mem *mem = buf_priv;

	return refcount_read(&mem->refcount);
}

/**
 * vb2x_mem_resv() - &vb2x_mem_ops.resv for MMAP memory
 * @buf_priv: the &struct vb2x_mem returned by the allocator
 *
 * Return: the reservation object shared by the plane's dma-bufs.
 */
struct dma_resv *vb2x_mem_resv(void *buf_priv)
{
	struct vb2x_mem *mem = buf_priv;

	return &mem->resv;
}
