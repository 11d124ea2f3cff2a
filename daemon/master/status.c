/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "status" document: the master's state and one object per worker,
 * built from what the master passes in (its generation, its workers, their
 * stats slots and their CPUs' counts), and the table "affinityd status"
 * prints from the document it receives over the admin socket.
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

/*
 * The table: a header, one row per worker and a total row, each cell a
 * malloc'd string, so that every column can be as wide as its widest cell.
 */
enum {
	COL_ID, COL_PID, COL_CPU, COL_QUEUES, COL_ACCEPTED, COL_LOCAL,
	COL_DATAGRAMS, COL_RESTARTS, COL_OPEN, COL_ERRORS, COL_HEARTBEAT,
	COL_COUNT
};

static const struct {
	const char	*title;
	int		 left;		/* text, aligned left */
} status_columns[COL_COUNT] = {
	{ "ID", 0 }, { "PID", 0 }, { "CPU", 0 }, { "QUEUES", 1 },
	{ "ACCEPTED", 0 }, { "LOCAL%", 0 }, { "DATAGRAMS", 0 },
	{ "RESTARTS", 0 }, { "OPEN", 0 }, { "ERRORS", 0 }, { "HEARTBEAT", 0 },
};

struct status_table {
	char	**cells;	/* rows * COL_COUNT */
	size_t	  rows;
};

struct status_totals {
	json_int_t	 accepted, local, remote, datagrams, restarts;
	json_int_t	 open, errors;
};

static int PRINTFLIKE(4, 5)
status_cell(struct status_table *t, size_t row, int col, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&t->cells[row * COL_COUNT + col], fmt, ap);
	va_end(ap);
	if (r < 0) {
		t->cells[row * COL_COUNT + col] = NULL;
		return -1;
	}
	return 0;
}

/* An integer member, or -1 when it is missing or null. */
static json_int_t
status_int(json_t *obj, const char *key)
{
	json_t	*v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* A count that is never negative, even from a malformed document. */
static json_int_t
status_count_of(json_t *obj, const char *key)
{
	json_int_t	 v = status_int(obj, key);

	return v < 0 ? 0 : v;
}

static int
status_local_cell(struct status_table *t, size_t row, json_int_t local,
    json_int_t remote)
{
	if (local + remote <= 0)
		return status_cell(t, row, COL_LOCAL, "-");
	return status_cell(t, row, COL_LOCAL, "%.1f",
	    100.0 * (double)local / (double)(local + remote));
}

static int
status_queues_cell(struct status_table *t, size_t row, json_t *queues)
{
	json_t	*q;
	size_t	 i, len = 0;
	char	*s;

	json_array_foreach(queues, i, q) {
		if (json_is_string(q))
			len += json_string_length(q) + 1;
	}
	if (len == 0)
		return status_cell(t, row, COL_QUEUES, "-");
	if ((s = calloc(1, len)) == NULL)
		return -1;
	json_array_foreach(queues, i, q) {
		if (!json_is_string(q))
			continue;
		if (*s != '\0')
			strcat(s, ",");
		strcat(s, json_string_value(q));
	}
	t->cells[row * COL_COUNT + COL_QUEUES] = s;
	return 0;
}

static int
status_heartbeat_cell(struct status_table *t, size_t row, json_int_t ms)
{
	if (ms < 0)
		return status_cell(t, row, COL_HEARTBEAT, "-");
	if (ms < 10000)
		return status_cell(t, row, COL_HEARTBEAT, "%.1fs",
		    (double)ms / 1000.0);
	return status_cell(t, row, COL_HEARTBEAT, "%" PRId64 "s",
	    (int64_t)(ms / 1000));
}

static int
status_worker_row(struct status_table *t, size_t row, json_t *w,
    struct status_totals *tot)
{
	json_int_t	 pid, local, remote, v;
	json_t		*queues;

	local = status_count_of(w, "local");
	remote = status_count_of(w, "remote");
	pid = status_int(w, "pid");
	queues = json_object_get(w, "queues");
	tot->local += local;
	tot->remote += remote;
	if (status_cell(t, row, COL_ID, "%" PRId64, (int64_t)status_int(w,
	    "id")) == -1 ||
	    (pid > 0 ? status_cell(t, row, COL_PID, "%" PRId64, (int64_t)pid) :
	    status_cell(t, row, COL_PID, "-")) == -1 ||
	    status_cell(t, row, COL_CPU, "%" PRId64,
	    (int64_t)status_int(w, "cpu")) == -1 ||
	    status_queues_cell(t, row, queues) == -1 ||
	    status_local_cell(t, row, local, remote) == -1 ||
	    status_heartbeat_cell(t, row,
	    status_int(w, "heartbeat_age_ms")) == -1)
		return -1;
#define STATUS_COUNT_CELL(col, key, sum) do {				\
	v = status_count_of(w, key);					\
	tot->sum += v;							\
	if (status_cell(t, row, col, "%" PRId64, (int64_t)v) == -1)	\
		return -1;						\
} while (0)
	STATUS_COUNT_CELL(COL_ACCEPTED, "accepted", accepted);
	STATUS_COUNT_CELL(COL_DATAGRAMS, "datagrams", datagrams);
	STATUS_COUNT_CELL(COL_RESTARTS, "restarts", restarts);
	STATUS_COUNT_CELL(COL_OPEN, "open_conns", open);
	STATUS_COUNT_CELL(COL_ERRORS, "errors", errors);
#undef STATUS_COUNT_CELL
	return 0;
}

