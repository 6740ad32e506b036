// SPDX-License-Identifier: GPL-2.0
/*
 * The --html page (html.h).  Everything is drawn at the end, from bins
 * filled as the events stream by: a bin is bw ns of the trace, and when
 * the trace outgrows DM_HTML_BINS bins, bw doubles and neighbouring bins
 * merge, so memory is a fixed table per process row.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "html.h"
#include "outfile.h"
#include "output.h"

#define NB		DM_HTML_BINS
#define LAT_BUCKETS	40	/* fault service time: 2^k ns, k < 40 */

/* What fell in one bin of one process row. */
struct bin {
	uint32_t to_dev, to_ram;		/* migration calls spanning it */
	uint32_t fault_ok, fault_bad;		/* CPU faults that moved pages, or none */
};

struct row {
	int32_t pid;		/* 0: the row of every process past DM_HTML_ROWS */
	char comm[DM_COMM_LEN];
	struct bin bins[NB];
};

/* A level over time: the highest it reached in each bin. */
struct level {
	int64_t now;
	int64_t max[NB];
	bool set[NB];
};

struct dm_html {
	struct dm_outfile out;
	bool started;
	uint64_t t0, bw;	/* the first event; ns per bin */
	uint32_t used;		/* bins in use */
	struct row *rows;
	uint32_t nrows;
	struct level in_use, shadow;
	uint64_t lat[LAT_BUCKETS];
	bool oom;
};

struct dm_html *dm_html_open(const char *path, char *err, size_t errlen)
{
	struct dm_html *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dm_outfile_open(&h->out, path, err, errlen)) {
		free(h);
		return NULL;
	}
	h->bw = 1000;
	return h;
}

static void merge_level(struct level *l)
{
	for (uint32_t i = 0; i < NB / 2; i++) {
		bool a = l->set[2 * i], b = l->set[2 * i + 1];
		int64_t x = l->max[2 * i], y = l->max[2 * i + 1];

		l->set[i] = a || b;
		l->max[i] = a && b ? (x > y ? x : y) : a ? x : y;
	}
	memset(l->set + NB / 2, 0, sizeof(l->set[0]) * NB / 2);
}

static void merge_bins(struct dm_html *h)
{
	for (uint32_t r = 0; r < h->nrows; r++) {
		struct bin *b = h->rows[r].bins;

		for (uint32_t i = 0; i < NB / 2; i++) {
			b[i].to_dev = b[2 * i].to_dev + b[2 * i + 1].to_dev;
			b[i].to_ram = b[2 * i].to_ram + b[2 * i + 1].to_ram;
			b[i].fault_ok = b[2 * i].fault_ok + b[2 * i + 1].fault_ok;
			b[i].fault_bad = b[2 * i].fault_bad + b[2 * i + 1].fault_bad;
		}
		memset(b + NB / 2, 0, sizeof(*b) * NB / 2);
	}
	merge_level(&h->in_use);
	merge_level(&h->shadow);
	h->bw *= 2;
	h->used = (h->used + 1) / 2;
}

/* The bin of ts, growing the bins as needed. */
static uint32_t bin_of(struct dm_html *h, uint64_t ts)
{
	uint64_t off = ts > h->t0 ? ts - h->t0 : 0;

	while (off / h->bw >= NB)
		merge_bins(h);
	if (off / h->bw + 1 > h->used)
		h->used = (uint32_t)(off / h->bw + 1);
	return (uint32_t)(off / h->bw);
}

static struct row *row_of(struct dm_html *h, struct dm_analysis *a, int32_t pid)
{
	struct row *r;

	for (uint32_t i = 0; i < h->nrows; i++)
		if (h->rows[i].pid == pid)
			return &h->rows[i];
	if (h->nrows == DM_HTML_ROWS) {
		/* the shared row: the last one, made pid 0 */
		r = &h->rows[DM_HTML_ROWS - 1];
		if (r->pid) {
			r->pid = 0;
			snprintf(r->comm, sizeof(r->comm), "(others)");
		}
		return r;
	}
	r = realloc(h->rows, sizeof(*r) * (h->nrows + 1));
	if (!r) {
		h->oom = true;
		return NULL;
	}
	h->rows = r;
	r = &h->rows[h->nrows++];
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	snprintf(r->comm, sizeof(r->comm), "%s", pid > 0 ? dm_analysis_comm(a, pid) : "(unknown)");
	return r;
}

