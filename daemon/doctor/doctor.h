/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host checks behind "affinityd doctor" and the daemon's start-up
 * warnings: each looks at the configuration, the worker plan and files
 * below a root prefix, and adds findings (OK, WARN or FAIL, why, fix) to a
 * report.  Checks log nothing; the caller prints or logs the report.
 */
#ifndef AFFINITYD_DOCTOR_H
#define AFFINITYD_DOCTOR_H

#include <stddef.h>
#include <sys/types.h>

#include "common/util.h"

struct config;
struct cpuset;
struct steer_result;
struct plan;
struct topology;

enum doctor_status {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
};

struct doctor_finding {
	const char		*check;		/* a fixed name: "irqbalance" */
	enum doctor_status	 status;
	char			*why;		/* one line */
	char			*fix;		/* one line; NULL for OK */
};

struct doctor_report {
	struct doctor_finding	*v;
	size_t			 n;
	size_t			 cap;
	int			 nomem;		/* a finding was lost */
};

/* What the checks look at. */
struct doctor_host {
	const char		*sysroot;	/* NULL: this machine */
	const struct config	*conf;
	const struct plan	*plan;		/* NULL: no plan could be made */
	int			 plan_error;	/* 0, or discovery's -errno */
	/*
	 * Stands in for steer_selftest() (tests); NULL: the real one, run
	 * only when sysroot is this machine.
	 */
	int			(*selftest)(const struct cpuset *cpus,
				    struct steer_result *res);
};

/*
 * doctor_report.c: doctor_add() returns the new finding (NULL when out of
 * memory, noted in rep->nomem), which doctor_fix() completes; both take
 * printf formats.
 */
struct doctor_finding *doctor_add(struct doctor_report *rep,
	    const char *check, enum doctor_status status, const char *fmt, ...)
	    PRINTFLIKE(4, 5);
void	 doctor_fix(struct doctor_report *rep, struct doctor_finding *f,
	    const char *fmt, ...) PRINTFLIKE(3, 4);
void	 doctor_report_free(struct doctor_report *rep);
size_t	 doctor_count(const struct doctor_report *rep,
	    enum doctor_status status);
const char *doctor_status_name(enum doctor_status status);
int	 doctor_warnings(const struct doctor_report *rep, struct strv *out);
void	 doctor_log(const struct doctor_report *rep, const char *prefix);

/* doctor.c: every check, in order. */
int	 doctor_run(const struct doctor_host *host, struct doctor_report *rep);

/*
 * doctor_irq.c: irqbalance and the queue IRQs the plan relies on;
 * doctor_check_irqbalance() and doctor_check_irq_moved() give
 * topology/irqcheck.c's verdicts as findings.
 */
int	 doctor_check_irqbalance(const char *sysroot,
	    const struct topology *topo, struct doctor_report *rep);
int	 doctor_check_irq_moved(const char *sysroot, int irq,
	    const char *name, int cpu, struct doctor_report *rep);
int	 doctor_check_queues(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_workers(const struct doctor_host *host,
	    struct doctor_report *rep);

/* doctor_net.c: steering outside the plan, sysctls and limits. */
int	 doctor_check_rps(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_xps(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_threaded(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_somaxconn(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_tcp_migrate_req(const char *sysroot,
	    struct doctor_report *rep);
int	 doctor_check_nofile(const struct doctor_host *host,
	    struct doctor_report *rep);

/* doctor_steer.c: SO_INCOMING_CPU on this kernel, and what auto picks. */
int	 doctor_check_steering(const struct doctor_host *host,
	    struct doctor_report *rep);

/* doctor_boot.c: boot binding, the kernel command line, cgroups. */
int	 doctor_check_housekeeping(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_tasks(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_cmdline(const struct doctor_host *host,
	    struct doctor_report *rep);
int	 doctor_check_cpuset(const struct doctor_host *host,
	    struct doctor_report *rep);

#endif
