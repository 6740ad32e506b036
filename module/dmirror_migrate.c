// SPDX-License-Identifier: GPL-2.0
/*
 * Migration between system memory and device memory.
 *
 * Every migration is one migrate_vma_setup() / migrate_vma_pages() /
 * migrate_vma_finalize() cycle over a window of one VMA, traced at each
 * step.  Towards the device the data goes into the device page's shadow
 * page; back to system memory it comes out of it.  The CPU fault handler
 * (dev_pagemap_ops.migrate_to_ram) is one such cycle over one page, or one
 * PMD for a PMD-mapped huge device folio, and is where the fault-loop
 * guard lives.
 *
 * While analyzer record holds the fold_events debugfs file open, the fault
 * path emits one event where it would emit five: dmirror_devmem_fault
 * carries what its setup, copy and finalize found, and, for a fault that
 * migrated its page, the free of that device folio, which comes after the
 * fault returns (the core holds a reference around migrate_to_ram()): the
 * event waits for it in a small table (dmirror_fold_hold()); a fault that
 * moved its one page as it should goes, with its free, into a batch of
 * up to DMIRROR_BATCH_PAGES pages traced by one dmirror_batch event when
 * full or before any other dmirror event (dmirror_fold_flush()), as does
 * a one-page MIGRATE_TO_SYS window that went as it should.  A
 * MIGRATE_TO_SYS ioctl's window then traces the pages whose device folio
 * its finalize freed with the shadow released as runs of device pfns, one
 * dmirror_returned event for up to DMIRROR_RETURNED_RUNS runs, in place of
 * a copy and a free event per page (struct dmirror_window); a window with
 * nothing else to trace and at most that many runs is one dmirror_window
 * event in place of its setup, runs and finalize.
 *
 * Where the kernel migrates huge folios (DMIRROR_HAVE_HUGE), setup is asked
 * to collect a PMD-mapped THP, a PMD-mapped huge device folio, or an empty
 * PMD range, as one compound entry.  Such an entry gets a huge destination
 * folio when one is to be had, and the PMD mapping moves whole; otherwise
 * it gets one order-0 page per 4 KiB and migrate_vma_pages() splits the
 * source.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/log2.h>
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
	/* the file that asked; NULL for a CPU fault */
	struct dmirror_file	*df;
	u8			dir;
	u8			fault;
	/* from just before setup to just after finalize, when traced */
	u64			start_ns;
	u64			duration_ns;
	bool			setup_done;
	int			setup_ret;
	/*
	 * A folded window's setup event, not traced yet: traced before the
	 * window's first other event, or carried with its finalize by one
	 * dmirror_window event when its pages fit in one event's runs.
	 */
	bool			setup_held;
	bool			finalize_folded;
	/* pages moved, huge folios moved whole */
	unsigned long		migrated;
	unsigned long		migrated_huge;
	/* -ENOMEM once a destination page could not be had */
	int			error;
	/* a MIGRATE_TO_SYS ioctl's window whose events are folded */
	struct dmirror_window	*win;
};

/*
 * A MIGRATE_TO_SYS window of an ioctl while the events are folded.  Its
 * copies of order 0 are not traced when made: a page whose device folio
 * the window's finalize frees with its shadow released goes into a run
 * of a dmirror_returned event instead, the others are traced when it is
 * known they are not (at that free, or after finalize).  Those frees come
 * from the window's own migrate_vma_finalize(), in its task, in the order
 * of src[]: the free callback finds the window by its task, and the entry
 * from the one after the last it found.  Only that task touches the
 * window once it is on the list.
 */
struct dmirror_window {
	struct list_head		node;	/* on dmirror_windows */
	struct task_struct		*task;
	struct dmirror_migration	*m;
	unsigned long			cursor;
	unsigned long			*untraced;	/* copies not traced */
	unsigned long			*returned;	/* into the runs */
	unsigned long			*shadow_pfn;	/* of each copy */
	unsigned long			free_pages;	/* after the last free */
};

/*
 * Whether the steps of @m are traced: not those of a CPU fault while its
 * events are folded into the fault's.
 */
static bool dmirror_traces_steps(const struct dmirror_migration *m)
{
	return !static_branch_unlikely(&dmirror_fold_events) || !m->fault;
}

