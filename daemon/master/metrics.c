/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus endpoint of the master: GET and HEAD of /metrics over
 * HTTP/1.1 (keep-alive, one request at a time, parsed by http-parser) on
 * the master's event base.  What to show comes from a callback, so this
 * file knows stats slots but not the master; a scrape only reads the
 * slots, it never blocks the loop.
 *
 * Clients are bounded so that slow or idle ones cannot take the master's
 * descriptors: at most METRICS_CONNS_MAX at once (a new one closes the
 * oldest), and each request must arrive and its reply be read within
 * METRICS_TIMEOUT, however slowly the bytes come.
 */
#include "acconfig.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <http_parser.h>

#include "common/log.h"
#include "master/metrics.h"
#include "master/metrics_text.h"
#include "common/stats.h"

#define METRICS_PATH		"/metrics"
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_BACKLOG		64

struct metrics_conn {
	struct metrics			*metrics;
	struct bufferevent		*bev;
	struct event			*deadline;
	http_parser			 parser;
	char				 url[METRICS_HEADERS_MAX];
	size_t				 urllen;
	size_t				 request_bytes;	/* of this request */
	int				 complete;	/* a request to answer */
	int				 closing;	/* close once written */
	TAILQ_ENTRY(metrics_conn)	 entry;		/* oldest first */
};

struct metrics {
	struct event_base		*base;
	struct evconnlistener		*listener;
	struct event			*retry;
	metrics_collect_fn		 collect;
	void				*arg;
	TAILQ_HEAD(, metrics_conn)	 conns;
	unsigned int			 nconns;
};

static struct timeval	metrics_timeout = { METRICS_TIMEOUT, 0 };

static void	metrics_conn_feed(struct metrics_conn *conn);

/*
 * arr (n elements of size, room for *cap), grown if full so that one more
 * fits; NULL out of memory, arr being left as it was.
 */
static void *
metrics_room(void *arr, size_t n, size_t *cap, size_t size)
{
	void	*grown;
	size_t	 more;

	if (n < *cap)
		return arr;
	more = *cap ? *cap * 2 : 16;
	if ((grown = reallocarray(arr, more, size)) == NULL)
		return NULL;
	*cap = more;
	return grown;
}

int
metrics_sample_add(struct metrics_sample *sample, unsigned int id,
    unsigned int cpu, const struct stats_slot *slot)
{
	struct metrics_worker	*w;

	if ((w = metrics_room(sample->workers, sample->nworkers, &sample->cap,
	    sizeof(*w))) == NULL)
		return -ENOMEM;
	sample->workers = w;
	w[sample->nworkers++] = (struct metrics_worker){
	    .id = id, .cpu = cpu, .slot = slot };
	return 0;
}

int
metrics_sample_add_cpu(struct metrics_sample *sample, unsigned int cpu,
    const struct stats_counts *counts)
{
	struct metrics_cpu	*c;

	if ((c = metrics_room(sample->cpus, sample->ncpus, &sample->cpus_cap,
	    sizeof(*c))) == NULL)
		return -ENOMEM;
	sample->cpus = c;
	c[sample->ncpus++] = (struct metrics_cpu){ .cpu = cpu,
	    .counts = *counts };
	return 0;
}

static void
metrics_sample_free(struct metrics_sample *sample)
{
	free(sample->workers);
	free(sample->cpus);
	memset(sample, 0, sizeof(*sample));
}

static void
metrics_conn_free(struct metrics_conn *conn)
{
	TAILQ_REMOVE(&conn->metrics->conns, conn, entry);
	conn->metrics->nconns--;
	bufferevent_free(conn->bev);
	event_free(conn->deadline);
	free(conn);
}

static int
metrics_on_begin(http_parser *p)
{
	struct metrics_conn	*conn = p->data;

	conn->urllen = 0;
	return 0;
}

static int
metrics_on_url(http_parser *p, const char *at, size_t len)
{
	struct metrics_conn	*conn = p->data;

	if (len > sizeof(conn->url) - conn->urllen)
		return -1;
	memcpy(conn->url + conn->urllen, at, len);
	conn->urllen += len;
	return 0;
}

/* Pauses after each request so it is answered before the next is read. */
static int
metrics_on_complete(http_parser *p)
{
	struct metrics_conn	*conn = p->data;

	conn->complete = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings metrics_settings = {
	.on_message_begin = metrics_on_begin,
	.on_url = metrics_on_url,
	.on_message_complete = metrics_on_complete,
};

/* Queues one answer; a NULL body is an empty one. */
static void
metrics_conn_answer(struct metrics_conn *conn, int code, const char *reason,
    const char *headers, struct evbuffer *body, int head_only)
{
	struct evbuffer	*out = bufferevent_get_output(conn->bev);
	size_t		 len = body ? evbuffer_get_length(body) : 0;

	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n%s"
	    "Content-Length: %zu\r\n%s\r\n", code, reason, headers, len,
	    conn->closing ? "Connection: close\r\n" : "") < 0 ||
	    (!head_only && body != NULL && evbuffer_add_buffer(out, body) < 0))
		conn->closing = 1;
}

