// SPDX-License-Identifier: GPL-2.0
/* The engine on event sequences built here: no files involved. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "output.h"
#include "synth.h"
#include "t.h"

#define A0 0x7f0000000000ull
#define DEVPFN 0x100000ull
#define SHPFN 0x50000ull

struct cyc_log {
	struct dm_cycle c[64];
	int n;
	int loops_live, leaks_live;
	uint64_t events_seen;	/* by cfg.on_event */
};

static void on_cycle(void *ctx, const struct dm_cycle *c)
{
	struct cyc_log *l = ctx;

	if (l->n < 64) {
		l->c[l->n] = *c;
		l->c[l->n].s.lat.hist = NULL;	/* not owned */
		l->n++;
	}
}

static void on_loop(void *ctx, const struct dm_loop *lp)
{
	(void)lp;
	((struct cyc_log *)ctx)->loops_live++;
}

static void on_leak(void *ctx, const struct dm_leak *lk)
{
	(void)lk;
	((struct cyc_log *)ctx)->leaks_live++;
}

static void on_event(void *ctx, const struct dm_event *ev)
{
	(void)ev;
	((struct cyc_log *)ctx)->events_seen++;
}

static struct dm_analysis *run_watched(const struct scen *s, struct cyc_log *log,
				       uint32_t threshold, bool watched)
{
	/* exits wait as they do for a trace with batched faults: every
	 * test holds with it (a test of its own needs it) */
	struct dm_config cfg = { .loop_threshold = threshold, .ctx = log, .on_cycle = on_cycle,
				 .on_loop = on_loop, .on_leak = on_leak, .batched = true };
	struct dm_analysis *a;

	if (watched)
		cfg.on_event = on_event;

	if (log)
		memset(log, 0, sizeof(*log));
	else
		cfg.ctx = NULL, cfg.on_cycle = NULL, cfg.on_loop = NULL, cfg.on_leak = NULL;
	a = dm_analysis_new(&cfg);
	if (!a)
		abort();
	sc_feed(s, a);
	dm_analysis_finish(a);
	return a;
}

static struct dm_analysis *run(const struct scen *s, struct cyc_log *log, uint32_t threshold)
{
	return run_watched(s, log, threshold, false);
}

/* A process that starts, migrates npages to the device and back by faults, and exits. */
static void healthy(struct scen *s, uint64_t *ts, int pid, int npages, int rounds)
{
	sc_fork(s, (*ts)++, 0, 1, pid, "sh");
	sc_exec(s, (*ts)++, 0, pid, "/opt/dmirror/bin/workload");
	for (int r = 0; r < rounds; r++) {
		uint64_t base = DEVPFN + (uint64_t)r * 64;

		sc_migrate_to_dev(s, ts, 0, pid, A0, (uint64_t)npages, base, SHPFN + (uint64_t)r * 64);
		for (int i = 0; i < npages; i++)
			sc_fault_back(s, ts, 1, pid, A0 + (uint64_t)i * PAGE, base + (uint64_t)i,
				      SHPFN + (uint64_t)r * 64 + (uint64_t)i, 1000 + (uint64_t)i, true);
	}
	sc_exit(s, (*ts)++, 0, pid, "workload");
}

static void t_clean_no_problem(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_chunk(&s, ts++, 0, DEVPFN, 256);
	healthy(&s, &ts, 100, 4, 3);
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 0);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->total.c.to_dev, 12);
	CHECK_EQ(r->total.c.to_ram_fault, 12);
	CHECK_EQ(r->total.c.faults, 12);
	CHECK_EQ(r->total.c.frees, 12);
	CHECK_EQ(r->live_at_end, 0);
	CHECK_EQ(r->cycles, 3);
	CHECK_EQ(log.n, 3);
	CHECK_EQ(r->incomplete, 0);
	CHECK_EQ(r->chunk_pages, 256);
	CHECK(!strcmp(dm_analysis_comm(a, 100), "<...>") || 1, "comm");
	CHECK(!strcmp(log.c[0].comm, "workload"), "cycle comm '%s'", log.c[0].comm);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_loop_owner_mismatch(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1000, t_first;
	struct dm_analysis *a;
	const struct dm_result *r;
	const struct dm_loop *l;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 100, "sh");
	sc_exec(&s, ts++, 0, 100, "workload");
	sc_migrate_to_dev(&s, &ts, 0, 100, A0, 4, DEVPFN, SHPFN);
	/* one good fault, then page 2 loops 20 times */
	sc_fault_back(&s, &ts, 0, 100, A0, DEVPFN, SHPFN, 1500, true);
	t_first = ts + 2;	/* setup, finalize, then the fault */
	for (unsigned int i = 1; i <= 20; i++)
		sc_fault_mismatch(&s, &ts, 1, 100, A0 + 2 * PAGE, DEVPFN + 2, i);
	/* the process exits: the remaining device pages are freed */
	sc_free_ev(&s, ts++, 0, 100, DEVPFN + 1, SHPFN + 1, 1);
	sc_free_ev(&s, ts++, 0, 100, DEVPFN + 2, SHPFN + 2, 1);
	sc_free_ev(&s, ts++, 0, 100, DEVPFN + 3, SHPFN + 3, 1);
	sc_exit(&s, ts++, 0, 100, "workload");

	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	CHECK_EQ(log.loops_live, 1);
	if (r->nloops == 1) {
		l = &r->loops[0];
		CHECK_EQ(l->pid, 100);
		CHECK(l->addr == A0 + 2 * PAGE, "addr 0x%" PRIx64, l->addr);
		CHECK(l->dev_pfn == DEVPFN + 2, "dev_pfn 0x%" PRIx64, l->dev_pfn);
		CHECK_EQ(l->count, 20);
		CHECK_EQ(l->first_ts, t_first);
		CHECK_EQ(dm_loop_cause(l), DM_CAUSE_OWNER_MISMATCH);
		CHECK_EQ(l->evidence[DM_CAUSE_OWNER_MISMATCH], 20);
		CHECK_EQ(l->max_no_progress, 20);
		CHECK_EQ(l->end, DM_LOOP_FREED);
		CHECK_EQ(l->guard, 0);
		CHECK(!strcmp(l->comm, "workload"), "comm %s", l->comm);
	}
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->total.c.faults_no_progress, 20);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_no_loop_when_fault_migrates(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	/* the same address goes to the device and comes back 50 times */
	for (int i = 0; i < 50; i++) {
		sc_migrate_to_dev(&s, &ts, 0, 7, A0, 1, DEVPFN + (uint64_t)i, SHPFN + (uint64_t)i);
		sc_fault_back(&s, &ts, 1, 7, A0, DEVPFN + (uint64_t)i, SHPFN + (uint64_t)i, 100, true);
	}
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 0);
	CHECK_EQ(r->total.c.faults, 50);
	CHECK_EQ(r->total.c.faults_no_progress, 0);
	CHECK_EQ(r->cycles, 50);
	dm_analysis_free(a);
	sc_free(&s);
}

/*
 * One process's faults, recorded with every event (folded false) or with
 * the fault path's setup, copy and finalize filtered out and its fault
 * event saying what they found: good faults (a 4 KiB page, a huge folio
 * moved whole), an owner-mismatch loop, a setup that failed, a fault with
 * no memory for its pfns.  Events in the driver's order: the device page
 * is freed after the fault handler returns.
 */
