// SPDX-License-Identifier: GPL-2.0
/*
 * load_bench: three loads a driver author cares about, measured on any
 * driver speaking the test_hmm ioctl ABI, so one program compares
 * dmirror.ko and the upstream test_hmm.ko side by side in one boot.
 *
 *   load_bench scatter [-r ROUNDS] [-b BUFFER] [-p PIECE] [-k PIECES] [-S SEED] DEVICE...
 *   load_bench procs   [-r ROUNDS] [-b BUFFER] [-n WORKERS] [-c CYCLES] [-t] DEVICE...
 *   load_bench latency [-r ROUNDS] [-b BUFFER] [-m SAMPLES] [-c CYCLES] [-H] DEVICE...
 *
 * scatter  many small migrations scattered over one large VMA: of a
 *          BUFFER-byte mapping (default 64 MiB), PIECES (default 1024)
 *          non-overlapping PIECE-byte pieces (default 4 KiB) chosen at
 *          random (seed SEED + round, the same pieces for every device of
 *          a round; the seed is printed), in that random order, each
 *          moved to the device by one MIGRATE_TO_DEV (way "to_dev"), then
 *          each back by one MIGRATE_TO_SYS ("to_sys").  Every moved byte
 *          is checked after it is back, and the whole buffer at the end
 *          (a piece's neighbours must not have changed).
 * procs    WORKERS (default 4) at once on the same device, each with its
 *          own BUFFER (default 2 MiB): CYCLES (default 8) times fill it,
 *          MIGRATE_TO_DEV it, touch every page (the CPU faults each one
 *          back) and check every byte.  Workers are processes, each with
 *          its own mm and device file, or with -t threads of one process
 *          sharing one mm (its mmap_lock) and one device file.  They are
 *          set up (mapped, faulted in, device opened) before a start
 *          barrier, a pipe whose write end is closed to let them all go at
 *          once; the time is the wall time from there until the last one
 *          is done, so it includes their fill and check of the data.
 *          "pages" counts each page once per cycle (to the device and
 *          back by fault).
 * latency  the CPU fault-back latency: after MIGRATE_TO_DEV of a BUFFER
 *          (default 64 KiB) each first touch of a page, the one that
 *          faults it back, is timed alone (a clock_gettime pair around
 *          it); cycles repeat until SAMPLES (default 512) touches are
 *          timed.  With -H the buffer asks for a huge page
 *          (MADV_HUGEPAGE; BUFFER must be 2 MiB), and only the first
 *          touch, the 2 MiB fault when the device holds a huge folio, is
 *          timed, once per cycle, CYCLES (default 16) cycles; whether the
 *          buffer was huge before it left and right after that first
 *          touch is read from /proc/self/smaps (AnonHugePages) and given
 *          in the "huge" column.
 *
 * What keeps the comparison fair, as in migrate_bench: each round runs
 * the devices in a rotated order (round r starts with the r-th); every
 * buffer is mapped and faulted in outside the timed regions and reused
 * across rounds; each device does one untimed measurement first.
 *
 * Output: one line per measurement,
 *   RESULT device mode variant way round pages ns status huge faults
 *   scatter: variant the piece size, way to_dev or to_sys, pages moved,
 *            ns the sum over the ioctls of that way;
 *   procs:   variant "processesN" or "threadsN", way "cycle", pages
 *            WORKERS x CYCLES x buffer pages, ns the wall time;
 *   latency: variant the buffer size ("2097152H" with -H), way p50 or
 *            p99, pages the samples, ns that percentile of them;
 * status is "ok" when every ioctl moved every page it was asked to
 * (cpages == npages), else "short" (the measurement must not be counted);
 * huge is 1/0 with -H, else "-"; faults is the process's page faults in
 * the timed touches (latency: one a touch is what a 4 KiB fault-back
 * should give), else "-".  A failed ioctl or a corrupted byte ends the
 * program with a message and exit status 1.  Buffers are 2 MiB aligned,
 * fenced by PROT_NONE guard pages, MADV_NOHUGEPAGE unless -H.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmirror_uapi.h"
#include "bench_util.h"

#define MAX_DEVICES	4
#define MAX_WORKERS	64
/* A worker's exit status when a migration moved fewer pages than asked. */
#define EXIT_SHORT	3

