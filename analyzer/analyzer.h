/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DM_ANALYZER_H
#define DM_ANALYZER_H

#include <stdbool.h>
#include <sys/types.h>

#define ANALYZER_VERSION "1.1"

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* 0 and *out set when s is a decimal number in [min, max]. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out);

/*
 * Run by root under sudo (SUDO_UID, SUDO_GID set): the user who ran sudo,
 * to whom the files we write belong, as a file the user asked for should.
 */
bool dm_sudo_user(uid_t *uid, gid_t *gid);

#endif
