// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "events.h"
#include "reader.h"

struct dm_reader {
	uint64_t *page_lost, *stats_lost;	/* per CPU */
	unsigned int nlost, npage_lost;
	struct tracecmd_input *h;
	struct tep_handle *tep;
	struct dm_decoder *dec;
	struct dm_analysis *a;
	struct dat_info info;
	struct dm_read_stats st;
};

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
 * libtracecmd 3.1 can crash on some corrupt headers (e.g. in the clean-up
 * of a failed tracecmd_open).  The headers were checked already, but a
 * crash must never be what a user sees: try the open in a child first.
 * 0 ok, 1 libtracecmd refused the file, 2 it crashed.  The fuzz build
 * (DM_PROBE_STDERR) lets the child's sanitizer reports through: a memory
 * error that does not crash would otherwise go unseen here, and happen
 * again in the parent's own open.
 */
static int probe_open(const char *path)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return 0;	/* cannot probe: go on */
	if (pid == 0) {
		struct tracecmd_input *h;
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
#ifndef DM_PROBE_STDERR
			dup2(null, STDERR_FILENO);
#endif
		}
		h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
		if (!h)
			_exit(3);
		tracecmd_close(h);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 0 ? 0 : 1;
	return 2;
}

struct dm_reader *dm_reader_open(const char *path, char *err, size_t errlen)
{
	struct dm_reader *r = calloc(1, sizeof(*r));
	int save;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dat_scan(path, &r->info, err, errlen)) {
		free(r);
		return NULL;
	}
	if (r->info.version == 6 && !r->info.has_dmirror_formats) {
		snprintf(err, errlen, "no dmirror events in the trace (record with the dmirror module loaded: 'analyzer record' or 'trace-cmd record -e dmirror')");
		goto fail;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	switch (probe_open(path)) {
	case 1:
		snprintf(err, errlen, "libtracecmd cannot read it: corrupt or unsupported trace.dat");
		goto fail;
	case 2:
		snprintf(err, errlen, "corrupt trace.dat: libtracecmd crashes reading its headers");
		goto fail;
	}
	save = quiet_stdout();
	r->h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	restore_stdout(save);
	if (!r->h) {
		snprintf(err, errlen, "libtracecmd cannot read it: corrupt or unsupported trace.dat");
		goto fail;
	}
	r->tep = tracecmd_get_tep(r->h);
	r->dec = dm_decoder_new(r->tep, err, errlen);
	if (!r->dec)
		goto fail;
	r->st.cpus = r->info.cpus;	/* v7: counted from the records */
	r->st.dmirror_formats = dm_decoder_dmirror_formats(r->dec);
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

static int record_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct dm_reader *r = data;
	struct dm_event ev;
	int k;

	(void)h;
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
	return 0;
}

int dm_reader_run(struct dm_reader *r, struct dm_analysis *a, char *err, size_t errlen)
{
	int save, ret;

	r->a = a;
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
	dat_info_free(&r->info);
	free(r->st.cpu_lost);
	free(r->page_lost);
	free(r->stats_lost);
	free(r);
}
