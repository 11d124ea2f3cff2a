/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration's files, checked before libconfig reads them.
 * libconfig 1.5 opens the file and every @include with fopen() and reads
 * them with a flex scanner that exits the whole process when a read fails
 * (a directory) and blocks for good on a FIFO, and it has no hook to
 * refuse a file.  So each file is looked at here first: it must be a
 * regular file, it is opened without blocking, read within one budget
 * for all of them, and scanned for the @include lines libconfig would
 * follow and for the integers it would cut to 32 bits.  The main file's
 * text is then handed to libconfig as a string.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_file.h"
#include "common/util.h"

/* One configuration being read: where problems go and what is left. */
struct cf_ctx {
	struct strv		*errors;	/* may be NULL */
	struct config_file	*cf;
	size_t			 left;		/* what the budget allows */
	unsigned int		 settings;	/* how many were named */
	int			 failed;
	int			 over;		/* stop: budget or memory */
};

/* One file being scanned, and the last setting name seen in it. */
struct cf_scan {
	struct cf_ctx	*ctx;
	const char	*path;
	unsigned int	 depth;		/* how many files deep it is */
	unsigned int	 line;
	const char	*name;
	size_t		 namelen;
	unsigned int	 name_line;
};

/* Where a file was named: NULL for the main file, else an @include. */
struct cf_from {
	const char	*file;
	unsigned int	 line;
};

static void	 cf_fail(struct cf_ctx *, const struct cf_from *,
		    const char *, const char *, ...) PRINTFLIKE(4, 5);
static void	 cf_fail_at(struct cf_ctx *, const char *, unsigned int,
		    const char *, ...) PRINTFLIKE(4, 5);
static void	 cf_scan(struct cf_ctx *, const char *, const char *,
		    unsigned int);

/*
 * Reports a problem with file path: "PATH: why" for the main file,
 * "FILE:LINE: @include \"PATH\": why" for an included one.
 */
static void
cf_fail(struct cf_ctx *ctx, const struct cf_from *from, const char *path,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*why;
	int	 r;

	ctx->failed = 1;
	if (ctx->errors == NULL)
		return;
	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r == -1)
		why = NULL;
	if (from == NULL)
		r = strv_addf(ctx->errors, "%s: %s", path,
		    why ? why : strerror(ENOMEM));
	else
		r = strv_addf(ctx->errors, "%s:%u: @include \"%s\": %s",
		    from->file, from->line, path,
		    why ? why : strerror(ENOMEM));
	if (r < 0)
		ctx->over = 1;
	free(why);
}

