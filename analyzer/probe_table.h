/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel-probe source needs to know of each kernel, in two
 * tables: the struct offsets its probes read, and the per-kernel
 * functions and swap-entry types.  tests/lint/probe-table checks both
 * against each test kernel's own headers, by building a module of
 * static assertions that dm_probe_table_checks() writes.
 */
#ifndef DM_PROBE_TABLE_H
#define DM_PROBE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * One offset a probe reads, by name ("mv.start": migrate_vma.start).
 * table < 0: the offset depends on the configuration and is read from
 * BTF or not at all.
 */
struct dm_layout_field {
	const char *name;
	const char *type, *member;	/* in BTF */
	const char *alt_type;		/* tried when type has no such member */
	long table;
};

extern const struct dm_layout_field dm_layout_fields[];
extern const size_t dm_nlayout_fields;
#define DM_NLAYOUT 16

/*
 * A kernel series the probes were checked on.
 *
 * swp_private, swp_exclusive: the swap types do_swap_page() sees in
 * vmf->orig_pte for device-private and device-exclusive entries (the top
 * of the 32 types: SWP_DEVICE_WRITE = 32 - SWP_DEVICE_NUM -
 * SWP_PTE_MARKER_NUM, and on 6.1 SWP_SWAPIN_ERROR_NUM too).  6.1 counts
 * the PTE marker only with CONFIG_PTE_MARKER (on wherever userfaultfd
 * is, as on Debian): marker_opt names the option whose absence makes
 * every type one higher.
 */
struct dm_kernel_row {
	const char *series;
	unsigned int major, minor;
	const char *page_free;		/* the device page's free */
	bool free_takes_folio;		/* ... its argument */
	bool init_pgmap;		/* zone_device_page_init(page, pgmap, order) */
	bool pgmap_in_folio;		/* struct folio has pgmap; else struct page */
	const char *lock_wait;		/* where a contended device-private fault waits */
	unsigned int swp_private[2], swp_exclusive[2];
	const char *marker_opt;
};

extern const struct dm_kernel_row dm_kernel_rows[];
extern const size_t dm_nkernel_rows;

/* The row for a kernel: its own series (*exact), else the nearest older
 * one, else the oldest. */
const struct dm_kernel_row *dm_kernel_row_for(unsigned int major, unsigned int minor, bool *exact);
const struct dm_kernel_row *dm_kernel_row_named(const char *series);

/* A kernel module's C source asserting row and the offset table against
 * the headers of the kernel it is built for. */
void dm_probe_table_checks(FILE *f, const struct dm_kernel_row *row);

#endif
