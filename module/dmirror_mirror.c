// SPDX-License-Identifier: GPL-2.0
/*
 * The device page table: what the simulated device sees of the address
 * space of the process that opened it.
 *
 * Entries are filled from hmm_range_fault() and cleared by an
 * mmu_interval_notifier covering the whole address space, before the CPU
 * mapping they mirror changes.  Whether what a command read of the CPU
 * page tables is still current is told by a second notifier, over that
 * command's range alone (struct dmirror_watch), so that invalidations
 * elsewhere in the process do not make it start again.  That includes the device's own migrations:
 * the mirror is always rebuilt from the CPU page tables, never patched by
 * the migration code, so any number of open files can mirror the same
 * pages.  A filled entry is only stored under dmirror_file.lock with the
 * watch's sequence unchanged since the walk that produced it; both
 * notifiers take that lock, so the entry is either stored before an
 * invalidation clears it, or not stored at all.
 *
 * For this device's own pages the entry is the shadow page: the device
 * reads and writes its own memory.  Entries take no page reference, except
 * EXCLUSIVE ones, which are not produced by a page table walk: their
 * reference keeps the page alive should the mapping go away in the window
 * make_device_exclusive() leaves before the entry is stored.
 */
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "dmirror_compat.h"
#include "dmirror.h"

/* Tags of a device page table entry: the access the device has. */
#define DMIRROR_PT_READ		0UL
#define DMIRROR_PT_WRITE	1UL
#define DMIRROR_PT_ATOMIC	3UL	/* xarray reserves tag 2 for its internal entries */

static void dmirror_pt_drop(void *entry)
{
	if (xa_pointer_tag(entry) == DMIRROR_PT_ATOMIC)
		put_page(xa_untag_pointer(entry));
}

/*
 * Entries are stored in runs of consecutive pfns, under one hold of the
 * tree's lock, each store starting from where the last one left the
 * cursor: an xa_store() each walks down from the root and takes the lock
 * every time, which for the 16384 stores of a 64 MiB MIGRATE_TO_DEV cost
 * more than that command lost to upstream test_hmm.  A run goes:
 *
 *	XA_STATE(xas, &df->pt, first_pfn);
 *	dmirror_pt_run_begin(df, &xas);
 *	ret = dmirror_pt_run_store(&xas, page, tag);	(for each pfn in turn)
 *	dmirror_pt_run_end(&xas);
 *
 * GFP_ATOMIC: the tree's lock is held, and df->lock too, which reclaim
 * may want through the invalidation notifier.
 */
static void dmirror_pt_run_begin(struct dmirror_file *df, struct xa_state *xas)
	__acquires(&xas->xa->xa_lock)
{
	lockdep_assert_held(&df->lock);
	xas_lock(xas);
}

/* Stores the entry of the cursor's pfn and moves the cursor to the next. */
static int dmirror_pt_run_store(struct xa_state *xas, struct page *page,
				unsigned long tag)
{
	void *old;

	do {
		old = xas_store(xas, xa_tag_pointer(page, tag));
	} while (xas_nomem(xas, GFP_ATOMIC));
	if (xas_error(xas))
		return xas_error(xas);
	if (old)
		dmirror_pt_drop(old);
	xas_next(xas);
	return 0;
}

static void dmirror_pt_run_end(struct xa_state *xas)
	__releases(&xas->xa->xa_lock)
{
	xas_unlock(xas);
}

/*
 * Removes the exclusive entries of [@first, @last] and lets go of their
 * page references: one walk of the tree under its lock, which reads the
 * other entries and leaves them.  The lock is let go every XA_CHECK_SCHED
 * entries: the caller may not sleep, but others may want the tree.
 */
static void dmirror_pt_unpin(struct dmirror_file *df, unsigned long first,
			     unsigned long last)
{
	XA_STATE(xas, &df->pt, first);
	unsigned int n = 0;
	void *entry;

	xas_lock(&xas);
	xas_for_each(&xas, entry, last) {
		if (xa_pointer_tag(entry) == DMIRROR_PT_ATOMIC) {
			xas_store(&xas, NULL);
			dmirror_pt_drop(entry);
		}
		if (++n % XA_CHECK_SCHED)
			continue;
		xas_pause(&xas);
		xas_unlock(&xas);
		xas_lock(&xas);
	}
	xas_unlock(&xas);
}

/*
 * Empties [@first, @last] (@last below ULONG_MAX).  The range is stored
 * NULL in aligned blocks, where the kernel has multi-index entries: an
 * xa_erase() per entry walks from the root and takes the lock each time,
 * and for the 512 entries of a 2 MiB range that cost more instructions
 * than copying the 2 MiB; a block store drops whole leaf nodes at once.
 */
