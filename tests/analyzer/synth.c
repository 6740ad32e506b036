// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event-parse.h>

#include "datfile.h"
#include "probes.h"
#include "synth.h"

/* ------------------------------------------------------------- building */

void sc_init(struct scen *s)
{
	memset(s, 0, sizeof(*s));
}

void sc_free(struct scen *s)
{
	free(s->ev);
	memset(s, 0, sizeof(*s));
}

static struct dm_event *add(struct scen *s, uint16_t kind, uint64_t ts, int cpu, int tid)
{
	struct dm_event *e;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
		if (!s->ev)
			abort();
	}
	e = &s->ev[s->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->ts = ts;
	e->cpu = cpu;
	e->tid = tid;
	return e;
}

void sc_setup(struct scen *s, uint64_t ts, int cpu, int tid, int dir, int fault, uint64_t start,
	      uint64_t npages, uint64_t cpages, int owner_match, int ret)
{
	struct dm_event *e = add(s, DM_EV_SETUP, ts, cpu, tid);

	e->setup.dir = (uint8_t)dir;
	e->setup.fault = (uint8_t)fault;
	e->setup.start = start;
	e->setup.end = start + npages * PAGE;
	e->setup.npages = npages;
	e->setup.cpages = cpages;
	e->setup.owner_match = (uint8_t)owner_match;
	e->setup.has_owner_match = true;
	e->setup.ret = ret;
}

void sc_copy(struct scen *s, uint64_t ts, int cpu, int tid, int dir, uint64_t addr,
	     uint64_t src_pfn, uint64_t dst_pfn, uint64_t shadow_pfn)
{
	struct dm_event *e = add(s, DM_EV_COPY, ts, cpu, tid);

	e->copy.dir = (uint8_t)dir;
	e->copy.addr = addr;
	e->copy.src_pfn = src_pfn;
	e->copy.dst_pfn = dst_pfn;
	e->copy.shadow_pfn = shadow_pfn;
	e->copy.write = 1;
}

void sc_finalize(struct scen *s, uint64_t ts, int cpu, int tid, int dir, int fault, uint64_t start,
		 uint64_t npages, uint64_t cpages, uint64_t migrated, uint64_t duration_ns)
{
	struct dm_event *e = add(s, DM_EV_FINALIZE, ts, cpu, tid);

	e->fin.dir = (uint8_t)dir;
	e->fin.fault = (uint8_t)fault;
	e->fin.start = start;
	e->fin.end = start + npages * PAGE;
	e->fin.npages = npages;
	e->fin.cpages = cpages;
	e->fin.migrated = migrated;
	e->fin.duration_ns = duration_ns;
	e->fin.has_duration = true;
}

void sc_fault(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
	      uint64_t dev_pfn, unsigned int result, uint64_t migrated, unsigned int no_progress)
{
	struct dm_event *e = add(s, DM_EV_FAULT, ts, cpu, tid);

	e->fault.pid = pid;
	e->fault.addr = addr;
	e->fault.dev_pfn = dev_pfn;
	e->fault.result = result;
	e->fault.migrated = migrated;
	e->fault.no_progress = no_progress;
}

void sc_fault_info(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
		   uint64_t dev_pfn, unsigned int result, uint64_t migrated, unsigned int no_progress,
		   uint32_t npages, uint32_t cpages, int owner_match, int setup_ret,
		   uint64_t duration_ns)
{
	struct dm_event *e;

	sc_fault(s, ts, cpu, tid, pid, addr, dev_pfn, result, migrated, no_progress);
	e = &s->ev[s->n - 1];
	e->fault.has_setup = true;
	e->fault.setup_npages = npages;
	e->fault.setup_cpages = cpages;
	e->fault.owner_match = (uint8_t)owner_match;
	e->fault.setup_ret = setup_ret;
	e->fault.has_duration = true;
	e->fault.duration_ns = duration_ns;
}

void sc_fault_freed(struct scen *s, uint64_t free_pfn, uint64_t shadow_pfn, int released,
		    unsigned int order, uint64_t free_pages)
{
	struct dm_event *e = &s->ev[s->n - 1];

	e->fault.freed = true;
	e->fault.free_pfn = free_pfn;
	e->fault.free_shadow_pfn = shadow_pfn;
	e->fault.free_released = (uint8_t)released;
	e->fault.free_order = (uint8_t)order;
	e->fault.free_pages = free_pages;
}

void sc_returned(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start,
		 const uint64_t *pfn, const uint32_t *npages, int n, uint64_t free_pages)
{
	struct dm_event *e = add(s, DM_EV_RETURNED, ts, cpu, tid);

	e->returned.start = start;
	e->returned.free_pages = free_pages;
	for (int i = 0; i < n && i < DM_RETURNED_RUNS; i++) {
		e->returned.pfn[i] = pfn[i];
		e->returned.npages[i] = npages[i];
	}
}

void sc_window(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint32_t npages,
	       uint32_t cpages, uint32_t migrated, uint64_t duration_ns, const uint64_t *pfn,
	       const uint32_t *run_pages, int n, uint64_t free_pages)
{
	struct dm_event *e = add(s, DM_EV_WINDOW, ts, cpu, tid);

	e->window.start = start;
	e->window.end = start + (uint64_t)npages * PAGE;
	e->window.npages = npages;
	e->window.cpages = cpages;
	e->window.owner_match = 1;
	e->window.migrated = migrated;
	e->window.duration_ns = duration_ns;
	e->window.free_pages = free_pages;
	for (int i = 0; i < n && i < DM_RETURNED_RUNS; i++) {
		e->window.pfn[i] = pfn[i];
		e->window.run_pages[i] = run_pages[i];
	}
}

static void batch_pages(struct scen *s, struct dm_event *e, int pid, uint64_t addr,
			uint64_t dev_pfn, uint64_t shadow_pfn, uint32_t n, uint32_t duration_ns,
			uint32_t free_pages, bool fault)
{
	/* a batch's entries follow one another in s->fe */
	if (e->batch.n + n > DM_BATCH_PAGES || s->nfe + n > sizeof(s->fe) / sizeof(s->fe[0]) ||
	    (e->batch.n && e->batch.e + e->batch.n != &s->fe[s->nfe]))
		abort();
	if (!e->batch.n)
		e->batch.e = &s->fe[s->nfe];
	e->batch.n += n;
	for (uint32_t i = 0; i < n; i++)
		s->fe[s->nfe++] = (struct dm_batch_entry){
			.addr = addr + i * PAGE, .dev_pfn = dev_pfn + i, .shadow_pfn = shadow_pfn + i,
			.pid = pid, .tid = pid, .duration_ns = duration_ns, .free_pages = free_pages + i,
			.fault = fault,
		};
}

void sc_batch(struct scen *s, uint64_t ts, int cpu, int pid, uint64_t addr, uint64_t dev_pfn,
	      uint64_t shadow_pfn, uint32_t n, uint32_t duration_ns, uint32_t free_pages,
	      bool fault)
{
	batch_pages(s, add(s, DM_EV_BATCH, ts, cpu, pid), pid, addr, dev_pfn, shadow_pfn, n,
		    duration_ns, free_pages, fault);
}

