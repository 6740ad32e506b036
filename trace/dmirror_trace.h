/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmirror tracepoints.  The fields are a contract with the analyzer:
 * docs/tracepoints.md describes each one.  Fields carry pfns, user
 * addresses, pids and counts, never kernel pointers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dmirror

#if !defined(_DMIRROR_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DMIRROR_TRACE_H

#include <linux/migrate.h>
#include <linux/tracepoint.h>

#ifndef DMIRROR_FAULT_INFO
#define DMIRROR_FAULT_INFO
/*
 * One CPU fault, for dmirror_devmem_fault: the page faulted on, what came
 * of it, and what its migration found: setup's window and collected
 * entries, its return value, whether its pgmap_owner was the device's;
 * the time from setup to finalize (0 when not timed).
 */
struct dmirror_fault_info {
	unsigned long	addr;
	unsigned long	dev_pfn;
	unsigned long	migrated;
	int		pid;
	unsigned int	result;
	unsigned int	no_progress;
	unsigned int	npages;
	unsigned int	cpages;
	int		setup_ret;
	u8		owner_match;
	u64		duration_ns;
};

/*
 * The free of the device folio a fault migrated, when the event of the
 * fault carries it (the fold_events debugfs file is held open): what
 * dmirror_devmem_free would have said.
 */
struct dmirror_free_info {
	unsigned long	pfn;
	unsigned long	shadow_pfn;
	unsigned long	free_pages;
	u8		order;
	u8		released;
};

#define DMIRROR_BATCH_PAGES	8

/*
 * Pages moved back as they should, traced together while the events are
 * folded (dmirror_batch): what each one's events would have said beyond
 * what all of them say alike.
 */
struct dmirror_batch_info {
	unsigned int	n;
	unsigned long	addr[DMIRROR_BATCH_PAGES];
	unsigned long	dev_pfn[DMIRROR_BATCH_PAGES];
	unsigned long	shadow_pfn[DMIRROR_BATCH_PAGES];
	int		pid[DMIRROR_BATCH_PAGES];
	int		tid[DMIRROR_BATCH_PAGES];
	u32		duration_ns[DMIRROR_BATCH_PAGES];
	u32		free_pages[DMIRROR_BATCH_PAGES];
	u8		fault[DMIRROR_BATCH_PAGES];
};
#endif

#define DMIRROR_DIR_TO_DEV	0
#define DMIRROR_DIR_TO_RAM	1

#define dmirror_show_dir(dir)						\
	__print_symbolic(dir,						\
			 { DMIRROR_DIR_TO_DEV, "to_dev" },		\
			 { DMIRROR_DIR_TO_RAM, "to_ram" })

TRACE_EVENT(dmirror_migrate_setup,
	    TP_PROTO(unsigned int dev, u8 dir, u8 fault, unsigned long start,
		     unsigned long end, unsigned long cpages, u8 owner_match,
		     int ret),
	    TP_ARGS(dev, dir, fault, start, end, cpages, owner_match, ret),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u8, dir)
			     __field(u8, fault)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned long, npages)
			     __field(unsigned long, cpages)
			     __field(u8, owner_match)
			     __field(int, ret)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->dir = dir;
			   __entry->fault = fault;
			   __entry->start = start;
			   __entry->end = end;
			   __entry->npages = (end - start) >> PAGE_SHIFT;
			   __entry->cpages = cpages;
			   __entry->owner_match = owner_match;
			   __entry->ret = ret;
	    ),
	    TP_printk("dev=%u dir=%s fault=%u start=0x%lx end=0x%lx npages=%lu cpages=%lu owner_match=%u ret=%d",
		      __entry->dev, dmirror_show_dir(__entry->dir),
		      __entry->fault, __entry->start, __entry->end,
		      __entry->npages, __entry->cpages, __entry->owner_match,
		      __entry->ret)
);

