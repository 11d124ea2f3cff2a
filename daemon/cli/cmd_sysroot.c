/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --sysroot DIR, as topology, doctor, bind and boot-config take it: a tree
 * that describes a machine, with proc/ and sys/ below DIR.  A DIR that is
 * not one (a folder of such trees, a typo) is said so before anything is
 * read, naming the trees one level down when there are some.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/affinityd.h"
#include "common/log.h"
#include "common/util.h"

/* 0 when dir/name is a directory, else an errno. */
static int
cmd_sysroot_has_dir(const char *dir, const char *name)
{
	char		 path[4096];
	struct stat	 st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return ENAMETOOLONG;
	if (stat(path, &st) == -1)
		return errno;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int
cmd_sysroot_is_tree(const char *dir)
{
	int	 r;

	if ((r = cmd_sysroot_has_dir(dir, "proc")) != 0)
		return r;
	return cmd_sysroot_has_dir(dir, "sys");
}

/* The trees one level below dir, as "DIR/a, DIR/b, ..." (up to four). */
static void
cmd_sysroot_below(const char *dir, char *buf, size_t len)
{
	char		 sub[4096];
	DIR		*d;
	struct dirent	*e;
	size_t		 n = 0, used = 0;
	const char	*sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ?
			    "" : "/";

	buf[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && used < len) {
		if (e->d_name[0] == '.' ||
		    (size_t)snprintf(sub, sizeof(sub), "%s%s%s", dir, sep,
		    e->d_name) >= sizeof(sub) || cmd_sysroot_is_tree(sub) != 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    n > 0 ? ", " : "", n < 4 ? sub : "...");
		if (++n > 4)
			break;
	}
	closedir(d);
}

int
cmd_sysroot_check(const char *cmd, const char *sysroot, int status)
{
	char	 below[1024];
	int	 r;

	if (sysroot == NULL || (r = cmd_sysroot_is_tree(sysroot)) == 0)
		return 0;
	if (r == EACCES || r == EPERM) {
		log_cmd_error("affinityd: %s: --sysroot %s: %s", cmd, sysroot,
		    strerror(r));
		return EXIT_NOPERM;
	}
	cmd_sysroot_below(sysroot, below, sizeof(below));
	if (below[0] != '\0')
		log_cmd_error("affinityd: %s: --sysroot %s holds no proc/ and "
		    "sys/ of a machine; the trees are one level down: %s", cmd,
		    sysroot, below);
	else
		log_cmd_error("affinityd: %s: --sysroot %s: no proc/ and sys/ "
		    "of a machine below it (%s)", cmd, sysroot, strerror(r));
	return status;
}
