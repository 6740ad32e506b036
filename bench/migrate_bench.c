// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_bench: migration throughput of any driver speaking the
 * test_hmm ioctl ABI, so one program measures dmirror.ko and the upstream
 * test_hmm.ko side by side.
 *
 *   migrate_bench [-r ROUNDS] [-s SIZE]... [-H] DEVICE...
 *
 * Each device migrates a buffer to the device and back, three ways:
 *   to_dev   MIGRATE_TO_DEV of the whole buffer
 *   fault    the CPU touching every page (device -> host by fault)
 *   to_sys   MIGRATE_TO_SYS of the whole buffer
 * (the data MIGRATE_TO_DEV hands back in the mirror buffer is checked
 * too, outside the timed region), and the floor, "kcopy", is the kernel copying the same buffer's pages
 * into another: vmsplice() hands the pages to a pipe by reference and
 * read() has the kernel copy them out, a page-to-memory copy done by the
 * kernel, as a migration's is, with no page-table or device work around
 * it (process_vm_readv would be one call, but the test kernels have no
 * CONFIG_CROSS_MEMORY_ATTACH).  Every byte is checked after each way
 * back.  A buffer smaller than 2 MiB is cycled again and again within one
 * measurement until 512 pages have moved, so a clock read and a system
 * call do not swamp a 4 KiB migration.
 *
 * What keeps the comparison fair:
 *  - each round runs the devices and the floor in a rotated order (round
 *    r starts with the r-th), so neither drift in the machine nor what
 *    one leaves behind (freed memory, a cold cache) favours one of them;
 *  - every buffer is mapped, faulted in and reused: the timed regions
 *    hold the migration's own faults and allocations only, never a
 *    first touch of the benchmark's memory;
 *  - each device does one untimed cycle per size before the rounds, so
 *    a driver's first use (a chunk of device memory to allocate) is not
 *    timed;
 *  - with -H every cycle checks, from /proc/self/smaps, that the buffer
 *    was mapped by huge pages before it went to the device and again
 *    after each way back, so a round that moved 4 KiB pages says so.
 *
 * Output: one line per measurement,
 *   RESULT device size way round pages ns huge faults
 * pages, ns and faults summed over the repetitions; huge is 1 when every
 * cycle of the measurement moved huge folios both ways, 0 when one did
 * not, "-" without -H; faults counts the process's page faults inside
 * the timed regions (the CPU-fault way's are the ones it measures; any
 * other way should have none: a fault there is memory the benchmark
 * failed to fault in beforehand, or the driver touching user memory that
 * is not there).  Buffers are 2 MiB aligned; -H asks for transparent
 * huge pages (MADV_HUGEPAGE), without it they are MADV_NOHUGEPAGE.
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
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dmirror_uapi.h"
#include "bench_util.h"

#define MAX_SIZES	8
#define MAX_DEVICES	4
/*
 * Pages one measurement moves at least: 4096 one-page calls are 35 ms of
 * the guest's clock.  With 512 (4 ms, one timer tick's period) the 4 KiB
 * rows moved by up to 9% from one boot to the next with nothing changed
 * (the CPU fault of dmirror at 119,056 pages/s in the run of 7ed09c0,
 * 109,121 in that of 30bdd57, test_hmm's at 112,423 and 112,599): how
 * much of the kernel's own periodic work a region caught.
 */
#define MIN_PAGES	4096

enum way { WAY_TO_DEV, WAY_FAULT, WAY_TO_SYS, WAY_COPY, NR_WAYS };

static const char *const way_names[NR_WAYS] = {
	[WAY_TO_DEV] = "to_dev",
	[WAY_FAULT] = "fault",
	[WAY_TO_SYS] = "to_sys",
	[WAY_COPY] = "copy",
};

/* One thing measured: a device, or the floor (fd < 0). */
struct target {
	const char *name;
	int fd;
	unsigned char *buf;	/* what migrates (the floor: what is copied) */
	unsigned char *mirror;	/* the driver's bounce buffer; the floor's destination */
	size_t size;
	int pipe[2];		/* the floor's */
};

/* One measurement: time per way over its repetitions, and whether every
 * cycle moved huge folios. */
struct measure {
	uint64_t ns[NR_WAYS];
	long faults[NR_WAYS];	/* the process's page faults in the timed region */
	bool huge;
};

static long page_size;
static bool want_huge;

