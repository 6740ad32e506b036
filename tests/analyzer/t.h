/* SPDX-License-Identifier: GPL-2.0 */
/* A tiny test harness: each TEST is one case; it fails if any CHECK fails. */
#ifndef T_H
#define T_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

extern int t_case_failed;
extern const char *t_case_name;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("    check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
			t_case_failed = 1;                                      \
		}                                                               \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);             \
		CHECK(a_ == b_, "%s = %lld, expected %lld", #a, a_, b_);        \
	} while (0)

typedef void (*t_fn)(void);
struct t_case {
	const char *name;
	t_fn fn;
};

/* every test file exports its table */
extern const struct t_case engine_tests[];
extern const struct t_case file_tests[];
extern const struct t_case kernel_tests[];

/* a scratch directory for the run (made by the runner) */
extern char t_dir[];
/* name in the scratch directory (one of the last four returned stays valid) */
const char *t_path(const char *name);
struct scen;
/* Two processes, a fault loop and two leaked shadow pages (test_file.c). */
void t_scen_mixed(struct scen *s);
/* path of the analyzer binary under test ($ANALYZER) */
extern const char *t_analyzer;

/* run a command line, capture stdout and stderr; returns the exit status
 * (128+sig on a signal, -1 on failure to run) */
int t_run(const char *cmd, char **out, char **err);
int t_count_lines(const char *s);

#endif
