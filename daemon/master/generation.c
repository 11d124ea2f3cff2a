/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generations of workers: one per configuration the master has loaded.
 * A generation owns its configuration, its worker plan, its stats slots
 * and the duplicates of its workers' sockets.  A new generation takes over
 * the sockets of the last one wherever a listener's address, port and CPU
 * did not change, so their accept queues survive a reload.  Start-up and
 * reload go the same way: plan, start the workers one by one, check the
 * ports, activate (draining the old generation, if any), or fail.
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "master/generation.h"
#include "topology/irqspread.h"
#include "common/log.h"
#include "topology/plan.h"
#include "master/sockdiag.h"
#include "common/stats.h"
#include "master/steer_group.h"
#include "master/steering.h"
#include "master/supervise.h"
#include "topology/topology.h"
#include "common/util.h"

#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU	49
#endif

/* Maps the stats segment: nslots workers over every generation at once. */
int
generation_pool_init(struct gen_pool *pool, size_t nslots)
{
	if (stats_map(nslots, &pool->stats) < 0)
		return -1;
	if ((pool->slot_used = calloc(nslots, 1)) == NULL)
		return -1;
	if ((pool->groups = steer_groups_new()) == NULL)
		return -1;
	return 0;
}

/* A free slot counting for cpu; what it counted before stays counted. */
static struct stats_slot *
generation_take_slot(struct gen_pool *pool, unsigned int cpu)
{
	struct stats_slot	*slot;
	size_t			 i;

	for (i = 0; i < pool->stats.nslots; i++) {
		if (pool->slot_used[i])
			continue;
		if ((slot = stats_take(&pool->stats, i, cpu)) != NULL)
			pool->slot_used[i] = 1;
		return slot;
	}
	return NULL;
}

static void
generation_put_slot(struct gen_pool *pool, struct stats_slot *slot)
{
	if (slot != NULL)
		pool->slot_used[slot - pool->stats.slots] = 0;
}

/*
 * The same socket can serve both: protocol, address, port, options.  Only
 * SO_INCOMING_CPU tells sockets of the steering methods apart: "cbpf" and
 * "none" sockets are alike, the group's program making the difference.
 */
