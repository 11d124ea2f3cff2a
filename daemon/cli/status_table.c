/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The table "affinityd status" prints from the document it receives over
 * the admin socket: the daemon's first lines, one row per worker and a
 * total row.  It reads the key names of this daemon's documents, and the
 * older ones where a daemon of an earlier version answers.
 */
#include "acconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/status_table.h"
#include "common/util.h"

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

/* A worker's count under its name, or under an older daemon's. */
static json_int_t
status_count_as(json_t *w, const char *key, const char *old_key)
{
	return status_count_of(w, json_object_get(w, key) != NULL ? key :
	    old_key);
}

/* The heartbeat's age in ms, from either daemon's key; -1: none yet. */
static json_int_t
status_heartbeat_ms(json_t *w)
{
	json_t	*age = json_object_get(w, "heartbeat_age_seconds");

	if (json_is_number(age))
		return (json_int_t)(json_number_value(age) * 1000.0);
	return age != NULL ? -1 : status_int(w, "heartbeat_age_ms");
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

	local = status_count_as(w, "connections_local", "local");
	remote = status_count_as(w, "connections_remote", "remote");
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
	    status_heartbeat_cell(t, row, status_heartbeat_ms(w)) == -1)
		return -1;
#define STATUS_COUNT_CELL(col, key, old_key, sum) do {			\
	v = status_count_as(w, key, old_key);				\
	tot->sum += v;							\
	if (status_cell(t, row, col, "%" PRId64, (int64_t)v) == -1)	\
		return -1;						\
} while (0)
	STATUS_COUNT_CELL(COL_ACCEPTED, "accepted", "accepted", accepted);
	STATUS_COUNT_CELL(COL_DATAGRAMS, "datagrams", "datagrams", datagrams);
	STATUS_COUNT_CELL(COL_RESTARTS, "restarts", "restarts", restarts);
	STATUS_COUNT_CELL(COL_OPEN, "open_connections", "open_conns", open);
	STATUS_COUNT_CELL(COL_ERRORS, "errors", "errors", errors);
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
