// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-probe source (see probes.h).
 *
 * The events are written to tracefs' dynamic_events directly:
 * libtracefs 1.6 builds kprobes and kretprobes (tracefs_kprobe_alloc) but
 * knows nothing of fprobes, and lists and removes only the dynamic
 * events it can parse; one small writer serves both kinds here.
 *
 * What a probe reads is written as a template: "{mv.start}" is the offset
 * of migrate_vma.start, and an argument with an offset nobody knows (no
 * BTF and no table value) is left out of the event rather than guessed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <tracefs.h>

#include "btf.h"
#include "ksyms.h"
#include "probe_table.h"
#include "probes.h"

/* ------------------------------------------------------------- offsets */

struct layout {
	long off[DM_NLAYOUT];
	bool btf;
};

static void layout_fill(struct layout *l, const struct dm_btf *b)
{
	l->btf = b != NULL;
	for (size_t i = 0; i < DM_NLAYOUT; i++) {
		const struct dm_layout_field *f = &dm_layout_fields[i];
		long v = dm_btf_offset(b, f->type, f->member);

		if (v < 0 && f->alt_type)
			v = dm_btf_offset(b, f->alt_type, f->member);
		l->off[i] = v >= 0 ? v : f->table;
	}
}

static long layout_get(const struct layout *l, const char *name, size_t len)
{
	for (size_t i = 0; i < DM_NLAYOUT; i++)
		if (strlen(dm_layout_fields[i].name) == len &&
		    !strncmp(dm_layout_fields[i].name, name, len))
			return l->off[i];
	return -1;
}

/* ------------------------------------------------------------- kernels */

/* The running kernel's major.minor; false when uname does not say. */
static bool kernel_version(unsigned int *ma, unsigned int *mi)
{
	struct utsname u;

	return !uname(&u) && sscanf(u.release, "%u.%u", ma, mi) == 2;
}

static const struct dm_kernel_row *kernel_row(bool *exact)
{
	unsigned int ma, mi;

	*exact = false;
	if (!kernel_version(&ma, &mi))
		return &dm_kernel_rows[0];
	return dm_kernel_row_for(ma, mi, exact);
}

/*
 * Since 6.14 an fprobe's exit handler runs from function graph's
 * return_to_handler, and an interrupt that lands in that trampoline's
 * last instructions sees a stack the ORC unwinder cannot walk: a stack
 * trace taken there (KASAN, kmemleak and lockdep take them from
 * interrupts) prints "WARNING: stack going in the wrong direction? at
 * return_to_handler".  A kretprobe returns through rethook's trampoline,
 * which the unwinder knows, and costs no more (measured under
 * tests/guest/run --icount on a 4 KiB CPU fault: 2.5 us, against 2.8 to
 * 3.3 us for an fprobe exit), so return probes are kretprobes there.
 */
static bool fexit_on_graph(void)
{
	unsigned int ma, mi;

	return kernel_version(&ma, &mi) && (ma > 6 || (ma == 6 && mi >= 14));
}

/* Whether the running kernel's configuration has opt off ("is not set"
 * or absent); false when the configuration cannot be read. */
static bool config_off(const char *opt)
{
	struct utsname u;
	char path[320], line[256];
	size_t ol = strlen(opt);
	bool seen = false, on = false;
	gzFile z = gzopen("/proc/config.gz", "rb");

	if (!z && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		z = gzopen(path, "rb");	/* reads plain files too */
	}
	if (!z)
		return false;
	while (gzgets(z, line, sizeof(line))) {
		seen = true;
		if (!strncmp(line, opt, ol) && line[ol] == '=')
			on = line[ol + 1] == 'y' || line[ol + 1] == 'm';
	}
	gzclose(z);
	return seen && !on;
}

/* -------------------------------------------------------------- probes */

/*
 * One event.  args is a template: {name} is a layout offset or one of
 * the expansions in expand(); an argument whose template cannot be filled
 * is left out.  The events' fields are documented in docs/analyzer.md.
 *
 * A fault page's pgmap is read in an event of its own, filtered on the
 * page being there: reading through a NULL pointer does not fail a probe,
 * it leaves that field's bytes as the ring buffer had them.
 */
struct probe_def {
	const char *event;
	const char *func;	/* NULL: the kernel row's */
	bool ret;
	const char *args;
	const char *filter;
	bool essential;		/* without it there is nothing to analyse */
	bool optional;		/* missing on some kernels by design, or without
				 * BTF: placed only with all its arguments */
};

