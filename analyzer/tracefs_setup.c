// SPDX-License-Identifier: GPL-2.0
/*
 * All of "analyzer record"'s tracefs set-up and clean-up (see the header).
 * What we change, and how it is undone by dm_trace_cleanup():
 *   - a mount of tracefs (or debugfs) if none was there: unmounted;
 *   - our instance DM_INSTANCE_PREFIX<pid> with its buffer size, events,
 *     set_event_pid and event-fork option: the instance is removed, which
 *     drops all of them; nothing outside it is written;
 *   - the driver's fold_events file, held open: closed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tracefs.h>

#include "tracefs_setup.h"

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* The first mount point of a filesystem type, from /proc/mounts. */
static bool find_mount(const char *type, char *mnt, size_t len)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char dev[256], dir[512], fstype[64];

		if (sscanf(line, "%255s %511s %63s", dev, dir, fstype) == 3 && !strcmp(fstype, type)) {
			snprintf(mnt, len, "%s", dir);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

int dm_trace_prepare(struct dm_trace *t, char *err, size_t errlen)
{
	char dir[512], dbg[256];
	int saved = 0;

	memset(t, 0, sizeof(*t));
	if (find_mount("tracefs", dir, sizeof(dir))) {
		/* tracefs is there */
	} else if (find_mount("debugfs", dbg, sizeof(dbg)) &&
		   (snprintf(dir, sizeof(dir), "%s/tracing", dbg), is_dir(dir))) {
		/* debugfs' tracing/ (the kernel mounts tracefs there) */
	} else if (!mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		t->mounted_tracefs = true;
		snprintf(t->tracefs_mnt, sizeof(t->tracefs_mnt), "/sys/kernel/tracing");
		snprintf(dir, sizeof(dir), "/sys/kernel/tracing");
	} else {
		saved = errno;
		if (!find_mount("debugfs", dbg, sizeof(dbg)) &&
		    !mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL)) {
			t->mounted_debugfs = true;
			snprintf(t->debugfs_mnt, sizeof(t->debugfs_mnt), "/sys/kernel/debug");
			snprintf(dir, sizeof(dir), "/sys/kernel/debug/tracing");
		}
		if (!t->mounted_debugfs || !is_dir(dir)) {
			snprintf(err, errlen,
				 "tracefs is not mounted and cannot be mounted at /sys/kernel/tracing (%s)",
				 strerror(saved));
			dm_trace_cleanup(t);
			return -1;
		}
	}
	if (tracefs_set_tracing_dir(dir)) {
		snprintf(err, errlen, "cannot use %s as the tracing directory", dir);
		dm_trace_cleanup(t);
		return -1;
	}
	/* the driver's stats live in debugfs, wherever it is mounted */
	if (find_mount("debugfs", dbg, sizeof(dbg))) {
		snprintf(t->debugfs, sizeof(t->debugfs), "%s", dbg);
	} else if (is_dir("/sys/kernel/debug") &&
		   !mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL)) {
		t->mounted_debugfs = true;
		snprintf(t->debugfs_mnt, sizeof(t->debugfs_mnt), "/sys/kernel/debug");
		snprintf(t->debugfs, sizeof(t->debugfs), "/sys/kernel/debug");
	}
	return 0;
}

bool dm_trace_has_system(const char *system)
{
	char **sys = tracefs_event_systems(NULL);
	bool found = false;

	for (int i = 0; sys && sys[i] && !found; i++)
		found = !strcmp(sys[i], system);
	tracefs_list_free(sys);
	return found;
}

bool dm_trace_has_field(const char *system, const char *event, const char *field)
{
	char *fmt = tracefs_event_file_read(NULL, system, event, "format", NULL);
	char pat[128];
	bool found;

	/* a format line: "\tfield:unsigned int npages;\toffset:..." */
	snprintf(pat, sizeof(pat), " %s;", field);
	found = fmt && strstr(fmt, pat);
	free(fmt);
	return found;
}

/* ----------------------------------------------------------- stale ones */

struct stale {
	char **names;
	int n;
};

static bool pid_is_analyzer(pid_t pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (kill(pid, 0) && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;	/* alive as far as we can tell */
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "analyzer", 8);
}

