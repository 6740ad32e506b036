// SPDX-License-Identifier: GPL-2.0
/*
 * Chrome trace-event JSON from the engine's events (perfetto.h): the
 * "Trace Event Format" that chrome://tracing defined and Perfetto
 * imports.  ts and dur are microseconds, written with nanosecond digits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "hmap.h"
#include "json.h"
#include "outfile.h"
#include "output.h"
#include "perfetto.h"

#define TL_DEVS 64	/* devices with counters of their own; others add to the last */

/* A thread drawn, its process and name as of its last event, and its
 * migration open since its setup event. */
struct tl_thread {
	int32_t tid, pid;
	char comm[DM_COMM_LEN];
	bool open;
	uint64_t setup_ts;
	struct dm_event setup;
};

struct dm_timeline {
	struct dm_outfile out;
	struct dm_json j;
	struct hmap by_tid;	/* tid -> index in threads */
	struct pool threads;
	int64_t in_use[TL_DEVS], shadow[TL_DEVS];
	bool oom;
};

struct dm_timeline *dm_timeline_open(const char *path, char *err, size_t errlen)
{
	struct dm_timeline *t = calloc(1, sizeof(*t));

	if (!t || hmap_init(&t->by_tid, 64)) {
		snprintf(err, errlen, "out of memory");
		free(t);
		return NULL;
	}
	pool_init(&t->threads, sizeof(struct tl_thread));
	if (dm_outfile_open(&t->out, path, err, errlen)) {
		hmap_free(&t->by_tid);
		pool_free(&t->threads);
		free(t);
		return NULL;
	}
	dm_json_init(&t->j, t->out.f, 0, true);
	dm_json_object(&t->j, NULL, true);
	dm_json_str(&t->j, "displayTimeUnit", "ns");
	dm_json_array(&t->j, "traceEvents", true);
	return t;
}

static struct tl_thread *thread_of(struct dm_timeline *t, int32_t tid)
{
	uint32_t i = hmap_get(&t->by_tid, (uint64_t)(uint32_t)tid, 0);
	struct tl_thread *th;

	if (i == HMAP_NONE) {
		i = pool_alloc(&t->threads);
		if (i == HMAP_NONE || hmap_put(&t->by_tid, (uint64_t)(uint32_t)tid, 0, i)) {
			t->oom = true;
			return NULL;
		}
		th = pool_at(&t->threads, i);
		th->tid = tid;
	}
	return pool_at(&t->threads, i);
}

/* The common members of an event; the caller adds the rest and ends it. */
static void event_start(struct dm_timeline *t, struct dm_analysis *a, const char *ph,
			const char *name, int32_t tid, uint64_t ts)
{
	struct tl_thread *th = thread_of(t, tid);
	int32_t pid = dm_analysis_tgid(a, tid);

	if (pid <= 0)
		pid = tid;
	if (th) {
		th->pid = pid;
		snprintf(th->comm, sizeof(th->comm), "%s", dm_analysis_comm(a, tid));
	}
	dm_json_object(&t->j, NULL, false);
	dm_json_str(&t->j, "ph", ph);
	dm_json_str(&t->j, "name", name);
	dm_json_str(&t->j, "cat", "dmirror");
	dm_json_milli(&t->j, "ts", ts);
	dm_json_i64(&t->j, "pid", pid);
	dm_json_i64(&t->j, "tid", tid);
}

static const char *dir_name(uint8_t dir)
{
	return dir == DM_DIR_TO_DEV ? "to_dev" : "to_ram";
}

static void migration_slice(struct dm_timeline *t, struct dm_analysis *a, struct tl_thread *th,
			    const struct dm_event *fin)
{
	const struct dm_event *s = &th->setup;
	char name[64];

	snprintf(name, sizeof(name), "migrate %s%s", dir_name(s->setup.dir),
		 s->setup.fault ? " (fault)" : "");
	event_start(t, a, "X", name, th->tid, th->setup_ts);
	dm_json_milli(&t->j, "dur", fin->ts - th->setup_ts);
	dm_json_object(&t->j, "args", false);
	dm_json_u64(&t->j, "dev", s->setup.dev);
	dm_json_hex(&t->j, "start", s->setup.start);
	dm_json_hex(&t->j, "end", s->setup.end);
	dm_json_u64(&t->j, "requested", s->setup.npages);
	dm_json_u64(&t->j, "collected", s->setup.cpages);
	dm_json_u64(&t->j, "migrated", fin->fin.migrated);
	if (s->setup.kernel && s->setup.caller)
		dm_json_str(&t->j, "caller", dm_analysis_sym(a, s->setup.caller));
	dm_json_end(&t->j);
	dm_json_end(&t->j);
	th->open = false;
}

