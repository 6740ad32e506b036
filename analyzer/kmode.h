/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-probe source's events, turned into the engine's.  The
 * probes see the kernel's side of a migration: migrate_vma_setup() and its
 * return, migrate_vma_pages(), migrate_vma_finalize() with the src[]
 * array, the device page's init and free, and do_swap_page() around a CPU
 * fault.  kmode keeps, per thread, the call and the fault in progress, and
 * when each ends hands the engine what dmirror's own tracepoints would
 * have said of it (DM_EV_SETUP, DM_EV_FINALIZE, DM_EV_FAULT, DM_EV_FREE)
 * plus what only the kernel side knows (the owners compared, the user pc,
 * the driver code that ran, whether the fault reached the driver).
 *
 * Internal to the engine: dm_analysis_feed() calls it for raw events.
 */
#ifndef DM_KMODE_H
#define DM_KMODE_H

#include "analysis.h"

struct dm_kmode;

struct dm_kmode *dm_kmode_new(struct dm_analysis *a, const struct dm_kconf *kc);
void dm_kmode_feed(struct dm_kmode *k, const struct dm_event *ev);
/* Another event of thread tid (a process event): a fault whose return
 * came ends now; exit: the thread is gone, and what kmode kept of it. */
void dm_kmode_touch(struct dm_kmode *k, int32_t tid, bool exit);
/* Ends the calls and faults still open (the trace ended in them). */
void dm_kmode_finish(struct dm_kmode *k);
void dm_kmode_free(struct dm_kmode *k);

/* The engine's side, for kmode only. */
void dm_analysis_feed_norm(struct dm_analysis *a, const struct dm_event *ev);
struct dm_result *dm_analysis_counters(struct dm_analysis *a);

#endif