static int stale_cb(const char *name, void *ctx)
{
	struct stale *s = ctx;
	size_t pl = strlen(DM_INSTANCE_PREFIX);
	char *end, **n;
	long pid;

	if (strncmp(name, DM_INSTANCE_PREFIX, pl))
		return 0;
	pid = strtol(name + pl, &end, 10);
	if (*end || pid <= 0 || pid == getpid() || pid_is_analyzer((pid_t)pid))
		return 0;
	n = realloc(s->names, sizeof(*n) * (size_t)(s->n + 1));
	if (!n)
		return 0;
	s->names = n;
	s->names[s->n] = strdup(name);
	if (s->names[s->n])
		s->n++;
	return 0;
}

int dm_trace_remove_stale(void)
{
	struct stale s = { 0 };
	int removed = 0;

	tracefs_instances_walk(stale_cb, &s);
	for (int i = 0; i < s.n; i++) {
		struct tracefs_instance *inst = tracefs_instance_alloc(NULL, s.names[i]);

		if (inst) {
			tracefs_trace_off(inst);
			if (!tracefs_instance_destroy(inst))
				removed++;
			tracefs_instance_free(inst);
		}
		free(s.names[i]);
	}
	free(s.names);
	return removed;
}

/* ---------------------------------------------------------------- setup */

int dm_trace_setup(struct dm_trace *t, unsigned int buffer_kb, pid_t pid,
		   const struct dm_trace_event *events, size_t n, char *err, size_t errlen)
{
	char num[32];
	long ncpus;

	snprintf(t->name, sizeof(t->name), DM_INSTANCE_PREFIX "%d", (int)getpid());
	if (tracefs_instance_exists(t->name)) {
		snprintf(err, errlen, "tracing instance %s already exists", t->name);
		return -1;
	}
	t->inst = tracefs_instance_create(t->name);
	if (!t->inst) {
		snprintf(err, errlen, "cannot create tracing instance %s: %s", t->name, strerror(errno));
		return -1;
	}
	if (tracefs_trace_off(t->inst)) {
		snprintf(err, errlen, "cannot turn tracing off in %s", t->name);
		return -1;
	}
	snprintf(num, sizeof(num), "%u", buffer_kb);
	if (tracefs_instance_file_write(t->inst, "buffer_size_kb", num) < 0) {
		snprintf(err, errlen, "cannot set a per-CPU buffer of %u KB: %s", buffer_kb,
			 strerror(errno));
		return -1;
	}
	/* the pid filter follows the workload's children */
	if (tracefs_option_enable(t->inst, TRACEFS_OPTION_EVENT_FORK)) {
		snprintf(err, errlen, "cannot enable the event-fork option");
		return -1;
	}
	snprintf(num, sizeof(num), "%d", (int)pid);
	if (tracefs_instance_file_write(t->inst, "set_event_pid", num) < 0) {
		snprintf(err, errlen, "cannot write set_event_pid: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dm_trace_event *e = &events[i];

		if (!tracefs_event_enable(t->inst, e->system, e->event)) {
			/* without its filter the event costs more, and is
			 * still right: the analysis takes both */
			if (e->filter && tracefs_event_file_write(t->inst, e->system, e->event,
								  "filter", e->filter) < 0)
				fprintf(stderr, "analyzer: record: warning: cannot filter %s:%s (%s)\n",
					e->system, e->event, e->filter);
			continue;
		}
		if (e->required) {
			snprintf(err, errlen, "cannot enable the %s%s%s events: %s", e->system,
				 e->event ? ":" : "", e->event ? e->event : "", strerror(errno));
			return -1;
		}
		fprintf(stderr, "analyzer: record: warning: cannot enable %s%s%s\n", e->system,
			e->event ? ":" : "", e->event ? e->event : "");
	}

	ncpus = sysconf(_SC_NPROCESSORS_CONF);
	if (ncpus < 1)
		ncpus = 1;
	t->ncpus = (int)ncpus;
	t->tcpu = calloc((size_t)ncpus, sizeof(*t->tcpu));
	if (!t->tcpu) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int c = 0; c < t->ncpus; c++) {
		t->tcpu[c] = tracefs_cpu_open(t->inst, c, true);
		if (t->tcpu[c] && !t->subbuf_size)
			t->subbuf_size = (unsigned int)tracefs_cpu_read_size(t->tcpu[c]);
	}
	if (!t->subbuf_size) {
		snprintf(err, errlen, "cannot open the per-CPU raw buffers of %s", t->name);
		return -1;
	}
	return 0;
}

int dm_trace_start(struct dm_trace *t)
{
	if (tracefs_trace_on(t->inst))
		return -1;
	t->on = true;
	return 0;
}

