// SPDX-License-Identifier: GPL-2.0
/*
 * The direct page reader (ringread.h).  The page and event layout is the
 * kernel's ring buffer (kernel/trace/ring_buffer.c), as trace-cmd.dat.v6(5)
 * stores it: a page is a 64-bit timestamp, a commit word (the bytes of
 * events, with "events were lost before this page" in its bits 31 and 30)
 * and the events; an event is a 32-bit word of type_len (5 bits) and
 * time delta (27 bits), then its data.  Every length is checked against
 * its page before it is used: dat_scan has refused pages whose commit
 * does not fit and events whose length words point back, and a record
 * that still runs past its page ends that page here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringread.h"

enum {
	RB_PADDING = 29,
	RB_TIME_EXTEND = 30,
	RB_TIME_STAMP = 31,
	RB_TS_SHIFT = 27,
	RB_COMMIT_MASK = (1u << 27) - 1,
	RB_MISSED_EVENTS = 1u << 31,
	RB_MISSED_STORED = 1u << 30,
};

/* the bits of a timestamp an absolute time-stamp event does not carry */
#define RB_TS_MSB (0xf8ULL << 56)

/* One CPU's pages and where its walk stands. */
struct ring_cpu {
	const unsigned char *pages, *pages_end;
	const unsigned char *page;	/* the page being walked, or NULL */
	const unsigned char *data;	/* its events */
	uint32_t size;			/* bytes of events on it */
	uint32_t next;			/* where its next event starts */
	uint64_t ts;
	long long page_missed;		/* for the page's first record */
	bool first;			/* no record taken from this page yet */
	/* the record this CPU offers next */
	bool ready;
	struct tep_record rec;
};

struct dm_ring {
	const unsigned char *map;
	size_t map_len;
	unsigned int page_size, data_off, commit_size, long_size;
	struct ring_cpu *cpu;
	unsigned int ncpu;
	struct ring_cpu *taken;		/* whose record dm_ring_next handed out */
	uint64_t limit;			/* the lowest next time of the other CPUs */
	unsigned long bad;
	struct tep_handle *tep;
};

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd_n(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	if (n == 4)
		return rd32(p);
	memcpy(&v, p, sizeof(v));
	return v;
}

bool dm_ring_can_read(const struct dat_info *info)
{
	uint16_t probe = 1;
	bool host_little = *(unsigned char *)&probe == 1;

	/* events are read in the host's byte order, bit-fields included */
	return info->version == 6 && !info->latency && host_little && !info->big_endian &&
	       !info->layout.moves_timestamps && info->layout.cpu &&
	       (info->long_size == 4 || info->long_size == 8);
}

/* Opens the next page that has events; false when the CPU has no more. */
static bool load_page(struct dm_ring *r, struct ring_cpu *c)
{
	for (;;) {
		const unsigned char *p = c->page ? c->page + r->page_size : c->pages;
		size_t avail;
		uint64_t commit;

		c->page = NULL;
		if (p >= c->pages_end)
			return false;
		avail = (size_t)(c->pages_end - p);
		if (avail > r->page_size)
			avail = r->page_size;
		c->page = p;
		if (avail < r->data_off)
			return false;
		commit = rd_n(p + 8, r->commit_size);
		c->ts = rd_n(p, 8);
		c->data = p + r->data_off;
		c->size = (uint32_t)(commit & RB_COMMIT_MASK);
		if (c->size > avail - r->data_off)
			c->size = (uint32_t)(avail - r->data_off);	/* as dat_scan clamps it */
		c->next = 0;
		c->first = true;
		c->page_missed = 0;
		if (commit & RB_MISSED_EVENTS) {
			c->page_missed = -1;
			if ((commit & RB_MISSED_STORED) &&
			    c->size + r->long_size <= avail - r->data_off)
				c->page_missed = (long long)rd_n(c->data + c->size, r->long_size);
		}
		if (c->size)
			return true;
	}
}

/*
 * Steps the CPU to its next data record, across pages; false at its end.
 * The time deltas of every event on the way add up, padding's included,
 * as the kernel wrote them (a discarded event keeps its delta).
 */
static bool step(struct dm_ring *r, struct ring_cpu *c)
{
	for (;;) {
		const unsigned char *e;
		uint32_t hdr, type_len, delta, room;
		uint64_t len, at;

		if (!c->page || c->next >= c->size) {
			if (!load_page(r, c))
				return false;
		}
		room = c->size - c->next;
		e = c->data + c->next;
		if (room < 4) {
			c->next = c->size;
			continue;
		}
		hdr = rd32(e);
		type_len = hdr & 0x1f;
		delta = hdr >> 5;
		switch (type_len) {
		case RB_PADDING:
		case RB_TIME_EXTEND:
		case RB_TIME_STAMP:
			if (room < 8) {
				c->next = c->size;
				continue;
			}
			if (type_len == RB_PADDING) {
				c->ts += delta;
				len = 4 + (uint64_t)rd32(e + 4);
			} else if (type_len == RB_TIME_EXTEND) {
				c->ts += ((uint64_t)rd32(e + 4) << RB_TS_SHIFT) + delta;
				len = 8;
			} else {
				c->ts = (((uint64_t)rd32(e + 4) << RB_TS_SHIFT) + delta) |
					(c->ts & RB_TS_MSB);
				len = 8;
			}
			if (len > room) {
				c->next = c->size;
				continue;
			}
			c->next += (uint32_t)len;
			continue;
		case 0:		/* the length is in the next word, which counts itself */
			if (room < 8) {
				c->next = c->size;
				continue;
			}
			len = rd32(e + 4);
			len = len < 4 ? UINT64_MAX : (len - 4 + 3) & ~(uint64_t)3;
			at = 8;
			break;
		default:
			len = (uint64_t)type_len * 4;
			at = 4;
			break;
		}
		if (len > room - at) {
			r->bad++;
			c->next = c->size;
			continue;
		}
		c->ts += delta;
		/* no memset: every member set here is set for every record,
		 * and the rest stay as calloc left them (the memset was 6% of
		 * the walk's instructions) */
		c->rec.ts = c->ts;
		c->rec.data = (void *)(e + at);
		c->rec.size = (int)len;
		c->rec.record_size = (int)(len + at);
		c->rec.offset = (unsigned long long)(e - r->map);
		c->rec.missed_events = c->first ? c->page_missed : 0;
		c->first = false;
		c->next += (uint32_t)(at + len);
		return true;
	}
}

