// SPDX-License-Identifier: GPL-2.0
/*
 * dm_repro_enoent: the minimal form of what tests/guest/progs/stress.c
 * reported as "MIGRATE_TO_DEV ... ENOENT with no page on the other device;
 * not moved (code before->after): 00->00 gen 0 ... second try: ENOENT".
 * Needs dmirror loaded with at least two devices.  One line per check;
 * exits 1 if any failed.
 *
 *   dm_repro_enoent [other-device]   (the default)
 *       Pages migrated to /dev/dmirror0 and never touched since (zero
 *       filled, gen 0 in stress terms).  Seen through /dev/dmirror1 they
 *       are indistinguishable from never-touched memory: SNAPSHOT says
 *       0x00 (HMM_DMIRROR_PROT_NONE, as upstream hmm-tests hmm2.snapshot
 *       requires for a page another device holds), and MIGRATE_TO_DEV to
 *       /dev/dmirror1 fails with ENOENT, every time, because migration
 *       from system memory cannot collect another device's private pages.
 *       Seen through /dev/dmirror0 they are DEV_PRIVATE_LOCAL; once
 *       MIGRATE_TO_SYS brings them back, /dev/dmirror1 takes them.
 *       Checked with and without MADV_NOHUGEPAGE (THP plays no part).
 *
 *   dm_repro_enoent ro-write
 *       A separate hang stress can run into: a page migrated to the device
 *       while its VMA was read-only keeps a read-only device-private entry
 *       after mprotect(PROT_READ|PROT_WRITE); the device's WRITE of it must
 *       end (succeed or fail) rather than spin.  Run in a child, killed
 *       after 10 s.  The same with pages a fork() made copy-on-write
 *       while on the device; the fork child's copy must not change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmirror_uapi.h"

#define NPAGES 4

static int failures;
static long psize;

static void expect(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void expect(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

/* Returns 0 or the errno. */
static int cmd(int fd, unsigned long req, void *addr, void *ptr,
	       uint64_t npages, struct hmm_dmirror_cmd *out)
{
	struct hmm_dmirror_cmd c = {
		.addr = (uintptr_t)addr, .ptr = (uintptr_t)ptr, .npages = npages,
	};
	int ret = ioctl(fd, req, &c) ? errno : 0;

	if (out)
		*out = c;
	return ret;
}

