// SPDX-License-Identifier: GPL-2.0
/*
 * analyzer report [options] [FILE]: read a trace.dat, run the engine,
 * print problems first, then migration cycles and totals.
 *
 * Closed cycles are formatted as they close into an unlinked temporary
 * file and copied to the output at the end, so memory does not grow
 * with the number of cycles.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "analysis.h"
#include "html.h"
#include "json.h"
#include "output.h"
#include "perfetto.h"
#include "probes.h"
#include "reader.h"

struct rep {
	const char *file;
	struct dm_analysis *a;
	enum dm_source source;
	bool json, no_cycles;
	uint64_t limit;		/* text: rows listed per table, 0 = all */
	FILE *spill;
	struct dm_json spill_json;	/* --json: the cycles, members of the "cycles" array */
	uint64_t ncycles;
	bool spill_failed;
	const char *perfetto;	/* --perfetto: the file */
	struct dm_timeline *tl;
	const char *html;	/* --html: the file */
	struct dm_html *page;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: analyzer report [options] [FILE]\n"
		"  Analyse a trace.dat (default: trace.dat) made by 'analyzer record' or\n"
		"  'trace-cmd record -e dmirror': fault loops, leaked shadow pages (dmirror)\n"
		"  or device pages (any driver), migration cycles and fault service latency.\n"
		"\n"
		"  -j, --json              machine-readable output (schema in docs/analyzer.md)\n"
		"  -s, --source SRC        the events to analyse in a trace that has both:\n"
		"                          dmirror (its tracepoints) or kernel (the kernel\n"
		"                          probes); auto (default): dmirror's when present\n"
		"  -t, --loop-threshold N  faults in a row without progress that make a loop\n"
		"                          (default %d)\n"
		"      --perfetto OUT      also write OUT, a timeline in Chrome trace-event\n"
		"                          JSON for ui.perfetto.dev or chrome://tracing\n"
		"      --html OUT          also write OUT, one self-contained HTML page: a\n"
		"                          picture of the migration, and this report\n"
		"      --no-cycles         do not list the migration cycles\n"
		"      --limit N           text output: list at most N rows per table\n"
		"                          (default 50, 0 = all)\n"
		"  -h, --help\n"
		"\n"
		"  exit status: 0 clean, 1 problems found (or events lost), 2 bad usage or\n"
		"  unreadable input\n",
		DM_DEFAULT_LOOP_THRESHOLD);
}

/* ------------------------------------------------------------------ JSON */

static void json_calls(struct dm_json *j, const char *key, const struct dm_counts *c, int d,
		       uint64_t migrated)
{
	dm_json_object(j, key, false);
	dm_json_u64(j, "calls", c->calls[d]);
	dm_json_u64(j, "requested", c->requested[d]);
	dm_json_u64(j, "collected", c->collected[d]);
	dm_json_u64(j, "migrated", migrated);
	dm_json_end(j);
}

/* The counts of a cycle, of what was outside cycles, or of the whole:
 * members of the object open in j. */
static void json_counts(struct dm_json *j, const struct dm_stats *s)
{
	const struct dm_counts *c = &s->c;
	const struct dm_latency *l = &s->lat;

	dm_json_u64(j, "pages_to_dev", c->to_dev);
	dm_json_u64(j, "pages_to_ram_fault", c->to_ram_fault);
	dm_json_u64(j, "pages_to_ram_ioctl", c->to_ram_ioctl);
	dm_json_u64(j, "copies_to_dev", c->copies_to_dev);
	dm_json_u64(j, "copies_to_ram", c->copies_to_ram);
	dm_json_u64(j, "devmem_faults", c->faults);
	dm_json_u64(j, "faults_without_progress", c->faults_no_progress);
	dm_json_u64(j, "sigbus", c->sigbus);
	dm_json_u64(j, "frees", c->frees);
	dm_json_u64(j, "leaks", c->leaks);
	dm_json_u64(j, "setup_failures", c->setup_failed);
	dm_json_u64(j, "guard_events", c->guard);
	dm_json_object(j, "calls", false);
	json_calls(j, "to_dev", c, DM_DIR_TO_DEV, c->to_dev);
	json_calls(j, "to_ram", c, DM_DIR_TO_RAM, c->to_ram_fault + c->to_ram_ioctl);
	dm_json_end(j);
	dm_json_object(j, "fault_latency_ns", false);
	dm_json_u64(j, "count", l->count);
	if (l->count) {
		dm_json_u64(j, "min", l->min);
		dm_json_u64(j, "median", dm_lat_quantile(l, 0.5));
		dm_json_u64(j, "p99", dm_lat_quantile(l, 0.99));
		dm_json_u64(j, "max", l->max);
		dm_json_bool(j, "exact", !l->hist);
	}
	dm_json_end(j);
}

/* ------------------------------------------------------------------ text */

static void fmt_us(char *buf, size_t n, uint64_t ns)
{
	snprintf(buf, n, "%.1f", (double)ns / 1000.0);
}

#define ROW_LABEL_W 54	/* "  CYCLE     PID COMM            START(s)     DUR(s)" */

