// SPDX-License-Identifier: GPL-2.0
/*
 * failnth: systematic fault injection into dmirror, one fault point at a
 * time, the way the kernel's own fuzzers do it (/proc/thread-self/fail-nth).
 *
 *   failnth [-d N] [-n NPAGES] [-H] [-m MAXN] [-v] OP...
 *   failnth -L MODULE [PARAMS]
 *
 * For each OP and each N = 1, 2, ...: set up the pages the operation needs,
 * make the N-th fault point this thread meets fail (a slab allocation, a
 * page allocation or a user copy: whatever the kernel's fault injection
 * covers), run the operation, then check with nothing injected:
 *
 *   - the operation either succeeded or failed with ENOMEM or EFAULT, and
 *     it failed only if a fault was really injected;
 *   - nothing was lost: the device's READ and the CPU both see the data
 *     the range must hold (for a device WRITE that failed, each page holds
 *     either the old or the new data);
 *   - once the range is unmapped, the device has no page in use and no
 *     shadow page live, the driver holds as many system pages as before
 *     (driver.system_pages_live: shadows and bounce buffers, which
 *     kmemleak does not see), and the module's reference count is back.
 *
 * N stops growing at the first run in which the fault was not injected
 * (the operation met fewer than N fault points) and which succeeded; more
 * than MAXN (default 3000) fails.  -H uses one transparent huge page
 * (512 pages, 2 MiB aligned) instead of NPAGES (default 16) small pages.
 *
 * OPs: open, mmap, to-dev, to-sys, fault (the CPU reads device pages),
 * read, read-dev, write, write-dev, snapshot, exclusive, release, stats and
 * free-list (reading those debugfs files), knob (writing fault_loop_limit);
 * "all" is every one of them.
 *
 * -L loads MODULE with PARAMS with each fault point of its init function
 * failing in turn (kprobes find them: see load_module()): a load that
 * fails must leave nothing behind (no module, class or debugfs directory)
 * and a load that succeeds must give working devices and unload cleanly.
 *
 * The caller sets the fault-injection attributes (ignore-gfp-wait and so
 * on) in debugfs first; tests/guest/cases/22-fail-nth.sh does.  Exits 0,
 * or 1 after a line saying what went wrong at which OP and N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dmirror_uapi.h"

#define DEBUGFS "/sys/kernel/debug/dmirror"
#define HUGE_PAGES 512

static long page_size;
static unsigned long npages = 16;
static unsigned long max_n = 3000;
static bool huge, verbose;
static int dev_id;
static char dev_path[32];
static int nth_fd = -1;

/* What is being injected, for every message. */
static const char *cur_op = "-";
static unsigned long cur_n;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "failnth: FAIL: %s, fault point %lu: ", cur_op, cur_n);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The data a page holds in generation @gen (0: zero-filled). */
static uint64_t pattern(unsigned long gen, unsigned long page, unsigned long word)
{
	if (!gen)
		return 0;
	return (gen * 0x9e3779b97f4a7c15ULL) ^ (page << 20) ^ word;
}

static void fill(uint64_t *p, unsigned long gen)
{
	unsigned long words = page_size / sizeof(*p), i, j;

	for (i = 0; i < npages; i++)
		for (j = 0; j < words; j++)
			p[i * words + j] = pattern(gen, i, j);
}

/*
 * Which generation page @i of @p holds: @a or @b, or -1 for neither (or
 * a page torn between them).
 */
static long page_gen(const uint64_t *p, unsigned long i, unsigned long a,
		     unsigned long b)
{
	unsigned long words = page_size / sizeof(*p), j;
	bool is_a = true, is_b = true;

	for (j = 0; j < words; j++) {
		is_a = is_a && p[i * words + j] == pattern(a, i, j);
		is_b = is_b && p[i * words + j] == pattern(b, i, j);
	}
	return is_a ? (long)a : is_b ? (long)b : -1;
}

/* Every page of @p holds generation @a or @b; @what names the view. */
static void check_data(const uint64_t *p, unsigned long a, unsigned long b,
		       const char *what)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (page_gen(p, i, a, b) < 0)
			die("%s: page %lu holds neither generation %lu nor %lu", what, i, a, b);
}

/* --- fail-nth ---------------------------------------------------------- */

/* -1 while a fault is armed, then whether it was injected. */
static int nth_state = 0;

