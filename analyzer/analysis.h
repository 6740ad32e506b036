/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The analysis engine.  It knows nothing about files, tracefs or
 * libtraceevent: every source (the trace.dat reader, the live reader of
 * "analyzer record --live", the unit tests) turns what it reads into
 * struct dm_event and hands it to dm_analysis_feed(), in time order.
 *
 * Memory is proportional to the live device pages, the processes and
 * threads seen, and the open fault-loop candidates; never to the number
 * of events.  Closed migration cycles are handed to a callback, not kept.
 */
#ifndef DM_ANALYSIS_H
#define DM_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define DM_COMM_LEN 16
#define DM_VM_FAULT_SIGBUS 0x2

#define DM_DEFAULT_LOOP_THRESHOLD 8

/*
 * The largest folio order the engine believes (a PMD: 9 with 4 KiB pages,
 * 13 with 64 KiB ones); larger orders in a trace are taken as this.
 */
#define DM_MAX_ORDER 13

enum dm_ev_kind {
	DM_EV_NONE = 0,
	DM_EV_SETUP,		/* dmirror_migrate_setup */
	DM_EV_COPY,		/* dmirror_alloc_and_copy */
	DM_EV_FINALIZE,		/* dmirror_migrate_finalize */
	DM_EV_FAULT,		/* dmirror_devmem_fault */
	DM_EV_GUARD,		/* dmirror_fault_loop_guard */
	DM_EV_FREE,		/* dmirror_devmem_free */
	DM_EV_CHUNK,		/* dmirror_chunk_add */
	DM_EV_FORK,		/* sched_process_fork */
	DM_EV_EXEC,		/* sched_process_exec */
	DM_EV_EXIT,		/* sched_process_exit */
	DM_EV_LOST,		/* the source lost events on a CPU here */
	DM_EV_MAX
};

enum { DM_DIR_TO_DEV = 0, DM_DIR_TO_RAM = 1 };

struct dm_event {
	uint64_t ts;		/* ns, trace clock */
	int32_t cpu;
	int32_t tid;		/* common_pid: the task that hit the tracepoint */
	uint16_t kind;		/* enum dm_ev_kind */
	union {
		struct {
			uint32_t dev;
			uint8_t dir, fault, owner_match;
			bool has_owner_match;
			int32_t ret;
			uint64_t start, end, npages, cpages;
		} setup;
		struct {
			uint32_t dev;
			uint8_t dir, write;
			uint8_t order;	/* the folio covers 1 << order pages; 0 in old traces */
			uint64_t addr, src_pfn, dst_pfn, shadow_pfn;
		} copy;
		struct {
			uint32_t dev;
			uint8_t dir, fault;
			bool has_duration;
			uint64_t start, end, npages, cpages, migrated, duration_ns;
		} fin;
		struct {
			uint32_t dev, result, no_progress;
			int32_t pid;
			uint64_t addr, dev_pfn, migrated;
		} fault;
		struct {
			uint32_t dev, count, limit;
			int32_t pid;
			uint64_t addr, dev_pfn;
		} guard;
		struct {
			uint32_t dev;
			uint8_t released;
			uint8_t order;	/* the folio freed covers 1 << order pages */
			uint64_t dev_pfn, shadow_pfn, free_pages;
		} free;
		struct {
			uint32_t dev;
			uint64_t first_pfn, npages, total_pages;
		} chunk;
		struct {
			int32_t parent, child;
			char comm[DM_COMM_LEN];		/* the child's */
		} fork;
		struct {
			int32_t pid;
			char comm[DM_COMM_LEN];
		} exec;
		struct {
			int32_t pid;
			char comm[DM_COMM_LEN];
		} exit;
		struct {
			int64_t count;	/* < 0: an unknown number */
		} lost;
	};
};

/*
 * Fault service latency.  Exact nearest-rank quantiles while a set holds
 * at most DM_LAT_EXACT samples; beyond that a log-linear histogram (32
 * sub-buckets per power of two, so within 1/64 = 1.6% of the true value)
 * takes over.  min, max, count and sum are always exact.
 */
#define DM_LAT_EXACT 256
struct dm_latency {
	uint64_t count, sum, min, max;
	uint32_t nsmall;
	uint64_t small[DM_LAT_EXACT];
	uint64_t *hist;		/* NULL until more than DM_LAT_EXACT samples */
};

struct dm_counts {
	uint64_t to_dev;		/* pages really moved (finalize.migrated) */
	uint64_t to_ram_fault;
	uint64_t to_ram_ioctl;
	uint64_t copies_to_dev;		/* pages copied (alloc_and_copy, 1 << order each) */
	uint64_t copies_to_ram;
	uint64_t faults;		/* devmem_fault events */
	uint64_t faults_no_progress;
	uint64_t sigbus;
	uint64_t frees;			/* device pages freed (devmem_free, 1 << order each) */
	uint64_t leaks;			/* leaked shadow pages */
	uint64_t setup_failed;		/* migrate_vma_setup returned an error */
	uint64_t guard;			/* fault_loop_guard events */
};

/* Per migration cycle, per process outside cycles, and in total. */
struct dm_stats {
	struct dm_counts c;
	struct dm_latency lat;
};

struct dm_cycle {
	uint32_t id;		/* 1, 2, ... in order of start */
	int32_t pid;
	char comm[DM_COMM_LEN];
	uint64_t start_ts, end_ts;
	bool returned;		/* pages came back since the last to_dev */
	struct dm_stats s;
};

