// SPDX-License-Identifier: GPL-2.0
/*
 * Normalizes recorded events for the engine.  The event ids and the
 * tep_format_field of every field are looked up once, by name, when the
 * decoder is made; decoding a record is then a type lookup and a few
 * bounded reads, with no allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

#define MAXF 10
#define OPT 1	/* the field may be missing: reads as 0 */

struct fspec {
	const char *name;
	int flags;
};

struct espec {
	const char *system;
	const char *name;
	enum dm_ev_kind kind;
	struct fspec f[MAXF];
};

/* Field order here is the index used by the decode functions below. */
static const struct espec specs[] = {
	{ DM_SYSTEM, "dmirror_migrate_setup", DM_EV_SETUP,
	  { { "dev", OPT }, { "dir", 0 }, { "fault", 0 }, { "start", 0 }, { "end", 0 },
	    { "npages", 0 }, { "cpages", 0 }, { "owner_match", OPT }, { "ret", OPT } } },
	{ DM_SYSTEM, "dmirror_alloc_and_copy", DM_EV_COPY,
	  { { "dev", OPT }, { "dir", 0 }, { "addr", 0 }, { "src_pfn", 0 }, { "dst_pfn", 0 },
	    { "shadow_pfn", 0 }, { "write", OPT }, { "order", OPT } } },
	{ DM_SYSTEM, "dmirror_migrate_finalize", DM_EV_FINALIZE,
	  { { "dev", OPT }, { "dir", 0 }, { "fault", 0 }, { "start", OPT }, { "end", OPT },
	    { "npages", OPT }, { "cpages", OPT }, { "migrated", 0 }, { "duration_ns", OPT } } },
	{ DM_SYSTEM, "dmirror_devmem_fault", DM_EV_FAULT,
	  { { "dev", OPT }, { "addr", 0 }, { "dev_pfn", 0 }, { "pid", 0 }, { "result", 0 },
	    { "migrated", 0 }, { "no_progress", OPT } } },
	{ DM_SYSTEM, "dmirror_fault_loop_guard", DM_EV_GUARD,
	  { { "dev", OPT }, { "addr", 0 }, { "dev_pfn", 0 }, { "pid", 0 }, { "count", OPT },
	    { "limit", OPT } } },
	{ DM_SYSTEM, "dmirror_devmem_free", DM_EV_FREE,
	  { { "dev", OPT }, { "dev_pfn", 0 }, { "shadow_pfn", 0 }, { "released", 0 },
	    { "free_pages", OPT }, { "order", OPT } } },
	{ DM_SYSTEM, "dmirror_chunk_add", DM_EV_CHUNK,
	  { { "dev", OPT }, { "first_pfn", OPT }, { "npages", OPT }, { "total_pages", OPT } } },
	/* 6.18 renamed parent_comm/parent_pid to comm/pid */
	{ "sched", "sched_process_fork", DM_EV_FORK,
	  { { "parent_pid|pid", OPT }, { "child_pid", 0 }, { "child_comm", OPT } } },
	{ "sched", "sched_process_exec", DM_EV_EXEC,
	  { { "pid", 0 }, { "old_pid", OPT }, { "filename", OPT } } },
	{ "sched", "sched_process_exit", DM_EV_EXIT,
	  { { "pid", 0 }, { "comm", OPT } } },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))
#define NDMIRROR 7

struct edesc {
	int id;			/* -1: not in this trace */
	struct tep_format_field *f[MAXF];
};

struct dm_decoder {
	struct tep_handle *tep;
	bool native;		/* the file's byte order is ours */
	struct tep_format_field *common_pid;
	struct edesc e[NSPECS];
	int ndmirror, nsched;
	int min_id, max_id;
};

/* "a|b": the first of the names the event has */
static struct tep_format_field *find_field(struct tep_event *ev, const char *names)
{
	char buf[64];

	while (*names) {
		size_t n = strcspn(names, "|");
		struct tep_format_field *f;

		snprintf(buf, sizeof(buf), "%.*s", (int)n, names);
		f = tep_find_field(ev, buf);
		if (f)
			return f;
		names += n;
		if (*names == '|')
			names++;
	}
	return NULL;
}

