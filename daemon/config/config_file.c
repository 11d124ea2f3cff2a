/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration's files, each read once, and the one text libconfig
 * parses.  libconfig 1.5 opens every @include by name with fopen(): a
 * name swapped between the check and that open could lead it to a FIFO
 * (where it blocks for good) or to other bytes than those checked, and it
 * has no hook to refuse a file.  So each file is opened here without
 * blocking, must be a regular file, is read within one budget for all of
 * them, and its @include lines are replaced by the text of the files they
 * name; libconfig gets that text as a string with no @include left, and a
 * line map gives back the file and line of each of its lines.  The same
 * text is scanned for the integers libconfig would cut to 32 bits.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"
#include "common/util.h"

/*
 * The directory a relative path is taken from (config_file_set_dir()), or
 * NULL for the working directory.
 */
static char	*cf_dir;

/* One configuration being read: where problems go and what is left. */
struct cf_ctx {
	struct strv		*errors;	/* may be NULL */
	struct config_file	*cf;		/* the text being built */
	size_t			 cap;		/* of cf->text */
	unsigned int		 out_line;	/* the line cf->text is at */
	size_t			 left;		/* what the budget allows */
	unsigned int		 settings;	/* how many were named */
	int			 failed;
	int			 over;		/* stop: budget or memory */
};

/* A file being included, and the files that include it: no cycles. */
struct cf_chain {
	dev_t			 dev;
	ino_t			 ino;
	const struct cf_chain	*up;
};

/*
 * One text being scanned: a file, whose @include lines are expanded into
 * cf->text, or cf->text itself, whose settings and integers are noted.
 */
