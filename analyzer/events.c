// SPDX-License-Identifier: GPL-2.0
/*
 * Normalizes recorded events for the engine.  The event ids and the
 * tep_format_field of every field are looked up once, by name, when the
 * decoder is made; decoding a record is then a type lookup and a few
 * bounded reads, with no allocation.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "probes.h"

#define MAXF 18

/* field flags */
#define OPT	(1u << 0)	/* the field may be missing: reads as 0 */
#define STR	(1u << 1)	/* char[] or __data_loc char[]: copied, bounded */
#define BASE	(1u << 2)	/* STR: only what follows the last '/' */
#define HAS	(1u << 3)	/* sets the bool at .has when the format has it */
#define MIGR	(1u << 4)	/* a migrate_pfn array: its MIGRATE entries counted */
#define ARR	(1u << 5)	/* a number array: element i into the decoder's batch
				 * entry i (off, size: the struct dm_batch_entry member) */

/*
 * One field: its name in the format ("a|b": the first of those the event
 * has), and where its value goes in struct dm_event.
 */
struct fspec {
	const char *name;
	unsigned int flags;
	unsigned short off, size;	/* the member of struct dm_event */
	unsigned short has;		/* HAS: the bool member saying it was there */
};

#define M_OFF(m) ((unsigned short)offsetof(struct dm_event, m))
#define M_SIZE(m) ((unsigned short)sizeof(((struct dm_event *)0)->m))
#define FLD(n, fl, m) { n, fl, M_OFF(m), M_SIZE(m), 0 }
#define FLD_HAS(n, m, h) { n, OPT | HAS, M_OFF(m), M_SIZE(m), M_OFF(h) }
#define FLD_ARR(n, m) { n, ARR, (unsigned short)offsetof(struct dm_batch_entry, m), \
	(unsigned short)sizeof(((struct dm_batch_entry *)0)->m), 0 }

/* The system of the kernel-probe events: our group, whatever its pid. */
#define KP_SYSTEM DM_KP_GROUP_PREFIX

struct espec {
	const char *system;
	const char *name;
	enum dm_ev_kind kind;
	bool optional;		/* an event we do without if a field is missing */
	struct fspec f[MAXF];
	/* its members are declared in the tracepoint's order and types
	 * (analysis.h): a record of that layout is copied whole */
	bool mirror;
};

