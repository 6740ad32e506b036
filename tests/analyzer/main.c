// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the analyzer: the engine on event sequences built
 * here, and the whole file path (our writer -> libtracecmd -> engine,
 * the analyzer binary, trace-cmd report on our files).  No root, no
 * kernel.  The last line is "N passed, N failed".
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth.h"
#include "t.h"

int t_case_failed;
const char *t_case_name;
char t_dir[256];
const char *t_analyzer;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return strdup("");
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

const char *t_path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", t_dir, name);
	return buf[i];
}

int t_run(const char *cmd, char **out, char **err)
{
	char o[512], e[512], *full;
	int st;

	snprintf(o, sizeof(o), "%s/.out", t_dir);
	snprintf(e, sizeof(e), "%s/.err", t_dir);
	if (asprintf(&full, "( %s ) >'%s' 2>'%s'", cmd, o, e) < 0)
		return -1;
	st = system(full);
	free(full);
	if (out)
		*out = slurp(o);
	if (err)
		*err = slurp(e);
	if (st == -1)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int t_count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void run_table(const struct t_case *t, int *pass, int *fail, const char *only)
{
	for (; t->name; t++) {
		if (only && !strstr(t->name, only))
			continue;
		t_case_failed = 0;
		t_case_name = t->name;
		t->fn();
		fflush(stdout);
		if (t_case_failed) {
			printf("FAIL %s\n", t->name);
			(*fail)++;
		} else {
			printf("PASS %s\n", t->name);
			(*pass)++;
		}
		fflush(stdout);
	}
}

/*
 * analyzer-tests --gen FILE CYCLES: a synthetic trace of CYCLES one-page
 * migration cycles (about 9 dmirror events each) over 4 CPUs, for
 * measuring analyzer report on big inputs.
 */
static int gen(const char *path, long cycles)
{
	struct scen s;
	uint64_t ts = 1;
	int ret;

	sc_init(&s);
	for (long i = 0; i < cycles; i++) {
		uint64_t pfn = 0x100000 + (uint64_t)(i % 65536);
		int pid = 1000 + (int)(i % 4);

		sc_migrate_to_dev(&s, &ts, (int)(i % 4), pid, 0x7f0000000000ull + (uint64_t)(i % 512) * PAGE,
				  1, pfn, 0x50000 + pfn);
		sc_fault_back(&s, &ts, (int)((i + 1) % 4), pid, 0x7f0000000000ull + (uint64_t)(i % 512) * PAGE,
			      pfn, 0x50000 + pfn, 1000 + (uint64_t)(i % 5000), true);
		ts += 500;
	}
	ret = sc_write_dat(&s, path, &(struct sc_file_opts){ .cpus = 4 });
	printf("%zu events written to %s\n", s.n, path);
	sc_free(&s);
	return ret ? 1 : 0;
}

/*
 * analyzer-tests --gen-mixed FILE: the unit tests' mixed scenario (two
 * processes, a fault loop, two leaked shadow pages), for tests of report
 * outputs that need a tool of their own (tests/html/check).
 */
static int gen_mixed(const char *path)
{
	struct scen s;
	int ret;

	t_scen_mixed(&s);
	ret = sc_write_dat(&s, path, &(struct sc_file_opts){
		.stats_before = "total.shadow_live 0\n", .stats_after = "total.shadow_live 2\n" });
	sc_free(&s);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	if (argc == 4 && !strcmp(argv[1], "--gen"))
		return gen(argv[2], atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "--gen-mixed"))
		return gen_mixed(argv[2]);
	const char *tmp = getenv("TMPDIR");
	int pass = 0, fail = 0;
	char cmd[600];

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_analyzer = getenv("ANALYZER");
	if (!t_analyzer)
		t_analyzer = "./analyzer";
	snprintf(t_dir, sizeof(t_dir), "%s/analyzer-tests.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t_dir)) {
		perror("mkdtemp");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	run_table(engine_tests, &pass, &fail, only);
	run_table(file_tests, &pass, &fail, only);
	run_table(kernel_tests, &pass, &fail, only);
	if (!fail) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dir);
		if (system(cmd))
			printf("note: could not remove %s\n", t_dir);
	} else {
		printf("files kept in %s\n", t_dir);
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