void sc_batch_more(struct scen *s, int pid, uint64_t addr, uint64_t dev_pfn, uint64_t shadow_pfn,
		   uint32_t n, uint32_t duration_ns, uint32_t free_pages, bool fault)
{
	if (!s->n || s->ev[s->n - 1].kind != DM_EV_BATCH)
		abort();
	batch_pages(s, &s->ev[s->n - 1], pid, addr, dev_pfn, shadow_pfn, n, duration_ns,
		    free_pages, fault);
}

void sc_guard(struct scen *s, uint64_t ts, int cpu, int tid, int pid, uint64_t addr,
	      uint64_t dev_pfn, unsigned int count, unsigned int limit)
{
	struct dm_event *e = add(s, DM_EV_GUARD, ts, cpu, tid);

	e->guard.pid = pid;
	e->guard.addr = addr;
	e->guard.dev_pfn = dev_pfn;
	e->guard.count = count;
	e->guard.limit = limit;
}

void sc_free_ev(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t dev_pfn,
		uint64_t shadow_pfn, int released)
{
	struct dm_event *e = add(s, DM_EV_FREE, ts, cpu, tid);

	e->free.dev_pfn = dev_pfn;
	e->free.shadow_pfn = shadow_pfn;
	e->free.released = (uint8_t)released;
	e->free.free_pages = 100;
}

void sc_copy_order(struct scen *s, uint64_t ts, int cpu, int tid, int dir, uint64_t addr,
		   uint64_t src_pfn, uint64_t dst_pfn, uint64_t shadow_pfn, unsigned int order)
{
	sc_copy(s, ts, cpu, tid, dir, addr, src_pfn, dst_pfn, shadow_pfn);
	s->ev[s->n - 1].copy.order = (uint8_t)order;
}

void sc_free_order(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t dev_pfn,
		   uint64_t shadow_pfn, int released, unsigned int order)
{
	sc_free_ev(s, ts, cpu, tid, dev_pfn, shadow_pfn, released);
	s->ev[s->n - 1].free.order = (uint8_t)order;
}

void sc_chunk(struct scen *s, uint64_t ts, int cpu, uint64_t first_pfn, uint64_t npages)
{
	struct dm_event *e = add(s, DM_EV_CHUNK, ts, cpu, 0);

	e->chunk.first_pfn = first_pfn;
	e->chunk.npages = npages;
	e->chunk.total_pages = npages;
}

static void cp_comm(char *dst, const char *src)
{
	snprintf(dst, DM_COMM_LEN, "%s", src);
}

void sc_fork(struct scen *s, uint64_t ts, int cpu, int parent, int child, const char *comm)
{
	struct dm_event *e = add(s, DM_EV_FORK, ts, cpu, parent);

	e->fork.parent = parent;
	e->fork.child = child;
	cp_comm(e->fork.comm, comm);
}

void sc_exec(struct scen *s, uint64_t ts, int cpu, int pid, const char *filename)
{
	struct dm_event *e = add(s, DM_EV_EXEC, ts, cpu, pid);
	const char *b = strrchr(filename, '/');

	e->exec.pid = pid;
	/* the file keeps the whole path; the decoder keeps the basename */
	cp_comm(e->exec.comm, b ? b + 1 : filename);
	/* stash the full name after the comm for the writer */
	(void)filename;
}

void sc_exit(struct scen *s, uint64_t ts, int cpu, int pid, const char *comm)
{
	struct dm_event *e = add(s, DM_EV_EXIT, ts, cpu, pid);

	e->exit.pid = pid;
	cp_comm(e->exit.comm, comm);
}

void sc_lost(struct scen *s, int cpu, int64_t count)
{
	if (s->nlost >= 16)
		abort();
	s->lost[s->nlost].at = s->n;
	s->lost[s->nlost].cpu = cpu;
	s->lost[s->nlost].count = count;
	s->nlost++;
}

void sc_migrate_to_dev(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		       uint64_t npages, uint64_t dev_pfn0, uint64_t shadow_pfn0)
{
	sc_setup(s, (*ts)++, cpu, pid, DM_DIR_TO_DEV, 0, addr, npages, npages, 1, 0);
	for (uint64_t i = 0; i < npages; i++)
		sc_copy(s, (*ts)++, cpu, pid, DM_DIR_TO_DEV, addr + i * PAGE, 0x1000 + i,
			dev_pfn0 + i, shadow_pfn0 + i);
	sc_finalize(s, (*ts)++, cpu, pid, DM_DIR_TO_DEV, 0, addr, npages, npages, npages, 5000);
}

void sc_fault_back(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		   uint64_t dev_pfn, uint64_t shadow_pfn, uint64_t lat_ns, bool release)
{
	sc_setup(s, (*ts)++, cpu, pid, DM_DIR_TO_RAM, 1, addr, 1, 1, 1, 0);
	sc_copy(s, (*ts)++, cpu, pid, DM_DIR_TO_RAM, addr, dev_pfn, 0x9000, shadow_pfn);
	sc_free_ev(s, (*ts)++, cpu, pid, dev_pfn, shadow_pfn, release);
	sc_finalize(s, (*ts)++, cpu, pid, DM_DIR_TO_RAM, 1, addr, 1, 1, 1, lat_ns);
	sc_fault(s, (*ts)++, cpu, pid, pid, addr, dev_pfn, 0, 1, 0);
}

void sc_fault_mismatch(struct scen *s, uint64_t *ts, int cpu, int pid, uint64_t addr,
		       uint64_t dev_pfn, unsigned int no_progress)
{
	sc_setup(s, (*ts)++, cpu, pid, DM_DIR_TO_RAM, 1, addr, 1, 0, 0, 0);
	sc_finalize(s, (*ts)++, cpu, pid, DM_DIR_TO_RAM, 1, addr, 1, 0, 0, 800);
	sc_fault(s, (*ts)++, cpu, pid, pid, addr, dev_pfn, 0, 0, no_progress);
}

/* ------------------------------------------------- kernel-probe events */

void sc_kp_setup(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t owner, uint64_t flags, uint64_t fpage)
{
	struct dm_event *e = add(s, DM_EV_KP_SETUP, ts, cpu, tid);

	e->kp_setup.start = start;
	e->kp_setup.end = start + npages * PAGE;
	e->kp_setup.owner = owner;
	e->kp_setup.flags = flags;
	e->kp_setup.fpage = fpage;
	e->kp_setup.caller = 3;		/* a return trampoline: the return probe knows better */
}

void sc_kp_fpage(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t fpage, uint64_t fpgmap,
		 uint64_t fowner)
{
	struct dm_event *e = add(s, DM_EV_KP_SETUP_FPAGE, ts, cpu, tid);

	e->kp_fpage.fpage = fpage;
	e->kp_fpage.fpgmap = fpgmap;
	e->kp_fpage.fowner = fowner;
	e->kp_fpage.has_fowner = true;
}

