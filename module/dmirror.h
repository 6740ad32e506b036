/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmirror: a simulated device with device-private memory.
 *
 * Concepts, one structure each:
 *
 *   struct dmirror_device  one /dev/dmirrorN: its device memory (chunks of
 *                          MEMORY_DEVICE_PRIVATE pages, free lists) and
 *                          its counters.
 *   struct dmirror_chunk   one memremap_pages() range of device pages.
 *   struct dmirror_file    one open file: the device's page table that
 *                          mirrors the opener's address space.
 *   struct dmirror_migration  one migrate_vma_setup()..finalize() cycle.
 *
 * A device folio in use keeps its data in "shadow" system pages: its first
 * page's zone_device_data points to the shadow of that page, and the
 * shadows of the folio's other pages follow it in pfn order
 * (dmirror_shadow_page()).  A free device page has none (NULL).
 *
 * Each chunk keeps a bitmap of its pages in use.  Where the kernel can
 * migrate PMD-sized folios (DMIRROR_HAVE_HUGE), a chunk's naturally
 * aligned blocks of DMIRROR_HUGE_NR pages can each be one huge device
 * folio; order-0 pages are taken from blocks already broken into while
 * there are any, so that whole free blocks stay whole.
 *
 * Locking, from outermost to innermost:
 *
 *   mmap_lock (read)       around migrate_vma_*() and hmm_range_fault().
 *   dmirror_device.grow_lock  serialises adding, evicting and removing
 *                          chunks; taken under mmap_lock when a migration
 *                          needs a new chunk.
 *   dmirror_file.lock      protects the mirror page table.  The mmu
 *                          notifiers take it, so nothing that can fault
 *                          user memory, reclaim or invalidate runs under
 *                          it: no copy_*_user(), no GFP_KERNEL, no
 *                          hmm_range_fault() or migrate_vma_*().
 *   dmirror_device.lock    spinlock for the chunk bitmaps and the page
 *                          counts; the chunk table changes under it and
 *                          grow_lock both.  The free callback takes it
 *                          where the last reference to a device folio
 *                          goes: unmap, migration, exit, all in process
 *                          context (no interrupt frees a device-private
 *                          page), so plain spin_lock() is enough;
 *                          lockdep on the debug kernels would report an
 *                          interrupt-unsafe use.  No hold walks more than
 *                          one chunk's bitmap.
 *   dmirror_fold_lock      (dmirror_migrate.c) spinlock for the faults
 *                          whose event waits for their folio's free, the
 *                          batch of pages traced together and the
 *                          MIGRATE_TO_SYS windows being folded; a leaf
 *                          but for the tracepoint the batch is traced
 *                          by, taken by the free callback too.
 *
 * Counters are atomics, exact under concurrency without a lock.
 */
#ifndef _DMIRROR_H
#define _DMIRROR_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/hmm.h>
#include <linux/jump_label.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "dmirror_compat.h"
#include "dmirror_lock_trace.h"
#include "dmirror_uapi.h"

/* Pages per hmm_range_fault() call, and per bounce buffer. */
#define DMIRROR_WINDOW		64UL

enum dmirror_counter {
	DMIRROR_MIGRATIONS_TO_DEV,
	DMIRROR_PAGES_TO_DEV,
	DMIRROR_MIGRATIONS_TO_RAM,
	DMIRROR_PAGES_TO_RAM,
	DMIRROR_PAGES_EVICTED,
	DMIRROR_DEVMEM_FAULTS,
	DMIRROR_FAULTS_NO_PROGRESS,
	DMIRROR_FAULT_LOOP_KILLS,
	DMIRROR_SHADOW_ALLOCATED,
	DMIRROR_SHADOW_FREED,
	DMIRROR_SHADOW_LEAKED,
	DMIRROR_ALLOC_FAILURES,
	DMIRROR_HUGE_TO_DEV,		/* huge folios migrated whole */
	DMIRROR_HUGE_TO_RAM,
	DMIRROR_HUGE_FALLBACKS,		/* huge folios migrated as pages */
	DMIRROR_HUGE_SPLITS,		/* huge device folios split by the core */
	DMIRROR_RANGE_RETRIES,		/* hmm_range_fault() results gone stale */
	DMIRROR_NR_COUNTERS
};