#define STR_(x) #x
#define STR(x) STR_(x)
#define MV_ARGS "start=+{mv.start}($arg1):x64 end=+{mv.end}($arg1):x64 " \
	"npages=+{mv.npages}($arg1):u64 cpages=+{mv.cpages}($arg1):u64"

static const struct probe_def probe_defs[DM_KP_MAX] = {
	[DM_KP_SETUP] = { "mv_setup", "migrate_vma_setup", false,
		"start=+{mv.start}($arg1):x64 end=+{mv.end}($arg1):x64 "
		"owner=+{mv.owner}($arg1):x64 flags=+{mv.flags}($arg1):x64 "
		"fpage=+{mv.fault_page}($arg1):x64 caller=$stack0:x64", NULL, true, false },
	[DM_KP_SETUP_FPAGE] = { "mv_setup_fpage", "migrate_vma_setup", false,
		"fpage=+{mv.fault_page}($arg1):x64 "
		"fpgmap=+{page.pgmap}(+{mv.fault_page}($arg1)):x64 "
		"fowner=+{pgmap.owner}(+{page.pgmap}(+{mv.fault_page}($arg1))):x64",
		"fpage != 0", false, false },
	[DM_KP_SETUP_RET] = { "mv_setup_ret", "migrate_vma_setup", true,
		"ret=$retval:s32 npages=+{mv.npages}($arg1):u64 cpages=+{mv.cpages}($arg1):u64",
		NULL, false, false },
	[DM_KP_PAGES] = { "mv_pages", "migrate_vma_pages", false, MV_ARGS, NULL, false, false },
	[DM_KP_FINAL] = { "mv_final", "migrate_vma_finalize", false,
		MV_ARGS " src=+0(+{mv.src}($arg1)):x64[" STR(DM_KP_FINAL_ENTRIES) "]", NULL, false, false },
	[DM_KP_FINAL_RET] = { "mv_final_ret", "migrate_vma_finalize", true, "", NULL, false, false },
	[DM_KP_PAGE_INIT] = { "dev_page_init", "zone_device_page_init", false,
		"page=$arg1:x64 pgmap={init.pgmap}:x64 order={init.order}:u32 "
		"owner=+{pgmap.owner}({init.pgmap}):x64 ops=+{pgmap.ops}({init.pgmap}):x64",
		NULL, false, false },
	[DM_KP_PAGE_FREE] = { "dev_page_free", NULL, false,
		"page=$arg1:x64 pgmap=+{page.pgmap}($arg1):x64", NULL, false, false },
	[DM_KP_SWAP] = { "swap_fault", "do_swap_page", false,
		"addr=+{vmf.address}($arg1):x64 flags=+{vmf.flags}($arg1):x32 "
		"pte=+{vmf.orig_pte}($arg1):x64", NULL, true, false },
	[DM_KP_SWAP_RET] = { "swap_fault_ret", "do_swap_page", true,
		"ret=$retval:x32 page=+{vmf.page}($arg1):x64", NULL, false, false },
	[DM_KP_SWAP_MTR] = { "swap_fault_mtr", "do_swap_page", true,
		"page=+{vmf.page}($arg1):x64 "
		"mtr=+{ops.migrate_to_ram}(+{pgmap.ops}(+{page.pgmap}(+{vmf.page}($arg1)))):x64",
		"page != 0", false, true },
	[DM_KP_LOCK_WAIT] = { "lock_wait", NULL, false, "", NULL, false, true },
	[DM_KP_HMM_RET] = { "hmm_fault_ret", "hmm_range_fault", true, "ret=$retval:s32", NULL,
		false, false },
};

const char *dm_kp_event_name(enum dm_kp k)
{
	return k < 0 || k >= DM_KP_MAX ? "?" : probe_defs[k].event;
}

struct build {
	const struct layout *l;
	const struct dm_kernel_row *row;
	struct dm_ksyms *ks;		/* what the kernel has, by name; NULL unknown */
	int init_params;	/* zone_device_page_init's, from BTF; -1 */
};

/* {name} into out; false when it has no value here. */
static bool expand(const struct build *b, const char *name, size_t len, char *out, size_t n)
{
	long v;

	if (len == 10 && !strncmp(name, "init.pgmap", 10)) {
		bool arg = b->init_params >= 0 ? b->init_params >= 2 : b->row->init_pgmap;

		if (arg) {
			snprintf(out, n, "$arg2");
			return true;
		}
		v = layout_get(b->l, "page.pgmap", 10);
		if (v < 0)
			return false;
		snprintf(out, n, "+%ld($arg1)", v);
		return true;
	}
	if (len == 10 && !strncmp(name, "init.order", 10)) {
		bool arg = b->init_params >= 0 ? b->init_params >= 3 : b->row->init_pgmap;

		if (!arg)
			return false;
		snprintf(out, n, "$arg3");
		return true;
	}
	v = layout_get(b->l, name, len);
	if (v < 0)
		return false;
	snprintf(out, n, "%ld", v);
	return true;
}