static const struct espec specs[] = {
	{ DM_SYSTEM, "dmirror_migrate_setup", DM_EV_SETUP, false, {
		FLD("dev", OPT, setup.dev), FLD("dir", 0, setup.dir), FLD("fault", 0, setup.fault),
		FLD("start", 0, setup.start), FLD("end", 0, setup.end),
		FLD("npages", 0, setup.npages), FLD("cpages", 0, setup.cpages),
		FLD_HAS("owner_match", setup.owner_match, setup.has_owner_match),
		FLD("ret", OPT, setup.ret) } },
	{ DM_SYSTEM, "dmirror_alloc_and_copy", DM_EV_COPY, false, {
		FLD("dev", OPT, copy.dev), FLD("dir", 0, copy.dir), FLD("fault", OPT, copy.fault),
		FLD("addr", 0, copy.addr),
		FLD("src_pfn", 0, copy.src_pfn), FLD("dst_pfn", 0, copy.dst_pfn),
		FLD("shadow_pfn", 0, copy.shadow_pfn), FLD("write", OPT, copy.write),
		FLD("order", OPT, copy.order) }, .mirror = true },
	{ DM_SYSTEM, "dmirror_migrate_finalize", DM_EV_FINALIZE, false, {
		FLD("dev", OPT, fin.dev), FLD("dir", 0, fin.dir), FLD("fault", 0, fin.fault),
		FLD("start", OPT, fin.start), FLD("end", OPT, fin.end),
		FLD("npages", OPT, fin.npages), FLD("cpages", OPT, fin.cpages),
		FLD("migrated", 0, fin.migrated),
		FLD_HAS("duration_ns", fin.duration_ns, fin.has_duration) } },
	{ DM_SYSTEM, "dmirror_devmem_fault", DM_EV_FAULT, false, {
		FLD("dev", OPT, fault.dev), FLD("addr", 0, fault.addr),
		FLD("dev_pfn", 0, fault.dev_pfn), FLD("pid", 0, fault.pid),
		FLD("result", 0, fault.result), FLD("migrated", 0, fault.migrated),
		FLD("no_progress", OPT, fault.no_progress),
		FLD_HAS("npages", fault.setup_npages, fault.has_setup),
		FLD("cpages", OPT, fault.setup_cpages), FLD("setup_ret", OPT, fault.setup_ret),
		FLD("owner_match", OPT, fault.owner_match),
		FLD_HAS("duration_ns", fault.duration_ns, fault.has_duration),
		FLD("freed", OPT, fault.freed), FLD("free_order", OPT, fault.free_order),
		FLD("free_released", OPT, fault.free_released),
		FLD("free_pfn", OPT, fault.free_pfn),
		FLD("free_shadow_pfn", OPT, fault.free_shadow_pfn),
		FLD("free_pages", OPT, fault.free_pages) }, .mirror = true },
	{ DM_SYSTEM, "dmirror_fault_loop_guard", DM_EV_GUARD, false, {
		FLD("dev", OPT, guard.dev), FLD("addr", 0, guard.addr),
		FLD("dev_pfn", 0, guard.dev_pfn), FLD("pid", 0, guard.pid),
		FLD("count", OPT, guard.count), FLD("limit", OPT, guard.limit) } },
	{ DM_SYSTEM, "dmirror_devmem_free", DM_EV_FREE, false, {
		FLD("dev", OPT, free.dev), FLD("dev_pfn", 0, free.dev_pfn),
		FLD("shadow_pfn", 0, free.shadow_pfn), FLD("released", 0, free.released),
		FLD("free_pages", OPT, free.free_pages), FLD("order", OPT, free.order) } },
	{ DM_SYSTEM, "dmirror_returned", DM_EV_RETURNED, false, {
		FLD("dev", OPT, returned.dev), FLD("start", OPT, returned.start),
		FLD("free_pages", OPT, returned.free_pages),
		FLD("pfn0", 0, returned.pfn[0]), FLD("npages0", 0, returned.npages[0]),
		FLD("pfn1", 0, returned.pfn[1]), FLD("npages1", 0, returned.npages[1]),
		FLD("pfn2", 0, returned.pfn[2]), FLD("npages2", 0, returned.npages[2]),
		FLD("pfn3", 0, returned.pfn[3]), FLD("npages3", 0, returned.npages[3]) } },
	{ DM_SYSTEM, "dmirror_window", DM_EV_WINDOW, false, {
		FLD("dev", 0, window.dev), FLD("start", 0, window.start), FLD("end", 0, window.end),
		FLD("npages", 0, window.npages), FLD("cpages", 0, window.cpages),
		FLD("owner_match", 0, window.owner_match), FLD("migrated", 0, window.migrated),
		FLD("duration_ns", 0, window.duration_ns), FLD("free_pages", 0, window.free_pages),
		FLD("pfn0", 0, window.pfn[0]), FLD("npages0", 0, window.run_pages[0]),
		FLD("pfn1", 0, window.pfn[1]), FLD("npages1", 0, window.run_pages[1]),
		FLD("pfn2", 0, window.pfn[2]), FLD("npages2", 0, window.run_pages[2]),
		FLD("pfn3", 0, window.pfn[3]), FLD("npages3", 0, window.run_pages[3]) } },
	{ DM_SYSTEM, "dmirror_batch", DM_EV_BATCH, false, {
		FLD("dev", 0, batch.dev), FLD("n", 0, batch.n),
		FLD_ARR("addr", addr), FLD_ARR("dev_pfn", dev_pfn), FLD_ARR("shadow_pfn", shadow_pfn),
		FLD_ARR("pid", pid), FLD_ARR("tid", tid), FLD_ARR("duration_ns", duration_ns),
		FLD_ARR("free_pages", free_pages), FLD_ARR("fault", fault) } },
	{ DM_SYSTEM, "dmirror_chunk_add", DM_EV_CHUNK, false, {
		FLD("dev", OPT, chunk.dev), FLD("first_pfn", OPT, chunk.first_pfn),
		FLD("npages", OPT, chunk.npages), FLD("total_pages", OPT, chunk.total_pages) } },
	/* 6.18 renamed parent_comm/parent_pid to comm/pid */
	{ "sched", "sched_process_fork", DM_EV_FORK, true, {
		FLD("parent_pid|pid", OPT, fork.parent), FLD("child_pid", 0, fork.child),
		FLD("child_comm", OPT | STR, fork.comm) } },
	{ "sched", "sched_process_exec", DM_EV_EXEC, true, {
		FLD("pid", 0, exec.pid), FLD("filename", OPT | STR | BASE, exec.comm) } },
	{ "sched", "sched_process_exit", DM_EV_EXIT, true, {
		FLD("pid", 0, exit.pid), FLD("comm", OPT | STR, exit.comm) } },
	/* the kernel-probe source (probes.c, docs/analyzer.md) */
	{ KP_SYSTEM, "mv_setup", DM_EV_KP_SETUP, false, {
		FLD("start", 0, kp_setup.start), FLD("end", 0, kp_setup.end),
		FLD("owner", 0, kp_setup.owner), FLD("flags", 0, kp_setup.flags),
		FLD("fpage", 0, kp_setup.fpage), FLD("caller", OPT, kp_setup.caller) } },
	{ KP_SYSTEM, "mv_setup_fpage", DM_EV_KP_SETUP_FPAGE, false, {
		FLD("fpage", 0, kp_fpage.fpage), FLD("fpgmap", OPT, kp_fpage.fpgmap),
		FLD_HAS("fowner", kp_fpage.fowner, kp_fpage.has_fowner) } },
	{ KP_SYSTEM, "mv_setup_ret", DM_EV_KP_SETUP_RET, false, {
		FLD("ret", 0, kp_ret.ret), FLD("npages", OPT, kp_ret.npages),
		FLD_HAS("cpages", kp_ret.cpages, kp_ret.has_counts),
		FLD("__probe_ret_ip", OPT, kp_ret.caller) } },
	{ KP_SYSTEM, "mv_pages", DM_EV_KP_PAGES, false, {
		FLD("start", 0, kp_mv.start), FLD("end", 0, kp_mv.end),
		FLD("npages", 0, kp_mv.npages), FLD("cpages", 0, kp_mv.cpages) } },
	{ KP_SYSTEM, "mv_final", DM_EV_KP_FINAL, false, {
		FLD("start", 0, kp_mv.start), FLD("end", 0, kp_mv.end),
		FLD("npages", 0, kp_mv.npages), FLD("cpages", 0, kp_mv.cpages),
		FLD("src", MIGR, kp_mv.migrate) } },
	{ KP_SYSTEM, "mv_final_ret", DM_EV_KP_FINAL_RET, false, { { NULL } } },
	{ KP_SYSTEM, "dev_page_init", DM_EV_KP_PAGE_INIT, false, {
		FLD("page", 0, kp_init.page), FLD("pgmap", OPT, kp_init.pgmap),
		FLD("order", OPT, kp_init.order),
		FLD_HAS("owner", kp_init.owner, kp_init.has_owner),
		FLD_HAS("ops", kp_init.ops, kp_init.has_ops) } },
	{ KP_SYSTEM, "dev_page_free", DM_EV_KP_PAGE_FREE, false, {
		FLD("page", 0, kp_free.page), FLD("pgmap", OPT, kp_free.pgmap) } },
	{ KP_SYSTEM, "swap_fault", DM_EV_KP_SWAP, false, {
		FLD("addr", 0, kp_swap.addr), FLD("flags", OPT, kp_swap.flags),
		FLD("pte", 0, kp_swap.pte) } },
	{ KP_SYSTEM, "swap_fault_ret", DM_EV_KP_SWAP_RET, false, {
		FLD("ret", 0, kp_swret.ret), FLD_HAS("page", kp_swret.page, kp_swret.has_page) } },
	{ KP_SYSTEM, "swap_fault_mtr", DM_EV_KP_SWAP_MTR, false, {
		FLD("page", 0, kp_swret.page), FLD("mtr", 0, kp_swret.mtr) } },
	{ KP_SYSTEM, "lock_wait", DM_EV_KP_LOCK_WAIT, false, { { NULL } } },
	{ KP_SYSTEM, "hmm_fault_ret", DM_EV_KP_HMM_RET, false, { FLD("ret", 0, kp_ret.ret) } },
	{ "exceptions", "page_fault_user", DM_EV_USER_FAULT, true, {
		FLD("address", 0, ufault.addr), FLD("ip", 0, ufault.ip),
		FLD("error_code", OPT, ufault.error_code) } },
	{ "task", "task_newtask", DM_EV_NEWTASK, true, {
		FLD("pid", 0, newtask.pid), FLD("clone_flags", 0, newtask.clone_flags) } },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/*
 * A plain numeric field of a native-order trace, as the fast path reads
 * it: the 8 bytes of the record that end where the field ends, shifted
 * right arithmetically by shift and kept to mask (the member's bytes,
 * and for an unsigned field only its own), into the member at dst.
 */
struct fnum {
	uint16_t last8;		/* the field's offset + its size - 8 */
	uint16_t dst;		/* the member's offset in struct dm_event */
	uint8_t shift;
	uint64_t mask;
};

struct edesc {
	int id;			/* -1: not in this trace */
	struct tep_format_field *f[MAXF];
	/* fast: every field of the event is numeric (or absent), the trace
	 * native; then the nnum reads of num, once the record holds need
	 * bytes, are the whole decoding */
	bool fast;
	uint16_t kind;		/* its spec's */
	uint8_t nnum, nhas;
	/* fast and its record is its members' layout: the bytes
	 * [span_src, span_src + span_len) go to span_dst (plan_mirror) */
	bool mirror;
	uint16_t span_src, span_dst, span_len;
	uint16_t need;
	struct fnum num[MAXF];
	uint16_t has[MAXF];	/* the HAS bools to set: their fields are there */
};

struct dm_decoder {
	struct tep_handle *tep;
	bool native;		/* the file's byte order is ours */
	struct tep_format_field *common_pid, *common_type;
	/* both are where the kernel puts them (a u16 type and an s32 pid in
	 * the first 8 bytes) in a native trace: read without rd()'s checks */
	bool common_fast;
	struct edesc e[NSPECS];
	int ndmirror, nsched, nkernel;
	int min_id, max_id;
	/* the faults of the last dmirror_batch decoded */
	struct dm_batch_entry batch[DM_BATCH_PAGES];
	/* by event id - min_id: the index in specs, or -1 (a table, not a
	 * search: decoding is most of report's time per event) */
	int16_t *spec_of;
	/* common_fast: by event id - min_id, the event if it is fast, else
	 * NULL; the path most records take, in a few loads */
	const struct edesc **fast_of;
	uint16_t type_off, pid_off;
	enum dm_source source;
};

/* The kernel-probe group in tep, if any ("dmirror_analyzer_<pid>"). */
static const char *kp_group(struct tep_handle *tep)
{
	struct tep_event **all = tep_list_events(tep, TEP_EVENT_SORT_ID);
	size_t pl = strlen(DM_KP_GROUP_PREFIX);

	for (int i = 0; all && all[i]; i++)
		if (all[i]->system && !strncmp(all[i]->system, DM_KP_GROUP_PREFIX, pl))
			return all[i]->system;
	return NULL;
}

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

/* The spec belongs to the kernel-probe source. */
static bool kernel_spec(const struct espec *sp)
{
	return !strcmp(sp->system, KP_SYSTEM) || sp->kind == DM_EV_USER_FAULT ||
	       sp->kind == DM_EV_NEWTASK;
}

/*
 * A fast event whose spec declares its members in its tracepoint's
 * layout is decoded by one copy when the recorded format has every field
 * of the spec, each as wide as its member and at the same distance from
 * it.  The bytes of the span that no field covers are then the
 * tracepoint's padding, and padding of the members too (their order and
 * types are the tracepoint's), whatever the kernel left in them.
 */
static void plan_mirror(const struct espec *sp, struct edesc *e)
{
	unsigned int lo = UINT16_MAX, hi = 0;
	int delta = 0;

	e->mirror = false;
	if (!sp->mirror || !e->fast)
		return;
	for (int j = 0; j < MAXF && sp->f[j].name; j++) {
		const struct fspec *fs = &sp->f[j];
		const struct tep_format_field *f = e->f[j];

		if (!f || f->size != fs->size)
			return;
		if (j == 0)
			delta = (int)fs->off - f->offset;
		else if ((int)fs->off - f->offset != delta)
			return;
		if ((unsigned int)f->offset < lo)
			lo = (unsigned int)f->offset;
		if ((unsigned int)(f->offset + f->size) > hi)
			hi = (unsigned int)(f->offset + f->size);
	}
	if (hi <= lo || (int)lo + delta < (int)offsetof(struct dm_event, copy) ||
	    (int)hi + delta > (int)sizeof(struct dm_event))
		return;
	e->span_src = (uint16_t)lo;
	e->span_dst = (uint16_t)((int)lo + delta);
	e->span_len = (uint16_t)(hi - lo);
	e->mirror = true;
}

/* Plans the fast path of one event, when its fields allow it. */
static void plan_fast(const struct dm_decoder *d, const struct espec *sp, struct edesc *e)
{
	unsigned int need = 0;

	e->fast = d->native;
	e->nnum = 0;
	e->nhas = 0;
	for (int j = 0; e->fast && j < MAXF && sp->f[j].name; j++) {
		const struct fspec *fs = &sp->f[j];
		const struct tep_format_field *f = e->f[j];

		if (fs->flags & (STR | MIGR | ARR)) {
			e->fast = false;
			break;
		}
		if (!f)
			continue;	/* reads as 0, and a HAS bool false: the event is zeroed first */
		if (fs->flags & HAS)
			e->has[e->nhas++] = fs->has;
		if (f->offset < 0 || f->offset + f->size > 0xffff) {
			e->fast = false;
			break;
		}
		/* a field inside the common header cannot be read backwards */
		if (f->offset + f->size < 8) {
			e->fast = false;
			break;
		}
		/* every store is 8 bytes wide: the member and 7 bytes after it
		 * must lie inside struct dm_event */
		if (fs->off + 8u > sizeof(struct dm_event)) {
			e->fast = false;
			break;
		}
		e->num[e->nnum++] = (struct fnum){
			.dst = fs->off,
			.last8 = (uint16_t)(f->offset + f->size - 8),
			.shift = (uint8_t)(64 - 8 * f->size),
			.mask = (fs->size == 8 ? UINT64_MAX : (1ull << (8 * fs->size)) - 1) &
				((f->flags & TEP_FIELD_IS_SIGNED) || f->size == 8 ? UINT64_MAX :
				 (1ull << (8 * f->size)) - 1),
		};
		if ((unsigned int)(f->offset + f->size) > need)
			need = (unsigned int)(f->offset + f->size);
	}
	/* ascending destinations: a wide store's spill past its member is
	 * zeros, and whatever lies there is stored after it */
	for (unsigned int a = 1; a < e->nnum; a++)
		for (unsigned int b = a; b > 0 && e->num[b - 1].dst > e->num[b].dst; b--) {
			struct fnum t = e->num[b];

			e->num[b] = e->num[b - 1];
			e->num[b - 1] = t;
		}
	e->need = (uint16_t)need;
}

struct dm_decoder *dm_decoder_new(struct tep_handle *tep, enum dm_source source, char *err,
				  size_t errlen)
{
	struct dm_decoder *d = calloc(1, sizeof(*d));
	const char *group;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->tep = tep;
	d->native = tep_is_file_bigendian(tep) == tep_is_local_bigendian(tep);
	d->min_id = -1;
	group = kp_group(tep);
	if (source == DM_SOURCE_AUTO)
		source = tep_find_event_by_name(tep, DM_SYSTEM, "dmirror_migrate_setup") || !group ?
			DM_SOURCE_DMIRROR : DM_SOURCE_KERNEL;
	d->source = source;
	for (size_t i = 0; i < NSPECS; i++) {
		bool kp = !strcmp(specs[i].system, KP_SYSTEM);
		bool other = kernel_spec(&specs[i]) ? source != DM_SOURCE_KERNEL :
			     !strcmp(specs[i].system, DM_SYSTEM) && source != DM_SOURCE_DMIRROR;
		struct tep_event *ev = other || (kp && !group) ? NULL :
			tep_find_event_by_name(tep, kp ? group : specs[i].system, specs[i].name);

		d->e[i].id = -1;
		if (!ev)
			continue;
		bool usable = true;

		for (int j = 0; j < MAXF && specs[i].f[j].name; j++) {
			const struct fspec *fs = &specs[i].f[j];
			struct tep_format_field *f = find_field(ev, fs->name);

			if (!f && !(fs->flags & OPT) && specs[i].optional) {
				/* an event we can do without */
				usable = false;
				break;
			}
			if (!f && !(fs->flags & OPT)) {
				snprintf(err, errlen, "event %s:%s has no field '%s' (see docs/tracepoints.md)",
					 specs[i].system, specs[i].name, fs->name);
				free(d);
				return NULL;
			}
			if (f && (fs->flags & MIGR) && (f->size % 8 || f->size > 8 * 4096)) {
				snprintf(err, errlen, "event %s:%s field '%s' is not an array of u64",
					 specs[i].system, specs[i].name, fs->name);
				free(d);
				return NULL;
			}
			if (f && (fs->flags & ARR) &&
			    (!(f->flags & TEP_FIELD_IS_ARRAY) || f->arraylen < 1 ||
			     (f->elementsize != 1 && f->elementsize != 2 && f->elementsize != 4 &&
			      f->elementsize != 8))) {
				snprintf(err, errlen, "event %s:%s field '%s' is not an array of numbers",
					 specs[i].system, specs[i].name, fs->name);
				free(d);
				return NULL;
			}
			if (f && !(fs->flags & (STR | MIGR | ARR)) &&
			    f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) {
				snprintf(err, errlen, "event %s:%s field '%s' has an unexpected size %d",
					 specs[i].system, specs[i].name, fs->name, f->size);
				free(d);
				return NULL;
			}
			d->e[i].f[j] = f;
		}
		if (!usable)
			continue;
		plan_fast(d, &specs[i], &d->e[i]);
		plan_mirror(&specs[i], &d->e[i]);
		if (!d->common_pid)
			d->common_pid = tep_find_common_field(ev, "common_pid");
		if (!d->common_type)
			d->common_type = tep_find_common_field(ev, "common_type");
		d->e[i].id = ev->id;
		if (d->min_id < 0 || ev->id < d->min_id)
			d->min_id = ev->id;
		if (ev->id > d->max_id)
			d->max_id = ev->id;
		if (!strcmp(specs[i].system, DM_SYSTEM))
			d->ndmirror++;
		else if (kp)
			d->nkernel++;
		else
			d->nsched++;
	}
	if (!d->ndmirror && !d->nkernel) {
		if (source == DM_SOURCE_KERNEL && tep_find_event_by_name(tep, DM_SYSTEM, "dmirror_migrate_setup"))
			snprintf(err, errlen, "no kernel-probe events in the trace (it has dmirror's: --source dmirror)");
		else if (source == DM_SOURCE_DMIRROR && group)
			snprintf(err, errlen, "no dmirror events in the trace (it has kernel-probe events: --source kernel)");
		else
			snprintf(err, errlen, DM_NO_EVENTS_MSG);
		free(d);
		return NULL;
	}
	d->common_fast = d->native && d->common_type && d->common_pid &&
			 d->common_type->size == 2 && d->common_type->offset >= 0 &&
			 d->common_type->offset + 2 <= 8 && d->common_pid->size == 4 &&
			 d->common_pid->offset >= 0 && d->common_pid->offset + 4 <= 8;
	d->spec_of = malloc(((size_t)(d->max_id - d->min_id) + 1) * sizeof(*d->spec_of));
	if (!d->spec_of) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	for (int id = d->min_id; id <= d->max_id; id++)
		d->spec_of[id - d->min_id] = -1;
	for (size_t i = 0; i < NSPECS; i++)
		if (d->e[i].id >= 0)
			d->spec_of[d->e[i].id - d->min_id] = (int16_t)i;
	if (d->common_fast && d->min_id >= 0) {
		d->fast_of = calloc((size_t)(d->max_id - d->min_id) + 1, sizeof(*d->fast_of));
		if (!d->fast_of) {
			snprintf(err, errlen, "out of memory");
			dm_decoder_free(d);
			return NULL;
		}
		d->type_off = (uint16_t)d->common_type->offset;
		d->pid_off = (uint16_t)d->common_pid->offset;
		for (size_t i = 0; i < NSPECS; i++) {
			d->e[i].kind = (uint16_t)specs[i].kind;
			if (d->e[i].id >= 0 && d->e[i].fast)
				d->fast_of[d->e[i].id - d->min_id] = &d->e[i];
		}
	}
	return d;
}

void dm_decoder_free(struct dm_decoder *d)
{
	if (d) {
		free(d->spec_of);
		free(d->fast_of);
	}
	free(d);
}

bool dm_decoder_has(const struct dm_decoder *d, enum dm_ev_kind kind)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (specs[i].kind == kind && d->e[i].id >= 0)
			return true;
	return false;
}

