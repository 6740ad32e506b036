/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Struct layouts of the running kernel from its BTF
 * (/sys/kernel/btf/vmlinux), read with libbpf.  The kernel-probe source
 * takes its offsets from here where the kernel has BTF, and from its own
 * table where it has not.
 */
#ifndef DM_BTF_H
#define DM_BTF_H

struct dm_btf;

/*
 * The running kernel's BTF, or the file at path (the test suite's
 * synthetic ones).  NULL when there is none.
 */
struct dm_btf *dm_btf_load(const char *path);
void dm_btf_free(struct dm_btf *b);

/*
 * Byte offset of member in struct (or union) type, looking through
 * anonymous structs and unions; -1 when either is unknown or the member
 * is a bitfield.
 */
long dm_btf_offset(const struct dm_btf *b, const char *type, const char *member);
/* Size of a struct or union; -1 when unknown. */
long dm_btf_sizeof(const struct dm_btf *b, const char *type);
/* Number of parameters of a kernel function; -1 when unknown. */
int dm_btf_func_params(const struct dm_btf *b, const char *func);

#endif
