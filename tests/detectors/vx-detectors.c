// SPDX-License-Identifier: GPL-2.0
/*
 * vx-detectors: a test-only module that commits, on request, exactly one
 * bug of each class that the debug kernel's detectors are meant to report,
 * so that a run can prove the detectors are live: a silent detector must
 * not look like a clean run. Load it only in a throw-away test guest.
 *
 * Write one word to /sys/kernel/debug/vx-detectors/trigger:
 *
 *   lockdep       take lock A then B, later B then A (lockdep)
 *   atomic-sleep  a function that may sleep, under a spinlock
 *   refcount      drop a refcount_t below zero
 *   odebug        re-initialize an active timer (DEBUG_OBJECTS_TIMERS)
 *   dma-api       unmap a streaming DMA mapping with the wrong size
 *   ubsan         index past the end of an array (UBSAN_BOUNDS)
 *   kasan-uaf     read a kmalloc()ed object after kfree()
 *   kasan-oob     write one byte past a kmalloc()ed object
 *   list          add to a list whose first entry was corrupted
 *   leak          lose the only pointer to a kmalloc()ed object (kmemleak)
 *   fence-hang    a kernel thread waits, uninterruptibly and for at most
 *                 VX_DET_FENCE_WAIT_S seconds, on a dma_fence nobody
 *                 signals (the hung-task detector)
 *   fence-signal  signal that fence: the thread recovers
 *
 * /sys/kernel/debug/vx-detectors/status tells whether the module runs in
 * control mode and what the fence waiter does.
 *
 * With control=1 every trigger does the same work correctly and commits no
 * bug: a check that still sees a report then proves nothing.
 *
 * Each bug is chosen so that the kernel goes on safely after its report,
 * and the module can be unloaded afterwards. Two exceptions: a kernel with
 * CONFIG_BUG_ON_DATA_CORRUPTION turns the list report into an oops that
 * kills the writing task (nothing is held then), and a kernel without
 * CONFIG_DEBUG_OBJECTS_TIMERS would not repair an active timer that is
 * initialized again, so there the timer is stopped first and the odebug
 * trigger commits nothing (and nothing is reported).
 */

#include <linux/compiler.h>
#include <linux/debugfs.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/uaccess.h>

#define VX_DET_NAME		"vx-detectors"
/* kmalloc(40) comes from kmalloc-64: the byte past its end is in the slab */
#define VX_DET_OBJ_SIZE		40
#define VX_DET_LEAK_SIZE	72
#define VX_DET_DMA_SIZE		64
#define VX_DET_SLOTS		4
#define VX_DET_SCRUB_SIZE	768
#define VX_DET_FENCE_WAIT_S	120

static bool control;
module_param(control, bool, 0444);
MODULE_PARM_DESC(control,
		 "commit no bug: every trigger does its work correctly (default: 0)");

/**
 * struct vx_det_table - an array with a neighbour
 * @slot: the array indexed out of bounds by the ubsan trigger
 * @spare: takes the write one past the end of @slot, so that the bug
 *	corrupts nothing on a kernel without UBSAN
 */
struct vx_det_table {
	int slot[VX_DET_SLOTS];
	int spare;
};

enum vx_det_wait_state {
	VX_DET_WAIT_NONE,
	VX_DET_WAIT_WAITING,
	VX_DET_WAIT_DONE,
};

/**
 * struct vx_det - the module's state
 * @dir: the debugfs directory
 * @pdev: a platform device of our own for the DMA mapping
 * @spin: held around the atomic-sleep bug
 * @ref: the refcount dropped below zero
 * @timer: the timer initialized again while active
 * @table: the array indexed out of bounds
 * @fence_lock: serializes the fence triggers and the unload
 * @fence_spin: the lock of @fence
 * @fence: the fence that nobody signals, or NULL
 * @waiter: the thread that waits on @fence (we hold a reference), or NULL
 * @wait_state: what @waiter does, an enum vx_det_wait_state
 * @wait_ret: what dma_fence_wait_timeout() returned to @waiter
 */
struct vx_det {
	struct dentry *dir;
	struct platform_device *pdev;
	spinlock_t spin;		/* held around the atomic-sleep bug */
	refcount_t ref;
	struct timer_list timer;
	struct vx_det_table table;
	struct mutex fence_lock;	/* fence, waiter vs. triggers, unload */
	spinlock_t fence_spin;		/* the lock of fence */
	struct dma_fence *fence;
	struct task_struct *waiter;
	int wait_state;
	long wait_ret;
};