static void faults_scen(struct scen *s, bool folded)
{
	uint64_t ts = 1000, dur = 700;

	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "workload");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 4, DEVPFN, SHPFN);
	for (int i = 0; i < 3; i++, dur += 100) {
		uint64_t addr = A0 + (uint64_t)i * PAGE, pfn = DEVPFN + (uint64_t)i;

		if (!folded) {
			sc_setup(s, ts++, 0, 100, DM_DIR_TO_RAM, 1, addr, 1, 1, 1, 0);
			sc_copy(s, ts++, 0, 100, DM_DIR_TO_RAM, addr, pfn, 0x9000, SHPFN + (uint64_t)i);
			sc_finalize(s, ts++, 0, 100, DM_DIR_TO_RAM, 1, addr, 1, 1, 1, dur);
			sc_fault(s, ts++, 0, 100, 100, addr, pfn, 0, 1, 0);
		} else {
			ts += 3;
			sc_fault_info(s, ts++, 0, 100, 100, addr, pfn, 0, 1, 0, 1, 1, 1, 0, dur);
		}
		sc_free_ev(s, ts++, 0, 100, pfn, SHPFN + (uint64_t)i, 1);
	}
	/* page 3 loops: the owner does not match */
	for (unsigned int n = 1; n <= 12; n++) {
		uint64_t addr = A0 + 3 * PAGE;

		if (!folded) {
			sc_setup(s, ts++, 1, 100, DM_DIR_TO_RAM, 1, addr, 1, 0, 0, 0);
			sc_finalize(s, ts++, 1, 100, DM_DIR_TO_RAM, 1, addr, 1, 0, 0, 300);
			sc_fault(s, ts++, 1, 100, 100, addr, DEVPFN + 3, 0, 0, n);
		} else {
			ts += 2;
			sc_fault_info(s, ts++, 1, 100, 100, addr, DEVPFN + 3, 0, 0, n, 1, 0, 0, 0, 300);
		}
	}
	/* a huge folio moved whole by one fault */
	sc_copy_order(s, ts++, 0, 100, DM_DIR_TO_DEV, A0 + 0x200000, 0x4000, DEVPFN + 512,
		      SHPFN + 512, 9);
	sc_finalize(s, ts++, 0, 100, DM_DIR_TO_DEV, 0, A0 + 0x200000, 512, 1, 512, 5000);
	if (!folded) {
		sc_setup(s, ts++, 0, 100, DM_DIR_TO_RAM, 1, A0 + 0x200000, 512, 1, 1, 0);
		sc_copy_order(s, ts++, 0, 100, DM_DIR_TO_RAM, A0 + 0x200000, DEVPFN + 512, 0xa000,
			      SHPFN + 512, 9);
		sc_finalize(s, ts++, 0, 100, DM_DIR_TO_RAM, 1, A0 + 0x200000, 512, 1, 512, 9000);
		sc_fault(s, ts++, 0, 100, 100, A0 + 0x200000 + 5 * PAGE, DEVPFN + 517, 0, 512, 0);
	} else {
		ts += 3;
		sc_fault_info(s, ts++, 0, 100, 100, A0 + 0x200000 + 5 * PAGE, DEVPFN + 517, 0, 512, 0,
			      512, 1, 1, 0, 9000);
	}
	sc_free_order(s, ts++, 0, 100, DEVPFN + 512, SHPFN + 512, 1, 9);
	/* setup fails; then a fault with no memory for its pfns (no setup) */
	if (!folded) {
		sc_setup(s, ts++, 1, 100, DM_DIR_TO_RAM, 1, A0 + 3 * PAGE, 1, 0, 1, -22);
		sc_fault(s, ts++, 1, 100, 100, A0 + 3 * PAGE, DEVPFN + 3, 2, 0, 13);
	} else {
		ts++;
		sc_fault_info(s, ts++, 1, 100, 100, A0 + 3 * PAGE, DEVPFN + 3, 2, 0, 13, 1, 0, 1, -22, 0);
	}
	if (!folded)
		sc_fault(s, ts++, 1, 100, 100, A0 + 3 * PAGE, DEVPFN + 3, 1, 0, 14);
	else
		sc_fault_info(s, ts++, 1, 100, 100, A0 + 3 * PAGE, DEVPFN + 3, 1, 0, 14, 0, 0, 0, 0, 0);
	sc_free_ev(s, ts++, 0, 100, DEVPFN + 3, SHPFN + 3, 1);
	sc_exit(s, ts++, 0, 100, "workload");
}

/*
 * One scenario built both ways, events apart ([0]) and folded as a driver
 * folds them ([1]), and analysed: the folded one must give the same.  [2]
 * is the folded one again, watched event by event (cfg.on_event, as the
 * timeline and the HTML page watch): the engine then rebuilds every
 * folded event instead of applying a healthy fault in one pass, and must
 * give the same too.
 */
#define FOLD_RUNS 3

struct fold_pair {
	struct scen s[FOLD_RUNS];
	struct cyc_log log[FOLD_RUNS];
	struct dm_analysis *a[FOLD_RUNS];
	const struct dm_result *r[FOLD_RUNS];
};

static void fold_pair_run(struct fold_pair *p, void (*build)(struct scen *s, bool folded))
{
	for (int i = 0; i < FOLD_RUNS; i++) {
		sc_init(&p->s[i]);
		build(&p->s[i], i > 0);
		p->a[i] = run_watched(&p->s[i], &p->log[i], 8, i == 2);
		p->r[i] = dm_analysis_result(p->a[i]);
	}
}

/* What every folding keeps: totals, events by kind, cycles, latencies,
 * loops and leaks, pages left. */
static void fold_pair_same(const struct fold_pair *p)
{
	const struct dm_result *ra = p->r[0];

	CHECK(p->log[2].events_seen > 0, "the watched run saw no event");
	for (int i = 1; i < FOLD_RUNS; i++) {
		const struct dm_result *rf = p->r[i];
		const struct dm_latency *la = &ra->total.lat, *lf = &rf->total.lat;

		CHECK(!memcmp(&ra->total.c, &rf->total.c, sizeof(ra->total.c)), "run %d: totals differ", i);
		for (int k = DM_EV_SETUP; k <= DM_EV_FREE; k++)
			CHECK(ra->by_kind[k] == rf->by_kind[k], "run %d: by_kind[%d]: %" PRIu64 " against %" PRIu64,
			      i, k, rf->by_kind[k], ra->by_kind[k]);
		CHECK_EQ(rf->cycles, ra->cycles);
		CHECK_EQ(p->log[i].n, p->log[0].n);
		for (int c = 0; c < p->log[0].n && c < p->log[i].n; c++)
			CHECK(!memcmp(&p->log[i].c[c].s.c, &p->log[0].c[c].s.c, sizeof(p->log[0].c[c].s.c)) &&
			      p->log[i].c[c].s.lat.count == p->log[0].c[c].s.lat.count,
			      "run %d: cycle %d differs", i, c);
		CHECK(lf->count == la->count && lf->sum == la->sum && lf->min == la->min &&
		      lf->max == la->max, "run %d: latencies differ (%" PRIu64 " against %" PRIu64 ")",
		      i, lf->count, la->count);
		CHECK_EQ(rf->live_at_end, ra->live_at_end);
		CHECK_EQ(rf->nleaks, ra->nleaks);
		CHECK_EQ(rf->nloops, ra->nloops);
		CHECK_EQ(p->log[i].leaks_live, p->log[0].leaks_live);
	}
}

static void fold_pair_free(struct fold_pair *p)
{
	for (int i = 0; i < FOLD_RUNS; i++) {
		dm_analysis_free(p->a[i]);
		sc_free(&p->s[i]);
	}
}

