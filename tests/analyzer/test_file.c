// SPDX-License-Identifier: GPL-2.0
/*
 * The file path: our writer writes synthetic trace.dat files, libtracecmd
 * reads them back through our reader, the analyzer binary reports on
 * them, and trace-cmd report (the real one) must read them too.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include "datfile.h"
#include "events.h"
#include "live.h"
#include "reader.h"
#include "ringread.h"
#include "synth.h"
#include "t.h"

#define A0 0x7f1200000000ull
#define DEVPFN 0x200000ull
#define SHPFN 0x60000ull


/* a trace with a bit of everything: two processes, cycles, one loop, two leaks */
static void mixed(struct scen *s)
{
	uint64_t ts = 5000000000ull;

	sc_init(s);
	sc_chunk(s, ts++, 0, DEVPFN, 1024);
	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "/opt/dmirror/bin/workload");
	sc_fork(s, ts++, 1, 1, 200, "sh");
	sc_exec(s, ts++, 1, 200, "/usr/bin/other");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 6, DEVPFN, SHPFN);
	sc_migrate_to_dev(s, &ts, 1, 200, A0, 3, DEVPFN + 100, SHPFN + 100);
	for (int i = 0; i < 6; i++) {
		ts += 200000000ull;	/* 200 ms apart: time extends in the pages */
		sc_fault_back(s, &ts, i & 1, 100, A0 + (uint64_t)i * PAGE, DEVPFN + (uint64_t)i,
			      SHPFN + (uint64_t)i, 1000 + (uint64_t)i * 100, i != 2 && i != 5);
	}
	sc_migrate_to_dev(s, &ts, 0, 100, A0, 2, DEVPFN + 10, SHPFN + 10);
	for (unsigned int i = 1; i <= 12; i++)
		sc_fault_mismatch(s, &ts, 1, 200, A0 + PAGE, DEVPFN + 101, i);
	sc_fault_back(s, &ts, 1, 200, A0, DEVPFN + 100, SHPFN + 100, 700, true);
	sc_free_ev(s, ts++, 0, 100, DEVPFN + 10, SHPFN + 10, 1);
	sc_free_ev(s, ts++, 0, 100, DEVPFN + 11, SHPFN + 11, 1);
	sc_exit(s, ts++, 0, 100, "workload");
	sc_free_ev(s, ts++, 1, 200, DEVPFN + 101, SHPFN + 101, 1);
	sc_free_ev(s, ts++, 1, 200, DEVPFN + 102, SHPFN + 102, 1);
	sc_exit(s, ts++, 1, 200, "other");
}

/* The mixed scenario for analyzer-tests --gen-mixed (main.c). */
void t_scen_mixed(struct scen *s)
{
	mixed(s);
}

struct cyc_count {
	int n;
	uint64_t to_dev;
};

static void count_cycle(void *ctx, const struct dm_cycle *c)
{
	struct cyc_count *cc = ctx;

	cc->n++;
	cc->to_dev += c->s.c.to_dev;
}

static struct dm_analysis *read_file(const char *path, struct dm_reader **rdp, struct cyc_count *cc,
				     char *err, size_t errlen)
{
	struct dm_config cfg = { .loop_threshold = 8, .ctx = cc, .on_cycle = count_cycle };
	struct dm_reader *rd = dm_reader_open(path, DM_SOURCE_AUTO, err, errlen);
	struct dm_analysis *a;

	*rdp = rd;
	if (!rd)
		return NULL;
	cfg.comm_of = dm_reader_comm;
	cfg.comm_ctx = rd;
	a = dm_analysis_new(&cfg);
	if (!a || dm_reader_run(rd, a, err, errlen)) {
		dm_analysis_free(a);
		return NULL;
	}
	dm_analysis_finish(a);
	return a;
}

static void t_roundtrip(void)
{
	struct scen s;
	struct dm_analysis *direct, *viafile;
	struct dm_reader *rd = NULL;
	struct cyc_count c1 = { 0 }, c2 = { 0 };
	struct dm_config cfg = { .loop_threshold = 8, .ctx = &c1, .on_cycle = count_cycle };
	const struct dm_result *x, *y;
	char err[256] = "";
	const char *p = t_path("mixed.dat");

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	direct = dm_analysis_new(&cfg);
	sc_feed(&s, direct);
	dm_analysis_finish(direct);
	viafile = read_file(p, &rd, &c2, err, sizeof(err));
	CHECK(viafile != NULL, "read: %s", err);
	if (viafile) {
		x = dm_analysis_result(direct);
		y = dm_analysis_result(viafile);
		CHECK_EQ(y->events, x->events);
		CHECK_EQ(y->dmirror_events, sc_count_dmirror(&s));
		CHECK_EQ(y->first_ts, x->first_ts);
		CHECK_EQ(y->last_ts, x->last_ts);
		CHECK_EQ(y->nloops, 1);
		CHECK_EQ(y->nloops, x->nloops);
		if (y->nloops == 1 && x->nloops == 1) {
			CHECK_EQ(y->loops[0].pid, 200);
			CHECK(y->loops[0].addr == A0 + PAGE, "addr 0x%" PRIx64, y->loops[0].addr);
			CHECK(y->loops[0].dev_pfn == DEVPFN + 101, "dev_pfn");
			CHECK_EQ(y->loops[0].count, 12);
			CHECK_EQ(y->loops[0].first_ts, x->loops[0].first_ts);
			CHECK_EQ(y->loops[0].last_ts, x->loops[0].last_ts);
			CHECK_EQ(dm_loop_cause(&y->loops[0]), DM_CAUSE_OWNER_MISMATCH);
			CHECK(!strcmp(y->loops[0].comm, "other"), "comm %s", y->loops[0].comm);
		}
		CHECK_EQ(y->nleaks, 2);
		CHECK_EQ(y->nleaks, x->nleaks);
		for (size_t i = 0; i < y->nleaks && i < x->nleaks; i++) {
			CHECK_EQ(y->leaks[i].dev_pfn, x->leaks[i].dev_pfn);
			CHECK_EQ(y->leaks[i].shadow_pfn, x->leaks[i].shadow_pfn);
			CHECK_EQ(y->leaks[i].addr, x->leaks[i].addr);
			CHECK_EQ(y->leaks[i].alloc_ts, x->leaks[i].alloc_ts);
		}
		CHECK_EQ(y->total.c.to_dev, x->total.c.to_dev);
		CHECK_EQ(y->total.c.to_ram_fault, x->total.c.to_ram_fault);
		CHECK_EQ(y->total.c.faults, x->total.c.faults);
		CHECK_EQ(y->total.c.frees, x->total.c.frees);
		CHECK_EQ(y->total.lat.count, x->total.lat.count);
		CHECK_EQ(dm_lat_quantile(&y->total.lat, 0.5), dm_lat_quantile(&x->total.lat, 0.5));
		CHECK_EQ(y->cycles, x->cycles);
		CHECK_EQ(c2.n, c1.n);
		CHECK_EQ(c2.to_dev, c1.to_dev);
		CHECK_EQ(dm_reader_stats(rd)->bad_records, 0);
		CHECK_EQ(dm_reader_stats(rd)->cpus, 2);
		CHECK_EQ(y->incomplete, 0);
	}
	dm_analysis_free(direct);
	dm_analysis_free(viafile);
	dm_reader_close(rd);
	sc_free(&s);
}

/* many events: several pages per CPU, and a page size other than 4096 */
static void t_many_pages(void)
{
	struct scen s;
	struct dm_reader *rd = NULL;
	struct dm_analysis *a;
	struct cyc_count cc = { 0 };
	struct sc_file_opts o = { .cpus = 4, .page_size = 8192, .trace_clock = true };
	uint64_t ts = 1;
	char err[256] = "";
	const char *p = t_path("many.dat");

	sc_init(&s);
	for (int i = 0; i < 3000; i++) {
		uint64_t pfn = DEVPFN + (uint64_t)(i % 500);

		sc_migrate_to_dev(&s, &ts, i % 4, 300 + i % 3, A0, 1, pfn, SHPFN + pfn);
		sc_fault_back(&s, &ts, (i + 1) % 4, 300 + i % 3, A0, pfn, SHPFN + pfn, 500 + (uint64_t)i, true);
		if (i % 1000 == 0)
			ts += 3000000000ull;
	}
	CHECK_EQ(sc_write_dat(&s, p, &o), 0);
	a = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(a != NULL, "read: %s", err);
	if (a) {
		const struct dm_result *r = dm_analysis_result(a);

		CHECK_EQ(r->dmirror_events, s.n);
		CHECK_EQ(r->total.c.to_dev, 3000);
		CHECK_EQ(r->total.c.to_ram_fault, 3000);
		CHECK_EQ(r->total.lat.count, 3000);
		CHECK_EQ(r->total.lat.min, 500);
		CHECK_EQ(r->total.lat.max, 3499);
		CHECK_EQ(r->first_ts, 1);
		CHECK_EQ(r->last_ts, s.ev[s.n - 1].ts);
		CHECK_EQ(r->nloops, 0);
		CHECK_EQ(r->nleaks, 0);
		CHECK_EQ(dm_reader_stats(rd)->cpus, 4);
	}
	dm_analysis_free(a);
	dm_reader_close(rd);
	sc_free(&s);
}

