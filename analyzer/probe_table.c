// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "probe_table.h"

/* x86-64; the same in 6.1, 6.12 and 7.3.  -1: struct dev_pagemap holds a
 * struct completion, whose size lock debugging changes. */
const struct dm_layout_field dm_layout_fields[DM_NLAYOUT] = {
	{ "mv.src", "migrate_vma", "src", NULL, 16 },
	{ "mv.cpages", "migrate_vma", "cpages", NULL, 24 },
	{ "mv.npages", "migrate_vma", "npages", NULL, 32 },
	{ "mv.start", "migrate_vma", "start", NULL, 40 },
	{ "mv.end", "migrate_vma", "end", NULL, 48 },
	{ "mv.owner", "migrate_vma", "pgmap_owner", NULL, 56 },
	{ "mv.flags", "migrate_vma", "flags", NULL, 64 },
	{ "mv.fault_page", "migrate_vma", "fault_page", NULL, 72 },
	{ "vmf.address", "vm_fault", "address", NULL, 24 },
	{ "vmf.flags", "vm_fault", "flags", NULL, 40 },
	{ "vmf.orig_pte", "vm_fault", "orig_pte", NULL, 64 },
	{ "vmf.page", "vm_fault", "page", NULL, 80 },
	/* 7.x keeps it in struct folio, older kernels in struct page: both
	 * the word after the flags */
	{ "page.pgmap", "folio", "pgmap", "page", 8 },
	{ "pgmap.owner", "dev_pagemap", "owner", NULL, -1 },
	{ "pgmap.ops", "dev_pagemap", "ops", NULL, -1 },
	{ "ops.migrate_to_ram", "dev_pagemap_ops", "migrate_to_ram", NULL, -1 },
};

const size_t dm_nlayout_fields = DM_NLAYOUT;

const struct dm_kernel_row dm_kernel_rows[] = {
	{ "6.1", 6, 1, "free_zone_device_page", false, false, false, NULL,
	  { 26, 27 }, { 28, 29 }, "CONFIG_PTE_MARKER" },
	{ "6.12", 6, 12, "free_zone_device_folio", true, false, false, NULL,
	  { 27, 28 }, { 29, 30 }, NULL },
	{ "7.3", 7, 3, "free_zone_device_folio", true, true, true, "softleaf_entry_wait_on_locked",
	  { 28, 29 }, { 30, 30 }, NULL },
};

const size_t dm_nkernel_rows = sizeof(dm_kernel_rows) / sizeof(dm_kernel_rows[0]);

const struct dm_kernel_row *dm_kernel_row_for(unsigned int major, unsigned int minor, bool *exact)
{
	const struct dm_kernel_row *best = &dm_kernel_rows[0];

	*exact = false;
	for (size_t i = 0; i < dm_nkernel_rows; i++) {
		const struct dm_kernel_row *r = &dm_kernel_rows[i];

		if (r->major < major || (r->major == major && r->minor <= minor))
			best = r;
		if (r->major == major && r->minor == minor)
			*exact = true;
	}
	return best;
}

const struct dm_kernel_row *dm_kernel_row_named(const char *series)
{
	for (size_t i = 0; i < dm_nkernel_rows; i++)
		if (!strcmp(dm_kernel_rows[i].series, series))
			return &dm_kernel_rows[i];
	return NULL;
}

/* the C struct of a layout field's BTF type, for this row */
static const char *c_type(const struct dm_layout_field *f, const struct dm_kernel_row *row)
{
	if (!strcmp(f->name, "page.pgmap"))
		return row->pgmap_in_folio ? "folio" : "page";
	return f->type;
}