void sc_kp_setup_ret(struct scen *s, uint64_t ts, int cpu, int tid, int ret, bool counts,
		     uint64_t npages, uint64_t cpages, uint64_t caller)
{
	struct dm_event *e = add(s, DM_EV_KP_SETUP_RET, ts, cpu, tid);

	e->kp_ret.ret = ret;
	e->kp_ret.has_counts = counts;
	e->kp_ret.npages = counts ? npages : 0;
	e->kp_ret.cpages = counts ? cpages : 0;
	e->kp_ret.caller = caller;
}

void sc_kp_pages(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t cpages)
{
	struct dm_event *e = add(s, DM_EV_KP_PAGES, ts, cpu, tid);

	e->kp_mv.start = start;
	e->kp_mv.end = start + npages * PAGE;
	e->kp_mv.npages = npages;
	e->kp_mv.cpages = cpages;
}

void sc_kp_final(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t start, uint64_t npages,
		 uint64_t cpages, uint64_t migrate)
{
	struct dm_event *e = add(s, DM_EV_KP_FINAL, ts, cpu, tid);

	e->kp_mv.start = start;
	e->kp_mv.end = start + npages * PAGE;
	e->kp_mv.npages = npages;
	e->kp_mv.cpages = cpages;
	e->kp_mv.migrate = npages <= DM_KP_FINAL_ENTRIES ? migrate : 0;	/* what src[] shows */
}

void sc_kp_final_ret(struct scen *s, uint64_t ts, int cpu, int tid)
{
	add(s, DM_EV_KP_FINAL_RET, ts, cpu, tid);
}

void sc_kp_init(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t pgmap,
		uint32_t order)
{
	struct dm_event *e = add(s, DM_EV_KP_PAGE_INIT, ts, cpu, tid);

	e->kp_init.page = page;
	e->kp_init.pgmap = pgmap;
	e->kp_init.order = order;
}

void sc_kp_free(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t pgmap)
{
	struct dm_event *e = add(s, DM_EV_KP_PAGE_FREE, ts, cpu, tid);

	e->kp_free.page = page;
	e->kp_free.pgmap = pgmap;
}

/* x86-64: a device-private swap entry of type for pfn, as a PTE */
uint64_t sc_swap_pte(unsigned int type, uint64_t pfn)
{
	return ((uint64_t)type << 59) | ((~pfn & ((1ull << 50) - 1)) << 9);
}

void sc_kp_swap(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t addr, uint64_t pte,
		uint32_t flags)
{
	struct dm_event *e = add(s, DM_EV_KP_SWAP, ts, cpu, tid);

	e->kp_swap.addr = addr;
	e->kp_swap.pte = pte;
	e->kp_swap.flags = flags;
}

void sc_kp_swap_ret(struct scen *s, uint64_t ts, int cpu, int tid, uint32_t ret, bool has_page,
		    uint64_t page)
{
	struct dm_event *e = add(s, DM_EV_KP_SWAP_RET, ts, cpu, tid);

	e->kp_swret.ret = ret;
	e->kp_swret.has_page = has_page;
	e->kp_swret.page = page;
}

void sc_kp_mtr(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t page, uint64_t mtr)
{
	struct dm_event *e = add(s, DM_EV_KP_SWAP_MTR, ts, cpu, tid);

	e->kp_swret.page = page;
	e->kp_swret.mtr = mtr;
}

void sc_kp_lock_wait(struct scen *s, uint64_t ts, int cpu, int tid)
{
	add(s, DM_EV_KP_LOCK_WAIT, ts, cpu, tid);
}

void sc_ufault(struct scen *s, uint64_t ts, int cpu, int tid, uint64_t addr, uint64_t ip)
{
	struct dm_event *e = add(s, DM_EV_USER_FAULT, ts, cpu, tid);

	e->ufault.addr = addr;
	e->ufault.ip = ip;
	e->ufault.error_code = 4;
}

void sc_newtask(struct scen *s, uint64_t ts, int cpu, int parent, int child, uint64_t clone_flags)
{
	struct dm_event *e = add(s, DM_EV_NEWTASK, ts, cpu, parent);

	e->newtask.pid = child;
	e->newtask.clone_flags = clone_flags;
}

void sc_kp_to_dev(struct scen *s, uint64_t *ts, int cpu, int tid, uint64_t addr, uint64_t npages,
		  uint64_t owner, uint64_t page0)
{
	sc_kp_setup(s, (*ts)++, cpu, tid, addr, npages, owner, 1, 0);
	sc_kp_setup_ret(s, (*ts)++, cpu, tid, 0, true, npages, npages, SC_SYM_TODEV);
	for (uint64_t i = 0; i < npages; i++)
		sc_kp_init(s, (*ts)++, cpu, tid, page0 + i, 1, 0);
	sc_kp_pages(s, (*ts)++, cpu, tid, addr, npages, npages);
	sc_kp_final(s, (*ts)++, cpu, tid, addr, npages, npages, npages);
	sc_kp_final_ret(s, (*ts)++, cpu, tid);
}

void sc_kp_fault(struct scen *s, uint64_t *ts, int cpu, int tid, uint64_t addr, uint64_t page,
		 uint64_t setup_owner, uint64_t page_owner, uint64_t cpages, uint64_t migrated)
{
	sc_ufault(s, (*ts)++, cpu, tid, addr + 0x10, SC_USER_PC);
	sc_kp_swap(s, (*ts)++, cpu, tid, addr, sc_swap_pte(28, 0xfff0000 + page), 0xa54);
	sc_kp_fpage(s, (*ts)++, cpu, tid, page, 1, page_owner);
	sc_kp_setup(s, (*ts)++, cpu, tid, addr, 1, setup_owner, 2, page);
	sc_kp_setup_ret(s, (*ts)++, cpu, tid, 0, true, 1, cpages, SC_SYM_FAULT);
	sc_kp_pages(s, (*ts)++, cpu, tid, addr, 1, cpages);
	sc_kp_final(s, (*ts)++, cpu, tid, addr, 1, cpages, migrated);
	sc_kp_final_ret(s, (*ts)++, cpu, tid);
	if (migrated)
		sc_kp_free(s, (*ts)++, cpu, tid, page, 1);
	sc_kp_swap_ret(s, (*ts)++, cpu, tid, 0, true, page);
}

void sc_feed(const struct scen *s, struct dm_analysis *a)
{
	int li = 0;

	for (size_t i = 0; i < s->n; i++) {
		/* a loss shows up before the next event */
		while (li < s->nlost && s->lost[li].at <= i) {
			struct dm_event l = { .kind = DM_EV_LOST, .ts = s->ev[i].ts,
					      .cpu = s->lost[li].cpu };

			l.lost.count = s->lost[li].count;
			dm_analysis_feed(a, &l);
			li++;
		}
		dm_analysis_feed(a, &s->ev[i]);
	}
}

/* -------------------------------------------------------------- formats */

