// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "events.h"
#include "reader.h"
#include "ringread.h"

struct dm_reader {
	uint64_t *page_lost, *stats_lost;	/* per CPU */
	unsigned int nlost, npage_lost;
	struct tracecmd_input *h;	/* libtracecmd's reading, or */
	struct dm_ring *ring;		/* ours (ringread.h) */
	struct tep_handle *tep;
	struct dm_decoder *dec;
	struct dm_analysis *a;
	struct dat_info info;
	struct dm_read_stats st;
	/* the kernel-probe source's metadata */
	struct dm_kconf kc;
	char **sym;		/* sym[token - 1], from "sym.N: text" lines */
	size_t nsym;
};

/* "key: value" of the metadata, copied into out; false if absent. */
static bool meta_get(const char *meta, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);

	for (const char *p = meta; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > kl && !strncmp(p, key, kl) && p[kl] == ':') {
			const char *v = p + kl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
			return true;
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static void read_kernel_meta(struct dm_reader *r)
{
	const char *meta = r->info.meta;
	char v[256];

	if (meta_get(meta, "probes.swp_private", v, sizeof(v)))
		sscanf(v, "%u %u", &r->kc.swp_private[0], &r->kc.swp_private[1]);
	if (meta_get(meta, "probes.swp_exclusive", v, sizeof(v)))
		sscanf(v, "%u %u", &r->kc.swp_exclusive[0], &r->kc.swp_exclusive[1]);
	if (meta_get(meta, "probes.placed", v, sizeof(v))) {
		char padded[sizeof(v) + 2];

		snprintf(padded, sizeof(padded), " %s ", v);
		r->kc.no_pages_probe = !strstr(padded, " mv_pages ");
	}
	if (meta_get(meta, "probes.page_shift", v, sizeof(v)))
		sscanf(v, "%u", &r->kc.page_shift);
	if (r->kc.page_shift < 12 || r->kc.page_shift > 16)
		r->kc.page_shift = 0;
	for (const char *p = meta; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		unsigned long tok;
		int off = 0;

		if (sscanf(p, "sym.%lu: %n", &tok, &off) == 1 && off && tok && tok <= 1u << 20) {
			if (tok > r->nsym) {
				char **ns = realloc(r->sym, tok * sizeof(*ns));

				if (!ns)
					return;
				memset(ns + r->nsym, 0, (tok - r->nsym) * sizeof(*ns));
				r->sym = ns;
				r->nsym = tok;
			}
			free(r->sym[tok - 1]);
			r->sym[tok - 1] = strndup(p + off, len - (size_t)off);
		}
		p = nl ? nl + 1 : NULL;
	}
}

const char *dm_reader_sym(void *reader, uint64_t token)
{
	struct dm_reader *r = reader;

	if (!r || !token || token > r->nsym)
		return NULL;
	return r->sym[token - 1];
}

bool dm_reader_batched(const struct dm_reader *r)
{
	return dm_decoder_has(r->dec, DM_EV_BATCH);
}

void dm_reader_kconf(const struct dm_reader *r, struct dm_kconf *kc)
{
	*kc = r->kc;
}

void dm_parse_cpustats(const char *text, uint64_t *overrun, uint64_t *dropped,
		       uint64_t *per_cpu, unsigned int n)
{
	const char *p = text;
	long cpu = -1;

	*overrun = *dropped = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		uint64_t v = 0;

		if (!strncmp(p, "CPU:", 4))
			cpu = strtol(p + 4, NULL, 10);
		else if (!strncmp(p, "overrun:", 8))
			*overrun += (v = strtoull(p + 8, NULL, 10));
		else if (!strncmp(p, "dropped events:", 15))
			*dropped += (v = strtoull(p + 15, NULL, 10));
		if (v && per_cpu && cpu >= 0 && (unsigned long)cpu < n)
			per_cpu[cpu] += v;
		p = nl ? nl + 1 : NULL;
	}
}

static void cpu_lost_grow(struct dm_reader *r, unsigned int cpus)
{
	uint64_t *n;

	if (cpus <= r->st.ncpu_lost || cpus > 65536)
		return;
	n = realloc(r->st.cpu_lost, cpus * sizeof(*n));
	if (!n)
		return;
	memset(n + r->st.ncpu_lost, 0, (cpus - r->st.ncpu_lost) * sizeof(*n));
	r->st.cpu_lost = n;
	r->st.ncpu_lost = cpus;
}

/*
 * libtracecmd prints some things to stdout ("CPU 1 is empty", "File
 * possibly truncated"): keep our stdout for our report.
 */
