// SPDX-License-Identifier: GPL-2.0
/*
 * dm_ioctl: checks dmirror's ioctl argument validation and the less
 * travelled commands, printing one line per check and exiting 1 if any
 * failed.
 *
 *   dm_ioctl validate      bad ranges, pointers and commands
 *   dm_ioctl exclusive     EXCLUSIVE / CHECK_EXCLUSIVE on 4 KiB pages
 *   dm_ioctl snapshot      SNAPSHOT codes before and after a migration
 *   dm_ioctl release       RELEASE brings device pages back intact
 *   dm_ioctl unlocked      READ_UNLOCKED works, or is -ENOTTY
 *   dm_ioctl cow           WRITE to device pages that fork() made
 *                          copy-on-write: the writer gets its own copy,
 *                          the child keeps the old data
 *   dm_ioctl killable      the longest call of each command (DMIRROR_MAX_NPAGES
 *                          pages) ends within 2 s of SIGKILL
 *   dm_ioctl busy          READ and SNAPSHOT of a range nobody touches, while
 *                          another thread invalidates memory elsewhere
 *                          without pause: no EBUSY, no retry
 *   dm_ioctl write FILE STRING   one write(2) of exactly STRING (maybe
 *                          empty) to FILE; prints "ok" or the errno name
 *   dm_ioctl write-unmapped FILE  one write(2) of 2 bytes from an
 *                          unmapped address; prints "ok" or the errno name
 *   dm_ioctl write-each DIR  for each stdin line "KNOB<TAB>STRING" (N in
 *                          STRING standing for a newline): reads DIR/KNOB,
 *                          makes one write(2) of exactly STRING to it, reads
 *                          it again; prints "KNOB<TAB>STRING<TAB>BEFORE<TAB>
 *                          ok-or-errno<TAB>AFTER".  One process for a whole
 *                          batch: under KASAN and TCG the handful of
 *                          processes a write costs from the shell took 3 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
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

static int failures;
static long psize;

static void expect(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failures++;
}

/* Returns 0 or -errno. */
static int cmd(int fd, unsigned long req, uint64_t addr, uint64_t ptr,
	       uint64_t npages, struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd c = { .addr = addr, .ptr = ptr, .npages = npages };

	if (ioctl(fd, req, &c))
		return -errno;
	if (out)
		*out = c;
	return 0;
}

