// SPDX-License-Identifier: GPL-2.0
/*
 * sigign CHLD|INT|TERM CMD [ARGS]: runs CMD with the signal ignored, as a
 * parent that ignores it leaves it (an ignored signal stays ignored across
 * exec).  Shells cannot always do it: some keep SIGCHLD for themselves.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "CHLD", SIGCHLD }, { "INT", SIGINT }, { "TERM", SIGTERM },
	};

	if (argc < 3) {
		fprintf(stderr, "usage: sigign CHLD|INT|TERM CMD [ARGS]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (strcmp(argv[1], sigs[i].name))
			continue;
		signal(sigs[i].sig, SIG_IGN);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	}
	fprintf(stderr, "sigign: unknown signal %s\n", argv[1]);
	return 2;
}