static void level_add(struct dm_html *h, struct level *l, uint64_t ts, int64_t delta)
{
	uint32_t b = bin_of(h, ts);

	l->now += delta;
	if (!l->set[b] || l->now > l->max[b])
		l->max[b] = l->now;
	l->set[b] = true;
}

static void migration(struct dm_html *h, struct dm_analysis *a, const struct dm_event *ev)
{
	uint64_t start = ev->fin.has_duration && ev->fin.duration_ns < ev->ts ?
			 ev->ts - ev->fin.duration_ns : ev->ts;
	struct row *r;
	uint32_t b0, b1;
	int k;

	b1 = bin_of(h, ev->ts);	/* may merge the bins: start's after it */
	b0 = bin_of(h, start);
	r = row_of(h, a, dm_analysis_tgid(a, ev->tid));
	if (!r)
		return;
	for (uint32_t b = b0; b <= b1; b++) {
		if (ev->fin.dir == DM_DIR_TO_DEV)
			r->bins[b].to_dev++;
		else
			r->bins[b].to_ram++;
	}
	if (ev->fin.fault && ev->fin.has_duration) {
		for (k = 0; k < LAT_BUCKETS - 1 && (1ull << (k + 1)) <= ev->fin.duration_ns; k++)
			;
		h->lat[k]++;
	}
}

