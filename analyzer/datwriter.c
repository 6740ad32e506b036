// SPDX-License-Identifier: GPL-2.0
/*
 * The trace.dat v6 writer.  It is ours because libtracecmd (3.1, Debian
 * 12) installs no writer API: its output functions are trace-cmd's own,
 * not in the library's headers.  Layout written (all numbers in the
 * host's byte order, which the file declares):
 *
 *   "\x17\x08\x44tracing" "6\0" endian(1) long_size(1) page_size(4)
 *   "header_page\0"  size(8) text        (events/header_page)
 *   "header_event\0" size(8) text        (events/header_event)
 *   count(4) { size(8) format }          ftrace formats
 *   count(4) { "system\0" count(4) { size(8) format } }
 *   size(4) kallsyms, size(4) printk formats, size(8) saved_cmdlines
 *   cpus(4)
 *   "options  \0" { id(2) size(4) data } 0(2)
 *   "flyrecord\0" { offset(8) size(8) } per CPU
 *   size(8) trace_clock text              (when option TRACECLOCK is there)
 *   padding to the page size, then each CPU's ring-buffer pages.
 *
 * Per-CPU pages are streamed to unlinked temporary files while recording
 * and copied behind the headers at the end: each CPU's data must be one
 * contiguous range, and its size is known only at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datfile.h"

struct blob {
	char *data;
	size_t len;
};

struct sysfmt {
	char *name;
	struct blob *fmts;
	size_t nfmts;
};

struct opt {
	uint16_t id;
	struct blob b;
};

struct dat_writer {
	char *path, *tmp_path;
	int cpus;
	unsigned int page_size;
	int long_size;
	int *cpu_fd;
	uint64_t *cpu_bytes;
	struct blob header_page, header_event, kallsyms, printk, cmdlines, trace_clock;
	bool have_trace_clock;
	struct blob *ftrace;
	size_t nftrace;
	struct sysfmt *systems;
	size_t nsystems;
	struct opt *opts;
	size_t nopts;
	bool done;
	bool chown;		/* give the file to owner_uid:owner_gid */
	uid_t owner_uid;
	gid_t owner_gid;
};

static int blob_set(struct blob *b, const void *data, size_t len)
{
	char *n = malloc(len + 1);

	if (!n)
		return -1;
	if (len)
		memcpy(n, data, len);
	n[len] = 0;
	free(b->data);
	b->data = n;
	b->len = len;
	return 0;
}

static int tmp_fd_in_dir(const char *path, char **name_out)
{
	const char *slash = strrchr(path, '/');
	char *tmpl;
	int fd;

	if (slash) {
		if (asprintf(&tmpl, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1) < 0)
			return -1;
	} else if (asprintf(&tmpl, ".%s.XXXXXX", path) < 0) {
		return -1;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		free(tmpl);
		return -1;
	}
	if (name_out)
		*name_out = tmpl;
	else {
		unlink(tmpl);
		free(tmpl);
	}
	return fd;
}

