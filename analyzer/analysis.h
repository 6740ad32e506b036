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

/* The pages a folio of an event's order covers, as the engine counts them. */
static inline uint64_t dm_order_pages(unsigned int order)
{
	return 1ull << (order > DM_MAX_ORDER ? DM_MAX_ORDER : order);
}

/* runs in a dmirror_returned event */
#define DM_RETURNED_RUNS 4

/* pages in a dmirror_batch event, at most */
#define DM_BATCH_PAGES 8

/* One page of a dmirror_batch event, moved back by a CPU fault or a
 * one-page MIGRATE_TO_SYS window: what its dmirror_devmem_fault (freed=1)
 * or dmirror_window would say beyond what every page of a batch says. */
struct dm_batch_entry {
	uint64_t addr, dev_pfn, shadow_pfn;
	int32_t pid, tid;
	uint32_t duration_ns, free_pages;
	uint8_t fault;
};

enum dm_ev_kind {
	DM_EV_NONE = 0,
	DM_EV_SETUP,		/* dmirror_migrate_setup */
	DM_EV_COPY,		/* dmirror_alloc_and_copy */
	DM_EV_FINALIZE,		/* dmirror_migrate_finalize */
	DM_EV_FAULT,		/* dmirror_devmem_fault */
	DM_EV_GUARD,		/* dmirror_fault_loop_guard */
	DM_EV_FREE,		/* dmirror_devmem_free */
	DM_EV_CHUNK,		/* dmirror_chunk_add */
	DM_EV_RETURNED,		/* dmirror_returned */
	DM_EV_FORK,		/* sched_process_fork */
	DM_EV_EXEC,		/* sched_process_exec */
	DM_EV_EXIT,		/* sched_process_exit */
	DM_EV_LOST,		/* the source lost events on a CPU here */
	DM_EV_WINDOW,		/* dmirror_window */
	DM_EV_BATCH,		/* dmirror_batch: faults and one-page windows */
	/* normalized events of the kernel-probe source (kmode.c makes them) */
	DM_EV_DEVPAGE,		/* a device page was initialised (zone_device_page_init) */
	DM_EV_THREAD,		/* a thread of a known process was created */
	DM_EV_HMM,		/* hmm_range_fault() returned */
	/* raw kernel-probe events (probes.h), turned into the above by kmode.c */
	DM_EV_KP_SETUP,
	DM_EV_KP_SETUP_FPAGE,
	DM_EV_KP_SETUP_RET,
	DM_EV_KP_PAGES,
	DM_EV_KP_FINAL,
	DM_EV_KP_FINAL_RET,
	DM_EV_KP_PAGE_INIT,
	DM_EV_KP_PAGE_FREE,
	DM_EV_KP_SWAP,
	DM_EV_KP_SWAP_RET,
	DM_EV_KP_SWAP_MTR,
	DM_EV_KP_LOCK_WAIT,
	DM_EV_KP_HMM_RET,
	DM_EV_USER_FAULT,	/* exceptions:page_fault_user */
	DM_EV_NEWTASK,		/* task:task_newtask */
	DM_EV_MAX
};

#define DM_EV_IS_KP(k) ((k) >= DM_EV_KP_SETUP && (k) < DM_EV_MAX)

/* How the owner of a faulting device page was learned (kernel-probe source). */
enum dm_owner_basis {
	DM_OWNER_NONE,		/* not known */
	DM_OWNER_DRIVER,	/* dmirror's tracepoint compared them itself */
	DM_OWNER_BTF,		/* read from the page's pgmap->owner (BTF offsets) */
	DM_OWNER_INIT,		/* the pgmap_owner of the migration that initialised the page */
	DM_OWNER_RANGE,		/* the pgmap_owner of the last migration to the device there */
};

