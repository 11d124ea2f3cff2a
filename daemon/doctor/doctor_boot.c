/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Doctor checks on the boot binding: the housekeeping CPUs, whether init
 * and the other tasks are kept off the worker CPUs, what isolcpus=,
 * nohz_full= and irqaffinity= on the kernel command line do to the plan,
 * and the cgroup limits (cpuset, CPU quota) that hide CPUs from it.
 */
#include "acconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topology/bind.h"
#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* Tasks named in a finding as examples. */
#define DOCTOR_EXAMPLES	4

/* The plan's CPUs as the boot binding sees them. */
struct doctor_cpus {
	struct cpuset	*allowed;	/* the cpuset, excluded CPUs too */
	struct cpuset	*workers;
	struct cpuset	*hk;		/* NULL: none */
	char		*workers_list;
	char		*hk_list;
};

static void
doctor_cpus_free(struct doctor_cpus *c)
{
	cpuset_free(c->allowed);
	cpuset_free(c->workers);
	cpuset_free(c->hk);
	free(c->workers_list);
	free(c->hk_list);
}

static int
doctor_cpus(const struct doctor_host *host, struct doctor_cpus *c)
{
	int	 r;

	memset(c, 0, sizeof(*c));
	if ((r = cpuset_allowed(host->sysroot, &c->allowed)) < 0 ||
	    (r = plan_worker_cpus(host->plan, &c->workers)) < 0)
		return r;
	r = bind_housekeeping_cpus(c->allowed, host->plan, &c->hk);
	if (r < 0 && r != -ENOSPC)
		return r;
	c->workers_list = cpuset_format_list(c->workers);
	c->hk_list = c->hk ? cpuset_format_list(c->hk) : strdup("");
	return c->workers_list && c->hk_list ? 0 : -ENOMEM;
}

/* housekeeping: CPUs the daemon may use that get no worker. */
int
doctor_check_housekeeping(const struct doctor_host *host,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct doctor_cpus	 c;
	char			*allowed;
	int			 r;

	if ((r = doctor_cpus(host, &c)) < 0) {
		doctor_cpus_free(&c);
		return r == -ENOMEM ? r : 0;
	}
	if (c.hk != NULL)
		doctor_add(rep, "housekeeping", DOCTOR_OK, "housekeeping CPU%s "
		    "%s can hold init, the master and every other task, off "
		    "the worker CPUs %s", cpuset_count(c.hk) > 1 ? "s" : "",
		    c.hk_list, c.workers_list);
	else if ((allowed = cpuset_format_list(c.allowed)) != NULL) {
		f = doctor_add(rep, "housekeeping", DOCTOR_WARN, "every CPU "
		    "the daemon may use (%s) has a worker: init, the master and "
		    "every other task share the workers' CPUs", allowed);
		doctor_fix(rep, f, "leave a CPU to the system with "
		    "topology.exclude_cpus (or a topology.workers list), then "
		    "bind the system to it (affinityd boot-config)");
		free(allowed);
	} else
		r = -ENOMEM;
	doctor_cpus_free(&c);
	return r;
}

/* init-cpus: PID 1's Cpus_allowed_list, which everything it starts gets. */
static int
doctor_check_init(const char *proc, const struct doctor_cpus *c,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct bind_task	 task;
	struct cpuset		*on = NULL;
	char			*from = NULL, *list = NULL;
	int			 r;

	if ((r = bind_task_read(proc, 1, 1, &task)) < 0) {
		bind_task_clear(&task);
		if (r == -ENOMEM)
			return r;
		f = doctor_add(rep, "init-cpus", DOCTOR_WARN, "cannot read "
		    "init's CPUs (%s/1/task/1/status)", proc);
		doctor_fix(rep, f, "run as root, or read Cpus_allowed_list in "
		    "/proc/1/status by hand");
		return 0;
	}
	r = -ENOMEM;
	if ((on = cpuset_dup(task.from)) == NULL)
		goto out;
	cpuset_and(on, c->workers);
	if ((from = cpuset_format_list(task.from)) == NULL ||
	    (list = cpuset_format_list(on)) == NULL)
		goto out;
	r = 0;
	if (cpuset_empty(on)) {
		doctor_add(rep, "init-cpus", DOCTOR_OK, "init (PID 1) runs on "
		    "CPUs %s, off the worker CPUs, and so does what it starts",
		    from);
		goto out;
	}
	f = doctor_add(rep, "init-cpus", DOCTOR_WARN, "init (PID 1) may run "
	    "on worker CPU%s %s (Cpus_allowed_list %s): every service it "
	    "starts inherits that and competes with the workers",
	    cpuset_count(on) > 1 ? "s" : "", list, from);
	if (c->hk != NULL)
		doctor_fix(rep, f, "install the drop-ins of \"affinityd "
		    "boot-config --systemd\" and reboot (without systemd: the "
		    "affinityd-bind init script)");
	else
		doctor_fix(rep, f, "first leave a housekeeping CPU (see "
		    "housekeeping), then apply \"affinityd boot-config\"");
out:
	free(from);
	free(list);
	cpuset_free(on);
	bind_task_clear(&task);
	return r;
}