static int open_dev(int d)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/dmirror%d", d);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dm_repro_enoent: open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static unsigned char *map_pages(unsigned long n, int nohuge)
{
	unsigned char *p = mmap(NULL, n * psize, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (nohuge)
		madvise(p, n * psize, MADV_NOHUGEPAGE);
	return p;
}

/* SNAPSHOT of NPAGES at p through fd: 1 if every code is @want. */
static int snap_all(int fd, unsigned char *p, unsigned char want, char *desc,
		    size_t len)
{
	unsigned char codes[NPAGES];
	size_t o = 0;
	int i, all = 1, e;

	e = cmd(fd, HMM_DMIRROR_SNAPSHOT, p, codes, NPAGES, NULL);
	if (e) {
		snprintf(desc, len, "SNAPSHOT: %s", strerror(e));
		return 0;
	}
	for (i = 0; i < NPAGES; i++) {
		o += (size_t)snprintf(desc + o, len - o, " %02x", codes[i]);
		all &= codes[i] == want;
	}
	return all;
}

static void other_device(int nohuge)
{
	const char *how = nohuge ? "MADV_NOHUGEPAGE" : "THP allowed";
	int fd0 = open_dev(0), fd1 = open_dev(1);
	unsigned char *buf = calloc(NPAGES, psize);
	unsigned char *p = map_pages(NPAGES, nohuge);
	struct hmm_dmirror_cmd c;
	char codes[64];
	int e, i, zero = 1;

	printf("--- %s: %d never-touched pages at %p\n", how, NPAGES, (void *)p);
	e = cmd(fd0, HMM_DMIRROR_MIGRATE_TO_DEV, p, buf, NPAGES, &c);
	expect(!e && c.cpages == NPAGES, "MIGRATE_TO_DEV to dmirror0: %s, cpages %llu",
	       e ? strerror(e) : "ok", (unsigned long long)c.cpages);

	expect(snap_all(fd0, p, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE,
			codes, sizeof(codes)),
	       "SNAPSHOT through dmirror0: DEV_PRIVATE_LOCAL|WRITE (0x22):%s", codes);
	expect(snap_all(fd1, p, HMM_DMIRROR_PROT_NONE, codes, sizeof(codes)),
	       "SNAPSHOT through dmirror1: 0x00, as for a never-touched page (not REMOTE):%s",
	       codes);

	e = cmd(fd1, HMM_DMIRROR_MIGRATE_TO_DEV, p, buf, NPAGES, &c);
	expect(e == ENOENT, "MIGRATE_TO_DEV to dmirror1: %s (expected ENOENT: dmirror0 holds them)",
	       e ? strerror(e) : "ok");
	e = cmd(fd1, HMM_DMIRROR_MIGRATE_TO_DEV, p, buf, NPAGES, &c);
	expect(e == ENOENT, "MIGRATE_TO_DEV to dmirror1 again: %s (expected ENOENT)",
	       e ? strerror(e) : "ok");
	expect(snap_all(fd0, p, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE,
			codes, sizeof(codes)),
	       "still on dmirror0 (DEV_PRIVATE_LOCAL|WRITE):%s", codes);

	/* What stress should do: ask the other device, or bring them back. */
	e = cmd(fd0, HMM_DMIRROR_MIGRATE_TO_SYS, p, buf, NPAGES, &c);
	expect(!e && c.cpages == NPAGES, "MIGRATE_TO_SYS from dmirror0: %s, cpages %llu",
	       e ? strerror(e) : "ok", (unsigned long long)c.cpages);
	memset(buf, 0xa5, NPAGES * psize);
	e = cmd(fd1, HMM_DMIRROR_MIGRATE_TO_DEV, p, buf, NPAGES, &c);
	for (i = 0; i < NPAGES * psize; i++)
		zero &= buf[i] == 0;
	expect(!e && c.cpages == NPAGES && zero,
	       "then MIGRATE_TO_DEV to dmirror1: %s, cpages %llu, data %s",
	       e ? strerror(e) : "ok", (unsigned long long)c.cpages, zero ? "zero" : "NOT zero");
	expect(snap_all(fd1, p, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE,
			codes, sizeof(codes)),
	       "SNAPSHOT through dmirror1: DEV_PRIVATE_LOCAL|WRITE:%s", codes);

	munmap(p, NPAGES * psize);
	free(buf);
	close(fd0);
	close(fd1);
}

/*
 * The device WRITEs pages it holds read-only: how they got read-only is
 * @use_fork (a fork made them copy-on-write) or not (mprotect(PROT_READ)
 * while they migrated, PROT_READ|PROT_WRITE again after).  In a child of
 * its own, with alarm(10): a WRITE that never ends dies of SIGALRM.
 */
static void ro_write(int use_fork)
{
	const char *why = use_fork ? "made copy-on-write by a fork" :
			  "migrated while read-only, then mprotect(RW)";
	int st, e, gst, cow[2];
	pid_t pid, gc = -1;

	printf("--- device WRITE of its own read-only pages, %s\n", why);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsigned char *p = map_pages(NPAGES, 1);
		unsigned char *buf = calloc(NPAGES, psize);
		int fd0 = open_dev(0), ok;
		struct hmm_dmirror_cmd c;
		char codes[64];

		alarm(10);
		memset(p, 0x11, NPAGES * psize);
		if (!use_fork && mprotect(p, NPAGES * psize, PROT_READ))
			_exit(2);
		e = cmd(fd0, HMM_DMIRROR_MIGRATE_TO_DEV, p, buf, NPAGES, &c);
		expect(!e, "MIGRATE_TO_DEV: %s", e ? strerror(e) : "ok");
		if (!use_fork && mprotect(p, NPAGES * psize, PROT_READ | PROT_WRITE))
			_exit(2);
		if (use_fork) {
			if (pipe(cow))
				_exit(2);
			fflush(stdout);
			gc = fork();
			if (gc == 0) {
				char x;

				close(cow[1]);
				/* leave the pages alone until the WRITE is done */
				while (read(cow[0], &x, 1) > 0)
					;
				_exit(p[0] == 0x11 && p[NPAGES * psize - 1] == 0x11 ? 0 : 1);
			}
			close(cow[0]);
		}
		expect(snap_all(fd0, p, HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL |
				HMM_DMIRROR_PROT_READ, codes, sizeof(codes)),
		       "SNAPSHOT: DEV_PRIVATE_LOCAL|READ (0x21):%s", codes);
		memset(buf, 0x22, NPAGES * psize);
		e = cmd(fd0, HMM_DMIRROR_WRITE, p, buf, NPAGES, &c);
		ok = p[0] == 0x22 && p[NPAGES * psize - 1] == 0x22;
		expect(!e && ok, "device WRITE: %s, the CPU reads %s", e ? strerror(e) : "ok",
		       ok ? "the new data" : "OLD data");
		if (use_fork) {
			close(cow[1]);
			waitpid(gc, &gst, 0);
			expect(WIFEXITED(gst) && WEXITSTATUS(gst) == 0,
			       "the fork child's copy kept the old data (status 0x%x)", gst);
		}
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		expect(0, "device WRITE still running after 10 s (livelock), killed by SIGALRM");
	else
		expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s (status 0x%x)",
		       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "all checks passed" :
		       "some check failed", st);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "other-device";

	setvbuf(stdout, NULL, _IOLBF, 0);
	psize = sysconf(_SC_PAGESIZE);
	if (!strcmp(mode, "other-device")) {
		other_device(1);
		other_device(0);
	} else if (!strcmp(mode, "ro-write")) {
		ro_write(0);
		ro_write(1);
	} else {
		fprintf(stderr, "usage: dm_repro_enoent [other-device|ro-write]\n");
		return 2;
	}
	printf("dm_repro_enoent %s: %s\n", mode, failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
