/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmirror_lock_hold, in a trace system of its own: a diagnostic of the
 * driver's locking, not part of the migration story the analyzer records
 * (it enables every event of the dmirror system).  Fields carry counts
 * and times, never kernel pointers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dmirror_lock

#if !defined(_DMIRROR_LOCK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DMIRROR_LOCK_TRACE_H

#include <linux/tracepoint.h>

/* Where the device lock was held: dmirror_lock_hold's site. */
#define DMIRROR_LOCK_ALLOC	0
#define DMIRROR_LOCK_FREE	1
#define DMIRROR_LOCK_GROW	2
#define DMIRROR_LOCK_SHRINK	3
#define DMIRROR_LOCK_MERGE	4	/* the linked free lists had it */
#define DMIRROR_LOCK_STATS	5
#define DMIRROR_LOCK_FREE_LIST	6
#define DMIRROR_LOCK_NR_SITES	7

/*
 * A hold of the device lock (struct dmirror_device.lock) longer than any
 * before it at that site on that device: the last event of a device and
 * site is its worst hold there.
 */
TRACE_EVENT(dmirror_lock_hold,
	    TP_PROTO(unsigned int dev, u8 site, u64 hold_ns),
	    TP_ARGS(dev, site, hold_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u8, site)
			     __field(u64, hold_ns)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->site = site;
			   __entry->hold_ns = hold_ns;
	    ),
	    TP_printk("dev=%u site=%s hold_ns=%llu", __entry->dev,
		      __print_symbolic(__entry->site,
				       { DMIRROR_LOCK_ALLOC, "alloc" },
				       { DMIRROR_LOCK_FREE, "free" },
				       { DMIRROR_LOCK_GROW, "grow" },
				       { DMIRROR_LOCK_SHRINK, "shrink" },
				       { DMIRROR_LOCK_MERGE, "merge" },
				       { DMIRROR_LOCK_STATS, "stats" },
				       { DMIRROR_LOCK_FREE_LIST, "free_list" }),
		      (unsigned long long)__entry->hold_ns)
);
#endif /* _DMIRROR_LOCK_TRACE_H */

/* module/Makefile puts trace/ on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dmirror_lock_trace
#include <trace/define_trace.h>
