/*
 * The Prometheus endpoint of the master: an evhttp server on the master's
 * event base answering GET /metrics in text format 0.0.4.  What to show
 * comes from a callback, so this file knows stats slots but not the
 * master; a scrape only reads the slots, it never blocks the loop.
 */
#include "acconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "util.h"

#define METRICS_PATH		"/metrics"
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4"
#define METRICS_BACKLOG		64

struct metrics {
	struct metrics		*next;		/* in metrics_all */
	struct event_base	*base;
	struct evhttp		*http;
	struct evconnlistener	*listener;	/* owned by http */
	struct event		*retry;
	metrics_collect_fn	 collect;
	void			*arg;
	int			 fd;
};

/*
 * Every open endpoint: the listener's error callback is given the evhttp
 * (its accept callback's argument), and finds its endpoint here.
 */
static struct metrics	*metrics_all;

/* The per-worker families, in the order they are written. */
enum metrics_field {
	MF_ACCEPTED,
	MF_DATAGRAMS,
	MF_BYTES_IN,
	MF_BYTES_OUT,
	MF_LOCAL,
	MF_REMOTE,
	MF_ERRORS,
	MF_CPU_MISMATCHES,
	MF_RESTARTS,
	MF_OPEN,
	MF_HEARTBEAT_AGE,	/* nanoseconds; written as seconds */
	MF_COUNT
};

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} metrics_families[MF_COUNT] = {
	[MF_ACCEPTED] = { "affinityd_accepted_total", "counter",
	    "TCP connections accepted." },
	[MF_DATAGRAMS] = { "affinityd_datagrams_total", "counter",
	    "UDP datagrams received." },
	[MF_BYTES_IN] = { "affinityd_bytes_received_total", "counter",
	    "Bytes received on connections and in datagrams." },
	[MF_BYTES_OUT] = { "affinityd_bytes_sent_total", "counter",
	    "Bytes sent on connections and in datagrams." },
	[MF_LOCAL] = { "affinityd_local_total", "counter",
	    "TCP connections whose incoming CPU is the worker's CPU." },
	[MF_REMOTE] = { "affinityd_remote_total", "counter",
	    "TCP connections whose incoming CPU is another CPU." },
	[MF_ERRORS] = { "affinityd_errors_total", "counter",
	    "Errors while serving." },
	[MF_CPU_MISMATCHES] = { "affinityd_cpu_mismatches_total", "counter",
	    "Times the worker found itself off its CPU." },
	[MF_RESTARTS] = { "affinityd_restarts_total", "counter",
	    "Times the master restarted the worker." },
	[MF_OPEN] = { "affinityd_open_connections", "gauge",
	    "Connections the worker holds open." },
	[MF_HEARTBEAT_AGE] = { "affinityd_heartbeat_age_seconds", "gauge",
	    "Seconds since the worker's last heartbeat." },
};

/* One worker's values, read field by field while it writes on. */
struct metrics_values {
	uint64_t	 v[MF_COUNT];
	int		 beaten;	/* a heartbeat, so an age, exists */
};

static void
metrics_values(const struct metrics_worker *w, uint64_t now_ns,
    struct metrics_values *mv)
{
	const struct stats_slot	*s = w->slot;
	uint64_t		 beat;

	memset(mv, 0, sizeof(*mv));
	mv->v[MF_RESTARTS] = w->restarts;
	if (s == NULL)
		return;
	mv->v[MF_ACCEPTED] = STATS_GET(s, accepted);
	mv->v[MF_DATAGRAMS] = STATS_GET(s, datagrams);
	mv->v[MF_BYTES_IN] = STATS_GET(s, bytes_in);
	mv->v[MF_BYTES_OUT] = STATS_GET(s, bytes_out);
	mv->v[MF_LOCAL] = STATS_GET(s, local);
	mv->v[MF_REMOTE] = STATS_GET(s, remote);
	mv->v[MF_ERRORS] = STATS_GET(s, errors);
	mv->v[MF_CPU_MISMATCHES] = STATS_GET(s, cpu_mismatches);
	mv->v[MF_OPEN] = STATS_GET(s, open_conns);
	/* Before its first beat a worker has no age: no sample then. */
	if ((beat = STATS_GET(s, heartbeat_ns)) != 0) {
		mv->beaten = 1;
		mv->v[MF_HEARTBEAT_AGE] = now_ns > beat ? now_ns - beat : 0;
	}
}