static int migrate(const struct target *t, unsigned long request)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)t->buf,
		.ptr = (uintptr_t)t->mirror,
		.npages = t->size / (size_t)page_size,
	};

	if (ioctl(t->fd, request, &cmd))
		return -errno;
	/*
	 * test_hmm.ko counts a huge folio it moves back as one page: with -H
	 * "some" is all MIGRATE_TO_SYS can be held to (the data is checked,
	 * and so are the huge pages).
	 */
	if (want_huge && request == HMM_DMIRROR_MIGRATE_TO_SYS)
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
		if (*(const uint64_t *)(buf + i) != ((i * 0x9e3779b97f4a7c15ull) ^ seed))
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

/* With -H, the measurement is marked when t's buffer is not all huge. */
static void check_huge(const struct target *t, struct measure *m)
{
	if (want_huge && huge_bytes(t->buf) != (long)t->size)
		m->huge = false;
}

/* A timed region: its time and the page faults inside it go to one way. */
struct stopwatch {
	uint64_t t0;
	long f0;
};

static void sw_start(struct stopwatch *sw)
{
	sw->f0 = page_faults();
	sw->t0 = now_ns();
}

static void sw_stop(const struct stopwatch *sw, struct measure *m, enum way w)
{
	m->ns[w] += now_ns() - sw->t0;
	m->faults[w] += page_faults() - sw->f0;
}

/* A buffer huge pages or not as -H says (bench_util.h). */
static unsigned char *map_buffer(size_t size)
{
	return bench_map(size, want_huge);
}

static void unmap_buffer(unsigned char *buf, size_t size)
{
	bench_unmap(buf, size);
}

/* The target's buffers for one size, mapped and faulted in. */
static int target_map(struct target *t, size_t size)
{
	t->size = size;
	t->buf = map_buffer(size);
	t->mirror = map_buffer(size);
	if (!t->buf || !t->mirror) {
		fprintf(stderr, "migrate_bench: out of memory for %zu bytes\n", size);
		return -1;
	}
	memset(t->buf, 1, size);
	memset(t->mirror, 1, size);
	return 0;
}

static void target_unmap(struct target *t)
{
	unmap_buffer(t->buf, t->size);
	unmap_buffer(t->mirror, t->size);
	t->buf = t->mirror = NULL;
}

static int fail_way(const struct target *t, const char *what, int err)
{
	fprintf(stderr, "migrate_bench: %s: %s of %zu bytes: %s\n", t->name, what, t->size,
		err ? strerror(-err) : "data corrupted");
	return -1;
}

/*
 * One cycle of the three ways; adds their times to m.  The buffer is in
 * system memory, faulted in, on entry and on return.
 */
static int cycle_device(const struct target *t, unsigned int seed, struct measure *m)
{
	struct stopwatch sw;
	int err;

	/* device -> host by CPU fault */
	fill(t->buf, t->size, seed);
	check_huge(t, m);
	sw_start(&sw);
	err = migrate(t, HMM_DMIRROR_MIGRATE_TO_DEV);
	sw_stop(&sw, m, WAY_TO_DEV);
	if (err)
		return fail_way(t, "MIGRATE_TO_DEV", err);
	if (verify(t->mirror, t->size, seed))
		return fail_way(t, "the data MIGRATE_TO_DEV hands back", 0);
	sw_start(&sw);
	fault_back(t->buf, t->size);
	sw_stop(&sw, m, WAY_FAULT);
	if (verify(t->buf, t->size, seed))
		return fail_way(t, "the fault back", 0);
	check_huge(t, m);

	/* device -> host by MIGRATE_TO_SYS */
	fill(t->buf, t->size, seed + 1);
	err = migrate(t, HMM_DMIRROR_MIGRATE_TO_DEV);
	if (err)
		return fail_way(t, "MIGRATE_TO_DEV", err);
	if (verify(t->mirror, t->size, seed + 1))
		return fail_way(t, "the data MIGRATE_TO_DEV hands back", 0);
	sw_start(&sw);
	err = migrate(t, HMM_DMIRROR_MIGRATE_TO_SYS);
	sw_stop(&sw, m, WAY_TO_SYS);
	if (err)
		return fail_way(t, "MIGRATE_TO_SYS", err);
	if (verify(t->buf, t->size, seed + 1))
		return fail_way(t, "MIGRATE_TO_SYS", 0);
	check_huge(t, m);
	return 0;
}

