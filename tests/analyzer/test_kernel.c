// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-probe source: the cause rules of kmode.c and the engine on
 * event sequences as the probes record them, the decoding of such a
 * trace.dat (packed probe layouts, src[] arrays, return probes without
 * entry arguments), the report's text and JSON, and the recorder's
 * scrubbing of the ring-buffer pages.
 */
#include <stdlib.h>
#include <string.h>

#include <event-parse.h>

#include "analysis.h"
#include "datfile.h"
#include "probes.h"
#include "reader.h"
#include "scrub.h"
#include "synth.h"
#include "t.h"

#define A0 0x7f0000000000ull
#define OWNER_DEV 1		/* the device: the right pgmap_owner */
#define OWNER_MIRROR 2		/* the mirror: the planted bug's */
#define VM_FAULT_RETRY 0x400
#define CLONE_THREAD 0x00010000
#define PID 300

static const struct dm_kconf kconf_73 = { .swp_private = { 28, 29 }, .page_shift = 12 };

static struct dm_analysis *run(const struct scen *s, const struct dm_kconf *kc)
{
	struct dm_config cfg = { .loop_threshold = 8 };
	struct dm_analysis *a;

	if (kc)
		cfg.kconf = *kc;
	a = dm_analysis_new(&cfg);
	if (!a)
		abort();
	sc_feed(s, a);
	dm_analysis_finish(a);
	return a;
}

/* A process that migrates npages to the device and faults them back. */
static void clean_cycle(struct scen *s, uint64_t *ts, uint64_t npages)
{
	sc_kp_to_dev(s, ts, 0, PID, A0, npages, OWNER_DEV, 100);
	for (uint64_t i = 0; i < npages; i++)
		sc_kp_fault(s, ts, 0, PID, A0 + i * PAGE, 100 + i, OWNER_DEV, OWNER_DEV, 1, 1);
}

static void t_clean(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	clean_cycle(&s, &ts, 4);
	sc_exit(&s, ts++, 0, PID, "workload");
	a = run(&s, &kconf_73);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 0);
	CHECK_EQ(r->nleaks, 0);
	CHECK_EQ(r->total.c.to_dev, 4);
	CHECK_EQ(r->total.c.to_ram_fault, 4);
	CHECK_EQ(r->total.c.faults, 4);
	CHECK_EQ(r->total.c.frees, 4);
	CHECK_EQ(r->devpages_init, 4);
	CHECK_EQ(r->migrate_calls, 5);
	CHECK_EQ(r->devprivate_faults, 4);
	CHECK_EQ(r->cycles, 1);
	CHECK_EQ(r->total.lat.count, 4);
	/* per call: asked for, collected (what moved is to_dev, to_ram) */
	CHECK_EQ(r->total.c.calls[DM_DIR_TO_DEV], 1);
	CHECK_EQ(r->total.c.requested[DM_DIR_TO_DEV], 4);
	CHECK_EQ(r->total.c.collected[DM_DIR_TO_DEV], 4);
	CHECK_EQ(r->total.c.calls[DM_DIR_TO_RAM], 4);
	CHECK_EQ(r->total.c.requested[DM_DIR_TO_RAM], 4);
	CHECK_EQ(r->total.c.collected[DM_DIR_TO_RAM], 4);
	CHECK(r->kernel_source, "the kernel source was not noticed");
	dm_analysis_free(a);
	sc_free(&s);
}

/* n faults on the first page with the mirror as owner: the planted bug */
static struct dm_analysis *owner_loop(int n, bool btf, bool init_in_trace, const struct dm_kconf *kc,
				      struct scen *s)
{
	uint64_t ts = 1000;

	sc_init(s);
	if (init_in_trace)
		sc_kp_to_dev(s, &ts, 0, PID, A0, 1, OWNER_DEV, 100);
	else {
		/* the to-dev migration's init was before the trace: only its
		 * finalize and the range are seen */
		sc_kp_setup(s, ts++, 0, PID, A0, 1, OWNER_DEV, 1, 0);
		sc_kp_setup_ret(s, ts++, 0, PID, 0, true, 1, 1, SC_SYM_TODEV);
		sc_kp_pages(s, ts++, 0, PID, A0, 1, 1);
		sc_kp_final(s, ts++, 0, PID, A0, 1, 1, 1);
		sc_kp_final_ret(s, ts++, 0, PID);
	}
	for (int i = 0; i < n; i++) {
		sc_kp_fault(s, &ts, 0, PID, A0, 100, OWNER_MIRROR, OWNER_DEV, 0, 0);
		if (!btf)
			s->ev[s->n - 7].kp_fpage.has_fowner = false;	/* the fpage event */
	}
	return run(s, kc);
}