struct dmirror_device;

struct dmirror_chunk {
	struct dev_pagemap	pagemap;
	struct resource		*res;
	struct dmirror_device	*mdev;
	unsigned long		first_pfn;
	unsigned long		npages;
	/* Its blocks can be huge folios (naturally aligned, huge enabled). */
	bool			huge;
	/*
	 * Under mdev->lock: a bit per page, set from allocation until the
	 * free callback; the free pages; the blocks all of whose pages are
	 * free (0 unless huge); and a page below which every page is used,
	 * where the searches for a free page start.
	 */
	unsigned long		*used;
	unsigned long		nr_free;
	unsigned long		nr_free_blocks;
	unsigned long		used_below;
	/* Per page: faults in a row on it that migrated nothing. */
	atomic_t		*no_progress;
};

struct dmirror_device {
	unsigned int		id;
	struct device		dev;
	struct cdev		cdev;

	/* Adding and removing chunks; the chunk table changes under both. */
	struct mutex		grow_lock;
	spinlock_t		lock;		/* chunk bitmaps and counts */
	struct dmirror_chunk	**chunks;	/* max_chunks slots */
	unsigned int		nchunks;
	unsigned long		nr_free;	/* pages */
	unsigned long		nr_free_huge;	/* whole free blocks */
	unsigned long		nr_total;
	/* dmirror_lock_hold: when the lock was taken, the worst holds (ns) */
	u64			lock_since;
	u64			lock_hold_max[DMIRROR_LOCK_NR_SITES];

	atomic_long_t		counters[DMIRROR_NR_COUNTERS];
};

struct dmirror_file {
	struct dmirror_device		*mdev;
	struct mmu_interval_notifier	notifier;
	struct mutex			lock;	/* pt */
	/*
	 * Device page table: user pfn -> the system page holding the data
	 * (a shadow page for this device's own pages), tagged with the
	 * access the device has.  Entries hold no page reference: the
	 * notifier clears them before the CPU mapping they mirror changes.
	 */
	struct xarray			pt;
	unsigned long			flags;	/* HMM_DMIRROR_FLAG_* */
};

/* Module parameters and debugfs knobs (dmirror_main.c). */
extern unsigned int dmirror_chunk_pages;
extern unsigned int dmirror_max_chunks;
extern unsigned int dmirror_fault_loop_limit;
extern unsigned int dmirror_owner_mismatch;
extern unsigned int dmirror_leak_shadow;
extern unsigned int dmirror_bounce_copy;
extern unsigned int dmirror_ndevices;
extern struct dmirror_device **dmirror_devices;

/*
 * On while the fold_events debugfs file is held open (by analyzer record):
 * the CPU fault path then emits one event, dmirror_devmem_fault, carrying
 * what its setup, copy, finalize and the free of the device folio it
 * migrated would have traced, or traces a fault that went as it should in
 * a batch of such pages (dmirror_batch), and a MIGRATE_TO_SYS window traces the
 * pages its finalize freed as runs (dmirror_returned; dmirror_migrate.c).
 */
DECLARE_STATIC_KEY_FALSE(dmirror_fold_events);

/*
 * System pages the driver allocates for itself and frees itself, on every
 * device: shadow pages and bounce buffers.  Shadow pages come from the
 * page allocator, which kmemleak does not watch: these counts are what
 * shows a page lost on an error path.
 */
struct dmirror_system_pages {
	atomic_long_t	allocated;
	atomic_long_t	freed;
};

extern struct dmirror_system_pages dmirror_system_pages;

static inline void dmirror_system_pages_got(unsigned long n)
{
	atomic_long_add(n, &dmirror_system_pages.allocated);
}

static inline void dmirror_system_pages_put(unsigned long n)
{
	atomic_long_add(n, &dmirror_system_pages.freed);
}

/*
 * Pages per migrate_vma_setup() or migrate_device_range() call: 512, or a
 * PMD's worth where a PMD maps more (16 KiB and 64 KiB pages with THP), so
 * that a window always holds a whole huge folio.  Not a constant: on some
 * architectures (ppc64) neither is HPAGE_PMD_ORDER.
 */
