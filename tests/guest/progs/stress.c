// SPDX-License-Identifier: GPL-2.0
/*
 * stress: seeded, time-bounded concurrent stress of the dmirror driver.
 *
 *   stress [-s SEED] [-t SECONDS] [-p PROCS] [-T THREADS] [-r REGIONS]
 *          [-m MAXPAGES] [-D NDEVICES] [-v]
 *
 * PROCS worker processes of THREADS threads each (default 3 x 3) run at
 * once until SECONDS (default 60) have passed.  Each thread owns REGIONS
 * anonymous regions of 1..MAXPAGES pages (default 4 of up to 128) and picks, from its own seeded
 * generator, one operation at a time: migrate a range to a device
 * (MIGRATE_TO_DEV, device 0 or 1), write or read pages through the CPU
 * (device pages fault back), MIGRATE_TO_SYS, the device's READ and WRITE,
 * SNAPSHOT, fork (the child checks its copy, writes it, maybe migrates it
 * and exits with pages on the device; the parent checks its own copy did
 * not change), munmap and a fresh mmap, mprotect read-only and back,
 * madvise(MADV_DONTNEED).  Every page's contents are a pattern derived
 * from the seed, the page's address and its generation (bumped at every
 * write; 0 means zero-filled), and are checked at every CPU read, in
 * every buffer the device fills, and in fork children.
 *
 * Workers live a few seconds each and then exit with whatever they have
 * on the devices (some abruptly, threads still running; some are SIGKILLed
 * by the supervisor), and new ones take their slots.  A monitor process
 * reads debugfs stats and free_list all the time and checks that they
 * parse and that each free list agrees with its own count.  Devices are
 * meant to be small (chunk_pages=512 max_chunks=2): ENOMEM from
 * MIGRATE_TO_DEV is expected and counted, and the data must be intact
 * wherever it ended up.
 *
 * Prints the seed, the duration and the operations per kind; exits 0, or
 * 1 after printing "FAIL seed N ..." and the command that replays the run.
 * The seed fixes every thread's choices; the interleaving is the
 * scheduler's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmirror_uapi.h"

#define MAX_THREADS 16
#define MAX_PROCS 16
#define MAX_REGIONS 16
#define NDEV_MAX 2
#define DEBUGFS "/sys/kernel/debug/dmirror"

enum op {
	OP_TO_DEV, OP_TO_DEV_ENOMEM, OP_TO_DEV_ENOENT, OP_TO_SYS, OP_CPU_WRITE,
	OP_CPU_VERIFY, OP_DEV_READ, OP_DEV_WRITE, OP_SNAPSHOT, OP_FORK,
	OP_MUNMAP, OP_MPROTECT, OP_DONTNEED, OP_PAGES_VERIFIED,
	OP_PROC_EXIT, OP_PROC_EXIT_ABRUPT, OP_PROC_KILLED, OP_MONITOR_READS,
	OP_TO_DEV_UNMOVED, OP_TO_DEV_RETRIED, OP_NR,
};

static const char *const op_names[OP_NR] = {
	[OP_TO_DEV] = "migrate_to_dev", [OP_TO_DEV_ENOMEM] = "migrate_to_dev_enomem",
	[OP_TO_DEV_ENOENT] = "migrate_to_dev_partly_elsewhere",
	[OP_TO_SYS] = "migrate_to_sys", [OP_CPU_WRITE] = "cpu_write",
	[OP_CPU_VERIFY] = "cpu_verify", [OP_DEV_READ] = "dev_read",
	[OP_DEV_WRITE] = "dev_write", [OP_SNAPSHOT] = "snapshot", [OP_FORK] = "fork",
	[OP_MUNMAP] = "munmap", [OP_MPROTECT] = "mprotect", [OP_DONTNEED] = "madv_dontneed",
	[OP_PAGES_VERIFIED] = "pages_verified", [OP_PROC_EXIT] = "proc_exit_pages_on_device",
	[OP_PROC_EXIT_ABRUPT] = "proc_exit_threads_running", [OP_PROC_KILLED] = "proc_sigkilled",
	[OP_MONITOR_READS] = "monitor_reads",
	[OP_TO_DEV_UNMOVED] = "FAILED_migrate_to_dev_left_pages_behind",
	[OP_TO_DEV_RETRIED] = "migrate_to_dev_retried",
};

/* Shared by every process of the run. */
struct shared {
	atomic_ullong count[OP_NR];
	atomic_bool stop;
	atomic_bool failed;
	atomic_int have_unmoved;
	char first_unmoved[1024];	/* the first such failure, for the report */
};