static void t_lost_in_pages(void)
{
	struct scen s;
	struct dm_reader *rd = NULL;
	struct dm_analysis *a;
	struct cyc_count cc = { 0 };
	uint64_t ts = 1;
	char err[256] = "", cmd[1024], *out = NULL, *er = NULL;
	const char *p = t_path("lost.dat");
	int rc;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 9, A0, 4, DEVPFN, SHPFN);
	sc_lost(&s, 1, 5);
	for (int i = 0; i < 4; i++)
		sc_fault_back(&s, &ts, 1, 9, A0 + (uint64_t)i * PAGE, DEVPFN + (uint64_t)i,
			      SHPFN + (uint64_t)i, 100, true);
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	a = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(a != NULL, "read: %s", err);
	if (a) {
		CHECK_EQ(dm_reader_stats(rd)->missed_pages, 1);
		CHECK_EQ(dm_reader_stats(rd)->missed_events, 5);
		CHECK_EQ(dm_analysis_result(a)->incomplete, 1);
		CHECK_EQ(dm_analysis_result(a)->lost_events, 5);
	}
	dm_analysis_free(a);
	dm_reader_close(rd);

	snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "INCOMPLETE") != NULL, "output:\n%s", out);
	CHECK(strstr(er, "incomplete") != NULL, "stderr: %s", er);
	free(out);
	free(er);
	snprintf(cmd, sizeof(cmd), "'%s' report --json '%s'", t_analyzer, p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "\"per_cpu\": {\"cpu0\": 0, \"cpu1\": 5}") != NULL, "per-CPU:\n%s", out);
	CHECK(strstr(out, "\"lost\": {\"events\": 5,") != NULL, "lost:\n%s", out);
	CHECK(strstr(out, "\"complete\": false") != NULL, "complete:\n%s", out);
	free(out);
	free(er);
	sc_free(&s);

	/* losses only in the ring-buffer stats (overruns) */
	sc_init(&s);
	ts = 1;
	sc_migrate_to_dev(&s, &ts, 0, 9, A0, 1, DEVPFN, SHPFN);
	sc_fault_back(&s, &ts, 1, 9, A0, DEVPFN, SHPFN, 100, true);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.cpustats = { "CPU: 0\nentries: 5\noverrun: 0\n",
			      "CPU: 1\nentries: 5\noverrun: 11\ndropped events: 2\n" } }), 0);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "\"per_cpu\": {\"cpu0\": 0, \"cpu1\": 13}") != NULL, "per-CPU:\n%s", out);
	CHECK(strstr(out, "\"stats_overrun\": 11, \"stats_dropped\": 2") != NULL, "stats:\n%s", out);
	free(out);
	free(er);
	sc_free(&s);
}

static void t_cli_clean(void)
{
	struct scen s;
	uint64_t ts = 1;
	char cmd[1024], *out = NULL, *er = NULL;
	const char *p = t_path("clean.dat");
	int rc;

	sc_init(&s);
	sc_fork(&s, ts++, 0, 1, 10, "sh");
	sc_exec(&s, ts++, 0, 10, "workload");
	sc_migrate_to_dev(&s, &ts, 0, 10, A0, 2, DEVPFN, SHPFN);
	sc_fault_back(&s, &ts, 0, 10, A0, DEVPFN, SHPFN, 1234, true);
	sc_fault_back(&s, &ts, 0, 10, A0 + PAGE, DEVPFN + 1, SHPFN + 1, 4321, true);
	sc_exit(&s, ts++, 0, 10, "workload");
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.stats_before = "dev0.pages 64\ntotal.shadow_live 0\n",
		.stats_after = "dev0.pages 64\ntotal.shadow_live 0\n",
		.meta = "command: ./workload\n" }), 0);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' report", t_dir, t_analyzer);
	/* default file name is trace.dat */
	rename(p, t_path("trace.dat"));
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "Verdict: clean") != NULL, "output:\n%s", out);
	CHECK(strstr(out, "agrees") != NULL, "stats cross-check:\n%s", out);
	CHECK(strstr(out, "recorded: ./workload") != NULL, "meta:\n%s", out);
	CHECK(strstr(out, "     1.2       2.7       4.3       4.3") != NULL ||
	      strstr(out, "1.2") != NULL, "latency:\n%s", out);
	CHECK_EQ(t_count_lines(er), 0);
	free(out);
	free(er);
	sc_free(&s);
}

static void t_cli_loop_and_leaks(void)
{
	struct scen s;
	char cmd[1024], *out = NULL, *er = NULL, addr[64];
	const char *p = t_path("mixed2.dat");
	int rc;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.stats_before = "total.shadow_live 7\n", .stats_after = "total.shadow_live 9\n" }), 0);
	snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	snprintf(addr, sizeof(addr), "addr 0x%llx", A0 + PAGE);
	CHECK(strstr(out, addr) != NULL, "no '%s' in:\n%s", addr, out);
	CHECK(strstr(out, "pgmap_owner does not match") != NULL, "cause:\n%s", out);
	CHECK(strstr(out, "12 faults without progress") != NULL, "count:\n%s", out);
	CHECK(strstr(out, "Leaked shadow pages: 2") != NULL, "leaks:\n%s", out);
	CHECK(strstr(out, "+2; expected +2") != NULL && strstr(out, "agrees") != NULL,
	      "cross-check:\n%s", out);
	/* problems come before the cycles */
	CHECK(strstr(out, "PROBLEMS") && strstr(out, "Migration cycles") &&
	      strstr(out, "PROBLEMS") < strstr(out, "Migration cycles"), "order:\n%s", out);
	free(out);
	free(er);

	/* the same file, stats that disagree */
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.stats_before = "dev0.shadow_live 7\ndev1.shadow_live 0\n",
		.stats_after = "dev0.shadow_live 12\ndev1.shadow_live 0\n" }), 0);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "DISAGREES") != NULL, "disagree:\n%s", out);
	CHECK(strstr(out, "sum of 2 *shadow_live keys") != NULL, "key:\n%s", out);
	free(out);
	free(er);
	sc_free(&s);
}

static void t_cli_json(void)
{
	struct scen s;
	char cmd[2048], *out = NULL, *er = NULL;
	const char *p = t_path("mixed3.dat");
	int rc;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.stats_before = "total.shadow_live 0\n", .stats_after = "total.shadow_live 2\n",
		.meta = "command: ./workload \"quoted\"\nbuffer_kb: 4096\n" }), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' report --json '%s' > '%s/j.json'; echo rc=$?; python3 -c '"
		 "import json,sys\n"
		 "d=json.load(open(sys.argv[1]))\n"
		 "assert d[\"schema\"]==\"dmirror-analyzer-report/1\"\n"
		 "assert d[\"complete\"] is True\n"
		 "assert len(d[\"fault_loops\"])==1\n"
		 "l=d[\"fault_loops\"][0]\n"
		 "assert l[\"addr\"]==\"0x%llx\", l[\"addr\"]\n"
		 "assert l[\"count\"]==12 and l[\"pid\"]==200 and l[\"comm\"]==\"other\"\n"
		 "assert l[\"cause\"][\"code\"]==\"owner_mismatch\"\n"
		 "assert len(d[\"leaks\"])==2\n"
		 "assert d[\"leak_check\"][\"agree\"] is True\n"
		 "assert d[\"recording\"][\"meta\"][\"command\"]==\"./workload \\\"quoted\\\"\"\n"
		 "assert d[\"cycles_total\"]==len(d[\"cycles\"])>0\n"
		 "assert d[\"total\"][\"fault_latency_ns\"][\"count\"]>0\n"
		 "assert d[\"events\"][\"by_type\"][\"dmirror_devmem_fault\"]>0\n"
		 "print(\"json-ok\")\n"
		 "' '%s/j.json'",
		 t_analyzer, p, t_dir, A0 + PAGE, t_dir);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "rc=1") != NULL, "analyzer exit: %s", out);
	CHECK(strstr(out, "json-ok") != NULL, "json check: %s %s", out, er);
	free(out);
	free(er);
	sc_free(&s);
}

/*
 * --perfetto: the structure chrome://tracing and Perfetto read.  Every
 * event has ph, ts, pid and tid; complete slices nest on each thread;
 * counters carry numbers; the loop is an async slice with its cause; and
 * the marks agree with the report's own counts.
 */
