/* SPDX-License-Identifier: GPL-2.0 */
/* Wording shared by "report" and "record --live". */
#ifndef DM_OUTPUT_H
#define DM_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"

/* "migrate_vma_setup collected 0 of 1 pages: ..." */
void dm_describe_cause(const struct dm_loop *l, char *buf, size_t n);
/* "the driver's fault-loop guard stopped it (...)" */
void dm_describe_end(const struct dm_loop *l, char *buf, size_t n);

/*
 * The leak cross-check against debugfs dmirror/stats.  The counter used
 * is the line whose key is "total.shadow_live"; without one, the sum of
 * the lines whose key ends in "shadow_live".
 */
struct dm_stats_check {
	bool have;		/* both snapshots had the counter */
	char key[64];		/* the key used, or "sum of N *shadow_live keys" */
	int64_t before, after, delta;
	uint64_t expected;	/* leaked + still-live shadow pages (pages, not leak records) */
	bool agree;
};

/* 0 and *v set when text has the counter. */
int dm_stats_shadow_live(const char *text, int64_t *v, char *key, size_t keylen);
void dm_stats_check(const char *before, const char *after, const struct dm_result *r,
		    struct dm_stats_check *sc);

/* One-line live notices (record --live). */
/* callback, migrator: the texts of l->callback and l->migrator, or NULL */
void dm_print_live_loop(FILE *f, const struct dm_loop *l, uint64_t t0, const char *callback,
			const char *migrator);
void dm_print_live_leak(FILE *f, const struct dm_leak *l, uint64_t t0);

/* An owner token as "NULL", "owner#2" or "unknown". */
void dm_fmt_owner(char *buf, size_t n, uint64_t token);

/* Seconds relative to t0, as "+1.234567". */
void dm_fmt_rel(char *buf, size_t n, uint64_t ts, uint64_t t0);

#endif