static struct shared *sh;
static uint64_t seed = 1;
static unsigned int seconds = 60, nprocs = 3, nthreads = 3, nregions = 4,
		    maxpages = 128, ndev = 2, verbose;
static long psize;

/* This process's identity, for messages. */
static unsigned int my_slot, my_incarnation;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct rng { uint64_t s; };

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count(enum op op, uint64_t n)
{
	atomic_fetch_add_explicit(&sh->count[op], n, memory_order_relaxed);
}

static void replay_hint(void)
{
	printf("stress: replay with: stress -s %llu -t %u -p %u -T %u -r %u -m %u -D %u\n",
	       (unsigned long long)seed, seconds, nprocs, nthreads, nregions, maxpages, ndev);
}

/* A failure in a worker, its child or the monitor: say it and end the process. */
/* A thread's last operations, for a failure message. */
struct ophist {
	unsigned int idx;
	struct { unsigned int k, reg; unsigned long first, n; } op[8];
	unsigned int n;
};
static __thread struct ophist *cur_hist;

/* The operation a thread's choice 0..99 stands for (thread_main). */
static const char *choice_name(unsigned int k)
{
	static const struct { unsigned int below; const char *name; } m[] = {
		{ 25, "migrate_to_dev" }, { 40, "cpu_write" }, { 52, "cpu_verify" },
		{ 60, "migrate_to_sys" }, { 67, "dev_read" }, { 74, "dev_write" },
		{ 78, "fork" }, { 84, "munmap+mmap" }, { 90, "mprotect" }, { 100, "madv_dontneed" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (k < m[i].below)
			return m[i].name;
	return "?";
}
static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("FAIL seed %llu (slot %u, incarnation %u, pid %d): %s\n",
	       (unsigned long long)seed, my_slot, my_incarnation, getpid(), msg);
	if (cur_hist) {
		struct ophist *h = cur_hist;
		unsigned int i;

		for (i = h->n > 8 ? h->n - 8 : 0; i < h->n; i++)
			printf("  thread %u op #%u: %s region %u pages %lu+%lu\n", h->idx, i,
			       choice_name(h->op[i % 8].k), h->op[i % 8].reg, h->op[i % 8].first, h->op[i % 8].n);
	}
	fflush(stdout);
	atomic_store(&sh->failed, true);
	_exit(1);
}

/* ------------------------------------------------------------ pages */

/* Word i of the page at addr in generation gen (0: a zero page). */
static inline uint64_t pattern(uint64_t addr, uint32_t gen, unsigned long i)
{
	if (!gen)
		return 0;
	return mix(seed ^ (addr * 0x100000001b3ull) ^ ((uint64_t)gen << 40)) + i * 0x9e3779b97f4a7c15ull;
}

static void fill(uint64_t *p, uint64_t addr, uint32_t gen)
{
	unsigned long i, words = (unsigned long)psize / 8;

	for (i = 0; i < words; i++)
		p[i] = pattern(addr, gen, i);
}

/* Index of the first bad word, or -1. */
static long check(const uint64_t *p, uint64_t addr, uint32_t gen)
{
	unsigned long i, words = (unsigned long)psize / 8;

	for (i = 0; i < words; i++)
		if (p[i] != pattern(addr, gen, i))
			return (long)i;
	return -1;
}

struct region {
	unsigned char *base;
	unsigned long npages;
	uint32_t *gen;		/* per page */
	bool ro;
};

struct thread {
	unsigned int idx;
	struct rng rng;
	struct region reg[MAX_REGIONS];
	uint32_t next_gen;
	int fd[NDEV_MAX];
	uint64_t *buf;		/* device-side buffer, maxpages pages */
	unsigned char *codes;	/* snapshot codes */
	pthread_t tid;
	struct ophist hist;
};

static atomic_bool proc_stop;

static void region_map(struct thread *t, struct region *r)
{
	r->npages = 1 + below(&t->rng, maxpages);
	r->base = mmap(NULL, r->npages * psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->base == MAP_FAILED)
		die("thread %u: mmap of %lu pages: %s", t->idx, r->npages, strerror(errno));
	madvise(r->base, r->npages * psize, MADV_NOHUGEPAGE);
	r->gen = calloc(r->npages, sizeof(*r->gen));
	if (!r->gen)
		die("out of memory");
	r->ro = false;
}

static uint64_t page_addr(const struct region *r, unsigned long i)
{
	return (uintptr_t)r->base + i * (uint64_t)psize;
}

static void verify_cpu(struct thread *t, struct region *r, unsigned long first, unsigned long n,
		       const char *when)
{
	unsigned long i;
	long w;

	for (i = first; i < first + n; i++) {
		w = check((const uint64_t *)(r->base + i * psize), page_addr(r, i), r->gen[i]);
		if (w >= 0)
			die("thread %u %s: page 0x%llx (generation %u) word %ld is 0x%llx, expected 0x%llx",
			    t->idx, when, (unsigned long long)page_addr(r, i), r->gen[i], w,
			    (unsigned long long)((uint64_t *)(r->base + i * psize))[w],
			    (unsigned long long)pattern(page_addr(r, i), r->gen[i], (unsigned long)w));
	}
	count(OP_PAGES_VERIFIED, n);
}

static void verify_buf(struct thread *t, struct region *r, unsigned long first, unsigned long n,
		       const char *what)
{
	unsigned long i;
	long w;

	for (i = 0; i < n; i++) {
		const uint64_t *p = (const uint64_t *)((unsigned char *)t->buf + i * psize);

		w = check(p, page_addr(r, first + i), r->gen[first + i]);
		if (w >= 0)
			die("thread %u %s: device copy of page 0x%llx (generation %u) word %ld is 0x%llx, expected 0x%llx",
			    t->idx, what, (unsigned long long)page_addr(r, first + i),
			    r->gen[first + i], w, (unsigned long long)p[w],
			    (unsigned long long)pattern(page_addr(r, first + i), r->gen[first + i],
							(unsigned long)w));
	}
	count(OP_PAGES_VERIFIED, n);
}

static int dev_cmd(int fd, unsigned long req, uint64_t addr, void *ptr, uint64_t npages,
		   struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)ptr, .npages = npages };
	int ret;

	ret = ioctl(fd, req, &c);
	if (out)
		*out = c;
	return ret ? errno : 0;
}