struct cf_scan {
	struct cf_ctx		*ctx;
	const char		*path;		/* NULL: cf->text */
	size_t			 file;		/* path's index in cf->files */
	const char		*copied;	/* copied to cf->text up to */
	const struct cf_chain	*chain;
	unsigned int		 depth;		/* how many files deep it is */
	unsigned int		 line;
	const char		*unclosed;	/* "a string" it ends inside */
	const char		*name;
	size_t			 namelen;
	unsigned int		 name_line;
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
static void	 cf_fail_text(struct cf_scan *, unsigned int, const char *,
		    ...) PRINTFLIKE(3, 4);
static void	 cf_expand(struct cf_ctx *, const struct cf_from *,
		    const char *, unsigned int, const struct cf_chain *);
static void	 cf_scan(struct cf_scan *, const char *);

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

/* Reports a problem at line of the text scanned, as its file's line. */
static void
cf_fail_text(struct cf_scan *sc, unsigned int line, const char *fmt, ...)
{
	va_list		 ap;
	const char	*file = sc->path;
	char		*why;

	if (file == NULL)
		file = config_file_where(sc->ctx->cf, line, &line);
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = NULL;
	va_end(ap);
	cf_fail_at(sc->ctx, file ? file : "?", line, "%s",
	    why ? why : strerror(ENOMEM));
	free(why);
}

static void
cf_nomem(struct cf_ctx *ctx, const char *path)
{
	cf_fail(ctx, NULL, path, "%s", strerror(ENOMEM));
	ctx->over = 1;
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

/*
 * Reads path, once, within the budget: read_regular_file() opens it
 * without blocking and refuses what is not a regular file.  A NUL byte
 * is refused, as text has none.  Symbolic links are followed: linking a
 * configuration into place is common, and what counts is what was read.
 */
static char *
cf_read(struct cf_ctx *ctx, const struct cf_from *from, const char *path,
    struct stat *st)
{
	const char	*nul;
	char		*text;
	size_t		 len;
	int		 r;

	r = read_regular_file(path, &text, &len, ctx->left, st);
	if (r == -EFBIG) {
		ctx->over = 1;
		cf_fail(ctx, from, path, "the configuration, its @include "
		    "files counted in, is larger than %d bytes (1 MiB)",
		    CONFIG_FILE_MAX_BYTES);
		return NULL;
	}
	if (r < 0) {
		cf_fail(ctx, from, path, "%s", read_file_error(r, st));
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

/* Appends len bytes of p to the text libconfig reads. */
static void
cf_emit(struct cf_ctx *ctx, const char *p, size_t len)
{
	struct config_file	*cf = ctx->cf;
	char			*grown;
	size_t			 i, cap;

	if (ctx->over)
		return;
	if (cf->len + len + 1 > ctx->cap) {
		cap = ctx->cap ? ctx->cap : 4096;
		while (cap < cf->len + len + 1)
			cap *= 2;
		if ((grown = realloc(cf->text, cap)) == NULL) {
			cf_nomem(ctx, "configuration");
			return;
		}
		cf->text = grown;
		ctx->cap = cap;
	}
	memcpy(cf->text + cf->len, p, len);
	cf->len += len;
	cf->text[cf->len] = '\0';
	for (i = 0; i < len; i++)
		ctx->out_line += p[i] == '\n';
}

/* Ends the text's last line, so that what comes next starts one. */
static void
cf_end_line(struct cf_ctx *ctx)
{
	struct config_file	*cf = ctx->cf;

	if (cf->len > 0 && cf->text[cf->len - 1] != '\n')
		cf_emit(ctx, "\n", 1);
}

/* Notes that the text's next line is line of file number file. */
static void
cf_map(struct cf_ctx *ctx, size_t file, unsigned int line)
{
	struct config_file	*cf = ctx->cf;
	struct config_file_line	*grown, *m;

	if (ctx->over)
		return;
	if (cf->nmap > 0 && cf->map[cf->nmap - 1].line == ctx->out_line)
		m = &cf->map[cf->nmap - 1];	/* an empty file's */
	else {
		grown = reallocarray(cf->map, cf->nmap + 1, sizeof(*cf->map));
		if (grown == NULL) {
			cf_nomem(ctx, "configuration");
			return;
		}
		cf->map = grown;
		m = &cf->map[cf->nmap++];
	}
	m->line = ctx->out_line;
	m->file = file;
	m->file_line = line;
}

/* Keeps a copy of path for the line map; its index, or -1. */
static int
cf_add_file(struct cf_ctx *ctx, const char *path, size_t *index)
{
	struct config_file	*cf = ctx->cf;
	char			**grown;

	grown = reallocarray(cf->files, cf->nfiles + 1, sizeof(*cf->files));
	if (grown == NULL) {
		cf_nomem(ctx, path);
		return -1;
	}
	cf->files = grown;
	if ((cf->files[cf->nfiles] = strdup(path)) == NULL) {
		cf_nomem(ctx, path);
		return -1;
	}
	*index = cf->nfiles++;
	return 0;
}

/*
 * Past the opening quote of an @include whose line starts at start:
 * reads the name as libconfig does (\\ and \" stand for \ and ", another
 * backslash is dropped), puts that file's text in place of the line up
 * to the closing quote, and returns where the scan goes on.
 */
static const char *
cf_include(struct cf_scan *sc, const char *start, const char *p)
{
	struct cf_from	 from = { sc->path, sc->line };
	struct cf_ctx	*ctx = sc->ctx;
	const char	*rest;
	char		*name;
	size_t		 n = 0;

	if ((name = malloc(strlen(p) + 1)) == NULL) {
		cf_nomem(ctx, sc->path);
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
	if (*p != '"') {
		cf_fail_at(ctx, sc->path, from.line, "@include: the file name "
		    "has no closing quote");
		free(name);
		return p;
	}
	cf_emit(ctx, sc->copied, (size_t)(start - sc->copied));
	if (sc->depth >= CONFIG_FILE_MAX_DEPTH)
		cf_fail(ctx, &from, name, "nests more than %d files deep",
		    CONFIG_FILE_MAX_DEPTH);
	else
		cf_expand(ctx, &from, name, sc->depth + 1, sc->chain);
	free(name);
	/* The rest of the line goes on a line of its own. */
	sc->copied = ++p;
	cf_end_line(ctx);
	cf_map(ctx, sc->file, sc->line);
	rest = p + strspn(p, " \t");
	if (strncmp(rest, "@include", 8) == 0)
		cf_fail_at(ctx, sc->path, sc->line, "one @include per line");
	return p;
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
	if (*p == '"')
		return p + 1;
	sc->unclosed = "a string";
	return p;
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
	sc->unclosed = "a comment";
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
	if (sc->path == NULL && (*q == '=' || *q == ':') &&
	    ++sc->ctx->settings > CONFIG_FILE_MAX_SETTINGS) {
		cf_fail_text(sc, sc->line, "more than %d settings in the "
		    "configuration, its @include files counted in",
		    CONFIG_FILE_MAX_SETTINGS);
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
	if ((i->name = strndup(sc->name ? sc->name : "", sc->namelen)) ==
	    NULL || (i->text = strndup(p, len)) == NULL) {
		free(i->name);
		goto nomem;
	}
	cf->nints++;
	return;
nomem:
	cf_nomem(sc->ctx, "configuration");
}

/*
 * Past a number as libconfig's scanner reads it: a float, a hexadecimal
 * or decimal integer, an "L" suffix making it 64 bits.  Without one,
 * libconfig 1.5 keeps 32 bits of an integer and drops the rest; such a
 * number in the text libconfig reads is noted, as is one too large for
 * 64 bits.
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
	if (sc->path != NULL)
		return q + (*q == 'L') + (*q == 'L' && q[1] == 'L');
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
 * Scans text as libconfig's scanner would: an @include counts at the
 * start of a line, never inside a comment or a string.  A file's are
 * expanded into cf->text; the settings and too big integers of cf->text
 * itself are noted, and an @include there would be a bug.
 */
static void
cf_scan(struct cf_scan *sc, const char *text)
{
	const char	*p = text, *q;

	while (*p != '\0' && !sc->ctx->over) {
		if ((p == text || p[-1] == '\n') &&
		    (q = cf_include_open(p)) != NULL) {
			if (sc->path != NULL)
				p = cf_include(sc, p, q);
			else {
				cf_fail_text(sc, sc->line, "@include left in "
				    "the text for libconfig");
				return;
			}
		} else if (*p == '"')
			p = cf_skip_string(sc, p + 1);
		else if (p[0] == '/' && p[1] == '*')
			p = cf_skip_comment(sc, p + 2);
		else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
			p += strcspn(p, "\n");
		else if (isalpha((unsigned char)*p) || *p == '*')
			p = cf_name(sc, p);
		else if (isdigit((unsigned char)*p) || *p == '.' ||
		    ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))
			p = cf_number(sc, p);
		else
			sc->line += *p++ == '\n';
	}
}

/* Whether the file st is already being read by one that includes it. */
static int
cf_in_chain(const struct cf_chain *chain, const struct stat *st)
{
	for (; chain != NULL; chain = chain->up)
		if (chain->dev == st->st_dev && chain->ino == st->st_ino)
			return 1;
	return 0;
}

/*
 * Reads path, named from an @include (from NULL: the main file), and
 * appends its text to cf->text with each @include line in it expanded.
 */
static void
cf_expand(struct cf_ctx *ctx, const struct cf_from *from, const char *path,
    unsigned int depth, const struct cf_chain *up)
{
	struct cf_scan	 sc = { .ctx = ctx, .depth = depth, .line = 1 };
	struct cf_chain	 chain = { .up = up };
	struct stat	 st;
	char		*text, *resolved = NULL;

	if (path[0] != '/' && cf_dir != NULL) {
		if (asprintf(&resolved, "%s/%s", cf_dir, path) == -1) {
			cf_nomem(ctx, path);
			return;
		}
		path = resolved;
	}
	sc.path = path;
	if ((text = cf_read(ctx, from, path, &st)) == NULL) {
		free(resolved);
		return;
	}
	if (cf_in_chain(up, &st)) {
		cf_fail(ctx, from, path, "includes itself, through the files "
		    "that include it");
		goto done;
	}
	chain.dev = st.st_dev;
	chain.ino = st.st_ino;
	sc.chain = &chain;
	sc.copied = text;
	if (cf_add_file(ctx, path, &sc.file) < 0)
		goto done;
	cf_end_line(ctx);
	cf_map(ctx, sc.file, 1);
	cf_scan(&sc, text);
	cf_emit(ctx, sc.copied, strlen(sc.copied));
	/* libconfig ends a string or comment with its file; one text not. */
	if (from != NULL && sc.unclosed != NULL && !ctx->over)
		cf_fail(ctx, from, path, "ends inside %s", sc.unclosed);
done:
	free(text);
	free(resolved);
}

int
config_file_set_dir(const char *dir)
{
	char	*copy = NULL;

	if (dir != NULL && (copy = strdup(dir)) == NULL)
		return -ENOMEM;
	free(cf_dir);
	cf_dir = copy;
	return 0;
}

const char *
config_file_where(const struct config_file *cf, unsigned int line,
    unsigned int *file_line)
{
	const struct config_file_line	*m;
	size_t				 lo = 0, hi = cf->nmap, mid;

	/* The last entry that starts at or before line. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cf->map[mid].line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || line == 0) {
		*file_line = line;
		return cf->nfiles > 0 ? cf->files[0] : NULL;
	}
	m = &cf->map[lo - 1];
	*file_line = m->file_line + (line - m->line);
	return cf->files[m->file];
}

void
config_file_free(struct config_file *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nints; i++) {
		free(cf->ints[i].name);
		free(cf->ints[i].text);
	}
	free(cf->ints);
	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	free(cf->map);
	free(cf->text);
	memset(cf, 0, sizeof(*cf));
}

int
config_file_read(const char *path, struct config_file *cf,
    struct strv *errors)
{
	struct cf_ctx	 ctx = { .errors = errors, .cf = cf, .out_line = 1,
	    .left = CONFIG_FILE_MAX_BYTES };
	struct cf_scan	 sc = { .ctx = &ctx, .line = 1 };

	memset(cf, 0, sizeof(*cf));
	cf_expand(&ctx, NULL, path, 0, NULL);
	if (ctx.failed)
		return -1;
	if (cf->text == NULL)
		cf_emit(&ctx, "", 0);	/* an empty file */
	cf_scan(&sc, cf->text);
	return ctx.failed ? -1 : 0;
}
