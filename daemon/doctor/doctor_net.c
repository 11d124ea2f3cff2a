/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Doctor checks on the network stack around the plan: RPS, RFS, XPS and
 * threaded NAPI, which move receive or transmit work off the queue's CPU;
 * the sysctls that cap or reset listeners' queues; and the open-file
 * limit that caps each worker's connections.
 */
#include "acconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/* Reads an unsigned number from a file below sysroot: 0, or -errno. */
static int
doctor_read_uint(const char *sysroot, const char *rel, unsigned long long *v,
    char **pathp)
{
	char	*path, *line, *end;
	int	 r;

	if (pathp != NULL)
		*pathp = NULL;
	if ((path = sysroot_path(sysroot, "%s", rel)) == NULL)
		return -ENOMEM;
	if ((r = read_file_line(path, &line)) == 0) {
		errno = 0;
		*v = strtoull(line, &end, 10);
		if (errno != 0 || end == line || *end != '\0' || *line == '-')
			r = -EINVAL;
		free(line);
	}
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return r;
}

/* rps: RPS that hashes a queue's flows over several CPUs. */
static int
doctor_check_rps_cpus(const struct topology *topo, struct doctor_report *rep)
{
	const struct topo_queue	*q;
	struct doctor_finding	*f;
	size_t			 i, j, one = 0, many = 0;

	for (i = 0; i < topo->nifaces; i++) {
		for (j = 0; j < topo->ifaces[i].nqueues; j++) {
			q = &topo->ifaces[i].queues[j];
			if (q->rps_cpus == NULL)
				continue;
			if (strpbrk(q->rps_cpus, ",-") == NULL) {
				one++;
				continue;
			}
			many++;
			f = doctor_add(rep, "rps", DOCTOR_WARN, "%s queue %u: "
			    "RPS hashes its flows over CPUs %s, but the plan "
			    "puts its worker on CPU %d only",
			    topo->ifaces[i].name, q->queue, q->rps_cpus, q->cpu);
			doctor_fix(rep, f, "give it one CPU, or none to leave "
			    "the work on the IRQ's CPU: echo 0 > "
			    "/sys/class/net/%s/queues/rx-%u/rps_cpus",
			    topo->ifaces[i].name, q->queue);
		}
	}
	if (many == 0 && one == 0)
		doctor_add(rep, "rps", DOCTOR_OK, "RPS is off on the plan's "
		    "queues: nothing hands their packets to another CPU");
	else if (many == 0)
		doctor_add(rep, "rps", DOCTOR_OK, "RPS sends each of %zu "
		    "queue%s to one CPU, where the plan puts its worker", one,
		    one == 1 ? "" : "s");
	return 0;
}

/* The queues of an interface with rps_flow_cnt set; -errno on error. */
static int
doctor_rfs_queues(const char *sysroot, const struct topo_iface *ifc,
    size_t *n)
{
	unsigned long long	 cnt;
	char			 rel[PATH_MAX];
	size_t			 j;
	int			 r;

	for (j = 0; j < ifc->nqueues; j++) {
		snprintf(rel, sizeof(rel), "sys/class/net/%s/queues/rx-%u/"
		    "rps_flow_cnt", ifc->name, ifc->queues[j].queue);
		r = doctor_read_uint(sysroot, rel, &cnt, NULL);
		if (r == -ENOMEM)
			return r;
		if (r == 0 && cnt > 0)
			(*n)++;
	}
	return 0;
}

/* rfs: the global flow table and per-queue flow counts both set. */
static int
doctor_check_rfs(const struct doctor_host *host, struct doctor_report *rep)
{
	const struct topology	*topo = host->plan->topo;
	struct doctor_finding	*f;
	unsigned long long	 entries = 0;
	size_t			 i, n = 0;
	int			 r;

	r = doctor_read_uint(host->sysroot,
	    "proc/sys/net/core/rps_sock_flow_entries", &entries, NULL);
	if (r == -ENOMEM)
		return r;
	for (i = 0; entries > 0 && i < topo->nifaces; i++)
		if ((r = doctor_rfs_queues(host->sysroot, &topo->ifaces[i],
		    &n)) < 0)
			return r;
	if (entries == 0 || n == 0) {
		doctor_add(rep, "rfs", DOCTOR_OK, "RFS is off "
		    "(net.core.rps_sock_flow_entries = %llu, %zu queue%s with "
		    "rps_flow_cnt): flows are processed where their queue "
		    "puts them", entries, n, n == 1 ? "" : "s");
		return 0;
	}
	f = doctor_add(rep, "rfs", DOCTOR_WARN, "RFS is on "
	    "(net.core.rps_sock_flow_entries = %llu, rps_flow_cnt set on %zu "
	    "queue%s): the kernel processes a flow where its reader last ran, "
	    "not where its queue's IRQ runs, so SO_INCOMING_CPU no longer "
	    "names the queue's CPU", entries, n, n == 1 ? "" : "s");
	doctor_fix(rep, f, "turn it off: sysctl -w "
	    "net.core.rps_sock_flow_entries=0, and echo 0 > "
	    "/sys/class/net/IFACE/queues/rx-N/rps_flow_cnt");
	return 0;
}