/* The folded recording gives the report the full one gives. */
static void t_fault_folded(void)
{
	struct fold_pair p;
	const struct dm_result *rf, *ro;

	fold_pair_run(&p, faults_scen);
	fold_pair_same(&p);
	rf = p.r[0];
	ro = p.r[1];
	CHECK_EQ(ro->total.c.to_ram_fault, 515);
	CHECK_EQ(ro->total.c.copies_to_ram, 515);
	CHECK_EQ(ro->total.c.setup_failed, 1);
	CHECK_EQ(dm_lat_quantile(&ro->total.lat, 0.5), dm_lat_quantile(&rf->total.lat, 0.5));
	CHECK_EQ(dm_lat_quantile(&ro->total.lat, 1.0), 9000);
	CHECK_EQ(ro->nloops, 1);
	CHECK_EQ(rf->nloops, 1);
	if (ro->nloops == 1 && rf->nloops == 1) {
		const struct dm_loop *a = &rf->loops[0], *b = &ro->loops[0];

		CHECK_EQ(b->count, a->count);
		CHECK_EQ(b->end, a->end);
		CHECK_EQ(b->first_ts, a->first_ts);
		CHECK_EQ(b->evidence[DM_CAUSE_OWNER_MISMATCH], 12);
		CHECK(!memcmp(a->evidence, b->evidence, sizeof(a->evidence)), "evidence differs");
	}
	fold_pair_free(&p);
}

/*
 * Faults back of 8 pages, 3 of which keep their shadow, then a huge folio
 * that leaks whole: the frees as events of their own, or carried by the
 * faults that migrated the folios (the driver's fold_events).
 */
static void free_fold_scen(struct scen *s, bool folded)
{
	uint64_t ts = 1000, hpfn = DEVPFN + 0x200, haddr = A0 + 0x200000;

	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "leaky");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 8, DEVPFN, SHPFN);
	for (int i = 0; i < 8; i++) {
		uint64_t addr = A0 + (uint64_t)i * PAGE, pfn = DEVPFN + (uint64_t)i;
		int released = !(i == 1 || i == 4 || i == 6);

		sc_fault_info(s, ts++, 0, 100, 100, addr, pfn, 0, 1, 0, 1, 1, 1, 0, 500);
		/* the same times either way */
		if (folded)
			sc_fault_freed(s, pfn, SHPFN + (uint64_t)i, released, 0, 100 + (uint64_t)ts++);
		else
			sc_free_ev(s, ts++, 0, 100, pfn, SHPFN + (uint64_t)i, released);
	}
	sc_setup(s, ts++, 0, 100, DM_DIR_TO_DEV, 0, haddr, 512, 1, 1, 0);
	sc_copy_order(s, ts++, 0, 100, DM_DIR_TO_DEV, haddr, 0x3000, hpfn, SHPFN + 0x200, 9);
	sc_finalize(s, ts++, 0, 100, DM_DIR_TO_DEV, 0, haddr, 512, 1, 512, 900);
	sc_fault_info(s, ts++, 0, 100, 100, haddr + 5 * PAGE, hpfn + 5, 0, 512, 0, 512, 1, 1, 0, 800);
	if (folded)
		sc_fault_freed(s, hpfn, SHPFN + 0x200, 0, 9, 700 + ts++);
	else
		sc_free_order(s, ts++, 0, 100, hpfn, SHPFN + 0x200, 0, 9);
	sc_exit(s, ts++, 0, 100, "leaky");
}

static void t_fault_free_folded(void)
{
	struct fold_pair p;
	const struct dm_result *ra, *rf;

	fold_pair_run(&p, free_fold_scen);
	fold_pair_same(&p);
	ra = p.r[0];
	rf = p.r[1];
	CHECK_EQ(rf->nleaks, 4);
	CHECK_EQ(rf->total.c.leaks, 3 + 512);
	CHECK_EQ(rf->total.c.frees, 8 + 512);
	CHECK_EQ(rf->by_kind[DM_EV_FREE], 9);
	for (size_t i = 0; i < rf->nleaks && i < ra->nleaks; i++) {
		const struct dm_leak *a = &ra->leaks[i], *b = &rf->leaks[i];

		CHECK_EQ(b->kind, DM_LEAK_FREED_UNRELEASED);
		CHECK(b->dev_pfn == a->dev_pfn && b->shadow_pfn == a->shadow_pfn &&
		      b->addr == a->addr && b->npages == a->npages && b->alloc_ts == a->alloc_ts &&
		      b->pid == a->pid, "leak %zu: dev_pfn 0x%" PRIx64 " against 0x%" PRIx64, i,
		      b->dev_pfn, a->dev_pfn);
	}
	if (rf->nleaks == 4) {
		CHECK(rf->leaks[1].dev_pfn == DEVPFN + 4, "second leak 0x%" PRIx64, rf->leaks[1].dev_pfn);
		CHECK_EQ(rf->leaks[3].npages, 512);
	}
	fold_pair_free(&p);
}

/*
 * MIGRATE_TO_SYS of 8 pages, page 3 keeping its shadow: a copy and a free
 * event per page, or (the driver folding) page 3's copy and free and a
 * dmirror_returned with the other seven as two runs.
 */
static void returned_scen(struct scen *s, bool folded)
{
	static const uint64_t pfn[] = { DEVPFN, DEVPFN + 4 };
	static const uint32_t npages[] = { 3, 4 };
	uint64_t ts = 1000;

	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "leaky");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 8, DEVPFN, SHPFN);
	sc_setup(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, A0, 8, 8, 1, 0);
	for (int i = 0; i < 8; i++)
		if (!folded || i == 3)
			sc_copy(s, ts++, 0, 100, DM_DIR_TO_RAM, A0 + (uint64_t)i * PAGE,
				DEVPFN + (uint64_t)i, 0x9000 + (uint64_t)i, SHPFN + (uint64_t)i);
	for (int i = 0; i < 8; i++)
		if (!folded || i == 3)
			sc_free_ev(s, ts++, 0, 100, DEVPFN + (uint64_t)i, SHPFN + (uint64_t)i, i != 3);
	if (folded)
		sc_returned(s, ts++, 0, 100, A0, pfn, npages, 2, 120);
	sc_finalize(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, A0, 8, 8, 8, 3000);
	sc_exit(s, ts++, 0, 100, "leaky");
}

static void t_returned_folded(void)
{
	struct fold_pair p;
	const struct dm_result *ra, *rf;

	fold_pair_run(&p, returned_scen);
	fold_pair_same(&p);
	ra = p.r[0];
	rf = p.r[1];
	CHECK_EQ(rf->total.c.copies_to_ram, 8);
	CHECK_EQ(rf->total.c.frees, 8);
	CHECK_EQ(rf->total.c.leaks, 1);
	CHECK_EQ(rf->dmirror_events, 10 + 5);
	CHECK_EQ(rf->live_at_end, 0);
	CHECK_EQ(rf->nleaks, 1);
	if (rf->nleaks == 1 && ra->nleaks == 1) {
		const struct dm_leak *a = &ra->leaks[0], *b = &rf->leaks[0];

		CHECK(b->dev_pfn == DEVPFN + 3 && b->dev_pfn == a->dev_pfn, "leak 0x%" PRIx64, b->dev_pfn);
		CHECK(b->addr == a->addr && b->shadow_pfn == a->shadow_pfn && b->alloc_ts == a->alloc_ts,
		      "leak addr 0x%" PRIx64 " against 0x%" PRIx64, b->addr, a->addr);
	}
	fold_pair_free(&p);
}

/*
 * Three MIGRATE_TO_SYS calls after 8 pages went to the device: 4 pages in
 * one run, 4 in two, and one that collected nothing; each a setup, a copy
 * and a free a page and a finalize, or (the driver folding) one
 * dmirror_window each.
 */
