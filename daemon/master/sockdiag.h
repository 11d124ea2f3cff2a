/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Who else listens on a listener's port: sock_diag lists the sockets on
 * it, and those that are not ours (by SO_COOKIE) are counted.
 */
#ifndef AFFINITYD_SOCKDIAG_H
#define AFFINITYD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

struct listener_conf;

/* sockdiag.c */
int	 sockdiag_foreign(const struct listener_conf *lc,
	    const uint64_t *cookies, size_t ncookies, unsigned int *nforeign);

#endif
