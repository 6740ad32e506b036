/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file report writes besides its output (--perfetto, --html): given to
 * the sudo user as a recording is, and removed when the report fails,
 * unless it is not a regular file (/dev/null, a FIFO), which was there
 * before and is not ours to remove.
 */
#ifndef DM_OUTFILE_H
#define DM_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct dm_outfile {
	char *path;
	FILE *f;
	bool regular;
};

/* 0, or -1 with err set. */
int dm_outfile_open(struct dm_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes and closes; -1 with err set (and the file removed) when any
 * write failed, or when failed says the content is not whole. */
int dm_outfile_close(struct dm_outfile *o, bool failed, char *err, size_t errlen);
/* Closes and removes it. */
void dm_outfile_abort(struct dm_outfile *o);

#endif