static void window_scen(struct scen *s, bool folded)
{
	static const uint64_t pfn1[] = { DEVPFN }, pfn2[] = { DEVPFN + 4, DEVPFN + 6 };
	static const uint32_t np1[] = { 4 }, np2[] = { 2, 2 };
	static const struct {
		uint64_t start;
		uint32_t cpages, nruns;
		const uint64_t *pfn;
		const uint32_t *np;
	} calls[] = {
		{ A0, 4, 1, pfn1, np1 },
		{ A0 + 4 * PAGE, 4, 2, pfn2, np2 },
		{ A0, 0, 0, NULL, NULL },
	};
	uint64_t ts = 1000;

	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "bench");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 8, DEVPFN, SHPFN);
	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		uint64_t first = (calls[c].start - A0) / PAGE;

		if (folded) {
			sc_window(s, ts++, 0, 100, calls[c].start, 4, calls[c].cpages, calls[c].cpages,
				  2000, calls[c].pfn, calls[c].np, (int)calls[c].nruns,
				  504 + first + calls[c].cpages);
			continue;
		}
		sc_setup(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, calls[c].start, 4, calls[c].cpages, 1, 0);
		for (uint64_t i = first; i < first + calls[c].cpages; i++)
			sc_copy(s, ts++, 0, 100, DM_DIR_TO_RAM, A0 + i * PAGE, DEVPFN + i, 0x9000 + i,
				SHPFN + i);
		for (uint64_t i = first; i < first + calls[c].cpages; i++)
			sc_free_ev(s, ts++, 0, 100, DEVPFN + i, SHPFN + i, 1);
		sc_finalize(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, calls[c].start, 4, calls[c].cpages,
			    calls[c].cpages, 2000);
	}
	sc_exit(s, ts++, 0, 100, "bench");
}

static void t_window_folded(void)
{
	struct fold_pair p;
	const struct dm_result *rf;

	fold_pair_run(&p, window_scen);
	fold_pair_same(&p);
	rf = p.r[1];
	CHECK_EQ(rf->total.c.copies_to_ram, 8);
	CHECK_EQ(rf->total.c.frees, 8);
	CHECK_EQ(rf->total.c.to_ram_ioctl, 8);
	CHECK_EQ(rf->total.c.leaks, 0);
	CHECK_EQ(rf->by_kind[DM_EV_SETUP], 1 + 3);
	CHECK_EQ(rf->by_kind[DM_EV_FINALIZE], 1 + 3);
	CHECK_EQ(rf->by_kind[DM_EV_WINDOW], 3);
	CHECK_EQ(rf->dmirror_events, 10 + 3);
	CHECK_EQ(rf->live_at_end, 0);
	CHECK_EQ(rf->cycles, 1);
	fold_pair_free(&p);
}

/*
 * 22 pages to the device, 20 back by CPU faults and 2 by one-page
 * MIGRATE_TO_SYS calls, the process exiting with the last 4 faults still
 * in the driver's batch: each page apart (setup, copy, free, finalize and
 * the fault's event), or (the driver batching) dmirror_batch events of 8,
 * 8 and 2 + 4, the last after the exit, which must wait for it.
 */
static void batch_scen(struct scen *s, bool folded)
{
	uint64_t ts = 1000;

	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "bench");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 22, DEVPFN, SHPFN);
	if (!folded) {
		for (uint64_t i = 0; i < 22; i++) {
			uint64_t addr = A0 + i * PAGE;

			if (i < 20) {
				sc_fault_back(s, &ts, 0, 100, addr, DEVPFN + i, SHPFN + i, 3000, true);
				continue;
			}
			sc_setup(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, addr, 1, 1, 1, 0);
			sc_copy(s, ts++, 0, 100, DM_DIR_TO_RAM, addr, DEVPFN + i, 0x9000 + i, SHPFN + i);
			sc_free_ev(s, ts++, 0, 100, DEVPFN + i, SHPFN + i, 1);
			sc_finalize(s, ts++, 0, 100, DM_DIR_TO_RAM, 0, addr, 1, 1, 1, 2000);
		}
		sc_exit(s, ts++, 0, 100, "bench");
		return;
	}
	sc_batch(s, ts++, 0, 100, A0, DEVPFN, SHPFN, 8, 3000, 491, true);
	sc_batch(s, ts++, 0, 100, A0 + 8 * PAGE, DEVPFN + 8, SHPFN + 8, 8, 3000, 499, true);
	sc_exit(s, ts++, 0, 100, "bench");
	sc_batch(s, ts++, 0, 100, A0 + 16 * PAGE, DEVPFN + 16, SHPFN + 16, 4, 3000, 507, true);
	sc_batch_more(s, 100, A0 + 20 * PAGE, DEVPFN + 20, SHPFN + 20, 2, 2000, 511, false);
}

static void t_batch_folded(void)
{
	struct fold_pair p;
	const struct dm_result *rf;

	fold_pair_run(&p, batch_scen);
	fold_pair_same(&p);
	rf = p.r[1];
	CHECK_EQ(rf->total.c.to_ram_fault, 20);
	CHECK_EQ(rf->total.c.to_ram_ioctl, 2);
	CHECK_EQ(rf->total.c.frees, 22);
	CHECK_EQ(rf->total.c.leaks, 0);
	CHECK_EQ(rf->by_kind[DM_EV_FAULT], 20);
	CHECK_EQ(rf->by_kind[DM_EV_SETUP], 1 + 22);
	CHECK_EQ(rf->by_kind[DM_EV_BATCH], 3);
	CHECK_EQ(rf->total.lat.count, 20);
	CHECK_EQ(rf->live_at_end, 0);
	CHECK_EQ(rf->cycles, 1);
	/* the batch after the exit in the process's one cycle */
	CHECK_EQ(p.log[1].n, 1);
	if (p.log[1].n == 1)
		CHECK_EQ(p.log[1].c[0].s.c.to_ram_fault, 20);
	CHECK_EQ(rf->outside.c.to_ram_fault, 0);
	fold_pair_free(&p);
}

static void t_threshold_boundary(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;

	/* 7 faults without progress, then one that migrates: no loop */
	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 7, A0, 1, DEVPFN, SHPFN);
	for (unsigned int i = 1; i <= 7; i++)
		sc_fault_mismatch(&s, &ts, 0, 7, A0, DEVPFN, i);
	sc_fault_back(&s, &ts, 0, 7, A0, DEVPFN, SHPFN, 100, true);
	a = run(&s, NULL, 8);
	CHECK_EQ(dm_analysis_result(a)->nloops, 0);
	dm_analysis_free(a);
	/* the same with a threshold of 7: a loop that ended by migrating */
	a = run(&s, NULL, 7);
	CHECK_EQ(dm_analysis_result(a)->nloops, 1);
	if (dm_analysis_result(a)->nloops)
		CHECK_EQ(dm_analysis_result(a)->loops[0].end, DM_LOOP_MIGRATED);
	dm_analysis_free(a);
	sc_free(&s);

	/* exactly 8: a loop, still open at the end of the trace */
	sc_init(&s);
	ts = 1;
	sc_migrate_to_dev(&s, &ts, 0, 7, A0, 1, DEVPFN, SHPFN);
	for (unsigned int i = 1; i <= 8; i++)
		sc_fault_mismatch(&s, &ts, 0, 7, A0, DEVPFN, i);
	a = run(&s, NULL, 8);
	CHECK_EQ(dm_analysis_result(a)->nloops, 1);
	if (dm_analysis_result(a)->nloops) {
		CHECK_EQ(dm_analysis_result(a)->loops[0].count, 8);
		CHECK_EQ(dm_analysis_result(a)->loops[0].end, DM_LOOP_OPEN);
	}
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_loop_guard(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 9, A0, 1, DEVPFN, SHPFN);
	for (unsigned int i = 1; i <= 4; i++)
		sc_fault_mismatch(&s, &ts, 0, 9, A0, DEVPFN, i);
	/* the fifth: the guard gives up, the fault returns SIGBUS */
	sc_setup(&s, ts++, 0, 9, DM_DIR_TO_RAM, 1, A0, 1, 0, 0, 0);
	sc_guard(&s, ts++, 0, 9, 9, A0, DEVPFN, 5, 5);
	sc_fault(&s, ts++, 0, 9, 9, A0, DEVPFN, DM_VM_FAULT_SIGBUS, 0, 5);
	sc_free_ev(&s, ts++, 0, 9, DEVPFN, SHPFN, 1);
	sc_exit(&s, ts++, 0, 9, "workload");
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops) {
		const struct dm_loop *l = &r->loops[0];

		CHECK_EQ(l->guard, 1);
		CHECK_EQ(l->guard_count, 5);
		CHECK_EQ(l->guard_limit, 5);
		CHECK_EQ(l->count, 5);
		CHECK_EQ(l->sigbus, 1);
		CHECK_EQ(l->below_threshold, 1);
		CHECK_EQ(dm_loop_cause(l), DM_CAUSE_OWNER_MISMATCH);
	}
	CHECK_EQ(r->total.c.sigbus, 1);
	CHECK_EQ(r->total.c.guard, 1);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_loop_causes(void)
{
	static const struct {
		int ret, cpages, owner, with_setup;
		enum dm_cause want;
	} cases[] = {
		{ -12, 0, 1, 1, DM_CAUSE_SETUP_ERROR },
		{ 0, 0, 1, 1, DM_CAUSE_NOT_COLLECTED },
		{ 0, 1, 1, 1, DM_CAUSE_NOT_MIGRATED },
		{ 0, 0, 0, 0, DM_CAUSE_NO_SETUP },
		{ 0, 0, 0, 1, DM_CAUSE_OWNER_MISMATCH },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct scen s;
		uint64_t ts = 1;
		struct dm_analysis *a;
		const struct dm_result *r;

		sc_init(&s);
		sc_migrate_to_dev(&s, &ts, 0, 5, A0, 1, DEVPFN, SHPFN);
		for (unsigned int i = 1; i <= 10; i++) {
			if (cases[k].with_setup)
				sc_setup(&s, ts++, 0, 5, DM_DIR_TO_RAM, 1, A0, 1,
					 (uint64_t)cases[k].cpages, cases[k].owner, cases[k].ret);
			sc_fault(&s, ts++, 0, 5, 5, A0, DEVPFN, 0, 0, i);
		}
		a = run(&s, NULL, 8);
		r = dm_analysis_result(a);
		CHECK_EQ(r->nloops, 1);
		if (r->nloops) {
			char buf[512];

			CHECK(dm_loop_cause(&r->loops[0]) == cases[k].want, "case %zu: cause %s",
			      k, dm_cause_name(dm_loop_cause(&r->loops[0])));
			CHECK_EQ(r->loops[0].evidence[cases[k].want], 10);
			if (cases[k].want == DM_CAUSE_SETUP_ERROR)
				CHECK_EQ(r->loops[0].last_ret, -12);
			(void)buf;
		}
		dm_analysis_free(a);
		sc_free(&s);
	}
}

