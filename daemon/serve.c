/*
 * The worker's connection bookkeeping: the open-connection count that
 * max_connections is checked against, the info line, and the one path
 * every TCP connection's I/O takes.  Every handler goes through
 * serve_conn_new() and serve_conn_close(), so each connection counts its
 * bytes the same way, frees what it holds and calls serve_conn_done()
 * exactly once.
 *
 * The path costs one recv() and one write per request: the read event
 * stays added while the handler takes input, the answer is written from
 * the read callback, and the write event is added only while the send
 * buffer is full (libevent's bufferevents ask FIONREAD before each read
 * and add and delete the write event around each answer).
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config.h"
#include "handler.h"
#include "log.h"
#include "serve.h"
#include "stats.h"

void
serve_conn_start(struct serve *serve)
{
	serve->open_conns++;
	STATS_SET(serve->stats, open_conns, serve->open_conns);
}

/*
 * One connection is gone.  Accepting resumes through conn_room, before
 * the worker's hook runs, once the worker is below max_connections
 * again; while it drains its listeners are stopped and nothing resumes.
 */
void
serve_conn_done(struct serve *serve)
{
	if (serve->open_conns == 0) {
		log_debug("%s: no open connection to close", __func__);
		return;
	}
	serve->open_conns--;
	STATS_SET(serve->stats, open_conns, serve->open_conns);
	if (!serve->draining && serve->conn_room != NULL)
		serve->conn_room(serve);
	if (serve->conn_closed != NULL)
		serve->conn_closed(serve);
}

/*
 * The info line (DESIGN.md, contract): key=value pairs separated by
 * spaces.  A listener name is free text, so characters that would split
 * a pair are written as '_'.  Returns the length, or -ENOSPC.
 */
