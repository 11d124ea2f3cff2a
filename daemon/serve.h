/*
 * What a protocol handler sees of the worker that runs it, and the
 * interface every handler_*.c fills in.  A new protocol is one new file
 * plus one line in handler.c's table.
 */
#ifndef AFFINITYD_SERVE_H
#define AFFINITYD_SERVE_H

#include <limits.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/util.h>

#include "config.h"
#include "stats.h"

struct bufferevent;
struct event_base;
struct serve_conn;
struct serve_listener;
struct tcp_listener;

/*
 * What one connection may cost: reading pauses once this much input waits,
 * and a handler stops taking input while its output backlog is above its
 * own bound, so a peer that never reads holds a fixed amount of memory.
 */
#define SERVE_INPUT_MAX		(64 * 1024)
#define SERVE_ECHO_BACKLOG	(256 * 1024)
#define SERVE_HTTP_BACKLOG	(256 * 1024)
/* Seconds a closing connection waits for the peer's FIN (lingering close). */
#define SERVE_LINGER_SEC	2

/* The worker's state shared by all of its listeners. */
struct serve {
	struct event_base	*base;
	unsigned int		 worker_id;
	int			 cpu;		/* the CPU the worker is pinned to */
	pid_t			 pid;
	struct stats_slot	*stats;
	unsigned int		 open_conns;
	unsigned int		 max_conns;	/* 0: no limit */
	int			 draining;	/* set once the worker stops */
	/*
	 * Called by serve_conn_done() after the count went down.  Accepting
	 * is resumed by serve_conn_done() itself, not by this hook: the hook
	 * only has to end a drain.
	 */
	void			(*conn_closed)(struct serve *serve);
	void			*owner;		/* the worker */

	/* Kept by serve.c and tcp.c; all-zero is the empty state. */
	LIST_HEAD(, serve_conn)	 conns;		/* open TCP connections */
	LIST_HEAD(, tcp_listener) tcp;		/* started TCP listeners */
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
};

/* One configured listener inside a worker. */
struct serve_listener {
	struct serve			*serve;
	const struct listener_conf	*conf;
	const struct handler		*handler;
	evutil_socket_t			 fd;	/* never closed by tcp.c, udp.c */
	void				*io;	/* tcp.c, udp.c state; NULL: stopped */
};

/*
 * A TCP connection served through a bufferevent.  The handler allocates
 * it with serve_conn_new() (usually inside a larger struct of its own)
 * and ends it with serve_conn_finish() or serve_conn_close(); both may
 * free it, so the caller returns right after.
 */
enum serve_conn_state {
	SERVE_CONN_OPEN,
	SERVE_CONN_FLUSHING,		/* closes once the output is written */
	SERVE_CONN_LINGERING,		/* output shut, input dropped until EOF */
};

struct serve_conn_ops {
	void	(*read)(struct serve_conn *c);	/* NULL: input is dropped */
	void	(*write)(struct serve_conn *c);	/* output at its low mark */
	void	(*eof)(struct serve_conn *c);	/* NULL: serve_conn_finish() */
	void	(*drain)(struct serve_conn *c);	/* NULL: serve until EOF */
};

struct serve_conn {
	struct serve			*serve;
	struct serve_listener		*sl;
	struct bufferevent		*bev;
	const struct serve_conn_ops	*ops;
	enum serve_conn_state		 state;
	int				 peer_eof;	/* the peer sent FIN */
	int				 held;		/* reading off: no room */
	size_t				 linger_bytes;	/* dropped while lingering */
	LIST_ENTRY(serve_conn)		 entry;
};

/* handler.c */
const struct handler *handler_find(const char *name);

/* handler_*.c */
extern const struct handler handler_echo;
extern const struct handler handler_discard;
extern const struct handler handler_info;
extern const struct handler handler_http;

/* serve.c */
#define SERVE_NO_INCOMING_CPU	INT_MIN	/* info line without it (UDP) */
void	 serve_conn_start(struct serve *serve);
void	 serve_conn_done(struct serve *serve);
int	 serve_info_line(const struct serve_listener *sl, int incoming_cpu,
	    char *buf, size_t len);
void	*serve_conn_new(struct serve_listener *sl, evutil_socket_t fd,
	    size_t size, const struct serve_conn_ops *ops);
void	 serve_conn_hold(struct serve_conn *c, int hold);
void	 serve_conn_finish(struct serve_conn *c);
void	 serve_conn_close(struct serve_conn *c);
void	 serve_drain(struct serve *serve, const struct serve_listener *sl);
void	 serve_close_all(struct serve *serve);

/* tcp.c (the rest of its interface is in listener.h) */
void	 tcp_serve_update(struct serve *serve);

#endif
