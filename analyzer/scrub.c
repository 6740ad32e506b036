// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event-parse.h>
#include <kbuffer.h>

#include "hmap.h"
#include "ksyms.h"
#include "probes.h"
#include "scrub.h"

enum tok_kind { TOK_OWNER, TOK_PAGE, TOK_PGMAP, TOK_SYM, TOK_KINDS };

static const char *const tok_names[TOK_KINDS] = { "owner", "page", "pgmap", "sym" };

/* What a field of our events holds, by its name. */
static const struct {
	const char *field;
	enum tok_kind kind;
} roles[] = {
	{ "owner", TOK_OWNER }, { "fowner", TOK_OWNER },
	{ "page", TOK_PAGE }, { "fpage", TOK_PAGE },
	{ "pgmap", TOK_PGMAP }, { "fpgmap", TOK_PGMAP },
	{ "caller", TOK_SYM }, { "mtr", TOK_SYM }, { "ops", TOK_SYM },
	/* every probe event's own: the probed function, and where a return
	 * probe returns to */
	{ "__probe_ip", TOK_SYM }, { "__probe_func", TOK_SYM }, { "__probe_ret_ip", TOK_SYM },
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))
#define MAXTF 8

struct ev_rules {
	int id;
	int ntok;
	struct { int off; enum tok_kind kind; } tok[MAXTF];
	/* a fault page's pgmap word: a tail page holds its head there, tagged */
	int fpgmap_off, fowner_off;
	/* finalize: src[] and the field that bounds it */
	int src_off, src_len, npages_off;
};

struct dm_scrub {
	struct ev_rules *ev;
	int nev;
	struct kbuffer *kb;
	struct hmap map[TOK_KINDS];
	uint64_t next[TOK_KINDS];
	char **sym;		/* sym[token - 1] */
	size_t nsym, symcap;
	struct dm_ksyms *ks;
	const char *ks_path;
	time_t ks_loaded;
};

static int field_off(struct tep_event *e, const char *name, int size)
{
	struct tep_format_field *f = tep_find_field(e, name);

	return f && f->size == size ? f->offset : -1;
}

static int add_rules(struct dm_scrub *s, struct tep_event *e)
{
	struct ev_rules *r;
	struct tep_format_field *src;

	r = realloc(s->ev, (size_t)(s->nev + 1) * sizeof(*r));
	if (!r)
		return -1;
	s->ev = r;
	r = &s->ev[s->nev++];
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	for (size_t i = 0; i < NROLES && r->ntok < MAXTF; i++) {
		int off = field_off(e, roles[i].field, 8);

		if (off < 0)
			continue;
		r->tok[r->ntok].off = off;
		r->tok[r->ntok].kind = roles[i].kind;
		r->ntok++;
	}
	r->fpgmap_off = field_off(e, "fpgmap", 8);
	r->fowner_off = field_off(e, "fowner", 8);
	src = tep_find_field(e, "src");
	r->src_off = src ? src->offset : -1;
	r->src_len = src ? src->size : 0;
	r->npages_off = field_off(e, "npages", 8);
	return 0;
}

struct dm_scrub *dm_scrub_new(struct tep_handle *tep, const char *group, const char *kallsyms,
			      char *err, size_t errlen)
{
	struct dm_scrub *s = calloc(1, sizeof(*s));
	struct tep_event **all;

	if (!s)
		goto oom;
	s->kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	if (!s->kb)
		goto oom;
	for (int k = 0; k < TOK_KINDS; k++)
		if (hmap_init(&s->map[k], 256))
			goto oom;
	all = tep_list_events(tep, TEP_EVENT_SORT_ID);
	for (int i = 0; all && all[i]; i++)
		if (all[i]->system && !strcmp(all[i]->system, group) && add_rules(s, all[i]))
			goto oom;
	s->ks_path = kallsyms;
	s->ks = dm_ksyms_load(kallsyms);
	s->ks_loaded = time(NULL);
	return s;
oom:
	snprintf(err, errlen, "out of memory");
	dm_scrub_free(s);
	return NULL;
}

void dm_scrub_free(struct dm_scrub *s)
{
	if (!s)
		return;
	if (s->kb)
		kbuffer_free(s->kb);
	for (int k = 0; k < TOK_KINDS; k++)
		hmap_free(&s->map[k]);
	for (size_t i = 0; i < s->nsym; i++)
		free(s->sym[i]);
	free(s->sym);
	free(s->ev);
	dm_ksyms_free(s->ks);
	free(s);
}

