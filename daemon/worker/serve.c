/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's connection bookkeeping: the open-connection count that
 * max_connections is checked against, the info line, and the one path
 * every TCP connection's I/O takes.  Every handler goes through
 * serve_conn_new() and serve_conn_close(), so each connection counts its
 * bytes the same way, frees what it holds and calls serve_conn_done()
 * exactly once.
 *
 * The path costs one recv() and one write per request (a write takes
 * SERVE_WRITE_MAX at most, so a larger answer takes more): the read event
 * stays added while the handler takes input, the answer is written from
 * the read callback, and the write event is added only while output
 * waits, the send buffer full or the answer larger than one write
 * (libevent's bufferevents ask FIONREAD before each read and add and
 * delete the write event around each answer).
 *
 * Timeouts cost no system call per request either: each read or write
 * stamps the connection with a coarse clock read from the vDSO and moves
 * it to the end of the worker's list, and one timer per worker sweeps
 * the list for connections idle past their listener's idle_timeout or
 * with a request begun longer than header_timeout ago.  The list's head
 * is the least recently active connection: the first one given up when
 * the worker is full (serve_find_idle()).  What all connections buffer
 * is counted against the worker's budget after each hook.
 */
#include "acconfig.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <ctype.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config/config.h"
#include "worker/handler.h"
#include "common/log.h"
#include "worker/serve.h"
#include "common/stats.h"

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
 * requests, or a good share of a bulk echo, in one call.  libevent
 * allocates a chunk and its header rounded up to a power of two: this
 * keeps the allocation at 16 KiB instead of 32.
 */
#define SERVE_CHUNK_ALLOC	(16 * 1024)
#define SERVE_READ_CHUNK	(SERVE_CHUNK_ALLOC - 256)
/*
 * Once the worker's budget is spent, a read takes a small chunk: every
 * peer is still served, but one that then stops reading holds little.
 */
#define SERVE_LEAN_ALLOC	2048
#define SERVE_READ_LEAN		(SERVE_LEAN_ALLOC - 256)
/*
 * What one write hands the kernel at most (nginx bounds a sendfile() at
 * sendfile_max_chunk for the same reason): on loopback the whole write
 * runs through the peer's stack before the call returns, a segment at a
 * time, and a peer with a small MSS turns a 1 MB write into thousands of
 * segments.  Without a bound, a round of the loop over a few hundred such
 * peers outlasts the worker's heartbeat; with it, each connection waits
 * for its turn on the next round.
 */
#define SERVE_WRITE_MAX		(64 * 1024)
/* The sweep's period: a quarter of the shortest timeout, within these. */
#define SERVE_SWEEP_MIN_MS	100
#define SERVE_SWEEP_MAX_MS	1000
/* Connections looked at, least recently active first, to find one idle. */
#define SERVE_IDLE_SCAN		64
/*
 * Freed buffers stay with the process (malloc keeps them for reuse):
 * once this much less is buffered than at the last trim, the sweep
 * hands the free pages back to the kernel.
 */
#define SERVE_TRIM_BYTES	(1024 * 1024)

/* A coarse monotonic clock in ms: read from the vDSO, no system call. */
static uint64_t
serve_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
serve_ms(double seconds)
{
	return (uint64_t)(seconds * 1000.0 + 0.5);
}

/* Bytes moved: c becomes the most recently active connection. */
static void
serve_conn_touch(struct serve_conn *c)
{
	struct serve	*serve = c->serve;

	c->active_ms = serve_now_ms();
	if (TAILQ_NEXT(c, entry) != NULL) {
		TAILQ_REMOVE(&serve->conns, c, entry);
		TAILQ_INSERT_TAIL(&serve->conns, c, entry);
	}
}

/*
 * Brings the worker's count of buffered bytes up to date with c's: the
 * memory its buffers hold, so an output of references counts nothing.
 */
static void
serve_conn_count(struct serve_conn *c)
{
	size_t	 n = evbuffer_get_length(c->in);

	if (!c->out_shared)
		n += evbuffer_get_length(c->out);

	c->serve->buffered = c->serve->buffered - c->buffered + n;
	c->buffered = n;
}

static int
serve_over_budget(const struct serve *serve)
{
	return serve->budget != 0 && serve->buffered >= serve->budget;
}

/*
 * How much output a handler may queue on c now: what its own backlog
 * leaves, and nothing while c owes output and the worker's budget is
 * spent.  A connection that owes nothing always gets its backlog, so
 * every peer that reads is served, however many others do not.
 */
size_t
serve_conn_room(const struct serve_conn *c, size_t backlog)
{
	size_t	 queued = evbuffer_get_length(c->out);

	if (queued >= backlog || (queued > 0 && serve_over_budget(c->serve)))
		return 0;
	return backlog - queued;
}

/*
 * A handler tells when a request has begun (header_timeout runs from its
 * first byte) and when it is complete.  The first byte came with the
 * last read, so its stamp will do.
 */
void
serve_conn_request(struct serve_conn *c, int begun)
{
	c->request_ms = begun ? c->active_ms : 0;
}