static void dmirror_pt_clear(struct dmirror_file *df, unsigned long first,
			     unsigned long last)
{
	unsigned long pfn;
	void *entry;

	dmirror_pt_unpin(df, first, last);
	if (IS_ENABLED(CONFIG_XARRAY_MULTI)) {
		xa_store_range(&df->pt, first, last, NULL, GFP_ATOMIC);
		return;
	}
	xa_for_each_range(&df->pt, pfn, entry, first, last)
		xa_erase(&df->pt, pfn);
}

/*
 * Takes df->lock for an invalidation, unless it is our own
 * make_device_exclusive() installing the entry (nothing to clear, nothing
 * stale) or the lock cannot be had where the caller may not sleep.
 */
static bool dmirror_invalidate_lock(struct dmirror_file *df,
				    const struct mmu_notifier_range *range,
				    bool *skip)
{
	*skip = range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == df;
	if (*skip)
		return true;
	if (mmu_notifier_range_blockable(range))
		mutex_lock(&df->lock);
	else if (!mutex_trylock(&df->lock))
		return false;
	return true;
}

static bool dmirror_invalidate(struct mmu_interval_notifier *mni,
			       const struct mmu_notifier_range *range,
			       unsigned long cur_seq)
{
	struct dmirror_file *df = container_of(mni, struct dmirror_file,
					       notifier);
	bool skip;

	if (!dmirror_invalidate_lock(df, range, &skip))
		return false;
	if (skip)
		return true;
	mmu_interval_set_seq(mni, cur_seq);
	dmirror_pt_clear(df, range->start >> PAGE_SHIFT,
			 (range->end - 1) >> PAGE_SHIFT);
	mutex_unlock(&df->lock);
	return true;
}

static const struct mmu_interval_notifier_ops dmirror_notifier_ops = {
	.invalidate = dmirror_invalidate,
};

/* A command's watch over its own range: see the top of this file. */
struct dmirror_watch {
	struct mmu_interval_notifier	notifier;
	struct dmirror_file		*df;
};

static bool dmirror_watch_invalidate(struct mmu_interval_notifier *mni,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct dmirror_watch *watch = container_of(mni, struct dmirror_watch,
						   notifier);
	bool skip;

	if (!dmirror_invalidate_lock(watch->df, range, &skip))
		return false;
	if (skip)
		return true;
	mmu_interval_set_seq(mni, cur_seq);
	mutex_unlock(&watch->df->lock);
	return true;
}

static const struct mmu_interval_notifier_ops dmirror_watch_ops = {
	.invalidate = dmirror_watch_invalidate,
};

static int dmirror_watch_start(struct dmirror_watch *watch,
			       struct dmirror_file *df, unsigned long start,
			       unsigned long end)
{
	watch->df = df;
	return mmu_interval_notifier_insert(&watch->notifier, df->notifier.mm,
					    start, end - start,
					    &dmirror_watch_ops);
}

static void dmirror_watch_stop(struct dmirror_watch *watch)
{
	mmu_interval_notifier_remove(&watch->notifier);
}

struct dmirror_file *dmirror_file_create(struct dmirror_device *mdev)
{
	struct dmirror_file *df;
	int ret;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	df = kzalloc_obj(*df);
	if (!df)
		return ERR_PTR(-ENOMEM);
	df->mdev = mdev;
	mutex_init(&df->lock);
	xa_init(&df->pt);

	ret = mmu_interval_notifier_insert(&df->notifier, current->mm, 0,
					   ULONG_MAX & PAGE_MASK,
					   &dmirror_notifier_ops);
	if (ret) {
		kfree(df);
		return ERR_PTR(ret);
	}
	return df;
}

void dmirror_file_destroy(struct dmirror_file *df)
{
	mmu_interval_notifier_remove(&df->notifier);
	mutex_lock(&df->lock);
	dmirror_pt_unpin(df, 0, ULONG_MAX);
	mutex_unlock(&df->lock);
	xa_destroy(&df->pt);
	mutex_destroy(&df->lock);
	kfree(df);
}

/*
 * How long a command keeps trying while what it reads of the CPU page
 * tables keeps changing under it: HMM_RANGE_DEFAULT_TIMEOUT, as other
 * users of hmm_range_fault() allow, but never fewer than DMIRROR_MIN_TRIES
 * attempts.  The time bounds a livelock, a range invalidated faster than
 * it can be read, which makes many attempts a second; a thread that made
 * few in that time because it hardly ran (a loaded machine, a debug kernel
 * under emulation) has not met one.
 */
