// SPDX-License-Identifier: GPL-2.0
/*
 * Device memory: chunks of MEMORY_DEVICE_PRIVATE pages, grown on demand up
 * to max_chunks.  Each chunk keeps a bitmap of its pages handed out; where
 * the kernel migrates huge folios it also counts its naturally aligned
 * blocks of DMIRROR_HUGE_NR pages that are all free, which a huge device
 * folio can take whole.  Order-0 pages come from blocks already broken
 * into where there are any, so that whole blocks stay whole.
 *
 * A device folio in use stores its data in shadow system pages (in
 * zone_device_data): that is all the "device" there is.  When the last
 * reference to a device folio goes, the free callback releases the shadow
 * pages and clears the folio's bits.
 *
 * Every hold of the device lock here is bounded by one chunk: the searches
 * skip a chunk on its counts, and find a page or a block in its bitmap.
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dmirror_compat.h"
#include "dmirror.h"
#include "dmirror_lock_trace.h"
#include "dmirror_trace.h"

/*
 * The device lock, timed while dmirror_lock_hold is enabled: a hold longer
 * than any before it at @site on the device is traced on release.
 */
void dmirror_device_lock(struct dmirror_device *mdev) __acquires(&mdev->lock)
{
	spin_lock(&mdev->lock);
	mdev->lock_since = trace_dmirror_lock_hold_enabled() ? ktime_get_ns() : 0;
}

void dmirror_device_unlock(struct dmirror_device *mdev, u8 site)
	__releases(&mdev->lock)
{
	u64 held = 0;

	if (mdev->lock_since) {
		held = ktime_get_ns() - mdev->lock_since;
		if (held > mdev->lock_hold_max[site])
			mdev->lock_hold_max[site] = held;
		else
			held = 0;
	}
	spin_unlock(&mdev->lock);
	if (held)
		trace_dmirror_lock_hold(mdev->id, site, held);
}

bool dmirror_page_is_ours(struct dmirror_device *mdev, struct page *page)
{
	struct dev_pagemap *pgmap;

	if (!is_device_private_page(page))
		return false;
	pgmap = dmirror_page_pgmap(page);
	return pgmap->ops == &dmirror_devmem_ops &&
	       dmirror_page_chunk(page)->mdev == mdev;
}

atomic_t *dmirror_devmem_no_progress(struct page *dpage)
{
	struct dmirror_chunk *chunk = dmirror_page_chunk(dpage);

	return &chunk->no_progress[page_to_pfn(dpage) - chunk->first_pfn];
}

/* Is the block of a huge-capable chunk starting at @first all free? */
static bool dmirror_block_is_free(struct dmirror_chunk *chunk,
				  unsigned long first)
{
	unsigned long end = first + DMIRROR_HUGE_NR;

	return find_next_bit(chunk->used, end, first) >= end;
}

/* The first page of the block holding page @index of @chunk. */
static unsigned long dmirror_block_of(unsigned long index)
{
	return ALIGN_DOWN(index, DMIRROR_HUGE_NR);
}

/*
 * Hands out the 1 << @order free pages of @chunk from page @first: an
 * order-0 page, or a whole block.
 */
static void dmirror_chunk_take(struct dmirror_chunk *chunk,
			       unsigned long first, unsigned int order)
{
	struct dmirror_device *mdev = chunk->mdev;
	unsigned long nr = 1UL << order;
	bool whole;

	lockdep_assert_held(&mdev->lock);
	/* A page handed out twice would be two folios at once. */
	WARN_ON_ONCE(find_next_bit(chunk->used, first + nr, first) <
		     first + nr);
	whole = chunk->huge &&
		dmirror_block_is_free(chunk, dmirror_block_of(first));
	bitmap_set(chunk->used, first, nr);
	if (first == chunk->used_below)
		chunk->used_below = first + nr;
	chunk->nr_free -= nr;
	mdev->nr_free -= nr;
	if (whole) {
		chunk->nr_free_blocks--;
		mdev->nr_free_huge--;
	}
}