int
serve_info_line(const struct serve_listener *sl, int incoming_cpu,
    char *buf, size_t len)
{
	const struct serve	*serve = sl->serve;
	char			 icpu[32] = "", name[64];
	const char		*p;
	size_t			 i;
	int			 n;

	for (i = 0, p = sl->conf->name; *p != '\0' && i < sizeof(name) - 1;
	    p++, i++)
		name[i] = isgraph((unsigned char)*p) && *p != '=' ? *p : '_';
	name[i] = '\0';
	if (incoming_cpu != SERVE_NO_INCOMING_CPU)
		snprintf(icpu, sizeof(icpu), " incoming_cpu=%d", incoming_cpu);
	n = snprintf(buf, len, "worker=%u cpu=%d pid=%ld%s listener=%s\n",
	    serve->worker_id, sched_getcpu(), (long)serve->pid, icpu, name);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/*
 * What one recv() asks for at most: a whole pipelined burst of small
 * requests, or a good share of a bulk echo, in one call.
 */
#define SERVE_READ_CHUNK	(16 * 1024)

/*
 * What the handler prepared for a TCP listener goes once the listener
 * stopped accepting and its last connection is gone.
 */
void
serve_listener_release(struct serve_listener *sl)
{
	if (sl->hdata != NULL && sl->handler->listener_stop != NULL)
		sl->handler->listener_stop(sl);
	sl->hdata = NULL;
}

static void
serve_conn_free(struct serve_conn *c)
{
	struct serve		*serve = c->serve;
	struct serve_listener	*sl = c->sl;

	LIST_REMOVE(c, entry);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	close(c->fd);
	free(c);
	if (--sl->nconns == 0 && sl->io == NULL)
		serve_listener_release(sl);
	serve_conn_done(serve);
}

/* Inside a hook c stays until the hook returns (serve_conn_hook()). */
void
serve_conn_close(struct serve_conn *c)
{
	if (c->in_hook)
		c->closed = 1;
	else
		serve_conn_free(c);
}

/*
 * Reads while the handler has room for more input, the peer has not
 * closed its half, or the connection lingers (input dropped).
 */
static void
serve_conn_update_read(struct serve_conn *c)
{
	struct timeval	 tv = { SERVE_LINGER_SEC, 0 };
	int		 want, r;

	if (c->state == SERVE_CONN_LINGERING)
		want = 1;
	else
		want = !c->held && !c->peer_eof &&
		    evbuffer_get_length(c->in) < SERVE_INPUT_MAX;
	if (want == c->reading)
		return;
	if (want)
		r = event_add(c->rev, c->state == SERVE_CONN_LINGERING ?
		    &tv : c->timeout);
	else
		r = event_del(c->rev);
	if (r == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	c->reading = want;
}

/*
 * Output written: send FIN, then drop what the peer still sends until its
 * own FIN or SERVE_LINGER_SEC.  Closing at once with unread input would
 * send RST, and the peer could lose the answer it has not read yet.
 */
static void
serve_conn_linger(struct serve_conn *c)
{
	struct timeval	 tv = { SERVE_LINGER_SEC, 0 };

	c->state = SERVE_CONN_LINGERING;
	c->held = 0;
	if (c->peer_eof || shutdown(c->fd, SHUT_WR) == -1) {
		serve_conn_close(c);
		return;
	}
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	/* The timeout starts now, also when reading was on already. */
	if (event_add(c->rev, &tv) == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	c->reading = 1;
}

/*
 * Writes what the output holds, once; what the kernel does not take
 * waits for the write event.  Returns the bytes written, or -1 when c
 * is closed or lingers.
 */
static int
serve_conn_flush(struct serve_conn *c)
{
	size_t	 len = evbuffer_get_length(c->out);
	int	 n = 0;

	if (len > 0 && !event_pending(c->wev, EV_WRITE, NULL)) {
		n = evbuffer_write(c->out, c->fd);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			serve_conn_close(c);
			return -1;
		}
		if (n > 0) {
			STATS_ADD(c->serve->stats, bytes_out, (uint64_t)n);
			len -= (size_t)n;
		} else
			n = 0;
		if (len > 0 && event_add(c->wev, NULL) == -1) {
			STATS_ADD(c->serve->stats, errors, 1);
			serve_conn_close(c);
			return -1;
		}
	}
	if (len == 0 && c->state == SERVE_CONN_FLUSHING) {
		serve_conn_linger(c);
		return -1;
	}
	return n;
}

/*
 * Runs a handler hook, then writes what it queued and adjusts reading;
 * a close asked for inside the hook happens here, once it returned.  A
 * handler that held its input because of its backlog, and whose backlog
 * the kernel just took whole, gets its write hook at once: no write
 * event would come to call it.
 */
static void
serve_conn_hook(struct serve_conn *c, void (*hook)(struct serve_conn *))
{
	int	 n;

	for (;;) {
		c->in_hook = 1;
		hook(c);
		c->in_hook = 0;
		if (c->closed) {
			serve_conn_free(c);
			return;
		}
		if ((n = serve_conn_flush(c)) == -1)
			return;
		if (n == 0 || !c->held || c->ops->write == NULL ||
		    c->state != SERVE_CONN_OPEN ||
		    evbuffer_get_length(c->out) > 0)
			break;
		hook = c->ops->write;
	}
	serve_conn_update_read(c);
}

/*
 * A handler with no room for more input holds it: reading stops until it
 * lets go.
 */
void
serve_conn_hold(struct serve_conn *c, int hold)
{
	c->held = hold ? 1 : 0;
	if (!c->in_hook)
		serve_conn_update_read(c);
}

/*
 * Closes c when the peer sends nothing for tv (NULL: no limit), counted
 * from now and again from each read; the timeval must outlive c's use of
 * it.  Lingering has its own limit.
 */
void
serve_conn_timeout(struct serve_conn *c, const struct timeval *tv)
{
	int	 r;

	if (tv == c->timeout)
		return;
	c->timeout = tv;
	if (!c->reading || c->state == SERVE_CONN_LINGERING)
		return;
	r = tv != NULL ? event_add(c->rev, tv) : event_remove_timer(c->rev);
	if (r == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
	}
}

/* Closes c once its output is written. */
void
serve_conn_finish(struct serve_conn *c)
{
	if (c->state != SERVE_CONN_OPEN)
		return;
	c->state = SERVE_CONN_FLUSHING;
	if (!c->in_hook)
		serve_conn_flush(c);
}

static void
serve_conn_drop_cb(struct serve_conn *c)
{
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
}

/* The peer closed its half: the handler may still have output to write. */
static void
serve_conn_eof(struct serve_conn *c)
{
	c->peer_eof = 1;
	switch (c->state) {
	case SERVE_CONN_OPEN:
		serve_conn_hook(c, c->ops->eof != NULL ? c->ops->eof :
		    serve_conn_finish);
		break;
	case SERVE_CONN_FLUSHING:
		serve_conn_update_read(c);
		break;
	case SERVE_CONN_LINGERING:
		serve_conn_close(c);
		break;
	}
}

/*
 * One recv() into the input, then the handler.  Input is the handler's
 * while the connection is open, else dropped; a lingering peer that
 * keeps sending instead of closing, or that stays silent, is cut off.
 */
static void
serve_conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve_conn	*c = arg;
	struct evbuffer_iovec	 v;
	size_t			 room;
	ssize_t			 n;

	if (what & EV_TIMEOUT) {
		serve_conn_close(c);
		return;
	}
	room = SERVE_INPUT_MAX - evbuffer_get_length(c->in);
	if (c->state == SERVE_CONN_LINGERING || room > SERVE_READ_CHUNK)
		room = SERVE_READ_CHUNK;
	if (room == 0) {
		serve_conn_update_read(c);
		return;
	}
	if (evbuffer_reserve_space(c->in, (ev_ssize_t)room, &v, 1) < 1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	n = recv(fd, v.iov_base, room, 0);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			serve_conn_close(c);
		return;
	}
	if (n == 0) {
		serve_conn_eof(c);
		return;
	}
	v.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &v, 1);
	STATS_ADD(c->serve->stats, bytes_in, (uint64_t)n);
	if (c->state == SERVE_CONN_OPEN) {
		serve_conn_hook(c, c->ops->read != NULL ? c->ops->read :
		    serve_conn_drop_cb);
		return;
	}
	evbuffer_drain(c->in, (size_t)n);
	if (c->state == SERVE_CONN_LINGERING &&
	    (c->linger_bytes += (size_t)n) > SERVE_INPUT_MAX)
		serve_conn_close(c);
}