static void check_owner_loop(const struct dm_result *r, uint8_t basis, int n)
{
	CHECK_EQ(r->nloops, 1);
	if (r->nloops != 1)
		return;
	CHECK_EQ(r->loops[0].pid, PID);
	CHECK(r->loops[0].addr == A0, "addr 0x%" PRIx64, r->loops[0].addr);
	CHECK_EQ(r->loops[0].count, n);
	CHECK_EQ(dm_loop_cause(&r->loops[0]), DM_CAUSE_OWNER_MISMATCH);
	CHECK_EQ(r->loops[0].owner_basis, basis);
	CHECK_EQ(r->loops[0].owner, OWNER_MIRROR);
	CHECK_EQ(r->loops[0].page_owner, OWNER_DEV);
	CHECK(r->loops[0].kernel, "not a kernel-probe loop");
	CHECK(r->loops[0].has_uip && r->loops[0].uip == SC_USER_PC, "user pc");
	CHECK_EQ(r->loops[0].callback, SC_SYM_FAULT);
	CHECK(r->loops[0].dev_pfn == 0xfff0000 + 100, "dev_pfn 0x%" PRIx64 " from the swap entry",
	      r->loops[0].dev_pfn);
}

/* Where the page's owner comes from: BTF, the migration that made the
 * page, or the last migration at the address. */
