/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Throw-away file trees for unit tests (fake /proc, /sys and cgroup
 * roots): made in a cmocka setup, removed with everything in them in the
 * teardown.
 */
#ifndef AFFINITYD_TESTS_TREE_H
#define AFFINITYD_TESTS_TREE_H

struct tree {
	char	 dir[64];
};

/* tree.c */
void	 tree_put(struct tree *t, const char *rel, const char *text);
void	 tree_putf(struct tree *t, const char *text, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 tree_setup(void **state);
int	 tree_teardown(void **state);

#endif
