/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the bench programs share: the clock, the process's page-fault
 * count, sizes as given on their command lines, and their buffers (2 MiB
 * aligned, fenced by guard pages, asked for huge pages or not, with their
 * AnonHugePages read back from smaps).  Header-only: each program is one
 * static binary built from one source.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HUGE_SIZE	(2ul << 20)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline long page_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/* "4096", "64K", "2M", "1G": a non-zero multiple of the page size. */
static inline int parse_size(const char *s, size_t *out)
{
	unsigned long long v, page = (unsigned long long)sysconf(_SC_PAGESIZE);
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || v == 0 || v % page)
		return -1;
	*out = (size_t)v;
	return 0;
}

/*
 * A 2 MiB aligned anonymous buffer with a PROT_NONE page on each side, so
 * that it never merges with a neighbour (its smaps entry is its own),
 * MADV_HUGEPAGE or MADV_NOHUGEPAGE; NULL when it cannot be mapped.
 */
static inline unsigned char *bench_map(size_t size, bool huge)
{
	size_t guard = (size_t)sysconf(_SC_PAGESIZE), len = size + 2 * HUGE_SIZE;
	unsigned char *p, *buf, *end;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	buf = (unsigned char *)(((uintptr_t)p + HUGE_SIZE + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
	end = buf + size;
	if (buf - guard > p)
		munmap(p, (size_t)(buf - guard - p));
	if (end + guard < p + len)
		munmap(end + guard, (size_t)(p + len - (end + guard)));
	mprotect(buf - guard, guard, PROT_NONE);
	mprotect(end, guard, PROT_NONE);
	madvise(buf, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return buf;
}

static inline void bench_unmap(unsigned char *buf, size_t size)
{
	size_t guard = (size_t)sysconf(_SC_PAGESIZE);

	if (buf)
		munmap(buf - guard, size + 2 * guard);
}

/* Bytes of the mapping that starts at buf backed by huge pages, or -1. */
static inline long huge_bytes(const void *buf)
{
	char line[256], want[32];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)buf);
	while (fgets(line, sizeof(line), f)) {
		if (!in) {
			in = !strncmp(line, want, strlen(want));
			continue;
		}
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb < 0 ? -1 : kb << 10;
}

#endif