/* Gives memory that many closed connections freed back to the kernel. */
static void
serve_trim(struct serve *serve)
{
	if (serve->buffered > serve->trim_mark)
		serve->trim_mark = serve->buffered;
	else if (serve->trim_mark - serve->buffered >= SERVE_TRIM_BYTES) {
#ifdef __GLIBC__
		malloc_trim(0);
#endif
		serve->trim_mark = serve->buffered;
	}
}

/*
 * The least recently active connection that is open, owes nothing and
 * has no request begun: the one to give up for a new client when the
 * worker is full.  Looks at SERVE_IDLE_SCAN connections at most.
 */
struct serve_conn *
serve_find_idle(struct serve *serve)
{
	struct serve_conn	*c;
	int			 n = 0;

	TAILQ_FOREACH(c, &serve->conns, entry) {
		if (n++ == SERVE_IDLE_SCAN)
			break;
		if (c->state == SERVE_CONN_OPEN && !c->in_hook &&
		    c->request_ms == 0 && evbuffer_get_length(c->in) == 0 &&
		    evbuffer_get_length(c->out) == 0)
			return c;
	}
	return NULL;
}

/* Gives up c, found by serve_find_idle(), for a new client. */
void
serve_evict(struct serve_conn *c)
{
	STATS_ADD(c->serve->stats, evicted, 1);
	serve_conn_close(c);
}

/*
 * Closes the connections past their listener's timeouts (0: none); a
 * lingering one has its own.  A full worker accepts again once one of
 * its connections became idle, which the next client then takes over.
 */
static void
serve_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve			*serve = arg;
	const struct listener_conf	*lc;
	struct serve_conn		*c, *next;
	uint64_t			 now = serve_now_ms();

	for (c = TAILQ_FIRST(&serve->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		lc = c->sl->conf;
		if (c->state == SERVE_CONN_LINGERING || c->in_hook)
			continue;
		if (lc->header_timeout > 0 && c->request_ms != 0 &&
		    now - c->request_ms >= serve_ms(lc->header_timeout)) {
			STATS_ADD(serve->stats, header_timeouts, 1);
			serve_conn_close(c);
		} else if (lc->idle_timeout > 0 &&
		    now - c->active_ms >= serve_ms(lc->idle_timeout)) {
			STATS_ADD(serve->stats, idle_timeouts, 1);
			serve_conn_close(c);
		}
	}
	STATS_SET(serve->stats, buffered, serve->buffered);
	serve_trim(serve);
	if (!serve->draining && serve->max_conns != 0 &&
	    serve->open_conns >= serve->max_conns && serve->conn_room != NULL)
		serve->conn_room(serve);
}

/*
 * Runs the sweep while the worker has connections, a quarter of the
 * shortest timeout of theirs apart, so a timeout is late by that at most.
 */
