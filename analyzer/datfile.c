// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat v6 writer and header scanner.  Layout written (all numbers in
 * the host's byte order, which the file declares):
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

#include <event-parse.h>

#include "datfile.h"
#include "probes.h"

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

int dat_add_dm_option(struct dat_writer *w, uint16_t id, const char *text)
{
	size_t ml = strlen(DAT_OPT_MAGIC), tl = strlen(text);
	char *buf = malloc(ml + tl + 1);
	int ret;

	if (!buf)
		return -1;
	memcpy(buf, DAT_OPT_MAGIC, ml);
	memcpy(buf + ml, text, tl + 1);
	ret = dat_add_option(w, id, buf, (uint32_t)(ml + tl + 1));
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

/* ---------------------------------------------------------------- scanner */

struct scan {
	FILE *f;
	uint64_t size;
	bool swap;
	char *err;
	size_t errlen;
	const char *what;	/* the section being read, for messages */
};

static int sc_fail(struct scan *s, const char *fmt, const char *arg)
{
	snprintf(s->err, s->errlen, fmt, arg);
	return -1;
}

static int sc_read(struct scan *s, void *buf, size_t len)
{
	if (fread(buf, 1, len, s->f) != len)
		return sc_fail(s, "truncated in the %s", s->what);
	return 0;
}

static uint64_t bswap_n(uint64_t v, int n)
{
	uint64_t r = 0;

	for (int i = 0; i < n; i++)
		r = (r << 8) | ((v >> (8 * i)) & 0xff);
	return r;
}

static int sc_num(struct scan *s, int n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned char b[8];

	if (sc_read(s, b, (size_t)n))
		return -1;
	/* assemble little-endian, then swap for big-endian files */
	for (int i = n - 1; i >= 0; i--)
		x = (x << 8) | b[i];
	*v = s->swap ? bswap_n(x, n) : x;
	return 0;
}

static long sc_pos(struct scan *s)
{
	return ftell(s->f);
}

static int sc_skip(struct scan *s, uint64_t len)
{
	long pos = sc_pos(s);

	if (pos < 0 || len > s->size || (uint64_t)pos + len > s->size)
		return sc_fail(s, "truncated in the %s", s->what);
	if (fseek(s->f, (long)len, SEEK_CUR))
		return sc_fail(s, "cannot seek in the %s", s->what);
	return 0;
}

static int sc_blob(struct scan *s, uint64_t len, char **out)
{
	long pos = sc_pos(s);
	char *b;

	if (pos < 0 || len > s->size || (uint64_t)pos + len > s->size)
		return sc_fail(s, "truncated in the %s", s->what);
	b = malloc(len + 1);
	if (!b)
		return sc_fail(s, "out of memory reading the %s", s->what);
	if (sc_read(s, b, len)) {
		free(b);
		return -1;
	}
	b[len] = 0;
	*out = b;
	return 0;
}

static int sc_string(struct scan *s, char *buf, size_t len)
{
	size_t i = 0;
	int c;

	while ((c = fgetc(s->f)) != EOF) {
		if (i + 1 >= len)
			return sc_fail(s, "corrupt %s: an over-long name", s->what);
		buf[i++] = (char)c;
		if (!c)
			return 0;
	}
	return sc_fail(s, "truncated in the %s", s->what);
}

static void append_text(char **dst, const char *src, size_t len)
{
	size_t old = *dst ? strlen(*dst) : 0;
	char *n = realloc(*dst, old + len + 2);

	if (!n)
		return;
	memcpy(n + old, src, len);
	n[old + len] = 0;
	if (old + len && n[old + len - 1] != '\n') {
		n[old + len] = '\n';
		n[old + len + 1] = 0;
	}
	*dst = n;
}

static void take_dm_option(char **dst, const char *data, size_t len)
{
	size_t ml = strlen(DAT_OPT_MAGIC);

	if (len < ml || memcmp(data, DAT_OPT_MAGIC, ml))
		return;	/* someone else's option with our id */
	free(*dst);
	*dst = strndup(data + ml, len - ml);
}

static int scan_options(struct scan *s, struct dat_info *info)
{
	s->what = "options";
	for (int n = 0;; n++) {
		uint64_t id, len;
		char *data;

		if (n > 100000)
			return sc_fail(s, "corrupt %s: no end marker", s->what);
		if (sc_num(s, 2, &id))
			return -1;
		if (id == DAT_OPT_DONE)
			return 0;
		if (sc_num(s, 4, &len))
			return -1;
		switch (id) {
		case DAT_OPT_CPUSTAT:
		case DAT_OPT_DM_META:
		case DAT_OPT_DM_STATS_BEFORE:
		case DAT_OPT_DM_STATS_AFTER:
		case DAT_OPT_DM_LOST:
			if (sc_blob(s, len, &data))
				return -1;
			if (id == DAT_OPT_CPUSTAT)
				append_text(&info->cpustats, data, strnlen(data, len));
			else if (id == DAT_OPT_DM_META)
				take_dm_option(&info->meta, data, strnlen(data, len));
			else if (id == DAT_OPT_DM_STATS_BEFORE)
				take_dm_option(&info->stats_before, data, strnlen(data, len));
			else if (id == DAT_OPT_DM_STATS_AFTER)
				take_dm_option(&info->stats_after, data, strnlen(data, len));
			else
				take_dm_option(&info->lost, data, strnlen(data, len));
			free(data);
			break;
		case DAT_OPT_TRACECLOCK:
			info->has_trace_clock = true;
			/* fall through */
		default:
			if (sc_skip(s, len))
				return -1;
		}
	}
}

/* "field: local_t commit;\toffset:8;\tsize:8;" -> 8; and where data starts */
static void parse_header_page(const char *hp, int long_size, unsigned int *commit_size,
			      unsigned int *data_off)
{
	const char *p;

	*commit_size = (unsigned int)long_size;
	*data_off = 8 + (unsigned int)long_size;
	p = strstr(hp, " commit;");
	if (p && (p = strstr(p, "size:")))
		*commit_size = (unsigned int)strtoul(p + 5, NULL, 10);
	p = strstr(hp, " data;");
	if (p && (p = strstr(p, "offset:")))
		*data_off = (unsigned int)strtoul(p + 7, NULL, 10);
	if (*commit_size != 4 && *commit_size != 8)
		*commit_size = (unsigned int)long_size;
	if (*data_off < 8 + *commit_size || *data_off > 64)
		*data_off = 8 + *commit_size;
}

/*
 * Every ring-buffer page must say it holds no more than fits in it:
 * libtracecmd stops reading a CPU at the first page that does not, and
 * the events after it would be silently missing.
 */
static uint32_t page_u32(const struct scan *s, const unsigned char *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;

	return s->swap ? (uint32_t)bswap_n(v, 4) : v;
}

/*
 * Walks the events of one ring-buffer page the way libtraceevent's
 * kbuffer does, and refuses a page where the next event would not lie
 * after the current one: kbuffer trusts the length words, and a negative
 * one sends it round the same bytes for ever (a fuzzed file kept
 * "analyzer report" and "trace-cmd report" busy for minutes).  Only a
 * little-endian layout is walked; a big-endian file is left to kbuffer.
 */
static int check_events(struct scan *s, const unsigned char *data, uint64_t commit)
{
	uint64_t curr = 0;

	if (s->swap)
		return 0;
	while (curr + 8 <= commit) {
		uint32_t hdr = page_u32(s, data + curr);
		unsigned int type_len = hdr & 0x1f;
		int64_t next;
		int32_t len;

		switch (type_len) {
		case 29:	/* padding: its length in the next word */
			next = (int64_t)curr + 4 + (int32_t)page_u32(s, data + curr + 4);
			break;
		case 30:	/* time extend */
		case 31:	/* absolute time stamp */
			next = (int64_t)curr + 8;
			break;
		case 0:		/* data, its length in the next word */
			len = (int32_t)(page_u32(s, data + curr + 4) - 4);
			len = (len + 3) & ~3;
			next = (int64_t)curr + 8 + len;
			break;
		default:	/* data of type_len words */
			next = (int64_t)curr + 4 + type_len * 4;
			break;
		}
		if (next <= (int64_t)curr)
			return sc_fail(s, "corrupt %s: an event's length word points back into its page",
				       "CPU data");
		curr = (uint64_t)next;
	}
	return 0;
}

static int check_pages(struct scan *s, struct dat_info *info, uint64_t off, uint64_t size,
		       unsigned int commit_size, unsigned int data_off)
{
	unsigned char *page = malloc(info->page_size);
	int ret = 0;

	if (!page)
		return sc_fail(s, "out of memory reading the %s", "CPU data");
	for (uint64_t p = 0; p < size && !ret; p += info->page_size) {
		uint64_t commit = 0;
		size_t want = size - p < info->page_size ? (size_t)(size - p) : info->page_size;

		if (want < data_off || fseek(s->f, (long)(off + p), SEEK_SET) ||
		    fread(page, 1, want, s->f) != want) {
			ret = sc_fail(s, "truncated in the %s", "CPU data");
			break;
		}
		for (int i = (int)commit_size - 1; i >= 0; i--)
			commit = (commit << 8) | page[8 + i];
		if (s->swap)
			commit = bswap_n(commit, (int)commit_size);
		commit &= (1u << 27) - 1;
		if (commit + data_off > info->page_size) {
			ret = sc_fail(s, "corrupt %s: a ring-buffer page claims more data than a page holds",
				      "CPU data");
			break;
		}
		if (commit + data_off > want)
			commit = want - data_off;
		ret = check_events(s, page + data_off, commit);
	}
	free(page);
	return ret;
}

/*
 * libtraceevent 1.7's tep_parse_printk_formats() takes each line as
 * "ADDR : FORMAT" and copies what follows the colon and one more byte;
 * a line that ends at its colon, or has none, makes it read past the end
 * of its buffer (found by the trace fuzzer, under ASan).  Every line the
 * kernel writes has that shape: insist on it.  The section ends at its
 * first NUL byte, as it does for libtraceevent.
 */
static int scan_printk(struct scan *s, uint64_t len)
{
	const char *line, *end;
	char *b;
	int ret = 0;

	if (sc_blob(s, len, &b))
		return -1;
	for (line = b; *line; line = *end ? end + 1 : end) {
		const char *colon;

		end = line + strcspn(line, "\n");
		if (end == line)
			continue;
		colon = memchr(line, ':', (size_t)(end - line));
		if (!colon || colon + 1 >= end) {
			ret = sc_fail(s, "corrupt %s: a line that is not 'ADDRESS : FORMAT'",
				      s->what);
			break;
		}
	}
	free(b);
	return ret;
}

/*
 * libtraceevent's tokenizer returns no token at all for a byte outside a
 * quoted string that is neither printable nor white space, and its field
 * parser hands that to strcmp(): a NULL dereference (an array size
 * "[\xcf\xbf]", found by the trace fuzzer; trace-cmd report crashes on
 * it as well).  The kernel writes its formats in ASCII: refuse such a byte
 * outside quoted strings (single or double quotes, with backslash escapes,
 * as libtraceevent reads them), and control characters anywhere.
 */
static int scan_format(struct scan *s, uint64_t len)
{
	char *b, quote = 0;	/* the quote of the string we are in, if any */
	int ret = 0;

	if (sc_blob(s, len, &b))
		return -1;
	for (uint64_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b[i];
		bool space = c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';

		if (quote && c == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (quote && c == (unsigned char)quote)
			quote = 0;
		else if (!quote && (c == '"' || c == '\''))
			quote = (char)c;
		if ((c < 0x20 && !space) || c == 0x7f || (c >= 0x80 && !quote)) {
			ret = sc_fail(s, "corrupt %s: a format with a byte that is not text",
				      s->what);
			break;
		}
	}
	free(b);
	return ret;
}

static int scan_v6(struct scan *s, struct dat_info *info)
{
	char buf[256];
	uint64_t n, len, count;
	unsigned int commit_size, data_off;
	uint64_t *offs = NULL, *sizes = NULL;
	char *hp;
	int ret = -1;

	s->what = "header_page section";
	if (sc_read(s, buf, 12))
		return -1;
	if (memcmp(buf, "header_page", 12))
		return sc_fail(s, "corrupt header: no %s", "header_page");
	if (sc_num(s, 8, &len) || sc_blob(s, len, &hp))
		return -1;
	parse_header_page(hp, info->long_size, &commit_size, &data_off);
	/* libtracecmd reads pages only if libtraceevent finds a 64-bit
	 * timestamp in header_page (and fails badly otherwise) */
	{
		struct tep_handle *tep = tep_alloc();
		bool ok = false;

		if (tep) {
			tep_parse_header_page(tep, hp, len, info->long_size);
			ok = !tep_is_old_format(tep) && tep_get_header_timestamp_size(tep) == 8 &&
			     (tep_get_header_page_size(tep) == 4 || tep_get_header_page_size(tep) == 8);
			tep_free(tep);
		}
		free(hp);
		if (!ok)
			return sc_fail(s, "corrupt header: the %s does not describe ring-buffer pages",
				       "header_page section");
	}
	s->what = "header_event section";
	if (sc_read(s, buf, 13))
		return -1;
	if (memcmp(buf, "header_event", 13))
		return sc_fail(s, "corrupt header: no %s", "header_event");
	if (sc_num(s, 8, &len) || sc_skip(s, len))
		return -1;

	s->what = "ftrace formats";
	if (sc_num(s, 4, &count))
		return -1;
	if (count > 100000)
		return sc_fail(s, "corrupt %s: implausible count", s->what);
	for (n = 0; n < count; n++)
		if (sc_num(s, 8, &len) || scan_format(s, len))
			return -1;

	s->what = "event formats";
	if (sc_num(s, 4, &count))
		return -1;
	if (count > 100000)
		return sc_fail(s, "corrupt %s: implausible count", s->what);
	for (n = 0; n < count; n++) {
		uint64_t events;

		if (sc_string(s, buf, sizeof(buf)))
			return -1;
		if (!strcmp(buf, "dmirror"))
			info->has_dmirror_formats = true;
		if (!strncmp(buf, DM_KP_GROUP_PREFIX, strlen(DM_KP_GROUP_PREFIX)))
			info->has_kernel_formats = true;
		if (sc_num(s, 4, &events))
			return -1;
		if (events > 100000)
			return sc_fail(s, "corrupt %s: implausible count", s->what);
		for (uint64_t e = 0; e < events; e++)
			if (sc_num(s, 8, &len) || scan_format(s, len))
				return -1;
	}
	s->what = "kallsyms section";
	if (sc_num(s, 4, &len) || sc_skip(s, len))
		return -1;
	s->what = "printk formats";
	if (sc_num(s, 4, &len) || scan_printk(s, len))
		return -1;
	s->what = "saved cmdlines";
	if (sc_num(s, 8, &len) || sc_skip(s, len))
		return -1;
	s->what = "CPU count";
	if (sc_num(s, 4, &n))
		return -1;
	if (n == 0 || n > 8192)
		return sc_fail(s, "corrupt header: implausible %s", "CPU count");
	info->cpus = (unsigned int)n;

	s->what = "options";
	if (sc_read(s, buf, 10))
		return -1;
	if (!memcmp(buf, "options  ", 10)) {
		if (scan_options(s, info))
			return -1;
		s->what = "data header";
		if (sc_read(s, buf, 10))
			return -1;
	}
	if (!memcmp(buf, "latency  ", 10)) {
		info->latency = true;
		return 0;
	}
	if (memcmp(buf, "flyrecord", 10))
		return sc_fail(s, "corrupt header: no %s section", "flyrecord");

	s->what = "per-CPU data table";
	offs = calloc(info->cpus, sizeof(*offs));
	sizes = calloc(info->cpus, sizeof(*sizes));
	if (!offs || !sizes) {
		sc_fail(s, "out of memory reading the %s", s->what);
		goto out;
	}
	for (unsigned int c = 0; c < info->cpus; c++) {
		uint64_t off, size;

		if (sc_num(s, 8, &off) || sc_num(s, 8, &size))
			goto out;
		if (!size)
			continue;
		if (off % info->page_size) {
			sc_fail(s, "corrupt %s: CPU data not page aligned", s->what);
			goto out;
		}
		if (off > s->size || size > s->size - off) {
			sc_fail(s, "truncated: the %s points past the end of the file", s->what);
			goto out;
		}
		/* libtracecmd maps whole pages */
		if (size % info->page_size &&
		    off + ((size + info->page_size - 1) & ~(uint64_t)(info->page_size - 1)) > s->size) {
			sc_fail(s, "truncated in the %s", "last page of CPU data");
			goto out;
		}
		offs[c] = off;
		sizes[c] = size;
	}
	if (info->has_trace_clock) {
		s->what = "trace_clock section";
		if (sc_num(s, 8, &len) || sc_skip(s, len))
			goto out;
	}
	for (unsigned int c = 0; c < info->cpus; c++)
		if (sizes[c] && check_pages(s, info, offs[c], sizes[c], commit_size, data_off))
			goto out;
	ret = 0;
out:
	free(offs);
	free(sizes);
	return ret;
}

int dat_scan(const char *path, struct dat_info *info, char *err, size_t errlen)
{
	unsigned char head[10];
	char ver[16];
	struct scan s = { .err = err, .errlen = errlen };
	struct stat st;
	uint64_t v;
	int ret = -1;

	memset(info, 0, sizeof(*info));
	s.f = fopen(path, "rb");
	if (!s.f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(s.f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto out;
	}
	s.size = (uint64_t)st.st_size;
	info->file_size = s.size;
	if (!s.size) {
		snprintf(err, errlen, "empty file");
		goto out;
	}
	s.what = "file header";
	if (fread(head, 1, sizeof(head), s.f) != sizeof(head) ||
	    memcmp(head, "\x17\x08\x44tracing", 10)) {
		if (s.size < sizeof(head) && !memcmp(head, "\x17\x08\x44tracing", (size_t)s.size))
			snprintf(err, errlen, "truncated in the file header");
		else
			snprintf(err, errlen, "not a trace.dat file (bad magic)");
		goto out;
	}
	if (sc_string(&s, ver, sizeof(ver)))
		goto out;
	v = strtoull(ver, NULL, 10);
	if (v != 6 && v != 7) {
		snprintf(err, errlen, "unsupported trace.dat version '%.8s' (6 and 7 are)", ver);
		goto out;
	}
	info->version = (int)v;
	if (sc_read(&s, head, 2))
		goto out;
	if (head[0] > 1 || (head[1] != 4 && head[1] != 8)) {
		snprintf(err, errlen, "corrupt header: bad endianness or long size");
		goto out;
	}
	info->big_endian = head[0];
	info->long_size = head[1];
	{
		uint16_t probe = 1;
		bool host_big = *(unsigned char *)&probe != 1;

		s.swap = host_big != info->big_endian;
	}
	if (sc_num(&s, 4, &v))
		goto out;
	if (v < 64 || v > (1u << 24) || (v & (v - 1))) {
		snprintf(err, errlen, "corrupt header: bad page size %llu", (unsigned long long)v);
		goto out;
	}
	info->page_size = (unsigned int)v;
	if (info->version == 7) {
		char comp[64];

		/* "name\0version\0" of the compression, then the offset of
		 * the first options section */
		s.what = "file header";
		if (sc_string(&s, comp, sizeof(comp)) || sc_string(&s, comp, sizeof(comp)) ||
		    sc_num(&s, 8, &v))
			goto out;
		if (!v || v > s.size || s.size - v < 16) {
			snprintf(err, errlen, "truncated or corrupt: options offset past the end");
			goto out;
		}
		ret = 0;
		goto out;
	}
	ret = scan_v6(&s, info);
	if (!ret && info->latency) {
		snprintf(err, errlen, "a latency (text) trace, not a flyrecord: nothing to analyse");
		ret = -1;
	}
out:
	fclose(s.f);
	if (ret)
		dat_info_free(info);
	return ret;
}

void dat_info_free(struct dat_info *info)
{
	free(info->meta);
	free(info->stats_before);
	free(info->stats_after);
	free(info->lost);
	free(info->cpustats);
	info->meta = info->stats_before = info->stats_after = info->lost = info->cpustats = NULL;
}
