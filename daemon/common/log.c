/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging to stderr with the process role in every line, and the severity
 * of a warning or an error.  Under systemd the journal reads a "<N>" prefix
 * as the priority (sd-daemon(3)), so it is written instead when stderr is
 * the journal's stream: JOURNAL_STREAM names its device and inode, which
 * must be stderr's (a child whose stderr went elsewhere inherits the
 * variable too).
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"

static enum log_level	 log_max = LOG_LEVEL_INFO;
static int		 log_journal;
static int		 log_to_syslog;
static char		 log_role[32] = "affinityd";

/* libevent's own messages go through the same vocabulary. */
static void
log_libevent(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warnx("libevent: %s", msg);
		break;
	default:
		log_errorx("libevent: %s", msg);
		break;
	}
}

/* Whether stderr is the stream JOURNAL_STREAM ("DEVICE:INODE") names. */
static int
log_stderr_is_journal(void)
{
	const char		*stream = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;
	int			 end = 0;

	if (stream == NULL ||
	    sscanf(stream, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    stream[end] != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level)
{
	log_max = level;
	log_journal = log_stderr_is_journal();
	event_set_log_callback(log_libevent);
}

void
log_setlevel(enum log_level level)
{
	log_max = level;
}

/* Detached (--daemon): stderr goes nowhere, so lines go to syslog. */
void
log_syslog(void)
{
	openlog("affinityd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = 1;
}

void
log_procinit(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

static const struct {
	const char	*name;
	enum log_level	 level;
} log_levels[] = {
	{ "error", LOG_LEVEL_ERROR },
	{ "warning", LOG_LEVEL_WARNING },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
};

int
log_level_parse(const char *text, enum log_level *level)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcasecmp(text, log_levels[i].name) == 0) {
			*level = log_levels[i].level;
			return 0;
		}
	}
	return -1;
}

/* What a plain line says of its severity: the journal has the priority. */
static const char *
log_severity(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error: ";
	case LOG_LEVEL_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/*
 * LINE as it may be written.  What a line quotes (interface names, file
 * contents, a peer's words) may hold ESC or other control bytes, which
 * would reach a terminal or a journal reader as commands: they are
 * written as \xNN in *clean, to be freed, or replaced by '?' in LINE when
 * there is no memory for that.
 */
static const char *
log_printable(char *line, char **clean)
{
	char	*p;

	if ((*clean = str_printable_text(line)) != NULL)
		return *clean;
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
			*p = '?';
	return line;
}

/* The one place a line is written. */
static void
log_write(enum log_level level, char *line)
{
	const char	*text;
	char		*clean;

	text = log_printable(line, &clean);
	if (log_to_syslog)
		syslog((int)level, "%s: %s", log_role, text);
	else if (log_journal)
		fprintf(stderr, "<%d>%s: %s\n", (int)level, log_role, text);
	else
		fprintf(stderr, "%s: %s%s\n", log_role, log_severity(level),
		    text);
	free(clean);
}

static void
log_vlog(enum log_level level, const char *fmt, va_list ap)
{
	char	 line[2048];
	int	 saved_errno = errno;

	if (level > log_max)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_write(level, line);
	errno = saved_errno;
}

static void
log_with_errno(enum log_level level, const char *fmt, va_list ap)
{
	char	 msg[1536], line[2048];
	int	 saved_errno = errno;

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s: %s", msg, strerror(saved_errno));
	log_write(level, line);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_with_errno(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_errorx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

/*
 * A command's error for its user, as written: no role, since the command
 * names itself, but with the error priority when stderr is the journal, so
 * that a refused "systemctl reload" or a failed start is logged as one.
 */
void
log_cmd_error(const char *fmt, ...)
{
	va_list	 ap;
	char	 line[2048], *clean;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_journal)
		fprintf(stderr, "<%d>", (int)LOG_LEVEL_ERROR);
	fprintf(stderr, "%s\n", log_printable(line, &clean));
	free(clean);
	errno = saved_errno;
}