const struct tep_record *dm_ring_next(struct dm_ring *r)
{
	struct ring_cpu *best = r->taken;
	uint64_t limit = UINT64_MAX;

	/* the record handed out last time is replaced only now, so that it
	 * is handed out in place, not copied; while that CPU's records come
	 * before every other CPU's next one (which stay where they are), it
	 * goes on without a look at the others */
	if (best) {
		best->ready = step(r, best);
		if (best->ready && best->rec.ts < r->limit)
			return &best->rec;
	}
	best = NULL;
	/* a handful of CPUs: a linear look beats a heap's upkeep */
	for (unsigned int i = 0; i < r->ncpu; i++) {
		struct ring_cpu *c = &r->cpu[i];

		if (!c->ready)
			continue;
		if (!best || c->rec.ts < best->rec.ts) {
			if (best)
				limit = best->rec.ts;
			best = c;
		} else if (c->rec.ts < limit) {
			limit = c->rec.ts;
		}
	}
	r->taken = best;
	r->limit = limit;
	return best ? &best->rec : NULL;
}

unsigned long dm_ring_bad(const struct dm_ring *r)
{
	return r->bad;
}

/* A copy of a span as a NUL-terminated string (libtraceevent's parsers
 * want one, and write into some). */
static char *span_dup(const struct dm_ring *r, struct dat_span s)
{
	char *b;

	if (s.off > r->map_len || s.len > r->map_len - s.off)
		return NULL;
	b = malloc(s.len + 1);
	if (!b)
		return NULL;
	memcpy(b, r->map + s.off, s.len);
	b[s.len] = 0;
	return b;
}

static int build_tep(struct dm_ring *r, const struct dat_info *info, char *err, size_t errlen)
{
	const struct dat_layout *l = &info->layout;
	char *text;

	r->tep = tep_alloc();
	if (!r->tep)
		goto oom;
	tep_set_file_bigendian(r->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(r->tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(r->tep, info->long_size);
	tep_set_page_size(r->tep, (int)info->page_size);
	text = span_dup(r, l->header_page);
	if (!text)
		goto oom;
	tep_parse_header_page(r->tep, text, l->header_page.len, info->long_size);
	free(text);
	/* a format libtraceevent cannot parse is left out, as libtracecmd
	 * leaves it out: its events then decode as unknown */
	for (size_t i = 0; i < l->nformats; i++) {
		text = span_dup(r, l->formats[i].text);
		if (!text)
			goto oom;
		tep_parse_event(r->tep, text, l->formats[i].text.len, l->formats[i].system);
		free(text);
	}
	if (l->cmdlines.len) {
		text = span_dup(r, l->cmdlines);
		if (!text)
			goto oom;
		tep_parse_saved_cmdlines(r->tep, text);
		free(text);
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory reading the event formats");
	return -1;
}

struct dm_ring *dm_ring_open(const char *path, const struct dat_info *info, char *err,
			     size_t errlen)
{
	struct dm_ring *r = calloc(1, sizeof(*r));
	struct stat st;
	int fd;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_size != info->file_size) {
		snprintf(err, errlen, "cannot read it again: %s",
			 fd < 0 ? strerror(errno) : "it changed since it was checked");
		goto fail;
	}
	r->map_len = (size_t)st.st_size;
	r->map = mmap(NULL, r->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	fd = -1;
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		snprintf(err, errlen, "cannot map it: %s", strerror(errno));
		goto fail;
	}
	r->page_size = info->page_size;
	r->data_off = info->layout.data_off;
	r->commit_size = info->layout.commit_size;
	r->long_size = (unsigned int)info->long_size;
	r->ncpu = info->cpus;
	r->cpu = calloc(r->ncpu, sizeof(*r->cpu));
	if (!r->cpu) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (build_tep(r, info, err, errlen))
		goto fail;
	madvise((void *)r->map, r->map_len, MADV_SEQUENTIAL);
	for (unsigned int i = 0; i < r->ncpu; i++) {
		struct ring_cpu *c = &r->cpu[i];
		struct dat_span s = info->layout.cpu[i];

		/* dat_scan checked each CPU's span lies inside the file */
		c->pages = r->map + s.off;
		c->pages_end = c->pages + s.len;
		c->rec.cpu = (int)i;
		c->ready = s.len && step(r, c);
	}
	return r;
fail:
	if (fd >= 0)
		close(fd);
	dm_ring_close(r);
	return NULL;
}

struct tep_handle *dm_ring_tep(struct dm_ring *r)
{
	return r->tep;
}

void dm_ring_close(struct dm_ring *r)
{
	if (!r)
		return;
	if (r->tep)
		tep_free(r->tep);
	if (r->map)
		munmap((void *)r->map, r->map_len);
	free(r->cpu);
	free(r);
}
