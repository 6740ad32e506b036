// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kallsyms as a sorted table.  libtraceevent can parse kallsyms
 * (tep_parse_kallsyms) but keeps it inside a tep handle whose lookup,
 * tep_find_function, gives no module name; ours is a plain sorted array
 * with the module kept, which is all the report needs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct sym {
	uint64_t addr;
	const char *name;	/* into the strings block */
	const char *module;	/* "" for the kernel proper */
};

struct dm_ksyms {
	struct sym *syms;
	size_t n;
	char *strings;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct dm_ksyms *dm_ksyms_load(const char *path)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r");
	struct dm_ksyms *k;
	char line[1024];
	size_t cap = 0, slen = 0, scap = 0;
	bool any_addr = false;

	if (!f)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		fclose(f);
		return NULL;
	}
	/* Names go to one block; offsets first, pointers once it stops moving. */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, name[512], mod[256] = "";
		size_t nl, ml;
		char *ns;

		if (sscanf(line, "%llx %c %511s [%255[^]]]", &a, &type, name, mod) < 3)
			continue;
		if (a)
			any_addr = true;
		nl = strlen(name) + 1;
		ml = strlen(mod) + 1;
		if (k->n == cap) {
			struct sym *s = realloc(k->syms, (cap = cap ? cap * 2 : 65536) * sizeof(*s));

			if (!s)
				goto fail;
			k->syms = s;
		}
		if (slen + nl + ml > scap) {
			scap = (scap ? scap * 2 : 1 << 20) + nl + ml;
			ns = realloc(k->strings, scap);
			if (!ns)
				goto fail;
			k->strings = ns;
		}
		memcpy(k->strings + slen, name, nl);
		memcpy(k->strings + slen + nl, mod, ml);
		k->syms[k->n].addr = a;
		k->syms[k->n].name = (const char *)(uintptr_t)slen;
		k->syms[k->n].module = (const char *)(uintptr_t)(slen + nl);
		k->n++;
		slen += nl + ml;
	}
	fclose(f);
	f = NULL;
	if (!any_addr || !k->n)
		goto fail;
	for (size_t i = 0; i < k->n; i++) {
		k->syms[i].name = k->strings + (uintptr_t)k->syms[i].name;
		k->syms[i].module = k->strings + (uintptr_t)k->syms[i].module;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_sym);
	return k;
fail:
	if (f)
		fclose(f);
	dm_ksyms_free(k);
	return NULL;
}

void dm_ksyms_free(struct dm_ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->strings);
	free(k);
}

int dm_ksyms_name(const struct dm_ksyms *k, uint64_t addr, char *buf, size_t n)
{
	size_t lo = 0, hi;
	const struct sym *s;

	if (!k || !k->n || addr < k->syms[0].addr)
		return -1;
	hi = k->n;
	/* the last symbol at or below addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	s = &k->syms[lo];
	if (*s->module)
		snprintf(buf, n, "%s+0x%llx [%s]", s->name, (unsigned long long)(addr - s->addr),
			 s->module);
	else
		snprintf(buf, n, "%s+0x%llx", s->name, (unsigned long long)(addr - s->addr));
	return 0;
}

uint64_t dm_ksyms_addr(const struct dm_ksyms *k, const char *name)
{
	if (!k)
		return 0;
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->syms[i].name, name))
			return k->syms[i].addr;
	return 0;
}
