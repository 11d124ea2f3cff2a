/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checks on queue IRQs that irq_affinity = "spread" and the doctor
 * share: a running irqbalance (and what it was told to leave alone), and
 * an IRQ that is not where it was sent.  Each gives its verdict in words
 * (why, and how to fix it), so that the daemon's warnings and the
 * doctor's findings say the same.
 */
#include "acconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpuset.h"
#include "topology/irqcheck.h"
#include "topology/irqmap.h"
#include "topology/topology.h"
#include "common/util.h"

static void PRINTFLIKE(3, 0)
irqcheck_vset(struct irqcheck_result *res, char **text, const char *fmt,
    va_list ap)
{
	free(*text);
	if (vasprintf(text, fmt, ap) == -1) {
		*text = NULL;
		res->nomem = 1;
	}
}

/* The verdict and why; a second call replaces the first. */
static void PRINTFLIKE(3, 4)
irqcheck_why(struct irqcheck_result *res, enum irqcheck_status status,
    const char *fmt, ...)
{
	va_list	 ap;

	res->status = status;
	va_start(ap, fmt);
	irqcheck_vset(res, &res->why, fmt, ap);
	va_end(ap);
}

static void PRINTFLIKE(2, 3)
irqcheck_fix(struct irqcheck_result *res, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	irqcheck_vset(res, &res->fix, fmt, ap);
	va_end(ap);
}

void
irqcheck_result_free(struct irqcheck_result *res)
{
	free(res->why);
	free(res->fix);
	memset(res, 0, sizeof(*res));
}

/* What irqbalance was told to leave alone. */
struct irqcheck_ib {
	pid_t		 pid;
	struct strv	 banirq;	/* IRQ numbers, as text */
	char		*banned_cpus;	/* IRQBALANCE_BANNED_CPU{S,LIST} */
	char		*policy;	/* --policyscript, or NULL */
	const char	*source;	/* where the settings were found */
};

/* The pid of a running irqbalance, 0 when none runs, or -errno. */
pid_t
irqcheck_irqbalance_pid(const char *sysroot)
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
irqcheck_ib_arg(struct irqcheck_ib *ib, const char *arg, const char *next)
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
irqcheck_ib_args(struct irqcheck_ib *ib, char *text, size_t len, int nul)
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
		r = irqcheck_ib_arg(ib, args[i], i + 1 < n ? args[i + 1] : NULL);
	return r;
}

/* KEY=VALUE, VALUE unquoted, from a shell-style line; NULL if not KEY. */
static char *
irqcheck_ib_value(char *line, const char *key)
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
irqcheck_ib_line(struct irqcheck_ib *ib, char *line)
{
	static const char *const	 cpus[] = {
		"IRQBALANCE_BANNED_CPULIST", "IRQBALANCE_BANNED_CPUS",
	};
	static const char *const	 args[] = { "IRQBALANCE_ARGS", "OPTIONS" };
	size_t				 i;
	char				*v;

	for (i = 0; i < ARRAY_SIZE(cpus); i++) {
		if ((v = irqcheck_ib_value(line, cpus[i])) == NULL || *v == '\0' ||
		    ib->banned_cpus != NULL)
			continue;
		if (asprintf(&ib->banned_cpus, "%s=%s", cpus[i], v) == -1) {
			ib->banned_cpus = NULL;
			return -ENOMEM;
		}
	}
	for (i = 0; i < ARRAY_SIZE(args); i++)
		if ((v = irqcheck_ib_value(line, args[i])) != NULL)
			return irqcheck_ib_args(ib, v, strlen(v), 0);
	return 0;
}

/* Reads a settings file; 1 when it exists. */
static int
irqcheck_ib_file(struct irqcheck_ib *ib, const char *sysroot, const char *rel)
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
			r = irqcheck_ib_line(ib, line);
	free(text);
	return r < 0 ? r : 1;
}

/* The running irqbalance's arguments, then its settings files. */
static int
irqcheck_ib_read(struct irqcheck_ib *ib, const char *sysroot)
{
	static const char *const	 files[] = {
		"/etc/default/irqbalance", "/etc/sysconfig/irqbalance",
	};
	char				*path, *all, text[4096];
	size_t				 i, len = 0;
	int				 r;

	ib->source = "its command line";
	if ((path = sysroot_path(sysroot, "proc/%d/cmdline", (int)ib->pid)) ==
	    NULL)
		return -ENOMEM;
	/* NUL-separated; a process that exited meanwhile has no arguments. */
	if (read_regular_file(path, &all, &len, 1 << 20, NULL) == 0) {
		len = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
		memcpy(text, all, len);
		free(all);
	} else
		len = 0;
	free(path);
	text[len] = '\0';
	if ((r = irqcheck_ib_args(ib, text, len, 1)) < 0)
		return r;
	/* Debian's file, or Red Hat's; the first one found is named. */
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if ((r = irqcheck_ib_file(ib, sysroot, files[i])) < 0)
			return r;
		if (r > 0 && strcmp(ib->source, "its command line") == 0)
			ib->source = files[i];
	}
	return 0;
}

static void
irqcheck_ib_free(struct irqcheck_ib *ib)
{
	strv_free(&ib->banirq);
	free(ib->banned_cpus);
	free(ib->policy);
}