/* Takes back the 1 << @order pages of @chunk from page @first. */
static void dmirror_chunk_put(struct dmirror_chunk *chunk,
			      unsigned long first, unsigned int order)
{
	struct dmirror_device *mdev = chunk->mdev;
	unsigned long nr = 1UL << order;

	lockdep_assert_held(&mdev->lock);
	/* Only a chunk with huge blocks hands out huge folios. */
	WARN_ON_ONCE(order && !chunk->huge);
	/* Freeing a page that is free: the counts would go wrong. */
	WARN_ON_ONCE(find_next_zero_bit(chunk->used, first + nr, first) <
		     first + nr);
	bitmap_clear(chunk->used, first, nr);
	chunk->used_below = min(chunk->used_below, first);
	chunk->nr_free += nr;
	mdev->nr_free += nr;
	if (chunk->huge &&
	    dmirror_block_is_free(chunk, dmirror_block_of(first))) {
		chunk->nr_free_blocks++;
		mdev->nr_free_huge++;
	}
}

/* A whole free block: its chunk and first page. */
static bool dmirror_find_block(struct dmirror_device *mdev,
			       struct dmirror_chunk **chunkp,
			       unsigned long *first)
{
	unsigned int i;

	for (i = 0; i < mdev->nchunks; i++) {
		struct dmirror_chunk *chunk = mdev->chunks[i];
		unsigned long index;

		if (!chunk->nr_free_blocks)
			continue;
		index = bitmap_find_next_zero_area(chunk->used, chunk->npages,
						   dmirror_block_of(chunk->used_below),
						   DMIRROR_HUGE_NR,
						   DMIRROR_HUGE_NR - 1);
		/* nr_free_blocks says there is one. */
		if (WARN_ON_ONCE(index + DMIRROR_HUGE_NR > chunk->npages))
			continue;
		*chunkp = chunk;
		*first = index;
		return true;
	}
	return false;
}

/*
 * A free page for an order-0 allocation: the lowest one outside the whole
 * free blocks (all of a chunk without huge blocks is outside them), and
 * only when there is none the first page of a whole block.  The first,
 * because a block that was a huge folio keeps that folio's compound
 * metadata until zone_device_page_init() resets each page, and the other
 * pages point at the first one.
 */
static bool dmirror_find_page(struct dmirror_device *mdev,
			      struct dmirror_chunk **chunkp,
			      unsigned long *index)
{
	unsigned int i;

	for (i = 0; i < mdev->nchunks; i++) {
		struct dmirror_chunk *chunk = mdev->chunks[i];
		unsigned long n = chunk->npages, idx;

		/* Every free page of the chunk is in a whole block. */
		if (chunk->nr_free == chunk->nr_free_blocks * DMIRROR_HUGE_NR)
			continue;
		/*
		 * From the first page that may be free: a scan from the
		 * start made each allocation cost as much as the pages
		 * already in use (a 64 MiB migration, 16384 of them).
		 */
		idx = find_next_zero_bit(chunk->used, n, chunk->used_below);
		while (chunk->huge && idx < n &&
		       dmirror_block_is_free(chunk, dmirror_block_of(idx)))
			idx = find_next_zero_bit(chunk->used, n,
						 dmirror_block_of(idx) +
						 DMIRROR_HUGE_NR);
		/* The counts say there is one. */
		if (WARN_ON_ONCE(idx >= n))
			continue;
		*chunkp = chunk;
		*index = idx;
		return true;
	}
	return dmirror_find_block(mdev, chunkp, index);
}

/* Takes a free page (@order 0) or a whole free block off the device. */
static struct page *dmirror_free_pages_take(struct dmirror_device *mdev,
					    unsigned int order)
{
	struct dmirror_chunk *chunk;
	struct page *page = NULL;
	unsigned long first;
	bool found;

	dmirror_device_lock(mdev);
	found = order ? dmirror_find_block(mdev, &chunk, &first) :
			dmirror_find_page(mdev, &chunk, &first);
	if (found) {
		dmirror_chunk_take(chunk, first, order);
		page = pfn_to_page(chunk->first_pfn + first);
	}
	dmirror_device_unlock(mdev, DMIRROR_LOCK_ALLOC);
	return page;
}

/*
 * Gives the 1 << @order pages from @page back to the device.  Returns the
 * number of free pages on the device after that.
 */
static unsigned long dmirror_free_pages_put(struct dmirror_device *mdev,
					    struct page *page,
					    unsigned int order)
{
	struct dmirror_chunk *chunk = dmirror_page_chunk(page);
	unsigned long nr_free;

	dmirror_device_lock(mdev);
	dmirror_chunk_put(chunk, page_to_pfn(page) - chunk->first_pfn, order);
	nr_free = mdev->nr_free;
	dmirror_device_unlock(mdev, DMIRROR_LOCK_FREE);
	return nr_free;
}

