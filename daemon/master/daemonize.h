/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Detaching for SysV init (--daemon): the parent exits only once the
 * daemon is ready, with the daemon's start-up exit code, so init scripts
 * see a failed start.
 */
#ifndef AFFINITYD_DAEMONIZE_H
#define AFFINITYD_DAEMONIZE_H

/*
 * daemonize.c: daemonize_ready(0) writes the pid file, atomically and
 * never through a symlink; it returns -1 when that failed (the parent
 * then exits EXIT_CANTCREAT) and the daemon must stop.
 */
int	 daemonize_start(const char *pid_file);
int	 daemonize_ready(int status);
void	 daemonize_cleanup(void);

#endif
