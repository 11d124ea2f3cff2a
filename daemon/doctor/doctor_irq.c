/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Doctor checks on the queue IRQs the plan relies on: a running
 * irqbalance and what it has been told to leave alone, IRQs delivered to
 * several CPUs or to CPUs without a worker, IRQs not yet where they were
 * sent, queues that share a CPU and workers with no queue.
 */
#include "acconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/irqmap.h"
#include "topology/topology.h"
#include "common/util.h"

/* What irqbalance was told to leave alone. */
struct doctor_ib {
	pid_t		 pid;
	struct strv	 banirq;	/* IRQ numbers, as text */
	char		*banned_cpus;	/* IRQBALANCE_BANNED_CPU{S,LIST} */
	char		*policy;	/* --policyscript, or NULL */
	const char	*source;	/* where the settings were found */
};

pid_t
doctor_irqbalance_pid(const char *sysroot)
{
	struct dirent	*de;
	DIR		*dir;
	char		*path, *comm;
	unsigned int	 pid;
	pid_t		 found = 0;
	int		 r;

	if ((path = sysroot_path(sysroot, "proc")) == NULL)
		return -ENOMEM;
	dir = opendir(path);
	free(path);
	if (dir == NULL)
		return -errno;
	while (found == 0 && (de = readdir(dir)) != NULL) {
		if (parse_uint(de->d_name, INT_MAX, &pid) < 0)
			continue;
		if ((path = sysroot_path(sysroot, "proc/%u/comm", pid)) == NULL) {
			found = -ENOMEM;
			break;
		}
		/* A process that exits meanwhile is simply not there. */
		r = read_file_line(path, &comm);
		free(path);
		if (r == -ENOMEM) {
			found = -ENOMEM;
			break;
		}
		if (r == 0 && strcmp(comm, "irqbalance") == 0)
			found = (pid_t)pid;
		if (r == 0)
			free(comm);
	}
	closedir(dir);
	return found;
}

/* One irqbalance argument; next is the one after it (or NULL). */
static int
doctor_ib_arg(struct doctor_ib *ib, const char *arg, const char *next)
{
	const char	*v = NULL;

	if (strncmp(arg, "--banirq=", 9) == 0)
		v = arg + 9;
	else if (strcmp(arg, "--banirq") == 0 || strcmp(arg, "-i") == 0)
		v = next;
	else if (strncmp(arg, "-i", 2) == 0)
		v = arg + 2;
	if (v != NULL)
		return strv_contains(&ib->banirq, v) ? 0 :
		    strv_add(&ib->banirq, v);
	if (strncmp(arg, "--policyscript=", 15) == 0)
		v = arg + 15;
	else if (strcmp(arg, "--policyscript") == 0 || strcmp(arg, "-l") == 0)
		v = next;
	if (v == NULL || ib->policy != NULL)
		return 0;
	return (ib->policy = strdup(v)) == NULL ? -ENOMEM : 0;
}

/* Arguments separated by blanks (a config file) or NULs (cmdline). */
static int
doctor_ib_args(struct doctor_ib *ib, char *text, size_t len, int nul)
{
	char	*args[64], *p = text, *end = text + len;
	size_t	 n = 0, i;
	int	 r = 0;

	while (p < end && n < ARRAY_SIZE(args)) {
		if (!nul)
			while (p < end && (*p == ' ' || *p == '\t'))
				*p++ = '\0';
		if (p >= end)
			break;
		args[n++] = p;
		while (p < end && *p != '\0' && (nul || (*p != ' ' &&
		    *p != '\t')))
			p++;
		if (p < end)
			*p++ = '\0';
	}
	for (i = 0; i < n && r == 0; i++)
		r = doctor_ib_arg(ib, args[i], i + 1 < n ? args[i + 1] : NULL);
	return r;
}

