/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http: HTTP/1.1 with keep-alive and pipelining, answering every request
 * with the listener's fixed body.  Requests are parsed by http-parser
 * straight from the input buffer and answered in order; parsing stops
 * while SERVE_HTTP_BACKLOG of answers wait to be written (or any, once
 * the worker's buffer budget is spent), and the connection then stops
 * reading, so a pipelining peer that never reads costs a few KiB.  A
 * request is timed from its first byte (header_timeout, serve.c).
 * http-parser bounds the header size (80 KiB): a larger
 * header, like any parse error, gets 400 and the connection closes; so
 * does a head that breaks the syntax http-parser lets through
 * (http_syntax.c: whitespace before a colon, obs-fold, bare LF, ...), in
 * the head or in a chunked body, its chunks' lines and trailer section.
 *
 * On drain, every request still gets its answer, with "Connection:
 * close", and the connection closes after it.  One between requests is
 * kept for HTTP_DRAIN_IDLE_SEC more: closing it at once loses the request
 * that a back-to-back client has already sent, or is sending, on it.
 *
 * The answers are whole byte strings built once per listener when it
 * starts serving (a reload starts new workers, so new answers): a request
 * costs its parsing and one copy of the answer into the output.  A body
 * larger than SERVE_HTTP_BACKLOG is not copied: every answer references
 * the listener's one copy of it and of the header (evbuffer_add_reference),
 * which stay until the listener stopped and the last output referencing
 * them let go (a count of references), so a drain or a reload that frees
 * the listener while answers are queued is safe.  Such a connection's
 * output then costs it no memory and does not count against the worker's
 * buffer budget (serve_conn.out_shared); what bounds it is the backlog:
 * the next answer is queued only once all but SERVE_HTTP_BACKLOG of the
 * previous one went to the kernel.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include <http_parser.h>

#include "config/config.h"
#include "worker/handler.h"
#include "worker/http_syntax.h"
#include "worker/serve.h"
#include "common/stats.h"

#define HTTP_DEFAULT_BODY	"ok\n"
#define HTTP_DRAIN_IDLE_SEC	1
#define HTTP_BAD_REQUEST	"HTTP/1.1 400 Bad Request\r\n" \
				"Content-Type: text/plain\r\n" \
				"Content-Length: 12\r\n" \
				"Connection: close\r\n" \
				"\r\nbad request\n"

#define HTTP_OK_HEAD		"HTTP/1.1 200 OK\r\n" \
				"Content-Type: text/plain\r\n" \
				"Content-Length: %zu\r\n" \
				"%s\r\n"

/* The answers a request may get, by what the request asked for. */
enum http_answer_kind {
	HTTP_KEEP,		/* HTTP/1.1 keep-alive */
	HTTP_KEEP10,		/* HTTP/1.0 keep-alive: says so */
	HTTP_CLOSE,		/* the connection closes after it */
	HTTP_NANSWERS
};

struct http_answer {
	char		*buf;		/* header and body (copied), or header */
	size_t		 len;
	size_t		 head_len;	/* the header alone: HEAD */
};

/*
 * A listener's answers (serve_listener.hdata).  With a shared body, each
 * answer is its header followed by the body, both referenced.
 */
struct http_listener {
	struct http_answer	 answers[HTTP_NANSWERS];
	char			*body;		/* shared; NULL: in each buf */
	size_t			 body_len;
	/* The listener's own, and one per reference in an output. */
	unsigned long		 refs;
};

struct http_conn {
	struct serve_conn	 c;		/* first, see serve_conn_new() */
	http_parser		 parser;
	int			 in_request;	/* a request has begun */
	/* The head's syntax, scanned from the input given to the parser. */
	struct http_syntax	 syntax;
	const char		*chunk;		/* the input being parsed */
	const char		*chunk_end;
	/* Where the scan goes on in it, or NULL: at its start. */
	const char		*scan_from;
	/* The request just parsed. */
	int			 head;
	int			 keep_alive;
	int			 http10;
};

/*
 * A request that has begun gets its answer, also when the worker drains
 * and the connection was given HTTP_DRAIN_IDLE_SEC to start one.
 */
static int
http_on_message_begin(http_parser *p)
{
	struct http_conn	*hc = p->data;

	hc->in_request = 1;
	hc->syntax.state = HTTP_SYNTAX_IDLE;	/* until the target begins */
	serve_conn_request(&hc->c, 1);
	if (hc->c.serve->draining)
		serve_conn_timeout(&hc->c, NULL);
	return 0;
}

/* The head's scan begins with its request target's first byte. */
static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn	*hc = p->data;

	(void)len;
	if (hc->syntax.state == HTTP_SYNTAX_IDLE) {
		http_syntax_begin(&hc->syntax);
		hc->scan_from = at;
	}
	return 0;
}

