/*
 * The worker plan for a configuration: which interfaces "auto" means for
 * its listen addresses, and the topology discovered for them.
 */
#ifndef AFFINITYD_PLAN_H
#define AFFINITYD_PLAN_H

#include "config.h"
#include "topology.h"
#include "util.h"

/* plan.c */
int	 plan_interfaces(const struct config *conf, const char *sysroot,
	    struct strv *ifaces, int *all);
int	 plan_discover(const struct config *conf, const char *sysroot,
	    const struct strv *cli_ifaces, int every_iface,
	    struct topology **topo);
void	 plan_log_warnings(const struct topology *topo);

#endif
