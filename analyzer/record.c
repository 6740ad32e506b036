// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "analyzer.h"
int cmd_record(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "analyzer: record: not yet\n");
	return 2;
}
