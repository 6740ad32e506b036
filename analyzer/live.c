// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event-parse.h>
#include <kbuffer.h>

#include "events.h"
#include "live.h"

struct item {
	struct dm_event ev;
	uint64_t seq;
	/* a batch's faults: the decoder's own are the last batch's only */
	struct dm_batch_entry fe[DM_BATCH_PAGES];
};

struct dm_live {
	struct tep_handle *tep;
	struct dm_decoder *dec;
	struct dm_analysis *a;
	struct kbuffer *kb;
	struct item *batch;
	size_t n, cap;
	uint64_t seq;
};

struct dm_live *dm_live_new(struct tep_handle *tep, enum dm_source source, struct dm_analysis *a,
			    char *err, size_t errlen)
{
	struct dm_live *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->tep = tep;
	l->a = a;
	l->dec = dm_decoder_new(tep, source, err, errlen);
	l->kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	if (!l->dec || !l->kb) {
		if (l->dec && !l->kb)
			snprintf(err, errlen, "out of memory");
		dm_live_free(l);
		return NULL;
	}
	return l;
}

static struct dm_event *slot(struct dm_live *l)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 1024;
		struct item *nb = realloc(l->batch, ncap * sizeof(*nb));

		if (!nb)
			return NULL;
		l->batch = nb;
		l->cap = ncap;
	}
	l->batch[l->n].seq = l->seq++;
	return &l->batch[l->n].ev;
}

void dm_live_page(struct dm_live *l, int cpu, void *page)
{
	unsigned long long ts;
	void *data;
	int missed;
	struct dm_event *ev;

	if (kbuffer_load_subbuffer(l->kb, page))
		return;
	missed = kbuffer_missed_events(l->kb);
	data = kbuffer_read_event(l->kb, &ts);
	if (missed && (ev = slot(l))) {
		memset(ev, 0, sizeof(*ev));
		ev->kind = DM_EV_LOST;
		ev->cpu = cpu;
		ev->ts = data ? ts : 0;
		ev->lost.count = missed > 0 ? missed : -1;
		l->n++;
	}
	while (data) {
		struct tep_record rec = {
			.ts = ts,
			.cpu = cpu,
			.data = data,
			.size = kbuffer_event_size(l->kb),
		};

		ev = slot(l);
		if (!ev)
			break;
		if (dm_decode(l->dec, &rec, ev) > 0) {
			if (ev->kind == DM_EV_BATCH)
				memcpy(l->batch[l->n].fe, ev->batch.e,
				       ev->batch.n * sizeof(*ev->batch.e));
			l->n++;
		}
		data = kbuffer_next_event(l->kb, &ts);
	}
}

static int cmp_item(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->ev.ts != b->ev.ts)
		return a->ev.ts < b->ev.ts ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void dm_live_flush(struct dm_live *l)
{
	if (!l->n)
		return;
	qsort(l->batch, l->n, sizeof(*l->batch), cmp_item);
	for (size_t i = 0; i < l->n; i++) {
		if (l->batch[i].ev.kind == DM_EV_BATCH)
			l->batch[i].ev.batch.e = l->batch[i].fe;
		dm_analysis_feed(l->a, &l->batch[i].ev);
	}
	l->n = 0;
}

void dm_live_free(struct dm_live *l)
{
	if (!l)
		return;
	dm_decoder_free(l->dec);
	if (l->kb)
		kbuffer_free(l->kb);
	free(l->batch);
	free(l);
}

long long dm_page_missed(void *page)
{
	static struct kbuffer *kb;

	if (!kb)
		kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	if (!kb || kbuffer_load_subbuffer(kb, page))
		return 0;
	return kbuffer_missed_events(kb);
}
