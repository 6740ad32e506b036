// SPDX-License-Identifier: GPL-2.0
/*
 * The trace.dat header scanner: checks a file before libtracecmd opens it,
 * so that a bad file gets one clear line instead of what the libraries do
 * with it, and reads the options libtracecmd does not expose.  Each
 * defensive check names the library behaviour it stands in front of; all
 * were found against Debian 12's libtraceevent 1.7.1 and libtracecmd
 * 3.1.6 (most by the trace fuzzer, tests/fuzz):
 *
 *   - a ring-buffer page claiming more data than a page holds: libtracecmd
 *     silently stops reading that CPU (check_pages);
 *   - an event whose length word points back into its page: libtracecmd
 *     and trace-cmd report loop for ever (check_events);
 *   - a printk-formats line without "ADDRESS : FORMAT": libtraceevent reads
 *     past its buffer (scan_printk);
 *   - a byte that is not text in an event format: libtraceevent's field
 *     parser strcmp()s a NULL token (scan_format);
 *   - headers libtraceevent's header_page parser refuses (scan_v6);
 *   - the rest of a corrupt file can still crash libtracecmd 3.1's
 *     clean-up of a failed open: reader.c tries the open in a child.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event-parse.h>

#include "datfile.h"
#include "probes.h"

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

/* The writer names its sections from here too. */
const struct dat_dm_section_desc dat_dm_sections[DAT_DM_NSECTIONS] = {
	[DAT_DM_META] = { "meta", offsetof(struct dat_info, meta), 0x6d01 },
	[DAT_DM_STATS_BEFORE] = { "stats_before", offsetof(struct dat_info, stats_before), 0x6d02 },
	[DAT_DM_STATS_AFTER] = { "stats_after", offsetof(struct dat_info, stats_after), 0x6d03 },
	[DAT_DM_LOST] = { "lost", offsetof(struct dat_info, lost), 0x6d04 },
};

static char **dm_field(struct dat_info *info, int sec)
{
	return (char **)((char *)info + dat_dm_sections[sec].field);
}

static void take_section(struct dat_info *info, int sec, const char *text, size_t len)
{
	char **dst = dm_field(info, sec);

	free(*dst);
	*dst = strndup(text, len);
}

/* A CPUSTAT option: one of our sections, or the ring buffer's stats. */
static void take_cpustat(struct dat_info *info, const char *data, size_t len)
{
	size_t tl = strlen(DAT_DM_TAG " ");

	if (len > tl && !memcmp(data, DAT_DM_TAG " ", tl)) {
		const char *name = data + tl, *nl = memchr(name, '\n', len - tl);

		for (int k = 0; nl && k < DAT_DM_NSECTIONS; k++) {
			const char *want = dat_dm_sections[k].name;

			if ((size_t)(nl - name) == strlen(want) && !memcmp(name, want, strlen(want))) {
				take_section(info, k, nl + 1, len - (size_t)(nl + 1 - data));
				return;
			}
		}
		return;	/* a section of a later version: not ours to read */
	}
	append_text(&info->cpustats, data, len);
}

/* Which of our sections an option id of analyzer 1.0 held, or -1. */
static int old_section(uint64_t id)
{
	for (int k = 0; k < DAT_DM_NSECTIONS; k++)
		if (dat_dm_sections[k].old_id == id)
			return k;
	return -1;
}

