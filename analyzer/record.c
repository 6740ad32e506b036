// SPDX-License-Identifier: GPL-2.0
/*
 * analyzer record [-o FILE] [options] [--] CMD [ARGS]
 *
 * Sets up our own tracing instance (tracefs_setup.c), starts CMD only once
 * tracing is on (the child waits on a pipe, then execs), streams the
 * per-CPU raw ring-buffer pages to temporary files while CMD runs, and
 * writes a trace.dat v6 (datwriter.c) when it ends.  SIGINT/SIGTERM/SIGHUP
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
#include "probes.h"
#include "scrub.h"
#include "tracefs_setup.h"

#define DEFAULT_BUFFER_KB 4096
#define POLL_MS 10
#define GRACE_SECS 5

/* Where the events come from. */
enum rec_source {
	SRC_AUTO,		/* dmirror's tracepoints if the module is loaded, else kernel */
	SRC_DMIRROR,		/* dmirror's tracepoints */
	SRC_KERNEL,		/* probes on the kernel's migration code (probes.c) */
	SRC_BOTH,
};

static const char *const source_names[] = {
	[SRC_AUTO] = "auto", [SRC_DMIRROR] = "dmirror", [SRC_KERNEL] = "kernel", [SRC_BOTH] = "both",
};

/* What the command line asked for. */
struct rec_opts {
	const char *out;
	unsigned int buffer_kb;
	bool live, stop_on_loop;
	bool all_events;
	uint32_t loop_threshold;
	enum rec_source source;
	char **cmd;
};

/* What was streamed from one CPU's ring buffer. */
struct rec_cpu {
	uint64_t pages;
	uint64_t missed_pages;		/* pages flagged "events lost before me" */
	uint64_t missed_events;		/* the counts they stored */
	uint64_t missed_unknown;	/* flagged without a count */
};

/* CMD: forked at once, held on the go pipe until tracing is on. */
struct rec_child {
	pid_t pid;
	int status;
	bool done;
	int go[2];		/* the recorder writes one byte: exec now */
	int xerr[2];		/* the child writes execvp's errno */
};

/*
 * SIGINT, SIGTERM and SIGHUP are forwarded to CMD (a second one, or
 * GRACE_SECS without an exit, kills it); SIGCHLD wakes the loop.  All
 * arrive through a signalfd, read in the loop.
 */
struct rec_signals {
	int fd;
	bool blocked;
	sigset_t orig;
	bool interrupted, killed, stop_sent;
	struct timespec int_at;
};

/* --live: the engine fed from the pages as they are streamed. */
struct rec_live {
	struct tep_handle *tep;
	struct dm_analysis *a;
	struct dm_live *lv;
	bool loop_found;
	pid_t loop_pid;
};