static inline unsigned long dmirror_migrate_window(void)
{
	return max_t(unsigned long, 512, DMIRROR_HUGE_NR);
}

static inline void dmirror_count(struct dmirror_device *mdev,
				 enum dmirror_counter c, long n)
{
	atomic_long_add(n, &mdev->counters[c]);
}

static inline struct dmirror_chunk *dmirror_page_chunk(struct page *page)
{
	return container_of(dmirror_page_pgmap(page), struct dmirror_chunk,
			    pagemap);
}

/*
 * The shadow page holding the data of device page @dpage, which may be any
 * page of a device folio in use.
 */
static inline struct page *dmirror_shadow_page(struct page *dpage)
{
	struct folio *folio = page_folio(dpage);
	struct page *shadow = folio->page.zone_device_data;

	if (!shadow)
		return NULL;
	return pfn_to_page(page_to_pfn(shadow) + page_to_pfn(dpage) -
			   folio_pfn(folio));
}

/*
 * Pages one migrate pfn entry stands for: a compound entry is a whole
 * huge folio (or PMD-sized hole), and the entries after it are empty.
 */
static inline unsigned long dmirror_mpfn_nr(unsigned long mpfn)
{
	return (mpfn & DMIRROR_PFN_COMPOUND) ? DMIRROR_HUGE_NR : 1;
}

/* Is @page one of @mdev's device pages? */
bool dmirror_page_is_ours(struct dmirror_device *mdev, struct page *page);

/* dmirror_devmem.c: device memory */
void dmirror_device_lock(struct dmirror_device *mdev) __acquires(&mdev->lock);
void dmirror_device_unlock(struct dmirror_device *mdev, u8 site)
	__releases(&mdev->lock);
extern const struct dev_pagemap_ops dmirror_devmem_ops;
struct page *dmirror_devmem_alloc(struct dmirror_device *mdev,
				  unsigned int order);
int dmirror_devmem_evict(struct dmirror_device *mdev);
void dmirror_devmem_shrink(struct dmirror_device *mdev);
atomic_t *dmirror_devmem_no_progress(struct page *dpage);

/* dmirror_migrate.c: moving pages between system and device memory */
int dmirror_migrate_to_dev(struct dmirror_file *df, unsigned long start,
			   unsigned long end);
int dmirror_migrate_to_ram(struct dmirror_file *df, unsigned long start,
			   unsigned long end, u64 *migrated);
vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf);
struct dmirror_free_info;
bool dmirror_fold_free(struct dmirror_device *mdev,
		       const struct dmirror_free_info *free);
extern unsigned int dmirror_folds_held, dmirror_windows_open;
extern unsigned int dmirror_batched;
void dmirror_fold_flush_batch(void);

/*
 * Traces the pages batched so far: before any other dmirror event, so
 * that the events keep their order but for a batch's pages, which come
 * together a little late.
 */
static inline void dmirror_fold_flush(void)
{
	if (static_branch_unlikely(&dmirror_fold_events) &&
	    READ_ONCE(dmirror_batched))
		dmirror_fold_flush_batch();
}

/* Whether a fault or a window waits for frees (dmirror_fold_free()). */
static inline bool dmirror_fold_waiting(void)
{
	return READ_ONCE(dmirror_folds_held) || READ_ONCE(dmirror_windows_open);
}

/* dmirror_mirror.c: the device page table */
void *dmirror_bounce_alloc(unsigned long npages);
void dmirror_bounce_free(void *bounce, unsigned long npages);
struct dmirror_file *dmirror_file_create(struct dmirror_device *mdev);
void dmirror_file_destroy(struct dmirror_file *df);
int dmirror_read(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd,
		 bool unlocked);
int dmirror_write(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd);
int dmirror_snapshot(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd);
int dmirror_exclusive(struct dmirror_file *df, struct hmm_dmirror_cmd *cmd);
int dmirror_check_exclusive(struct dmirror_file *df,
			    struct hmm_dmirror_cmd *cmd);
int dmirror_map_migrated(struct dmirror_file *df,
			 struct hmm_dmirror_cmd *cmd);

/* dmirror_debugfs.c */
void dmirror_debugfs_init(void);
void dmirror_debugfs_exit(void);

#endif /* _DMIRROR_H */