#define DMIRROR_MIN_TRIES	8

struct dmirror_patience {
	unsigned long	until;
	unsigned int	tries;
};

static void dmirror_patience_start(struct dmirror_patience *p)
{
	p->until = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	p->tries = 0;
}

/* Counts one attempt; true once the command should give up with EBUSY. */
static bool dmirror_patience_out(struct dmirror_patience *p)
{
	return ++p->tries > DMIRROR_MIN_TRIES && time_after(jiffies, p->until);
}

/*
 * hmm_range_fault() over one window, retried until its result is still
 * current.  Returns 0 with df->lock held, or an error without it.
 */
static int dmirror_range_lock(struct dmirror_file *df,
			      struct hmm_range *range, bool unlocked)
{
	struct mm_struct *mm = df->notifier.mm;
	struct dmirror_patience patience;
	int ret;

	dmirror_patience_start(&patience);
	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (dmirror_patience_out(&patience))
			return -EBUSY;

		if (unlocked) {
			ret = dmirror_range_fault_unlocked(range);
		} else {
			range->notifier_seq =
				mmu_interval_read_begin(range->notifier);
			ret = mmap_read_lock_killable(mm);
			if (ret)
				return ret;
			ret = hmm_range_fault(range);
			mmap_read_unlock(mm);
		}
		if (ret == -EBUSY) {
			dmirror_count(df->mdev, DMIRROR_RANGE_RETRIES, 1);
			continue;
		}
		if (ret)
			return ret;

		mutex_lock(&df->lock);
		if (!mmu_interval_read_retry(range->notifier,
					     range->notifier_seq))
			return 0;
		mutex_unlock(&df->lock);
		dmirror_count(df->mdev, DMIRROR_RANGE_RETRIES, 1);
	}
}

/*
 * One walk of the device over a command's range, a window of
 * DMIRROR_WINDOW pages at a time: each window through hmm_range_fault()
 * until its result is current, then visit() with df->lock held, then
 * after() (if set) without it, where user memory may be touched.
 */
struct dmirror_walk {
	struct dmirror_file	*df;
	struct dmirror_watch	watch;
	struct hmm_range	range;	/* the current window */
	unsigned long		pfns[DMIRROR_WINDOW];
	unsigned long		start;	/* of the whole walk */
	bool			unlocked;	/* READ_UNLOCKED */
	int (*visit)(struct dmirror_walk *w);
	int (*after)(struct dmirror_walk *w);
};

/* Pages in the current window. */
static unsigned long dmirror_walk_npages(const struct dmirror_walk *w)
{
	return (w->range.end - w->range.start) >> PAGE_SHIFT;
}

static int dmirror_walk(struct dmirror_walk *w, unsigned long start,
			unsigned long end)
{
	struct dmirror_file *df = w->df;
	struct mm_struct *mm = df->notifier.mm;
	unsigned long addr;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = dmirror_watch_start(&w->watch, df, start, end);
	if (ret)
		goto out;
	w->start = start;
	w->range.notifier = &w->watch.notifier;
	w->range.hmm_pfns = w->pfns;
	w->range.dev_private_owner = df->mdev;
	for (addr = start; addr < end && !ret; addr = w->range.end) {
		w->range.start = addr;
		w->range.end = min(end, addr + (DMIRROR_WINDOW << PAGE_SHIFT));
		ret = dmirror_range_lock(df, &w->range, w->unlocked);
		if (ret)
			break;
		ret = w->visit(w);
		mutex_unlock(&df->lock);
		if (!ret && w->after)
			ret = w->after(w);
	}
	dmirror_watch_stop(&w->watch);
out:
	mmput(mm);
	return ret;
}

/*
 * The page a valid hmm pfn for user address @addr names.  A device-private
 * PMD is reported from its first pfn on whatever page of the PMD the range
 * starts at (7.x hmm_vma_handle_absent_pmd() adds no offset, unlike the
 * present-PMD case); a huge device folio is naturally aligned, so the pfn
 * of @addr follows from the mapping order, whichever way the kernel fills
 * the array.
 */
static struct page *dmirror_hmm_page(unsigned long hmm_pfn,
				     unsigned long addr)
{
	struct page *page = hmm_pfn_to_page(hmm_pfn);
	unsigned long mask = (1UL << hmm_pfn_to_map_order(hmm_pfn)) - 1;

	if (!mask || !is_device_private_page(page))
		return page;
	return pfn_to_page((page_to_pfn(page) & ~mask) |
			   ((addr >> PAGE_SHIFT) & mask));
}

/*
 * The system page holding the data of a valid hmm pfn for @addr, as this
 * device sees it, or NULL for another device's private page.
 */
