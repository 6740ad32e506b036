/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels dmirror builds against lives here,
 * so the rest of the module reads as if there were one kernel.
 *
 * The DMIRROR_HAVE_* macros come from module/Makefile, which looks for
 * each interface in the headers of the kernel being built against, rather
 * than guessing from version numbers.  Verified against 6.1, 6.12 and 7.3.
 */
#ifndef _DMIRROR_COMPAT_H
#define _DMIRROR_COMPAT_H

#include <linux/bits.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/hmm.h>
#include <linux/huge_mm.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>

/* 6.2 made the device argument of class devnode() callbacks const. */
#ifdef DMIRROR_HAVE_CONST_DEVNODE
#define DMIRROR_DEVNODE_CONST const
#else
#define DMIRROR_DEVNODE_CONST
#endif

/* kzalloc_obj() is new in 7.x; this module only needs its GFP_KERNEL form. */
#ifndef kzalloc_obj
#define kzalloc_obj(P) kzalloc(sizeof(P), GFP_KERNEL)
#endif

/* The pgmap pointer moved from struct page into struct folio. */
static inline struct dev_pagemap *dmirror_page_pgmap(struct page *page)
{
#ifdef DMIRROR_HAVE_PAGE_PGMAP
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/*
 * dev_pagemap_ops.page_free(page) became folio_free(folio).  The callback
 * works on the folio's first page either way; where it gets a page, the
 * page is an order-0 folio.
 */
#ifdef DMIRROR_HAVE_FOLIO_FREE
#define DMIRROR_FREE_ARG	folio
#define DMIRROR_FREE_OP		folio_free

static inline struct page *dmirror_freed_page(struct folio *folio)
{
	return &folio->page;
}
#else
#define DMIRROR_FREE_ARG	page
#define DMIRROR_FREE_OP		page_free

static inline struct page *dmirror_freed_page(struct page *page)
{
	return page;
}
#endif

/* zone_device_page_init() gained an order, then the pgmap too. */
static inline void dmirror_zone_device_page_init(struct page *page)
{
#if defined(DMIRROR_HAVE_INIT_PGMAP)
	zone_device_page_init(page, dmirror_page_pgmap(page), 0);
#elif defined(DMIRROR_HAVE_INIT_ORDER)
	zone_device_page_init(page, 0);
#else
	zone_device_page_init(page);
#endif
}

/*
 * Device-exclusive access to one page: make_device_exclusive_range()
 * became the single-page make_device_exclusive().  Either way the page
 * comes back locked and referenced; dmirror_exclusive_put() drops both.
 * The caller holds the mmap lock.
 */
static inline struct page *dmirror_make_exclusive(struct mm_struct *mm,
						  unsigned long addr,
						  void *owner)
{
#ifdef DMIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	struct folio *folio;

	return make_device_exclusive(mm, addr, owner, &folio);
#else
	struct page *page = NULL;
	int ret;

	ret = make_device_exclusive_range(mm, addr, addr + PAGE_SIZE, &page,
					  owner);
	if (ret < 0)
		return ERR_PTR(ret);
	if (ret != 1 || !page)
		return ERR_PTR(-EBUSY);
	return page;
#endif
}

static inline void dmirror_exclusive_put(struct page *page)
{
	unlock_page(page);
	put_page(page);
}

/*
 * hmm_range_fault_unlocked_timeout() (7.3) takes the mmap lock itself and
 * lets the fault path drop it, so a device can fault userfaultfd-backed
 * ranges.  Without it READ_UNLOCKED is not offered.
 */
#ifdef DMIRROR_HAVE_RANGE_FAULT_UNLOCKED
#define DMIRROR_HAVE_READ_UNLOCKED 1

static inline int dmirror_range_fault_unlocked(struct hmm_range *range)
{
	return hmm_range_fault_unlocked_timeout(range, 0);
}
#else
#define DMIRROR_HAVE_READ_UNLOCKED 0

static inline int dmirror_range_fault_unlocked(struct hmm_range *range)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * PMD-sized device folios (7.x): migrate_vma_setup() collects a THP, or an
 * empty PMD range, whole when asked to (MIGRATE_VMA_SELECT_COMPOUND, the
 * entry flagged MIGRATE_PFN_COMPOUND) and migrate_vma_pages() maps a
 * compound destination with one PMD; zone_device_folio_init() makes a
 * large device folio; and dev_pagemap_ops.folio_split tells the driver
 * when the core splits one.  dmirror uses them only with all three there,
 * THP built in and an architecture that can migrate a PMD
 * (thp_migration_supported()).  The rest of the module tests
 * DMIRROR_HAVE_HUGE or dmirror_huge_enabled() and compiles the same code
 * everywhere: without the feature the stubs below make every huge path
 * dead code.
 */
#if defined(DMIRROR_HAVE_SELECT_COMPOUND) && \
	defined(DMIRROR_HAVE_FOLIO_SPLIT) && defined(DMIRROR_HAVE_FOLIO_INIT) && \
	defined(DMIRROR_HAVE_INIT_PGMAP) && defined(DMIRROR_HAVE_FOLIO_FREE) && \
	defined(CONFIG_TRANSPARENT_HUGEPAGE)
#define DMIRROR_HAVE_HUGE	1
#define DMIRROR_HUGE_ORDER	HPAGE_PMD_ORDER
#define DMIRROR_SELECT_COMPOUND	MIGRATE_VMA_SELECT_COMPOUND
#define DMIRROR_PFN_COMPOUND	MIGRATE_PFN_COMPOUND

static inline bool dmirror_huge_enabled(void)
{
	return thp_migration_supported();
}

/* @page heads a naturally aligned block of 1 << @order free device pages. */
static inline void dmirror_zone_device_folio_init(struct page *page,
						  unsigned int order)
{
	struct folio *folio = (struct folio *)page;

	zone_device_folio_init(folio, dmirror_page_pgmap(page), order);
}

static inline struct folio *dmirror_vma_alloc_huge(struct vm_area_struct *vma,
						   unsigned long addr)
{
	return vma_alloc_folio(GFP_HIGHUSER_MOVABLE | __GFP_NORETRY |
			       __GFP_NOWARN, DMIRROR_HUGE_ORDER, vma, addr);
}
#else
#define DMIRROR_HAVE_HUGE	0
#define DMIRROR_HUGE_ORDER	0
#define DMIRROR_SELECT_COMPOUND	0
#define DMIRROR_PFN_COMPOUND	0

static inline bool dmirror_huge_enabled(void)
{
	return false;
}

static inline void dmirror_zone_device_folio_init(struct page *page,
						  unsigned int order)
{
	dmirror_zone_device_page_init(page);
}

static inline struct folio *dmirror_vma_alloc_huge(struct vm_area_struct *vma,
						   unsigned long addr)
{
	return NULL;
}
#endif

#define DMIRROR_HUGE_NR		BIT(DMIRROR_HUGE_ORDER)

#endif /* _DMIRROR_COMPAT_H */