static void nth_write(unsigned long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu", n);

	if (pwrite(nth_fd, buf, len, 0) != len)
		die("writing %lu to /proc/thread-self/fail-nth: %s", n, strerror(errno));
}

/* Make this thread's @n-th fault point from now on fail. */
static void nth_arm(unsigned long n)
{
	nth_write(n);
	nth_state = -1;
}

/*
 * Disarm, and say whether the armed fault happened: the file reads 0 once
 * it did.  Reading it is itself a user copy, a fault point of its own:
 * when that copy is the one that fails, what ran before it did not meet
 * the fault.  An operation that has work after its part under test
 * disarms early; later calls return the same answer.
 */
static bool nth_disarm(void)
{
	char buf[32] = "";
	ssize_t r;

	if (nth_state >= 0)
		return nth_state;
	r = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (r < 0 && errno == EFAULT)
		nth_state = 0;
	else if (r <= 0)
		die("reading /proc/thread-self/fail-nth: %s", r ? strerror(errno) : "empty");
	else
		nth_state = strtoul(buf, NULL, 10) == 0;
	/*
	 * The read's own copy may have left one count, which the copy of
	 * this write then spends: it fails (EFAULT) and the fault is gone.
	 */
	if (pwrite(nth_fd, "0", 1, 0) != 1 && errno == EFAULT)
		nth_write(0);
	return nth_state;
}

/* --- the device and its counters ---------------------------------------- */

static int dev_open(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open %s: %s", dev_path, strerror(errno));
	return fd;
}

static int dev_cmd(int fd, unsigned long req, void *addr, void *buf,
		   struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)buf,
		.npages = npages,
	};
	int r = ioctl(fd, req, &cmd);

	if (out)
		*out = cmd;
	return r ? -errno : 0;
}

/* The counter KEY from debugfs stats, of this device or of the driver. */
static long stat_of(const char *prefix, const char *key)
{
	char want[64], line[128];
	long v = -1;
	FILE *f = fopen(DEBUGFS "/stats", "r");

	if (!f)
		die("open " DEBUGFS "/stats: %s", strerror(errno));
	snprintf(want, sizeof(want), "%s.%s ", prefix, key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			v = strtol(line + strlen(want), NULL, 10);
	fclose(f);
	if (v < 0)
		die("no %s in " DEBUGFS "/stats", want);
	return v;
}

static long dev_stat(const char *key)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "dev%d", dev_id);
	return stat_of(prefix, key);
}

/* System pages the driver holds for itself: shadows and bounce buffers. */
static long system_pages_live(void)
{
	return stat_of("driver", "system_pages_live");
}

static long module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/dmirror/refcnt", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		die("reading /sys/module/dmirror/refcnt: %s", strerror(errno));
	close(fd);
	return strtol(buf, NULL, 10);
}

/* --- the range an operation works on -------------------------------------- */

struct range {
	uint64_t *p;		/* npages, maybe a THP */
	void *map;		/* what to munmap */
	size_t map_len;
	uint64_t *buf;		/* the device's bounce buffer */
	unsigned long gen;	/* what the pages hold */
};

static unsigned long next_gen = 1;

static void range_map(struct range *r)
{
	size_t len = npages * page_size;

	r->map_len = huge ? 2 * len : len;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	r->p = r->map;
	if (huge) {
		r->p = (uint64_t *)(((uintptr_t)r->map + len - 1) & ~(len - 1));
		madvise(r->p, len, MADV_HUGEPAGE);
	} else {
		madvise(r->p, len, MADV_NOHUGEPAGE);
	}
	r->gen = next_gen++;
	fill(r->p, r->gen);
}

static void range_unmap(struct range *r)
{
	if (munmap(r->map, r->map_len))
		die("munmap: %s", strerror(errno));
}

/* --- operations ------------------------------------------------------------ */

struct op {
	const char *name;
	bool on_device;		/* migrate the range to the device first */
	bool writes;		/* a failure may leave old or new data */
	int (*run)(int fd, struct range *r);
};

static int run_to_dev(int fd, struct range *r)
{
	return dev_cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, r->p, r->buf, NULL);
}

static int run_to_sys(int fd, struct range *r)
{
	return dev_cmd(fd, HMM_DMIRROR_MIGRATE_TO_SYS, r->p, NULL, NULL);
}

static int run_read(int fd, struct range *r)
{
	return dev_cmd(fd, HMM_DMIRROR_READ, r->p, r->buf, NULL);
}

