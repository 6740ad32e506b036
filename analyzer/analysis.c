// SPDX-License-Identifier: GPL-2.0
/*
 * The analysis engine: see analysis.h and docs/analyzer.md.
 *
 * State kept between events:
 *   pages: device folio -> its shadow pfn, user address, owner, order,
 *          allocation time and pages still live; indexed by first pfn
 *          (struct pblock), with its order.  An entry lives from the
 *          to_dev copy until all its pages are freed: a huge folio the
 *          kernel split is freed piece by piece, each piece found by the
 *          aligned block holding it.
 *   procs: pid (tgid) -> name, open migration cycle, live page count.
 *          An exited process whose pages are still live stays allocated
 *          (out of the map) until they are freed or the trace ends.
 *   tids:  thread -> its tgid (learned from devmem_fault.pid) and the
 *          migrate_vma_setup of the fault it is serving.
 *   cands: (pid, address) -> faults in a row that moved nothing: a fault
 *          loop candidate, reported once it reaches the threshold.
 *   forks: pid -> its parent, for every fork seen: a device page outlives
 *          its owner in the children that inherited the mapping.
 * The kernel-probe source's raw events go through kmode.c first, which
 * hands this engine the same kinds of events dmirror's tracepoints give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "hmap.h"
#include "kmode.h"

struct page {
	uint64_t dev_pfn, shadow_pfn, addr, alloc_ts;	/* of the first page */
	uint32_t proc;		/* index in a->procs */
	uint32_t dev;
	uint32_t live;		/* of its 1 << order pages, those not freed yet */
	uint32_t next;		/* another entry starting at dev_pfn (see pblock) */
	uint8_t order;
	bool returning;		/* copied back to system memory: its free ends a migration */
	bool devpage;		/* a device page of the kernel-probe source (no shadow) */
	uint64_t pgmap, driver;	/* ... its tokens */
};

/* a block of the page index (see block_of()) */
#define PBLOCK_SHIFT 9
#define PBLOCK_PFNS (1u << PBLOCK_SHIFT)

struct pblock {
	uint32_t slot[PBLOCK_PFNS];	/* HMAP_NONE: no entry starts there */
	uint32_t used;			/* entries in the block */
};

struct proc {
	int32_t pid;
	char comm[DM_COMM_LEN];
	bool exited, detached, cycle_open;
	uint64_t exit_ts;
	uint32_t live_pages;	/* live entries in a->pages (folios) */
	uint32_t ncand;
	struct dm_cycle *cycle;	/* allocated on the first cycle, reused */
};

struct tid {
	int32_t tid, tgid;	/* tgid 0: unknown, the tid is its own */
	bool fsetup_valid;	/* the fault path's migrate_vma_setup */
	bool fpath_seen;	/* ... was in the trace, since the last fault */
	bool fsetup_has_owner;
	uint8_t fsetup_owner_match;
	int32_t fsetup_ret;
	uint64_t fsetup_ts, fsetup_npages, fsetup_cpages;
	bool tsetup_valid;	/* the last to_dev migrate_vma_setup */
	uint64_t tsetup_ts;
	/* ... its pages asked for and collected, counted once its finalize
	 * has opened the cycle they belong to */
	bool tsetup_pending;
	uint64_t tsetup_npages, tsetup_cpages;
	/* the kernel-probe source's view of the fault-path setup */
	bool fsetup_kernel, fsetup_cpages_inferred;
	uint8_t fsetup_basis;
	uint64_t fsetup_owner, fsetup_page_owner;
};

struct cand {
	struct dm_loop l;
	bool reported;
};

struct dm_analysis {
	struct dm_config cfg;
	struct dm_result res;
	struct dm_kmode *km;
	struct hmap block_map, proc_map, tid_map, cand_map, fork_map;
	struct pool pages, blocks, procs, tids, cands;
	uint64_t bcache_key;	/* the page index's last block: its key */
	uint32_t bcache;	/* ... and index, HMAP_NONE: none */
	size_t loops_cap, leaks_cap;
	uint64_t page_size;	/* bytes, learned from setup events; 4096 until then */
	/* exits held for the batch of faults that may follow (exits_hold()) */
	struct dm_event exits[16];
	unsigned int nexits;
	bool started, finished, failed;
};

/* ---------------------------------------------------------------- latency */

void dm_lat_init(struct dm_latency *l)
{
	memset(l, 0, sizeof(*l));
}

void dm_lat_free(struct dm_latency *l)
{
	free(l->hist);
	l->hist = NULL;
}

#define LAT_SUB_BITS 5
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_LINEAR 64u		/* values below are exact buckets */
#define LAT_BUCKETS (LAT_LINEAR + (64 - 6) * LAT_SUB)

static unsigned int lat_bucket(uint64_t v)
{
	unsigned int e;

	if (v < LAT_LINEAR)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* >= 6 */
	return LAT_LINEAR + (e - 6) * LAT_SUB +
	       (unsigned int)((v >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1));
}

/* the middle of a bucket */
static uint64_t lat_bucket_value(unsigned int b)
{
	unsigned int e, sub;
	uint64_t lo, width;

	if (b < LAT_LINEAR)
		return b;
	e = (b - LAT_LINEAR) / LAT_SUB + 6;
	sub = (b - LAT_LINEAR) % LAT_SUB;
	width = 1ULL << (e - LAT_SUB_BITS);
	lo = (1ULL << e) + sub * width;
	return lo + width / 2;
}

/* A sample while the set is small, or the one that makes it a histogram. */
static __attribute__((noinline)) void lat_add_small(struct dm_latency *l, uint64_t v)
{
	if (l->nsmall < DM_LAT_EXACT) {
		l->small[l->nsmall++] = v;
		return;
	}
	l->hist = calloc(LAT_BUCKETS, sizeof(*l->hist));
	if (!l->hist) {
		/* keep min/max/count exact, drop the sample */
		return;
	}
	for (uint32_t i = 0; i < l->nsmall; i++)
		l->hist[lat_bucket(l->small[i])]++;
	l->hist[lat_bucket(v)]++;
}

/* inline in the engine: two samples a fault (the total and the cycle) */
static inline void lat_add(struct dm_latency *l, uint64_t v)
{
	if (!l->count || v < l->min)
		l->min = v;
	if (v > l->max)
		l->max = v;
	l->count++;
	l->sum += v;
	if (l->hist)
		l->hist[lat_bucket(v)]++;
	else
		lat_add_small(l, v);
}

