/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a trace.dat (ours or trace-cmd's, v6 or v7) with libtracecmd and
 * feeding the engine.  The file is checked first (datscan.c) so that a bad
 * file gets one clear message instead of whatever libtracecmd would print.
 */
#ifndef DM_READER_H
#define DM_READER_H

#include <stdint.h>

#include "analysis.h"
#include "datfile.h"
#include "events.h"

struct dm_read_stats {
	unsigned int cpus;
	uint64_t records;		/* every record in the file */
	uint64_t fed;			/* records the engine used */
	uint64_t bad_records;		/* shorter than their format */
	uint64_t missed_pages;		/* pages flagged "events were lost before me" */
	uint64_t missed_events;		/* the counts those pages stored */
	uint64_t missed_unknown;	/* flagged pages without a stored count */
	/* from the recording's per-CPU ring-buffer stats (CPUSTAT) */
	bool have_cpustats;
	uint64_t stats_overrun, stats_dropped;
	int dmirror_formats, sched_formats, kernel_formats;
	enum dm_source source;		/* the events decoded */
	const char *reader;		/* "pages" (ours, ringread.h) or "libtracecmd" */
	/* per CPU (ncpu_lost entries): events lost, the larger of what the
	 * CPU's stats and its flagged pages say */
	uint64_t *cpu_lost;
	unsigned int ncpu_lost;
};

struct dm_reader;

/* NULL with one line in err (no file name in it) on any problem. */
struct dm_reader *dm_reader_open(const char *path, enum dm_source source, char *err, size_t errlen);
/* Feeds every record to a, in time order.  0, or -1 with err. */
int dm_reader_run(struct dm_reader *r, struct dm_analysis *a, char *err, size_t errlen);
/* For dm_config.sym_of: the symbol texts the recorder stored. */
const char *dm_reader_sym(void *reader, uint64_t token);
/* For dm_config.kconf: what the recorder knew of the kernel. */
/* Whether the file can hold batched faults (dmirror_batch). */
bool dm_reader_batched(const struct dm_reader *r);
void dm_reader_kconf(const struct dm_reader *r, struct dm_kconf *kc);
/* For dm_config.comm_of: the file's saved command lines. */
const char *dm_reader_comm(void *reader, int pid);
const struct dm_read_stats *dm_reader_stats(const struct dm_reader *r);
const struct dat_info *dm_reader_info(const struct dm_reader *r);
void dm_reader_close(struct dm_reader *r);

/* "overrun: N" and "dropped events: N" summed over every CPU in text;
 * with per_cpu (n entries), also each CPU's sum, by its "CPU: N" line. */
void dm_parse_cpustats(const char *text, uint64_t *overrun, uint64_t *dropped,
		       uint64_t *per_cpu, unsigned int n);

#endif