static void t_cli_perfetto(void)
{
	struct scen s;
	char cmd[4096], *out = NULL, *er = NULL;
	const char *p = t_path("mixed-perfetto.dat");
	int rc;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' report --json --perfetto '%s/p.json' '%s' > '%s/j.json'; echo rc=$?; python3 -c '"
		 "import json,sys,collections\n"
		 "d=json.load(open(sys.argv[1])); j=json.load(open(sys.argv[2]))\n"
		 "ev=d[\"traceEvents\"]\n"
		 "for e in ev:\n"
		 "  assert e[\"ph\"] in (\"X\",\"i\",\"b\",\"e\",\"C\",\"M\"), e\n"
		 "  assert isinstance(e[\"ts\"],(int,float)) and e[\"ts\"]>=0, e\n"
		 "  assert type(e[\"pid\"])==int and type(e[\"tid\"])==int, e\n"
		 "  if e[\"ph\"]==\"C\": assert all(isinstance(v,(int,float)) for v in e[\"args\"].values()), e\n"
		 "  if e[\"ph\"]==\"C\": assert all(v>=0 for v in e[\"args\"].values()), e\n"
		 "  if e[\"ph\"]==\"X\": assert e[\"dur\"]>=0, e\n"
		 "tracks=collections.defaultdict(list)\n"
		 "for e in ev:\n"
		 "  if e[\"ph\"]==\"X\": tracks[(e[\"pid\"],e[\"tid\"])].append((e[\"ts\"],e[\"ts\"]+e[\"dur\"]))\n"
		 "for k,sl in tracks.items():\n"
		 "  st=[]\n"
		 "  for a,b in sorted(sl,key=lambda x:(x[0],-x[1])):\n"
		 "    while st and st[-1]<=a: st.pop()\n"
		 "    assert not st or b<=st[-1], (k,a,b,st)\n"
		 "    st.append(b)\n"
		 "x=[e for e in ev if e[\"ph\"]==\"X\"]\n"
		 "assert len(x)==j[\"total\"][\"calls\"][\"to_dev\"][\"calls\"]+j[\"total\"][\"calls\"][\"to_ram\"][\"calls\"], len(x)\n"
		 "f=[e for e in ev if e[\"ph\"]==\"i\" and e[\"name\"].startswith(\"CPU fault\")]\n"
		 "assert len(f)==j[\"total\"][\"devmem_faults\"], (len(f),j[\"total\"][\"devmem_faults\"])\n"
		 "assert sum(1 for e in f if not e[\"args\"][\"progress\"])==j[\"total\"][\"faults_without_progress\"]\n"
		 "b=[e for e in ev if e[\"ph\"]==\"b\"]; en=[e for e in ev if e[\"ph\"]==\"e\"]\n"
		 "assert len(b)==len(en)==len(j[\"fault_loops\"])==d[\"otherData\"][\"fault_loops\"]==1\n"
		 "assert b[0][\"id\"]==en[0][\"id\"] and en[0][\"ts\"]>=b[0][\"ts\"]\n"
		 "assert b[0][\"pid\"]==200 and b[0][\"args\"][\"cause\"]==\"owner_mismatch\", b[0]\n"
		 "assert b[0][\"args\"][\"faults\"]==12 and b[0][\"args\"][\"addr\"]==\"0x%llx\"\n"
		 "lk=[e for e in ev if e[\"name\"]==\"leaked shadow page allocated\"]\n"
		 "assert len(lk)==len(j[\"leaks\"])==2, lk\n"
		 "names={(e[\"pid\"],e[\"name\"]):e[\"args\"][\"name\"] for e in ev if e[\"ph\"]==\"M\"}\n"
		 "assert names[(200,\"process_name\")]==\"other\" and names[(100,\"process_name\")]==\"workload\", names\n"
		 "c=[e for e in ev if e[\"ph\"]==\"C\" and e[\"name\"]==\"device pages in use\"]\n"
		 "assert c and max(v for e in c for v in e[\"args\"].values())>=6\n"
		 "print(\"perfetto-ok\", len(ev))\n"
		 "' '%s/p.json' '%s/j.json'",
		 t_analyzer, t_dir, p, t_dir, A0 + PAGE, t_dir, t_dir);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "rc=1") != NULL, "analyzer exit: %s %s", out, er);
	CHECK(strstr(out, "perfetto-ok") != NULL, "perfetto check: %s %s", out, er);
	free(out);
	free(er);

	/* --html of the same trace, with --json on stdout: the page has its
	 * loop, its two leaks and the text report (tests/html/check loads
	 * pages in a browser) */
	snprintf(cmd, sizeof(cmd), "'%s' report --json --html '%s/p.html' '%s' > /dev/null; echo rc=$?; "
		 "grep -o 'class=\"loop\"' '%s/p.html' | wc -l; grep -o 'class=\"leak\"' '%s/p.html' | wc -l; "
		 "grep -c 'Verdict: PROBLEMS FOUND' '%s/p.html'", t_analyzer, t_dir, p, t_dir, t_dir, t_dir);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(!strcmp(out, "rc=1\n1\n2\n2\n"), "--html: rc, loops, leaks, verdicts: %s %s", out, er);
	free(out);
	free(er);

	/* run by root under sudo: the file is the sudo user's */
	if (!geteuid()) {
		struct stat st = { 0 };

		snprintf(cmd, sizeof(cmd), "SUDO_UID=4321 SUDO_GID=8765 '%s' report --perfetto '%s/s.json' '%s'",
			 t_analyzer, t_dir, p);
		t_run(cmd, &out, &er);
		snprintf(cmd, sizeof(cmd), "%s/s.json", t_dir);
		CHECK(!stat(cmd, &st) && st.st_uid == 4321 && st.st_gid == 8765,
		      "--perfetto under sudo: owner %u:%u (%s)", (unsigned int)st.st_uid,
		      (unsigned int)st.st_gid, er);
		free(out);
		free(er);
	}

	/* a file that cannot be written: one line, exit 2, nothing left */
	for (int i = 0; i < 2; i++) {
		const char *opt = i ? "--html" : "--perfetto";

		snprintf(cmd, sizeof(cmd), "'%s' report %s /nonexistent/dir/p.out '%s'", t_analyzer, opt, p);
		rc = t_run(cmd, &out, &er);
		CHECK(rc == 2, "unwritable %s: exit %d, stderr: %s", opt, rc, er);
		CHECK(t_count_lines(er) == 1, "unwritable %s: %d stderr lines:\n%s", opt, t_count_lines(er), er);
		CHECK(strstr(er, "cannot write /nonexistent/dir/p.out") != NULL, "stderr: %s", er);
		free(out);
		free(er);
	}
	sc_free(&s);
}

/* ------------------------------------------------------------ bad input */

static void expect_exit2(const char *path, const char *what, const char *want)
{
	char cmd[1024], *out = NULL, *er = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, path);
	rc = t_run(cmd, &out, &er);
	CHECK(rc == 2, "%s: exit %d, stderr: %s", what, rc, er);
	CHECK(t_count_lines(er) == 1, "%s: %d stderr lines:\n%s", what, t_count_lines(er), er);
	CHECK(out[0] == 0, "%s: stdout not empty:\n%s", what, out);
	CHECK(!strncmp(er, "analyzer: ", 10), "%s: stderr: %s", what, er);
	if (want)
		CHECK(strstr(er, want) != NULL, "%s: wanted '%s' in: %s", what, want, er);
	free(out);
	free(er);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static char *read_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void small_scen(struct scen *s)
{
	uint64_t ts = 1;

	sc_init(s);
	sc_migrate_to_dev(s, &ts, 0, 10, A0, 2, DEVPFN, SHPFN);
	sc_fault_back(s, &ts, 1, 10, A0, DEVPFN, SHPFN, 100, true);
}

