/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The doctor's run: every check in the order a person reads them: the
 * plan, its queue IRQs, steering outside the plan, the kernel's own
 * steering, sysctls and limits, then the boot binding.  Printing the
 * report is the caller's.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* The plan itself: without workers nothing else matters much. */
static int
doctor_check_plan(const struct doctor_host *host, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*cpus;
	char			*list;
	size_t			 i, nqueues = 0;

	if (host->plan == NULL || host->plan->nworkers == 0) {
		f = doctor_add(rep, "plan", DOCTOR_FAIL, "no worker plan: %s",
		    host->plan_error == -EINVAL || host->plan_error == 0 ?
		    "no CPU the daemon may use processes a queue or is "
		    "listed in topology.workers" :
		    read_file_error(host->plan_error, NULL));
		doctor_fix(rep, f, "run \"affinityd topology\" with the same "
		    "options to see the queues and the warnings that say why");
		return 0;
	}
	if (plan_worker_cpus(host->plan, &cpus) < 0)
		return -ENOMEM;
	list = cpuset_format_list(cpus);
	cpuset_free(cpus);
	if (list == NULL)
		return -ENOMEM;
	for (i = 0; i < host->plan->topo->nifaces; i++)
		nqueues += host->plan->topo->ifaces[i].nqueues;
	doctor_add(rep, "plan", DOCTOR_OK, "%zu worker%s on CPU%s %s for %zu "
	    "RX queue%s of %zu interface%s", host->plan->nworkers,
	    host->plan->nworkers == 1 ? "" : "s",
	    host->plan->nworkers == 1 ? "" : "s", list, nqueues,
	    nqueues == 1 ? "" : "s", host->plan->topo->nifaces,
	    host->plan->topo->nifaces == 1 ? "" : "s");
	free(list);
	return 0;
}

static int
doctor_check_irqbalance_host(const struct doctor_host *host,
    struct doctor_report *rep)
{
	return doctor_check_irqbalance(host->sysroot, host->plan->topo, rep);
}

static int
doctor_check_tcp_migrate_req_host(const struct doctor_host *host,
    struct doctor_report *rep)
{
	return doctor_check_tcp_migrate_req(host->sysroot, rep);
}

/*
 * Runs every check; those that need the plan are left out when there is
 * none.  Returns 0, or -ENOMEM when a finding was lost.
 */
int
doctor_run(const struct doctor_host *host, struct doctor_report *rep)
{
	static const struct {
		int	(*check)(const struct doctor_host *,
			    struct doctor_report *);
		int	  needs_plan;
	} checks[] = {
		{ doctor_check_plan, 0 },
		{ doctor_check_irqbalance_host, 1 },
		{ doctor_check_queues, 1 },
		{ doctor_check_workers, 1 },
		{ doctor_check_rps, 1 },
		{ doctor_check_xps, 1 },
		{ doctor_check_threaded, 1 },
		{ doctor_check_steering, 1 },
		{ doctor_check_somaxconn, 0 },
		{ doctor_check_tcp_migrate_req_host, 0 },
		{ doctor_check_nofile, 1 },
		{ doctor_check_housekeeping, 1 },
		{ doctor_check_tasks, 1 },
		{ doctor_check_cmdline, 1 },
		{ doctor_check_cpuset, 1 },
	};
	size_t	 i;
	int	 planned;

	planned = host->plan != NULL && host->plan->nworkers > 0;
	for (i = 0; i < ARRAY_SIZE(checks); i++)
		if ((planned || !checks[i].needs_plan) &&
		    checks[i].check(host, rep) < 0)
			rep->nomem = 1;
	return rep->nomem ? -ENOMEM : 0;
}