static void counter(struct dm_timeline *t, const char *name, uint64_t ts, uint32_t dev, int64_t v)
{
	char key[16];

	snprintf(key, sizeof(key), "dev%u", dev);
	dm_json_object(&t->j, NULL, false);
	dm_json_str(&t->j, "ph", "C");
	dm_json_str(&t->j, "name", name);
	dm_json_milli(&t->j, "ts", ts);
	dm_json_i64(&t->j, "pid", 0);
	dm_json_i64(&t->j, "tid", 0);
	dm_json_object(&t->j, "args", false);
	dm_json_i64(&t->j, key, v);
	dm_json_end(&t->j);
	dm_json_end(&t->j);
}

static void pages_in_use(struct dm_timeline *t, uint64_t ts, uint32_t dev, int64_t delta)
{
	uint32_t d = dev < TL_DEVS ? dev : TL_DEVS - 1;

	t->in_use[d] += delta;
	counter(t, "device pages in use", ts, d, t->in_use[d]);
}

static void shadow_live(struct dm_timeline *t, uint64_t ts, uint32_t dev, int64_t delta)
{
	uint32_t d = dev < TL_DEVS ? dev : TL_DEVS - 1;

	t->shadow[d] += delta;
	counter(t, "shadow pages live", ts, d, t->shadow[d]);
}

static void fault_mark(struct dm_timeline *t, struct dm_analysis *a, const struct dm_event *ev)
{
	bool progress = ev->fault.migrated > 0;

	event_start(t, a, "i", progress ? "CPU fault" : "CPU fault, no progress", ev->tid, ev->ts);
	dm_json_str(&t->j, "s", "t");
	/* the colour Perfetto and chrome://tracing give each kind */
	dm_json_str(&t->j, "cname", progress ? "good" : "terrible");
	dm_json_object(&t->j, "args", false);
	dm_json_u64(&t->j, "dev", ev->fault.dev);
	dm_json_hex(&t->j, "addr", ev->fault.addr);
	dm_json_u64(&t->j, "migrated", ev->fault.migrated);
	dm_json_bool(&t->j, "progress", progress);
	if (ev->fault.kernel && ev->fault.callback)
		dm_json_str(&t->j, "callback", dm_analysis_sym(a, ev->fault.callback));
	dm_json_end(&t->j);
	dm_json_end(&t->j);
}

void dm_timeline_event(struct dm_timeline *t, struct dm_analysis *a, const struct dm_event *ev)
{
	struct tl_thread *th;
	uint64_t n;

	if (ev->tid <= 0)
		return;
	switch (ev->kind) {
	case DM_EV_SETUP:
		th = thread_of(t, ev->tid);
		if (!th)
			break;
		if (ev->setup.ret < 0) {
			event_start(t, a, "i", "migrate_vma_setup failed", ev->tid, ev->ts);
			dm_json_str(&t->j, "s", "t");
			dm_json_object(&t->j, "args", false);
			dm_json_i64(&t->j, "ret", ev->setup.ret);
			dm_json_end(&t->j);
			dm_json_end(&t->j);
			break;
		}
		th->open = true;
		th->setup_ts = ev->ts;
		th->setup = *ev;
		break;
	case DM_EV_FINALIZE:
		th = thread_of(t, ev->tid);
		if (th && th->open)
			migration_slice(t, a, th, ev);
		break;
	case DM_EV_COPY:
		if (ev->copy.dir != DM_DIR_TO_DEV)
			break;
		n = dm_order_pages(ev->copy.order);
		pages_in_use(t, ev->ts, ev->copy.dev, (int64_t)n);
		if (ev->copy.shadow_pfn)
			shadow_live(t, ev->ts, ev->copy.dev, (int64_t)n);
		break;
	case DM_EV_DEVPAGE:
		pages_in_use(t, ev->ts, 0, (int64_t)dm_order_pages(ev->devpage.order));
		break;
	case DM_EV_FREE:
		n = dm_order_pages(ev->free.order);
		pages_in_use(t, ev->ts, ev->free.dev, -(int64_t)n);
		if (ev->free.released && ev->free.shadow_pfn)
			shadow_live(t, ev->ts, ev->free.dev, -(int64_t)n);
		break;
	case DM_EV_FAULT:
		fault_mark(t, a, ev);
		break;
	default:
		break;
	}
}

static void loop_slices(struct dm_timeline *t, struct dm_analysis *a, const struct dm_result *r)
{
	char cause[512], end[256], name[64];

	for (size_t i = 0; i < r->nloops; i++) {
		const struct dm_loop *l = &r->loops[i];

		snprintf(name, sizeof(name), "fault loop at 0x%" PRIx64, l->addr);
		dm_describe_cause(l, cause, sizeof(cause));
		dm_describe_end(l, end, sizeof(end));
		/* async: a loop spans the thread's own migration slices */
		event_start(t, a, "b", name, l->pid, l->first_ts);
		dm_json_u64(&t->j, "id", i + 1);
		dm_json_str(&t->j, "cname", "terrible");
		dm_json_object(&t->j, "args", false);
		dm_json_hex(&t->j, "addr", l->addr);
		dm_json_u64(&t->j, "dev", l->dev);
		dm_json_u64(&t->j, "faults", l->count);
		dm_json_milli(&t->j, "duration_us", l->last_ts - l->first_ts);
		dm_json_str(&t->j, "cause", dm_cause_name(dm_loop_cause(l)));
		dm_json_str(&t->j, "cause_text", cause);
		dm_json_str(&t->j, "end", end);
		if (l->kernel && l->callback)
			dm_json_str(&t->j, "callback", dm_analysis_sym(a, l->callback));
		dm_json_end(&t->j);
		dm_json_end(&t->j);
		event_start(t, a, "e", name, l->pid, l->last_ts);
		dm_json_u64(&t->j, "id", i + 1);
		dm_json_end(&t->j);
	}
}