static struct page *dmirror_data_page(struct dmirror_file *df,
				      unsigned long hmm_pfn, unsigned long addr)
{
	struct page *page = dmirror_hmm_page(hmm_pfn, addr);

	if (!is_device_private_page(page))
		return page;
	if (!dmirror_page_is_ours(df->mdev, page))
		return NULL;
	page = dmirror_shadow_page(page);
	/* A device page in use always has its shadow. */
	WARN_ON_ONCE(!page);
	return page;
}

/*
 * hmm_range_fault() reports this device's own pages as they are, without
 * faulting them: asked for write access to one mapped read-only (fork()
 * shares it copy-on-write), it still says read-only, and asking again
 * changes nothing.  The device has to give the page back to the CPU,
 * whose write fault then breaks the sharing.  Returns true when @hmm_pfn
 * is such a page.
 */
static bool dmirror_needs_cow_break(struct dmirror_file *df,
				    struct hmm_range *range,
				    unsigned long hmm_pfn, unsigned long addr)
{
	struct page *page;

	if (!(range->default_flags & HMM_PFN_REQ_WRITE) ||
	    (hmm_pfn & HMM_PFN_WRITE))
		return false;
	page = dmirror_hmm_page(hmm_pfn, addr);
	return dmirror_page_is_ours(df->mdev, page);
}

/* The device faulting a range into its page table, as a GPU would. */
struct dmirror_fault_walk {
	struct dmirror_walk	walk;
	/* A page to give back to the CPU first: see dmirror_needs_cow_break() */
	unsigned long		cow;
};

static int dmirror_fault_visit(struct dmirror_walk *w)
{
	struct dmirror_fault_walk *fw = container_of(w, struct dmirror_fault_walk,
						     walk);
	struct dmirror_file *df = w->df;
	unsigned long first = w->range.start >> PAGE_SHIFT;
	unsigned long i, n = dmirror_walk_npages(w);
	XA_STATE(xas, &df->pt, first);
	int ret = 0;

	fw->cow = 0;
	dmirror_pt_run_begin(df, &xas);
	for (i = 0; i < n && !ret; i++) {
		unsigned long hmm_pfn = w->pfns[i];
		unsigned long addr = w->range.start + (i << PAGE_SHIFT);
		struct page *page = NULL;

		if (hmm_pfn & HMM_PFN_VALID)
			page = dmirror_data_page(df, hmm_pfn, addr);
		if (!page) {
			ret = -EFAULT;
			break;
		}
		if (dmirror_needs_cow_break(df, &w->range, hmm_pfn, addr)) {
			fw->cow = addr;
			break;
		}
		ret = dmirror_pt_run_store(&xas, page, (hmm_pfn & HMM_PFN_WRITE) ?
					   DMIRROR_PT_WRITE : DMIRROR_PT_READ);
	}
	dmirror_pt_run_end(&xas);
	return ret;
}

/* Not under df->lock: migration invalidates, and the notifier takes it. */
static int dmirror_fault_after(struct dmirror_walk *w)
{
	struct dmirror_fault_walk *fw = container_of(w, struct dmirror_fault_walk,
						     walk);

	if (!fw->cow)
		return 0;
	return dmirror_migrate_to_ram(w->df, fw->cow, fw->cow + PAGE_SIZE, NULL);
}

static int dmirror_fault(struct dmirror_file *df, unsigned long start,
			 unsigned long end, bool write, bool unlocked)
{
	struct dmirror_fault_walk fw = {
		.walk = {
			.df = df,
			.range.default_flags = HMM_PFN_REQ_FAULT |
					       (write ? HMM_PFN_REQ_WRITE : 0),
			.unlocked = unlocked,
			.visit = dmirror_fault_visit,
			.after = dmirror_fault_after,
		},
	};

	return dmirror_walk(&fw.walk, start, end);
}

/*
 * The buffer between the user and the device for a command of @npages:
 * at most one window, no more than the command moves.  It is vmalloc()ed,
 * as upstream test_hmm's is, rather than kvmalloc()ed: under QEMU's TCG,
 * where every test and benchmark of this driver runs, a 64 KiB
 * MIGRATE_TO_DEV took 3.3 times as long with a kvmalloc()ed buffer, most
 * of it in the copy_to_user() out of it (docs/performance.md).  Its size
 * is the user's to choose, and a failure is the command's ENOMEM: no
 * allocation-failure splat on the console for it (__GFP_NOWARN).
 */
static unsigned long dmirror_bounce_pages(unsigned long npages)
{
	return min(npages, DMIRROR_WINDOW);
}

