// SPDX-License-Identifier: GPL-2.0
/*
 * workload: the classic device-private migration cycle, page by page.
 *
 * Maps anonymous memory, writes a pattern, migrates it to a dmirror device
 * (HMM_DMIRROR_MIGRATE_TO_DEV), shows what /proc/self/pagemap says of each
 * page while it is in device memory, reads it back through the CPU (each
 * first touch faults the page back: migrate_to_ram) and checks the data.
 *
 * Exit status: 0 all data intact, 1 a mismatch or a failed step, 2 bad
 * usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../include/dmirror_uapi.h"

/* /proc/self/pagemap, see Documentation/admin-guide/mm/pagemap.rst */
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SWAP_TYPE(e)	((e) & 0x1f)
#define PM_SWAP_OFF(e)	(((e) & PM_PFN_MASK) >> 5)

struct options {
	const char *device;
	unsigned long npages;
	unsigned long iterations;
	int quiet;
};

static long page_size;

static void usage(const char *prog, int status)
{
	fprintf(stderr,
		"usage: %s [-s SIZE] [-i ITERATIONS] [-d DEVICE] [-q]\n"
		"  -s SIZE        pages, or bytes with a K, M or G suffix (default 16 pages)\n"
		"  -i ITERATIONS  migrate-and-check cycles (default 1)\n"
		"  -d DEVICE      /dev/dmirrorN, or just N (default /dev/dmirror0)\n"
		"  -q             quiet: no per-page lines\n",
		prog);
	exit(status);
}

static int parse_ulong(const char *s, unsigned long *val, char **rest)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*val = strtoul(s, &end, 10);
	if (errno || end == s)
		return -1;
	*rest = end;
	return 0;
}

/* "16" is pages; "64K", "1M", "1G" are bytes, rounded up to pages. */
static int parse_size(const char *s, unsigned long *npages)
{
	unsigned long v, shift = 0;
	char *rest;

	if (parse_ulong(s, &v, &rest))
		return -1;
	if (*rest) {
		if (rest[1])
			return -1;
		switch (*rest) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		if (v > (~0UL >> shift))
			return -1;
		v = ((v << shift) + page_size - 1) / page_size;
	}
	if (!v || v > DMIRROR_MAX_NPAGES)
		return -1;
	*npages = v;
	return 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static char path[64];
	unsigned long v;
	char *rest;
	int c;

	o->device = "/dev/dmirror0";
	o->npages = 16;
	o->iterations = 1;
	o->quiet = 0;
	while ((c = getopt(argc, argv, "s:i:d:qh")) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &o->npages)) {
				fprintf(stderr, "%s: bad size '%s' (1 to %llu pages)\n",
					argv[0], optarg, DMIRROR_MAX_NPAGES);
				usage(argv[0], 2);
			}
			break;
		case 'i':
			if (parse_ulong(optarg, &o->iterations, &rest) || *rest ||
			    !o->iterations) {
				fprintf(stderr, "%s: bad iteration count '%s'\n",
					argv[0], optarg);
				usage(argv[0], 2);
			}
			break;
		case 'd':
			if (!parse_ulong(optarg, &v, &rest) && !*rest) {
				snprintf(path, sizeof(path), "/dev/dmirror%lu", v);
				o->device = path;
			} else {
				o->device = optarg;
			}
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], 2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		usage(argv[0], 2);
	}
}

/* Every 64-bit word knows its iteration, page and place in the page. */
static uint64_t pattern(unsigned long iter, unsigned long page,
			unsigned long word)
{
	return 0xd1a0000000000000ULL ^ (iter << 40) ^ (page << 12) ^ word;
}

static void fill(uint64_t *buf, unsigned long npages, unsigned long iter)
{
	unsigned long words = page_size / sizeof(uint64_t), p, w;

	for (p = 0; p < npages; p++)
		for (w = 0; w < words; w++)
			buf[p * words + w] = pattern(iter, p, w);
}

/* Returns the number of bad pages, reporting the first few. */
static unsigned long check(const uint64_t *buf, unsigned long npages,
			   unsigned long iter, const char *what)
{
	unsigned long words = page_size / sizeof(uint64_t), p, w, bad = 0;

	for (p = 0; p < npages; p++) {
		for (w = 0; w < words; w++) {
			uint64_t want = pattern(iter, p, w);
			uint64_t got = buf[p * words + w];

			if (got == want)
				continue;
			if (bad < 8)
				fprintf(stderr,
					"MISMATCH (%s) iteration %lu page %lu word %lu: got 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
					what, iter, p, w, got, want);
			bad++;
			break;
		}
	}
	return bad;
}

