/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker process: pinned to one CPU, owns one socket per listener,
 * serves them from its own libevent loop.  It talks to the master only
 * through the messages of wmsg.h.
 */
#ifndef AFFINITYD_WORKER_H
#define AFFINITYD_WORKER_H

#include <sys/types.h>

struct config;
struct stats_slot;

/* What the master hands a worker; the child reads it after fork(). */
struct worker_spec {
	unsigned int		 id;
	unsigned int		 cpu;
	int			 incoming_cpu;	/* set SO_INCOMING_CPU to cpu */
	unsigned int		 generation;
	const struct config	*conf;
	struct stats_slot	*slot;
	int			 ctl_fd;	/* the worker's end */
	const int		*fds;		/* held sockets to take over, or NULL */
	const char		*user;		/* daemon.user, when drop_privileges */
	uid_t			 uid;
	gid_t			 gid;
	int			 drop_privileges;
};

/* worker.c */
int	 worker_main(const struct worker_spec *spec);
void	 worker_nofile_raise(const struct config *conf);

#endif