/*
 * A device command that must cover all of [first, first+n): any error, or
 * fewer pages done, ends the run with what happened, EBUSY included.  The
 * driver watches only the command's own range, and gives up only when
 * that range kept changing for HMM_RANGE_DEFAULT_TIMEOUT and through at
 * least eight looks.  What else touches this thread's range (a migration
 * to a full device evicting its pages, a fork write-protecting them) is
 * brief and cannot win eight looks in a row; a thread that barely ran in
 * that second (a debug kernel under TCG) is not given up on.  17-ioctl's
 * "busy" case is the other half: a range nobody touches never answers
 * EBUSY however busy the rest of the process is.
 */
static void dev_cmd_all(struct thread *t, int d, unsigned long req, const char *name,
			struct region *r, unsigned long first, void *buf, unsigned long n)
{
	struct hmm_dmirror_cmd c;
	int e;

	e = dev_cmd(t->fd[d], req, page_addr(r, first), buf, n, &c);
	if (e)
		die("thread %u: %s of %lu pages through device %d: %s", t->idx, name, n, d,
		    strerror(e));
	if (c.cpages != n)
		die("thread %u: %s cpages %llu, expected %lu", t->idx, name,
		    (unsigned long long)c.cpages, n);
}

/* SNAPSHOT of [first, first+n) seen from device d: counts LOCAL and REMOTE pages. */
static void snapshot(struct thread *t, int d, struct region *r, unsigned long first,
		     unsigned long n, unsigned long *local, unsigned long *remote)
{
	unsigned long i;

	dev_cmd_all(t, d, HMM_DMIRROR_SNAPSHOT, "SNAPSHOT", r, first, t->codes, n);
	*local = *remote = 0;
	for (i = 0; i < n; i++) {
		unsigned char kind = t->codes[i] & 0xf0;

		if (t->codes[i] == HMM_DMIRROR_PROT_ERROR)
			continue;
		if (kind == HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL)
			(*local)++;
		else if (kind == HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE)
			(*remote)++;
	}
	count(OP_SNAPSHOT, 1);
}