void dm_html_event(struct dm_html *h, struct dm_analysis *a, const struct dm_event *ev)
{
	struct row *r;
	uint32_t b;

	if (ev->kind == DM_EV_LOST)
		return;
	if (!h->started) {
		h->started = true;
		h->t0 = ev->ts;
	}
	switch (ev->kind) {
	case DM_EV_FINALIZE:
		migration(h, a, ev);
		break;
	case DM_EV_FAULT:
		b = bin_of(h, ev->ts);
		r = row_of(h, a, dm_analysis_tgid(a, ev->tid));
		if (r && ev->fault.migrated)
			r->bins[b].fault_ok++;
		else if (r)
			r->bins[b].fault_bad++;
		break;
	case DM_EV_COPY:
		if (ev->copy.dir != DM_DIR_TO_DEV)
			break;
		level_add(h, &h->in_use, ev->ts, (int64_t)dm_order_pages(ev->copy.order));
		if (ev->copy.shadow_pfn)
			level_add(h, &h->shadow, ev->ts, (int64_t)dm_order_pages(ev->copy.order));
		break;
	case DM_EV_DEVPAGE:
		level_add(h, &h->in_use, ev->ts, (int64_t)dm_order_pages(ev->devpage.order));
		break;
	case DM_EV_FREE:
		level_add(h, &h->in_use, ev->ts, -(int64_t)dm_order_pages(ev->free.order));
		if (ev->free.released && ev->free.shadow_pfn)
			level_add(h, &h->shadow, ev->ts, -(int64_t)dm_order_pages(ev->free.order));
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- drawing */

#define LABEL_W	150	/* px left of the bins */
#define ROW_H	46	/* a lane of LANE_H, and room for the labels of the loops in it */
#define LANE_H	30
#define CHART_H	120

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static double px_of(const struct dm_html *h, uint64_t ts)
{
	uint64_t off = ts > h->t0 ? ts - h->t0 : 0;
	double x = (double)off / (double)h->bw;

	return LABEL_W + (x > NB ? NB : x);
}

static void time_axis(struct dm_html *h, FILE *f, int y)
{
	double span = (double)h->bw * NB / 1e9;

	for (int i = 0; i <= 4; i++) {
		int x = LABEL_W + i * NB / 4;

		fprintf(f, "<line class=\"tick\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, y, x, y + 5);
		fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">+%.6f s</text>\n",
			x, y + 17, i == 4 ? "end" : i ? "middle" : "start", span * i / 4);
	}
}

static void row_bins(FILE *f, const struct row *r, int y)
{
	for (uint32_t b = 0; b < NB; b++) {
		const struct bin *x = &r->bins[b];
		int px = LABEL_W + (int)b;

		if (x->to_dev || x->to_ram)
			fprintf(f, "<rect class=\"mig %s\" x=\"%d\" y=\"%d\" width=\"1\" height=\"9\">"
				"<title>%u to_dev, %u to_ram migration calls</title></rect>",
				x->to_dev >= x->to_ram ? "to-dev" : "to-ram", px, y + 4, x->to_dev, x->to_ram);
		if (x->fault_ok || x->fault_bad)
			fprintf(f, "<rect class=\"fault %s\" x=\"%d\" y=\"%d\" width=\"1\" height=\"9\""
				" data-faults=\"%u\" data-no-progress=\"%u\">"
				"<title>%u CPU faults, %u without progress</title></rect>",
				x->fault_bad ? "no-progress" : "progress", px, y + 16,
				x->fault_ok + x->fault_bad, x->fault_bad, x->fault_ok + x->fault_bad,
				x->fault_bad);
	}
	fputc('\n', f);
}

/* the top of a row's lane; the 12 px above it are for loop labels */
static int row_y(struct dm_html *h, const struct row *r)
{
	return 22 + (int)(r - h->rows) * ROW_H;
}

static void loop_marks(struct dm_html *h, struct dm_analysis *a, FILE *f)
{
	const struct dm_result *res = dm_analysis_result(a);
	char cause[512];

	for (size_t i = 0; i < res->nloops && i < DM_HTML_MAX_MARKS; i++) {
		const struct dm_loop *l = &res->loops[i];
		struct row *r = row_of(h, a, l->pid);
		double x0 = px_of(h, l->first_ts), x1 = px_of(h, l->last_ts);

		if (!r)
			break;
		dm_describe_cause(l, cause, sizeof(cause));
		fprintf(f, "<g class=\"loop\" data-pid=\"%d\" data-addr=\"0x%" PRIx64 "\" data-count=\"%" PRIu64
			"\" data-cause=\"%s\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
			"<title>fault loop at 0x%" PRIx64 ": %" PRIu64 " faults in %.6f s; ", l->pid, l->addr,
			l->count, dm_cause_name(dm_loop_cause(l)), x0, row_y(h, r) + 1,
			x1 - x0 < 2 ? 2 : x1 - x0, LANE_H - 2, l->addr, l->count,
			(double)(l->last_ts - l->first_ts) / 1e9);
		esc(f, cause);
		fprintf(f, "</title></rect><text class=\"loop-label\" x=\"%.1f\" y=\"%d\">loop 0x%" PRIx64
			", %" PRIu64 " faults, %.6f s: %s</text></g>\n", x0 + 2, row_y(h, r) - 2, l->addr, l->count,
			(double)(l->last_ts - l->first_ts) / 1e9, dm_cause_name(dm_loop_cause(l)));
	}
}

static void leak_marks(struct dm_html *h, struct dm_analysis *a, FILE *f)
{
	const struct dm_result *res = dm_analysis_result(a);

	for (size_t i = 0; i < res->nleaks && i < DM_HTML_MAX_MARKS; i++) {
		const struct dm_leak *l = &res->leaks[i];
		struct row *r = row_of(h, a, l->pid);
		double x = l->alloc_known ? px_of(h, l->alloc_ts) : LABEL_W;
		int y;

		if (!r)
			break;
		y = row_y(h, r) + LANE_H - 6;
		fprintf(f, "<path class=\"leak\" data-kind=\"%s\" data-dev-pfn=\"0x%" PRIx64
			"\" d=\"M%.1f %d l-4 6 h8 z\"><title>leaked %s: dev %u dev_pfn 0x%" PRIx64
			", %" PRIu64 " page(s), %s</title></path>\n",
			dm_leak_kind_name(l->kind), l->dev_pfn, x, y,
			l->kind == DM_LEAK_DEVPAGE ? "device page" : "shadow page", l->dev, l->dev_pfn,
			l->npages, l->alloc_known ? "allocated here" : "allocated before the trace");
	}
}

static void timeline(struct dm_html *h, struct dm_analysis *a, FILE *f)
{
	const struct dm_result *res = dm_analysis_result(a);
	int height;

	/* rows for the processes of loops and leaks that drew nothing else */
	for (size_t i = 0; i < res->nloops && i < DM_HTML_MAX_MARKS; i++)
		row_of(h, a, res->loops[i].pid);
	for (size_t i = 0; i < res->nleaks && i < DM_HTML_MAX_MARKS; i++)
		row_of(h, a, res->leaks[i].pid);
	height = 22 + (int)h->nrows * ROW_H + 24;

	fprintf(f, "<h2>Timeline</h2>\n<p class=\"legend\"><span class=\"to-dev\">&#9632;</span> to the device "
		"<span class=\"to-ram\">&#9632;</span> back to RAM "
		"<span class=\"progress\">&#9632;</span> CPU fault that moved pages "
		"<span class=\"no-progress\">&#9632;</span> CPU fault without progress "
		"<span class=\"loopkey\">&#9633;</span> fault loop &#9650; leaked page "
		"(one column: %.3f us of the trace)</p>\n", (double)h->bw / 1000);
	fprintf(f, "<svg id=\"timeline\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		LABEL_W + NB + 10, height);
	for (uint32_t i = 0; i < h->nrows; i++) {
		const struct row *r = &h->rows[i];
		int y = row_y(h, r);

		fprintf(f, "<g class=\"proc\" data-pid=\"%d\"><text class=\"label\" x=\"4\" y=\"%d\">", r->pid,
			y + 20);
		if (r->pid > 0)
			fprintf(f, "%d ", r->pid);
		esc(f, r->comm);
		fprintf(f, "</text><rect class=\"lane\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
			LABEL_W, y, NB, LANE_H);
		row_bins(f, r, y);
		fprintf(f, "</g>\n");
	}
	loop_marks(h, a, f);
	leak_marks(h, a, f);
	time_axis(h, f, height - 24);
	fprintf(f, "</svg>\n");
}

static void level_line(struct dm_html *h, FILE *f, const struct level *l, const char *cls,
		       int64_t top)
{
	int64_t v = 0;

	fprintf(f, "<polyline class=\"%s\" points=\"", cls);
	for (uint32_t b = 0; b < h->used && b < NB; b++) {
		if (l->set[b])
			v = l->max[b];
		fprintf(f, "%d,%.1f ", LABEL_W + (int)b,
			10 + CHART_H - (top ? (double)v * CHART_H / (double)top : 0));
	}
	fprintf(f, "\"/>\n");
}

static int64_t level_top(const struct level *l)
{
	int64_t top = 0;

	for (uint32_t b = 0; b < NB; b++)
		if (l->set[b] && l->max[b] > top)
			top = l->max[b];
	return top;
}

static void levels(struct dm_html *h, FILE *f)
{
	int64_t a = level_top(&h->in_use), b = level_top(&h->shadow), top = a > b ? a : b;

	fprintf(f, "<h2>Device pages in use and shadow pages live</h2>\n<p class=\"legend\">"
		"<span class=\"in-use\">&#9632;</span> device pages in use (peak %" PRId64 ") "
		"<span class=\"shadow\">&#9632;</span> shadow pages live (peak %" PRId64 ")</p>\n", a, b);
	fprintf(f, "<svg id=\"levels\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		LABEL_W + NB + 10, CHART_H + 40);
	fprintf(f, "<text class=\"axis\" x=\"4\" y=\"16\">%" PRId64 " pages</text>"
		"<text class=\"axis\" x=\"4\" y=\"%d\">0</text>\n", top, 10 + CHART_H);
	fprintf(f, "<rect class=\"lane\" x=\"%d\" y=\"10\" width=\"%d\" height=\"%d\"/>\n", LABEL_W, NB,
		CHART_H);
	level_line(h, f, &h->in_use, "in-use", top);
	level_line(h, f, &h->shadow, "shadow", top);
	time_axis(h, f, 10 + CHART_H);
	fprintf(f, "</svg>\n");
}

static void histogram(struct dm_html *h, FILE *f)
{
	uint64_t top = 0, n = 0;
	int lo = LAT_BUCKETS, hi = -1, bw;

	for (int k = 0; k < LAT_BUCKETS; k++) {
		if (!h->lat[k])
			continue;
		n += h->lat[k];
		top = h->lat[k] > top ? h->lat[k] : top;
		lo = k < lo ? k : lo;
		hi = k;
	}
	fprintf(f, "<h2>Fault service time</h2>\n<p class=\"legend\">%" PRIu64
		" CPU faults on device pages, setup to finalize, in powers of two</p>\n", n);
	if (!n) {
		fprintf(f, "<p id=\"latency-none\">No fault was serviced in the trace.</p>\n");
		return;
	}
	bw = NB / (hi - lo + 1) > 60 ? 60 : NB / (hi - lo + 1);
	fprintf(f, "<svg id=\"latency\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		LABEL_W + NB + 10, CHART_H + 50);
	for (int k = lo; k <= hi; k++) {
		double hgt = (double)h->lat[k] * CHART_H / (double)top;
		int x = LABEL_W + (k - lo) * bw;

		fprintf(f, "<rect class=\"bar\" data-count=\"%" PRIu64 "\" x=\"%d\" y=\"%.1f\" width=\"%d\""
			" height=\"%.1f\"><title>%" PRIu64 " faults of %.3f to %.3f us</title></rect>",
			h->lat[k], x + 1, 10 + CHART_H - hgt, bw - 2, hgt, h->lat[k],
			(double)(1ull << k) / 1000, (double)(1ull << (k + 1)) / 1000);
		fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\">%.0f</text>\n", x + 2, CHART_H + 28,
			(double)(1ull << k) / 1000 < 1 ? 0 : (double)(1ull << k) / 1000);
	}
	fprintf(f, "<text class=\"axis\" x=\"4\" y=\"%d\">us, from</text></svg>\n", CHART_H + 28);
}

static const char style[] =
	"body{font:14px sans-serif;margin:1em 2em;color:#222}"
	"pre{font:12px monospace;background:#f6f6f6;padding:1em;overflow-x:auto}"
	".verdict{font-size:16px;font-weight:bold}"
	".label{font:12px monospace}.axis{font:11px sans-serif;fill:#555}.tick{stroke:#555}"
	".lane{fill:#fafafa;stroke:#ddd}"
	".mig.to-dev{fill:#3a6fd8}.mig.to-ram{fill:#2a9d5c}"
	".fault.progress{fill:#7bc67e}.fault.no-progress{fill:#d62728}"
	".loop rect{fill:rgba(214,39,40,.12);stroke:#d62728;stroke-width:1.5}"
	".loop-label{font:11px sans-serif;fill:#d62728}.leak{fill:#ff9800;stroke:#7a4800}"
	".in-use{fill:none;stroke:#3a6fd8;stroke-width:1.5}.shadow{fill:none;stroke:#ff9800;stroke-width:1.5}"
	".bar{fill:#3a6fd8}"
	"span.to-dev{color:#3a6fd8}span.to-ram{color:#2a9d5c}span.progress{color:#7bc67e}"
	"span.no-progress{color:#d62728}span.loopkey{color:#d62728}"
	"span.in-use{color:#3a6fd8}span.shadow{color:#ff9800}";

int dm_html_close(struct dm_html *h, struct dm_analysis *a, const char *title, const char *text,
		  char *err, size_t errlen)
{
	FILE *f = h->out.f;
	const char *v = strstr(text, "Verdict:");
	int ret;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>dmirror analyzer: ");
	esc(f, title);
	fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>dmirror analyzer report: ", style);
	esc(f, title);
	fprintf(f, "</h1>\n<p class=\"verdict\" id=\"verdict\">");
	if (v) {
		const char *e = strchr(v, '\n');
		char line[512];

		snprintf(line, sizeof(line), "%.*s", e ? (int)(e - v) : (int)strlen(v), v);
		esc(f, line);
	}
	fprintf(f, "</p>\n");
	timeline(h, a, f);
	levels(h, f);
	histogram(h, f);
	fprintf(f, "<h2>Report</h2>\n<pre id=\"report\">");
	esc(f, text);
	fprintf(f, "</pre>\n</body></html>\n");
	ret = dm_outfile_close(&h->out, h->oom, err, errlen);
	free(h->rows);
	free(h);
	return ret;
}

void dm_html_abort(struct dm_html *h)
{
	dm_outfile_abort(&h->out);
	free(h->rows);
	free(h);
}
