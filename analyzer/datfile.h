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
/* ... and those that move every timestamp as libtracecmd reads them */
#define DAT_OPT_DATE		1
#define DAT_OPT_OFFSET		7
#define DAT_OPT_TIME_SHIFT	12
#define DAT_OPT_TSC2NSEC	14

/*
 * What the analyzer adds about a recording is text in named sections,
 * each stored as one more CPUSTAT option whose text starts with the line
 * "dmirror-analyzer/1 NAME".  CPUSTAT is the text option trace-cmd keeps
 * as it is (trace-cmd report --stat shows it), so trace-cmd and
 * KernelShark read our files without a word; option ids of our own made
 * libtracecmd print "unknown option" for each.  Files written by
 * analyzer 1.0 carried the sections as options 0x6d01..0x6d04, whose
 * payload starts with "dmirror-analyzer/1\n"; they still read.
 */
enum dat_dm_section {
	DAT_DM_META,		/* key: value lines about the recording */
	DAT_DM_STATS_BEFORE,	/* debugfs dmirror/stats before the workload */
	DAT_DM_STATS_AFTER,	/* ... and after it */
	DAT_DM_LOST,		/* per-CPU lost event counts */
	DAT_DM_NSECTIONS
};
#define DAT_DM_TAG		"dmirror-analyzer/1"

/* Each section: its name, where dat_scan puts it, its option id in 1.0. */
struct dat_dm_section_desc {
	const char *name;
	size_t field;		/* offsetof(struct dat_info, ...) */
	uint16_t old_id;
};
extern const struct dat_dm_section_desc dat_dm_sections[DAT_DM_NSECTIONS];

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
/* One of our sections: a CPUSTAT option, DAT_DM_TAG NAME "\n" text NUL. */
int dat_add_dm_section(struct dat_writer *w, enum dat_dm_section sec, const char *text);
/* Appends one ring-buffer page (len <= page_size, padded) for cpu. */
int dat_write_page(struct dat_writer *w, int cpu, const void *page, size_t len);
uint64_t dat_cpu_bytes(const struct dat_writer *w, int cpu);
/* The file will belong to uid:gid (sudo's user, when root writes it). */
void dat_set_owner(struct dat_writer *w, uid_t uid, gid_t gid);
/* Writes the file (to a temporary name, then renamed).  0 or -1 with err. */
int dat_finish(struct dat_writer *w, char *err, size_t errlen);
/* Frees; removes the output if dat_finish did not complete. */
void dat_writer_free(struct dat_writer *w);

/* Where a piece of the file lies. */
struct dat_span {
	uint64_t off, len;
};

/* One event format of a v6 file: its text and its system. */
struct dat_format {
	struct dat_span text;
	char *system;		/* "ftrace" for the ftrace formats */
};

/*
 * What a reader needs to decode a v6 flyrecord file without libtracecmd
 * (ringread.c): where each part lies, and how the pages are laid out.
 * Filled by dat_scan for every v6 flyrecord file.
 */
struct dat_layout {
	struct dat_span header_page, cmdlines;
	struct dat_format *formats;
	size_t nformats;
	struct dat_span *cpu;	/* info->cpus entries: each CPU's pages */
	unsigned int commit_size;	/* bytes of a page's commit word */
	unsigned int data_off;	/* where a page's events start */
	/* an option libtracecmd applies to every timestamp (DATE, OFFSET,
	 * TIME_SHIFT, TSC2NSEC): a direct reader would disagree with it */
	bool moves_timestamps;
};

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
	/* options (v6 only): our sections, by enum dat_dm_section */
	char *meta, *stats_before, *stats_after, *lost;
	char *cpustats;		/* every other CPUSTAT option, concatenated */
	bool has_trace_clock;
	struct dat_layout layout;	/* v6 flyrecord files */
};

/*
 * Checks that path is a trace.dat whose headers are whole and consistent
 * (v6: every section and the per-CPU data inside the file; v7: the
 * initial header), and fills info.  0, or -1 with one line in err.
 */
int dat_scan(const char *path, struct dat_info *info, char *err, size_t errlen);
void dat_info_free(struct dat_info *info);

#endif