int
doctor_check_rps(const struct doctor_host *host, struct doctor_report *rep)
{
	int	 r;

	if ((r = doctor_check_rps_cpus(host->plan->topo, rep)) < 0)
		return r;
	return doctor_check_rfs(host, rep);
}

/* The CPUs of an interface's tx-N/xps_cpus; *ntx counts TX queues. */
static int
doctor_xps_cpus(const char *sysroot, const char *ifname, struct cpuset *cpus,
    size_t *ntx, size_t *nfiles)
{
	struct cpuset	*set;
	char		*path;
	unsigned int	 n;
	int		 r;

	*ntx = *nfiles = 0;
	for (n = 0; n < 65536; n++) {
		if ((path = sysroot_path(sysroot, "sys/class/net/%s/queues/"
		    "tx-%u", ifname, n)) == NULL)
			return -ENOMEM;
		r = access(path, F_OK);
		free(path);
		if (r == -1)
			break;
		(*ntx)++;
		if ((path = sysroot_path(sysroot, "sys/class/net/%s/queues/"
		    "tx-%u/xps_cpus", ifname, n)) == NULL)
			return -ENOMEM;
		r = cpuset_read_mask_file(path, &set);
		free(path);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		(*nfiles)++;
		r = cpuset_or(cpus, set);
		cpuset_free(set);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One interface: every worker CPU should send on a TX queue of its own. */
static int
doctor_xps_iface(const char *sysroot, const struct topo_iface *ifc,
    const struct cpuset *workers, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	struct cpuset		*mapped, *missing = NULL;
	size_t			 ntx, nfiles;
	char			*list = NULL;
	int			 r;

	if ((mapped = cpuset_new()) == NULL)
		return -ENOMEM;
	r = doctor_xps_cpus(sysroot, ifc->name, mapped, &ntx, &nfiles);
	if (r == 0 && (missing = cpuset_dup(workers)) == NULL)
		r = -ENOMEM;
	if (r == 0) {
		cpuset_andnot(missing, mapped);
		if ((list = cpuset_format_list(missing)) == NULL)
			r = -ENOMEM;
	}
	if (r == 0 && ntx > 1 && nfiles > 0 && !cpuset_empty(missing)) {
		f = doctor_add(rep, "xps", DOCTOR_WARN, "%s: worker CPU%s %s "
		    "%s in no tx-N/xps_cpus: %s replies are hashed over %zu TX "
		    "queues, whose completion interrupts run on other CPUs",
		    ifc->name, cpuset_count(missing) > 1 ? "s" : "", list,
		    cpuset_count(missing) > 1 ? "are" : "is",
		    cpuset_count(missing) > 1 ? "their" : "its", ntx);
		doctor_fix(rep, f, "map each worker CPU to the TX queue that "
		    "pairs with its RX queue: echo MASK > "
		    "/sys/class/net/%s/queues/tx-N/xps_cpus", ifc->name);
	} else if (r == 0)
		doctor_add(rep, "xps", DOCTOR_OK, "%s: %s", ifc->name,
		    ntx <= 1 ? "one TX queue, nothing to choose" :
		    nfiles == 0 ? "no xps_cpus files: the driver picks the TX "
		    "queue" : "XPS maps every worker CPU to a TX queue");
	free(list);
	cpuset_free(missing);
	cpuset_free(mapped);
	return r;
}

int
doctor_check_xps(const struct doctor_host *host, struct doctor_report *rep)
{
	struct cpuset	*workers;
	size_t		 i;
	int		 r = 0;

	if (plan_worker_cpus(host->plan, &workers) < 0)
		return -ENOMEM;
	for (i = 0; i < host->plan->topo->nifaces && r == 0; i++)
		r = doctor_xps_iface(host->sysroot,
		    &host->plan->topo->ifaces[i], workers, rep);
	cpuset_free(workers);
	return r;
}

/* threaded-napi: NAPI polling in kernel threads the scheduler places. */
int
doctor_check_threaded(const struct doctor_host *host,
    struct doctor_report *rep)
{
	const struct topo_iface	*ifc;
	struct doctor_finding	*f;
	unsigned long long	 v;
	char			 rel[PATH_MAX];
	size_t			 i, on = 0;
	int			 r;

	for (i = 0; i < host->plan->topo->nifaces; i++) {
		ifc = &host->plan->topo->ifaces[i];
		snprintf(rel, sizeof(rel), "sys/class/net/%s/threaded",
		    ifc->name);
		if ((r = doctor_read_uint(host->sysroot, rel, &v, NULL)) ==
		    -ENOMEM)
			return r;
		if (r < 0 || v == 0)
			continue;
		on++;
		f = doctor_add(rep, "threaded-napi", DOCTOR_WARN, "%s: "
		    "threaded NAPI is on: its queues are polled by napi/%s-* "
		    "kernel threads, which the scheduler may run on any CPU, "
		    "not the IRQ's", ifc->name, ifc->name);
		doctor_fix(rep, f, "echo 0 > /sys/class/net/%s/threaded, or "
		    "pin each napi/%s-* thread to its queue's CPU "
		    "(taskset -pc CPU PID)", ifc->name, ifc->name);
	}
	if (on == 0)
		doctor_add(rep, "threaded-napi", DOCTOR_OK, "NAPI runs in "
		    "softirq context on the IRQ's CPU (no interface of the "
		    "plan has threaded set)");
	return 0;
}

/* somaxconn: the kernel caps every listen() backlog at it. */
int
doctor_check_somaxconn(const struct doctor_host *host,
    struct doctor_report *rep)
{
	const struct listener_conf	*lc, *worst = NULL;
	struct doctor_finding		*f;
	unsigned long long		 max;
	char				*path;
	size_t				 i;
	int				 r, largest = 0;

	r = doctor_read_uint(host->sysroot, "proc/sys/net/core/somaxconn",
	    &max, &path);
	if (r < 0 && r != -ENOMEM) {
		f = doctor_add(rep, "somaxconn", DOCTOR_WARN, "cannot read "
		    "net.core.somaxconn (%s): %s", path,
		    read_file_error(r, NULL));
		doctor_fix(rep, f, "check it with \"sysctl net.core.somaxconn\"");
	}
	free(path);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (i = 0; i < host->conf->nlisteners; i++) {
		lc = &host->conf->listeners[i];
		if (lc->protocol != LISTEN_TCP || lc->backlog <= largest)
			continue;
		largest = lc->backlog;
		worst = lc;
	}
	if (worst != NULL && (unsigned long long)largest > max) {
		f = doctor_add(rep, "somaxconn", DOCTOR_WARN, "listener \"%s\" "
		    "asks for a backlog of %d, but net.core.somaxconn = %llu "
		    "caps it: bursts of new connections beyond that are "
		    "dropped", worst->name, largest, max);
		doctor_fix(rep, f, "sysctl -w net.core.somaxconn=%d, and the "
		    "same in /etc/sysctl.d/ to keep it", largest);
	} else
		doctor_add(rep, "somaxconn", DOCTOR_OK, "net.core.somaxconn = "
		    "%llu covers every listener's backlog (largest %d)", max,
		    largest);
	return 0;
}

/*
 * tcp-migrate-req: without it, connections queued on a socket that closes
 * are reset.  The master logs this check at start.
 */
int
doctor_check_tcp_migrate_req(const char *sysroot, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	unsigned long long	 v = 0;
	int			 r;

	r = doctor_read_uint(sysroot, "proc/sys/net/ipv4/tcp_migrate_req", &v,
	    NULL);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && v != 0) {
		doctor_add(rep, "tcp-migrate-req", DOCTOR_OK,
		    "net.ipv4.tcp_migrate_req is on: connections queued on a "
		    "socket that closes move to the other workers");
		return 0;
	}
	if (r == -ENOENT) {
		f = doctor_add(rep, "tcp-migrate-req", DOCTOR_WARN, "this "
		    "kernel has no net.ipv4.tcp_migrate_req (before 5.14): "
		    "connections queued on a socket that closes (fewer workers "
		    "after a reload, a worker given up or not back within a "
		    "second) are reset");
		doctor_fix(rep, f, "run Linux 5.14 or later to keep them");
		return 0;
	}
	if (r < 0) {
		f = doctor_add(rep, "tcp-migrate-req", DOCTOR_WARN, "cannot "
		    "read net.ipv4.tcp_migrate_req: %s",
		    read_file_error(r, NULL));
		doctor_fix(rep, f, "check it with \"sysctl "
		    "net.ipv4.tcp_migrate_req\"");
		return 0;
	}
	f = doctor_add(rep, "tcp-migrate-req", DOCTOR_WARN,
	    "net.ipv4.tcp_migrate_req is 0: connections queued on a socket "
	    "that closes (fewer workers after a reload, a worker given up or "
	    "not back within a second) are reset instead of moved to the "
	    "other workers");
	doctor_fix(rep, f, "sysctl -w net.ipv4.tcp_migrate_req=1; the shipped "
	    "sysctl.d file sets it at boot");
	return 0;
}

/* "Max open files  SOFT  HARD  files" from proc/self/limits. */
static int
doctor_nofile_read(const char *sysroot, unsigned long long *soft,
    unsigned long long *hard)
{
	static const char	 key[] = "Max open files";
	char			*path, *text, *p, s[32], h[32];
	int			 r;

	if ((path = sysroot_path(sysroot, "proc/self/limits")) == NULL)
		return -ENOMEM;
	r = read_file(path, &text, 65536);
	free(path);
	if (r < 0)
		return r;
	r = -EINVAL;
	for (p = text; p != NULL; p = (p = strchr(p, '\n')) ? p + 1 : NULL) {
		if (strncmp(p, key, sizeof(key) - 1) != 0 ||
		    sscanf(p + sizeof(key) - 1, "%31s %31s", s, h) != 2)
			continue;
		*soft = strcmp(s, "unlimited") == 0 ? ULLONG_MAX :
		    strtoull(s, NULL, 10);
		*hard = strcmp(h, "unlimited") == 0 ? ULLONG_MAX :
		    strtoull(h, NULL, 10);
		r = 0;
		break;
	}
	free(text);
	return r;
}

/* The open files one process of the plan needs: a worker, or the master. */
static unsigned long long
doctor_nofile_need(const struct doctor_host *host)
{
	unsigned long long	 worker, master;

	worker = config_worker_nofile(host->conf);
	master = (unsigned long long)host->plan->nworkers *
	    (host->conf->nlisteners + 1) + CONFIG_NOFILE_SPARE;
	return worker > master ? worker : master;
}

/* fs.file-max against every worker's max_connections at once. */
static int
doctor_check_file_max(const struct doctor_host *host,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	unsigned long long	 max, total;
	int			 r;

	total = (unsigned long long)host->conf->max_connections *
	    host->plan->nworkers;
	r = doctor_read_uint(host->sysroot, "proc/sys/fs/file-max", &max, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || max >= total)
		return 0;
	f = doctor_add(rep, "nofile", DOCTOR_WARN, "fs.file-max = %llu is "
	    "below max_connections x workers = %d x %zu = %llu: the system "
	    "runs out of files before the workers reach their limit", max,
	    host->conf->max_connections, host->plan->nworkers, total);
	doctor_fix(rep, f, "sysctl -w fs.file-max=%llu (and in "
	    "/etc/sysctl.d/), or lower daemon.max_connections", total * 2);
	return 0;
}

/*
 * nofile: RLIMIT_NOFILE, as proc/self/limits shows it, against what a
 * worker needs for max_connections.  It is this process's limit, which a
 * daemon started from the same shell inherits; a unit's LimitNOFILE=
 * cannot be seen from here, and the text says so.
 */
int
doctor_check_nofile(const struct doctor_host *host, struct doctor_report *rep)
{
	struct doctor_finding	*f;
	unsigned long long	 soft, hard, need;
	char			 whose[96];
	int			 r;

	need = doctor_nofile_need(host);
	if (host->sysroot == NULL || strcmp(host->sysroot, "/") == 0)
		snprintf(whose, sizeof(whose), "this process (pid %ld)",
		    (long)getpid());
	else
		snprintf(whose, sizeof(whose), "proc/self/limits");
	if ((r = doctor_nofile_read(host->sysroot, &soft, &hard)) < 0) {
		if (r == -ENOMEM)
			return r;
		f = doctor_add(rep, "nofile", DOCTOR_WARN, "cannot read the "
		    "open-file limit from proc/self/limits: %s",
		    read_file_error(r, NULL));
		doctor_fix(rep, f, "check it with \"ulimit -n\"; a worker "
		    "needs %llu", need);
	} else if (soft < need) {
		f = doctor_add(rep, "nofile", DOCTOR_FAIL, "the open-file "
		    "limit of %s is %llu (hard %llu), below the %llu a worker "
		    "needs for "
		    "daemon.max_connections = %d: accept() fails with EMFILE "
		    "before that; a daemon started from here inherits it "
		    "(under systemd LimitNOFILE= of the unit applies instead, "
		    "which cannot be seen from here)", whose, soft, hard, need,
		    host->conf->max_connections);
		doctor_fix(rep, f, "raise it to %llu or more (ulimit -n, "
		    "LimitNOFILE= in the unit, nofile in "
		    "/etc/security/limits.conf), or lower "
		    "daemon.max_connections", need);
	} else
		doctor_add(rep, "nofile", DOCTOR_OK, "the open-file limit of "
		    "%s, %llu, covers the %llu a worker needs for "
		    "daemon.max_connections "
		    "= %d (under systemd LimitNOFILE= of the unit applies "
		    "instead, which cannot be seen from here)", whose, soft,
		    need, host->conf->max_connections);
	return doctor_check_file_max(host, rep);
}
