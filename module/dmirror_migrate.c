// SPDX-License-Identifier: GPL-2.0
/*
 * Migration between system memory and device memory.
 *
 * Every migration is one migrate_vma_setup() / migrate_vma_pages() /
 * migrate_vma_finalize() cycle over a window of one VMA, traced at each
 * step.  Towards the device the data goes into the device page's shadow
 * page; back to system memory it comes out of it.  The CPU fault handler
 * (dev_pagemap_ops.migrate_to_ram) is one such cycle over one page, and
 * is where the fault-loop guard lives.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dmirror_compat.h"
#include "dmirror.h"
#include "dmirror_trace.h"

struct dmirror_migration {
	struct migrate_vma	args;
	struct dmirror_device	*mdev;
	u8			dir;
	u8			fault;
	u64			start_ns;
	unsigned long		migrated;
	/* -ENOMEM once a destination page could not be had */
	int			error;
};

static int dmirror_migration_setup(struct dmirror_migration *m)
{
	int ret;

	m->start_ns = trace_dmirror_migrate_finalize_enabled() ?
		      ktime_get_ns() : 0;
	ret = migrate_vma_setup(&m->args);
	trace_dmirror_migrate_setup(m->mdev->id, m->dir, m->fault,
				    m->args.start, m->args.end,
				    ret ? 0 : m->args.cpages,
				    m->args.pgmap_owner == m->mdev, ret);
	return ret;
}

static void dmirror_migration_finish(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i;

	migrate_vma_pages(args);
	for (i = 0; i < args->npages; i++)
		if (args->src[i] & MIGRATE_PFN_MIGRATE)
			m->migrated++;
	migrate_vma_finalize(args);

	if (m->dir == DMIRROR_DIR_TO_DEV) {
		dmirror_count(m->mdev, DMIRROR_MIGRATIONS_TO_DEV, 1);
		dmirror_count(m->mdev, DMIRROR_PAGES_TO_DEV, m->migrated);
	} else {
		dmirror_count(m->mdev, DMIRROR_MIGRATIONS_TO_RAM, 1);
		dmirror_count(m->mdev, DMIRROR_PAGES_TO_RAM, m->migrated);
	}

	if (trace_dmirror_migrate_finalize_enabled())
		trace_dmirror_migrate_finalize(m->mdev->id, m->dir, m->fault,
					       args->start, args->end,
					       args->cpages, m->migrated,
					       m->start_ns ?
					       ktime_get_ns() - m->start_ns : 0);
}

/*
 * Gives each collected system page (or hole: no source page, the device
 * page starts zeroed) a device page holding a copy of its data.  Once the
 * device is full the remaining pages stay where they are.
 */
static void dmirror_copy_to_dev(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		unsigned long src = args->src[i];
		struct page *spage, *dpage, *shadow;
		bool write;

		args->dst[i] = 0;
		if (!(src & MIGRATE_PFN_MIGRATE) || m->error)
			continue;
		spage = migrate_pfn_to_page(src);
		if (spage && is_zone_device_page(spage))
			continue;

		dpage = dmirror_devmem_alloc(m->mdev);
		if (IS_ERR(dpage)) {
			m->error = PTR_ERR(dpage);
			continue;
		}
		shadow = dpage->zone_device_data;
		if (spage)
			copy_highpage(shadow, spage);
		else
			clear_highpage(shadow);

		write = (src & MIGRATE_PFN_WRITE) ||
			(!spage && (args->vma->vm_flags & VM_WRITE));
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (write)
			args->dst[i] |= MIGRATE_PFN_WRITE;
		trace_dmirror_alloc_and_copy(m->mdev->id, DMIRROR_DIR_TO_DEV,
					     args->start + (i << PAGE_SHIFT),
					     spage ? page_to_pfn(spage) : 0,
					     page_to_pfn(dpage),
					     page_to_pfn(shadow), write);
	}
}

/* Gives each collected device page a system page with its data. */
static void dmirror_copy_to_ram(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		unsigned long src = args->src[i];
		unsigned long addr = args->start + (i << PAGE_SHIFT);
		struct page *dpage, *shadow, *page;

		args->dst[i] = 0;
		if (!(src & MIGRATE_PFN_MIGRATE) || m->error)
			continue;
		dpage = migrate_pfn_to_page(src);
		if (!dpage || !dmirror_page_is_ours(m->mdev, dpage))
			continue;

		page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, args->vma, addr);
		if (!page) {
			m->error = -ENOMEM;
			continue;
		}
		lock_page(page);
		shadow = dpage->zone_device_data;
		copy_highpage(page, shadow);
		args->dst[i] = migrate_pfn(page_to_pfn(page)) |
			       (src & MIGRATE_PFN_WRITE);
		trace_dmirror_alloc_and_copy(m->mdev->id, DMIRROR_DIR_TO_RAM,
					     addr, page_to_pfn(dpage),
					     page_to_pfn(page),
					     page_to_pfn(shadow),
					     !!(src & MIGRATE_PFN_WRITE));
	}
}

/*
 * Runs one cycle per window of each VMA in [start, end).  A hole, or a
 * VMA without read access, in the range is -EINVAL.
 */