/* The fault table and the window list (below), both leaves. */
static DEFINE_SPINLOCK(dmirror_fold_lock);
static LIST_HEAD(dmirror_windows);
/* windows on the list: written under the lock, read without it by frees */
unsigned int dmirror_windows_open;

/*
 * The pages moved back traced together (dmirror_batch), all of one
 * device, under dmirror_fold_lock; dmirror_batched is their number,
 * written under the lock and read without it by dmirror_fold_flush().
 */
static struct dmirror_batch_info dmirror_pending;
static struct dmirror_device *dmirror_pending_mdev;
unsigned int dmirror_batched;

static void dmirror_batch_trace(void)
{
	lockdep_assert_held(&dmirror_fold_lock);
	if (!dmirror_pending.n)
		return;
	trace_dmirror_batch(dmirror_pending_mdev->id, &dmirror_pending);
	dmirror_pending.n = 0;
	WRITE_ONCE(dmirror_batched, 0);
}

void dmirror_fold_flush_batch(void)
{
	spin_lock(&dmirror_fold_lock);
	dmirror_batch_trace();
	spin_unlock(&dmirror_fold_lock);
}

/*
 * Whether a batch can say it: only while folding (a fault held, or a
 * window open, before the last holder let go may end after), and what
 * would not fit is traced by itself.
 */
static bool dmirror_batch_takes(u64 duration_ns, unsigned long free_pages)
{
	return static_branch_unlikely(&dmirror_fold_events) &&
	       trace_dmirror_batch_enabled() && duration_ns <= U32_MAX &&
	       free_pages <= U32_MAX;
}

/*
 * Puts a page moved back into the batch, tracing the batch when full:
 * by a CPU fault (@fault) or a one-page window, of process @pid, from
 * @dev_pfn (@shadow_pfn released) to the page at @addr.
 */
static void dmirror_batch_add(struct dmirror_device *mdev, bool fault,
			      unsigned long addr, unsigned long dev_pfn,
			      unsigned long shadow_pfn, int pid,
			      u64 duration_ns, unsigned long free_pages)
{
	struct dmirror_batch_info *b = &dmirror_pending;
	unsigned int i;

	lockdep_assert_held(&dmirror_fold_lock);
	if (b->n && dmirror_pending_mdev != mdev)
		dmirror_batch_trace();
	dmirror_pending_mdev = mdev;
	i = b->n++;
	b->addr[i] = addr;
	b->dev_pfn[i] = dev_pfn;
	b->shadow_pfn[i] = shadow_pfn;
	b->pid[i] = pid;
	b->tid[i] = task_pid_nr(current);
	b->duration_ns[i] = duration_ns;
	b->free_pages[i] = free_pages;
	b->fault[i] = fault;
	WRITE_ONCE(dmirror_batched, b->n);
	if (b->n == DMIRROR_BATCH_PAGES)
		dmirror_batch_trace();
}

/* Traces @m's setup, if held back: before any other event of its window. */
static void dmirror_trace_setup(struct dmirror_migration *m)
{
	m->setup_held = false;
	dmirror_fold_flush();
	trace_dmirror_migrate_setup(m->mdev->id, m->dir, m->fault,
				    m->args.start, m->args.end,
				    m->setup_ret ? 0 : m->args.cpages,
				    m->args.pgmap_owner == m->mdev, m->setup_ret);
}

/* Traces the copy of entry @i of @m's window, not traced when made. */
static void dmirror_window_trace_copy(struct dmirror_migration *m,
				      unsigned long i)
{
	struct migrate_vma *args = &m->args;

	if (m->setup_held)
		dmirror_trace_setup(m);
	dmirror_fold_flush();
	trace_dmirror_alloc_and_copy(m->mdev->id, DMIRROR_DIR_TO_RAM, 0,
				     args->start + (i << PAGE_SHIFT),
				     args->src[i] >> MIGRATE_PFN_SHIFT,
				     args->dst[i] >> MIGRATE_PFN_SHIFT,
				     m->win->shadow_pfn[i], 0,
				     !!(args->src[i] & MIGRATE_PFN_WRITE));
}

static void dmirror_window_open(struct dmirror_window *win)
{
	win->task = current;
	win->cursor = 0;
	spin_lock(&dmirror_fold_lock);
	list_add(&win->node, &dmirror_windows);
	WRITE_ONCE(dmirror_windows_open, dmirror_windows_open + 1);
	spin_unlock(&dmirror_fold_lock);
}

