// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ioctl: a seeded, reproducible fuzzer for the dmirror ioctls.
 *
 *   fuzz_ioctl [-s SEED] [-n ITERATIONS] [-t SECONDS] [-d DEVICE] [-l MS]
 *
 * Calls every ioctl of the ABI, and unknown ones, with hostile arguments:
 * unaligned, unmapped, read-only and kernel addresses, zero and huge page
 * counts, ranges that overflow or run past the address space, bad pointers
 * to the command itself; while a second thread closes and reopens the
 * descriptor under it and children fork and exit with pages on the device.
 * Only error codes may come back: any other errno, or a call that keeps
 * the process in the kernel longer than -l milliseconds, fails the run
 * with the seed and iteration that did it.  The same seed replays the same
 * calls (the racing thread aside).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

#define BUF_PAGES 64
#define KERNEL_ADDR 0xffff888000000000ull

static long page_size;
static uint64_t rng_state;
static const char *device = "/dev/dmirror0";
static atomic_int shared_fd = -1;
static atomic_bool stop_racer;

/* The call in flight, for the watchdog: start time 0 when none. */
static atomic_ullong call_start_ms, call_iter, call_addr, call_npages;
static atomic_ulong call_req;
static uint64_t run_seed, run_limit_ms;

/* xorshift64*: reproducible from the seed alone. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct arena {
	unsigned char *rw;	/* BUF_PAGES read-write pages */
	unsigned char *ro;	/* read-only pages */
	unsigned char *gone;	/* an unmapped hole */
	unsigned char *mirror;	/* the device-side copy buffer */
};

static uint64_t pick_addr(const struct arena *a)
{
	switch (rnd() % 10) {
	case 0: return 0;
	case 1: return (uintptr_t)a->rw + 1 + rnd() % 4095;	/* unaligned */
	case 2: return (uintptr_t)a->gone;
	case 3: return (uintptr_t)a->ro;
	case 4: return KERNEL_ADDR + (rnd() % 1024) * 4096;
	case 5: return UINT64_MAX & ~4095ull;			/* overflows */
	case 6: return (0x7fffffffffffull & ~4095ull) - 4096 * (rnd() % 4);
	default: return (uintptr_t)a->rw + (rnd() % BUF_PAGES) * (uint64_t)page_size;
	}
}

static uint64_t pick_npages(void)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	case 2: return 1ull << (20 + rnd() % 40);
	case 3: return BUF_PAGES + 1 + rnd() % 64;
	default: return 1 + rnd() % BUF_PAGES;
	}
}

static unsigned long pick_request(void)
{
	unsigned int nr;

	switch (rnd() % 10) {
	case 0:	/* unknown command numbers, same type and size */
		nr = 10 + rnd() % 240;
		return _IOWR('H', nr, struct hmm_dmirror_cmd);
	case 1:	/* wrong size or direction */
		return _IOC(rnd() % 4, 'H', rnd() % 12, rnd() % 64);
	case 2:
		return rnd() & 0xffffffff;
	default: {
		static const unsigned long known[] = {
			HMM_DMIRROR_READ, HMM_DMIRROR_WRITE,
			HMM_DMIRROR_MIGRATE_TO_DEV, HMM_DMIRROR_MIGRATE_TO_SYS,
			HMM_DMIRROR_SNAPSHOT, HMM_DMIRROR_EXCLUSIVE,
			HMM_DMIRROR_CHECK_EXCLUSIVE, HMM_DMIRROR_RELEASE,
			HMM_DMIRROR_FLAGS, HMM_DMIRROR_READ_UNLOCKED,
		};
		return known[rnd() % (sizeof(known) / sizeof(known[0]))];
	}
	}
}

static int allowed_errno(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOMEM: case EBUSY: case EPERM:
	case ENOTTY: case ENOENT: case EAGAIN: case ENOSPC: case E2BIG:
	case ERANGE: case EBADF: case EINTR: case EOVERFLOW:
		return 1;
	}
	return 0;
}

