// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio_ext.h>
#include <string.h>

#include "json.h"

void dm_json_init(struct dm_json *j, FILE *f, int depth, bool wrap)
{
	memset(j, 0, sizeof(*j));
	/* The analyzer writes from one thread: stdio's per-call locking was
	 * a quarter of a long --json report's time. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	j->f = f;
	j->depth = depth;
	j->first[depth] = true;
	j->wrap[depth] = wrap;
}

static void indent(struct dm_json *j, int depth)
{
	fputc('\n', j->f);
	for (int i = 0; i < depth; i++)
		fputs("  ", j->f);
}

static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The separator and the key of the next member. */
static void member(struct dm_json *j, const char *key)
{
	int d = j->depth;

	if (d > 0) {
		if (!j->first[d])
			fputc(',', j->f);
		if (j->wrap[d])
			indent(j, d);
		else if (!j->first[d])
			fputc(' ', j->f);
	}
	j->first[d] = false;
	if (key) {
		quoted(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_container(struct dm_json *j, const char *key, bool wrap, char open, char close)
{
	member(j, key);
	fputc(open, j->f);
	if (j->depth + 1 >= DM_JSON_DEPTH)
		return;		/* deeper than any report: the layout stops nesting */
	j->depth++;
	j->first[j->depth] = true;
	j->wrap[j->depth] = wrap;
	j->close[j->depth] = close;
}

void dm_json_object(struct dm_json *j, const char *key, bool wrap)
{
	open_container(j, key, wrap, '{', '}');
}

void dm_json_array(struct dm_json *j, const char *key, bool wrap)
{
	open_container(j, key, wrap, '[', ']');
}

void dm_json_end(struct dm_json *j)
{
	int d = j->depth;

	if (d <= 0)
		return;
	if (j->wrap[d] && !j->first[d])
		indent(j, d - 1);
	fputc(j->close[d], j->f);
	j->depth--;
	if (!j->depth)
		fputc('\n', j->f);
}

void dm_json_str(struct dm_json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		quoted(j->f, s);
	else
		fputs("null", j->f);
}

void dm_json_u64(struct dm_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void dm_json_i64(struct dm_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void dm_json_dbl(struct dm_json *j, const char *key, double v)
{
	member(j, key);
	fprintf(j->f, "%.1f", v);
}

void dm_json_milli(struct dm_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64 ".%03u", v / 1000, (unsigned int)(v % 1000));
}

void dm_json_bool(struct dm_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void dm_json_null(struct dm_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void dm_json_hex(struct dm_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

void dm_json_paste(struct dm_json *j, FILE *members)
{
	char buf[65536];
	size_t n;
	bool any = false;

	fflush(members);
	rewind(members);
	while ((n = fread(buf, 1, sizeof(buf), members)) > 0) {
		if (!any && !j->first[j->depth])
			fputc(',', j->f);
		any = true;
		fwrite(buf, 1, n, j->f);
	}
	if (any)
		j->first[j->depth] = false;
}