static struct vx_det vx_det;

/* Lock A and lock B of the inversion: lockdep names them after these. */
static DEFINE_MUTEX(vx_det_lock_a);
static DEFINE_MUTEX(vx_det_lock_b);

static int vx_det_lockdep(void)
{
	mutex_lock(&vx_det_lock_a);
	mutex_lock(&vx_det_lock_b);
	mutex_unlock(&vx_det_lock_b);
	mutex_unlock(&vx_det_lock_a);

	if (control) {
		mutex_lock(&vx_det_lock_a);
		mutex_lock(&vx_det_lock_b);
		mutex_unlock(&vx_det_lock_b);
		mutex_unlock(&vx_det_lock_a);
		return 0;
	}
	/* One task, one after the other: the order is wrong, no deadlock. */
	mutex_lock(&vx_det_lock_b);
	mutex_lock(&vx_det_lock_a);
	mutex_unlock(&vx_det_lock_a);
	mutex_unlock(&vx_det_lock_b);
	return 0;
}

/*
 * cond_resched() may sleep and says so to DEBUG_ATOMIC_SLEEP, but with the
 * preempt count raised by the spinlock it never schedules: the bug is
 * reported and no "scheduling while atomic" follows, as it would with
 * msleep(), which really sleeps and leaves the preempt count broken.
 */
static int vx_det_atomic_sleep(void)
{
	spin_lock(&vx_det.spin);
	if (!control)
		cond_resched();
	spin_unlock(&vx_det.spin);
	if (control)
		cond_resched();
	return 0;
}

static int vx_det_refcount(void)
{
	refcount_set(&vx_det.ref, 1);
	if (refcount_dec_and_test(&vx_det.ref))
		pr_info(VX_DET_NAME ": refcount dropped to zero\n");
	if (!control && refcount_dec_and_test(&vx_det.ref))
		pr_info(VX_DET_NAME ": refcount dropped to zero again\n");
	return 0;
}

static void vx_det_timer_fn(struct timer_list *timer)
{
	pr_info(VX_DET_NAME ": timer expired\n");
}

static int vx_det_odebug(void)
{
	mod_timer(&vx_det.timer, jiffies + 60 * HZ);
	if (control || !IS_ENABLED(CONFIG_DEBUG_OBJECTS_TIMERS)) {
		if (!control)
			pr_info(VX_DET_NAME ": no DEBUG_OBJECTS_TIMERS: stopping the timer first\n");
		del_timer_sync(&vx_det.timer);
	}
	/* Initializing an active timer: debugobjects stops it and reports. */
	timer_setup(&vx_det.timer, vx_det_timer_fn, 0);
	del_timer_sync(&vx_det.timer);
	return 0;
}