static void t_loop_per_thread(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 300, A0, 1, DEVPFN, SHPFN);
	/* thread 301 of process 300 faults */
	for (unsigned int i = 1; i <= 9; i++) {
		sc_setup(&s, ts++, 1, 301, DM_DIR_TO_RAM, 1, A0, 1, 0, 0, 0);
		sc_fault(&s, ts++, 1, 301, 300, A0, DEVPFN, 0, 0, i);
	}
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops) {
		CHECK_EQ(r->loops[0].pid, 300);
		CHECK_EQ(r->loops[0].evidence[DM_CAUSE_OWNER_MISMATCH], 9);
	}
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_leaks_freed_unreleased(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1, alloc_ts[8];
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 42, "leaky");
	sc_setup(&s, ts++, 0, 42, DM_DIR_TO_DEV, 0, A0, 8, 8, 1, 0);
	for (int i = 0; i < 8; i++) {
		alloc_ts[i] = ts;
		sc_copy(&s, ts++, 0, 42, DM_DIR_TO_DEV, A0 + (uint64_t)i * PAGE, 0x1000, DEVPFN + (uint64_t)i,
			SHPFN + (uint64_t)i);
	}
	sc_finalize(&s, ts++, 0, 42, DM_DIR_TO_DEV, 0, A0, 8, 8, 8, 1000);
	/* pages 1, 4, 6 keep their shadow page when freed */
	for (int i = 0; i < 8; i++)
		sc_fault_back(&s, &ts, 0, 42, A0 + (uint64_t)i * PAGE, DEVPFN + (uint64_t)i,
			      SHPFN + (uint64_t)i, 100, !(i == 1 || i == 4 || i == 6));
	sc_exit(&s, ts++, 0, 42, "leaky");
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 3);
	CHECK_EQ(log.leaks_live, 3);
	for (size_t i = 0; i < r->nleaks && i < 3; i++) {
		static const int want[] = { 1, 4, 6 };
		const struct dm_leak *l = &r->leaks[i];

		CHECK_EQ(l->kind, DM_LEAK_FREED_UNRELEASED);
		CHECK(l->dev_pfn == DEVPFN + (uint64_t)want[i], "dev_pfn 0x%" PRIx64, l->dev_pfn);
		CHECK(l->shadow_pfn == SHPFN + (uint64_t)want[i], "shadow 0x%" PRIx64, l->shadow_pfn);
		CHECK(l->addr == A0 + (uint64_t)want[i] * PAGE, "addr 0x%" PRIx64, l->addr);
		CHECK_EQ(l->alloc_ts, alloc_ts[want[i]]);
		CHECK_EQ(l->pid, 42);
		CHECK(!strcmp(l->comm, "leaky"), "comm %s", l->comm);
	}
	CHECK_EQ(r->total.c.leaks, 3);
	CHECK_EQ(r->nloops, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_leaks_live_after_exit(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 50, "w");
	sc_migrate_to_dev(&s, &ts, 0, 50, A0, 5, DEVPFN, SHPFN);
	/* two come back, three never freed; then the process exits */
	sc_fault_back(&s, &ts, 0, 50, A0, DEVPFN, SHPFN, 100, true);
	sc_fault_back(&s, &ts, 0, 50, A0 + PAGE, DEVPFN + 1, SHPFN + 1, 100, true);
	sc_exit(&s, ts++, 0, 50, "w");
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 3);
	for (size_t i = 0; i < r->nleaks; i++) {
		CHECK_EQ(r->leaks[i].kind, DM_LEAK_LIVE_AFTER_EXIT);
		CHECK(r->leaks[i].dev_pfn == DEVPFN + 2 + i, "dev_pfn 0x%" PRIx64, r->leaks[i].dev_pfn);
	}
	CHECK_EQ(r->live_at_end, 0);
	dm_analysis_free(a);
	sc_free(&s);

	/* without process events, pages live at the end are not judged */
	sc_init(&s);
	ts = 1;
	sc_migrate_to_dev(&s, &ts, 0, 50, A0, 5, DEVPFN, SHPFN);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->live_at_end, 5);
	CHECK_EQ(r->live_shadow_at_end, 5);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_cycles_split(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1, c1_start, c2_start, c3_start;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	c1_start = ts;
	sc_migrate_to_dev(&s, &ts, 0, 8, A0, 4, DEVPFN, SHPFN);
	/* a second to_dev before anything came back: same cycle */
	sc_migrate_to_dev(&s, &ts, 0, 8, A0 + 16 * PAGE, 2, DEVPFN + 10, SHPFN + 10);
	for (int i = 0; i < 4; i++)
		sc_fault_back(&s, &ts, 0, 8, A0 + (uint64_t)i * PAGE, DEVPFN + (uint64_t)i,
			      SHPFN + (uint64_t)i, 1000, true);
	c2_start = ts;
	sc_migrate_to_dev(&s, &ts, 0, 8, A0, 4, DEVPFN + 20, SHPFN + 20);
	sc_fault_back(&s, &ts, 0, 8, A0, DEVPFN + 20, SHPFN + 20, 2000, true);
	sc_fault_back(&s, &ts, 0, 8, A0 + PAGE, DEVPFN + 21, SHPFN + 21, 3000, true);
	c3_start = ts;
	sc_migrate_to_dev(&s, &ts, 0, 8, A0, 2, DEVPFN + 30, SHPFN + 30);
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->cycles, 3);
	CHECK_EQ(log.n, 3);
	if (log.n == 3) {
		CHECK_EQ(log.c[0].id, 1);
		CHECK_EQ(log.c[0].start_ts, c1_start);
		CHECK_EQ(log.c[0].end_ts, c2_start);
		CHECK_EQ(log.c[0].s.c.to_dev, 6);
		CHECK_EQ(log.c[0].s.c.to_ram_fault, 4);
		CHECK_EQ(log.c[0].s.c.faults, 4);
		CHECK_EQ(log.c[0].s.c.frees, 4);
		CHECK_EQ(log.c[0].s.lat.count, 4);
		CHECK_EQ(log.c[1].start_ts, c2_start);
		CHECK_EQ(log.c[1].s.c.to_dev, 4);
		CHECK_EQ(log.c[1].s.c.to_ram_fault, 2);
		CHECK_EQ(log.c[1].s.lat.min, 2000);
		CHECK_EQ(log.c[1].s.lat.max, 3000);
		CHECK_EQ(log.c[2].start_ts, c3_start);
		CHECK_EQ(log.c[2].s.c.to_dev, 2);
		CHECK_EQ(log.c[2].s.c.faults, 0);
		CHECK_EQ(log.c[2].end_ts, r->last_ts);
	}
	CHECK_EQ(r->total.c.to_dev, 12);
	CHECK_EQ(r->total.lat.count, 6);
	CHECK_EQ(r->outside.c.to_dev, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_cycles_two_processes(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 10, A0, 2, DEVPFN, SHPFN);
	sc_migrate_to_dev(&s, &ts, 1, 20, A0, 3, DEVPFN + 100, SHPFN + 100);
	sc_fault_back(&s, &ts, 1, 20, A0, DEVPFN + 100, SHPFN + 100, 10, true);
	sc_fault_back(&s, &ts, 0, 10, A0, DEVPFN, SHPFN, 10, true);
	sc_migrate_to_dev(&s, &ts, 1, 20, A0, 1, DEVPFN + 200, SHPFN + 200);
	sc_exit(&s, ts++, 0, 10, "a");
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->cycles, 3);
	CHECK_EQ(log.n, 3);
	if (log.n == 3) {
		/* pid 20's first cycle closes when its second starts, then pid 10 exits */
		CHECK_EQ(log.c[0].pid, 20);
		CHECK_EQ(log.c[0].s.c.to_dev, 3);
		CHECK_EQ(log.c[0].s.c.faults, 1);
		CHECK_EQ(log.c[1].pid, 10);
		CHECK_EQ(log.c[1].s.c.to_dev, 2);
		CHECK_EQ(log.c[1].s.c.faults, 1);
		CHECK_EQ(log.c[2].pid, 20);
		CHECK_EQ(log.c[2].id, 3);
	}
	/* pid 10 exited with one page still on the device: a leak */
	CHECK_EQ(r->nleaks, 1);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_latency_quantiles(void)
{
	struct dm_latency l;

	dm_lat_init(&l);
	for (uint64_t v = 100; v >= 1; v--)
		dm_lat_add(&l, v * 1000);
	CHECK_EQ(l.count, 100);
	CHECK_EQ(l.min, 1000);
	CHECK_EQ(l.max, 100000);
	CHECK_EQ(dm_lat_quantile(&l, 0.5), 50000);
	CHECK_EQ(dm_lat_quantile(&l, 0.99), 99000);
	CHECK_EQ(dm_lat_quantile(&l, 1.0), 100000);
	dm_lat_free(&l);

	/* histogram mode: 1..100000 ns, quantiles within 1.6% */
	dm_lat_init(&l);
	for (uint64_t v = 1; v <= 100000; v++)
		dm_lat_add(&l, v);
	CHECK(l.hist != NULL, "histogram mode");
	{
		uint64_t med = dm_lat_quantile(&l, 0.5), p99 = dm_lat_quantile(&l, 0.99);

		CHECK(med >= 50000 * 0.984 && med <= 50000 * 1.016, "median %" PRIu64, med);
		CHECK(p99 >= 99000 * 0.984 && p99 <= 99000 * 1.016, "p99 %" PRIu64, p99);
	}
	CHECK_EQ(l.min, 1);
	CHECK_EQ(l.max, 100000);
	dm_lat_free(&l);
}