static void op_to_dev(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	int d = ndev > 1 && below(&t->rng, 4) == 0 ? 1 : 0;
	unsigned long local, remote;
	struct hmm_dmirror_cmd c;
	unsigned char pre[256];
	int e;

	snapshot(t, d, r, first, n, &local, &remote);
	memcpy(pre, t->codes, n);
	if (ndev > 1) {
		unsigned long l_other, r_other;

		/*
		 * Through device d a page the other device holds reads as
		 * 0x00 (PROT_NONE), like untouched memory: hmm_range_fault()
		 * shows a device-private page only to its owner (upstream
		 * hmm-tests hmm2.snapshot).  Only the other device sees it,
		 * as LOCAL.
		 */
		snapshot(t, 1 - d, r, first, n, &l_other, &r_other);
		remote += l_other;
	}
	e = dev_cmd(t->fd[d], HMM_DMIRROR_MIGRATE_TO_DEV, page_addr(r, first), t->buf, n, &c);
	if (e == ENOENT && !remote) {
		/*
		 * Migration is best effort: migrate_vma_setup() skips a page
		 * it cannot lock or isolate at once, e.g. one a fork child of
		 * another thread shares copy-on-write and is migrating or
		 * unmapping right now.  That passes in milliseconds; a page
		 * that stays behind for 100 ms is a failure.
		 */
		int k;

		for (k = 0; k < 50 && e == ENOENT; k++) {
			usleep(2000);
			e = dev_cmd(t->fd[d], HMM_DMIRROR_MIGRATE_TO_DEV, page_addr(r, first),
				    t->buf, n, &c);
		}
		if (e != ENOENT)
			count(OP_TO_DEV_RETRIED, 1);
	}
	if (e == ENOENT && !remote) {
		/* say which pages did not move, and whether a second try moves them */
		unsigned long l2, r2, i, o = 0;
		char list[256] = "";
		int e2;

		snapshot(t, d, r, first, n, &l2, &r2);
		for (i = 0; i < n && o < sizeof(list) - 40; i++)
			if ((t->codes[i] & 0xf0) != HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL)
				o += (unsigned long)snprintf(list + o, sizeof(list) - o,
					" page %lu: %02x->%02x gen %u;", first + i, pre[i],
					t->codes[i], r->gen[first + i]);
		e2 = dev_cmd(t->fd[d], HMM_DMIRROR_MIGRATE_TO_DEV, page_addr(r, first), t->buf, n, &c);
		/*
		 * A failure, but one that leaves every page where it was: note
		 * the first one, go on (the contents are still checked), and
		 * fail the run at the end.
		 */
		count(OP_TO_DEV_UNMOVED, 1);
		if (atomic_fetch_add(&sh->have_unmoved, 1) == 0) {
			snprintf(sh->first_unmoved, sizeof(sh->first_unmoved),
				 "slot %u incarnation %u thread %u op #%u: MIGRATE_TO_DEV of %lu pages at 0x%llx (region %u, pages %lu+%lu) to device %d%s: ENOENT with no page on the other device; not moved (code before->after):%s second try: %s",
				 my_slot, my_incarnation, t->idx, t->hist.n - 1, n,
				 (unsigned long long)page_addr(r, first), (unsigned int)(r - t->reg),
				 first, n, d, r->ro ? " (read-only)" : "", list,
				 e2 ? strerror(e2) : "ok");
			printf("FAIL seed %llu: %s\n", (unsigned long long)seed, sh->first_unmoved);
			fflush(stdout);
		}
		return;
	}
	if (e == 0) {
		if (c.cpages != n)
			die("thread %u: MIGRATE_TO_DEV of %lu pages to device %d: cpages %llu",
			    t->idx, n, d, (unsigned long long)c.cpages);
		verify_buf(t, r, first, n, "MIGRATE_TO_DEV");
		count(OP_TO_DEV, 1);
	} else if (e == ENOMEM) {
		count(OP_TO_DEV_ENOMEM, 1);
	} else if (e == ENOENT && remote) {
		/* pages on the other device stay there: not this device's to map */
		count(OP_TO_DEV_ENOENT, 1);
	} else {
		die("thread %u: MIGRATE_TO_DEV of %lu pages at 0x%llx to device %d (%lu already local, %lu on the other device%s): %s",
		    t->idx, n, (unsigned long long)page_addr(r, first), d, local, remote,
		    r->ro ? ", read-only" : "", strerror(e));
	}
}