struct ffield {
	const char *type;	/* as the kernel prints it */
	const char *name;
	int size;		/* 0: __data_loc */
	int is_signed;
	int array;		/* char name[array]; u64 name[] (a probe's array) */
	int offset;
};

struct fevent {
	const char *system, *name;
	int id;
	enum dm_ev_kind kind;
	struct ffield f[20];
	int nf;
	int size;		/* fixed part, with the common header */
	bool packed;		/* a probe event: fields back to back, as the kernel lays them */
	bool module;		/* the layout of dmirror_trace.h today (sc_file_opts.module_layout) */
};

#define KP_GROUP "dmirror_analyzer_4242"
#define PROBE_IP { "unsigned long", "__probe_ip", 8, 0 }
#define PROBE_RET { "unsigned long", "__probe_func", 8, 0 }, { "unsigned long", "__probe_ret_ip", 8, 0 }
#define U64(n) { "u64", n, 8, 0 }
#define U32(n) { "u32", n, 4, 0 }

static struct fevent fevents[] = {
	{ "dmirror", "dmirror_migrate_setup", 1501, DM_EV_SETUP,
	  { { "unsigned int", "dev", 4, 0 }, { "u8", "dir", 1, 0 }, { "u8", "fault", 1, 0 },
	    { "unsigned long", "start", 8, 0 }, { "unsigned long", "end", 8, 0 },
	    { "unsigned long", "npages", 8, 0 }, { "unsigned long", "cpages", 8, 0 },
	    { "u8", "owner_match", 1, 0 }, { "int", "ret", 4, 1 } }, 9, 0 },
	{ "dmirror", "dmirror_alloc_and_copy", 1502, DM_EV_COPY,
	  { { "unsigned int", "dev", 4, 0 }, { "u8", "dir", 1, 0 }, { "unsigned long", "addr", 8, 0 },
	    { "unsigned long", "src_pfn", 8, 0 }, { "unsigned long", "dst_pfn", 8, 0 },
	    { "unsigned long", "shadow_pfn", 8, 0 }, { "u8", "order", 1, 0 },
	    { "u8", "write", 1, 0 } }, 8, 0 },
	{ "dmirror", "dmirror_migrate_finalize", 1503, DM_EV_FINALIZE,
	  { { "unsigned int", "dev", 4, 0 }, { "u8", "dir", 1, 0 }, { "u8", "fault", 1, 0 },
	    { "unsigned long", "start", 8, 0 }, { "unsigned long", "end", 8, 0 },
	    { "unsigned long", "npages", 8, 0 }, { "unsigned long", "cpages", 8, 0 },
	    { "unsigned long", "migrated", 8, 0 }, { "u64", "duration_ns", 8, 0 } }, 9, 0 },
	{ "dmirror", "dmirror_devmem_fault", 1504, DM_EV_FAULT,
	  { { "unsigned int", "dev", 4, 0 }, { "unsigned long", "addr", 8, 0 },
	    { "unsigned long", "dev_pfn", 8, 0 }, { "int", "pid", 4, 1 },
	    { "unsigned int", "result", 4, 0 }, { "unsigned long", "migrated", 8, 0 },
	    { "unsigned int", "no_progress", 4, 0 } }, 7, 0 },
	/* the same two as the module defines them today */
	{ "dmirror", "dmirror_alloc_and_copy", 1502, DM_EV_COPY,
	  { { "unsigned int", "dev", 4, 0 }, { "u8", "dir", 1, 0 }, { "u8", "fault", 1, 0 },
	    { "unsigned long", "addr", 8, 0 }, { "unsigned long", "src_pfn", 8, 0 },
	    { "unsigned long", "dst_pfn", 8, 0 }, { "unsigned long", "shadow_pfn", 8, 0 },
	    { "u8", "order", 1, 0 }, { "u8", "write", 1, 0 } }, 9, 0, false, true },
	{ "dmirror", "dmirror_devmem_fault", 1504, DM_EV_FAULT,
	  { { "unsigned int", "dev", 4, 0 }, { "unsigned long", "addr", 8, 0 },
	    { "unsigned long", "dev_pfn", 8, 0 }, { "int", "pid", 4, 1 },
	    { "unsigned int", "result", 4, 0 }, { "unsigned long", "migrated", 8, 0 },
	    { "unsigned int", "no_progress", 4, 0 }, { "unsigned int", "npages", 4, 0 },
	    { "unsigned int", "cpages", 4, 0 }, { "int", "setup_ret", 4, 1 },
	    { "u8", "owner_match", 1, 0 }, { "u64", "duration_ns", 8, 0 },
	    { "u8", "freed", 1, 0 }, { "u8", "free_order", 1, 0 }, { "u8", "free_released", 1, 0 },
	    { "unsigned long", "free_pfn", 8, 0 }, { "unsigned long", "free_shadow_pfn", 8, 0 },
	    { "unsigned long", "free_pages", 8, 0 } }, 18, 0, false, true },
	{ "dmirror", "dmirror_fault_loop_guard", 1505, DM_EV_GUARD,
	  { { "unsigned int", "dev", 4, 0 }, { "unsigned long", "addr", 8, 0 },
	    { "unsigned long", "dev_pfn", 8, 0 }, { "int", "pid", 4, 1 },
	    { "unsigned int", "count", 4, 0 }, { "unsigned int", "limit", 4, 0 } }, 6, 0 },
	{ "dmirror", "dmirror_devmem_free", 1506, DM_EV_FREE,
	  { { "unsigned int", "dev", 4, 0 }, { "unsigned long", "dev_pfn", 8, 0 },
	    { "u8", "order", 1, 0 }, { "unsigned long", "shadow_pfn", 8, 0 },
	    { "u8", "released", 1, 0 }, { "unsigned long", "free_pages", 8, 0 } }, 6, 0 },
	{ "dmirror", "dmirror_chunk_add", 1507, DM_EV_CHUNK,
	  { { "unsigned int", "dev", 4, 0 }, { "unsigned long", "first_pfn", 8, 0 },
	    { "unsigned long", "npages", 8, 0 }, { "unsigned long", "total_pages", 8, 0 } }, 4, 0 },
	{ "sched", "sched_process_fork", 301, DM_EV_FORK,
	  { { "char", "parent_comm", 1, 0, 16 }, { "pid_t", "parent_pid", 4, 1 },
	    { "char", "child_comm", 1, 0, 16 }, { "pid_t", "child_pid", 4, 1 } }, 4, 0 },
	/* 6.18 and later name the parent's fields comm and pid */
	{ "sched", "sched_process_fork", 301, DM_EV_FORK,
	  { { "char", "comm", 1, 0, 16 }, { "pid_t", "pid", 4, 1 },
	    { "char", "child_comm", 1, 0, 16 }, { "pid_t", "child_pid", 4, 1 } }, 4, 0 },
	{ "sched", "sched_process_exec", 302, DM_EV_EXEC,
	  { { "__data_loc char[]", "filename", 0, 0 }, { "pid_t", "pid", 4, 1 },
	    { "pid_t", "old_pid", 4, 1 } }, 3, 0 },
	{ "sched", "sched_process_exit", 303, DM_EV_EXIT,
	  { { "char", "comm", 1, 0, 16 }, { "pid_t", "pid", 4, 1 }, { "int", "prio", 4, 1 } }, 3, 0 },
	/* the kernel-probe source, as analyzer record defines its events */
	{ KP_GROUP, "mv_setup", 2001, DM_EV_KP_SETUP,
	  { PROBE_IP, U64("start"), U64("end"), U64("owner"), U64("flags"), U64("fpage"),
	    U64("caller") }, 7, 0, true },
	{ KP_GROUP, "mv_setup_fpage", 2002, DM_EV_KP_SETUP_FPAGE,
	  { PROBE_IP, U64("fpage"), U64("fpgmap"), U64("fowner") }, 4, 0, true },
	{ KP_GROUP, "mv_setup_ret", 2003, DM_EV_KP_SETUP_RET,
	  { PROBE_RET, { "s32", "ret", 4, 1 }, U64("npages"), U64("cpages") }, 5, 0, true },
	{ KP_GROUP, "mv_pages", 2004, DM_EV_KP_PAGES,
	  { PROBE_IP, U64("start"), U64("end"), U64("npages"), U64("cpages") }, 5, 0, true },
	{ KP_GROUP, "mv_final", 2005, DM_EV_KP_FINAL,
	  { PROBE_IP, U64("start"), U64("end"), U64("npages"), U64("cpages"),
	    { "u64", "src", 8, 0, DM_KP_FINAL_ENTRIES } }, 6, 0, true },
	{ KP_GROUP, "mv_final_ret", 2006, DM_EV_KP_FINAL_RET, { PROBE_RET }, 2, 0, true },
	{ KP_GROUP, "dev_page_init", 2007, DM_EV_KP_PAGE_INIT,
	  { PROBE_IP, U64("page"), U64("pgmap"), U32("order"), U64("owner"), U64("ops") }, 6, 0, true },
	{ KP_GROUP, "dev_page_free", 2008, DM_EV_KP_PAGE_FREE,
	  { PROBE_IP, U64("page"), U64("pgmap") }, 3, 0, true },
	{ KP_GROUP, "swap_fault", 2009, DM_EV_KP_SWAP,
	  { PROBE_IP, U64("addr"), U32("flags"), U64("pte") }, 4, 0, true },
	{ KP_GROUP, "swap_fault_ret", 2010, DM_EV_KP_SWAP_RET,
	  { PROBE_RET, U32("ret"), U64("page") }, 4, 0, true },
	{ KP_GROUP, "swap_fault_mtr", 2011, DM_EV_KP_SWAP_MTR,
	  { PROBE_RET, U64("page"), U64("mtr") }, 4, 0, true },
	{ KP_GROUP, "lock_wait", 2012, DM_EV_KP_LOCK_WAIT, { PROBE_IP }, 1, 0, true },
	{ KP_GROUP, "hmm_fault_ret", 2013, DM_EV_KP_HMM_RET,
	  { PROBE_RET, { "s32", "ret", 4, 1 } }, 3, 0, true },
	{ "exceptions", "page_fault_user", 2014, DM_EV_USER_FAULT,
	  { { "unsigned long", "address", 8, 0 }, { "unsigned long", "ip", 8, 0 },
	    { "unsigned long", "error_code", 8, 0 } }, 3, 0 },
	{ "task", "task_newtask", 2015, DM_EV_NEWTASK,
	  { { "pid_t", "pid", 4, 1 }, { "char", "comm", 1, 0, 16 },
	    { "unsigned long", "clone_flags", 8, 0 }, { "short", "oom_score_adj", 2, 1 } }, 4, 0 },
};
#define NFEV (int)(sizeof(fevents) / sizeof(fevents[0]))