static void t_owner_sources(void)
{
	static const struct { bool btf, init; uint8_t basis; } cases[] = {
		{ true, true, DM_OWNER_BTF },
		{ false, true, DM_OWNER_INIT },
		{ false, false, DM_OWNER_RANGE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scen s;
		struct dm_analysis *a = owner_loop(12, cases[i].btf, cases[i].init, &kconf_73, &s);

		check_owner_loop(dm_analysis_result(a), cases[i].basis, 12);
		dm_analysis_free(a);
		sc_free(&s);
	}
}

/* n faults at A0 built by one of the helpers below */
typedef void (*fault_fn)(struct scen *s, uint64_t *ts);

static const struct dm_loop *one_loop(struct scen *s, struct dm_analysis **a, fault_fn f, int n)
{
	uint64_t ts = 1000;
	const struct dm_result *r;

	sc_init(s);
	sc_kp_to_dev(s, &ts, 0, PID, A0, 1, OWNER_DEV, 100);
	for (int i = 0; i < n; i++)
		f(s, &ts);
	*a = run(s, &kconf_73);
	r = dm_analysis_result(*a);
	CHECK_EQ(r->nloops, 1);
	return r->nloops == 1 ? &r->loops[0] : NULL;
}

static void f_busy(struct scen *s, uint64_t *ts)
{
	sc_kp_fault(s, ts, 0, PID, A0, 100, OWNER_DEV, OWNER_DEV, 0, 0);
}

static void f_setup_error(struct scen *s, uint64_t *ts)
{
	sc_ufault(s, (*ts)++, 0, PID, A0, SC_USER_PC);
	sc_kp_swap(s, (*ts)++, 0, PID, A0, sc_swap_pte(28, 0xfff0064), 0xa54);
	sc_kp_setup(s, (*ts)++, 0, PID, A0, 1, OWNER_DEV, 2, 100);
	sc_kp_setup_ret(s, (*ts)++, 0, PID, -22, true, 1, 0, SC_SYM_FAULT);
	sc_kp_swap_ret(s, (*ts)++, 0, PID, 2, true, 100);
}

static void f_not_migrated(struct scen *s, uint64_t *ts)
{
	sc_kp_fault(s, ts, 0, PID, A0, 100, OWNER_DEV, OWNER_DEV, 1, 0);
}

static void f_no_setup(struct scen *s, uint64_t *ts)
{
	sc_ufault(s, (*ts)++, 0, PID, A0, SC_USER_PC);
	sc_kp_swap(s, (*ts)++, 0, PID, A0, sc_swap_pte(28, 0xfff0064), 0xa54);
	sc_kp_swap_ret(s, (*ts)++, 0, PID, 0, true, 100);
}

static void f_lock_wait(struct scen *s, uint64_t *ts)
{
	sc_ufault(s, (*ts)++, 0, PID, A0, SC_USER_PC);
	sc_kp_swap(s, (*ts)++, 0, PID, A0, sc_swap_pte(28, 0xfff0064), 0xa54);
	sc_kp_lock_wait(s, (*ts)++, 0, PID);
	sc_kp_swap_ret(s, (*ts)++, 0, PID, 0, true, 100);
}

static void t_causes(void)
{
	static const struct { fault_fn f; enum dm_cause cause; const char *name; } cases[] = {
		{ f_busy, DM_CAUSE_NOT_COLLECTED, "busy page" },
		{ f_setup_error, DM_CAUSE_SETUP_ERROR, "setup error" },
		{ f_not_migrated, DM_CAUSE_NOT_MIGRATED, "collected, not migrated" },
		{ f_no_setup, DM_CAUSE_NO_SETUP, "no setup" },
		{ f_lock_wait, DM_CAUSE_NOT_REACHED, "lock contended" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scen s;
		struct dm_analysis *a;
		const struct dm_loop *l = one_loop(&s, &a, cases[i].f, 10);

		CHECK(l && dm_loop_cause(l) == cases[i].cause, "%s: cause %s", cases[i].name,
		      l ? dm_cause_name(dm_loop_cause(l)) : "no loop");
		if (l && cases[i].f == f_setup_error)
			CHECK_EQ(l->last_ret, -22);
		if (l && cases[i].f == f_no_setup)
			CHECK_EQ(l->migrator, SC_SYM_TODEV);
		if (l && cases[i].f == f_lock_wait)
			CHECK_EQ(dm_analysis_result(a)->lock_waits, 10);
		dm_analysis_free(a);
		sc_free(&s);
	}
}

/* 6.12 and later: each fault first tried under the per-VMA lock, given
 * back with VM_FAULT_RETRY before the driver, retried: not a loop */
static void t_vma_lock_retry(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_kp_to_dev(&s, &ts, 0, PID, A0, 16, OWNER_DEV, 100);
	for (int i = 0; i < 16; i++) {
		sc_kp_swap(&s, ts++, 0, PID, A0 + i * PAGE, sc_swap_pte(28, 0xfff0000 + 100 + i), 0x1a54);
		sc_kp_swap_ret(&s, ts++, 0, PID, VM_FAULT_RETRY, true, 0);
		sc_kp_fault(&s, &ts, 0, PID, A0 + i * PAGE, 100 + i, OWNER_DEV, OWNER_DEV, 1, 1);
	}
	a = run(&s, &kconf_73);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 0);
	CHECK_EQ(r->vma_lock_retries, 16);
	CHECK_EQ(r->total.c.faults, 16);
	CHECK_EQ(r->total.c.faults_no_progress, 0);
	CHECK_EQ(r->total.c.to_ram_fault, 16);
	dm_analysis_free(a);
	sc_free(&s);
}

/* 6.1: return probes read no arguments, and this driver skips pages and
 * finalize when nothing was collected: collected 0 is inferred */
static void t_inferred_cpages(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_kp_to_dev(&s, &ts, 0, PID, A0, 1, OWNER_DEV, 100);
	for (int i = 0; i < 9; i++) {
		sc_ufault(&s, ts++, 0, PID, A0, SC_USER_PC);
		sc_kp_swap(&s, ts++, 0, PID, A0, sc_swap_pte(26, 0xfff0064), 0x254);
		sc_kp_setup(&s, ts++, 0, PID, A0, 1, OWNER_MIRROR, 2, 100);
		sc_kp_setup_ret(&s, ts++, 0, PID, 0, false, 0, 0, SC_SYM_FAULT);
		sc_kp_swap_ret(&s, ts++, 0, PID, 0, false, 0);
	}
	{
		struct dm_kconf k61 = { .swp_private = { 26, 27 }, .swp_exclusive = { 28, 29 } };

		a = run(&s, &k61);
	}
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops == 1) {
		CHECK_EQ(dm_loop_cause(&r->loops[0]), DM_CAUSE_OWNER_MISMATCH);
		CHECK(r->loops[0].cpages_inferred, "collected 0 should be marked inferred");
		CHECK_EQ(r->loops[0].owner_basis, DM_OWNER_INIT);
	}
	dm_analysis_free(a);
	sc_free(&s);
}

/* Two probes on one function fire in either order. */
static void t_probe_order(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_kp_to_dev(&s, &ts, 0, PID, A0, 1, OWNER_DEV, 100);
	for (int i = 0; i < 10; i++) {
		sc_ufault(&s, ts++, 0, PID, A0, SC_USER_PC);
		sc_kp_swap(&s, ts++, 0, PID, A0, sc_swap_pte(28, 0xfff0064), 0xa54);
		/* mv_setup before mv_setup_fpage this time */
		sc_kp_setup(&s, ts++, 0, PID, A0, 1, OWNER_MIRROR, 2, 100);
		sc_kp_fpage(&s, ts++, 0, PID, 100, 1, OWNER_DEV);
		sc_kp_setup_ret(&s, ts++, 0, PID, 0, true, 1, 0, SC_SYM_FAULT);
		sc_kp_pages(&s, ts++, 0, PID, A0, 1, 0);
		sc_kp_final(&s, ts++, 0, PID, A0, 1, 0, 0);
		sc_kp_final_ret(&s, ts++, 0, PID);
		/* swap_fault_mtr first (i even) or second */
		if (i % 2)
			sc_kp_swap_ret(&s, ts++, 0, PID, 0, true, 100);
		sc_kp_mtr(&s, ts++, 0, PID, 100, 7);
		if (!(i % 2))
			sc_kp_swap_ret(&s, ts++, 0, PID, 0, true, 100);
	}
	a = run(&s, &kconf_73);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops == 1) {
		CHECK_EQ(r->loops[0].count, 10);
		CHECK_EQ(r->loops[0].owner_basis, DM_OWNER_BTF);
		CHECK_EQ(r->loops[0].callback, 7);	/* the page's migrate_to_ram */
	}
	dm_analysis_free(a);
	sc_free(&s);
}

