/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Doctor checks on the queue IRQs the plan relies on: a running
 * irqbalance and IRQs not yet where they were sent (topology/irqcheck.c's
 * verdicts, which irq_affinity = "spread" logs too), IRQs delivered to
 * several CPUs or to CPUs without a worker, queues that share a CPU and
 * workers with no queue.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/irqcheck.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* A verdict of topology/irqcheck.c as the finding of check; returns r. */
static int
doctor_irqcheck(struct doctor_report *rep, const char *check,
    struct irqcheck_result *res, int r)
{
	static const enum doctor_status	 status[] = {
		[IRQCHECK_OK] = DOCTOR_OK,
		[IRQCHECK_WARN] = DOCTOR_WARN,
		[IRQCHECK_FAIL] = DOCTOR_FAIL,
	};
	struct doctor_finding		*f;

	if (res->why != NULL) {
		f = doctor_add(rep, check, status[res->status], "%s", res->why);
		if (res->fix != NULL)
			doctor_fix(rep, f, "%s", res->fix);
	}
	if (res->nomem)
		rep->nomem = 1;
	irqcheck_result_free(res);
	return r;
}

int
doctor_check_irqbalance(const char *sysroot, const struct topology *topo,
    struct doctor_report *rep)
{
	struct irqcheck_result	 res = { 0 };
	int			 r;

	r = irqcheck_irqbalance(sysroot, topo, &res);
	return doctor_irqcheck(rep, "irqbalance", &res, r);
}

int
doctor_check_irq_moved(const char *sysroot, int irq, const char *name,
    int cpu, struct doctor_report *rep)
{
	struct irqcheck_result	 res = { 0 };
	int			 r;

	r = irqcheck_irq_moved(sysroot, irq, name, cpu, &res);
	return doctor_irqcheck(rep, "irq-moved", &res, r);
}

/* The CPU asked for in smp_affinity_list when it names just one, else -1. */
static int
doctor_asked_cpu(const char *sysroot, int irq)
{
	struct cpuset	*smp = NULL;
	char		*path;
	int		 cpu = -1;

	if ((path = sysroot_path(sysroot, "proc/irq/%d/smp_affinity_list",
	    irq)) == NULL)
		return -ENOMEM;
	if (cpuset_read_list_file(path, &smp) == 0 && cpuset_count(smp) == 1)
		cpu = cpuset_first(smp);
	cpuset_free(smp);
	free(path);
	return cpu;
}

/* One queue's IRQ: several CPUs, a CPU without a worker, not yet moved. */
static int
doctor_queue(const struct doctor_host *host, const struct topo_iface *ifc,
    const struct topo_queue *q, const struct cpuset *online,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	const struct cpuset	*exclude = host->conf->exclude_cpus;
	char			 name[64];
	int			 asked, warned = 0;

	snprintf(name, sizeof(name), "%s queue %u", ifc->name, q->queue);
	if (q->rps_cpus == NULL && q->irq_cpus != NULL &&
	    strpbrk(q->irq_cpus, ",-") != NULL) {
		f = doctor_add(rep, "irq-affinity", DOCTOR_WARN, "%s: IRQ %d "
		    "may be delivered to any of CPUs %s, but its worker sits on "
		    "CPU %d: packets handled on the others reach a remote "
		    "worker", name, q->irq, q->irq_cpus, q->cpu);
		doctor_fix(rep, f, "pin it to one CPU: echo %d > "
		    "/proc/irq/%d/smp_affinity_list, or set "
		    "topology.irq_affinity = \"spread\"", q->cpu, q->irq);
		warned = 1;
	}
	if (q->cpu >= 0 && online != NULL &&
	    !cpuset_has(online, (unsigned int)q->cpu)) {
		f = doctor_add(rep, "irq-affinity", DOCTOR_WARN, "%s is "
		    "processed on CPU %d, which is offline", name, q->cpu);
		doctor_fix(rep, f, "bring CPU %d online (echo 1 > "
		    "/sys/devices/system/cpu/cpu%d/online), or pin IRQ %d to an "
		    "online CPU", q->cpu, q->cpu, q->irq);
		warned = 1;
	} else if (q->cpu >= 0 && exclude != NULL &&
	    cpuset_has(exclude, (unsigned int)q->cpu)) {
		f = doctor_add(rep, "irq-affinity", DOCTOR_WARN, "%s is "
		    "processed on CPU %d, which topology.exclude_cpus keeps free "
		    "of workers: every flow of the queue goes to a remote "
		    "worker", name, q->cpu);
		doctor_fix(rep, f, "move IRQ %d to a worker CPU (echo CPU > "
		    "/proc/irq/%d/smp_affinity_list, or topology.irq_affinity "
		    "= \"spread\"), or take CPU %d out of exclude_cpus", q->irq,
		    q->irq, q->cpu);
		warned = 1;
	}
	if ((asked = doctor_asked_cpu(host->sysroot, q->irq)) == -ENOMEM)
		return -ENOMEM;
	if (asked >= 0 && (asked = doctor_check_irq_moved(host->sysroot,
	    q->irq, name, asked, rep)) < 0)
		return asked;
	return warned || asked > 0;
}

/*
 * irq-affinity and irq-moved: every queue IRQ of the plan delivered to one
 * online CPU outside exclude_cpus, where it was asked to go.
 */
