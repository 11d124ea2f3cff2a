/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus text format 0.0.4 of a scrape: the daemon's own families,
 * one sample per CPU for each counter (what the CPU's workers counted since
 * the start, so that a reload or a respawn never takes one back), and one
 * sample per serving worker for each gauge, read from its stats slot.
 */
#include "acconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/stats.h"
#include "master/metrics.h"
#include "master/metrics_text.h"

/* The help of each counter family, named after the counter. */
static const char *const metrics_counter_help[STATS_NCOUNTERS] = {
	[STATS_ACCEPTED] = "TCP connections accepted.",
	[STATS_DATAGRAMS] = "UDP datagrams received.",
	[STATS_BYTES_IN] = "Bytes received on connections and in datagrams.",
	[STATS_BYTES_OUT] = "Bytes sent on connections and in datagrams.",
	[STATS_LOCAL] = "TCP connections by locality: local when the CPU "
	    "that received their packets is the worker's CPU, remote when it "
	    "is another CPU.",
	[STATS_ERRORS] = "Errors while serving.",
	[STATS_CPU_MISMATCHES] = "Times a worker found itself off its CPU.",
	[STATS_IDLE_TIMEOUTS] = "TCP connections closed after idle_timeout "
	    "without traffic.",
	[STATS_HEADER_TIMEOUTS] = "HTTP connections closed when a request was "
	    "not complete within header_timeout.",
	[STATS_EVICTED] = "Idle TCP connections closed to make room for a new "
	    "one at max_connections.",
	[STATS_RESTARTS] = "Times the master restarted a worker.",
};

/* The per-worker gauges, in the order they are written. */
enum metrics_gauge {
	MG_OPEN,
	MG_BUFFERED,
	MG_HEARTBEAT_AGE,	/* nanoseconds; written as seconds */
	MG_COUNT
};

static const struct {
	const char	*name;
	const char	*help;
} metrics_gauges[MG_COUNT] = {
	[MG_OPEN] = { "affinityd_open_connections",
	    "Connections the worker holds open." },
	[MG_BUFFERED] = { "affinityd_buffered_bytes",
	    "Bytes the worker's connections hold in their buffers." },
	[MG_HEARTBEAT_AGE] = { "affinityd_heartbeat_age_seconds",
	    "Seconds since the worker's last heartbeat." },
};

static int
metrics_header(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0 ? -ENOMEM : 0;
}

/* One counter family, one sample per CPU (the locality as a label). */
static int
metrics_counter(struct evbuffer *out, enum stats_counter c,
    const struct metrics_sample *sample)
{
	const struct metrics_cpu	*mc;
	char				 name[64];
	size_t				 i;

	if (c == STATS_REMOTE)		/* a label of the local family */
		return 0;
	snprintf(name, sizeof(name), "affinityd_%s_total", c == STATS_LOCAL ?
	    "connections" : stats_counter_name(c));
	if (metrics_header(out, name, "counter", metrics_counter_help[c]) < 0)
		return -ENOMEM;
	for (i = 0; i < sample->ncpus; i++) {
		mc = &sample->cpus[i];
		if (c == STATS_LOCAL ? evbuffer_add_printf(out, "%s{cpu=\"%u\","
		    "locality=\"local\"} %" PRIu64 "\n%s{cpu=\"%u\",locality="
		    "\"remote\"} %" PRIu64 "\n", name, mc->cpu,
		    mc->counts.n[STATS_LOCAL], name, mc->cpu,
		    mc->counts.n[STATS_REMOTE]) < 0 :
		    evbuffer_add_printf(out, "%s{cpu=\"%u\"} %" PRIu64 "\n",
		    name, mc->cpu, mc->counts.n[c]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* One worker's gauge, read while it writes on; 0: no sample (no beat). */
static int
metrics_gauge_value(const struct metrics_worker *w, enum metrics_gauge g,
    uint64_t now_ns, uint64_t *v)
{
	const struct stats_slot	*s = w->slot;
	uint64_t		 beat;

	*v = 0;
	if (s == NULL)
		return g != MG_HEARTBEAT_AGE;
	switch (g) {
	case MG_OPEN:
		*v = STATS_GET(s, open_conns);
		return 1;
	case MG_BUFFERED:
		*v = STATS_GET(s, buffered);
		return 1;
	default:
		/* Before its first beat a worker has no age: no sample then. */
		if ((beat = STATS_GET(s, heartbeat_ns)) == 0)
			return 0;
		*v = now_ns > beat ? now_ns - beat : 0;
		return 1;
	}
}

static int
metrics_gauge(struct evbuffer *out, enum metrics_gauge g,
    const struct metrics_sample *sample, uint64_t now_ns)
{
	const struct metrics_worker	*w;
	const char			*name = metrics_gauges[g].name;
	uint64_t			 v;
	size_t				 i;
	int				 n = 0;

	if (metrics_header(out, name, "gauge", metrics_gauges[g].help) < 0)
		return -ENOMEM;
	for (i = 0; i < sample->nworkers && n >= 0; i++) {
		w = &sample->workers[i];
		if (!metrics_gauge_value(w, g, now_ns, &v))
			continue;
		if (g != MG_HEARTBEAT_AGE)
			n = evbuffer_add_printf(out, "%s{worker=\"%u\",cpu=\"%u\"} "
			    "%" PRIu64 "\n", name, w->id, w->cpu, v);
		else
			n = evbuffer_add_printf(out, "%s{worker=\"%u\",cpu=\"%u\"} "
			    "%" PRIu64 ".%03" PRIu64 "\n", name, w->id, w->cpu,
			    v / 1000000000, v / 1000000 % 1000);
	}
	return n < 0 ? -ENOMEM : 0;
}

/* What the daemon is, and since when. */
static int
metrics_daemon(struct evbuffer *out, const struct metrics_sample *sample)
{
	if (metrics_header(out, "affinityd_build_info", "gauge",
	    "The version of affinityd serving; always 1.") < 0 ||
	    evbuffer_add_printf(out, "affinityd_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION) < 0 ||
	    metrics_header(out, "affinityd_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the epoch.") < 0 ||
	    evbuffer_add_printf(out, "affinityd_start_time_seconds %.3f\n",
	    sample->start_time) < 0)
		return -ENOMEM;
	return 0;
}

/* The generation serving, its workers and how flows reach them. */
static int
metrics_generation(struct evbuffer *out, const struct metrics_sample *sample)
{
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
		return -ENOMEM;
	if (sample->steering != NULL &&
	    (metrics_header(out, "affinityd_steering_info", "gauge",
	    "How flows reach the workers: the method in use, and "
	    "topology.steering as configured (auto: chosen by a self-test).")
	    < 0 || evbuffer_add_printf(out, "affinityd_steering_info{method="
	    "\"%s\",config=\"%s\"} 1\n", sample->steering,
	    sample->steering_config) < 0))
		return -ENOMEM;
	return 0;
}

int
metrics_format(const struct metrics_sample *sample, uint64_t now_ns,
    struct evbuffer *out)
{
	int	 c, g, r;

	if ((r = metrics_daemon(out, sample)) < 0 ||
	    (r = metrics_generation(out, sample)) < 0)
		return r;
	for (c = 0; c < STATS_NCOUNTERS; c++)
		if ((r = metrics_counter(out, (enum stats_counter)c,
		    sample)) < 0)
			return r;
	for (g = 0; g < MG_COUNT; g++)
		if ((r = metrics_gauge(out, (enum metrics_gauge)g, sample,
		    now_ns)) < 0)
			return r;
	return 0;
}