struct dat_writer *dat_writer_new(const char *path, int cpus, unsigned int page_size,
				  int long_size, char *err, size_t errlen)
{
	struct dat_writer *w;

	if (cpus <= 0 || page_size < 64 || (page_size & (page_size - 1)) ||
	    (long_size != 4 && long_size != 8)) {
		snprintf(err, errlen, "bad trace.dat geometry (cpus %d, page size %u, long size %d)",
			 cpus, page_size, long_size);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto oom;
	w->cpus = cpus;
	w->page_size = page_size;
	w->long_size = long_size;
	w->path = strdup(path);
	w->cpu_fd = malloc(sizeof(int) * (size_t)cpus);
	w->cpu_bytes = calloc((size_t)cpus, sizeof(uint64_t));
	if (!w->path || !w->cpu_fd || !w->cpu_bytes)
		goto oom;
	for (int i = 0; i < cpus; i++)
		w->cpu_fd[i] = -1;
	for (int i = 0; i < cpus; i++) {
		w->cpu_fd[i] = tmp_fd_in_dir(path, NULL);
		if (w->cpu_fd[i] < 0) {
			snprintf(err, errlen, "cannot create a temporary file next to %s: %s",
				 path, strerror(errno));
			dat_writer_free(w);
			return NULL;
		}
	}
	return w;
oom:
	snprintf(err, errlen, "out of memory");
	dat_writer_free(w);
	return NULL;
}

int dat_set_header_page(struct dat_writer *w, const char *buf, size_t len)
{
	return blob_set(&w->header_page, buf, len);
}

int dat_set_header_event(struct dat_writer *w, const char *buf, size_t len)
{
	return blob_set(&w->header_event, buf, len);
}

int dat_set_kallsyms(struct dat_writer *w, const char *buf, size_t len)
{
	return blob_set(&w->kallsyms, buf, len);
}

int dat_set_printk(struct dat_writer *w, const char *buf, size_t len)
{
	return blob_set(&w->printk, buf, len);
}

int dat_set_cmdlines(struct dat_writer *w, const char *buf, size_t len)
{
	return blob_set(&w->cmdlines, buf, len);
}

int dat_set_trace_clock(struct dat_writer *w, const char *buf, size_t len)
{
	if (blob_set(&w->trace_clock, buf, len))
		return -1;
	if (!w->have_trace_clock) {
		w->have_trace_clock = true;
		return dat_add_option(w, DAT_OPT_TRACECLOCK, NULL, 0);
	}
	return 0;
}

int dat_add_ftrace_format(struct dat_writer *w, const char *buf, size_t len)
{
	struct blob *n = realloc(w->ftrace, (w->nftrace + 1) * sizeof(*n));

	if (!n)
		return -1;
	w->ftrace = n;
	memset(&n[w->nftrace], 0, sizeof(*n));
	if (blob_set(&n[w->nftrace], buf, len))
		return -1;
	w->nftrace++;
	return 0;
}

int dat_add_event_format(struct dat_writer *w, const char *system, const char *buf, size_t len)
{
	struct sysfmt *s = NULL;
	struct blob *nf;

	for (size_t i = 0; i < w->nsystems; i++)
		if (!strcmp(w->systems[i].name, system))
			s = &w->systems[i];
	if (!s) {
		struct sysfmt *ns = realloc(w->systems, (w->nsystems + 1) * sizeof(*ns));

		if (!ns)
			return -1;
		w->systems = ns;
		s = &ns[w->nsystems];
		memset(s, 0, sizeof(*s));
		s->name = strdup(system);
		if (!s->name)
			return -1;
		w->nsystems++;
	}
	nf = realloc(s->fmts, (s->nfmts + 1) * sizeof(*nf));
	if (!nf)
		return -1;
	s->fmts = nf;
	memset(&nf[s->nfmts], 0, sizeof(*nf));
	if (blob_set(&nf[s->nfmts], buf, len))
		return -1;
	s->nfmts++;
	return 0;
}

int dat_add_option(struct dat_writer *w, uint16_t id, const void *data, uint32_t len)
{
	struct opt *n = realloc(w->opts, (w->nopts + 1) * sizeof(*n));

	if (!n)
		return -1;
	w->opts = n;
	n[w->nopts].id = id;
	memset(&n[w->nopts].b, 0, sizeof(n[w->nopts].b));
	if (blob_set(&n[w->nopts].b, data, len))
		return -1;
	w->nopts++;
	return 0;
}

int dat_add_dm_section(struct dat_writer *w, enum dat_dm_section sec, const char *text)
{
	char *buf;
	int n, ret;

	if ((unsigned int)sec >= DAT_DM_NSECTIONS)
		return -1;
	n = asprintf(&buf, DAT_DM_TAG " %s\n%s", dat_dm_sections[sec].name, text);
	if (n < 0)
		return -1;
	ret = dat_add_option(w, DAT_OPT_CPUSTAT, buf, (uint32_t)n + 1);
	free(buf);
	return ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int dat_write_page(struct dat_writer *w, int cpu, const void *page, size_t len)
{
	static const char zeros[4096];

	if (cpu < 0 || cpu >= w->cpus || len > w->page_size)
		return -1;
	if (write_all(w->cpu_fd[cpu], page, len))
		return -1;
	for (size_t pad = w->page_size - len; pad; ) {
		size_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);

		if (write_all(w->cpu_fd[cpu], zeros, n))
			return -1;
		pad -= n;
	}
	w->cpu_bytes[cpu] += w->page_size;
	return 0;
}

uint64_t dat_cpu_bytes(const struct dat_writer *w, int cpu)
{
	return cpu >= 0 && cpu < w->cpus ? w->cpu_bytes[cpu] : 0;
}

/* Buffered output of the header part */
struct out {
	int fd;
	char buf[65536];
	size_t n;
	uint64_t off;
	bool err;
};

static void out_flush(struct out *o)
{
	if (o->n && !o->err && write_all(o->fd, o->buf, o->n))
		o->err = true;
	o->n = 0;
}

static void out_put(struct out *o, const void *data, size_t len)
{
	const char *p = data;

	o->off += len;
	while (len) {
		size_t room = sizeof(o->buf) - o->n, k = len < room ? len : room;

		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		len -= k;
		if (o->n == sizeof(o->buf))
			out_flush(o);
	}
}

static void out_u16(struct out *o, uint16_t v) { out_put(o, &v, 2); }
static void out_u32(struct out *o, uint32_t v) { out_put(o, &v, 4); }
static void out_u64(struct out *o, uint64_t v) { out_put(o, &v, 8); }

static int copy_fd(int from, int to, uint64_t len)
{
	char buf[65536];
	off_t pos = 0;

	while (len) {
		size_t k = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t r = pread(from, buf, k, pos);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (write_all(to, buf, (size_t)r))
			return -1;
		pos += r;
		len -= (uint64_t)r;
	}
	return 0;
}

void dat_set_owner(struct dat_writer *w, uid_t uid, gid_t gid)
{
	w->chown = true;
	w->owner_uid = uid;
	w->owner_gid = gid;
}

int dat_finish(struct dat_writer *w, char *err, size_t errlen)
{
	static const char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	struct out *o;
	uint64_t data_off;
	int fd;
	unsigned char endian = 0;
	uint16_t probe = 1;

	if (!w->header_page.data || !w->header_event.data) {
		snprintf(err, errlen, "internal error: trace.dat without header_page/header_event");
		return -1;
	}
	fd = tmp_fd_in_dir(w->path, &w->tmp_path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", w->path, strerror(errno));
		return -1;
	}
	{
		/* mkostemp made it 0600: give it the usual mode */
		mode_t um = umask(0);

		umask(um);
		if (fchmod(fd, 0666 & ~um))
			(void)0;	/* keep 0600 */
	}
	if (w->chown && fchown(fd, w->owner_uid, w->owner_gid)) {
		snprintf(err, errlen, "cannot give %s to uid %u: %s", w->path, (unsigned int)w->owner_uid,
			 strerror(errno));
		close(fd);
		return -1;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->fd = fd;
	if (*(unsigned char *)&probe != 1)
		endian = 1;

	out_put(o, magic, sizeof(magic));
	out_put(o, "6", 2);
	out_put(o, &endian, 1);
	{
		unsigned char ls = (unsigned char)w->long_size;

		out_put(o, &ls, 1);
	}
	out_u32(o, w->page_size);

	out_put(o, "header_page", 12);
	out_u64(o, w->header_page.len);
	out_put(o, w->header_page.data, w->header_page.len);
	out_put(o, "header_event", 13);
	out_u64(o, w->header_event.len);
	out_put(o, w->header_event.data, w->header_event.len);

	out_u32(o, (uint32_t)w->nftrace);
	for (size_t i = 0; i < w->nftrace; i++) {
		out_u64(o, w->ftrace[i].len);
		out_put(o, w->ftrace[i].data, w->ftrace[i].len);
	}
	out_u32(o, (uint32_t)w->nsystems);
	for (size_t i = 0; i < w->nsystems; i++) {
		out_put(o, w->systems[i].name, strlen(w->systems[i].name) + 1);
		out_u32(o, (uint32_t)w->systems[i].nfmts);
		for (size_t j = 0; j < w->systems[i].nfmts; j++) {
			out_u64(o, w->systems[i].fmts[j].len);
			out_put(o, w->systems[i].fmts[j].data, w->systems[i].fmts[j].len);
		}
	}
	out_u32(o, (uint32_t)w->kallsyms.len);
	out_put(o, w->kallsyms.data, w->kallsyms.len);
	out_u32(o, (uint32_t)w->printk.len);
	out_put(o, w->printk.data, w->printk.len);
	out_u64(o, w->cmdlines.len);
	out_put(o, w->cmdlines.data, w->cmdlines.len);

	out_u32(o, (uint32_t)w->cpus);
	if (w->nopts) {
		out_put(o, "options  ", 10);
		for (size_t i = 0; i < w->nopts; i++) {
			out_u16(o, w->opts[i].id);
			out_u32(o, (uint32_t)w->opts[i].b.len);
			out_put(o, w->opts[i].b.data, w->opts[i].b.len);
		}
		out_u16(o, DAT_OPT_DONE);
	}
	out_put(o, "flyrecord", 10);

	/* where the data will start: after the table and the clock, aligned */
	data_off = o->off + 16ull * (uint64_t)w->cpus;
	if (w->have_trace_clock)
		data_off += 8 + w->trace_clock.len;
	data_off = (data_off + w->page_size - 1) & ~(uint64_t)(w->page_size - 1);
	{
		uint64_t off = data_off;

		for (int c = 0; c < w->cpus; c++) {
			out_u64(o, w->cpu_bytes[c] ? off : 0);
			out_u64(o, w->cpu_bytes[c]);
			off += w->cpu_bytes[c];
		}
	}
	if (w->have_trace_clock) {
		out_u64(o, w->trace_clock.len);
		out_put(o, w->trace_clock.data, w->trace_clock.len);
	}
	while (o->off < data_off) {
		static const char zeros[256];
		uint64_t k = data_off - o->off;

		out_put(o, zeros, k < sizeof(zeros) ? (size_t)k : sizeof(zeros));
	}
	out_flush(o);
	if (o->err)
		goto werr;
	for (int c = 0; c < w->cpus; c++)
		if (w->cpu_bytes[c] && copy_fd(w->cpu_fd[c], fd, w->cpu_bytes[c]))
			goto werr;
	if (fsync(fd) && errno != EINVAL && errno != EROFS)
		goto werr;
	if (close(fd)) {
		fd = -1;
		goto werr;
	}
	free(o);
	if (rename(w->tmp_path, w->path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", w->tmp_path, w->path,
			 strerror(errno));
		unlink(w->tmp_path);
		return -1;
	}
	w->done = true;
	return 0;
werr:
	snprintf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(o);
	unlink(w->tmp_path);
	return -1;
}

void dat_writer_free(struct dat_writer *w)
{
	if (!w)
		return;
	if (w->tmp_path && !w->done)
		unlink(w->tmp_path);
	free(w->tmp_path);
	if (w->cpu_fd)
		for (int i = 0; i < w->cpus; i++)
			if (w->cpu_fd[i] >= 0)
				close(w->cpu_fd[i]);
	free(w->cpu_fd);
	free(w->cpu_bytes);
	free(w->path);
	free(w->header_page.data);
	free(w->header_event.data);
	free(w->kallsyms.data);
	free(w->printk.data);
	free(w->cmdlines.data);
	free(w->trace_clock.data);
	for (size_t i = 0; i < w->nftrace; i++)
		free(w->ftrace[i].data);
	free(w->ftrace);
	for (size_t i = 0; i < w->nsystems; i++) {
		for (size_t j = 0; j < w->systems[i].nfmts; j++)
			free(w->systems[i].fmts[j].data);
		free(w->systems[i].fmts);
		free(w->systems[i].name);
	}
	free(w->systems);
	for (size_t i = 0; i < w->nopts; i++)
		free(w->opts[i].b.data);
	free(w->opts);
	free(w);
}
