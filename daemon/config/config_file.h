/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading a configuration file and the files it @includes, once each,
 * into the one text libconfig parses: each must be a regular file,
 * readable, and all of them together no larger than CONFIG_FILE_MAX_BYTES,
 * with no more than CONFIG_FILE_MAX_SETTINGS settings, nested at most
 * CONFIG_FILE_MAX_DEPTH deep and never including itself.
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

/* @include nests at most this many files deep, as in libconfig 1.5. */
#define CONFIG_FILE_MAX_DEPTH	10

/*
 * An integer in the text libconfig reads that libconfig 1.5 silently
 * truncates to 32 bits (4294985073 reads as 17777): the caller reports it
 * for the setting named "name" whose line is name_line, or else on its
 * own.  Lines are the text's: config_file_where() gives the file's.
 */
struct config_file_int {
	unsigned int	 line;		/* the number's */
	unsigned int	 name_line;	/* the setting name's before it */
	char		*name;		/* "" when there was none */
	char		*text;
	int		 reported;
};

/* From line "line" of the text on, the lines are file_line on of a file. */
struct config_file_line {
	unsigned int	 line;
	unsigned int	 file_line;
	size_t		 file;		/* in files[] */
};

/*
 * What config_file_read() found: the text for libconfig, every file read
 * once and each @include line replaced by the text of the file it names,
 * and the map from the text's lines back to the files'.
 */
struct config_file {
	char			*text;
	size_t			 len;
	char			**files;	/* as named; [0] the main one */
	size_t			 nfiles;
	struct config_file_line	*map;		/* by line */
	size_t			 nmap;
	struct config_file_int	*ints;		/* that do not fit */
	size_t			 nints;
};

/*
 * config_file.c: config_file_read() gives 0 and cf filled in once path
 * and every file it includes passed the checks; or -1 with each problem
 * appended to errors (may be NULL) as "FILE[:LINE]: what is wrong".
 * config_file_where() gives the file (NULL: none) that line of cf->text
 * comes from and its line there.  config_file_free() frees what cf
 * holds, also after a failure.  config_file_set_dir() makes the relative
 * paths of later reads (the main file's, an @include's) be taken from
 * dir, an absolute one, instead of the working directory (NULL: back to
 * it): a daemon that changes to "/" keeps reading the files its start
 * read; 0, or -ENOMEM.
 */
int	 config_file_read(const char *path, struct config_file *cf,
	    struct strv *errors);
const char *config_file_where(const struct config_file *cf,
	    unsigned int line, unsigned int *file_line);
void	 config_file_free(struct config_file *cf);
int	 config_file_set_dir(const char *dir);

#endif