static long page_size;
static bool want_huge;
static const char *mode;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "load_bench: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The data pattern: a word is a function of its offset in the buffer and the seed. */
static inline uint64_t pattern(size_t off, uint64_t seed)
{
	return (off * 0x9e3779b97f4a7c15ull) ^ seed;
}

static void fill(unsigned char *buf, size_t off, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += sizeof(uint64_t))
		*(uint64_t *)(buf + off + i) = pattern(off + i, seed);
}

/* Check buf[off, off + len); on a mismatch, die saying where and what. */
static void verify(const char *dev, const char *what, const unsigned char *buf, size_t off,
		   size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += sizeof(uint64_t)) {
		uint64_t got = *(const uint64_t *)(buf + off + i), want = pattern(off + i, seed);

		if (got != want)
			die("%s: %s: data corrupted at byte offset %#zx of the buffer (range %#zx+%#zx): "
			    "%#llx, expected %#llx", dev, what, off + i, off, len,
			    (unsigned long long)got, (unsigned long long)want);
	}
}

/*
 * One migration ioctl over [addr, addr + len), bouncing through mirror.
 * A failed ioctl ends the program; returns the pages it did not move.
 * MIGRATE_TO_DEV's ENOENT is no failure but a migration that left pages
 * behind (both drivers: a page setup could not isolate, e.g. one still in
 * another CPU's LRU batch while workers run at once), so its measurement
 * is short: all of the call's pages count as not moved (the driver does
 * not say how many it did).
 */
static uint64_t migrate(const char *dev, int fd, unsigned long request, unsigned char *addr,
			size_t len, unsigned char *mirror)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)mirror,
		.npages = len / (size_t)page_size,
	};

	if (ioctl(fd, request, &cmd)) {
		if (errno == ENOENT && request == HMM_DMIRROR_MIGRATE_TO_DEV)
			return cmd.npages;
		die("%s: %s of %zu bytes at %p: %s", dev,
		    request == HMM_DMIRROR_MIGRATE_TO_DEV ? "MIGRATE_TO_DEV" : "MIGRATE_TO_SYS",
		    len, (void *)addr, strerror(errno));
	}
	return cmd.cpages >= cmd.npages ? 0 : cmd.npages - cmd.cpages;
}

/* A buffer (bench_util.h), faulted in: no first touch in a timed region. */
static unsigned char *map_buffer(size_t size, bool huge)
{
	unsigned char *buf = bench_map(size, huge);

	if (!buf)
		die("mmap of %zu bytes: %s", size, strerror(errno));
	memset(buf, 1, size);
	return buf;
}

static void unmap_buffer(unsigned char *buf, size_t size)
{
	bench_unmap(buf, size);
}

