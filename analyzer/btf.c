// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf.h"

struct dm_btf {
	struct btf *btf;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

struct dm_btf *dm_btf_load(const char *path)
{
	struct dm_btf *b;
	struct btf *btf;

	/* a kernel without BTF is an expected case, not an error to print */
	libbpf_set_print(quiet);
	btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
	if (!btf)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		btf__free(btf);
		return NULL;
	}
	b->btf = btf;
	return b;
}

void dm_btf_free(struct dm_btf *b)
{
	if (!b)
		return;
	btf__free(b->btf);
	free(b);
}

/* struct or union id by name; -1 */
static int composite_id(const struct dm_btf *b, const char *type)
{
	int id = btf__find_by_name_kind(b->btf, type, BTF_KIND_STRUCT);

	if (id < 0)
		id = btf__find_by_name_kind(b->btf, type, BTF_KIND_UNION);
	return id;
}

/* Offset in bits of member below type id, through anonymous members. */
static long member_bits(const struct btf *btf, int id, const char *member, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, (unsigned int)id);
	const struct btf_member *m;

	if (!t || !btf_is_composite(t) || depth > 8)
		return -1;
	m = btf_members(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		long bits = (long)btf_member_bit_offset(t, i);

		if (name && !strcmp(name, member)) {
			if (btf_member_bitfield_size(t, i))
				return -1;
			return bits;
		}
		if (!name || !*name) {
			int sub = btf__resolve_type(btf, m->type);
			long in = sub < 0 ? -1 : member_bits(btf, sub, member, depth + 1);

			if (in >= 0)
				return bits + in;
		}
	}
	return -1;
}

long dm_btf_offset(const struct dm_btf *b, const char *type, const char *member)
{
	int id;
	long bits;

	if (!b)
		return -1;
	id = composite_id(b, type);
	if (id < 0)
		return -1;
	bits = member_bits(b->btf, id, member, 0);
	return bits < 0 || bits % 8 ? -1 : bits / 8;
}

long dm_btf_sizeof(const struct dm_btf *b, const char *type)
{
	int id;

	if (!b)
		return -1;
	id = composite_id(b, type);
	if (id < 0)
		return -1;
	return (long)btf__resolve_size(b->btf, (unsigned int)id);
}

int dm_btf_func_params(const struct dm_btf *b, const char *func)
{
	const struct btf_type *t, *proto;
	int id;

	if (!b)
		return -1;
	id = btf__find_by_name_kind(b->btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return -1;
	t = btf__type_by_id(b->btf, (unsigned int)id);
	proto = t ? btf__type_by_id(b->btf, t->type) : NULL;
	if (!proto || !btf_is_func_proto(proto))
		return -1;
	return btf_vlen(proto);
}
