/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RX queue -> IRQ -> CPU discovery: the facts read (interfaces, queues,
 * IRQs, CPUs), from which plan.c decides the workers (topology/plan.h).
 * Everything is read below a root prefix so fixture trees can stand in
 * for a machine.
 */
#ifndef AFFINITYD_TOPOLOGY_H
#define AFFINITYD_TOPOLOGY_H

#include <stddef.h>

#include "common/util.h"

struct cpuset;
struct netdev_nl_rxq;

enum topo_source {
	TOPO_SOURCE_NETLINK,
	TOPO_SOURCE_IRQ,
	TOPO_SOURCE_RPS,
	TOPO_SOURCE_CPUS,	/* fallback: one worker per allowed CPU */
};

enum topo_workers {
	TOPO_WORKERS_RX_QUEUES,	/* one worker per CPU that processes a queue */
	TOPO_WORKERS_CPUS,	/* one worker per allowed CPU */
	TOPO_WORKERS_LIST,	/* one worker per CPU of an explicit list */
};

struct topo_queue {
	unsigned int	 queue;		/* rx-N */
	int		 irq;		/* -1: none */
	int		 cpu;		/* CPU that processes it, -1: unknown */
	char		*irq_cpus;	/* IRQ's effective affinity list, or NULL */
	char		*rps_cpus;	/* rps_cpus as a list when set, or NULL */
	int		 moving_to;	/* IRQ written to this CPU, not yet
					   effective (a move in progress), -1 */
};

struct topo_iface {
	char			*name;
	char			*driver;	/* "unknown" when there is none */
	enum topo_source	 source;
	struct topo_queue	*queues;
	size_t			 nqueues;
};

struct topology {
	struct topo_iface	*ifaces;
	size_t			 nifaces;
	struct cpuset		*allowed;	/* CPUs the daemon may use */
	struct strv		 warnings;	/* for the caller to log */
	struct strv		 notes;		/* facts for an info line */
};

struct topo_options {
	const char		*sysroot;	/* NULL or "/" for the machine */
	const char * const	*ifaces;	/* NULL: every interface with queues */
	size_t			 nifaces;
	enum topo_workers	 workers;
	const struct cpuset	*worker_cpus;	/* for TOPO_WORKERS_LIST */
	const struct cpuset	*exclude_cpus;	/* may be NULL */
	/*
	 * Asks the netdev netlink family for the queues' IRQs.  NULL: the
	 * kernel's, and only when sysroot is the machine ("/" or NULL); a
	 * stand-in is asked below any sysroot (tests).
	 */
	int			(*netlink_rx_irqs)(unsigned int ifindex,
				    struct netdev_nl_rxq **rxq, size_t *nrxq);
};

/*
 * topology.c: topology_discover() reads the map; it decides no worker
 * (plan.c's plan_make() does, and plan_discover() does both).  It
 * returns 0, -ENODEV for an interface that does not exist, or another
 * -errno.  *topo is set even on error (NULL only when it could not be
 * allocated), its warnings saying why; the caller logs them and frees it
 * with topology_free().
 */
int	 topology_discover(const struct topo_options *opts,
	    struct topology **topo);
void	 topology_free(struct topology *topo);
const char *topology_source_name(enum topo_source source);

#endif