static void take_old_section(struct dat_info *info, int sec, const char *data, size_t len)
{
	static const char magic[] = DAT_DM_TAG "\n";
	size_t ml = sizeof(magic) - 1;

	/* someone else's option with that id is not ours */
	if (len >= ml && !memcmp(data, magic, ml))
		take_section(info, sec, data + ml, len - ml);
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
		if (id == DAT_OPT_CPUSTAT || old_section(id) >= 0) {
			if (sc_blob(s, len, &data))
				return -1;
			if (id == DAT_OPT_CPUSTAT)
				take_cpustat(info, data, strnlen(data, len));
			else
				take_old_section(info, old_section(id), data, strnlen(data, len));
			free(data);
			continue;
		}
		if (id == DAT_OPT_TRACECLOCK)
			info->has_trace_clock = true;
		if (id == DAT_OPT_DATE || id == DAT_OPT_OFFSET || id == DAT_OPT_TIME_SHIFT ||
		    id == DAT_OPT_TSC2NSEC)
			info->layout.moves_timestamps = true;
		if (sc_skip(s, len))
			return -1;
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

/* One page's commit word: refused if it claims more than a page holds. */
static int check_page(struct scan *s, struct dat_info *info, const unsigned char *page,
		      size_t want, unsigned int commit_size, unsigned int data_off)
{
	uint64_t commit = 0;

	for (int i = (int)commit_size - 1; i >= 0; i--)
		commit = (commit << 8) | page[8 + i];
	if (s->swap)
		commit = bswap_n(commit, (int)commit_size);
	commit &= (1u << 27) - 1;
	if (commit + data_off > info->page_size)
		return sc_fail(s, "corrupt %s: a ring-buffer page claims more data than a page holds",
			       "CPU data");
	if (commit + data_off > want)
		commit = want - data_off;
	return check_events(s, page + data_off, commit);
}

/*
 * The pages are walked in a mapping of the file: a read() per page was a
 * tenth of analyzer report's time (and more in an emulated guest, where a
 * system call costs most); reading them is left to the fallback for a
 * file that cannot be mapped.
 */
static int check_pages(struct scan *s, struct dat_info *info, uint64_t off, uint64_t size,
		       unsigned int commit_size, unsigned int data_off)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t base = off & ~(uint64_t)(psz > 0 ? psz - 1 : 4095);
	size_t span = (size_t)(off - base + size);
	unsigned char *map = mmap(NULL, span, PROT_READ, MAP_PRIVATE, fileno(s->f), (off_t)base);
	unsigned char *page = NULL;
	int ret = 0;

	if (map == MAP_FAILED) {
		map = NULL;
		page = malloc(info->page_size);
		if (!page)
			return sc_fail(s, "out of memory reading the %s", "CPU data");
	} else {
		madvise(map, span, MADV_SEQUENTIAL);
	}
	for (uint64_t p = 0; p < size && !ret; p += info->page_size) {
		size_t want = size - p < info->page_size ? (size_t)(size - p) : info->page_size;
		const unsigned char *at = map ? map + (off - base) + p : page;

		if (want < data_off || (!map && (fseek(s->f, (long)(off + p), SEEK_SET) ||
						 fread(page, 1, want, s->f) != want))) {
			ret = sc_fail(s, "truncated in the %s", "CPU data");
			break;
		}
		ret = check_page(s, info, at, want, commit_size, data_off);
	}
	if (map)
		munmap(map, span);
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

/* Where one format lies, for a reader that parses formats itself. */
static int keep_format(struct scan *s, struct dat_layout *l, uint64_t pos, uint64_t len,
		       const char *system)
{
	struct dat_format *n;

	if (!(l->nformats & (l->nformats + 1))) {	/* 0, 1, 3, 7, ...: grow */
		n = realloc(l->formats, (l->nformats * 2 + 2) * sizeof(*n));
		if (!n)
			return sc_fail(s, "out of memory reading the %s", s->what);
		l->formats = n;
	}
	n = &l->formats[l->nformats];
	n->text = (struct dat_span){ pos, len };
	n->system = strdup(system);
	if (!n->system)
		return sc_fail(s, "out of memory reading the %s", s->what);
	l->nformats++;
	return 0;
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
static int scan_format(struct scan *s, uint64_t len, struct dat_info *info, const char *system)
{
	char *b, quote = 0;	/* the quote of the string we are in, if any */
	uint64_t pos = (uint64_t)sc_pos(s);
	int ret = 0;

	if (sc_blob(s, len, &b))
		return -1;
	ret = keep_format(s, &info->layout, pos, len, system);
	for (uint64_t i = 0; i < len && !ret; i++) {
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
	char *hp;

	s->what = "header_page section";
	if (sc_read(s, buf, 12))
		return -1;
	if (memcmp(buf, "header_page", 12))
		return sc_fail(s, "corrupt header: no %s", "header_page");
	if (sc_num(s, 8, &len))
		return -1;
	info->layout.header_page = (struct dat_span){ (uint64_t)sc_pos(s), len };
	if (sc_blob(s, len, &hp))
		return -1;
	parse_header_page(hp, info->long_size, &commit_size, &data_off);
	info->layout.commit_size = commit_size;
	info->layout.data_off = data_off;
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
		if (sc_num(s, 8, &len) || scan_format(s, len, info, "ftrace"))
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
			if (sc_num(s, 8, &len) || scan_format(s, len, info, buf))
				return -1;
	}
	s->what = "kallsyms section";
	if (sc_num(s, 4, &len) || sc_skip(s, len))
		return -1;
	s->what = "printk formats";
	if (sc_num(s, 4, &len) || scan_printk(s, len))
		return -1;
	s->what = "saved cmdlines";
	if (sc_num(s, 8, &len))
		return -1;
	info->layout.cmdlines = (struct dat_span){ (uint64_t)sc_pos(s), len };
	if (sc_skip(s, len))
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
	/* freed with info (dat_info_free), also when the scan fails */
	info->layout.cpu = calloc(info->cpus, sizeof(*info->layout.cpu));
	if (!info->layout.cpu)
		return sc_fail(s, "out of memory reading the %s", s->what);
	for (unsigned int c = 0; c < info->cpus; c++) {
		uint64_t off, size;

		if (sc_num(s, 8, &off) || sc_num(s, 8, &size))
			return -1;
		if (!size)
			continue;
		if (off % info->page_size)
			return sc_fail(s, "corrupt %s: CPU data not page aligned", s->what);
		if (off > s->size || size > s->size - off)
			return sc_fail(s, "truncated: the %s points past the end of the file", s->what);
		/* libtracecmd maps whole pages */
		if (size % info->page_size &&
		    off + ((size + info->page_size - 1) & ~(uint64_t)(info->page_size - 1)) > s->size)
			return sc_fail(s, "truncated in the %s", "last page of CPU data");
		info->layout.cpu[c] = (struct dat_span){ off, size };
	}
	if (info->has_trace_clock) {
		s->what = "trace_clock section";
		if (sc_num(s, 8, &len) || sc_skip(s, len))
			return -1;
	}
	for (unsigned int c = 0; c < info->cpus; c++) {
		const struct dat_span *cpu = &info->layout.cpu[c];

		if (cpu->len && check_pages(s, info, cpu->off, cpu->len, commit_size, data_off))
			return -1;
	}
	return 0;
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
	for (int k = 0; k < DAT_DM_NSECTIONS; k++) {
		free(*dm_field(info, k));
		*dm_field(info, k) = NULL;
	}
	free(info->cpustats);
	info->cpustats = NULL;
	for (size_t i = 0; i < info->layout.nformats; i++)
		free(info->layout.formats[i].system);
	free(info->layout.formats);
	free(info->layout.cpu);
	memset(&info->layout, 0, sizeof(info->layout));
}