static void dmirror_chunk_free(struct dmirror_chunk *chunk)
{
	if (chunk->res)
		release_mem_region(chunk->res->start,
				   resource_size(chunk->res));
	kvfree(chunk->no_progress);
	kvfree(chunk->used);
	kfree(chunk);
}

/* Adds one chunk of device memory, all of it free. */
static int dmirror_chunk_add(struct dmirror_device *mdev)
{
	unsigned long size = (unsigned long)dmirror_chunk_pages << PAGE_SHIFT;
	struct dmirror_chunk *chunk;
	struct resource *res;
	void *mapped;
	int ret;

	lockdep_assert_held(&mdev->grow_lock);
	if (mdev->nchunks >= dmirror_max_chunks)
		return -ENOMEM;

	chunk = kzalloc_obj(*chunk);
	if (!chunk)
		return -ENOMEM;
	chunk->no_progress = kvcalloc(dmirror_chunk_pages,
				      sizeof(*chunk->no_progress), GFP_KERNEL);
	chunk->used = kvcalloc(BITS_TO_LONGS(dmirror_chunk_pages),
			       sizeof(*chunk->used), GFP_KERNEL);
	if (!chunk->no_progress || !chunk->used) {
		ret = -ENOMEM;
		goto err;
	}

	/*
	 * The region is aligned to a memory section and may be larger than
	 * the chunk; only the chunk gets struct pages.
	 */
	res = request_free_mem_region(&iomem_resource, size, "dmirror");
	if (IS_ERR_OR_NULL(res)) {
		ret = res ? PTR_ERR(res) : -ENOMEM;
		goto err;
	}
	chunk->res = res;
	chunk->mdev = mdev;
	chunk->first_pfn = PHYS_PFN(res->start);
	chunk->npages = dmirror_chunk_pages;
	/* Blocks a huge folio can take must be naturally aligned. */
	chunk->huge = dmirror_huge_enabled() &&
		      IS_ALIGNED(chunk->first_pfn | chunk->npages,
				 DMIRROR_HUGE_NR);
	chunk->pagemap.type = MEMORY_DEVICE_PRIVATE;
	chunk->pagemap.range.start = res->start;
	chunk->pagemap.range.end = res->start + size - 1;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ops = &dmirror_devmem_ops;
	chunk->pagemap.owner = mdev;

	mapped = memremap_pages(&chunk->pagemap, numa_node_id());
	if (IS_ERR_OR_NULL(mapped)) {
		ret = mapped ? PTR_ERR(mapped) : -ENOMEM;
		goto err;
	}

	chunk->nr_free = chunk->npages;
	chunk->nr_free_blocks = chunk->huge ?
				chunk->npages / DMIRROR_HUGE_NR : 0;
	dmirror_device_lock(mdev);
	mdev->chunks[mdev->nchunks++] = chunk;
	mdev->nr_free += chunk->nr_free;
	mdev->nr_free_huge += chunk->nr_free_blocks;
	mdev->nr_total += chunk->npages;
	dmirror_device_unlock(mdev, DMIRROR_LOCK_GROW);

	dmirror_fold_flush();
	trace_dmirror_chunk_add(mdev->id, chunk->first_pfn, chunk->npages,
				mdev->nr_total);
	return 0;

err:
	dmirror_chunk_free(chunk);
	return ret;
}

/*
 * Takes chunk @i off the device if none of its pages is in use.  After
 * that nothing can hand out or free a page of it.
 */
static struct dmirror_chunk *dmirror_chunk_detach(struct dmirror_device *mdev,
						  unsigned int i)
{
	struct dmirror_chunk *chunk = mdev->chunks[i];

	lockdep_assert_held(&mdev->grow_lock);
	dmirror_device_lock(mdev);
	if (chunk->nr_free != chunk->npages) {
		chunk = NULL;
		goto out;
	}
	mdev->nr_free -= chunk->nr_free;
	mdev->nr_free_huge -= chunk->nr_free_blocks;
	mdev->nr_total -= chunk->npages;
	mdev->nchunks--;
	memmove(&mdev->chunks[i], &mdev->chunks[i + 1],
		(mdev->nchunks - i) * sizeof(mdev->chunks[0]));
out:
	dmirror_device_unlock(mdev, DMIRROR_LOCK_SHRINK);
	return chunk;
}