static void
metrics_conn_text(struct metrics_conn *conn, int code, const char *reason,
    const char *headers, const char *text)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, text, strlen(text)) == -1) {
		conn->closing = 1;
		metrics_conn_answer(conn, 500, "Internal Server Error",
		    "", NULL, 0);
	} else
		metrics_conn_answer(conn, code, reason, headers, body, 0);
	if (body != NULL)
		evbuffer_free(body);
}

/* The scrape: the document as the callback describes it now. */
static void
metrics_conn_scrape(struct metrics_conn *conn, int head_only)
{
	struct metrics		*metrics = conn->metrics;
	struct metrics_sample	 sample = { 0 };
	struct evbuffer		*body;
	int			 r = -ENOMEM;

	if ((body = evbuffer_new()) != NULL &&
	    (r = metrics->collect(metrics->arg, &sample)) == 0)
		r = metrics_format(&sample, stats_now_ns(), body);
	metrics_sample_free(&sample);
	if (r < 0) {
		log_debug("metrics: cannot make the document: %s",
		    strerror(-r));
		metrics_conn_text(conn, 500, "Internal Server Error",
		    "Content-Type: text/plain\r\n", "cannot make the "
		    "document\n");
	} else
		metrics_conn_answer(conn, 200, "OK", "Content-Type: "
		    METRICS_CONTENT_TYPE "\r\nCache-Control: no-store\r\n",
		    body, head_only);
	if (body != NULL)
		evbuffer_free(body);
}

/* Answers the request just parsed. */
static void
metrics_conn_request(struct metrics_conn *conn)
{
	struct http_parser_url	 u;
	enum http_method	 method = conn->parser.method;
	int			 found;

	if (!http_should_keep_alive(&conn->parser))
		conn->closing = 1;
	http_parser_url_init(&u);
	found = http_parser_parse_url(conn->url, conn->urllen,
	    method == HTTP_CONNECT, &u) == 0 &&
	    (u.field_set & (1 << UF_PATH)) &&
	    u.field_data[UF_PATH].len == strlen(METRICS_PATH) &&
	    memcmp(conn->url + u.field_data[UF_PATH].off, METRICS_PATH,
	    strlen(METRICS_PATH)) == 0;
	if (!found)
		metrics_conn_text(conn, 404, "Not Found",
		    "Content-Type: text/plain\r\n", "404 Not Found: only "
		    METRICS_PATH " is served\n");
	else if (method != HTTP_GET && method != HTTP_HEAD)
		metrics_conn_text(conn, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\nContent-Type: text/plain\r\n",
		    "405 Method Not Allowed: " METRICS_PATH " takes GET and "
		    "HEAD only\n");
	else
		metrics_conn_scrape(conn, method == HTTP_HEAD);
}

/*
 * Parses what came in, up to the end of one request, and answers it; the
 * next request is read once the answer is written.
 */
static void
metrics_conn_feed(struct metrics_conn *conn)
{
	struct evbuffer		*in = bufferevent_get_input(conn->bev);
	struct evbuffer		*out = bufferevent_get_output(conn->bev);
	struct evbuffer_iovec	 v;
	size_t			 n;

	while (!conn->closing && evbuffer_get_length(out) == 0 &&
	    evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && v.iov_len > 0) {
		n = http_parser_execute(&conn->parser, &metrics_settings,
		    v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		conn->request_bytes += n;
		if (conn->complete) {
			conn->complete = 0;
			conn->request_bytes = 0;
			http_parser_pause(&conn->parser, 0);
			metrics_conn_request(conn);
			/* The next request gets a deadline of its own. */
			evtimer_add(conn->deadline, &metrics_timeout);
		} else if (HTTP_PARSER_ERRNO(&conn->parser) != HPE_OK ||
		    n < v.iov_len ||
		    conn->request_bytes > METRICS_HEADERS_MAX) {
			conn->closing = 1;
			metrics_conn_text(conn, 400, "Bad Request",
			    "Content-Type: text/plain\r\n",
			    "400 Bad Request\n");
		}
	}
	if (evbuffer_get_length(out) > 0 || conn->closing)
		bufferevent_disable(conn->bev, EV_READ);
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(conn->bev, EV_WRITE);
	else if (conn->closing)
		metrics_conn_free(conn);
	else
		bufferevent_enable(conn->bev, EV_READ);
}

static void
metrics_conn_read(struct bufferevent *bev, void *arg)
{
	metrics_conn_feed(arg);
}

/* The answer is written: close, or read the next request. */
static void
metrics_conn_written(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*conn = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		metrics_conn_feed(conn);
}

static void
metrics_conn_event(struct bufferevent *bev, short what, void *arg)
{
	metrics_conn_free(arg);
}

static void
metrics_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	metrics_conn_free(arg);
}

