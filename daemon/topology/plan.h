/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker plan: the CPUs that get a worker and the queues each one
 * serves, decided from the discovered topology (plan.c); and the plan for
 * a configuration, whose "auto" interfaces are those of its listen
 * addresses (plan_conf.c).
 */
#ifndef AFFINITYD_PLAN_H
#define AFFINITYD_PLAN_H

#include "config/config.h"
#include "topology/topology.h"

struct cpuset;
struct strv;

/*
 * plan.c: plan_discover() discovers the map (topology_discover()) and
 * decides its workers (plan_workers()): 0, or its error, or -EINVAL when
 * the plan has no worker (the warnings say why).
 */
int	 plan_discover(const struct topo_options *opts,
	    struct topology **topo);
int	 plan_workers(struct topology *topo, const struct topo_options *opts);
int	 plan_worker_cpus(const struct topology *topo, struct cpuset **set);
enum topo_workers plan_topo_workers(enum config_workers workers);

/* plan_conf.c */
int	 plan_conf_discover(const struct config *conf, const char *sysroot,
	    const struct strv *cli_ifaces, int every_iface,
	    struct topology **topo);
/*
 * plan_conf_log_warnings() logs topo's warnings (a command's; its notes
 * are not worth an operator's stderr).  plan_conf_log_changes() is the
 * master's: it logs the facts of topo (warnings, and notes at info) that
 * last does not hold, then makes last hold topo's, so that a fact is
 * logged when it appears, not at every rescan that sees it again.
 */
void	 plan_conf_log_warnings(const struct topology *topo);
void	 plan_conf_log_changes(const struct topology *topo, struct strv *last);

#endif