/* Removes every chunk none of whose pages is in use. */
void dmirror_devmem_shrink(struct dmirror_device *mdev)
{
	unsigned int i;

	mutex_lock(&mdev->grow_lock);
	for (i = mdev->nchunks; i-- > 0;) {
		struct dmirror_chunk *chunk = dmirror_chunk_detach(mdev, i);

		if (!chunk)
			continue;
		memunmap_pages(&chunk->pagemap);
		dmirror_fold_flush();
		trace_dmirror_chunk_remove(mdev->id, chunk->first_pfn,
					   chunk->npages, mdev->nr_total);
		dmirror_chunk_free(chunk);
	}
	mutex_unlock(&mdev->grow_lock);
}

/* Adds a chunk, unless another thread freed or added one meanwhile. */
static int dmirror_devmem_grow(struct dmirror_device *mdev, unsigned int order)
{
	int ret = 0;

	mutex_lock(&mdev->grow_lock);
	if (!(order ? READ_ONCE(mdev->nr_free_huge) : READ_ONCE(mdev->nr_free)))
		ret = dmirror_chunk_add(mdev);
	mutex_unlock(&mdev->grow_lock);
	return ret;
}

/*
 * Shadow pages for a device folio of 1 << @order pages.
 *
 * A huge device folio gets its shadow as one huge system folio, rather
 * than as pages allocated one by one or a contiguous block split into
 * them:
 *  - contiguous, the shadow of any page of the device folio is found from
 *    the first one (dmirror_shadow_page()), with no table of 512 pointers,
 *    and the tracepoints can name a folio's shadow by its first pfn;
 *  - whole, it is one allocation and one free, not 512 of each;
 *  - a folio, any page of it can be referenced (the MIGRATE_TO_DEV copy
 *    out does) and keeps all of it alive.
 * When the core splits the device folio (a partial munmap or mprotect, a
 * migration of part of it) the shadow stays whole: the folio_split
 * callback, which runs with the device folio frozen and has no way to
 * split a system folio, gives each new device folio a reference to it,
 * and the shadow goes with the last piece freed.
 * When no such contiguous memory is to be had, the caller migrates the
 * huge folio as 4 KiB pages instead.
 */
static struct page *dmirror_shadow_alloc(unsigned int order)
{
	struct page *shadow;

	if (!order)
		shadow = alloc_page(GFP_HIGHUSER);
	else
		shadow = alloc_pages(GFP_HIGHUSER | __GFP_COMP |
				     __GFP_NORETRY | __GFP_NOWARN, order);
	if (!shadow)
		return NULL;
	dmirror_system_pages_got(1UL << order);
	return shadow;
}

/*
 * A device folio of @nr pages lets go of its shadow: its reference to the
 * shadow folio.  The @nr pages count as released now, though a piece of a
 * split huge shadow is freed with the rest of it, by the last piece.
 */
static void dmirror_shadow_free(struct page *shadow, unsigned long nr)
{
	put_page(shadow);
	dmirror_system_pages_put(nr);
}

/*
 * Hands out one device folio of 1 << @order pages (0 or DMIRROR_HUGE_ORDER)
 * with fresh shadow pages, referenced and locked as migrate_vma_pages()
 * wants its destination pages, or an ERR_PTR() when the device is full or
 * the shadow memory cannot be had.  A failed huge allocation is no error
 * (the caller falls back to order 0) and is not counted as one.
 */
struct page *dmirror_devmem_alloc(struct dmirror_device *mdev,
				  unsigned int order)
{
	unsigned long nr = 1UL << order, i;
	struct page *dpage, *shadow;
	int ret;

	/* Shadow first: a device page once popped never goes back unused. */
	shadow = dmirror_shadow_alloc(order);
	if (!shadow) {
		ret = -ENOMEM;
		goto err;
	}
	for (;;) {
		dpage = dmirror_free_pages_take(mdev, order);
		if (dpage)
			break;
		ret = dmirror_devmem_grow(mdev, order);
		if (ret) {
			dmirror_shadow_free(shadow, nr);
			goto err;
		}
	}

	for (i = 0; i < nr; i++) {
		struct page *page = pfn_to_page(page_to_pfn(dpage) + i);

		atomic_set(dmirror_devmem_no_progress(page), 0);
	}
	if (order)
		dmirror_zone_device_folio_init(dpage, order);
	else
		dmirror_zone_device_page_init(dpage);
	dpage->zone_device_data = shadow;
	dmirror_count(mdev, DMIRROR_SHADOW_ALLOCATED, nr);

	/*
	 * Every device folio in use pins the module until its free callback
	 * has run: the callback and the CPU fault handler are module code,
	 * and rmmod must not take them away while a process maps device
	 * memory.  The caller holds an open file, so the module is live.
	 */
	__module_get(THIS_MODULE);
	return dpage;

err:
	if (!order)
		dmirror_count(mdev, DMIRROR_ALLOC_FAILURES, 1);
	return ERR_PTR(ret);
}

