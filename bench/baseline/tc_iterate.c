// SPDX-License-Identifier: GPL-2.0
/*
 * tc-iterate FILE: the bare libtracecmd loop over a trace.dat, the fair
 * baseline for how fast analyzer report reads one: open the file, let
 * tracecmd_iterate_events() hand over every record, count them, close.
 * Nothing is decoded.  Prints "records N"; exit 2 if the file does not
 * open or the iteration fails.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include <trace-cmd.h>

static int count_record(struct tracecmd_input *handle, struct tep_record *record, int cpu,
			void *data)
{
	(void)handle;
	(void)record;
	(void)cpu;
	(*(unsigned long long *)data)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct tracecmd_input *handle;
	unsigned long long records = 0;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: tc-iterate FILE\n");
		return 2;
	}
	handle = tracecmd_open(argv[1], 0);
	if (!handle) {
		fprintf(stderr, "tc-iterate: libtracecmd cannot open %s\n", argv[1]);
		return 2;
	}
	ret = tracecmd_iterate_events(handle, NULL, 0, count_record, &records);
	tracecmd_close(handle);
	if (ret < 0) {
		fprintf(stderr, "tc-iterate: iterating %s failed\n", argv[1]);
		return 2;
	}
	printf("records %llu\n", records);
	return 0;
}
