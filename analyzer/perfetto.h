/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyzer report --perfetto OUT.json: the engine's events as Chrome
 * trace-event JSON, which ui.perfetto.dev and chrome://tracing open.
 *
 *   per thread:  one complete slice ("X") per migrate_vma_setup() ..
 *                finalize, with its direction and page counts; each CPU
 *                fault on a device page as an instant event ("i") saying
 *                whether it made progress
 *   per process: each fault loop as an async slice ("b"/"e") over its
 *                faults, with its cause in args; each leaked page as an
 *                instant where it was allocated
 *   pid 0:       counters ("C") of device pages in use and shadow pages
 *                live, per device
 *   metadata:    process and thread names ("M")
 *
 * Streamed like the rest of report: memory grows with the threads that
 * have a migration open, not with the trace.
 */
#ifndef DM_PERFETTO_H
#define DM_PERFETTO_H

#include <stddef.h>

#include "analysis.h"

struct dm_timeline;

/* NULL with err set when path cannot be written. */
struct dm_timeline *dm_timeline_open(const char *path, char *err, size_t errlen);
/* Every event the engine processes (its config's on_event). */
void dm_timeline_event(struct dm_timeline *t, struct dm_analysis *a, const struct dm_event *ev);
/* After dm_analysis_finish(): the loops, leaks and names, then closes the
 * file.  -1 with err set when writing it failed. */
int dm_timeline_close(struct dm_timeline *t, struct dm_analysis *a, char *err, size_t errlen);
/* Closes and removes the file (the report failed). */
void dm_timeline_abort(struct dm_timeline *t);

#endif
