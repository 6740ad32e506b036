/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic traces: a scenario is a list of events built with the sc_*
 * helpers.  It can be fed to the engine directly (sc_feed), or written as
 * a trace.dat by our writer with event formats laid out like the
 * kernel's TRACE_EVENT would lay out docs/tracepoints.md, on synthetic
 * ring-buffer pages (sc_write_dat), for the reader to read back.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"

struct scen {
	struct dm_event *ev;
	size_t n, cap;
	/* the faults of the dmirror_batch events */
	struct dm_batch_entry fe[256];
	size_t nfe;
	/* losses to flag in the file: the next page of cpu after event index */
	struct { size_t at; int cpu; int64_t count; } lost[16];
	int nlost;
};

void sc_init(struct scen *s);
void sc_free(struct scen *s);

/* every helper appends one event (ts in ns) */
void sc_setup(struct scen *s, uint64_t ts, int cpu, int tid, int dir, int fault, uint64_t start,
	      uint64_t npages, uint64_t cpages, int owner_match, int ret);
void sc_copy(struct scen *s, uint64_t ts, int cpu, int tid, int dir, uint64_t addr,
	     uint64_t src_pfn, uint64_t dst_pfn, uint64_t shadow_pfn);
void sc_finalize(struct scen *s, uint64_t ts, int cpu, int tid, int dir, int fault, uint64_t start,
		 uint64_t npages, uint64_t cpages, uint64_t migrated, uint64_t duration_ns);
void sc_fault(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
	      uint64_t dev_pfn, unsigned int result, uint64_t migrated, unsigned int no_progress);
/* a fault that says what its migration found, as dmirror's does since its
 * fault event has setup_ret (analyzer record then filters the fault path's
 * setup, copy and finalize out) */
void sc_fault_info(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
		   uint64_t dev_pfn, unsigned int result, uint64_t migrated, unsigned int no_progress,
		   uint32_t npages, uint32_t cpages, int owner_match, int setup_ret,
		   uint64_t duration_ns);
/* the last event, a fault, carries the free of the device folio it migrated
 * (the driver's fold_events held open) */
void sc_fault_freed(struct scen *s, uint64_t free_pfn, uint64_t shadow_pfn, int released,
		    unsigned int order, uint64_t free_pages);
/* a dmirror_returned: up to DM_RETURNED_RUNS runs of (pfn, npages), n of them */
void sc_returned(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start,
		 const uint64_t *pfn, const uint32_t *npages, int n, uint64_t free_pages);
/* a dmirror_window: a MIGRATE_TO_SYS window's setup (returned 0), runs
 * and finalize in one event */
void sc_window(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint32_t npages,
	       uint32_t cpages, uint32_t migrated, uint64_t duration_ns, const uint64_t *pfn,
	       const uint32_t *run_pages, int n, uint64_t free_pages);
/* a dmirror_batch: n pages of process pid (its own task) moved back by
 * faults (fault) or one-page windows, each the next page of addr and of
 * dev_pfn (shadow_pfn), duration_ns each */
void sc_batch(struct scen *s, uint64_t ts, int cpu, int pid, uint64_t addr, uint64_t dev_pfn,
	      uint64_t shadow_pfn, uint32_t n, uint32_t duration_ns, uint32_t free_pages,
	      bool fault);
/* n more such pages in the last event, a dmirror_batch */
void sc_batch_more(struct scen *s, int pid, uint64_t addr, uint64_t dev_pfn, uint64_t shadow_pfn,
		   uint32_t n, uint32_t duration_ns, uint32_t free_pages, bool fault);
void sc_guard(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
	      uint64_t dev_pfn, unsigned int count, unsigned int limit);
void sc_free_ev(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t dev_pfn,
		uint64_t shadow_pfn, int released);
/* the same for a folio of 1 << order pages */
void sc_copy_order(struct scen *s, uint64_t ts, int cpu, int tid, int dir, uint64_t addr,
		   uint64_t src_pfn, uint64_t dst_pfn, uint64_t shadow_pfn, unsigned int order);
void sc_free_order(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t dev_pfn,
		   uint64_t shadow_pfn, int released, unsigned int order);
void sc_chunk(struct scen *s, uint64_t ts, int cpu, uint64_t first_pfn, uint64_t npages);
void sc_fork(struct scen *s, uint64_t ts, int cpu, int parent, int child, const char *comm);
void sc_exec(struct scen *s, uint64_t ts, int cpu, int pid, const char *filename);
void sc_exit(struct scen *s, uint64_t ts, int cpu, int pid, const char *comm);
/* events lost on cpu before the next event recorded there (count < 0: unknown) */
void sc_lost(struct scen *s, int cpu, int64_t count);

