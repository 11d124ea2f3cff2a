/*
 * Reading a configuration file and the files it @includes before
 * libconfig sees them: each must be a regular file, readable, and all of
 * them together no larger than CONFIG_FILE_MAX_BYTES.
 */
#ifndef AFFINITYD_CONFIG_FILE_H
#define AFFINITYD_CONFIG_FILE_H

#include <stddef.h>

#include "util.h"

/* The most a configuration holds, its @include files counted in. */
#define CONFIG_FILE_MAX_BYTES	(1024 * 1024)

/* libconfig 1.5 follows @include at most this many files deep. */
#define CONFIG_FILE_MAX_DEPTH	10

/*
 * config_file.c: config_file_read() gives 0 and the text of the file at
 * path, NUL-terminated, once it and every file it includes passed the
 * checks; or -1 with each problem appended to errors (may be NULL) as
 * "FILE[:LINE]: what is wrong".
 */
int	 config_file_read(const char *path, char **text, struct strv *errors);

#endif
