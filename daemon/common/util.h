/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Small helpers shared by every module: a growable string vector and file
 * reads below a root prefix (the --sysroot seam that fixture tests use).
 */
#ifndef AFFINITYD_UTIL_H
#define AFFINITYD_UTIL_H

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Lets the compiler check a printf-like format against its arguments. */
#define PRINTFLIKE(a, b)	__attribute__((format(printf, a, b)))

/* sysexits(3) codes used by the daemon and its subcommands. */
#define EXIT_USAGE	64
#define EXIT_DATAERR	65
#define EXIT_NOINPUT	66
#define EXIT_UNAVAIL	69
#define EXIT_SOFTWARE	70
#define EXIT_OSERR	71
#define EXIT_CANTCREAT	73
#define EXIT_TEMPFAIL	75
#define EXIT_NOPERM	77
#define EXIT_CONFIG	78

/*
 * read_regular_file() of what is not a regular file (a FIFO, a device, a
 * directory): negated, as the errno values it gives otherwise.
 */
#define READ_NOT_REGULAR	EMEDIUMTYPE

/* A NULL-terminated, growable vector of malloc'd strings. */
struct strv {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/* util.c */
int	 strv_add(struct strv *sv, const char *s);
int	 strv_addf(struct strv *sv, const char *fmt, ...) PRINTFLIKE(2, 3);
int	 strv_vaddf(struct strv *sv, const char *fmt, va_list ap)
	    PRINTFLIKE(2, 0);
int	 strv_add_why_fix(struct strv *sv, const char *why, const char *fix);
int	 strv_contains(const struct strv *sv, const char *s);
void	 strv_free(struct strv *sv);
int	 strv_printable(struct strv *sv, size_t from);
char	*str_printable(const char *s);
char	*str_printable_text(const char *s);
char	*sysroot_path(const char *sysroot, const char *fmt, ...)
	    PRINTFLIKE(2, 3);
int	 read_regular_file(const char *path, char **text, size_t *lenp,
	    size_t max_bytes, struct stat *stp);
const char *read_file_error(int r, const struct stat *st);
int	 read_file(const char *path, char **text, size_t max_bytes);
int	 read_file_line(const char *path, char **line);
int	 parse_uint(const char *text, unsigned int max, unsigned int *value);
struct timeval seconds_timeval(double seconds);

#endif