static void t_bad_inputs(void)
{
	struct scen s;
	const char *good = t_path("good.dat");
	const char *bad = t_path("bad.dat");
	char *data;
	size_t len = 0;
	char *hp;

	expect_exit2(t_path("does-not-exist.dat"), "missing", "No such file");
	/* found by the fuzzer: a padding event whose length word is negative
	 * kept libtracecmd going round one page for ever */
	expect_exit2("../tests/fuzz/regressions/negative-padding-length.dat",
		     "negative padding length", "points back into its page");
	write_bytes(bad, "", 0);
	expect_exit2(bad, "empty", "empty");
	write_bytes(bad, "hello, this is text\nnot a trace\n", 32);
	expect_exit2(bad, "text file", "not a trace.dat");
	expect_exit2(t_dir, "a directory", NULL);
	write_bytes(bad, "\x17\x08\x44tracing5\0", 12);
	expect_exit2(bad, "old version", "version");

	small_scen(&s);
	CHECK_EQ(sc_write_dat(&s, good, NULL), 0);
	data = read_bytes(good, &len);
	CHECK(data && len > 8192, "good file of %zu bytes", len);
	if (!data) {
		sc_free(&s);
		return;
	}
	/* truncated: in the header, in the formats, in the data */
	write_bytes(bad, data, 7);
	expect_exit2(bad, "truncated magic", "truncated");
	write_bytes(bad, data, 40);
	expect_exit2(bad, "truncated header_page", "truncated");
	write_bytes(bad, data, 900);
	expect_exit2(bad, "truncated formats", "truncated");
	write_bytes(bad, data, len - 100);
	expect_exit2(bad, "truncated data", "truncated");
	/* corrupt header: the header_page tag */
	hp = memmem(data, len, "header_page", 11);
	if (hp) {
		hp[3] = 'X';
		write_bytes(bad, data, len);
		expect_exit2(bad, "corrupt header_page tag", "corrupt");
		hp[3] = 'd';
	}
	/* corrupt header: a format size that runs past the end */
	{
		char *ev = memmem(data, len, "header_event", 12);

		if (ev) {
			uint64_t huge = 1ull << 40, old;

			memcpy(&old, ev + 13, 8);
			memcpy(ev + 13, &huge, 8);
			write_bytes(bad, data, len);
			expect_exit2(bad, "huge header_event size", "truncated");
			memcpy(ev + 13, &old, 8);
		}
	}
	/* a ring-buffer page that claims more than a page */
	{
		struct dat_info info;
		char err[256];
		uint64_t big = 9999;

		if (dat_scan(good, &info, err, sizeof(err)) == 0) {
			/* the data starts at the first page-aligned offset after the headers;
			 * find a page header with commit < page size */
			for (size_t off = 4096; off + 16 <= len; off += 4096) {
				uint64_t commit;

				memcpy(&commit, data + off + 8, 8);
				if (commit && commit < 4080) {
					memcpy(data + off + 8, &big, 8);
					write_bytes(bad, data, len);
					expect_exit2(bad, "page commit too big", "corrupt");
					memcpy(data + off + 8, &commit, 8);
					break;
				}
			}
			dat_info_free(&info);
		}
	}
	free(data);
	sc_free(&s);

	/* a trace.dat with no dmirror events at all */
	small_scen(&s);
	CHECK_EQ(sc_write_dat(&s, bad, &(struct sc_file_opts){ .no_dmirror_formats = true }), 0);
	expect_exit2(bad, "no dmirror formats", "no dmirror or kernel-probe events");
	sc_free(&s);
	/* dmirror formats, but only sched events happened */
	sc_init(&s);
	sc_fork(&s, 1, 0, 1, 2, "x");
	sc_exit(&s, 2, 0, 2, "x");
	CHECK_EQ(sc_write_dat(&s, bad, NULL), 0);
	expect_exit2(bad, "no dmirror event happened", "no dmirror event");
	sc_free(&s);
	/* found by the fuzzer: a printk formats line with no text after its
	 * colon, or no colon, made libtraceevent read past its buffer */
	for (int i = 0; i < 3; i++) {
		static const char *const pk[] = {
			"0xffffffff82000000 : \"ok %d\\n\"\n0xffffffff82000010",
			"0xffffffff82000000 : \"ok %d\\n\"\n0xffffffff82000010 :",
			"0xffffffff82000000 :\n0xffffffff82000010 : \"ok\"\n",
		};

		small_scen(&s);
		CHECK_EQ(sc_write_dat(&s, bad, &(struct sc_file_opts){ .printk = pk[i] }), 0);
		expect_exit2(bad, "printk line without a format", "printk formats");
		sc_free(&s);
	}
	small_scen(&s);
	CHECK_EQ(sc_write_dat(&s, good, &(struct sc_file_opts){
		.printk = "\n0xffffffff82000000 : \"a\"\n\n0xffffffff82000010 : \"b %d\\n\"\n" }), 0);
	{
		struct dat_info info;
		char err[256] = "";

		CHECK(dat_scan(good, &info, err, sizeof(err)) == 0,
		      "printk formats with empty lines: %s", err);
		dat_info_free(&info);
	}
	sc_free(&s);
	/* found by the fuzzer: a byte that is not text outside a quoted
	 * string made libtraceevent pass NULL to strcmp() */
	for (int i = 0; i < 4; i++) {
		static const char *const to[] = {
			"child_comm[\xcf\xbf]", "print fmt: \x01\"", "print fmt: \"\x7f",
			"print fmt: '\"' \xcf \"",
		};

		small_scen(&s);
		sc_fork(&s, 1, 0, 1, 2, "x");
		CHECK_EQ(sc_write_dat(&s, bad, &(struct sc_file_opts){
			.format_from = i ? "print fmt: \"" : "child_comm[16]", .format_to = to[i] }), 0);
		expect_exit2(bad, "format byte that is not text", "event formats: a format with a byte");
		sc_free(&s);
	}
	/* UTF-8 in a quoted print format is text */
	small_scen(&s);
	CHECK_EQ(sc_write_dat(&s, good, &(struct sc_file_opts){
		.format_from = "print fmt: \"", .format_to = "print fmt: \"\xc2\xb5s \\\" " }), 0);
	{
		char cmd[1024], *out = NULL, *er = NULL;
		int rc;

		snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, good);
		rc = t_run(cmd, &out, &er);
		CHECK(rc == 0, "UTF-8 in a print format: exit %d, stderr: %s", rc, er);
		free(out);
		free(er);
	}
	sc_free(&s);
	/* a format without a field the analysis needs */
	small_scen(&s);
	sc_fault(&s, 100, 0, 10, 10, A0, DEVPFN, 0, 0, 1);
	CHECK_EQ(sc_write_dat(&s, bad, &(struct sc_file_opts){ .drop_field_addr = true }), 0);
	expect_exit2(bad, "missing field", "no field 'addr'");
	sc_free(&s);
}

/* Truncating the file anywhere must give exit 2 and one line. */
static void t_truncation_sweep(void)
{
	struct scen s;
	const char *good = t_path("sweep.dat");
	const char *bad = t_path("sweep-bad.dat");
	size_t len, step, tested = 0, failed = 0;
	char *data;

	small_scen(&s);
	CHECK_EQ(sc_write_dat(&s, good, &(struct sc_file_opts){ .trace_clock = true,
		.stats_before = "total.shadow_live 0\n" }), 0);
	data = read_bytes(good, &len);
	if (!data) {
		CHECK(0, "no file");
		sc_free(&s);
		return;
	}
	step = len / 150 + 1;
	for (size_t cut = 0; cut < len; cut += (cut < 2200 ? 13 : step)) {
		struct dat_info info;
		char err[256];

		write_bytes(bad, data, cut);
		tested++;
		if (dat_scan(bad, &info, err, sizeof(err)) == 0) {
			dat_info_free(&info);
			failed++;
			if (failed < 5)
				CHECK(0, "truncated at %zu of %zu accepted", cut, len);
		}
	}
	CHECK(tested > 150, "tested %zu cuts", tested);
	/* and a few through the binary */
	for (size_t cut = 1; cut < len; cut += len / 7) {
		write_bytes(bad, data, cut);
		expect_exit2(bad, "truncated", NULL);
	}
	free(data);
	sc_free(&s);
}

/* Random corruption: any exit status but never a crash. */
static void t_corruption_no_crash(void)
{
	struct scen s;
	const char *good = t_path("fuzz.dat");
	const char *bad = t_path("fuzz-bad.dat");
	size_t len;
	char *data, cmd[1024];
	uint64_t seed = 0x1234567;
	int crashes = 0, runs = getenv("SANITIZED") ? 60 : 150;

	if (getenv("FUZZ_RUNS"))
		runs = atoi(getenv("FUZZ_RUNS"));
	if (getenv("FUZZ_SEED"))
		seed = strtoull(getenv("FUZZ_SEED"), NULL, 0);

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, good, NULL), 0);
	data = read_bytes(good, &len);
	if (!data) {
		CHECK(0, "no file");
		sc_free(&s);
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, bad);
	for (int i = 0; i < runs; i++) {
		char *copy = malloc(len), *er = NULL;
		int rc, nflip = 1 + i % 8;

		memcpy(copy, data, len);
		for (int k = 0; k < nflip; k++) {
			size_t off;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			/* half in the headers, half in the ring-buffer pages */
			off = (i & 1) ? (size_t)(seed >> 33) % 4096 : (size_t)(seed >> 33) % len;
			copy[off] = (char)(seed >> 13);
		}
		write_bytes(bad, copy, len);
		rc = t_run(cmd, NULL, &er);
		if (rc < 0 || rc > 2 || strstr(er, "Sanitizer") || strstr(er, "runtime error")) {
			crashes++;
			if (crashes < 3) {
				char keep[600];

				snprintf(keep, sizeof(keep), "%s/crash-%d.dat", t_dir, i);
				write_bytes(keep, copy, len);
				CHECK(0, "run %d: exit %d, kept %s: %.300s", i, rc, keep, er);
			}
		}
		free(er);
		free(copy);
	}
	CHECK_EQ(crashes, 0);
	free(data);
	sc_free(&s);
}

/* Our sections ride in CPUSTAT options: they come back by name, the
 * ring buffer's own stats stay apart, a section of a later version and
 * one that only looks like ours are left alone, and 1.0's option ids
 * still read. */
static void t_sections(void)
{
	struct scen s;
	struct dat_info info;
	const char *p = t_path("sections.dat");
	char err[256];
	uint64_t overrun, dropped;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.meta = "command: ./w\n", .stats_before = "total.shadow_live 1\n",
		.stats_after = "total.shadow_live 2\n",
		.cpustats = { "CPU: 0\noverrun: 3\n", "CPU: 1\noverrun: 4\n" },
		.raw_cpustat = DAT_DM_TAG " future\noverrun: 100\n" }), 0);
	CHECK_EQ(dat_scan(p, &info, err, sizeof(err)), 0);
	CHECK(info.meta && !strcmp(info.meta, "command: ./w\n"), "meta: %s", info.meta);
	CHECK(info.stats_before && !strcmp(info.stats_before, "total.shadow_live 1\n"), "before: %s",
	      info.stats_before);
	CHECK(info.stats_after && !strcmp(info.stats_after, "total.shadow_live 2\n"), "after: %s",
	      info.stats_after);
	CHECK(info.cpustats && !strstr(info.cpustats, DAT_DM_TAG), "cpustats: %s", info.cpustats);
	dm_parse_cpustats(info.cpustats, &overrun, &dropped, NULL, 0);
	CHECK_EQ(overrun, 7);
	dat_info_free(&info);

	/* 1.0's ids, and a CPUSTAT that starts like a section of ours */
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .old_sections = true,
		.meta = "command: ./old\n", .stats_after = "total.shadow_live 5\n",
		.raw_cpustat = DAT_DM_TAG "meta\noverrun: 1\n" }), 0);
	CHECK_EQ(dat_scan(p, &info, err, sizeof(err)), 0);
	CHECK(info.meta && !strcmp(info.meta, "command: ./old\n"), "old meta: %s", info.meta);
	CHECK(!info.stats_before, "old before: %s", info.stats_before);
	CHECK(info.stats_after && !strcmp(info.stats_after, "total.shadow_live 5\n"), "old after: %s",
	      info.stats_after);
	dm_parse_cpustats(info.cpustats, &overrun, &dropped, NULL, 0);
	CHECK_EQ(overrun, 1);
	dat_info_free(&info);
	sc_free(&s);
}