static int quiet_stdout(void)
{
	int save, null;

	fflush(stdout);
	save = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (save >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	return save;
}

static void restore_stdout(int save)
{
	if (save < 0)
		return;
	fflush(stdout);
	dup2(save, STDOUT_FILENO);
	close(save);
}

/*
 * In the probe child a crash is the answer the probe is there for: the
 * child dies of its signal, and no core file is left.  Under the
 * sanitizers (the tests, the fuzz build) their handler would otherwise
 * take it first and report it as a finding, although the parent turns it
 * into a clear error; memory errors they catch without a signal are
 * still reported.  libtraceevent 1.7, for one, divides by zero while it
 * folds a print fmt's constant "x % 0".
 */
static void die_plainly_of_a_crash(void)
{
	static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct rlimit no_core = { 0, 0 };

	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		signal(crash_signals[i], SIG_DFL);
	setrlimit(RLIMIT_CORE, &no_core);
}

/* What the probe child tries: the open the parent will do. */
static int try_tracecmd(const char *path, const struct dat_info *info)
{
	struct tracecmd_input *h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);

	(void)info;
	if (!h)
		return -1;
	tracecmd_close(h);
	return 0;
}

static int try_ring(const char *path, const struct dat_info *info)
{
	char err[256];
	struct dm_ring *ring = dm_ring_open(path, info, err, sizeof(err));

	if (!ring)
		return -1;
	dm_ring_close(ring);
	return 0;
}

/*
 * libtracecmd 3.1 can crash on some corrupt headers (e.g. in the clean-up
 * of a failed tracecmd_open), and libtraceevent on some formats (it
 * divides by a constant zero it folds): the headers were checked
 * already, but a crash must never be what a user sees: try the open in
 * a child first.  0 ok, 1 the open failed, 2 it crashed.  The fuzz build
 * (DM_PROBE_STDERR) lets the child's sanitizer reports through: a memory
 * error that does not crash would otherwise go unseen here, and happen
 * again in the parent's own open.
 */
static int probe_open(const char *path, const struct dat_info *info,
		      int (*try_open)(const char *path, const struct dat_info *info))
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	/* a SIGCHLD ignored by our parent would reap the child unseen */
	signal(SIGCHLD, SIG_DFL);
	pid = fork();
	if (pid < 0)
		return 0;	/* cannot probe: go on */
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		die_plainly_of_a_crash();

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
#ifndef DM_PROBE_STDERR
			dup2(null, STDERR_FILENO);
#endif
		}
		_exit(try_open(path, info) ? 3 : 0);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 0;	/* gone without a status: no verdict, go on */
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 0 ? 0 : 1;
	return 2;
}

/*
 * Our own reading of the pages when the file allows it (ringread.h);
 * DMIRROR_READER=libtracecmd asks for libtracecmd's, which the tests
 * hold ours to.
 */
static bool use_ring(const struct dat_info *info)
{
	const char *want = getenv("DMIRROR_READER");

	return dm_ring_can_read(info) && !(want && !strcmp(want, "libtracecmd"));
}

static int open_ring(struct dm_reader *r, const char *path, char *err, size_t errlen)
{
	switch (probe_open(path, &r->info, try_ring)) {
	case 1:
		snprintf(err, errlen, "cannot read its event formats or pages");
		return -1;
	case 2:
		snprintf(err, errlen, "corrupt trace.dat: libtraceevent crashes parsing its event formats");
		return -1;
	}
	r->ring = dm_ring_open(path, &r->info, err, errlen);
	if (!r->ring)
		return -1;
	r->tep = dm_ring_tep(r->ring);
	r->st.reader = "pages";
	return 0;
}

static int open_tracecmd(struct dm_reader *r, const char *path, char *err, size_t errlen)
{
	int save;

	tracecmd_set_loglevel(TEP_LOG_NONE);
	switch (probe_open(path, &r->info, try_tracecmd)) {
	case 1:
		snprintf(err, errlen, "libtracecmd cannot read it: corrupt or unsupported trace.dat");
		return -1;
	case 2:
		snprintf(err, errlen, "corrupt trace.dat: libtracecmd crashes reading its headers");
		return -1;
	}
	save = quiet_stdout();
	r->h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	restore_stdout(save);
	if (!r->h) {
		snprintf(err, errlen, "libtracecmd cannot read it: corrupt or unsupported trace.dat");
		return -1;
	}
	r->tep = tracecmd_get_tep(r->h);
	r->st.reader = "libtracecmd";
	return 0;
}

struct dm_reader *dm_reader_open(const char *path, enum dm_source source, char *err, size_t errlen)
{
	struct dm_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dat_scan(path, &r->info, err, errlen)) {
		free(r);
		return NULL;
	}
	if (r->info.version == 6 && !r->info.has_dmirror_formats && !r->info.has_kernel_formats) {
		snprintf(err, errlen, DM_NO_EVENTS_MSG);
		goto fail;
	}
	tep_set_loglevel(TEP_LOG_NONE);
	if (use_ring(&r->info) ? open_ring(r, path, err, errlen) :
				 open_tracecmd(r, path, err, errlen))
		goto fail;
	r->dec = dm_decoder_new(r->tep, source, err, errlen);
	if (!r->dec)
		goto fail;
	read_kernel_meta(r);
	r->st.cpus = r->info.cpus;	/* v7: counted from the records */
	r->st.source = dm_decoder_source(r->dec);
	r->st.dmirror_formats = dm_decoder_dmirror_formats(r->dec);
	r->st.kernel_formats = dm_decoder_kernel_formats(r->dec);
	r->st.sched_formats = dm_decoder_sched_formats(r->dec);
	{
		/* v6 only: libtracecmd 3.1 does not export v7's */
		const char *cs = r->info.cpustats;

		cpu_lost_grow(r, r->info.cpus);
		if (cs) {
			r->st.have_cpustats = true;
			dm_parse_cpustats(cs, &r->st.stats_overrun, &r->st.stats_dropped,
					  r->st.cpu_lost, r->st.ncpu_lost);
		}
		/* stats-based counts; the page-based ones are compared as read */
		if (r->st.ncpu_lost) {
			r->stats_lost = calloc(r->st.ncpu_lost, sizeof(uint64_t));
			if (r->stats_lost)
				memcpy(r->stats_lost, r->st.cpu_lost,
				       r->st.ncpu_lost * sizeof(uint64_t));
			r->nlost = r->stats_lost ? r->st.ncpu_lost : 0;
		}
	}
	return r;
