/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Open-addressing hash map from a 128-bit key (two u64) to a u32 value
 * (an index into a pool owned by the caller).  Linear probing with
 * backward-shift deletion: no tombstones, so lookups stay short however
 * many inserts and deletes a long trace does.  The table only grows, by
 * doubling; nothing is allocated per lookup, insert or delete otherwise.
 */
#ifndef DM_HMAP_H
#define DM_HMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define HMAP_NONE UINT32_MAX

struct hmap_slot {
	uint64_t k1;
	uint64_t k2;
	uint32_t val;		/* HMAP_NONE: slot empty */
};

struct hmap {
	struct hmap_slot *slots;
	uint32_t mask;		/* capacity - 1; capacity is a power of two */
	uint32_t used;
	/* hmap_get_recent's last hit (mval HMAP_NONE: none); a put or a
	 * delete of its key forgets it */
	uint64_t m1, m2;
	uint32_t mval;
};

int hmap_init(struct hmap *h, uint32_t capacity);
void hmap_free(struct hmap *h);
/* HMAP_NONE when absent */
uint32_t hmap_get(const struct hmap *h, uint64_t k1, uint64_t k2);
/*
 * hmap_get for keys looked up in runs (the task of consecutive events):
 * the last key found is answered without hashing.
 */
static inline uint32_t hmap_get_recent(struct hmap *h, uint64_t k1, uint64_t k2)
{
	uint32_t v;

	if (h->mval != HMAP_NONE && h->m1 == k1 && h->m2 == k2)
		return h->mval;
	v = hmap_get(h, k1, k2);
	if (v != HMAP_NONE) {
		h->m1 = k1;
		h->m2 = k2;
		h->mval = v;
	}
	return v;
}
/* Insert or replace; -1 on allocation failure. */
int hmap_put(struct hmap *h, uint64_t k1, uint64_t k2, uint32_t val);
/* Returns the removed value, or HMAP_NONE. */
uint32_t hmap_del(struct hmap *h, uint64_t k1, uint64_t k2);
static inline uint32_t hmap_count(const struct hmap *h) { return h->used; }

/*
 * A pool of fixed-size items addressed by index, with a free list, so
 * that the per-event paths reuse memory instead of calling malloc.
 * Indexes stay valid across growth; pointers do not (re-fetch after any
 * pool_alloc).
 */
struct pool {
	unsigned char *items;
	size_t isz;
	uint32_t n;		/* items handed out so far (high-water mark) */
	uint32_t cap;
	uint32_t free_head;	/* HMAP_NONE when empty */
	uint32_t live;
};

void pool_init(struct pool *p, size_t item_size);
void pool_free(struct pool *p);
/* Zeroed item, HMAP_NONE on allocation failure. */
uint32_t pool_alloc(struct pool *p);
/* pool_alloc without the zeroing, for callers that set the whole item. */
uint32_t pool_alloc_raw(struct pool *p);
void pool_put(struct pool *p, uint32_t idx);
static inline void *pool_at(const struct pool *p, uint32_t idx)
{
	return p->items + (size_t)idx * p->isz;
}

#endif
