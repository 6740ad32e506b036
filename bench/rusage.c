// SPDX-License-Identifier: GPL-2.0
/*
 * rusage: run a command with its output discarded and print its wall time
 * and memory, the figures the analyzer benchmark compares:
 *
 *   "RUSAGE wall_ns maxrss_kb exit_status anon_peak_kb"
 *
 * maxrss counts every resident page, the trace file's pages that a reader
 * maps included; anon_peak is the largest RssAnon seen (sampled every
 * millisecond from /proc/PID/status): the memory the reader allocates,
 * which is what grows when a tool holds events instead of streaming them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* RssAnon of @pid in KiB, or -1 once it is gone. */
static long rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	long anon, anon_peak = 0;
	struct rusage ru;
	uint64_t t0;
	int status, null;
	pid_t pid, got;

	if (argc < 2) {
		fprintf(stderr, "usage: rusage CMD [ARGS]\n");
		return 2;
	}
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 2;
	}
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[1], argv + 1);
		perror("rusage: exec");
		_exit(127);
	}
	while ((got = wait4(pid, &status, WNOHANG, &ru)) == 0) {
		anon = rss_anon_kb(pid);
		if (anon > anon_peak)
			anon_peak = anon;
		nanosleep(&ms, NULL);
	}
	if (got < 0) {
		perror("rusage: wait4");
		return 2;
	}
	printf("RUSAGE %llu %ld %d %ld\n", (unsigned long long)(now_ns() - t0),
	       ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       anon_peak);
	return 0;
}
