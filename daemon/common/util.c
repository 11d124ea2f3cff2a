/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * String vectors, bounded file reads and a few conversions.  Reads report
 * -errno and log nothing: the caller knows whether a missing file is an
 * error or a hint.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

int
strv_add(struct strv *sv, const char *s)
{
	char	**grown, *copy;
	size_t	  cap;

	if (sv->n + 1 >= sv->cap) {
		cap = sv->cap ? sv->cap * 2 : 8;
		if ((grown = realloc(sv->v, cap * sizeof(*grown))) == NULL)
			return -ENOMEM;
		sv->v = grown;
		sv->cap = cap;
	}
	if ((copy = strdup(s)) == NULL)
		return -ENOMEM;
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

int
strv_vaddf(struct strv *sv, const char *fmt, va_list ap)
{
	char	*s;
	int	 r;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	r = strv_add(sv, s);
	free(s);
	return r;
}

int
strv_addf(struct strv *sv, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = strv_vaddf(sv, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * A finding as the daemon logs it and the doctor words it: "WHY; fix:
 * FIX", or WHY alone when there is no fix.
 */
int
strv_add_why_fix(struct strv *sv, const char *why, const char *fix)
{
	return strv_addf(sv, "%s%s%s", why, fix ? "; fix: " : "",
	    fix ? fix : "");
}

int
strv_contains(const struct strv *sv, const char *s)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void
strv_free(struct strv *sv)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* The length of the valid UTF-8 character at s, 0 when it is none. */
static size_t
utf8_char_len(const unsigned char *s)
{
	unsigned int	 cp, min;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Whether the character of n bytes at u is written as \xNN: a byte of no
 * valid character, or a control character, C0, DEL or C1 (U+0080 to
 * U+009F, which some terminals take as ESC [ and the like), unless it is
 * one of the bytes in keep.
 */
static int
str_escaped(const unsigned char *u, size_t n, const char *keep)
{
	if (n == 0)
		return 1;
	if (n == 2)
		return u[0] == 0xc2 && u[1] < 0xa0;
	if (n > 1)
		return 0;
	if (*u >= 0x20 && *u != 0x7f)
		return 0;
	return strchr(keep, *u) == NULL;
}

/* s with each character that str_escaped() names written as \xNN. */
static char *
str_printable_keep(const char *s, const char *keep)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *o;
	size_t			 n, i;

	if ((out = malloc(strlen(s) * 4 + 1)) == NULL)
		return NULL;
	for (o = out; *u != '\0'; u += n) {
		n = utf8_char_len(u);
		if (str_escaped(u, n, keep)) {
			for (i = 0; i < (n > 0 ? n : 1); i++)
				o += sprintf(o, "\\x%02x", u[i]);
			n = n > 0 ? n : 1;
		} else {
			memcpy(o, u, n);
			o += n;
		}
	}
	*o = '\0';
	return out;
}

/*
 * A copy of s that any reader can take, a log line as well as a JSON
 * string: valid UTF-8 is kept, and each byte that is no part of a valid
 * character, or is a control character, is written as \xNN.
 */
char *
str_printable(const char *s)
{
	return str_printable_keep(s, "");
}

/*
 * The same for text of several lines that a terminal shows: newlines and
 * tabs stay, so no byte can move the cursor elsewhere or send the
 * terminal a command (ESC, CSI).
 */
char *
str_printable_text(const char *s)
{
	return str_printable_keep(s, "\n\t");
}

/* Makes the strings of sv from index from on printable (str_printable). */
int
strv_printable(struct strv *sv, size_t from)
{
	char	*clean;
	size_t	 i;

	for (i = from; i < sv->n; i++) {
		if ((clean = str_printable(sv->v[i])) == NULL)
			return -ENOMEM;
		free(sv->v[i]);
		sv->v[i] = clean;
	}
	return 0;
}

/*
 * Joins a root prefix and a path relative to it.  A NULL or "/" root gives
 * the absolute path unchanged.
 */
char *
sysroot_path(const char *sysroot, const char *fmt, ...)
{
	va_list	 ap;
	char	*rel, *path;
	size_t	 rootlen;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	if (sysroot == NULL || strcmp(sysroot, "/") == 0)
		sysroot = "";
	rootlen = strlen(sysroot);
	while (rootlen > 0 && sysroot[rootlen - 1] == '/')
		rootlen--;
	r = asprintf(&path, "%.*s/%s", (int)rootlen, sysroot,
	    rel[0] == '/' ? rel + 1 : rel);
	free(rel);
	return r < 0 ? NULL : path;
}

/*
 * Reads what is left of fd, at most max_bytes, into a NUL-terminated
 * buffer; *len (may be NULL) gets its length.  Files under /proc and /sys
 * report no size, so it reads until EOF.  -EFBIG when there is more.
 */
static int
read_fd(int fd, char **text, size_t *lenp, size_t max_bytes)
{
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0;
	ssize_t	 got;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > max_bytes) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*text = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

/*
 * The one way a file is read: opened without blocking (a FIFO opens at
 * once and a terminal is not taken), checked on that descriptor to be a
 * regular file, so that a name swapped to a FIFO or a device in between
 * is never read, then read whole, at most max_bytes (-EFBIG past that).
 * *lenp and *stp (each may be NULL) get the length and what fstat() saw;
 * -EISDIR for a directory, as read() would say, and -READ_NOT_REGULAR
 * for anything else that is not a regular file.
 */
int
read_regular_file(const char *path, char **text, size_t *lenp,
    size_t max_bytes, struct stat *stp)
{
	struct stat	 st;
	int		 fd, r;

	if (stp == NULL)
		stp = &st;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, stp) == -1)
		r = -errno;
	else if (S_ISDIR(stp->st_mode))
		r = -EISDIR;
	else if (!S_ISREG(stp->st_mode))
		r = -READ_NOT_REGULAR;
	else if (stp->st_size > 0 && (uintmax_t)stp->st_size > max_bytes)
		r = -EFBIG;
	else
		r = read_fd(fd, text, lenp, max_bytes);
	close(fd);
	return r;
}

/* What kind of file mode is, for "is a FIFO, not a regular file". */
static const char *
file_kind(mode_t mode)
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
 * Why read_regular_file() gave r, as a message: its kind when it was not
 * a regular file (with st, else "not a regular file"), else strerror().
 */
const char *
read_file_error(int r, const struct stat *st)
{
	static char	 buf[64];

	if (r == -EISDIR && st != NULL && S_ISDIR(st->st_mode))
		r = -READ_NOT_REGULAR;
	if (r != -READ_NOT_REGULAR)
		return strerror(-r);
	if (st == NULL)
		return "not a regular file";
	snprintf(buf, sizeof(buf), "is %s, not a regular file",
	    file_kind(st->st_mode));
	return buf;
}

/* Reads a whole regular file of at most max_bytes, NUL-terminated. */
int
read_file(const char *path, char **text, size_t max_bytes)
{
	return read_regular_file(path, text, NULL, max_bytes, NULL);
}

/* Reads a small file's first line without its newline or trailing blanks. */
int
read_file_line(const char *path, char **line)
{
	char	*text;
	size_t	 len;
	int	 r;

	if ((r = read_file(path, &text, 65536)) < 0)
		return r;
	len = strcspn(text, "\n");
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
	    text[len - 1] == '\r'))
		len--;
	text[len] = '\0';
	*line = text;
	return 0;
}

/* Parses a whole decimal number no larger than max. */
int
parse_uint(const char *text, unsigned int max, unsigned int *value)
{
	unsigned long	 v;
	char		*end;

	if (text == NULL || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*value = (unsigned int)v;
	return 0;
}

/*
 * A configured number of seconds as libevent takes it: negative (or NaN)
 * is 0, and more than INT_MAX is INT_MAX.
 */
struct timeval
seconds_timeval(double seconds)
{
	struct timeval	 tv;

	if (!(seconds > 0))
		seconds = 0;
	if (seconds > INT_MAX)
		seconds = INT_MAX;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return tv;
}