/* trace-cmd report (3.1) reads our file and sees the same events. */
static void t_tracecmd_reads_our_file(void)
{
	struct scen s;
	const char *p = t_path("tc.dat");
	char cmd[1024], *out = NULL, *er = NULL;
	int rc, n = 0, sched = 0;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .trace_clock = true,
		.stats_before = "total.shadow_live 0\n", .stats_after = "total.shadow_live 2\n",
		.meta = "command: x\n",
		.cpustats = { "CPU: 0\nentries: 0\noverrun: 0\n", "CPU: 1\nentries: 0\noverrun: 0\n" } }), 0);
	snprintf(cmd, sizeof(cmd), "trace-cmd report -i '%s'", p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	/* a field printed by its name, from our format */
	CHECK(strstr(out, "owner_match=0") != NULL, "fields not printed:\n%.1500s", out);
	for (char *l = out; l && *l; ) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		if (strstr(l, " dmirror_") && strstr(l, ": "))
			n++;
		if (strstr(l, " sched_process_"))
			sched++;
		l = nl ? nl + 1 : NULL;
	}
	CHECK(n == (int)sc_count_dmirror(&s), "trace-cmd shows %d dmirror events, we wrote %zu\n%.2000s",
	      n, sc_count_dmirror(&s), out);
	CHECK_EQ(sched, 6);	/* 2 forks, 2 execs, 2 exits */
	CHECK(!strstr(er, "rror") && !strstr(er, "nknown"), "trace-cmd stderr: %s", er);
	free(out);
	free(er);

	/* our sections are where trace-cmd report --stat shows them */
	snprintf(cmd, sizeof(cmd), "trace-cmd report --stat -i '%s'", p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, DAT_DM_TAG " stats_after\ntotal.shadow_live 2\n") != NULL,
	      "trace-cmd report --stat:\n%.1500s", out);
	free(out);
	free(er);

	/* and the analyzer agrees on the count */
	snprintf(cmd, sizeof(cmd), "'%s' report --json '%s'", t_analyzer, p);
	rc = t_run(cmd, &out, &er);
	{
		char want[64];

		snprintf(want, sizeof(want), "\"dmirror\": %d,", n);
		CHECK(strstr(out, want) != NULL, "analyzer count: wanted %s", want);
	}
	free(out);
	free(er);
	sc_free(&s);
}

/* trace.dat v7 (what trace-cmd convert makes of ours, compressed): the
 * same analysis through libtracecmd's v7 reader. */
static void t_v7(void)
{
	struct scen s;
	const char *p6 = t_path("v6.dat"), *p7 = t_path("v7.dat");
	char cmd[1024], *out = NULL, *er = NULL;
	int rc;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p6, &(struct sc_file_opts){ .kallsyms = true, .trace_clock = true,
		.meta = "command: x\n", .stats_before = "total.shadow_live 0\n" }), 0);
	snprintf(cmd, sizeof(cmd), "trace-cmd convert -i '%s' --file-version 7 '%s'", p6, p7);
	rc = t_run(cmd, &out, &er);
	CHECK(rc == 0, "trace-cmd convert: %d %s", rc, er);
	/* convert prints libtracecmd's warnings, as KernelShark does */
	CHECK(!strstr(er, "nknown option"), "trace-cmd convert warns: %.300s", er);
	free(out);
	free(er);
	if (rc == 0) {
		snprintf(cmd, sizeof(cmd), "'%s' report --json '%s'", t_analyzer, p7);
		rc = t_run(cmd, &out, &er);
		CHECK_EQ(rc, 1);
		CHECK(strstr(out, "\"file_version\": 7") != NULL, "version:\n%.300s", out);
		CHECK(strstr(out, "\"reader\": \"libtracecmd\"") != NULL, "reader:\n%.300s", out);
		CHECK(strstr(out, "\"code\": \"owner_mismatch\"") != NULL, "loop:\n%s", out);
		CHECK_EQ(strstr(out, "\"kind\": \"freed_unreleased\"") != NULL, 1);
		{
			char want[64];

			snprintf(want, sizeof(want), "\"dmirror\": %zu,", sc_count_dmirror(&s));
			CHECK(strstr(out, want) != NULL, "count: wanted %s", want);
		}
		free(out);
		free(er);
		/* a truncated v7 file: one line, exit 2 */
		snprintf(cmd, sizeof(cmd), "head -c 3000 '%s' > '%s.cut' && '%s' report '%s.cut'", p7, p7,
			 t_analyzer, p7);
		rc = t_run(cmd, &out, &er);
		CHECK_EQ(rc, 2);
		CHECK_EQ(t_count_lines(er), 1);
		free(out);
		free(er);
	}
	sc_free(&s);
}

/* Kernels from 6.18 name sched_process_fork's parent fields comm/pid. */
static void t_sched_618(void)
{
	struct scen s;
	struct dm_reader *rd = NULL;
	struct dm_analysis *a;
	struct cyc_count cc = { 0 };
	char err[256] = "";
	const char *p = t_path("s618.dat");

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .sched_618 = true }), 0);
	a = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(a != NULL, "read: %s", err);
	if (a) {
		CHECK_EQ(dm_reader_stats(rd)->sched_formats, 3);
		CHECK_EQ(dm_analysis_result(a)->by_kind[DM_EV_FORK], 2);
		CHECK_EQ(dm_analysis_result(a)->nloops, 1);
		CHECK_EQ(dm_analysis_result(a)->nleaks, 2);
	}
	dm_analysis_free(a);
	dm_reader_close(rd);
	sc_free(&s);
}

/* The live reader of record --live, on the same pages our writer stores. */
static struct {
	unsigned char *pages;
	int *cpu;
	size_t n, cap;
	unsigned int size;
} sink;

static void collect_page(int cpu, const void *page, unsigned int size)
{
	if (sink.n == sink.cap) {
		sink.cap = sink.cap ? sink.cap * 2 : 64;
		sink.pages = realloc(sink.pages, sink.cap * size);
		sink.cpu = realloc(sink.cpu, sink.cap * sizeof(int));
	}
	memcpy(sink.pages + sink.n * size, page, size);
	sink.cpu[sink.n++] = cpu;
	sink.size = size;
}

static void t_live_reader(void)
{
	struct scen s;
	struct tep_handle *tep;
	struct dm_analysis *direct, *live;
	struct dm_live *lv;
	struct dm_config cfg = { .loop_threshold = 8 };
	char err[256] = "";
	uint64_t ts = 1;
	int flagged = 0;

	mixed(&s);
	/* a loss on CPU 1, before its next page */
	sc_lost(&s, 1, 7);
	sc_migrate_to_dev(&s, &ts, 1, 300, 0x7f5500000000ull, 1, DEVPFN + 500, SHPFN + 500);
	for (size_t i = s.n - 3; i < s.n; i++)
		s.ev[i].ts += 20000000000ull;
	memset(&sink, 0, sizeof(sink));
	sc_page_sink = collect_page;
	CHECK_EQ(sc_write_dat(&s, t_path("live.dat"), NULL), 0);
	sc_page_sink = NULL;
	tep = sc_make_tep();
	direct = dm_analysis_new(&cfg);
	live = dm_analysis_new(&cfg);
	sc_feed(&s, direct);
	dm_analysis_finish(direct);
	lv = dm_live_new(tep, DM_SOURCE_AUTO, live, err, sizeof(err));
	CHECK(lv != NULL, "dm_live_new: %s", err);
	if (lv) {
		/* all pages in one drain: sorted by time, as the engine wants */
		for (size_t i = 0; i < sink.n; i++) {
			if (dm_page_missed(sink.pages + i * sink.size))
				flagged++;
			dm_live_page(lv, sink.cpu[i], sink.pages + i * sink.size);
		}
		dm_live_flush(lv);
		dm_analysis_finish(live);
		CHECK_EQ(flagged, 1);
		CHECK_EQ(dm_analysis_result(live)->dmirror_events, sc_count_dmirror(&s));
		CHECK_EQ(dm_analysis_result(live)->nloops, dm_analysis_result(direct)->nloops);
		CHECK_EQ(dm_analysis_result(live)->nleaks, dm_analysis_result(direct)->nleaks);
		CHECK_EQ(dm_analysis_result(live)->total.c.to_dev, dm_analysis_result(direct)->total.c.to_dev);
		CHECK_EQ(dm_analysis_result(live)->cycles, dm_analysis_result(direct)->cycles);
		CHECK_EQ(dm_analysis_result(live)->lost_events, 7);
		CHECK_EQ(dm_analysis_result(live)->incomplete, 1);
	}
	dm_live_free(lv);
	dm_analysis_free(direct);
	dm_analysis_free(live);
	tep_free(tep);
	free(sink.pages);
	free(sink.cpu);
	sc_free(&s);
}