static void *map_pages(unsigned long n)
{
	void *p = mmap(NULL, n * psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(p, n * psize, MADV_NOHUGEPAGE);
	return p;
}

static void validate(int fd)
{
	char *buf = map_pages(4);
	char *mirror = malloc(4 * psize);
	uint64_t b = (uintptr_t)buf, m = (uintptr_t)mirror;
	static const unsigned long ranged[] = {
		HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE_TO_DEV,
		HMM_DMIRROR_MIGRATE_TO_SYS, HMM_DMIRROR_SNAPSHOT,
		HMM_DMIRROR_EXCLUSIVE, HMM_DMIRROR_CHECK_EXCLUSIVE,
	};
	unsigned int i;
	char what[128];

	memset(buf, 1, 4 * psize);
	for (i = 0; i < sizeof(ranged) / sizeof(ranged[0]); i++) {
		unsigned long r = ranged[i];

		snprintf(what, sizeof(what), "cmd 0x%02lx npages 0 -> EINVAL", r & 0xff);
		expect(cmd(fd, r, b, m, 0, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx unaligned addr -> EINVAL", r & 0xff);
		expect(cmd(fd, r, b + 1, m, 1, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx npages over the limit -> EINVAL", r & 0xff);
		expect(cmd(fd, r, b, m, DMIRROR_MAX_NPAGES + 1, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx npages 2^60 -> EINVAL", r & 0xff);
		expect(cmd(fd, r, b, m, 1ULL << 60, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx range wrapping past 2^64 -> EINVAL", r & 0xff);
		expect(cmd(fd, r, -4096ULL, m, 2, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx range in kernel space -> EINVAL", r & 0xff);
		expect(cmd(fd, r, 0xffff888000000000ULL, m, 1, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx range across TASK_SIZE -> EINVAL", r & 0xff);
		expect(cmd(fd, r, 0x00fffffffffff000ULL, m, 2, NULL) == -EINVAL, what);
		snprintf(what, sizeof(what), "cmd 0x%02lx bad command pointer -> EFAULT", r & 0xff);
		expect(ioctl(fd, r, (void *)8) == -1 && errno == EFAULT, what);
	}
	expect(cmd(fd, HMM_DMIRROR_READ, b, 16, 4, NULL) == -EFAULT,
	       "READ into a bad buffer -> EFAULT");
	expect(cmd(fd, HMM_DMIRROR_WRITE, b, 16, 4, NULL) == -EFAULT,
	       "WRITE from a bad buffer -> EFAULT");
	expect(cmd(fd, HMM_DMIRROR_SNAPSHOT, b, 16, 4, NULL) == -EFAULT,
	       "SNAPSHOT into a bad buffer -> EFAULT");
	expect(cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, b, 16, 4, NULL) == -EFAULT,
	       "MIGRATE_TO_DEV into a bad buffer -> EFAULT");
	expect(cmd(fd, HMM_DMIRROR_READ, 0x10000, m, 4, NULL) == -EFAULT,
	       "READ of unmapped memory -> EFAULT");
	expect(cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, 0x10000, m, 4, NULL) == -EINVAL,
	       "MIGRATE_TO_DEV of unmapped memory -> EINVAL");
	expect(cmd(fd, HMM_DMIRROR_MIGRATE_TO_SYS, 0x10000, m, 4, NULL) == -EINVAL,
	       "MIGRATE_TO_SYS of unmapped memory -> EINVAL");
	expect(cmd(fd, HMM_DMIRROR_FLAGS, b, m, 2, NULL) == -EINVAL,
	       "FLAGS with an unknown flag -> EINVAL");
	expect(cmd(fd, HMM_DMIRROR_FLAGS, b, m, 0, NULL) == 0, "FLAGS 0 -> 0");
	expect(ioctl(fd, _IOWR('H', 0x42, struct hmm_dmirror_cmd), mirror) == -1 &&
	       errno == ENOTTY, "unknown command -> ENOTTY");
	expect(ioctl(fd, _IOWR('X', 0x00, struct hmm_dmirror_cmd), mirror) == -1 &&
	       errno == ENOTTY, "foreign command -> ENOTTY");
	/* The command is sorted out before its argument is read. */
	expect(ioctl(fd, _IOWR('H', 0x42, struct hmm_dmirror_cmd), (void *)8) == -1 &&
	       errno == ENOTTY, "unknown command with a bad pointer -> ENOTTY");
	expect(ioctl(fd, _IOWR('X', 0x00, struct hmm_dmirror_cmd), (void *)8) == -1 &&
	       errno == ENOTTY, "foreign command with a bad pointer -> ENOTTY");
	expect(cmd(fd, HMM_DMIRROR_READ, b, m, 4, NULL) == 0,
	       "READ of good memory still works");
	expect(!memcmp(buf, mirror, 4 * psize), "READ data matches");
}

static void exclusive(int fd)
{
	char *buf = map_pages(8);
	char *mirror = malloc(8 * psize);
	struct hmm_dmirror_cmd out;
	int i, ok = 1;

	for (i = 0; i < 8 * psize; i++)
		buf[i] = (char)i;
	expect(cmd(fd, HMM_DMIRROR_EXCLUSIVE, (uintptr_t)buf, (uintptr_t)mirror, 8,
		   &out) == 0 && out.cpages == 8, "EXCLUSIVE of 8 pages");
	/*
	 * Any CPU access to buf now, a read included, takes the pages back
	 * from the device: check the mirror against the pattern, not buf.
	 */
	for (i = 0; i < 8 * psize; i++)
		ok &= mirror[i] == (char)i;
	expect(ok, "EXCLUSIVE returns the data");
	expect(cmd(fd, HMM_DMIRROR_CHECK_EXCLUSIVE, (uintptr_t)buf, 0, 8, NULL) ==
	       -EPERM, "CHECK_EXCLUSIVE while held -> EPERM");
	for (i = 0, ok = 1; i < 8 * psize; i++)
		ok &= buf[i] == (char)i;
	expect(ok, "CPU reads the data back");
	for (i = 0; i < 8 * psize; i += psize)
		buf[i]++;
	expect(cmd(fd, HMM_DMIRROR_CHECK_EXCLUSIVE, (uintptr_t)buf, 0, 8, NULL) ==
	       0, "CHECK_EXCLUSIVE after CPU access -> 0");
	/* Untouched memory: the device faults it in (zero page, COW) first. */
	munmap(buf, 8 * psize);
	buf = map_pages(8);
	expect(cmd(fd, HMM_DMIRROR_EXCLUSIVE, (uintptr_t)buf, (uintptr_t)mirror, 8,
		   &out) == 0 && out.cpages == 8, "EXCLUSIVE of never-touched pages");
	munmap(buf, 8 * psize);
	expect(cmd(fd, HMM_DMIRROR_CHECK_EXCLUSIVE, (uintptr_t)buf, 0, 8, NULL) ==
	       0, "CHECK_EXCLUSIVE after munmap -> 0");
}

static void snapshot(int fd0, int fd1)
{
	char *buf = map_pages(4);
	unsigned char codes[4];
	char *mirror = malloc(4 * psize);
	struct hmm_dmirror_cmd out;

	buf[0] = 1;			/* page 0 present, writable */
	(void)*(volatile char *)(buf + psize);	/* page 1: the zero page */
	/* page 2 never touched; page 3 migrated below */
	buf[3 * psize] = 3;
	expect(cmd(fd0, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)buf + 3 * psize,
		   (uintptr_t)mirror, 1, &out) == 0 && out.cpages == 1,
	       "MIGRATE_TO_DEV of one page");
	expect(cmd(fd0, HMM_DMIRROR_SNAPSHOT, (uintptr_t)buf, (uintptr_t)codes, 4,
		   &out) == 0 && out.cpages == 4, "SNAPSHOT of 4 pages");
	printf("     codes %02x %02x %02x %02x\n", codes[0], codes[1], codes[2],
	       codes[3]);
	expect(codes[0] == HMM_DMIRROR_PROT_WRITE, "written page: WRITE");
	expect(codes[1] == (HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ),
	       "read page: ZERO|READ");
	expect(codes[2] == HMM_DMIRROR_PROT_NONE, "untouched page: NONE");
	expect(codes[3] == (HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL |
			    HMM_DMIRROR_PROT_WRITE), "migrated page: DEV_PRIVATE_LOCAL|WRITE");
	expect(cmd(fd1, HMM_DMIRROR_SNAPSHOT, (uintptr_t)buf, (uintptr_t)codes, 4,
		   &out) == 0 && codes[3] == HMM_DMIRROR_PROT_NONE,
	       "the other device sees the page as NONE");
	expect(cmd(fd0, HMM_DMIRROR_MIGRATE_TO_SYS, (uintptr_t)buf, (uintptr_t)mirror,
		   4, &out) == 0 && out.cpages == 1, "MIGRATE_TO_SYS moves 1 page back");
	expect(buf[3 * psize] == 3, "data intact after MIGRATE_TO_SYS");
}

static void release(int fd)
{
	uint64_t *buf = map_pages(32);
	char *mirror = malloc(32 * psize);
	unsigned long i, words = 32 * psize / 8;
	struct hmm_dmirror_cmd out;
	int ok = 1;

	for (i = 0; i < words; i++)
		buf[i] = ~i;
	expect(cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)buf, (uintptr_t)mirror,
		   32, &out) == 0 && out.cpages == 32, "MIGRATE_TO_DEV of 32 pages");
	expect(cmd(fd, HMM_DMIRROR_RELEASE, 0, 0, 0, NULL) == 0, "RELEASE");
	for (i = 0; i < words; i++)
		ok &= buf[i] == ~i;
	expect(ok, "data intact after RELEASE");
}

static void unlocked(int fd)
{
	char *buf = map_pages(4);
	char *mirror = malloc(4 * psize);
	struct hmm_dmirror_cmd out;
	int ret;

	memset(buf, 7, 4 * psize);
	ret = cmd(fd, HMM_DMIRROR_READ_UNLOCKED, (uintptr_t)buf, (uintptr_t)mirror,
		  4, &out);
	if (ret == -ENOTTY) {
		expect(1, "READ_UNLOCKED not offered by this kernel (ENOTTY)");
		expect(ioctl(fd, HMM_DMIRROR_READ_UNLOCKED, (void *)8) == -1 &&
		       errno == ENOTTY,
		       "READ_UNLOCKED not offered, with a bad pointer -> ENOTTY");
		return;
	}
	expect(ret == 0 && out.cpages == 4 && !memcmp(buf, mirror, 4 * psize),
	       "READ_UNLOCKED reads the data");
}

static void cow(int fd)
{
	unsigned char *buf = map_pages(8), *src = malloc(8 * psize);
	int i, ok = 1, status, go[2];
	char c;
	pid_t pid;

	memset(buf, 0xa5, 8 * psize);
	expect(cmd(fd, HMM_DMIRROR_MIGRATE_TO_DEV, (uintptr_t)buf, (uintptr_t)src, 8,
		   NULL) == 0, "MIGRATE_TO_DEV of 8 pages");
	if (pipe(go)) {
		expect(0, "pipes");
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* Wait for the parent's WRITE, then check the old data. */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		for (i = 0; i < 8 * psize; i++)
			if (buf[i] != 0xa5)
				_exit(1);
		_exit(0);
	}
	/* The pages are on the device and shared copy-on-write now. */
	memset(src, 0x5a, 8 * psize);
	expect(cmd(fd, HMM_DMIRROR_WRITE, (uintptr_t)buf, (uintptr_t)src, 8, NULL) == 0,
	       "WRITE to copy-on-write device pages");
	for (i = 0; i < 8 * psize; i++)
		ok &= buf[i] == 0x5a;
	expect(ok, "the writer reads what it wrote");
	if (write(go[1], "g", 1) != 1)
		expect(0, "waking the child");
	expect(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0, "the child still reads the old data");
}

static int open_dev(int n);

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A child makes the longest call dmirror accepts: DMIRROR_MAX_NPAGES
 * pages (1 GiB) of untouched anonymous memory, read into or written from
 * a buffer as large.  300 ms in, the parent SIGKILLs it and times how
 * long it takes to be reaped: every loop over a range checks for a fatal
 * signal, so it must be quick.  A call that ends on its own before the
 * kill is bounded anyway, and says so.
 */
static void killable_one(unsigned long req, const char *name)
{
	size_t len = DMIRROR_MAX_NPAGES * psize;
	int go[2], status;
	long t0, dt;
	char what[160], c;
	pid_t pid;

	if (pipe(go)) {
		expect(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int fd = open_dev(0);
		void *range = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (range == MAP_FAILED || buf == MAP_FAILED)
			_exit(3);
		madvise(range, len, MADV_NOHUGEPAGE);
		if (write(go[1], "g", 1) != 1)
			_exit(3);
		_exit(cmd(fd, req, (uintptr_t)range, (uintptr_t)buf,
			  DMIRROR_MAX_NPAGES, NULL) ? 1 : 0);
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1) {
		close(go[0]);
		waitpid(pid, &status, 0);
		expect(0, "the child could not set up its 1 GiB mappings");
		return;
	}
	close(go[0]);
	t0 = now_ms();
	usleep(300000);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		snprintf(what, sizeof(what), "%s of %llu pages ended on its own within %ld ms",
			 name, DMIRROR_MAX_NPAGES, now_ms() - t0);
		expect(WIFEXITED(status) && WEXITSTATUS(status) != 3, what);
		return;
	}
	kill(pid, SIGKILL);
	t0 = now_ms();
	waitpid(pid, &status, 0);
	dt = now_ms() - t0;
	/* It may have ended on its own just before the signal. */
	snprintf(what, sizeof(what), "%s of %llu pages, SIGKILLed 300 ms in: gone after %ld ms%s",
		 name, DMIRROR_MAX_NPAGES, dt,
		 WIFSIGNALED(status) ? "" : " (it had just ended on its own)");
	expect((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 3)) &&
	       dt < 2000, what);
}

static void killable(void)
{
	killable_one(HMM_DMIRROR_READ, "READ");
	killable_one(HMM_DMIRROR_WRITE, "WRITE");
	killable_one(HMM_DMIRROR_SNAPSHOT, "SNAPSHOT");
	killable_one(HMM_DMIRROR_EXCLUSIVE, "EXCLUSIVE");
	killable_one(HMM_DMIRROR_CHECK_EXCLUSIVE, "CHECK_EXCLUSIVE");
	killable_one(HMM_DMIRROR_MIGRATE_TO_DEV, "MIGRATE_TO_DEV");
	killable_one(HMM_DMIRROR_MIGRATE_TO_SYS, "MIGRATE_TO_SYS");
	killable_one(HMM_DMIRROR_READ_UNLOCKED, "READ_UNLOCKED");
}

static int open_dev(int n)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/dmirror%d", n);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

/* A counter of device 0 from debugfs stats. */
static long dev0_stat(const char *key)
{
	char want[64], line[128];
	long v = -1;
	FILE *f = fopen("/sys/kernel/debug/dmirror/stats", "r");

	if (!f) {
		perror("stats");
		exit(1);
	}
	snprintf(want, sizeof(want), "dev0.%s ", key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			v = strtol(line + strlen(want), NULL, 10);
	fclose(f);
	if (v < 0) {
		fprintf(stderr, "no %s in stats\n", want);
		exit(1);
	}
	return v;
}

static atomic_int busy_stop;

/* Invalidates one page of its own mapping, over and over. */
static void *busy_invalidator(void *arg)
{
	char *page = arg;
	unsigned long rounds = 0;

	while (!atomic_load(&busy_stop)) {
		page[0] = 1;
		madvise(page, psize, MADV_DONTNEED);
		rounds++;
	}
	return (void *)rounds;
}

/*
 * Only an invalidation of a command's own range may make it look again
 * (finding 13 of docs/reliability.md: with a notifier over the whole
 * address space, activity anywhere in the process made READ and WRITE
 * start windows again until they gave up with EBUSY).  A fresh file for
 * each READ, so that its device page table is empty and it faults.
 */
static void busy(void)
{
	const unsigned long n = 64;
	char *buf = map_pages(n), *other = map_pages(1);
	char *mirror = malloc(n * psize);
	unsigned char *codes = malloc(n);
	unsigned long calls = 0, ebusy = 0, bad = 0, i;
	long retries = dev0_stat("range_retries"), end;
	void *rounds;
	pthread_t t;

	memset(buf, 5, n * psize);
	if (pthread_create(&t, NULL, busy_invalidator, other)) {
		perror("pthread_create");
		exit(1);
	}
	for (end = now_ms() + 2000; now_ms() < end; calls += 2) {
		int fd = open_dev(0), r;

		r = cmd(fd, HMM_DMIRROR_READ, (uintptr_t)buf, (uintptr_t)mirror, n, NULL);
		ebusy += r == -EBUSY;
		bad += r && r != -EBUSY;
		if (!r && memcmp(buf, mirror, n * psize))
			bad++;
		r = cmd(fd, HMM_DMIRROR_SNAPSHOT, (uintptr_t)buf, (uintptr_t)codes, n, NULL);
		ebusy += r == -EBUSY;
		bad += r && r != -EBUSY;
		for (i = 0; !r && i < n; i++)
			bad += codes[i] != (HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_NONE);
		close(fd);
	}
	atomic_store(&busy_stop, 1);
	pthread_join(t, &rounds);
	retries = dev0_stat("range_retries") - retries;
	printf("busy: %lu calls, %lu EBUSY, %ld retries, %lu invalidations elsewhere\n",
	       calls, ebusy, retries, (unsigned long)rounds);
	/* Else there was little to retry for, and no retry would prove nothing. */
	expect((unsigned long)rounds >= 100 && 2 * (unsigned long)rounds >= calls,
	       "the other thread invalidated at least once for every two calls");
	expect(!bad, "READ and SNAPSHOT answered right");
	expect(!ebusy, "no EBUSY from an untouched range");
	expect(!retries, "no window looked at again for an invalidation elsewhere");
}

/* One write(2) of exactly @len bytes of @s to @path: "ok" or the errno's name. */
static const char *write_string(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY);
	const char *got = "ok";

	if (fd < 0 || write(fd, s, len) < 0)
		got = strerrorname_np(errno);
	if (fd >= 0)
		close(fd);
	return got;
}

/* A knob's value, its newline dropped: what "cat" would show. */
static void read_knob(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0) {
		snprintf(buf, size, "(read: %s)", strerrorname_np(errno));
		return;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static int write_each(const char *dir)
{
	char line[256], path[512], str[128], before[64], after[64], *enc, *p;
	const char *got;
	size_t len;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		enc = strchr(line, '\t');
		if (!enc) {
			fprintf(stderr, "dm_ioctl: write-each: no tab in '%s'\n", line);
			return 2;
		}
		*enc++ = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		len = strlen(enc);
		if (len >= sizeof(str)) {
			fprintf(stderr, "dm_ioctl: write-each: string too long\n");
			return 2;
		}
		memcpy(str, enc, len + 1);
		for (p = str; *p; p++)
			if (*p == 'N')
				*p = '\n';
		read_knob(path, before, sizeof(before));
		got = write_string(path, str, len);
		read_knob(path, after, sizeof(after));
		printf("%s\t%s\t%s\t%s\t%s\n", line, enc, before, got, after);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	psize = sysconf(_SC_PAGESIZE);
	if (argc == 4 && !strcmp(argv[1], "write")) {
		const char *got = write_string(argv[2], argv[3], strlen(argv[3]));

		printf("%s\n", got);
		return strcmp(got, "ok") != 0;
	}
	if (argc == 3 && !strcmp(argv[1], "write-each"))
		return write_each(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "write-unmapped")) {
		void *hole = mmap(NULL, psize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		fd = open(argv[2], O_WRONLY);
		if (hole == MAP_FAILED || munmap(hole, psize) || fd < 0 ||
		    write(fd, hole, 2) < 0) {
			printf("%s\n", strerrorname_np(errno));
			return 1;
		}
		printf("ok\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: dm_ioctl validate|exclusive|snapshot|release|unlocked|cow|killable|busy\n");
		return 2;
	}
	fd = open_dev(0);
	if (!strcmp(argv[1], "validate"))
		validate(fd);
	else if (!strcmp(argv[1], "exclusive"))
		exclusive(fd);
	else if (!strcmp(argv[1], "snapshot"))
		snapshot(fd, open_dev(1));
	else if (!strcmp(argv[1], "release"))
		release(fd);
	else if (!strcmp(argv[1], "unlocked"))
		unlocked(fd);
	else if (!strcmp(argv[1], "cow"))
		cow(fd);
	else if (!strcmp(argv[1], "killable"))
		killable();
	else if (!strcmp(argv[1], "busy"))
		busy();
	else
		return 2;
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