static void op_to_sys(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	int d = ndev > 1 && below(&t->rng, 2) ? 1 : 0;
	unsigned long local, remote, local2;
	struct hmm_dmirror_cmd c;
	int e;

	snapshot(t, d, r, first, n, &local, &remote);
	e = dev_cmd(t->fd[d], HMM_DMIRROR_MIGRATE_TO_SYS, page_addr(r, first), t->buf, n, &c);
	if (e)
		die("thread %u: MIGRATE_TO_SYS of %lu pages from device %d: %s", t->idx, n, d,
		    strerror(e));
	snapshot(t, d, r, first, n, &local2, &remote);
	if (c.cpages != local || local2)
		die("thread %u: MIGRATE_TO_SYS of %lu pages from device %d: %lu were there, cpages %llu, %lu still there",
		    t->idx, n, d, local, (unsigned long long)c.cpages, local2);
	verify_cpu(t, r, first, n, "after MIGRATE_TO_SYS");
	count(OP_TO_SYS, 1);
}

static void op_cpu_write(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	unsigned long i;

	if (r->ro)
		return;
	for (i = first; i < first + n; i++) {
		if (below(&t->rng, 2))
			continue;
		r->gen[i] = ++t->next_gen;
		fill((uint64_t *)(r->base + i * psize), page_addr(r, i), r->gen[i]);
	}
	count(OP_CPU_WRITE, 1);
}

static void op_dev_read(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	int d = ndev > 1 && below(&t->rng, 2) ? 1 : 0;

	dev_cmd_all(t, d, HMM_DMIRROR_READ, "READ", r, first, t->buf, n);
	verify_buf(t, r, first, n, "READ");
	count(OP_DEV_READ, 1);
}

static void op_dev_write(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	int d = ndev > 1 && below(&t->rng, 2) ? 1 : 0;
	uint32_t gens[256];
	unsigned long i;

	if (r->ro || n > 256)
		return;
	for (i = 0; i < n; i++) {
		gens[i] = ++t->next_gen;
		fill((uint64_t *)((unsigned char *)t->buf + i * psize), page_addr(r, first + i), gens[i]);
	}
	dev_cmd_all(t, d, HMM_DMIRROR_WRITE, "WRITE", r, first, t->buf, n);
	memcpy(r->gen + first, gens, n * sizeof(*gens));
	count(OP_DEV_WRITE, 1);
}

/* The child of a fork: only the forking thread exists here. */
static void fork_child(struct thread *t)
{
	unsigned int i;
	int fd, d;

	atomic_store(&proc_stop, true);
	for (i = 0; i < nregions; i++)
		verify_cpu(t, &t->reg[i], 0, t->reg[i].npages, "fork child, its copy");
	/* write our copy, check it, and maybe leave it on a device */
	for (i = 0; i < nregions; i++) {
		struct region *r = &t->reg[i];
		unsigned long p;

		if (r->ro)
			continue;
		for (p = 0; p < r->npages; p += 2) {
			r->gen[p] = ++t->next_gen | 0x80000000u;
			fill((uint64_t *)(r->base + p * psize), page_addr(r, p), r->gen[p]);
		}
		verify_cpu(t, r, 0, r->npages, "fork child, after writing");
	}
	d = ndev > 1 ? (int)below(&t->rng, 2) : 0;
	{
		char path[32];

		snprintf(path, sizeof(path), "/dev/dmirror%d", d);
		fd = open(path, O_RDWR);
	}
	if (fd < 0)
		die("fork child: open device %d: %s", d, strerror(errno));
	for (i = 0; i < nregions; i++) {
		struct region *r = &t->reg[i];
		int e = dev_cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)r->base, t->buf,
				r->npages, NULL);

		if (e && e != ENOMEM && e != ENOENT)
			die("fork child: MIGRATE_TO_DEV of its copy: %s", strerror(e));
		if (!e)
			verify_buf(t, r, 0, r->npages, "fork child MIGRATE_TO_DEV");
	}
	if (below(&t->rng, 2))
		for (i = 0; i < nregions; i++)
			verify_cpu(t, &t->reg[i], 0, t->reg[i].npages, "fork child, read back");
	/* else: exit with the pages on the device */
	_exit(0);
}

