/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON emitter: the separators, the quoting and the layout are
 * its business, never its caller's.  It streams (report --json writes
 * every migration cycle of a long trace without holding them), which is
 * why it is not json-c's object tree.
 *
 * Layout: a container opened with wrap puts each member on a line of its
 * own, indented; any other container keeps its members on one line,
 * separated by ", ".  An empty container is "{}" or "[]".
 */
#ifndef DM_JSON_H
#define DM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DM_JSON_DEPTH 16

struct dm_json {
	FILE *f;
	int depth;
	bool first[DM_JSON_DEPTH];	/* nothing written yet at this depth */
	bool wrap[DM_JSON_DEPTH];
	char close[DM_JSON_DEPTH];
};

/*
 * depth and wrap: where the writer starts (0: the top; a writer of array
 * members that another pastes in starts at 1, inside a wrapped array).
 */
void dm_json_init(struct dm_json *j, FILE *f, int depth, bool wrap);

/* key is NULL for an array's member (and the top-level value). */
void dm_json_object(struct dm_json *j, const char *key, bool wrap);
void dm_json_array(struct dm_json *j, const char *key, bool wrap);
void dm_json_end(struct dm_json *j);

void dm_json_str(struct dm_json *j, const char *key, const char *s);	/* NULL: null */
void dm_json_u64(struct dm_json *j, const char *key, uint64_t v);
void dm_json_i64(struct dm_json *j, const char *key, int64_t v);
void dm_json_dbl(struct dm_json *j, const char *key, double v);	/* one decimal */
void dm_json_bool(struct dm_json *j, const char *key, bool v);
void dm_json_null(struct dm_json *j, const char *key);
/* v / 1000 as a number with three decimals (ns as microseconds). */
void dm_json_milli(struct dm_json *j, const char *key, uint64_t v);
/* A 64-bit address or pfn as "0x...": strings survive every parser. */
void dm_json_hex(struct dm_json *j, const char *key, uint64_t v);

/* Members another dm_json (started at this depth + 1) wrote into a file:
 * copied in as they are. */
void dm_json_paste(struct dm_json *j, FILE *members);

#endif