static int pagemap_entry(int fd, const void *addr, uint64_t *entry)
{
	off_t off = (off_t)((uintptr_t)addr / page_size) * sizeof(*entry);

	if (pread(fd, entry, sizeof(*entry), off) != sizeof(*entry))
		return -1;
	return 0;
}

static void show_page(int pagemap, const char *buf, unsigned long p,
		      const char *when)
{
	const char *addr = buf + p * page_size;
	uint64_t e;

	if (pagemap < 0 || pagemap_entry(pagemap, addr, &e)) {
		printf("%s page %lu vaddr %p pagemap unreadable\n", when, p,
		       (const void *)addr);
		return;
	}
	if (e & PM_PRESENT)
		printf("%s page %lu vaddr %p present pfn 0x%" PRIx64 "%s\n",
		       when, p, (const void *)addr, (uint64_t)(e & PM_PFN_MASK),
		       (e & PM_PFN_MASK) ? "" : " (pfn hidden: not root)");
	else if (e & PM_SWAP)
		printf("%s page %lu vaddr %p not-present swap-entry type %" PRIu64 " offset 0x%" PRIx64 " (device-private entry: the offset is the device pfn)\n",
		       when, p, (const void *)addr, (uint64_t)PM_SWAP_TYPE(e),
		       (uint64_t)PM_SWAP_OFF(e));
	else
		printf("%s page %lu vaddr %p not-present none\n", when, p,
		       (const void *)addr);
}

static int run_iteration(int fd, int pagemap, char *buf, uint64_t *mirror,
			 const struct options *o, unsigned long iter)
{
	struct hmm_dmirror_cmd cmd;
	unsigned long p, bad;

	fill((uint64_t *)buf, o->npages, iter);

	memset(&cmd, 0, sizeof(cmd));
	cmd.addr = (uintptr_t)buf;
	cmd.ptr = (uintptr_t)mirror;
	cmd.npages = o->npages;
	if (ioctl(fd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd)) {
		fprintf(stderr, "workload: MIGRATE_TO_DEV of %lu pages failed: %s\n",
			o->npages, strerror(errno));
		return -1;
	}
	if (cmd.cpages != o->npages) {
		fprintf(stderr, "workload: MIGRATE_TO_DEV moved %llu of %lu pages\n",
			(unsigned long long)cmd.cpages, o->npages);
		return -1;
	}
	/* What the device holds now. */
	bad = check(mirror, o->npages, iter, "device copy");

	if (!o->quiet)
		for (p = 0; p < o->npages; p++)
			show_page(pagemap, buf, p, "on-device");

	/* The CPU reads it back: each page faults in from device memory. */
	bad += check((const uint64_t *)buf, o->npages, iter, "cpu read-back");

	if (!o->quiet)
		for (p = 0; p < o->npages; p++)
			show_page(pagemap, buf, p, "back-in-ram");

	printf("iteration %lu: %lu pages migrated to %s and read back, %lu bad\n",
	       iter, o->npages, o->device, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	uint64_t *mirror;
	unsigned long i;
	int fd, pagemap, ret = 0;
	size_t size;
	char *buf;

	/* line by line even into a file: a killed workload has said what it did */
	setvbuf(stdout, NULL, _IOLBF, 0);

	page_size = sysconf(_SC_PAGESIZE);
	parse_options(argc, argv, &o);
	size = o.npages * page_size;

	fd = open(o.device, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "workload: cannot open %s: %s\n", o.device,
			strerror(errno));
		return 1;
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap < 0)
		fprintf(stderr, "workload: no /proc/self/pagemap: %s\n",
			strerror(errno));

	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mirror = malloc(size);
	if (buf == MAP_FAILED || !mirror) {
		fprintf(stderr, "workload: cannot allocate %zu bytes\n", size);
		return 1;
	}

	for (i = 0; i < o.iterations && !ret; i++)
		ret = run_iteration(fd, pagemap, buf, mirror, &o, i) ? 1 : 0;

	munmap(buf, size);
	free(mirror);
	if (pagemap >= 0)
		close(pagemap);
	close(fd);
	if (ret)
		fprintf(stderr, "workload: FAILED\n");
	return ret;
}
