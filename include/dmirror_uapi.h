/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dmirror ioctl interface.
 *
 * The numbers, the command structure and the snapshot codes are those of
 * the kernel's lib/test_hmm_uapi.h, so that the kernel's own hmm-tests (and
 * anything else written against test_hmm.ko) drives /dev/dmirrorN
 * unchanged.  Plain C11 userspace includes this file as it is.
 */
#ifndef _DMIRROR_UAPI_H
#define _DMIRROR_UAPI_H

#include <linux/types.h>
#include <linux/const.h>
#include <linux/ioctl.h>

/*
 * One command.  @addr and @npages name a page-aligned range of the address
 * space of the process that opened the device; @ptr is a buffer in the
 * caller of the ioctl: the device copies what it read there (READ,
 * MIGRATE_TO_DEV, EXCLUSIVE), takes what to write from there (WRITE) or
 * stores one snapshot code per page there (SNAPSHOT).  The driver fills
 * @cpages (pages handled) and @faults (times the device had to fault the
 * range in).  FLAGS passes its flags in @npages.
 */
struct hmm_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

#define HMM_DMIRROR_READ		_IOWR('H', 0x00, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_WRITE		_IOWR('H', 0x01, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_MIGRATE_TO_DEV	_IOWR('H', 0x02, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_MIGRATE_TO_SYS	_IOWR('H', 0x03, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_SNAPSHOT		_IOWR('H', 0x04, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_EXCLUSIVE		_IOWR('H', 0x05, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_CHECK_EXCLUSIVE	_IOWR('H', 0x06, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_RELEASE		_IOWR('H', 0x07, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_FLAGS		_IOWR('H', 0x08, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_READ_UNLOCKED	_IOWR('H', 0x09, struct hmm_dmirror_cmd)

/* FLAGS: make the next huge (PMD sized) device allocation fail. */
#define HMM_DMIRROR_FLAG_FAIL_ALLOC	_BITULL(0)

/*
 * SNAPSHOT codes, one byte per page.  The access bits (READ or WRITE, and
 * PMD or PUD for a page mapped by a huge entry) are or'ed into the kind
 * (NONE, ZERO, DEV_*); ERROR stands alone: no usable mapping at all.
 */
enum {
	HMM_DMIRROR_PROT_ERROR			= 0xFF,
	HMM_DMIRROR_PROT_NONE			= 0x00,
	HMM_DMIRROR_PROT_READ			= 0x01,
	HMM_DMIRROR_PROT_WRITE			= 0x02,
	HMM_DMIRROR_PROT_PMD			= 0x04,
	HMM_DMIRROR_PROT_PUD			= 0x08,
	HMM_DMIRROR_PROT_ZERO			= 0x10,
	HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL	= 0x20,
	HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE	= 0x30,
	HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL	= 0x40,
	HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE	= 0x50,
};

/* Memory types of test_hmm.ko; every dmirror device is device-private. */
enum {
	HMM_DMIRROR_MEMORY_DEVICE_PRIVATE = 1,
	HMM_DMIRROR_MEMORY_DEVICE_COHERENT,
};

/*
 * dmirror's own limit: one command covers at most this many pages
 * (1 GiB of 4 KiB pages); more is -EINVAL.
 */
#define DMIRROR_MAX_NPAGES		262144ULL

#endif /* _DMIRROR_UAPI_H */
