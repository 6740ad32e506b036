// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "outfile.h"

int dm_outfile_open(struct dm_outfile *o, const char *path, char *err, size_t errlen)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->f = fopen(path, "w");
	if (!o->f) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(o->path);
		return -1;
	}
	o->regular = !fstat(fileno(o->f), &st) && S_ISREG(st.st_mode);
	if (o->regular && dm_sudo_user(&uid, &gid) && fchown(fileno(o->f), uid, gid)) {
		snprintf(err, errlen, "cannot give %s to uid %u: %s", path, (unsigned int)uid,
			 strerror(errno));
		dm_outfile_abort(o);
		return -1;
	}
	return 0;
}

int dm_outfile_close(struct dm_outfile *o, bool failed, char *err, size_t errlen)
{
	bool bad = ferror(o->f);
	int saved;

	if (fclose(o->f))
		bad = true;
	saved = errno;
	if (bad)
		snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(saved));
	else if (failed)
		snprintf(err, errlen, "%s: out of memory while writing it", o->path);
	if ((bad || failed) && o->regular)
		unlink(o->path);
	free(o->path);
	return bad || failed ? -1 : 0;
}

void dm_outfile_abort(struct dm_outfile *o)
{
	fclose(o->f);
	if (o->regular)
		unlink(o->path);
	free(o->path);
}