void *dmirror_bounce_alloc(unsigned long npages)
{
	unsigned long n = dmirror_bounce_pages(npages);
	void *bounce = __vmalloc(n << PAGE_SHIFT, GFP_KERNEL | __GFP_NOWARN);

	if (bounce)
		dmirror_system_pages_got(n);
	return bounce;
}

void dmirror_bounce_free(void *bounce, unsigned long npages)
{
	vfree(bounce);
	dmirror_system_pages_put(dmirror_bounce_pages(npages));
}

/* Copies out up to @n mapped pages from @pfn on; returns how many. */
static unsigned long dmirror_pt_read(struct dmirror_file *df,
				     unsigned long pfn, unsigned long n,
				     void *buf)
{
	unsigned long i;

	for (i = 0; i < n; i++, buf += PAGE_SIZE) {
		struct page *page = xa_untag_pointer(xa_load(&df->pt, pfn + i));

		if (!page)
			break;
		memcpy_from_page(buf, page, 0, PAGE_SIZE);
	}
	return i;
}

/* Copies in up to @n pages mapped writable from @pfn on. */
static unsigned long dmirror_pt_write(struct dmirror_file *df,
				      unsigned long pfn, unsigned long n,
				      const void *buf)
{
	unsigned long i;

	for (i = 0; i < n; i++, buf += PAGE_SIZE) {
		void *entry = xa_load(&df->pt, pfn + i);

		if (!entry || xa_pointer_tag(entry) != DMIRROR_PT_WRITE)
			break;
		memcpy_to_page(xa_untag_pointer(entry), 0, buf, PAGE_SIZE);
	}
	return i;
}

/*
 * READ and WRITE go through the device page table a window at a time.
 * When an entry is missing the device faults in everything from there to
 * the end of the command, once (cmd->faults counts these), and goes on.
 */
static int dmirror_access(struct dmirror_file *df,
			  struct hmm_dmirror_cmd *cmd, bool write,
			  bool unlocked)
{
	unsigned long start = cmd->addr;
	unsigned long end = start + (cmd->npages << PAGE_SHIFT);
	char __user *uptr = u64_to_user_ptr(cmd->ptr);
	struct dmirror_patience patience;
	unsigned long addr;
	void *bounce;
	int ret = 0;

	bounce = dmirror_bounce_alloc(cmd->npages);
	if (!bounce)
		return -ENOMEM;

	for (addr = start; addr < end && !ret;) {
		unsigned long n = min(end - addr,
				      DMIRROR_WINDOW << PAGE_SHIFT) >> PAGE_SHIFT;
		unsigned long done = 0;

		if (write && copy_from_user(bounce, uptr + (addr - start),
					    n << PAGE_SHIFT)) {
			ret = -EFAULT;
			break;
		}
		dmirror_patience_start(&patience);
		while (done < n) {
			unsigned long pfn = (addr >> PAGE_SHIFT) + done;
			void *buf = bounce + (done << PAGE_SHIFT);
			unsigned long before = done;

			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			mutex_lock(&df->lock);
			if (write)
				done += dmirror_pt_write(df, pfn, n - done, buf);
			else
				done += dmirror_pt_read(df, pfn, n - done, buf);
			mutex_unlock(&df->lock);
			if (done == n)
				break;
			/*
			 * Each fault should let the next pass go further; one
			 * that keeps losing its entries to invalidations gives
			 * up as dmirror_range_lock() does.
			 */
			if (done != before) {
				dmirror_patience_start(&patience);
			} else if (dmirror_patience_out(&patience)) {
				ret = -EBUSY;
				break;
			}
			ret = dmirror_fault(df, addr + (done << PAGE_SHIFT), end,
					    write, unlocked);
			if (ret)
				break;
			cmd->faults++;
			cond_resched();
		}
		if (ret)
			break;
		if (!write && copy_to_user(uptr + (addr - start), bounce,
					   n << PAGE_SHIFT)) {
			ret = -EFAULT;
			break;
		}
		cmd->cpages += n;
		addr += n << PAGE_SHIFT;
	}
	dmirror_bounce_free(bounce, cmd->npages);
	return ret;
}

int dmirror_read(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd,
		 bool unlocked)
{
	return dmirror_access(df, cmd, false, unlocked);
}

int dmirror_write(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd)
{
	return dmirror_access(df, cmd, true, false);
}