/* The tasks a housekeeping bind would move, with a few of their names. */
struct doctor_tasks {
	pid_t		 self;		/* left out: the doctor itself */
	unsigned int	 movable;
	char		 examples[256];
	unsigned int	 nexamples;
};

static void
doctor_task_cb(const struct bind_task *task, void *arg)
{
	struct doctor_tasks	*dt = arg;
	size_t			 len = strlen(dt->examples);

	if (task->action != BIND_MOVE || task->pid == dt->self)
		return;
	dt->movable++;
	if (dt->nexamples++ >= DOCTOR_EXAMPLES)
		return;
	snprintf(dt->examples + len, sizeof(dt->examples) - len, "%s%s %ld",
	    len ? ", " : "", task->comm, (long)task->tid);
}

/* task-cpus: every other task that may run on worker CPUs. */
static int
doctor_check_others(const char *proc, const struct doctor_host *host,
    const struct doctor_cpus *c, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct doctor_tasks	 dt;
	struct bind_stats	 stats;
	int			 r;

	if (c->hk == NULL)
		return 0;
	memset(&dt, 0, sizeof(dt));
	dt.self = host->sysroot == NULL ? getpid() : 0;
	r = bind_housekeeping(proc, c->hk, BIND_DRY_RUN, doctor_task_cb, &dt,
	    &stats);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		f = doctor_add(rep, "task-cpus", DOCTOR_WARN, "cannot list the "
		    "tasks in %s: %s", proc, strerror(-r));
		doctor_fix(rep, f, "run \"affinityd bind --housekeeping "
		    "--dry-run\" as root");
	} else if (dt.movable == 0)
		doctor_add(rep, "task-cpus", DOCTOR_OK, "every task that may "
		    "move is off the worker CPUs (%u pinned there on purpose, "
		    "%u kernel threads left alone)", stats.kept,
		    stats.kthreads);
	else {
		f = doctor_add(rep, "task-cpus", DOCTOR_WARN, "%u task%s may "
		    "run on worker CPUs %s (%s%s)", dt.movable,
		    dt.movable == 1 ? "" : "s", c->workers_list, dt.examples,
		    dt.nexamples > DOCTOR_EXAMPLES ? ", ..." : "");
		doctor_fix(rep, f, "\"affinityd bind --housekeeping -c FILE\" "
		    "moves them to CPUs %s now; \"affinityd boot-config\" keeps "
		    "them there from boot", c->hk_list);
	}
	return 0;
}

/* init-cpus and task-cpus. */
int
doctor_check_tasks(const struct doctor_host *host, struct doctor_report *rep)
{
	struct doctor_cpus	 c;
	char			*proc;
	int			 r;

	if ((proc = sysroot_path(host->sysroot, "proc")) == NULL)
		return -ENOMEM;
	if ((r = doctor_cpus(host, &c)) == 0 &&
	    (r = doctor_check_init(proc, &c, rep)) == 0)
		r = doctor_check_others(proc, host, &c, rep);
	doctor_cpus_free(&c);
	free(proc);
	return r == -ENOMEM ? r : 0;
}

/* The value of NAME= on the kernel command line, before any "--". */
static int
doctor_cmdline_value(const char *cmdline, const char *name, char **value)
{
	const char	*p = cmdline, *end;
	size_t		 len, nlen = strlen(name);

	*value = NULL;
	while (*p != '\0') {
		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (len == 2 && strncmp(p, "--", 2) == 0)
			break;
		if (len > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			end = p + len;
			free(*value);	/* the last one counts */
			if ((*value = strndup(p + nlen + 1,
			    (size_t)(end - p) - nlen - 1)) == NULL)
				return -ENOMEM;
		}
		p += len;
	}
	return 0;
}