static int run_snapshot(int fd, struct range *r)
{
	return dev_cmd(fd, HMM_DMIRROR_SNAPSHOT, r->p, r->buf, NULL);
}

static int run_exclusive(int fd, struct range *r)
{
	return dev_cmd(fd, HMM_DMIRROR_EXCLUSIVE, r->p, r->buf, NULL);
}

static int run_release(int fd, struct range *r)
{
	(void)r;
	return dev_cmd(fd, HMM_DMIRROR_RELEASE, NULL, NULL, NULL);
}

/* The device writes the next generation from its buffer. */
static int run_write(int fd, struct range *r)
{
	unsigned long gen = next_gen++;

	fill(r->buf, gen);
	return dev_cmd(fd, HMM_DMIRROR_WRITE, r->p, r->buf, NULL);
}

static sigjmp_buf fault_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

/*
 * The CPU reads every page: device pages migrate back through the
 * driver's fault handler.  An allocation failure there may make the
 * fault retry but must not end in SIGBUS.
 */
static int run_fault(int fd, struct range *r)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	volatile uint64_t *p = r->p;
	unsigned long words = page_size / sizeof(uint64_t), i;

	(void)fd;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(fault_jmp, 1))
		die("SIGBUS while the CPU faulted device pages back");
	for (i = 0; i < npages; i++)
		if (p[i * words] != pattern(r->gen, i, 0))
			die("CPU read of page %lu during the fault: wrong data", i);
	sigaction(SIGBUS, &old, NULL);
	return 0;
}

/* Opening the device file (and closing it again). */
static int run_open(int fd, struct range *r)
{
	int nfd = open(dev_path, O_RDWR | O_CLOEXEC);

	(void)fd;
	(void)r;
	if (nfd < 0)
		return -errno;
	close(nfd);
	return 0;
}

/* Mapping the device file gives zeroed system pages. */
static int run_mmap(int fd, struct range *r)
{
	size_t len = npages * page_size;
	uint64_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned long i;

	(void)r;
	if (m == MAP_FAILED)
		return -errno;
	nth_disarm();		/* checking the pages is not under test */
	for (i = 0; i < len / sizeof(*m); i++)
		if (m[i])
			die("mmap of the device: word %lu is not zero", i);
	munmap(m, len);
	return 0;
}

