/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What changes between two worker plans of the same configuration: the
 * machine moved a queue, changed the queue count, or took a CPU away or
 * gave it back.  Each worker of either plan gets one step.
 */
#ifndef AFFINITYD_REMAP_H
#define AFFINITYD_REMAP_H

#include <stddef.h>

struct plan;

enum remap_action {
	REMAP_KEEP,	/* same CPU (its queues may have changed) */
	REMAP_MOVE,	/* its queues are processed on another CPU now */
	REMAP_START,	/* a CPU that had no worker needs one */
	REMAP_DRAIN,	/* its CPU lost every queue, or left the set */
};

struct remap_step {
	enum remap_action	 action;
	int			 from;	/* index in the old plan's workers, -1 */
	int			 to;	/* index in the new plan's workers, -1 */
};

struct remap {
	struct remap_step	*steps;
	size_t			 nsteps;
	size_t			 nchanged;	/* steps other than KEEP */
	int			 queues_changed; /* some KEEP's queues differ */
};

/*
 * remap.c
 *
 * remap_plan() pairs the workers of old and new: by CPU first (KEEP),
 * then a worker whose queues all went to one new CPU, or share a queue
 * with it, moves there (MOVE); the rest start or drain.  0 or -ENOMEM.
 * remap_describe() says what changed in one line ("worker 1: CPU 1 -> 3
 * (eth0:1); new worker on CPU 4; worker 2 on CPU 2 drains"), or NULL
 * without memory.
 */
int	 remap_plan(const struct plan *old, const struct plan *new,
	    struct remap *out);
void	 remap_free(struct remap *rm);
char	*remap_describe(const struct remap *rm, const struct plan *old,
	    const struct plan *new);

#endif
