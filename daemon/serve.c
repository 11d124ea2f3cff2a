/*
 * The worker's connection bookkeeping: the open-connection count that
 * max_connections is checked against, the info line, and the one way a
 * TCP connection is set up and torn down.  Every handler goes through
 * serve_conn_new() and serve_conn_close(), so each connection counts its
 * bytes the same way, frees its bufferevent and calls serve_conn_done()
 * exactly once.
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
#include <event2/bufferevent.h>
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

/* Counts bytes where they cross the socket: read in, written out. */
static void
serve_conn_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct stats_slot	*stats = arg;

	if (info->n_added > 0)
		STATS_ADD(stats, bytes_in, info->n_added);
}

static void
serve_conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct stats_slot	*stats = arg;

	if (info->n_deleted > 0)
		STATS_ADD(stats, bytes_out, info->n_deleted);
}

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

void
serve_conn_close(struct serve_conn *c)
{
	struct serve		*serve = c->serve;
	struct serve_listener	*sl = c->sl;

	LIST_REMOVE(c, entry);
	bufferevent_free(c->bev);
	free(c);
	if (--sl->nconns == 0 && sl->io == NULL)
		serve_listener_release(sl);
	serve_conn_done(serve);
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
	if (c->peer_eof ||
	    shutdown(bufferevent_getfd(c->bev), SHUT_WR) == -1) {
		serve_conn_close(c);
		return;
	}
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_setwatermark(c->bev, EV_READ, 0, SERVE_INPUT_MAX);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	if (bufferevent_enable(c->bev, EV_READ) == -1)
		serve_conn_close(c);
}

/*
 * A handler with no room for more input holds it: reading stops until it
 * lets go.  Merely leaving the input at its high-water mark is not enough,
 * since libevent then calls the read hook again on every loop turn.
 */
void
serve_conn_hold(struct serve_conn *c, int hold)
{
	if (hold == c->held)
		return;
	c->held = hold;
	if (hold)
		bufferevent_disable(c->bev, EV_READ);
	else if (!c->peer_eof)
		bufferevent_enable(c->bev, EV_READ);
}

/* Closes c once its output is written. */
void
serve_conn_finish(struct serve_conn *c)
{
	if (c->state != SERVE_CONN_OPEN)
		return;
	c->state = SERVE_CONN_FLUSHING;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		serve_conn_linger(c);
}

/*
 * Input is the handler's while the connection is open, else dropped; a
 * lingering peer that keeps sending instead of closing is cut off.
 */
static void
serve_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct serve_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 n = evbuffer_get_length(in);

	if (c->state == SERVE_CONN_OPEN && c->ops->read != NULL) {
		c->ops->read(c);
		return;
	}
	evbuffer_drain(in, n);
	if (c->state == SERVE_CONN_LINGERING &&
	    (c->linger_bytes += n) > SERVE_INPUT_MAX)
		serve_conn_close(c);
}

static void
serve_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct serve_conn	*c = arg;

	if (c->state == SERVE_CONN_FLUSHING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			serve_conn_linger(c);
	} else if (c->state == SERVE_CONN_OPEN && c->ops->write != NULL)
		c->ops->write(c);
}

/*
 * A reset or a timeout ends the connection at once.  A FIN ends only the
 * peer's half: the handler may still have output to write.
 */
static void
serve_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct serve_conn	*c = arg;

	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		serve_conn_close(c);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	c->peer_eof = 1;
	switch (c->state) {
	case SERVE_CONN_OPEN:
		if (c->ops->eof != NULL)
			c->ops->eof(c);
		else
			serve_conn_finish(c);
		break;
	case SERVE_CONN_FLUSHING:
		break;
	case SERVE_CONN_LINGERING:
		serve_conn_close(c);
		break;
	}
}

/*
 * Takes over an accepted socket: returns a zeroed object of size bytes
 * that starts with a struct serve_conn, reading enabled.  On failure the
 * socket is closed, serve_conn_done() called, and NULL returned.
 */
void *
serve_conn_new(struct serve_listener *sl, evutil_socket_t fd, size_t size,
    const struct serve_conn_ops *ops)
{
	struct serve		*serve = sl->serve;
	struct serve_conn	*c;

	if ((c = calloc(1, size)) == NULL)
		goto fail;
	c->bev = bufferevent_socket_new(serve->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	c->serve = serve;
	c->sl = sl;
	c->ops = ops;
	sl->nconns++;
	LIST_INSERT_HEAD(&serve->conns, c, entry);
	if (evbuffer_add_cb(bufferevent_get_input(c->bev), serve_conn_in_cb,
	    serve->stats) == NULL ||
	    evbuffer_add_cb(bufferevent_get_output(c->bev), serve_conn_out_cb,
	    serve->stats) == NULL) {
		STATS_ADD(serve->stats, errors, 1);
		serve_conn_close(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, serve_conn_read_cb, serve_conn_write_cb,
	    serve_conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SERVE_INPUT_MAX);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		STATS_ADD(serve->stats, errors, 1);
		serve_conn_close(c);
		return NULL;
	}
	return c;
fail:
	log_debug("%s: %s", __func__, strerror(errno));
	STATS_ADD(serve->stats, errors, 1);
	free(c);
	close(fd);
	serve_conn_done(serve);
	return NULL;
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
			c->ops->drain(c);
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
