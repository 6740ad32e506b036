// SPDX-License-Identifier: GPL-2.0
/*
 * dm_hold: migrate pages to a dmirror device and keep them there.
 *
 *   dm_hold [-d N] [-n NPAGES] [-c] [-t]
 *
 * Maps NPAGES anonymous pages, fills them, migrates them to /dev/dmirrorN
 * and prints "held N" (or "failed ERRNO-NAME").  With -c the device file
 * is closed right after, so only the device pages remain.  With -t the
 * pages are then read back through the CPU (each one faults), reporting
 * "readback ok" or exiting 1 on bad data; without -t it waits until
 * killed, holding the device pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmirror_uapi.h"

int main(int argc, char **argv)
{
	unsigned long npages = 8, i, words;
	int dev = 0, close_fd = 0, touch = 0, c, fd;
	struct hmm_dmirror_cmd cmd;
	char path[32];
	uint64_t *buf, *mirror;
	long psize = sysconf(_SC_PAGESIZE);

	while ((c = getopt(argc, argv, "d:n:ct")) != -1) {
		switch (c) {
		case 'd': dev = atoi(optarg); break;
		case 'n': npages = strtoul(optarg, NULL, 0); break;
		case 'c': close_fd = 1; break;
		case 't': touch = 1; break;
		default:
			fprintf(stderr, "usage: dm_hold [-d N] [-n NPAGES] [-c] [-t]\n");
			return 2;
		}
	}
	snprintf(path, sizeof(path), "/dev/dmirror%d", dev);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		printf("failed open %s\n", strerror(errno));
		return 1;
	}
	buf = mmap(NULL, npages * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mirror = malloc(npages * psize);
	if (buf == MAP_FAILED || !mirror)
		return 1;
	madvise(buf, npages * psize, MADV_NOHUGEPAGE);
	words = npages * psize / sizeof(*buf);
	for (i = 0; i < words; i++)
		buf[i] = i * 0x9e3779b97f4a7c15ULL;

	memset(&cmd, 0, sizeof(cmd));
	cmd.addr = (uintptr_t)buf;
	cmd.ptr = (uintptr_t)mirror;
	cmd.npages = npages;
	if (ioctl(fd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd)) {
		printf("failed %s\n", strerrorname_np(errno));
		fflush(stdout);
		return 1;
	}
	printf("held %llu\n", (unsigned long long)cmd.cpages);
	fflush(stdout);
	if (close_fd)
		close(fd);
	if (!touch) {
		for (;;)
			pause();
	}
	for (i = 0; i < words; i++) {
		if (buf[i] != i * 0x9e3779b97f4a7c15ULL) {
			printf("readback bad at word %lu\n", i);
			return 1;
		}
	}
	printf("readback ok\n");
	return 0;
}
