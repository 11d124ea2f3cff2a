/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generations of workers: one per configuration the master loaded, each
 * with its own worker plan, stats slots and held sockets.  The master
 * starts one (from nothing at start-up, beside the serving one on a
 * reload), activates it when every worker is ready, and drains the old.
 */
#ifndef AFFINITYD_GENERATION_H
#define AFFINITYD_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"
#include "topology/steer_selftest.h"
#include "master/supervise.h"

struct config;
struct cpuset;
struct plan;
struct plan_worker;

enum gen_state {
	GEN_STARTING,		/* workers forked one by one */
	GEN_ACTIVE,		/* serving */
	GEN_DRAINING,		/* told to stop; gone when its workers are */
	GEN_FAILED,		/* did not start; being torn down */
};

struct generation {
	struct gen_pool		*pool;
	struct generation	*next;		/* in pool->gens, newest first */
	unsigned int		 number;
	enum gen_state		 state;
	struct config		*conf;		/* owned: freed with the generation */
	struct plan		*plan;		/* its workers, and their map */
	struct mworker		*workers;
	size_t			 nworkers;
	size_t			 cap;		/* room in workers, for re-maps */
	enum steer_method	 steer;		/* topology.steering, resolved */
	char			 steer_reason[512];
	int			 released;	/* its sockets go once let go of */
};

/* Every generation the master holds, and what their workers share. */
struct gen_pool {
	struct generation	*gens;		/* newest first */
	struct supervisor	 sup;
	struct stats_segment	 stats;		/* one slot per worker */
	unsigned char		*slot_used;
	struct steer_groups	*groups;	/* the reuseport groups' order */
};

/* generation.c */
int	 generation_pool_init(struct gen_pool *pool, size_t nslots);
void	 generation_pool_free(struct gen_pool *pool);
struct generation *generation_new(struct gen_pool *pool, struct config *conf);
int	 generation_plan(struct generation *gen, const struct generation *prev,
	    unsigned int number, char **why);
int	 generation_start_next(struct generation *gen, char **why);
int	 generation_check_ports(const struct generation *gen);
int	 generation_activate(struct generation *gen, struct generation *old);
void	 generation_fail(struct generation *gen);
void	 generation_let_go(struct mworker *mw);
struct mworker *generation_add_worker(struct generation *gen,
	    const struct plan_worker *tw);
void	 generation_move(struct mworker *mw, const struct plan_worker *tw);
void	 generation_retire(struct mworker *mw);
struct plan *generation_set_plan(struct generation *gen, struct plan *plan);
void	 generation_signal(struct generation *gen, int sig);
size_t	 generation_running(const struct generation *gen);
size_t	 generation_accepting(const struct generation *gen);
struct cpuset *generation_idle_cpus(const struct generation *gen);
void	 generation_collect(struct gen_pool *pool, const struct generation *keep);
void	 generation_joined(const struct mworker *mw);
void	 generation_groups_sync(struct gen_pool *pool);
void	 generation_steer(struct gen_pool *pool,
	    const struct generation *serving);

#endif