TRACE_EVENT(dmirror_alloc_and_copy,
	    TP_PROTO(unsigned int dev, u8 dir, u8 fault, unsigned long addr,
		     unsigned long src_pfn, unsigned long dst_pfn,
		     unsigned long shadow_pfn, u8 order, u8 write),
	    TP_ARGS(dev, dir, fault, addr, src_pfn, dst_pfn, shadow_pfn, order,
		    write),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u8, dir)
			     __field(u8, fault)
			     __field(unsigned long, addr)
			     __field(unsigned long, src_pfn)
			     __field(unsigned long, dst_pfn)
			     __field(unsigned long, shadow_pfn)
			     __field(u8, order)
			     __field(u8, write)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->dir = dir;
			   __entry->fault = fault;
			   __entry->addr = addr;
			   __entry->src_pfn = src_pfn;
			   __entry->dst_pfn = dst_pfn;
			   __entry->shadow_pfn = shadow_pfn;
			   __entry->order = order;
			   __entry->write = write;
	    ),
	    TP_printk("dev=%u dir=%s fault=%u addr=0x%lx src_pfn=0x%lx dst_pfn=0x%lx shadow_pfn=0x%lx order=%u write=%u",
		      __entry->dev, dmirror_show_dir(__entry->dir),
		      __entry->fault, __entry->addr, __entry->src_pfn, __entry->dst_pfn,
		      __entry->shadow_pfn, __entry->order, __entry->write)
);

TRACE_EVENT(dmirror_migrate_finalize,
	    TP_PROTO(unsigned int dev, u8 dir, u8 fault, unsigned long start,
		     unsigned long end, unsigned long cpages,
		     unsigned long migrated, u64 duration_ns),
	    TP_ARGS(dev, dir, fault, start, end, cpages, migrated, duration_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u8, dir)
			     __field(u8, fault)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned long, npages)
			     __field(unsigned long, cpages)
			     __field(unsigned long, migrated)
			     __field(u64, duration_ns)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->dir = dir;
			   __entry->fault = fault;
			   __entry->start = start;
			   __entry->end = end;
			   __entry->npages = (end - start) >> PAGE_SHIFT;
			   __entry->cpages = cpages;
			   __entry->migrated = migrated;
			   __entry->duration_ns = duration_ns;
	    ),
	    TP_printk("dev=%u dir=%s fault=%u start=0x%lx end=0x%lx npages=%lu cpages=%lu migrated=%lu duration_ns=%llu",
		      __entry->dev, dmirror_show_dir(__entry->dir),
		      __entry->fault, __entry->start, __entry->end,
		      __entry->npages, __entry->cpages, __entry->migrated,
		      (unsigned long long)__entry->duration_ns)
);

/*
 * What the fault's migration found rides along (struct dmirror_fault_info):
 * with it the analyzer can do without the fault path's own setup, copy
 * and finalize events.  While the fold_events debugfs file is held open
 * the fault path does not reach those, and the event of a fault that
 * migrated its page is emitted by the free of that device folio, which
 * follows the fault's return, carrying the free (@free; NULL otherwise).
 */
TRACE_EVENT(dmirror_devmem_fault,
	    TP_PROTO(unsigned int dev, const struct dmirror_fault_info *f,
		     const struct dmirror_free_info *free),
	    TP_ARGS(dev, f, free),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned long, addr)
			     __field(unsigned long, dev_pfn)
			     __field(int, pid)
			     __field(unsigned int, result)
			     __field(unsigned long, migrated)
			     __field(unsigned int, no_progress)
			     __field(unsigned int, npages)
			     __field(unsigned int, cpages)
			     __field(int, setup_ret)
			     __field(u8, owner_match)
			     __field(u64, duration_ns)
			     __field(u8, freed)
			     __field(u8, free_order)
			     __field(u8, free_released)
			     __field(unsigned long, free_pfn)
			     __field(unsigned long, free_shadow_pfn)
			     __field(unsigned long, free_pages)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->addr = f->addr;
			   __entry->dev_pfn = f->dev_pfn;
			   __entry->pid = f->pid;
			   __entry->result = f->result;
			   __entry->migrated = f->migrated;
			   __entry->no_progress = f->no_progress;
			   __entry->npages = f->npages;
			   __entry->cpages = f->cpages;
			   __entry->setup_ret = f->setup_ret;
			   __entry->owner_match = f->owner_match;
			   __entry->duration_ns = f->duration_ns;
			   __entry->freed = !!free;
			   __entry->free_order = free ? free->order : 0;
			   __entry->free_released = free ? free->released : 0;
			   __entry->free_pfn = free ? free->pfn : 0;
			   __entry->free_shadow_pfn = free ? free->shadow_pfn : 0;
			   __entry->free_pages = free ? free->free_pages : 0;
	    ),
	    TP_printk("dev=%u addr=0x%lx dev_pfn=0x%lx pid=%d result=0x%x migrated=%lu no_progress=%u npages=%u cpages=%u setup_ret=%d owner_match=%u duration_ns=%llu freed=%u free_pfn=0x%lx free_order=%u free_shadow_pfn=0x%lx free_released=%u free_pages=%lu",
		      __entry->dev, __entry->addr, __entry->dev_pfn,
		      __entry->pid, __entry->result, __entry->migrated,
		      __entry->no_progress, __entry->npages, __entry->cpages,
		      __entry->setup_ret, __entry->owner_match,
		      (unsigned long long)__entry->duration_ns,
		      __entry->freed, __entry->free_pfn, __entry->free_order,
		      __entry->free_shadow_pfn, __entry->free_released,
		      __entry->free_pages)
);