static void op_fork(struct thread *t)
{
	pid_t pid;
	int st;
	unsigned int i;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		if (errno == EAGAIN || errno == ENOMEM)
			return;
		die("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		t->rng.s = mix(t->rng.s ^ 0xf0f0);
		fork_child(t);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("thread %u: fork child %d ended with status 0x%x", t->idx, pid, st);
	for (i = 0; i < nregions; i++)
		verify_cpu(t, &t->reg[i], 0, t->reg[i].npages, "parent after the fork child");
	count(OP_FORK, 1);
}

static void op_munmap(struct thread *t, struct region *r)
{
	if (munmap(r->base, r->npages * psize))
		die("munmap: %s", strerror(errno));
	free(r->gen);
	region_map(t, r);
	count(OP_MUNMAP, 1);
}

static void op_mprotect(struct thread *t, struct region *r)
{
	if (!r->ro) {
		if (mprotect(r->base, r->npages * psize, PROT_READ))
			die("mprotect read-only: %s", strerror(errno));
		r->ro = true;
		verify_cpu(t, r, 0, r->npages, "read-only");
	} else {
		if (mprotect(r->base, r->npages * psize, PROT_READ | PROT_WRITE))
			die("mprotect read-write: %s", strerror(errno));
		r->ro = false;
	}
	count(OP_MPROTECT, 1);
}

static void op_dontneed(struct thread *t, struct region *r, unsigned long first, unsigned long n)
{
	(void)t;
	if (madvise(r->base + first * psize, n * psize, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED): %s", strerror(errno));
	memset(r->gen + first, 0, n * sizeof(*r->gen));
	count(OP_DONTNEED, 1);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	unsigned int i;

	t->hist.idx = t->idx;
	cur_hist = &t->hist;
	for (i = 0; i < nregions; i++)
		region_map(t, &t->reg[i]);
	while (!atomic_load_explicit(&proc_stop, memory_order_relaxed) &&
	       !atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		struct region *r = &t->reg[below(&t->rng, nregions)];
		unsigned long first = below(&t->rng, r->npages);
		unsigned long n = 1 + below(&t->rng, r->npages - first);
		unsigned int k = (unsigned int)below(&t->rng, 100);

		t->hist.op[t->hist.n % 8].k = k;
		t->hist.op[t->hist.n % 8].reg = (unsigned int)(r - t->reg);
		t->hist.op[t->hist.n % 8].first = first;
		t->hist.op[t->hist.n % 8].n = n;
		t->hist.n++;
		if (verbose > 1)
			printf("slot %u thread %u op %u region %p first %lu n %lu\n", my_slot,
			       t->idx, k, (void *)r->base, first, n);
		if (k < 25)
			op_to_dev(t, r, first, n);
		else if (k < 40)
			op_cpu_write(t, r, first, n);
		else if (k < 52) {
			verify_cpu(t, r, first, n, "CPU read");
			count(OP_CPU_VERIFY, 1);
		} else if (k < 60)
			op_to_sys(t, r, first, n);
		else if (k < 67)
			op_dev_read(t, r, first, n);
		else if (k < 74)
			op_dev_write(t, r, first, n);
		else if (k < 78)
			op_fork(t);
		else if (k < 84)
			op_munmap(t, r);
		else if (k < 90)
			op_mprotect(t, r);
		else
			op_dontneed(t, r, first, n);
	}
	return NULL;
}

static int open_dev(int d)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/dmirror%d", d);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

/* One worker process: THREADS threads for a few seconds, then exit. */
static void worker(unsigned int slot, unsigned int incarnation)
{
	struct thread th[MAX_THREADS];
	uint64_t base = mix(seed ^ mix(((uint64_t)slot << 32) | incarnation));
	struct rng prng = { mix(base) | 1 };
	uint64_t life = 1000 + below(&prng, 5000), t0 = now_ms();
	bool abrupt = below(&prng, 4) == 0;
	unsigned int i;
	int d;

	my_slot = slot;
	my_incarnation = incarnation;
	for (i = 0; i < nthreads; i++) {
		struct thread *t = &th[i];

		memset(t, 0, sizeof(*t));
		t->idx = i;
		t->rng.s = mix(base + i + 1) | 1;
		for (d = 0; d < (int)ndev; d++)
			t->fd[d] = open_dev(d);
		t->buf = malloc((size_t)maxpages * psize);
		t->codes = malloc(maxpages);
		if (!t->buf || !t->codes)
			die("out of memory");
		if (pthread_create(&t->tid, NULL, thread_main, t))
			die("pthread_create");
	}
	while (now_ms() - t0 < life && !atomic_load(&sh->stop)) {
		struct timespec ts = { 0, 20 * 1000000 };

		nanosleep(&ts, NULL);	/* the worker's lifetime, not a synchronisation */
	}
	if (abrupt) {
		/* exit_group() with every thread mid-operation */
		count(OP_PROC_EXIT_ABRUPT, 1);
		_exit(0);
	}
	atomic_store(&proc_stop, true);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i].tid, NULL);
	count(OP_PROC_EXIT, 1);
	/* the regions, whatever is on the devices, go with the process */
	_exit(0);
}