/*
 * isolcpus=[FLAG,...,]LIST: the flags (nohz, domain, managed_irq) lead,
 * the CPU list follows.  *managed_irq tells whether that flag is there.
 */
static int
doctor_isolcpus_parse(const char *value, struct cpuset **set,
    int *managed_irq)
{
	const char	*p = value;
	size_t		 len;

	*managed_irq = 0;
	while (isalpha((unsigned char)*p)) {
		len = strcspn(p, ",");
		if (len == 11 && strncmp(p, "managed_irq", 11) == 0)
			*managed_irq = 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return cpuset_parse_list(p, set);
}

static int
doctor_isolcpus(const char *value, const struct doctor_cpus *c,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*iso = NULL, *hk_iso = NULL;
	char			*list = NULL;
	int			 managed, r;

	if ((r = doctor_isolcpus_parse(value, &iso, &managed)) < 0) {
		if (r == -ENOMEM)
			return r;
		f = doctor_add(rep, "isolcpus", DOCTOR_WARN, "isolcpus=%s on "
		    "the kernel command line is not a CPU list", value);
		doctor_fix(rep, f, "isolcpus=domain,%s", c->workers_list);
		return 0;
	}
	r = -ENOMEM;
	if (c->hk != NULL && (hk_iso = cpuset_dup(iso)) == NULL)
		goto out;
	if (hk_iso != NULL)
		cpuset_and(hk_iso, c->hk);
	if (hk_iso != NULL && !cpuset_empty(hk_iso)) {
		if ((list = cpuset_format_list(hk_iso)) == NULL)
			goto out;
		f = doctor_add(rep, "isolcpus", DOCTOR_WARN, "isolcpus=%s "
		    "takes housekeeping CPUs %s out of load balancing, though "
		    "the system's tasks are to run there", value, list);
		doctor_fix(rep, f, "isolate the worker CPUs only: "
		    "isolcpus=domain,%s", c->workers_list);
	} else if (managed) {
		f = doctor_add(rep, "isolcpus", DOCTOR_WARN, "isolcpus=%s: "
		    "managed_irq keeps managed interrupts, which multi-queue "
		    "drivers may use for their queues, off the isolated CPUs",
		    value);
		doctor_fix(rep, f, "drop managed_irq: isolcpus=domain,%s",
		    c->workers_list);
	} else
		doctor_add(rep, "isolcpus", DOCTOR_OK, "isolcpus=%s keeps the "
		    "scheduler from balancing tasks onto those CPUs; workers "
		    "pin themselves there", value);
	r = 0;
out:
	free(list);
	cpuset_free(hk_iso);
	cpuset_free(iso);
	return r;
}

/* nohz_full= on worker CPUs, or irqaffinity= without them. */
static int
doctor_cpu_param(const char *param, const char *value,
    const struct doctor_host *host, const struct doctor_cpus *c,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*set = NULL;
	int			 r, nohz = strcmp(param, "nohz_full") == 0;
	const char		*check = nohz ? "nohz-full" : "irqaffinity";

	if ((r = cpuset_parse_list(value, &set)) < 0) {
		f = doctor_add(rep, check, DOCTOR_WARN, "%s=%s on the kernel "
		    "command line is not a CPU list", param, value);
		doctor_fix(rep, f, "correct or drop it");
		return r == -ENOMEM ? r : 0;
	}
	cpuset_and(set, c->workers);
	if (nohz && !cpuset_empty(set)) {
		f = doctor_add(rep, check, DOCTOR_WARN, "nohz_full=%s covers "
		    "worker CPUs: stopping the tick pays where one task stays "
		    "in user space, but a worker CPU enters the kernel for "
		    "every packet, and full dynticks adds its accounting to "
		    "each entry", value);
		doctor_fix(rep, f, "drop nohz_full= (or leave worker CPUs %s "
		    "out of it)", c->workers_list);
	} else if (nohz)
		doctor_add(rep, check, DOCTOR_OK, "nohz_full=%s leaves the "
		    "worker CPUs alone", value);
	else if (!cpuset_equal(set, c->workers) &&
	    host->conf->irq_affinity != IRQ_AFFINITY_SPREAD) {
		f = doctor_add(rep, check, DOCTOR_WARN, "irqaffinity=%s makes "
		    "those CPUs the default for every interrupt: queue IRQs "
		    "that keep it land off worker CPUs %s, and the plan follows "
		    "them there", value, c->workers_list);
		doctor_fix(rep, f, "drop irqaffinity=, or set "
		    "topology.irq_affinity = \"spread\" to pin the queue IRQs "
		    "to worker CPUs at start");
	} else
		doctor_add(rep, check, DOCTOR_OK, "irqaffinity=%s: %s", value,
		    host->conf->irq_affinity == IRQ_AFFINITY_SPREAD ?
		    "irq_affinity = \"spread\" moves the queue IRQs to worker "
		    "CPUs at start anyway" : "every worker CPU may take "
		    "interrupts");
	cpuset_free(set);
	return 0;
}

/* isolcpus, nohz-full and irqaffinity from the kernel command line. */
int
doctor_check_cmdline(const struct doctor_host *host,
    struct doctor_report *rep)
{
	static const char *const	 params[] = {
		"isolcpus", "nohz_full", "irqaffinity",
	};
	static const char *const	 checks[] = {
		"isolcpus", "nohz-full", "irqaffinity",
	};
	struct doctor_cpus		 c;
	char				*path, *cmdline = NULL, *value;
	size_t				 i;
	int				 r;

	if ((path = sysroot_path(host->sysroot, "proc/cmdline")) == NULL)
		return -ENOMEM;
	r = read_file(path, &cmdline, 1 << 16);
	free(path);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if ((r = doctor_cpus(host, &c)) < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(params) && r == 0; i++) {
		if ((r = doctor_cmdline_value(cmdline, params[i], &value)) < 0)
			break;
		if (value == NULL)
			doctor_add(rep, checks[i], DOCTOR_OK, "no %s= on the "
			    "kernel command line", params[i]);
		else if (i == 0)
			r = doctor_isolcpus(value, &c, rep);
		else
			r = doctor_cpu_param(params[i], value, host, &c, rep);
		free(value);
	}
out:
	doctor_cpus_free(&c);
	free(cmdline);
	return r == -ENOMEM ? r : 0;
}

/* The queues processed on CPUs of hidden, "eth0:2, eth0:3". */
static char *
doctor_hidden_queues(const struct topology *topo, const struct cpuset *hidden)
{
	const struct topo_queue	*q;
	char			*text = NULL;
	size_t			 len, i, j, n = 0;
	FILE			*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < topo->nifaces; i++) {
		for (j = 0; j < topo->ifaces[i].nqueues; j++) {
			q = &topo->ifaces[i].queues[j];
			if (q->cpu >= 0 && cpuset_has(hidden,
			    (unsigned int)q->cpu))
				fprintf(f, "%s%s:%u", n++ ? ", " : "",
				    topo->ifaces[i].name, q->queue);
		}
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* What the cpuset hides: nothing, CPUs without queues, or queue CPUs. */
static int
doctor_cpuset_report(const struct doctor_host *host, const char *source,
    const struct cpuset *set, struct cpuset *hidden,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	char			*list, *hid, *queues;
	int			 r = -ENOMEM;

	list = cpuset_format_list(set);
	hid = cpuset_format_list(hidden);
	queues = doctor_hidden_queues(host->plan->topo, hidden);
	if (list == NULL || hid == NULL || queues == NULL)
		goto out;
	r = 0;
	if (cpuset_empty(hidden))
		doctor_add(rep, "cpuset", DOCTOR_OK, "the cpuset of this "
		    "process (%s) holds every online CPU (%s)", source, list);
	else if (*queues == '\0')
		doctor_add(rep, "cpuset", DOCTOR_OK, "the cpuset of this "
		    "process (%s) holds CPUs %s; it hides CPU%s %s, where no "
		    "queue is processed", source, list,
		    cpuset_count(hidden) > 1 ? "s" : "", hid);
	else {
		f = doctor_add(rep, "cpuset", DOCTOR_WARN, "the cpuset of this "
		    "process (%s) holds CPUs %s and hides CPU%s %s, where "
		    "queues %s are processed: they get no local worker",
		    source, list, cpuset_count(hidden) > 1 ? "s" : "", hid,
		    queues);
		doctor_fix(rep, f, "give the daemon those CPUs (AllowedCPUs= "
		    "of its unit or slice, or the cgroup's cpuset.cpus), or "
		    "move those queues' IRQs into the cpuset");
	}
out:
	free(list);
	free(hid);
	free(queues);
	return r;
}

/*
 * cpuset: the CPUs of this process's cpuset cgroup (cgroup v2 or v1, read
 * below the sysroot) against the online CPUs.  It is this process's
 * cgroup: the text says so, since a service may run in another one.
 */
static int
doctor_check_cpuset_cpus(const struct doctor_host *host,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*set = NULL, *online = NULL;
	const char		*root = host->sysroot ? host->sysroot : "/";
	char			*source = NULL;
	int			 r;

	if ((r = cpuset_allowed_at(root, &set, &source)) < 0 ||
	    (r = cpuset_online(host->sysroot, &online)) < 0) {
		if (r != -ENOMEM) {
			f = doctor_add(rep, "cpuset", DOCTOR_WARN, "cannot "
			    "tell which CPUs this process's cpuset holds "
			    "(%s): %s", source ? source : "proc/self/cgroup",
			    read_file_error(r, NULL));
			doctor_fix(rep, f, "check /proc/self/cgroup and the "
			    "cgroup's cpuset.cpus.effective");
			r = 0;
		}
		goto out;
	}
	cpuset_andnot(online, set);
	r = doctor_cpuset_report(host, source ? source : "none", set, online,
	    rep);
out:
	free(source);
	cpuset_free(set);
	cpuset_free(online);
	return r;
}

/* Reads DIR/cpu.max below the cgroup v2 mount: 1 with a quota, 0 "max". */
static int
doctor_cpu_max(const char *sysroot, const char *dir, double *cpus)
{
	char		*path, *line;
	long long	 quota, period;
	int		 r;

	if ((path = sysroot_path(sysroot, "sys/fs/cgroup%s%s/cpu.max",
	    *dir == '/' ? "" : "/", dir)) == NULL)
		return -ENOMEM;
	r = read_file_line(path, &line);
	free(path);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = sscanf(line, "%lld %lld", &quota, &period) == 2 && quota > 0 &&
	    period > 0;
	if (r)
		*cpus = (double)quota / (double)period;
	free(line);
	return r;
}

/*
 * cpu-quota: the smallest cpu.max on the path of this process's cgroup
 * v2; a quota of fewer CPUs than workers throttles them.
 */
static int
doctor_check_cpu_quota(const struct doctor_host *host,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	char			*dir, *slash;
	double			 cpus, least = 0;
	int			 r, found = 0;

	if ((r = cpuset_cgroup_dir(host->sysroot, "", &dir)) <= 0)
		return r;
	for (;;) {
		if ((r = doctor_cpu_max(host->sysroot, dir, &cpus)) < 0)
			break;
		if (r > 0 && (!found || cpus < least)) {
			least = cpus;
			found = 1;
		}
		if ((slash = strrchr(dir, '/')) == NULL || slash[1] == '\0')
			break;
		slash[slash == dir] = '\0';
	}
	free(dir);
	if (r < 0)
		return r;
	if (found && least < (double)host->plan->nworkers) {
		f = doctor_add(rep, "cpu-quota", DOCTOR_WARN, "the cgroup of "
		    "this process may use %.2f CPUs' time (cpu.max), less than "
		    "its %zu workers: they are throttled under load", least,
		    host->plan->nworkers);
		doctor_fix(rep, f, "raise or drop the quota (CPUQuota= of the "
		    "unit or slice, or cpu.max of the cgroup)");
	} else
		doctor_add(rep, "cpu-quota", DOCTOR_OK, "%s", found ?
		    "the cgroup's CPU quota (cpu.max) covers every worker" :
		    "no CPU quota (cpu.max) on this process's cgroup");
	return 0;
}

/* cpuset and cpu-quota. */
int
doctor_check_cpuset(const struct doctor_host *host,
    struct doctor_report *rep)
{
	int	 r;

	if ((r = doctor_check_cpuset_cpus(host, rep)) < 0)
		return r;
	return doctor_check_cpu_quota(host, rep);
}