int dm_trace_stop(struct dm_trace *t)
{
	if (!t->inst || !t->on)
		return 0;
	t->on = false;
	return tracefs_trace_off(t->inst);
}

int dm_trace_read(struct dm_trace *t, int cpu, void *buf)
{
	int r;

	if (cpu < 0 || cpu >= t->ncpus || !t->tcpu[cpu])
		return 0;
	errno = 0;
	r = t->whole_pages ? tracefs_cpu_buffered_read(t->tcpu[cpu], buf, true) :
			     tracefs_cpu_read(t->tcpu[cpu], buf, true);
	if (r > 0)
		return r;
	if (r < 0 && errno != EAGAIN && errno != EINTR && errno != 0)
		return -1;
	return 0;
}

int dm_trace_flush(struct dm_trace *t, int cpu, void *buf)
{
	int r;

	if (cpu < 0 || cpu >= t->ncpus || !t->tcpu[cpu])
		return 0;
	r = tracefs_cpu_flush(t->tcpu[cpu], buf);
	return r > 0 ? r : 0;
}

char *dm_trace_file(struct dm_trace *t, bool inst, const char *file, size_t *len)
{
	int size = 0;
	char *s = tracefs_instance_file_read(inst ? t->inst : NULL, file, &size);

	if (len)
		*len = s && size > 0 ? (size_t)size : 0;
	return s;
}

char *dm_trace_event_format(const char *system, const char *event, size_t *len)
{
	int size = 0;
	char *s = tracefs_event_file_read(NULL, system, event, "format", &size);

	*len = s && size > 0 ? (size_t)size : 0;
	return s;
}

char **dm_trace_system_events(const char *system)
{
	return tracefs_system_events(NULL, system);
}

void dm_trace_free_list(char **list)
{
	tracefs_list_free(list);
}

struct tep_handle *dm_trace_local_tep(const char *const *systems)
{
	return tracefs_local_events_system(NULL, systems);
}

char *dm_trace_driver_stats(const struct dm_trace *t)
{
	char path[600];
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	char chunk[4096];
	size_t n;

	if (!t->debugfs[0])
		return NULL;
	snprintf(path, sizeof(path), "%s/" DM_STATS_FILE, t->debugfs);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

bool dm_trace_fold_driver_events(struct dm_trace *t)
{
	char path[600];
	int fd;

	if (t->folding)
		return true;
	if (!t->debugfs[0])
		return false;
	snprintf(path, sizeof(path), "%s/" DM_FOLD_FILE, t->debugfs);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	t->fold_fd = fd;
	t->folding = true;
	return true;
}

int dm_trace_driver_folders(const struct dm_trace *t)
{
	char path[600], buf[32];
	ssize_t n;
	int fd;

	if (!t->debugfs[0])
		return 0;
	snprintf(path, sizeof(path), "%s/" DM_FOLD_FILE, t->debugfs);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (int)strtol(buf, NULL, 10);
}

void dm_trace_unfold(struct dm_trace *t)
{
	char num[32];

	if (!t->folding)
		return;
	/* the batch the driver traces as we let go is traced by us */
	if (t->inst) {
		snprintf(num, sizeof(num), "%d", (int)getpid());
		if (tracefs_instance_file_append(t->inst, "set_event_pid", num) < 0)
			fprintf(stderr, "analyzer: record: warning: cannot add ourselves to set_event_pid: the driver's last batch of faults may be missing\n");
	}
	close(t->fold_fd);
	t->folding = false;
}

void dm_trace_cleanup(struct dm_trace *t)
{
	dm_trace_unfold(t);
	if (t->tcpu) {
		for (int c = 0; c < t->ncpus; c++)
			if (t->tcpu[c])
				tracefs_cpu_close(t->tcpu[c]);
		free(t->tcpu);
		t->tcpu = NULL;
	}
	if (t->inst) {
		tracefs_trace_off(t->inst);
		if (tracefs_instance_destroy(t->inst))
			fprintf(stderr, "analyzer: record: cannot remove tracing instance %s: %s\n",
				t->name, strerror(errno));
		tracefs_instance_free(t->inst);
		t->inst = NULL;
	}
	if (t->mounted_debugfs) {
		if (umount(t->debugfs_mnt))
			umount2(t->debugfs_mnt, MNT_DETACH);
		t->mounted_debugfs = false;
	}
	if (t->mounted_tracefs) {
		if (umount(t->tracefs_mnt))
			umount2(t->tracefs_mnt, MNT_DETACH);
		t->mounted_tracefs = false;
	}
}