static void t_lost_events(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 3, A0, 1, DEVPFN, SHPFN);
	sc_lost(&s, 1, 17);
	sc_fault_back(&s, &ts, 1, 3, A0, DEVPFN, SHPFN, 10, true);
	sc_lost(&s, 0, -1);
	sc_migrate_to_dev(&s, &ts, 0, 3, A0, 1, DEVPFN, SHPFN);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->incomplete, 1);
	CHECK_EQ(r->lost_events, 17);
	CHECK_EQ(r->lost_unknown, 1);
	dm_analysis_free(a);
	sc_free(&s);

	sc_init(&s);
	ts = 1;
	sc_migrate_to_dev(&s, &ts, 0, 3, A0, 1, DEVPFN, SHPFN);
	a = run(&s, NULL, 8);
	CHECK_EQ(dm_analysis_result(a)->incomplete, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_free_of_unknown_page(void)
{
	struct scen s;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;

	/* pages allocated before the trace began */
	sc_init(&s);
	sc_free_ev(&s, ts++, 0, 4, DEVPFN, SHPFN, 1);
	sc_free_ev(&s, ts++, 0, 4, DEVPFN + 1, SHPFN + 1, 0);
	sc_free_ev(&s, ts++, 0, 4, DEVPFN + 2, 0, 0);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->untracked_frees, 3);
	CHECK_EQ(r->nleaks, 1);
	if (r->nleaks) {
		CHECK_EQ(r->leaks[0].alloc_known, 0);
		CHECK(r->leaks[0].dev_pfn == DEVPFN + 1, "dev_pfn");
		CHECK_EQ(r->leaks[0].pid, -1);
	}
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_bounded_state(void)
{
	struct dm_config cfg = { 0 };
	struct dm_analysis *a = dm_analysis_new(&cfg);
	struct scen s;
	uint64_t ts = 1;
	size_t pages, procs, tids, cands, events = 0;

	/* 200k healthy cycles over rotating pfns, fed in slices */
	for (int round = 0; round < 2000; round++) {
		sc_init(&s);
		for (int k = 0; k < 100; k++) {
			uint64_t pfn = DEVPFN + (uint64_t)((round * 100 + k) % 5000);

			sc_migrate_to_dev(&s, &ts, k & 1, 77, A0, 1, pfn, SHPFN + pfn);
			sc_fault_back(&s, &ts, k & 1, 77, A0, pfn, SHPFN + pfn, 100 + (uint64_t)k, true);
			/* and a fault without progress elsewhere, now and then */
			if (k % 10 == 0)
				sc_fault_mismatch(&s, &ts, 0, 77, A0 + (uint64_t)(k + round) * PAGE, pfn, 1);
		}
		sc_feed(&s, a);
		events += s.n;
		sc_free(&s);
	}
	dm_analysis_footprint(a, &pages, &procs, &tids, &cands);
	CHECK(events > 1000000, "events %zu", events);
	CHECK_EQ(pages, 0);
	CHECK_EQ(procs, 1);
	CHECK(tids <= 1, "tids %zu", tids);
	/* candidates for addresses that faulted once without progress stay
	 * open (nothing ends them): they are state, not events */
	CHECK(cands <= 20000, "cands %zu", cands);
	dm_analysis_finish(a);
	CHECK_EQ(dm_analysis_result(a)->nloops, 0);
	CHECK_EQ(dm_analysis_result(a)->cycles, 200000);
	dm_analysis_free(a);
}

static void t_hmap(void)
{
	struct hmap h;
	enum { N = 20000 };
	static uint32_t ref[N];
	uint64_t seed = 12345;

	CHECK_EQ(hmap_init(&h, 4), 0);
	memset(ref, 0xff, sizeof(ref));
	for (int i = 0; i < 400000; i++) {
		uint32_t k;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (uint32_t)(seed >> 33) % N;
		if ((seed >> 20) & 1) {
			CHECK_EQ(hmap_put(&h, k, k ^ 0x55, (uint32_t)i), 0);
			ref[k] = (uint32_t)i;
		} else {
			uint32_t v = hmap_del(&h, k, k ^ 0x55);

			if (v != ref[k]) {
				CHECK(0, "del %u: got %u want %u", k, v, ref[k]);
				break;
			}
			ref[k] = HMAP_NONE;
		}
	}
	{
		uint32_t live = 0;

		for (uint32_t k = 0; k < N; k++) {
			if (hmap_get(&h, k, k ^ 0x55) != ref[k]) {
				CHECK(0, "get %u", k);
				break;
			}
			live += ref[k] != HMAP_NONE;
		}
		CHECK_EQ(hmap_count(&h), live);
	}
	hmap_free(&h);
}

/* ------------------------------------------------------- huge folios */

#define HUGEPFN 0x200000ull	/* naturally aligned: % 512 == 0 */
#define HUGESH 0x80000ull
#define HPAGES 512

/* a to_dev migration of one PMD-sized folio (order 9) */
static void huge_to_dev(struct scen *s, uint64_t *ts, int pid)
{
	sc_setup(s, (*ts)++, 0, pid, DM_DIR_TO_DEV, 0, A0, HPAGES, 1, 1, 0);
	sc_copy_order(s, (*ts)++, 0, pid, DM_DIR_TO_DEV, A0, 0x400000, HUGEPFN, HUGESH, 9);
	sc_finalize(s, (*ts)++, 0, pid, DM_DIR_TO_DEV, 0, A0, HPAGES, 1, HPAGES, 9000);
}

static void t_huge_round_trip(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1;
	struct dm_analysis *a;
	const struct dm_result *r;
	size_t pages, procs, tids, cands;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 60, "huge");
	huge_to_dev(&s, &ts, 60);
	/* a CPU fault on the PMD brings the whole folio back */
	sc_setup(&s, ts++, 1, 60, DM_DIR_TO_RAM, 1, A0, HPAGES, 1, 1, 0);
	sc_copy_order(&s, ts++, 1, 60, DM_DIR_TO_RAM, A0, HUGEPFN, 0x600000, HUGESH, 9);
	sc_free_order(&s, ts++, 1, 60, HUGEPFN, HUGESH, 1, 9);
	sc_finalize(&s, ts++, 1, 60, DM_DIR_TO_RAM, 1, A0, HPAGES, 1, HPAGES, 20000);
	sc_fault(&s, ts++, 1, 60, 60, A0, HUGEPFN, 0, HPAGES, 0);
	sc_exit(&s, ts++, 0, 60, "huge");
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 0);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->leaked_pages, 0);
	CHECK_EQ(r->total.c.to_dev, HPAGES);
	CHECK_EQ(r->total.c.to_ram_fault, HPAGES);
	CHECK_EQ(r->total.c.copies_to_dev, HPAGES);
	CHECK_EQ(r->total.c.copies_to_ram, HPAGES);
	CHECK_EQ(r->total.c.frees, HPAGES);
	CHECK_EQ(r->untracked_frees, 0);
	CHECK_EQ(r->live_at_end, 0);
	CHECK_EQ(r->live_shadow_at_end, 0);
	CHECK_EQ(r->cycles, 1);
	CHECK_EQ(log.n, 1);
	if (log.n == 1) {
		CHECK_EQ(log.c[0].s.c.copies_to_dev, HPAGES);
		CHECK_EQ(log.c[0].s.c.copies_to_ram, HPAGES);
		CHECK_EQ(log.c[0].s.c.frees, HPAGES);
		CHECK_EQ(log.c[0].s.c.to_ram_fault, HPAGES);
	}
	CHECK_EQ(r->outside.c.frees, 0);
	dm_analysis_footprint(a, &pages, &procs, &tids, &cands);
	CHECK_EQ(pages, 0);
	CHECK_EQ(procs, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

/*
 * The kernel splits the huge device folio (a partial munmap, say): one
 * piece comes back by a CPU fault (order 0, inside the block), a fault
 * loop runs on another, and the 512 pieces are freed one by one.
 */
static void huge_split(struct scen *s, uint64_t *ts, int npieces, uint64_t *loop_free_ts)
{
	sc_fork(s, (*ts)++, 0, 1, 61, "split");
	huge_to_dev(s, ts, 61);
	for (unsigned int i = 1; i <= 9; i++)
		sc_fault_mismatch(s, ts, 1, 61, A0 + 7 * PAGE, HUGEPFN + 7, i);
	sc_setup(s, (*ts)++, 1, 61, DM_DIR_TO_RAM, 1, A0 + 3 * PAGE, 1, 1, 1, 0);
	sc_copy(s, (*ts)++, 1, 61, DM_DIR_TO_RAM, A0 + 3 * PAGE, HUGEPFN + 3, 0x9000, HUGESH + 3);
	sc_finalize(s, (*ts)++, 1, 61, DM_DIR_TO_RAM, 1, A0 + 3 * PAGE, 1, 1, 1, 3000);
	sc_fault(s, (*ts)++, 1, 61, 61, A0 + 3 * PAGE, HUGEPFN + 3, 0, 1, 0);
	for (int i = 0; i < npieces; i++) {
		if (i == 7)
			*loop_free_ts = *ts;
		sc_free_ev(s, (*ts)++, i & 1, 61, HUGEPFN + (uint64_t)i, HUGESH + (uint64_t)i, 1);
	}
	sc_exit(s, (*ts)++, 0, 61, "split");
}

/*
 * The page index: pages in three blocks of 512 pfns, a huge folio and a
 * page at the same first pfn (the huge folio's free lost), blocks emptied
 * and filled again, and what is live at the end counted once each.
 */
static void t_page_index(void)
{
	struct scen s;
	uint64_t ts = 1, base = 0x300000, haddr = A0 + 0x400000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 100, "sh");
	for (int round = 0; round < 2; round++) {
		/* 1536 pages over three blocks, freed: every block emptied */
		for (uint64_t i = 0; i < 1536; i++)
			sc_copy(&s, ts++, 0, 100, DM_DIR_TO_DEV, A0 + i * PAGE, 0x1000 + i, base + i,
				SHPFN + i);
		for (uint64_t i = 0; i < 1536; i++)
			sc_free_ev(&s, ts++, 0, 100, base + 1535 - i, SHPFN + 1535 - i, 1);
	}
	/* a huge folio at base + 512, then a page there while it lives */
	sc_copy_order(&s, ts++, 0, 100, DM_DIR_TO_DEV, haddr, 0x4000, base + 512, SHPFN + 512, 9);
	sc_copy(&s, ts++, 0, 100, DM_DIR_TO_DEV, A0, 0x5000, base + 512, SHPFN + 2048);
	/* the page's free finds the page, not the folio: its shadow is its own */
	sc_free_ev(&s, ts++, 0, 100, base + 512, SHPFN + 2048, 0);
	/* a piece of the folio, then pages left live in two blocks */
	sc_free_ev(&s, ts++, 0, 100, base + 513, SHPFN + 513, 1);
	sc_copy(&s, ts++, 0, 100, DM_DIR_TO_DEV, A0 + PAGE, 0x5001, base + 3, SHPFN + 3);
	sc_copy(&s, ts++, 0, 100, DM_DIR_TO_DEV, A0 + 2 * PAGE, 0x5002, base + 1100, SHPFN + 1100);
	/* and a page at the folio's first pfn again, live with it at the end */
	sc_copy(&s, ts++, 0, 100, DM_DIR_TO_DEV, A0 + 3 * PAGE, 0x5003, base + 512, SHPFN + 2049);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->total.c.frees, 2 * 1536 + 2);
	CHECK_EQ(r->untracked_frees, 0);
	CHECK_EQ(r->nleaks, 1);
	if (r->nleaks == 1) {
		CHECK(r->leaks[0].shadow_pfn == SHPFN + 2048 && r->leaks[0].npages == 1 &&
		      r->leaks[0].addr == A0, "leak shadow 0x%" PRIx64 " npages %" PRIu64,
		      r->leaks[0].shadow_pfn, r->leaks[0].npages);
	}
	/* 511 of the folio's pages, and the three pages */
	CHECK_EQ(r->live_at_end, 511 + 3);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_huge_split_then_freed(void)
{
	struct scen s;
	uint64_t ts = 1, loop_free_ts = 0;
	struct dm_analysis *a;
	const struct dm_result *r;
	struct dm_stats_check sc;

	sc_init(&s);
	huge_split(&s, &ts, HPAGES, &loop_free_ts);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->leaked_pages, 0);
	CHECK_EQ(r->total.c.frees, HPAGES);
	CHECK_EQ(r->untracked_frees, 0);
	CHECK_EQ(r->live_at_end, 0);
	CHECK_EQ(r->total.c.copies_to_dev, HPAGES);
	CHECK_EQ(r->total.c.copies_to_ram, 1);
	/* the pieces' events are the process's, in its cycle */
	CHECK_EQ(r->outside.c.frees, 0);
	CHECK_EQ(r->outside.c.copies_to_ram, 0);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops) {
		CHECK(r->loops[0].dev_pfn == HUGEPFN + 7, "dev_pfn 0x%" PRIx64, r->loops[0].dev_pfn);
		/* ended by the free of its piece, not by the exit */
		CHECK_EQ(r->loops[0].end_ts, loop_free_ts);
		CHECK(r->loops[0].end != DM_LOOP_EXITED, "end %s", dm_loop_end_name(r->loops[0].end));
	}
	dm_stats_check("total.shadow_live 40\n", "total.shadow_live 40\n", r, &sc);
	CHECK(sc.have && sc.agree, "expected %" PRIu64, sc.expected);
	dm_analysis_free(a);
	sc_free(&s);

	/* one piece never freed before the exit: a leak of that one page only */
	sc_init(&s);
	ts = 1;
	huge_split(&s, &ts, HPAGES - 1, &loop_free_ts);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 1);
	if (r->nleaks) {
		CHECK_EQ(r->leaks[0].kind, DM_LEAK_LIVE_AFTER_EXIT);
		CHECK_EQ(r->leaks[0].npages, 1);
		CHECK(r->leaks[0].dev_pfn == HUGEPFN, "dev_pfn 0x%" PRIx64, r->leaks[0].dev_pfn);
	}
	CHECK_EQ(r->leaked_pages, 1);
	CHECK_EQ(r->total.c.leaks, 1);
	CHECK_EQ(r->untracked_frees, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

static void t_huge_leak_unreleased(void)
{
	struct scen s;
	struct cyc_log log;
	uint64_t ts = 1, alloc_ts, free_ts;
	struct dm_analysis *a;
	const struct dm_result *r;
	struct dm_stats_check sc;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 62, "leaky");
	alloc_ts = ts + 1;	/* after the setup */
	huge_to_dev(&s, &ts, 62);
	free_ts = ts;
	sc_free_order(&s, ts++, 0, 62, HUGEPFN, HUGESH, 0, 9);
	sc_exit(&s, ts++, 0, 62, "leaky");
	a = run(&s, &log, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 1);
	CHECK_EQ(log.leaks_live, 1);
	if (r->nleaks) {
		const struct dm_leak *l = &r->leaks[0];

		CHECK_EQ(l->kind, DM_LEAK_FREED_UNRELEASED);
		CHECK_EQ(l->npages, HPAGES);
		CHECK(l->dev_pfn == HUGEPFN, "dev_pfn 0x%" PRIx64, l->dev_pfn);
		CHECK(l->shadow_pfn == HUGESH, "shadow 0x%" PRIx64, l->shadow_pfn);
		CHECK(l->addr == A0, "addr 0x%" PRIx64, l->addr);
		CHECK_EQ(l->alloc_ts, alloc_ts);
		CHECK_EQ(l->free_ts, free_ts);
		CHECK_EQ(l->pid, 62);
	}
	CHECK_EQ(r->leaked_pages, HPAGES);
	CHECK_EQ(r->total.c.leaks, HPAGES);
	CHECK_EQ(r->total.c.frees, HPAGES);
	CHECK_EQ(r->live_at_end, 0);
	/* the driver counts pages: shadow_live grew by 512 */
	dm_stats_check("total.shadow_live 100\n", "total.shadow_live 612\n", r, &sc);
	CHECK_EQ(sc.have, 1);
	CHECK_EQ(sc.expected, HPAGES);
	CHECK_EQ(sc.delta, HPAGES);
	CHECK_EQ(sc.agree, 1);
	/* one leak record is not one page */
	dm_stats_check("total.shadow_live 100\n", "total.shadow_live 101\n", r, &sc);
	CHECK_EQ(sc.agree, 0);
	dm_analysis_free(a);
	sc_free(&s);

	/* a huge folio still live at the end, owner alive: 512 pages on the device */
	sc_init(&s);
	ts = 1;
	huge_to_dev(&s, &ts, 63);
	a = run(&s, NULL, 8);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->live_at_end, HPAGES);
	CHECK_EQ(r->live_shadow_at_end, HPAGES);
	dm_stats_check("total.shadow_live 0\n", "total.shadow_live 512\n", r, &sc);
	CHECK_EQ(sc.agree, 1);
	dm_analysis_free(a);
	sc_free(&s);
}

