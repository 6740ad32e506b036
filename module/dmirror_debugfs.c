// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/dmirror/: counters, the device free lists and the
 * fault-injection knobs.  docs/driver.md documents each file's format,
 * which scripts and the analyzer parse: keep it stable.
 */
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "dmirror_compat.h"
#include "dmirror.h"
#include "dmirror_lock_trace.h"

static struct dentry *dmirror_debugfs_root;

static const char * const dmirror_counter_names[DMIRROR_NR_COUNTERS] = {
	[DMIRROR_MIGRATIONS_TO_DEV]	= "migrations_to_dev",
	[DMIRROR_PAGES_TO_DEV]		= "pages_to_dev",
	[DMIRROR_MIGRATIONS_TO_RAM]	= "migrations_to_ram",
	[DMIRROR_PAGES_TO_RAM]		= "pages_to_ram",
	[DMIRROR_PAGES_EVICTED]		= "pages_evicted",
	[DMIRROR_DEVMEM_FAULTS]		= "devmem_faults",
	[DMIRROR_FAULTS_NO_PROGRESS]	= "faults_no_progress",
	[DMIRROR_FAULT_LOOP_KILLS]	= "fault_loop_kills",
	[DMIRROR_SHADOW_ALLOCATED]	= "shadow_allocated",
	[DMIRROR_SHADOW_FREED]		= "shadow_freed",
	[DMIRROR_SHADOW_LEAKED]		= "shadow_leaked",
	[DMIRROR_ALLOC_FAILURES]	= "alloc_failures",
	[DMIRROR_HUGE_TO_DEV]		= "huge_to_dev",
	[DMIRROR_HUGE_TO_RAM]		= "huge_to_ram",
	[DMIRROR_HUGE_FALLBACKS]	= "huge_fallbacks",
	[DMIRROR_HUGE_SPLITS]		= "huge_splits",
	[DMIRROR_RANGE_RETRIES]		= "range_retries",
};

/* One device's numbers, read at one time. */
struct dmirror_stats {
	long		counters[DMIRROR_NR_COUNTERS];
	unsigned long	pages_total;
	unsigned long	pages_free;
	unsigned long	huge_free;
	unsigned long	chunks;
};

static void dmirror_stats_read(struct dmirror_device *mdev,
			       struct dmirror_stats *st)
{
	int i;

	for (i = 0; i < DMIRROR_NR_COUNTERS; i++)
		st->counters[i] = atomic_long_read(&mdev->counters[i]);
	dmirror_device_lock(mdev);
	st->pages_total = mdev->nr_total;
	st->pages_free = mdev->nr_free;
	st->huge_free = mdev->nr_free_huge;
	dmirror_device_unlock(mdev, DMIRROR_LOCK_STATS);
	st->chunks = READ_ONCE(mdev->nchunks);
}

static void dmirror_stats_add(struct dmirror_stats *sum,
			      const struct dmirror_stats *st)
{
	int i;

	for (i = 0; i < DMIRROR_NR_COUNTERS; i++)
		sum->counters[i] += st->counters[i];
	sum->pages_total += st->pages_total;
	sum->pages_free += st->pages_free;
	sum->huge_free += st->huge_free;
	sum->chunks += st->chunks;
}

static void dmirror_stats_show_one(struct seq_file *m, const char *prefix,
				   const struct dmirror_stats *st)
{
	int i;

	for (i = 0; i < DMIRROR_NR_COUNTERS; i++)
		seq_printf(m, "%s.%s %ld\n", prefix, dmirror_counter_names[i],
			   st->counters[i]);
	seq_printf(m, "%s.shadow_live %ld\n", prefix,
		   st->counters[DMIRROR_SHADOW_ALLOCATED] -
		   st->counters[DMIRROR_SHADOW_FREED]);
	seq_printf(m, "%s.pages_total %lu\n", prefix, st->pages_total);
	seq_printf(m, "%s.pages_free %lu\n", prefix, st->pages_free);
	seq_printf(m, "%s.pages_in_use %lu\n", prefix,
		   st->pages_total - st->pages_free);
	seq_printf(m, "%s.huge_free %lu\n", prefix, st->huge_free);
	seq_printf(m, "%s.chunks %lu\n", prefix, st->chunks);
}

static void dmirror_system_pages_show(struct seq_file *m)
{
	long allocated = atomic_long_read(&dmirror_system_pages.allocated);
	long freed = atomic_long_read(&dmirror_system_pages.freed);

	seq_printf(m, "driver.system_pages_allocated %ld\n", allocated);
	seq_printf(m, "driver.system_pages_freed %ld\n", freed);
	seq_printf(m, "driver.system_pages_live %ld\n", allocated - freed);
}

