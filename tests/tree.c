/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Throw-away file trees for the unit tests.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "tree.h"
#include "common/util.h"

void
tree_put(struct tree *t, const char *rel, const char *text)
{
	char	*path, *p;
	int	 fd;

	assert_non_null(path = sysroot_path(t->dir, "%s", rel));
	for (p = path + strlen(t->dir) + 1; (p = strchr(p, '/')) != NULL;
	    p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	free(path);
}

/* tree_put() with the relative path as a printf format. */
void
tree_putf(struct tree *t, const char *text, const char *fmt, ...)
{
	va_list	 ap;
	char	*rel;

	va_start(ap, fmt);
	assert_true(vasprintf(&rel, fmt, ap) >= 0);
	va_end(ap);
	tree_put(t, rel, text);
	free(rel);
}

int
tree_setup(void **state)
{
	struct tree	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/affinityd_unit.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
tree_remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
tree_teardown(void **state)
{
	struct tree	*t = *state;
	int		 r;

	r = nftw(t->dir, tree_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return r;
}