/* A debugfs file read whole, as a monitor would. */
static int read_debugfs(const char *name)
{
	char path[64], buf[4096];
	ssize_t r;
	int fd, err = 0;

	snprintf(path, sizeof(path), DEBUGFS "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	if (r < 0)
		err = -errno;
	close(fd);
	return err;
}

static int run_stats(int fd, struct range *r)
{
	(void)fd;
	(void)r;
	return read_debugfs("stats");
}

static int run_free_list(int fd, struct range *r)
{
	(void)fd;
	(void)r;
	return read_debugfs("free_list");
}

/*
 * A knob write: the knob then holds the new value or, if the write
 * failed, what it held before.
 */
static int run_knob(int fd, struct range *r)
{
	static const char *const values[] = { "9999", "10000" };
	static unsigned int flip;
	static long held = -1;		/* -1: not known yet */
	const char *want = values[flip++ % 2];
	char got[32] = "";
	int kfd, err = 0, len = (int)strlen(want);
	long now;

	(void)fd;
	(void)r;
	kfd = open(DEBUGFS "/fault_loop_limit", O_RDWR | O_CLOEXEC);
	if (kfd >= 0 && write(kfd, want, len) != len)
		err = -errno;
	else if (kfd < 0)
		return -errno;
	nth_disarm();
	if (pread(kfd, got, sizeof(got) - 1, 0) <= 0)
		die("reading fault_loop_limit back: %s", strerror(errno));
	close(kfd);
	now = strtol(got, NULL, 10);
	if (!err && now != strtol(want, NULL, 10))
		die("fault_loop_limit holds %ld after writing %s", now, want);
	if (err && held >= 0 && now != held)
		die("fault_loop_limit holds %ld after a failed write; it held %ld", now, held);
	held = now;
	return err;
}

static const struct op ops[] = {
	{ "open",	false, false, run_open },
	{ "mmap",	false, false, run_mmap },
	{ "to-dev",	false, false, run_to_dev },
	{ "to-sys",	true,  false, run_to_sys },
	{ "fault",	true,  false, run_fault },
	{ "read",	false, false, run_read },
	{ "read-dev",	true,  false, run_read },
	{ "write",	false, true,  run_write },
	{ "write-dev",	true,  true,  run_write },
	{ "snapshot",	true,  false, run_snapshot },
	{ "exclusive",	false, false, run_exclusive },
	{ "release",	true,  false, run_release },
	{ "stats",	false, false, run_stats },
	{ "free-list",	false, false, run_free_list },
	{ "knob",	false, false, run_knob },
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* Errors an injected fault may surface as. */
static bool allowed_errno(int e)
{
	return e == ENOMEM || e == EFAULT;
}

/* Results of one OP over all its fault points. */
struct tally {
	unsigned long points, ok, enomem, efault;
};

static void tally_add(struct tally *t, int err)
{
	if (!err)
		t->ok++;
	else if (err == ENOMEM)
		t->enomem++;
	else
		t->efault++;
}

/*
 * One attempt: OP with its N-th fault point failing, then the checks.
 * Returns true when the fault was not injected and OP succeeded: N went
 * past the last fault point.
 */
static bool attempt(int fd, const struct op *op, unsigned long n, struct tally *t,
		    long refcnt, long sys_pages)
{
	struct hmm_dmirror_cmd cmd;
	struct range r;
	unsigned long old_gen;
	bool injected;
	int ret, err;

	range_map(&r);
	r.buf = malloc(npages * page_size);
	if (!r.buf)
		die("malloc");
	if (op->on_device) {
		ret = dev_cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, r.p, r.buf, &cmd);
		if (ret)
			die("migrating to the device before the operation: %s", strerror(-ret));
		if (cmd.cpages != npages)
			die("only %llu of %lu pages reached the device before the operation",
			    (unsigned long long)cmd.cpages, npages);
	}
	old_gen = r.gen;

	nth_arm(n);
	err = -op->run(fd, &r);
	injected = nth_disarm();

	if (err && !allowed_errno(err))
		die("failed with %s, not ENOMEM or EFAULT", strerrorname_np(err));
	if (err && !injected)
		die("failed with %s although no fault was injected", strerrorname_np(err));
	if (op->writes && !err)
		r.gen = next_gen - 1;

	/* The device's view, then the CPU's: nothing lost, nothing torn. */
	if (dev_cmd(fd, HMM_DMIRROR_READ, r.p, r.buf, &cmd))
		die("device READ after the operation: %s", strerror(errno));
	if (op->writes && err)
		check_data(r.buf, old_gen, next_gen - 1, "device READ after a failed WRITE");
	else
		check_data(r.buf, r.gen, r.gen, "device READ after the operation");
	if (op->writes && err)
		check_data(r.p, old_gen, next_gen - 1, "CPU read after a failed WRITE");
	else
		check_data(r.p, r.gen, r.gen, "CPU read after the operation");

	range_unmap(&r);
	free(r.buf);
	if (dev_stat("pages_in_use"))
		die("%ld device pages still in use once the range is unmapped",
		    dev_stat("pages_in_use"));
	if (dev_stat("shadow_live"))
		die("%ld shadow pages still live once the range is unmapped",
		    dev_stat("shadow_live"));
	if (module_refcnt() != refcnt)
		die("module refcount %ld, %ld before", module_refcnt(), refcnt);
	/* kmemleak cannot see a page the driver allocated and dropped. */
	if (system_pages_live() != sys_pages)
		die("the driver holds %ld system pages once the range is unmapped, %ld before",
		    system_pages_live(), sys_pages);

	if (!injected) {
		t->points = n - 1;
		return true;
	}
	tally_add(t, err);
	if (verbose)
		printf("%s: fault point %lu: %s\n", op->name, n,
		       err ? strerrorname_np(err) : "ok");
	return false;
}

static void run_op(const struct op *op)
{
	struct tally t = { 0 };
	int fd = dev_open();
	long refcnt = module_refcnt(), sys_pages = system_pages_live();
	unsigned long n;

	cur_op = op->name;
	for (n = 1; n <= max_n; n++) {
		cur_n = n;
		if (attempt(fd, op, n, &t, refcnt, sys_pages))
			break;
	}
	if (n > max_n)
		die("still injecting after %lu fault points", max_n);
	close(fd);
	printf("failnth: %s%s: %lu fault points: %lu succeeded anyway, %lu ENOMEM, %lu EFAULT\n",
	       op->name, huge ? " (huge)" : "", t.points, t.ok, t.enomem, t.efault);
}

/* --- module load ----------------------------------------------------------- */

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* A freshly loaded module works: one page there and back. */
static void check_loaded_module(void)
{
	unsigned long saved = npages;
	struct range r;
	int fd;

	npages = 1;
	fd = dev_open();
	range_map(&r);
	r.buf = malloc(page_size);
	if (!r.buf || dev_cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, r.p, r.buf, NULL))
		die("migrating a page on the loaded module: %s", strerror(errno));
	check_data(r.buf, r.gen, r.gen, "device copy on the loaded module");
	check_data(r.p, r.gen, r.gen, "CPU read back on the loaded module");
	range_unmap(&r);
	free(r.buf);
	close(fd);
	npages = saved;
}