/* The kernel copies size bytes of the buffer's pages into the mirror. */
static ssize_t kernel_copy(const struct target *t)
{
	size_t done = 0;

	while (done < t->size) {
		struct iovec iov = { .iov_base = t->buf + done, .iov_len = t->size - done };
		ssize_t in = vmsplice(t->pipe[1], &iov, 1, 0), out = 0;

		if (in <= 0)
			return -1;
		while (out < in) {
			ssize_t n = read(t->pipe[0], t->mirror + done + out, (size_t)(in - out));

			if (n <= 0)
				return -1;
			out += n;
		}
		done += (size_t)in;
	}
	return (ssize_t)done;
}

/* The floor: the kernel copies the buffer's pages into the other one. */
static int cycle_copy(const struct target *t, unsigned int seed, struct measure *m)
{
	struct stopwatch sw;
	ssize_t n;
	int err;

	fill(t->buf, t->size, seed);
	check_huge(t, m);
	sw_start(&sw);
	n = kernel_copy(t);
	err = n < 0 ? -errno : 0;
	sw_stop(&sw, m, WAY_COPY);
	if (n != (ssize_t)t->size)
		return fail_way(t, "vmsplice and read", err ? err : -EIO);
	if (verify(t->mirror, t->size, seed))
		return fail_way(t, "the kernel's copy", 0);
	return 0;
}

static void result(const struct target *t, enum way w, int round, const struct measure *m)
{
	printf("RESULT %s %zu %s %d %zu %llu %s %ld\n", t->name, t->size, way_names[w], round,
	       repetitions(t->size) * (t->size / (size_t)page_size),
	       (unsigned long long)m->ns[w], !want_huge ? "-" : m->huge ? "1" : "0", m->faults[w]);
}

/* One measurement of t: its repetitions, then its RESULT lines. */
static int measure(const struct target *t, int round, bool print)
{
	struct measure m = { .huge = true };
	size_t i, reps = repetitions(t->size);
	int ret = 0;

	for (i = 0; i < reps && !ret; i++) {
		unsigned int seed = (unsigned int)(round * 1000 + (int)i);

		ret = t->fd < 0 ? cycle_copy(t, seed, &m) : cycle_device(t, seed, &m);
	}
	if (ret || !print)
		return ret;
	if (t->fd < 0) {
		result(t, WAY_COPY, round, &m);
	} else {
		result(t, WAY_TO_DEV, round, &m);
		result(t, WAY_FAULT, round, &m);
		result(t, WAY_TO_SYS, round, &m);
	}
	fflush(stdout);
	return 0;
}

/* Every target at one size: a warm-up each, then the rotated rounds. */
static int bench_size(struct target *t, int n, size_t size, int rounds)
{
	int ret = 0, r, k;

	for (k = 0; k < n && !ret; k++)
		ret = target_map(&t[k], size);
	for (k = 0; k < n && !ret; k++)
		ret = measure(&t[k], -1, false);
	for (r = 0; r < rounds && !ret; r++)
		for (k = 0; k < n && !ret; k++)
			ret = measure(&t[(r + k) % n], r, true);
	for (k = 0; k < n; k++)
		target_unmap(&t[k]);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: migrate_bench [-r ROUNDS] [-s SIZE]... [-H] DEVICE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct target t[MAX_DEVICES + 1];
	size_t sizes[MAX_SIZES];
	int nsizes = 0, rounds = 5, ndev, opt, s, d;

	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "r:s:H")) != -1) {
		switch (opt) {
		case 'H':
			want_huge = true;
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
		t[d] = (struct target){ .name = argv[optind + d] };
		t[d].fd = open(t[d].name, O_RDWR | O_CLOEXEC);
		if (t[d].fd < 0) {
			fprintf(stderr, "migrate_bench: %s: %s\n", t[d].name, strerror(errno));
			return 2;
		}
	}
	t[ndev] = (struct target){ .name = "kcopy", .fd = -1 };
	if (pipe(t[ndev].pipe)) {
		fprintf(stderr, "migrate_bench: pipe: %s\n", strerror(errno));
		return 2;
	}
	/* a megabyte a round trip, if the system allows it */
	fcntl(t[ndev].pipe[1], F_SETPIPE_SZ, 1 << 20);
	for (s = 0; s < nsizes; s++)
		if (bench_size(t, ndev + 1, sizes[s], rounds))
			return 1;
	return 0;
}