fail:
	dm_reader_close(r);
	return NULL;
}

static uint64_t *page_lost_slot(struct dm_reader *r, int cpu)
{
	if ((unsigned int)cpu >= r->st.ncpu_lost)
		return NULL;
	if (!r->page_lost) {
		r->page_lost = calloc(r->st.ncpu_lost, sizeof(uint64_t));
		if (!r->page_lost)
			return NULL;
		r->npage_lost = r->st.ncpu_lost;
	} else if (r->npage_lost < r->st.ncpu_lost) {
		uint64_t *n = realloc(r->page_lost, r->st.ncpu_lost * sizeof(uint64_t));

		if (!n)
			return NULL;
		memset(n + r->npage_lost, 0, (r->st.ncpu_lost - r->npage_lost) * sizeof(uint64_t));
		r->page_lost = n;
		r->npage_lost = r->st.ncpu_lost;
	}
	return &r->page_lost[cpu];
}

/* One record of either reading: counted, its losses noted, decoded, fed. */
static void feed_record(struct dm_reader *r, const struct tep_record *rec, int cpu)
{
	struct dm_event ev;
	int k;

	r->st.records++;
	if (cpu >= 0 && (unsigned int)cpu >= r->st.cpus)
		r->st.cpus = (unsigned int)cpu + 1;
	if (rec->missed_events) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = DM_EV_LOST;
		ev.ts = rec->ts;
		ev.cpu = cpu;
		ev.lost.count = rec->missed_events > 0 ? rec->missed_events : -1;
		r->st.missed_pages++;
		if (rec->missed_events > 0)
			r->st.missed_events += (uint64_t)rec->missed_events;
		else
			r->st.missed_unknown++;
		cpu_lost_grow(r, (unsigned int)cpu + 1);
		if (rec->missed_events > 0 && (unsigned int)cpu < r->st.ncpu_lost) {
			uint64_t *pl = page_lost_slot(r, cpu);

			if (pl) {
				uint64_t sl = (unsigned int)cpu < r->nlost ? r->stats_lost[cpu] : 0;

				*pl += (uint64_t)rec->missed_events;
				r->st.cpu_lost[cpu] = *pl > sl ? *pl : sl;
			}
		}
		dm_analysis_feed(r->a, &ev);
	}
	k = dm_decode(r->dec, rec, &ev);
	if (k > 0) {
		r->st.fed++;
		dm_analysis_feed(r->a, &ev);
	} else if (k < 0) {
		r->st.bad_records++;
	}
}

static int record_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	(void)h;
	feed_record(data, rec, cpu);
	return 0;
}

static void run_ring(struct dm_reader *r)
{
	const struct tep_record *rec;

	while ((rec = dm_ring_next(r->ring)))
		feed_record(r, rec, rec->cpu);
	r->st.bad_records += dm_ring_bad(r->ring);
}

int dm_reader_run(struct dm_reader *r, struct dm_analysis *a, char *err, size_t errlen)
{
	int save, ret;

	r->a = a;
	if (r->ring) {
		run_ring(r);
		return 0;
	}
	save = quiet_stdout();
	ret = tracecmd_iterate_events(r->h, NULL, 0, record_cb, r);
	restore_stdout(save);
	if (ret < 0) {
		snprintf(err, errlen, "reading the events failed");
		return -1;
	}
	return 0;
}

const char *dm_reader_comm(void *reader, int pid)
{
	struct dm_reader *r = reader;
	const char *c;

	if (!r || !r->tep)
		return NULL;
	c = tep_data_comm_from_pid(r->tep, pid);
	if (!c || !strcmp(c, "<...>"))
		return NULL;
	return c;
}

const struct dm_read_stats *dm_reader_stats(const struct dm_reader *r)
{
	return &r->st;
}

const struct dat_info *dm_reader_info(const struct dm_reader *r)
{
	return &r->info;
}

void dm_reader_close(struct dm_reader *r)
{
	if (!r)
		return;
	dm_decoder_free(r->dec);
	if (r->h)
		tracecmd_close(r->h);
	dm_ring_close(r->ring);
	dat_info_free(&r->info);
	for (size_t i = 0; i < r->nsym; i++)
		free(r->sym[i]);
	free(r->sym);
	free(r->st.cpu_lost);
	free(r->page_lost);
	free(r->stats_lost);
	free(r);
}