/* KEY=VALUE, VALUE unquoted, from a shell-style line; NULL if not KEY. */
static char *
doctor_ib_value(char *line, const char *key)
{
	size_t	 len = strlen(key), vlen;
	char	*v;

	line += strspn(line, " \t");
	if (strncmp(line, "export ", 7) == 0)
		line += 7;
	if (strncmp(line, key, len) != 0 || line[len] != '=')
		return NULL;
	v = line + len + 1;
	vlen = strlen(v);
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		v[--vlen] = '\0';
	if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
		v[vlen - 1] = '\0';
		v++;
	}
	return v;
}

/* One line of /etc/default/irqbalance or /etc/sysconfig/irqbalance. */
static int
doctor_ib_line(struct doctor_ib *ib, char *line)
{
	static const char *const	 cpus[] = {
		"IRQBALANCE_BANNED_CPULIST", "IRQBALANCE_BANNED_CPUS",
	};
	static const char *const	 args[] = { "IRQBALANCE_ARGS", "OPTIONS" };
	size_t				 i;
	char				*v;

	for (i = 0; i < ARRAY_SIZE(cpus); i++) {
		if ((v = doctor_ib_value(line, cpus[i])) == NULL || *v == '\0' ||
		    ib->banned_cpus != NULL)
			continue;
		if (asprintf(&ib->banned_cpus, "%s=%s", cpus[i], v) == -1) {
			ib->banned_cpus = NULL;
			return -ENOMEM;
		}
	}
	for (i = 0; i < ARRAY_SIZE(args); i++)
		if ((v = doctor_ib_value(line, args[i])) != NULL)
			return doctor_ib_args(ib, v, strlen(v), 0);
	return 0;
}

/* Reads a settings file; 1 when it exists. */
static int
doctor_ib_file(struct doctor_ib *ib, const char *sysroot, const char *rel)
{
	char	*path, *text, *line, *save = NULL;
	int	 r;

	if ((path = sysroot_path(sysroot, "%s", rel)) == NULL)
		return -ENOMEM;
	r = read_file(path, &text, 1 << 20);
	free(path);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (line = strtok_r(text, "\n", &save); line != NULL && r == 0;
	    line = strtok_r(NULL, "\n", &save))
		if (line[strspn(line, " \t")] != '#')
			r = doctor_ib_line(ib, line);
	free(text);
	return r < 0 ? r : 1;
}

/* The running irqbalance's arguments, then its settings files. */
static int
doctor_ib_read(struct doctor_ib *ib, const char *sysroot)
{
	static const char *const	 files[] = {
		"/etc/default/irqbalance", "/etc/sysconfig/irqbalance",
	};
	char				*path, text[4096];
	size_t				 i, len = 0;
	FILE				*f;
	int				 r;

	ib->source = "its command line";
	if ((path = sysroot_path(sysroot, "proc/%d/cmdline", (int)ib->pid)) ==
	    NULL)
		return -ENOMEM;
	/* NUL-separated; a process that exited meanwhile has no arguments. */
	if ((f = fopen(path, "re")) != NULL) {
		len = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	free(path);
	text[len] = '\0';
	if ((r = doctor_ib_args(ib, text, len, 1)) < 0)
		return r;
	/* Debian's file, or Red Hat's; the first one found is named. */
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if ((r = doctor_ib_file(ib, sysroot, files[i])) < 0)
			return r;
		if (r > 0 && strcmp(ib->source, "its command line") == 0)
			ib->source = files[i];
	}
	return 0;
}

static void
doctor_ib_free(struct doctor_ib *ib)
{
	strv_free(&ib->banirq);
	free(ib->banned_cpus);
	free(ib->policy);
}

/* The plan's queue IRQs that irqbalance was not told to leave alone. */
static int
doctor_ib_free_irqs(const struct doctor_ib *ib, const struct topology *topo,
    struct strv *free_irqs, size_t *nirqs)
{
	const struct topo_queue	*q;
	char			 num[16];
	size_t			 i, j;
	int			 r = 0;

	*nirqs = 0;
	for (i = 0; i < topo->nifaces && r == 0; i++) {
		for (j = 0; j < topo->ifaces[i].nqueues && r == 0; j++) {
			q = &topo->ifaces[i].queues[j];
			if (q->irq < 0)
				continue;
			(*nirqs)++;
			snprintf(num, sizeof(num), "%d", q->irq);
			if (!strv_contains(&ib->banirq, num) &&
			    !strv_contains(free_irqs, num))
				r = strv_add(free_irqs, num);
		}
	}
	return r;
}