/*
 * Where the faults of a module load land.  finit_module() meets hundreds
 * of fault points in the kernel's own loader (reading the file, module
 * memory, sysfs, ftrace, trace events) before it calls dmirror_init(), and
 * some of the kernel's code WARNs when an allocation there fails: that is
 * not the driver's to test.  So the faults go into dmirror_init() only.
 * Kprobe events in a tracing instance of our own, for this process only,
 * show where each one landed: an event at every slab and page allocation
 * fault point (should_failslab(), should_fail_alloc_page()), one more when
 * such a point failed, one at each end of the call of dmirror_init() (the
 * loader's do_one_initcall(): a probe in the module's own init text would
 * be torn down right after init, meeting the faults itself).  User copies
 * have no probe-able hook, but init makes none.  A load with nothing
 * injected says how many points come before init and inside it; from
 * there the attempts home in on init's first point and walk through to
 * its last.
 */
#define TRACEFS "/sys/kernel/tracing"
#define INSTANCE TRACEFS "/instances/failnth"

static const char *const probes[] = {
	"p:failnth/point_slab should_failslab",
	"p:failnth/point_page should_fail_alloc_page",
	"r64:failnth/failed_slab should_failslab ret=$retval:s32",
	"r64:failnth/failed_page should_fail_alloc_page ret=$retval:u8",
	"p:failnth/init_enter do_one_initcall",
	"r64:failnth/init_exit do_one_initcall ret=$retval:s32",
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static void write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | flags);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("writing '%s' to %s: %s", s, path, strerror(errno));
	close(fd);
}

static void probes_remove(void)
{
	char line[64];
	size_t i;

	/* Also the exit handler of a failed run: complain, do not die. */
	if (path_exists(INSTANCE) && rmdir(INSTANCE))
		fprintf(stderr, "failnth: rmdir " INSTANCE ": %s\n", strerror(errno));
	for (i = 0; i < NPROBES; i++) {
		int fd = open(TRACEFS "/kprobe_events", O_WRONLY | O_APPEND);

		/* "-:failnth/NAME"; absent after a clean run: nothing to say. */
		snprintf(line, sizeof(line), "-:%.*s\n",
			 (int)strcspn(strchr(probes[i], ':') + 1, " "),
			 strchr(probes[i], ':') + 1);
		if (fd >= 0) {
			(void)!write(fd, line, strlen(line));
			close(fd);
		}
	}
}

static void probes_add(void)
{
	char filter[64];
	size_t i;

	probes_remove();
	atexit(probes_remove);
	for (i = 0; i < NPROBES; i++)
		write_file(TRACEFS "/kprobe_events", probes[i], O_APPEND);
	if (mkdir(INSTANCE, 0700))
		die("mkdir " INSTANCE ": %s", strerror(errno));
	write_file(INSTANCE "/buffer_size_kb", "4096", O_TRUNC);
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	write_file(INSTANCE "/events/failnth/filter", filter, O_TRUNC);
	/* A failed_* event only where the point did fail. */
	snprintf(filter, sizeof(filter), "common_pid == %d && ret != 0", getpid());
	write_file(INSTANCE "/events/failnth/failed_slab/filter", filter, O_TRUNC);
	write_file(INSTANCE "/events/failnth/failed_page/filter", filter, O_TRUNC);
	write_file(INSTANCE "/events/failnth/enable", "1", O_TRUNC);
}

/* Events our kprobes missed (kprobe_profile's third column). */
static long probes_missed(void)
{
	FILE *f = fopen(TRACEFS "/kprobe_profile", "r");
	char name[128];
	long hits, missed, total = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%127s %ld %ld", name, &hits, &missed) == 3)
		if (!strncmp(name, "failnth/", 8))
			total += missed;
	fclose(f);
	return total;
}

