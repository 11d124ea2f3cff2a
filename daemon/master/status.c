/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "status" document: the master's state and one object per worker,
 * built from what the master passes in (its generation, its workers, their
 * stats slots and their CPUs' counts).  cli/status_table.c prints it.
 */
#include "acconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/cpuset.h"
#include "common/json.h"
#include "common/stats.h"
#include "common/util.h"
#include "master/status.h"

static json_int_t
status_count(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

/* Sets key to value, which it takes; -1 when either failed. */
static int
status_set(json_t *obj, const char *key, json_t *value)
{
	return value == NULL || json_object_set_new(obj, key, value) == -1 ?
	    -1 : 0;
}

static json_t *
status_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Each counter under its name ("accepted", "bytes_received", ...). */
static int
status_set_counts(json_t *obj, const struct stats_counts *counts)
{
	int	 c;

	for (c = 0; c < STATS_NCOUNTERS; c++)
		if (status_set(obj, stats_counter_name((enum stats_counter)c),
		    json_integer(status_count(counts->n[c]))) == -1)
			return -1;
	return 0;
}

/*
 * The keys of layout 0, kept for the programs that read them: the
 * counters under their first names, the age in milliseconds.
 */
static int
status_set_aliases(json_t *obj, const struct stats_counts *counts,
    uint64_t open, json_t *age_ms)
{
	if (status_set(obj, "heartbeat_age_ms", age_ms) == -1 ||
	    status_set(obj, "local", json_integer(status_count(
	    counts->n[STATS_LOCAL]))) == -1 ||
	    status_set(obj, "remote", json_integer(status_count(
	    counts->n[STATS_REMOTE]))) == -1 ||
	    status_set(obj, "bytes_in", json_integer(status_count(
	    counts->n[STATS_BYTES_IN]))) == -1 ||
	    status_set(obj, "bytes_out", json_integer(status_count(
	    counts->n[STATS_BYTES_OUT]))) == -1 ||
	    status_set(obj, "open_conns", json_integer(status_count(open)))
	    == -1)
		return -1;
	return 0;
}

json_t *
status_worker_json(const struct status_worker *w)
{
	const struct stats_slot	*slot = w->slot;
	uint64_t		 beat = 0, now, age_ns = 0, open = 0, buffered = 0;
	json_t			*obj;
	int			 beaten, r;

	if (slot != NULL) {
		beat = STATS_GET(slot, heartbeat_ns);
		open = STATS_GET(slot, open_conns);
		buffered = STATS_GET(slot, buffered);
	}
	/* Before its first beat a worker has neither an age nor a CPU. */
	if ((beaten = beat != 0)) {
		now = stats_now_ns();
		age_ns = now > beat ? now - beat : 0;
	}
	if ((obj = json_object()) == NULL)
		return NULL;
	r = status_set(obj, "id", json_integer(w->id)) == -1 ||
	    status_set(obj, "pid", json_integer(w->pid)) == -1 ||
	    status_set(obj, "cpu", json_integer(w->cpu)) == -1 ||
	    status_set(obj, "state", status_str_or_null(w->state)) == -1 ||
	    status_set(obj, "queues", strv_json(w->queues)) == -1 ||
	    status_set_counts(obj, &w->counts) == -1 ||
	    status_set(obj, "last_cpu", beaten ?
	    json_integer(STATS_GET(slot, last_cpu)) : json_null()) == -1 ||
	    status_set(obj, "open_connections", json_integer(status_count(
	    open))) == -1 ||
	    status_set(obj, "buffered_bytes", json_integer(status_count(
	    buffered))) == -1 ||
	    status_set(obj, "draining", json_boolean(slot != NULL &&
	    STATS_GET(slot, draining) != 0)) == -1 ||
	    status_set(obj, "heartbeat_age_seconds", beaten ?
	    json_real((double)age_ns / 1e9) : json_null()) == -1 ||
	    status_set_aliases(obj, &w->counts, open, beaten ?
	    json_integer((json_int_t)(age_ns / 1000000)) : json_null()) == -1;
	if (r) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * How flows reach the workers, and what can be said of UDP locality under
 * it: the receiving CPU of an unconnected datagram cannot be observed,
 * and neither SO_INCOMING_CPU nor a classic BPF program counts anything.
 */
static int
status_set_steering(json_t *doc, const struct status_input *in)
{
	int	 cbpf = in->steering != NULL && strcmp(in->steering, "cbpf") == 0;
	char	*list = NULL;
	int	 r;

	if (in->fallback_cpus != NULL &&
	    (list = cpuset_format_list(in->fallback_cpus)) == NULL)
		return -1;
	r = status_set(doc, "steering", status_str_or_null(in->steering)) ||
	    status_set(doc, "steering_config",
	    status_str_or_null(in->steering_config)) ||
	    status_set(doc, "steering_reason",
	    status_str_or_null(in->steering_reason)) ||
	    status_set(doc, "fallback_cpus", json_string(list ? list : "")) ||
	    status_set(doc, "fallback_cpus_list",
	    cpuset_json(in->fallback_cpus)) ||
	    status_set(doc, "udp_locality", json_string("unobservable")) ||
	    status_set(doc, "udp_locality_reason", json_string(cbpf ?
	    "not measured: the receiving CPU of an unconnected datagram "
	    "cannot be observed and a classic BPF program cannot count; by "
	    "construction every datagram processed on a worker's CPU reaches "
	    "that worker, and only the fallback CPUs send to others" :
	    "not measured: the receiving CPU of an unconnected datagram "
	    "cannot be observed"));
	free(list);
	return r ? -1 : 0;
}

static json_t *
status_workers_json(const struct status_input *in)
{
	json_t	*workers;
	size_t	 i;

	if ((workers = json_array()) == NULL)
		return NULL;
	for (i = 0; i < in->nworkers; i++)
		if (json_array_append_new(workers,
		    status_worker_json(&in->workers[i])) == -1) {
			json_decref(workers);
			return NULL;
		}
	return workers;
}

json_t *
status_json(const struct status_input *in)
{
	json_t	*doc, *totals;

	if ((doc = json_object()) == NULL)
		return NULL;
	if ((totals = json_object()) == NULL ||
	    status_set_counts(totals, &in->totals) == -1 ||
	    status_set(doc, "version", json_integer(STATUS_LAYOUT_VERSION)) ||
	    status_set(doc, "daemon_version", json_string(PACKAGE_VERSION)) ||
	    status_set(doc, "pid", json_integer(in->pid)) ||
	    status_set(doc, "start_time_seconds", json_real(in->start_time)) ||
	    status_set(doc, "generation", json_integer(in->generation)) ||
	    status_set(doc, "draining_workers", json_integer(
	    (json_int_t)in->draining)) ||
	    status_set(doc, "remaps", json_integer(status_count(in->remaps))) ||
	    status_set_steering(doc, in) == -1 ||
	    status_set(doc, "workers", status_workers_json(in)) ||
	    status_set(doc, "totals", json_incref(totals))) {
		json_decref(totals);
		json_decref(doc);
		return NULL;
	}
	json_decref(totals);
	return doc;
}