static int open_device(const char *name)
{
	int fd = open(name, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("%s: %s", name, strerror(errno));
	return fd;
}

static void result(const char *dev, const char *variant, const char *way, int round,
		   uint64_t pages, uint64_t ns, bool ok, const char *huge, long faults)
{
	char f[24] = "-";

	if (faults >= 0)
		snprintf(f, sizeof(f), "%ld", faults);
	printf("RESULT %s %s %s %s %d %llu %llu %s %s %s\n", dev, mode, variant, way, round,
	       (unsigned long long)pages, (unsigned long long)ns, ok ? "ok" : "short", huge, f);
	fflush(stdout);
}

/* splitmix64: the pieces' generator, one state a round. */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- scatter ---- */

struct scatter {
	const char *name;
	int fd;
	unsigned char *buf, *mirror;
};

static size_t sc_buffer = 64ul << 20, sc_piece = 4096;
static unsigned int sc_pieces = 1024;
static uint32_t *sc_slot;	/* every piece slot of the buffer; the first sc_pieces are this round's */

/* This round's pieces: a partial Fisher-Yates shuffle of the slots. */
static void choose_pieces(uint64_t seed)
{
	uint32_t i, nslots = (uint32_t)(sc_buffer / sc_piece);
	uint64_t s = seed;

	for (i = 0; i < nslots; i++)
		sc_slot[i] = i;
	for (i = 0; i < sc_pieces; i++) {
		uint32_t j = i + (uint32_t)(next_random(&s) % (nslots - i)), x = sc_slot[i];

		sc_slot[i] = sc_slot[j];
		sc_slot[j] = x;
	}
}

/* The buffer holds the base pattern (seed 0) outside a measurement. */
static void scatter_measure(const struct scatter *t, int round, uint64_t seed, bool print)
{
	uint64_t data = seed | 1, ns_dev, ns_sys, t0, short_pages = 0;
	uint64_t pages = (uint64_t)sc_pieces * (sc_piece / (size_t)page_size);
	char variant[24];
	unsigned int i;

	for (i = 0; i < sc_pieces; i++)
		fill(t->buf, (size_t)sc_slot[i] * sc_piece, sc_piece, data);
	t0 = now_ns();
	for (i = 0; i < sc_pieces; i++)
		short_pages += migrate(t->name, t->fd, HMM_DMIRROR_MIGRATE_TO_DEV,
				       t->buf + (size_t)sc_slot[i] * sc_piece, sc_piece, t->mirror);
	ns_dev = now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < sc_pieces; i++)
		short_pages += migrate(t->name, t->fd, HMM_DMIRROR_MIGRATE_TO_SYS,
				       t->buf + (size_t)sc_slot[i] * sc_piece, sc_piece, t->mirror);
	ns_sys = now_ns() - t0;
	for (i = 0; i < sc_pieces; i++) {
		size_t off = (size_t)sc_slot[i] * sc_piece;

		verify(t->name, "scatter: a piece back by MIGRATE_TO_SYS", t->buf, off, sc_piece, data);
		fill(t->buf, off, sc_piece, 0);
	}
	if (!print)
		return;
	if (short_pages)
		fprintf(stderr, "load_bench: %s: scatter round %d: %llu pages not moved: round flagged short\n",
			t->name, round, (unsigned long long)short_pages);
	snprintf(variant, sizeof(variant), "%zu", sc_piece);
	result(t->name, variant, "to_dev", round, pages, ns_dev, !short_pages, "-", -1);
	result(t->name, variant, "to_sys", round, pages, ns_sys, !short_pages, "-", -1);
}

static int run_scatter(char **devs, int n, int rounds, uint64_t seed)
{
	struct scatter t[MAX_DEVICES];
	int r, k;

	if (sc_piece > sc_buffer || sc_buffer % sc_piece || sc_pieces < 1 ||
	    sc_pieces > sc_buffer / sc_piece)
		die("scatter: %u pieces of %zu bytes do not fit a %zu-byte buffer", sc_pieces,
		    sc_piece, sc_buffer);
	sc_slot = malloc(sc_buffer / sc_piece * sizeof(*sc_slot));
	if (!sc_slot)
		die("out of memory");
	printf("SEED %llu\n", (unsigned long long)seed);
	for (k = 0; k < n; k++) {
		t[k] = (struct scatter){ .name = devs[k], .fd = open_device(devs[k]) };
		t[k].buf = map_buffer(sc_buffer, false);
		t[k].mirror = map_buffer(sc_piece, false);
		fill(t[k].buf, 0, sc_buffer, 0);
	}
	/* the warm-up: pieces of their own, not the rounds' */
	choose_pieces(~seed);
	for (k = 0; k < n; k++)
		scatter_measure(&t[k], -1, ~seed, false);
	for (r = 0; r < rounds; r++) {
		choose_pieces(seed + (uint64_t)r);
		for (k = 0; k < n; k++)
			scatter_measure(&t[(r + k) % n], r, seed + (uint64_t)r, true);
	}
	for (k = 0; k < n; k++) {
		verify(t[k].name, "scatter: the whole buffer at the end", t[k].buf, 0, sc_buffer, 0);
		unmap_buffer(t[k].buf, sc_buffer);
		unmap_buffer(t[k].mirror, sc_piece);
		close(t[k].fd);
	}
	free(sc_slot);
	return 0;
}

