/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/interrupts and /proc/irq/N: which IRQs exist, the CPU behind each
 * count column, the action names of each IRQ, and where an IRQ is delivered.
 */
#ifndef AFFINITYD_IRQMAP_H
#define AFFINITYD_IRQMAP_H

#include <stddef.h>

#include "common/util.h"

struct cpuset;
struct irqname_candidate;

struct irq_line {
	unsigned int		 irq;
	unsigned long long	*counts;	/* one per column, ncounts of them */
	size_t			 ncounts;
	char			*tail;		/* text after the counts, trimmed */
	struct strv		 names;		/* action names, best effort */
};

struct irqmap {
	unsigned int		*column_cpu;	/* CPU of each count column */
	size_t			 ncolumns;
	struct irq_line		*lines;		/* numbered IRQ rows only */
	size_t			 nlines;
	struct strv		 warnings;	/* "line N: why: text" */
};

/* irqmap.c */
int	 irqmap_parse(const char *text, struct irqmap **map);
int	 irqmap_read(const char *sysroot, struct irqmap **map);
void	 irqmap_free(struct irqmap *map);
const struct irq_line *irqmap_find(const struct irqmap *map, unsigned int irq);
int	 irqmap_actions(const char *sysroot, unsigned int irq, struct strv *names);
int	 irqmap_names(const char *sysroot, const struct irqmap *map,
	    unsigned int irq, struct strv *names);
int	 irqmap_affinity(const char *sysroot, unsigned int irq,
	    struct cpuset **cpus, const char **source_file);
int	 irqmap_candidates(const struct irqmap *map, const unsigned int *irqs,
	    size_t nirqs, struct irqname_candidate **cand, size_t *ncand);

/*
 * irqname.c: which of a device's IRQs serve RX queues, and which queue,
 * by the names each driver gives its vectors (see IRQ-NAMING).
 */
struct irqname_dev {
	const char	*ifname;	/* netdev name, e.g. "eth0" */
	const char	*pci_addr;	/* "0000:3b:00.0", or NULL */
	const char	*bus_name;	/* virtio/xen bus device, e.g. "virtio2" */
	const char	*driver;	/* "mlx5_core", "virtio_net", or NULL */
};

struct irqname_candidate {
	unsigned int	 irq;
	const char	*name;		/* one action name of that IRQ */
};

struct irqname_queue {
	unsigned int	 irq;
	unsigned int	 queue;		/* RX queue index as the kernel numbers it */
};

int	 irqname_rx_queues(const struct irqname_dev *dev,
	    const struct irqname_candidate *cand, size_t ncand,
	    struct irqname_queue **queues, size_t *nqueues);
int	 irqname_mentions(const struct irqname_dev *dev, const char *name);

#endif