static int vx_det_dma_api(void)
{
	struct device *dev = &vx_det.pdev->dev;
	dma_addr_t addr;
	void *buf;

	buf = kzalloc(VX_DET_DMA_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	addr = dma_map_single(dev, buf, VX_DET_DMA_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		kfree(buf);
		return -EIO;
	}
	dma_unmap_single(dev, addr,
			 control ? VX_DET_DMA_SIZE : VX_DET_DMA_SIZE / 2,
			 DMA_TO_DEVICE);
	kfree(buf);
	return 0;
}

static int vx_det_ubsan(void)
{
	unsigned int idx = control ? VX_DET_SLOTS - 1 : VX_DET_SLOTS;

	/* Keep the compiler from seeing the constant index. */
	OPTIMIZER_HIDE_VAR(idx);
	vx_det.table.slot[idx] = 1;
	pr_info(VX_DET_NAME ": wrote slot %u\n", idx);
	return 0;
}

static noinline int vx_det_kasan_uaf(void)
{
	char *obj;
	char val;

	obj = kmalloc(VX_DET_OBJ_SIZE, GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	obj[0] = 'v';
	if (!control) {
		kfree(obj);
		/* The compiler must not know that obj was freed. */
		OPTIMIZER_HIDE_VAR(obj);
	}
	val = READ_ONCE(obj[0]);
	if (control)
		kfree(obj);
	pr_info(VX_DET_NAME ": read %d\n", val);
	return 0;
}

static noinline int vx_det_kasan_oob(void)
{
	unsigned int idx = control ? VX_DET_OBJ_SIZE - 1 : VX_DET_OBJ_SIZE;
	char *obj;

	obj = kmalloc(VX_DET_OBJ_SIZE, GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(idx);
	WRITE_ONCE(obj[idx], 'x');
	kfree(obj);
	return 0;
}

/*
 * The list holds head and entry. The entry's prev pointer is corrupted (it
 * points to scratch instead of head), then a second entry is added after
 * head: DEBUG_LIST sees entry->prev != head and refuses the add. Without
 * DEBUG_LIST the add would only write to these four local list heads.
 */
static int vx_det_list(void)
{
	struct list_head head, entry, extra, scratch;

	INIT_LIST_HEAD(&head);
	INIT_LIST_HEAD(&scratch);
	list_add(&entry, &head);
	if (!control)
		WRITE_ONCE(entry.prev, &scratch);
	list_add(&extra, &head);
	return 0;
}

/* Overwrite the stack below our caller's frame, where the leak's was. */
static noinline void vx_det_scrub_stack(void)
{
	char junk[VX_DET_SCRUB_SIZE];

	memzero_explicit(junk, sizeof(junk));
}

static noinline void vx_det_leak_alloc(void)
{
	char *obj;

	obj = kmalloc(VX_DET_LEAK_SIZE, GFP_KERNEL);
	if (!obj)
		return;
	strscpy(obj, "vx-detectors: leaked on purpose", VX_DET_LEAK_SIZE);
	if (control)
		kfree(obj);
}

/*
 * The only pointer to the object lives in vx_det_leak_alloc()'s registers
 * and stack: the stack is scrubbed, and the writing task is expected to
 * exit, so that kmemleak finds no reference anywhere.
 */
static int vx_det_leak(void)
{
	vx_det_leak_alloc();
	vx_det_scrub_stack();
	return 0;
}

static const char *vx_det_fence_driver_name(struct dma_fence *fence)
{
	return VX_DET_NAME;
}

static const char *vx_det_fence_timeline_name(struct dma_fence *fence)
{
	return "never-signalled";
}

static const struct dma_fence_ops vx_det_fence_ops = {
	.get_driver_name = vx_det_fence_driver_name,
	.get_timeline_name = vx_det_fence_timeline_name,
};

static int vx_det_waiter_fn(void *data)
{
	struct dma_fence *fence = data;
	long ret;

	WRITE_ONCE(vx_det.wait_state, VX_DET_WAIT_WAITING);
	ret = dma_fence_wait_timeout(fence, false, VX_DET_FENCE_WAIT_S * HZ);
	WRITE_ONCE(vx_det.wait_ret, ret);
	WRITE_ONCE(vx_det.wait_state, VX_DET_WAIT_DONE);
	pr_info(VX_DET_NAME ": fence waiter done (%ld)\n", ret);
	return 0;
}

static int vx_det_fence_hang(void)
{
	struct task_struct *waiter;
	struct dma_fence *fence;
	int ret = 0;

	mutex_lock(&vx_det.fence_lock);
	if (vx_det.fence) {
		ret = -EBUSY;
		goto out;
	}
	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	if (!fence) {
		ret = -ENOMEM;
		goto out;
	}
	dma_fence_init(fence, &vx_det_fence_ops, &vx_det.fence_spin,
		       dma_fence_context_alloc(1), 1);
	if (control)
		dma_fence_signal(fence);
	waiter = kthread_create(vx_det_waiter_fn, fence, "vx-fence-wait");
	if (IS_ERR(waiter)) {
		dma_fence_signal(fence);
		dma_fence_put(fence);
		ret = PTR_ERR(waiter);
		goto out;
	}
	get_task_struct(waiter);
	vx_det.fence = fence;
	vx_det.waiter = waiter;
	wake_up_process(waiter);
out:
	mutex_unlock(&vx_det.fence_lock);
	return ret;
}

static int vx_det_fence_signal(void)
{
	int ret;

	mutex_lock(&vx_det.fence_lock);
	ret = vx_det.fence ? dma_fence_signal(vx_det.fence) : -ENOENT;
	mutex_unlock(&vx_det.fence_lock);
	return ret;
}

/**
 * struct vx_det_trigger - one word of the trigger file
 * @name: the word
 * @commit: commits the bug (or, in control mode, does it right)
 */
struct vx_det_trigger {
	const char *name;
	int (*commit)(void);
};

static const struct vx_det_trigger vx_det_triggers[] = {
	{ "lockdep", vx_det_lockdep },
	{ "atomic-sleep", vx_det_atomic_sleep },
	{ "refcount", vx_det_refcount },
	{ "odebug", vx_det_odebug },
	{ "dma-api", vx_det_dma_api },
	{ "ubsan", vx_det_ubsan },
	{ "kasan-uaf", vx_det_kasan_uaf },
	{ "kasan-oob", vx_det_kasan_oob },
	{ "list", vx_det_list },
	{ "leak", vx_det_leak },
	{ "fence-hang", vx_det_fence_hang },
	{ "fence-signal", vx_det_fence_signal },
};

static ssize_t vx_det_trigger_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	char word[24];
	size_t i;
	int ret;

	if (count >= sizeof(word))
		return -EINVAL;
	if (copy_from_user(word, ubuf, count))
		return -EFAULT;
	word[count] = '\0';
	for (i = 0; i < ARRAY_SIZE(vx_det_triggers); i++) {
		if (!sysfs_streq(word, vx_det_triggers[i].name))
			continue;
		pr_info(VX_DET_NAME ": %s %s\n",
			control ? "control, no bug:" : "committing",
			vx_det_triggers[i].name);
		ret = vx_det_triggers[i].commit();
		return ret ? ret : count;
	}
	return -EINVAL;
}

static const struct file_operations vx_det_trigger_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vx_det_trigger_write,
	.llseek = noop_llseek,
};

static int vx_det_status_show(struct seq_file *m, void *unused)
{
	static const char * const states[] = {
		[VX_DET_WAIT_NONE] = "none",
		[VX_DET_WAIT_WAITING] = "waiting",
		[VX_DET_WAIT_DONE] = "done",
	};
	int state;

	mutex_lock(&vx_det.fence_lock);
	state = READ_ONCE(vx_det.wait_state);
	seq_printf(m, "control %d\n", control);
	seq_printf(m, "fence-waiter %s", vx_det.waiter ? states[state] : "none");
	if (vx_det.waiter && state == VX_DET_WAIT_DONE)
		seq_printf(m, " %ld", READ_ONCE(vx_det.wait_ret));
	seq_puts(m, "\n");
	mutex_unlock(&vx_det.fence_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vx_det_status);

static int __init vx_det_init(void)
{
	struct platform_device_info info = {
		.name = VX_DET_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};

	spin_lock_init(&vx_det.spin);
	spin_lock_init(&vx_det.fence_spin);
	mutex_init(&vx_det.fence_lock);
	refcount_set(&vx_det.ref, 1);
	timer_setup(&vx_det.timer, vx_det_timer_fn, 0);

	vx_det.pdev = platform_device_register_full(&info);
	if (IS_ERR(vx_det.pdev))
		return PTR_ERR(vx_det.pdev);

	/*
	 * The trigger may oops on purpose (list, with BUG_ON_DATA_CORRUPTION):
	 * the unsafe variant has no active-user count that the oops would
	 * leave raised forever, which would block debugfs removal; an open
	 * file holds the module instead (.owner).
	 */
	vx_det.dir = debugfs_create_dir(VX_DET_NAME, NULL);
	debugfs_create_file_unsafe("trigger", 0200, vx_det.dir, NULL,
				   &vx_det_trigger_fops);
	debugfs_create_file("status", 0444, vx_det.dir, NULL,
			    &vx_det_status_fops);
	pr_info(VX_DET_NAME ": loaded%s\n", control ? " in control mode" : "");
	return 0;
}

static void __exit vx_det_exit(void)
{
	debugfs_remove_recursive(vx_det.dir);

	mutex_lock(&vx_det.fence_lock);
	if (vx_det.fence)
		dma_fence_signal(vx_det.fence);
	mutex_unlock(&vx_det.fence_lock);
	if (vx_det.waiter) {
		kthread_stop(vx_det.waiter);
		put_task_struct(vx_det.waiter);
	}
	if (vx_det.fence)
		dma_fence_put(vx_det.fence);

	del_timer_sync(&vx_det.timer);
	platform_device_unregister(vx_det.pdev);
}

module_init(vx_det_init);
module_exit(vx_det_exit);

MODULE_DESCRIPTION("Test only: commits one bug per debug-kernel detector class on request");
MODULE_LICENSE("GPL");
