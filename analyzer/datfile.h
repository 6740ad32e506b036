/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.dat, file format version 6 (man 5 trace-cmd.dat.v6): our writer,
 * and a strict scanner of the file's headers that validates a file before
 * libtracecmd opens it and reads the options libtracecmd does not expose.
 */
#ifndef DM_DATFILE_H
#define DM_DATFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* trace-cmd's own option ids that we write or read */
#define DAT_OPT_DONE		0
#define DAT_OPT_CPUSTAT		2
#define DAT_OPT_TRACECLOCK	4
#define DAT_OPT_UNAME		5
#define DAT_OPT_VERSION		9

/*
 * Our options.  trace-cmd 3.1 knows ids 0..22; a reader skips an option
 * it does not know (libtracecmd logs "unknown option" only at warning
 * level, which trace-cmd report does not show).  Each payload is text,
 * starts with DAT_OPT_MAGIC and ends with a NUL.
 */
#define DAT_OPT_DM_META		0x6d01	/* key: value lines about the recording */
#define DAT_OPT_DM_STATS_BEFORE	0x6d02	/* debugfs dmirror/stats before the workload */
#define DAT_OPT_DM_STATS_AFTER	0x6d03	/* ... and after it */
#define DAT_OPT_DM_LOST		0x6d04	/* per-CPU lost event counts */
#define DAT_OPT_MAGIC		"dmirror-analyzer/1\n"

struct dat_writer;

struct dat_writer *dat_writer_new(const char *path, int cpus, unsigned int page_size,
				  int long_size, char *err, size_t errlen);
int dat_set_header_page(struct dat_writer *w, const char *buf, size_t len);
int dat_set_header_event(struct dat_writer *w, const char *buf, size_t len);
int dat_add_ftrace_format(struct dat_writer *w, const char *buf, size_t len);
int dat_add_event_format(struct dat_writer *w, const char *system, const char *buf, size_t len);
int dat_set_kallsyms(struct dat_writer *w, const char *buf, size_t len);
int dat_set_printk(struct dat_writer *w, const char *buf, size_t len);
int dat_set_cmdlines(struct dat_writer *w, const char *buf, size_t len);
int dat_set_trace_clock(struct dat_writer *w, const char *buf, size_t len);
int dat_add_option(struct dat_writer *w, uint16_t id, const void *data, uint32_t len);
/* A text option of ours: DAT_OPT_MAGIC + text + NUL. */
int dat_add_dm_option(struct dat_writer *w, uint16_t id, const char *text);
/* Appends one ring-buffer page (len <= page_size, padded) for cpu. */
int dat_write_page(struct dat_writer *w, int cpu, const void *page, size_t len);
uint64_t dat_cpu_bytes(const struct dat_writer *w, int cpu);
/* The file will belong to uid:gid (sudo's user, when root writes it). */
void dat_set_owner(struct dat_writer *w, uid_t uid, gid_t gid);
/* Writes the file (to a temporary name, then renamed).  0 or -1 with err. */
int dat_finish(struct dat_writer *w, char *err, size_t errlen);
/* Frees; removes the output if dat_finish did not complete. */
void dat_writer_free(struct dat_writer *w);

struct dat_info {
	int version;
	bool big_endian;
	int long_size;
	unsigned int page_size;
	unsigned int cpus;
	uint64_t file_size;
	bool latency;		/* a latency-format (text) file */
	bool has_dmirror_formats;
	bool has_kernel_formats;	/* analyzer record --source kernel's probe events */
	/* options (v6 only) */
	char *meta, *stats_before, *stats_after, *lost;
	char *cpustats;		/* every CPUSTAT option, concatenated */
	bool has_trace_clock;
};

/*
 * Checks that path is a trace.dat whose headers are whole and consistent
 * (v6: every section and the per-CPU data inside the file; v7: the
 * initial header), and fills info.  0, or -1 with one line in err.
 */
int dat_scan(const char *path, struct dat_info *info, char *err, size_t errlen);
void dat_info_free(struct dat_info *info);

#endif