static int
metrics_header(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0 ? -ENOMEM : 0;
}

static int
metrics_family(struct evbuffer *out, enum metrics_field f,
    const struct metrics_sample *sample, const struct metrics_values *mv)
{
	const struct metrics_worker	*w;
	uint64_t			 v;
	size_t				 i;
	int				 n;

	if (metrics_header(out, metrics_families[f].name,
	    metrics_families[f].type, metrics_families[f].help) < 0)
		return -ENOMEM;
	for (i = 0; i < sample->nworkers; i++) {
		w = &sample->workers[i];
		v = mv[i].v[f];
		if (f != MF_HEARTBEAT_AGE)
			n = evbuffer_add_printf(out, "%s{worker=\"%u\",cpu=\"%u\"} "
			    "%" PRIu64 "\n", metrics_families[f].name, w->id,
			    w->cpu, v);
		else if (mv[i].beaten)
			n = evbuffer_add_printf(out, "%s{worker=\"%u\",cpu=\"%u\"} "
			    "%" PRIu64 ".%03" PRIu64 "\n",
			    metrics_families[f].name, w->id, w->cpu,
			    v / 1000000000, v / 1000000 % 1000);
		else
			n = 0;
		if (n < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Appends the text exposition of sample to out, with heartbeat ages taken
 * against now_ns (CLOCK_MONOTONIC); 0 or -ENOMEM.
 */
static int
metrics_format(const struct metrics_sample *sample, uint64_t now_ns,
    struct evbuffer *out)
{
	struct metrics_values	*mv;
	size_t			 i;
	int			 f, r = 0;

	if ((mv = calloc(sample->nworkers + 1, sizeof(*mv))) == NULL)
		return -ENOMEM;
	for (i = 0; i < sample->nworkers; i++)
		metrics_values(&sample->workers[i], now_ns, &mv[i]);
	if (metrics_header(out, "affinityd_generation", "gauge",
	    "The generation of workers serving now; 0 while starting.") < 0 ||
	    evbuffer_add_printf(out, "affinityd_generation %u\n",
	    sample->generation) < 0 ||
	    metrics_header(out, "affinityd_workers", "gauge",
	    "Workers in the serving generation.") < 0 ||
	    evbuffer_add_printf(out, "affinityd_workers %zu\n",
	    sample->nworkers) < 0 ||
	    metrics_header(out, "affinityd_remaps_total", "counter",
	    "Times the workers were re-mapped to a changed machine (queue "
	    "moved, queues or CPUs added or removed) without a reload.") < 0 ||
	    evbuffer_add_printf(out, "affinityd_remaps_total %" PRIu64 "\n",
	    sample->remaps) < 0)
		r = -ENOMEM;
	if (r == 0 && sample->steering != NULL &&
	    (metrics_header(out, "affinityd_steering_info", "gauge",
	    "How flows reach the workers: the method in use, and "
	    "topology.steering as configured (auto: chosen by a self-test).")
	    < 0 || evbuffer_add_printf(out, "affinityd_steering_info{method="
	    "\"%s\",config=\"%s\"} 1\n", sample->steering,
	    sample->steering_config) < 0))
		r = -ENOMEM;
	for (f = 0; f < MF_COUNT && r == 0; f++)
		r = metrics_family(out, (enum metrics_field)f, sample, mv);
	free(mv);
	return r;
}

int
metrics_sample_add(struct metrics_sample *sample, unsigned int id,
    unsigned int cpu, unsigned int restarts, const struct stats_slot *slot)
{
	struct metrics_worker	*grown;
	size_t			 cap;

	if (sample->nworkers == sample->cap) {
		cap = sample->cap ? sample->cap * 2 : 16;
		if ((grown = reallocarray(sample->workers, cap,
		    sizeof(*grown))) == NULL)
			return -ENOMEM;
		sample->workers = grown;
		sample->cap = cap;
	}
	sample->workers[sample->nworkers++] = (struct metrics_worker){
	    .id = id, .cpu = cpu, .restarts = restarts, .slot = slot };
	return 0;
}

static void
metrics_sample_free(struct metrics_sample *sample)
{
	free(sample->workers);
	memset(sample, 0, sizeof(*sample));
}

/*
 * A HEAD reply's Content-Length is the GET body's, and its body is empty:
 * evhttp leaves out the length for HEAD but would still send the body.
 */
static void
metrics_headers(struct evhttp_request *req, struct evbuffer *body)
{
	struct evkeyvalq	*headers = evhttp_request_get_output_headers(req);
	char			 len[32];

	evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		return;
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
	evhttp_add_header(headers, "Content-Length", len);
	evbuffer_drain(body, evbuffer_get_length(body));
}

/* The scrape: the document as the callback describes it now. */
static void
metrics_reply(struct metrics *metrics, struct evhttp_request *req)
{
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
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		metrics_headers(req, body);
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	}
	if (body != NULL)
		evbuffer_free(body);
}

/* 405 with an Allow header, which evhttp_send_error() would drop. */
static void
metrics_refuse(struct evhttp_request *req)
{
	struct evkeyvalq	*headers = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;

	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(body, "405 Method Not Allowed: %s takes GET "
	    "and HEAD only\n", METRICS_PATH) < 0) {
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	evhttp_add_header(headers, "Allow", "GET, HEAD");
	evhttp_add_header(headers, "Content-Type", "text/plain");
	evhttp_add_header(headers, "Connection", "close");
	evhttp_send_reply(req, HTTP_BADMETHOD, "Method Not Allowed", body);
	evbuffer_free(body);
}

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	if (path == NULL || strcmp(path, METRICS_PATH) != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		metrics_refuse(req);
		return;
	}
	metrics_reply(arg, req);
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
	struct metrics	*metrics;
	struct timeval	 tv = { 1, 0 };

	log_warn("metrics: accept");
	for (metrics = metrics_all; metrics != NULL; metrics = metrics->next)
		if (metrics->http == arg)
			break;
	evconnlistener_disable(listener);
	if (metrics == NULL || evtimer_add(metrics->retry, &tv) == -1)
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

static int
metrics_serve(struct metrics *metrics, int fd)
{
	struct evhttp_bound_socket	*bound;

	if ((metrics->http = evhttp_new(metrics->base)) == NULL ||
	    (metrics->retry = evtimer_new(metrics->base, metrics_accept_retry,
	    metrics)) == NULL)
		return -1;
	evhttp_set_timeout(metrics->http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(metrics->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(metrics->http, METRICS_HEADERS_MAX);
	/* Every method reaches the callback, so that it can answer 405. */
	evhttp_set_allowed_methods(metrics->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(metrics->http, metrics_request, metrics);
	metrics->listener = evconnlistener_new(metrics->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    0, fd);
	if (metrics->listener == NULL)
		return -1;
	metrics->fd = fd;
	evconnlistener_set_error_cb(metrics->listener, metrics_accept_error);
	if ((bound = evhttp_bind_listener(metrics->http,
	    metrics->listener)) == NULL) {
		evconnlistener_free(metrics->listener);
		metrics->listener = NULL;
		return -1;
	}
	return 0;
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
	metrics->fd = -1;
	if ((fd = metrics_socket(sa, salen, why)) == -1) {
		metrics_close(metrics);
		return NULL;
	}
	if (metrics_serve(metrics, fd) == -1) {
		*why = metrics_why("cannot serve HTTP", ENOMEM);
		if (metrics->fd == -1)
			close(fd);
		metrics_close(metrics);
		return NULL;
	}
	metrics->next = metrics_all;
	metrics_all = metrics;
	return metrics;
}

void
metrics_close(struct metrics *metrics)
{
	struct metrics	**pp;

	if (metrics == NULL)
		return;
	for (pp = &metrics_all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == metrics) {
			*pp = metrics->next;
			break;
		}
	/* Frees the listener, which closes the socket. */
	if (metrics->http != NULL)
		evhttp_free(metrics->http);
	if (metrics->retry != NULL)
		event_free(metrics->retry);
	free(metrics);
}