/* The plan's queue IRQs that irqbalance was not told to leave alone. */
static int
irqcheck_ib_free_irqs(const struct irqcheck_ib *ib, const struct topology *topo,
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
irqcheck_ib_lists(const struct strv *irqs, char **list, char **args)
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
irqcheck_ib_report(const struct irqcheck_ib *ib, const struct strv *free_irqs,
    struct irqcheck_result *res)
{
	char			*list, *args;

	if (irqcheck_ib_lists(free_irqs, &list, &args) < 0)
		return -ENOMEM;
	if (ib->policy != NULL) {
		irqcheck_why(res, IRQCHECK_WARN, "irqbalance "
		    "(pid %d) runs with the policy script %s, which may or may "
		    "not ban queue IRQs %s; no --banirq keeps them in place",
		    (int)ib->pid, ib->policy, list);
		irqcheck_fix(res, "make %s print ban=true for IRQs %s, or add "
		    "\"%s\" to IRQBALANCE_ARGS in /etc/default/irqbalance",
		    ib->policy, list, args);
	} else {
		irqcheck_why(res, IRQCHECK_FAIL, "irqbalance "
		    "(pid %d) is running and will move queue IRQs %s that the "
		    "plan relies on (settings from %s%s%s)", (int)ib->pid, list,
		    ib->source, ib->banned_cpus ? "; " : "",
		    ib->banned_cpus ? ib->banned_cpus : "");
		irqcheck_fix(res, "stop it (systemctl disable --now "
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
irqcheck_irqbalance(const char *sysroot, const struct topology *topo,
    struct irqcheck_result *res)
{
	struct irqcheck_ib	 ib;
	struct strv		 free_irqs = { 0 };
	size_t			 nirqs;
	int			 r;

	memset(&ib, 0, sizeof(ib));
	if ((ib.pid = irqcheck_irqbalance_pid(sysroot)) == -ENOMEM)
		return -ENOMEM;
	if (ib.pid <= 0) {
		irqcheck_why(res, IRQCHECK_OK, "irqbalance is not "
		    "running: nothing moves the queue IRQs behind the plan's "
		    "back");
		return 0;
	}
	if ((r = irqcheck_ib_read(&ib, sysroot)) == 0)
		r = irqcheck_ib_free_irqs(&ib, topo, &free_irqs, &nirqs);
	if (r == 0 && nirqs == 0)
		irqcheck_why(res, IRQCHECK_OK, "irqbalance (pid %d) "
		    "runs, but the plan has no queue IRQ for it to move",
		    (int)ib.pid);
	else if (r == 0 && free_irqs.n == 0)
		irqcheck_why(res, IRQCHECK_OK, "irqbalance (pid %d) "
		    "runs, but leaves all %zu queue IRQs alone (--banirq, from "
		    "%s)", (int)ib.pid, nirqs, ib.source);
	else if (r == 0)
		r = irqcheck_ib_report(&ib, &free_irqs, res);
	strv_free(&free_irqs);
	irqcheck_ib_free(&ib);
	return r;
}

/* True when set is exactly { cpu }. */
static int
irqcheck_on(const struct cpuset *set, int cpu)
{
	return set != NULL && cpuset_count(set) == 1 &&
	    cpuset_first(set) == cpu;
}

/* Says where an IRQ asked to go to cpu is delivered instead. */
static int
irqcheck_elsewhere(const char *sysroot, int irq, const char *name,
    int cpu, const struct cpuset *where, const char *file,
    struct irqcheck_result *res)
{
	struct cpuset		*smp = NULL;
	char			*path, *smp_path, *list;
	int			 r = 0;

	path = sysroot_path(sysroot, "proc/irq/%d/%s", irq, file);
	smp_path = sysroot_path(sysroot, "proc/irq/%d/smp_affinity_list", irq);
	list = where != NULL ? cpuset_format_list(where) : strdup("nothing");
	if (path == NULL || smp_path == NULL || list == NULL)
		r = -ENOMEM;
	else if (cpuset_read_list_file(smp_path, &smp) == 0 &&
	    irqcheck_on(smp, cpu)) {
		irqcheck_why(res, IRQCHECK_WARN, "IRQ %d (%s): "
		    "%s asks for CPU %d, but %s still says %s: the kernel moves "
		    "it at its next interrupt", irq, name, smp_path, cpu, path,
		    list);
		irqcheck_fix(res, "none needed if it is on its way: the "
		    "worker plan keeps its present CPU until the rescan sees "
		    "it arrive (topology.rescan_interval); an idle queue moves "
		    "with its first packet");
	} else {
		irqcheck_why(res, IRQCHECK_WARN, "IRQ %d (%s): "
		    "CPU %d was written to %s, but the kernel did not take it: "
		    "%s says %s", irq, name, cpu, smp_path, path, list);
		irqcheck_fix(res, "its driver may manage this IRQ, which then "
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
 * smp_affinity_list) that is delivered elsewhere: a WARN, and 1; 0 (and
 * no verdict) when it is where it was sent, or -ENOMEM.
 */
int
irqcheck_irq_moved(const char *sysroot, int irq, const char *name,
    int cpu, struct irqcheck_result *res)
{
	struct cpuset	*where = NULL;
	const char	*file = NULL;
	int		 r;

	r = irqmap_affinity(sysroot, (unsigned int)irq, &where, &file);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && irqcheck_on(where, cpu)) {
		cpuset_free(where);
		return 0;
	}
	r = irqcheck_elsewhere(sysroot, irq, name, cpu, where,
	    file != NULL ? file : "effective_affinity_list", res);
	cpuset_free(where);
	return r < 0 ? r : 1;
}