static void t_writer_errors(void)
{
	char err[256] = "";
	struct dat_writer *w;

	w = dat_writer_new(t_path("no/such/dir/x.dat"), 2, 4096, 8, err, sizeof(err));
	CHECK(w == NULL && strstr(err, "cannot create"), "err: %s", err);
	dat_writer_free(w);
	w = dat_writer_new(t_path("x.dat"), 2, 1000, 8, err, sizeof(err));
	CHECK(w == NULL, "a page size that is not a power of two");
	dat_writer_free(w);
	/* an unfinished writer leaves nothing behind */
	w = dat_writer_new(t_path("unfinished.dat"), 2, 4096, 8, err, sizeof(err));
	CHECK(w != NULL, "%s", err);
	dat_writer_free(w);
	CHECK(access(t_path("unfinished.dat"), F_OK) != 0, "unfinished file exists");
	{
		char cmd[600], *out = NULL;

		snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c unfinished", t_dir);
		t_run(cmd, &out, NULL);
		CHECK(out && atoi(out) == 0, "temporary files left: %s", out);
		free(out);
	}
}

static void t_usage_errors(void)
{
	char cmd[1024], *out = NULL, *er = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' report --loop-threshold 0 x", t_analyzer);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 2);
	CHECK_EQ(t_count_lines(er), 1);
	free(out);
	free(er);
	snprintf(cmd, sizeof(cmd), "'%s' report --bogus", t_analyzer);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 2);
	free(out);
	free(er);
	snprintf(cmd, sizeof(cmd), "'%s' frobnicate", t_analyzer);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 2);
	CHECK_EQ(t_count_lines(er), 1);
	free(out);
	free(er);
	snprintf(cmd, sizeof(cmd), "'%s' report a b", t_analyzer);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 2);
	free(out);
	free(er);
}

/* ------------------------------------------------------- huge folios */

#define HUGEPFN 0x400000ull	/* % 512 == 0 */
#define HUGESH 0x90000ull

/* one huge folio to the device, and freed without releasing its shadow */
static void huge_leak(struct scen *s)
{
	uint64_t ts = 1000;

	sc_init(s);
	sc_fork(s, ts++, 0, 1, 70, "huge");
	sc_setup(s, ts++, 0, 70, DM_DIR_TO_DEV, 0, A0, 512, 1, 1, 0);
	sc_copy_order(s, ts++, 0, 70, DM_DIR_TO_DEV, A0, 0x700000, HUGEPFN, HUGESH, 9);
	sc_finalize(s, ts++, 0, 70, DM_DIR_TO_DEV, 0, A0, 512, 1, 512, 9000);
	sc_free_order(s, ts++, 1, 70, HUGEPFN, HUGESH, 0, 9);
	sc_exit(s, ts++, 0, 70, "huge");
}

static void t_old_format_without_order(void)
{
	struct scen s;
	struct dm_analysis *direct, *viafile;
	struct dm_reader *rd = NULL;
	struct cyc_count cc = { 0 };
	char err[256] = "";
	const char *p = t_path("old.dat");
	const struct dm_result *x, *y;

	/* the mixed trace of a driver without 'order': read, same result */
	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .no_order = true }), 0);
	direct = dm_analysis_new(&(struct dm_config){ .loop_threshold = 8 });
	sc_feed(&s, direct);
	dm_analysis_finish(direct);
	viafile = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(viafile != NULL, "read: %s", err);
	if (viafile) {
		x = dm_analysis_result(direct);
		y = dm_analysis_result(viafile);
		CHECK_EQ(y->dmirror_events, sc_count_dmirror(&s));
		CHECK_EQ(y->total.c.copies_to_dev, x->total.c.copies_to_dev);
		CHECK_EQ(y->total.c.frees, x->total.c.frees);
		CHECK_EQ(y->nleaks, 2);
		CHECK_EQ(y->leaked_pages, 2);
		CHECK_EQ(y->nloops, 1);
	}
	dm_analysis_free(viafile);
	dm_analysis_free(direct);
	dm_reader_close(rd);
	sc_free(&s);

	/* order is decoded when the format has it ... */
	huge_leak(&s);
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	viafile = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(viafile != NULL, "read: %s", err);
	if (viafile) {
		y = dm_analysis_result(viafile);
		CHECK_EQ(y->total.c.copies_to_dev, 512);
		CHECK_EQ(y->total.c.frees, 512);
		CHECK_EQ(y->leaked_pages, 512);
	}
	dm_analysis_free(viafile);
	dm_reader_close(rd);
	/* ... and is 0 when it does not */
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .no_order = true }), 0);
	viafile = read_file(p, &rd, &cc, err, sizeof(err));
	CHECK(viafile != NULL, "read: %s", err);
	if (viafile) {
		y = dm_analysis_result(viafile);
		CHECK_EQ(y->total.c.copies_to_dev, 1);
		CHECK_EQ(y->total.c.frees, 1);
		CHECK_EQ(y->leaked_pages, 1);
	}
	dm_analysis_free(viafile);
	dm_reader_close(rd);
	sc_free(&s);
}

static void t_cli_huge_leak(void)
{
	struct scen s;
	char cmd[2048], *out = NULL, *er = NULL;
	const char *p = t_path("huge.dat");
	int rc;

	huge_leak(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){
		.stats_before = "total.shadow_live 3\n", .stats_after = "total.shadow_live 515\n" }), 0);
	snprintf(cmd, sizeof(cmd), "'%s' report '%s'", t_analyzer, p);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "1 leaked shadow page") == NULL, "records counted as pages:\n%s", out);
	CHECK(strstr(out, "512 leaked shadow page(s)") != NULL, "problems line:\n%s", out);
	CHECK(strstr(out, "Leaked shadow pages: 512") != NULL, "leaks:\n%s", out);
	CHECK(strstr(out, "+512; expected +512") != NULL && strstr(out, "agrees") != NULL,
	      "cross-check:\n%s", out);
	CHECK(strstr(out, "freed, shadow kept (512 pages)") != NULL, "table:\n%s", out);
	free(out);
	free(er);

	snprintf(cmd, sizeof(cmd),
		 "'%s' report --json '%s' > '%s/h.json'; echo rc=$?; python3 -c '"
		 "import json,sys\n"
		 "d=json.load(open(sys.argv[1]))\n"
		 "assert len(d[\"leaks\"])==1, d[\"leaks\"]\n"
		 "assert d[\"leaks\"][0][\"pages\"]==512, d[\"leaks\"][0]\n"
		 "assert d[\"leaks\"][0][\"kind\"]==\"freed_unreleased\"\n"
		 "c=d[\"leak_check\"]\n"
		 "assert c[\"leaks\"]==512 and c[\"expected_delta\"]==512 and c[\"stats_delta\"]==512, c\n"
		 "assert c[\"agree\"] is True\n"
		 "assert d[\"total\"][\"copies_to_dev\"]==512 and d[\"total\"][\"frees\"]==512\n"
		 "assert d[\"total\"][\"pages_to_dev\"]==512\n"
		 "print(\"json-ok\")\n"
		 "' '%s/h.json'",
		 t_analyzer, p, t_dir, t_dir);
	rc = t_run(cmd, &out, &er);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "rc=1") != NULL, "analyzer exit: %s", out);
	CHECK(strstr(out, "json-ok") != NULL, "json check: %s %s", out, er);
	free(out);
	free(er);
	sc_free(&s);
}


/*
 * Every field of every event lands in its own member of struct dm_event:
 * each field gets a value no other field has, the file is decoded record
 * by record, and each decoded event must equal the one written, byte for
 * byte.  A table entry pointing at the wrong member, or a value stored
 * with the wrong size, fails here.
 */
struct decoded {
	struct dm_decoder *dec;
	struct dm_event ev[64];
	size_t n;
	int bad;
};

static int decode_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct decoded *d = data;
	struct dm_event ev;
	int k;

	(void)h;
	(void)cpu;
	k = dm_decode(d->dec, rec, &ev);
	if (k < 0)
		d->bad++;
	else if (k > 0 && d->n < 64)
		d->ev[d->n++] = ev;
	return 0;
}

