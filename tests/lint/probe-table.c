// SPDX-License-Identifier: GPL-2.0
/* Prints the kernel-probe source's table for one kernel series as a
 * kernel module of static assertions (analyzer/probe_table.c). */
#include <stdio.h>

#include "probe_table.h"

int main(int argc, char **argv)
{
	const struct dm_kernel_row *row = argc == 2 ? dm_kernel_row_named(argv[1]) : NULL;

	if (!row) {
		fprintf(stderr, "usage: probe-table SERIES (a row of analyzer/probe_table.c)\n");
		return 2;
	}
	dm_probe_table_checks(stdout, row);
	return 0;
}
