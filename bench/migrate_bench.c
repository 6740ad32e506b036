// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_bench: migration throughput of any driver speaking the
 * test_hmm ioctl ABI, so one program measures dmirror.ko and the upstream
 * test_hmm.ko side by side.
 *
 *   migrate_bench [-r ROUNDS] [-s SIZE]... [-H] DEVICE...
 *
 * For every size and every round, each device in turn (alternating, so
 * drift in the machine hits all of them alike) migrates a buffer to the
 * device and back, three ways:
 *   to_dev   MIGRATE_TO_DEV of the whole buffer
 *   fault    the CPU touching every page (device -> host by fault)
 *   to_sys   MIGRATE_TO_SYS of the whole buffer
 * and the plain memcpy of the same bytes is timed as the floor.  Every
 * byte is checked after each way back.  A buffer smaller than 2 MiB is
 * cycled again and again within one measurement until 512 pages have
 * moved, so a clock read and a system call do not swamp a 4 KiB
 * migration.  Output: one line per measurement, "RESULT device size way
 * round pages ns", pages and ns summed over the repetitions.
 *
 * Buffers are 2 MiB aligned.  -H asks for transparent huge pages
 * (MADV_HUGEPAGE), so a driver that migrates PMD-sized folios can; without
 * it they are MADV_NOHUGEPAGE and every driver moves 4 KiB pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dmirror_uapi.h"

#define MAX_SIZES 8
#define MAX_DEVICES 4
/* Pages one measurement moves at least. */
#define MIN_PAGES 512

/* Time spent per way, summed over one measurement's repetitions. */
struct times {
	uint64_t to_dev, fault, to_sys;
};

#define HUGE_SIZE (2ul << 20)

static long page_size;
static bool huge;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || v == 0 || v % (unsigned long long)page_size)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int migrate(int fd, unsigned long request, void *buf, void *mirror,
		   size_t size)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)buf,
		.ptr = (uintptr_t)mirror,
		.npages = size / (size_t)page_size,
	};

	if (ioctl(fd, request, &cmd))
		return -errno;
	/*
	 * test_hmm.ko counts a huge folio it moves back as one page: with -H
	 * "some" is all MIGRATE_TO_SYS can be held to (the data is checked).
	 */
	if (huge && request == HMM_DMIRROR_MIGRATE_TO_SYS)
		return cmd.cpages ? 0 : -EAGAIN;
	if (cmd.cpages != cmd.npages)
		return -EAGAIN;
	return 0;
}

static void fill(unsigned char *buf, size_t size, unsigned int seed)
{
	size_t i;

	for (i = 0; i < size; i += sizeof(uint64_t))
		*(uint64_t *)(buf + i) = (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

static int verify(const unsigned char *buf, size_t size, unsigned int seed)
{
	size_t i;

	for (i = 0; i < size; i += sizeof(uint64_t))
		if (*(const uint64_t *)(buf + i) !=
		    ((i * 0x9e3779b97f4a7c15ull) ^ seed))
			return -1;
	return 0;
}

/* Touch one word per page: each touch is one CPU fault on a device page. */
static uint64_t fault_back(volatile unsigned char *buf, size_t size)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < size; i += (size_t)page_size)
		sum += buf[i];
	return sum;
}

static size_t repetitions(size_t size)
{
	size_t pages = size / (size_t)page_size;

	return pages >= MIN_PAGES ? 1 : (MIN_PAGES + pages - 1) / pages;
}

static void result(const char *dev, size_t size, const char *way, int round,
		   uint64_t ns)
{
	printf("RESULT %s %zu %s %d %zu %llu\n", dev, size, way, round,
	       repetitions(size) * (size / (size_t)page_size),
	       (unsigned long long)ns);
}