/* ---- procs ---- */

static size_t pr_buffer = 2ul << 20;
static int pr_workers = 4, pr_cycles = 8;
static bool pr_threads;

struct worker {
	const char *dev;
	int fd;			/* threads: the process's one device file */
	int id, cycles;
	int ready, go;		/* the barrier's pipe ends this worker uses */
	uint64_t short_pages;	/* threads: out */
};

/* Touch one byte per page: each touch faults a device page back. */
static uint64_t touch_pages(volatile unsigned char *buf, size_t size)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < size; i += (size_t)page_size)
		sum += buf[i];
	return sum;
}

/* A worker's whole life: set up, wait at the barrier, run its cycles. */
static void worker_run(struct worker *w)
{
	unsigned char *buf = map_buffer(pr_buffer, false), *mirror = map_buffer(pr_buffer, false);
	int fd = w->fd >= 0 ? w->fd : open_device(w->dev), c;
	char b = 1;

	if (write(w->ready, &b, 1) != 1)
		die("%s: worker %d: the ready pipe: %s", w->dev, w->id, strerror(errno));
	if (read(w->go, &b, 1) != 0)	/* EOF: the start */
		die("%s: worker %d: the start barrier gave data", w->dev, w->id);
	for (c = 0; c < w->cycles; c++) {
		uint64_t seed = ((uint64_t)w->id << 32 | (uint64_t)c) + 1;

		fill(buf, 0, pr_buffer, seed);
		w->short_pages += migrate(w->dev, fd, HMM_DMIRROR_MIGRATE_TO_DEV, buf, pr_buffer, mirror);
		touch_pages(buf, pr_buffer);
		verify(w->dev, pr_threads ? "procs (threads): after the CPU faults" :
		       "procs (processes): after the CPU faults", buf, 0, pr_buffer, seed);
	}
	unmap_buffer(buf, pr_buffer);
	unmap_buffer(mirror, pr_buffer);
	if (w->fd < 0)
		close(fd);
}

static void *worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

/* One run of every worker on dev; its wall time, and whether all moved. */
static uint64_t procs_once(const char *dev, int cycles, bool *ok)
{
	struct worker w[MAX_WORKERS];
	pthread_t tid[MAX_WORKERS];
	pid_t pid[MAX_WORKERS];
	int ready[2], go[2], i, fd = -1, got = 0;
	uint64_t t0, t1, short_pages = 0;
	char b;

	if (pipe(ready) || pipe(go))
		die("pipe: %s", strerror(errno));
	if (pr_threads)
		fd = open_device(dev);
	for (i = 0; i < pr_workers; i++) {
		w[i] = (struct worker){ .dev = dev, .fd = fd, .id = i, .cycles = cycles,
					.ready = ready[1], .go = go[0] };
		if (pr_threads) {
			errno = pthread_create(&tid[i], NULL, worker_thread, &w[i]);
			if (errno)
				die("pthread_create: %s", strerror(errno));
			continue;
		}
		fflush(stdout);
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork: %s", strerror(errno));
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			worker_run(&w[i]);
			_exit(w[i].short_pages ? EXIT_SHORT : 0);
		}
	}
	/* processes: a worker that dies before it is ready ends the wait (EOF) */
	if (!pr_threads)
		close(ready[1]);
	while (got < pr_workers && read(ready[0], &b, 1) == 1)
		got++;
	if (pr_threads)
		close(ready[1]);
	if (got < pr_workers)
		die("%s: only %d of %d workers got ready", dev, got, pr_workers);
	t0 = now_ns();
	close(go[1]);	/* all go */
	for (i = 0; i < pr_workers; i++) {
		int st;

		if (pr_threads) {
			pthread_join(tid[i], NULL);
			short_pages += w[i].short_pages;
			continue;
		}
		if (waitpid(pid[i], &st, 0) < 0)
			die("waitpid: %s", strerror(errno));
		if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SHORT) {
			short_pages++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			int j;

			for (j = i + 1; j < pr_workers; j++)	/* none left behind */
				kill(pid[j], SIGKILL);
			for (j = i + 1; j < pr_workers; j++)
				waitpid(pid[j], NULL, 0);
			die("%s: worker process %d failed (status %#x)", dev, i, st);
		}
	}
	t1 = now_ns();
	close(ready[0]);
	close(go[0]);
	if (fd >= 0)
		close(fd);
	*ok = !short_pages;
	return t1 - t0;
}

