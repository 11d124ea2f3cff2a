/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The queue IRQ checks that irq_affinity = "spread" (irqspread.c) and
 * the doctor share, below both: each gives a verdict in words, which the
 * doctor shows as a finding and the daemon logs as a warning.
 */
#ifndef AFFINITYD_IRQCHECK_H
#define AFFINITYD_IRQCHECK_H

#include <sys/types.h>

struct topology;

enum irqcheck_status {
	IRQCHECK_OK,
	IRQCHECK_WARN,
	IRQCHECK_FAIL,
};

/* Zeroed before a check; freed with irqcheck_result_free(). */
struct irqcheck_result {
	enum irqcheck_status	 status;
	char			*why;		/* one line; NULL: no verdict */
	char			*fix;		/* one line; NULL for OK */
	int			 nomem;		/* the words were lost */
};

/*
 * irqcheck.c
 *
 * irqcheck_irqbalance() always gives a verdict: OK when irqbalance does
 * not run or leaves every queue IRQ of topo alone (--banirq on its
 * command line or in its settings file), FAIL when it may move them, WARN
 * when a policy script decides; 0 or -ENOMEM.
 *
 * irqcheck_irq_moved(): an IRQ sent to cpu (by irq_affinity = "spread",
 * or by whoever wrote its smp_affinity_list) that is delivered elsewhere
 * gives a WARN and returns 1; 0 (and no verdict) when it is where it was
 * sent, or -ENOMEM.  name says which queue it is ("eth0 queue 3").
 */
pid_t	 irqcheck_irqbalance_pid(const char *sysroot);
int	 irqcheck_irqbalance(const char *sysroot, const struct topology *topo,
	    struct irqcheck_result *res);
int	 irqcheck_irq_moved(const char *sysroot, int irq, const char *name,
	    int cpu, struct irqcheck_result *res);
void	 irqcheck_result_free(struct irqcheck_result *res);

#endif