static int
status_total_row(struct status_table *t, size_t row,
    const struct status_totals *tot)
{
	if (status_cell(t, row, COL_ID, "total") == -1 ||
	    status_cell(t, row, COL_PID, "%s", "") == -1 ||
	    status_cell(t, row, COL_CPU, "%s", "") == -1 ||
	    status_cell(t, row, COL_QUEUES, "%s", "") == -1 ||
	    status_cell(t, row, COL_ACCEPTED, "%" PRId64,
	    (int64_t)tot->accepted) == -1 ||
	    status_local_cell(t, row, tot->local, tot->remote) == -1 ||
	    status_cell(t, row, COL_DATAGRAMS, "%" PRId64,
	    (int64_t)tot->datagrams) == -1 ||
	    status_cell(t, row, COL_RESTARTS, "%" PRId64,
	    (int64_t)tot->restarts) == -1 ||
	    status_cell(t, row, COL_OPEN, "%" PRId64, (int64_t)tot->open) == -1 ||
	    status_cell(t, row, COL_ERRORS, "%" PRId64,
	    (int64_t)tot->errors) == -1 ||
	    status_cell(t, row, COL_HEARTBEAT, "%s", "") == -1)
		return -1;
	return 0;
}

/*
 * The total row counts since the start, workers gone included, when the
 * document says so ("totals"); open connections are those of the rows.
 */
static void
status_totals_since_start(json_t *doc, struct status_totals *tot)
{
	json_t	*totals = json_object_get(doc, "totals");

	if (!json_is_object(totals))
		return;
	tot->accepted = status_count_of(totals, "accepted");
	tot->local = status_count_of(totals, "connections_local");
	tot->remote = status_count_of(totals, "connections_remote");
	tot->datagrams = status_count_of(totals, "datagrams");
	tot->restarts = status_count_of(totals, "restarts");
	tot->errors = status_count_of(totals, "errors");
}

/* Pads each cell to its column; a row ends at its last non-empty cell. */
static void
status_table_print(FILE *out, const struct status_table *t)
{
	size_t	 width[COL_COUNT] = { 0 }, row, len;
	int	 col, last;
	char	*cell;

	for (row = 0; row < t->rows; row++)
		for (col = 0; col < COL_COUNT; col++) {
			len = strlen(t->cells[row * COL_COUNT + col]);
			if (len > width[col])
				width[col] = len;
		}
	for (row = 0; row < t->rows; row++) {
		for (last = COL_COUNT - 1; last > 0; last--)
			if (*t->cells[row * COL_COUNT + last] != '\0')
				break;
		for (col = 0; col <= last; col++) {
			cell = t->cells[row * COL_COUNT + col];
			fprintf(out, "%s%*s", col > 0 ? "  " : "",
			    status_columns[col].left ? -(int)width[col] :
			    (int)width[col], cell);
		}
		fputc('\n', out);
	}
}

