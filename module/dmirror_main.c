// SPDX-License-Identifier: GPL-2.0
/*
 * dmirror: a simulated device with device-private memory, speaking the
 * ioctl ABI of the kernel's lib/test_hmm_uapi.h.  It makes device-private
 * migration (HMM, migrate_vma_*) observable: tracepoints at every step,
 * counters and the device free list in debugfs, and knobs that inject the
 * two classic driver bugs, fault loops and leaked shadow pages.
 *
 * This file: module parameters, the character devices and their ioctls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dmirror_compat.h"
#include "dmirror.h"

#define CREATE_TRACE_POINTS
#include "dmirror_lock_trace.h"
#include "dmirror_trace.h"

unsigned int dmirror_ndevices = 2;
module_param_named(ndevices, dmirror_ndevices, uint, 0444);
MODULE_PARM_DESC(ndevices, "number of devices /dev/dmirror0.. (1-64, default 2)");

unsigned int dmirror_chunk_pages = 16384;
module_param_named(chunk_pages, dmirror_chunk_pages, uint, 0444);
MODULE_PARM_DESC(chunk_pages,
		 "device pages added at a time, a multiple of 512 (default 16384: 64 MiB)");

unsigned int dmirror_max_chunks = 16;
module_param_named(max_chunks, dmirror_max_chunks, uint, 0444);
MODULE_PARM_DESC(max_chunks,
		 "chunks per device at most; a full device fails migrations with -ENOMEM (default 16)");

unsigned int dmirror_fault_loop_limit = 10000;
module_param_named(fault_loop_limit, dmirror_fault_loop_limit, uint, 0444);
MODULE_PARM_DESC(fault_loop_limit,
		 "faults in a row on one device page that migrate nothing before SIGBUS; 0 = no limit (default 10000; also in debugfs)");

/* Fault injection, set through debugfs only. */
unsigned int dmirror_owner_mismatch;
unsigned int dmirror_leak_shadow;
/*
 * MIGRATE_TO_DEV hands the data back through a bounce buffer, one copy
 * more, as upstream test_hmm does: kept so that make bench measures the
 * copy saved side by side in one boot (debugfs only).
 */
unsigned int dmirror_bounce_copy;

struct dmirror_device **dmirror_devices;
struct dmirror_system_pages dmirror_system_pages;
static dev_t dmirror_devt;

/* Memory hotplug works in subsections: chunks are whole ones. */
#define DMIRROR_CHUNK_ALIGN	(SZ_2M / PAGE_SIZE)
#define DMIRROR_MAX_DEVICES	64

static int dmirror_fops_open(struct inode *inode, struct file *filp)
{
	struct dmirror_device *mdev = container_of(inode->i_cdev,
						   struct dmirror_device, cdev);
	struct dmirror_file *df;

	df = dmirror_file_create(mdev);
	if (IS_ERR(df))
		return PTR_ERR(df);
	filp->private_data = df;
	return 0;
}

static int dmirror_fops_release(struct inode *inode, struct file *filp)
{
	dmirror_file_destroy(filp->private_data);
	return 0;
}

/*
 * Mapping the device file gives zeroed system pages, as test_hmm.ko
 * does: hmm-tests uses it to get a mapping hmm_range_fault() reports
 * read-only and not the zero page.
 */