static void layout(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	for (int i = 0; i < NFEV; i++) {
		int off = 8;

		for (int j = 0; j < fevents[i].nf; j++) {
			struct ffield *f = &fevents[i].f[j];
			int sz = f->size ? f->size * (f->array ? f->array : 1) : 4;
			int al = f->array || fevents[i].packed ? 1 : (f->size ? f->size : 4);

			off = (off + al - 1) / al * al;
			f->offset = off;
			off += sz;
		}
		fevents[i].size = off;
	}
}

static char *format_text(const struct fevent *e, const char *skip_field)
{
	char *buf = NULL, fmt[512] = "", args[1024] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "name: %s\nID: %d\nformat:\n", e->name, e->id);
	fprintf(f, "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n");
	fprintf(f, "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n");
	fprintf(f, "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n");
	fprintf(f, "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n");
	for (int j = 0; j < e->nf; j++) {
		const struct ffield *x = &e->f[j];
		const char *spec;
		char a[96];

		if (skip_field && !strcmp(skip_field, x->name))
			continue;
		if (!x->size)
			fprintf(f, "\tfield:%s %s;\toffset:%d;\tsize:4;\tsigned:0;\n", x->type, x->name,
				x->offset);
		else if (x->array && x->size == 8)
			fprintf(f, "\tfield:%s %s[];\toffset:%d;\tsize:%d;\tsigned:0;\n", x->type,
				x->name, x->offset, x->array * 8);
		else if (x->array)
			fprintf(f, "\tfield:%s %s[%d];\toffset:%d;\tsize:%d;\tsigned:%d;\n", x->type,
				x->name, x->array, x->offset, x->array, x->is_signed);
		else
			fprintf(f, "\tfield:%s %s;\toffset:%d;\tsize:%d;\tsigned:%d;\n", x->type,
				x->name, x->offset, x->size, x->is_signed);
		if (x->array && x->size == 8) {
			/* the kernel's: every element, REC->name[i] */
			size_t fl = strlen(fmt);

			snprintf(fmt + fl, sizeof(fmt) - fl, "%s%s={0x%%Lx,0x%%Lx}", j ? " " : "", x->name);
			fl = strlen(args);
			snprintf(args + fl, sizeof(args) - fl, ", REC->%s[0], REC->%s[1]", x->name, x->name);
			continue;
		}
		if (!x->size || x->array)
			spec = "%s";
		else if (x->size == 8 && !strcmp(x->type, "u64"))
			spec = "%llu";
		else if (x->size == 8)
			spec = "0x%lx";
		else if (x->is_signed)
			spec = "%d";
		else
			spec = "%u";
		snprintf(fmt + strlen(fmt), sizeof(fmt) - strlen(fmt), "%s%s=%s", j ? " " : "",
			 x->name, spec);
		if (!x->size)
			snprintf(a, sizeof(a), ", __get_str(%s)", x->name);
		else
			snprintf(a, sizeof(a), ", REC->%s", x->name);
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%s", a);
	}
	fprintf(f, "\nprint fmt: \"%s\"%s\n", fmt, args);
	fclose(f);
	return buf;
}