/* Reports a problem at line of file: "FILE:LINE: why". */
static void
cf_fail_at(struct cf_ctx *ctx, const char *file, unsigned int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	ctx->failed = 1;
	if (ctx->errors == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = NULL;
	va_end(ap);
	if (strv_addf(ctx->errors, "%s:%u: %s", file, line,
	    why ? why : strerror(ENOMEM)) < 0)
		ctx->over = 1;
	free(why);
}

static const char *
cf_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

/*
 * Opens path for reading if it is a regular file.  stat() first, so that
 * a device or FIFO is never opened; O_NONBLOCK in case it became one
 * since, and fstat() to be sure of what was opened.  Symbolic links are
 * followed: linking a configuration into place is common, and what
 * counts is the file they lead to.
 */
static int
cf_open(struct cf_ctx *ctx, const struct cf_from *from, const char *path)
{
	struct stat	 st;
	int		 fd, saved;

	if (stat(path, &st) == -1) {
		cf_fail(ctx, from, path, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		goto notfile;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		cf_fail(ctx, from, path, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		cf_fail(ctx, from, path, "fstat: %s", strerror(saved));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return fd;
	close(fd);
notfile:
	cf_fail(ctx, from, path, "is %s, not a regular file",
	    cf_kind(st.st_mode));
	return -1;
}

/* The line of text that p points into. */
static unsigned int
cf_line(const char *text, const char *p)
{
	unsigned int	 line = 1;

	for (; text < p; text++)
		line += *text == '\n';
	return line;
}

/* Reads path within the budget; a NUL byte is refused, as text has none. */
static char *
cf_read(struct cf_ctx *ctx, const struct cf_from *from, const char *path)
{
	const char	*nul;
	char		*text;
	size_t		 len;
	int		 fd, r;

	if ((fd = cf_open(ctx, from, path)) == -1)
		return NULL;
	r = read_fd(fd, &text, &len, ctx->left);
	close(fd);
	if (r == -EFBIG) {
		ctx->over = 1;
		cf_fail(ctx, from, path, "the configuration, its @include "
		    "files counted in, is larger than %d bytes (1 MiB)",
		    CONFIG_FILE_MAX_BYTES);
		return NULL;
	}
	if (r < 0) {
		cf_fail(ctx, from, path, "%s", strerror(-r));
		return NULL;
	}
	if ((nul = memchr(text, '\0', len)) != NULL) {
		cf_fail_at(ctx, path, cf_line(text, nul), "a NUL byte; a "
		    "configuration is text");
		free(text);
		return NULL;
	}
	ctx->left -= len;
	return text;
}

/* Checks an included file and, below the depth limit, what it includes. */
static void
cf_check(struct cf_ctx *ctx, const struct cf_from *from, const char *path,
    unsigned int depth)
{
	char	*text;

	if ((text = cf_read(ctx, from, path)) == NULL)
		return;
	cf_scan(ctx, path, text, depth);
	free(text);
}

/*
 * Past the opening quote of an @include: reads the name as libconfig
 * does (\\ and \" stand for \ and ", another backslash is dropped),
 * checks that file, and returns where the scan goes on.
 */
static const char *
cf_include(struct cf_scan *sc, const char *p)
{
	struct cf_from	 from = { sc->path, sc->line };
	char		*name;
	size_t		 n = 0;

	if ((name = malloc(strlen(p) + 1)) == NULL) {
		cf_fail(sc->ctx, NULL, sc->path, "%s", strerror(ENOMEM));
		sc->ctx->over = 1;
		return p + strlen(p);
	}
	for (; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '\\' || p[1] == '"'))
			p++;
		else if (*p == '\\')
			continue;
		sc->line += *p == '\n';
		name[n++] = *p;
	}
	name[n] = '\0';
	/* Unterminated, or too deep: libconfig itself refuses it. */
	if (*p == '"' && sc->depth < CONFIG_FILE_MAX_DEPTH)
		cf_check(sc->ctx, &from, name, sc->depth + 1);
	free(name);
	return *p == '"' ? p + 1 : p;
}

/* "@include" after blanks at a line's start, blanks, a quote: past it. */
static const char *
cf_include_open(const char *p)
{
	p += strspn(p, " \t");
	if (strncmp(p, "@include", 8) != 0)
		return NULL;
	p += 8;
	if (*p != ' ' && *p != '\t')
		return NULL;
	p += strspn(p, " \t");
	return *p == '"' ? p + 1 : NULL;
}

/* Past a string's closing quote. */
static const char *
cf_skip_string(struct cf_scan *sc, const char *p)
{
	for (; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		sc->line += *p == '\n';
	}
	return *p == '"' ? p + 1 : p;
}

/* Past a block comment's end. */
static const char *
cf_skip_comment(struct cf_scan *sc, const char *p)
{
	for (; *p != '\0'; p++) {
		if (p[0] == '*' && p[1] == '/')
			return p + 2;
		sc->line += *p == '\n';
	}
	return p;
}

/*
 * Past a setting name, which it remembers and counts: libconfig looks
 * for a duplicate among a group's settings each time it adds one, so
 * that 60000 settings in one group take it some 12 s.
 */
static const char *
cf_name(struct cf_scan *sc, const char *p)
{
	const char	*q;

	sc->name = p;
	sc->namelen = 1 + strspn(p + 1, "-_*abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	sc->name_line = sc->line;
	q = p + sc->namelen;
	q += strspn(q, " \t\r\n\f");
	if ((*q == '=' || *q == ':') &&
	    ++sc->ctx->settings > CONFIG_FILE_MAX_SETTINGS) {
		cf_fail_at(sc->ctx, sc->path, sc->line, "more than %d "
		    "settings in the configuration, its @include files "
		    "counted in", CONFIG_FILE_MAX_SETTINGS);
		sc->ctx->over = 1;
	}
	return p + sc->namelen;
}

/* Notes an integer that does not fit, the len bytes at p. */
static void
cf_int_too_big(struct cf_scan *sc, const char *p, size_t len)
{
	struct config_file	*cf = sc->ctx->cf;
	struct config_file_int	*grown, *i;

	grown = reallocarray(cf->ints, cf->nints + 1, sizeof(*cf->ints));
	if (grown == NULL)
		goto nomem;
	cf->ints = grown;
	i = &cf->ints[cf->nints];
	memset(i, 0, sizeof(*i));
	i->line = sc->line;
	i->name_line = sc->name != NULL ? sc->name_line : 0;
	if ((i->file = strdup(sc->path)) == NULL ||
	    (i->name = strndup(sc->name ? sc->name : "", sc->namelen)) ==
	    NULL || (i->text = strndup(p, len)) == NULL) {
		free(i->file);
		free(i->name);
		goto nomem;
	}
	cf->nints++;
	return;
nomem:
	cf_fail(sc->ctx, NULL, sc->path, "%s", strerror(ENOMEM));
	sc->ctx->over = 1;
}

/*
 * Past a number as libconfig's scanner reads it: a float, a hexadecimal
 * or decimal integer, an "L" suffix making it 64 bits.  Without one,
 * libconfig 1.5 keeps 32 bits of an integer and drops the rest; such a
 * number is noted, as is one too large for 64 bits.
 */
static const char *
cf_number(struct cf_scan *sc, const char *p)
{
	const char	*q = p + (*p == '-' || *p == '+');
	long long	 v;
	int		 hex = 0;

	if (q == p && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') &&
	    isxdigit((unsigned char)q[2])) {
		for (q += 2; isxdigit((unsigned char)*q); q++)
			continue;
		hex = 1;
	} else {
		q += strspn(q, "0123456789");
		if (*q == '.' || ((*q == 'e' || *q == 'E') &&
		    (isdigit((unsigned char)q[1]) || ((q[1] == '-' ||
		    q[1] == '+') && isdigit((unsigned char)q[2]))))) {
			q += *q == '.';
			q += strspn(q, "0123456789");
			if ((*q == 'e' || *q == 'E') &&
			    isdigit((unsigned char)q[1 + (q[1] == '-' ||
			    q[1] == '+')]))
				q += 2 + strspn(q + 2, "0123456789");
			return q;
		}
	}
	errno = 0;
	v = hex ? (long long)strtoull(p, NULL, 16) : strtoll(p, NULL, 10);
	if (*q == 'L') {
		if (errno == ERANGE)
			cf_int_too_big(sc, p, (size_t)(q - p));
		return q + 1 + (q[1] == 'L');
	}
	if (errno == ERANGE || (hex && (unsigned long long)v > UINT32_MAX) ||
	    (!hex && (v < INT32_MIN || v > INT32_MAX)))
		cf_int_too_big(sc, p, (size_t)(q - p));
	return q;
}

/*
 * Follows the @include lines of text (file path, depth files deep) as
 * libconfig's scanner finds them: at the start of a line, never inside
 * a comment or a string.  Notes the integers that do not fit.
 */
static void
cf_scan(struct cf_ctx *ctx, const char *path, const char *text,
    unsigned int depth)
{
	struct cf_scan	 sc = { ctx, path, depth, 1, NULL, 0, 0 };
	const char	*p = text, *q;

	while (*p != '\0' && !ctx->over) {
		if ((p == text || p[-1] == '\n') &&
		    (q = cf_include_open(p)) != NULL)
			p = cf_include(&sc, q);
		else if (*p == '"')
			p = cf_skip_string(&sc, p + 1);
		else if (p[0] == '/' && p[1] == '*')
			p = cf_skip_comment(&sc, p + 2);
		else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
			p += strcspn(p, "\n");
		else if (isalpha((unsigned char)*p) || *p == '*')
			p = cf_name(&sc, p);
		else if (isdigit((unsigned char)*p) || *p == '.' ||
		    ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))
			p = cf_number(&sc, p);
		else
			sc.line += *p++ == '\n';
	}
}

void
config_file_free(struct config_file *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nints; i++) {
		free(cf->ints[i].file);
		free(cf->ints[i].name);
		free(cf->ints[i].text);
	}
	free(cf->ints);
	free(cf->text);
	memset(cf, 0, sizeof(*cf));
}

int
config_file_read(const char *path, struct config_file *cf,
    struct strv *errors)
{
	struct cf_ctx	 ctx = { .errors = errors, .cf = cf,
	    .left = CONFIG_FILE_MAX_BYTES };

	memset(cf, 0, sizeof(*cf));
	if ((cf->text = cf_read(&ctx, NULL, path)) == NULL)
		return -1;
	cf_scan(&ctx, path, cf->text, 0);
	return ctx.failed ? -1 : 0;
}
