/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serving a worker's UDP socket: datagrams in batches, each answered by
 * the listener's handler from the address it arrived on.
 */
#ifndef AFFINITYD_UDP_H
#define AFFINITYD_UDP_H

struct serve_listener;

/* udp.c */
int	 udp_serve_start(struct serve_listener *sl);
void	 udp_serve_stop(struct serve_listener *sl);

#endif