/* Device pages never freed: leaked once every process that could map
 * them is gone; a child that inherited the mapping keeps them alive. */
static void t_devpage_ledger(void)
{
	for (int child_alive = 0; child_alive < 2; child_alive++) {
		struct scen s;
		uint64_t ts = 1000;
		struct dm_analysis *a;
		const struct dm_result *r;

		sc_init(&s);
		sc_kp_to_dev(&s, &ts, 0, PID, A0, 3, OWNER_DEV, 100);
		sc_fork(&s, ts++, 0, PID, PID + 1, "child");
		sc_exit(&s, ts++, 0, PID, "workload");
		if (!child_alive)
			sc_exit(&s, ts++, 1, PID + 1, "child");
		a = run(&s, &kconf_73);
		r = dm_analysis_result(a);
		CHECK_EQ(r->devpage_leaks, child_alive ? 0 : 3);
		CHECK_EQ(r->nleaks, child_alive ? 0 : 3);
		CHECK_EQ(r->leaked_pages, 0);	/* shadow pages: not judged here */
		for (size_t i = 0; i < r->nleaks; i++) {
			CHECK_EQ(r->leaks[i].kind, DM_LEAK_DEVPAGE);
			CHECK_EQ(r->leaks[i].pid, PID);
			CHECK_EQ(r->leaks[i].driver, SC_SYM_TODEV);
		}
		if (child_alive)
			CHECK_EQ(r->live_at_end, 3);
		dm_analysis_free(a);
		sc_free(&s);
	}
}

/* A thread's faults belong to its process. */
static void t_threads(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	sc_kp_to_dev(&s, &ts, 0, PID, A0, 1, OWNER_DEV, 100);
	sc_newtask(&s, ts++, 0, PID, PID + 7, CLONE_THREAD);
	for (int i = 0; i < 9; i++)
		sc_kp_fault(&s, &ts, 1, PID + 7, A0, 100, OWNER_MIRROR, OWNER_DEV, 0, 0);
	a = run(&s, &kconf_73);
	r = dm_analysis_result(a);
	CHECK_EQ(r->nloops, 1);
	if (r->nloops == 1)
		CHECK_EQ(r->loops[0].pid, PID);
	dm_analysis_free(a);
	sc_free(&s);
}

/*
 * Calls over more pages than the finalize event's src[] shows: the pages
 * that moved are counted from the device pages initialised and freed
 * during the call, and for a fault, until it returns (the fault page is
 * freed after the driver's callback).
 */
