/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live reader of "analyzer record --live": ring-buffer pages, as
 * they are streamed to the file, are decoded with kbuffer and the local
 * event formats and fed to the engine.  Events of one drain of all CPUs
 * are sorted by time before they are fed; across drains the order is
 * the kernel's per-CPU order, which is why the final report is made
 * from the file, not from this.
 */
#ifndef DM_LIVE_H
#define DM_LIVE_H

#include "analysis.h"
#include "events.h"

struct tep_handle;
struct dm_live;

struct dm_live *dm_live_new(struct tep_handle *tep, enum dm_source source, struct dm_analysis *a,
			    char *err, size_t errlen);
/* Decode one page of cpu (missed events become DM_EV_LOST). */
void dm_live_page(struct dm_live *l, int cpu, void *page);
/* Feed what the pages since the last flush held, in time order. */
void dm_live_flush(struct dm_live *l);
void dm_live_free(struct dm_live *l);

/* Lost events a raw page says were dropped before it: 0 none, -1 an
 * unknown number, else the count. */
long long dm_page_missed(void *page);

#endif