/* How far a CPU fault on a device-private entry got (kernel-probe source). */
enum dm_reach {
	DM_REACH_UNKNOWN,	/* dmirror's events: the driver was reached */
	DM_REACH_SETUP,		/* the driver called migrate_vma_setup() */
	DM_REACH_DRIVER,	/* the driver's migrate_to_ram ran, without setup */
	DM_REACH_LOCK,		/* the page lock was contended: the driver was not called */
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
			/* kernel-probe source */
			bool kernel;
			bool cpages_inferred;	/* not seen: 0 inferred (see kmode.c) */
			uint8_t owner_basis;	/* enum dm_owner_basis */
			uint64_t owner, page_owner;	/* tokens: 0 NULL */
			uint64_t caller;	/* symbol token */
		} setup;
		/*
		 * copy and fault hold their tracepoint's fields in its order
		 * and types (dmirror_trace.h), 16 bytes further than in the
		 * record, so that a record of that layout is decoded as one
		 * copy (events.c checks, field by field, that the recorded
		 * format is that layout); their other members follow.
		 */
		struct {
			uint32_t dev;
			uint8_t dir, fault;
			uint64_t addr, src_pfn, dst_pfn, shadow_pfn;
			uint8_t order;	/* the folio covers 1 << order pages; 0 in old traces */
			uint8_t write;
		} copy;
		struct {
			uint32_t dev;
			uint8_t dir, fault;
			bool has_duration;
			uint64_t start, end, npages, cpages, migrated, duration_ns;
		} fin;
		struct {
			uint32_t dev;
			uint64_t addr, dev_pfn;
			int32_t pid;
			uint32_t result;
			uint64_t migrated;
			uint32_t no_progress;
			/* what the fault's migration found (has_setup: the
			 * driver says; setup_npages 0: setup did not run) */
			uint32_t setup_npages, setup_cpages;
			int32_t setup_ret;
			uint8_t owner_match;
			uint64_t duration_ns;
			/* the driver's event carries the free of the device
			 * folio the fault migrated (its fold_events) */
			uint8_t freed;
			uint8_t free_order, free_released;
			union {
				struct {	/* freed */
					uint64_t free_pfn, free_shadow_pfn, free_pages;
				};
				struct {	/* kernel-probe source */
					uint64_t uip;		/* the user pc of the access */
					uint64_t callback;	/* symbol token: the driver code that handled it */
					uint64_t migrator;	/* symbol token: the caller of the migration to the device */
				};
			};
			bool has_setup, has_duration;
			/* kernel-probe source */
			bool kernel, has_uip;
			uint8_t reach;		/* enum dm_reach */
		} fault;
		struct {
			uint64_t page, pgmap, owner;	/* tokens */
			uint64_t driver;	/* symbol token: pgmap->ops, or the migration's caller */
			uint8_t order;
		} devpage;
		struct {
			int32_t tgid;		/* tid is the new thread */
		} thread;
		struct {
			int32_t ret;
		} hmm;
		/* raw kernel-probe events; pointers are tokens (scrub.h) */
		struct {
			uint64_t start, end, owner, flags, fpage, caller;
		} kp_setup;
		struct {
			uint64_t fpage, fpgmap, fowner;
			bool has_fowner;
		} kp_fpage;
		struct {
			int32_t ret;
			bool has_counts;
			uint64_t npages, cpages;
			uint64_t caller;	/* symbol token: where it returned to */
		} kp_ret;
		struct {
			uint64_t start, end, npages, cpages;
			uint64_t migrate;	/* src[] entries marked MIGRATE */
		} kp_mv;
		struct {
			uint64_t page, pgmap, owner, ops;
			uint32_t order;
			bool has_owner, has_ops;
		} kp_init;
		struct {
			uint64_t page, pgmap;
		} kp_free;
		struct {
			uint64_t addr, pte;
			uint32_t flags;
		} kp_swap;
		struct {
			uint32_t ret;
			bool has_page;
			uint64_t page, mtr;
		} kp_swret;
		struct {
			uint64_t addr, ip;
			uint32_t error_code;
		} ufault;
		struct {
			int32_t pid;
			uint64_t clone_flags;
		} newtask;
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
		struct {	/* runs of device pages copied back and freed */
			uint32_t dev;
			uint32_t npages[DM_RETURNED_RUNS];	/* 0: no run */
			uint64_t start, free_pages;
			uint64_t pfn[DM_RETURNED_RUNS];
		} returned;
		struct {	/* e[0 .. n): valid until the next event is decoded */
			uint32_t dev, n;
			const struct dm_batch_entry *e;
		} batch;
		struct {	/* a folded MIGRATE_TO_SYS window, whole */
			uint32_t dev, npages, cpages, migrated;
			uint8_t owner_match;
			uint64_t start, end, duration_ns, free_pages;
			uint64_t pfn[DM_RETURNED_RUNS];
			uint32_t run_pages[DM_RETURNED_RUNS];	/* 0: no run */
		} window;
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
	/* migrate_vma_setup calls, each way: pages asked for and collected
	 * (what moved is to_dev, to_ram_*) */
	uint64_t calls[2], requested[2], collected[2];
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
	DM_CAUSE_NOT_REACHED,		/* the fault did not reach the driver (page lock contended) */
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
	/* kernel-probe source */
	bool kernel;
	bool has_uip;
	uint64_t uip;		/* user pc of the last looping access */
	uint64_t callback;	/* symbol token of the driver code that handled it */
	uint64_t migrator;	/* symbol token: who migrated the page to the device */
	uint8_t owner_basis;	/* of the last owner comparison */
	uint64_t owner, page_owner;	/* tokens, of the last fault-path setup */
	bool cpages_inferred;
};

