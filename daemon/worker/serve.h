/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a protocol handler sees of the worker that runs it: the worker's
 * serving state, its listeners, and the one way a TCP connection is set
 * up and torn down.  The handlers themselves are in handler.h.
 */
#ifndef AFFINITYD_SERVE_H
#define AFFINITYD_SERVE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/util.h>

struct evbuffer;
struct event;
struct timeval;
struct event_base;
struct handler;
struct listener_conf;
struct serve_conn;
struct serve_listener;
struct stats_slot;
struct tcp_listener;

/*
 * What one connection may cost: reading pauses once this much input waits,
 * and a handler stops taking input while its output backlog is above its
 * own bound, so a peer that never reads holds a fixed amount of memory.
 * The kernel's socket buffers do the bulk of the buffering; these only
 * have to keep a request's answers whole.  Across connections the
 * worker's buffers are bounded by daemon.output_budget (serve->budget).
 */
#define SERVE_INPUT_MAX		(16 * 1024)
#define SERVE_ECHO_BACKLOG	(64 * 1024)
#define SERVE_HTTP_BACKLOG	(4 * 1024)
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
	 * Called by serve_conn_done() after the count went down, unless the
	 * worker drains: set by tcp.c, which resumes accepting once the
	 * worker is below max_connections again.
	 */
	void			(*conn_room)(struct serve *serve);
	/*
	 * Called by serve_conn_done() after conn_room: the worker's hook,
	 * which only has to end a drain.
	 */
	void			(*conn_closed)(struct serve *serve);
	void			*owner;		/* the worker */
	/*
	 * Bytes the worker's connections may hold in their buffers at once
	 * (0: no limit); past it, a connection that owes output neither
	 * reads nor takes more input until the output is written.
	 */
	size_t			 budget;

	/* Kept by serve.c and tcp.c; all-zero is the empty state. */
	/* Open TCP connections, the least recently active first. */
	TAILQ_HEAD(, serve_conn) conns;
	LIST_HEAD(, tcp_listener) tcp;		/* started TCP listeners */
	size_t			 buffered;	/* in all conns' buffers */
	size_t			 trim_mark;	/* buffered at the last trim */
	struct event		*sweep;		/* the timeouts' timer */
	unsigned int		 sweep_ms;	/* its period */
};

/* Where one datagram came from and arrived: reply from the same address. */
struct serve_datagram {
	const void		*data;
	size_t			 len;
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
};

/* One configured listener inside a worker. */
struct serve_listener {
	struct serve			*serve;
	const struct listener_conf	*conf;
	const struct handler		*handler;
	evutil_socket_t			 fd;	/* never closed by tcp.c, udp.c */
	void				*io;	/* tcp.c, udp.c state; NULL: stopped */
	void				*hdata;	/* the handler's, see listener_start */
	unsigned int			 nconns; /* its open connections */
};

/*
 * A TCP connection.  serve.c owns its I/O: one recv() into c->in when the
 * socket is readable, the handler's read hook, then one write of c->out
 * at once; the write event is armed only while the socket's send buffer
 * is full.  The handler allocates it with serve_conn_new() (usually
 * inside a larger struct of its own), reads c->in, appends to c->out, and
 * ends it with serve_conn_finish() or serve_conn_close().  Called from a
 * hook, neither frees c before the hook returns; called from anywhere
 * else, both may, so the caller returns right after.
 */
enum serve_conn_state {
	SERVE_CONN_OPEN,
	SERVE_CONN_FLUSHING,		/* closes once the output is written */
	SERVE_CONN_LINGERING,		/* output shut, input dropped until EOF */
};

struct serve_conn_ops {
	void	(*start)(struct serve_conn *c);	/* once, before any read */
	void	(*read)(struct serve_conn *c);	/* NULL: input is dropped */
	void	(*write)(struct serve_conn *c);	/* some output was written */
	void	(*eof)(struct serve_conn *c);	/* NULL: serve_conn_finish() */
	void	(*drain)(struct serve_conn *c);	/* NULL: serve until EOF */
};

struct serve_conn {
	struct serve			*serve;
	struct serve_listener		*sl;
	const struct serve_conn_ops	*ops;
	evutil_socket_t			 fd;
	struct evbuffer			*in;
	struct evbuffer			*out;
	struct event			*rev;		/* readable (persistent) */
	struct event			*wev;		/* writable: send buffer full */
	const struct timeval		*timeout;	/* reading: NULL, none */
	enum serve_conn_state		 state;
	unsigned int			 peer_eof:1;	/* the peer sent FIN */
	unsigned int			 held:1;	/* reading off: no room */
	unsigned int			 reading:1;	/* rev is added */
	unsigned int			 in_hook:1;	/* a hook runs: keep c */
	unsigned int			 closed:1;	/* close when it returns */
	unsigned int			 rx_empty:1;	/* the last recv() emptied
						   the receive queue */
	/*
	 * Set by the handler: its output holds only references to memory
	 * it keeps for all connections (evbuffer_add_reference()), which
	 * cost c nothing: only the input counts in c->buffered.
	 */
	unsigned int			 out_shared:1;
	size_t				 linger_bytes;	/* dropped while lingering */
	size_t				 buffered;	/* counted in serve */
	uint64_t			 active_ms;	/* last bytes in or out */
	uint64_t			 request_ms;	/* 0: no request begun */
	TAILQ_ENTRY(serve_conn)		 entry;
};

/* serve.c */
#define SERVE_NO_INCOMING_CPU	INT_MIN	/* info line without it (UDP) */
void	 serve_conn_start(struct serve *serve);
void	 serve_conn_done(struct serve *serve);
int	 serve_info_line(const struct serve_listener *sl, int incoming_cpu,
	    char *buf, size_t len);
void	*serve_conn_new(struct serve_listener *sl, evutil_socket_t fd,
	    size_t size, const struct serve_conn_ops *ops);
void	 serve_conn_hold(struct serve_conn *c, int hold);
void	 serve_conn_timeout(struct serve_conn *c, const struct timeval *tv);
void	 serve_conn_finish(struct serve_conn *c);
void	 serve_conn_request(struct serve_conn *c, int begun);
size_t	 serve_conn_room(const struct serve_conn *c, size_t backlog);
struct serve_conn *serve_find_idle(struct serve *serve);
void	 serve_evict(struct serve_conn *c);
void	 serve_conn_close(struct serve_conn *c);
void	 serve_drain(struct serve *serve, const struct serve_listener *sl);
void	 serve_close_all(struct serve *serve);
void	 serve_listener_release(struct serve_listener *sl);

#endif
