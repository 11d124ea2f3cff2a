/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master process: discovers the plan, forks and supervises one worker
 * per CPU, holds every listening socket, and answers the admin socket.
 */
#ifndef AFFINITYD_MASTER_H
#define AFFINITYD_MASTER_H

struct config;

struct master_options {
	int	 daemonize;
};

/* master.c */
int	 master_run(struct config *conf, const struct master_options *opts);

#endif
