/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Accepting TCP connections on a worker's listening socket and handing
 * each to the listener's handler.
 */
#ifndef AFFINITYD_TCP_H
#define AFFINITYD_TCP_H

struct serve_listener;

/* tcp.c */
int	 tcp_serve_start(struct serve_listener *sl);
void	 tcp_serve_stop(struct serve_listener *sl);

#endif