static int dmirror_fops_mmap(struct file *filp, struct vm_area_struct *vma)
{
	unsigned long addr;

	if (vma_pages(vma) > DMIRROR_MAX_NPAGES)
		return -EINVAL;
	for (addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
		struct page *page;
		int ret;

		if (fatal_signal_pending(current))
			return -EINTR;
		page = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!page)
			return -ENOMEM;
		ret = vm_insert_page(vma, addr, page);
		/* The mapping took its own reference, or failed. */
		put_page(page);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A command's range must be page aligned, non-empty, at most
 * DMIRROR_MAX_NPAGES long and inside the user address space.
 */
static int dmirror_check_range(const struct hmm_dmirror_cmd *cmd)
{
	if (!cmd->npages || cmd->npages > DMIRROR_MAX_NPAGES)
		return -EINVAL;
	if (cmd->addr & ~PAGE_MASK)
		return -EINVAL;
	if (cmd->addr >= TASK_SIZE ||
	    cmd->npages > (TASK_SIZE - cmd->addr) >> PAGE_SHIFT)
		return -EINVAL;
	return 0;
}

static int dmirror_ioctl_migrate_to_dev(struct dmirror_file *df,
					struct hmm_dmirror_cmd *cmd)
{
	unsigned long end = cmd->addr + (cmd->npages << PAGE_SHIFT);
	int ret;

	ret = dmirror_migrate_to_dev(df, cmd->addr, end);
	if (ret)
		return ret;
	return dmirror_map_migrated(df, cmd);
}

static int dmirror_ioctl_migrate_to_sys(struct dmirror_file *df,
					struct hmm_dmirror_cmd *cmd)
{
	unsigned long end = cmd->addr + (cmd->npages << PAGE_SHIFT);

	return dmirror_migrate_to_ram(df, cmd->addr, end, &cmd->cpages);
}

static int dmirror_ioctl_flags(struct dmirror_file *df,
			       struct hmm_dmirror_cmd *cmd)
{
	if (cmd->npages & ~HMM_DMIRROR_FLAG_FAIL_ALLOC)
		return -EINVAL;
	WRITE_ONCE(df->flags, cmd->npages);
	return 0;
}

static int dmirror_ioctl_release(struct dmirror_file *df)
{
	return dmirror_devmem_evict(df->mdev);
}

/*
 * Sorts out @command before its argument is read: -ENOTTY for a command
 * this driver does not serve (whatever the argument points to), else
 * whether it works on a range.
 */
static int dmirror_ioctl_check_command(unsigned int command, bool *ranged)
{
	switch (command) {
	case HMM_DMIRROR_READ_UNLOCKED:
		if (!DMIRROR_HAVE_READ_UNLOCKED)
			return -ENOTTY;
		fallthrough;
	case HMM_DMIRROR_READ:
	case HMM_DMIRROR_WRITE:
	case HMM_DMIRROR_MIGRATE_TO_DEV:
	case HMM_DMIRROR_MIGRATE_TO_SYS:
	case HMM_DMIRROR_SNAPSHOT:
	case HMM_DMIRROR_EXCLUSIVE:
	case HMM_DMIRROR_CHECK_EXCLUSIVE:
		*ranged = true;
		return 0;
	case HMM_DMIRROR_RELEASE:
	case HMM_DMIRROR_FLAGS:
		*ranged = false;
		return 0;
	default:
		return -ENOTTY;
	}
}

static int dmirror_ioctl_run(struct dmirror_file *df, unsigned int command,
			     struct hmm_dmirror_cmd *cmd)
{
	switch (command) {
	case HMM_DMIRROR_READ:
		return dmirror_read(df, cmd, false);
	case HMM_DMIRROR_READ_UNLOCKED:
		return dmirror_read(df, cmd, true);
	case HMM_DMIRROR_WRITE:
		return dmirror_write(df, cmd);
	case HMM_DMIRROR_MIGRATE_TO_DEV:
		return dmirror_ioctl_migrate_to_dev(df, cmd);
	case HMM_DMIRROR_MIGRATE_TO_SYS:
		return dmirror_ioctl_migrate_to_sys(df, cmd);
	case HMM_DMIRROR_SNAPSHOT:
		return dmirror_snapshot(df, cmd);
	case HMM_DMIRROR_EXCLUSIVE:
		return dmirror_exclusive(df, cmd);
	case HMM_DMIRROR_CHECK_EXCLUSIVE:
		return dmirror_check_exclusive(df, cmd);
	case HMM_DMIRROR_RELEASE:
		return dmirror_ioctl_release(df);
	case HMM_DMIRROR_FLAGS:
		return dmirror_ioctl_flags(df, cmd);
	}
	/* dmirror_ioctl_check_command() let through a command not served here. */
	WARN_ON_ONCE(1);
	return -ENOTTY;
}

static long dmirror_fops_ioctl(struct file *filp, unsigned int command,
			       unsigned long arg)
{
	struct dmirror_file *df = filp->private_data;
	void __user *uarg = (void __user *)arg;
	struct hmm_dmirror_cmd cmd;
	bool ranged;
	int ret;

	ret = dmirror_ioctl_check_command(command, &ranged);
	if (ret)
		return ret;
	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;
	cmd.cpages = 0;
	cmd.faults = 0;
	if (ranged) {
		ret = dmirror_check_range(&cmd);
		if (ret)
			return ret;
	}

	ret = dmirror_ioctl_run(df, command, &cmd);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &cmd, sizeof(cmd)))
		return -EFAULT;
	return 0;
}