bool dm_decoder_whole(const struct dm_decoder *d, enum dm_ev_kind kind)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (specs[i].kind == kind && d->e[i].id >= 0 && d->e[i].mirror)
			return true;
	return false;
}

void dm_decoder_field_by_field(struct dm_decoder *d)
{
	for (size_t i = 0; i < NSPECS; i++)
		d->e[i].mirror = false;
}

int dm_decoder_dmirror_formats(const struct dm_decoder *d)
{
	return d->ndmirror;
}

enum dm_source dm_decoder_source(const struct dm_decoder *d)
{
	return d->source;
}

int dm_decoder_kernel_formats(const struct dm_decoder *d)
{
	return d->nkernel;
}

int dm_decoder_sched_formats(const struct dm_decoder *d)
{
	return d->nsched;
}

/* Bounded read of a numeric field; missing fields read 0. */
static inline int rd(struct dm_decoder *d, const struct tep_record *rec,
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
static int rd_str(struct dm_decoder *d, const struct tep_record *rec,
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

/* MIGRATE_PFN_MIGRATE (include/linux/migrate.h; the same in 6.1, 6.12
 * and 7.x: tests/lint/probe-table) */
#define MPFN_MIGRATE (1ull << 1)

/* Counts the entries of a migrate_pfn array marked MIGRATE. */
static int rd_migr(struct dm_decoder *d, const struct tep_record *rec, struct tep_format_field *f,
		   uint64_t *migrate)
{
	*migrate = 0;
	if (!f)
		return 0;
	if (f->offset < 0 || f->offset + f->size > rec->size)
		return -1;
	for (int i = 0; i < f->size / 8; i++) {
		uint64_t v = d->native ? 0 :
			tep_read_number(d->tep, (char *)rec->data + f->offset + 8 * i, 8);

		if (d->native)
			memcpy(&v, (char *)rec->data + f->offset + 8 * i, 8);
		if (v & MPFN_MIGRATE)
			(*migrate)++;
	}
	return 0;
}

/* Stores v in the member at off, of size bytes (the low bytes of v:
 * two's complement keeps a sign-extended value right). */
static void store(struct dm_event *ev, unsigned short off, unsigned short size, uint64_t v)
{
	char *dst = (char *)ev + off;

	switch (size) {
	case 8: { uint64_t x = v; memcpy(dst, &x, 8); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	default: *(uint8_t *)dst = (uint8_t)v; break;
	}
}

/*
 * The fields of a fast event: the record is known to hold them all, and
 * ev is zeroed.  Decoding is most of report's time per event, and a
 * switch on each field's sizes mispredicts as the event kinds vary: each
 * field is read as the 8 bytes that end where it ends (every field lies
 * past the 8-byte common header, so they are in the record), shifted
 * down, and stored as 8 bytes (an event is fast only when its members and
 * the 7 bytes after each lie inside struct dm_event).  The fields are in
 * ascending order of their members, so the zeros a store writes past its
 * member either land in padding or members left zero, or are overwritten
 * by the next field.
 */
static void decode_fast(const struct edesc *e, const void *data, struct dm_event *ev)
{
	const unsigned char *src = data;
	const struct fnum *n = e->num, *end = e->num + e->nnum;
	const uint16_t *h = e->has, *hend = e->has + e->nhas;
	char *dst = (char *)ev;

	if (e->mirror) {
		memcpy(dst + e->span_dst, src + e->span_src, e->span_len);
		n = end;
	}
	/* under the guest's instruction-counting clock every instruction of
	 * this loop is paid a field a record: no branch in it */
	for (; n < end; n++) {
		uint64_t v;

		memcpy(&v, src + n->last8, 8);
		v = (uint64_t)((int64_t)v >> n->shift) & n->mask;
		memcpy(dst + n->dst, &v, 8);
	}
	for (; h < hend; h++)
		*(bool *)(dst + *h) = true;
}

static const struct dm_event dm_event_zero;

/*
 * The arrays of a dmirror_batch record, the first n elements of each
 * (n bounded by DM_BATCH_PAGES and every array's length), into the
 * decoder's batch; a record too short for them is refused.
 */
static int decode_batch(struct dm_decoder *d, const struct tep_record *rec, const struct espec *sp,
			const struct edesc *e, struct dm_event *ev)
{
	uint32_t n = ev->batch.n < DM_BATCH_PAGES ? ev->batch.n : DM_BATCH_PAGES;

	/* every member of an entry is one of the arrays, all required */
	for (int j = 0; j < MAXF && sp->f[j].name; j++) {
		const struct fspec *fs = &sp->f[j];
		const struct tep_format_field *f = e->f[j];
		unsigned int es;

		if (!(fs->flags & ARR))
			continue;
		es = f->elementsize;	/* 1, 2, 4 or 8 (dm_decoder_new) */
		if (f->offset < 0)
			return -1;
		if ((uint32_t)f->arraylen < n)
			n = (uint32_t)f->arraylen;
		if ((uint64_t)f->offset + (uint64_t)n * es > (uint64_t)rec->size)
			return -1;
		/* the common case: our byte order and the member's width, a
		 * copy per element (tep_read_number() was most of the time) */
		if (d->native && es == fs->size) {
			const char *src = (const char *)rec->data + f->offset;
			char *dst = (char *)d->batch + fs->off;

			switch (es) {
			case 8:
				for (uint32_t i = 0; i < n; i++)
					memcpy(dst + i * sizeof(d->batch[0]), src + i * 8, 8);
				break;
			case 4:
				for (uint32_t i = 0; i < n; i++)
					memcpy(dst + i * sizeof(d->batch[0]), src + i * 4, 4);
				break;
			default:
				for (uint32_t i = 0; i < n; i++)
					dst[i * sizeof(d->batch[0])] = src[i];
				break;
			}
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			unsigned long long x = tep_read_number(d->tep, (char *)rec->data + f->offset +
							       i * es, (int)es);

			if ((f->flags & TEP_FIELD_IS_SIGNED) && es < 8) {
				unsigned long long sign = 1ULL << (es * 8 - 1);

				x &= (1ULL << (es * 8)) - 1;
				x = (x ^ sign) - sign;
			}
			switch (fs->size) {
			case 8: { uint64_t v = x; memcpy((char *)&d->batch[i] + fs->off, &v, 8); break; }
			case 4: { uint32_t v = (uint32_t)x; memcpy((char *)&d->batch[i] + fs->off, &v, 4); break; }
			default: *((uint8_t *)&d->batch[i] + fs->off) = (uint8_t)x; break;
			}
		}
	}
	ev->batch.n = n;
	ev->batch.e = d->batch;
	return 1;
}

int dm_decode(struct dm_decoder *d, const struct tep_record *rec, struct dm_event *ev)
{
	const struct espec *sp;
	struct edesc *e;
	uint64_t v;
	int type, i;

	if (rec->size < 8)
		return 0;
	if (d->fast_of) {
		const unsigned char *data = rec->data;
		const struct edesc *f;
		uint16_t t;

		memcpy(&t, data + d->type_off, 2);
		if (t >= d->min_id && t <= d->max_id && (f = d->fast_of[t - d->min_id]) &&
		    rec->size >= f->need) {
			/* a copy, not memset(): at -O2 gcc makes that a rep
			 * stos, which took a third of the decoding time */
			*ev = dm_event_zero;
			ev->ts = rec->ts;
			ev->cpu = rec->cpu;
			memcpy(&ev->tid, data + d->pid_off, 4);
			ev->kind = f->kind;
			decode_fast(f, data, ev);
			return 1;
		}
	}
	if (d->common_fast) {
		uint16_t t;

		memcpy(&t, (const char *)rec->data + d->common_type->offset, 2);
		type = t;
	} else if (d->common_type) {
		if (rd(d, rec, d->common_type, &v))
			return 0;
		type = (int)v;
	} else {
		/* it only reads the record (its prototype predates const) */
		type = tep_data_type(d->tep, (struct tep_record *)rec);
	}
	if (type < d->min_id || type > d->max_id)
		return 0;
	i = d->spec_of[type - d->min_id];
	if (i < 0)
		return 0;
	e = &d->e[i];
	sp = &specs[i];

	*ev = dm_event_zero;
	ev->ts = rec->ts;
	ev->cpu = rec->cpu;
	if (d->common_fast) {
		memcpy(&ev->tid, (const char *)rec->data + d->common_pid->offset, 4);
	} else if (d->common_pid) {
		if (rd(d, rec, d->common_pid, &v))
			return -1;
		ev->tid = (int32_t)v;
	}
	ev->kind = sp->kind;
	if (e->fast && rec->size >= e->need) {
		decode_fast(e, rec->data, ev);
		return 1;
	}
	for (int j = 0; j < MAXF && sp->f[j].name; j++) {
		const struct fspec *fs = &sp->f[j];

		if (fs->flags & STR) {
			if (rd_str(d, rec, e->f[j], (char *)ev + fs->off, fs->size, fs->flags & BASE))
				return -1;
			continue;
		}
		if (fs->flags & MIGR) {
			if (rd_migr(d, rec, e->f[j], &v))
				return -1;
			store(ev, fs->off, fs->size, v);
			continue;
		}
		if (fs->flags & ARR)
			continue;
		if (rd(d, rec, e->f[j], &v))
			return -1;
		store(ev, fs->off, fs->size, v);
		if (fs->flags & HAS)
			*(bool *)((char *)ev + fs->has) = e->f[j] != NULL;
	}
	if (sp->kind == DM_EV_BATCH)
		return decode_batch(d, rec, sp, e, ev);
	return 1;
}