/*
 * Whether @m's window, its setup held and its pages in @n runs of
 * @npages, is one page a batch says all of: collected with the device as
 * owner, moved, and its shadow released (the page in the one run).
 */
static bool dmirror_window_batchable(const struct dmirror_migration *m,
				     unsigned int n,
				     const unsigned int *npages)
{
	return m->args.npages == 1 && m->args.cpages == 1 &&
	       m->migrated == 1 && n == 1 && npages[0] == 1 &&
	       m->args.pgmap_owner == m->mdev &&
	       dmirror_batch_takes(m->duration_ns, m->win->free_pages);
}

/*
 * Takes the window off the list, after its finalize, and traces the rest
 * of it: the copies of pages not freed in it, then its runs.  A window
 * whose setup is still held (nothing else of it traced) and whose runs
 * fit in one event is traced whole by one dmirror_window, its finalize
 * with it, or, one page, goes into the batch.
 */
static void dmirror_window_close(struct dmirror_window *win)
{
	struct dmirror_migration *m = win->m;
	struct migrate_vma *args = &m->args;
	unsigned long pfn[DMIRROR_RETURNED_RUNS] = {}, i;
	unsigned int npages[DMIRROR_RETURNED_RUNS] = {}, n = 0;

	spin_lock(&dmirror_fold_lock);
	list_del(&win->node);
	WRITE_ONCE(dmirror_windows_open, dmirror_windows_open - 1);
	spin_unlock(&dmirror_fold_lock);

	for_each_set_bit(i, win->untraced, args->npages)
		dmirror_window_trace_copy(m, i);
	for_each_set_bit(i, win->returned, args->npages) {
		unsigned long p = args->src[i] >> MIGRATE_PFN_SHIFT;

		if (n && p == pfn[n - 1] + npages[n - 1]) {
			npages[n - 1]++;
			continue;
		}
		if (n == DMIRROR_RETURNED_RUNS) {
			if (m->setup_held)
				dmirror_trace_setup(m);
			dmirror_fold_flush();
			trace_dmirror_returned(m->mdev->id, args->start,
					       win->free_pages, pfn, npages);
			memset(pfn, 0, sizeof(pfn));
			memset(npages, 0, sizeof(npages));
			n = 0;
		}
		pfn[n] = p;
		npages[n++] = 1;
	}
	if (m->setup_held && dmirror_window_batchable(m, n, npages)) {
		m->setup_held = false;
		m->finalize_folded = true;
		spin_lock(&dmirror_fold_lock);
		dmirror_batch_add(m->mdev, false, args->start, pfn[0],
				  win->shadow_pfn[0], task_tgid_nr(current),
				  m->duration_ns, win->free_pages);
		spin_unlock(&dmirror_fold_lock);
		return;
	}
	dmirror_fold_flush();
	if (m->setup_held) {
		m->setup_held = false;
		m->finalize_folded = true;
		trace_dmirror_window(m->mdev->id, args,
				     args->pgmap_owner == m->mdev, m->migrated,
				     m->duration_ns, win->free_pages, pfn,
				     npages);
	} else if (n) {
		trace_dmirror_returned(m->mdev->id, args->start,
				       win->free_pages, pfn, npages);
	}
}

/*
 * The free callback, for @mdev's device folio at @free->pfn: true when it
 * is a page of this task's window freed with its shadow, now in the
 * window's runs.  A free of one whose copy is not traced yet, that cannot
 * go into a run, has its copy traced first.
 */
static bool dmirror_window_free(struct dmirror_device *mdev,
				const struct dmirror_free_info *free)
{
	struct dmirror_window *win = NULL, *w;
	struct migrate_vma *args;
	unsigned long i = 0, n;

	if (!READ_ONCE(dmirror_windows_open))
		return false;
	spin_lock(&dmirror_fold_lock);
	list_for_each_entry(w, &dmirror_windows, node) {
		if (w->task == current && w->m->mdev == mdev) {
			win = w;
			break;
		}
	}
	spin_unlock(&dmirror_fold_lock);
	if (!win)
		return false;

	args = &win->m->args;
	for (n = 0; n < args->npages; n++) {
		i = (win->cursor + n) % args->npages;
		if ((args->src[i] & MIGRATE_PFN_VALID) &&
		    args->src[i] >> MIGRATE_PFN_SHIFT == free->pfn)
			break;
	}
	if (n == args->npages)
		return false;
	win->cursor = i + 1;
	if (!test_and_clear_bit(i, win->untraced))
		return false;
	if (free->order || !free->released) {
		dmirror_window_trace_copy(win->m, i);
		return false;
	}
	__set_bit(i, win->returned);
	win->free_pages = free->free_pages;
	return true;
}