static void t_inferred_counts(void)
{
	struct scen s;
	uint64_t ts = 1000;
	struct dm_analysis *a;
	const struct dm_result *r;

	sc_init(&s);
	/* to the device, 200 pages: 8 of the destinations given back */
	sc_kp_setup(&s, ts++, 0, PID, A0, 200, OWNER_DEV, 1, 0);
	sc_kp_setup_ret(&s, ts++, 0, PID, 0, true, 200, 200, SC_SYM_TODEV);
	for (int i = 0; i < 200; i++)
		sc_kp_init(&s, ts++, 0, PID, 1000 + i, 1, 0);
	sc_kp_pages(&s, ts++, 0, PID, A0, 200, 200);
	sc_kp_final(&s, ts++, 0, PID, A0, 200, 200, 0);
	for (int i = 0; i < 8; i++)
		sc_kp_free(&s, ts++, 0, PID, 1000 + i, 1);
	sc_kp_final_ret(&s, ts++, 0, PID);
	/* back by an ioctl, 100 of them */
	sc_kp_setup(&s, ts++, 0, PID, A0, 100, OWNER_DEV, 2, 0);
	sc_kp_setup_ret(&s, ts++, 0, PID, 0, true, 100, 100, SC_SYM_TODEV);
	sc_kp_pages(&s, ts++, 0, PID, A0, 100, 100);
	sc_kp_final(&s, ts++, 0, PID, A0, 100, 100, 0);
	for (int i = 8; i < 108; i++)
		sc_kp_free(&s, ts++, 0, PID, 1000 + i, 1);
	sc_kp_final_ret(&s, ts++, 0, PID);
	/* a huge device folio faulted back: freed after finalize returned */
	sc_kp_setup(&s, ts++, 0, PID, A0 + 0x200000, 512, OWNER_DEV, 1 | 8, 0);
	sc_kp_setup_ret(&s, ts++, 0, PID, 0, true, 512, 512, SC_SYM_TODEV);
	sc_kp_init(&s, ts++, 0, PID, 5000, 1, 9);
	sc_kp_pages(&s, ts++, 0, PID, A0 + 0x200000, 512, 512);
	sc_kp_final(&s, ts++, 0, PID, A0 + 0x200000, 512, 512, 0);
	sc_kp_final_ret(&s, ts++, 0, PID);
	sc_kp_swap(&s, ts++, 0, PID, A0 + 0x200000, sc_swap_pte(28, 0xfff1000), 0xa54);
	sc_kp_fpage(&s, ts++, 0, PID, 5000, 1, OWNER_DEV);
	sc_kp_setup(&s, ts++, 0, PID, A0 + 0x200000, 512, OWNER_DEV, 2, 5000);
	sc_kp_setup_ret(&s, ts++, 0, PID, 0, true, 512, 512, SC_SYM_FAULT);
	sc_kp_pages(&s, ts++, 0, PID, A0 + 0x200000, 512, 512);
	sc_kp_final(&s, ts++, 0, PID, A0 + 0x200000, 512, 512, 0);
	sc_kp_final_ret(&s, ts++, 0, PID);
	sc_kp_free(&s, ts++, 0, PID, 5000, 1);
	sc_kp_swap_ret(&s, ts++, 0, PID, 0, true, 5000);
	a = run(&s, &kconf_73);
	r = dm_analysis_result(a);
	CHECK_EQ(r->total.c.to_dev, 192 + 512);
	CHECK_EQ(r->total.c.to_ram_ioctl, 100);
	CHECK_EQ(r->total.c.to_ram_fault, 512);
	CHECK_EQ(r->total.c.faults, 1);
	CHECK_EQ(r->total.c.faults_no_progress, 0);
	CHECK_EQ(r->inferred_calls, 4);
	CHECK_EQ(r->inferred_pages, 192 + 100 + 512 + 512);
	CHECK_EQ(r->nloops, 0);
	dm_analysis_free(a);
	sc_free(&s);
}

/* ------------------------------------------------------------ the file */

static const char kp_meta[] =
	"command: workload -d /dev/hmm_dmirror0 -s 1\n"
	"source: kernel\n"
	"probes.group: dmirror_analyzer_4242\n"
	"probes.kernel: 7.3\n"
	"probes.verified: yes\n"
	"probes.offsets: btf\n"
	"probes.swp_private: 28 29\n"
	"probes.swp_exclusive: 0 0\n"
	"probes.page_shift: 12\n"
	"probes.placed: mv_setup mv_setup_fpage mv_setup_ret mv_pages mv_final mv_final_ret\n"
	"sym.5: dmirror_migrate_to_device+0x1d5 [hmm_foreign_owner]\n"
	"sym.6: dmirror_devmem_fault+0x11c [hmm_foreign_owner]\n";