static void
status_table_free(struct status_table *t)
{
	size_t	 i;

	for (i = 0; i < t->rows * COL_COUNT; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Workers that ran elsewhere than their CPU lose what affinityd is for. */
static void
status_print_mismatches(FILE *out, json_t *workers)
{
	json_int_t	 n, last;
	json_t		*w;
	size_t		 i;

	json_array_foreach(workers, i, w) {
		if ((n = status_count_of(w, "cpu_mismatches")) == 0)
			continue;
		fprintf(out, "warning: worker %" PRId64 " ran off its CPU %"
		    PRId64 " (seen %" PRId64 " time%s", (int64_t)status_int(w,
		    "id"), (int64_t)status_int(w, "cpu"), (int64_t)n,
		    n == 1 ? "" : "s");
		if ((last = status_int(w, "last_cpu")) >= 0)
			fprintf(out, ", last on CPU %" PRId64, (int64_t)last);
		fprintf(out, ")\n");
	}
}

static const char *
status_str(json_t *doc, const char *key)
{
	const char	*s = json_string_value(json_object_get(doc, key));

	return s != NULL ? s : "";
}

/* "steering cbpf (auto): why", and the CPUs that fall back. */
static void
status_print_steering(FILE *out, json_t *doc)
{
	const char	*method = status_str(doc, "steering");

	if (*method == '\0')
		return;
	fprintf(out, "steering %s (%s): %s\n", method,
	    status_str(doc, "steering_config"),
	    status_str(doc, "steering_reason"));
	if (strcmp(method, "cbpf") == 0 &&
	    *status_str(doc, "fallback_cpus") != '\0')
		fprintf(out, "CPUs %s have no worker: the program sends their "
		    "flows to the workers in turn\n",
		    status_str(doc, "fallback_cpus"));
}

static void
status_print_udp(FILE *out, json_t *doc)
{
	const char	*why = status_str(doc, "udp_locality_reason");

	/* A daemon of layout 0 wrote the sentence as udp_locality. */
	if (*why == '\0' && json_object_get(doc, "version") == NULL)
		why = status_str(doc, "udp_locality");

	if (*why == '\0')
		why = "not measured: the receiving CPU of an unconnected "
		    "datagram cannot be observed";
	fprintf(out, "UDP locality: %s.\n", why);
}

int
status_print_table(FILE *out, json_t *doc)
{
	struct status_table	 t = { 0 };
	struct status_totals	 tot = { 0 };
	json_t			*workers, *w;
	json_int_t		 generation;
	size_t			 i, n;
	int			 col, r = -1;

	workers = json_object_get(doc, "workers");
	if (!json_is_array(workers))
		return -1;
	n = json_array_size(workers);
	t.rows = n + 2;
	if ((t.cells = calloc(t.rows * COL_COUNT, sizeof(*t.cells))) == NULL)
		return -1;
	for (col = 0; col < COL_COUNT; col++)
		if (status_cell(&t, 0, col, "%s",
		    status_columns[col].title) == -1)
			goto out;
	json_array_foreach(workers, i, w)
		if (status_worker_row(&t, i + 1, w, &tot) == -1)
			goto out;
	status_totals_since_start(doc, &tot);
	if (status_total_row(&t, n + 1, &tot) == -1)
		goto out;

	if (*status_str(doc, "daemon_version") != '\0')
		fprintf(out, "affinityd %s, ", status_str(doc,
		    "daemon_version"));
	if ((generation = status_int(doc, "generation")) >= 0)
		fprintf(out, "generation %" PRId64 ", ", (int64_t)generation);
	fprintf(out, "%zu worker%s\n", n, n == 1 ? "" : "s");
	status_print_steering(out, doc);
	fputc('\n', out);
	status_table_print(out, &t);
	fprintf(out, "\nCounts are per CPU since the daemon started; the "
	    "total includes CPUs that have no worker now.\n"
	    "LOCAL%%: TCP connections whose packets the worker's own CPU "
	    "received.\n");
	status_print_udp(out, doc);
	status_print_mismatches(out, workers);
	r = fflush(out) == EOF || ferror(out) ? -1 : 0;
out:
	status_table_free(&t);
	return r;
}
