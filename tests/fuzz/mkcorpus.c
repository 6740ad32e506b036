// SPDX-License-Identifier: GPL-2.0
/*
 * mkcorpus DIR: writes the seed corpus of the trace-file fuzzer, small
 * trace.dat files made by the unit tests' synthesizer (tests/analyzer/
 * synth.c, our own dat writer): a clean cycle, a fault loop and leaks,
 * lost events, per-CPU stats, 6.18 sched formats, odd page sizes and CPU
 * counts, a file without dmirror formats.  Small on purpose: libFuzzer
 * mutates small inputs much faster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

#define A0 0x7f1200000000ull
#define DEVPFN 0x200000ull
#define SHPFN 0x60000ull

static const char *dir;
static int failures, written;

static void emit(const char *name, const struct scen *s, const struct sc_file_opts *o)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s.dat", dir, name);
	if (sc_write_dat(s, p, o)) {
		fprintf(stderr, "mkcorpus: cannot write %s\n", p);
		failures++;
		return;
	}
	written++;
}

static void clean(struct scen *s, int pages)
{
	uint64_t ts = 1000;

	sc_init(s);
	sc_chunk(s, ts++, 0, DEVPFN, 512);
	sc_fork(s, ts++, 0, 1, 100, "sh");
	sc_exec(s, ts++, 0, 100, "/opt/dmirror/bin/workload");
	sc_migrate_to_dev(s, &ts, 0, 100, A0, (uint64_t)pages, DEVPFN, SHPFN);
	for (int i = 0; i < pages; i++)
		sc_fault_back(s, &ts, i & 1, 100, A0 + (uint64_t)i * PAGE, DEVPFN + (uint64_t)i,
			      SHPFN + (uint64_t)i, 1000 + (uint64_t)i, true);
	sc_exit(s, ts++, 0, 100, "workload");
}

static void problems(struct scen *s)
{
	uint64_t ts = 5000;

	sc_init(s);
	sc_chunk(s, ts++, 0, DEVPFN, 1024);
	sc_fork(s, ts++, 1, 1, 200, "sh");
	sc_migrate_to_dev(s, &ts, 0, 200, A0, 3, DEVPFN, SHPFN);
	for (unsigned int i = 1; i <= 5; i++)
		sc_fault_mismatch(s, &ts, 1, 200, A0 + PAGE, DEVPFN + 1, i);
	sc_guard(s, ts++, 1, 200, 200, A0 + PAGE, DEVPFN + 1, 6, 5);
	sc_fault_back(s, &ts, 0, 200, A0, DEVPFN, SHPFN, 700, true);
	sc_free_ev(s, ts++, 0, 200, DEVPFN + 2, SHPFN + 2, 0);
	sc_free_ev(s, ts++, 1, 200, DEVPFN + 1, SHPFN + 1, 1);
	sc_setup(s, ts++, 0, 200, 0, 0, A0, 4, 0, 1, -12);
	sc_exit(s, ts++, 1, 200, "workload");
}

int main(int argc, char **argv)
{
	struct scen s;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	dir = argv[1];

	clean(&s, 2);
	emit("clean", &s, NULL);
	emit("clean-1cpu", &s, &(struct sc_file_opts){ .cpus = 1 });
	emit("clean-3cpu-8k", &s, &(struct sc_file_opts){ .cpus = 3, .page_size = 8192 });
	emit("clean-opts", &s, &(struct sc_file_opts){
		.trace_clock = true, .kallsyms = true, .meta = "command: workload\n",
		.stats_before = "total.shadow_live 0\n", .stats_after = "total.shadow_live 0\n" });
	emit("clean-618", &s, &(struct sc_file_opts){ .sched_618 = true });
	emit("no-sched", &s, &(struct sc_file_opts){ .no_sched_formats = true });
	emit("no-addr", &s, &(struct sc_file_opts){ .drop_field_addr = true });
	emit("no-dmirror", &s, &(struct sc_file_opts){ .no_dmirror_formats = true });
	sc_free(&s);

	clean(&s, 24);
	emit("cycles-24", &s, &(struct sc_file_opts){ .cpus = 2, .page_size = 4096 });
	sc_free(&s);

	problems(&s);
	emit("loop-leak", &s, &(struct sc_file_opts){
		.stats_before = "dev0.shadow_live 0\n", .stats_after = "dev0.shadow_live 1\n" });
	sc_free(&s);

	clean(&s, 4);
	sc_lost(&s, 1, 5);
	sc_fault_back(&s, &(uint64_t){ 99999 }, 1, 100, A0, DEVPFN, SHPFN, 10, true);
	emit("lost", &s, &(struct sc_file_opts){
		.cpustats = { "CPU: 0\nentries: 5\noverrun: 0\n",
			      "CPU: 1\nentries: 5\noverrun: 11\ndropped events: 2\n" } });
	sc_free(&s);

	printf("mkcorpus: %d files in %s\n", written, dir);
	return failures ? 1 : 0;
}