static void t_file_roundtrip(void)
{
	for (int no_args = 0; no_args < 2; no_args++) {
		struct sc_file_opts o = { .kernel_formats = true, .no_dmirror_formats = true,
					  .meta = kp_meta, .kp_no_ret_args = no_args };
		struct scen s;
		struct dm_analysis *direct, *viafile;
		struct dm_reader *rd;
		struct dm_config cfg = { .loop_threshold = 8, .kconf = kconf_73 };
		const char *p = t_path(no_args ? "kp61.dat" : "kp.dat");
		char err[256] = "";
		const struct dm_result *x, *y;

		direct = owner_loop(12, true, true, &kconf_73, &s);
		sc_exit(&s, s.ev[s.n - 1].ts + 1, 0, PID, "workload");
		CHECK_EQ(sc_write_dat(&s, p, &o), 0);
		rd = dm_reader_open(p, DM_SOURCE_AUTO, err, sizeof(err));
		CHECK(rd != NULL, "read: %s", err);
		if (!rd) {
			dm_analysis_free(direct);
			sc_free(&s);
			continue;
		}
		CHECK_EQ(dm_reader_stats(rd)->source, DM_SOURCE_KERNEL);
		dm_reader_kconf(rd, &cfg.kconf);
		CHECK_EQ(cfg.kconf.swp_private[0], 28);
		cfg.sym_of = dm_reader_sym;
		cfg.sym_ctx = rd;
		viafile = dm_analysis_new(&cfg);
		CHECK_EQ(dm_reader_run(rd, viafile, err, sizeof(err)), 0);
		dm_analysis_finish(viafile);
		x = dm_analysis_result(direct);
		y = dm_analysis_result(viafile);
		CHECK_EQ(dm_reader_stats(rd)->bad_records, 0);
		CHECK_EQ(y->nloops, 1);
		if (y->nloops == 1 && x->nloops == 1) {
			CHECK_EQ(y->loops[0].addr, x->loops[0].addr);
			CHECK_EQ(y->loops[0].count, x->loops[0].count);
			CHECK_EQ(dm_loop_cause(&y->loops[0]), DM_CAUSE_OWNER_MISMATCH);
			CHECK_EQ(y->loops[0].callback, SC_SYM_FAULT);
			/* without return-probe arguments the collected count
			 * comes from pages/finalize: the same verdict */
			CHECK_EQ(y->loops[0].cpages_inferred, 0);
			CHECK(!strcmp(dm_analysis_sym(viafile, y->loops[0].callback),
				      "dmirror_devmem_fault+0x11c [hmm_foreign_owner]"),
			      "callback %s", dm_analysis_sym(viafile, y->loops[0].callback));
		}
		CHECK_EQ(y->total.c.to_dev, x->total.c.to_dev);
		CHECK_EQ(y->total.c.faults, x->total.c.faults);
		CHECK_EQ(y->devpages_init, x->devpages_init);
		CHECK_EQ(y->kernel_events, x->kernel_events);
		dm_analysis_free(direct);
		dm_analysis_free(viafile);
		dm_reader_close(rd);
		sc_free(&s);
	}
}

static void t_cli_report(void)
{
	struct sc_file_opts o = { .kernel_formats = true, .no_dmirror_formats = true, .meta = kp_meta };
	struct scen s;
	struct dm_analysis *a = owner_loop(12, true, true, &kconf_73, &s);
	char cmd[1024], *out = NULL, *err = NULL;
	const char *p = t_path("kpcli.dat");
	int rc;

	dm_analysis_free(a);
	CHECK_EQ(sc_write_dat(&s, p, &o), 0);
	snprintf(cmd, sizeof(cmd), "%s report %s", t_analyzer, p);
	rc = t_run(cmd, &out, &err);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "source:   kernel probes") != NULL, "no source line:\n%s", out);
	CHECK(strstr(out, "Shadow pages are not judged") != NULL, "shadow pages line missing");
	CHECK(strstr(out, "handled by dmirror_devmem_fault+0x11c [hmm_foreign_owner]") != NULL,
	      "callback missing:\n%s", out);
	CHECK(strstr(out, "user pc 0x401d9e") != NULL, "user pc missing");
	CHECK(strstr(out, "passed pgmap_owner owner#2, but the device page's owner is owner#1 "
			  "(read from the page's own pgmap->owner through BTF)") != NULL,
	      "owner text missing:\n%s", out);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "%s report --json %s", t_analyzer, p);
	rc = t_run(cmd, &out, &err);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "\"source\": \"kernel\",") != NULL, "source");
	CHECK(strstr(out, "\"shadow_pages_judged\": false,") != NULL, "shadow pages not judged");
	CHECK(strstr(out, "\"cause\": {\"code\": \"owner_mismatch\"") != NULL, "cause");
	CHECK(strstr(out, "\"callback\": \"dmirror_devmem_fault+0x11c [hmm_foreign_owner]\"") != NULL,
	      "callback in JSON");
	CHECK(strstr(out, "\"owner\": {\"basis\": \"btf\", \"fault_path\": \"owner#2\", \"page\": \"owner#1\"}") != NULL,
	      "owner in JSON:\n%s", out);
	free(out);
	free(err);
	/* the whole document through a real JSON parser */
	snprintf(cmd, sizeof(cmd),
		 "%s report --json %s | python3 -c '"
		 "import json,sys\n"
		 "d=json.load(sys.stdin)\n"
		 "assert d[\"source\"]==\"kernel\" and d[\"shadow_pages_judged\"] is False\n"
		 "l=d[\"fault_loops\"][0]\n"
		 "assert l[\"kernel\"] is True and l[\"user_pc\"]==\"0x401d9e\"\n"
		 "assert l[\"owner\"]=={\"basis\":\"btf\",\"fault_path\":\"owner#2\",\"page\":\"owner#1\"}\n"
		 "assert d[\"kernel\"][\"device_pages_init\"]==1\n"
		 "t=d[\"total\"][\"calls\"]\n"
		 "assert t[\"to_dev\"]==dict(calls=1,requested=1,collected=1,migrated=1), t\n"
		 "assert t[\"to_ram\"][\"calls\"]==12 and t[\"to_ram\"][\"collected\"]==0, t\n"
		 "assert sum(c[\"calls\"][\"to_dev\"][\"calls\"] for c in d[\"cycles\"])+d[\"outside_cycles\"][\"calls\"][\"to_dev\"][\"calls\"]==1\n"
		 "print(\"json-ok\")'",
		 t_analyzer, p);
	rc = t_run(cmd, &out, &err);
	CHECK(rc == 0 && strstr(out, "json-ok"), "the JSON parsed: %s %s", out, err);
	free(out);
	free(err);
	/* --source dmirror on a kernel-probe trace: one line, exit 2 */
	snprintf(cmd, sizeof(cmd), "%s report --source dmirror %s", t_analyzer, p);
	rc = t_run(cmd, &out, &err);
	CHECK_EQ(rc, 2);
	CHECK_EQ(t_count_lines(err), 1);
	CHECK(strstr(err, "--source kernel") != NULL, "the line says what to use: %s", err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "%s report --source nonsense %s", t_analyzer, p);
	CHECK_EQ(t_run(cmd, NULL, NULL), 2);
	sc_free(&s);
}

