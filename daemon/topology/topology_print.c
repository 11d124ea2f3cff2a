/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Printing the topology map and worker plan: the JSON document that
 * scripts read (a DESIGN contract) and the aligned table a person reads.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/cpuset.h"
#include "common/json.h"
#include "topology/plan.h"
#include "topology/topology.h"

/* Adds a key to an object; the value's reference is taken, even on error. */
static int
topology_json_set(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(obj, key, value) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *
topology_json_int_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
topology_json_str_or_null(const char *s)
{
	return s == NULL ? json_null() : json_string(s);
}

static json_t *
topology_json_queue(const struct topo_queue *q)
{
	json_t	*obj;
	int	 r;

	if ((obj = json_object()) == NULL)
		return NULL;
	r = topology_json_set(obj, "queue", json_integer(q->queue));
	if (r == 0)
		r = topology_json_set(obj, "irq",
		    topology_json_int_or_null(q->irq));
	if (r == 0)
		r = topology_json_set(obj, "cpu",
		    topology_json_int_or_null(q->cpu));
	if (r == 0)
		r = topology_json_set(obj, "irq_cpus",
		    topology_json_str_or_null(q->irq_cpus));
	if (r == 0)
		r = topology_json_set(obj, "irq_cpus_list",
		    cpuset_list_json(q->irq_cpus));
	if (r == 0)
		r = topology_json_set(obj, "rps_cpus",
		    topology_json_str_or_null(q->rps_cpus));
	if (r == 0)
		r = topology_json_set(obj, "rps_cpus_list",
		    cpuset_list_json(q->rps_cpus));
	if (r == 0)
		r = topology_json_set(obj, "moving_to",
		    topology_json_int_or_null(q->moving_to));
	if (r < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *
topology_json_iface(const struct topo_iface *iface)
{
	json_t	*obj, *queues;
	size_t	 i;
	int	 r;

	if ((obj = json_object()) == NULL)
		return NULL;
	queues = json_array();
	r = topology_json_set(obj, "name", json_string(iface->name));
	if (r == 0)
		r = topology_json_set(obj, "driver",
		    json_string(iface->driver));
	if (r == 0)
		r = topology_json_set(obj, "source", json_string(
		    topology_source_name(iface->source)));
	if (r == 0)
		r = topology_json_set(obj, "queues", json_incref(queues));
	for (i = 0; r == 0 && i < iface->nqueues; i++)
		if (json_array_append_new(queues,
		    topology_json_queue(&iface->queues[i])) < 0)
			r = -ENOMEM;
	json_decref(queues);
	if (r < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *
topology_json_worker(const struct plan_worker *w)
{
	json_t	*obj;
	int	 r;

	if ((obj = json_object()) == NULL)
		return NULL;
	r = topology_json_set(obj, "id", json_integer(w->id));
	if (r == 0)
		r = topology_json_set(obj, "cpu", json_integer(w->cpu));
	if (r == 0)
		r = topology_json_set(obj, "queues",
		    strv_json(&w->queues));
	if (r < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* The map, its workers and every warning: discovery's, then the plan's. */
json_t *
topology_json(const struct plan *plan)
{
	const struct topology	*topo = plan->topo;
	json_t			*root, *ifaces, *workers;
	char			*allowed;
	size_t			 i;
	int			 r;

	if ((root = json_object()) == NULL)
		return NULL;
	ifaces = json_array();
	workers = json_array();
	r = topology_json_set(root, "interfaces", json_incref(ifaces));
	if (r == 0)
		r = topology_json_set(root, "workers", json_incref(workers));
	for (i = 0; r == 0 && i < topo->nifaces; i++)
		if (json_array_append_new(ifaces,
		    topology_json_iface(&topo->ifaces[i])) < 0)
			r = -ENOMEM;
	for (i = 0; r == 0 && i < plan->nworkers; i++)
		if (json_array_append_new(workers,
		    topology_json_worker(&plan->workers[i])) < 0)
			r = -ENOMEM;
	allowed = topo->allowed != NULL ? cpuset_format_list(topo->allowed) :
	    NULL;
	if (r == 0)
		r = topology_json_set(root, "allowed_cpus",
		    topology_json_str_or_null(allowed));
	if (r == 0)
		r = topology_json_set(root, "allowed_cpus_list", topo->allowed ?
		    cpuset_json(topo->allowed) : json_null());
	if (r == 0)
		r = topology_json_set(root, "warnings",
		    strv_json_append(strv_json(
		    &topo->warnings), &plan->warnings));
	free(allowed);
	json_decref(ifaces);
	json_decref(workers);
	if (r < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* A column of the table: its heading and width. */
struct topology_col {
	const char	*title;
	int		 width;
};

static void
topology_col_fit(struct topology_col *col, const char *text)
{
	int	 len = (int)strlen(text);

	if (len > col->width)
		col->width = len;
}

static void
topology_col_fit_int(struct topology_col *col, long v)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	topology_col_fit(col, buf);
}

static const char *
topology_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void
topology_table_iface(FILE *out, const struct topo_iface *iface)
{
	struct topology_col	 c[] = { { "queue", 5 }, { "irq", 3 },
				    { "cpu", 3 }, { "irq_cpus", 8 } };
	const struct topo_queue	*q;
	char			 irq[16], cpu[16];
	size_t			 i;

	fprintf(out, "%s  driver %s  source %s\n", iface->name, iface->driver,
	    topology_source_name(iface->source));
	for (i = 0; i < iface->nqueues; i++) {
		q = &iface->queues[i];
		topology_col_fit_int(&c[0], q->queue);
		topology_col_fit_int(&c[1], q->irq);
		topology_col_fit_int(&c[2], q->cpu);
		topology_col_fit(&c[3], topology_dash(q->irq_cpus));
	}
	fprintf(out, "  %*s  %*s  %*s  %-*s  %s\n", c[0].width, c[0].title,
	    c[1].width, c[1].title, c[2].width, c[2].title, c[3].width,
	    c[3].title, "rps_cpus");
	for (i = 0; i < iface->nqueues; i++) {
		q = &iface->queues[i];
		snprintf(irq, sizeof(irq), "%d", q->irq);
		snprintf(cpu, sizeof(cpu), "%d", q->cpu);
		fprintf(out, "  %*u  %*s  %*s  %-*s  %s", c[0].width,
		    q->queue, c[1].width, q->irq < 0 ? "-" : irq, c[2].width,
		    q->cpu < 0 ? "-" : cpu, c[3].width,
		    topology_dash(q->irq_cpus), topology_dash(q->rps_cpus));
		if (q->moving_to >= 0)
			fprintf(out, "  (IRQ moving to CPU %d at its next "
			    "interrupt)", q->moving_to);
		fputc('\n', out);
	}
	if (iface->nqueues == 0)
		fprintf(out, "  (no RX queues)\n");
}

static void
topology_table_workers(FILE *out, const struct plan *plan)
{
	struct topology_col	 c[] = { { "worker", 6 }, { "cpu", 3 } };
	const struct plan_worker *w;
	size_t			 i, j;

	for (i = 0; i < plan->nworkers; i++) {
		topology_col_fit_int(&c[0], plan->workers[i].id);
		topology_col_fit_int(&c[1], plan->workers[i].cpu);
	}
	fprintf(out, "workers\n  %*s  %*s  %s\n", c[0].width, c[0].title,
	    c[1].width, c[1].title, "queues");
	for (i = 0; i < plan->nworkers; i++) {
		w = &plan->workers[i];
		fprintf(out, "  %*u  %*u  ", c[0].width, w->id, c[1].width,
		    w->cpu);
		for (j = 0; j < w->queues.n; j++)
			fprintf(out, "%s%s", j ? "," : "", w->queues.v[j]);
		fprintf(out, "%s\n", w->queues.n == 0 ? "-" : "");
	}
	if (plan->nworkers == 0)
		fprintf(out, "  (none)\n");
}

/*
 * The map and the plan as a table a person reads, with the notes that
 * explain it (an interface's fallback); warnings are not shown.
 */
int
topology_print_table(FILE *out, const struct plan *plan)
{
	const struct topology	*topo = plan->topo;
	char			*allowed = NULL;
	size_t			 i;

	for (i = 0; i < topo->nifaces; i++) {
		topology_table_iface(out, &topo->ifaces[i]);
		fputc('\n', out);
	}
	for (i = 0; i < topo->notes.n; i++)
		fprintf(out, "%s%s", topo->notes.v[i],
		    i + 1 == topo->notes.n ? "\n\n" : "\n");
	topology_table_workers(out, plan);
	if (topo->allowed != NULL &&
	    (allowed = cpuset_format_list(topo->allowed)) == NULL)
		return -ENOMEM;
	fprintf(out, "\nallowed CPUs: %s\n", allowed != NULL && *allowed ?
	    allowed : "none");
	free(allowed);
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return 0;
}
