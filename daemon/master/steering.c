/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Steering as the master runs it.  "auto" becomes a method by the
 * self-test, once per generation.  For "cbpf" the master keeps a model of
 * each listener's reuseport group (steer_group.c): a worker's new sockets
 * join when it reports ready, and a socket leaves when the master closes
 * the last copy of it, which it does only after the worker let go.  After
 * every such change the serving generation's program is attached again,
 * so the indices it returns are those of the group as it is now.
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "master/generation.h"
#include "common/log.h"
#include "master/steer_group.h"
#include "topology/steer_selftest.h"
#include "master/steering.h"
#include "master/supervise.h"
#include "topology/topology.h"

void
steering_choose(enum steering steering, const struct cpuset *cpus,
    struct steer_decision *dec)
{
	struct steer_result	 res;
	int			 r;

	switch (steering) {
	case STEERING_AUTO:
		if ((r = steer_selftest(cpus, &res)) < 0)
			log_warnx("steering self-test: %s", strerror(-r));
		steer_decide(&res, dec);
		return;
	case STEERING_CBPF:
		dec->method = STEER_METHOD_CBPF;
		break;
	case STEERING_NONE:
		dec->method = STEER_METHOD_NONE;
		break;
	default:
		dec->method = STEER_METHOD_INCOMING_CPU;
		break;
	}
	snprintf(dec->reason, sizeof(dec->reason), "set in the configuration");
}

void
steering_resolve(struct generation *gen)
{
	struct steer_decision	 dec;

	steering_choose(gen->conf->steering, gen->topo->allowed, &dec);
	gen->steer = dec.method;
	snprintf(gen->steer_reason, sizeof(gen->steer_reason), "%s",
	    dec.reason);
	log_info("generation %u: steering %s (%s): %s", gen->number,
	    steer_method_name(gen->steer), steering_name(gen->conf->steering),
	    gen->steer_reason);
}

static int
steering_type(const struct listener_conf *lc)
{
	return lc->protocol == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM;
}

void
steering_joined(struct gen_pool *pool, const struct mworker *mw)
{
	const struct listener_conf	*lc;
	size_t				 l;
	int				 r;

	for (l = 0; l < mw->conf->nlisteners; l++) {
		if (mw->fds[l] < 0 || mw->cookies[l] == 0)
			continue;
		lc = &mw->conf->listeners[l];
		r = steer_groups_join(pool->groups, steering_type(lc),
		    &lc->addr, mw->cookies[l]);
		if (r < 0 && r != -EEXIST)
			log_warnx("listener \"%s\": worker %u's socket: %s",
			    lc->name, mw->id, strerror(-r));
	}
}

/* How many copies of the socket the generations hold. */
static size_t
steering_copies(const struct gen_pool *pool, uint64_t cookie)
{
	const struct generation	*gen;
	const struct mworker	*mw;
	size_t			 i, l, n = 0;

	for (gen = pool->gens; gen != NULL; gen = gen->next)
		for (i = 0; i < gen->nworkers; i++) {
			mw = &gen->workers[i];
			for (l = 0; mw->fds != NULL &&
			    l < gen->conf->nlisteners; l++)
				n += mw->fds[l] >= 0 &&
				    mw->cookies[l] == cookie;
		}
	return n;
}

/* Whether any generation still holds a copy of the socket. */
static int
steering_held(uint64_t cookie, void *arg)
{
	return steering_copies(arg, cookie) > 0;
}

/* A serving socket of the socket's group at an index a close keeps. */
static int
steering_stable_target(const struct gen_pool *pool, uint64_t cookie,
    struct steer_target *t, int *fd)
{
	const struct generation	*gen;
	const struct mworker	*mw;
	size_t			 i, l, last;
	int			 hole, idx;

	hole = steer_groups_index(pool->groups, cookie);
	last = steer_groups_count(pool->groups, cookie) - 1;
	for (gen = pool->gens; gen != NULL; gen = gen->next) {
		if (gen->state != GEN_ACTIVE)
			continue;
		for (i = 0; i < gen->nworkers; i++) {
			mw = &gen->workers[i];
			if (mw->state == MW_GAVE_UP || mw->retired)
				continue;
			for (l = 0; l < gen->conf->nlisteners; l++) {
				if (mw->fds[l] < 0 || !steer_groups_together(
				    pool->groups, mw->cookies[l], cookie))
					continue;
				idx = steer_groups_index(pool->groups,
				    mw->cookies[l]);
				if (idx == hole || (size_t)idx == last)
					continue;
				*t = (struct steer_target){ mw->cpu,
				    mw->cookies[l] };
				*fd = mw->fds[l];
				return 0;
			}
		}
	}
	return -ENOENT;
}

void
steering_before_leave(struct gen_pool *pool, uint64_t cookie)
{
	struct steer_target	 t;
	int			 fd;

	if (steer_groups_index(pool->groups, cookie) < 0 ||
	    steering_copies(pool, cookie) != 1 ||
	    steering_stable_target(pool, cookie, &t, &fd) < 0)
		return;
	if (steer_groups_attach(pool->groups, &t, 1, fd) < 0)
		log_debug("steering: no program for the moment a socket "
		    "leaves its group; the kernel may hash meanwhile");
}

void
steering_sync(struct gen_pool *pool)
{
	steer_groups_prune(pool->groups, steering_held, pool);
}

/*
 * One listener's group: the program for serving's workers, or none.  A
 * group that also holds sockets not serving (a draining worker's, until
 * it let go; a starting generation's, until it serves) gets the program
 * whatever the method, as a fence: with SO_INCOMING_CPU or the hash alone
 * the kernel would still hand those sockets flows that nobody accepts or
 * reads.  Once the group holds only serving sockets again, a method other
 * than cbpf takes over again.
 */
static void
steering_apply_listener(struct gen_pool *pool,
    const struct generation *serving, size_t l, struct steer_target *t)
{
	const struct listener_conf	*lc = &serving->conf->listeners[l];
	const struct mworker		*mw;
	size_t				 i, n = 0;
	int				 fd = -1, r, program;

	for (i = 0; i < serving->nworkers; i++) {
		mw = &serving->workers[i];
		if (mw->state == MW_GAVE_UP || mw->retired || mw->fds[l] < 0 ||
		    steer_groups_index(pool->groups, mw->cookies[l]) < 0)
			continue;
		t[n++] = (struct steer_target){ mw->cpu, mw->cookies[l] };
		fd = mw->fds[l];
	}
	if (n == 0)
		return;
	program = serving->steer == STEER_METHOD_CBPF ||
	    steer_groups_count(pool->groups, t[0].cookie) > n;
	if (program)
		r = steer_groups_attach(pool->groups, t, n, fd);
	else
		r = steer_groups_detach(pool->groups, t[0].cookie, fd);
	if (r < 0)
		log_warnx("listener \"%s\": %s the steering program: %s; its "
		    "flows are hashed over the workers", lc->name, program ?
		    "attaching" : "detaching", strerror(-r));
	else if (program)
		log_debug("listener \"%s\": steering program for %zu worker "
		    "socket(s) of %zu in the group", lc->name, n,
		    steer_groups_count(pool->groups, t[0].cookie));
}

void
steering_apply(struct gen_pool *pool, const struct generation *serving)
{
	struct steer_target	*t;
	size_t			 l;

	if (serving == NULL || serving->nworkers == 0)
		return;
	if ((t = calloc(serving->nworkers, sizeof(*t))) == NULL) {
		log_warnx("steering: out of memory");
		return;
	}
	for (l = 0; l < serving->conf->nlisteners; l++)
		steering_apply_listener(pool, serving, l, t);
	free(t);
}
