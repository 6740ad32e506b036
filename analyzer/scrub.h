/* SPDX-License-Identifier: GPL-2.0 */
/*
 * No raw kernel pointer leaves the recorder.  The kernel-probe events
 * read pointers (a pgmap_owner, a struct page, a return address); each
 * ring-buffer page is rewritten in place, before it is written to the
 * file or fed to --live, so that:
 *   - an owner, a device page or a pgmap becomes a token: 0 for NULL,
 *     then 1, 2, ... in order of first sight, one numbering per kind,
 *     stable within one recording (owner#1, page#3);
 *   - a kernel text address becomes a token for its "symbol+0xoff
 *     [module]", resolved from /proc/kallsyms now, while the module is
 *     still loaded; the texts go into the file's metadata;
 *   - the src[] entries of a migrate_vma_finalize event past its npages
 *     (the probe reads 64 whatever the array holds) are zeroed.
 */
#ifndef DM_SCRUB_H
#define DM_SCRUB_H

#include <stdint.h>
#include <stdio.h>

/* a token whose value could not be read (a tail page's pgmap) */
#define DM_TOKEN_UNKNOWN UINT64_MAX

struct tep_handle;
struct dm_scrub;

/* For the events of group in tep (the local formats); kallsyms: NULL
 * for /proc/kallsyms. */
struct dm_scrub *dm_scrub_new(struct tep_handle *tep, const char *group, const char *kallsyms,
			      char *err, size_t errlen);
void dm_scrub_page(struct dm_scrub *s, void *page);
/* The text of a symbol token; NULL when unknown. */
const char *dm_scrub_sym(const struct dm_scrub *s, uint64_t token);
/* "sym.N: text" lines and the token counts, for the metadata. */
void dm_scrub_meta(const struct dm_scrub *s, FILE *m);
void dm_scrub_free(struct dm_scrub *s);

#endif
