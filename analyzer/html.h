/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyzer report --html OUT.html: one self-contained page (inline SVG
 * and CSS, no script, nothing fetched) with a picture of the migration:
 *
 *   a timeline per process: migrations to the device and back as spans,
 *   CPU faults as marks coloured by whether they made progress, each
 *   fault loop highlighted with its address, count, duration and cause,
 *   each leaked page marked where it was allocated;
 *   device pages in use and shadow pages live over time;
 *   a histogram of fault service times;
 *   and the text report itself, verdict included.
 *
 * Marks are aggregated into DM_HTML_BINS time bins per process row (the
 * bin width doubles as the trace grows), so the page is bounded whatever
 * the trace's length: at most DM_HTML_ROWS rows of DM_HTML_BINS bins with
 * two marks each, and DM_HTML_MAX_MARKS loops and leaks each.
 */
#ifndef DM_HTML_H
#define DM_HTML_H

#include <stddef.h>

#include "analysis.h"

#define DM_HTML_BINS		800
#define DM_HTML_ROWS		32	/* processes; the rest share one row */
#define DM_HTML_MAX_MARKS	500

struct dm_html;

struct dm_html *dm_html_open(const char *path, char *err, size_t errlen);
void dm_html_event(struct dm_html *h, struct dm_analysis *a, const struct dm_event *ev);
/* title: the trace's name; text: the text report, embedded as it is. */
int dm_html_close(struct dm_html *h, struct dm_analysis *a, const char *title, const char *text,
		  char *err, size_t errlen);
void dm_html_abort(struct dm_html *h);

#endif