/* The template t filled in; false when it cannot be. */
static bool fill(const struct build *b, const char *t, char *out, size_t n)
{
	size_t o = 0;

	while (*t) {
		if (*t == '{') {
			const char *end = strchr(t, '}');
			char v[64];

			if (!end || !expand(b, t + 1, (size_t)(end - t - 1), v, sizeof(v)))
				return false;
			o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s", v);
			t = end + 1;
		} else {
			if (o + 1 < n)
				out[o] = *t;
			o++;
			t++;
		}
	}
	if (o >= n)
		return false;
	out[o] = 0;
	return true;
}

/* Each argument of the template filled in, those that cannot be left
 * out; how many were. */
static int fill_args(const struct build *b, const char *t, char *out, size_t n)
{
	char one[512], arg[512];
	int dropped = 0;

	out[0] = 0;
	while (*t) {
		size_t len = strcspn(t, " ");

		snprintf(one, sizeof(one), "%.*s", (int)len, t);
		if (len && fill(b, one, arg, sizeof(arg))) {
			size_t o = strlen(out);

			snprintf(out + o, n - o, "%s%s", o ? " " : "", arg);
		} else if (len) {
			dropped++;
		}
		t += len;
		while (*t == ' ')
			t++;
	}
	return dropped;
}

/* Arguments without the ones reading $argN (a return probe on a kernel
 * that cannot read the entry's arguments there: before 6.10). */
static bool drop_entry_args(char *args)
{
	char out[2048] = "", *save = NULL, *tok;
	bool dropped = false;

	for (tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t o = strlen(out);

		if (strstr(tok, "$arg")) {
			dropped = true;
			continue;
		}
		snprintf(out + o, sizeof(out) - o, "%s%s", o ? " " : "", tok);
	}
	strcpy(args, out);
	return dropped;
}

