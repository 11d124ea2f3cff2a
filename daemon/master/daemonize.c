/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Detaching: fork, a new session, stdio on /dev/null, logs to syslog and a
 * pid file.  The parent waits on a pipe for one status byte, sent once the
 * first generation of workers serves (0) or failed (its exit code).
 */
#include "acconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "master/daemonize.h"
#include "common/log.h"
#include "common/util.h"

static int	 daemonize_fd = -1;
static char	*daemonize_pid_file;
static int	 daemonize_pid_written;

static int __attribute__((noreturn))
daemonize_parent(int fd)
{
	unsigned char	 status;
	ssize_t		 got;

	do
		got = read(fd, &status, 1);
	while (got == -1 && errno == EINTR);
	_exit(got == 1 ? status : EXIT_SOFTWARE);
}

/* Writes all of text to fd; 0 or -errno. */
static int
daemonize_write_all(int fd, const char *text, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, text, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes the pid file atomically: a new file beside it (O_EXCL, so never
 * through a link someone planted), flushed to disk, then renamed over the
 * path, which replaces a symlink there instead of following it.  A full
 * file system fails here instead of leaving an empty pid file.
 */
static int
daemonize_write_pid(const char *path)
{
	char	 text[32], *tmp, *slash;
	int	 fd, n, r;

	slash = strrchr(path, '/');
	if (asprintf(&tmp, "%.*s.%s.XXXXXX", slash ? (int)(slash - path + 1) :
	    0, path, slash ? slash + 1 : path) == -1) {
		log_errorx("pid file %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = -errno;
		log_errorx("pid file %s: create %s: %s", path, tmp,
		    strerror(-r));
		free(tmp);
		return r;
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if ((r = fchmod(fd, 0644) == -1 ? -errno : 0) == 0 &&
	    (r = daemonize_write_all(fd, text, (size_t)n)) == 0)
		r = fsync(fd) == -1 ? -errno : 0;
	if (close(fd) == -1 && r == 0)
		r = -errno;
	if (r < 0)
		log_errorx("pid file %s: write %s: %s", path, tmp,
		    strerror(-r));
	else if (rename(tmp, path) == -1) {
		r = -errno;
		log_errorx("pid file %s: rename %s: %s", path, tmp,
		    strerror(-r));
	}
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int
daemonize_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		close(fd);
		return -1;
	}
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/* Returns 0 in the daemon; the parent never returns. */
int
daemonize_start(const char *pid_file)
{
	int	 p[2];
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("daemonize: pipe");
		return EXIT_OSERR;
	}
	if ((pid = fork()) == -1) {
		log_warn("daemonize: fork");
		return EXIT_OSERR;
	}
	if (pid > 0) {
		close(p[1]);
		daemonize_parent(p[0]);
	}
	close(p[0]);
	daemonize_fd = p[1];
	if (setsid() == -1 || chdir("/") == -1) {
		log_warn("daemonize: setsid");
		return EXIT_OSERR;
	}
	/* Written once ready: a second instance must not overwrite it. */
	if (pid_file != NULL && (daemonize_pid_file = strdup(pid_file)) == NULL)
		return EXIT_OSERR;
	log_syslog();
	if (daemonize_stdio() == -1) {
		log_warn("daemonize: /dev/null");
		return EXIT_OSERR;
	}
	return 0;
}

/*
 * Tells the waiting parent how the start went; later calls do nothing.
 * A ready daemon first writes its pid file: when that fails the parent
 * exits 73 (EX_CANTCREAT) and this returns -1, for the caller to stop.
 */
int
daemonize_ready(int status)
{
	unsigned char	 byte;
	int		 r = 0;

	if (daemonize_fd == -1)
		return 0;
	if (status == 0 && daemonize_pid_file != NULL) {
		if ((r = daemonize_write_pid(daemonize_pid_file)) == 0)
			daemonize_pid_written = 1;
		else
			status = EXIT_CANTCREAT;
	}
	byte = (unsigned char)status;
	if (write(daemonize_fd, &byte, 1) != 1)
		log_warn("daemonize: telling the parent");
	close(daemonize_fd);
	daemonize_fd = -1;
	return r < 0 ? -1 : 0;
}

void
daemonize_cleanup(void)
{
	if (daemonize_pid_file != NULL) {
		if (daemonize_pid_written)
			unlink(daemonize_pid_file);
		free(daemonize_pid_file);
		daemonize_pid_file = NULL;
	}
}
