/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pairing the workers of the running plan with those of a plan discovered
 * again, so that only the workers whose CPU changed are touched.  Pure:
 * the master decides what each step means for processes and sockets.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/remap.h"
#include "topology/plan.h"
#include "common/util.h"

static void
remap_add(struct remap *rm, enum remap_action action, int from, int to)
{
	rm->steps[rm->nsteps++] = (struct remap_step){ action, from, to };
	if (action != REMAP_KEEP)
		rm->nchanged++;
}

static int
remap_share_queue(const struct plan_worker *a, const struct plan_worker *b)
{
	size_t	 i;

	for (i = 0; i < a->queues.n; i++)
		if (strv_contains(&b->queues, a->queues.v[i]))
			return 1;
	return 0;
}

static int
remap_same_queues(const struct plan_worker *a, const struct plan_worker *b)
{
	size_t	 i;

	if (a->queues.n != b->queues.n)
		return 0;
	for (i = 0; i < a->queues.n; i++)
		if (!strv_contains(&b->queues, a->queues.v[i]))
			return 0;
	return 1;
}

/* The unpaired new worker that took one of old worker w's queues. */
static int
remap_follow(const struct plan *new, const unsigned char *taken,
    const struct plan_worker *w)
{
	size_t	 j;

	for (j = 0; j < new->nworkers; j++)
		if (!taken[j] && remap_share_queue(w, &new->workers[j]))
			return (int)j;
	return -1;
}

int
remap_plan(const struct plan *old, const struct plan *new,
    struct remap *rm)
{
	unsigned char	*paired_old, *paired_new;
	size_t		 i, j;
	int		 to;

	memset(rm, 0, sizeof(*rm));
	rm->steps = calloc(old->nworkers + new->nworkers + 1,
	    sizeof(*rm->steps));
	paired_old = calloc(old->nworkers + 1, 1);
	paired_new = calloc(new->nworkers + 1, 1);
	if (rm->steps == NULL || paired_old == NULL || paired_new == NULL) {
		free(paired_old);
		free(paired_new);
		remap_free(rm);
		return -ENOMEM;
	}
	for (i = 0; i < old->nworkers; i++)
		for (j = 0; j < new->nworkers; j++)
			if (!paired_new[j] &&
			    old->workers[i].cpu == new->workers[j].cpu) {
				paired_old[i] = paired_new[j] = 1;
				if (!remap_same_queues(&old->workers[i],
				    &new->workers[j]))
					rm->queues_changed = 1;
				remap_add(rm, REMAP_KEEP, (int)i, (int)j);
				break;
			}
	for (i = 0; i < old->nworkers; i++) {
		if (paired_old[i])
			continue;
		if ((to = remap_follow(new, paired_new, &old->workers[i])) >= 0) {
			paired_old[i] = paired_new[to] = 1;
			remap_add(rm, REMAP_MOVE, (int)i, to);
		}
	}
	for (j = 0; j < new->nworkers; j++)
		if (!paired_new[j])
			remap_add(rm, REMAP_START, -1, (int)j);
	for (i = 0; i < old->nworkers; i++)
		if (!paired_old[i])
			remap_add(rm, REMAP_DRAIN, (int)i, -1);
	free(paired_old);
	free(paired_new);
	return 0;
}

void
remap_free(struct remap *rm)
{
	free(rm->steps);
	memset(rm, 0, sizeof(*rm));
}

static int
remap_describe_step(struct strv *parts, const struct remap_step *s,
    const struct plan *old, const struct plan *new)
{
	const struct plan_worker	*o = s->from >= 0 ?
	    &old->workers[s->from] : NULL;
	const struct plan_worker	*n = s->to >= 0 ? &new->workers[s->to] :
	    NULL;
	const char			*q;

	switch (s->action) {
	case REMAP_MOVE:
		q = n->queues.n > 0 ? n->queues.v[0] : "no queue";
		return strv_addf(parts, "worker on CPU %u moves to CPU %u "
		    "(%s%s)", o->cpu, n->cpu, q, n->queues.n > 1 ? ", ..." : "");
	case REMAP_START:
		q = n->queues.n > 0 ? n->queues.v[0] : "no queue";
		return strv_addf(parts, "new worker on CPU %u (%s%s)", n->cpu,
		    q, n->queues.n > 1 ? ", ..." : "");
	case REMAP_DRAIN:
		return strv_addf(parts, "worker on CPU %u drains", o->cpu);
	default:
		return 0;
	}
}

char *
remap_describe(const struct remap *rm, const struct plan *old,
    const struct plan *new)
{
	struct strv	 parts = { 0 };
	size_t		 i, len = 1;
	char		*s = NULL;

	for (i = 0; i < rm->nsteps; i++)
		if (remap_describe_step(&parts, &rm->steps[i], old, new) < 0)
			goto out;
	if (parts.n == 0 && strv_add(&parts, rm->queues_changed ?
	    "queues moved between workers" : "nothing") < 0)
		goto out;
	for (i = 0; i < parts.n; i++)
		len += strlen(parts.v[i]) + 2;
	if ((s = calloc(1, len)) == NULL)
		goto out;
	for (i = 0; i < parts.n; i++) {
		if (i > 0)
			strcat(s, "; ");
		strcat(s, parts.v[i]);
	}
out:
	strv_free(&parts);
	return s;
}