/* ----------------------------------------------------------- scrubbing */

static const char kallsyms_text[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81212600 T migrate_vma_setup\n"
	"ffffffffa0001000 t dmirror_devmem_fault\t[hmm_foreign]\n"
	"ffffffffa0002000 t dmirror_migrate_to_device\t[hmm_foreign]\n";

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void t_scrub(void)
{
	struct sc_file_opts o = { .kernel_formats = true, .no_dmirror_formats = true };
	struct scen s;
	struct tep_handle *tep;
	struct tep_event *setup, *fpage, *fin;
	struct dm_scrub *sc;
	unsigned char rec[3][600], page[4096];
	const unsigned char *data[3] = { rec[0], rec[1], rec[2] };
	int len[3];
	char err[128], ks[512];
	FILE *f;
	const int base = 16 + 4;	/* page header, the event header */

	/* a kallsyms to resolve from */
	snprintf(ks, sizeof(ks), "%s/kallsyms", t_dir);
	f = fopen(ks, "w");
	fputs(kallsyms_text, f);
	fclose(f);
	/* the formats, as the file writer lays them out */
	sc_init(&s);
	CHECK_EQ(sc_write_dat(&s, t_path("fmt.dat"), &o), 0);
	tep = sc_make_tep_kernel();
	setup = tep_find_event_by_name(tep, "dmirror_analyzer_4242", "mv_setup");
	fpage = tep_find_event_by_name(tep, "dmirror_analyzer_4242", "mv_setup_fpage");
	fin = tep_find_event_by_name(tep, "dmirror_analyzer_4242", "mv_final");
	CHECK(setup && fpage && fin, "no probe formats");
	if (!setup || !fpage || !fin)
		goto out;
	memset(rec, 0, sizeof(rec));
	/* mv_setup: an owner, a NULL fault page, a caller in a module */
	memcpy(rec[0], &(uint16_t){ (uint16_t)setup->id }, 2);
	put64(rec[0] + tep_find_field(setup, "__probe_ip")->offset, 0xffffffff81212604ull);
	put64(rec[0] + tep_find_field(setup, "owner")->offset, 0xffff888012345678ull);
	put64(rec[0] + tep_find_field(setup, "fpage")->offset, 0);
	put64(rec[0] + tep_find_field(setup, "caller")->offset, 0xffffffffa000108bull);
	put64(rec[0] + tep_find_field(setup, "start")->offset, 0x7f0000001000ull);
	len[0] = 8 + 8 + 6 * 8;
	/* mv_setup_fpage: a tail page, whose pgmap word is its head, tagged */
	memcpy(rec[1], &(uint16_t){ (uint16_t)fpage->id }, 2);
	put64(rec[1] + tep_find_field(fpage, "fpage")->offset, 0xffffea0000400040ull);
	put64(rec[1] + tep_find_field(fpage, "fpgmap")->offset, 0xffffea0000400001ull);
	put64(rec[1] + tep_find_field(fpage, "fowner")->offset, 0xffff888012345678ull);
	len[1] = 8 + 4 * 8;
	/* mv_final of 2 pages: src[2..] hold what was past the array */
	memcpy(rec[2], &(uint16_t){ (uint16_t)fin->id }, 2);
	put64(rec[2] + tep_find_field(fin, "npages")->offset, 2);
	for (int i = 0; i < DM_KP_FINAL_ENTRIES; i++)
		put64(rec[2] + tep_find_field(fin, "src")->offset + 8 * i,
		      i < 2 ? (0x1000ull + (uint64_t)i) << 6 | 3 : 0xffff888000000000ull + (uint64_t)i);
	len[2] = tep_find_field(fin, "src")->offset + 8 * DM_KP_FINAL_ENTRIES;
	CHECK_EQ(sc_build_page(page, sizeof(page), 100, data, len, 3), 0);

	sc = dm_scrub_new(tep, "dmirror_analyzer_4242", ks, err, sizeof(err));
	CHECK(sc != NULL, "scrub: %s", err);
	if (!sc)
		goto out;
	dm_scrub_page(sc, page);
	{
		const unsigned char *r0 = page + base, *r1 = r0 + ((len[0] + 3) & ~3) + 4;
		const unsigned char *r2 = r1 + ((len[1] + 3) & ~3) + 8;	/* r2 is a long event */
		uint64_t caller = get64(r0 + tep_find_field(setup, "caller")->offset);

		CHECK_EQ(get64(r0 + tep_find_field(setup, "owner")->offset), 1);
		CHECK_EQ(get64(r0 + tep_find_field(setup, "fpage")->offset), 0);
		CHECK_EQ(get64(r0 + tep_find_field(setup, "start")->offset), 0x7f0000001000ull);
		CHECK(caller && dm_scrub_sym(sc, caller) &&
		      !strcmp(dm_scrub_sym(sc, caller), "dmirror_devmem_fault+0x8b [hmm_foreign]"),
		      "caller %s", caller ? dm_scrub_sym(sc, caller) : "0");
		CHECK(!strcmp(dm_scrub_sym(sc, get64(r0 + tep_find_field(setup, "__probe_ip")->offset)),
			      "migrate_vma_setup+0x4"), "__probe_ip as a symbol");
		CHECK_EQ(get64(r1 + tep_find_field(fpage, "fpage")->offset), 1);
		CHECK(get64(r1 + tep_find_field(fpage, "fpgmap")->offset) == DM_TOKEN_UNKNOWN,
		      "a tail page's pgmap is unknown");
		CHECK(get64(r1 + tep_find_field(fpage, "fowner")->offset) == DM_TOKEN_UNKNOWN,
		      "what was read through it is unknown");
		CHECK_EQ(get64(r2 + tep_find_field(fin, "src")->offset), (0x1000ull << 6) | 3);
		CHECK_EQ(get64(r2 + tep_find_field(fin, "src")->offset + 8), (0x1001ull << 6) | 3);
		for (int i = 2; i < DM_KP_FINAL_ENTRIES; i++)
			CHECK(!get64(r2 + tep_find_field(fin, "src")->offset + 8 * i),
			      "src[%d] past npages not zeroed", i);
	}
	{
		/* a second page: the same owner, the same token */
		char *m = NULL;
		size_t ml = 0;
		FILE *mf = open_memstream(&m, &ml);

		dm_scrub_meta(sc, mf);
		fclose(mf);
		CHECK(strstr(m, "tokens: owner=1 page=1 pgmap=0 sym=2") != NULL, "meta: %s", m);
		CHECK(strstr(m, "sym.2: dmirror_devmem_fault+0x8b [hmm_foreign]") ||
		      strstr(m, "sym.1: dmirror_devmem_fault+0x8b [hmm_foreign]"), "meta: %s", m);
		free(m);
	}
	dm_scrub_free(sc);
out:
	tep_free(tep);
	sc_free(&s);
}

const struct t_case kernel_tests[] = {
	{ "kernel: a clean cycle: counts each way, no loop, no leak", t_clean },
	{ "kernel: owner mismatch: the page's owner from BTF, its migration, its address", t_owner_sources },
	{ "kernel: busy page, setup error, not migrated, no setup, lock contended", t_causes },
	{ "kernel: faults retried under the per-VMA lock are not loops", t_vma_lock_retry },
	{ "kernel: 6.1: collected 0 inferred when the driver skips pages and finalize", t_inferred_cpages },
	{ "kernel: two probes on one function, either order", t_probe_order },
	{ "kernel: device pages leak only when no process can map them", t_devpage_ledger },
	{ "kernel: a thread's faults are its process's", t_threads },
	{ "kernel: calls over src[]'s pages: moved pages from the device pages' inits and frees", t_inferred_counts },
	{ "kernel: file roundtrip, with and without return-probe arguments", t_file_roundtrip },
	{ "kernel: cli: text, JSON, --source", t_cli_report },
	{ "kernel: scrub: tokens, symbols, tail pages, src[] past npages", t_scrub },
	{ NULL, NULL },
};
