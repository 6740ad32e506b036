// SPDX-License-Identifier: GPL-2.0
/*
 * Device memory: chunks of MEMORY_DEVICE_PRIVATE pages, grown on demand up
 * to max_chunks, and a free list of device pages linked through
 * page->zone_device_data.
 *
 * A device page in use stores its data in a shadow system page (again in
 * zone_device_data): that is all the "device" there is.  When the last
 * reference to a device page goes, the free callback releases the shadow
 * page and puts the device page back on the free list.
 */
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dmirror_compat.h"
#include "dmirror.h"
#include "dmirror_trace.h"

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

static struct page *dmirror_free_list_pop(struct dmirror_device *mdev)
{
	struct page *page;

	spin_lock(&mdev->lock);
	page = mdev->free_pages;
	if (page) {
		mdev->free_pages = page->zone_device_data;
		mdev->nr_free--;
		dmirror_page_chunk(page)->nr_free--;
	}
	spin_unlock(&mdev->lock);
	return page;
}

/* Returns the length of the free list with @page on it. */
static unsigned long dmirror_free_list_push(struct dmirror_device *mdev,
					    struct page *page)
{
	unsigned long nr_free;

	spin_lock(&mdev->lock);
	page->zone_device_data = mdev->free_pages;
	mdev->free_pages = page;
	nr_free = ++mdev->nr_free;
	dmirror_page_chunk(page)->nr_free++;
	spin_unlock(&mdev->lock);
	return nr_free;
}

static void dmirror_chunk_free(struct dmirror_chunk *chunk)
{
	if (chunk->res)
		release_mem_region(chunk->res->start,
				   resource_size(chunk->res));
	kvfree(chunk->no_progress);
	kfree(chunk);
}

