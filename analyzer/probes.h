/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-probe source of "analyzer record": dynamic events on the
 * kernel's own migration code (migrate_vma_*, the device page's init and
 * free, do_swap_page, hmm_range_fault), so that a driver without dmirror's
 * tracepoints can be diagnosed unchanged.
 *
 * The events live in a group of our own, DM_KP_GROUP_PREFIX<pid> (the
 * pid of the recorder, as in the instance's name), are enabled only in
 * our instance, and are removed by dm_probes_remove(); a recorder that
 * was killed leaves them, and the next one removes them
 * (dm_probes_remove_stale).
 *
 * Everything that differs between kernels is in probes.c's two tables:
 * the struct offsets the probes read (overridden by BTF where the kernel
 * has it) and the per-kernel functions and swap-entry types.
 */
#ifndef DM_PROBES_H
#define DM_PROBES_H

#include <stdbool.h>
#include <stddef.h>

#define DM_KP_GROUP_PREFIX "dmirror_analyzer_"

/* Our events, by their name in the group. */
enum dm_kp {
	DM_KP_SETUP,		/* migrate_vma_setup() entry */
	DM_KP_SETUP_FPAGE,	/* ... the fault page's pgmap (fault path only) */
	DM_KP_SETUP_RET,	/* ... return */
	DM_KP_PAGES,		/* migrate_vma_pages() entry */
	DM_KP_FINAL,		/* migrate_vma_finalize() entry, src[0..63] */
	DM_KP_FINAL_RET,	/* ... return */
	DM_KP_PAGE_INIT,	/* zone_device_page_init() */
	DM_KP_PAGE_FREE,	/* free_zone_device_page/folio() */
	DM_KP_SWAP,		/* do_swap_page() entry */
	DM_KP_SWAP_RET,		/* ... return */
	DM_KP_SWAP_MTR,		/* ... return: the page's migrate_to_ram (BTF) */
	DM_KP_LOCK_WAIT,	/* a contended device-private fault waits (7.x) */
	DM_KP_HMM_RET,		/* hmm_range_fault() return */
	DM_KP_MAX
};

/*
 * src[] entries the migrate_vma_finalize event carries.  A probe fetches
 * an array one entry at a time on every call, filtered or not: measured
 * with an instruction-counting guest clock (tests/guest/run --icount),
 * 64 entries cost 7.2 us of a 4 KiB CPU fault's 8.1 us, a third of what
 * all the probes together cost it, for a fault that migrates one entry.
 * Sixteen cover a fault (one page, or one huge folio's entry) and the
 * small ioctl windows exactly; a call over more pages has its moved pages
 * counted from the device pages initialised and freed during it
 * (kmode.c).  The kernel allows 64; more would take more events.
 */
#define DM_KP_FINAL_ENTRIES 16

/* The event name of a probe ("mv_setup", ...). */
const char *dm_kp_event_name(enum dm_kp k);

struct dm_probe_state {
	bool placed;
	char how;		/* 'f' fprobe, 'p' kprobe, 'r' kretprobe */
	bool args_dropped;	/* a return probe without entry arguments */
	char why[160];		/* why it was not placed */
};

struct dm_probes {
	char group[64];
	struct dm_probe_state st[DM_KP_MAX];
	int placed;
	/* what the probes were built from */
	char kernel[32];	/* the table row: "6.1", "6.12", "7.3" */
	bool verified;		/* the running kernel is that row's series */
	bool btf;		/* offsets from BTF */
	bool fprobe;		/* the kernel has fprobe events */
	bool fexit_graph;	/* ... whose exits return through function graph */
	unsigned int swp_private[2], swp_exclusive[2];	/* swap types; 0: none */
	unsigned int page_shift;
};

/*
 * Creates our events in DM_KP_GROUP_PREFIX<pid>.  Probe points the kernel
 * does not have are left out (st[].why says why); -1 with err only when
 * none of the essential ones (migrate_vma_setup, do_swap_page) could be
 * placed.  ANALYZER_TEST_BOGUS_PROBE=event[,event...] makes those events'
 * functions a name no kernel has (the tests' way to see them missing).
 */
int dm_probes_create(struct dm_probes *p, char *err, size_t errlen);

/* Enables every placed event of ours in instance (and its filter). */
struct tracefs_instance;
int dm_probes_enable(struct dm_probes *p, struct tracefs_instance *inst, char *err,
		     size_t errlen);

/* Removes our events; safe to call more than once and when none were made. */
void dm_probes_remove(struct dm_probes *p);

/* Removes the groups of recorders that are gone.  The number removed. */
int dm_probes_remove_stale(void);

/* The one line record prints: source, placed probe points, missing ones. */
void dm_probes_describe(const struct dm_probes *p, char *buf, size_t n);

/* "key: value" lines for the trace's metadata (the report reads them). */
void dm_probes_meta(const struct dm_probes *p, char *buf, size_t n);

/* Whether tracefs has dynamic events at all (kprobe or fprobe events). */
bool dm_probes_supported(void);

#endif
