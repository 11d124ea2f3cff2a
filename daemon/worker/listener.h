/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets: one per configured listener in each worker, steered
 * to the worker's CPU.
 */
#ifndef AFFINITYD_LISTENER_H
#define AFFINITYD_LISTENER_H

#include <stdint.h>

#include "common/enums.h"

struct listener_conf;

/* listener.c */
int	 listener_open(const struct listener_conf *lc, int cpu,
	    enum steering steering, char **why);
int	 listener_cookie(int fd, uint64_t *cookie);
char	*listener_describe(const struct listener_conf *lc);
int	 listener_migrates(void);

#endif