static void
metrics_accept(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct metrics		*metrics = arg;
	struct metrics_conn	*conn;

	/* At the limit, the oldest client makes room for the new one. */
	if (metrics->nconns >= METRICS_CONNS_MAX) {
		log_debug("metrics: %u clients; closing the oldest",
		    metrics->nconns);
		metrics_conn_free(TAILQ_FIRST(&metrics->conns));
	}
	if ((conn = calloc(1, sizeof(*conn))) == NULL ||
	    (conn->deadline = evtimer_new(metrics->base,
	    metrics_conn_deadline, conn)) == NULL ||
	    (conn->bev = bufferevent_socket_new(metrics->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    evtimer_add(conn->deadline, &metrics_timeout) == -1) {
		if (conn != NULL && conn->bev != NULL)
			bufferevent_free(conn->bev);
		else
			evutil_closesocket(fd);
		if (conn != NULL && conn->deadline != NULL)
			event_free(conn->deadline);
		free(conn);
		return;
	}
	conn->metrics = metrics;
	http_parser_init(&conn->parser, HTTP_REQUEST);
	conn->parser.data = conn;
	/* Reading stops past one request's worth of waiting input. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, METRICS_HEADERS_MAX);
	bufferevent_setcb(conn->bev, metrics_conn_read, metrics_conn_written,
	    metrics_conn_event, conn);
	bufferevent_enable(conn->bev, EV_READ);
	TAILQ_INSERT_TAIL(&metrics->conns, conn, entry);
	metrics->nconns++;
}

static void
metrics_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct metrics	*metrics = arg;

	evconnlistener_enable(metrics->listener);
}

/*
 * accept() failed (out of descriptors, most likely): the listener would
 * fire again at once, so it rests for a second instead of spinning.
 */
static void
metrics_accept_error(struct evconnlistener *listener, void *arg)
{
	struct metrics	*metrics = arg;
	struct timeval	 tv = { 1, 0 };

	log_warn("metrics: accept");
	evconnlistener_disable(listener);
	if (evtimer_add(metrics->retry, &tv) == -1)
		evconnlistener_enable(listener);
}

static char *
metrics_why(const char *what, int error)
{
	char	*why;

	if (asprintf(&why, "%s: %s", what, strerror(error)) == -1)
		return NULL;
	return why;
}

/* A listening TCP socket on sa; -1 with *why set. */
static int
metrics_socket(const struct sockaddr *sa, socklen_t salen, char **why)
{
	int	 fd, one = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*why = metrics_why("socket", errno);
		return -1;
	}
	/* A restart must not wait for the last run's TIME_WAIT sockets. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		*why = metrics_why("SO_REUSEADDR", errno);
		goto bad;
	}
	if (bind(fd, sa, salen) == -1) {
		*why = metrics_why("bind", errno);
		goto bad;
	}
	if (listen(fd, METRICS_BACKLOG) == -1) {
		*why = metrics_why("listen", errno);
		goto bad;
	}
	return fd;
bad:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Serves the metrics on sa.  The caller keeps the event loop running; a
 * forked child need not do anything, since it closes what it inherits.
 */
struct metrics *
metrics_listen(struct event_base *base, const struct sockaddr *sa,
    socklen_t salen, metrics_collect_fn collect, void *arg, char **why)
{
	struct metrics	*metrics;
	int		 fd;

	*why = NULL;
	if ((metrics = calloc(1, sizeof(*metrics))) == NULL) {
		*why = metrics_why("cannot listen", ENOMEM);
		return NULL;
	}
	metrics->base = base;
	metrics->collect = collect;
	metrics->arg = arg;
	TAILQ_INIT(&metrics->conns);
	if ((fd = metrics_socket(sa, salen, why)) == -1) {
		metrics_close(metrics);
		return NULL;
	}
	if ((metrics->retry = evtimer_new(base, metrics_accept_retry,
	    metrics)) == NULL || (metrics->listener = evconnlistener_new(base,
	    metrics_accept, metrics, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, 0, fd)) == NULL) {
		*why = metrics_why("cannot serve HTTP", ENOMEM);
		close(fd);
		metrics_close(metrics);
		return NULL;
	}
	evconnlistener_set_error_cb(metrics->listener, metrics_accept_error);
	return metrics;
}

void
metrics_close(struct metrics *metrics)
{
	if (metrics == NULL)
		return;
	while (!TAILQ_EMPTY(&metrics->conns))
		metrics_conn_free(TAILQ_FIRST(&metrics->conns));
	/* Frees the listener, which closes the socket. */
	if (metrics->listener != NULL)
		evconnlistener_free(metrics->listener);
	if (metrics->retry != NULL)
		event_free(metrics->retry);
	free(metrics);
}