/* A 2 MiB aligned anonymous buffer, huge pages or not as -H says. */
static unsigned char *map_buffer(size_t size)
{
	size_t len = size + HUGE_SIZE;
	unsigned char *p, *buf;
	uintptr_t aligned;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = ((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
	buf = (unsigned char *)aligned;
	if (buf > p)
		munmap(p, (size_t)(buf - p));
	if (buf + size < p + len)
		munmap(buf + size, (size_t)(p + len - (buf + size)));
	madvise(buf, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return buf;
}

/* One cycle of the three ways on a fresh buffer; adds their times to @t. */
static int cycle_device(const char *dev, int fd, size_t size, int round,
			struct times *t)
{
	unsigned char *buf, *mirror;
	uint64_t t0;
	int ret = -1, err;

	buf = map_buffer(size);
	mirror = malloc(size);
	if (!buf || !mirror) {
		fprintf(stderr, "migrate_bench: out of memory for %zu bytes\n", size);
		goto out;
	}

	/* device -> host by CPU fault */
	fill(buf, size, (unsigned int)round);
	t0 = now_ns();
	err = migrate(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, size);
	if (err) {
		fprintf(stderr, "migrate_bench: %s: MIGRATE_TO_DEV of %zu bytes: %s\n",
			dev, size, strerror(-err));
		goto out;
	}
	t->to_dev += now_ns() - t0;
	t0 = now_ns();
	fault_back(buf, size);
	t->fault += now_ns() - t0;
	if (verify(buf, size, (unsigned int)round)) {
		fprintf(stderr, "migrate_bench: %s: data corrupted after fault back\n", dev);
		goto out;
	}

	/* device -> host by MIGRATE_TO_SYS */
	fill(buf, size, (unsigned int)round + 1);
	err = migrate(fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, mirror, size);
	if (err) {
		fprintf(stderr, "migrate_bench: %s: MIGRATE_TO_DEV: %s\n", dev, strerror(-err));
		goto out;
	}
	t0 = now_ns();
	err = migrate(fd, HMM_DMIRROR_MIGRATE_TO_SYS, buf, mirror, size);
	if (err) {
		fprintf(stderr, "migrate_bench: %s: MIGRATE_TO_SYS: %s\n", dev, strerror(-err));
		goto out;
	}
	t->to_sys += now_ns() - t0;
	if (verify(buf, size, (unsigned int)round + 1)) {
		fprintf(stderr, "migrate_bench: %s: data corrupted after MIGRATE_TO_SYS\n", dev);
		goto out;
	}
	ret = 0;
out:
	if (buf)
		munmap(buf, size);
	free(mirror);
	return ret;
}

static int bench_device(const char *dev, int fd, size_t size, int round)
{
	struct times t = { 0 };
	size_t i, reps = repetitions(size);

	for (i = 0; i < reps; i++)
		if (cycle_device(dev, fd, size, round, &t))
			return -1;
	result(dev, size, "to_dev", round, t.to_dev);
	result(dev, size, "fault", round, t.fault);
	result(dev, size, "to_sys", round, t.to_sys);
	return 0;
}

static void bench_memcpy(size_t size, int round)
{
	unsigned char *a = malloc(size), *b = malloc(size);
	uint64_t t0, ns = 0;
	size_t i, reps = repetitions(size);

	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	fill(a, size, (unsigned int)round);
	for (i = 0; i < reps; i++) {
		/* the destination is faulted in: this times the copy alone */
		memset(b, 0, size);
		t0 = now_ns();
		memcpy(b, a, size);
		__asm__ volatile("" : : "r"(b) : "memory");
		ns += now_ns() - t0;
	}
	result("memcpy", size, "copy", round, ns);
	free(a);
	free(b);
}

static void usage(void)
{
	fprintf(stderr, "usage: migrate_bench [-r ROUNDS] [-s SIZE]... [-H] DEVICE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES];
	int nsizes = 0, rounds = 5, ndev, fds[MAX_DEVICES], opt, r, s, d;

	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "r:s:H")) != -1) {
		switch (opt) {
		case 'H':
			huge = true;
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > 1000)
				usage();
			break;
		case 's':
			if (nsizes == MAX_SIZES || parse_size(optarg, &sizes[nsizes]))
				usage();
			nsizes++;
			break;
		default:
			usage();
		}
	}
	ndev = argc - optind;
	if (ndev < 1 || ndev > MAX_DEVICES)
		usage();
	if (!nsizes) {
		sizes[nsizes++] = 4096;
		sizes[nsizes++] = 64 << 10;
		sizes[nsizes++] = 2 << 20;
		sizes[nsizes++] = 64 << 20;
	}
	for (d = 0; d < ndev; d++) {
		fds[d] = open(argv[optind + d], O_RDWR | O_CLOEXEC);
		if (fds[d] < 0) {
			fprintf(stderr, "migrate_bench: %s: %s\n", argv[optind + d],
				strerror(errno));
			return 2;
		}
	}
	for (s = 0; s < nsizes; s++) {
		for (r = 0; r < rounds; r++) {
			for (d = 0; d < ndev; d++)
				if (bench_device(argv[optind + d], fds[d], sizes[s], r))
					return 1;
			bench_memcpy(sizes[s], r);
		}
	}
	return 0;
}
