// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the cross-architecture guest (tests/cross/run): there is no
 * shell for that architecture in the initramfs, so this program runs the
 * plan in /plan, one step a line, and says how each went on the console:
 *
 *   insmod FILE [PARAMS]      load a module (finit_module)
 *   rmmod NAME                unload it
 *   run PROG [ARGS]           run /bin/PROG; exit status 0 passes
 *   hmm-tests MODULE PREFIX   hmm-tests against MODULE.ko, whose devices
 *                             are /dev/PREFIX0.. (linked as /dev/hmm_dmirrorN),
 *                             its TAP output between "CROSS HMM-BEGIN MODULE"
 *                             and "CROSS HMM-END MODULE" lines; the host
 *                             compares the verdicts
 *   stat KEY VALUE            /sys/kernel/debug/dmirror/stats has KEY VALUE
 *   cat FILE                  show FILE
 *
 * Each step prints "CROSS PASS step" or "CROSS FAIL step: why"; the last
 * line is "CROSS DONE N passed, N failed", then the guest powers off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATS "/sys/kernel/debug/dmirror/stats"

static unsigned int passed, failed;

static void verdict(const char *step, const char *fmt, ...)
{
	va_list ap;

	if (!fmt) {
		printf("CROSS PASS %s\n", step);
		passed++;
	} else {
		printf("CROSS FAIL %s: ", step);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		failed++;
	}
	fflush(stdout);
}

static int split(char *line, char **argv, int max)
{
	int n = 0;
	char *tok, *save;

	for (tok = strtok_r(line, " \t\n", &save); tok && n < max - 1;
	     tok = strtok_r(NULL, " \t\n", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return n;
}

/* Runs argv with stdout and stderr on the console, for at most @secs. */
static int run(char **argv, unsigned int secs)
{
	char path[256];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "/bin/%s", argv[0]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		alarm(secs);
		execv(path, argv);
		perror(path);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * What a program left running (a stress worker's fork children, orphaned
 * when the worker was SIGKILLed) is this process's child now: the next
 * step waits for it, as the x86 guest's session kill ends it.
 */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static int do_insmod(char **argv, int argc)
{
	char params[512] = "";
	int fd, i, ret;

	for (i = 2; i < argc; i++) {
		strncat(params, argv[i], sizeof(params) - strlen(params) - 2);
		strcat(params, " ");
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

static void show(const char *file)
{
	char buf[4096];
	ssize_t n;
	int fd = open(file, O_RDONLY);

	if (fd < 0) {
		printf("cannot open %s: %s\n", file, strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	fflush(stdout);
}

static int stat_value(const char *key, char *value, size_t len)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen(STATS, "r");
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			snprintf(value, len, "%s", line + kl + 1);
			value[strcspn(value, "\n")] = 0;
			found = 1;
		}
	fclose(f);
	return found ? 0 : -ENOENT;
}

static void write_file(const char *file, const char *s)
{
	int fd = open(file, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror(file);
		close(fd);
	}
}

static void do_hmm_tests(const char *step, const char *module,
			 const char *prefix)
{
	char *argv[] = { "hmm-tests", NULL };
	char path[128], *ins[] = { "insmod", path, NULL };
	int i, rc;

	snprintf(path, sizeof(path), "/lib/modules/%s.ko", module);
	rc = do_insmod(ins, 2);
	if (rc) {
		verdict(step, "insmod %s: %s", path, strerror(-rc));
		return;
	}
	for (i = 0; i < 4; i++) {
		char link[64], target[64];

		snprintf(link, sizeof(link), "/dev/hmm_dmirror%d", i);
		snprintf(target, sizeof(target), "/dev/%s%d", prefix, i);
		if (strcmp(prefix, "hmm_dmirror") && !access(target, F_OK))
			symlink(target, link);
	}
	/* hmm-tests' buffers come huge only where they ask (MADV_HUGEPAGE). */
	write_file("/sys/kernel/mm/transparent_hugepage/enabled", "madvise");
	printf("CROSS HMM-BEGIN %s\n", module);
	rc = run(argv, 1500);
	printf("CROSS HMM-END %s\n", module);
	for (i = 0; i < 4 && strcmp(prefix, "hmm_dmirror"); i++) {
		char link[64];

		snprintf(link, sizeof(link), "/dev/hmm_dmirror%d", i);
		unlink(link);
	}
	if (syscall(SYS_delete_module, module, O_NONBLOCK))
		verdict(step, "rmmod %s: %s", module, strerror(errno));
	else if (rc >= 128)
		verdict(step, "hmm-tests killed by signal %d", rc - 128);
	else
		verdict(step, NULL);	/* the verdicts are the host's to compare */
}

static void step(char *line)
{
	char copy[512], *argv[32], value[64];
	int argc, rc;

	line[strcspn(line, "\n")] = 0;
	if (!*line || *line == '#')
		return;
	snprintf(copy, sizeof(copy), "%s", line);
	argc = split(copy, argv, 32);
	printf("=== %s\n", line);
	fflush(stdout);
	if (!strcmp(argv[0], "insmod") && argc >= 2) {
		rc = do_insmod(argv, argc);
		verdict(line, rc ? "%s" : NULL, strerror(-rc));
	} else if (!strcmp(argv[0], "rmmod") && argc == 2) {
		rc = syscall(SYS_delete_module, argv[1], O_NONBLOCK) ? errno : 0;
		verdict(line, rc ? "%s" : NULL, strerror(rc));
	} else if (!strcmp(argv[0], "run") && argc >= 2) {
		rc = run(argv + 1, 900);
		reap_orphans();
		verdict(line, rc ? "exit status %d" : NULL, rc);
	} else if (!strcmp(argv[0], "hmm-tests") && argc == 3) {
		do_hmm_tests(line, argv[1], argv[2]);
	} else if (!strcmp(argv[0], "stat") && argc == 3) {
		rc = stat_value(argv[1], value, sizeof(value));
		if (rc)
			verdict(line, "no %s in " STATS ": %s", argv[1], strerror(-rc));
		else
			verdict(line, strcmp(value, argv[2]) ? "got %s" : NULL, value);
	} else if (!strcmp(argv[0], "cat") && argc == 2) {
		show(argv[1]);
	} else {
		verdict(line, "not a step this init knows");
	}
}

int main(void)
{
	char line[512];
	FILE *plan;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sys", "/sys", "sysfs", 0, NULL);
	mount("dev", "/dev", "devtmpfs", 0, NULL);
	mount("tmp", "/tmp", "tmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	setenv("PATH", "/bin", 1);
	chdir("/tmp");
	write_file("/proc/sys/kernel/printk", "8");
	show("/proc/version");
	plan = fopen("/plan", "r");
	if (!plan) {
		verdict("plan", "/plan: %s", strerror(errno));
	} else {
		while (fgets(line, sizeof(line), plan))
			step(line);
		fclose(plan);
	}
	printf("CROSS DONE %u passed, %u failed\n", passed, failed);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
