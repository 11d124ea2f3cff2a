/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Accepting TCP connections on a worker's listening socket: counts each
 * one and whether it arrived on the worker's CPU, keeps the worker under
 * max_connections (giving up its least recently active idle connection
 * for a new one when it is full, and likewise when it runs out of file
 * descriptors), backs off when out of descriptors with no idle connection
 * to give up instead of spinning, and hands the socket to the listener's
 * handler.  A wakeup accepts at most TCP_ACCEPT_BATCH connections, each
 * with accept4() and one getsockopt(SO_INCOMING_CPU), and nothing else.
 * With defer_accept
 * the kernel queues a connection only once its first data arrived
 * (TCP_DEFER_ACCEPT), which spares a wakeup per connection.
 *
 * The listening socket belongs to whoever opened it: tcp.c never closes
 * it.  The master keeps a duplicate anyway, so closing the worker's copy
 * on a graceful stop would not take the socket out of the port group;
 * the opener closes it when it is done with it.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "worker/handler.h"
#include "common/log.h"
#include "worker/serve.h"
#include "common/stats.h"
#include "worker/tcp.h"

#define TCP_BACKOFF_MSEC	100
#define TCP_WARN_INTERVAL_SEC	10
/*
 * Connections accepted per wakeup at most: the listening socket stays
 * readable while more wait, so the loop turns to the connections already
 * open before it accepts the rest (level-triggered events).
 */
#define TCP_ACCEPT_BATCH	16
/*
 * defer_accept: seconds the kernel holds a connection whose client has
 * sent nothing yet, as nginx's "deferred" does; then it is accepted anyway.
 */
#define TCP_DEFER_ACCEPT_SEC	1

struct tcp_listener {
	struct serve_listener		*sl;
	struct event			*ev;		/* listening socket readable */
	struct event			*backoff;	/* pending: paused */
	int				 enabled;
	time_t				 warned;	/* last warning */
	LIST_ENTRY(tcp_listener)	 entry;
};

/*
 * Accepts exactly when the worker is under its limit, or at it with an
 * idle connection to give up for the new one, and not backing off.
 */
static void
tcp_listener_update(struct tcp_listener *tl)
{
	struct serve	*serve = tl->sl->serve;
	int		 want, r;

	want = !evtimer_pending(tl->backoff, NULL) &&
	    (serve->max_conns == 0 || serve->open_conns < serve->max_conns ||
	    serve_find_idle(serve) != NULL);
	if (want == tl->enabled)
		return;
	r = want ? event_add(tl->ev, NULL) : event_del(tl->ev);
	if (r == -1) {
		STATS_ADD(serve->stats, errors, 1);
		return;
	}
	tl->enabled = want;
}

/*
 * Pauses or resumes every listener of the worker after its count changed;
 * serve_conn_done() calls it through serve->conn_room.
 */
static void
tcp_serve_update(struct serve *serve)
{
	struct tcp_listener	*tl;

	LIST_FOREACH(tl, &serve->tcp, entry)
		tcp_listener_update(tl);
}

/* Counts one accepted connection and hands it to the handler. */
static void
tcp_accepted(struct tcp_listener *tl, int fd)
{
	struct serve_listener	*sl = tl->sl;
	struct serve		*serve = sl->serve;
	struct serve_conn	*idle;
	socklen_t		 len;
	int			 cpu = -1;

	STATS_ADD(serve->stats, accepted, 1);
	len = sizeof(cpu);
	if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) == -1) {
		STATS_ADD(serve->stats, errors, 1);
		cpu = -1;
	} else if (cpu == serve->cpu)
		STATS_ADD(serve->stats, local, 1);
	else if (cpu >= 0)
		STATS_ADD(serve->stats, remote, 1);
	serve_conn_start(serve);
	if (serve->max_conns != 0 && serve->open_conns >= serve->max_conns) {
		/* The oldest idle connection makes room, or accepting stops. */
		if ((idle = serve_find_idle(serve)) != NULL)
			serve_evict(idle);
		else
			tcp_serve_update(serve);
	}
	sl->handler->tcp_start(sl, fd, cpu);
}

/* Errors accept(2) reports for one failed connection (see its man page). */
static int
tcp_error_is_transient(int err)
{
	switch (err) {
	case ENETDOWN:
	case EPROTO:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM:
		return 1;
	default:
		return 0;
	}
}

/* Warns at most every TCP_WARN_INTERVAL_SEC per listener. */
static int
tcp_warn_due(struct tcp_listener *tl)
{
	struct timespec		 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (tl->warned != 0 && now.tv_sec - tl->warned < TCP_WARN_INTERVAL_SEC)
		return 0;
	tl->warned = now.tv_sec;
	return 1;
}

/*
 * Out of file descriptors (EMFILE, ENFILE): as at max_connections, the
 * least recently active idle connection makes room for the new client,
 * whose accept() is then tried again.  Returns false when no connection
 * is idle.
 */
static int
tcp_evict_for_fd(struct tcp_listener *tl, int err)
{
	struct serve_conn	*idle;

	if ((err != EMFILE && err != ENFILE) ||
	    (idle = serve_find_idle(tl->sl->serve)) == NULL)
		return 0;
	if (tcp_warn_due(tl))
		log_warnx("listener \"%s\": accept: %s at %u open "
		    "connections; closing the least recently active idle one "
		    "for each new client", tl->sl->conf->name, strerror(err),
		    tl->sl->serve->open_conns);
	serve_evict(idle);
	return 1;
}