/* "38, 39" and "--banirq=38 --banirq=39" from the IRQ numbers. */
static int
doctor_ib_lists(const struct strv *irqs, char **list, char **args)
{
	FILE	*l, *a;
	size_t	 i, llen, alen;

	*list = *args = NULL;
	l = open_memstream(list, &llen);
	a = open_memstream(args, &alen);
	for (i = 0; l != NULL && a != NULL && i < irqs->n; i++) {
		fprintf(l, "%s%s", i ? ", " : "", irqs->v[i]);
		fprintf(a, "%s--banirq=%s", i ? " " : "", irqs->v[i]);
	}
	if ((l != NULL && fclose(l) != 0) || (a != NULL && fclose(a) != 0) ||
	    l == NULL || a == NULL) {
		free(*list);
		free(*args);
		*list = *args = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* irqbalance runs and may move IRQs: FAIL, or WARN under a policy script. */
static int
doctor_ib_report(const struct doctor_ib *ib, const struct strv *free_irqs,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	char			*list, *args;

	if (doctor_ib_lists(free_irqs, &list, &args) < 0)
		return -ENOMEM;
	if (ib->policy != NULL) {
		f = doctor_add(rep, "irqbalance", DOCTOR_WARN, "irqbalance "
		    "(pid %d) runs with the policy script %s, which may or may "
		    "not ban queue IRQs %s; no --banirq keeps them in place",
		    (int)ib->pid, ib->policy, list);
		doctor_fix(rep, f, "make %s print ban=true for IRQs %s, or add "
		    "\"%s\" to IRQBALANCE_ARGS in /etc/default/irqbalance",
		    ib->policy, list, args);
	} else {
		f = doctor_add(rep, "irqbalance", DOCTOR_FAIL, "irqbalance "
		    "(pid %d) is running and will move queue IRQs %s that the "
		    "plan relies on (settings from %s%s%s)", (int)ib->pid, list,
		    ib->source, ib->banned_cpus ? "; " : "",
		    ib->banned_cpus ? ib->banned_cpus : "");
		doctor_fix(rep, f, "stop it (systemctl disable --now "
		    "irqbalance), or add \"%s\" to IRQBALANCE_ARGS in "
		    "/etc/default/irqbalance and restart it; banned CPUs only "
		    "keep it from placing IRQs there", args);
	}
	free(list);
	free(args);
	return 0;
}

/*
 * irqbalance: OK when it is not running or leaves every queue IRQ of the
 * plan alone (--banirq on its command line or in its settings file).
 */
int
doctor_check_irqbalance(const char *sysroot, const struct topology *topo,
    struct doctor_report *rep)
{
	struct doctor_ib	 ib;
	struct strv		 free_irqs = { 0 };
	size_t			 nirqs;
	int			 r;

	memset(&ib, 0, sizeof(ib));
	if ((ib.pid = doctor_irqbalance_pid(sysroot)) == -ENOMEM)
		return -ENOMEM;
	if (ib.pid <= 0) {
		doctor_add(rep, "irqbalance", DOCTOR_OK, "irqbalance is not "
		    "running: nothing moves the queue IRQs behind the plan's "
		    "back");
		return 0;
	}
	if ((r = doctor_ib_read(&ib, sysroot)) == 0)
		r = doctor_ib_free_irqs(&ib, topo, &free_irqs, &nirqs);
	if (r == 0 && nirqs == 0)
		doctor_add(rep, "irqbalance", DOCTOR_OK, "irqbalance (pid %d) "
		    "runs, but the plan has no queue IRQ for it to move",
		    (int)ib.pid);
	else if (r == 0 && free_irqs.n == 0)
		doctor_add(rep, "irqbalance", DOCTOR_OK, "irqbalance (pid %d) "
		    "runs, but leaves all %zu queue IRQs alone (--banirq, from "
		    "%s)", (int)ib.pid, nirqs, ib.source);
	else if (r == 0)
		r = doctor_ib_report(&ib, &free_irqs, rep);
	strv_free(&free_irqs);
	doctor_ib_free(&ib);
	return r;
}

/* True when set is exactly { cpu }. */
static int
doctor_on(const struct cpuset *set, int cpu)
{
	return set != NULL && cpuset_count(set) == 1 &&
	    cpuset_first(set) == cpu;
}

/* Says where an IRQ asked to go to cpu is delivered instead. */
static int
doctor_irq_elsewhere(const char *sysroot, int irq, const char *name,
    int cpu, const struct cpuset *where, const char *file,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*smp = NULL;
	char			*path, *smp_path, *list;
	int			 r = 0;

	path = sysroot_path(sysroot, "proc/irq/%d/%s", irq, file);
	smp_path = sysroot_path(sysroot, "proc/irq/%d/smp_affinity_list", irq);
	list = where != NULL ? cpuset_format_list(where) : strdup("nothing");
	if (path == NULL || smp_path == NULL || list == NULL)
		r = -ENOMEM;
	else if (cpuset_read_list_file(smp_path, &smp) == 0 &&
	    doctor_on(smp, cpu)) {
		f = doctor_add(rep, "irq-moved", DOCTOR_WARN, "IRQ %d (%s): "
		    "%s asks for CPU %d, but %s still says %s: the kernel moves "
		    "it at its next interrupt", irq, name, smp_path, cpu, path,
		    list);
		doctor_fix(rep, f, "none needed if it is on its way: the "
		    "worker plan keeps its present CPU until the rescan sees "
		    "it arrive (topology.rescan_interval); an idle queue moves "
		    "with its first packet");
	} else {
		f = doctor_add(rep, "irq-moved", DOCTOR_WARN, "IRQ %d (%s): "
		    "CPU %d was written to %s, but the kernel did not take it: "
		    "%s says %s", irq, name, cpu, smp_path, path, list);
		doctor_fix(rep, f, "its driver may manage this IRQ, which then "
		    "cannot move: check \"dmesg\", or pin it by hand with "
		    "\"echo %d > %s\"", cpu, smp_path);
	}
	cpuset_free(smp);
	free(list);
	free(smp_path);
	free(path);
	return r;
}

/*
 * An IRQ sent to cpu (by irq_affinity = "spread", or by whoever wrote its
 * smp_affinity_list) that is delivered elsewhere: adds a WARN and returns
 * 1; 0 (and no finding) when it is where it was sent, or -ENOMEM.
 */
int
doctor_check_irq_moved(const char *sysroot, int irq, const char *name,
    int cpu, struct doctor_report *rep)
{
	struct cpuset	*where = NULL;
	const char	*file = NULL;
	int		 r;

	r = irqmap_affinity(sysroot, (unsigned int)irq, &where, &file);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && doctor_on(where, cpu)) {
		cpuset_free(where);
		return 0;
	}
	r = doctor_irq_elsewhere(sysroot, irq, name, cpu, where,
	    file != NULL ? file : "effective_affinity_list", rep);
	cpuset_free(where);
	return r < 0 ? r : 1;
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
	const struct topology	*topo = host->topo;
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
doctor_check_sharing(const struct topology *topo, struct doctor_report *rep)
{
	const struct topo_worker	*w;
	struct doctor_finding		*f;
	size_t				 i, shared = 0;
	char				*list;

	for (i = 0; i < topo->nworkers; i++) {
		w = &topo->workers[i];
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
doctor_check_idle(const struct topology *topo, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*idle;
	char			*list;
	size_t			 i;
	int			 r = 0;

	if ((idle = cpuset_new()) == NULL)
		return -ENOMEM;
	for (i = 0; i < topo->nworkers && r == 0; i++)
		if (topo->workers[i].queues.n == 0)
			r = cpuset_add(idle, topo->workers[i].cpu);
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
	const struct topology	*topo = host->topo;
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
	if ((r = doctor_check_sharing(topo, rep)) < 0)
		return r;
	return doctor_check_idle(topo, rep);
}
