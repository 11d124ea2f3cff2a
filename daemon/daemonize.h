/*
 * Detaching for SysV init (--daemon): the parent exits only once the
 * daemon is ready, with the daemon's start-up exit code, so init scripts
 * see a failed start.
 */
#ifndef AFFINITYD_DAEMONIZE_H
#define AFFINITYD_DAEMONIZE_H

/* daemonize.c */
int	 daemonize_start(const char *pid_file);
void	 daemonize_ready(int status);
void	 daemonize_cleanup(void);

#endif