static int dmirror_migration_setup(struct dmirror_migration *m)
{
	int ret;

	m->start_ns = trace_dmirror_migrate_finalize_enabled() ||
		      (m->fault && trace_dmirror_devmem_fault_enabled()) ||
		      (m->win && trace_dmirror_window_enabled()) ?
		      ktime_get_ns() : 0;
	ret = migrate_vma_setup(&m->args);
	m->setup_done = true;
	m->setup_ret = ret;
	if (!dmirror_traces_steps(m))
		return ret;
	/* a folded window that goes on: its setup waits (see above) */
	if (m->win && !ret && trace_dmirror_window_enabled())
		m->setup_held = true;
	else
		dmirror_trace_setup(m);
	return ret;
}

static void dmirror_migration_finish(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i;

	if (m->win)
		dmirror_window_open(m->win);
	migrate_vma_pages(args);
	/*
	 * An entry still compound moved as one huge folio; the core cleared
	 * the flag of one it split to go page by page.
	 */
	for (i = 0; i < args->npages; i++) {
		if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		m->migrated += dmirror_mpfn_nr(args->src[i]);
		if (args->src[i] & DMIRROR_PFN_COMPOUND)
			m->migrated_huge++;
	}
	migrate_vma_finalize(args);
	if (m->start_ns)
		m->duration_ns = ktime_get_ns() - m->start_ns;
	if (m->win)
		dmirror_window_close(m->win);

	if (m->dir == DMIRROR_DIR_TO_DEV) {
		dmirror_count(m->mdev, DMIRROR_MIGRATIONS_TO_DEV, 1);
		dmirror_count(m->mdev, DMIRROR_PAGES_TO_DEV, m->migrated);
		dmirror_count(m->mdev, DMIRROR_HUGE_TO_DEV, m->migrated_huge);
	} else {
		dmirror_count(m->mdev, DMIRROR_MIGRATIONS_TO_RAM, 1);
		dmirror_count(m->mdev, DMIRROR_PAGES_TO_RAM, m->migrated);
		dmirror_count(m->mdev, DMIRROR_HUGE_TO_RAM, m->migrated_huge);
	}

	if (dmirror_traces_steps(m) && !m->finalize_folded) {
		dmirror_fold_flush();
		trace_dmirror_migrate_finalize(m->mdev->id, m->dir, m->fault,
					       args->start, args->end,
					       args->cpages, m->migrated,
					       m->duration_ns);
	}
}

/*
 * HMM_DMIRROR_FLAG_FAIL_ALLOC: the file asked for its next huge allocation
 * to fail, to exercise the fallback to 4 KiB pages.
 */
static bool dmirror_fail_huge_alloc(struct dmirror_migration *m)
{
	return m->df && test_and_clear_bit(ilog2(HMM_DMIRROR_FLAG_FAIL_ALLOC),
					   &m->df->flags);
}

/* The page @i pages into the huge folio or hole @page (NULL: a hole). */
static struct page *dmirror_nth(struct page *page, unsigned long i)
{
	return page ? pfn_to_page(page_to_pfn(page) + i) : NULL;
}

/* Undoes destination entries [@first, @first + @nr) not yet migrated. */
static void dmirror_drop_dst(struct migrate_vma *args, unsigned long first,
			     unsigned long nr)
{
	unsigned long i;

	for (i = first; i < first + nr; i++) {
		struct page *page = migrate_pfn_to_page(args->dst[i]);

		args->dst[i] = 0;
		if (page) {
			unlock_page(page);
			put_page(page);
		}
	}
}

/*
 * dst entry @i, for the 1 << @order pages at @spage (NULL: a hole, the
 * device folio starts zeroed): a device folio holding a copy.
 */