static void t_decode_every_field(void)
{
	struct scen s;
	struct decoded d = { 0 };
	struct tracecmd_input *h;
	char err[256] = "";
	const char *p = t_path("fields.dat");
	uint64_t ts = 1000;

	sc_init(&s);
	sc_setup(&s, ts++, 0, 11, DM_DIR_TO_RAM, 1, 0x7000, 3, 2, 1, -12);
	s.ev[s.n - 1].setup.dev = 5;
	sc_copy_order(&s, ts++, 0, 11, DM_DIR_TO_DEV, 0x8000, 0x1234, 0x5678, 0x9abc, 9);
	s.ev[s.n - 1].copy.dev = 6;
	sc_finalize(&s, ts++, 0, 11, DM_DIR_TO_RAM, 1, 0xa000, 7, 6, 5, 4321);
	s.ev[s.n - 1].fin.dev = 7;
	sc_fault(&s, ts++, 0, 12, 13, 0xb000, 0xc0de, 0x402, 1, 77);
	s.ev[s.n - 1].fault.dev = 8;
	sc_guard(&s, ts++, 0, 14, 15, 0xd000, 0xbeef, 50, 51);
	s.ev[s.n - 1].guard.dev = 9;
	sc_free_order(&s, ts++, 0, 16, 0xf00d, 0xfeed, 1, 3);
	s.ev[s.n - 1].free.dev = 10;
	s.ev[s.n - 1].free.free_pages = 4242;
	sc_chunk(&s, ts++, 0, 0x100000, 0x2000);
	s.ev[s.n - 1].chunk.dev = 11;
	s.ev[s.n - 1].chunk.total_pages = 0x4000;
	sc_fork(&s, ts++, 0, 17, 18, "child");
	sc_exec(&s, ts++, 0, 19, "/bin/prog");
	sc_exit(&s, ts++, 0, 20, "gone");
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	h = tracecmd_open(p, TRACECMD_FL_LOAD_NO_PLUGINS);
	CHECK(h != NULL, "libtracecmd cannot open %s", p);
	if (h) {
		d.dec = dm_decoder_new(tracecmd_get_tep(h), DM_SOURCE_AUTO, err, sizeof(err));
		CHECK(d.dec != NULL, "decoder: %s", err);
		if (d.dec)
			tracecmd_iterate_events(h, NULL, 0, decode_cb, &d);
		CHECK_EQ(d.bad, 0);
		CHECK_EQ(d.n, s.n);
		for (size_t i = 0; i < d.n && i < s.n; i++)
			CHECK(!memcmp(&d.ev[i], &s.ev[i], sizeof(d.ev[i])),
			      "event %zu (%s) decodes differently", i, dm_ev_kind_name(s.ev[i].kind));
		dm_decoder_free(d.dec);
		tracecmd_close(h);
	}
	sc_free(&s);
}

/*
 * The copy and the fault in the module's layout of today are decoded by
 * one copy of their record: each decoded member must be what was
 * written, and what the field-by-field decoding gives, with zeros or
 * garbage in the bytes between the fields.
 */
static bool copy_same(const struct dm_event *a, const struct dm_event *b)
{
	return a->copy.dev == b->copy.dev && a->copy.dir == b->copy.dir &&
	       a->copy.fault == b->copy.fault && a->copy.addr == b->copy.addr &&
	       a->copy.src_pfn == b->copy.src_pfn && a->copy.dst_pfn == b->copy.dst_pfn &&
	       a->copy.shadow_pfn == b->copy.shadow_pfn && a->copy.order == b->copy.order &&
	       a->copy.write == b->copy.write;
}

static bool fault_same(const struct dm_event *a, const struct dm_event *b)
{
	const __typeof__(a->fault) *x = &a->fault, *y = &b->fault;

	return x->dev == y->dev && x->addr == y->addr && x->dev_pfn == y->dev_pfn &&
	       x->pid == y->pid && x->result == y->result && x->migrated == y->migrated &&
	       x->no_progress == y->no_progress && x->setup_npages == y->setup_npages &&
	       x->setup_cpages == y->setup_cpages && x->setup_ret == y->setup_ret &&
	       x->owner_match == y->owner_match && x->duration_ns == y->duration_ns &&
	       x->freed == y->freed && x->free_order == y->free_order &&
	       x->free_released == y->free_released && x->free_pfn == y->free_pfn &&
	       x->free_shadow_pfn == y->free_shadow_pfn && x->free_pages == y->free_pages &&
	       x->has_setup == y->has_setup && x->has_duration == y->has_duration &&
	       x->kernel == y->kernel && x->has_uip == y->has_uip && x->reach == y->reach;
}

struct whole_pair {
	struct dm_decoder *dec[2];	/* by one copy, field by field */
	struct dm_event ev[2][8];
	size_t n;
	int bad;
};

static int whole_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct whole_pair *w = data;

	(void)h;
	(void)cpu;
	if (w->n >= 8)
		return 0;
	for (int k = 0; k < 2; k++)
		if (dm_decode(w->dec[k], rec, &w->ev[k][w->n]) <= 0)
			w->bad++;
	w->n++;
	return 0;
}

static void t_decode_whole(void)
{
	static const unsigned char pads[] = { 0, 0xaa };
	const char *p = t_path("whole.dat");
	struct scen s;

	sc_init(&s);
	sc_copy_order(&s, 1000, 0, 11, DM_DIR_TO_DEV, 0x8000, 0x1234, 0x5678, 0x9abc, 9);
	s.ev[s.n - 1].copy.dev = 6;
	s.ev[s.n - 1].copy.fault = 1;
	s.ev[s.n - 1].copy.write = 1;
	sc_fault_info(&s, 1001, 0, 12, 13, 0xb000, 0xc0de, 0x402, 4, 77, 512, 511, 1, -5, 9876);
	sc_fault_freed(&s, 0xc0d0, 0x5eed, 1, 2, 4242);
	s.ev[s.n - 1].fault.dev = 8;
	for (size_t k = 0; k < sizeof(pads); k++) {
		struct sc_file_opts o = { .module_layout = true, .pad_byte = pads[k] };
		struct whole_pair w = { 0 };
		struct tracecmd_input *h;
		char err[256] = "";

		CHECK_EQ(sc_write_dat(&s, p, &o), 0);
		h = tracecmd_open(p, TRACECMD_FL_LOAD_NO_PLUGINS);
		CHECK(h != NULL, "libtracecmd cannot open %s", p);
		if (!h)
			break;
		for (int d = 0; d < 2; d++) {
			w.dec[d] = dm_decoder_new(tracecmd_get_tep(h), DM_SOURCE_AUTO, err, sizeof(err));
			CHECK(w.dec[d] != NULL, "decoder: %s", err);
		}
		if (w.dec[0] && w.dec[1]) {
			CHECK(dm_decoder_whole(w.dec[0], DM_EV_COPY), "the copy is not decoded whole");
			CHECK(dm_decoder_whole(w.dec[0], DM_EV_FAULT), "the fault is not decoded whole");
			dm_decoder_field_by_field(w.dec[1]);
			CHECK(!dm_decoder_whole(w.dec[1], DM_EV_FAULT), "field by field");
			tracecmd_iterate_events(h, NULL, 0, whole_cb, &w);
			CHECK_EQ(w.bad, 0);
			CHECK_EQ(w.n, 2);
			for (int d = 0; d < 2 && w.n == 2; d++) {
				CHECK(copy_same(&w.ev[d][0], &s.ev[0]), "pad 0x%x, %s: the copy differs",
				      pads[k], d ? "field by field" : "whole");
				CHECK(fault_same(&w.ev[d][1], &s.ev[1]), "pad 0x%x, %s: the fault differs",
				      pads[k], d ? "field by field" : "whole");
			}
		}
		for (int d = 0; d < 2; d++)
			dm_decoder_free(w.dec[d]);
		tracecmd_close(h);
	}
	sc_free(&s);
}

/*
 * A field narrower than its member, as another kernel's format may lay it
 * out: a signed one is sign-extended, an unsigned one is not, on the
 * decoder's fast path (which reads 8 bytes and shifts) as on its other.
 */
static void t_decode_narrow_fields(void)
{
	static const char fmt[] =
		"name: dmirror_migrate_setup\nID: 100\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:u8 dir;\toffset:8;\tsize:1;\tsigned:0;\n"
		"\tfield:u8 fault;\toffset:9;\tsize:1;\tsigned:0;\n"
		"\tfield:short ret;\toffset:10;\tsize:2;\tsigned:1;\n"
		"\tfield:u16 npages;\toffset:12;\tsize:2;\tsigned:0;\n"
		"\tfield:u16 cpages;\toffset:14;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned long start;\toffset:16;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned long end;\toffset:24;\tsize:8;\tsigned:0;\n"
		"\nprint fmt: \"ret=%d\", REC->ret\n";
	unsigned char data[32] = { 0 };
	struct tep_handle *tep = tep_alloc();
	struct tep_record rec = { .data = data, .size = (int)sizeof(data), .ts = 5 };
	struct dm_decoder *dec = NULL;
	struct dm_event ev;
	char err[256] = "";
	uint16_t type = 100, npages = 0xfff0, cpages = 0x8001;
	int16_t ret = -16;
	int32_t pid = 42;
	uint64_t start = 0x7000, end = 0x9000;

	CHECK(tep != NULL, "tep_alloc");
	if (!tep)
		return;
	CHECK_EQ(tep_parse_event(tep, fmt, sizeof(fmt) - 1, "dmirror"), 0);
	memcpy(data, &type, 2);
	memcpy(data + 4, &pid, 4);
	data[8] = DM_DIR_TO_RAM;
	data[9] = 1;
	memcpy(data + 10, &ret, 2);
	memcpy(data + 12, &npages, 2);
	memcpy(data + 14, &cpages, 2);
	memcpy(data + 16, &start, 8);
	memcpy(data + 24, &end, 8);
	dec = dm_decoder_new(tep, DM_SOURCE_DMIRROR, err, sizeof(err));
	CHECK(dec != NULL, "decoder: %s", err);
	if (dec) {
		CHECK_EQ(dm_decode(dec, &rec, &ev), 1);
		CHECK_EQ(ev.kind, DM_EV_SETUP);
		CHECK_EQ(ev.tid, 42);
		CHECK_EQ(ev.setup.ret, -16);
		CHECK_EQ(ev.setup.npages, 0xfff0);
		CHECK_EQ(ev.setup.cpages, 0x8001);
		CHECK_EQ(ev.setup.start, 0x7000);
		CHECK_EQ(ev.setup.end, 0x9000);
		CHECK_EQ(ev.setup.fault, 1);
		CHECK_EQ(ev.setup.dev, 0);	/* not in the format */
		/* a record too short for its fields is refused, not read past */
		rec.size = 24;
		CHECK_EQ(dm_decode(dec, &rec, &ev), -1);
		dm_decoder_free(dec);
	}
	tep_free(tep);
}