void dm_probe_table_checks(FILE *f, const struct dm_kernel_row *row)
{
	fprintf(f,
		"// SPDX-License-Identifier: GPL-2.0\n"
		"/* Written by tests/lint/probe-table: the kernel-probe source's table\n"
		" * for %s against this kernel's headers. */\n"
		"#include <linux/module.h>\n#include <linux/hmm.h>\n#include <linux/memremap.h>\n"
		"#include <linux/migrate.h>\n#include <linux/mm.h>\n#include <linux/sched.h>\n"
		"#include <linux/swap.h>\n#include \"internal.h\"\n\n",
		row->series);
	for (size_t i = 0; i < dm_nlayout_fields; i++) {
		const struct dm_layout_field *l = &dm_layout_fields[i];

		if (l->table >= 0)
			fprintf(f, "static_assert(offsetof(struct %s, %s) == %ld, \"%s\");\n",
				c_type(l, row), l->member, l->table, l->name);
	}
	fprintf(f, "static_assert(SWP_DEVICE_WRITE == %u && SWP_DEVICE_READ == %u, \"swp_private\");\n",
		row->swp_private[0], row->swp_private[1]);
	if (row->swp_exclusive[0] == row->swp_exclusive[1])
		fprintf(f, "static_assert(SWP_DEVICE_EXCLUSIVE == %u, \"swp_exclusive\");\n",
			row->swp_exclusive[0]);
	else
		fprintf(f, "static_assert(SWP_DEVICE_EXCLUSIVE_WRITE == %u && "
			"SWP_DEVICE_EXCLUSIVE_READ == %u, \"swp_exclusive\");\n",
			row->swp_exclusive[0], row->swp_exclusive[1]);
	/* the bits the decoder and kmode read */
	fprintf(f,
		"static_assert(MIGRATE_PFN_MIGRATE == 2 && MIGRATE_PFN_SHIFT == 6, \"migrate_pfn\");\n"
		"static_assert(MIGRATE_VMA_SELECT_SYSTEM == 1 && MIGRATE_VMA_SELECT_DEVICE_PRIVATE == 2 &&\n"
		"\t      MIGRATE_VMA_SELECT_DEVICE_COHERENT == 4, \"select flags\");\n"
		"static_assert(VM_FAULT_RETRY == 0x400 && VM_FAULT_SIGBUS == 0x2, \"vm_fault_t\");\n"
		"static_assert(CLONE_THREAD == 0x00010000, \"clone\");\n");
	/* the functions probed, with the arguments the probes read */
	fprintf(f,
		"static_assert(__builtin_types_compatible_p(typeof(&migrate_vma_setup), int (*)(struct migrate_vma *)), \"setup\");\n"
		"static_assert(__builtin_types_compatible_p(typeof(&migrate_vma_pages), void (*)(struct migrate_vma *)), \"pages\");\n"
		"static_assert(__builtin_types_compatible_p(typeof(&migrate_vma_finalize), void (*)(struct migrate_vma *)), \"finalize\");\n"
		"static_assert(__builtin_types_compatible_p(typeof(&do_swap_page), vm_fault_t (*)(struct vm_fault *)), \"do_swap_page\");\n"
		"static_assert(__builtin_types_compatible_p(typeof(&hmm_range_fault), int (*)(struct hmm_range *)), \"hmm_range_fault\");\n"
		"static_assert(__builtin_types_compatible_p(typeof(&%s), void (*)(struct %s *)), \"page free\");\n",
		row->page_free, row->free_takes_folio ? "folio" : "page");
	if (row->init_pgmap)
		fprintf(f, "static_assert(__builtin_types_compatible_p(typeof(&zone_device_page_init), "
			"void (*)(struct page *, struct dev_pagemap *, unsigned int)), \"page init\");\n");
	else
		fprintf(f, "static_assert(__builtin_types_compatible_p(typeof(&zone_device_page_init), "
			"void (*)(struct page *)), \"page init\");\n");
	if (row->lock_wait)
		fprintf(f, "static_assert(sizeof(&%s) > 0, \"lock wait\");\n", row->lock_wait);
	fprintf(f, "\nMODULE_LICENSE(\"GPL\");\nMODULE_DESCRIPTION(\"dmirror analyzer probe table check\");\n");
}