static void text_stats_row(FILE *f, const char *label, const struct dm_stats *s)
{
	const struct dm_counts *c = &s->c;
	const struct dm_latency *l = &s->lat;
	char mn[24] = "-", md[24] = "-", p99[24] = "-", mx[24] = "-", toram[48];

	if (l->count) {
		fmt_us(mn, sizeof(mn), l->min);
		fmt_us(md, sizeof(md), dm_lat_quantile(l, 0.5));
		fmt_us(p99, sizeof(p99), dm_lat_quantile(l, 0.99));
		fmt_us(mx, sizeof(mx), l->max);
	}
	snprintf(toram, sizeof(toram), "%" PRIu64 " (%" PRIu64 "/%" PRIu64 ")",
		 c->to_ram_fault + c->to_ram_ioctl, c->to_ram_fault, c->to_ram_ioctl);
	fprintf(f, "%-*s %8" PRIu64 " %-18s %8" PRIu64 " %7" PRIu64 " %6" PRIu64
		" %9s %9s %9s %9s\n",
		ROW_LABEL_W, label, c->to_dev, toram, c->faults, c->frees, c->leaks, mn, md, p99, mx);
}

static void text_stats_header(FILE *f, const char *label)
{
	fprintf(f, "%-*s %8s %-18s %8s %7s %6s %9s %9s %9s %9s\n", ROW_LABEL_W, label, "TO_DEV",
		"TO_RAM(FLT/IOCTL)", "FAULTS", "FREES", "LEAKS", "LAT_MIN", "LAT_MED", "LAT_P99",
		"LAT_MAX");
}

static void on_event(void *ctx, const struct dm_event *ev)
{
	struct rep *r = ctx;

	if (r->tl)
		dm_timeline_event(r->tl, r->a, ev);
	if (r->page)
		dm_html_event(r->page, r->a, ev);
}

static void on_cycle(void *ctx, const struct dm_cycle *c)
{
	struct rep *r = ctx;
	const struct dm_result *res = dm_analysis_result(r->a);
	char label[128], st[32], dur[32];

	if (r->no_cycles || r->spill_failed)
		return;
	r->ncycles++;
	if (r->json) {
		dm_json_object(&r->spill_json, NULL, false);
		dm_json_u64(&r->spill_json, "id", c->id);
		dm_json_i64(&r->spill_json, "pid", c->pid);
		dm_json_str(&r->spill_json, "comm", c->comm);
		dm_json_u64(&r->spill_json, "start_ns", c->start_ts);
		dm_json_u64(&r->spill_json, "end_ns", c->end_ts);
		json_counts(&r->spill_json, &c->s);
		dm_json_end(&r->spill_json);
	} else {
		if (r->limit && r->ncycles > r->limit)
			return;
		dm_fmt_rel(st, sizeof(st), c->start_ts, res->first_ts);
		snprintf(dur, sizeof(dur), "%.6f", (double)(c->end_ts - c->start_ts) / 1e9);
		snprintf(label, sizeof(label), "  %5u %7d %-15.15s %11s %10s", c->id, c->pid, c->comm,
			 st, dur);	/* ROW_LABEL_W wide */
		text_stats_row(r->spill, label, &c->s);
	}
	if (ferror(r->spill))
		r->spill_failed = true;
}

static void copy_spill(struct rep *r, FILE *out)
{
	char buf[65536];
	size_t n;

	fflush(r->spill);
	rewind(r->spill);
	while ((n = fread(buf, 1, sizeof(buf), r->spill)) > 0)
		fwrite(buf, 1, n, out);
}