static int
generation_same_socket(const struct listener_conf *a, int sa,
    const struct listener_conf *b, int sb)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->protocol != b->protocol || sa != sb || a->v6only != b->v6only ||
	    a->addr.ss_family != b->addr.ss_family)
		return 0;
	if (a->addr.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->addr;
		b4 = (const struct sockaddr_in *)&b->addr;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&a->addr;
	b6 = (const struct sockaddr_in6 *)&b->addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Takes over a duplicate of each unchanged socket of prev's worker on mw's CPU. */
static void
generation_inherit(struct mworker *mw, const struct generation *prev)
{
	const struct config	*conf = mw->conf;
	const struct mworker	*old = NULL;
	size_t			 i, l, k;

	for (i = 0; i < prev->nworkers; i++)
		if (prev->workers[i].cpu == mw->cpu &&
		    prev->workers[i].state != MW_GAVE_UP &&
		    !prev->workers[i].retired)
			old = &prev->workers[i];
	if (old == NULL)
		return;
	for (l = 0; l < conf->nlisteners; l++) {
		for (k = 0; k < prev->conf->nlisteners; k++) {
			if (old->fds[k] < 0 ||
			    !generation_same_socket(&conf->listeners[l],
			    mw->incoming_cpu, &prev->conf->listeners[k],
			    old->incoming_cpu))
				continue;
			mw->fds[l] = fcntl(old->fds[k], F_DUPFD_CLOEXEC, 3);
			if (mw->fds[l] == -1)
				log_warn("listener \"%s\": duplicating its socket",
				    conf->listeners[l].name);
			else {
				mw->inherit[l] = 1;
				mw->cookies[l] = old->cookies[k];
			}
			break;
		}
	}
}

/* Sets up mw to serve tw's CPU and queues under id. */
static int
generation_worker_init(struct generation *gen, struct mworker *mw,
    const struct plan_worker *tw, unsigned int id)
{
	int	 r;

	mw->ctl_fd = -1;
	mw->owner = gen;
	mw->generation = gen->number;
	mw->id = id;
	mw->cpu = tw->cpu;
	mw->queues = &tw->queues;
	mw->incoming_cpu = gen->steer == STEER_METHOD_INCOMING_CPU;
	if ((r = supervise_worker_init(mw, &gen->pool->sup, gen->conf)) < 0)
		return r;
	if ((mw->slot = generation_take_slot(gen->pool, mw->cpu)) == NULL)
		return -ENOSPC;
	return 0;
}

/*
 * Room for a worker on every possible CPU, twice (one draining while its
 * CPU's next starts), so that a re-map can add workers without moving
 * those whose events point at them.
 */
static size_t
generation_capacity(size_t nworkers)
{
	struct cpuset	*possible = NULL;
	size_t		 n = nworkers;

	if (cpuset_possible(NULL, &possible) == 0 &&
	    cpuset_last(possible) >= 0 &&
	    2 * ((size_t)cpuset_last(possible) + 1) > n)
		n = 2 * ((size_t)cpuset_last(possible) + 1);
	cpuset_free(possible);
	return n;
}

static int
generation_workers(struct generation *gen, const struct generation *prev)
{
	size_t	 i;
	int	 r;

	gen->cap = generation_capacity(gen->plan->nworkers);
	if ((gen->workers = calloc(gen->cap, sizeof(*gen->workers))) == NULL)
		return -ENOMEM;
	gen->nworkers = gen->plan->nworkers;
	for (i = 0; i < gen->nworkers; i++)
		gen->workers[i].ctl_fd = -1;
	for (i = 0; i < gen->nworkers; i++) {
		if ((r = generation_worker_init(gen, &gen->workers[i],
		    &gen->plan->workers[i], gen->plan->workers[i].id)) < 0)
			return r;
		if (prev != NULL)
			generation_inherit(&gen->workers[i], prev);
	}
	return 0;
}

/*
 * Pins the queue IRQs with irq_affinity = "spread".  Also when the plan
 * has no worker yet: the queues may all sit on CPUs the daemon may not
 * use until their IRQs move.  Returns how many IRQs moved, or -ENOMEM.
 */
static int
generation_spread(const struct config *conf, const struct plan *plan)
{
	struct cpuset	*cpus = NULL;
	struct strv	 warnings = { 0 };
	unsigned int	 changed = 0;
	size_t		 i;
	int		 r;

	if ((r = irqspread_targets(plan,
	    plan_topo_workers(conf->workers), &cpus)) == 0)
		r = irqspread_apply(NULL, plan->topo, cpus, &warnings,
		    &changed);
	for (i = 0; i < warnings.n; i++)
		log_warnx("irq_affinity \"spread\": %s", warnings.v[i]);
	strv_free(&warnings);
	cpuset_free(cpus);
	if (r == -ENOMEM)
		return r;
	if (changed > 0)
		log_info("irq_affinity \"spread\": %u queue IRQ(s) moved; "
		    "discovering the plan again", changed);
	return (int)changed;
}

/*
 * The worker plan for conf; after spreading IRQs that moved it is
 * discovered again, so that the workers follow their queues.
 */
static int
generation_plan_topology(const struct config *conf, struct plan **plan)
{
	int	 r, moved;

	r = plan_conf_discover(conf, NULL, NULL, plan);
	if (conf->irq_affinity != IRQ_AFFINITY_SPREAD || *plan == NULL ||
	    (r < 0 && r != -EINVAL))
		return r;
	if ((moved = generation_spread(conf, *plan)) <= 0)
		return moved < 0 ? moved : r;
	plan_free(*plan);
	*plan = NULL;
	return plan_conf_discover(conf, NULL, NULL, plan);
}

/*
 * Sets gen->steer and gen->steer_reason from its configuration and, for
 * "auto", the self-test run on the CPUs of its plan; logs the choice.
 */
static void
generation_resolve_steering(struct generation *gen)
{
	struct steer_decision	 dec;

	steering_choose(gen->conf->steering, gen->plan->topo->allowed, &dec);
	gen->steer = dec.method;
	snprintf(gen->steer_reason, sizeof(gen->steer_reason), "%s",
	    dec.reason);
	log_info("generation %u: steering %s (%s): %s", gen->number,
	    steer_method_name(gen->steer), steering_name(gen->conf->steering),
	    gen->steer_reason);
}

/*
 * A generation for conf, which it owns from now on (also when this
 * fails), at the head of the pool's list; generation_plan() gives it
 * workers.
 */
struct generation *
generation_new(struct gen_pool *pool, struct config *conf)
{
	struct generation	*gen;

	if ((gen = calloc(1, sizeof(*gen))) == NULL) {
		config_free(conf);
		return NULL;
	}
	gen->pool = pool;
	gen->conf = conf;
	gen->state = GEN_STARTING;
	gen->next = pool->gens;
	pool->gens = gen;
	return gen;
}

/*
 * Discovers the worker plan for the generation's configuration and sets
 * up its workers, which take over prev's unchanged sockets.  -1 with
 * *why set (malloc'd, or NULL: out of memory) when there is no usable
 * plan; the caller then fails the generation.  gen->plan's facts
 * (warnings, notes) are the caller's to log.
 */
int
generation_plan(struct generation *gen, const struct generation *prev,
    unsigned int number, char **why)
{
	int	 r;

	*why = NULL;
	gen->number = number;
	r = generation_plan_topology(gen->conf, &gen->plan);
	if (r < 0 || gen->plan == NULL || gen->plan->nworkers == 0) {
		if (asprintf(why, "no worker plan: %s", r < 0 ? strerror(-r) :
		    "no usable CPU") == -1)
			*why = NULL;
		return -1;
	}
	generation_resolve_steering(gen);
	if ((r = generation_workers(gen, prev)) < 0) {
		if (asprintf(why, "cannot set up the workers: %s",
		    r == -ENOSPC ? "too many generations still draining" :
		    strerror(-r)) == -1)
			*why = NULL;
		return -1;
	}
	return 0;
}

/*
 * Forks the next worker that is not ready.  One at a time, so a failure
 * names the first worker that hit it and nothing else is half-started.
 * Returns 0 while a worker starts, 1 once all are ready, or -errno when
 * a fork failed, with *why set to a malloc'd reason (NULL: out of
 * memory) for the caller to report; it is not logged here.
 */
int
generation_start_next(struct generation *gen, char **why)
{
	size_t	 i;
	int	 r;

	*why = NULL;
	for (i = 0; i < gen->nworkers; i++) {
		if (gen->workers[i].state == MW_READY)
			continue;
		if (gen->workers[i].state == MW_STARTING)
			return 0;
		if ((r = supervise_fork(&gen->workers[i])) < 0) {
			*why = strdup(gen->workers[i].last_text);
			return r;
		}
		return 0;
	}
	return 1;
}

/* ---- The reuseport groups: the model steering works from. ---- */

static int
generation_socket_type(const struct listener_conf *lc)
{
	return lc->protocol == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM;
}

/*
 * The sockets mw made joined the end of their groups before it reported
 * ready: the model follows.
 */
void
generation_joined(const struct mworker *mw)
{
	const struct generation		*gen = mw->owner;
	struct steer_groups		*sg = gen->pool->groups;
	const struct listener_conf	*lc;
	size_t				 l;
	int				 r;

	for (l = 0; l < mw->conf->nlisteners; l++) {
		if (mw->fds[l] < 0 || mw->cookies[l] == 0)
			continue;
		lc = &mw->conf->listeners[l];
		r = steer_groups_join(sg, generation_socket_type(lc),
		    &lc->addr, mw->cookies[l]);
		if (r < 0 && r != -EEXIST)
			log_warnx("listener \"%s\": worker %u's socket: %s",
			    lc->name, mw->id, strerror(-r));
	}
}

/* How many copies of the socket the generations hold. */
static size_t
generation_copies(const struct gen_pool *pool, uint64_t cookie)
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
generation_held(uint64_t cookie, void *arg)
{
	return generation_copies(arg, cookie) > 0;
}

/*
 * Takes out of the model every socket that no generation holds any more:
 * the master closes its copy of a socket last (see generation_let_go()),
 * so that close is when the socket left its group.  Each call must follow
 * at most one leave per group.
 */
void
generation_groups_sync(struct gen_pool *pool)
{
	steer_groups_prune(pool->groups, generation_held, pool);
}

/* Whether mw serves: neither given up on nor re-mapped away. */
static int
generation_worker_serves(const struct mworker *mw)
{
	return mw->state != MW_GAVE_UP && !mw->retired;
}

/* Every listener, for generation_serving_socks(). */
#define GENERATION_ALL_LISTENERS	SIZE_MAX

/*
 * Appends to socks the serving sockets of gen's workers, of listener l
 * only, or of every listener (GENERATION_ALL_LISTENERS); returns how many.
 */
static size_t
generation_serving_socks(const struct generation *gen, size_t l,
    struct steer_sock *socks)
{
	const struct mworker	*mw;
	size_t			 i, k, n = 0;

	for (i = 0; i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		if (!generation_worker_serves(mw))
			continue;
		for (k = 0; k < gen->conf->nlisteners; k++)
			if ((l == GENERATION_ALL_LISTENERS || k == l) &&
			    mw->fds[k] >= 0)
				socks[n++] = (struct steer_sock){ mw->cpu,
				    mw->cookies[k], mw->fds[k] };
	}
	return n;
}

/*
 * Before the master closes the last copy of a socket: the serving
 * sockets of the active generations are steering's choice for the moment
 * its group has a hole.
 */
static void
generation_before_leave(struct gen_pool *pool, uint64_t cookie)
{
	const struct generation	*gen;
	struct steer_sock	*socks;
	size_t			 cap = 1, n = 0;

	if (steer_groups_index(pool->groups, cookie) < 0 ||
	    generation_copies(pool, cookie) != 1)
		return;
	for (gen = pool->gens; gen != NULL; gen = gen->next)
		if (gen->state == GEN_ACTIVE)
			cap += gen->nworkers * gen->conf->nlisteners;
	if ((socks = calloc(cap, sizeof(*socks))) == NULL)
		return;
	for (gen = pool->gens; gen != NULL; gen = gen->next)
		if (gen->state == GEN_ACTIVE)
			n += generation_serving_socks(gen,
			    GENERATION_ALL_LISTENERS, socks + n);
	steering_before_leave(pool->groups, cookie, socks, n);
	free(socks);
}

/*
 * After any change to the sockets: every listener group of serving (the
 * active generation, or the first one while it starts) steers as
 * serving's method says, indexed by the groups as they are now.
 */
void
generation_steer(struct gen_pool *pool, const struct generation *serving)
{
	struct steer_sock	*socks;
	size_t			 l, n;

	if (serving == NULL || serving->nworkers == 0)
		return;
	if ((socks = calloc(serving->nworkers, sizeof(*socks))) == NULL) {
		log_warnx("steering: out of memory");
		return;
	}
	for (l = 0; l < serving->conf->nlisteners; l++) {
		n = generation_serving_socks(serving, l, socks);
		steering_apply(pool->groups, serving->conf->listeners[l].name,
		    serving->steer, socks, n);
	}
	free(socks);
}

/*
 * The cookies of every socket any generation made, the one starting and
 * the draining ones too (all are in the pool).
 */
static uint64_t *
generation_cookies(const struct gen_pool *pool, size_t *n)
{
	const struct generation	*gen;
	const struct mworker	*mw;
	uint64_t		*cookies;
	size_t			 cap = 1, i, l;

	for (gen = pool->gens; gen != NULL; gen = gen->next)
		cap += gen->nworkers * gen->conf->nlisteners;
	if ((cookies = calloc(cap, sizeof(*cookies))) == NULL)
		return NULL;
	*n = 0;
	for (gen = pool->gens; gen != NULL; gen = gen->next) {
		for (i = 0; i < gen->nworkers; i++) {
			mw = &gen->workers[i];
			for (l = 0; l < gen->conf->nlisteners; l++)
				if (mw->cookies[l] != 0)
					cookies[(*n)++] = mw->cookies[l];
		}
	}
	return cookies;
}

/*
 * Every socket bound to a listener's port must be one of ours: of this
 * generation, or of one still serving or draining.
 */
int
generation_check_ports(const struct generation *gen)
{
	const struct config	*conf = gen->conf;
	uint64_t		*cookies;
	unsigned int		 nforeign;
	size_t			 l, n;
	int			 r, bad = 0;

	if ((cookies = generation_cookies(gen->pool, &n)) == NULL)
		return -1;
	for (l = 0; l < conf->nlisteners && !bad; l++) {
		const struct listener_conf	*lc = &conf->listeners[l];

		r = sockdiag_foreign(lc, cookies, n, &nforeign);
		if (r < 0) {
			log_warnx("listener \"%s\": cannot check who shares "
			    "port %u: %s; continuing", lc->name, lc->port,
			    strerror(-r));
		} else if (nforeign > 0) {
			log_errorx("listener \"%s\" (%s %s port %u): port in "
			    "use by %u socket(s) of another program", lc->name,
			    listen_proto_name(lc->protocol), lc->address,
			    lc->port, nforeign);
			bad = 1;
		}
	}
	free(cookies);
	return bad ? -1 : 0;
}

/*
 * A worker of a released generation let go of its sockets (it said it
 * stopped accepting, or its process is gone): the master's copies are
 * closed now.  Kept until then, the master's copy is a socket's last, so
 * its close is when the socket leaves its reuseport group, in an order
 * the steering model can follow.
 */
void
generation_let_go(struct mworker *mw)
{
	struct generation	*gen = mw->owner;
	size_t			 l;
	int			 held = 0;

	if (!(gen->released || mw->retired) || (mw->pid > 0 && !mw->stopped))
		return;
	for (l = 0; mw->fds != NULL && l < gen->conf->nlisteners; l++) {
		held |= mw->fds[l] >= 0;
		if (mw->fds[l] >= 0)
			generation_before_leave(gen->pool, mw->cookies[l]);
	}
	if (held) {
		supervise_close_held(mw);
		generation_groups_sync(gen->pool);
	}
	/* A retired worker is not shown or counted any more. */
	if (mw->retired && mw->pid == 0 && mw->slot != NULL) {
		generation_put_slot(gen->pool, mw->slot);
		mw->slot = NULL;
	}
}

/* ---- Re-mapping a serving generation in place. ---- */

/*
 * A new worker for tw: in the place of a retired one that is gone, else
 * after the others; NULL when there is no room or no memory.  The caller
 * forks it.
 */
struct mworker *
generation_add_worker(struct generation *gen, const struct plan_worker *tw)
{
	struct mworker	*mw = NULL;
	unsigned int	 id = 0;
	size_t		 i;

	for (i = 0; i < gen->nworkers; i++) {
		if (gen->workers[i].id >= id)
			id = gen->workers[i].id + 1;
		if (mw == NULL && gen->workers[i].retired &&
		    gen->workers[i].pid == 0)
			mw = &gen->workers[i];
	}
	if (mw == NULL && gen->nworkers == gen->cap)
		return NULL;
	if (mw == NULL)
		mw = &gen->workers[gen->nworkers++];
	else {
		supervise_worker_clear(mw);
		generation_put_slot(gen->pool, mw->slot);
	}
	memset(mw, 0, sizeof(*mw));
	if (generation_worker_init(gen, mw, tw, id) < 0) {
		/* Left retired and gone: the next add takes the place. */
		supervise_worker_clear(mw);
		generation_put_slot(gen->pool, mw->slot);
		mw->slot = NULL;
		mw->retired = 1;
		return NULL;
	}
	return mw;
}

/*
 * mw's queues are processed on tw's CPU now: its sockets get that
 * SO_INCOMING_CPU (the master's copies are the same sockets), and the
 * worker is told to pin itself there.  One that is still starting is
 * restarted there instead: it would take the message for its "go".
 */
void
generation_move(struct mworker *mw, const struct plan_worker *tw)
{
	struct generation	*gen = mw->owner;
	size_t			 l;
	int			 cpu = (int)tw->cpu;

	mw->cpu = tw->cpu;
	mw->queues = &tw->queues;
	/* What it counted on its last CPU stays that CPU's. */
	stats_move(&gen->pool->stats, mw->slot, tw->cpu);
	for (l = 0; mw->incoming_cpu && l < mw->conf->nlisteners; l++)
		if (mw->fds[l] >= 0 && setsockopt(mw->fds[l], SOL_SOCKET,
		    SO_INCOMING_CPU, &cpu, sizeof(cpu)) == -1)
			log_warn("listener \"%s\": worker %u: setsockopt "
			    "SO_INCOMING_CPU %d", mw->conf->listeners[l].name,
			    mw->id, cpu);
	if (mw->pid > 0 && mw->state == MW_READY)
		supervise_send_move(mw);
	else if (mw->pid > 0)
		supervise_signal(mw, SIGKILL);
}

/*
 * mw's CPU lost its queues: it stops accepting and drains as on a
 * reload, and is not respawned; its sockets go once it let go of them.
 */
void
generation_retire(struct mworker *mw)
{
	static const struct strv	 none = { 0 };

	mw->retired = 1;
	mw->queues = &none;
	if (mw->respawn_ev != NULL)
		evtimer_del(mw->respawn_ev);
	supervise_signal(mw, SIGTERM);
	generation_let_go(mw);
}

/*
 * The plan the workers follow now.  Returns the old one, for the caller
 * to free once no worker points at its queues.
 */
struct plan *
generation_set_plan(struct generation *gen, struct plan *plan)
{
	struct plan	*old = gen->plan;

	gen->plan = plan;
	return old;
}

/* The generation's sockets go, each once its worker let go of it. */
static void
generation_release(struct generation *gen)
{
	size_t	 i;

	gen->released = 1;
	for (i = 0; i < gen->nworkers; i++)
		generation_let_go(&gen->workers[i]);
}

void
generation_signal(struct generation *gen, int sig)
{
	size_t	 i;

	for (i = 0; i < gen->nworkers; i++)
		supervise_signal(&gen->workers[i], sig);
}

/*
 * Every worker of gen is ready: every check passed, so it serves from
 * now on, and old (NULL at start-up) stops accepting and drains.
 * -1 when a listener's port is in use by another program.
 */
int
generation_activate(struct generation *gen, struct generation *old)
{
	size_t	 i;

	if (generation_check_ports(gen) == -1)
		return -1;
	for (i = 0; i < gen->nworkers; i++)
		supervise_send_go(&gen->workers[i]);
	gen->state = GEN_ACTIVE;
	/* The program points at the new sockets before the old ones stop. */
	generation_steer(gen->pool, gen);
	if (old != NULL) {
		old->state = GEN_DRAINING;
		generation_signal(old, SIGTERM);
		generation_release(old);
	}
	return 0;
}

/* The generation did not start: its workers are killed. */
void
generation_fail(struct generation *gen)
{
	gen->state = GEN_FAILED;
	generation_signal(gen, SIGKILL);
	generation_release(gen);
}

/* Its workers with a process. */
size_t
generation_running(const struct generation *gen)
{
	size_t	 i, n = 0;

	for (i = 0; i < gen->nworkers; i++)
		n += gen->workers[i].pid > 0;
	return n;
}

/*
 * The CPUs the daemon may use that have no serving worker of gen (one
 * re-mapped away does not count): where the master runs, and where flows
 * processed there fall back to other workers.  NULL when out of memory.
 */
struct cpuset *
generation_idle_cpus(const struct generation *gen)
{
	struct cpuset	*rest;
	size_t		 i;

	if ((rest = cpuset_dup(gen->plan->topo->allowed)) == NULL)
		return NULL;
	for (i = 0; i < gen->nworkers; i++)
		if (!gen->workers[i].retired)
			cpuset_del(rest, gen->workers[i].cpu);
	return rest;
}

/* Its workers with a process that did not say they stopped accepting. */
size_t
generation_accepting(const struct generation *gen)
{
	size_t	 i, n = 0;

	for (i = 0; i < gen->nworkers; i++)
		n += gen->workers[i].pid > 0 && !gen->workers[i].stopped;
	return n;
}

static void
generation_free(struct generation *gen)
{
	size_t	 i;

	for (i = 0; i < gen->nworkers; i++) {
		supervise_worker_clear(&gen->workers[i]);
		generation_put_slot(gen->pool, gen->workers[i].slot);
	}
	free(gen->workers);
	plan_free(gen->plan);
	config_free(gen->conf);
	free(gen);
}

/*
 * Frees the draining and failed generations whose workers are all gone,
 * but keep (the one a reload still waits for).
 */
void
generation_collect(struct gen_pool *pool, const struct generation *keep)
{
	struct generation	**pp = &pool->gens, *gen;

	while ((gen = *pp) != NULL) {
		if ((gen->state == GEN_DRAINING || gen->state == GEN_FAILED) &&
		    gen != keep && generation_running(gen) == 0) {
			log_debug("generation %u is gone", gen->number);
			*pp = gen->next;
			generation_free(gen);
			generation_groups_sync(pool);
			continue;
		}
		pp = &gen->next;
	}
}

/* Frees every generation, whatever its state, and the stats segment. */
void
generation_pool_free(struct gen_pool *pool)
{
	struct generation	*gen;

	while ((gen = pool->gens) != NULL) {
		pool->gens = gen->next;
		generation_free(gen);
	}
	stats_unmap(&pool->stats);
	free(pool->slot_used);
	pool->slot_used = NULL;
	steer_groups_free(pool->groups);
	pool->groups = NULL;
}