static int dmirror_copy_one_to_dev(struct dmirror_migration *m,
				   unsigned long i, struct page *spage,
				   unsigned int order, bool write)
{
	struct migrate_vma *args = &m->args;
	unsigned long j, nr = 1UL << order;
	struct page *dpage, *shadow;

	dpage = dmirror_devmem_alloc(m->mdev, order);
	if (IS_ERR(dpage))
		return PTR_ERR(dpage);
	shadow = dpage->zone_device_data;
	for (j = 0; j < nr; j++) {
		if (spage)
			copy_highpage(dmirror_nth(shadow, j),
				      dmirror_nth(spage, j));
		else
			clear_highpage(dmirror_nth(shadow, j));
	}

	args->dst[i] = migrate_pfn(page_to_pfn(dpage));
	if (order)
		args->dst[i] |= DMIRROR_PFN_COMPOUND;
	if (write)
		args->dst[i] |= MIGRATE_PFN_WRITE;
	dmirror_fold_flush();
	trace_dmirror_alloc_and_copy(m->mdev->id, DMIRROR_DIR_TO_DEV, m->fault,
				     args->start + (i << PAGE_SHIFT),
				     spage ? page_to_pfn(spage) : 0,
				     page_to_pfn(dpage), page_to_pfn(shadow),
				     order, write);
	return 0;
}

/*
 * Gives each collected system page (or hole: no source page, the device
 * page starts zeroed) a device page holding a copy of its data, and each
 * compound entry a huge device folio if one is free, else a device page
 * per 4 KiB.  Once the device is full the remaining pages stay where they
 * are.
 */
static void dmirror_copy_to_dev(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i, j, nr;

	for (i = 0; i < args->npages; i += nr) {
		unsigned long src = args->src[i];
		struct page *spage;
		bool write;

		nr = dmirror_mpfn_nr(src);
		args->dst[i] = 0;
		if (!(src & MIGRATE_PFN_MIGRATE) || m->error)
			continue;
		spage = migrate_pfn_to_page(src);
		if (spage && is_zone_device_page(spage))
			continue;
		write = (src & MIGRATE_PFN_WRITE) ||
			(!spage && (args->vma->vm_flags & VM_WRITE));

		if (nr > 1) {
			if (!dmirror_fail_huge_alloc(m) &&
			    !dmirror_copy_one_to_dev(m, i, spage,
						     DMIRROR_HUGE_ORDER, write))
				continue;
			dmirror_count(m->mdev, DMIRROR_HUGE_FALLBACKS, 1);
		}
		for (j = 0; j < nr; j++) {
			m->error = dmirror_copy_one_to_dev(m, i + j,
							   dmirror_nth(spage, j),
							   0, write);
			if (m->error)
				break;
		}
		/*
		 * Part of a THP can move (the core splits it); part of a
		 * compound hole cannot: migrate_vma_pages() wants a page for
		 * each of its entries or none.
		 */
		if (m->error && nr > 1 && !spage)
			dmirror_drop_dst(args, i, j);
	}
}

/*
 * dst entry @i, for the 1 << @order device pages at @dpage: system memory
 * holding a copy.
 */
static int dmirror_copy_one_to_ram(struct dmirror_migration *m,
				   unsigned long i, struct page *dpage,
				   unsigned int order)
{
	struct migrate_vma *args = &m->args;
	unsigned long addr = args->start + (i << PAGE_SHIFT);
	unsigned long src = args->src[i], j, nr = 1UL << order;
	struct page *shadow = dmirror_shadow_page(dpage);
	struct folio *folio;
	struct page *page;

	/* A device page in use always has its shadow. */
	if (WARN_ON_ONCE(!shadow))
		return -EFAULT;
	if (order) {
		folio = dmirror_vma_alloc_huge(args->vma, addr);
		if (!folio)
			return -ENOMEM;
		page = folio_page(folio, 0);
	} else {
		page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, args->vma, addr);
		if (!page)
			return -ENOMEM;
	}
	lock_page(page);
	for (j = 0; j < nr; j++)
		copy_highpage(dmirror_nth(page, j), dmirror_nth(shadow, j));

	args->dst[i] = migrate_pfn(page_to_pfn(page)) |
		       (src & MIGRATE_PFN_WRITE);
	if (order)
		args->dst[i] |= DMIRROR_PFN_COMPOUND;
	if (m->win && !order) {
		m->win->shadow_pfn[i] = page_to_pfn(shadow);
		__set_bit(i, m->win->untraced);
	} else if (dmirror_traces_steps(m)) {
		if (m->setup_held)
			dmirror_trace_setup(m);
		dmirror_fold_flush();
		trace_dmirror_alloc_and_copy(m->mdev->id, DMIRROR_DIR_TO_RAM,
					     m->fault, addr, page_to_pfn(dpage),
					     page_to_pfn(page),
					     page_to_pfn(shadow), order,
					     !!(src & MIGRATE_PFN_WRITE));
	}
	return 0;
}

