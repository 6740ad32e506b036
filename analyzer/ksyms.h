/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel addresses to "function+0xoff [module]", from /proc/kallsyms at
 * record time (a module may be gone by the time the trace is read).  The
 * addresses themselves never leave the recorder.
 */
#ifndef DM_KSYMS_H
#define DM_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct dm_ksyms;

/* Reads path (NULL: /proc/kallsyms).  NULL when it cannot be read or
 * shows no addresses (kptr_restrict). */
struct dm_ksyms *dm_ksyms_load(const char *path);
void dm_ksyms_free(struct dm_ksyms *k);
/*
 * addr as "symbol+0xoff [module]" (no module part for the kernel
 * proper) into buf; 0, or -1 when no symbol holds it.
 */
int dm_ksyms_name(const struct dm_ksyms *k, uint64_t addr, char *buf, size_t n);
/* The address of a symbol (the first of the name); 0 when absent. */
uint64_t dm_ksyms_addr(const struct dm_ksyms *k, const char *name);

#endif