/*
 * Whether the free is traced folded: into the event of the fault that
 * migrated the folio, or into its MIGRATE_TO_SYS window's runs, when one
 * waits for it (dmirror_migrate.c).  Nothing waits unless the events are
 * folded, and then it costs two loads.
 */
static bool dmirror_devmem_free_folded(struct dmirror_device *mdev,
				       struct page *page, unsigned int order,
				       unsigned long shadow_pfn, bool released,
				       unsigned long nr_free)
{
	struct dmirror_free_info free = {
		.pfn = page_to_pfn(page),
		.shadow_pfn = shadow_pfn,
		.free_pages = nr_free,
		.order = order,
		.released = released,
	};

	return dmirror_fold_waiting() && dmirror_fold_free(mdev, &free);
}

static void dmirror_devmem_free(struct DMIRROR_FREE_ARG *arg)
{
	struct page *page = dmirror_freed_page(arg);
	struct dmirror_device *mdev = dmirror_page_chunk(page)->mdev;
	unsigned int order = folio_order(page_folio(page));
	struct page *shadow = page->zone_device_data;
	unsigned long shadow_pfn = shadow ? page_to_pfn(shadow) : 0;
	unsigned long nr = 1UL << order;
	unsigned long nr_free;
	bool released = false;

	if (shadow && READ_ONCE(dmirror_leak_shadow)) {
		/* The simulated bug: the shadow pages are forgotten, for real. */
		dmirror_count(mdev, DMIRROR_SHADOW_LEAKED, nr);
	} else if (shadow) {
		dmirror_shadow_free(shadow, nr);
		dmirror_count(mdev, DMIRROR_SHADOW_FREED, nr);
		released = true;
	}

	page->zone_device_data = NULL;
	nr_free = dmirror_free_pages_put(mdev, page, order);
	if (!dmirror_devmem_free_folded(mdev, page, order, shadow_pfn,
					released, nr_free)) {
		dmirror_fold_flush();
		trace_dmirror_devmem_free(mdev->id, page_to_pfn(page), order,
					  shadow_pfn, released, nr_free);
	}

	/*
	 * The reference taken in dmirror_devmem_alloc(), or in the split
	 * callback for a folio split off a huge one.  Module exit cannot
	 * free this code under us: it unmaps every chunk first, and that
	 * waits for the pagemap reference the core drops after we return.
	 */
	module_put(THIS_MODULE);
}

#if DMIRROR_HAVE_HUGE
/*
 * dev_pagemap_ops.folio_split: the core splits a huge device folio, with
 * every reference to it frozen.  Called once per new folio @tail, then once
 * with @tail NULL when @head has been shrunk to its new order.  Each new
 * folio becomes a device folio in use in its own right: pgmap and mapping
 * as the head's, the shadow pages of its range with a reference to the
 * shadow folio, and a module reference for its free callback.
 */
static void dmirror_devmem_folio_split(struct folio *head, struct folio *tail)
{
	struct page *shadow = head->page.zone_device_data;

	if (!tail) {
		dmirror_count(dmirror_page_chunk(&head->page)->mdev,
			      DMIRROR_HUGE_SPLITS, 1);
		return;
	}
	tail->pgmap = head->pgmap;
	tail->page.mapping = head->page.mapping;
	tail->page.zone_device_data = NULL;
	if (shadow) {
		tail->page.zone_device_data =
			pfn_to_page(page_to_pfn(shadow) + folio_pfn(tail) -
				    folio_pfn(head));
		/* the shadow stays whole: see dmirror_shadow_alloc() */
		get_page(shadow);
	}
	__module_get(THIS_MODULE);
}
#endif