/*
 * Gives each collected device page a system page with its data, and each
 * huge device folio a huge system folio, or a system page per 4 KiB when
 * none is to be had.
 */
static void dmirror_copy_to_ram(struct dmirror_migration *m)
{
	struct migrate_vma *args = &m->args;
	unsigned long i, j, nr;

	for (i = 0; i < args->npages; i += nr) {
		unsigned long src = args->src[i];
		struct page *dpage;

		nr = dmirror_mpfn_nr(src);
		args->dst[i] = 0;
		if (!(src & MIGRATE_PFN_MIGRATE) || m->error)
			continue;
		dpage = migrate_pfn_to_page(src);
		if (!dpage || !dmirror_page_is_ours(m->mdev, dpage))
			continue;

		if (nr > 1) {
			if (!dmirror_fail_huge_alloc(m) &&
			    !dmirror_copy_one_to_ram(m, i, dpage,
						     DMIRROR_HUGE_ORDER))
				continue;
			dmirror_count(m->mdev, DMIRROR_HUGE_FALLBACKS, 1);
		}
		/* Part of a huge device folio can move: the core splits it. */
		for (j = 0; j < nr && !m->error; j++)
			m->error = dmirror_copy_one_to_ram(m, i + j,
							   dmirror_nth(dpage, j),
							   0);
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
	unsigned long window, nwords, addr, next, *pfns;
	int ret;

	/*
	 * A command smaller than a window needs no more: a 4 KiB migration
	 * then allocates 16 bytes of pfns, not a window's 8 KiB.  The PMD
	 * alignment below never applies to it (its one window reaches the
	 * end).
	 */
	window = min(dmirror_migrate_window(), (end - start) >> PAGE_SHIFT);
	/* MIGRATE_TO_SYS: and a folded window's shadow pfns and bitmaps */
	nwords = 2 * window;
	if (dir == DMIRROR_DIR_TO_RAM)
		nwords += window + 2 * BITS_TO_LONGS(window);
	pfns = kvmalloc_array(nwords, sizeof(*pfns), GFP_KERNEL);
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
			.df = df,
			.dir = dir,
		};
		struct dmirror_window win = {
			.m = &m,
			.shadow_pfn = pfns + 2 * window,
			.untraced = pfns + 3 * window,
			.returned = pfns + 3 * window + BITS_TO_LONGS(window),
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
		next = addr + (window << PAGE_SHIFT);
		/*
		 * A window ending inside a PMD would split the THP there:
		 * when more follows, end it on a PMD boundary instead (a
		 * window holds at least one PMD, so it still moves on).
		 */
		if (dmirror_huge_enabled() && next < min(end, vma->vm_end))
			next = ALIGN_DOWN(next, PAGE_SIZE << DMIRROR_HUGE_ORDER);
		next = min3(end, vma->vm_end, next);

		m.args.vma = vma;
		m.args.start = addr;
		m.args.end = next;
		m.args.src = pfns;
		m.args.dst = pfns + window;
		m.args.pgmap_owner = df->mdev;
		m.args.flags = dir == DMIRROR_DIR_TO_DEV ?
			       MIGRATE_VMA_SELECT_SYSTEM :
			       MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
		if (dmirror_huge_enabled())
			m.args.flags |= DMIRROR_SELECT_COMPOUND;
		if (dir == DMIRROR_DIR_TO_RAM &&
		    static_branch_unlikely(&dmirror_fold_events) &&
		    trace_dmirror_returned_enabled()) {
			bitmap_zero(win.untraced, window);
			bitmap_zero(win.returned, window);
			m.win = &win;
		}

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
	dmirror_fold_flush();
	trace_dmirror_fault_loop_guard(mdev->id, addr, pfn,
				       task_tgid_nr(current), count, limit);
	pr_warn_ratelimited("/dev/dmirror%u: fault loop: pid %d (%s) faulted %u times in a row at 0x%lx (device pfn 0x%lx) without migrating it; sending SIGBUS (fault_loop_limit %u)\n",
			    mdev->id, task_tgid_nr(current), current->comm,
			    count, addr, pfn, limit);
	return count;
}

/*
 * The range a CPU fault migrates: the page faulted on or, for a huge device
 * folio the CPU maps with one PMD (vmf->pte is NULL then), the whole PMD;
 * the core splits a huge folio mapped by PTEs and it comes back a page at a
 * time.  Returns the number of pages.
 */
static unsigned long dmirror_fault_range(struct vm_fault *vmf,
					 struct migrate_vma *args)
{
	unsigned long size = PAGE_SIZE << DMIRROR_HUGE_ORDER;
	unsigned long start = ALIGN_DOWN(vmf->address, size);

	args->start = vmf->address & PAGE_MASK;
	args->end = args->start + PAGE_SIZE;
	args->flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	if (!dmirror_huge_enabled() || vmf->pte ||
	    !folio_test_large(page_folio(vmf->page)) ||
	    start < vmf->vma->vm_start || start + size > vmf->vma->vm_end)
		return 1;
	args->start = start;
	args->end = start + size;
	args->flags |= DMIRROR_SELECT_COMPOUND;
	return DMIRROR_HUGE_NR;
}

/*
 * Fault events waiting for the free of the device folio they migrated
 * (see the top of this file).  That free nearly always follows in the same
 * task a moment later; DMIRROR_FOLD_SLOTS bounds the faults between the
 * two, and a fault that finds every slot taken is traced at once (its
 * folio's free is then traced by itself).  An event is held for a folio
 * that migrated, which the core has unmapped: nothing can keep it from
 * its free for long.
 */
#define DMIRROR_FOLD_SLOTS	16

struct dmirror_fold {
	struct dmirror_device		*mdev;	/* NULL: a free slot */
	unsigned long			pfn;	/* the device folio's first */
	struct dmirror_fault_info	info;
};

static struct dmirror_fold dmirror_folds[DMIRROR_FOLD_SLOTS];
/* slots taken: written under the lock, read without it by every free */
unsigned int dmirror_folds_held;

/* Holds @info for the free of the device folio at @pfn; false if full. */
static bool dmirror_fold_hold(struct dmirror_device *mdev, unsigned long pfn,
			      const struct dmirror_fault_info *info)
{
	struct dmirror_fold *fold;
	bool held = false;

	spin_lock(&dmirror_fold_lock);
	for (fold = dmirror_folds; fold < dmirror_folds + DMIRROR_FOLD_SLOTS;
	     fold++) {
		if (fold->mdev)
			continue;
		fold->mdev = mdev;
		fold->pfn = pfn;
		fold->info = *info;
		WRITE_ONCE(dmirror_folds_held, dmirror_folds_held + 1);
		held = true;
		break;
	}
	spin_unlock(&dmirror_fold_lock);
	return held;
}

/*
 * Whether the fault of @info, with the free @free of its device page, is
 * one a batch says all of: setup collected its one page with the device
 * as owner, it moved, nothing went wrong, the shadow was released.
 */
static bool dmirror_fault_batchable(const struct dmirror_fault_info *info,
				    const struct dmirror_free_info *free)
{
	return !info->setup_ret && info->owner_match && !info->result &&
	       !info->no_progress && info->npages == 1 && info->cpages == 1 &&
	       info->migrated == 1 && !free->order && free->released &&
	       free->pfn == info->dev_pfn &&
	       dmirror_batch_takes(info->duration_ns, free->free_pages);
}

/*
 * The free callback of @mdev's device folio at @free->pfn: true when the
 * free is traced folded, in the event held for its fault (emitted now,
 * with @free, or batched) or in a window's runs; false when it is to be
 * traced by itself.  A fault's hold happens before the core drops its
 * reference, and the free after the last reference is dropped (a fully
 * ordered atomic): a free that has a fault held sees the count.
 */
bool dmirror_fold_free(struct dmirror_device *mdev,
		       const struct dmirror_free_info *free)
{
	struct dmirror_fault_info info = {};
	struct dmirror_fold *fold;
	bool found = false, batched = false;

	if (dmirror_window_free(mdev, free))
		return true;
	if (!READ_ONCE(dmirror_folds_held))
		return false;
	spin_lock(&dmirror_fold_lock);
	for (fold = dmirror_folds; fold < dmirror_folds + DMIRROR_FOLD_SLOTS;
	     fold++) {
		if (fold->mdev != mdev || fold->pfn != free->pfn)
			continue;
		info = fold->info;
		fold->mdev = NULL;
		WRITE_ONCE(dmirror_folds_held, dmirror_folds_held - 1);
		found = true;
		break;
	}
	if (found && dmirror_fault_batchable(&info, free)) {
		dmirror_batch_add(mdev, true, info.addr, info.dev_pfn,
				  free->shadow_pfn, info.pid, info.duration_ns,
				  free->free_pages);
		batched = true;
	}
	spin_unlock(&dmirror_fold_lock);
	if (found && !batched) {
		dmirror_fold_flush();
		trace_dmirror_devmem_fault(mdev->id, &info, free);
	}
	return found;
}

/* Whether the page faulted on, at @addr, moved to system memory. */
static bool dmirror_fault_page_moved(const struct migrate_vma *args,
				     unsigned long addr)
{
	unsigned long i = (addr - args->start) >> PAGE_SHIFT;

	/* a compound entry, still whole, stands for the window */
	if (args->src[0] & DMIRROR_PFN_COMPOUND)
		i = 0;
	return args->src[i] & MIGRATE_PFN_MIGRATE;
}

/*
 * Traces the fault of @vmf.  While the events are folded, the event of a
 * fault that moved its page waits for the free of that device folio.
 */
static void dmirror_trace_fault(const struct dmirror_migration *m,
				struct vm_fault *vmf, vm_fault_t ret,
				unsigned int no_progress, bool moved)
{
	struct dmirror_fault_info info = {
		.addr = vmf->address & PAGE_MASK,
		.dev_pfn = page_to_pfn(vmf->page),
		.migrated = m->migrated,
		.pid = task_tgid_nr(current),
		.result = (__force unsigned int)ret,
		.no_progress = no_progress,
		/* 0: setup did not run (no memory for the pfns) */
		.npages = m->setup_done ?
			  (m->args.end - m->args.start) >> PAGE_SHIFT : 0,
		.cpages = m->setup_ret ? 0 : m->args.cpages,
		.setup_ret = m->setup_ret,
		.owner_match = m->args.pgmap_owner == m->mdev,
		.duration_ns = m->duration_ns,
	};

	/* the page's folio now: the core may have split a huge one */
	if (moved && static_branch_unlikely(&dmirror_fold_events) &&
	    dmirror_fold_hold(m->mdev, folio_pfn(page_folio(vmf->page)),
			      &info))
		return;
	dmirror_fold_flush();
	trace_dmirror_devmem_fault(m->mdev->id, &info, NULL);
}

/* dev_pagemap_ops.migrate_to_ram: the CPU touched a device page. */
vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
	struct dmirror_device *mdev = dmirror_page_chunk(vmf->page)->mdev;
	unsigned long src = 0, dst = 0, *pfns = NULL, npages;
	unsigned int no_progress = 0;
	struct dmirror_migration m = {
		.args = {
			.vma = vmf->vma,
			.src = &src,
			.dst = &dst,
			.pgmap_owner = dmirror_fault_owner(mdev),
			.fault_page = vmf->page,
		},
		.mdev = mdev,
		.dir = DMIRROR_DIR_TO_RAM,
		.fault = 1,
	};
	vm_fault_t ret = 0;
	bool moved = false;

	dmirror_count(mdev, DMIRROR_DEVMEM_FAULTS, 1);
	npages = dmirror_fault_range(vmf, &m.args);
	if (npages > 1) {
		pfns = kvmalloc_array(2 * npages, sizeof(*pfns), GFP_KERNEL);
		if (!pfns) {
			ret = VM_FAULT_OOM;
			goto out;
		}
		m.args.src = pfns;
		m.args.dst = pfns + npages;
	}

	if (dmirror_migration_setup(&m)) {
		/* Setup only rejects a malformed request: retrying is futile. */
		ret = VM_FAULT_SIGBUS;
	} else {
		dmirror_copy_to_ram(&m);
		dmirror_migration_finish(&m);
		if (static_branch_unlikely(&dmirror_fold_events))
			moved = dmirror_fault_page_moved(&m.args,
							 vmf->address);
		if (m.error)
			ret = VM_FAULT_OOM;
	}
	kvfree(pfns);

out:
	if (!m.migrated)
		no_progress = dmirror_fault_no_progress(mdev, vmf, &ret);
	if (trace_dmirror_devmem_fault_enabled())
		dmirror_trace_fault(&m, vmf, ret, no_progress, moved);
	return ret;
}