static int write_dynamic_events(const char *line, char *why, size_t n)
{
	char *path = tracefs_get_tracing_file("dynamic_events");
	int fd, e = 0;
	ssize_t w;

	if (!path) {
		snprintf(why, n, "no dynamic_events in tracefs");
		return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	tracefs_put_tracing_file(path);
	if (fd < 0) {
		snprintf(why, n, "cannot open dynamic_events: %s", strerror(errno));
		return -1;
	}
	w = write(fd, line, strlen(line));
	if (w < 0)
		e = errno;
	close(fd);
	if (w >= 0)
		return 0;
	/* the kernel's own word for it, when it logged one */
	{
		char *last = tracefs_error_last(NULL);
		size_t l = last ? strcspn(last, "\n") : 0;

		if (l)
			snprintf(why, n, "%s: %.*s", strerror(e), (int)l, last);
		else
			snprintf(why, n, "%s", strerror(e));
		free(last);
	}
	return -1;
}

static const char *probe_func(const struct probe_def *d, enum dm_kp k, const struct dm_kernel_row *row)
{
	const char *bogus = getenv("ANALYZER_TEST_BOGUS_PROBE");
	const char *name = dm_kp_event_name(k);
	size_t nl = strlen(name);

	/* a comma-separated list of our event names */
	for (const char *b = bogus; b && *b; b += strcspn(b, ",") + (b[strcspn(b, ",")] == ',')) {
		if (strcspn(b, ",") == nl && !strncmp(b, name, nl))
			return "dmirror_analyzer_no_such_function";
	}
	if (d->func)
		return d->func;
	if (k == DM_KP_PAGE_FREE)
		return row->page_free;
	if (k == DM_KP_LOCK_WAIT)
		return row->lock_wait;
	return NULL;
}

/* The event line of one kind of probe: 'f' fprobe, 'k' kprobe or kretprobe. */
static void probe_line(const struct dm_probes *p, enum dm_kp k, char kind, const char *func,
		       const char *args, char *line, size_t n)
{
	const struct probe_def *d = &probe_defs[k];

	if (kind == 'f')
		snprintf(line, n, "f:%s/%s %s%s %s\n", p->group, dm_kp_event_name(k), func,
			 d->ret ? "%return" : "", args);
	else if (d->ret)
		/* many faults sleep at once: room for their returns */
		snprintf(line, n, "r64:%s/%s %s %s\n", p->group, dm_kp_event_name(k), func, args);
	else
		snprintf(line, n, "p:%s/%s %s %s\n", p->group, dm_kp_event_name(k), func, args);
}

/* One event: fprobe first where the kernel has them (but see
 * fexit_on_graph() for return probes), else kprobe. */
static void place(struct dm_probes *p, enum dm_kp k, const struct build *b)
{
	const struct probe_def *d = &probe_defs[k];
	struct dm_probe_state *st = &p->st[k];
	const char *func = probe_func(d, k, b->row);
	const char *kinds = !p->fprobe ? "k" : d->ret && p->fexit_graph ? "kf" : "fk";
	char args[2048], line[2400];
	bool retried = false;

	if (!func || (b->ks && !dm_ksyms_addr(b->ks, func))) {
		snprintf(st->why, sizeof(st->why), "not in this kernel");
		return;
	}
	if (fill_args(b, d->args, args, sizeof(args)) && d->optional) {
		snprintf(st->why, sizeof(st->why), "needs BTF");
		return;
	}
	for (;;) {
		for (const char *kind = kinds; *kind; kind++) {
			probe_line(p, k, *kind, func, args, line, sizeof(line));
			if (!write_dynamic_events(line, st->why, sizeof(st->why))) {
				st->placed = true;
				st->how = *kind == 'f' ? 'f' : d->ret ? 'r' : 'p';
				st->why[0] = 0;
				p->placed++;
				return;
			}
		}
		/* a return probe that cannot read the entry's arguments */
		if (retried || !d->ret || !strstr(args, "$arg"))
			return;
		if (d->optional) {
			snprintf(st->why, sizeof(st->why), "return probes cannot read arguments here");
			return;
		}
		drop_entry_args(args);
		st->args_dropped = true;
		retried = true;
	}
}

static bool readme_has(const char *what)
{
	char *s = tracefs_instance_file_read(NULL, "README", NULL);
	bool has = s && strstr(s, what);

	free(s);
	return has;
}

bool dm_probes_supported(void)
{
	/* dynamic_events alone may serve only uprobes and eprobes */
	return tracefs_file_exists(NULL, "kprobe_events") ||
	       readme_has("f[:[<group>/][<event>]] <func-name>");
}

int dm_probes_create(struct dm_probes *p, char *err, size_t errlen)
{
	struct layout l;
	struct dm_btf *btf = dm_btf_load(getenv("ANALYZER_TEST_BTF"));
	bool exact;
	const struct dm_kernel_row *row = kernel_row(&exact);
	struct build b = { .l = &l, .row = row };
	long ps = sysconf(_SC_PAGESIZE);

	memset(p, 0, sizeof(*p));
	snprintf(p->group, sizeof(p->group), DM_KP_GROUP_PREFIX "%d", (int)getpid());
	if (!dm_probes_supported()) {
		snprintf(err, errlen, "this kernel has no kprobe or fprobe events (CONFIG_KPROBE_EVENTS)");
		return -1;
	}
	layout_fill(&l, btf);
	b.init_params = dm_btf_func_params(btf, "zone_device_page_init");
	dm_btf_free(btf);
	b.ks = dm_ksyms_load(NULL);
	snprintf(p->kernel, sizeof(p->kernel), "%s", row->series);
	p->verified = exact;
	p->btf = l.btf;
	p->fprobe = readme_has("f[:[<group>/][<event>]] <func-name>");
	p->fexit_graph = p->fprobe && fexit_on_graph();
	for (int i = 0; i < 2; i++) {
		unsigned int shift = row->marker_opt && config_off(row->marker_opt) ? 1 : 0;

		p->swp_private[i] = row->swp_private[i] + shift;
		p->swp_exclusive[i] = row->swp_exclusive[i] ? row->swp_exclusive[i] + shift : 0;
	}
	while (ps > 1 && (1L << p->page_shift) < ps)
		p->page_shift++;

	for (int k = 0; k < DM_KP_MAX; k++)
		place(p, k, &b);
	dm_ksyms_free(b.ks);
	for (int k = 0; k < DM_KP_MAX; k++) {
		if (probe_defs[k].essential && !p->st[k].placed) {
			snprintf(err, errlen, "cannot probe %s: %s", probe_func(&probe_defs[k], k, row),
				 p->st[k].why);
			dm_probes_remove(p);
			return -1;
		}
	}
	return 0;
}

int dm_probes_enable(struct dm_probes *p, struct tracefs_instance *inst, char *err, size_t errlen)
{
	struct build b = { 0 };

	for (int k = 0; k < DM_KP_MAX; k++) {
		const char *ev = dm_kp_event_name(k);
		char filter[128];

		if (!p->st[k].placed)
			continue;
		if (probe_defs[k].filter && fill(&b, probe_defs[k].filter, filter, sizeof(filter)) &&
		    tracefs_event_file_write(inst, p->group, ev, "filter", filter) < 0) {
			snprintf(err, errlen, "cannot set the filter of %s/%s: %s", p->group, ev,
				 strerror(errno));
			return -1;
		}
		if (tracefs_event_enable(inst, p->group, ev)) {
			snprintf(err, errlen, "cannot enable %s/%s: %s", p->group, ev, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void remove_event(const char *group, const char *event)
{
	char line[160], why[160];

	snprintf(line, sizeof(line), "-:%s/%s\n", group, event);
	if (write_dynamic_events(line, why, sizeof(why)))
		fprintf(stderr, "analyzer: record: cannot remove the probe event %s/%s: %s\n", group,
			event, why);
}

void dm_probes_remove(struct dm_probes *p)
{
	for (int k = 0; k < DM_KP_MAX; k++) {
		if (!p->st[k].placed)
			continue;
		remove_event(p->group, dm_kp_event_name(k));
		p->st[k].placed = false;
		p->placed--;
	}
}

/* Alive and an analyzer: its group is in use. */
static bool owner_alive(long pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "analyzer", 8);
}

int dm_probes_remove_stale(void)
{
	char *s = tracefs_instance_file_read(NULL, "dynamic_events", NULL);
	size_t pl = strlen(DM_KP_GROUP_PREFIX);
	int removed = 0;

	for (char *line = s, *next; line && *line; line = next) {
		char group[64], event[64], *colon;
		long pid;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		/* "p:group/event func args", "r64:group/...", "f:group/..." */
		colon = strchr(line, ':');
		if (!colon || sscanf(colon + 1, "%63[^/]/%63s", group, event) != 2)
			continue;
		if (strncmp(group, DM_KP_GROUP_PREFIX, pl))
			continue;
		pid = strtol(group + pl, NULL, 10);
		if (pid <= 0 || pid == getpid() || owner_alive(pid))
			continue;
		remove_event(group, event);
		removed++;
	}
	free(s);
	return removed;
}

void dm_probes_describe(const struct dm_probes *p, char *buf, size_t n)
{
	size_t o;
	bool any = false;
	int kinds[3] = { 0 };

	for (int k = 0; k < DM_KP_MAX; k++)
		if (p->st[k].placed)
			kinds[p->st[k].how == 'f' ? 0 : p->st[k].how == 'p' ? 1 : 2]++;
	o = (size_t)snprintf(buf, n,
			     "source: kernel probes (%d fprobe, %d kprobe, %d kretprobe events; "
			     "offsets from %s; probe table of %s%s)",
			     kinds[0], kinds[1], kinds[2], p->btf ? "BTF" : "the built-in table",
			     p->kernel, p->verified ? "" : ", NOT verified on this kernel");
	for (int k = 0; k < DM_KP_MAX && o < n; k++) {
		if (p->st[k].placed)
			continue;
		o += (size_t)snprintf(buf + o, n - o, "%s%s (%s)", any ? ", " : "; not placed: ",
				      dm_kp_event_name(k), p->st[k].why);
		any = true;
	}
	for (int k = 0; k < DM_KP_MAX && o < n; k++) {
		if (!p->st[k].args_dropped)
			continue;
		o += (size_t)snprintf(buf + o, n - o, "; %s without entry arguments",
				      dm_kp_event_name(k));
	}
}

void dm_probes_meta(const struct dm_probes *p, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n,
				    "probes.group: %s\nprobes.kernel: %s\nprobes.verified: %s\n"
				    "probes.offsets: %s\nprobes.swp_private: %u %u\n"
				    "probes.swp_exclusive: %u %u\nprobes.page_shift: %u\nprobes.placed:",
				    p->group, p->kernel, p->verified ? "yes" : "no",
				    p->btf ? "btf" : "table", p->swp_private[0], p->swp_private[1],
				    p->swp_exclusive[0], p->swp_exclusive[1], p->page_shift);

	for (int k = 0; k < DM_KP_MAX && o < n; k++)
		if (p->st[k].placed)
			o += (size_t)snprintf(buf + o, n - o, " %s%s", dm_kp_event_name(k),
					      p->st[k].args_dropped ? "(no-args)" : "");
	if (o < n)
		o += (size_t)snprintf(buf + o, n - o, "\n");
}