struct dm_decoder *dm_decoder_new(struct tep_handle *tep, char *err, size_t errlen)
{
	struct dm_decoder *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->tep = tep;
	d->native = tep_is_file_bigendian(tep) == tep_is_local_bigendian(tep);
	d->min_id = -1;
	for (size_t i = 0; i < NSPECS; i++) {
		struct tep_event *ev = tep_find_event_by_name(tep, specs[i].system, specs[i].name);

		d->e[i].id = -1;
		if (!ev)
			continue;
		bool usable = true;

		for (int j = 0; j < MAXF && specs[i].f[j].name; j++) {
			struct tep_format_field *f = find_field(ev, specs[i].f[j].name);

			if (!f && !(specs[i].f[j].flags & OPT) && i >= NDMIRROR) {
				/* a sched event we cannot use: do without it */
				usable = false;
				break;
			}
			if (!f && !(specs[i].f[j].flags & OPT)) {
				snprintf(err, errlen, "event %s:%s has no field '%s' (see docs/tracepoints.md)",
					 specs[i].system, specs[i].name, specs[i].f[j].name);
				free(d);
				return NULL;
			}
			if (f && !(f->flags & (TEP_FIELD_IS_STRING | TEP_FIELD_IS_DYNAMIC)) &&
			    f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) {
				snprintf(err, errlen, "event %s:%s field '%s' has an unexpected size %d",
					 specs[i].system, specs[i].name, specs[i].f[j].name, f->size);
				free(d);
				return NULL;
			}
			d->e[i].f[j] = f;
		}
		if (!usable)
			continue;
		if (!d->common_pid)
			d->common_pid = tep_find_common_field(ev, "common_pid");
		d->e[i].id = ev->id;
		if (d->min_id < 0 || ev->id < d->min_id)
			d->min_id = ev->id;
		if (ev->id > d->max_id)
			d->max_id = ev->id;
		if (i < NDMIRROR)
			d->ndmirror++;
		else
			d->nsched++;
	}
	if (!d->ndmirror) {
		snprintf(err, errlen, "no dmirror events in the trace (record with the dmirror module loaded: 'analyzer record' or 'trace-cmd record -e dmirror')");
		free(d);
		return NULL;
	}
	return d;
}

void dm_decoder_free(struct dm_decoder *d)
{
	free(d);
}

int dm_decoder_dmirror_formats(const struct dm_decoder *d)
{
	return d->ndmirror;
}

int dm_decoder_sched_formats(const struct dm_decoder *d)
{
	return d->nsched;
}

/* Bounded read of a numeric field; missing fields read 0. */
static inline int rd(struct dm_decoder *d, struct tep_record *rec,
		     struct tep_format_field *f, uint64_t *v)
{
	unsigned long long x;

	*v = 0;
	if (!f)
		return 0;
	if (f->offset < 0 || f->offset + f->size > rec->size)
		return -1;
	/* The common case without tep_read_number()'s call and byte swaps. */
	if (d->native && (f->size == 8 || f->size == 4 || f->size == 2 || f->size == 1)) {
		const char *p = (const char *)rec->data + f->offset;
		uint64_t u8v;
		uint32_t u4;
		uint16_t u2;

		switch (f->size) {
		case 8: memcpy(&u8v, p, 8); x = u8v; break;
		case 4: memcpy(&u4, p, 4); x = u4; break;
		case 2: memcpy(&u2, p, 2); x = u2; break;
		default: x = *(const uint8_t *)p; break;
		}
	} else {
		x = tep_read_number(d->tep, (char *)rec->data + f->offset, f->size);
	}
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8) {
		unsigned int bits = (unsigned int)f->size * 8;
		unsigned long long sign = 1ULL << (bits - 1);

		x &= (1ULL << bits) - 1;
		x = (x ^ sign) - sign;
	}
	*v = x;
	return 0;
}

/* A char[] or __data_loc char[] field, bounded, into dst. */
static int rd_str(struct dm_decoder *d, struct tep_record *rec,
		  struct tep_format_field *f, char *dst, size_t len, bool basename)
{
	const char *s;
	unsigned int off, n;

	dst[0] = 0;
	if (!f)
		return 0;
	if (f->offset < 0 || f->offset + f->size > rec->size)
		return -1;
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		unsigned int loc = (unsigned int)tep_read_number(d->tep, (char *)rec->data + f->offset,
								  f->size < 4 ? f->size : 4);

