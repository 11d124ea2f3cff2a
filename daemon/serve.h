/*
 * What a protocol handler sees of the worker that runs it, and the
 * interface every handler_*.c fills in.  A new protocol is one new file
 * plus one line in handler.c's table.
 */
#ifndef AFFINITYD_SERVE_H
#define AFFINITYD_SERVE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/util.h>

#include "config.h"
#include "stats.h"

struct event_base;
struct serve_listener;

/* The worker's state shared by all of its listeners. */
struct serve {
	struct event_base	*base;
	unsigned int		 worker_id;
	int			 cpu;		/* the CPU the worker is pinned to */
	pid_t			 pid;
	struct stats_slot	*stats;
	unsigned int		 open_conns;
	unsigned int		 max_conns;
	int			 draining;	/* set once the worker stops */
	/* Called by serve_conn_done(); resumes accepting, ends a drain. */
	void			(*conn_closed)(struct serve *serve);
	void			*owner;		/* the worker */
};

/* Where one datagram came from and arrived: reply from the same address. */
struct serve_datagram {
	const void		*data;
	size_t			 len;
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
};

struct handler {
	const char	*name;
	int		 tcp;		/* serves TCP */
	int		 udp;		/* serves UDP */
	/*
	 * TCP: takes over an accepted, non-blocking connection.  It must
	 * call serve_conn_done() exactly once when the connection is gone.
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
};

/* One configured listener inside a worker. */
struct serve_listener {
	struct serve			*serve;
	const struct listener_conf	*conf;
	const struct handler		*handler;
	evutil_socket_t			 fd;
	void				*io;	/* evconnlistener or event */
};

/* handler.c */
const struct handler *handler_find(const char *name);

/* serve.c */
void	 serve_conn_start(struct serve *serve);
void	 serve_conn_done(struct serve *serve);
int	 serve_info_line(const struct serve *serve, int incoming_cpu,
	    char *buf, size_t len);

#endif