/* ------------------------------------------------------------ monitor */

static char *slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		die("monitor: open %s: %s", path, strerror(errno));
	while (off + 1 < len && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	if (n < 0)
		die("monitor: read %s: %s", path, strerror(errno));
	close(fd);
	buf[off] = 0;
	return buf;
}

static void monitor(void)
{
	static char buf[1 << 16];

	my_slot = 999;
	while (!atomic_load(&sh->stop)) {
		unsigned long free_n[NDEV_MAX] = { 0 }, sum[NDEV_MAX] = { 0 }, v, a, b;
		unsigned int dev, nlines = 0;
		char *line, *save, key[64];

		slurp(DEBUGFS "/stats", buf, sizeof(buf));
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			long sv;

			if (sscanf(line, "%63s %ld", key, &sv) != 2)
				die("monitor: stats line '%s'", line);
			nlines++;
		}
		if (nlines < 10)
			die("monitor: stats has %u lines", nlines);

		slurp(DEBUGFS "/free_list", buf, sizeof(buf));
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (sscanf(line, "dev%u.free %lu", &dev, &v) == 2 && dev < NDEV_MAX)
				free_n[dev] = v;
			else if (sscanf(line, "dev%u.range 0x%lx-0x%lx %lu", &dev, &a, &b, &v) == 4 &&
				 dev < NDEV_MAX) {
				if (b < a || b - a + 1 != v)
					die("monitor: free_list range '%s'", line);
				sum[dev] += v;
			} else
				die("monitor: free_list line '%s'", line);
		}
		for (dev = 0; dev < ndev; dev++)
			if (sum[dev] != free_n[dev])
				die("monitor: dev%u free list: %lu pages in ranges, count %lu", dev,
				    sum[dev], free_n[dev]);
		count(OP_MONITOR_READS, 1);
	}
	_exit(0);
}

/* ------------------------------------------------------------ supervisor */

struct slot { pid_t pid; unsigned int incarnation; bool killed; };

/* Where each thread of a process that does not end is, in the kernel. */
static void dump_stacks(pid_t pid)
{
	static char buf[8192];
	char path[64], comm[64];
	struct dirent *de;
	DIR *dir;
	int tid;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		int fd;
		ssize_t n;

		tid = atoi(de->d_name);
		if (tid <= 0)
			continue;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
		fd = open(path, O_RDONLY);
		n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : 0;
		if (fd >= 0)
			close(fd);
		comm[n > 0 ? n : 0] = 0;
		printf("  pid %d thread %d wchan %s, kernel stack:\n%s", pid, tid, comm, buf);
	}
	if (dir)
		closedir(dir);
}

