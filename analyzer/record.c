// SPDX-License-Identifier: GPL-2.0
/*
 * analyzer record [-o FILE] [options] [--] CMD [ARGS]
 *
 * Sets up our own tracing instance (tracefs_setup.c), starts CMD only once
 * tracing is on (the child waits on a pipe, then execs), streams the
 * per-CPU raw ring-buffer pages to temporary files while CMD runs, and
 * writes a trace.dat v6 (datfile.c) when it ends.  SIGINT/SIGTERM/SIGHUP
 * are forwarded to CMD; the recording is still written and the instance
 * removed.  Exit status: CMD's (128+signal if a signal killed it), or 2
 * when the recording itself failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>

#include "analyzer.h"
#include "analysis.h"
#include "datfile.h"
#include "live.h"
#include "output.h"
#include "tracefs_setup.h"

#define DEFAULT_BUFFER_KB 4096
#define POLL_MS 10
#define GRACE_SECS 5

struct rec {
	const char *out;
	unsigned int buffer_kb;
	bool live, stop_on_loop;
	uint32_t loop_threshold;
	char **cmd;

	struct dm_trace t;
	struct dat_writer *w;
	pid_t child;
	int status;
	bool child_done;

	/* per CPU */
	uint64_t *pages, *missed_pages, *missed_events, *missed_unknown;

	/* live */
	struct tep_handle *tep;
	struct dm_analysis *a;
	struct dm_live *lv;
	bool loop_found;
	pid_t loop_pid;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: analyzer record [-o FILE] [options] [--] CMD [ARGS]\n"
		"  Record the dmirror tracepoints (and the process events of CMD's process\n"
		"  tree) in a tracing instance of our own while CMD runs; write a trace.dat\n"
		"  that 'analyzer report', trace-cmd report and KernelShark read.\n"
		"\n"
		"  -o, --output FILE        default trace.dat\n"
		"  -b, --buffer-kb KB       per-CPU ring buffer size (default %d)\n"
		"      --live               also analyse while recording: print each fault loop\n"
		"                           or leak when it is seen\n"
		"      --stop-on-loop       with --live: kill CMD when a fault loop is found\n"
		"  -t, --loop-threshold N   for --live (default %d)\n"
		"  -h, --help\n"
		"\n"
		"  Needs root, tracefs, and the dmirror module loaded.  Exit status: CMD's\n"
		"  (128+signal if a signal ended it), 2 if recording failed.\n",
		DEFAULT_BUFFER_KB, DM_DEFAULT_LOOP_THRESHOLD);
}