/*
 * Scans the head's (or chunked body's) bytes in the input from where the
 * last scan stopped up to END, which may be past what the parser has
 * parsed: the scan stops where the head or body ends.
 */
static enum http_syntax_result
http_scan_head(struct http_conn *hc, const char *end)
{
	const char		*from = hc->scan_from != NULL ?
				    hc->scan_from : hc->chunk;
	enum http_syntax_result	 r;
	size_t			 used;

	r = http_syntax_scan(&hc->syntax, from,
	    end > from ? (size_t)(end - from) : 0, &used);
	hc->scan_from = from + used;
	return r;
}

/*
 * The parser found the head's end: so must the syntax scan, and the
 * framing must be one the request's version has; else the parser stops
 * with an error and the request gets 400.  A chunked body is scanned
 * next, from the byte after the head.
 */
static int
http_on_headers_complete(http_parser *p)
{
	struct http_conn	*hc = p->data;
	enum http_syntax_result	 r;

	r = http_scan_head(hc, hc->chunk_end);
	if (r != HTTP_SYNTAX_END || !http_syntax_framing_ok(&hc->syntax,
	    p->http_major, p->http_minor))
		return -1;
	if (p->flags & F_CHUNKED)
		http_syntax_begin_chunked(&hc->syntax);
	else
		hc->syntax.state = HTTP_SYNTAX_IDLE;
	return 0;
}

/* Pauses the parser after each request so it is answered before the next. */
static int
http_on_message_complete(http_parser *p)
{
	struct http_conn	*hc = p->data;

	/* A chunked body must end where the parser found it does. */
	if (hc->syntax.state != HTTP_SYNTAX_IDLE) {
		if (http_scan_head(hc, hc->chunk_end) != HTTP_SYNTAX_END)
			return -1;
		hc->syntax.state = HTTP_SYNTAX_IDLE;
	}
	hc->in_request = 0;
	serve_conn_request(&hc->c, 0);
	hc->head = p->method == HTTP_HEAD;
	hc->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	hc->http10 = p->http_major == 1 && p->http_minor == 0;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_headers_complete = http_on_headers_complete,
	.on_message_complete = http_on_message_complete,
};

static void
http_listener_free(struct http_listener *hl)
{
	int	 i;

	for (i = 0; i < HTTP_NANSWERS; i++)
		free(hl->answers[i].buf);
	free(hl->body);
	free(hl);
}

/* An output let go of a reference (evbuffer_ref_cleanup_cb). */
static void
http_listener_unref(const void *data, size_t len, void *arg)
{
	struct http_listener	*hl = arg;

	if (--hl->refs == 0)
		http_listener_free(hl);
}

static int
http_add_shared(struct evbuffer *out, struct http_listener *hl,
    const char *data, size_t len)
{
	if (evbuffer_add_reference(out, data, len, http_listener_unref,
	    hl) == -1)
		return -1;
	hl->refs++;
	return 0;
}

/*
 * Queues an answer: one copy of it, or references to the listener's
 * header and body.  A reference that fails after the header's leaves the
 * answer cut short, and the connection closes after it.
 */