/* Room in the send buffer again: write on, and tell the handler. */
static void
serve_conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve_conn	*c = arg;
	int			 n;

	n = evbuffer_write(c->out, fd);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			serve_conn_close(c);
		return;
	}
	STATS_ADD(c->serve->stats, bytes_out, (uint64_t)n);
	if (evbuffer_get_length(c->out) == 0 && event_del(c->wev) == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	if (c->state == SERVE_CONN_OPEN && c->ops->write != NULL)
		serve_conn_hook(c, c->ops->write);
	else
		serve_conn_flush(c);
}

/*
 * Takes over an accepted, non-blocking socket: returns a zeroed object of
 * size bytes that starts with a struct serve_conn, reading on.  On
 * failure the socket is closed, serve_conn_done() called, and NULL
 * returned.
 */
void *
serve_conn_new(struct serve_listener *sl, evutil_socket_t fd, size_t size,
    const struct serve_conn_ops *ops)
{
	struct serve		*serve = sl->serve;
	struct serve_conn	*c;

	if ((c = calloc(1, size)) == NULL) {
		log_debug("%s: %s", __func__, strerror(errno));
		STATS_ADD(serve->stats, errors, 1);
		close(fd);
		serve_conn_done(serve);
		return NULL;
	}
	c->serve = serve;
	c->sl = sl;
	c->ops = ops;
	c->fd = fd;
	sl->nconns++;
	LIST_INSERT_HEAD(&serve->conns, c, entry);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(serve->base, fd, EV_READ | EV_PERSIST,
	    serve_conn_read_cb, c);
	c->wev = event_new(serve->base, fd, EV_WRITE | EV_PERSIST,
	    serve_conn_write_cb, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL) {
		STATS_ADD(serve->stats, errors, 1);
		serve_conn_free(c);
		return NULL;
	}
	if (event_add(c->rev, NULL) == -1) {
		STATS_ADD(serve->stats, errors, 1);
		serve_conn_free(c);
		return NULL;
	}
	c->reading = 1;
	return c;
}

/*
 * The worker drains: connections of sl (NULL: all) that are only waiting
 * for the peer's FIN close now, and each handler's drain hook decides
 * about the others.
 */
void
serve_drain(struct serve *serve, const struct serve_listener *sl)
{
	struct serve_conn	*c, *next;

	for (c = LIST_FIRST(&serve->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (sl != NULL && c->sl != sl)
			continue;
		if (c->state == SERVE_CONN_LINGERING)
			serve_conn_close(c);
		else if (c->state == SERVE_CONN_OPEN && c->ops->drain != NULL)
			serve_conn_hook(c, c->ops->drain);
	}
}

/*
 * Closes every connection now: a worker whose drain timed out.  Call it
 * while the listeners still exist, since handlers use their settings.
 */
void
serve_close_all(struct serve *serve)
{
	while (!LIST_EMPTY(&serve->conns))
		serve_conn_close(LIST_FIRST(&serve->conns));
}