/* Composite steps of a healthy driver, one page at a time */
#define PAGE 4096ull
void sc_migrate_to_dev(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		       uint64_t npages, uint64_t dev_pfn0, uint64_t shadow_pfn0);
/* a CPU fault that brings the page back; frees the device page */
void sc_fault_back(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		   uint64_t dev_pfn, uint64_t shadow_pfn, uint64_t lat_ns, bool release);
/* a fault that moves nothing because of an owner mismatch */
void sc_fault_mismatch(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		       uint64_t dev_pfn, unsigned int no_progress);

/*
 * The kernel-probe source's raw events (pointers are tokens already, as
 * the recorder writes them).  Symbol tokens the composites use:
 */
#define SC_SYM_TODEV 5		/* the driver's migration to the device */
#define SC_SYM_FAULT 6		/* its fault callback */
#define SC_USER_PC 0x401d9eull
void sc_kp_setup(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t owner, uint64_t flags, uint64_t fpage);
void sc_kp_fpage(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t fpage, uint64_t fpgmap,
		 uint64_t fowner);
void sc_kp_setup_ret(struct scen *s, uint64_t ts, int cpu, int tid, int ret, bool counts,
		     uint64_t npages, uint64_t cpages, uint64_t caller);
void sc_kp_pages(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t cpages);
/* migrate: entries src[] shows marked MIGRATE (it shows none past 64) */
void sc_kp_final(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t cpages, uint64_t migrate);
void sc_kp_final_ret(struct scen *s, uint64_t ts, int cpu, int tid);
void sc_kp_init(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t pgmap,
		uint32_t order);
void sc_kp_free(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t pgmap);
uint64_t sc_swap_pte(unsigned int type, uint64_t pfn);
void sc_kp_swap(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t addr, uint64_t pte,
		uint32_t flags);
void sc_kp_swap_ret(struct scen *s, uint64_t ts, int cpu, int tid, uint32_t ret, bool has_page,
		    uint64_t page);
void sc_kp_mtr(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t mtr);
void sc_kp_lock_wait(struct scen *s, uint64_t ts, int cpu, int tid);
void sc_ufault(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t addr, uint64_t ip);
void sc_newtask(struct scen *s, uint64_t ts, int cpu, int parent, int child, uint64_t clone_flags);
/* a migration of npages to the device (owner; device pages page0...) */
void sc_kp_to_dev(struct scen *s, uint64_t *ts, int cpu, int tid, uint64_t addr, uint64_t npages,
		  uint64_t owner, uint64_t page0);
/* a CPU fault on device page `page` (swap type 28, 7.x) whose fault path
 * passes setup_owner (the page's is page_owner, read through BTF) */
void sc_kp_fault(struct scen *s, uint64_t *ts, int cpu, int tid, uint64_t addr, uint64_t page,
		 uint64_t setup_owner, uint64_t page_owner, uint64_t cpages, uint64_t migrated);

void sc_feed(const struct scen *s, struct dm_analysis *a);

struct sc_file_opts {
	int cpus;			/* default 2 */
	unsigned int page_size;		/* default 4096 */
	bool no_sched_formats;
	bool no_dmirror_formats;
	bool drop_field_addr;		/* devmem_fault without 'addr' */
	bool no_order;			/* alloc_and_copy and devmem_free without 'order' (old driver) */
	const char *stats_before, *stats_after;
	const char *cpustats[4];	/* CPUSTAT text per CPU */
	const char *meta;
	bool old_sections;		/* meta and stats as analyzer 1.0 stored them */
	const char *raw_cpustat;	/* one more CPUSTAT option, as it is */
	bool trace_clock;
	bool sched_618;			/* sched_process_fork's 6.18 field names */
	bool module_layout;		/* alloc_and_copy and devmem_fault as the module has them today */
	unsigned char pad_byte;		/* the bytes of a record no field covers */
	bool kallsyms;			/* small kallsyms and printk sections */
	const char *printk;		/* this printk formats section instead */
	const char *format_from, *format_to; /* replaced in every event format */
	bool kernel_formats;		/* the kernel-probe source's events too */
	bool kp_no_ret_args;		/* return probes without entry arguments (6.1) */
};

/* 0 on success */
int sc_write_dat(const struct scen *s, const char *path, const struct sc_file_opts *o);

/* when set, sc_write_dat also hands every page it writes here */
extern void (*sc_page_sink)(int cpu, const void *page, unsigned int size);
/* a tep with the synthetic formats (free with tep_free) */
struct tep_handle *sc_make_tep(void);
/* ... with the kernel-probe source's formats instead */
struct tep_handle *sc_make_tep_kernel(void);

/* One ring-buffer page of size bytes holding the n records data[i]
 * (len[i] bytes each, common header included), at ts, ts + 1, ...;
 * -1 when they do not fit. */
int sc_build_page(unsigned char *page, unsigned int size, uint64_t ts,
		  const unsigned char *const *data, const int *len, int n);

/* number of dmirror records sc_write_dat wrote for s */
size_t sc_count_dmirror(const struct scen *s);

#endif