/*
 * Up to DMIRROR_BATCH_PAGES 4 KiB pages moved back to system memory as
 * they should, each by a CPU fault (fault[i] 1) or by a one-page
 * MIGRATE_TO_SYS window (0): setup collected the page with the device as
 * owner, it moved, nothing failed, and the free of its device page
 * released the shadow.  In place of the fault's dmirror_devmem_fault
 * (freed=1), or the window's dmirror_window, without the fields that all
 * of them have alike; emitted when the batch is full or before any other
 * dmirror event.  Entry i: the page at addr[i] of process pid[i], device
 * page dev_pfn[i], freed by task tid[i].  The element sizes of int, u32
 * and u8 are numbers, not sizeof(): libtraceevent 1.7 (Debian 12), with
 * its plugins loaded as KernelShark and trace-cmd load them, reads a
 * one-word sizeof()'s token after freeing it.
 */
TRACE_EVENT(dmirror_batch,
	    TP_PROTO(unsigned int dev, const struct dmirror_batch_info *b),
	    TP_ARGS(dev, b),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned int, n)
			     __array(unsigned long, addr, DMIRROR_BATCH_PAGES)
			     __array(unsigned long, dev_pfn, DMIRROR_BATCH_PAGES)
			     __array(unsigned long, shadow_pfn, DMIRROR_BATCH_PAGES)
			     __array(int, pid, DMIRROR_BATCH_PAGES)
			     __array(int, tid, DMIRROR_BATCH_PAGES)
			     __array(u32, duration_ns, DMIRROR_BATCH_PAGES)
			     __array(u32, free_pages, DMIRROR_BATCH_PAGES)
			     __array(u8, fault, DMIRROR_BATCH_PAGES)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->n = b->n;
			   memcpy(__entry->addr, b->addr, sizeof(b->addr));
			   memcpy(__entry->dev_pfn, b->dev_pfn, sizeof(b->dev_pfn));
			   memcpy(__entry->shadow_pfn, b->shadow_pfn, sizeof(b->shadow_pfn));
			   memcpy(__entry->pid, b->pid, sizeof(b->pid));
			   memcpy(__entry->tid, b->tid, sizeof(b->tid));
			   memcpy(__entry->duration_ns, b->duration_ns, sizeof(b->duration_ns));
			   memcpy(__entry->free_pages, b->free_pages, sizeof(b->free_pages));
			   memcpy(__entry->fault, b->fault, sizeof(b->fault));
	    ),
	    TP_printk("dev=%u n=%u addr=%s dev_pfn=%s shadow_pfn=%s pid=%s tid=%s duration_ns=%s free_pages=%s fault=%s",
		      __entry->dev, __entry->n,
		      __print_array(__entry->addr, __entry->n, sizeof(unsigned long)),
		      __print_array(__entry->dev_pfn, __entry->n, sizeof(unsigned long)),
		      __print_array(__entry->shadow_pfn, __entry->n, sizeof(unsigned long)),
		      __print_array(__entry->pid, __entry->n, 4),
		      __print_array(__entry->tid, __entry->n, 4),
		      __print_array(__entry->duration_ns, __entry->n, 4),
		      __print_array(__entry->free_pages, __entry->n, 4),
		      __print_array(__entry->fault, __entry->n, 1))
);

TRACE_EVENT(dmirror_fault_loop_guard,
	    TP_PROTO(unsigned int dev, unsigned long addr,
		     unsigned long dev_pfn, int pid, unsigned int count,
		     unsigned int limit),
	    TP_ARGS(dev, addr, dev_pfn, pid, count, limit),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned long, addr)
			     __field(unsigned long, dev_pfn)
			     __field(int, pid)
			     __field(unsigned int, count)
			     __field(unsigned int, limit)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->addr = addr;
			   __entry->dev_pfn = dev_pfn;
			   __entry->pid = pid;
			   __entry->count = count;
			   __entry->limit = limit;
	    ),
	    TP_printk("dev=%u addr=0x%lx dev_pfn=0x%lx pid=%d count=%u limit=%u",
		      __entry->dev, __entry->addr, __entry->dev_pfn,
		      __entry->pid, __entry->count, __entry->limit)
);

