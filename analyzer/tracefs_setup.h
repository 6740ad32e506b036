/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything "analyzer record" does to tracefs, and its undoing, lives in
 * tracefs_setup.c: mounting tracefs (and debugfs for the driver's stats)
 * when they are not mounted, our own instance, its events, pid filter,
 * buffer size, per-CPU raw readers, and the clean-up that puts all of it
 * back.  The top-level instance and other instances are only ever read.
 */
#ifndef DM_TRACEFS_SETUP_H
#define DM_TRACEFS_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DM_INSTANCE_PREFIX "dmirror-analyzer-"
/* the driver's stats, under wherever debugfs is mounted */
#define DM_STATS_FILE "dmirror/stats"
/* held open for writing, the driver folds its CPU fault path's events into one */
#define DM_FOLD_FILE "dmirror/fold_events"

struct tracefs_instance;
struct tracefs_cpu;
struct tep_handle;

struct dm_trace {
	struct tracefs_instance *inst;
	char name[64];
	int ncpus;
	struct tracefs_cpu **tcpu;
	unsigned int subbuf_size;
	bool mounted_tracefs, mounted_debugfs;
	char tracefs_mnt[256], debugfs_mnt[256];
	char debugfs[512];	/* where debugfs is, mounted by us or not; "" none */
	bool on;
	/* dm_trace_read hands over full sub-buffers only (spliced through a
	 * pipe), and dm_trace_flush the partial ones at the end; otherwise
	 * every read takes what a sub-buffer holds, for a live reader */
	bool whole_pages;
	/* the driver's DM_FOLD_FILE, held open until the clean-up */
	bool folding;
	int fold_fd;
};

/*
 * Finds tracefs (mounting it at /sys/kernel/tracing, or debugfs with its
 * tracing/ directory, when neither is mounted).  0, or -1 with one line
 * in err.
 */
int dm_trace_prepare(struct dm_trace *t, char *err, size_t errlen);

/* Whether tracefs has this event system (e.g. "dmirror": the module is loaded). */
bool dm_trace_has_system(const char *system);
/* Whether the event's format has this field. */
bool dm_trace_has_field(const char *system, const char *event, const char *field);

/* An event to enable in our instance: one event, or a whole system. */
struct dm_trace_event {
	const char *system;
	const char *event;	/* NULL: every event of the system */
	bool required;		/* failing to enable it fails the set-up */
	const char *filter;	/* the event's filter, or NULL */
};

/* Removes instances named DM_INSTANCE_PREFIX<pid> whose pid is dead. */
int dm_trace_remove_stale(void);

/*
 * Creates our instance (tracing off), sets the per-CPU buffer size, the
 * pid filter (with event-fork) for pid and enables the n events, and
 * opens the per-CPU raw readers.  0, or -1 with err.
 */
int dm_trace_setup(struct dm_trace *t, unsigned int buffer_kb, pid_t pid,
		   const struct dm_trace_event *events, size_t n, char *err, size_t errlen);
int dm_trace_start(struct dm_trace *t);
int dm_trace_stop(struct dm_trace *t);

/* One sub-buffer of cpu into buf (subbuf_size bytes): bytes read, 0 when
 * nothing is ready (with whole_pages: no full sub-buffer), -1 on error.
 * flush: after stop, what is left. */
int dm_trace_read(struct dm_trace *t, int cpu, void *buf);
int dm_trace_flush(struct dm_trace *t, int cpu, void *buf);

/* The text of a tracefs file (of our instance if inst, else the top
 * level); NULL if unreadable.  free() it. */
char *dm_trace_file(struct dm_trace *t, bool inst, const char *file, size_t *len);
/* An event's format file; NULL if absent. */
char *dm_trace_event_format(const char *system, const char *event, size_t *len);
/* NULL-terminated list of a system's events; free with dm_trace_free_list. */
char **dm_trace_system_events(const char *system);
void dm_trace_free_list(char **list);
/* A tep with the local formats of these systems (NULL-terminated). */
struct tep_handle *dm_trace_local_tep(const char *const *systems);

/*
 * Holds the driver's DM_FOLD_FILE open for writing, until
 * dm_trace_cleanup(): true
 * if the driver has one (the kernel closes it if we die, and the folding
 * ends with it).
 */
bool dm_trace_fold_driver_events(struct dm_trace *t);
/* How many hold the driver's DM_FOLD_FILE (0 also when it has none). */
int dm_trace_driver_folders(const struct dm_trace *t);
/* Lets the driver's folding go: it then traces the faults it batched,
 * so before the tracing stops. */
void dm_trace_unfold(struct dm_trace *t);

/* The driver's debugfs stats text, NULL when there is none. */
char *dm_trace_driver_stats(const struct dm_trace *t);

/* Undoes everything above that was done; safe to call more than once. */
void dm_trace_cleanup(struct dm_trace *t);

#endif