/* Close and reopen the shared descriptor under the main thread's feet. */
static void *racer(void *arg)
{
	int fd, old;

	(void)arg;
	while (!atomic_load(&stop_racer)) {
		fd = open(device, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		old = atomic_exchange(&shared_fd, fd);
		if (old >= 0)
			close(old);
		usleep(200);
	}
	return NULL;
}

/*
 * A call that does not come back is the worst kind of slow: every 100 ms
 * look at the call in flight, and once it has been in the kernel for
 * twice the limit say which one it is and end the process (exit_group
 * sends the stuck thread SIGKILL; the driver must notice it).
 */
static void *watchdog(void *arg)
{
	struct timespec tick = { 0, 100 * 1000000 };
	uint64_t t0;

	(void)arg;
	while (!atomic_load(&stop_racer)) {
		nanosleep(&tick, NULL);
		t0 = atomic_load(&call_start_ms);
		if (t0 && now_ms() - t0 > 2 * run_limit_ms) {
			printf("FAIL seed %llu iteration %llu: ioctl 0x%lx addr 0x%llx npages %llu still in the kernel after %llu ms\n",
			       (unsigned long long)run_seed, (unsigned long long)atomic_load(&call_iter),
			       (unsigned long)atomic_load(&call_req),
			       (unsigned long long)atomic_load(&call_addr),
			       (unsigned long long)atomic_load(&call_npages),
			       (unsigned long long)(now_ms() - t0));
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

/* A child that leaves its pages on the device and exits without cleanup. */
static void fork_and_exit(const struct arena *a)
{
	struct hmm_dmirror_cmd cmd;
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		fd = open(device, O_RDWR);
		if (fd >= 0) {
			memset(&cmd, 0, sizeof(cmd));
			cmd.addr = (uintptr_t)a->rw;
			cmd.ptr = (uintptr_t)a->mirror;
			cmd.npages = BUF_PAGES;
			ioctl(fd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, iterations = 100000, seconds = 60, limit_ms = 2000;
	uint64_t i, t0, start, slowest = 0, ok = 0, errors = 0;
	struct hmm_dmirror_cmd cmd;
	struct arena a;
	pthread_t thread, wd_thread;
	void *argp;
	unsigned long req;
	int opt, fd, ret, e;

	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "s:n:t:d:l:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': iterations = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtoull(optarg, NULL, 0); break;
		case 'd': device = optarg; break;
		case 'l': limit_ms = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: fuzz_ioctl [-s SEED] [-n N] [-t SECONDS] [-d DEVICE] [-l MS]\n");
			return 2;
		}
	}
	rng_state = seed ? seed : 1;

	a.rw = mmap(NULL, BUF_PAGES * page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.ro = mmap(NULL, 4 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.gone = mmap(NULL, 4 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.mirror = malloc((BUF_PAGES + 128) * page_size);
	if (a.rw == MAP_FAILED || a.ro == MAP_FAILED || a.gone == MAP_FAILED || !a.mirror) {
		perror("fuzz_ioctl: setup");
		return 2;
	}
	munmap(a.gone, 4 * page_size);
	memset(a.rw, 0x5a, BUF_PAGES * page_size);

	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fuzz_ioctl: %s: %s\n", device, strerror(errno));
		return 2;
	}
	atomic_store(&shared_fd, fd);
	if (pthread_create(&thread, NULL, racer, NULL)) {
		fprintf(stderr, "fuzz_ioctl: cannot start the racing thread\n");
		return 2;
	}

	run_seed = seed;
	run_limit_ms = limit_ms;
	if (pthread_create(&wd_thread, NULL, watchdog, NULL)) {
		fprintf(stderr, "fuzz_ioctl: cannot start the watchdog thread\n");
		return 2;
	}
	start = now_ms();
	for (i = 0; i < iterations && now_ms() - start < seconds * 1000; i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.addr = pick_addr(&a);
		cmd.ptr = rnd() % 4 ? (uintptr_t)a.mirror : pick_addr(&a);
		cmd.npages = pick_npages();
		req = pick_request();
		switch (rnd() % 16) {
		case 0: argp = NULL; break;
		case 1: argp = (void *)(uintptr_t)KERNEL_ADDR; break;
		case 2: argp = a.gone; break;
		case 3: argp = a.ro; break;	/* the kernel cannot write results back */
		default: argp = &cmd;
		}
		if (rnd() % 64 == 0)
			fork_and_exit(&a);
		/* Touch the buffer now and then so device pages fault back. */
		if (rnd() % 8 == 0)
			a.rw[(rnd() % BUF_PAGES) * page_size] ^= 1;

		t0 = now_ms();
		atomic_store(&call_iter, i);
		atomic_store(&call_req, req);
		atomic_store(&call_addr, cmd.addr);
		atomic_store(&call_npages, cmd.npages);
		atomic_store(&call_start_ms, t0);
		ret = ioctl(rnd() % 4 ? atomic_load(&shared_fd) : fd, req, argp);
		e = errno;
		atomic_store(&call_start_ms, 0);
		t0 = now_ms() - t0;
		if (t0 > slowest)
			slowest = t0;
		if (ret == 0) {
			ok++;
		} else if (allowed_errno(e)) {
			errors++;
		} else {
			printf("FAIL seed %llu iteration %llu: ioctl 0x%lx addr 0x%llx npages %llu: unexpected errno %d (%s)\n",
			       (unsigned long long)seed, (unsigned long long)i, req,
			       (unsigned long long)cmd.addr, (unsigned long long)cmd.npages,
			       e, strerror(e));
			return 1;
		}
		if (t0 > limit_ms) {
			printf("FAIL seed %llu iteration %llu: ioctl 0x%lx npages %llu kept the process in the kernel for %llu ms\n",
			       (unsigned long long)seed, (unsigned long long)i, req,
			       (unsigned long long)cmd.npages, (unsigned long long)t0);
			return 1;
		}
	}
	atomic_store(&stop_racer, true);
	pthread_join(thread, NULL);
	pthread_join(wd_thread, NULL);
	t0 = now_ms() - start;
	printf("fuzz_ioctl: seed %llu: %llu calls in %llu ms (%llu/s): %llu succeeded, %llu errors, slowest %llu ms\n",
	       (unsigned long long)seed, (unsigned long long)i, (unsigned long long)t0,
	       (unsigned long long)(t0 ? i * 1000 / t0 : i), (unsigned long long)ok,
	       (unsigned long long)errors, (unsigned long long)slowest);
	return 0;
}