/*
 * One load's trace, in allocation fault points (the only ones init has):
 * how many came before init was entered and before it returned (-1: it
 * was not / did not), and which one failed (0: none did); and whether
 * fail-nth says a fault was injected at all.
 */
struct load_trace {
	long enter_at, exit_at, failed;
	long init_ret;		/* what init returned, if it did */
	bool injected;
};

enum landing { LANDED_NONE, LANDED_BEFORE, LANDED_INSIDE, LANDED_AFTER };

static enum landing landing(const struct load_trace *t)
{
	if (!t->failed)
		return LANDED_NONE;
	if (t->enter_at < 0 || t->failed <= t->enter_at)
		return LANDED_BEFORE;
	if (t->exit_at < 0 || t->failed <= t->exit_at)
		return LANDED_INSIDE;
	return LANDED_AFTER;
}

/*
 * Fault points that interrupts met while this process ran carry the
 * hardirq, softirq or NMI flag (the third latency flag): fail-nth does
 * not count those, so neither does this.
 */
static void trace_read(struct load_trace *t)
{
	FILE *f = fopen(INSTANCE "/trace", "r");
	long points = 0;
	char line[512];

	if (!f)
		die("open " INSTANCE "/trace: %s", strerror(errno));
	t->enter_at = t->exit_at = -1;
	t->init_ret = -1;
	t->failed = 0;
	while (fgets(line, sizeof(line), f)) {
		char *flags = strchr(line, ']');

		if (line[0] == '#' || !flags)
			continue;
		while (*++flags == ' ')
			;
		if (strlen(flags) < 4 || flags[2] != '.')
			continue;
		if (strstr(line, " init_enter: ")) {
			t->enter_at = points;
		} else if (strstr(line, " init_exit: ")) {
			char *r = strstr(line, " ret=");

			t->exit_at = points;
			t->init_ret = r ? strtol(r + 5, NULL, 0) : -1;
		}
		else if (strstr(line, " point_slab: ") || strstr(line, " point_page: "))
			points++;
		else if (strstr(line, " failed_slab: ") || strstr(line, " failed_page: "))
			t->failed = points;
	}
	fclose(f);
}

static void unload_module(void)
{
	if (syscall(SYS_delete_module, "dmirror", O_NONBLOCK))
		die("unloading dmirror: %s", strerror(errno));
	if (path_exists(DEBUGFS))
		die("unloading left " DEBUGFS);
}

/*
 * One load with fault point @n failing (0: none), judged: a failed load
 * leaves nothing behind, a good one works and unloads.  Returns 0 or the
 * errno of the load.
 */
static int load_once(const char *path, const char *params, unsigned long n,
		     struct load_trace *t)
{
	int mfd = open(path, O_RDONLY | O_CLOEXEC);
	bool injected;
	int ret;

	if (mfd < 0)
		die("open %s: %s", path, strerror(errno));
	write_file(INSTANCE "/trace", "", O_TRUNC);
	nth_arm(n ? n : 1000000000);
	ret = syscall(SYS_finit_module, mfd, params, 0) ? errno : 0;
	injected = nth_disarm() && n;
	close(mfd);
	trace_read(t);
	t->injected = injected;

	if (ret && !injected)
		die("finit_module failed with %s although no fault was injected",
		    strerrorname_np(ret));
	if (ret && !allowed_errno(ret))
		die("finit_module failed with %s, not ENOMEM or EFAULT", strerrorname_np(ret));
	if (ret) {
		if (path_exists("/sys/module/dmirror"))
			die("a failed load (%s) left /sys/module/dmirror", strerrorname_np(ret));
		if (path_exists("/sys/class/dmirror"))
			die("a failed load (%s) left /sys/class/dmirror", strerrorname_np(ret));
		if (path_exists(DEBUGFS))
			die("a failed load (%s) left " DEBUGFS, strerrorname_np(ret));
	} else {
		check_loaded_module();
		unload_module();
	}
	if (verbose)
		printf("load: fault point %lu: %s, landed %s\n", n,
		       ret ? strerrorname_np(ret) : "ok",
		       (const char *[]){ "nowhere", "in the loader", "in init",
					 "after init" }[landing(t)]);
	return ret;
}

#define MAX_INIT_POINTS 4096

