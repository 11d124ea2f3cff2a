/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus text format 0.0.4 of a scrape: one family per counter,
 * one sample per worker, read from the stats slots as they are written.
 */
#include "acconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "master/metrics.h"
#include "master/metrics_text.h"
#include "common/stats.h"

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
	MF_IDLE_TIMEOUTS,
	MF_HEADER_TIMEOUTS,
	MF_EVICTED,
	MF_BUFFERED,
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
	[MF_IDLE_TIMEOUTS] = { "affinityd_idle_timeouts_total", "counter",
	    "TCP connections closed after idle_timeout without traffic." },
	[MF_HEADER_TIMEOUTS] = { "affinityd_header_timeouts_total", "counter",
	    "HTTP connections closed when a request was not complete within "
	    "header_timeout." },
	[MF_EVICTED] = { "affinityd_evicted_total", "counter",
	    "Idle TCP connections closed to make room for a new one at "
	    "max_connections." },
	[MF_BUFFERED] = { "affinityd_buffered_bytes", "gauge",
	    "Bytes the worker's connections hold in their buffers." },
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
	mv->v[MF_IDLE_TIMEOUTS] = STATS_GET(s, idle_timeouts);
	mv->v[MF_HEADER_TIMEOUTS] = STATS_GET(s, header_timeouts);
	mv->v[MF_EVICTED] = STATS_GET(s, evicted);
	mv->v[MF_BUFFERED] = STATS_GET(s, buffered);
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

int
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
