// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: one input is one trace.dat, given to exactly what
 * "analyzer report FILE" runs (cmd_report: dat_scan, the libtracecmd probe
 * and open, the decoder, the engine, the verdict and the text or JSON
 * output).  The input is written to a temporary file because the reader
 * (and libtracecmd under it) reads from a path.
 *
 * The size of the input picks the command line, so the same input always
 * replays the same way:
 *   size % 4 == 0  report FILE
 *   size % 4 == 1  report --json FILE
 *   size % 4 == 2  report --limit 0 -t 2 --perfetto FILE.perfetto.json FILE
 *   size % 4 == 3  report --json --no-cycles -t 1 --html FILE.html FILE
 *
 * The report goes to /dev/null and so do its one-line error messages
 * (FUZZ_VERBOSE=1 keeps them); sanitizer reports go to fd 2 as usual.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"

static char path[256], timeline[300], page[300];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	int fd, null;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/fuzz_report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz_report: mkstemp");
		exit(1);
	}
	close(fd);
	snprintf(timeline, sizeof(timeline), "%s.perfetto.json", path);
	snprintf(page, sizeof(page), "%s.html", path);
	/* The report itself: nobody reads it. */
	null = open("/dev/null", O_WRONLY);
	if (null < 0) {
		perror("fuzz_report: /dev/null");
		exit(1);
	}
	dup2(null, STDOUT_FILENO);
	close(null);
	if (!getenv("FUZZ_VERBOSE")) {
		FILE *f = fopen("/dev/null", "w");

		if (f)
			stderr = f;	/* stdio only: fd 2 stays for the sanitizers */
	}
	return 0;
}

static void __attribute__((destructor)) remove_input(void)
{
	if (path[0])
		unlink(path);
	if (timeline[0])
		unlink(timeline);
	if (page[0])
		unlink(page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a0[] = "report", json[] = "--json", lim[] = "--limit", zero[] = "0",
		    t[] = "-t", two[] = "2", one[] = "1", nocyc[] = "--no-cycles",
		    perfetto[] = "--perfetto", html[] = "--html";
	char *argv[12];
	int argc = 0, fd;
	size_t off = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		abort();
	while (off < size) {
		n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	close(fd);

	argv[argc++] = a0;
	switch (size % 4) {
	case 1:
		argv[argc++] = json;
		break;
	case 2:
		argv[argc++] = lim;
		argv[argc++] = zero;
		argv[argc++] = t;
		argv[argc++] = two;
		argv[argc++] = perfetto;
		argv[argc++] = timeline;
		break;
	case 3:
		argv[argc++] = json;
		argv[argc++] = nocyc;
		argv[argc++] = t;
		argv[argc++] = one;
		argv[argc++] = html;
		argv[argc++] = page;
		break;
	}
	argv[argc++] = path;
	argv[argc] = NULL;
	optind = 0;	/* glibc: a full re-initialisation of getopt */
	cmd_report(argc, argv);
	fflush(stdout);
	return 0;
}