/*
 * Fails each of init's fault points in turn.  Fault point N of a load is
 * init's J-th when the loader met N - J before calling init; that count
 * varies by a few from load to load (slab refills), so every load's trace
 * re-anchors the guess for the next (base = N - J), and the walk goes by
 * init's positions until each one of them, as far as init reached in the
 * latest load, has failed once.  A position two loads in a row skip was
 * an allocation that cannot fail (__GFP_NOFAIL): it counts as skipped.
 */
static void load_module(const char *path, const char *params)
{
	static bool covered[MAX_INIT_POINTS + 1];
	struct tally t = { 0 };
	struct load_trace dry, lt;
	unsigned long tries = 0, outside = 0, skipped = 0;
	long base, m, p, j, n, last_p = 0, p_missed = 0;
	int ret;

	cur_op = "load";
	if (path_exists("/sys/module/dmirror"))
		die("dmirror is loaded already");
	probes_add();

	load_once(path, params, 0, &dry);
	m = dry.exit_at - dry.enter_at;
	if (dry.enter_at < 0 || m <= 0 || m > MAX_INIT_POINTS)
		die("the kprobes saw no fault point inside dmirror_init() (before it %ld, by its return %ld)",
		    dry.enter_at, dry.exit_at);
	base = dry.enter_at;

	for (;;) {
		for (p = 1; p <= m && covered[p]; p++)
			;
		if (p > m)
			break;
		if (++tries > 4 * (unsigned long)m + 64)
			die("cannot fail every one of init's %ld fault points (position %ld)", m, p);
		n = base + p > 0 ? base + p : 1;
		cur_n = (unsigned long)n;
		ret = load_once(path, params, (unsigned long)n, &lt);
		/* Only an init that ran to success says how far it goes. */
		if (lt.enter_at >= 0 && lt.exit_at >= lt.enter_at && !lt.init_ret &&
		    lt.exit_at - lt.enter_at <= MAX_INIT_POINTS)
			m = lt.exit_at - lt.enter_at;
		if (!lt.failed || lt.enter_at < 0) {
			/* a load that failed before init, or nothing failed */
			outside++;
			base += lt.injected ? 1 : -1;
			continue;
		}
		j = lt.failed - lt.enter_at;
		base = n - j;
		if (j < 1 || j > m) {
			outside++;
			continue;
		}
		if (!covered[j]) {
			covered[j] = true;
			t.points++;
			tally_add(&t, ret);
		}
		if (j > p) {
			p_missed = p == last_p ? p_missed + 1 : 1;
			last_p = p;
			if (p_missed >= 2) {
				covered[p] = true;
				skipped++;
			}
		}
	}
	printf("failnth: load: %lu fault points inside dmirror_init() failed, %lu positions unfailable: %lu succeeded anyway, %lu ENOMEM, %lu EFAULT; %lu tries landed outside it; kprobe events missed: %ld\n",
	       t.points, skipped, t.ok, t.enomem, t.efault, outside, probes_missed());
}

static void usage(void)
{
	fprintf(stderr, "usage: failnth [-d N] [-n NPAGES] [-H] [-m MAXN] [-v] OP...\n"
			"       failnth -L MODULE [PARAMS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *module = NULL;
	int c, i;
	size_t k;

	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "d:n:Hm:vL:")) != -1) {
		switch (c) {
		case 'd': dev_id = atoi(optarg); break;
		case 'n': npages = strtoul(optarg, NULL, 0); break;
		case 'H': huge = true; break;
		case 'm': max_n = strtoul(optarg, NULL, 0); break;
		case 'v': verbose = true; break;
		case 'L': module = optarg; break;
		default: usage();
		}
	}
	if (huge)
		npages = HUGE_PAGES;
	if (!npages || npages > 4096)
		usage();
	snprintf(dev_path, sizeof(dev_path), "/dev/dmirror%d", dev_id);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0) {
		fprintf(stderr, "failnth: /proc/thread-self/fail-nth: %s (no CONFIG_FAULT_INJECTION)\n",
			strerror(errno));
		return 2;
	}

	if (module) {
		load_module(module, optind < argc ? argv[optind] : "");
		return 0;
	}
	if (optind == argc)
		usage();
	for (i = optind; i < argc; i++) {
		bool all = !strcmp(argv[i], "all"), found = all;

		for (k = 0; k < NOPS; k++) {
			if (all || !strcmp(argv[i], ops[k].name)) {
				run_op(&ops[k]);
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "failnth: no operation '%s'\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