static int run_procs(char **devs, int n, int rounds)
{
	uint64_t pages = (uint64_t)pr_workers * (uint64_t)pr_cycles * (pr_buffer / (size_t)page_size);
	char variant[32];
	int r, k;
	bool ok;

	if (pr_workers < 1 || pr_workers > MAX_WORKERS)
		die("procs: 1 to %d workers", MAX_WORKERS);
	snprintf(variant, sizeof(variant), "%s%d", pr_threads ? "threads" : "processes", pr_workers);
	for (k = 0; k < n; k++)
		procs_once(devs[k], 1, &ok);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < n; k++) {
			const char *dev = devs[(r + k) % n];
			uint64_t ns = procs_once(dev, pr_cycles, &ok);

			if (!ok)
				fprintf(stderr, "load_bench: %s: procs round %d: a migration did not move every page: round flagged short\n",
					dev, r);
			result(dev, variant, "cycle", r, pages, ns, ok, "-", -1);
		}
	return 0;
}

/* ---- latency ---- */

static size_t lat_buffer = 64ul << 10;
static unsigned int lat_samples = 512, lat_cycles = 16;

struct latency {
	const char *name;
	int fd;
	unsigned char *buf, *mirror;
	uint64_t *ns;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p% of them at or below it. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

static void latency_measure(const struct latency *t, int round, bool print)
{
	size_t pages = lat_buffer / (size_t)page_size, n = 0, i;
	unsigned int cycles = want_huge ? lat_cycles : (unsigned int)((lat_samples + pages - 1) / pages);
	uint64_t short_pages = 0;
	bool huge = true;
	long faults = 0;
	char variant[32];
	unsigned int c;

	for (c = 0; c < cycles; c++) {
		uint64_t seed = ((uint64_t)(round + 2) << 32 | c) + 1, t0, t1;
		volatile unsigned char *p = t->buf;
		long f0;

		fill(t->buf, 0, lat_buffer, seed);
		if (want_huge && huge_bytes(t->buf) != (long)lat_buffer)
			huge = false;
		short_pages += migrate(t->name, t->fd, HMM_DMIRROR_MIGRATE_TO_DEV, t->buf, lat_buffer,
				       t->mirror);
		f0 = page_faults();
		if (want_huge) {
			t0 = now_ns();
			(void)p[0];
			t1 = now_ns();
			t->ns[n++] = t1 - t0;
			faults += page_faults() - f0;
			/* did that one touch bring the whole huge page back? */
			if (huge_bytes(t->buf) != (long)lat_buffer)
				huge = false;
			touch_pages(t->buf, lat_buffer);
		} else {
			for (i = 0; i < lat_buffer; i += (size_t)page_size) {
				t0 = now_ns();
				(void)p[i];
				t1 = now_ns();
				t->ns[n++] = t1 - t0;
			}
			faults += page_faults() - f0;
		}
		verify(t->name, want_huge ? "latency: after the huge CPU fault" : "latency: after the CPU faults",
		       t->buf, 0, lat_buffer, seed);
	}
	if (!print)
		return;
	if (short_pages)
		fprintf(stderr, "load_bench: %s: latency round %d: %llu pages not moved: round flagged short\n",
			t->name, round, (unsigned long long)short_pages);
	qsort(t->ns, n, sizeof(*t->ns), cmp_u64);
	snprintf(variant, sizeof(variant), "%zu%s", lat_buffer, want_huge ? "H" : "");
	result(t->name, variant, "p50", round, n, percentile(t->ns, n, 50), !short_pages,
	       want_huge ? (huge ? "1" : "0") : "-", faults);
	result(t->name, variant, "p99", round, n, percentile(t->ns, n, 99), !short_pages,
	       want_huge ? (huge ? "1" : "0") : "-", faults);
}

static int run_latency(char **devs, int n, int rounds)
{
	struct latency t[MAX_DEVICES];
	size_t pages = lat_buffer / (size_t)page_size, nsamples;
	int r, k;

	if (want_huge && lat_buffer != HUGE_SIZE)
		die("latency -H: the buffer must be %lu bytes", HUGE_SIZE);
	nsamples = want_huge ? lat_cycles : ((lat_samples + pages - 1) / pages) * pages;
	for (k = 0; k < n; k++) {
		t[k] = (struct latency){ .name = devs[k], .fd = open_device(devs[k]) };
		t[k].buf = map_buffer(lat_buffer, want_huge);
		t[k].mirror = map_buffer(lat_buffer, false);
		t[k].ns = calloc(nsamples, sizeof(*t[k].ns));
		if (!t[k].ns)
			die("out of memory");
	}
	for (k = 0; k < n; k++)
		latency_measure(&t[k], -1, false);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < n; k++)
			latency_measure(&t[(r + k) % n], r, true);
	for (k = 0; k < n; k++) {
		unmap_buffer(t[k].buf, lat_buffer);
		unmap_buffer(t[k].mirror, lat_buffer);
		free(t[k].ns);
		close(t[k].fd);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: load_bench scatter [-r ROUNDS] [-b BUFFER] [-p PIECE] [-k PIECES] [-S SEED] DEVICE...\n"
		"       load_bench procs   [-r ROUNDS] [-b BUFFER] [-n WORKERS] [-c CYCLES] [-t] DEVICE...\n"
		"       load_bench latency [-r ROUNDS] [-b BUFFER] [-m SAMPLES] [-c CYCLES] [-H] DEVICE...\n");
	exit(2);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	int rounds = 5, opt, ndev;
	size_t *buffer;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc < 2)
		usage();
	mode = argv[1];
	if (!strcmp(mode, "scatter"))
		buffer = &sc_buffer;
	else if (!strcmp(mode, "procs"))
		buffer = &pr_buffer;
	else if (!strcmp(mode, "latency"))
		buffer = &lat_buffer;
	else
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "r:b:p:k:S:n:c:tm:H")) != -1) {
		switch (opt) {
		case 'r': rounds = (int)number(optarg, 1, 1000); break;
		case 'b': if (parse_size(optarg, buffer)) usage(); break;
		case 'p': if (parse_size(optarg, &sc_piece)) usage(); break;
		case 'k': sc_pieces = (unsigned int)number(optarg, 1, 1 << 24); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'n': pr_workers = (int)number(optarg, 1, MAX_WORKERS); break;
		case 'c': pr_cycles = (int)number(optarg, 1, 1 << 20); lat_cycles = (unsigned int)pr_cycles; break;
		case 't': pr_threads = true; break;
		case 'm': lat_samples = (unsigned int)number(optarg, 1, 1 << 24); break;
		case 'H': want_huge = true; break;
		default: usage();
		}
	}
	ndev = argc - optind;
	if (ndev < 1 || ndev > MAX_DEVICES)
		usage();
	if (!strcmp(mode, "scatter"))
		return run_scatter(argv + optind, ndev, rounds, seed);
	if (!strcmp(mode, "procs"))
		return run_procs(argv + optind, ndev, rounds);
	return run_latency(argv + optind, ndev, rounds);
}
