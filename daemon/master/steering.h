/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master's side of steering: the method a generation uses ("auto"
 * resolved by the self-test), and for "cbpf" the reuseport groups of every
 * listener kept in the kernel's order with the program re-attached after
 * every change to them.
 */
#ifndef AFFINITYD_STEERING_H
#define AFFINITYD_STEERING_H

#include "common/enums.h"

struct cpuset;
struct gen_pool;
struct generation;
struct mworker;
struct steer_decision;

/*
 * steering.c
 *
 * steering_choose() turns topology.steering into a method and a reason,
 * running the self-test on cpus for "auto" (see steer_selftest()).
 * steering_resolve() sets gen->steer and gen->steer_reason from its
 * configuration and, for "auto", the self-test run on the CPUs of its
 * plan; it logs the choice.
 *
 * steering_joined() records in the pool's model the sockets a worker
 * made, which joined the end of their groups before it reported ready.
 * steering_sync() takes out of the model every socket that no generation
 * holds any more: the master closes its copy of a socket last (see
 * generation_let_go()), so that close is when the socket left its
 * group.  Each call must follow at most one leave per group.
 *
 * steering_before_leave() is called before the master closes the last
 * copy of a socket: the kernel then moves the group's last socket into its
 * place, and until steering_apply() follows, the program's indices past
 * the hole are wrong and the kernel hashes over the whole group, draining
 * sockets with nobody left to read them included (a datagram queued there
 * is lost).  For that moment every flow of the group goes to one serving
 * socket whose index the leave does not change, when there is one.
 *
 * steering_apply() makes every listener group of serving (the active
 * generation, or the first one while it starts) steer as serving's
 * method says: with "cbpf" the program mapping each worker's CPU to the
 * index of its socket; otherwise no program of ours.  Failures are
 * logged; the group then hashes.
 */
void	 steering_choose(enum steering steering, const struct cpuset *cpus,
	    struct steer_decision *dec);
void	 steering_resolve(struct generation *gen);
void	 steering_joined(struct gen_pool *pool, const struct mworker *mw);
void	 steering_before_leave(struct gen_pool *pool, uint64_t cookie);
void	 steering_sync(struct gen_pool *pool);
void	 steering_apply(struct gen_pool *pool, const struct generation *serving);

#endif