enum dm_leak_kind {
	DM_LEAK_FREED_UNRELEASED,	/* devmem_free released=0 */
	DM_LEAK_LIVE_AFTER_EXIT,	/* never freed, owner exited */
	DM_LEAK_DEVPAGE,		/* a device page (no shadow) never freed, owner exited */
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
	uint64_t pgmap, driver;	/* DM_LEAK_DEVPAGE: tokens */
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
	/* Each event the engine processes, the kernel-probe source's as
	 * normalized by kmode, before the engine's own work; may be NULL. */
	void (*on_event)(void *ctx, const struct dm_event *ev);
	/* The trace may have batched faults (dmirror_batch), which come a
	 * little after they happened: a process's exit then waits for the
	 * next event that could follow it (analysis.c, exits_defer()). */
	bool batched;
	/* Names for pids the trace did not name (saved cmdlines); may be NULL. */
	const char *(*comm_of)(void *comm_ctx, int pid);
	void *comm_ctx;
	/* Texts of symbol tokens (kernel-probe source); may be NULL. */
	const char *(*sym_of)(void *sym_ctx, uint64_t token);
	void *sym_ctx;
	/* The kernel-probe source: what the recorder knew of the kernel. */
	struct dm_kconf {
		unsigned int swp_private[2], swp_exclusive[2];	/* 0: none */
		unsigned int page_shift;			/* 0: 12 */
		bool no_pages_probe;	/* migrate_vma_pages() was not probed */
	} kconf;
};

struct dm_result {
	uint64_t events;		/* all fed */
	uint64_t by_kind[DM_EV_MAX];
	uint64_t dmirror_events;
	uint64_t kernel_events;		/* kernel-probe source: raw probe events */
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

	/* the kernel-probe source */
	bool kernel_source;		/* kernel-probe events were seen */
	uint64_t devpage_leaks;		/* device pages in DM_LEAK_DEVPAGE leaks */
	uint64_t devpages_init;		/* device pages initialised */
	uint64_t swap_faults;		/* do_swap_page calls seen */
	uint64_t devprivate_faults;	/* ... on a device-private entry */
	uint64_t vma_lock_retries;	/* ... given back under the per-VMA lock */
	uint64_t lock_waits;		/* ... that waited for a locked device page */
	uint64_t migrate_calls;		/* migrate_vma_setup() calls */
	uint64_t inferred_calls;	/* ... over more pages than src[] shows: moved pages */
	uint64_t inferred_pages;	/* counted from device-page inits and frees */
	uint64_t hmm_calls, hmm_errors, hmm_ebusy;

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
/* The text of a symbol token, or "?" (the config's sym_of). */
const char *dm_analysis_sym(const struct dm_analysis *a, uint64_t token);
/* The process a thread belongs to, as far as the trace told; else tid. */
int32_t dm_analysis_tgid(struct dm_analysis *a, int32_t tid);
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