static int dmirror_migrate_range(struct dmirror_file *df, unsigned long start,
				 unsigned long end, u8 dir, u64 *migrated)
{
	struct mm_struct *mm = df->notifier.mm;
	unsigned long addr, next, *pfns;
	int ret;

	pfns = kvmalloc_array(2 * DMIRROR_MIGRATE_WINDOW, sizeof(*pfns),
			      GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	if (!mmget_not_zero(mm)) {
		ret = -ESRCH;
		goto out_free;
	}
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_put;

	for (addr = start; addr < end && !ret; addr = next) {
		struct vm_area_struct *vma;
		struct dmirror_migration m = {
			.mdev = df->mdev,
			.dir = dir,
		};

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_READ)) {
			ret = -EINVAL;
			break;
		}
		next = min3(end, vma->vm_end,
			    addr + (DMIRROR_MIGRATE_WINDOW << PAGE_SHIFT));

		m.args.vma = vma;
		m.args.start = addr;
		m.args.end = next;
		m.args.src = pfns;
		m.args.dst = pfns + DMIRROR_MIGRATE_WINDOW;
		m.args.pgmap_owner = df->mdev;
		m.args.flags = dir == DMIRROR_DIR_TO_DEV ?
			       MIGRATE_VMA_SELECT_SYSTEM :
			       MIGRATE_VMA_SELECT_DEVICE_PRIVATE;

		ret = dmirror_migration_setup(&m);
		if (ret)
			break;
		if (dir == DMIRROR_DIR_TO_DEV)
			dmirror_copy_to_dev(&m);
		else
			dmirror_copy_to_ram(&m);
		dmirror_migration_finish(&m);
		if (migrated)
			*migrated += m.migrated;
		ret = m.error;
	}

	mmap_read_unlock(mm);
out_put:
	mmput(mm);
out_free:
	kvfree(pfns);
	return ret;
}

int dmirror_migrate_to_dev(struct dmirror_file *df, unsigned long start,
			   unsigned long end)
{
	return dmirror_migrate_range(df, start, end, DMIRROR_DIR_TO_DEV, NULL);
}

int dmirror_migrate_to_ram(struct dmirror_file *df, unsigned long start,
			   unsigned long end, u64 *migrated)
{
	return dmirror_migrate_range(df, start, end, DMIRROR_DIR_TO_RAM,
				     migrated);
}

/*
 * The owner the fault path hands to migrate_vma_setup().  With the
 * owner_mismatch knob set it is any other pointer, which is the bug being
 * simulated: setup then skips the device's pages, nothing migrates, and
 * the CPU faults on the same page again.
 */
static void *dmirror_fault_owner(struct dmirror_device *mdev)
{
	if (READ_ONCE(dmirror_owner_mismatch))
		return &dmirror_owner_mismatch;
	return mdev;
}

/*
 * The fault-loop guard.  A fault that moves nothing returns to a CPU that
 * faults again at once; @limit such faults in a row on one device page
 * end in SIGBUS, so a broken driver kills its process with a message
 * instead of spinning for ever.  Returns the count so far.
 */
static unsigned int dmirror_fault_no_progress(struct dmirror_device *mdev,
					      struct vm_fault *vmf,
					      vm_fault_t *ret)
{
	unsigned int limit = READ_ONCE(dmirror_fault_loop_limit);
	unsigned long pfn = page_to_pfn(vmf->page);
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned int count;

	dmirror_count(mdev, DMIRROR_FAULTS_NO_PROGRESS, 1);
	count = atomic_inc_return(dmirror_devmem_no_progress(vmf->page));
	if (!limit || count < limit || *ret == VM_FAULT_SIGBUS)
		return count;

	*ret = VM_FAULT_SIGBUS;
	dmirror_count(mdev, DMIRROR_FAULT_LOOP_KILLS, 1);
	trace_dmirror_fault_loop_guard(mdev->id, addr, pfn,
				       task_tgid_nr(current), count, limit);
	pr_warn_ratelimited("/dev/dmirror%u: fault loop: pid %d (%s) faulted %u times in a row at 0x%lx (device pfn 0x%lx) without migrating it; sending SIGBUS (fault_loop_limit %u)\n",
			    mdev->id, task_tgid_nr(current), current->comm,
			    count, addr, pfn, limit);
	return count;
}

/* dev_pagemap_ops.migrate_to_ram: the CPU touched a device page. */
vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
	struct dmirror_device *mdev = dmirror_page_chunk(vmf->page)->mdev;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long src = 0, dst = 0;
	unsigned int no_progress = 0;
	struct dmirror_migration m = {
		.args = {
			.vma = vmf->vma,
			.start = addr,
			.end = addr + PAGE_SIZE,
			.src = &src,
			.dst = &dst,
			.pgmap_owner = dmirror_fault_owner(mdev),
			.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
			.fault_page = vmf->page,
		},
		.mdev = mdev,
		.dir = DMIRROR_DIR_TO_RAM,
		.fault = 1,
	};
	vm_fault_t ret = 0;

	dmirror_count(mdev, DMIRROR_DEVMEM_FAULTS, 1);
	if (dmirror_migration_setup(&m)) {
		/* Setup only rejects a malformed request: retrying is futile. */
		ret = VM_FAULT_SIGBUS;
	} else {
		dmirror_copy_to_ram(&m);
		dmirror_migration_finish(&m);
		if (m.error)
			ret = VM_FAULT_OOM;
	}

	if (!m.migrated)
		no_progress = dmirror_fault_no_progress(mdev, vmf, &ret);

	trace_dmirror_devmem_fault(mdev->id, addr, page_to_pfn(vmf->page),
				   task_tgid_nr(current),
				   (__force unsigned int)ret, m.migrated,
				   no_progress);
	return ret;
}