static void leak_marks(struct dm_timeline *t, struct dm_analysis *a, const struct dm_result *r)
{
	for (size_t i = 0; i < r->nleaks; i++) {
		const struct dm_leak *l = &r->leaks[i];
		bool devpage = l->kind == DM_LEAK_DEVPAGE;

		if (!l->alloc_known || l->pid <= 0)
			continue;	/* allocated before the trace: no place on it */
		event_start(t, a, "i", devpage ? "leaked device page allocated" :
			    "leaked shadow page allocated", l->pid, l->alloc_ts);
		dm_json_str(&t->j, "s", "p");
		dm_json_object(&t->j, "args", false);
		dm_json_str(&t->j, "kind", dm_leak_kind_name(l->kind));
		dm_json_u64(&t->j, "dev", l->dev);
		dm_json_u64(&t->j, "pages", l->npages);
		if (l->addr)
			dm_json_hex(&t->j, "addr", l->addr);
		if (!devpage)
			dm_json_hex(&t->j, "dev_pfn", l->dev_pfn);
		dm_json_milli(&t->j, "freed_or_exited_at_us", l->free_ts);
		dm_json_end(&t->j);
		dm_json_end(&t->j);
	}
}

static void name_event(struct dm_timeline *t, const char *what, int32_t pid, int32_t tid,
		       const char *name)
{
	dm_json_object(&t->j, NULL, false);
	dm_json_str(&t->j, "ph", "M");
	dm_json_str(&t->j, "name", what);
	dm_json_u64(&t->j, "ts", 0);
	dm_json_i64(&t->j, "pid", pid);
	dm_json_i64(&t->j, "tid", tid);
	dm_json_object(&t->j, "args", false);
	dm_json_str(&t->j, "name", name);
	dm_json_end(&t->j);
	dm_json_end(&t->j);
}

/*
 * A name for every thread drawn, and for its process once (its main
 * thread's name when that was drawn too), and for pid 0.
 */
static void names(struct dm_timeline *t)
{
	struct hmap named;

	name_event(t, "process_name", 0, 0, "dmirror devices (counters)");
	if (hmap_init(&named, 64)) {
		t->oom = true;
		return;
	}
	for (int main_only = 1; main_only >= 0; main_only--) {
		for (uint32_t i = 0; i < t->threads.n; i++) {
			const struct tl_thread *th = pool_at(&t->threads, i);

			if (!th->pid || (main_only && th->pid != th->tid))
				continue;
			if (main_only)
				name_event(t, "thread_name", th->pid, th->tid, th->comm);
			else if (th->pid != th->tid)
				name_event(t, "thread_name", th->pid, th->tid, th->comm);
			if (hmap_get(&named, (uint64_t)(uint32_t)th->pid, 0) != HMAP_NONE)
				continue;
			if (hmap_put(&named, (uint64_t)(uint32_t)th->pid, 0, 0))
				t->oom = true;
			name_event(t, "process_name", th->pid, th->pid, th->comm);
		}
	}
	hmap_free(&named);
}

static void timeline_free(struct dm_timeline *t)
{
	hmap_free(&t->by_tid);
	pool_free(&t->threads);
	free(t);
}

int dm_timeline_close(struct dm_timeline *t, struct dm_analysis *a, char *err, size_t errlen)
{
	const struct dm_result *r = dm_analysis_result(a);
	int ret;

	loop_slices(t, a, r);
	leak_marks(t, a, r);
	names(t);
	dm_json_end(&t->j);	/* traceEvents */
	dm_json_object(&t->j, "otherData", false);
	dm_json_str(&t->j, "producer", "dmirror analyzer report --perfetto");
	dm_json_u64(&t->j, "fault_loops", r->nloops);
	dm_json_u64(&t->j, "leaks", r->nleaks);
	dm_json_bool(&t->j, "complete", !r->incomplete);
	dm_json_end(&t->j);
	dm_json_end(&t->j);
	fputc('\n', t->out.f);
	ret = dm_outfile_close(&t->out, t->oom, err, errlen);
	timeline_free(t);
	return ret;
}

void dm_timeline_abort(struct dm_timeline *t)
{
	dm_outfile_abort(&t->out);
	timeline_free(t);
}
