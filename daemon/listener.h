/*
 * Listening sockets: one per configured listener in each worker, steered
 * to the worker's CPU, and the check that nobody else shares the port.
 */
#ifndef AFFINITYD_LISTENER_H
#define AFFINITYD_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* listener.c */
int	 listener_open(const struct listener_conf *lc, int cpu,
	    enum steering steering, char **why);
int	 listener_cookie(int fd, uint64_t *cookie);
char	*listener_describe(const struct listener_conf *lc);

/* sockdiag.c */
int	 sockdiag_foreign(const struct listener_conf *lc,
	    const uint64_t *cookies, size_t ncookies, unsigned int *nforeign);

/* tcp.c, udp.c: serve a listener's socket from the worker's loop. */
struct serve_listener;
int	 tcp_serve_start(struct serve_listener *sl);
void	 tcp_serve_stop(struct serve_listener *sl);
int	 udp_serve_start(struct serve_listener *sl);
void	 udp_serve_stop(struct serve_listener *sl);

#endif
