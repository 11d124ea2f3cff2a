/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Protocol handlers.  Each protocol is one handler_*.c file that fills in
 * a struct handler; the table in handler.c is the only list of them.  A
 * new protocol is one new file plus one line in that table.
 */
#ifndef AFFINITYD_HANDLER_H
#define AFFINITYD_HANDLER_H

#include <sys/types.h>

#include <stddef.h>

#include <event2/util.h>

#include "common/enums.h"
#include "config/config.h"

struct serve_datagram;
struct serve_listener;

struct handler {
	const char	*name;
	int		 tcp;		/* serves TCP */
	int		 udp;		/* serves UDP */
	int		 speaks_first;	/* TCP: writes before the client */
	/*
	 * TCP: takes over an accepted, non-blocking connection.  It must
	 * call serve_conn_done() exactly once when the connection is gone
	 * (serve_conn_new() and serve_conn_close() do that).
	 */
	void		(*tcp_start)(struct serve_listener *sl, evutil_socket_t fd,
			    int incoming_cpu);
	/*
	 * UDP: the reply to one datagram, written into out (outcap bytes);
	 * returns its length, or -1 for no reply.
	 */
	ssize_t		(*udp_reply)(struct serve_listener *sl,
			    const struct serve_datagram *dg, void *out,
			    size_t outcap);
	/*
	 * Optional: what the handler prepares once per TCP listener when it
	 * starts serving (kept in sl->hdata), and frees once the listener
	 * stopped and its last connection is gone; listener_start returns 0
	 * or -errno.
	 */
	int		(*listener_start)(struct serve_listener *sl);
	void		(*listener_stop)(struct serve_listener *sl);
};

/* handler.c */
const struct handler *handler_find(const char *name);

/* What config_load() asks of the handlers: the table's, by name. */
extern const struct config_handlers handler_catalogue;

/* handler_*.c */
extern const struct handler handler_echo;
extern const struct handler handler_discard;
extern const struct handler handler_info;
extern const struct handler handler_http;

#endif