static pid_t spawn(unsigned int slot, unsigned int incarnation)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("FAIL seed %llu: fork: %s\n", (unsigned long long)seed, strerror(errno));
		return -1;
	}
	if (pid == 0)
		worker(slot, incarnation);
	return pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: stress [-s SEED] [-t SECONDS] [-p PROCS] [-T THREADS] [-r REGIONS] [-m MAXPAGES] [-D NDEVICES] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct slot slots[MAX_PROCS];
	struct rng srng;
	sigset_t chld;
	pid_t mon, pid;
	uint64_t start, end, deadline;
	unsigned int i, alive, spawned = 0;
	bool failed = false;
	int opt, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	psize = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "s:t:p:T:r:m:D:v")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'p': nprocs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'T': nthreads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': nregions = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'm': maxpages = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'D': ndev = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	if (optind != argc || !nprocs || nprocs > MAX_PROCS || !nthreads || nthreads > MAX_THREADS ||
	    !nregions || nregions > MAX_REGIONS || !maxpages || maxpages > 256 || !ndev ||
	    ndev > NDEV_MAX)
		usage();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("stress: mmap");
		return 2;
	}
	memset(sh, 0, sizeof(*sh));
	srng.s = mix(seed ^ 0x5eed) | 1;
	printf("stress: seed %llu, %u s, %u processes x %u threads, %u regions of up to %u pages, %u device(s)\n",
	       (unsigned long long)seed, seconds, nprocs, nthreads, nregions, maxpages, ndev);

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	start = now_ms();
	end = start + (uint64_t)seconds * 1000;
	mon = fork();
	if (mon == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		monitor();
	}
	if (mon < 0) {
		perror("stress: fork");
		return 2;
	}
	for (i = 0; i < nprocs; i++) {
		slots[i].incarnation = 0;
		slots[i].killed = false;
		slots[i].pid = spawn(i, 0);
		spawned++;
		if (slots[i].pid < 0)
			failed = true;
	}

	/* Respawn workers as they end, kill one now and then, until time is up. */
	while (!failed) {
		struct timespec ts = { 0, 100 * 1000000 };
		uint64_t now = now_ms();

		if (now >= end)
			break;
		sigtimedwait(&chld, NULL, &ts);	/* woken by a child's end, or every 100 ms */
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == mon) {
				printf("FAIL seed %llu: the monitor ended (status 0x%x)\n",
				       (unsigned long long)seed, st);
				failed = true;
				mon = -1;
				continue;
			}
			for (i = 0; i < nprocs && slots[i].pid != pid; i++)
				;
			if (i == nprocs)
				continue;
			if (slots[i].killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				count(OP_PROC_KILLED, 1);
			} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				printf("FAIL seed %llu: worker slot %u incarnation %u (pid %d) ended with status 0x%x%s\n",
				       (unsigned long long)seed, i, slots[i].incarnation, pid, st,
				       WIFSIGNALED(st) ? " (a signal)" : "");
				failed = true;
			}
			slots[i].pid = 0;
			if (!failed && now_ms() < end) {
				slots[i].incarnation++;
				slots[i].killed = false;
				slots[i].pid = spawn(i, slots[i].incarnation);
				spawned++;
				if (slots[i].pid < 0)
					failed = true;
			}
		}
		if (sh->failed)
			failed = true;
		/* about one SIGKILL every 3 s */
		if (!failed && below(&srng, 30) == 0) {
			i = (unsigned int)below(&srng, nprocs);
			if (slots[i].pid > 0 && !slots[i].killed) {
				kill(slots[i].pid, SIGKILL);
				slots[i].killed = true;
			}
		}
	}

	/* Stop everyone; they must all be gone within a minute. */
	atomic_store(&sh->stop, true);
	deadline = now_ms() + 60000;
	for (;;) {
		struct timespec ts = { 0, 100 * 1000000 };

		alive = mon > 0;
		for (i = 0; i < nprocs; i++)
			alive += slots[i].pid > 0;
		if (!alive)
			break;
		if (now_ms() > deadline) {
			printf("FAIL seed %llu: %u processes still running a minute after the end (hung in the kernel?)\n",
			       (unsigned long long)seed, alive);
			failed = true;
			for (i = 0; i < nprocs; i++)
				if (slots[i].pid > 0) {
					dump_stacks(slots[i].pid);
					kill(slots[i].pid, SIGKILL);
				}
			if (mon > 0)
				kill(mon, SIGKILL);
			break;
		}
		sigtimedwait(&chld, NULL, &ts);
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			bool bad = !WIFEXITED(st) || WEXITSTATUS(st);

			if (pid == mon) {
				mon = -1;
			} else {
				for (i = 0; i < nprocs && slots[i].pid != pid; i++)
					;
				if (i == nprocs)
					continue;
				if (slots[i].killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
					count(OP_PROC_KILLED, 1);
					bad = false;
				}
				slots[i].pid = 0;
			}
			if (bad) {
				printf("FAIL seed %llu: pid %d ended with status 0x%x at the end\n",
				       (unsigned long long)seed, pid, st);
				failed = true;
			}
		}
	}
	if (sh->failed)
		failed = true;
	if (atomic_load(&sh->have_unmoved)) {
		printf("FAIL seed %llu: %d MIGRATE_TO_DEV calls failed with ENOENT leaving pages behind; the first: %s\n",
		       (unsigned long long)seed, atomic_load(&sh->have_unmoved), sh->first_unmoved);
		failed = true;
	}

	printf("stress: seed %llu: ran %.1f s, %u worker processes\n", (unsigned long long)seed,
	       (double)(now_ms() - start) / 1000.0, spawned);
	for (i = 0; i < OP_NR; i++)
		printf("stress: ops %-34s %llu\n", op_names[i],
		       (unsigned long long)atomic_load(&sh->count[i]));
	if (failed) {
		printf("stress: FAILED, seed %llu\n", (unsigned long long)seed);
		replay_hint();
		return 1;
	}
	printf("stress: OK, seed %llu\n", (unsigned long long)seed);
	return 0;
}