/* t with its first "from" replaced by "to" (a new string either way) */
static char *replace_once(char *t, const char *from, const char *to)
{
	char *at = from ? strstr(t, from) : NULL, *r;

	if (!at)
		return t;
	if (asprintf(&r, "%.*s%s%s", (int)(at - t), t, to, at + strlen(from)) < 0)
		return t;
	free(t);
	return r;
}

/* value of a field of e by the field's name */
static uint64_t fval(const struct dm_event *e, const char *n, const char **str)
{
	*str = NULL;
#define F(name, expr) if (!strcmp(n, name)) return (uint64_t)(expr)
	switch (e->kind) {
	case DM_EV_SETUP:
		F("dev", e->setup.dev); F("dir", e->setup.dir); F("fault", e->setup.fault);
		F("start", e->setup.start); F("end", e->setup.end); F("npages", e->setup.npages);
		F("cpages", e->setup.cpages); F("owner_match", e->setup.owner_match);
		F("ret", e->setup.ret);
		break;
	case DM_EV_COPY:
		F("dev", e->copy.dev); F("dir", e->copy.dir); F("fault", e->copy.fault);
		F("addr", e->copy.addr);
		F("src_pfn", e->copy.src_pfn); F("dst_pfn", e->copy.dst_pfn);
		F("shadow_pfn", e->copy.shadow_pfn); F("write", e->copy.write);
		F("order", e->copy.order);
		break;
	case DM_EV_FINALIZE:
		F("dev", e->fin.dev); F("dir", e->fin.dir); F("fault", e->fin.fault);
		F("start", e->fin.start); F("end", e->fin.end); F("npages", e->fin.npages);
		F("cpages", e->fin.cpages); F("migrated", e->fin.migrated);
		F("duration_ns", e->fin.duration_ns);
		break;
	case DM_EV_FAULT:
		F("dev", e->fault.dev); F("addr", e->fault.addr); F("dev_pfn", e->fault.dev_pfn);
		F("pid", e->fault.pid); F("result", e->fault.result);
		F("migrated", e->fault.migrated); F("no_progress", e->fault.no_progress);
		F("npages", e->fault.setup_npages); F("cpages", e->fault.setup_cpages);
		F("setup_ret", e->fault.setup_ret); F("owner_match", e->fault.owner_match);
		F("duration_ns", e->fault.duration_ns); F("freed", e->fault.freed);
		F("free_order", e->fault.free_order); F("free_released", e->fault.free_released);
		F("free_pfn", e->fault.free_pfn); F("free_shadow_pfn", e->fault.free_shadow_pfn);
		F("free_pages", e->fault.free_pages);
		break;
	case DM_EV_GUARD:
		F("dev", e->guard.dev); F("addr", e->guard.addr); F("dev_pfn", e->guard.dev_pfn);
		F("pid", e->guard.pid); F("count", e->guard.count); F("limit", e->guard.limit);
		break;
	case DM_EV_FREE:
		F("dev", e->free.dev); F("dev_pfn", e->free.dev_pfn);
		F("shadow_pfn", e->free.shadow_pfn); F("released", e->free.released);
		F("free_pages", e->free.free_pages); F("order", e->free.order);
		break;
	case DM_EV_CHUNK:
		F("dev", e->chunk.dev); F("first_pfn", e->chunk.first_pfn);
		F("npages", e->chunk.npages); F("total_pages", e->chunk.total_pages);
		break;
	case DM_EV_FORK:
		if (!strcmp(n, "parent_comm") || !strcmp(n, "comm")) { *str = "parent"; return 0; }
		F("pid", e->fork.parent);
		if (!strcmp(n, "child_comm")) { *str = e->fork.comm; return 0; }
		F("parent_pid", e->fork.parent); F("child_pid", e->fork.child);
		break;
	case DM_EV_EXEC:
		if (!strcmp(n, "filename")) { *str = e->exec.comm; return 0; }
		F("pid", e->exec.pid); F("old_pid", e->exec.pid);
		break;
	case DM_EV_EXIT:
		if (!strcmp(n, "comm")) { *str = e->exit.comm; return 0; }
		F("pid", e->exit.pid); F("prio", 120);
		break;
	case DM_EV_KP_SETUP:
		F("__probe_ip", 1); F("start", e->kp_setup.start); F("end", e->kp_setup.end);
		F("owner", e->kp_setup.owner); F("flags", e->kp_setup.flags);
		F("fpage", e->kp_setup.fpage); F("caller", e->kp_setup.caller);
		break;
	case DM_EV_KP_SETUP_FPAGE:
		F("__probe_ip", 1); F("fpage", e->kp_fpage.fpage); F("fpgmap", e->kp_fpage.fpgmap);
		F("fowner", e->kp_fpage.fowner);
		break;
	case DM_EV_KP_SETUP_RET:
	case DM_EV_KP_HMM_RET:
		F("__probe_func", 1); F("__probe_ret_ip", e->kp_ret.caller); F("ret", e->kp_ret.ret);
		F("npages", e->kp_ret.npages); F("cpages", e->kp_ret.cpages);
		break;
	case DM_EV_KP_PAGES:
	case DM_EV_KP_FINAL:
		F("__probe_ip", 1); F("start", e->kp_mv.start);
		F("end", e->kp_mv.end); F("npages", e->kp_mv.npages); F("cpages", e->kp_mv.cpages);
		break;
	case DM_EV_KP_FINAL_RET:
	case DM_EV_KP_LOCK_WAIT:
		F("__probe_ip", 1); F("__probe_func", 1); F("__probe_ret_ip", 2);
		break;
	case DM_EV_KP_PAGE_INIT:
		F("__probe_ip", 1); F("page", e->kp_init.page); F("pgmap", e->kp_init.pgmap);
		F("order", e->kp_init.order); F("owner", e->kp_init.owner); F("ops", e->kp_init.ops);
		break;
	case DM_EV_KP_PAGE_FREE:
		F("__probe_ip", 1); F("page", e->kp_free.page); F("pgmap", e->kp_free.pgmap);
		break;
	case DM_EV_KP_SWAP:
		F("__probe_ip", 1); F("addr", e->kp_swap.addr); F("flags", e->kp_swap.flags);
		F("pte", e->kp_swap.pte);
		break;
	case DM_EV_KP_SWAP_RET:
	case DM_EV_KP_SWAP_MTR:
		F("__probe_func", 1); F("__probe_ret_ip", 2); F("ret", e->kp_swret.ret);
		F("page", e->kp_swret.page); F("mtr", e->kp_swret.mtr);
		break;
	case DM_EV_USER_FAULT:
		F("address", e->ufault.addr); F("ip", e->ufault.ip); F("error_code", e->ufault.error_code);
		break;
	case DM_EV_NEWTASK:
		if (!strcmp(n, "comm")) { *str = "thread"; return 0; }
		F("pid", e->newtask.pid); F("clone_flags", e->newtask.clone_flags);
		break;
	default:
		break;
	}
#undef F
	return 0;
}

/* the record bytes of e; returns the length */
static bool use_618;

static bool use_module;
static int pad_byte;

