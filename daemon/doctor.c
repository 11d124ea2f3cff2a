/*
 * The doctor's report: findings kept as data (a check name, OK, WARN or
 * FAIL, why and how to fix it), and the run of every check in the order a
 * person reads them: the plan, its queue IRQs, steering outside the plan,
 * sysctls and limits, then the boot binding.  Printing is the caller's.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
#include "doctor.h"
#include "log.h"
#include "topology.h"
#include "util.h"

static char *
doctor_vformat(const char *fmt, va_list ap)
{
	char	*text;

	if (vasprintf(&text, fmt, ap) == -1)
		return NULL;
	return text;
}

struct doctor_finding *
doctor_add(struct doctor_report *rep, const char *check,
    enum doctor_status status, const char *fmt, ...)
{
	struct doctor_finding	*f, *grown;
	va_list			 ap;
	size_t			 cap;
	char			*why;

	va_start(ap, fmt);
	why = doctor_vformat(fmt, ap);
	va_end(ap);
	if (why != NULL && rep->n == rep->cap) {
		cap = rep->cap ? rep->cap * 2 : 16;
		if ((grown = reallocarray(rep->v, cap, sizeof(*grown))) ==
		    NULL) {
			free(why);
			why = NULL;
		} else {
			rep->v = grown;
			rep->cap = cap;
		}
	}
	if (why == NULL) {
		rep->nomem = 1;
		return NULL;
	}
	f = &rep->v[rep->n++];
	f->check = check;
	f->status = status;
	f->why = why;
	f->fix = NULL;
	return f;
}

void
doctor_fix(struct doctor_report *rep, struct doctor_finding *f,
    const char *fmt, ...)
{
	va_list	 ap;

	if (f == NULL)
		return;
	va_start(ap, fmt);
	free(f->fix);
	if ((f->fix = doctor_vformat(fmt, ap)) == NULL)
		rep->nomem = 1;
	va_end(ap);
}

void
doctor_report_free(struct doctor_report *rep)
{
	size_t	 i;

	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].why);
		free(rep->v[i].fix);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

size_t
doctor_count(const struct doctor_report *rep, enum doctor_status status)
{
	size_t	 i, n = 0;

	for (i = 0; i < rep->n; i++)
		n += rep->v[i].status == status;
	return n;
}

const char *
doctor_status_name(enum doctor_status status)
{
	switch (status) {
	case DOCTOR_OK:
		return "OK";
	case DOCTOR_WARN:
		return "WARN";
	case DOCTOR_FAIL:
		return "FAIL";
	}
	return "?";
}

/* The daemon's way to show findings: each one not OK, as a warning. */
void
doctor_log(const struct doctor_report *rep, const char *prefix)
{
	const struct doctor_finding	*f;
	size_t				 i;

	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		if (f->status == DOCTOR_OK)
			continue;
		log_warnx("%s%s%s%s%s", prefix ? prefix : "", f->why,
		    f->fix ? "; " : "", f->fix ? "fix: " : "",
		    f->fix ? f->fix : "");
	}
}

/* The CPUs of the plan's workers. */
int
doctor_worker_cpus(const struct topology *topo, struct cpuset **setp)
{
	struct cpuset	*set;
	size_t		 i;
	int		 r = 0;

	if ((set = cpuset_new()) == NULL)
		return -ENOMEM;
	for (i = 0; topo != NULL && i < topo->nworkers && r == 0; i++)
		r = cpuset_add(set, topo->workers[i].cpu);
	if (r < 0) {
		cpuset_free(set);
		return r;
	}
	*setp = set;
	return 0;
}

/* The plan itself: without workers nothing else matters much. */
static int
doctor_check_plan(const struct doctor_host *host, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*cpus;
	char			*list;
	size_t			 i, nqueues = 0;

	if (host->topo == NULL || host->topo->nworkers == 0) {
		f = doctor_add(rep, "plan", DOCTOR_FAIL, "no worker plan: %s",
		    host->plan_error == -EINVAL || host->plan_error == 0 ?
		    "no CPU the daemon may use processes a queue or is "
		    "listed in topology.workers" : strerror(-host->plan_error));
		doctor_fix(rep, f, "run \"affinityd topology\" with the same "
		    "options to see the queues and the warnings that say why");
		return 0;
	}
	if (doctor_worker_cpus(host->topo, &cpus) < 0)
		return -ENOMEM;
	list = cpuset_format_list(cpus);
	cpuset_free(cpus);
	if (list == NULL)
		return -ENOMEM;
	for (i = 0; i < host->topo->nifaces; i++)
		nqueues += host->topo->ifaces[i].nqueues;
	doctor_add(rep, "plan", DOCTOR_OK, "%zu worker%s on CPU%s %s for %zu "
	    "RX queue%s of %zu interface%s", host->topo->nworkers,
	    host->topo->nworkers == 1 ? "" : "s",
	    host->topo->nworkers == 1 ? "" : "s", list, nqueues,
	    nqueues == 1 ? "" : "s", host->topo->nifaces,
	    host->topo->nifaces == 1 ? "" : "s");
	free(list);
	return 0;
}

static int
doctor_check_irqbalance_host(const struct doctor_host *host,
    struct doctor_report *rep)
{
	return doctor_check_irqbalance(host->sysroot, host->topo, rep);
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

	planned = host->topo != NULL && host->topo->nworkers > 0;
	for (i = 0; i < ARRAY_SIZE(checks); i++)
		if ((planned || !checks[i].needs_plan) &&
		    checks[i].check(host, rep) < 0)
			rep->nomem = 1;
	return rep->nomem ? -ENOMEM : 0;
}