static const struct file_operations dmirror_fops = {
	.owner		= THIS_MODULE,
	.open		= dmirror_fops_open,
	.release	= dmirror_fops_release,
	.mmap		= dmirror_fops_mmap,
	.unlocked_ioctl	= dmirror_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static char *dmirror_devnode(DMIRROR_DEVNODE_CONST struct device *dev,
			     umode_t *mode)
{
	if (mode)
		*mode = 0600;
	return NULL;
}

static struct class dmirror_class = {
	.name		= "dmirror",
	.devnode	= dmirror_devnode,
};

static void dmirror_device_release(struct device *dev)
{
	kfree(container_of(dev, struct dmirror_device, dev));
}

static struct dmirror_device *dmirror_device_create(unsigned int id)
{
	struct dmirror_device *mdev;
	int ret;

	mdev = kzalloc_obj(*mdev);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->chunks = kcalloc(dmirror_max_chunks, sizeof(*mdev->chunks),
			       GFP_KERNEL);
	if (!mdev->chunks) {
		kfree(mdev);
		return ERR_PTR(-ENOMEM);
	}
	mdev->id = id;
	mutex_init(&mdev->grow_lock);
	spin_lock_init(&mdev->lock);

	device_initialize(&mdev->dev);
	mdev->dev.class = &dmirror_class;
	mdev->dev.devt = MKDEV(MAJOR(dmirror_devt), id);
	mdev->dev.release = dmirror_device_release;
	cdev_init(&mdev->cdev, &dmirror_fops);
	mdev->cdev.owner = THIS_MODULE;

	ret = dev_set_name(&mdev->dev, "dmirror%u", id);
	if (!ret)
		ret = cdev_device_add(&mdev->cdev, &mdev->dev);
	if (ret) {
		kfree(mdev->chunks);
		put_device(&mdev->dev);
		return ERR_PTR(ret);
	}
	return mdev;
}

/*
 * Only called once nothing uses the device: no file is open (the files
 * hold the module) and no device page is in use (each one holds it too).
 */
static void dmirror_device_destroy(struct dmirror_device *mdev)
{
	cdev_device_del(&mdev->cdev, &mdev->dev);
	dmirror_devmem_shrink(mdev);
	/* No page in use, so every chunk was idle and went. */
	WARN_ON_ONCE(mdev->nchunks);
	kfree(mdev->chunks);
	put_device(&mdev->dev);
}

static int dmirror_check_params(void)
{
	if (!dmirror_ndevices || dmirror_ndevices > DMIRROR_MAX_DEVICES) {
		pr_err("ndevices must be 1..%d\n",
		       DMIRROR_MAX_DEVICES);
		return -EINVAL;
	}
	if (!dmirror_chunk_pages || dmirror_chunk_pages % DMIRROR_CHUNK_ALIGN ||
	    dmirror_chunk_pages > DMIRROR_MAX_NPAGES) {
		pr_err("chunk_pages must be a multiple of %lu, at most %llu\n",
		       DMIRROR_CHUNK_ALIGN, DMIRROR_MAX_NPAGES);
		return -EINVAL;
	}
	if (!dmirror_max_chunks || dmirror_max_chunks > 1024) {
		pr_err("max_chunks must be 1..1024\n");
		return -EINVAL;
	}
	if (dmirror_fault_loop_limit > INT_MAX) {
		pr_err("fault_loop_limit must be at most %d\n",
		       INT_MAX);
		return -EINVAL;
	}
	return 0;
}

static void dmirror_destroy_devices(unsigned int n)
{
	while (n--)
		dmirror_device_destroy(dmirror_devices[n]);
	kfree(dmirror_devices);
	dmirror_devices = NULL;
}

static int __init dmirror_init(void)
{
	unsigned int id;
	int ret;

	ret = dmirror_check_params();
	if (ret)
		return ret;

	dmirror_devices = kcalloc(dmirror_ndevices, sizeof(*dmirror_devices),
				  GFP_KERNEL);
	if (!dmirror_devices)
		return -ENOMEM;
	ret = alloc_chrdev_region(&dmirror_devt, 0, dmirror_ndevices,
				  "dmirror");
	if (ret)
		goto err_free;
	ret = class_register(&dmirror_class);
	if (ret)
		goto err_chrdev;

	for (id = 0; id < dmirror_ndevices; id++) {
		struct dmirror_device *mdev = dmirror_device_create(id);

		if (IS_ERR(mdev)) {
			ret = PTR_ERR(mdev);
			dmirror_destroy_devices(id);
			goto err_class;
		}
		dmirror_devices[id] = mdev;
	}
	dmirror_debugfs_init();

	pr_info("%u device-private devices, up to %u x %u pages each\n",
		dmirror_ndevices, dmirror_max_chunks, dmirror_chunk_pages);
	return 0;

err_class:
	class_unregister(&dmirror_class);
err_chrdev:
	unregister_chrdev_region(dmirror_devt, dmirror_ndevices);
err_free:
	kfree(dmirror_devices);
	dmirror_devices = NULL;
	return ret;
}

static void __exit dmirror_exit(void)
{
	dmirror_debugfs_exit();
	dmirror_destroy_devices(dmirror_ndevices);
	class_unregister(&dmirror_class);
	unregister_chrdev_region(dmirror_devt, dmirror_ndevices);
}

module_init(dmirror_init);
module_exit(dmirror_exit);
MODULE_DESCRIPTION("dmirror: observable device-private memory migration");
MODULE_LICENSE("GPL");
