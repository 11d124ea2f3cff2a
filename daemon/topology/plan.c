/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker plan: which CPUs get a worker and which queues each one
 * serves, decided from the map topology.c discovered, as the options
 * ask; the plan keeps that map.  Nothing here logs: whatever looks wrong
 * becomes a warning of the plan for the caller, and an empty plan is an
 * error.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* The state of one planning. */
struct plan_ctx {
	const struct topo_options *opts;
	const struct topology	*topo;
	struct plan		*plan;
	int			 mapped; /* some queue has a CPU */
	int			 nomem;	/* a warning was lost */
};

static void
plan_warn(struct plan_ctx *ctx, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
plan_warn(struct plan_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (strv_vaddf(&ctx->plan->warnings, fmt, ap) < 0)
		ctx->nomem = 1;
	va_end(ap);
}

/* The worker of a CPU, by binary search; workers are in CPU order. */
static struct plan_worker *
plan_find_worker(struct plan *plan, int cpu)
{
	size_t	 lo = 0, hi = plan->nworkers, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((int)plan->workers[mid].cpu == cpu)
			return &plan->workers[mid];
		if ((int)plan->workers[mid].cpu < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One worker per CPU of cpus, each holding the queues processed there. */
static int
plan_fill_workers(struct plan *plan, const struct cpuset *cpus)
{
	const struct topology	*topo = plan->topo;
	const struct topo_iface	*iface;
	struct plan_worker	*w;
	size_t			 i, j;
	int			 cpu, r;

	if ((plan->workers = calloc(cpuset_count(cpus) + 1,
	    sizeof(*plan->workers))) == NULL)
		return -ENOMEM;
	CPUSET_FOREACH(cpu, cpus) {
		w = &plan->workers[plan->nworkers];
		w->id = (unsigned int)plan->nworkers++;
		w->cpu = (unsigned int)cpu;
	}
	for (i = 0; i < topo->nifaces; i++) {
		iface = &topo->ifaces[i];
		for (j = 0; j < iface->nqueues; j++) {
			if ((w = plan_find_worker(plan,
			    iface->queues[j].cpu)) == NULL)
				continue;
			if ((r = strv_addf(&w->queues, "%s:%u", iface->name,
			    iface->queues[j].queue)) < 0)
				return r;
		}
	}
	return 0;
}

/*
 * The CPUs that process a queue and may get a worker; a queue processed
 * on a CPU the daemon may not use is served by no local worker.
 */
static int
plan_queue_cpus(struct plan_ctx *ctx, struct cpuset *cpus)
{
	const struct topology	*topo = ctx->topo;
	const struct topo_queue	*q;
	size_t			 i, j;
	int			 r;

	for (i = 0; i < topo->nifaces; i++) {
		for (j = 0; j < topo->ifaces[i].nqueues; j++) {
			q = &topo->ifaces[i].queues[j];
			if (q->cpu < 0)
				continue;
			ctx->mapped = 1;
			if (!cpuset_has(topo->allowed, (unsigned int)q->cpu)) {
				plan_warn(ctx, "%s: queue %u is processed "
				    "on CPU %d, which the daemon may not use; "
				    "no worker there", topo->ifaces[i].name,
				    q->queue, q->cpu);
				continue;
			}
			if ((r = cpuset_add(cpus, (unsigned int)q->cpu)) < 0)
				return r;
		}
	}
	return 0;
}

/* The CPUs of an explicit worker list that the daemon may use. */
static int
plan_list(struct plan_ctx *ctx, struct cpuset *cpus)
{
	const struct cpuset	*list = ctx->opts->worker_cpus;
	int			 cpu, r;

	if (list == NULL)
		return 0;
	CPUSET_FOREACH(cpu, list) {
		if (!cpuset_has(ctx->topo->allowed, (unsigned int)cpu)) {
			plan_warn(ctx, "workers: CPU %d is not one the "
			    "daemon may use; skipped", cpu);
			continue;
		}
		if ((r = cpuset_add(cpus, (unsigned int)cpu)) < 0)
			return r;
	}
	return 0;
}

/* Says why a plan came out empty. */
static void
plan_empty(struct plan_ctx *ctx)
{
	char	*allowed;

	allowed = cpuset_format_list(ctx->topo->allowed);
	if (allowed == NULL)
		ctx->nomem = 1;
	else if (*allowed == '\0')
		plan_warn(ctx, "no worker: no CPU left that the daemon "
		    "may use (check exclude_cpus)");
	else if (ctx->opts->workers == TOPO_WORKERS_LIST)
		plan_warn(ctx, "no worker: none of the listed worker CPUs "
		    "is among the CPUs the daemon may use (%s)", allowed);
	else
		plan_warn(ctx, "no worker: no queue is processed on a CPU "
		    "the daemon may use (%s)", allowed);
	free(allowed);
}

/*
 * Turns the queue map into workers, as opts->workers asks.  With
 * rx-queues and no queue mapped to a CPU (every interface fell back),
 * every allowed CPU gets a worker.
 */
static int
plan_decide(struct plan_ctx *ctx)
{
	const struct topology	*topo = ctx->topo;
	struct cpuset		*queue_cpus, *cpus;
	int			 r;

	queue_cpus = cpuset_new();
	if ((cpus = cpuset_new()) == NULL || queue_cpus == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = plan_queue_cpus(ctx, queue_cpus)) < 0)
		goto out;
	switch (ctx->opts->workers) {
	case TOPO_WORKERS_LIST:
		r = plan_list(ctx, cpus);
		break;
	case TOPO_WORKERS_RX_QUEUES:
		if (ctx->mapped) {
			r = cpuset_or(cpus, queue_cpus);
			break;
		}
		/* FALLTHROUGH */
	case TOPO_WORKERS_CPUS:
		r = cpuset_or(cpus, topo->allowed);
		break;
	}
	if (r == 0)
		r = plan_fill_workers(ctx->plan, cpus);
	if (r == 0 && ctx->plan->nworkers == 0) {
		plan_empty(ctx);
		r = -EINVAL;
	}
out:
	cpuset_free(queue_cpus);
	cpuset_free(cpus);
	return r;
}

/*
 * Decides the workers of a discovered topology, as opts->workers asks,
 * into a new plan that keeps topo.  Returns 0, -EINVAL when the plan has
 * no worker (its warnings say why), or -ENOMEM.
 */
int
plan_make(struct topology *topo, const struct topo_options *opts,
    struct plan **planp)
{
	struct plan_ctx	 ctx;
	int		 r;

	if ((*planp = calloc(1, sizeof(**planp))) == NULL) {
		topology_free(topo);
		return -ENOMEM;
	}
	(*planp)->topo = topo;
	memset(&ctx, 0, sizeof(ctx));
	ctx.opts = opts;
	ctx.topo = topo;
	ctx.plan = *planp;
	r = plan_decide(&ctx);
	if (r == 0 && ctx.nomem)
		r = -ENOMEM;
	return r;
}

/*
 * A failed discovery still makes a plan, without workers, so that the
 * caller can log the warnings that say why.
 */
int
plan_discover(const struct topo_options *opts, struct plan **planp)
{
	struct topology	*topo = NULL;
	int		 r;

	if ((r = topology_discover(opts, &topo)) == 0)
		return plan_make(topo, opts, planp);
	if (topo == NULL) {
		*planp = NULL;
		return r;
	}
	if ((*planp = calloc(1, sizeof(**planp))) == NULL) {
		topology_free(topo);
		return r;
	}
	(*planp)->topo = topo;
	return r;
}

void
plan_free(struct plan *plan)
{
	size_t	 i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->nworkers; i++)
		strv_free(&plan->workers[i].queues);
	free(plan->workers);
	strv_free(&plan->warnings);
	topology_free(plan->topo);
	free(plan);
}

/* The CPUs that get a worker, as a set. */
int
plan_worker_cpus(const struct plan *plan, struct cpuset **setp)
{
	struct cpuset	*set;
	size_t		 i;
	int		 r = 0;

	if ((set = cpuset_new()) == NULL)
		return -ENOMEM;
	for (i = 0; i < plan->nworkers && r == 0; i++)
		r = cpuset_add(set, plan->workers[i].cpu);
	if (r < 0) {
		cpuset_free(set);
		return r;
	}
	*setp = set;
	return 0;
}

/* topology.workers in the plan's terms. */
enum topo_workers
plan_topo_workers(enum config_workers workers)
{
	switch (workers) {
	case CONFIG_WORKERS_CPUS:
		return TOPO_WORKERS_CPUS;
	case CONFIG_WORKERS_LIST:
		return TOPO_WORKERS_LIST;
	case CONFIG_WORKERS_RX_QUEUES:
		break;
	}
	return TOPO_WORKERS_RX_QUEUES;
}
