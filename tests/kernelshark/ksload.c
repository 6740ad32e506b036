// SPDX-License-Identifier: GPL-2.0
/*
 * ksload FILE: opens FILE with KernelShark's own library (libkshark, the
 * loader the GUI uses) and prints what it loaded, one "key value" line
 * each: the number of entries, how many of them are KernelShark's own
 * marks for lost events (one per ring-buffer page that says events were
 * lost before it), the entries of each event system ("system/event" is
 * how KernelShark names an event), of each CPU, and the first and last
 * timestamps.  tests/kernelshark/check compares this
 * with what analyzer report found in the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/types.h>	/* libkshark.h uses ssize_t without including it */

/* libkshark.h 2.2.1 declares "const int" returns, which -Wextra flags */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-qualifiers"
#include <libkshark.h>
#pragma GCC diagnostic pop

#define KS_MAX_CPUS	64
#define KS_MAX_SYSTEMS	16

struct ks_system {
	char name[64];
	long long entries;
};

/* The system's counter for an event named "system/event", or NULL. */
static long long *system_count(struct ks_system *sys, int *n, const char *event)
{
	const char *slash = event ? strchr(event, '/') : NULL;
	size_t len = slash ? (size_t)(slash - event) : 0;

	if (!len || len >= sizeof(sys->name))
		return NULL;
	for (int i = 0; i < *n; i++)
		if (strlen(sys[i].name) == len && !memcmp(sys[i].name, event, len))
			return &sys[i].entries;
	if (*n == KS_MAX_SYSTEMS)
		return NULL;
	memcpy(sys[*n].name, event, len);
	sys[*n].name[len] = 0;
	sys[*n].entries = 0;
	return &sys[(*n)++].entries;
}

int main(int argc, char **argv)
{
	struct kshark_context *ctx = NULL;
	struct kshark_entry **rows = NULL;
	long long per_cpu[KS_MAX_CPUS] = { 0 };
	struct ks_system sys[KS_MAX_SYSTEMS];
	long long lost_marks = 0;
	int nsys = 0;
	ssize_t n;
	int sd;

	if (argc != 2) {
		fprintf(stderr, "usage: ksload FILE\n");
		return 2;
	}
	if (!kshark_instance(&ctx)) {
		fprintf(stderr, "ksload: no KernelShark context\n");
		return 2;
	}
	sd = kshark_open(ctx, argv[1]);
	if (sd < 0) {
		fprintf(stderr, "ksload: KernelShark cannot open %s (%d)\n", argv[1], sd);
		kshark_free(ctx);
		return 1;
	}
	n = kshark_load_entries(ctx, sd, &rows);
	if (n < 0) {
		fprintf(stderr, "ksload: KernelShark loaded no entries from %s\n", argv[1]);
		kshark_free(ctx);
		return 1;
	}
	for (ssize_t i = 0; i < n; i++) {
		char *name;
		long long *count;

		if (rows[i]->cpu >= 0 && rows[i]->cpu < KS_MAX_CPUS)
			per_cpu[rows[i]->cpu]++;
		if (rows[i]->event_id == KS_EVENT_OVERFLOW) {
			lost_marks++;
			continue;
		}
		name = kshark_get_event_name(rows[i]);
		count = system_count(sys, &nsys, name);
		if (count)
			(*count)++;
		free(name);
	}
	printf("entries %zd\n", n);
	printf("lost_marks %lld\n", lost_marks);
	for (int k = 0; k < nsys; k++)
		printf("system.%s %lld\n", sys[k].name, sys[k].entries);
	for (int c = 0; c < KS_MAX_CPUS; c++)
		if (per_cpu[c])
			printf("cpu%d %lld\n", c, per_cpu[c]);
	if (n > 0)
		printf("first_ns %lld\nlast_ns %lld\n", (long long)rows[0]->ts, (long long)rows[n - 1]->ts);
	for (ssize_t i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
	kshark_close_all(ctx);
	kshark_free(ctx);
	return 0;
}
