// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

static inline uint64_t mix(uint64_t k1, uint64_t k2)
{
	uint64_t x = k1 * 0x9e3779b97f4a7c15ULL ^ (k2 + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return x;
}

static int alloc_slots(struct hmap *h, uint32_t cap)
{
	h->slots = malloc((size_t)cap * sizeof(*h->slots));
	if (!h->slots)
		return -1;
	for (uint32_t i = 0; i < cap; i++)
		h->slots[i].val = HMAP_NONE;
	h->mask = cap - 1;
	h->used = 0;
	h->mval = HMAP_NONE;
	return 0;
}

int hmap_init(struct hmap *h, uint32_t capacity)
{
	uint32_t cap = 16;

	while (cap < capacity && cap < (1u << 30))
		cap <<= 1;
	return alloc_slots(h, cap);
}

void hmap_free(struct hmap *h)
{
	free(h->slots);
	h->slots = NULL;
	h->mask = 0;
	h->used = 0;
	h->mval = HMAP_NONE;
}

static void forget_recent(struct hmap *h, uint64_t k1, uint64_t k2)
{
	if (h->m1 == k1 && h->m2 == k2)
		h->mval = HMAP_NONE;
}

uint32_t hmap_get(const struct hmap *h, uint64_t k1, uint64_t k2)
{
	uint32_t i = (uint32_t)mix(k1, k2) & h->mask;

	for (;;) {
		const struct hmap_slot *s = &h->slots[i];

		if (s->val == HMAP_NONE)
			return HMAP_NONE;
		if (s->k1 == k1 && s->k2 == k2)
			return s->val;
		i = (i + 1) & h->mask;
	}
}

static void put_nogrow(struct hmap *h, uint64_t k1, uint64_t k2, uint32_t val)
{
	uint32_t i = (uint32_t)mix(k1, k2) & h->mask;

	for (;;) {
		struct hmap_slot *s = &h->slots[i];

		if (s->val == HMAP_NONE) {
			s->k1 = k1;
			s->k2 = k2;
			s->val = val;
			h->used++;
			return;
		}
		if (s->k1 == k1 && s->k2 == k2) {
			s->val = val;
			return;
		}
		i = (i + 1) & h->mask;
	}
}

int hmap_put(struct hmap *h, uint64_t k1, uint64_t k2, uint32_t val)
{
	forget_recent(h, k1, k2);
	/* keep the load factor under 1/2 */
	if ((h->used + 1) * 2 > h->mask + 1) {
		struct hmap old = *h;

		if (h->mask + 1 >= (1u << 31) || alloc_slots(h, (old.mask + 1) * 2)) {
			*h = old;
			return -1;
		}
		for (uint32_t i = 0; i <= old.mask; i++)
			if (old.slots[i].val != HMAP_NONE)
				put_nogrow(h, old.slots[i].k1, old.slots[i].k2, old.slots[i].val);
		free(old.slots);
	}
	put_nogrow(h, k1, k2, val);
	return 0;
}

uint32_t hmap_del(struct hmap *h, uint64_t k1, uint64_t k2)
{
	uint32_t i = (uint32_t)mix(k1, k2) & h->mask;
	uint32_t val;

	forget_recent(h, k1, k2);
	for (;;) {
		struct hmap_slot *s = &h->slots[i];

		if (s->val == HMAP_NONE)
			return HMAP_NONE;
		if (s->k1 == k1 && s->k2 == k2)
			break;
		i = (i + 1) & h->mask;
	}
	val = h->slots[i].val;
	h->used--;
	/* backward-shift: pull later members of the cluster into the hole */
	for (uint32_t j = (i + 1) & h->mask;; j = (j + 1) & h->mask) {
		struct hmap_slot *s = &h->slots[j];
		uint32_t home;

		if (s->val == HMAP_NONE)
			break;
		home = (uint32_t)mix(s->k1, s->k2) & h->mask;
		/* can s move to i? only if its home is not in (i, j] */
		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->slots[i] = *s;
			i = j;
		}
	}
	h->slots[i].val = HMAP_NONE;
	return val;
}

void pool_init(struct pool *p, size_t item_size)
{
	memset(p, 0, sizeof(*p));
	/* the free list threads a u32 through the first bytes of an item */
	p->isz = item_size < sizeof(uint32_t) ? sizeof(uint32_t) : item_size;
	p->free_head = HMAP_NONE;
}

void pool_free(struct pool *p)
{
	free(p->items);
	p->items = NULL;
	p->n = p->cap = p->live = 0;
	p->free_head = HMAP_NONE;
}

uint32_t pool_alloc(struct pool *p)
{
	uint32_t idx = pool_alloc_raw(p);

	if (idx != HMAP_NONE)
		memset(pool_at(p, idx), 0, p->isz);
	return idx;
}

uint32_t pool_alloc_raw(struct pool *p)
{
	uint32_t idx;

	if (p->free_head != HMAP_NONE) {
		idx = p->free_head;
		memcpy(&p->free_head, pool_at(p, idx), sizeof(uint32_t));
	} else {
		if (p->n == p->cap) {
			uint32_t ncap = p->cap ? p->cap * 2 : 64;
			unsigned char *ni;

			if (ncap <= p->cap || ncap >= HMAP_NONE)
				return HMAP_NONE;
			ni = realloc(p->items, (size_t)ncap * p->isz);
			if (!ni)
				return HMAP_NONE;
			p->items = ni;
			p->cap = ncap;
		}
		idx = p->n++;
	}
	p->live++;
	return idx;
}

void pool_put(struct pool *p, uint32_t idx)
{
	memcpy(pool_at(p, idx), &p->free_head, sizeof(uint32_t));
	p->free_head = idx;
	p->live--;
}