/*
 * After MIGRATE_TO_DEV: maps the device's own pages of the range, as the
 * CPU page tables now show them, and copies their data to cmd->ptr.  Any
 * page not in this device's memory is -ENOENT, as in upstream test_hmm
 * (its dmirror_do_read() after the migration).
 *
 * Migration is best effort, and one case is certain to leave pages behind:
 * pages another device holds.  migrate_vma_setup() with
 * MIGRATE_VMA_SELECT_SYSTEM skips every device-private entry, and
 * MIGRATE_VMA_SELECT_DEVICE_PRIVATE only collects those whose pgmap owner
 * is ours, so a page on /dev/dmirror1 is never collected by /dev/dmirror0
 * (setup's cpages is 0 for it) and MIGRATE_TO_DEV fails with -ENOENT every
 * time until something brings the page back to system memory (a CPU
 * access, or MIGRATE_TO_SYS through the device that holds it).  This is
 * not visible from here: hmm_range_fault() without a fault request
 * reports another owner's device-private page as not present, so SNAPSHOT
 * through this device shows it as HMM_DMIRROR_PROT_NONE, exactly like
 * never-touched memory (upstream hmm-tests hmm2.snapshot requires that);
 * SNAPSHOT through the holding device shows DEV_PRIVATE_LOCAL.
 *
 * Pages setup could not lock or isolate at once are left behind too, but
 * only for a while: migrate_vma_collect_pmd() gives up on a folio whose
 * trylock fails, and migrate_device_unmap() on one it cannot isolate or
 * that has extra references, e.g. a page a fork child shares
 * copy-on-write while the child migrates, faults or unmaps it.  The
 * driver does not retry: it cannot know when the other party is done, and
 * userspace sees what happened (SNAPSHOT) and may try again.
 */
struct dmirror_map_walk {
	struct dmirror_walk	walk;
	struct hmm_dmirror_cmd	*cmd;
	/*
	 * The window's shadow pages, each referenced under df->lock (where
	 * the walk's result says the device page, and so its shadow, is
	 * still in use) and copied to the user after it, without the lock,
	 * where a fault on the user buffer may sleep.  The reference keeps
	 * a shadow the device lets go of meanwhile alive until then.
	 */
	struct page		*shadow[DMIRROR_WINDOW];
	unsigned long		nr_shadow;
	/* bounce_copy knob: the data goes through a bounce buffer instead */
	void			*bounce;
};

static void dmirror_map_put(struct dmirror_map_walk *mw)
{
	while (mw->nr_shadow)
		put_page(mw->shadow[--mw->nr_shadow]);
}

static int dmirror_map_visit(struct dmirror_walk *w)
{
	struct dmirror_map_walk *mw = container_of(w, struct dmirror_map_walk,
						   walk);
	struct dmirror_file *df = w->df;
	unsigned long i, n = dmirror_walk_npages(w);
	XA_STATE(xas, &df->pt, w->range.start >> PAGE_SHIFT);
	int ret = 0;

	dmirror_pt_run_begin(df, &xas);
	for (i = 0; i < n && !ret; i++) {
		unsigned long addr = w->range.start + (i << PAGE_SHIFT);
		struct page *page, *shadow;

		ret = -ENOENT;
		if (!(w->pfns[i] & HMM_PFN_VALID))
			break;
		page = dmirror_hmm_page(w->pfns[i], addr);
		if (!dmirror_page_is_ours(df->mdev, page))
			break;
		shadow = dmirror_shadow_page(page);
		/* A device page in use always has its shadow. */
		ret = -EFAULT;
		if (WARN_ON_ONCE(!shadow))
			break;
		if (mw->bounce) {
			memcpy_from_page(mw->bounce + (i << PAGE_SHIFT),
					 shadow, 0, PAGE_SIZE);
		} else {
			get_page(shadow);
			mw->shadow[mw->nr_shadow++] = shadow;
		}
		ret = dmirror_pt_run_store(&xas, shadow,
					   (w->pfns[i] & HMM_PFN_WRITE) ?
					   DMIRROR_PT_WRITE : DMIRROR_PT_READ);
	}
	dmirror_pt_run_end(&xas);
	/* after() is not called for a window that failed */
	if (ret)
		dmirror_map_put(mw);
	return ret;
}

/* Each shadow page straight to the user: one copy, no bounce buffer. */
static int dmirror_map_copy_out(struct dmirror_map_walk *mw, char __user *uptr)
{
	unsigned long i, left = 0;

	for (i = 0; i < mw->nr_shadow && !left; i++) {
		void *from = kmap_local_page(mw->shadow[i]);

		left = copy_to_user(uptr + (i << PAGE_SHIFT), from, PAGE_SIZE);
		kunmap_local(from);
	}
	dmirror_map_put(mw);
	return left ? -EFAULT : 0;
}

