// SPDX-License-Identifier: GPL-2.0
/* analyzer: record and diagnose device-private memory migrations. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

bool dm_sudo_user(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	unsigned int un, gn;

	if (geteuid() || !u || !g || parse_uint(u, 0, UINT32_MAX - 1, &un) ||
	    parse_uint(g, 0, UINT32_MAX - 1, &gn))
		return false;
	*uid = (uid_t)un;
	*gid = (gid_t)gn;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: analyzer record [-o FILE] [options] [--] CMD [ARGS]\n"
		"       analyzer report [options] [FILE]\n"
		"       analyzer --version\n"
		"\n"
		"Records a workload's device-memory migrations (the dmirror driver's\n"
		"tracepoints, or probes on the kernel's migration code for any HMM driver)\n"
		"and diagnoses fault loops and leaked pages.  'analyzer COMMAND --help' for\n"
		"more; man analyzer(1), docs/analyzer.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("analyzer %s\n", ANALYZER_VERSION);
		return 0;
	}
	fprintf(stderr, "analyzer: unknown command '%s' (record or report)\n", argv[1]);
	return 2;
}