/* CMD as execvp would find it; false if it would not. */
static bool find_cmd(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[4096];
	struct stat st;

	if (strchr(cmd, '/'))
		return !stat(cmd, &st) && S_ISREG(st.st_mode) && !access(cmd, X_OK);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", n ? (int)n : 1, n ? path : ".", cmd);
		if (!stat(buf, &st) && S_ISREG(st.st_mode) && !access(buf, X_OK))
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

static void on_live_loop(void *ctx, const struct dm_loop *l)
{
	struct rec *r = ctx;

	dm_print_live_loop(stderr, l, dm_analysis_result(r->a)->first_ts);
	if (!r->loop_found) {
		r->loop_found = true;
		r->loop_pid = l->pid;
	}
}

static void on_live_leak(void *ctx, const struct dm_leak *l)
{
	struct rec *r = ctx;

	dm_print_live_leak(stderr, l, dm_analysis_result(r->a)->first_ts);
}

/* Everything that describes the trace: headers and event formats. */
static int write_headers(struct rec *r, char *err, size_t errlen)
{
	static const char *const systems[] = { "dmirror", "sched", "ftrace" };
	static const char *const sched_keep[] = {
		"sched_process_fork", "sched_process_exec", "sched_process_exit",
	};
	char *s;
	size_t len;

	s = dm_trace_file(&r->t, false, "events/header_page", &len);
	if (!s) {
		snprintf(err, errlen, "cannot read events/header_page");
		return -1;
	}
	dat_set_header_page(r->w, s, len);
	free(s);
	s = dm_trace_file(&r->t, false, "events/header_event", &len);
	if (!s) {
		snprintf(err, errlen, "cannot read events/header_event");
		return -1;
	}
	dat_set_header_event(r->w, s, len);
	free(s);

	for (size_t k = 0; k < sizeof(systems) / sizeof(systems[0]); k++) {
		char **evs = dm_trace_system_events(systems[k]);

		for (int i = 0; evs && evs[i]; i++) {
			bool keep = strcmp(systems[k], "sched") != 0;

			for (size_t j = 0; !keep && j < sizeof(sched_keep) / sizeof(sched_keep[0]); j++)
				keep = !strcmp(evs[i], sched_keep[j]);
			if (!keep)
				continue;
			s = dm_trace_event_format(systems[k], evs[i], &len);
			if (!s)
				continue;
			if (!strcmp(systems[k], "ftrace"))
				dat_add_ftrace_format(r->w, s, len);
			else
				dat_add_event_format(r->w, systems[k], s, len);
			free(s);
		}
		dm_trace_free_list(evs);
	}
	/* kallsyms, as trace-cmd stores it (some trace-cmd commands, e.g.
	 * convert, want the section not to be empty) */
	{
		FILE *k = fopen("/proc/kallsyms", "r"), *m;
		char *ks = NULL, chunk[65536];
		size_t kl = 0, n;

		m = k ? open_memstream(&ks, &kl) : NULL;
		if (m) {
			while ((n = fread(chunk, 1, sizeof(chunk), k)) > 0)
				fwrite(chunk, 1, n, m);
			fclose(m);
			if (kl)
				dat_set_kallsyms(r->w, ks, kl);
			free(ks);
		}
		if (k)
			fclose(k);
	}
	s = dm_trace_file(&r->t, false, "printk_formats", &len);
	if (s) {
		dat_set_printk(r->w, s, len);
		free(s);
	}
	s = dm_trace_file(&r->t, true, "trace_clock", &len);
	if (s) {
		dat_set_trace_clock(r->w, s, len);
		free(s);
	}
	{
		struct utsname u;

		if (!uname(&u)) {
			char buf[5 * 65 + 8];

			snprintf(buf, sizeof(buf), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
				 u.version, u.machine);
			dat_add_option(r->w, DAT_OPT_UNAME, buf, (uint32_t)strlen(buf) + 1);
		}
	}
	return 0;
}

static int write_page(struct rec *r, int cpu, void *buf, int len, char *err, size_t errlen)
{
	long long m = dm_page_missed(buf);

	if (m) {
		r->missed_pages[cpu]++;
		if (m > 0)
			r->missed_events[cpu] += (uint64_t)m;
		else
			r->missed_unknown[cpu]++;
	}
	if (dat_write_page(r->w, cpu, buf, (size_t)len)) {
		snprintf(err, errlen, "cannot write the CPU %d data: %s", cpu, strerror(errno));
		return -1;
	}
	r->pages[cpu]++;
	if (r->lv)
		dm_live_page(r->lv, cpu, buf);
	return 0;
}

/* Reads what the CPUs have; *more when a CPU had more than one round's worth. */
static int drain(struct rec *r, void *buf, bool flush, bool *more, char *err, size_t errlen)
{
	if (more)
		*more = false;
	for (int c = 0; c < r->t.ncpus; c++) {
		int n, guard = 0;

		while ((n = flush ? dm_trace_flush(&r->t, c, buf) : dm_trace_read(&r->t, c, buf)) > 0) {
			if (write_page(r, c, buf, n, err, errlen))
				return -1;
			/* let other CPUs and signals in on a flood */
			if (!flush && ++guard >= 256) {
				if (more)
					*more = true;
				break;
			}
		}
		if (n < 0) {
			snprintf(err, errlen, "cannot read the CPU %d buffer: %s", c, strerror(errno));
			return -1;
		}
	}
	if (r->lv)
		dm_live_flush(r->lv);
	return 0;
}

static char *cmdline_text(char **cmd)
{
	size_t len = 1;
	char *s;

	for (int i = 0; cmd[i]; i++)
		len += strlen(cmd[i]) + 3;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = 0;
	for (int i = 0; cmd[i]; i++) {
		bool plain = cmd[i][0] && !strpbrk(cmd[i], " \t\n'\"\\$");

		if (i)
			strcat(s, " ");
		if (!plain)
			strcat(s, "'");
		strcat(s, cmd[i]);
		if (!plain)
			strcat(s, "'");
	}
	return s;
}

static int write_trailer(struct rec *r, const char *stats_before, const char *stats_after,
			 char *err, size_t errlen)
{
	char *cmd = cmdline_text(r->cmd), *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	uint64_t tot_pages = 0;

	if (!m || !cmd) {
		free(cmd);
		if (m)
			fclose(m);
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the names of the tasks that ran, now that they have */
	{
		char *cl = dm_trace_file(&r->t, false, "saved_cmdlines", &len);

		if (cl) {
			dat_set_cmdlines(r->w, cl, len);
			free(cl);
		}
		len = 0;
	}
	/* per-CPU ring-buffer stats, where trace-cmd keeps them */
	for (int c = 0; c < r->t.ncpus; c++) {
		char file[64], *st, *opt;
		size_t sl;

		snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", c);
		st = dm_trace_file(&r->t, true, file, &sl);
		if (!st)
			continue;
		if (asprintf(&opt, "CPU: %d\n%s", c, st) > 0) {
			dat_add_option(r->w, DAT_OPT_CPUSTAT, opt, (uint32_t)strlen(opt) + 1);
			free(opt);
		}
		free(st);
	}
	fprintf(m, "command: %s\n", cmd);
	fprintf(m, "instance: %s\n", r->t.name);
	fprintf(m, "buffer_kb: %u\n", r->buffer_kb);
	fprintf(m, "cpus: %d\n", r->t.ncpus);
	fprintf(m, "subbuf_size: %u\n", r->t.subbuf_size);
	if (WIFEXITED(r->status))
		fprintf(m, "exit_status: %d\n", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		fprintf(m, "exit_signal: %d\n", WTERMSIG(r->status));
	fprintf(m, "analyzer_version: %s\n", ANALYZER_VERSION);
	fclose(m);
	dat_add_dm_option(r->w, DAT_OPT_DM_META, buf);
	free(buf);
	free(cmd);
	if (stats_before)
		dat_add_dm_option(r->w, DAT_OPT_DM_STATS_BEFORE, stats_before);
	if (stats_after)
		dat_add_dm_option(r->w, DAT_OPT_DM_STATS_AFTER, stats_after);

	buf = NULL;
	len = 0;
	m = open_memstream(&buf, &len);
	if (!m)
		return -1;
	for (int c = 0; c < r->t.ncpus; c++) {
		tot_pages += r->pages[c];
		fprintf(m, "cpu%d pages=%" PRIu64 " missed_pages=%" PRIu64 " missed_events=%" PRIu64
			" missed_unknown=%" PRIu64 "\n",
			c, r->pages[c], r->missed_pages[c], r->missed_events[c], r->missed_unknown[c]);
	}
	fclose(m);
	dat_add_dm_option(r->w, DAT_OPT_DM_LOST, buf);
	free(buf);
	(void)tot_pages;
	return dat_finish(r->w, err, errlen);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 2;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "live", no_argument, NULL, 'l' },
		{ "stop-on-loop", no_argument, NULL, 'S' },
		{ "loop-threshold", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec r = { .out = "trace.dat", .buffer_kb = DEFAULT_BUFFER_KB,
			 .loop_threshold = DM_DEFAULT_LOOP_THRESHOLD };
	char err[512] = "", *stats_before = NULL, *stats_after = NULL;
	int go[2] = { -1, -1 }, xerr[2] = { -1, -1 }, sfd = -1, c, ret = 2;
	sigset_t mask, orig;
	void *buf = NULL;
	bool interrupted = false, killed = false, stop_sent = false, more = false;
	struct timespec int_at = { 0 };
	int child_errno = 0;

	while ((c = getopt_long(argc, argv, "+o:b:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			r.out = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, 4, 4u << 20, &r.buffer_kb)) {
				fprintf(stderr, "analyzer: record: bad --buffer-kb '%s' (4 to %u)\n",
					optarg, 4u << 20);
				return 2;
			}
			break;
		case 'l':
			r.live = true;
			break;
		case 'S':
			r.live = r.stop_on_loop = true;
			break;
		case 't':
			if (parse_uint(optarg, 1, 1u << 30, &r.loop_threshold)) {
				fprintf(stderr, "analyzer: record: bad --loop-threshold '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "analyzer: record: bad usage (analyzer record --help)\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "analyzer: record: no command to run (analyzer record --help)\n");
		return 2;
	}
	r.cmd = argv + optind;
	if (geteuid() != 0) {
		fprintf(stderr, "analyzer: record: must be run as root (tracefs and the driver's debugfs need it)\n");
		return 2;
	}
	if (!find_cmd(r.cmd[0])) {
		fprintf(stderr, "analyzer: record: %s: command not found\n", r.cmd[0]);
		return 2;
	}
	if (dm_trace_prepare(&r.t, err, sizeof(err))) {
		fprintf(stderr, "analyzer: record: %s\n", err);
		return 2;
	}
	dm_trace_remove_stale();

	/* signals arrive through a signalfd, handled in the loop */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &orig);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(go, O_CLOEXEC) || pipe2(xerr, O_CLOEXEC)) {
		snprintf(err, sizeof(err), "cannot set up signals and pipes: %s", strerror(errno));
		goto fail;
	}

	r.child = fork();
	if (r.child < 0) {
		snprintf(err, sizeof(err), "fork: %s", strerror(errno));
		goto fail;
	}
	if (r.child == 0) {
		char b;
		int e;

		sigprocmask(SIG_SETMASK, &orig, NULL);
		close(go[1]);
		close(xerr[0]);
		/* wait until tracing is on; EOF means the recorder gave up */
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		close(go[0]);
		execvp(r.cmd[0], r.cmd);
		e = errno;
		if (write(xerr[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	go[0] = -1;
	close(xerr[1]);
	xerr[1] = -1;

	if (dm_trace_setup(&r.t, r.buffer_kb, r.child, err, sizeof(err)))
		goto fail_child;
	r.w = dat_writer_new(r.out, r.t.ncpus, r.t.subbuf_size, (int)sizeof(long), err, sizeof(err));
	if (!r.w)
		goto fail_child;
	r.pages = calloc((size_t)r.t.ncpus, sizeof(uint64_t));
	r.missed_pages = calloc((size_t)r.t.ncpus, sizeof(uint64_t));
	r.missed_events = calloc((size_t)r.t.ncpus, sizeof(uint64_t));
	r.missed_unknown = calloc((size_t)r.t.ncpus, sizeof(uint64_t));
	if (posix_memalign(&buf, 4096, r.t.subbuf_size < 4096 ? 4096 : r.t.subbuf_size))
		buf = NULL;
	if (!r.pages || !r.missed_pages || !r.missed_events || !r.missed_unknown || !buf) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail_child;
	}
	if (write_headers(&r, err, sizeof(err)))
		goto fail_child;
	if (r.live) {
		struct dm_config cfg = { .loop_threshold = r.loop_threshold, .ctx = &r,
					 .on_loop = on_live_loop, .on_leak = on_live_leak };

		r.tep = dm_trace_local_tep();
		r.a = r.tep ? dm_analysis_new(&cfg) : NULL;
		if (!r.a) {
			snprintf(err, sizeof(err), "cannot read the local event formats for --live");
			goto fail_child;
		}
		r.lv = dm_live_new(r.tep, r.a, err, sizeof(err));
		if (!r.lv)
			goto fail_child;
	}
	stats_before = dm_trace_driver_stats();
	if (dm_trace_start(&r.t)) {
		snprintf(err, sizeof(err), "cannot turn tracing on in %s", r.t.name);
		goto fail_child;
	}
	/* tracing is on: let CMD exec */
	if (write(go[1], "g", 1) != 1) {
		snprintf(err, sizeof(err), "cannot start %s: %s", r.cmd[0], strerror(errno));
		goto fail_child;
	}
	close(go[1]);
	go[1] = -1;

	while (!r.child_done) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		poll(&pfd, 1, more ? 0 : POLL_MS);
		if (drain(&r, buf, false, &more, err, sizeof(err)))
			goto fail_child;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD)
				continue;
			/* SIGINT, SIGTERM, SIGHUP: pass it on; a second one kills */
			if (!interrupted) {
				interrupted = true;
				clock_gettime(CLOCK_MONOTONIC, &int_at);
				kill(r.child, (int)si.ssi_signo);
			} else if (!killed) {
				killed = true;
				kill(r.child, SIGKILL);
			}
		}
		if (r.stop_on_loop && r.loop_found && !stop_sent) {
			stop_sent = true;
			fprintf(stderr, "analyzer: record: --stop-on-loop: killing %s (pid %d)\n",
				r.cmd[0], (int)r.child);
			if (r.loop_pid > 0 && r.loop_pid != r.child)
				kill(r.loop_pid, SIGKILL);
			kill(r.child, SIGKILL);
		}
		if (interrupted && !killed) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - int_at.tv_sec >= GRACE_SECS) {
				killed = true;
				kill(r.child, SIGKILL);
			}
		}
		if (waitpid(r.child, &r.status, WNOHANG) == r.child)
			r.child_done = true;
	}
	if (read(xerr[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno))
		fprintf(stderr, "analyzer: record: cannot execute %s: %s\n", r.cmd[0],
			strerror(child_errno));

	/* the workload is gone: take the rest and write the file */
	stats_after = dm_trace_driver_stats();
	dm_trace_stop(&r.t);
	if (drain(&r, buf, false, NULL, err, sizeof(err)) || drain(&r, buf, true, NULL, err, sizeof(err)))
		goto fail;
	if (write_trailer(&r, stats_before, stats_after, err, sizeof(err)))
		goto fail;
	{
		uint64_t pages = 0, lost = 0, unknown = 0;

		for (int i = 0; i < r.t.ncpus; i++) {
			pages += r.pages[i];
			lost += r.missed_events[i];
			unknown += r.missed_unknown[i];
		}
		fprintf(stderr, "analyzer: record: %" PRIu64 " pages (%" PRIu64 " KB) written to %s",
			pages, pages * r.t.subbuf_size / 1024, r.out);
		if (lost || unknown)
			fprintf(stderr, "; WARNING: events were lost (%" PRIu64 " counted, %" PRIu64
				" pages with an unknown number): use a bigger -b", lost, unknown);
		fprintf(stderr, "\n");
	}
	if (r.a) {
		const struct dm_result *res;

		dm_analysis_finish(r.a);
		res = dm_analysis_result(r.a);
		fprintf(stderr, "analyzer: record: live: %zu fault loop(s), %zu leaked shadow page(s)%s\n",
			res->nloops, (size_t)res->leaked_pages,
			res->incomplete ? " (incomplete: events were lost)" : "");
	}
	ret = exit_code(r.status);
	goto out;

fail_child:
	if (r.child > 0 && !r.child_done) {
		kill(r.child, SIGKILL);
		while (waitpid(r.child, &r.status, 0) < 0 && errno == EINTR)
			;
	}
fail:
	fprintf(stderr, "analyzer: record: %s\n", err);
	ret = 2;
out:
	dm_live_free(r.lv);
	dm_analysis_free(r.a);
	if (r.tep)
		tep_free(r.tep);
	dat_writer_free(r.w);
	dm_trace_cleanup(&r.t);
	free(stats_before);
	free(stats_after);
	free(buf);
	free(r.pages);
	free(r.missed_pages);
	free(r.missed_events);
	free(r.missed_unknown);
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (xerr[i] >= 0)
			close(xerr[i]);
	}
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return ret;
}