/* One recording, from parsing to clean-up. */
struct rec {
	struct rec_opts o;
	enum rec_source source;		/* o.source, auto resolved */
	bool folded;			/* the fault path's events left out */
	bool driver_folds;		/* by the driver (its fold_events), not a filter */
	struct dm_trace t;
	struct dm_probes probes;	/* SRC_KERNEL, SRC_BOTH */
	struct dm_scrub *scrub;
	struct dat_writer *w;
	struct rec_child child;
	struct rec_signals sig;
	struct rec_cpu *cpu;		/* t.ncpus of them */
	void *buf;			/* one sub-buffer */
	struct rec_live live;
	char *stats_before, *stats_after;
	char err[512];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: analyzer record [-o FILE] [options] [--] CMD [ARGS]\n"
		"  Record device-memory migrations (and the process events of CMD's process\n"
		"  tree) in a tracing instance of our own while CMD runs; write a trace.dat\n"
		"  that 'analyzer report', trace-cmd report and KernelShark read.\n"
		"\n"
		"  -o, --output FILE        default trace.dat\n"
		"  -b, --buffer-kb KB       per-CPU ring buffer size (default %d)\n"
		"  -s, --source SRC         dmirror: the dmirror module's tracepoints; kernel:\n"
		"                           probes on the kernel's own migration code, for any\n"
		"                           HMM driver; both; auto (default): dmirror when the\n"
		"                           module is loaded, kernel otherwise\n"
		"      --live               also analyse while recording: print each fault loop\n"
		"                           or leak when it is seen\n"
		"      --stop-on-loop       with --live: kill CMD when a fault loop is found\n"
		"      --all-events         every dmirror event, the fault path's setup, copy\n"
		"                           and finalize too (by default the fault event alone\n"
		"                           says what they found)\n"
		"  -t, --loop-threshold N   for --live (default %d)\n"
		"  -h, --help\n"
		"\n"
		"  Needs root and tracefs; the kernel source needs kprobe or fprobe events.\n"
		"  Exit status: CMD's (128+signal if a signal ended it), 2 if recording failed.\n",
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

static const char *live_sym(void *ctx, uint64_t token)
{
	struct rec *r = ctx;

	return dm_scrub_sym(r->scrub, token);
}

static void on_live_loop(void *ctx, const struct dm_loop *l)
{
	struct rec *r = ctx;

	dm_print_live_loop(stderr, l, dm_analysis_result(r->live.a)->first_ts,
			   l->callback ? dm_scrub_sym(r->scrub, l->callback) : NULL,
			   l->migrator ? dm_scrub_sym(r->scrub, l->migrator) : NULL);
	if (!r->live.loop_found) {
		r->live.loop_found = true;
		r->live.loop_pid = l->pid;
	}
}

static void on_live_leak(void *ctx, const struct dm_leak *l)
{
	struct rec *r = ctx;

	dm_print_live_leak(stderr, l, dm_analysis_result(r->live.a)->first_ts);
}

/* ------------------------------------------------------------- the file */

/* kallsyms, as trace-cmd stores it (some trace-cmd commands, e.g.
 * convert, want the section not to be empty) */
static int write_kallsyms(struct rec *r)
{
	FILE *k = fopen("/proc/kallsyms", "r"), *m;
	char *ks = NULL, chunk[65536];
	size_t kl = 0, n;
	int ret = 0;

	m = k ? open_memstream(&ks, &kl) : NULL;
	if (m) {
		while ((n = fread(chunk, 1, sizeof(chunk), k)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
		if (kl)
			ret = dat_set_kallsyms(r->w, ks, kl);
		free(ks);
	}
	if (k)
		fclose(k);
	return ret;
}

/* The event formats the file carries: every event of a system, or the
 * ones named. */
struct fmt_system {
	const char *system;
	const char *const *events;	/* NULL: all */
};

static const char *const sched_keep[] = {
	"sched_process_fork", "sched_process_exec", "sched_process_exit", NULL,
};
static const char *const exceptions_keep[] = { "page_fault_user", NULL };
static const char *const task_keep[] = { "task_newtask", NULL };

static bool in_list(const char *const *list, const char *name)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static int write_system_formats(struct rec *r, const struct fmt_system *fs)
{
	char **evs = dm_trace_system_events(fs->system);
	int ret = 0;

	for (int i = 0; evs && evs[i]; i++) {
		size_t len;
		char *s;

		if (fs->events && !in_list(fs->events, evs[i]))
			continue;
		s = dm_trace_event_format(fs->system, evs[i], &len);
		if (!s)
			continue;
		if (!strcmp(fs->system, "ftrace"))
			ret |= dat_add_ftrace_format(r->w, s, len);
		else
			ret |= dat_add_event_format(r->w, fs->system, s, len);
		free(s);
	}
	dm_trace_free_list(evs);
	return ret;
}

static bool uses_dmirror(const struct rec *r)
{
	return r->source == SRC_DMIRROR || r->source == SRC_BOTH;
}

static bool uses_kernel(const struct rec *r)
{
	return r->source == SRC_KERNEL || r->source == SRC_BOTH;
}

/* Everything that describes the trace: headers and event formats. */
static int write_headers(struct rec *r)
{
	const struct fmt_system systems[] = {
		{ uses_dmirror(r) ? "dmirror" : NULL, NULL }, { "sched", sched_keep },
		{ "ftrace", NULL },
		{ uses_kernel(r) ? r->probes.group : NULL, NULL },
		{ uses_kernel(r) ? "exceptions" : NULL, exceptions_keep },
		{ uses_kernel(r) ? "task" : NULL, task_keep },
	};
	char *s;
	size_t len;
	int bad = 0;	/* the writer keeps all of it in memory: only allocation fails */

	s = dm_trace_file(&r->t, false, "events/header_page", &len);
	if (!s) {
		snprintf(r->err, sizeof(r->err), "cannot read events/header_page");
		return -1;
	}
	bad |= dat_set_header_page(r->w, s, len);
	free(s);
	s = dm_trace_file(&r->t, false, "events/header_event", &len);
	if (!s) {
		snprintf(r->err, sizeof(r->err), "cannot read events/header_event");
		return -1;
	}
	bad |= dat_set_header_event(r->w, s, len);
	free(s);

	for (size_t k = 0; k < sizeof(systems) / sizeof(systems[0]); k++)
		if (systems[k].system)
			bad |= write_system_formats(r, &systems[k]);
	bad |= write_kallsyms(r);
	s = dm_trace_file(&r->t, false, "printk_formats", &len);
	if (s) {
		bad |= dat_set_printk(r->w, s, len);
		free(s);
	}
	s = dm_trace_file(&r->t, true, "trace_clock", &len);
	if (s) {
		bad |= dat_set_trace_clock(r->w, s, len);
		free(s);
	}
	{
		struct utsname u;

		if (!uname(&u)) {
			char buf[5 * 65 + 8];

			snprintf(buf, sizeof(buf), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
				 u.version, u.machine);
			bad |= dat_add_option(r->w, DAT_OPT_UNAME, buf, (uint32_t)strlen(buf) + 1);
		}
	}
	if (bad) {
		snprintf(r->err, sizeof(r->err), "out of memory for the trace's headers");
		return -1;
	}
	return 0;
}

static int write_page(struct rec *r, int cpu, int len)
{
	struct rec_cpu *c = &r->cpu[cpu];
	long long m;

	if (r->scrub)
		dm_scrub_page(r->scrub, r->buf);
	m = dm_page_missed(r->buf);

	if (m) {
		c->missed_pages++;
		if (m > 0)
			c->missed_events += (uint64_t)m;
		else
			c->missed_unknown++;
	}
	if (dat_write_page(r->w, cpu, r->buf, (size_t)len)) {
		snprintf(r->err, sizeof(r->err), "cannot write the CPU %d data: %s", cpu,
			 strerror(errno));
		return -1;
	}
	c->pages++;
	if (r->live.lv)
		dm_live_page(r->live.lv, cpu, r->buf);
	return 0;
}

/* Reads what the CPUs have; *more when a CPU had more than one round's worth. */
static int drain(struct rec *r, bool flush, bool *more)
{
	if (more)
		*more = false;
	for (int c = 0; c < r->t.ncpus; c++) {
		int n, guard = 0;

		while ((n = flush ? dm_trace_flush(&r->t, c, r->buf) : dm_trace_read(&r->t, c, r->buf)) > 0) {
			if (write_page(r, c, n))
				return -1;
			/* let other CPUs and signals in on a flood */
			if (!flush && ++guard >= 256) {
				if (more)
					*more = true;
				break;
			}
		}
		if (n < 0) {
			snprintf(r->err, sizeof(r->err), "cannot read the CPU %d buffer: %s", c,
				 strerror(errno));
			return -1;
		}
	}
	if (r->live.lv)
		dm_live_flush(r->live.lv);
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

/* The names of the tasks that ran, now that they have, and the per-CPU
 * ring-buffer stats, where trace-cmd keeps them. */
static int write_cmdlines_and_cpustats(struct rec *r)
{
	size_t len;
	char *cl = dm_trace_file(&r->t, false, "saved_cmdlines", &len);
	int bad = 0;

	if (cl) {
		bad |= dat_set_cmdlines(r->w, cl, len);
		free(cl);
	}
	for (int c = 0; c < r->t.ncpus; c++) {
		char file[64], *st, *opt;
		size_t sl;

		snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", c);
		st = dm_trace_file(&r->t, true, file, &sl);
		if (!st)
			continue;
		if (asprintf(&opt, "CPU: %d\n%s", c, st) > 0) {
			bad |= dat_add_option(r->w, DAT_OPT_CPUSTAT, opt, (uint32_t)strlen(opt) + 1);
			free(opt);
		} else {
			bad = -1;
		}
		free(st);
	}
	return bad;
}

static int write_meta(struct rec *r)
{
	char *cmd = cmdline_text(r->o.cmd), *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int status = r->child.status, ret;

	if (!m || !cmd) {
		free(cmd);
		if (m)
			fclose(m);
		free(buf);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	fprintf(m, "command: %s\n", cmd);
	fprintf(m, "source: %s\n", source_names[r->source]);
	fprintf(m, "instance: %s\n", r->t.name);
	fprintf(m, "buffer_kb: %u\n", r->o.buffer_kb);
	fprintf(m, "cpus: %d\n", r->t.ncpus);
	fprintf(m, "subbuf_size: %u\n", r->t.subbuf_size);
	fprintf(m, "reads: %s\n", r->t.whole_pages ? "whole sub-buffers" : "as filled");
	if (uses_dmirror(r))
		fprintf(m, "dmirror events: %s\n", r->o.all_events ? "all" :
			r->driver_folds ? "the report's; the fault path's setup, copy, finalize and free folded into its fault event by the driver, MIGRATE_TO_SYS's copies and frees into runs" :
			r->folded ? "the report's; the fault path's setup, copy and finalize folded into its fault event" :
			"the report's");
	if (WIFEXITED(status))
		fprintf(m, "exit_status: %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(m, "exit_signal: %d\n", WTERMSIG(status));
	fprintf(m, "analyzer_version: %s\n", ANALYZER_VERSION);
	if (uses_kernel(r)) {
		char pm[2048];

		dm_probes_meta(&r->probes, pm, sizeof(pm));
		fputs(pm, m);
		if (r->scrub)
			dm_scrub_meta(r->scrub, m);
	}
	fclose(m);
	ret = dat_add_dm_section(r->w, DAT_DM_META, buf);
	free(buf);
	free(cmd);
	return ret;
}

static int write_lost(struct rec *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ret;

	if (!m) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	for (int i = 0; i < r->t.ncpus; i++) {
		const struct rec_cpu *c = &r->cpu[i];

		fprintf(m, "cpu%d pages=%" PRIu64 " missed_pages=%" PRIu64 " missed_events=%" PRIu64
			" missed_unknown=%" PRIu64 "\n",
			i, c->pages, c->missed_pages, c->missed_events, c->missed_unknown);
	}
	fclose(m);
	ret = dat_add_dm_section(r->w, DAT_DM_LOST, buf);
	free(buf);
	return ret;
}

static int write_trailer(struct rec *r)
{
	int bad = write_cmdlines_and_cpustats(r);

	if (!bad && r->stats_before)
		bad = dat_add_dm_section(r->w, DAT_DM_STATS_BEFORE, r->stats_before);
	if (!bad && r->stats_after)
		bad = dat_add_dm_section(r->w, DAT_DM_STATS_AFTER, r->stats_after);
	if (bad || write_meta(r) || write_lost(r)) {
		snprintf(r->err, sizeof(r->err), "out of memory for the trace's trailer");
		return -1;
	}
	return dat_finish(r->w, r->err, sizeof(r->err));
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 2;
}

/* ------------------------------------------------------------ lifecycle */

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->o.out = "trace.dat";
	r->o.buffer_kb = DEFAULT_BUFFER_KB;
	r->o.loop_threshold = DM_DEFAULT_LOOP_THRESHOLD;
	r->child.go[0] = r->child.go[1] = r->child.xerr[0] = r->child.xerr[1] = -1;
	r->sig.fd = -1;
}

/* -1 to go on, else the exit status (help, bad usage). */
static int rec_parse(struct rec *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "live", no_argument, NULL, 'l' },
		{ "stop-on-loop", no_argument, NULL, 'S' },
		{ "all-events", no_argument, NULL, 'A' },
		{ "loop-threshold", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+o:b:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			r->o.out = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, 4, 4u << 20, &r->o.buffer_kb)) {
				fprintf(stderr, "analyzer: record: bad --buffer-kb '%s' (4 to %u)\n",
					optarg, 4u << 20);
				return 2;
			}
			break;
		case 'l':
			r->o.live = true;
			break;
		case 'S':
			r->o.live = r->o.stop_on_loop = true;
			break;
		case 'A':
			r->o.all_events = true;
			break;
		case 't':
			if (parse_uint(optarg, 1, 1u << 30, &r->o.loop_threshold)) {
				fprintf(stderr, "analyzer: record: bad --loop-threshold '%s'\n", optarg);
				return 2;
			}
			break;
		case 's': {
			size_t i;

			for (i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++)
				if (!strcmp(optarg, source_names[i]))
					break;
			if (i == sizeof(source_names) / sizeof(source_names[0])) {
				fprintf(stderr, "analyzer: record: bad --source '%s' (dmirror, kernel, both or auto)\n",
					optarg);
				return 2;
			}
			r->o.source = (enum rec_source)i;
			break;
		}
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
	r->o.cmd = argv + optind;
	return -1;
}

/*
 * auto: the driver's own tracepoints when it is loaded, the kernel's
 * migration code otherwise.  ANALYZER_TEST_NO_DRIVER=1 lets the dmirror
 * source record without the driver (tests/analyzer/record-host.sh).
 */
static int rec_pick_source(struct rec *r)
{
	bool have_dmirror = dm_trace_has_system("dmirror") || getenv("ANALYZER_TEST_NO_DRIVER");
	bool have_probes = dm_probes_supported();

	r->source = r->o.source;
	if (r->source == SRC_AUTO)
		r->source = have_dmirror || !have_probes ? SRC_DMIRROR : SRC_KERNEL;
	if (uses_dmirror(r) && !have_dmirror) {
		snprintf(r->err, sizeof(r->err),
			 "no dmirror events (events/dmirror is missing): is dmirror.ko loaded?%s",
			 r->o.source == SRC_AUTO ? " (and this kernel has no kprobe or fprobe events for --source kernel)"
						 : " (--source kernel probes any HMM driver)");
		return -1;
	}
	if (uses_kernel(r) && !have_probes) {
		snprintf(r->err, sizeof(r->err),
			 "--source kernel: this kernel has no kprobe or fprobe events (CONFIG_KPROBE_EVENTS)");
		return -1;
	}
	return 0;
}

/* What must hold before anything is changed: root, CMD, tracefs. */
static int rec_check(struct rec *r)
{
	if (geteuid() != 0) {
		snprintf(r->err, sizeof(r->err),
			 "must be run as root (tracefs and the driver's debugfs need it)");
		return -1;
	}
	if (!find_cmd(r->o.cmd[0])) {
		snprintf(r->err, sizeof(r->err), "%s: command not found", r->o.cmd[0]);
		return -1;
	}
	if (dm_trace_prepare(&r->t, r->err, sizeof(r->err)))
		return -1;
	dm_trace_remove_stale();
	dm_probes_remove_stale();
	return rec_pick_source(r);
}

static int rec_block_signals(struct rec *r)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &r->sig.orig);
	r->sig.blocked = true;
	r->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sig.fd < 0) {
		snprintf(r->err, sizeof(r->err), "cannot set up signals: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The child: waits until tracing is on (EOF: the recorder gave up), then
 * execs CMD, reporting execvp's errno on the xerr pipe. */
static void __attribute__((noreturn)) child_run(struct rec *r)
{
	char b;
	int e;

	sigprocmask(SIG_SETMASK, &r->sig.orig, NULL);
	close(r->child.go[1]);
	close(r->child.xerr[0]);
	if (read(r->child.go[0], &b, 1) != 1)
		_exit(127);
	close(r->child.go[0]);
	execvp(r->o.cmd[0], r->o.cmd);
	e = errno;
	if (write(r->child.xerr[1], &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int rec_spawn(struct rec *r)
{
	struct rec_child *ch = &r->child;

	if (rec_block_signals(r))
		return -1;
	if (pipe2(ch->go, O_CLOEXEC) || pipe2(ch->xerr, O_CLOEXEC)) {
		snprintf(r->err, sizeof(r->err), "cannot set up pipes: %s", strerror(errno));
		return -1;
	}
	ch->pid = fork();
	if (ch->pid < 0) {
		snprintf(r->err, sizeof(r->err), "fork: %s", strerror(errno));
		return -1;
	}
	if (ch->pid == 0)
		child_run(r);
	close(ch->go[0]);
	ch->go[0] = -1;
	close(ch->xerr[1]);
	ch->xerr[1] = -1;
	return 0;
}

static int rec_setup_live(struct rec *r)
{
	struct dm_config cfg = { .loop_threshold = r->o.loop_threshold, .ctx = r,
				 .on_loop = on_live_loop, .on_leak = on_live_leak,
				 .sym_of = live_sym, .sym_ctx = r };

	const char *systems[] = { "dmirror", "sched", "exceptions", "task",
				  uses_kernel(r) ? r->probes.group : NULL, NULL };

	if (uses_kernel(r)) {
		memcpy(cfg.kconf.swp_private, r->probes.swp_private, sizeof(cfg.kconf.swp_private));
		memcpy(cfg.kconf.swp_exclusive, r->probes.swp_exclusive, sizeof(cfg.kconf.swp_exclusive));
		cfg.kconf.page_shift = r->probes.page_shift;
		cfg.kconf.no_pages_probe = !r->probes.st[DM_KP_PAGES].placed;
	}
	/* harmless where the driver does not batch: an exit waits a little */
	cfg.batched = uses_dmirror(r) && dm_trace_has_system("dmirror");
	r->live.tep = dm_trace_local_tep(systems);
	r->live.a = r->live.tep ? dm_analysis_new(&cfg) : NULL;
	if (!r->live.a) {
		snprintf(r->err, sizeof(r->err), "cannot read the local event formats for --live");
		return -1;
	}
	r->live.lv = dm_live_new(r->live.tep, uses_dmirror(r) ? DM_SOURCE_DMIRROR : DM_SOURCE_KERNEL,
				 r->live.a, r->err, sizeof(r->err));
	return r->live.lv ? 0 : -1;
}

/* Under sudo, the trace belongs to the user who ran sudo: not to root. */
static void sudo_owner(struct rec *r)
{
	uid_t uid;
	gid_t gid;

	if (dm_sudo_user(&uid, &gid))
		dat_set_owner(r->w, uid, gid);
}

/* The kernel-probe source: our dynamic events and the page scrubber. */
static int rec_setup_probes(struct rec *r)
{
	const char *systems[] = { r->probes.group, NULL };
	struct tep_handle *tep;

	if (dm_probes_create(&r->probes, r->err, sizeof(r->err)))
		return -1;
	tep = dm_trace_local_tep(systems);
	if (!tep) {
		snprintf(r->err, sizeof(r->err), "cannot read the formats of our probe events");
		return -1;
	}
	r->scrub = dm_scrub_new(tep, r->probes.group, NULL, r->err, sizeof(r->err));
	tep_free(tep);
	return r->scrub ? 0 : -1;
}

/*
 * The dmirror events the report reads, and which of them are the fault
 * path's own setup, copy and finalize: a driver whose fault event says
 * what those found (its setup_ret field) needs them only for the ioctls.
 * Its fold_events file, held open, keeps the fault path from reaching
 * them (and has the fault's event carry its page's free); without it the
 * filter keeps them out of the ring buffer (docs/analyzer.md).
 */
static const struct {
	const char *event;
	bool fault_path;
	bool newer;		/* not in every module: enabled where it is */
} dmirror_report_events[] = {
	{ "dmirror_migrate_setup", true, false },
	{ "dmirror_alloc_and_copy", true, false },
	{ "dmirror_migrate_finalize", true, false },
	{ "dmirror_devmem_fault", false, false },
	{ "dmirror_fault_loop_guard", false, false },
	{ "dmirror_devmem_free", false, false },
	{ "dmirror_chunk_add", false, false },
	/* MIGRATE_TO_SYS's copies and frees, folded by the driver; a
	 * window with its setup and finalize */
	{ "dmirror_returned", false, true },
	{ "dmirror_window", false, true },
	/* the faults that went as they should, batched by the driver */
	{ "dmirror_batch", false, true },
};

/* Whether the fault path's own events are left out (see above). */
static bool folds_fault_path(const struct rec *r)
{
	return !r->o.all_events &&
	       dm_trace_has_field("dmirror", "dmirror_devmem_fault", "setup_ret") &&
	       dm_trace_has_field("dmirror", "dmirror_alloc_and_copy", "fault");
}

/* What our instance enables for the source. */
static size_t rec_events(struct rec *r, struct dm_trace_event *ev)
{
	size_t n = 0;

	/* (absent only under ANALYZER_TEST_NO_DRIVER) */
	if (uses_dmirror(r) && dm_trace_has_system("dmirror")) {
		r->folded = folds_fault_path(r);
		if (r->o.all_events) {
			if (dm_trace_driver_folders(&r->t))
				fprintf(stderr, "analyzer: record: warning: another recorder has the driver fold its fault path's events: this trace gets them folded too\n");
			ev[n++] = (struct dm_trace_event){ "dmirror", NULL, true };
		} else {
			/* the driver folds them itself: cheaper than a filter,
			 * which still writes each event before dropping it */
			r->driver_folds = r->folded && dm_trace_fold_driver_events(&r->t);
			for (size_t i = 0; i < sizeof(dmirror_report_events) /
					      sizeof(dmirror_report_events[0]); i++) {
				if (dmirror_report_events[i].newer &&
				    !dm_trace_has_field("dmirror", dmirror_report_events[i].event, "dev"))
					continue;
				ev[n++] = (struct dm_trace_event){
					"dmirror", dmirror_report_events[i].event, true,
					r->folded && !r->driver_folds &&
					dmirror_report_events[i].fault_path ? "fault == 0" : NULL };
			}
		}
	}
	for (int i = 0; sched_keep[i]; i++)
		ev[n++] = (struct dm_trace_event){ "sched", sched_keep[i], false };
	if (uses_kernel(r)) {
		/* the user address and pc of a fault; threads of a process */
		ev[n++] = (struct dm_trace_event){ "exceptions", "page_fault_user", false };
		ev[n++] = (struct dm_trace_event){ "task", "task_newtask", false };
	}
	return n;
}

/* Our instance, the output file, and what the loop needs. */
static int rec_setup(struct rec *r)
{
	struct dm_trace_event ev[16];
	unsigned int bufsz;
	size_t nev;

	if (uses_kernel(r) && rec_setup_probes(r))
		return -1;
	nev = rec_events(r, ev);
	/*
	 * Full sub-buffers make a smaller file of fewer pages, and fewer
	 * reads that compete with the workload for the CPUs; --live wants
	 * each event as soon as it can have it.
	 */
	r->t.whole_pages = !r->o.live;
	if (dm_trace_setup(&r->t, r->o.buffer_kb, r->child.pid, ev, nev, r->err, sizeof(r->err)))
		return -1;
	if (uses_kernel(r) && dm_probes_enable(&r->probes, r->t.inst, r->err, sizeof(r->err)))
		return -1;
	r->w = dat_writer_new(r->o.out, r->t.ncpus, r->t.subbuf_size, (int)sizeof(long), r->err,
			      sizeof(r->err));
	if (!r->w)
		return -1;
	sudo_owner(r);
	r->cpu = calloc((size_t)r->t.ncpus, sizeof(*r->cpu));
	bufsz = r->t.subbuf_size < 4096 ? 4096 : r->t.subbuf_size;
	if (posix_memalign(&r->buf, 4096, bufsz))
		r->buf = NULL;
	if (!r->cpu || !r->buf) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	if (write_headers(r))
		return -1;
	if (r->o.live && rec_setup_live(r))
		return -1;
	return 0;
}

/* The one line that says where the events come from. */
static void print_source(const struct rec *r)
{
	char line[1024] = "source: dmirror tracepoints";

	if (uses_kernel(r))
		dm_probes_describe(&r->probes, line, sizeof(line));
	fprintf(stderr, "analyzer: record: %s%s\n", line,
		r->source == SRC_BOTH ? ", and dmirror tracepoints" : "");
}

/* Tracing on, then let CMD exec. */
static int rec_start(struct rec *r)
{
	print_source(r);
	r->stats_before = dm_trace_driver_stats(&r->t);
	if (dm_trace_start(&r->t)) {
		snprintf(r->err, sizeof(r->err), "cannot turn tracing on in %s", r->t.name);
		return -1;
	}
	if (write(r->child.go[1], "g", 1) != 1) {
		snprintf(r->err, sizeof(r->err), "cannot start %s: %s", r->o.cmd[0], strerror(errno));
		return -1;
	}
	close(r->child.go[1]);
	r->child.go[1] = -1;
	return 0;
}

/* SIGINT, SIGTERM, SIGHUP: pass it on; a second one kills. */
static void handle_signals(struct rec *r)
{
	struct signalfd_siginfo si;

	while (read(r->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (!r->sig.interrupted) {
			r->sig.interrupted = true;
			clock_gettime(CLOCK_MONOTONIC, &r->sig.int_at);
			kill(r->child.pid, (int)si.ssi_signo);
		} else if (!r->sig.killed) {
			r->sig.killed = true;
			kill(r->child.pid, SIGKILL);
		}
	}
}

static void enforce_stop_and_grace(struct rec *r)
{
	if (r->o.stop_on_loop && r->live.loop_found && !r->sig.stop_sent) {
		r->sig.stop_sent = true;
		fprintf(stderr, "analyzer: record: --stop-on-loop: killing %s (pid %d)\n",
			r->o.cmd[0], (int)r->child.pid);
		if (r->live.loop_pid > 0 && r->live.loop_pid != r->child.pid)
			kill(r->live.loop_pid, SIGKILL);
		kill(r->child.pid, SIGKILL);
	}
	if (r->sig.interrupted && !r->sig.killed) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - r->sig.int_at.tv_sec >= GRACE_SECS) {
			r->sig.killed = true;
			kill(r->child.pid, SIGKILL);
		}
	}
}

/* Streams the buffers until CMD has exited. */
static int rec_loop(struct rec *r)
{
	bool more = false;
	int child_errno = 0;
	pid_t w;

	while (!r->child.done) {
		struct pollfd pfd = { .fd = r->sig.fd, .events = POLLIN };

		poll(&pfd, 1, more ? 0 : POLL_MS);
		if (drain(r, false, &more))
			return -1;
		handle_signals(r);
		enforce_stop_and_grace(r);
		w = waitpid(r->child.pid, &r->child.status, WNOHANG);
		if (w == r->child.pid) {
			r->child.done = true;
		} else if (w < 0 && errno == ECHILD) {
			/* reaped by someone else: its status is lost */
			r->child.done = true;
			r->child.status = W_EXITCODE(2, 0);
		}
	}
	if (read(r->child.xerr[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno))
		fprintf(stderr, "analyzer: record: cannot execute %s: %s\n", r->o.cmd[0],
			strerror(child_errno));
	return 0;
}

static void print_summary(struct rec *r)
{
	uint64_t pages = 0, lost = 0, unknown = 0;

	for (int i = 0; i < r->t.ncpus; i++) {
		pages += r->cpu[i].pages;
		lost += r->cpu[i].missed_events;
		unknown += r->cpu[i].missed_unknown;
	}
	fprintf(stderr, "analyzer: record: %" PRIu64 " pages (%" PRIu64 " KB) written to %s",
		pages, pages * r->t.subbuf_size / 1024, r->o.out);
	if (lost || unknown)
		fprintf(stderr, "; WARNING: events were lost (%" PRIu64 " counted, %" PRIu64
			" pages with an unknown number): use a bigger -b", lost, unknown);
	fprintf(stderr, "\n");
	if (r->live.a) {
		const struct dm_result *res;

		dm_analysis_finish(r->live.a);
		res = dm_analysis_result(r->live.a);
		if (r->source == SRC_KERNEL)
			fprintf(stderr, "analyzer: record: live: %zu fault loop(s)%s\n", res->nloops,
				res->incomplete ? " (incomplete: events were lost)" : "");
		else
			fprintf(stderr, "analyzer: record: live: %zu fault loop(s), %zu leaked shadow page(s)%s\n",
				res->nloops, (size_t)res->leaked_pages,
				res->incomplete ? " (incomplete: events were lost)" : "");
	}
}

/* The workload is gone: take the rest and write the file. */
static int rec_collect(struct rec *r)
{
	r->stats_after = dm_trace_driver_stats(&r->t);
	dm_trace_unfold(&r->t);
	dm_trace_stop(&r->t);
	if (drain(r, false, NULL) || drain(r, true, NULL))
		return -1;
	if (write_trailer(r))
		return -1;
	print_summary(r);
	return 0;
}

/* After a failure: CMD must not outlive the recording. */
static void rec_kill_child(struct rec *r)
{
	if (r->child.pid <= 0 || r->child.done)
		return;
	kill(r->child.pid, SIGKILL);
	while (waitpid(r->child.pid, &r->child.status, 0) < 0 && errno == EINTR)
		;	/* ECHILD: already reaped, nothing to wait for */
	r->child.done = true;
}

static void rec_free(struct rec *r)
{
	dm_live_free(r->live.lv);
	dm_analysis_free(r->live.a);
	if (r->live.tep)
		tep_free(r->live.tep);
	dat_writer_free(r->w);
	/* the instance first: an event enabled there cannot be removed */
	dm_trace_cleanup(&r->t);
	dm_probes_remove(&r->probes);
	dm_scrub_free(r->scrub);
	free(r->stats_before);
	free(r->stats_after);
	free(r->buf);
	free(r->cpu);
	for (int i = 0; i < 2; i++) {
		if (r->child.go[i] >= 0)
			close(r->child.go[i]);
		if (r->child.xerr[i] >= 0)
			close(r->child.xerr[i]);
	}
	if (r->sig.fd >= 0)
		close(r->sig.fd);
	if (r->sig.blocked)
		sigprocmask(SIG_SETMASK, &r->sig.orig, NULL);
}

int cmd_record(int argc, char **argv)
{
	struct rec r;
	int ret;

	rec_init(&r);
	/*
	 * A parent that ignores SIGCHLD makes the kernel reap CMD by itself:
	 * waitpid() would then never see it end.
	 */
	signal(SIGCHLD, SIG_DFL);
	ret = rec_parse(&r, argc, argv);
	if (ret >= 0)
		return ret;
	ret = 2;
	if (rec_check(&r))
		goto fail;
	if (rec_spawn(&r) || rec_setup(&r) || rec_start(&r) || rec_loop(&r)) {
		rec_kill_child(&r);
		goto fail;
	}
	if (rec_collect(&r))
		goto fail;
	ret = exit_code(r.child.status);
	goto out;
fail:
	fprintf(stderr, "analyzer: record: %s\n", r.err);
out:
	rec_free(&r);
	return ret;
}
