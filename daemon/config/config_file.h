/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading a configuration file and the files it @includes before
 * libconfig sees them: each must be a regular file, readable, and all of
 * them together no larger than CONFIG_FILE_MAX_BYTES, with no more than
 * CONFIG_FILE_MAX_SETTINGS settings.
 */
#ifndef AFFINITYD_CONFIG_FILE_H
#define AFFINITYD_CONFIG_FILE_H

#include <stddef.h>

struct strv;

/* The most a configuration holds, its @include files counted in. */
#define CONFIG_FILE_MAX_BYTES	(1024 * 1024)

/*
 * The most settings (name = value) it holds: 250 listeners of 8 keys
 * need some 2000; libconfig's time grows with the square of a group's.
 */
#define CONFIG_FILE_MAX_SETTINGS	4096

/* libconfig 1.5 follows @include at most this many files deep. */
#define CONFIG_FILE_MAX_DEPTH	10

/*
 * An integer as written that libconfig 1.5 silently truncates to 32 bits
 * (4294985073 reads as 17777): the caller reports it for the setting
 * named "name" whose line is name_line in file, or else on its own.
 */
struct config_file_int {
	char		*file;		/* as libconfig names it */
	unsigned int	 line;		/* the number's */
	unsigned int	 name_line;	/* the setting name's before it */
	char		*name;		/* "" when there was none */
	char		*text;
	int		 reported;
};

/* What config_file_read() found. */
struct config_file {
	char			*text;		/* the main file's */
	struct config_file_int	*ints;		/* that do not fit */
	size_t			 nints;
};

/*
 * config_file.c: config_file_read() gives 0 and cf filled in once path
 * and every file it includes passed the checks; or -1 with each problem
 * appended to errors (may be NULL) as "FILE[:LINE]: what is wrong".
 * config_file_free() frees what cf holds, also after a failure.
 */
int	 config_file_read(const char *path, struct config_file *cf,
	    struct strv *errors);
void	 config_file_free(struct config_file *cf);

#endif
