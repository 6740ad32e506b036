/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a v6 flyrecord trace.dat straight from its ring-buffer pages,
 * without libtracecmd: the file is mapped, each CPU's pages are walked in
 * place and the CPUs are merged by timestamp, with no allocation per
 * event.  libtracecmd allocates, reads and frees every record, which made
 * it most of analyzer report's time per event (issue 12); it stays the
 * reader of every other file (v7, compressed, another byte order, options
 * that move timestamps), and the tests hold the two readers to the same
 * report.
 *
 * The event formats are parsed into a libtraceevent handle of our own, so
 * the decoders (events.c) see the same tep_event layouts either way.
 */
#ifndef DM_RINGREAD_H
#define DM_RINGREAD_H

#include <stdbool.h>
#include <stddef.h>

#include <event-parse.h>

#include "datfile.h"

struct dm_ring;

/* Whether a file dat_scan accepted can be read here. */
bool dm_ring_can_read(const struct dat_info *info);

/*
 * A handle on the file's formats and pages; NULL with one line in err.
 * The handle's tep stays valid until dm_ring_close.
 */
struct dm_ring *dm_ring_open(const char *path, const struct dat_info *info, char *err,
			     size_t errlen);
struct tep_handle *dm_ring_tep(struct dm_ring *r);

/*
 * The next record of all CPUs in timestamp order (ties: the lower CPU
 * first, as libtracecmd): data, size, ts, cpu, missed_events (on a
 * page's first record, the count the page stored or -1).  The record is
 * good until the next call; its data points into the mapping and lives
 * until dm_ring_close.  NULL at the end.
 */
const struct tep_record *dm_ring_next(struct dm_ring *r);
/* Records that ran past their page (a corrupt page: its rest is skipped). */
unsigned long dm_ring_bad(const struct dm_ring *r);

void dm_ring_close(struct dm_ring *r);

#endif