static int dmirror_map_after(struct dmirror_walk *w)
{
	struct dmirror_map_walk *mw = container_of(w, struct dmirror_map_walk,
						   walk);
	unsigned long n = dmirror_walk_npages(w);
	char __user *uptr = u64_to_user_ptr(mw->cmd->ptr) +
			    (w->range.start - w->start);

	if (!mw->bounce) {
		if (dmirror_map_copy_out(mw, uptr))
			return -EFAULT;
	} else if (copy_to_user(uptr, mw->bounce, n << PAGE_SHIFT)) {
		return -EFAULT;
	}
	mw->cmd->cpages += n;
	return 0;
}

int dmirror_map_migrated(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd)
{
	struct dmirror_map_walk *mw;
	bool bounce = READ_ONCE(dmirror_bounce_copy);
	int ret = -ENOMEM;

	/* 64 page pointers and a walk: too much for the stack */
	mw = kzalloc_obj(*mw);
	if (!mw)
		return -ENOMEM;
	mw->walk.df = df;
	mw->walk.visit = dmirror_map_visit;
	mw->walk.after = dmirror_map_after;
	mw->cmd = cmd;
	if (bounce) {
		mw->bounce = dmirror_bounce_alloc(cmd->npages);
		if (!mw->bounce)
			goto out;
	}
	ret = dmirror_walk(&mw->walk, cmd->addr,
			   cmd->addr + (cmd->npages << PAGE_SHIFT));
	if (bounce)
		dmirror_bounce_free(mw->bounce, cmd->npages);
out:
	kfree(mw);
	return ret;
}

static u8 dmirror_snapshot_code(struct dmirror_file *df, unsigned long hmm_pfn)
{
	unsigned int shift;
	struct page *page;
	u8 code;

	if (hmm_pfn & HMM_PFN_ERROR)
		return HMM_DMIRROR_PROT_ERROR;
	if (!(hmm_pfn & HMM_PFN_VALID))
		return HMM_DMIRROR_PROT_NONE;

	page = hmm_pfn_to_page(hmm_pfn);
	/*
	 * REMOTE is kept for the ABI, but without a fault request
	 * hmm_range_fault() only reports the device-private pages of the
	 * owner it is given (ours): another device's page is not valid here
	 * and reads as HMM_DMIRROR_PROT_NONE, as in upstream test_hmm.
	 */
	if (is_device_private_page(page))
		code = dmirror_page_is_ours(df->mdev, page) ?
		       HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL :
		       HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
	else if (is_zero_pfn(page_to_pfn(page)))
		code = HMM_DMIRROR_PROT_ZERO;
	else
		code = HMM_DMIRROR_PROT_NONE;

	code |= (hmm_pfn & HMM_PFN_WRITE) ? HMM_DMIRROR_PROT_WRITE :
					    HMM_DMIRROR_PROT_READ;
	shift = hmm_pfn_to_map_order(hmm_pfn) + PAGE_SHIFT;
	if (shift == PMD_SHIFT)
		code |= HMM_DMIRROR_PROT_PMD;
	else if (shift == PUD_SHIFT)
		code |= HMM_DMIRROR_PROT_PUD;
	return code;
}

/* What the CPU page tables say of each page, without faulting any in. */
struct dmirror_snapshot_walk {
	struct dmirror_walk	walk;
	struct hmm_dmirror_cmd	*cmd;
	u8			codes[DMIRROR_WINDOW];
};

static int dmirror_snapshot_visit(struct dmirror_walk *w)
{
	struct dmirror_snapshot_walk *sw =
		container_of(w, struct dmirror_snapshot_walk, walk);
	unsigned long i, n = dmirror_walk_npages(w);

	for (i = 0; i < n; i++)
		sw->codes[i] = dmirror_snapshot_code(w->df, w->pfns[i]);
	return 0;
}

static int dmirror_snapshot_after(struct dmirror_walk *w)
{
	struct dmirror_snapshot_walk *sw =
		container_of(w, struct dmirror_snapshot_walk, walk);
	unsigned long n = dmirror_walk_npages(w);
	char __user *uptr = u64_to_user_ptr(sw->cmd->ptr);

	if (copy_to_user(uptr + ((w->range.start - w->start) >> PAGE_SHIFT),
			 sw->codes, n))
		return -EFAULT;
	sw->cmd->cpages += n;
	return 0;
}

int dmirror_snapshot(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd)
{
	struct dmirror_snapshot_walk sw = {
		.walk = {
			.df = df,
			.visit = dmirror_snapshot_visit,
			.after = dmirror_snapshot_after,
		},
		.cmd = cmd,
	};

	return dmirror_walk(&sw.walk, cmd->addr,
			    cmd->addr + (cmd->npages << PAGE_SHIFT));
}

