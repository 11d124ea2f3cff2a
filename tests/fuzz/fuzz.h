/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the libFuzzer targets: a scratch directory of the
 * process's own, files written below it, and a tree described by text.
 */
#ifndef AFFINITYD_FUZZ_H
#define AFFINITYD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The target's entry point, called by libFuzzer. */
int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A directory made once per process (under $TMPDIR or /tmp); exits if not. */
const char	*fuzz_scratch(void);
/* data as a NUL-terminated string (malloc'd; aborts when out of memory). */
char		*fuzz_string(const uint8_t *data, size_t size);
/* Writes data to dir/rel, making the directories between; 0 or -errno. */
int		 fuzz_write(const char *dir, const char *rel, const void *data,
		    size_t len);
/* Removes everything below dir, and dir itself when self is set. */
void		 fuzz_rmtree(const char *dir, int self);
/*
 * Builds the tree that text describes below dir, one entry a line:
 *   F path<TAB>content   a file ("\n" in content is a newline)
 *   L path<TAB>target    a symlink, relative, that stays inside dir
 *   D path               a directory
 * Paths are relative and hold no "..".  Malformed lines are skipped.
 */
void		 fuzz_tree(const char *dir, const char *text);

#endif