int
doctor_check_queues(const struct doctor_host *host, struct doctor_report *rep)
{
	const struct topology	*topo = host->plan->topo;
	const struct topo_iface	*ifc;
	struct cpuset		*online = NULL;
	size_t			 i, j, nirqs = 0;
	int			 r = 0, warned = 0;

	if (cpuset_online(host->sysroot, &online) == -ENOMEM)
		return -ENOMEM;
	for (i = 0; i < topo->nifaces && r >= 0; i++) {
		ifc = &topo->ifaces[i];
		for (j = 0; j < ifc->nqueues && r >= 0; j++) {
			if (ifc->queues[j].irq < 0)
				continue;
			nirqs++;
			r = doctor_queue(host, ifc, &ifc->queues[j], online,
			    rep);
			warned |= r > 0;
		}
	}
	cpuset_free(online);
	if (r < 0)
		return r;
	if (nirqs == 0)
		doctor_add(rep, "irq-affinity", DOCTOR_OK, "no queue of the "
		    "plan has an IRQ of its own: packets are processed where "
		    "they were sent or where RPS puts them");
	else if (!warned)
		doctor_add(rep, "irq-affinity", DOCTOR_OK, "%s%zu queue IRQ%s "
		    "is delivered to one online CPU, where it was asked to go",
		    nirqs == 1 ? "the " : "each of the ", nirqs,
		    nirqs == 1 ? "" : "s");
	return 0;
}

/* The queues of a worker, "eth0:0, eth0:1". */
static char *
doctor_queue_list(const struct strv *queues)
{
	char	*text = NULL;
	size_t	 len, i;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < queues->n; i++)
		fprintf(f, "%s%s", i ? ", " : "", queues->v[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* queue-sharing: a worker CPU that processes several queues. */
static int
doctor_check_sharing(const struct plan *plan, struct doctor_report *rep)
{
	const struct plan_worker	*w;
	struct doctor_finding		*f;
	size_t				 i, shared = 0;
	char				*list;

	for (i = 0; i < plan->nworkers; i++) {
		w = &plan->workers[i];
		if (w->queues.n < 2)
			continue;
		if ((list = doctor_queue_list(&w->queues)) == NULL)
			return -ENOMEM;
		f = doctor_add(rep, "queue-sharing", DOCTOR_WARN, "CPU %u "
		    "processes %zu queues (%s), all served by its one worker, "
		    "while they could spread the load", w->cpu, w->queues.n,
		    list);
		doctor_fix(rep, f, "give each queue a CPU of its own "
		    "(topology.irq_affinity = \"spread\", or echo CPU > "
		    "/proc/irq/N/smp_affinity_list), or use fewer queues "
		    "(ethtool -L IFACE combined N)");
		free(list);
		shared++;
	}
	if (shared == 0)
		doctor_add(rep, "queue-sharing", DOCTOR_OK, "no two queues "
		    "share a worker CPU");
	return 0;
}

/* worker-queues: worker CPUs that process no queue. */
static int
doctor_check_idle(const struct plan *plan, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*idle;
	char			*list;
	size_t			 i;
	int			 r = 0;

	if ((idle = cpuset_new()) == NULL)
		return -ENOMEM;
	for (i = 0; i < plan->nworkers && r == 0; i++)
		if (plan->workers[i].queues.n == 0)
			r = cpuset_add(idle, plan->workers[i].cpu);
	if (r < 0 || (list = cpuset_format_list(idle)) == NULL) {
		cpuset_free(idle);
		return -ENOMEM;
	}
	if (cpuset_empty(idle))
		doctor_add(rep, "worker-queues", DOCTOR_OK, "every worker CPU "
		    "processes at least one queue");
	else {
		f = doctor_add(rep, "worker-queues", DOCTOR_WARN, "the "
		    "worker%s on CPU%s %s process%s no RX queue: %s only the "
		    "flows that have no local worker", cpuset_count(idle) > 1 ?
		    "s" : "", cpuset_count(idle) > 1 ? "s" : "", list,
		    cpuset_count(idle) > 1 ? "" : "es",
		    cpuset_count(idle) > 1 ? "they get" : "it gets");
		doctor_fix(rep, f, "leave CPU%s %s out of topology.workers "
		    "(\"rx-queues\" follows the queues), or give %s queues "
		    "(ethtool -L IFACE combined N, topology.irq_affinity = "
		    "\"spread\")", cpuset_count(idle) > 1 ? "s" : "", list,
		    cpuset_count(idle) > 1 ? "them" : "it");
	}
	free(list);
	cpuset_free(idle);
	return 0;
}

/*
 * queue-sharing and worker-queues; when no queue maps to a CPU (every
 * interface fell back to one worker per CPU) neither applies.
 */
int
doctor_check_workers(const struct doctor_host *host,
    struct doctor_report *rep)
{
	const struct topology	*topo = host->plan->topo;
	size_t			 i, j;
	int			 r, mapped = 0;

	for (i = 0; i < topo->nifaces; i++)
		for (j = 0; j < topo->ifaces[i].nqueues; j++)
			mapped |= topo->ifaces[i].queues[j].cpu >= 0;
	if (!mapped) {
		doctor_add(rep, "worker-queues", DOCTOR_OK, "no queue maps to "
		    "a CPU, so every CPU the daemon may use has a worker and "
		    "each flow is served where it was processed");
		return 0;
	}
	if ((r = doctor_check_sharing(host->plan, rep)) < 0)
		return r;
	return doctor_check_idle(host->plan, rep);
}