static bool fevent_used(int i)
{
	/* two layouts of the copy and the fault: the driver's first and
	 * today's */
	if (fevents[i].kind == DM_EV_COPY || fevents[i].kind == DM_EV_FAULT)
		return use_module == fevents[i].module;
	/* two layouts of sched_process_fork: the first is before 6.18 */
	if (fevents[i].kind != DM_EV_FORK)
		return true;
	return use_618 == !strcmp(fevents[i].f[0].name, "comm");
}

static int encode(const struct dm_event *e, unsigned char *buf, int cap)
{
	const struct fevent *fe = NULL;
	int len;

	for (int i = 0; i < NFEV; i++)
		if (fevents[i].kind == e->kind && fevent_used(i))
			fe = &fevents[i];
	if (!fe)
		return -1;
	len = fe->size;
	/* what lies between the fields: zeros, or what the kernel left there */
	memset(buf, pad_byte, (size_t)cap);
	{
		uint16_t type = (uint16_t)fe->id;
		int32_t pid = e->tid;

		memcpy(buf, &type, 2);
		memcpy(buf + 4, &pid, 4);
	}
	for (int j = 0; j < fe->nf; j++) {
		const struct ffield *f = &fe->f[j];
		const char *str;
		uint64_t v = fval(e, f->name, &str);

		if (!f->size) {		/* __data_loc: string after the fixed part */
			size_t sl = strlen(str ? str : "") + 1;
			uint32_t loc = (uint32_t)len | (uint32_t)(sl << 16);

			if (len + (int)sl > cap)
				return -1;
			memcpy(buf + f->offset, &loc, 4);
			memcpy(buf + len, str ? str : "", sl);
			len += (int)sl;
		} else if (f->array && f->size == 8) {
			/* src[]: the migrated entries first, then collected but
			 * not migrated ones */
			for (uint64_t k = 0; k < 64 && k < e->kp_mv.npages; k++) {
				uint64_t mpfn = ((0x1000 + k) << 6) | 1;

				if (k < e->kp_mv.migrate)
					mpfn |= 2;
				memcpy(buf + f->offset + 8 * k, &mpfn, 8);
			}
		} else if (f->array) {
			snprintf((char *)buf + f->offset, (size_t)f->array, "%s", str ? str : "");
		} else {
			memcpy(buf + f->offset, &v, (size_t)f->size);	/* little endian */
		}
	}
	return len;
}

/* ----------------------------------------------------------------- pages */

struct pagebuf {
	unsigned char *p;
	unsigned int size, used;	/* used: bytes after the 16-byte header */
	uint64_t last_ts;
	bool open;
	int64_t lost;			/* flag the page: < 0 unknown, > 0 count */
	bool lost_set;
};

void (*sc_page_sink)(int cpu, const void *page, unsigned int size);

static int page_flush(struct dat_writer *w, int cpu, struct pagebuf *pb)
{
	uint64_t commit = pb->used;
	int ret;

	if (!pb->open)
		return 0;
	if (pb->lost_set) {
		commit |= 1ull << 31;
		if (pb->lost > 0 && pb->used + 8 <= pb->size - 16) {
			uint64_t c = (uint64_t)pb->lost;

			memcpy(pb->p + 16 + pb->used, &c, 8);
			commit |= 1ull << 30;
		}
	}
	memcpy(pb->p + 8, &commit, 8);
	if (sc_page_sink)
		sc_page_sink(cpu, pb->p, pb->size);
	ret = dat_write_page(w, cpu, pb->p, pb->size);
	pb->open = false;
	pb->lost_set = false;
	return ret;
}

static int page_add(struct dat_writer *w, int cpu, struct pagebuf *pb, uint64_t ts,
		    const unsigned char *data, int dlen)
{
	int elen = (dlen + 3) & ~3;
	int need = elen <= 112 ? 4 + elen : 8 + elen;
	uint64_t delta;

	if (pb->open) {
		delta = ts - pb->last_ts;
		if (delta >= (1u << 27))
			need += 8;
		if (pb->used + (unsigned int)need + 8 > pb->size - 16)	/* keep room for a lost count */
			if (page_flush(w, cpu, pb))
				return -1;
	}
	if (!pb->open) {
		memset(pb->p, 0, pb->size);
		memcpy(pb->p, &ts, 8);
		pb->used = 0;
		pb->last_ts = ts;
		pb->open = true;
	}
	delta = ts - pb->last_ts;
	if (delta >= (1u << 27)) {
		uint32_t hdr = 30u | (uint32_t)((delta & ((1u << 27) - 1)) << 5);
		uint32_t hi = (uint32_t)(delta >> 27);

		memcpy(pb->p + 16 + pb->used, &hdr, 4);
		memcpy(pb->p + 16 + pb->used + 4, &hi, 4);
		pb->used += 8;
		delta = 0;
	}
	if (elen <= 112) {
		uint32_t hdr = (uint32_t)(elen / 4) | (uint32_t)(delta << 5);

		memcpy(pb->p + 16 + pb->used, &hdr, 4);
		memcpy(pb->p + 16 + pb->used + 4, data, (size_t)dlen);
		pb->used += 4 + (unsigned int)elen;
	} else {
		uint32_t hdr = (uint32_t)(delta << 5);
		uint32_t l = (uint32_t)elen + 4;

		memcpy(pb->p + 16 + pb->used, &hdr, 4);
		memcpy(pb->p + 16 + pb->used + 4, &l, 4);
		memcpy(pb->p + 16 + pb->used + 8, data, (size_t)dlen);
		pb->used += 8 + (unsigned int)elen;
	}
	pb->last_ts = ts;
	return 0;
}

int sc_build_page(unsigned char *page, unsigned int size, uint64_t ts,
		  const unsigned char *const *data, const int *len, int n)
{
	struct pagebuf pb = { .p = page, .size = size };
	unsigned int need = 16 + 8;

	for (int i = 0; i < n; i++) {
		unsigned int elen = ((unsigned int)len[i] + 3) & ~3u;

		need += elen <= 112 ? 4 + elen : 8 + elen;
	}
	if (need > size)
		return -1;	/* page_add would flush to a writer we do not have */
	for (int i = 0; i < n; i++)
		if (page_add(NULL, 0, &pb, ts + (uint64_t)i, data[i], len[i]))
			return -1;
	memcpy(pb.p + 8, &(uint64_t){ pb.used }, 8);
	return 0;
}

size_t sc_count_dmirror(const struct scen *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].kind >= DM_EV_SETUP && s->ev[i].kind <= DM_EV_CHUNK)
			n++;
	return n;
}