const struct t_case engine_tests[] = {
	{ "engine: healthy cycles, no problem", t_clean_no_problem },
	{ "engine: owner-mismatch loop at the right address and count", t_loop_owner_mismatch },
	{ "engine: no loop for faults that migrate", t_no_loop_when_fault_migrates },
	{ "engine: a fault event with what its migration found stands for setup, copy, finalize", t_fault_folded },
	{ "engine: a fault event carrying its folio's free stands for the free", t_fault_free_folded },
	{ "engine: a dmirror_returned stands for its runs' copies and frees", t_returned_folded },
	{ "engine: a dmirror_window stands for its setup, runs and finalize", t_window_folded },
	{ "engine: a dmirror_batch stands for its faults and windows, an exit before it waits", t_batch_folded },
	{ "engine: loop threshold boundary", t_threshold_boundary },
	{ "engine: loop ended by the driver's guard", t_loop_guard },
	{ "engine: loop causes from setup events", t_loop_causes },
	{ "engine: loop of a thread is its process's", t_loop_per_thread },
	{ "engine: leaks: freed without releasing the shadow", t_leaks_freed_unreleased },
	{ "engine: leaks: live after the owner exited", t_leaks_live_after_exit },
	{ "engine: cycles split at to_dev after pages came back", t_cycles_split },
	{ "engine: cycles of two processes", t_cycles_two_processes },
	{ "engine: latency quantiles (exact and histogram)", t_latency_quantiles },
	{ "engine: lost events make the result incomplete", t_lost_events },
	{ "engine: frees of pages from before the trace", t_free_of_unknown_page },
	{ "engine: state stays bounded over 1M+ events", t_bounded_state },
	{ "engine: hash map against a reference", t_hmap },
	{ "engine: huge folio to the device, faulted back and freed whole", t_huge_round_trip },
	{ "engine: the page index: blocks, two orders at one pfn, the live ones at the end", t_page_index },
	{ "engine: huge folio split, freed in 512 pieces: no leak", t_huge_split_then_freed },
	{ "engine: huge folio freed with released=0: one leak of 512 pages", t_huge_leak_unreleased },
	{ NULL, NULL },
};