/* A parent that ignores SIGCHLD (the kernel then reaps children by
 * itself) must not hang the report's probe of the file. */
static void t_sigchld_ignored(void)
{
	struct scen s;
	uint64_t ts = 1000;
	const char *p = t_path("chld.dat");
	pid_t pid;
	int st = -1;

	sc_init(&s);
	sc_migrate_to_dev(&s, &ts, 0, 100, A0, 2, DEVPFN, SHPFN);
	sc_fault_back(&s, &ts, 0, 100, A0, DEVPFN, SHPFN, 1000, true);
	sc_fault_back(&s, &ts, 0, 100, A0 + PAGE, DEVPFN + 1, SHPFN + 1, 1000, true);
	CHECK_EQ(sc_write_dat(&s, p, NULL), 0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		signal(SIGCHLD, SIG_IGN);	/* inherited across exec */
		execl(t_analyzer, t_analyzer, "report", p, (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0, "fork");
	/* 20 s: a hang is a failure, not a stuck test */
	for (int i = 0; pid > 0 && i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0 && kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(0, "analyzer report hung with SIGCHLD ignored");
	} else {
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status 0x%x", st);
	}
	sc_free(&s);
}

/* One record as a reader gave it. */
struct rec_seen {
	uint64_t ts;
	int cpu, size;
	long long missed;
	uint64_t sum;		/* of its bytes */
};

struct recs {
	struct rec_seen *r;
	size_t n, cap;
};

static void recs_add(struct recs *v, const struct tep_record *rec)
{
	struct rec_seen *x;
	uint64_t sum = 1469598103934665603ull;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->r = realloc(v->r, v->cap * sizeof(*v->r));
	}
	for (int i = 0; i < rec->size; i++)
		sum = (sum ^ ((const unsigned char *)rec->data)[i]) * 1099511628211ull;
	x = &v->r[v->n++];
	*x = (struct rec_seen){ rec->ts, rec->cpu, rec->size, rec->missed_events, sum };
}

static int tc_collect(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	(void)h;
	(void)cpu;
	recs_add(data, rec);
	return 0;
}

/* Every record of path, in order, as libtracecmd and the page reader give them. */
static void readers_agree(const char *what, const char *path)
{
	struct recs a = { 0 }, b = { 0 };
	struct tracecmd_input *h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	struct dat_info info;
	struct dm_ring *ring = NULL;
	const struct tep_record *rec;
	char err[256] = "";

	CHECK(h != NULL, "%s: libtracecmd cannot open it", what);
	CHECK(dat_scan(path, &info, err, sizeof(err)) == 0, "%s: %s", what, err);
	CHECK(dm_ring_can_read(&info), "%s: not for the page reader", what);
	if (h && dm_ring_can_read(&info))
		ring = dm_ring_open(path, &info, err, sizeof(err));
	CHECK(ring != NULL, "%s: %s", what, err);
	if (h && ring) {
		tracecmd_iterate_events(h, NULL, 0, tc_collect, &a);
		while ((rec = dm_ring_next(ring)))
			recs_add(&b, rec);
		CHECK_EQ(dm_ring_bad(ring), 0);
		CHECK(a.n == b.n && a.n > 0, "%s: libtracecmd read %zu records, the page reader %zu",
		      what, a.n, b.n);
		for (size_t i = 0; i < a.n && i < b.n; i++) {
			const struct rec_seen *x = &a.r[i], *y = &b.r[i];

			if (x->ts != y->ts || x->cpu != y->cpu || x->size != y->size ||
			    x->missed != y->missed || x->sum != y->sum) {
				CHECK(0, "%s: record %zu: libtracecmd ts %" PRIu64 " cpu %d size %d missed %lld, "
				      "the page reader ts %" PRIu64 " cpu %d size %d missed %lld%s", what, i,
				      x->ts, x->cpu, x->size, x->missed, y->ts, y->cpu, y->size, y->missed,
				      x->sum != y->sum ? ", other bytes" : "");
				break;
			}
		}
	}
	if (h)
		tracecmd_close(h);
	dm_ring_close(ring);
	dat_info_free(&info);
	free(a.r);
	free(b.r);
}

/* Removes the first text from s; false if s has none. */
static bool drop_text(char *s, const char *text)
{
	char *at = strstr(s, text);

	if (!at)
		return false;
	memmove(at, at + strlen(text), strlen(at + strlen(text)) + 1);
	return true;
}

/*
 * The page reader gives libtracecmd's records, in its order: across CPUs
 * and pages, 8 KiB pages, time extends, lost-event counts, kernel-probe
 * events; the same reports follow, and a file it does not read (v7) goes
 * to libtracecmd.  The guests' recordings are held to the same on the
 * host (tests/guest/host.sh).
 */
static void t_page_reader(void)
{
	struct scen s;
	uint64_t ts = 1;
	const char *p = t_path("pages.dat");
	char cmd[1024], *out = NULL, *er = NULL, *out2 = NULL, *er2 = NULL;

	mixed(&s);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .trace_clock = true, .kallsyms = true }), 0);
	readers_agree("mixed", p);
	snprintf(cmd, sizeof(cmd), "'%s' report --json '%s'", t_analyzer, p);
	CHECK_EQ(t_run(cmd, &out, &er), 1);
	snprintf(cmd, sizeof(cmd), "DMIRROR_READER=libtracecmd '%s' report --json '%s'", t_analyzer, p);
	CHECK_EQ(t_run(cmd, &out2, &er2), 1);
	CHECK(drop_text(out, "  \"reader\": \"pages\",\n"), "reader:\n%.400s", out);
	CHECK(drop_text(out2, "  \"reader\": \"libtracecmd\",\n"), "reader:\n%.400s", out2);
	CHECK(!strcmp(out, out2), "the two readers' reports differ:\n%.3000s\n----\n%.3000s", out, out2);
	free(out);
	free(er);
	free(out2);
	free(er2);
	sc_free(&s);

	sc_init(&s);
	for (int i = 0; i < 3000; i++) {
		uint64_t pfn = DEVPFN + (uint64_t)(i % 500);

		sc_migrate_to_dev(&s, &ts, i % 4, 300 + i % 3, A0, 1, pfn, SHPFN + pfn);
		sc_fault_back(&s, &ts, (i + 1) % 4, 300 + i % 3, A0, pfn, SHPFN + pfn, 500, true);
		if (i % 700 == 0)
			ts += 3000000000ull;	/* over 2^27 ns: time extends */
	}
	sc_lost(&s, 2, 17);
	sc_lost(&s, 3, -1);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .cpus = 4, .page_size = 8192 }), 0);
	readers_agree("4 CPUs, 8K pages, losses", p);
	sc_free(&s);

	sc_init(&s);
	ts = 1000;
	sc_kp_setup(&s, ts++, 0, 50, A0, 1, 0x11, 0x22, 0x33);
	sc_kp_free(&s, ts++, 1, 50, 0x44, 0x55);
	CHECK_EQ(sc_write_dat(&s, p, &(struct sc_file_opts){ .kernel_formats = true,
		.no_dmirror_formats = true }), 0);
	readers_agree("kernel-probe events", p);
	sc_free(&s);
}

const struct t_case file_tests[] = {
	{ "file: writer -> libtracecmd -> engine equals the engine fed directly", t_roundtrip },
	{ "file: many pages, 4 CPUs, 8K pages, time extends, trace_clock", t_many_pages },
	{ "file: pages flagged with lost events", t_lost_in_pages },
	{ "cli: clean trace exits 0", t_cli_clean },
	{ "cli: loop and leaks exit 1, stats cross-check", t_cli_loop_and_leaks },
	{ "cli: --json follows the schema", t_cli_json },
	{ "cli: --perfetto writes trace-event JSON that nests and agrees", t_cli_perfetto },
	{ "cli: every bad input exits 2 with one line", t_bad_inputs },
	{ "cli: truncation anywhere is caught", t_truncation_sweep },
	{ "cli: random corruption never crashes", t_corruption_no_crash },
	{ "file: our sections in CPUSTAT options, and 1.0's ids", t_sections },
	{ "trace-cmd report reads our file, same event count", t_tracecmd_reads_our_file },
	{ "file: sched_process_fork with 6.18 field names", t_sched_618 },
	{ "file: trace.dat v7 (trace-cmd convert of ours)", t_v7 },
	{ "live reader (record --live) on the pages we write", t_live_reader },
	{ "writer: errors and no partial files", t_writer_errors },
	{ "cli: usage errors exit 2", t_usage_errors },
	{ "file: old format without 'order' reads as order 0", t_old_format_without_order },
	{ "cli: huge folio leak: pages in the table, JSON and the cross-check", t_cli_huge_leak },
	{ "file: every field of every event decodes into its own member", t_decode_every_field },
	{ "file: the copy and the fault of today's module decode whole, padding or not", t_decode_whole },
	{ "file: narrow fields: signed ones sign-extended, unsigned ones not", t_decode_narrow_fields },
	{ "cli: report with SIGCHLD ignored by its parent", t_sigchld_ignored },
	{ "file: the page reader gives libtracecmd's records and reports", t_page_reader },
	{ NULL, NULL },
};