void dm_lat_add(struct dm_latency *l, uint64_t v)
{
	lat_add(l, v);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q*count samples <= it. */
uint64_t dm_lat_quantile(const struct dm_latency *l, double q)
{
	uint64_t rank, seen = 0, v;

	if (!l->count)
		return 0;
	rank = (uint64_t)(q * (double)l->count + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->count)
		rank = l->count;
	if (!l->hist) {
		uint64_t tmp[DM_LAT_EXACT];

		memcpy(tmp, l->small, l->nsmall * sizeof(tmp[0]));
		qsort(tmp, l->nsmall, sizeof(tmp[0]), cmp_u64);
		return tmp[rank - 1];
	}
	for (unsigned int b = 0; b < LAT_BUCKETS; b++) {
		seen += l->hist[b];
		if (seen >= rank) {
			v = lat_bucket_value(b);
			if (v < l->min)
				v = l->min;
			if (v > l->max)
				v = l->max;
			return v;
		}
	}
	return l->max;
}

/* ------------------------------------------------------------------ names */

const char *dm_ev_kind_name(enum dm_ev_kind k)
{
	static const char *const names[DM_EV_MAX] = {
		[DM_EV_NONE] = "none",
		[DM_EV_SETUP] = "dmirror_migrate_setup",
		[DM_EV_COPY] = "dmirror_alloc_and_copy",
		[DM_EV_FINALIZE] = "dmirror_migrate_finalize",
		[DM_EV_FAULT] = "dmirror_devmem_fault",
		[DM_EV_GUARD] = "dmirror_fault_loop_guard",
		[DM_EV_FREE] = "dmirror_devmem_free",
		[DM_EV_CHUNK] = "dmirror_chunk_add",
		[DM_EV_RETURNED] = "dmirror_returned",
		[DM_EV_WINDOW] = "dmirror_window",
		[DM_EV_BATCH] = "dmirror_batch",
		[DM_EV_FORK] = "sched_process_fork",
		[DM_EV_EXEC] = "sched_process_exec",
		[DM_EV_EXIT] = "sched_process_exit",
		[DM_EV_LOST] = "lost",
		[DM_EV_DEVPAGE] = "device_page_init",
		[DM_EV_THREAD] = "thread",
		[DM_EV_HMM] = "hmm_range_fault",
		[DM_EV_KP_SETUP] = "mv_setup",
		[DM_EV_KP_SETUP_FPAGE] = "mv_setup_fpage",
		[DM_EV_KP_SETUP_RET] = "mv_setup_ret",
		[DM_EV_KP_PAGES] = "mv_pages",
		[DM_EV_KP_FINAL] = "mv_final",
		[DM_EV_KP_FINAL_RET] = "mv_final_ret",
		[DM_EV_KP_PAGE_INIT] = "dev_page_init",
		[DM_EV_KP_PAGE_FREE] = "dev_page_free",
		[DM_EV_KP_SWAP] = "swap_fault",
		[DM_EV_KP_SWAP_RET] = "swap_fault_ret",
		[DM_EV_KP_SWAP_MTR] = "swap_fault_mtr",
		[DM_EV_KP_LOCK_WAIT] = "lock_wait",
		[DM_EV_KP_HMM_RET] = "hmm_fault_ret",
		[DM_EV_USER_FAULT] = "page_fault_user",
		[DM_EV_NEWTASK] = "task_newtask",
	};
	return k < DM_EV_MAX ? names[k] : "?";
}

const char *dm_cause_name(enum dm_cause c)
{
	switch (c) {
	case DM_CAUSE_OWNER_MISMATCH: return "owner_mismatch";
	case DM_CAUSE_SETUP_ERROR: return "setup_error";
	case DM_CAUSE_NOT_COLLECTED: return "not_collected";
	case DM_CAUSE_NOT_MIGRATED: return "not_migrated";
	case DM_CAUSE_NO_SETUP: return "no_setup";
	case DM_CAUSE_NOT_REACHED: return "not_reached";
	default: return "unknown";
	}
}

const char *dm_cause_text(enum dm_cause c)
{
	switch (c) {
	case DM_CAUSE_OWNER_MISMATCH:
		return "the fault path's pgmap_owner does not match the owner of the device page";
	case DM_CAUSE_SETUP_ERROR:
		return "migrate_vma_setup() failed";
	case DM_CAUSE_NOT_COLLECTED:
		return "migrate_vma_setup() collected nothing although the owner matches";
	case DM_CAUSE_NOT_MIGRATED:
		return "the page was collected but not migrated";
	case DM_CAUSE_NO_SETUP:
		return "the fault handler returned before migrate_vma_setup()";
	case DM_CAUSE_NOT_REACHED:
		return "the fault did not reach the driver: the device page was locked";
	default:
		return "unknown";
	}
}

const char *dm_loop_end_name(enum dm_loop_end e)
{
	switch (e) {
	case DM_LOOP_OPEN: return "trace_end";
	case DM_LOOP_MIGRATED: return "migrated";
	case DM_LOOP_FREED: return "page_freed";
	case DM_LOOP_EXITED: return "process_exit";
	}
	return "?";
}

const char *dm_leak_kind_name(enum dm_leak_kind k)
{
	switch (k) {
	case DM_LEAK_FREED_UNRELEASED: return "freed_unreleased";
	case DM_LEAK_LIVE_AFTER_EXIT: return "live_after_exit";
	case DM_LEAK_DEVPAGE: return "device_page_live_after_exit";
	}
	return "?";
}

enum dm_cause dm_loop_cause(const struct dm_loop *l)
{
	enum dm_cause best = DM_CAUSE_NO_SETUP;
	uint64_t n = 0;

	for (int c = 0; c < DM_CAUSE_MAX; c++) {
		if (l->evidence[c] > n) {
			n = l->evidence[c];
			best = c;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ state */

static void fail_oom(struct dm_analysis *a)
{
	if (!a->failed)
		fprintf(stderr, "analyzer: out of memory; the analysis is incomplete\n");
	a->failed = true;
	a->res.incomplete = true;
}

struct dm_analysis *dm_analysis_new(const struct dm_config *cfg)
{
	struct dm_analysis *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (cfg)
		a->cfg = *cfg;
	if (!a->cfg.loop_threshold)
		a->cfg.loop_threshold = DM_DEFAULT_LOOP_THRESHOLD;
	a->page_size = 4096;
	pool_init(&a->pages, sizeof(struct page));
	pool_init(&a->blocks, sizeof(struct pblock));
	a->bcache = HMAP_NONE;
	pool_init(&a->procs, sizeof(struct proc));
	pool_init(&a->tids, sizeof(struct tid));
	pool_init(&a->cands, sizeof(struct cand));
	if (hmap_init(&a->block_map, 64) || hmap_init(&a->proc_map, 64) ||
	    hmap_init(&a->tid_map, 64) || hmap_init(&a->cand_map, 64) ||
	    hmap_init(&a->fork_map, 64)) {
		dm_analysis_free(a);
		return NULL;
	}
	a->km = dm_kmode_new(a, &a->cfg.kconf);
	if (!a->km) {
		dm_analysis_free(a);
		return NULL;
	}
	dm_lat_init(&a->res.total.lat);
	dm_lat_init(&a->res.outside.lat);
	return a;
}

void dm_analysis_footprint(const struct dm_analysis *a, size_t *pages, size_t *procs,
			   size_t *tids, size_t *cands)
{
	*pages = a->pages.live;
	*procs = a->procs.live;
	*tids = a->tids.live;
	*cands = a->cands.live;
}

uint32_t dm_analysis_loop_threshold(const struct dm_analysis *a)
{
	return a->cfg.loop_threshold;
}

bool dm_analysis_failed(const struct dm_analysis *a)
{
	return a->failed;
}

static inline struct proc *P(struct dm_analysis *a, uint32_t i)
{
	return pool_at(&a->procs, i);
}

static const char *resolve_comm(struct dm_analysis *a, int pid)
{
	const char *c = NULL;

	if (a->cfg.comm_of)
		c = a->cfg.comm_of(a->cfg.comm_ctx, pid);
	return c && *c ? c : "<...>";
}

static void set_comm(char *dst, const char *src)
{
	size_t n = strnlen(src, DM_COMM_LEN - 1);

	memmove(dst, src, n);
	dst[n] = 0;
}

static void proc_comm(struct dm_analysis *a, const struct proc *p, char *dst)
{
	if (p && p->comm[0])
		set_comm(dst, p->comm);
	else
		set_comm(dst, resolve_comm(a, p ? p->pid : -1));
}

const char *dm_analysis_sym(const struct dm_analysis *a, uint64_t token)
{
	const char *s = token && a->cfg.sym_of ? a->cfg.sym_of(a->cfg.sym_ctx, token) : NULL;

	return s ? s : "?";
}

const char *dm_analysis_comm(struct dm_analysis *a, int pid)
{
	uint32_t i = hmap_get(&a->proc_map, (uint64_t)(uint32_t)pid, 0);

	if (i != HMAP_NONE && P(a, i)->comm[0])
		return P(a, i)->comm;
	return resolve_comm(a, pid);
}

/*
 * The process and the task of consecutive events are mostly the same:
 * proc_get() and tid_get() answer those inline (the map's last hit) and
 * leave the rest to their _slow halves.
 */
static __attribute__((noinline)) uint32_t proc_get_slow(struct dm_analysis *a, int32_t pid,
							  bool create)
{
	uint32_t i = hmap_get_recent(&a->proc_map, (uint64_t)(uint32_t)pid, 0);
	struct proc *p;

	if (i != HMAP_NONE || !create)
		return i;
	i = pool_alloc(&a->procs);
	if (i == HMAP_NONE) {
		fail_oom(a);
		return HMAP_NONE;
	}
	if (hmap_put(&a->proc_map, (uint64_t)(uint32_t)pid, 0, i)) {
		pool_put(&a->procs, i);
		fail_oom(a);
		return HMAP_NONE;
	}
	p = P(a, i);
	p->pid = pid;
	return i;
}

static inline uint32_t proc_get(struct dm_analysis *a, int32_t pid, bool create)
{
	const struct hmap *h = &a->proc_map;

	if (h->mval != HMAP_NONE && h->m1 == (uint64_t)(uint32_t)pid && !h->m2)
		return h->mval;
	return proc_get_slow(a, pid, create);
}

static void proc_maybe_free(struct dm_analysis *a, uint32_t i)
{
	struct proc *p = P(a, i);

	if (!p->detached || p->live_pages || p->ncand || p->cycle_open)
		return;
	if (p->cycle) {
		dm_lat_free(&p->cycle->s.lat);
		free(p->cycle);
	}
	pool_put(&a->procs, i);
}

static __attribute__((noinline)) struct tid *tid_get_slow(struct dm_analysis *a, int32_t tid,
							    bool create)
{
	uint32_t i = hmap_get_recent(&a->tid_map, (uint64_t)(uint32_t)tid, 0);
	struct tid *t;

	if (i != HMAP_NONE)
		return pool_at(&a->tids, i);
	if (!create)
		return NULL;
	i = pool_alloc(&a->tids);
	if (i == HMAP_NONE) {
		fail_oom(a);
		return NULL;
	}
	if (hmap_put(&a->tid_map, (uint64_t)(uint32_t)tid, 0, i)) {
		pool_put(&a->tids, i);
		fail_oom(a);
		return NULL;
	}
	t = pool_at(&a->tids, i);
	t->tid = tid;
	return t;
}

static inline struct tid *tid_get(struct dm_analysis *a, int32_t tid, bool create)
{
	const struct hmap *h = &a->tid_map;

	if (h->mval != HMAP_NONE && h->m1 == (uint64_t)(uint32_t)tid && !h->m2)
		return pool_at(&a->tids, h->mval);
	return tid_get_slow(a, tid, create);
}

static int32_t tgid_of(struct dm_analysis *a, int32_t tid)
{
	struct tid *t;

	if (!hmap_count(&a->tid_map))
		return tid;
	t = tid_get(a, tid, false);
	return t && t->tgid ? t->tgid : tid;
}

int32_t dm_analysis_tgid(struct dm_analysis *a, int32_t tid)
{
	return tgid_of(a, tid);
}

struct dm_result *dm_analysis_counters(struct dm_analysis *a)
{
	return &a->res;
}

/* The statistics an event of process p is counted in, besides the total. */
static struct dm_stats *target(struct dm_analysis *a, uint32_t pi)
{
	if (pi != HMAP_NONE && P(a, pi)->cycle_open)
		return &P(a, pi)->cycle->s;
	return &a->res.outside;
}

#define BUMP(a, pi, field, n) COUNT(&(a)->res, target((a), (pi)), field, n)

/* BUMP() with the statistics of the event's process already found */
#define COUNT(r, tg, field, n)                         \
	do {                                           \
		uint64_t n__ = (n);                    \
		(r)->total.c.field += n__;             \
		(tg)->c.field += n__;                  \
	} while (0)

/* ----------------------------------------------------------------- cycles */

static void cycle_close(struct dm_analysis *a, uint32_t pi, uint64_t ts)
{
	struct proc *p = P(a, pi);

	if (!p->cycle_open)
		return;
	p->cycle->end_ts = ts;
	proc_comm(a, p, p->cycle->comm);
	p->cycle_open = false;
	if (a->cfg.on_cycle)
		a->cfg.on_cycle(a->cfg.ctx, p->cycle);
}

/* Closes the open cycle of process pi, if any, and opens its next one. */
static __attribute__((noinline)) void cycle_start(struct dm_analysis *a, uint32_t pi,
						     uint64_t start_ts)
{
	struct proc *p = P(a, pi);
	struct dm_cycle *c;

	cycle_close(a, pi, start_ts);
	if (!p->cycle) {
		p->cycle = malloc(sizeof(*p->cycle));
		if (!p->cycle) {
			fail_oom(a);
			return;
		}
		p->cycle->s.lat.hist = NULL;
	}
	c = p->cycle;
	dm_lat_free(&c->s.lat);
	memset(c, 0, sizeof(*c));
	c->id = ++a->res.cycles;
	c->pid = p->pid;
	c->start_ts = start_ts;
	p->cycle_open = true;
}

/*
 * A to_dev migration of process pi: the start of a new cycle if the
 * process has none open or pages came back since its last to_dev.
 * Inline: every copy to the device asks, and its cycle is mostly open.
 */
static inline void cycle_to_dev(struct dm_analysis *a, uint32_t pi, uint64_t start_ts)
{
	const struct proc *p;

	if (pi == HMAP_NONE)
		return;
	p = P(a, pi);
	if (p->cycle_open && !p->cycle->returned)
		return;
	cycle_start(a, pi, start_ts);
}

static void cycle_returned(struct dm_analysis *a, uint32_t pi)
{
	if (pi != HMAP_NONE && P(a, pi)->cycle_open)
		P(a, pi)->cycle->returned = true;
}

/* ------------------------------------------------------------------ loops */

static void loop_fill_comm(struct dm_analysis *a, struct dm_loop *l)
{
	uint32_t pi = hmap_get(&a->proc_map, (uint64_t)(uint32_t)l->pid, 0);

	proc_comm(a, pi == HMAP_NONE ? NULL : P(a, pi), l->comm);
	if (pi == HMAP_NONE)
		set_comm(l->comm, resolve_comm(a, l->pid));
}

static void loop_report(struct dm_analysis *a, struct cand *c)
{
	if (c->reported)
		return;
	c->reported = true;
	loop_fill_comm(a, &c->l);
	if (a->cfg.on_loop)
		a->cfg.on_loop(a->cfg.ctx, &c->l);
}

static uint32_t cand_get(struct dm_analysis *a, int32_t pid, uint64_t addr, bool create)
{
	uint32_t i = hmap_get(&a->cand_map, (uint64_t)(uint32_t)pid, addr);
	uint32_t pi;
	struct cand *c;

	if (i != HMAP_NONE || !create)
		return i;
	pi = proc_get(a, pid, true);
	if (pi == HMAP_NONE)
		return HMAP_NONE;
	i = pool_alloc(&a->cands);
	if (i == HMAP_NONE) {
		fail_oom(a);
		return HMAP_NONE;
	}
	if (hmap_put(&a->cand_map, (uint64_t)(uint32_t)pid, addr, i)) {
		pool_put(&a->cands, i);
		fail_oom(a);
		return HMAP_NONE;
	}
	P(a, pi)->ncand++;
	c = pool_at(&a->cands, i);
	c->l.pid = pid;
	c->l.addr = addr;
	return i;
}

static void cand_end(struct dm_analysis *a, uint32_t ci, enum dm_loop_end why, uint64_t ts)
{
	struct cand *c = pool_at(&a->cands, ci);
	uint32_t pi = hmap_get(&a->proc_map, (uint64_t)(uint32_t)c->l.pid, 0);

	if (c->l.count >= a->cfg.loop_threshold || c->l.guard) {
		if (a->res.nloops == a->loops_cap) {
			size_t ncap = a->loops_cap ? a->loops_cap * 2 : 16;
			struct dm_loop *nl = realloc(a->res.loops, ncap * sizeof(*nl));

			if (!nl) {
				fail_oom(a);
				goto out;
			}
			a->res.loops = nl;
			a->loops_cap = ncap;
		}
		c->l.end = why;
		c->l.end_ts = ts;
		c->l.below_threshold = c->l.count < a->cfg.loop_threshold;
		loop_fill_comm(a, &c->l);
		a->res.loops[a->res.nloops++] = c->l;
	}
out:
	hmap_del(&a->cand_map, (uint64_t)(uint32_t)c->l.pid, c->l.addr);
	pool_put(&a->cands, ci);
	if (pi != HMAP_NONE) {
		P(a, pi)->ncand--;
		proc_maybe_free(a, pi);
	}
}

/*
 * End the candidates of pid (any pid if all) whose address is in
 * [start, end).  Collect first: removal reshuffles the map.
 */
static void cands_end_match(struct dm_analysis *a, bool all, int32_t pid, uint64_t start,
			    uint64_t end, enum dm_loop_end why, uint64_t ts)
{
	uint32_t n = 0, *idx;

	if (!all) {
		uint32_t pi = hmap_get(&a->proc_map, (uint64_t)(uint32_t)pid, 0);

		if (pi == HMAP_NONE || !P(a, pi)->ncand)
			return;
	}
	if (!hmap_count(&a->cand_map))
		return;
	idx = malloc(hmap_count(&a->cand_map) * sizeof(*idx));
	if (!idx) {
		fail_oom(a);
		return;
	}
	for (uint32_t s = 0; s <= a->cand_map.mask; s++) {
		struct hmap_slot *sl = &a->cand_map.slots[s];

		if (sl->val == HMAP_NONE)
			continue;
		if (!all && (sl->k1 != (uint64_t)(uint32_t)pid || sl->k2 < start || sl->k2 >= end))
			continue;
		idx[n++] = sl->val;
	}
	for (uint32_t i = 0; i < n; i++)
		cand_end(a, idx[i], why, ts);
	free(idx);
}

static void cands_end_pid(struct dm_analysis *a, int32_t pid, uint64_t start, uint64_t end,
			  enum dm_loop_end why, uint64_t ts)
{
	cands_end_match(a, false, pid, start, end, why, ts);
}

/* ------------------------------------------------------------------ leaks */

static void leak_add(struct dm_analysis *a, const struct dm_leak *l)
{
	/* leaked_pages counts shadow pages; device pages are devpage_leaks */
	if (l->kind != DM_LEAK_DEVPAGE)
		a->res.leaked_pages += l->npages;
	if (a->res.nleaks == a->leaks_cap) {
		size_t ncap = a->leaks_cap ? a->leaks_cap * 2 : 16;
		struct dm_leak *nl = realloc(a->res.leaks, ncap * sizeof(*nl));

		if (!nl) {
			fail_oom(a);
			return;
		}
		a->res.leaks = nl;
		a->leaks_cap = ncap;
	}
	a->res.leaks[a->res.nleaks++] = *l;
	if (a->cfg.on_leak)
		a->cfg.on_leak(a->cfg.ctx, l);
}

/* ----------------------------------------------------------------- events */

static void call_count(struct dm_analysis *a, uint32_t pi, unsigned int d, uint64_t npages,
		       uint64_t cpages)
{
	BUMP(a, pi, calls[d], 1);
	BUMP(a, pi, requested[d], npages);
	BUMP(a, pi, collected[d], cpages);
}

static void todev_call_pending(struct tid *t, const struct dm_event *ev)
{
	t->tsetup_pending = true;
	t->tsetup_npages = ev->setup.npages;
	t->tsetup_cpages = ev->setup.cpages;
}

/* The thread's call to the device, counted in the cycle now open. */
static void todev_call_count(struct dm_analysis *a, struct tid *t, uint32_t pi)
{
	if (!t->tsetup_pending)
		return;
	t->tsetup_pending = false;
	call_count(a, pi, DM_DIR_TO_DEV, t->tsetup_npages, t->tsetup_cpages);
}

static void ev_setup(struct dm_analysis *a, const struct dm_event *ev)
{
	struct tid *t;
	uint32_t pi;

	pi = proc_get(a, tgid_of(a, ev->tid), true);
	t = tid_get(a, ev->tid, true);
	if (!t)
		return;
	/* a call to the device that never finalized counts where it was */
	todev_call_count(a, t, pi);
	if (ev->setup.ret)
		BUMP(a, pi, setup_failed, 1);
	else if (ev->setup.dir == DM_DIR_TO_DEV)
		todev_call_pending(t, ev);
	else
		call_count(a, pi, DM_DIR_TO_RAM, ev->setup.npages, ev->setup.cpages);
	/* npages = (end - start) >> PAGE_SHIFT: the page size */
	if (ev->setup.npages && ev->setup.end > ev->setup.start &&
	    (ev->setup.end - ev->setup.start) % ev->setup.npages == 0) {
		uint64_t ps = (ev->setup.end - ev->setup.start) / ev->setup.npages;

		if (ps >= 4096 && ps <= 65536 && !(ps & (ps - 1)))
			a->page_size = ps;
	}
	if (ev->setup.fault) {
		t->fpath_seen = true;
		t->fsetup_valid = true;
		t->fsetup_ts = ev->ts;
		t->fsetup_npages = ev->setup.npages;
		t->fsetup_cpages = ev->setup.cpages;
		t->fsetup_ret = ev->setup.ret;
		t->fsetup_owner_match = ev->setup.owner_match;
		t->fsetup_has_owner = ev->setup.has_owner_match;
		t->fsetup_kernel = ev->setup.kernel;
		t->fsetup_cpages_inferred = ev->setup.cpages_inferred;
		t->fsetup_basis = ev->setup.owner_basis;
		t->fsetup_owner = ev->setup.owner;
		t->fsetup_page_owner = ev->setup.page_owner;
	} else if (ev->setup.dir == DM_DIR_TO_DEV) {
		t->tsetup_valid = true;
		t->tsetup_ts = ev->ts;
	}
}

static uint64_t todev_start(struct dm_analysis *a, const struct dm_event *ev)
{
	struct tid *t = tid_get(a, ev->tid, false);

	if (t && t->tsetup_valid && t->tsetup_ts <= ev->ts)
		return t->tsetup_ts;
	return ev->ts;
}

static unsigned int order_of(uint8_t order)
{
	return order > DM_MAX_ORDER ? DM_MAX_ORDER : order;
}

/*
 * The page index: the live entries by first pfn, in blocks of
 * PBLOCK_PFNS pfns (a->block_map: pfn >> PBLOCK_SHIFT -> the block's
 * index in a->blocks), where a slot holds the entry whose folio starts at
 * that pfn, and any other of another order chained from it (a huge
 * folio and a page at its first pfn, when a free was lost).  Device pfns
 * come in runs, so consecutive events land in one block, which the last
 * lookup's block answers without the map: a copy, a fault and a free
 * were three probes of a hash map on (pfn, order) before, most of the
 * engine's time on a healthy trace.  A block is freed with its last
 * entry: memory stays proportional to the live pages.
 */
static inline struct pblock *block_of(struct dm_analysis *a, uint64_t pfn, uint32_t *bi)
{
	uint64_t key = pfn >> PBLOCK_SHIFT;
	uint32_t i;

	/* the block of the last lookup, without the map */
	if (a->bcache != HMAP_NONE && a->bcache_key == key) {
		i = a->bcache;
	} else {
		i = hmap_get(&a->block_map, key, 0);
		if (i != HMAP_NONE) {
			a->bcache = i;
			a->bcache_key = key;
		}
	}
	if (bi)
		*bi = i;
	return i == HMAP_NONE ? NULL : pool_at(&a->blocks, i);
}

/* The block of pfn, made if need be; NULL when out of memory. */
static struct pblock *block_make(struct dm_analysis *a, uint64_t pfn)
{
	struct pblock *b = block_of(a, pfn, NULL);
	uint32_t bi;

	if (b)
		return b;
	bi = pool_alloc(&a->blocks);
	if (bi == HMAP_NONE)
		return NULL;
	if (hmap_put(&a->block_map, pfn >> PBLOCK_SHIFT, 0, bi)) {
		pool_put(&a->blocks, bi);
		return NULL;
	}
	b = pool_at(&a->blocks, bi);
	for (unsigned int k = 0; k < PBLOCK_PFNS; k++)
		b->slot[k] = HMAP_NONE;
	return b;
}

/* The live entry of the folio of 1 << order pages starting at pfn. */
static uint32_t page_get(struct dm_analysis *a, uint64_t pfn, unsigned int order)
{
	const struct pblock *b = block_of(a, pfn, NULL);
	uint32_t gi = b ? b->slot[pfn & (PBLOCK_PFNS - 1)] : HMAP_NONE;

	while (gi != HMAP_NONE) {
		const struct page *pg = pool_at(&a->pages, gi);

		if (pg->order == order)
			return gi;
		gi = pg->next;
	}
	return HMAP_NONE;
}

/*
 * The live entry holding device pfn `pfn` (freed or copied as a folio of
 * `order`): that folio's own entry, else the entry of the larger (huge)
 * folio whose naturally aligned block holds it: a piece of a folio the
 * kernel split.  HMAP_NONE when there is none.
 */
static uint32_t page_find(struct dm_analysis *a, uint64_t pfn, unsigned int order)
{
	uint32_t gi = page_get(a, pfn, order);

	if (gi != HMAP_NONE)
		return gi;
	for (unsigned int o = order + 1; o <= DM_MAX_ORDER; o++) {
		gi = page_get(a, pfn & ~((1ull << o) - 1), o);
		if (gi != HMAP_NONE)
			return gi;
	}
	return HMAP_NONE;
}

/* Entry gi, out of the index already, is gone. */
static void page_forget(struct dm_analysis *a, uint32_t gi)
{
	uint32_t pi = ((struct page *)pool_at(&a->pages, gi))->proc;

	pool_put(&a->pages, gi);
	P(a, pi)->live_pages--;
	proc_maybe_free(a, pi);
}

/* Takes entry gi out of its slot's chain (and its block, if the last). */
static void page_unlink(struct dm_analysis *a, uint32_t gi)
{
	const struct page *pg = pool_at(&a->pages, gi);
	uint32_t bi, *at;
	struct pblock *b = block_of(a, pg->dev_pfn, &bi);

	/* every live entry is in its slot's chain */
	if (!b)
		return;
	at = &b->slot[pg->dev_pfn & (PBLOCK_PFNS - 1)];
	while (*at != HMAP_NONE && *at != gi)
		at = &((struct page *)pool_at(&a->pages, *at))->next;
	if (*at != gi)
		return;
	*at = pg->next;
	if (!--b->used) {
		hmap_del(&a->block_map, pg->dev_pfn >> PBLOCK_SHIFT, 0);
		pool_put(&a->blocks, bi);
		if (a->bcache == bi)
			a->bcache = HMAP_NONE;
	}
}

static void page_drop(struct dm_analysis *a, uint32_t gi)
{
	page_unlink(a, gi);
	page_forget(a, gi);
}

/*
 * A new live entry for the device folio pfn of 1 << order pages, owned by
 * process pi.  One allocated twice without a free in between lost its
 * free: the old one is forgotten.  NULL when out of memory.
 */
static struct page *page_add(struct dm_analysis *a, uint32_t pi, uint64_t pfn, unsigned int order,
			     uint64_t ts)
{
	uint32_t gi, old = page_get(a, pfn, order);
	struct pblock *b;
	struct page *pg;

	if (old != HMAP_NONE)
		page_drop(a, old);
	gi = pool_alloc_raw(&a->pages);
	b = gi == HMAP_NONE ? NULL : block_make(a, pfn);
	if (!b) {
		if (gi != HMAP_NONE)
			pool_put(&a->pages, gi);
		fail_oom(a);
		return NULL;
	}
	pg = pool_at(&a->pages, gi);
	*pg = (struct page){
		.dev_pfn = pfn, .alloc_ts = ts, .proc = pi, .order = (uint8_t)order,
		.live = 1u << order, .next = b->slot[pfn & (PBLOCK_PFNS - 1)],
	};
	b->slot[pfn & (PBLOCK_PFNS - 1)] = gi;
	b->used++;
	P(a, pi)->live_pages++;
	return pg;
}

/* A walk over every live entry, in no particular order. */
struct page_walk {
	uint32_t map_slot, pfn_slot;
	uint32_t last;		/* the entry returned last: its chain goes on */
};

#define PAGE_WALK_START { 0, 0, HMAP_NONE }

/* The next entry of the walk, HMAP_NONE at its end. */
static uint32_t page_next(const struct dm_analysis *a, struct page_walk *w)
{
	if (w->last != HMAP_NONE) {
		uint32_t gi = ((const struct page *)pool_at(&a->pages, w->last))->next;

		if (gi != HMAP_NONE)
			return w->last = gi;
	}
	for (; a->block_map.slots && w->map_slot <= a->block_map.mask; w->map_slot++, w->pfn_slot = 0) {
		uint32_t bi = a->block_map.slots[w->map_slot].val;
		const struct pblock *b;

		if (bi == HMAP_NONE)
			continue;
		b = pool_at(&a->blocks, bi);
		while (w->pfn_slot < PBLOCK_PFNS) {
			uint32_t gi = b->slot[w->pfn_slot++];

			if (gi != HMAP_NONE)
				return w->last = gi;
		}
	}
	return w->last = HMAP_NONE;
}

static void ev_copy(struct dm_analysis *a, const struct dm_event *ev)
{
	/* tgid_of() and todev_start() in one lookup of the task: a copy
	 * to the device is one record in two of a healthy trace */
	const struct tid *t = hmap_count(&a->tid_map) ? tid_get(a, ev->tid, false) : NULL;
	uint32_t pi = proc_get(a, t && t->tgid ? t->tgid : ev->tid, true);
	uint64_t start = t && t->tsetup_valid && t->tsetup_ts <= ev->ts ? t->tsetup_ts : ev->ts;
	unsigned int order = order_of(ev->copy.order);
	uint64_t n = 1ull << order;
	uint32_t gi;
	struct page *pg;

	if (ev->copy.dir != DM_DIR_TO_DEV) {
		uint32_t owner = pi;

		gi = page_find(a, ev->copy.src_pfn, order);
		if (gi != HMAP_NONE) {
			struct page *p = pool_at(&a->pages, gi);

			owner = p->proc;
			p->returning = true;
		}
		BUMP(a, owner, copies_to_ram, n);
		cycle_returned(a, owner);
		return;
	}
	if (pi == HMAP_NONE)
		return;
	cycle_to_dev(a, pi, start);
	BUMP(a, pi, copies_to_dev, n);

	pg = page_add(a, pi, ev->copy.dst_pfn, order, ev->ts);
	if (!pg)
		return;
	pg->shadow_pfn = ev->copy.shadow_pfn;
	pg->addr = ev->copy.addr;
	pg->dev = ev->copy.dev;
}

/* A device page of the kernel-probe source: no shadow, no address. */
static void ev_devpage(struct dm_analysis *a, const struct dm_event *ev)
{
	uint32_t pi = proc_get(a, tgid_of(a, ev->tid), true);
	unsigned int order = order_of(ev->devpage.order);
	struct page *pg;

	if (pi == HMAP_NONE)
		return;
	a->res.devpages_init += 1ull << order;
	pg = page_add(a, pi, ev->devpage.page, order, ev->ts);
	if (!pg)
		return;
	pg->devpage = true;
	pg->pgmap = ev->devpage.pgmap;
	pg->driver = ev->devpage.driver;
}

static void ev_finalize(struct dm_analysis *a, const struct dm_event *ev)
{
	int32_t tgid = tgid_of(a, ev->tid);
	uint32_t pi = proc_get(a, tgid, true);
	struct tid *t;

	if (pi == HMAP_NONE)
		return;
	if (ev->fin.dir == DM_DIR_TO_DEV) {
		if (ev->fin.migrated)
			cycle_to_dev(a, pi, todev_start(a, ev));
		BUMP(a, pi, to_dev, ev->fin.migrated);
		t = tid_get(a, ev->tid, false);
		if (t) {
			t->tsetup_valid = false;
			todev_call_count(a, t, pi);
		}
		return;
	}
	if (ev->fin.fault) {
		BUMP(a, pi, to_ram_fault, ev->fin.migrated);
	} else {
		BUMP(a, pi, to_ram_ioctl, ev->fin.migrated);
		/* an explicit migration back ends loops in its range */
		if (ev->fin.migrated)
			cands_end_pid(a, tgid, ev->fin.start, ev->fin.end, DM_LOOP_MIGRATED, ev->ts);
	}
	if (!ev->fin.migrated)
		return;
	cycle_returned(a, pi);
	if (ev->fin.fault) {
		uint64_t v = 0;
		bool have = false;

		if (ev->fin.has_duration) {
			v = ev->fin.duration_ns;
			have = true;
		} else {
			t = tid_get(a, ev->tid, false);
			if (t && t->fsetup_valid && t->fsetup_ts <= ev->ts) {
				v = ev->ts - t->fsetup_ts;
				have = true;
			}
		}
		if (have) {
			lat_add(&a->res.total.lat, v);
			lat_add(&target(a, pi)->lat, v);
		}
	}
}

static void ev_fault(struct dm_analysis *a, const struct dm_event *ev)
{
	int32_t pid = ev->fault.pid;
	uint32_t pi, ci;
	struct tid *t;
	struct cand *c;

	/* learn which process a thread belongs to */
	if (ev->tid != pid && pid > 0) {
		t = tid_get(a, ev->tid, true);
		if (t)
			t->tgid = pid;
	}
	pi = proc_get(a, pid, true);
	BUMP(a, pi, faults, 1);
	if (ev->fault.result & DM_VM_FAULT_SIGBUS)
		BUMP(a, pi, sigbus, 1);
	t = tid_get(a, ev->tid, false);
	if (t)
		t->fpath_seen = false;

	if (ev->fault.migrated) {
		ci = cand_get(a, pid, ev->fault.addr, false);
		if (ci != HMAP_NONE)
			cand_end(a, ci, DM_LOOP_MIGRATED, ev->ts);
		if (t)
			t->fsetup_valid = false;
		return;
	}
	BUMP(a, pi, faults_no_progress, 1);
	ci = cand_get(a, pid, ev->fault.addr, true);
	if (ci == HMAP_NONE)
		return;
	c = pool_at(&a->cands, ci);
	if (c->l.count && c->l.dev_pfn != ev->fault.dev_pfn) {
		/* a different device page at the same address: the old one
		 * must have moved back in between */
		cand_end(a, ci, DM_LOOP_MIGRATED, ev->ts);
		ci = cand_get(a, pid, ev->fault.addr, true);
		if (ci == HMAP_NONE)
			return;
		c = pool_at(&a->cands, ci);
	}
	if (!c->l.count)
		c->l.first_ts = ev->ts;
	c->l.count++;
	c->l.last_ts = ev->ts;
	c->l.dev = ev->fault.dev;
	c->l.dev_pfn = ev->fault.dev_pfn;
	c->l.last_result = ev->fault.result;
	if (ev->fault.no_progress > c->l.max_no_progress)
		c->l.max_no_progress = ev->fault.no_progress;
	if (ev->fault.result & DM_VM_FAULT_SIGBUS)
		c->l.sigbus++;

	if (ev->fault.kernel) {
		c->l.kernel = true;
		c->l.has_uip = ev->fault.has_uip;
		c->l.uip = ev->fault.uip;
		if (ev->fault.callback)
			c->l.callback = ev->fault.callback;
		if (ev->fault.migrator)
			c->l.migrator = ev->fault.migrator;
	}
	/* what did migrate_vma_setup() say for this fault? */
	if (t && t->fsetup_valid && t->fsetup_ts <= ev->ts) {
		c->l.last_npages = t->fsetup_npages;
		c->l.last_cpages = t->fsetup_cpages;
		c->l.owner_basis = t->fsetup_has_owner ?
			(t->fsetup_kernel ? t->fsetup_basis : DM_OWNER_DRIVER) : DM_OWNER_NONE;
		c->l.owner = t->fsetup_owner;
		c->l.page_owner = t->fsetup_page_owner;
		c->l.cpages_inferred = t->fsetup_cpages_inferred;
		if (t->fsetup_ret) {
			c->l.evidence[DM_CAUSE_SETUP_ERROR]++;
			c->l.last_ret = t->fsetup_ret;
		} else if (!t->fsetup_cpages) {
			if (t->fsetup_has_owner && !t->fsetup_owner_match)
				c->l.evidence[DM_CAUSE_OWNER_MISMATCH]++;
			else
				c->l.evidence[DM_CAUSE_NOT_COLLECTED]++;
		} else {
			c->l.evidence[DM_CAUSE_NOT_MIGRATED]++;
		}
		t->fsetup_valid = false;
	} else if (ev->fault.reach == DM_REACH_LOCK) {
		c->l.evidence[DM_CAUSE_NOT_REACHED]++;
	} else {
		c->l.evidence[DM_CAUSE_NO_SETUP]++;
	}
	if (c->l.count == a->cfg.loop_threshold)
		loop_report(a, c);
}

static void ev_guard(struct dm_analysis *a, const struct dm_event *ev)
{
	uint32_t pi = proc_get(a, ev->guard.pid, true);
	uint32_t ci;
	struct cand *c;

	BUMP(a, pi, guard, 1);
	ci = cand_get(a, ev->guard.pid, ev->guard.addr, true);
	if (ci == HMAP_NONE)
		return;
	c = pool_at(&a->cands, ci);
	c->l.guard = true;
	c->l.guard_count = ev->guard.count;
	c->l.guard_limit = ev->guard.limit;
	c->l.guard_ts = ev->ts;
	c->l.dev = ev->guard.dev;
	if (!c->l.count) {
		c->l.dev_pfn = ev->guard.dev_pfn;
		c->l.first_ts = c->l.last_ts = ev->ts;
	}
	loop_report(a, c);
}

/*
 * Pages [pfn, pfn + n) of entry pg were freed: end the loop candidates
 * of its owner on them (a candidate whose device page they are).
 */
static void free_ends_cands(struct dm_analysis *a, const struct page *pg, uint64_t pfn, uint64_t n,
			    uint64_t ts)
{
	uint64_t first = pg->dev_pfn, last = pg->dev_pfn + (1ull << pg->order);

	if (pfn < first)
		pfn = first;
	for (uint64_t p = pfn; p < pfn + n && p < last; p++) {
		int32_t pid = P(a, pg->proc)->pid;
		uint64_t addr = pg->addr + (p - first) * a->page_size;
		uint32_t ci;

		if (!P(a, pg->proc)->ncand)
			return;
		ci = cand_get(a, pid, addr, false);
		if (ci != HMAP_NONE && ((struct cand *)pool_at(&a->cands, ci))->l.dev_pfn == p)
			cand_end(a, ci, pg->returning ? DM_LOOP_MIGRATED : DM_LOOP_FREED, ts);
	}
}

/* A free of the live entry gi (HMAP_NONE: a page not seen allocated). */
static void free_at(struct dm_analysis *a, const struct dm_event *ev, uint32_t gi)
{
	uint64_t n = 1ull << order_of(ev->free.order);
	struct page pg = { 0 };
	uint32_t owner;

	if (gi != HMAP_NONE) {
		pg = *(struct page *)pool_at(&a->pages, gi);
		owner = pg.proc;
	} else {
		owner = proc_get(a, tgid_of(a, ev->tid), true);
		a->res.untracked_frees += n;
	}
	BUMP(a, owner, frees, n);

	if (!ev->free.released && ev->free.shadow_pfn) {
		struct dm_leak l = {
			.kind = DM_LEAK_FREED_UNRELEASED,
			.dev = ev->free.dev,
			.dev_pfn = ev->free.dev_pfn,
			.shadow_pfn = ev->free.shadow_pfn,
			.npages = n,
			.free_ts = ev->ts,
			.pid = -1,
		};

		if (gi != HMAP_NONE) {
			/* a piece of a split folio: its own address */
			l.addr = pg.addr + (ev->free.dev_pfn - pg.dev_pfn) * a->page_size;
			l.alloc_known = true;
			l.alloc_ts = pg.alloc_ts;
			l.pid = P(a, owner)->pid;
			proc_comm(a, P(a, owner), l.comm);
		} else {
			set_comm(l.comm, "-");
		}
		BUMP(a, owner, leaks, n);
		leak_add(a, &l);
	}

	if (gi != HMAP_NONE) {
		free_ends_cands(a, &pg, ev->free.dev_pfn, n, ev->ts);
		/* the folio ends with its last page */
		if (n >= pg.live)
			page_drop(a, gi);
		else
			((struct page *)pool_at(&a->pages, gi))->live -= (uint32_t)n;
	}
}

static void ev_free(struct dm_analysis *a, const struct dm_event *ev)
{
	free_at(a, ev, page_find(a, ev->free.dev_pfn, order_of(ev->free.order)));
}

static void proc_detach(struct dm_analysis *a, uint32_t pi, uint64_t ts, bool exited)
{
	struct proc *p = P(a, pi);
	int32_t pid = p->pid;

	cycle_close(a, pi, ts);
	cands_end_pid(a, pid, 0, UINT64_MAX, DM_LOOP_EXITED, ts);
	p = P(a, pi);
	if (exited) {
		p->exited = true;
		p->exit_ts = ts;
	}
	hmap_del(&a->proc_map, (uint64_t)(uint32_t)pid, 0);
	p->detached = true;
	proc_maybe_free(a, pi);
}

static void ev_fork(struct dm_analysis *a, const struct dm_event *ev)
{
	uint32_t pi = proc_get(a, ev->fork.child, false);

	if (hmap_put(&a->fork_map, (uint32_t)ev->fork.child, 0,
		     (uint32_t)tgid_of(a, ev->fork.parent)))
		fail_oom(a);

	if (pi != HMAP_NONE)	/* a reused pid whose exit we missed */
		proc_detach(a, pi, ev->ts, false);
	pi = proc_get(a, ev->fork.child, true);
	if (pi != HMAP_NONE)
		set_comm(P(a, pi)->comm, ev->fork.comm);
}

static void ev_exec(struct dm_analysis *a, const struct dm_event *ev)
{
	uint32_t pi = proc_get(a, tgid_of(a, ev->exec.pid), true);

	if (pi != HMAP_NONE && ev->exec.comm[0])
		set_comm(P(a, pi)->comm, ev->exec.comm);
}

static void ev_exit(struct dm_analysis *a, const struct dm_event *ev)
{
	int32_t pid = ev->exit.pid;
	uint32_t ti = hmap_get(&a->tid_map, (uint64_t)(uint32_t)pid, 0);
	uint32_t pi;

	if (ti != HMAP_NONE) {
		struct tid *t = pool_at(&a->tids, ti);
		bool thread = t->tgid && t->tgid != pid;
		uint32_t owner = proc_get(a, t->tgid ? t->tgid : pid, false);

		if (owner != HMAP_NONE)
			todev_call_count(a, t, owner);
		hmap_del(&a->tid_map, (uint64_t)(uint32_t)pid, 0);
		pool_put(&a->tids, ti);
		if (thread)
			return;	/* a thread of a process we know: not the process */
	}
	pi = proc_get(a, pid, false);
	if (pi == HMAP_NONE)
		return;
	if (!P(a, pi)->comm[0] && ev->exit.comm[0])
		set_comm(P(a, pi)->comm, ev->exit.comm);
	proc_detach(a, pi, ev->ts, true);
}

static void ev_thread(struct dm_analysis *a, const struct dm_event *ev)
{
	struct tid *t = tid_get(a, ev->tid, true);

	if (t && ev->thread.tgid != ev->tid)
		t->tgid = ev->thread.tgid;
}

static void ev_hmm(struct dm_analysis *a, const struct dm_event *ev)
{
	a->res.hmm_calls++;
	if (ev->hmm.ret < 0)
		a->res.hmm_errors++;
	if (ev->hmm.ret == -16)	/* EBUSY: the range changed, the driver retries */
		a->res.hmm_ebusy++;
}

static void process(struct dm_analysis *a, const struct dm_event *ev);

/* An event the trace stands for: counted by kind, as if it were there. */
static void feed_unfolded(struct dm_analysis *a, const struct dm_event *ev)
{
	a->res.by_kind[ev->kind]++;
	process(a, ev);
}

/*
 * A dmirror_devmem_fault that says what its migration found stands for
 * the fault path's own setup, copy and finalize events when the trace has
 * none of them for it (analyzer record filters them out unless
 * --all-events): they are fed here as the driver emits them, setup when
 * the migration began (the fault's time less its duration), the copy and
 * finalize at the fault.  A fault that moved n pages, a power of two, is
 * one copy of that folio (the device folio faulted on, naturally
 * aligned): what the copies of a huge folio moved whole or page by page
 * count to.
 */
static void fault_unfold(struct dm_analysis *a, const struct dm_event *ev)
{
	const struct tid *t = tid_get(a, ev->tid, false);
	uint64_t n = ev->fault.migrated, span, start;
	struct dm_event e = { .cpu = ev->cpu, .tid = ev->tid };
	unsigned int order = 0;

	if (!ev->fault.has_setup || !ev->fault.setup_npages || (t && t->fpath_seen))
		return;
	/* the window: the page, or the PMD of a huge device folio */
	span = ev->fault.setup_npages * a->page_size;
	start = span & (span - 1) ? ev->fault.addr : ev->fault.addr & ~(span - 1);
	e.kind = DM_EV_SETUP;
	e.ts = ev->fault.has_duration && ev->fault.duration_ns <= ev->ts ?
	       ev->ts - ev->fault.duration_ns : ev->ts;
	e.setup.dev = ev->fault.dev;
	e.setup.dir = DM_DIR_TO_RAM;
	e.setup.fault = 1;
	e.setup.start = start;
	e.setup.end = start + span;
	e.setup.npages = ev->fault.setup_npages;
	e.setup.cpages = ev->fault.setup_cpages;
	e.setup.owner_match = ev->fault.owner_match;
	e.setup.has_owner_match = true;
	e.setup.ret = ev->fault.setup_ret;
	feed_unfolded(a, &e);
	if (ev->fault.setup_ret)
		return;

	e.ts = ev->ts;
	if (n && !(n & (n - 1))) {
		while ((1ull << order) < n)
			order++;
		memset(&e.copy, 0, sizeof(e.copy));
		e.kind = DM_EV_COPY;
		e.copy.dev = ev->fault.dev;
		e.copy.dir = DM_DIR_TO_RAM;
		e.copy.order = (uint8_t)order;
		e.copy.src_pfn = ev->fault.dev_pfn & ~(n - 1);
		e.copy.addr = ev->fault.addr & ~(n * a->page_size - 1);
		feed_unfolded(a, &e);
	}
	memset(&e.fin, 0, sizeof(e.fin));
	e.kind = DM_EV_FINALIZE;
	e.fin.dev = ev->fault.dev;
	e.fin.dir = DM_DIR_TO_RAM;
	e.fin.fault = 1;
	e.fin.start = start;
	e.fin.end = start + span;
	e.fin.npages = ev->fault.setup_npages;
	e.fin.cpages = ev->fault.setup_cpages;
	e.fin.migrated = n;
	e.fin.has_duration = ev->fault.has_duration;
	e.fin.duration_ns = ev->fault.duration_ns;
	feed_unfolded(a, &e);
}

/*
 * A dmirror_devmem_fault that carries the free of the device folio it
 * migrated (the driver folds them while analyzer record holds its
 * fold_events file): the free, fed as the driver would have traced it,
 * just after the fault.
 */
static void free_of_fault(const struct dm_event *ev, struct dm_event *e)
{
	*e = (struct dm_event){ .ts = ev->ts, .cpu = ev->cpu, .tid = ev->tid, .kind = DM_EV_FREE };
	e->free.dev = ev->fault.dev;
	e->free.dev_pfn = ev->fault.free_pfn;
	e->free.order = ev->fault.free_order;
	e->free.shadow_pfn = ev->fault.free_shadow_pfn;
	e->free.released = ev->fault.free_released;
	e->free.free_pages = ev->fault.free_pages;
}

static void free_unfold(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_event e;

	free_of_fault(ev, &e);
	feed_unfolded(a, &e);
}

/*
 * The runs of a dmirror_returned or dmirror_window event stand for a
 * MIGRATE_TO_SYS window's copies and frees of their pages (order 0,
 * shadow released): fed as the driver would have traced them, the copies,
 * then the frees of its finalize.
 */
static void runs_unfold(struct dm_analysis *a, const struct dm_event *ev, uint32_t dev,
			uint64_t free_pages, const uint64_t *pfn, const uint32_t *npages)
{
	struct dm_event e = { .ts = ev->ts, .cpu = ev->cpu, .tid = ev->tid };

	for (int pass = 0; pass < 2; pass++)
		for (int r = 0; r < DM_RETURNED_RUNS; r++)
			for (uint32_t k = 0; k < npages[r]; k++) {
				uint64_t p = pfn[r] + k;

				memset(&e.copy, 0, sizeof(e.free) > sizeof(e.copy) ?
				       sizeof(e.free) : sizeof(e.copy));
				if (!pass) {
					e.kind = DM_EV_COPY;
					e.copy.dev = dev;
					e.copy.dir = DM_DIR_TO_RAM;
					e.copy.src_pfn = p;
				} else {
					e.kind = DM_EV_FREE;
					e.free.dev = dev;
					e.free.dev_pfn = p;
					e.free.released = 1;
					e.free.free_pages = free_pages;
				}
				feed_unfolded(a, &e);
			}
}

static void returned_unfold(struct dm_analysis *a, const struct dm_event *ev)
{
	runs_unfold(a, ev, ev->returned.dev, ev->returned.free_pages, ev->returned.pfn,
		    ev->returned.npages);
}

/*
 * A dmirror_window: the setup, runs and finalize of a folded
 * MIGRATE_TO_SYS window with nothing else traced, as the driver emits
 * them apart (setup returned 0).
 */
static void window_unfold(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_event e = { .ts = ev->ts, .cpu = ev->cpu, .tid = ev->tid, .kind = DM_EV_SETUP };

	e.setup.dev = ev->window.dev;
	e.setup.dir = DM_DIR_TO_RAM;
	e.setup.owner_match = ev->window.owner_match;
	e.setup.has_owner_match = true;
	e.setup.start = ev->window.start;
	e.setup.end = ev->window.end;
	e.setup.npages = ev->window.npages;
	e.setup.cpages = ev->window.cpages;
	feed_unfolded(a, &e);
	runs_unfold(a, ev, ev->window.dev, ev->window.free_pages, ev->window.pfn,
		    ev->window.run_pages);
	memset(&e.setup, 0, sizeof(e.setup));
	e.kind = DM_EV_FINALIZE;
	e.fin.dev = ev->window.dev;
	e.fin.dir = DM_DIR_TO_RAM;
	e.fin.has_duration = true;
	e.fin.start = ev->window.start;
	e.fin.end = ev->window.end;
	e.fin.npages = ev->window.npages;
	e.fin.cpages = ev->window.cpages;
	e.fin.migrated = ev->window.migrated;
	e.fin.duration_ns = ev->window.duration_ns;
	feed_unfolded(a, &e);
}

/*
 * A dmirror_batch event: each of its pages as the dmirror_devmem_fault
 * (freed=1) or the one-page dmirror_window it stands for, every one at
 * the batch's time.
 */
static void batch_unfold(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_event e = { .ts = ev->ts, .cpu = ev->cpu };

	for (uint32_t i = 0; i < ev->batch.n && i < DM_BATCH_PAGES; i++) {
		const struct dm_batch_entry *b = &ev->batch.e[i];

		memset(&e.fault, 0, sizeof(e.fault) > sizeof(e.window) ? sizeof(e.fault) :
		       sizeof(e.window));
		e.tid = b->tid;
		if (!b->fault) {
			e.kind = DM_EV_WINDOW;
			e.window.dev = ev->batch.dev;
			e.window.npages = e.window.cpages = e.window.migrated = 1;
			e.window.owner_match = 1;
			e.window.start = b->addr;
			e.window.end = b->addr + a->page_size;
			e.window.duration_ns = b->duration_ns;
			e.window.free_pages = b->free_pages;
			e.window.pfn[0] = b->dev_pfn;
			e.window.run_pages[0] = 1;
			feed_unfolded(a, &e);
			continue;
		}
		e.kind = DM_EV_FAULT;
		e.fault.dev = ev->batch.dev;
		e.fault.addr = b->addr;
		e.fault.dev_pfn = b->dev_pfn;
		e.fault.pid = b->pid;
		e.fault.migrated = 1;
		e.fault.has_setup = true;
		e.fault.setup_npages = 1;
		e.fault.setup_cpages = 1;
		e.fault.owner_match = 1;
		e.fault.has_duration = true;
		e.fault.duration_ns = b->duration_ns;
		e.fault.freed = 1;
		e.fault.free_released = 1;
		e.fault.free_pfn = b->dev_pfn;
		e.fault.free_shadow_pfn = b->shadow_pfn;
		e.fault.free_pages = b->free_pages;
		feed_unfolded(a, &e);
	}
}

/*
 * The folded fault of a healthy workload, applied in one pass: what
 * fault_unfold(), ev_fault() and free_unfold() do, one after the other,
 * for a fault that migrated its folio (setup returned 0, a power of two
 * of pages moved, the task known as its own process), with the task, the
 * process and the page looked up once instead of once a rebuilt event:
 * those five events were most of the report's time on a folded trace.
 * Only when nothing watches the events one by one (cfg.on_event: the
 * timeline and the HTML page draw the rebuilt ones); any other fault
 * takes the general path.  false: not applied.
 */
static bool fault_fast(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_result *r = &a->res;
	uint64_t n = ev->fault.migrated, v;
	int32_t pid = ev->fault.pid;
	unsigned int order = 0;
	uint32_t pi, gi, owner;
	struct dm_stats *tg;
	struct tid *t;

	if (a->cfg.on_event || ev->fault.kernel || !ev->fault.has_setup ||
	    !ev->fault.setup_npages || ev->fault.setup_ret || !n || (n & (n - 1)) ||
	    n > dm_order_pages(DM_MAX_ORDER) || ev->tid != pid || pid <= 0)
		return false;
	t = tid_get(a, pid, false);
	if (t && (t->fpath_seen || (t->tgid && t->tgid != pid)))
		return false;
	pi = proc_get(a, pid, true);
	if (pi == HMAP_NONE)
		return false;
	if (!t)
		t = tid_get(a, pid, true);
	if (!t)
		return false;
	while ((1ull << order) < n)
		order++;

	/* the setup (ev_setup of a fault; the page size it implies is the one
	 * its window was built from) */
	r->by_kind[DM_EV_SETUP]++;
	todev_call_count(a, t, pi);
	/* what BUMP() finds for pi, found once: nothing below opens or
	 * closes a cycle */
	tg = target(a, pi);
	COUNT(r, tg, calls[DM_DIR_TO_RAM], 1);
	COUNT(r, tg, requested[DM_DIR_TO_RAM], ev->fault.setup_npages);
	COUNT(r, tg, collected[DM_DIR_TO_RAM], ev->fault.setup_cpages);

	/* the copy of the folio (ev_copy to system memory) */
	r->by_kind[DM_EV_COPY]++;
	gi = page_find(a, ev->fault.dev_pfn & ~(n - 1), order);
	owner = pi;
	if (gi != HMAP_NONE) {
		struct page *p = pool_at(&a->pages, gi);

		owner = p->proc;
		p->returning = true;
	}
	if (owner == pi)
		COUNT(r, tg, copies_to_ram, n);
	else
		BUMP(a, owner, copies_to_ram, n);
	cycle_returned(a, owner);

	/* the finalize (ev_finalize of a fault: its latency is the duration
	 * the driver measured, else 0, the setup rebuilt at the fault's time) */
	r->by_kind[DM_EV_FINALIZE]++;
	COUNT(r, tg, to_ram_fault, n);
	cycle_returned(a, pi);
	v = ev->fault.has_duration ? ev->fault.duration_ns : 0;
	lat_add(&r->total.lat, v);
	lat_add(&tg->lat, v);

	/* the fault (ev_fault of one that migrated) */
	COUNT(r, tg, faults, 1);
	if (ev->fault.result & DM_VM_FAULT_SIGBUS)
		COUNT(r, tg, sigbus, 1);
	if (hmap_count(&a->cand_map)) {
		uint32_t ci = cand_get(a, pid, ev->fault.addr, false);

		if (ci != HMAP_NONE)
			cand_end(a, ci, DM_LOOP_MIGRATED, ev->ts);
	}
	/* t is still good: nothing above allocates a task */
	t->fpath_seen = false;
	t->fsetup_valid = false;

	/* the free (ev_free): of the folio just copied, whose entry is gi,
	 * unless the driver freed another */
	if (ev->fault.freed) {
		unsigned int fo = order_of(ev->fault.free_order);
		struct dm_event e;
		struct page *p;

		r->by_kind[DM_EV_FREE]++;
		if (ev->fault.free_pfn != (ev->fault.dev_pfn & ~(n - 1)) || fo != order)
			gi = page_find(a, ev->fault.free_pfn, fo);
		p = gi == HMAP_NONE ? NULL : pool_at(&a->pages, gi);
		/* the whole folio, its shadow released, no loop on it: what
		 * free_at() comes to then */
		if (p && ev->fault.free_released && p->dev_pfn == ev->fault.free_pfn &&
		    (1u << fo) >= p->live && !P(a, p->proc)->ncand) {
			if (p->proc == pi)
				COUNT(r, tg, frees, 1ull << fo);
			else
				BUMP(a, p->proc, frees, 1ull << fo);
			page_drop(a, gi);
			return true;
		}
		free_of_fault(ev, &e);
		free_at(a, &e, gi);
	}
	return true;
}

static void process(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_result *r = &a->res;

	if (a->cfg.on_event)
		a->cfg.on_event(a->cfg.ctx, ev);
	switch (ev->kind) {
	case DM_EV_SETUP: ev_setup(a, ev); break;
	case DM_EV_COPY: ev_copy(a, ev); break;
	case DM_EV_FINALIZE: ev_finalize(a, ev); break;
	case DM_EV_FAULT:
		if (fault_fast(a, ev))
			break;
		fault_unfold(a, ev);
		ev_fault(a, ev);
		if (ev->fault.freed)
			free_unfold(a, ev);
		break;
	case DM_EV_GUARD: ev_guard(a, ev); break;
	case DM_EV_FREE: ev_free(a, ev); break;
	case DM_EV_RETURNED: returned_unfold(a, ev); break;
	case DM_EV_WINDOW: window_unfold(a, ev); break;
	case DM_EV_BATCH: batch_unfold(a, ev); break;
	case DM_EV_CHUNK:
		r->chunks++;
		r->chunk_pages += ev->chunk.npages;
		break;
	case DM_EV_FORK: r->have_sched = true; ev_fork(a, ev); break;
	case DM_EV_EXEC: r->have_sched = true; ev_exec(a, ev); break;
	case DM_EV_EXIT: r->have_sched = true; ev_exit(a, ev); break;
	case DM_EV_LOST:
		if (ev->lost.count < 0)
			r->lost_unknown++;
		else
			r->lost_events += (uint64_t)ev->lost.count;
		r->incomplete = true;
		break;
	case DM_EV_DEVPAGE: ev_devpage(a, ev); break;
	case DM_EV_THREAD: ev_thread(a, ev); break;
	case DM_EV_HMM: ev_hmm(a, ev); break;
	default:
		break;
	}
}

/* The exits held, in the order they came. */
static void exits_release(struct dm_analysis *a)
{
	for (unsigned int i = 0; i < a->nexits; i++)
		process(a, &a->exits[i]);
	a->nexits = 0;
}

/*
 * With batched faults (cfg.batched) the last faults of a process
 * may be traced after its exit: the driver traces a batch when it is full
 * or before any other event of its own, and nothing of the driver's runs
 * at an exit.  An exit then waits for the next event that can follow it,
 * which lets it go first (any dmirror event but a batch, which the batch
 * still due would have preceded; a process event), or after it (a batch:
 * every fault from before the exit is in it), or for the end.  true: ev
 * is held.
 */
static bool exits_hold(struct dm_analysis *a, const struct dm_event *ev)
{
	bool follows = (ev->kind >= DM_EV_SETUP && ev->kind <= DM_EV_EXIT) ||
		       ev->kind == DM_EV_WINDOW;

	if (a->nexits && follows)
		exits_release(a);
	if (ev->kind != DM_EV_EXIT || !a->cfg.batched)
		return false;
	if (a->nexits == sizeof(a->exits) / sizeof(a->exits[0]))
		exits_release(a);
	a->exits[a->nexits++] = *ev;
	return true;
}

void dm_analysis_feed(struct dm_analysis *a, const struct dm_event *ev)
{
	struct dm_result *r = &a->res;

	if (a->finished || ev->kind >= DM_EV_MAX)
		return;
	r->events++;
	r->by_kind[ev->kind]++;
	if (ev->kind != DM_EV_LOST) {
		if (!a->started) {
			a->started = true;
			r->first_ts = ev->ts;
		}
		if (ev->ts > r->last_ts)
			r->last_ts = ev->ts;
	}
	if (DM_EV_IS_KP(ev->kind)) {
		if (ev->kind != DM_EV_USER_FAULT && ev->kind != DM_EV_NEWTASK)
			r->kernel_events++;
		dm_kmode_feed(a->km, ev);
		return;
	}
	if ((ev->kind >= DM_EV_SETUP && ev->kind <= DM_EV_RETURNED) || ev->kind == DM_EV_WINDOW ||
	    ev->kind == DM_EV_BATCH)
		r->dmirror_events++;
	/* a fault kmode holds back must be counted before its process ends */
	if (r->kernel_source && ev->kind >= DM_EV_FORK && ev->kind <= DM_EV_EXIT)
		dm_kmode_touch(a->km, ev->kind == DM_EV_EXIT ? ev->exit.pid : ev->tid,
			       ev->kind == DM_EV_EXIT);
	if (exits_hold(a, ev))
		return;
	process(a, ev);
	if (ev->kind == DM_EV_BATCH)
		exits_release(a);
}

/* kmode's events: counted by kind, not as events of the trace */
void dm_analysis_feed_norm(struct dm_analysis *a, const struct dm_event *ev)
{
	if (a->finished || ev->kind >= DM_EV_MAX)
		return;
	a->res.by_kind[ev->kind]++;
	process(a, ev);
}

void dm_analysis_mark_incomplete(struct dm_analysis *a, uint64_t lost)
{
	a->res.incomplete = true;
	a->res.lost_events += lost;
}

static int cmp_loop(const void *x, const void *y)
{
	const struct dm_loop *a = x, *b = y;

	if (a->first_ts != b->first_ts)
		return a->first_ts < b->first_ts ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int cmp_leak(const void *x, const void *y)
{
	const struct dm_leak *a = x, *b = y;

	if (a->alloc_known != b->alloc_known)
		return a->alloc_known ? 1 : -1;
	if (a->alloc_ts != b->alloc_ts)
		return a->alloc_ts < b->alloc_ts ? -1 : 1;
	return a->dev_pfn < b->dev_pfn ? -1 : a->dev_pfn > b->dev_pfn;
}

/* Whether a process still alive descends from pid (and so may still map
 * what pid's pages were). */
static bool inherited_by_live(struct dm_analysis *a, int32_t pid)
{
	for (uint32_t s = 0; s <= a->proc_map.mask; s++) {
		uint32_t pi = a->proc_map.slots[s].val;
		int32_t cur;

		if (pi == HMAP_NONE || P(a, pi)->exited)
			continue;
		cur = P(a, pi)->pid;
		for (int depth = 0; depth < 64 && cur > 0; depth++) {
			uint32_t parent = hmap_get(&a->fork_map, (uint32_t)cur, 0);

			if (parent == HMAP_NONE)
				break;
			if ((int32_t)parent == pid)
				return true;
			cur = (int32_t)parent;
		}
	}
	return false;
}

void dm_analysis_finish(struct dm_analysis *a)
{
	struct dm_result *r = &a->res;
	uint64_t end = r->last_ts;

	if (a->finished)
		return;
	exits_release(a);
	dm_kmode_finish(a->km);
	end = r->last_ts;
	/* calls to the device the trace ended in */
	for (uint32_t s = 0; s <= a->tid_map.mask; s++) {
		struct tid *t;
		uint32_t pi;

		if (a->tid_map.slots[s].val == HMAP_NONE)
			continue;
		t = pool_at(&a->tids, a->tid_map.slots[s].val);
		pi = proc_get(a, t->tgid ? t->tgid : t->tid, true);
		if (pi != HMAP_NONE)
			todev_call_count(a, t, pi);
	}

	/* loops still open */
	cands_end_match(a, true, 0, 0, 0, DM_LOOP_OPEN, end);
	/* cycles still open */
	for (uint32_t s = 0; s <= a->proc_map.mask; s++)
		if (a->proc_map.slots[s].val != HMAP_NONE)
			cycle_close(a, a->proc_map.slots[s].val, end);

	/* pages still on the device */
	for (struct page_walk w = PAGE_WALK_START; page_next(a, &w) != HMAP_NONE;) {
		struct page *pg = pool_at(&a->pages, w.last);
		struct proc *p = P(a, pg->proc);

		if (pg->devpage && p->exited && !inherited_by_live(a, p->pid)) {
			struct dm_leak l = {
				.kind = DM_LEAK_DEVPAGE,
				.dev_pfn = pg->dev_pfn,
				.npages = pg->live,
				.pid = p->pid,
				.alloc_known = true,
				.alloc_ts = pg->alloc_ts,
				.free_ts = p->exit_ts,
				.pgmap = pg->pgmap,
				.driver = pg->driver,
			};

			proc_comm(a, p, l.comm);
			r->devpage_leaks += pg->live;
			leak_add(a, &l);
		} else if (p->exited && pg->shadow_pfn) {
			struct dm_leak l = {
				.kind = DM_LEAK_LIVE_AFTER_EXIT,
				.dev = pg->dev,
				.dev_pfn = pg->dev_pfn,
				.shadow_pfn = pg->shadow_pfn,
				.npages = pg->live,
				.addr = pg->addr,
				.pid = p->pid,
				.alloc_known = true,
				.alloc_ts = pg->alloc_ts,
				.free_ts = p->exit_ts,
			};

			proc_comm(a, p, l.comm);
			r->total.c.leaks += pg->live;
			leak_add(a, &l);
		} else {
			r->live_at_end += pg->live;
			if (pg->shadow_pfn)
				r->live_shadow_at_end += pg->live;
		}
	}
	if (r->nloops)
		qsort(r->loops, r->nloops, sizeof(*r->loops), cmp_loop);
	if (r->nleaks)
		qsort(r->leaks, r->nleaks, sizeof(*r->leaks), cmp_leak);
	a->finished = true;
}

const struct dm_result *dm_analysis_result(const struct dm_analysis *a)
{
	return &a->res;
}

void dm_analysis_free(struct dm_analysis *a)
{
	if (!a)
		return;
	/* free the cycles of every proc still allocated: those in the map,
	 * and the detached ones that pages still point to */
	for (uint32_t s = 0; s <= a->proc_map.mask && a->proc_map.slots; s++) {
		uint32_t pi = a->proc_map.slots[s].val;

		if (pi != HMAP_NONE && P(a, pi)->cycle) {
			dm_lat_free(&P(a, pi)->cycle->s.lat);
			free(P(a, pi)->cycle);
			P(a, pi)->cycle = NULL;
		}
	}
	for (struct page_walk w = PAGE_WALK_START; page_next(a, &w) != HMAP_NONE;) {
		struct proc *p = P(a, ((struct page *)pool_at(&a->pages, w.last))->proc);

		if (p->cycle) {
			dm_lat_free(&p->cycle->s.lat);
			free(p->cycle);
			p->cycle = NULL;
		}
	}
	hmap_free(&a->block_map);
	hmap_free(&a->proc_map);
	hmap_free(&a->tid_map);
	hmap_free(&a->cand_map);
	hmap_free(&a->fork_map);
	dm_kmode_free(a->km);
	pool_free(&a->pages);
	pool_free(&a->blocks);
	pool_free(&a->procs);
	pool_free(&a->tids);
	pool_free(&a->cands);
	dm_lat_free(&a->res.total.lat);
	dm_lat_free(&a->res.outside.lat);
	free(a->res.loops);
	free(a->res.leaks);
	free(a);
}
