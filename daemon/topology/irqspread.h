/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_affinity = "spread": pinning each RX queue's IRQ to one CPU of the
 * workers' CPUs, through /proc/irq/N/smp_affinity_list below a root prefix.
 */
#ifndef AFFINITYD_IRQSPREAD_H
#define AFFINITYD_IRQSPREAD_H

#include "topology/topology.h"

struct plan;

struct cpuset;
struct strv;

/*
 * irqspread.c
 *
 * irqspread_targets() gives the CPUs to spread over: the plan's worker
 * CPUs for an explicit worker list, else every CPU the daemon may use
 * (the plan's topo->allowed, which exclude_cpus already left out).
 *
 * irqspread_apply() walks each interface's queues in queue order and gives
 * their IRQs the CPUs of cpus round-robin, each interface starting at the
 * lowest CPU; an IRQ met again keeps its first CPU.  An IRQ whose
 * effective affinity is already exactly its CPU is left alone; any other
 * gets its CPU written to proc/irq/N/smp_affinity_list, and its effective
 * affinity is read back, since the kernel can refuse a write, ignore it,
 * or keep the move for the IRQ's next interrupt (written IRQs get
 * IRQSPREAD_SETTLE_MS, 100 ms, to move).  Every IRQ that did not move,
 * and a running irqbalance (which would move them again), add a warning
 * naming the IRQ and the file: the verdicts of irqcheck.c, which the
 * doctor's irq-moved and irqbalance checks give too, so that the daemon
 * and "affinityd doctor" say the same.  *changed is the number of IRQs whose effective affinity
 * changed: when it is not 0 the plan must be discovered again.  Returns
 * 0, or -ENOMEM; -EINVAL when cpus is empty.
 */
int	 irqspread_targets(const struct plan *plan,
	    enum topo_workers workers, struct cpuset **cpus);
int	 irqspread_apply(const char *sysroot, const struct topology *topo,
	    const struct cpuset *cpus, struct strv *warnings,
	    unsigned int *changed);

#endif