static int
serve_sweep_start(struct serve *serve, const struct listener_conf *lc)
{
	struct timeval	 tv;
	uint64_t	 ms = SERVE_SWEEP_MAX_MS;

	if (lc->idle_timeout > 0 && serve_ms(lc->idle_timeout) / 4 < ms)
		ms = serve_ms(lc->idle_timeout) / 4;
	if (lc->header_timeout > 0 && serve_ms(lc->header_timeout) / 4 < ms)
		ms = serve_ms(lc->header_timeout) / 4;
	if (ms < SERVE_SWEEP_MIN_MS)
		ms = SERVE_SWEEP_MIN_MS;
	if (serve->sweep == NULL && (serve->sweep = event_new(serve->base,
	    -1, EV_PERSIST, serve_sweep_cb, serve)) == NULL)
		return -1;
	if (serve->sweep_ms != 0 && serve->sweep_ms <= ms &&
	    evtimer_pending(serve->sweep, NULL))
		return 0;
	if (serve->sweep_ms == 0 || ms < serve->sweep_ms)
		serve->sweep_ms = (unsigned int)ms;
	tv.tv_sec = serve->sweep_ms / 1000;
	tv.tv_usec = (suseconds_t)(serve->sweep_ms % 1000) * 1000;
	return evtimer_add(serve->sweep, &tv);
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

static void
serve_conn_free(struct serve_conn *c)
{
	struct serve		*serve = c->serve;
	struct serve_listener	*sl = c->sl;

	TAILQ_REMOVE(&serve->conns, c, entry);
	serve->buffered -= c->buffered;
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
	if (TAILQ_EMPTY(&serve->conns)) {
		if (serve->sweep != NULL)
			evtimer_del(serve->sweep);
		serve->sweep_ms = 0;
		STATS_SET(serve->stats, buffered, 0);
		serve_trim(serve);
	}
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
		    evbuffer_get_length(c->in) < SERVE_INPUT_MAX &&
		    (evbuffer_get_length(c->out) == 0 ||
		    !serve_over_budget(c->serve));
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
 * Whether c may close at once, without lingering.  Closing with unread
 * bytes in the receive queue sends RST, and so does a segment that
 * arrives after close(); the RST drops whatever of the answer the kernel
 * has not sent yet, and the peer loses it.  So c closes at once only when
 * the peer sent FIN, or when (as nginx's "lingering_close on") it seems
 * done: the answer was written from the read that emptied the receive
 * queue (rx_empty: recv() returned less than it asked for), the handler
 * consumed every byte, no request is half read, and the kernel has sent
 * every byte of the answer (SIOCOUTQNSD), so that a late segment's RST
 * can only follow the answer.  A draining worker lingers anyway: a
 * client sending back to back is the likely one to have sent more.
 */
static int
serve_conn_may_close(const struct serve_conn *c)
{
	int	 unsent;

	if (c->peer_eof)
		return 1;
	if (!c->rx_empty || c->serve->draining || c->request_ms != 0 ||
	    evbuffer_get_length(c->in) != 0)
		return 0;
	return ioctl(c->fd, SIOCOUTQNSD, &unsent) == 0 && unsent == 0;
}

/*
 * Output written: close at once when the peer is done sending, else send
 * FIN and drop what the peer still sends until its own FIN or
 * SERVE_LINGER_SEC, so that no RST overtakes the answer.
 */
static void
serve_conn_linger(struct serve_conn *c)
{
	struct timeval	 tv = { SERVE_LINGER_SEC, 0 };

	c->state = SERVE_CONN_LINGERING;
	c->held = 0;
	if (serve_conn_may_close(c) || shutdown(c->fd, SHUT_WR) == -1) {
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
		n = evbuffer_write_atmost(c->out, c->fd, SERVE_WRITE_MAX);
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
	/* What the read showed is old news by the next hook. */
	c->rx_empty = 0;
	serve_conn_count(c);
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
	if (room > SERVE_READ_LEAN && serve_over_budget(c->serve))
		room = SERVE_READ_LEAN;
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
		else	/* a first read tried at once: wait for the event */
			serve_conn_update_read(c);
		return;
	}
	if (n == 0) {
		serve_conn_eof(c);
		return;
	}
	v.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &v, 1);
	STATS_ADD(c->serve->stats, bytes_in, (uint64_t)n);
	serve_conn_touch(c);
	if (c->state == SERVE_CONN_OPEN) {
		c->rx_empty = (size_t)n < room;
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

	n = evbuffer_write_atmost(c->out, fd, SERVE_WRITE_MAX);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			serve_conn_close(c);
		return;
	}
	STATS_ADD(c->serve->stats, bytes_out, (uint64_t)n);
	serve_conn_touch(c);
	if (evbuffer_get_length(c->out) == 0 && event_del(c->wev) == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	if (c->state == SERVE_CONN_OPEN && c->ops->write != NULL)
		serve_conn_hook(c, c->ops->write);
	else if (serve_conn_flush(c) != -1)
		serve_conn_count(c);
}

/*
 * Whether a new connection's first recv() is tried at once, before its
 * read event is added.  With defer_accept the kernel queued it only once
 * its first data arrived, so the read nearly always finds a request: a
 * connection that asks for one answer and closes is then served without
 * ever entering epoll (no epoll_ctl to add and delete it).  Without it
 * the request mostly is not there yet, and the recv() is wasted; a
 * handler that speaks first is not waiting for anything.
 */
static int
serve_conn_read_at_once(const struct serve_listener *sl)
{
	return sl->conf->defer_accept && !sl->handler->speaks_first;
}

/*
 * Takes over an accepted, non-blocking socket: allocates a zeroed object
 * of size bytes that starts with a struct serve_conn, runs ops->start,
 * and reads: at once with defer_accept (serve_conn_read_at_once()), else
 * when the socket is readable.  Returns the object while it waits for
 * its first read; NULL once it is not the caller's to touch: on failure
 * (the socket closed, serve_conn_done() called) or after the first read
 * (served, perhaps closed already).
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
	c->active_ms = serve_now_ms();
	sl->nconns++;
	/* All-zero is the empty list, but has nowhere to append yet. */
	if (serve->conns.tqh_last == NULL)
		TAILQ_INIT(&serve->conns);
	TAILQ_INSERT_TAIL(&serve->conns, c, entry);
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
	if (serve_sweep_start(serve, sl->conf) == -1) {
		STATS_ADD(serve->stats, errors, 1);
		serve_conn_free(c);
		return NULL;
	}
	if (ops->start != NULL)
		ops->start(c);
	if (serve_conn_read_at_once(sl)) {
		serve_conn_read_cb(fd, EV_READ, c);
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

	for (c = TAILQ_FIRST(&serve->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (sl != NULL && c->sl != sl)
			continue;
		if (c->state == SERVE_CONN_LINGERING)
			serve_conn_close(c);
		else if (c->state == SERVE_CONN_OPEN && c->ops->drain != NULL)
			serve_conn_hook(c, c->ops->drain);
	}
}

/*
 * Closes every connection now and frees the sweep: the worker is done
 * (a drain ended or timed out).  Call it while the listeners still
 * exist, since handlers use their settings.
 */
void
serve_close_all(struct serve *serve)
{
	while (!TAILQ_EMPTY(&serve->conns))
		serve_conn_close(TAILQ_FIRST(&serve->conns));
	if (serve->sweep != NULL)
		event_free(serve->sweep);
	serve->sweep = NULL;
}