/* Adds one chunk of device memory and puts its pages on the free list. */
static int dmirror_chunk_add(struct dmirror_device *mdev)
{
	unsigned long size = (unsigned long)dmirror_chunk_pages << PAGE_SHIFT;
	struct dmirror_chunk *chunk;
	struct resource *res;
	unsigned long i;
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
	if (!chunk->no_progress) {
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
	mdev->chunks[mdev->nchunks++] = chunk;

	/* Lowest pfn on top: the free list then hands out ascending pfns. */
	spin_lock(&mdev->lock);
	for (i = chunk->npages; i-- > 0;) {
		struct page *page = pfn_to_page(chunk->first_pfn + i);

		page->zone_device_data = mdev->free_pages;
		mdev->free_pages = page;
	}
	chunk->nr_free = chunk->npages;
	mdev->nr_free += chunk->npages;
	mdev->nr_total += chunk->npages;
	spin_unlock(&mdev->lock);

	trace_dmirror_chunk_add(mdev->id, chunk->first_pfn, chunk->npages,
				mdev->nr_total);
	return 0;

err:
	dmirror_chunk_free(chunk);
	return ret;
}

/*
 * Takes every page of @chunk off the free list, if they are all there.
 * After that nothing can hand out or free a page of the chunk.
 */
static bool dmirror_chunk_detach(struct dmirror_device *mdev,
				 struct dmirror_chunk *chunk)
{
	struct page *page, *next, *prev = NULL;
	bool idle;

	spin_lock(&mdev->lock);
	idle = chunk->nr_free == chunk->npages;
	if (idle) {
		for (page = mdev->free_pages; page; page = next) {
			next = page->zone_device_data;
			if (dmirror_page_chunk(page) != chunk)
				prev = page;
			else if (prev)
				prev->zone_device_data = next;
			else
				mdev->free_pages = next;
		}
		chunk->nr_free = 0;
		mdev->nr_free -= chunk->npages;
		mdev->nr_total -= chunk->npages;
	}
	spin_unlock(&mdev->lock);
	return idle;
}

/* Removes every chunk none of whose pages is in use. */
void dmirror_devmem_shrink(struct dmirror_device *mdev)
{
	unsigned int i;

	mutex_lock(&mdev->grow_lock);
	for (i = mdev->nchunks; i-- > 0;) {
		struct dmirror_chunk *chunk = mdev->chunks[i];

		if (!dmirror_chunk_detach(mdev, chunk))
			continue;
		memunmap_pages(&chunk->pagemap);
		trace_dmirror_chunk_remove(mdev->id, chunk->first_pfn,
					   chunk->npages, mdev->nr_total);
		dmirror_chunk_free(chunk);
		mdev->nchunks--;
		memmove(&mdev->chunks[i], &mdev->chunks[i + 1],
			(mdev->nchunks - i) * sizeof(mdev->chunks[0]));
	}
	mutex_unlock(&mdev->grow_lock);
}

static int dmirror_devmem_grow(struct dmirror_device *mdev)
{
	int ret = 0;

	mutex_lock(&mdev->grow_lock);
	/* Another thread may have grown the device while this one waited. */
	if (!READ_ONCE(mdev->nr_free))
		ret = dmirror_chunk_add(mdev);
	mutex_unlock(&mdev->grow_lock);
	return ret;
}

/*
 * Hands out one device page with a fresh shadow page, referenced and
 * locked as migrate_vma_pages() wants its destination pages, or
 * ERR_PTR(-ENOMEM) when the device is full.
 */
struct page *dmirror_devmem_alloc(struct dmirror_device *mdev)
{
	struct page *dpage, *shadow;
	int ret;

	for (;;) {
		dpage = dmirror_free_list_pop(mdev);
		if (dpage)
			break;
		ret = dmirror_devmem_grow(mdev);
		if (ret) {
			dmirror_count(mdev, DMIRROR_ALLOC_FAILURES, 1);
			return ERR_PTR(ret);
		}
	}

	shadow = alloc_page(GFP_HIGHUSER);
	if (!shadow) {
		dmirror_free_list_push(mdev, dpage);
		dmirror_count(mdev, DMIRROR_ALLOC_FAILURES, 1);
		return ERR_PTR(-ENOMEM);
	}

	atomic_set(dmirror_devmem_no_progress(dpage), 0);
	dmirror_zone_device_page_init(dpage);
	dpage->zone_device_data = shadow;
	dmirror_count(mdev, DMIRROR_SHADOW_ALLOCATED, 1);

	/*
	 * Every device page in use pins the module until its free callback
	 * has run: the callback and the CPU fault handler are module code,
	 * and rmmod must not take them away while a process maps device
	 * memory.  The caller holds an open file, so the module is live.
	 */
	__module_get(THIS_MODULE);
	return dpage;
}

static void dmirror_devmem_free(struct DMIRROR_FREE_ARG *arg)
{
	struct page *page = dmirror_freed_page(arg);
	struct dmirror_device *mdev = dmirror_page_chunk(page)->mdev;
	struct page *shadow = page->zone_device_data;
	unsigned long shadow_pfn = shadow ? page_to_pfn(shadow) : 0;
	unsigned long nr_free;
	bool released = false;

	if (shadow && READ_ONCE(dmirror_leak_shadow)) {
		/* The simulated bug: the shadow page is forgotten, for real. */
		dmirror_count(mdev, DMIRROR_SHADOW_LEAKED, 1);
	} else if (shadow) {
		__free_page(shadow);
		dmirror_count(mdev, DMIRROR_SHADOW_FREED, 1);
		released = true;
	}

	nr_free = dmirror_free_list_push(mdev, page);
	trace_dmirror_devmem_free(mdev->id, page_to_pfn(page), shadow_pfn,
				  released, nr_free);

	/*
	 * The reference taken in dmirror_devmem_alloc().  Module exit cannot
	 * free this code under us: it unmaps every chunk first, and that
	 * waits for the pagemap reference the core drops after we return.
	 */
	module_put(THIS_MODULE);
}

/*
 * One window of device pfns back to system memory, whatever maps them.
 * Pages that are free, or locked by a migration in flight, are skipped.
 */
static int dmirror_evict_window(struct dmirror_device *mdev,
				unsigned long first_pfn, unsigned long npages,
				unsigned long *src, unsigned long *dst)
{
	unsigned long i, collected = 0, migrated = 0;
	int ret = 0;

	memset(src, 0, npages * sizeof(*src));
	memset(dst, 0, npages * sizeof(*dst));
	migrate_device_range(src, first_pfn, npages);

	for (i = 0; i < npages; i++) {
		struct page *dpage = migrate_pfn_to_page(src[i]);
		struct page *shadow, *page;

		if (!dpage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		collected++;
		shadow = dpage->zone_device_data;
		page = alloc_page(GFP_HIGHUSER_MOVABLE);
		if (!page) {
			ret = -ENOMEM;
			continue;
		}
		lock_page(page);
		copy_highpage(page, shadow);
		dst[i] = migrate_pfn(page_to_pfn(page));
		trace_dmirror_alloc_and_copy(mdev->id, DMIRROR_DIR_TO_RAM, 0,
					     page_to_pfn(dpage),
					     page_to_pfn(page),
					     page_to_pfn(shadow), 0);
	}

	migrate_device_pages(src, dst, npages);
	for (i = 0; i < npages; i++)
		if (src[i] & MIGRATE_PFN_MIGRATE)
			migrated++;
	migrate_device_finalize(src, dst, npages);

	dmirror_count(mdev, DMIRROR_PAGES_TO_RAM, migrated);
	dmirror_count(mdev, DMIRROR_PAGES_EVICTED, migrated);
	if (collected)
		trace_dmirror_evict(mdev->id, first_pfn, npages, collected,
				    migrated);
	return ret;
}

/*
 * Moves every device page of @mdev in use back to system memory, then
 * removes the chunks left idle.  Best effort: a page under migration at
 * the time stays where it is.
 */
int dmirror_devmem_evict(struct dmirror_device *mdev)
{
	unsigned long *src, *dst;
	unsigned int i;
	int ret = 0;

	src = kvcalloc(DMIRROR_MIGRATE_WINDOW, sizeof(*src), GFP_KERNEL);
	dst = kvcalloc(DMIRROR_MIGRATE_WINDOW, sizeof(*dst), GFP_KERNEL);
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
			n = min(DMIRROR_MIGRATE_WINDOW, chunk->npages - off);
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
};