/*
 * Any other error (EMFILE or ENFILE with no idle connection to give up,
 * ENOBUFS, ENOMEM) would come back at once from the level-triggered
 * event: stop accepting for a moment.
 */
static void
tcp_accept_failed(struct tcp_listener *tl, int err)
{
	struct serve		*serve = tl->sl->serve;
	struct timeval		 tv = { 0, TCP_BACKOFF_MSEC * 1000 };

	STATS_ADD(serve->stats, errors, 1);
	if (tcp_error_is_transient(err)) {
		log_debug("listener \"%s\": accept: %s", tl->sl->conf->name,
		    strerror(err));
		return;
	}
	if (tcp_warn_due(tl))
		log_warnx("listener \"%s\": accept: %s; pausing for %d ms",
		    tl->sl->conf->name, strerror(err), TCP_BACKOFF_MSEC);
	if (evtimer_add(tl->backoff, &tv) == -1)
		return;
	tcp_listener_update(tl);
}

/*
 * Accepts what waits, up to TCP_ACCEPT_BATCH, while the worker is under
 * max_connections (accepting a connection may pause the listener).
 */
static void
tcp_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct tcp_listener	*tl = arg;
	int			 fd, n, err;

	for (n = 0; n < TCP_ACCEPT_BATCH && tl->enabled; n++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			tcp_accepted(tl, fd);
			continue;
		}
		if ((err = errno) == EAGAIN || err == EWOULDBLOCK)
			return;
		if (err == EINTR || tcp_evict_for_fd(tl, err))
			continue;
		tcp_accept_failed(tl, err);
		if (!tcp_error_is_transient(err))
			return;
	}
}

static void
tcp_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	tcp_listener_update(arg);
}

int
tcp_serve_start(struct serve_listener *sl)
{
	struct serve		*serve = sl->serve;
	struct tcp_listener	*tl;
	int			 r, defer;

	if (sl->io != NULL)
		return -EALREADY;
	if (sl->handler == NULL || !sl->handler->tcp ||
	    sl->handler->tcp_start == NULL)
		return -EPROTONOSUPPORT;
	/* accept() runs until EAGAIN: a blocking socket would hang the loop. */
	if (evutil_make_socket_nonblocking(sl->fd) == -1)
		return -errno;
	/*
	 * Set either way: a reload hands an unchanged listener the same
	 * socket, whose option the old configuration may have set.
	 */
	defer = sl->conf->defer_accept ? TCP_DEFER_ACCEPT_SEC : 0;
	if (setsockopt(sl->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer)) == -1)
		return -errno;
	if (sl->handler->listener_start != NULL &&
	    (r = sl->handler->listener_start(sl)) < 0)
		return r;
	if ((tl = calloc(1, sizeof(*tl))) == NULL) {
		serve_listener_release(sl);
		return -ENOMEM;
	}
	tl->sl = sl;
	tl->ev = event_new(serve->base, sl->fd, EV_READ | EV_PERSIST,
	    tcp_accept_cb, tl);
	tl->backoff = evtimer_new(serve->base, tcp_backoff_cb, tl);
	if (tl->ev == NULL || tl->backoff == NULL) {
		if (tl->ev != NULL)
			event_free(tl->ev);
		if (tl->backoff != NULL)
			event_free(tl->backoff);
		free(tl);
		serve_listener_release(sl);
		return -ENOMEM;
	}
	LIST_INSERT_HEAD(&serve->tcp, tl, entry);
	serve->conn_room = tcp_serve_update;
	sl->io = tl;
	tcp_listener_update(tl);
	return 0;
}

/*
 * Stops accepting; connections already accepted go on.  During a drain
 * the idle ones among them close now (serve_drain()).
 */
#define TCP_DRAIN_MAX	65536

/*
 * A stopping worker serves what already waits in its accept queue: the
 * socket may be about to close (a listener removed, a CPU dropped), and
 * connections left in the queue would be reset with it.
 */
static void
tcp_accept_queued(struct tcp_listener *tl)
{
	int			 fd, n = 0;

	while (n++ < TCP_DRAIN_MAX) {
		fd = accept4(tl->sl->fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			/* Out of descriptors: as when serving, an idle one
			 * makes room, else the client would be reset. */
			if (errno == EINTR || tcp_error_is_transient(errno) ||
			    tcp_evict_for_fd(tl, errno))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				STATS_ADD(tl->sl->serve->stats, errors, 1);
			return;
		}
		tcp_accepted(tl, fd);
	}
}

void
tcp_serve_stop(struct serve_listener *sl)
{
	struct tcp_listener	*tl = sl->io;

	if (tl == NULL)
		return;
	if (sl->serve->draining)
		tcp_accept_queued(tl);
	LIST_REMOVE(tl, entry);
	event_free(tl->ev);
	event_free(tl->backoff);
	free(tl);
	sl->io = NULL;
	if (sl->serve->draining)
		serve_drain(sl->serve, sl);
	if (sl->nconns == 0)
		serve_listener_release(sl);
}