static int dmirror_stats_show(struct seq_file *m, void *unused)
{
	struct dmirror_stats *st, sum = {};
	unsigned int id;
	char prefix[16];

	st = kcalloc(dmirror_ndevices, sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	for (id = 0; id < dmirror_ndevices; id++) {
		dmirror_stats_read(dmirror_devices[id], &st[id]);
		dmirror_stats_add(&sum, &st[id]);
	}

	seq_printf(m, "config.devices %u\n", dmirror_ndevices);
	seq_printf(m, "config.chunk_pages %u\n", dmirror_chunk_pages);
	seq_printf(m, "config.max_chunks %u\n", dmirror_max_chunks);
	seq_printf(m, "config.fault_loop_limit %u\n",
		   READ_ONCE(dmirror_fault_loop_limit));
	seq_printf(m, "config.owner_mismatch %u\n",
		   READ_ONCE(dmirror_owner_mismatch));
	seq_printf(m, "config.leak_shadow %u\n",
		   READ_ONCE(dmirror_leak_shadow));
	seq_printf(m, "config.bounce_copy %u\n",
		   READ_ONCE(dmirror_bounce_copy));
	dmirror_system_pages_show(m);
	dmirror_stats_show_one(m, "total", &sum);
	for (id = 0; id < dmirror_ndevices; id++) {
		snprintf(prefix, sizeof(prefix), "dev%u", id);
		dmirror_stats_show_one(m, prefix, &st[id]);
	}
	kfree(st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmirror_stats);

static int dmirror_cmp_chunk(const void *a, const void *b)
{
	const struct dmirror_chunk *x = *(const struct dmirror_chunk **)a;
	const struct dmirror_chunk *y = *(const struct dmirror_chunk **)b;

	return x->first_pfn < y->first_pfn ? -1 : x->first_pfn > y->first_pfn;
}

/* One device's free pages, from the chunk bitmaps, as runs of pfns. */
struct dmirror_free_runs {
	struct dmirror_chunk	**chunks;	/* by first pfn */
	unsigned long		**used;		/* a copy of each bitmap */
	unsigned int		nchunks;
	unsigned long		free;		/* zero bits counted */
	unsigned long		counted;	/* the chunks' nr_free */
};

static void dmirror_free_runs_release(struct dmirror_free_runs *fr)
{
	unsigned int i;

	for (i = 0; fr->used && i < fr->nchunks; i++)
		kvfree(fr->used[i]);
	kfree(fr->used);
	kfree(fr->chunks);
}

/*
 * Copies each chunk's bitmap and free count, under one hold of the device
 * lock per chunk, and counts the free pages in the copy rather than
 * trusting the counts.
 */
static int dmirror_free_runs_read(struct dmirror_device *mdev,
				  struct dmirror_free_runs *fr)
{
	size_t size = BITS_TO_LONGS(dmirror_chunk_pages) * sizeof(long);
	unsigned int i;

	lockdep_assert_held(&mdev->grow_lock);
	fr->nchunks = mdev->nchunks;
	fr->chunks = kmemdup(mdev->chunks,
			     max(fr->nchunks, 1U) * sizeof(*fr->chunks),
			     GFP_KERNEL);
	fr->used = kcalloc(max(fr->nchunks, 1U), sizeof(*fr->used),
			   GFP_KERNEL);
	if (!fr->chunks || !fr->used)
		return -ENOMEM;
	sort(fr->chunks, fr->nchunks, sizeof(*fr->chunks), dmirror_cmp_chunk,
	     NULL);
	for (i = 0; i < fr->nchunks; i++) {
		struct dmirror_chunk *chunk = fr->chunks[i];

		fr->used[i] = kvmalloc(size, GFP_KERNEL);
		if (!fr->used[i])
			return -ENOMEM;
		dmirror_device_lock(mdev);
		memcpy(fr->used[i], chunk->used, size);
		fr->counted += chunk->nr_free;
		dmirror_device_unlock(mdev, DMIRROR_LOCK_FREE_LIST);
		fr->free += chunk->npages -
			    bitmap_weight(fr->used[i], chunk->npages);
	}
	return 0;
}

/* Prints the runs of free pfns, joining runs that cross chunks. */
static void dmirror_free_runs_show(struct seq_file *m, unsigned int id,
				   const struct dmirror_free_runs *fr)
{
	unsigned long first = 0, len = 0;
	unsigned int i;

	for (i = 0; i < fr->nchunks; i++) {
		const struct dmirror_chunk *chunk = fr->chunks[i];
		unsigned long start, end = 0;

		for (;;) {
			start = find_next_zero_bit(fr->used[i], chunk->npages,
						   end);
			if (start >= chunk->npages)
				break;
			end = find_next_bit(fr->used[i], chunk->npages, start);
			if (len && first + len == chunk->first_pfn + start) {
				len += end - start;
				continue;
			}
			if (len)
				seq_printf(m, "dev%u.range 0x%lx-0x%lx %lu\n", id,
					   first, first + len - 1, len);
			first = chunk->first_pfn + start;
			len = end - start;
		}
	}
	if (len)
		seq_printf(m, "dev%u.range 0x%lx-0x%lx %lu\n", id, first,
			   first + len - 1, len);
}

static int dmirror_free_list_show_one(struct seq_file *m,
				      struct dmirror_device *mdev)
{
	struct dmirror_free_runs fr = {};
	int ret;

	mutex_lock(&mdev->grow_lock);
	ret = dmirror_free_runs_read(mdev, &fr);
	if (!ret) {
		seq_printf(m, "dev%u.free %lu\n", mdev->id, fr.free);
		if (fr.free != fr.counted)
			seq_printf(m, "dev%u.counter_mismatch %lu\n", mdev->id,
				   fr.counted);
		dmirror_free_runs_show(m, mdev->id, &fr);
	}
	mutex_unlock(&mdev->grow_lock);
	dmirror_free_runs_release(&fr);
	return ret;
}

static int dmirror_free_list_show(struct seq_file *m, void *unused)
{
	unsigned int id;
	int ret;

	for (id = 0; id < dmirror_ndevices; id++) {
		ret = dmirror_free_list_show_one(m, dmirror_devices[id]);
		if (ret)
			return ret;
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmirror_free_list);

/* A knob: an unsigned value with an inclusive maximum. */
struct dmirror_knob {
	const char	*name;
	unsigned int	*value;
	unsigned int	max;
};

static struct dmirror_knob dmirror_knobs[] = {
	{ "owner_mismatch", &dmirror_owner_mismatch, 1 },
	{ "leak_shadow", &dmirror_leak_shadow, 1 },
	{ "bounce_copy", &dmirror_bounce_copy, 1 },
	{ "fault_loop_limit", &dmirror_fault_loop_limit, INT_MAX },
};

static ssize_t dmirror_knob_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct dmirror_knob *knob = file->private_data;
	char buf[16];
	int len;

	len = scnprintf(buf, sizeof(buf), "%u\n", READ_ONCE(*knob->value));
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

/*
 * Takes one decimal number, optionally newline-terminated, in range.
 * Anything else, an empty write included, is -EINVAL; a buffer that
 * cannot be read is -EFAULT.
 */
static ssize_t dmirror_knob_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct dmirror_knob *knob = file->private_data;
	unsigned int val;
	int ret;

	if (*ppos || !count || count > 16)
		return -EINVAL;
	ret = kstrtouint_from_user(ubuf, count, 10, &val);
	if (ret == -EFAULT)
		return ret;
	if (ret || val > knob->max)
		return -EINVAL;
	WRITE_ONCE(*knob->value, val);
	return count;
}

static const struct file_operations dmirror_knob_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= dmirror_knob_read,
	.write	= dmirror_knob_write,
};

DEFINE_STATIC_KEY_FALSE(dmirror_fold_events);

/*
 * fold_events: the CPU fault path folds its events into one while the
 * file is open for writing, so that the folding ends with its holder
 * however that ends (docs/driver.md).  Reads say how many hold it.
 */
static int dmirror_fold_open(struct inode *inode, struct file *file)
{
	if (file->f_mode & FMODE_WRITE)
		static_branch_inc(&dmirror_fold_events);
	return 0;
}

/*
 * Each holder's release traces the pages batched so far, so the trace of
 * a recorder that lets go has them all; after the key is off nothing is
 * batched (the batching checks it under the lock the flush takes).
 */
static int dmirror_fold_release(struct inode *inode, struct file *file)
{
	if (file->f_mode & FMODE_WRITE) {
		static_branch_dec(&dmirror_fold_events);
		dmirror_fold_flush_batch();
	}
	return 0;
}

static ssize_t dmirror_fold_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[16];
	int len;

	len = scnprintf(buf, sizeof(buf), "%d\n",
			static_key_count(&dmirror_fold_events.key));
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations dmirror_fold_fops = {
	.owner		= THIS_MODULE,
	.open		= dmirror_fold_open,
	.release	= dmirror_fold_release,
	.read		= dmirror_fold_read,
};

void dmirror_debugfs_init(void)
{
	struct dentry *root;
	unsigned int i;

	root = debugfs_create_dir("dmirror", NULL);
	dmirror_debugfs_root = root;
	debugfs_create_file("stats", 0400, root, NULL, &dmirror_stats_fops);
	debugfs_create_file("free_list", 0400, root, NULL,
			    &dmirror_free_list_fops);
	debugfs_create_file("fold_events", 0600, root, NULL,
			    &dmirror_fold_fops);
	for (i = 0; i < ARRAY_SIZE(dmirror_knobs); i++)
		debugfs_create_file(dmirror_knobs[i].name, 0600, root,
				    &dmirror_knobs[i], &dmirror_knob_fops);
}

void dmirror_debugfs_exit(void)
{
	debugfs_remove_recursive(dmirror_debugfs_root);
}