static int
http_add_answer(struct http_conn *hc, const struct http_answer *a)
{
	struct http_listener	*hl = hc->c.sl->hdata;
	struct evbuffer		*out = hc->c.out;

	if (hl->body == NULL)
		return evbuffer_add(out, a->buf,
		    hc->head ? a->head_len : a->len);
	if (http_add_shared(out, hl, a->buf, a->head_len) == -1)
		return -1;
	return hc->head ? 0 : http_add_shared(out, hl, hl->body, hl->body_len);
}

/* Queues the answer to the request just parsed; false: close after it. */
static int
http_respond(struct http_conn *hc)
{
	const struct http_listener	*hl = hc->c.sl->hdata;
	int				 keep;

	keep = hc->keep_alive && !hc->c.serve->draining;
	if (http_add_answer(hc, &hl->answers[!keep ? HTTP_CLOSE :
	    hc->http10 ? HTTP_KEEP10 : HTTP_KEEP]) == -1) {
		STATS_ADD(hc->c.serve->stats, errors, 1);
		return 0;
	}
	return keep;
}

/* A static string: referenced, it costs the output nothing. */
static void
http_bad_request(struct http_conn *hc)
{
	evbuffer_add_reference(hc->c.out, HTTP_BAD_REQUEST,
	    sizeof(HTTP_BAD_REQUEST) - 1, NULL, NULL);
}

/*
 * Parses the LEN bytes at BUF and returns how many were used.  A head
 * (or a chunked body) that goes on past them has its part in them scanned
 * now, since the input is drained before the rest arrives; a break found
 * there already puts the parser in error, as its own checks do.
 */
static size_t
http_parse(struct http_conn *hc, const char *buf, size_t len)
{
	size_t	 n;

	hc->chunk = buf;
	hc->chunk_end = buf + len;
	hc->scan_from = NULL;
	n = http_parser_execute(&hc->parser, &http_settings, buf, len);
	if (hc->syntax.state != HTTP_SYNTAX_IDLE &&
	    HTTP_PARSER_ERRNO(&hc->parser) == HPE_OK &&
	    http_scan_head(hc, buf + n) == HTTP_SYNTAX_ERROR)
		hc->parser.http_errno = HPE_INVALID_HEADER_TOKEN;
	return n;
}

/*
 * Feeds the input to the parser and answers each complete request, until
 * the input is used up or the backlog is full: then reading stops until
 * the write hook finds the backlog written.
 */