enum dm_cause {
	DM_CAUSE_OWNER_MISMATCH,	/* setup collected 0, owner_match=0 */
	DM_CAUSE_SETUP_ERROR,		/* migrate_vma_setup returned < 0 */
	DM_CAUSE_NOT_COLLECTED,		/* setup collected 0, owner matches */
	DM_CAUSE_NOT_MIGRATED,		/* collected, but finalize moved 0 */
	DM_CAUSE_NO_SETUP,		/* no setup event with the fault */
	DM_CAUSE_MAX
};

enum dm_loop_end {
	DM_LOOP_OPEN,		/* still faulting when the trace ended */
	DM_LOOP_MIGRATED,	/* a later migration moved the page back */
	DM_LOOP_FREED,		/* the device page was freed */
	DM_LOOP_EXITED,		/* the process exited */
};

struct dm_loop {
	int32_t pid;
	char comm[DM_COMM_LEN];
	uint32_t dev;
	uint64_t addr, dev_pfn;
	uint64_t count;		/* faults in a row without progress */
	uint64_t first_ts, last_ts;
	uint32_t max_no_progress;	/* the driver's own counter */
	uint32_t last_result;
	uint64_t sigbus;	/* faults that returned VM_FAULT_SIGBUS */
	uint64_t evidence[DM_CAUSE_MAX];
	int32_t last_ret;	/* last failing migrate_vma_setup() return */
	uint64_t last_npages, last_cpages;	/* of the last setup seen */
	bool guard;		/* dmirror_fault_loop_guard fired */
	uint32_t guard_count, guard_limit;
	uint64_t guard_ts;
	enum dm_loop_end end;
	uint64_t end_ts;
	bool below_threshold;	/* reported only because the guard fired */
};

enum dm_leak_kind {
	DM_LEAK_FREED_UNRELEASED,	/* devmem_free released=0 */
	DM_LEAK_LIVE_AFTER_EXIT,	/* never freed, owner exited */
};

struct dm_leak {
	enum dm_leak_kind kind;
	uint32_t dev;
	uint64_t dev_pfn, shadow_pfn, addr;	/* of the first page */
	uint64_t npages;	/* shadow pages leaked: 1 << order, or what was left of a huge folio */
	int32_t pid;		/* -1: allocated before the trace began */
	char comm[DM_COMM_LEN];
	bool alloc_known;
	uint64_t alloc_ts;
	uint64_t free_ts;	/* free or owner exit */
};

struct dm_config {
	uint32_t loop_threshold;
	void *ctx;
	/* A loop crossed the threshold (or the guard fired): live reporting. */
	void (*on_loop)(void *ctx, const struct dm_loop *loop);
	/* A leak was seen (a free that kept its shadow). */
	void (*on_leak)(void *ctx, const struct dm_leak *leak);
	/* A migration cycle ended; the cycle is only valid during the call. */
	void (*on_cycle)(void *ctx, const struct dm_cycle *cycle);
	/* Names for pids the trace did not name (saved cmdlines); may be NULL. */
	const char *(*comm_of)(void *comm_ctx, int pid);
	void *comm_ctx;
};

struct dm_result {
	uint64_t events;		/* all fed */
	uint64_t by_kind[DM_EV_MAX];
	uint64_t dmirror_events;
	uint64_t first_ts, last_ts;
	bool have_sched;		/* process events were recorded */

	struct dm_stats total;
	struct dm_stats outside;	/* activity in no cycle */
	uint32_t cycles;

	struct dm_loop *loops;
	size_t nloops;
	struct dm_leak *leaks;
	size_t nleaks;
	uint64_t leaked_pages;		/* the sum of the leaks' npages */

	uint64_t live_at_end;		/* device pages still allocated, owner alive or unknown */
	uint64_t live_shadow_at_end;	/* ... of which with a shadow page */
	uint64_t untracked_frees;	/* pages freed that were allocated before the trace */
	uint64_t chunks, chunk_pages;

	/* lost events, from the event stream (DM_EV_LOST) */
	uint64_t lost_events;
	uint64_t lost_unknown;		/* losses of an unknown size */
	bool incomplete;
};

struct dm_analysis;

struct dm_analysis *dm_analysis_new(const struct dm_config *cfg);
void dm_analysis_feed(struct dm_analysis *a, const struct dm_event *ev);
/* Ends open cycles and loops, judges pages still live.  Call once. */
void dm_analysis_finish(struct dm_analysis *a);
const struct dm_result *dm_analysis_result(const struct dm_analysis *a);
/* Marks the result incomplete (e.g. the file's stats show overruns). */
void dm_analysis_mark_incomplete(struct dm_analysis *a, uint64_t lost);
/* Name of a pid as the engine knows it, or the config's comm_of, or "<...>". */
const char *dm_analysis_comm(struct dm_analysis *a, int pid);
void dm_analysis_free(struct dm_analysis *a);
/* Whether an out-of-memory condition made the analysis give up. */
bool dm_analysis_failed(const struct dm_analysis *a);
uint32_t dm_analysis_loop_threshold(const struct dm_analysis *a);
/* State held now: live pages, processes, threads, loop candidates. */
void dm_analysis_footprint(const struct dm_analysis *a, size_t *pages, size_t *procs,
			   size_t *tids, size_t *cands);

/* Latency helpers */
void dm_lat_init(struct dm_latency *l);
void dm_lat_add(struct dm_latency *l, uint64_t v);
uint64_t dm_lat_quantile(const struct dm_latency *l, double q);
void dm_lat_free(struct dm_latency *l);

const char *dm_cause_text(enum dm_cause c);
const char *dm_cause_name(enum dm_cause c);
enum dm_cause dm_loop_cause(const struct dm_loop *l);
const char *dm_loop_end_name(enum dm_loop_end e);
const char *dm_leak_kind_name(enum dm_leak_kind k);
const char *dm_ev_kind_name(enum dm_ev_kind k);

#endif