static const char header_page[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

static const char header_event[] =
	"# compressed entry header\n"
	"\ttype_len    :    5 bits\n"
	"\ttime_delta  :   27 bits\n"
	"\tarray       :   32 bits\n"
	"\n"
	"\tpadding     : type == 29\n"
	"\ttime_extend : type == 30\n"
	"\ttime_stamp : type == 31\n"
	"\tdata max type_len  == 28\n";

int sc_write_dat(const struct scen *s, const char *path, const struct sc_file_opts *o)
{
	struct sc_file_opts def = { 0 };
	struct dat_writer *w;
	struct pagebuf pb[8];
	char err[256], cmdlines[4096] = "";
	unsigned char rec[1024];
	int cpus, ret = -1, li = 0;

	layout();
	if (!o)
		o = &def;
	use_618 = o->sched_618;
	use_module = o->module_layout;
	pad_byte = o->pad_byte;
	cpus = o->cpus ? o->cpus : 2;
	if (cpus > 8)
		return -1;
	w = dat_writer_new(path, cpus, o->page_size ? o->page_size : 4096, 8, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "synth: %s\n", err);
		return -1;
	}
	memset(pb, 0, sizeof(pb));
	for (int c = 0; c < cpus; c++) {
		pb[c].size = o->page_size ? o->page_size : 4096;
		pb[c].p = malloc(pb[c].size);
	}
	dat_set_header_page(w, header_page, strlen(header_page));
	dat_set_header_event(w, header_event, strlen(header_event));
	for (int i = 0; i < NFEV; i++) {
		char *t;

		if (fevents[i].kind <= DM_EV_CHUNK && o->no_dmirror_formats)
			continue;
		if (DM_EV_IS_KP(fevents[i].kind) ? !o->kernel_formats :
		    fevents[i].kind > DM_EV_CHUNK && o->no_sched_formats)
			continue;
		if (!fevent_used(i))
			continue;
		t = format_text(&fevents[i],
				o->drop_field_addr && fevents[i].kind == DM_EV_FAULT ? "addr" :
				o->no_order && (fevents[i].kind == DM_EV_COPY ||
						fevents[i].kind == DM_EV_FREE) ? "order" :
				o->kp_no_ret_args && fevents[i].kind == DM_EV_KP_SETUP_RET ? "cpages" :
				o->kp_no_ret_args && fevents[i].kind == DM_EV_KP_SWAP_RET ? "page" : NULL);
		t = replace_once(t, o->format_from, o->format_to);
		dat_add_event_format(w, fevents[i].system, t, strlen(t));
		free(t);
	}
	/* saved cmdlines: every pid named in exec/fork events */
	for (size_t i = 0; i < s->n; i++) {
		const struct dm_event *e = &s->ev[i];

		if (e->kind == DM_EV_EXEC && strlen(cmdlines) < sizeof(cmdlines) - 64)
			snprintf(cmdlines + strlen(cmdlines), sizeof(cmdlines) - strlen(cmdlines),
				 "%d %s\n", e->exec.pid, e->exec.comm);
	}
	dat_set_cmdlines(w, cmdlines, strlen(cmdlines));
	if (o->kallsyms) {
		/* trace-cmd convert needs non-empty kallsyms and printk sections */
		static const char ks[] = "ffffffff81000000 T _stext\nffffffff81000100 T dmirror_devmem_fault\n";
		static const char pk[] = "0xffffffff82000000 : \"dmirror %d\\n\"\n";

		dat_set_kallsyms(w, ks, sizeof(ks) - 1);
		dat_set_printk(w, pk, sizeof(pk) - 1);
	}
	if (o->printk)
		dat_set_printk(w, o->printk, strlen(o->printk));
	if (o->trace_clock)
		dat_set_trace_clock(w, "[local] global counter uptime perf mono mono_raw boot\n",
				    strlen("[local] global counter uptime perf mono mono_raw boot\n"));
	for (int c = 0; c < cpus && c < 4; c++)
		if (o->cpustats[c])
			dat_add_option(w, DAT_OPT_CPUSTAT, o->cpustats[c],
				       (uint32_t)strlen(o->cpustats[c]) + 1);
	if (o->raw_cpustat)
		dat_add_option(w, DAT_OPT_CPUSTAT, o->raw_cpustat, (uint32_t)strlen(o->raw_cpustat) + 1);
	{
		const struct { enum dat_dm_section sec; uint16_t old_id; const char *text; } secs[] = {
			{ DAT_DM_META, 0x6d01, o->meta },
			{ DAT_DM_STATS_BEFORE, 0x6d02, o->stats_before },
			{ DAT_DM_STATS_AFTER, 0x6d03, o->stats_after },
		};

		for (size_t k = 0; k < sizeof(secs) / sizeof(secs[0]); k++) {
			char *old;

			if (!secs[k].text)
				continue;
			if (!o->old_sections) {
				dat_add_dm_section(w, secs[k].sec, secs[k].text);
			} else if (asprintf(&old, DAT_DM_TAG "\n%s", secs[k].text) > 0) {
				dat_add_option(w, secs[k].old_id, old, (uint32_t)strlen(old) + 1);
				free(old);
			}
		}
	}

	for (size_t i = 0; i < s->n; i++) {
		const struct dm_event *e = &s->ev[i];
		int c = e->cpu % cpus, len;

		while (li < s->nlost && s->lost[li].at <= i) {
			int lc = s->lost[li].cpu % cpus;

			if (page_flush(w, lc, &pb[lc]))
				goto out;
			pb[lc].lost_set = true;
			pb[lc].lost = s->lost[li].count;
			li++;
		}
		if (e->kind == DM_EV_LOST)
			continue;
		len = encode(e, rec, sizeof(rec));
		if (len < 0)
			goto out;
		if (pb[c].lost_set && !pb[c].open) {
			/* open the flagged page with this event */
			bool ls = true;
			int64_t lv = pb[c].lost;

			if (page_add(w, c, &pb[c], e->ts, rec, len))
				goto out;
			pb[c].lost_set = ls;
			pb[c].lost = lv;
			continue;
		}
		if (page_add(w, c, &pb[c], e->ts, rec, len))
			goto out;
	}
	for (int c = 0; c < cpus; c++)
		if (page_flush(w, c, &pb[c]))
			goto out;
	if (dat_finish(w, err, sizeof(err))) {
		fprintf(stderr, "synth: %s\n", err);
		goto out;
	}
	ret = 0;
out:
	for (int c = 0; c < cpus; c++)
		free(pb[c].p);
	dat_writer_free(w);
	return ret;
}

static struct tep_handle *make_tep(bool kernel)
{
	struct tep_handle *tep = tep_alloc();

	if (!tep)
		return NULL;
	layout();
	use_618 = false;
	use_module = false;
	pad_byte = 0;
	tep_set_long_size(tep, 8);
	tep_set_page_size(tep, 4096);
	tep_parse_header_page(tep, (char *)header_page, sizeof(header_page) - 1, 8);
	for (int i = 0; i < NFEV; i++) {
		char *t;

		if (!fevent_used(i) || DM_EV_IS_KP(fevents[i].kind) != kernel)
			continue;
		t = format_text(&fevents[i], NULL);
		tep_parse_event(tep, t, strlen(t), fevents[i].system);
		free(t);
	}
	return tep;
}

struct tep_handle *sc_make_tep(void)
{
	return make_tep(false);
}

struct tep_handle *sc_make_tep_kernel(void)
{
	return make_tep(true);
}