/*
 * Makes one page exclusive to the device and maps it atomic.  The page is
 * first faulted in writable (breaking COW), so that make_device_exclusive()
 * itself only invalidates for its own conversion, which the notifiers
 * ignore (owner == df).  Any other invalidation of the page between
 * sampling the sequence of the command's @watch and storing the entry
 * means it may be stale: try again.
 */
static int dmirror_exclusive_page(struct dmirror_watch *watch,
				  unsigned long addr)
{
	struct dmirror_file *df = watch->df;
	struct mm_struct *mm = df->notifier.mm;
	struct dmirror_patience patience;
	struct page *page;
	unsigned long seq;
	int ret;

	dmirror_patience_start(&patience);
	for (;;) {
		if (dmirror_patience_out(&patience))
			return -EBUSY;
		ret = dmirror_fault(df, addr, addr + PAGE_SIZE, true, false);
		if (ret)
			return ret;

		seq = mmu_interval_read_begin(&watch->notifier);
		ret = mmap_read_lock_killable(mm);
		if (ret)
			return ret;
		page = dmirror_make_exclusive(mm, addr, df);
		mmap_read_unlock(mm);
		if (IS_ERR(page))
			return PTR_ERR(page);

		mutex_lock(&df->lock);
		if (!mmu_interval_read_retry(&watch->notifier, seq)) {
			XA_STATE(xas, &df->pt, addr >> PAGE_SHIFT);

			get_page(page);
			dmirror_pt_run_begin(df, &xas);
			ret = dmirror_pt_run_store(&xas, page, DMIRROR_PT_ATOMIC);
			dmirror_pt_run_end(&xas);
			if (ret)
				put_page(page);
			mutex_unlock(&df->lock);
			dmirror_exclusive_put(page);
			return ret;
		}
		mutex_unlock(&df->lock);
		dmirror_exclusive_put(page);
		dmirror_count(df->mdev, DMIRROR_RANGE_RETRIES, 1);
	}
}

/* Makes every page of [@start, @end) exclusive to the device. */
static int dmirror_exclusive_range(struct dmirror_file *df,
				   unsigned long start, unsigned long end)
{
	struct mm_struct *mm = df->notifier.mm;
	struct dmirror_watch watch;
	unsigned long addr;
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = dmirror_watch_start(&watch, df, start, end);
	if (!ret) {
		for (addr = start; addr < end && !ret; addr += PAGE_SIZE)
			ret = dmirror_exclusive_page(&watch, addr);
		dmirror_watch_stop(&watch);
	}
	mmput(mm);
	return ret;
}

int dmirror_exclusive(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd)
{
	unsigned long start = cmd->addr;
	unsigned long end = start + (cmd->npages << PAGE_SHIFT);
	char __user *uptr = u64_to_user_ptr(cmd->ptr);
	unsigned long addr;
	void *bounce;
	int ret;

	ret = dmirror_exclusive_range(df, start, end);
	if (ret)
		return ret;

	/* Hand back what the device now holds, as test_hmm does. */
	bounce = dmirror_bounce_alloc(cmd->npages);
	if (!bounce)
		return -ENOMEM;
	for (addr = start; addr < end; addr += PAGE_SIZE * DMIRROR_WINDOW) {
		unsigned long n = min(end - addr,
				      DMIRROR_WINDOW << PAGE_SHIFT) >> PAGE_SHIFT;
		unsigned long got;

		mutex_lock(&df->lock);
		got = dmirror_pt_read(df, addr >> PAGE_SHIFT, n, bounce);
		mutex_unlock(&df->lock);
		if (got < n) {
			ret = -ENOENT;
			break;
		}
		if (copy_to_user(uptr + (addr - start), bounce,
				 n << PAGE_SHIFT)) {
			ret = -EFAULT;
			break;
		}
		cmd->cpages += n;
	}
	dmirror_bounce_free(bounce, cmd->npages);
	return ret;
}

/* -EPERM while the device still holds any page of the range atomic. */
int dmirror_check_exclusive(struct dmirror_file *df,
			    struct hmm_dmirror_cmd *cmd)
{
	unsigned long first = cmd->addr >> PAGE_SHIFT;
	unsigned long last = first + cmd->npages - 1;
	unsigned long pfn;
	void *entry;
	int ret = 0;

	mutex_lock(&df->lock);
	xa_for_each_range(&df->pt, pfn, entry, first, last) {
		if (xa_pointer_tag(entry) == DMIRROR_PT_ATOMIC) {
			ret = -EPERM;
			break;
		}
	}
	mutex_unlock(&df->lock);
	return ret;
}