		off = loc & 0xffff;
		n = loc >> 16;
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += (unsigned int)(f->offset + f->size);
		if (off > (unsigned int)rec->size || n > (unsigned int)rec->size - off)
			return -1;
	} else {
		off = (unsigned int)f->offset;
		n = (unsigned int)f->size;
	}
	s = (const char *)rec->data + off;
	n = (unsigned int)strnlen(s, n);
	if (basename) {
		for (unsigned int i = n; i > 0; i--) {
			if (s[i - 1] == '/') {
				s += i;
				n -= i;
				break;
			}
		}
	}
	if (n >= len)
		n = (unsigned int)len - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

#define R(i, dst) do { uint64_t v_; if (rd(d, rec, e->f[i], &v_)) return -1; (dst) = v_; } while (0)

int dm_decode(struct dm_decoder *d, struct tep_record *rec, struct dm_event *ev)
{
	int type, i;
	struct edesc *e = NULL;
	uint64_t tid;

	if (rec->size < 8)
		return 0;
	type = tep_data_type(d->tep, rec);
	if (type < d->min_id || type > d->max_id)
		return 0;
	for (i = 0; i < (int)NSPECS; i++) {
		if (d->e[i].id == type) {
			e = &d->e[i];
			break;
		}
	}
	if (!e)
		return 0;

	memset(ev, 0, sizeof(*ev));
	ev->ts = rec->ts;
	ev->cpu = rec->cpu;
	if (d->common_pid) {
		if (rd(d, rec, d->common_pid, &tid))
			return -1;
		ev->tid = (int32_t)tid;
	}
	ev->kind = specs[i].kind;

	switch (ev->kind) {
	case DM_EV_SETUP:
		R(0, ev->setup.dev);
		R(1, ev->setup.dir);
		R(2, ev->setup.fault);
		R(3, ev->setup.start);
		R(4, ev->setup.end);
		R(5, ev->setup.npages);
		R(6, ev->setup.cpages);
		R(7, ev->setup.owner_match);
		ev->setup.has_owner_match = e->f[7] != NULL;
		R(8, ev->setup.ret);
		break;
	case DM_EV_COPY:
		R(0, ev->copy.dev);
		R(1, ev->copy.dir);
		R(2, ev->copy.addr);
		R(3, ev->copy.src_pfn);
		R(4, ev->copy.dst_pfn);
		R(5, ev->copy.shadow_pfn);
		R(6, ev->copy.write);
		R(7, ev->copy.order);
		break;
	case DM_EV_FINALIZE:
		R(0, ev->fin.dev);
		R(1, ev->fin.dir);
		R(2, ev->fin.fault);
		R(3, ev->fin.start);
		R(4, ev->fin.end);
		R(5, ev->fin.npages);
		R(6, ev->fin.cpages);
		R(7, ev->fin.migrated);
		R(8, ev->fin.duration_ns);
		ev->fin.has_duration = e->f[8] != NULL;
		break;
	case DM_EV_FAULT:
		R(0, ev->fault.dev);
		R(1, ev->fault.addr);
		R(2, ev->fault.dev_pfn);
		R(3, ev->fault.pid);
		R(4, ev->fault.result);
		R(5, ev->fault.migrated);
		R(6, ev->fault.no_progress);
		break;
	case DM_EV_GUARD:
		R(0, ev->guard.dev);
		R(1, ev->guard.addr);
		R(2, ev->guard.dev_pfn);
		R(3, ev->guard.pid);
		R(4, ev->guard.count);
		R(5, ev->guard.limit);
		break;
	case DM_EV_FREE:
		R(0, ev->free.dev);
		R(1, ev->free.dev_pfn);
		R(2, ev->free.shadow_pfn);
		R(3, ev->free.released);
		R(4, ev->free.free_pages);
		R(5, ev->free.order);
		break;
	case DM_EV_CHUNK:
		R(0, ev->chunk.dev);
		R(1, ev->chunk.first_pfn);
		R(2, ev->chunk.npages);
		R(3, ev->chunk.total_pages);
		break;
	case DM_EV_FORK:
		R(0, ev->fork.parent);
		R(1, ev->fork.child);
		if (rd_str(d, rec, e->f[2], ev->fork.comm, sizeof(ev->fork.comm), false))
			return -1;
		break;
	case DM_EV_EXEC:
		R(0, ev->exec.pid);
		if (rd_str(d, rec, e->f[2], ev->exec.comm, sizeof(ev->exec.comm), true))
			return -1;
		break;
	case DM_EV_EXIT:
		R(0, ev->exit.pid);
		if (rd_str(d, rec, e->f[1], ev->exit.comm, sizeof(ev->exit.comm), false))
			return -1;
		break;
	default:
		return 0;
	}
	return 1;
}