TRACE_EVENT(dmirror_devmem_free,
	    TP_PROTO(unsigned int dev, unsigned long dev_pfn, u8 order,
		     unsigned long shadow_pfn, u8 released,
		     unsigned long free_pages),
	    TP_ARGS(dev, dev_pfn, order, shadow_pfn, released, free_pages),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned long, dev_pfn)
			     __field(u8, order)
			     __field(unsigned long, shadow_pfn)
			     __field(u8, released)
			     __field(unsigned long, free_pages)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->dev_pfn = dev_pfn;
			   __entry->order = order;
			   __entry->shadow_pfn = shadow_pfn;
			   __entry->released = released;
			   __entry->free_pages = free_pages;
	    ),
	    TP_printk("dev=%u dev_pfn=0x%lx order=%u shadow_pfn=0x%lx released=%u free_pages=%lu",
		      __entry->dev, __entry->dev_pfn, __entry->order,
		      __entry->shadow_pfn, __entry->released,
		      __entry->free_pages)
);

#define DMIRROR_RETURNED_RUNS	4

/*
 * Device pages a MIGRATE_TO_SYS ioctl moved back to system memory whose
 * folio was freed in its migrate_vma_finalize() with the shadow released,
 * as runs of consecutive device pfns: what their dmirror_alloc_and_copy
 * and dmirror_devmem_free events would have said, in their place while
 * the events are folded (fold_events held open).  Up to
 * DMIRROR_RETURNED_RUNS runs an event; npagesN 0 ends them.
 */
TRACE_EVENT(dmirror_returned,
	    TP_PROTO(unsigned int dev, unsigned long start,
		     unsigned long free_pages, const unsigned long *pfn,
		     const unsigned int *npages),
	    TP_ARGS(dev, start, free_pages, pfn, npages),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned long, start)
			     __field(unsigned long, free_pages)
			     __field(unsigned long, pfn0)
			     __field(unsigned long, pfn1)
			     __field(unsigned long, pfn2)
			     __field(unsigned long, pfn3)
			     __field(unsigned int, npages0)
			     __field(unsigned int, npages1)
			     __field(unsigned int, npages2)
			     __field(unsigned int, npages3)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->start = start;
			   __entry->free_pages = free_pages;
			   __entry->pfn0 = pfn[0];
			   __entry->pfn1 = pfn[1];
			   __entry->pfn2 = pfn[2];
			   __entry->pfn3 = pfn[3];
			   __entry->npages0 = npages[0];
			   __entry->npages1 = npages[1];
			   __entry->npages2 = npages[2];
			   __entry->npages3 = npages[3];
	    ),
	    TP_printk("dev=%u start=0x%lx free_pages=%lu pfn0=0x%lx npages0=%u pfn1=0x%lx npages1=%u pfn2=0x%lx npages2=%u pfn3=0x%lx npages3=%u",
		      __entry->dev, __entry->start, __entry->free_pages,
		      __entry->pfn0, __entry->npages0, __entry->pfn1,
		      __entry->npages1, __entry->pfn2, __entry->npages2,
		      __entry->pfn3, __entry->npages3)
);

/*
 * A MIGRATE_TO_SYS window of an ioctl while the events are folded, whose
 * setup returned 0 and whose only pages to trace are in at most
 * DMIRROR_RETURNED_RUNS runs: what its dmirror_migrate_setup,
 * dmirror_returned and dmirror_migrate_finalize events would have said, in
 * one event emitted after its finalize.  npagesN 0 ends the runs.
 */
