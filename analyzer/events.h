/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tep_record -> struct dm_event, every field found by name in the
 * recorded format (docs/tracepoints.md), never by a fixed offset.
 */
#ifndef DM_EVENTS_H
#define DM_EVENTS_H

#include <stddef.h>
#include <event-parse.h>

#include "analysis.h"

#define DM_SYSTEM "dmirror"

struct dm_decoder;

/*
 * Looks the dmirror and sched events up in tep.  NULL with a message in
 * err when tep has no dmirror event at all, or when an event lacks a
 * field the analysis cannot do without.
 */
struct dm_decoder *dm_decoder_new(struct tep_handle *tep, char *err, size_t errlen);
void dm_decoder_free(struct dm_decoder *d);

/* 1: ev filled; 0: not an event the analysis uses; -1: a record too
 * short for its format (corrupt). */
int dm_decode(struct dm_decoder *d, struct tep_record *rec, struct dm_event *ev);

/* How many of the dmirror events the file has formats for. */
int dm_decoder_dmirror_formats(const struct dm_decoder *d);
/* Whether the sched process events are known to tep. */
int dm_decoder_sched_formats(const struct dm_decoder *d);

#endif