static void meta_value(const char *meta, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);

	out[0] = 0;
	for (const char *p = meta; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > kl + 1 && !strncmp(p, key, kl) && p[kl] == ':') {
			const char *v = p + kl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

struct verdict {
	uint64_t lost;		/* best estimate */
	bool incomplete;
	struct dm_stats_check sc;
	bool stats_disagree;
	uint64_t problems;
};

static void judge(const struct dm_result *res, const struct dm_read_stats *st,
		  const struct dat_info *info, struct verdict *v)
{
	uint64_t stats_lost = st->stats_overrun + st->stats_dropped;
	uint64_t page_lost = st->missed_events;

	memset(v, 0, sizeof(*v));
	/* the same losses seen two ways: take the larger */
	v->lost = stats_lost > page_lost ? stats_lost : page_lost;
	v->incomplete = res->incomplete || v->lost || st->missed_unknown || st->bad_records;
	/* the driver's shadow pages are seen only through its own events */
	if (st->source == DM_SOURCE_DMIRROR)
		dm_stats_check(info->stats_before, info->stats_after, res, &v->sc);
	v->stats_disagree = v->sc.have && !v->sc.agree;
	v->problems = res->nloops + res->nleaks + (v->stats_disagree ? 1 : 0);
}

static size_t count_leaks(const struct dm_result *res, bool devpage)
{
	size_t n = 0;

	for (size_t i = 0; i < res->nleaks; i++)
		n += (res->leaks[i].kind == DM_LEAK_DEVPAGE) == devpage;
	return n;
}

/* The kernel-probe source's device pages that outlived their processes. */
static void text_devpages(struct rep *r, FILE *f)
{
	const struct dm_result *res = dm_analysis_result(r->a);
	size_t shown = 0, n = count_leaks(res, true);
	char t[32];

	fprintf(f, "Device pages: %" PRIu64 " initialised during the trace; %" PRIu64
		" never freed after every process that could map them exited%s\n",
		res->devpages_init, res->devpage_leaks, n ? " (leaked):" : "");
	if (n)
		fprintf(f, "  %-10s %-9s %7s %-15s %-13s %s\n", "PAGE", "PGMAP", "PID", "COMM",
			"ALLOCATED(s)", "DRIVER");
	for (size_t i = 0; i < res->nleaks; i++) {
		const struct dm_leak *l = &res->leaks[i];
		char pg[24], pm[24], np[40] = "";

		if (l->kind != DM_LEAK_DEVPAGE)
			continue;
		if (r->limit && ++shown > r->limit) {
			fprintf(f, "  ... %zu more (--limit 0 lists all)\n", n - r->limit);
			break;
		}
		snprintf(pg, sizeof(pg), "page#%" PRIu64, l->dev_pfn);
		snprintf(pm, sizeof(pm), "pgmap#%" PRIu64, l->pgmap);
		if (l->npages > 1)
			snprintf(np, sizeof(np), " (%" PRIu64 " pages)", l->npages);
		dm_fmt_rel(t, sizeof(t), l->alloc_ts, res->first_ts);
		fprintf(f, "  %-10s %-9s %7d %-15.15s %-13s %s%s\n", pg, pm, l->pid, l->comm, t,
			l->driver ? dm_analysis_sym(r->a, l->driver) : "?", np);
	}
	fputc('\n', f);
}

static void text_kernel_counts(struct rep *r, FILE *f)
{
	const struct dm_result *res = dm_analysis_result(r->a);

	fprintf(f, "  kernel: %" PRIu64 " migrate_vma_setup() call(s); %" PRIu64
		" CPU fault(s) on device-private pages (%" PRIu64 " given back under the per-VMA lock and "
		"retried, %" PRIu64 " that waited for a locked page); hmm_range_fault: %" PRIu64
		" call(s), %" PRIu64 " -EBUSY, %" PRIu64 " other errors\n",
		res->migrate_calls, res->devprivate_faults, res->vma_lock_retries, res->lock_waits,
		res->hmm_calls, res->hmm_ebusy, res->hmm_errors - res->hmm_ebusy);
	if (res->inferred_calls)
		fprintf(f, "  kernel: %" PRIu64 " call(s) over %d pages: the %" PRIu64 " page(s) they moved are counted "
			"from the device pages initialised and freed during them\n",
			res->inferred_calls, DM_KP_FINAL_ENTRIES, res->inferred_pages);
}

static void print_text(struct rep *r, FILE *f, const struct dm_read_stats *st,
		       const struct dat_info *info, const struct verdict *v)
{
	const struct dm_result *res = dm_analysis_result(r->a);
	uint64_t t0 = res->first_ts;
	char cmd[512], buf[1024], t1[32], t2[32];
	size_t shown, nshadow = count_leaks(res, false), ndev = count_leaks(res, true);
	bool kernel = st->source == DM_SOURCE_KERNEL;

	fprintf(f, "dmirror analyzer report: %s\n", r->file);
	meta_value(info->meta, "command", cmd, sizeof(cmd));
	if (cmd[0])
		fprintf(f, "  recorded: %s\n", cmd);
	if (kernel) {
		char pk[64] = "", po[32] = "";

		meta_value(info->meta, "probes.kernel", pk, sizeof(pk));
		meta_value(info->meta, "probes.offsets", po, sizeof(po));
		fprintf(f, "  source:   kernel probes on the kernel's migration code (probe table of %s, "
			"offsets from %s)\n", pk[0] ? pk : "?",
			!strcmp(po, "btf") ? "BTF" : "the built-in table");
		fprintf(f, "  events:   %" PRIu64 " kernel-probe events, %" PRIu64 " records on %u CPU(s), over %.6f s\n",
			res->kernel_events, st->records, st->cpus,
			(double)(res->last_ts - res->first_ts) / 1e9);
	} else {
		fprintf(f, "  events:   %" PRIu64 " dmirror events, %" PRIu64 " records on %u CPU(s), over %.6f s\n",
			res->dmirror_events, st->records, st->cpus,
			(double)(res->last_ts - res->first_ts) / 1e9);
	}
	if (!res->have_sched && !st->sched_formats)
		fprintf(f, "  note:     no sched process events recorded: process exits are unknown, so pages\n"
			   "            still on the device at the end are not judged as leaks\n");
	if (v->incomplete) {
		fprintf(f, "  WARNING:  events were lost: %" PRIu64 " counted", v->lost);
		if (st->missed_unknown)
			fprintf(f, " (+%" PRIu64 " losses of unknown size)", st->missed_unknown);
		if (st->bad_records)
			fprintf(f, ", %" PRIu64 " corrupt records", st->bad_records);
		fprintf(f, "; the result is INCOMPLETE\n");
	}
	fputc('\n', f);

	if (kernel && (res->nloops || ndev))
		fprintf(f, "PROBLEMS: %zu fault loop(s), %" PRIu64 " leaked device page(s)\n\n", res->nloops,
			res->devpage_leaks);
	else if (kernel)
		fprintf(f, "No fault loops, no leaked device pages.\n\n");
	else if (res->nloops || res->nleaks || v->stats_disagree)
		fprintf(f, "PROBLEMS: %zu fault loop(s), %" PRIu64 " leaked shadow page(s)%s\n\n", res->nloops,
			res->leaked_pages, v->stats_disagree ? ", leak count disagrees with the driver's stats" : "");
	else
		fprintf(f, "No fault loops, no leaked shadow pages.\n\n");
	if (kernel)
		fprintf(f, "Shadow pages are not judged: a driver's backing store is its own, and only dmirror's "
			"tracepoints show it (record with --source dmirror or both).\n\n");

	if (res->nloops) {
		fprintf(f, "Fault loops (%u or more faults in a row without progress):\n",
			dm_analysis_loop_threshold(r->a));
		shown = 0;
		for (size_t i = 0; i < res->nloops; i++) {
			const struct dm_loop *l = &res->loops[i];
			double secs = (double)(l->last_ts - l->first_ts) / 1e9;

			if (r->limit && ++shown > r->limit) {
				fprintf(f, "  ... %zu more (--limit 0 lists all)\n", res->nloops - r->limit);
				break;
			}
			dm_fmt_rel(t1, sizeof(t1), l->first_ts, t0);
			dm_fmt_rel(t2, sizeof(t2), l->last_ts, t0);
			fprintf(f, "  #%zu pid %d (%s) addr 0x%" PRIx64 " dev %u dev_pfn 0x%" PRIx64 "\n",
				i + 1, l->pid, l->comm, l->addr, l->dev, l->dev_pfn);
			fprintf(f, "     %" PRIu64 " faults without progress, %s s .. %s s", l->count, t1, t2);
			if (secs > 0)
				fprintf(f, " (%.0f faults/s)", (double)(l->count > 1 ? l->count - 1 : 1) / secs);
			if (l->below_threshold)
				fprintf(f, " [below the threshold: reported because the guard fired]");
			fputc('\n', f);
			if (l->kernel) {
				if (l->has_uip)
					fprintf(f, "     user pc 0x%" PRIx64 ";", l->uip);
				else
					fprintf(f, "     user pc unknown;");
				if (l->callback)
					fprintf(f, " handled by %s\n", dm_analysis_sym(r->a, l->callback));
				else if (l->migrator)
					fprintf(f, " handled by the migrate_to_ram of the driver that moved the page "
						"to the device from %s (no BTF to name the callback)\n",
						dm_analysis_sym(r->a, l->migrator));
				else
					fprintf(f, " handled by an unknown migrate_to_ram (no BTF, no migration of the page recorded)\n");
			}
			dm_describe_cause(l, buf, sizeof(buf));
			fprintf(f, "     cause: %s\n", buf);
			dm_describe_end(l, buf, sizeof(buf));
			fprintf(f, "     %s\n", buf);
		}
		fputc('\n', f);
	}
	if (kernel)
		text_devpages(r, f);

	if (!kernel && (nshadow || v->sc.have)) {
		fprintf(f, "Leaked shadow pages: %" PRIu64, res->leaked_pages);
		if (v->sc.have) {
			fprintf(f, " (driver stats %s: %" PRId64 " -> %" PRId64 ", %+" PRId64 "; expected +%" PRIu64
				" = %" PRIu64 " leaked + %" PRIu64 " still on the device: %s)",
				v->sc.key, v->sc.before, v->sc.after, v->sc.delta, v->sc.expected,
				res->leaked_pages, res->live_shadow_at_end,
				v->sc.agree ? "agrees" : "DISAGREES");
		} else if (info->stats_before || info->stats_after) {
			fprintf(f, " (no shadow_live counter in the driver's stats: not cross-checked)");
		} else {
			fprintf(f, " (no driver stats in the file: not cross-checked)");
		}
		fputc('\n', f);
		if (nshadow)
			fprintf(f, "  %-12s %-12s %-16s %7s %-15s %-13s %s\n", "DEV_PFN", "SHADOW_PFN", "ADDR",
				"PID", "COMM", "ALLOCATED(s)", "HOW");
		shown = 0;
		for (size_t i = 0; i < res->nleaks; i++) {
			const struct dm_leak *l = &res->leaks[i];
			char a[24], addr[24], pid[16], np[40] = "";

			if (l->kind == DM_LEAK_DEVPAGE)
				continue;
			if (r->limit && ++shown > r->limit) {
				fprintf(f, "  ... %zu more (--limit 0 lists all)\n", nshadow - r->limit);
				break;
			}
			if (l->alloc_known)
				dm_fmt_rel(a, sizeof(a), l->alloc_ts, t0);
			else
				snprintf(a, sizeof(a), "before trace");
			if (l->alloc_known)
				snprintf(addr, sizeof(addr), "0x%" PRIx64, l->addr);
			else
				snprintf(addr, sizeof(addr), "?");
			if (l->pid >= 0)
				snprintf(pid, sizeof(pid), "%d", l->pid);
			else
				snprintf(pid, sizeof(pid), "?");
			if (l->npages > 1)
				snprintf(np, sizeof(np), " (%" PRIu64 " pages)", l->npages);
			fprintf(f, "  0x%-10" PRIx64 " 0x%-10" PRIx64 " %-16s %7s %-15.15s %-13s %s%s\n",
				l->dev_pfn, l->shadow_pfn, addr, pid, l->comm, a,
				l->kind == DM_LEAK_FREED_UNRELEASED ? "freed, shadow kept"
								    : "never freed, owner exited", np);
		}
		fputc('\n', f);
	}

	if (!r->no_cycles) {
		fprintf(f, "Migration cycles: %u (a cycle starts at a process's first to_dev migration\n"
			   "after its pages came back; listed as they end)\n", res->cycles);
		if (r->ncycles) {
			char h[ROW_LABEL_W + 8];

			snprintf(h, sizeof(h), "  %5s %7s %-15s %11s %10s", "CYCLE", "PID", "COMM",
				 "START(s)", "DUR(s)");
			text_stats_header(f, h);
			copy_spill(r, f);
			if (r->limit && r->ncycles > r->limit)
				fprintf(f, "  ... %" PRIu64 " more (--limit 0 lists all)\n",
					r->ncycles - r->limit);
		}
		fputc('\n', f);
	}
	fprintf(f, "Totals (latency: fault service time in us, setup to finalize):\n");
	text_stats_header(f, "");
	text_stats_row(f, "  all", &res->total);
	if (res->outside.c.to_dev || res->outside.c.to_ram_fault || res->outside.c.to_ram_ioctl ||
	    res->outside.c.faults || res->outside.c.frees || res->outside.c.leaks)
		text_stats_row(f, "  outside any cycle", &res->outside);
	{
		const struct dm_counts *c = &res->total.c;

		fprintf(f, "  migrate_vma_setup: to the device %" PRIu64 " call(s), %" PRIu64 " page(s) asked for, %"
			PRIu64 " collected, %" PRIu64 " moved; back %" PRIu64 " call(s), %" PRIu64 " asked for, %"
			PRIu64 " collected, %" PRIu64 " moved\n",
			c->calls[0], c->requested[0], c->collected[0], c->to_dev, c->calls[1], c->requested[1],
			c->collected[1], c->to_ram_fault + c->to_ram_ioctl);
	}
	if (kernel)
		fprintf(f, "  device: %" PRIu64 " page(s) still on the device at the end; %" PRIu64
			" page(s) freed that were initialised before the trace\n",
			res->live_at_end, res->untracked_frees);
	else
		fprintf(f, "  device: %" PRIu64 " chunk(s) added, %" PRIu64 " pages; %" PRIu64
			" page(s) still on the device at the end; %" PRIu64 " page(s) freed that were allocated before the trace\n",
			res->chunks, res->chunk_pages, res->live_at_end, res->untracked_frees);
	if (kernel)
		text_kernel_counts(r, f);
	if (res->total.lat.hist)
		fprintf(f, "  latency quantiles over %d samples are from a histogram (within 1.6%%)\n",
			DM_LAT_EXACT);
	fputc('\n', f);
	if (v->problems)
		fprintf(f, "Verdict: PROBLEMS FOUND%s\n", v->incomplete ? " (and the trace is incomplete)" : "");
	else if (v->incomplete)
		fprintf(f, "Verdict: no problem seen, but the trace is INCOMPLETE\n");
	else
		fprintf(f, "Verdict: clean\n");
}

static const char *basis_name(uint8_t b)
{
	static const char *const names[] = {
		[DM_OWNER_NONE] = "none", [DM_OWNER_DRIVER] = "driver", [DM_OWNER_BTF] = "btf",
		[DM_OWNER_INIT] = "init", [DM_OWNER_RANGE] = "range",
	};

	return b < sizeof(names) / sizeof(names[0]) ? names[b] : "none";
}

static void json_sym(struct rep *r, struct dm_json *j, const char *key, uint64_t token)
{
	dm_json_str(j, key, token ? dm_analysis_sym(r->a, token) : NULL);
}

static void json_owner(struct dm_json *j, const char *key, uint64_t token)
{
	char o[32];

	dm_fmt_owner(o, sizeof(o), token);
	dm_json_str(j, key, o);
}

/* The meta option's "key: value" lines as an object. */
static void json_meta(struct dm_json *j, const char *meta)
{
	dm_json_object(j, "meta", false);
	for (const char *p = meta; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *colon = memchr(p, ':', len);

		if (colon) {
			char k[128], val[1024];
			const char *vs = colon + 1;

			while (vs < p + len && *vs == ' ')
				vs++;
			snprintf(k, sizeof(k), "%.*s", (int)(colon - p), p);
			snprintf(val, sizeof(val), "%.*s", (int)(p + len - vs), vs);
			dm_json_str(j, k, val);
		}
		p = nl ? nl + 1 : NULL;
	}
	dm_json_end(j);
}

static void json_loop(struct rep *r, struct dm_json *j, const struct dm_loop *l)
{
	const struct dm_result *res = dm_analysis_result(r->a);
	double secs = (double)(l->last_ts - l->first_ts) / 1e9;
	enum dm_cause c = dm_loop_cause(l);
	char buf[1024];

	(void)res;
	dm_json_object(j, NULL, false);
	dm_json_i64(j, "pid", l->pid);
	dm_json_str(j, "comm", l->comm);
	dm_json_hex(j, "addr", l->addr);
	dm_json_bool(j, "kernel", l->kernel);
	if (l->has_uip)
		dm_json_hex(j, "user_pc", l->uip);
	else
		dm_json_null(j, "user_pc");
	json_sym(r, j, "callback", l->callback);
	json_sym(r, j, "migrated_by", l->migrator);
	dm_json_object(j, "owner", false);
	dm_json_str(j, "basis", basis_name(l->owner_basis));
	if (l->kernel) {
		json_owner(j, "fault_path", l->owner);
		if (l->owner_basis == DM_OWNER_NONE)
			dm_json_null(j, "page");
		else
			json_owner(j, "page", l->page_owner);
	} else {
		dm_json_null(j, "fault_path");
		dm_json_null(j, "page");
	}
	dm_json_end(j);
	dm_json_bool(j, "collected_inferred", l->cpages_inferred);
	dm_json_str(j, "dev_pfn_note", l->kernel ? "from the swap entry" : "from the driver");
	dm_json_u64(j, "dev", l->dev);
	dm_json_hex(j, "dev_pfn", l->dev_pfn);
	dm_json_u64(j, "count", l->count);
	dm_json_u64(j, "first_ns", l->first_ts);
	dm_json_u64(j, "last_ns", l->last_ts);
	dm_json_dbl(j, "rate_per_s", secs > 0 ? (double)(l->count > 1 ? l->count - 1 : 1) / secs : 0.0);
	dm_json_u64(j, "max_no_progress", l->max_no_progress);
	dm_json_bool(j, "below_threshold", l->below_threshold);
	dm_json_object(j, "cause", false);
	dm_json_str(j, "code", dm_cause_name(c));
	dm_describe_cause(l, buf, sizeof(buf));
	dm_json_str(j, "text", buf);
	dm_json_object(j, "evidence", false);
	for (int k = 0; k < DM_CAUSE_MAX; k++)
		dm_json_u64(j, dm_cause_name(k), l->evidence[k]);
	dm_json_end(j);
	dm_json_end(j);
	dm_json_object(j, "guard", false);
	dm_json_bool(j, "fired", l->guard);
	dm_json_u64(j, "count", l->guard_count);
	dm_json_u64(j, "limit", l->guard_limit);
	dm_json_u64(j, "ts_ns", l->guard_ts);
	dm_json_end(j);
	dm_json_u64(j, "sigbus", l->sigbus);
	dm_json_str(j, "end", l->guard ? "guard" : dm_loop_end_name(l->end));
	dm_json_u64(j, "end_ns", l->end_ts);
	dm_describe_end(l, buf, sizeof(buf));
	dm_json_str(j, "end_text", buf);
	dm_json_end(j);
}

static void json_leak(struct rep *r, struct dm_json *j, const struct dm_leak *l)
{
	char name[32];

	dm_json_object(j, NULL, false);
	dm_json_str(j, "kind", dm_leak_kind_name(l->kind));
	dm_json_u64(j, "dev", l->dev);
	if (l->kind == DM_LEAK_DEVPAGE) {
		dm_json_null(j, "dev_pfn");
		snprintf(name, sizeof(name), "page#%" PRIu64, l->dev_pfn);
		dm_json_str(j, "page", name);
		snprintf(name, sizeof(name), "pgmap#%" PRIu64, l->pgmap);
		dm_json_str(j, "pgmap", name);
		json_sym(r, j, "driver", l->driver);
		dm_json_i64(j, "pid", l->pid);
		dm_json_str(j, "comm", l->comm);
		dm_json_u64(j, "alloc_ns", l->alloc_ts);
		dm_json_u64(j, "exit_ns", l->free_ts);
		dm_json_u64(j, "pages", l->npages);
		dm_json_end(j);
		return;
	}
	dm_json_hex(j, "dev_pfn", l->dev_pfn);
	dm_json_hex(j, "shadow_pfn", l->shadow_pfn);
	if (l->alloc_known)
		dm_json_hex(j, "addr", l->addr);
	else
		dm_json_null(j, "addr");
	if (l->pid >= 0)
		dm_json_i64(j, "pid", l->pid);
	else
		dm_json_null(j, "pid");
	dm_json_str(j, "comm", l->comm);
	if (l->alloc_known)
		dm_json_u64(j, "alloc_ns", l->alloc_ts);
	else
		dm_json_null(j, "alloc_ns");
	dm_json_u64(j, "free_ns", l->free_ts);
	dm_json_u64(j, "pages", l->npages);
	dm_json_end(j);
}

static void json_kernel(struct dm_json *j, const struct dm_result *res)
{
	dm_json_object(j, "kernel", false);
	dm_json_u64(j, "migrate_calls", res->migrate_calls);
	dm_json_u64(j, "swap_faults", res->swap_faults);
	dm_json_u64(j, "device_private_faults", res->devprivate_faults);
	dm_json_u64(j, "vma_lock_retries", res->vma_lock_retries);
	dm_json_u64(j, "lock_waits", res->lock_waits);
	dm_json_u64(j, "device_pages_init", res->devpages_init);
	dm_json_u64(j, "device_page_leaks", res->devpage_leaks);
	dm_json_u64(j, "inferred_calls", res->inferred_calls);
	dm_json_u64(j, "inferred_pages", res->inferred_pages);
	dm_json_object(j, "hmm_range_fault", false);
	dm_json_u64(j, "calls", res->hmm_calls);
	dm_json_u64(j, "ebusy", res->hmm_ebusy);
	dm_json_u64(j, "errors", res->hmm_errors);
	dm_json_end(j);
	dm_json_end(j);
}

static void json_leak_check(struct dm_json *j, const struct dm_result *res, const struct verdict *v)
{
	dm_json_object(j, "leak_check", false);
	dm_json_u64(j, "leaks", res->leaked_pages);
	dm_json_u64(j, "live_at_end", res->live_at_end);
	dm_json_u64(j, "live_shadow_at_end", res->live_shadow_at_end);
	dm_json_u64(j, "expected_delta", v->sc.expected);
	if (v->sc.have) {
		dm_json_str(j, "stats_key", v->sc.key);
		dm_json_i64(j, "stats_before", v->sc.before);
		dm_json_i64(j, "stats_after", v->sc.after);
		dm_json_i64(j, "stats_delta", v->sc.delta);
		dm_json_bool(j, "agree", v->sc.agree);
	} else {
		dm_json_null(j, "stats_key");
		dm_json_null(j, "stats_before");
		dm_json_null(j, "stats_after");
		dm_json_null(j, "stats_delta");
		dm_json_null(j, "agree");
	}
	dm_json_end(j);
}

static void print_json(struct rep *r, FILE *f, const struct dm_read_stats *st,
		       const struct dat_info *info, const struct verdict *v)
{
	const struct dm_result *res = dm_analysis_result(r->a);
	bool kernel = st->source == DM_SOURCE_KERNEL;
	struct dm_json j;
	char cpu[32];

	dm_json_init(&j, f, 0, false);
	dm_json_object(&j, NULL, true);
	dm_json_str(&j, "schema", "dmirror-analyzer-report/1");
	dm_json_str(&j, "file", r->file);
	dm_json_str(&j, "source", kernel ? "kernel" : "dmirror");
	dm_json_bool(&j, "shadow_pages_judged", !kernel);
	dm_json_i64(&j, "file_version", info->version);
	dm_json_str(&j, "reader", st->reader);
	dm_json_bool(&j, "complete", !v->incomplete);
	dm_json_u64(&j, "problems", v->problems);
	dm_json_u64(&j, "loop_threshold", dm_analysis_loop_threshold(r->a));

	dm_json_object(&j, "recording", false);
	json_meta(&j, info->meta);
	dm_json_str(&j, "stats_before", info->stats_before);
	dm_json_str(&j, "stats_after", info->stats_after);
	dm_json_end(&j);

	dm_json_object(&j, "events", false);
	dm_json_u64(&j, "records", st->records);
	dm_json_u64(&j, "dmirror", res->dmirror_events);
	dm_json_u64(&j, "kernel", res->kernel_events);
	dm_json_u64(&j, "cpus", st->cpus);
	dm_json_u64(&j, "first_ns", res->first_ts);
	dm_json_u64(&j, "last_ns", res->last_ts);
	dm_json_bool(&j, "sched_recorded", res->have_sched || st->sched_formats);
	dm_json_object(&j, "by_type", false);
	for (int k = DM_EV_SETUP; k < DM_EV_MAX; k++) {
		if (k == DM_EV_LOST || (k > DM_EV_LOST && !res->by_kind[k]))
			continue;
		dm_json_u64(&j, dm_ev_kind_name(k), res->by_kind[k]);
	}
	dm_json_end(&j);
	dm_json_end(&j);

	dm_json_object(&j, "lost", false);
	dm_json_u64(&j, "events", v->lost);
	dm_json_u64(&j, "unknown_size_losses", st->missed_unknown);
	dm_json_u64(&j, "pages_flagged", st->missed_pages);
	dm_json_u64(&j, "stats_overrun", st->stats_overrun);
	dm_json_u64(&j, "stats_dropped", st->stats_dropped);
	dm_json_u64(&j, "corrupt_records", st->bad_records);
	dm_json_object(&j, "per_cpu", false);
	for (unsigned int c = 0; c < st->ncpu_lost; c++) {
		snprintf(cpu, sizeof(cpu), "cpu%u", c);
		dm_json_u64(&j, cpu, st->cpu_lost[c]);
	}
	dm_json_end(&j);
	dm_json_end(&j);

	dm_json_array(&j, "fault_loops", true);
	for (size_t i = 0; i < res->nloops; i++)
		json_loop(r, &j, &res->loops[i]);
	dm_json_end(&j);
	dm_json_array(&j, "leaks", true);
	for (size_t i = 0; i < res->nleaks; i++)
		json_leak(r, &j, &res->leaks[i]);
	dm_json_end(&j);
	json_kernel(&j, res);
	json_leak_check(&j, res, v);

	dm_json_u64(&j, "cycles_total", res->cycles);
	dm_json_array(&j, "cycles", true);
	dm_json_paste(&j, r->spill);
	dm_json_end(&j);
	dm_json_object(&j, "outside_cycles", false);
	json_counts(&j, &res->outside);
	dm_json_end(&j);
	dm_json_object(&j, "total", false);
	json_counts(&j, &res->total);
	dm_json_u64(&j, "device_chunks", res->chunks);
	dm_json_u64(&j, "device_pages", res->chunk_pages);
	dm_json_u64(&j, "untracked_frees", res->untracked_frees);
	dm_json_end(&j);
	dm_json_end(&j);
}

/*
 * --html: the page embeds the text report (without its cycle list when
 * stdout gets JSON: the cycles kept for it are JSON then).
 */
static int write_page(struct rep *r, struct dm_reader *rd, const struct verdict *v, char *err,
		      size_t errlen)
{
	struct dm_html *page = r->page;
	bool no_cycles = r->no_cycles;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int ret;

	r->page = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		dm_html_abort(page);
		return -1;
	}
	if (r->json)
		r->no_cycles = true;
	print_text(r, m, dm_reader_stats(rd), dm_reader_info(rd), v);
	r->no_cycles = no_cycles;
	if (fclose(m)) {
		snprintf(err, errlen, "out of memory");
		free(text);
		dm_html_abort(page);
		return -1;
	}
	ret = dm_html_close(page, r->a, r->file, text, err, errlen);
	free(text);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "source", required_argument, NULL, 's' },
		{ "loop-threshold", required_argument, NULL, 't' },
		{ "no-cycles", no_argument, NULL, 'C' },
		{ "perfetto", required_argument, NULL, 'P' },
		{ "html", required_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rep r = { .file = "trace.dat", .limit = 50 };
	struct dm_config cfg = { .loop_threshold = DM_DEFAULT_LOOP_THRESHOLD };
	struct dm_reader *rd;
	struct verdict v;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, "+js:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			r.json = true;
			break;
		case 's':
			if (!strcmp(optarg, "dmirror")) {
				r.source = DM_SOURCE_DMIRROR;
			} else if (!strcmp(optarg, "kernel")) {
				r.source = DM_SOURCE_KERNEL;
			} else if (!strcmp(optarg, "auto")) {
				r.source = DM_SOURCE_AUTO;
			} else {
				fprintf(stderr, "analyzer: report: bad --source '%s' (dmirror, kernel or auto)\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_uint(optarg, 1, 1u << 30, &cfg.loop_threshold)) {
				fprintf(stderr, "analyzer: report: bad --loop-threshold '%s' (a number >= 1)\n",
					optarg);
				return 2;
			}
			break;
		case 'C':
			r.no_cycles = true;
			break;
		case 'P':
			r.perfetto = optarg;
			break;
		case 'H':
			r.html = optarg;
			break;
		case 'L': {
			unsigned int n;

			if (parse_uint(optarg, 0, UINT32_MAX, &n)) {
				fprintf(stderr, "analyzer: report: bad --limit '%s'\n", optarg);
				return 2;
			}
			r.limit = n;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "analyzer: report: bad usage (analyzer report --help)\n");
			return 2;
		}
	}
	if (optind < argc)
		r.file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "analyzer: report: one FILE only (analyzer report --help)\n");
		return 2;
	}

	rd = dm_reader_open(r.file, r.source, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "analyzer: %s: %s\n", r.file, err);
		return 2;
	}
	r.spill = tmpfile();
	/* the cycles are members of the "cycles" array, two levels down */
	if (r.spill)
		dm_json_init(&r.spill_json, r.spill, 2, true);
	if (!r.spill) {
		fprintf(stderr, "analyzer: cannot create a temporary file\n");
		dm_reader_close(rd);
		return 2;
	}
	if (r.perfetto) {
		r.tl = dm_timeline_open(r.perfetto, err, sizeof(err));
		if (!r.tl) {
			fprintf(stderr, "analyzer: %s\n", err);
			fclose(r.spill);
			dm_reader_close(rd);
			return 2;
		}
		cfg.on_event = on_event;
	}
	if (r.html) {
		r.page = dm_html_open(r.html, err, sizeof(err));
		if (!r.page) {
			fprintf(stderr, "analyzer: %s\n", err);
			if (r.tl)
				dm_timeline_abort(r.tl);
			fclose(r.spill);
			dm_reader_close(rd);
			return 2;
		}
		cfg.on_event = on_event;
	}
	cfg.ctx = &r;
	cfg.on_cycle = on_cycle;
	cfg.comm_of = dm_reader_comm;
	cfg.comm_ctx = rd;
	cfg.sym_of = dm_reader_sym;
	cfg.sym_ctx = rd;
	dm_reader_kconf(rd, &cfg.kconf);
	cfg.batched = dm_reader_batched(rd);
	r.a = dm_analysis_new(&cfg);
	if (!r.a) {
		fprintf(stderr, "analyzer: out of memory\n");
		if (r.tl)
			dm_timeline_abort(r.tl);
		if (r.page)
			dm_html_abort(r.page);
		fclose(r.spill);
		dm_reader_close(rd);
		return 2;
	}
	if (dm_reader_run(rd, r.a, err, sizeof(err))) {
		fprintf(stderr, "analyzer: %s: %s\n", r.file, err);
		ret = 2;
		goto out;
	}
	dm_analysis_finish(r.a);
	if (!dm_analysis_result(r.a)->dmirror_events && !dm_analysis_result(r.a)->kernel_events) {
		const char *what = dm_reader_stats(rd)->source == DM_SOURCE_KERNEL ? "kernel-probe" : "dmirror";

		fprintf(stderr, "analyzer: %s: the trace has the %s event formats but no %s event happened\n",
			r.file, what, what);
		ret = 2;
		goto out;
	}
	if (r.spill_failed) {
		fprintf(stderr, "analyzer: cannot write the temporary cycle list\n");
		ret = 2;
		goto out;
	}
	if (r.tl) {
		struct dm_timeline *tl = r.tl;

		r.tl = NULL;
		if (dm_timeline_close(tl, r.a, err, sizeof(err))) {
			fprintf(stderr, "analyzer: %s\n", err);
			ret = 2;
			goto out;
		}
	}
	judge(dm_analysis_result(r.a), dm_reader_stats(rd), dm_reader_info(rd), &v);
	if (r.page && write_page(&r, rd, &v, err, sizeof(err))) {
		fprintf(stderr, "analyzer: %s\n", err);
		ret = 2;
		goto out;
	}
	if (r.json)
		print_json(&r, stdout, dm_reader_stats(rd), dm_reader_info(rd), &v);
	else
		print_text(&r, stdout, dm_reader_stats(rd), dm_reader_info(rd), &v);
	fflush(stdout);
	if (v.incomplete)
		fprintf(stderr, "analyzer: warning: %s: events were lost; the analysis is incomplete\n", r.file);
	ret = (v.problems || v.incomplete || dm_analysis_failed(r.a)) ? 1 : 0;
out:
	if (r.tl)
		dm_timeline_abort(r.tl);
	if (r.page)
		dm_html_abort(r.page);
	dm_analysis_free(r.a);
	fclose(r.spill);
	dm_reader_close(rd);
	return ret;
}
