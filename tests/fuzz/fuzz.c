/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fuzz targets' scratch space: one directory per process, files and
 * symlinks written below it from the fuzzer's bytes, never outside it.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char	 fuzz_dir[PATH_MAX];

static void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rmtree(fuzz_dir, 1);
}

const char *
fuzz_scratch(void)
{
	const char	*tmp = getenv("TMPDIR");

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/affinityd-fuzz.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("fuzz: mkdtemp");
		exit(2);
	}
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Makes every directory of path below dir but the last component. */
static int
fuzz_mkparents(const char *dir, const char *rel)
{
	struct stat	 st;
	char		 path[PATH_MAX], *p;
	size_t	 base;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	base = strlen(dir) + 1;
	for (p = path + base; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -errno;
		/* Through a symlink a path could leave the tree. */
		if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		*p = '/';
	}
	return 0;
}

int
fuzz_write(const char *dir, const char *rel, const void *data, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 r;

	if ((r = fuzz_mkparents(dir, rel)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((f = fopen(path, "w")) == NULL)
		return -errno;
	r = fwrite(data, 1, len, f) == len ? 0 : -EIO;
	if (fclose(f) == EOF && r == 0)
		r = -errno;
	return r;
}

static int
fuzz_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
fuzz_rmtree(const char *dir, int self)
{
	char	 path[PATH_MAX];

	if (self) {
		nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return;
	}
	/* Everything below: remove the tree and make the directory again. */
	snprintf(path, sizeof(path), "%s", dir);
	nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(path, 0755);
}

/* A relative path without empty, "." or ".." components. */
static int
fuzz_path_ok(const char *p)
{
	const char	*c;
	size_t		 n;

	if (*p == '\0' || *p == '/' || strlen(p) > 200)
		return 0;
	for (c = p; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	}
	return 1;
}

/* A link target that, read from the link's directory, stays below the root. */
static int
fuzz_target_ok(const char *link, const char *target)
{
	const char	*c;
	size_t		 n;
	int		 depth = 0;

	for (c = link; (c = strchr(c, '/')) != NULL; c++)
		depth++;
	if (*target == '\0' || *target == '/' || strlen(target) > 200)
		return 0;
	for (c = target; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			depth--;
		else if (n > 0 && !(n == 1 && c[0] == '.'))
			depth++;
		if (depth < 0)
			return 0;
	}
	return 1;
}

/* Turns the two-character escape "\n" into a newline, in place. */
static size_t
fuzz_unescape(char *s)
{
	char	*r, *w;

	for (r = w = s; *r != '\0'; r++, w++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w = '\n';
			r++;
		} else
			*w = *r;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void
fuzz_tree_line(const char *dir, char *line)
{
	char	 path[PATH_MAX], *arg, kind = line[0];
	size_t	 len;

	if (kind == '\0' || line[1] != ' ')
		return;
	line += 2;
	if ((arg = strchr(line, '\t')) != NULL)
		*arg++ = '\0';
	if (!fuzz_path_ok(line) || fuzz_mkparents(dir, line) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, line);
	if (kind == 'D')
		(void)mkdir(path, 0755);
	else if (kind == 'F' && arg != NULL) {
		len = fuzz_unescape(arg);
		(void)fuzz_write(dir, line, arg, len);
	} else if (kind == 'L' && arg != NULL && fuzz_target_ok(line, arg))
		(void)symlink(arg, path);
}

void
fuzz_tree(const char *dir, const char *text)
{
	char	*copy, *line, *next;

	if ((copy = strdup(text)) == NULL)
		abort();
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		fuzz_tree_line(dir, line);
	}
	free(copy);
}