TRACE_EVENT(dmirror_window,
	    TP_PROTO(unsigned int dev, const struct migrate_vma *args,
		     u8 owner_match, unsigned long migrated, u64 duration_ns,
		     unsigned long free_pages, const unsigned long *pfn,
		     const unsigned int *npages),
	    TP_ARGS(dev, args, owner_match, migrated, duration_ns, free_pages,
		    pfn, npages),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned int, npages)
			     __field(unsigned int, cpages)
			     __field(unsigned int, migrated)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(u64, duration_ns)
			     __field(unsigned long, free_pages)
			     __field(unsigned long, pfn0)
			     __field(unsigned long, pfn1)
			     __field(unsigned long, pfn2)
			     __field(unsigned long, pfn3)
			     __field(unsigned int, npages0)
			     __field(unsigned int, npages1)
			     __field(unsigned int, npages2)
			     __field(unsigned int, npages3)
			     __field(u8, owner_match)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->npages = (args->end - args->start) >> PAGE_SHIFT;
			   __entry->cpages = args->cpages;
			   __entry->migrated = migrated;
			   __entry->start = args->start;
			   __entry->end = args->end;
			   __entry->duration_ns = duration_ns;
			   __entry->free_pages = free_pages;
			   __entry->pfn0 = pfn[0];
			   __entry->pfn1 = pfn[1];
			   __entry->pfn2 = pfn[2];
			   __entry->pfn3 = pfn[3];
			   __entry->npages0 = npages[0];
			   __entry->npages1 = npages[1];
			   __entry->npages2 = npages[2];
			   __entry->npages3 = npages[3];
			   __entry->owner_match = owner_match;
	    ),
	    TP_printk("dev=%u start=0x%lx end=0x%lx npages=%u cpages=%u owner_match=%u migrated=%u duration_ns=%llu free_pages=%lu pfn0=0x%lx npages0=%u pfn1=0x%lx npages1=%u pfn2=0x%lx npages2=%u pfn3=0x%lx npages3=%u",
		      __entry->dev, __entry->start, __entry->end,
		      __entry->npages, __entry->cpages, __entry->owner_match,
		      __entry->migrated,
		      (unsigned long long)__entry->duration_ns,
		      __entry->free_pages, __entry->pfn0, __entry->npages0,
		      __entry->pfn1, __entry->npages1, __entry->pfn2,
		      __entry->npages2, __entry->pfn3, __entry->npages3)
);

/* A chunk of device memory added or removed. */
DECLARE_EVENT_CLASS(dmirror_chunk,
		    TP_PROTO(unsigned int dev, unsigned long first_pfn,
			     unsigned long npages, unsigned long total_pages),
		    TP_ARGS(dev, first_pfn, npages, total_pages),
		    TP_STRUCT__entry(__field(unsigned int, dev)
				     __field(unsigned long, first_pfn)
				     __field(unsigned long, npages)
				     __field(unsigned long, total_pages)
		    ),
		    TP_fast_assign(__entry->dev = dev;
				   __entry->first_pfn = first_pfn;
				   __entry->npages = npages;
				   __entry->total_pages = total_pages;
		    ),
		    TP_printk("dev=%u first_pfn=0x%lx npages=%lu total_pages=%lu",
			      __entry->dev, __entry->first_pfn,
			      __entry->npages, __entry->total_pages)
);

DEFINE_EVENT(dmirror_chunk, dmirror_chunk_add,
	     TP_PROTO(unsigned int dev, unsigned long first_pfn,
		      unsigned long npages, unsigned long total_pages),
	     TP_ARGS(dev, first_pfn, npages, total_pages)
);

DEFINE_EVENT(dmirror_chunk, dmirror_chunk_remove,
	     TP_PROTO(unsigned int dev, unsigned long first_pfn,
		      unsigned long npages, unsigned long total_pages),
	     TP_ARGS(dev, first_pfn, npages, total_pages)
);

TRACE_EVENT(dmirror_evict,
	    TP_PROTO(unsigned int dev, unsigned long first_pfn,
		     unsigned long npages, unsigned long collected,
		     unsigned long migrated),
	    TP_ARGS(dev, first_pfn, npages, collected, migrated),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned long, first_pfn)
			     __field(unsigned long, npages)
			     __field(unsigned long, collected)
			     __field(unsigned long, migrated)
	    ),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->first_pfn = first_pfn;
			   __entry->npages = npages;
			   __entry->collected = collected;
			   __entry->migrated = migrated;
	    ),
	    TP_printk("dev=%u first_pfn=0x%lx npages=%lu collected=%lu migrated=%lu",
		      __entry->dev, __entry->first_pfn, __entry->npages,
		      __entry->collected, __entry->migrated)
);
#endif /* _DMIRROR_TRACE_H */

/* module/Makefile puts trace/ on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dmirror_trace
#include <trace/define_trace.h>
