/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tep_record -> struct dm_event, every field found by name in the
 * recorded format (docs/tracepoints.md), never by a fixed offset.
 */
#ifndef DM_EVENTS_H
#define DM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <event-parse.h>

#include "analysis.h"

#define DM_SYSTEM "dmirror"

#define DM_NO_EVENTS_MSG "no dmirror or kernel-probe events in the trace (record with 'analyzer record', " \
	"or 'trace-cmd record -e dmirror' with the dmirror module loaded)"

struct dm_decoder;

/* Which events to decode: dmirror's tracepoints or the kernel probes. */
enum dm_source {
	DM_SOURCE_AUTO,		/* dmirror's if the trace has them, else the kernel's */
	DM_SOURCE_DMIRROR,
	DM_SOURCE_KERNEL,
};

/*
 * Looks the events of source and the sched events up in tep.  NULL with
 * a message in err when tep has none of source's events, or when an
 * event lacks a field the analysis cannot do without.
 */
struct dm_decoder *dm_decoder_new(struct tep_handle *tep, enum dm_source source, char *err,
				  size_t errlen);
/* The source decoded (never AUTO). */
enum dm_source dm_decoder_source(const struct dm_decoder *d);
void dm_decoder_free(struct dm_decoder *d);

/* 1: ev filled; 0: not an event the analysis uses; -1: a record too
 * short for its format (corrupt). */
int dm_decode(struct dm_decoder *d, const struct tep_record *rec, struct dm_event *ev);

/* Whether records of kind are decoded by one copy (plan_mirror). */
/* Whether the file has the format of an event of that kind. */
bool dm_decoder_has(const struct dm_decoder *d, enum dm_ev_kind kind);
bool dm_decoder_whole(const struct dm_decoder *d, enum dm_ev_kind kind);
/* Every event decoded field by field from now on (the tests compare). */
void dm_decoder_field_by_field(struct dm_decoder *d);

/* How many of the dmirror events the file has formats for. */
int dm_decoder_dmirror_formats(const struct dm_decoder *d);
/* How many kernel-probe events (analyzer record --source kernel). */
int dm_decoder_kernel_formats(const struct dm_decoder *d);
/* Whether the sched process events are known to tep. */
int dm_decoder_sched_formats(const struct dm_decoder *d);

#endif