/* A symbol's text, now; a module loaded since the last read makes us
 * read kallsyms again (at most once a second). */
static char *sym_text(struct dm_scrub *s, uint64_t addr)
{
	char buf[256];
	time_t now = time(NULL);
	bool ok = !dm_ksyms_name(s->ks, addr, buf, sizeof(buf));

	if ((!ok || !strchr(buf, '[')) && now != s->ks_loaded) {
		struct dm_ksyms *k = dm_ksyms_load(s->ks_path);

		if (k) {
			dm_ksyms_free(s->ks);
			s->ks = k;
		}
		s->ks_loaded = now;
		ok = !dm_ksyms_name(s->ks, addr, buf, sizeof(buf));
	}
	return strdup(ok ? buf : "?");
}

static uint64_t token(struct dm_scrub *s, enum tok_kind k, uint64_t raw)
{
	uint32_t t;

	if (!raw)
		return 0;
	t = hmap_get(&s->map[k], raw, 0);
	if (t != HMAP_NONE)
		return t;
	if (s->next[k] >= UINT32_MAX - 1)
		return DM_TOKEN_UNKNOWN;
	if (k == TOK_SYM) {
		if (s->nsym == s->symcap) {
			size_t nc = s->symcap ? s->symcap * 2 : 64;
			char **n = realloc(s->sym, nc * sizeof(*n));

			if (!n)
				return DM_TOKEN_UNKNOWN;
			s->sym = n;
			s->symcap = nc;
		}
		s->sym[s->nsym] = sym_text(s, raw);
		if (!s->sym[s->nsym])
			return DM_TOKEN_UNKNOWN;
		s->nsym++;
	}
	t = (uint32_t)++s->next[k];
	if (hmap_put(&s->map[k], raw, 0, t))
		return DM_TOKEN_UNKNOWN;
	return t;
}

static uint64_t get64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void put64(char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void scrub_event(struct dm_scrub *s, const struct ev_rules *r, char *data, int size)
{
	bool tail = false;

	/* a tail page: its "pgmap" word is its head, tagged in bit 0, and
	 * what the probe read through it is not an owner */
	if (r->fpgmap_off >= 0 && r->fpgmap_off + 8 <= size && (get64(data + r->fpgmap_off) & 1))
		tail = true;
	for (int i = 0; i < r->ntok; i++) {
		char *p = data + r->tok[i].off;

		if (r->tok[i].off + 8 > size)
			continue;
		if (tail && (r->tok[i].off == r->fpgmap_off || r->tok[i].off == r->fowner_off))
			put64(p, DM_TOKEN_UNKNOWN);
		else
			put64(p, token(s, r->tok[i].kind, get64(p)));
	}
	if (r->src_off >= 0 && r->src_off + r->src_len <= size) {
		uint64_t keep = r->npages_off >= 0 ? get64(data + r->npages_off) : 0;

		if (keep < (uint64_t)r->src_len / 8)
			memset(data + r->src_off + keep * 8, 0, (size_t)r->src_len - keep * 8);
	}
}

void dm_scrub_page(struct dm_scrub *s, void *page)
{
	unsigned long long ts;
	char *data;

	if (!s->nev || kbuffer_load_subbuffer(s->kb, page))
		return;
	for (data = kbuffer_read_event(s->kb, &ts); data; data = kbuffer_next_event(s->kb, &ts)) {
		int size = kbuffer_event_size(s->kb);
		uint16_t type;

		if (size < 8)
			continue;
		memcpy(&type, data, 2);
		for (int i = 0; i < s->nev; i++) {
			if (s->ev[i].id == type) {
				scrub_event(s, &s->ev[i], data, size);
				break;
			}
		}
	}
}

const char *dm_scrub_sym(const struct dm_scrub *s, uint64_t token)
{
	if (!s || !token || token > s->nsym)
		return NULL;
	return s->sym[token - 1];
}

void dm_scrub_meta(const struct dm_scrub *s, FILE *m)
{
	fprintf(m, "tokens:");
	for (int k = 0; k < TOK_KINDS; k++)
		fprintf(m, " %s=%llu", tok_names[k], (unsigned long long)s->next[k]);
	fprintf(m, "\n");
	for (size_t i = 0; i < s->nsym; i++)
		fprintf(m, "sym.%zu: %s\n", i + 1, s->sym[i]);
}
