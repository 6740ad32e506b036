/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DM_ANALYZER_H
#define DM_ANALYZER_H

#define ANALYZER_VERSION "1.0"

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* 0 and *out set when s is a decimal number in [min, max]. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out);

#endif