/*
 * One window of device pfns back to system memory, whatever maps them.
 * Pages that are free, or locked by a migration in flight, are skipped.
 * A huge device folio comes back as a huge system folio: without a VMA
 * the core cannot split it here.
 */
static int dmirror_evict_window(struct dmirror_device *mdev,
				unsigned long first_pfn, unsigned long npages,
				unsigned long *src, unsigned long *dst)
{
	unsigned long i, j, collected = 0, migrated = 0;
	int ret = 0;

	memset(src, 0, npages * sizeof(*src));
	memset(dst, 0, npages * sizeof(*dst));
	migrate_device_range(src, first_pfn, npages);

	for (i = 0; i < npages; i++) {
		struct page *dpage = migrate_pfn_to_page(src[i]);
		unsigned long nr = dmirror_mpfn_nr(src[i]);
		unsigned int order = nr > 1 ? DMIRROR_HUGE_ORDER : 0;
		struct page *shadow, *page;
		struct folio *folio;

		if (!dpage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		collected += nr;
		shadow = dmirror_shadow_page(dpage);
		/* A device page in use always has its shadow. */
		if (WARN_ON_ONCE(!shadow))
			continue;
		folio = folio_alloc(GFP_HIGHUSER_MOVABLE |
				    (order ? __GFP_NOWARN : 0), order);
		if (!folio) {
			ret = -ENOMEM;
			continue;
		}
		folio_lock(folio);
		page = folio_page(folio, 0);
		for (j = 0; j < nr; j++)
			copy_highpage(folio_page(folio, j),
				      pfn_to_page(page_to_pfn(shadow) + j));
		dst[i] = migrate_pfn(page_to_pfn(page)) |
			 (src[i] & DMIRROR_PFN_COMPOUND);
		dmirror_fold_flush();
		trace_dmirror_alloc_and_copy(mdev->id, DMIRROR_DIR_TO_RAM, 0, 0,
					     page_to_pfn(dpage),
					     page_to_pfn(page),
					     page_to_pfn(shadow), order, 0);
	}

	migrate_device_pages(src, dst, npages);
	for (i = 0; i < npages; i++) {
		if (!(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		migrated += dmirror_mpfn_nr(src[i]);
		if (src[i] & DMIRROR_PFN_COMPOUND)
			dmirror_count(mdev, DMIRROR_HUGE_TO_RAM, 1);
	}
	migrate_device_finalize(src, dst, npages);

	dmirror_count(mdev, DMIRROR_PAGES_TO_RAM, migrated);
	dmirror_count(mdev, DMIRROR_PAGES_EVICTED, migrated);
	if (collected) {
		dmirror_fold_flush();
		trace_dmirror_evict(mdev->id, first_pfn, npages, collected,
				    migrated);
	}
	return ret;
}

/*
 * Moves every device page of @mdev in use back to system memory, then
 * removes the chunks left idle.  Best effort: a page under migration at
 * the time stays where it is.
 */
int dmirror_devmem_evict(struct dmirror_device *mdev)
{
	unsigned long window = dmirror_migrate_window(), *src, *dst;
	unsigned int i;
	int ret = 0;

	src = kvcalloc(window, sizeof(*src), GFP_KERNEL);
	dst = kvcalloc(window, sizeof(*dst), GFP_KERNEL);
	if (!src || !dst) {
		ret = -ENOMEM;
		goto out;
	}

	mutex_lock(&mdev->grow_lock);
	for (i = 0; i < mdev->nchunks && ret != -EINTR; i++) {
		struct dmirror_chunk *chunk = mdev->chunks[i];
		unsigned long off, n;

		for (off = 0; off < chunk->npages; off += n) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			n = min(window, chunk->npages - off);
			if (dmirror_evict_window(mdev, chunk->first_pfn + off,
						 n, src, dst))
				ret = -ENOMEM;
			cond_resched();
		}
	}
	mutex_unlock(&mdev->grow_lock);

	dmirror_devmem_shrink(mdev);
out:
	kvfree(src);
	kvfree(dst);
	return ret;
}

const struct dev_pagemap_ops dmirror_devmem_ops = {
	.DMIRROR_FREE_OP	= dmirror_devmem_free,
	.migrate_to_ram		= dmirror_devmem_fault,
#if DMIRROR_HAVE_HUGE
	.folio_split		= dmirror_devmem_folio_split,
#endif
};