static void
http_feed(struct serve_conn *c)
{
	struct http_conn	*hc = (struct http_conn *)c;
	struct evbuffer		*in = c->in;
	struct evbuffer_iovec	 v;
	enum http_errno		 err;
	size_t			 n;

	while (serve_conn_room(c, SERVE_HTTP_BACKLOG) > 0 &&
	    evbuffer_get_length(in) > 0) {
		/* Zero bytes would tell the parser the peer closed. */
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		n = http_parse(hc, v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		err = HTTP_PARSER_ERRNO(&hc->parser);
		if (err == HPE_PAUSED) {
			http_parser_pause(&hc->parser, 0);
			if (!http_respond(hc)) {
				serve_conn_finish(c);
				return;
			}
		} else if (err != HPE_OK || n < v.iov_len) {
			http_bad_request(hc);
			serve_conn_finish(c);
			return;
		}
	}
	serve_conn_hold(c, serve_conn_room(c, SERVE_HTTP_BACKLOG) == 0);
	if (evbuffer_get_length(in) == 0 && c->peer_eof)
		serve_conn_finish(c);
}

/*
 * The worker drains: the next request gets its answer and the connection
 * closes after it (http_respond()); a connection without one within
 * HTTP_DRAIN_IDLE_SEC closes then (the read timeout).
 */
static void
http_drain(struct serve_conn *c)
{
	static const struct timeval idle = { HTTP_DRAIN_IDLE_SEC, 0 };
	struct http_conn	*hc = (struct http_conn *)c;

	if (!hc->in_request)
		serve_conn_timeout(c, &idle);
	http_feed(c);
}

static void
http_conn_start(struct serve_conn *c)
{
	struct http_conn		*hc = (struct http_conn *)c;
	const struct http_listener	*hl = c->sl->hdata;

	http_parser_init(&hc->parser, HTTP_REQUEST);
	hc->parser.data = hc;
	hc->syntax.state = HTTP_SYNTAX_IDLE;
	/* Every byte of its output is then a reference (http_add_answer()). */
	c->out_shared = hl->body != NULL;
}

static const struct serve_conn_ops http_ops = {
	.start = http_conn_start,
	.read = http_feed,
	.write = http_feed,
	.eof = http_feed,
	.drain = http_drain,
};

/* Outputs still referencing the answers keep them until they let go. */
static void
http_listener_stop(struct serve_listener *sl)
{
	struct http_listener	*hl = sl->hdata;

	if (hl == NULL)
		return;
	sl->hdata = NULL;
	http_listener_unref(NULL, 0, hl);
}

/* The header and, unless it is shared (NULL), the body after it. */
static int
http_answer_build(struct http_answer *a, const char *body, size_t blen,
    const char *conn)
{
	size_t	 copied = body != NULL ? blen : 0;
	int	 head;

	head = snprintf(NULL, 0, HTTP_OK_HEAD, blen, conn);
	if (head < 0 || (a->buf = malloc((size_t)head + copied + 1)) == NULL)
		return -ENOMEM;
	snprintf(a->buf, (size_t)head + 1, HTTP_OK_HEAD, blen, conn);
	if (body != NULL)
		memcpy(a->buf + head, body, blen + 1);
	a->head_len = (size_t)head;
	a->len = (size_t)head + copied;
	return 0;
}

static int
http_listener_start(struct serve_listener *sl)
{
	static const char *const conn[HTTP_NANSWERS] = {
		[HTTP_KEEP] = "",
		[HTTP_KEEP10] = "Connection: keep-alive\r\n",
		[HTTP_CLOSE] = "Connection: close\r\n",
	};
	struct http_listener	*hl;
	const char		*body;
	size_t			 blen;
	int			 i;

	body = sl->conf->http_body != NULL ? sl->conf->http_body :
	    HTTP_DEFAULT_BODY;
	blen = strlen(body);
	if ((hl = calloc(1, sizeof(*hl))) == NULL)
		return -ENOMEM;
	hl->refs = 1;
	sl->hdata = hl;
	if (blen > SERVE_HTTP_BACKLOG) {
		if ((hl->body = strdup(body)) == NULL) {
			http_listener_stop(sl);
			return -ENOMEM;
		}
		hl->body_len = blen;
	}
	for (i = 0; i < HTTP_NANSWERS; i++)
		if (http_answer_build(&hl->answers[i],
		    hl->body != NULL ? NULL : body, blen, conn[i]) < 0) {
			http_listener_stop(sl);
			return -ENOMEM;
		}
	return 0;
}

/*
 * A listener started by tcp_serve_start() has its answers; one that was
 * not (a caller driving the handler alone) gets them with its first
 * connection, and loses them with its last (serve_listener_release()).
 */
static void
http_tcp_start(struct serve_listener *sl, evutil_socket_t fd,
    int incoming_cpu)
{
	if (sl->hdata == NULL && http_listener_start(sl) < 0) {
		STATS_ADD(sl->serve->stats, errors, 1);
		close(fd);
		serve_conn_done(sl->serve);
		return;
	}
	serve_conn_new(sl, fd, sizeof(struct http_conn), &http_ops);
}

const struct handler handler_http = {
	.name = "http",
	.tcp = 1,
	.udp = 0,
	.tcp_start = http_tcp_start,
	.udp_reply = NULL,
	.listener_start = http_listener_start,
	.listener_stop = http_listener_stop,
};
