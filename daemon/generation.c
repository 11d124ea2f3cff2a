/*
 * Generations of workers: one per configuration the master has loaded.
 * A generation owns its configuration, its worker plan, its stats slots
 * and the duplicates of its workers' sockets.  A new generation takes over
 * the sockets of the last one wherever a listener's address, port and CPU
 * did not change, so their accept queues survive a reload.
 */
#include "acconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "cpuset.h"
#include "irqspread.h"
#include "log.h"
#include "master_int.h"
#include "plan.h"
#include "stats.h"
#include "topology.h"

static struct stats_slot *
generation_take_slot(struct master *m)
{
	size_t	 i;

	for (i = 0; i < m->stats.nslots; i++) {
		if (m->slot_used[i])
			continue;
		m->slot_used[i] = 1;
		stats_slot_reset(&m->stats.slots[i], 0);
		return &m->stats.slots[i];
	}
	return NULL;
}

static void
generation_put_slot(struct master *m, struct stats_slot *slot)
{
	if (slot != NULL)
		m->slot_used[slot - m->stats.slots] = 0;
}

/* The same socket can serve both: protocol, address, port, options. */
static int
generation_same_socket(const struct listener_conf *a, enum steering sa,
    const struct listener_conf *b, enum steering sb)
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
	const struct config	*conf = mw->gen->conf;
	const struct mworker	*old = NULL;
	size_t			 i, l, k;

	for (i = 0; i < prev->nworkers; i++)
		if (prev->workers[i].cpu == mw->cpu &&
		    prev->workers[i].state != MW_GAVE_UP)
			old = &prev->workers[i];
	if (old == NULL)
		return;
	for (l = 0; l < conf->nlisteners; l++) {
		for (k = 0; k < prev->conf->nlisteners; k++) {
			if (old->fds[k] < 0 ||
			    !generation_same_socket(&conf->listeners[l],
			    conf->steering, &prev->conf->listeners[k],
			    prev->conf->steering))
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

static int
generation_workers(struct generation *gen, const struct generation *prev)
{
	struct master		*m = gen->m;
	struct topo_worker	*tw;
	struct mworker		*mw;
	size_t			 i, l, nl = gen->conf->nlisteners;

	gen->nworkers = gen->topo->nworkers;
	if ((gen->workers = calloc(gen->nworkers, sizeof(*gen->workers))) == NULL)
		return -ENOMEM;
	for (i = 0; i < gen->nworkers; i++) {
		tw = &gen->topo->workers[i];
		mw = &gen->workers[i];
		*mw = (struct mworker){ .gen = gen, .id = tw->id, .cpu = tw->cpu,
		    .queues = &tw->queues, .ctl_fd = -1 };
		mw->fds = malloc(sizeof(int) * (nl ? nl : 1));
		mw->inherit = calloc(nl ? nl : 1, sizeof(int));
		mw->cookies = calloc(nl ? nl : 1, sizeof(uint64_t));
		if (mw->fds == NULL || mw->inherit == NULL || mw->cookies == NULL)
			return -ENOMEM;
		for (l = 0; l < nl; l++)
			mw->fds[l] = -1;
		if ((mw->slot = generation_take_slot(m)) == NULL)
			return -ENOSPC;
		if (prev != NULL)
			generation_inherit(mw, prev);
	}
	return 0;
}

/*
 * Pins the queue IRQs with irq_affinity = "spread".  Also when the plan
 * has no worker yet: the queues may all sit on CPUs the daemon may not
 * use until their IRQs move.  Returns how many IRQs moved, or -ENOMEM.
 */
static int
generation_spread(const struct config *conf, const struct topology *topo)
{
	struct cpuset	*cpus = NULL;
	struct strv	 warnings = { 0 };
	unsigned int	 changed = 0;
	size_t		 i;
	int		 r;

	if ((r = irqspread_targets(topo, conf->workers, &cpus)) == 0)
		r = irqspread_apply(NULL, topo, cpus, &warnings, &changed);
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
generation_plan(const struct config *conf, struct topology **topo)
{
	int	 r, moved;

	r = plan_discover(conf, NULL, NULL, 0, topo);
	if (conf->irq_affinity != IRQ_AFFINITY_SPREAD || *topo == NULL ||
	    (r < 0 && r != -EINVAL))
		return r;
	if ((moved = generation_spread(conf, *topo)) <= 0)
		return moved < 0 ? moved : r;
	topology_free(*topo);
	*topo = NULL;
	return plan_discover(conf, NULL, NULL, 0, topo);
}

/*
 * Builds a generation for conf (which it then owns) with the worker plan
 * discovered now.  NULL with *why set when there is no usable plan.
 */
struct generation *
generation_new(struct master *m, struct config *conf,
    const struct generation *prev, char **why)
{
	struct generation	*gen;
	int			 r;

	*why = NULL;
	if ((gen = calloc(1, sizeof(*gen))) == NULL) {
		config_free(conf);
		return NULL;
	}
	gen->m = m;
	gen->conf = conf;
	gen->state = GEN_STARTING;
	r = generation_plan(conf, &gen->topo);
	if (gen->topo != NULL)
		plan_log_warnings(gen->topo);
	if (r < 0 || gen->topo == NULL || gen->topo->nworkers == 0) {
		if (asprintf(why, "no worker plan: %s", r < 0 ? strerror(-r) :
		    "no usable CPU") == -1)
			*why = NULL;
		generation_free(gen);
		return NULL;
	}
	if ((r = generation_workers(gen, prev)) < 0) {
		if (asprintf(why, "cannot set up the workers: %s",
		    r == -ENOSPC ? "too many generations still draining" :
		    strerror(-r)) == -1)
			*why = NULL;
		generation_free(gen);
		return NULL;
	}
	/* Counted in m->last_generation only once it serves. */
	gen->number = m->last_generation + 1;
	return gen;
}

/* Closes the master's duplicates of the generation's sockets. */
void
generation_release(struct generation *gen)
{
	size_t	 i;

	for (i = 0; i < gen->nworkers; i++)
		supervise_close_held(&gen->workers[i]);
}

void
generation_free(struct generation *gen)
{
	struct mworker	*mw;
	size_t		 i;

	if (gen == NULL)
		return;
	for (i = 0; i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		if (mw->ctl_ev)
			event_free(mw->ctl_ev);
		if (mw->ctl_fd >= 0)
			close(mw->ctl_fd);
		if (mw->respawn_ev)
			event_free(mw->respawn_ev);
		if (mw->fds != NULL)
			supervise_close_held(mw);
		generation_put_slot(gen->m, mw->slot);
		free(mw->fds);
		free(mw->inherit);
		free(mw->cookies);
	}
	free(gen->workers);
	topology_free(gen->topo);
	config_free(gen->conf);
	free(gen);
}

/* Frees the draining and failed generations whose workers are all gone. */
void
generation_collect(struct master *m)
{
	struct generation	**pp = &m->gens, *gen;

	while ((gen = *pp) != NULL) {
		if ((gen->state == GEN_DRAINING || gen->state == GEN_FAILED) &&
		    gen != m->handover && supervise_gen_running(gen) == 0) {
			log_debug("generation %u is gone", gen->number);
			*pp = gen->next;
			generation_free(gen);
			continue;
		}
		pp = &gen->next;
	}
}
