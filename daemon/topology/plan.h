/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker plan: the CPUs that get a worker and the queues each one
 * serves, decided from the discovered topology, which the plan keeps
 * (plan.c); printing it (topology_print.c); and the plan for a
 * configuration, whose "auto" interfaces are those of its listen
 * addresses (plan_conf.c).
 */
#ifndef AFFINITYD_PLAN_H
#define AFFINITYD_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "common/util.h"
#include "config/config.h"
#include "topology/topology.h"

struct cpuset;

struct plan_worker {
	unsigned int	 id;
	unsigned int	 cpu;
	struct strv	 queues;	/* "eth0:3" */
};

/*
 * A plan owns the topology it was decided from (the facts: interfaces,
 * queues, CPUs, discovery's warnings and notes) and adds its workers and
 * the warnings of the decision, which follow discovery's.
 */
struct plan {
	struct topology		*topo;		/* never NULL */
	struct plan_worker	*workers;	/* in CPU order */
	size_t			 nworkers;
	struct strv		 warnings;	/* for the caller to log */
};

/*
 * plan.c: plan_discover() discovers the map (topology_discover()) and
 * decides its workers (plan_make()): 0, or its error, or -EINVAL when
 * the plan has no worker (the warnings say why).  *plan is set even on
 * error (NULL only when it could not be allocated); free it with
 * plan_free().  plan_make() decides the workers of a discovered topology
 * into a new plan that takes topo over (freed with the plan, even when
 * it returns an error); *plan is NULL only on -ENOMEM.
 */
int	 plan_discover(const struct topo_options *opts, struct plan **plan);
int	 plan_make(struct topology *topo, const struct topo_options *opts,
	    struct plan **plan);
void	 plan_free(struct plan *plan);
int	 plan_worker_cpus(const struct plan *plan, struct cpuset **set);
enum topo_workers plan_topo_workers(enum config_workers workers);

/* topology_print.c: the map and its workers ("interfaces", "workers"). */
struct json_t;
struct json_t *topology_json(const struct plan *plan);
int	 topology_print_table(FILE *out, const struct plan *plan);

/* plan_conf.c */
int	 plan_conf_discover(const struct config *conf, const char *sysroot,
	    const struct strv *cli_ifaces, struct plan **plan);
/*
 * plan_conf_log_warnings() logs the plan's warnings, discovery's first
 * (a command's; its notes are not worth an operator's stderr).
 * plan_conf_log_changes() is the master's: it logs the facts of the plan
 * (warnings, and notes at info) that last does not hold, then makes last
 * hold the plan's, so that a fact is logged when it appears, not at
 * every rescan that sees it again.
 */
void	 plan_conf_log_warnings(const struct plan *plan);
void	 plan_conf_log_changes(const struct plan *plan, struct strv *last);

#endif
