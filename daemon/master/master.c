/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master: holds the admin socket, starts generations of workers (the
 * first at start-up is a reload from nothing), decides what each worker
 * event means, and runs a libevent loop for signals, child exits,
 * heartbeats, reloads and admin requests.  It talks to systemd; workers
 * never do.  It owns the configuration only until the first generation
 * takes it, at once; every later one belongs to its generation too.
 */
#include "acconfig.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "master/admin.h"
#include "config/config.h"
#include "common/cpuset.h"
#include "master/daemonize.h"
#include "doctor/doctor.h"
#include "master/generation.h"
#include "worker/handler.h"
#include "worker/listener.h"
#include "common/log.h"
#include "master/master.h"
#include "master/metrics.h"
#include "common/notify.h"
#include "topology/plan.h"
#include "master/reload.h"
#include "master/remap.h"
#include "master/rescan.h"
#include "common/stats.h"
#include "master/status.h"
#include "topology/steer_selftest.h"
#include "master/supervise.h"
#include "topology/topology.h"
#include "common/util.h"
#include "worker/worker.h"

#define MASTER_SLOTS_PER_CPU	8
#define MASTER_HANDOVER_NS	(5ULL * 1000000000ULL)
/* What a reload asked for after SIGTERM, or left when it came, answers. */
#define MASTER_STOPPING_TEXT	"the daemon is stopping; reload refused"

/*
 * A re-map in progress: its new workers start one at a time (each joins
 * its groups at the end, in an order the steering model must know), then
 * the workers whose CPU lost its queues drain.
 */
struct master_remap {
	struct generation	*gen;		/* NULL: no re-map running */
	struct remap		 rm;		/* from: indices in gen->workers */
	size_t			 next;		/* the step to take next */
	struct mworker		*waiting;	/* the new worker starting */
	struct plan		*old;		/* the draining ones' queues */
};

struct master {
	struct event_base	*base;
	struct gen_pool		 pool;		/* every generation */
	struct generation	*active;
	struct generation	*starting;	/* a reload in progress */
	struct admin		*admin;
	struct metrics		*metrics;	/* NULL: daemon.metrics off */
	struct event		*sig_ev[4];
	struct event		*tick_ev;
	struct event		*stop_ev;
	struct reload_queue	 reloads;
	struct generation	*handover;	/* draining; the reload waits for it */
	uint64_t		 handover_ns;
	pid_t			 pid;
	double			 start_time;	/* seconds since the epoch */
	int			 stopping;
	int			 exit_status;
	unsigned int		 last_generation;
	uint64_t		 remaps;	/* re-maps without a reload */
	struct rescan		*rescan;
	struct master_remap	 remap;
	char			*user;
	struct strv		 facts;		/* the topology's, as last logged */
};

static void	master_reload(struct master *m, struct admin_req *req);
static void	master_reload_done(struct master *m);
static void	master_remap_continue(struct master *m);

/*
 * After any change to the sockets: the serving generation's steering
 * program, indexed by the groups as they are now.
 */
static void
master_steer(struct master *m)
{
	generation_steer(&m->pool, m->active != NULL ? m->active : m->starting);
}

static const char *
master_worker_state(const struct mworker *mw)
{
	switch (mw->state) {
	case MW_READY:
		return "ready";
	case MW_STARTING:
		return "starting";
	case MW_GAVE_UP:
		return "failed";
	default:
		return "down";
	}
}

/* Workers draining: those re-mapped away and the old generations'. */
static size_t
master_draining(const struct master *m)
{
	const struct generation	*gen;
	size_t			 i, n = 0;

	for (i = 0; m->active != NULL && i < m->active->nworkers; i++)
		n += m->active->workers[i].retired &&
		    m->active->workers[i].pid > 0;
	for (gen = m->pool.gens; gen != NULL; gen = gen->next)
		if (gen->state == GEN_DRAINING)
			n += generation_running(gen);
	return n;
}

/* The serving workers as the status document shows them. */
static void
master_status_workers(const struct master *m, struct status_input *in,
    struct status_worker *sw)
{
	const struct generation	*gen = m->active;
	const struct mworker	*mw;
	size_t			 i;

	for (i = 0; gen != NULL && i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		/* Re-mapped away: counted with the draining ones. */
		if (mw->retired)
			continue;
		sw[in->nworkers] = (struct status_worker){ .id = mw->id,
		    .cpu = mw->cpu, .pid = mw->pid,
		    .state = master_worker_state(mw), .queues = mw->queues,
		    .slot = mw->slot };
		stats_cpu_counts(&m->pool.stats, mw->cpu,
		    &sw[in->nworkers++].counts);
	}
	in->workers = sw;
}

static json_t *
master_status_json(void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = m->active;
	struct status_input	 in = { .pid = m->pid,
	    .start_time = m->start_time, .remaps = m->remaps };
	struct status_worker	*sw;
	struct cpuset		*idle = NULL;
	json_t			*doc;

	if ((sw = calloc(gen ? gen->nworkers + 1 : 1, sizeof(*sw))) == NULL)
		return NULL;
	master_status_workers(m, &in, sw);
	in.draining = master_draining(m);
	stats_total_counts(&m->pool.stats, &in.totals);
	if (gen != NULL) {
		in.generation = gen->number;
		in.steering = steer_method_name(gen->steer);
		in.steering_config = steering_name(gen->conf->steering);
		in.steering_reason = gen->steer_reason;
		in.fallback_cpus = idle = generation_idle_cpus(gen);
	}
	doc = status_json(&in);
	cpuset_free(idle);
	free(sw);
	return doc;
}

/*
 * A scrape: the serving workers, and every CPU that had one, with what
 * it counted since the start.
 */
static int
master_metrics_collect(void *arg, struct metrics_sample *sample)
{
	struct master		*m = arg;
	struct generation	*gen = m->active;
	struct stats_counts	 counts;
	struct mworker		*mw;
	size_t			 i;
	int			 cpu = -1, r;

	sample->start_time = m->start_time;
	while ((cpu = stats_next_cpu(&m->pool.stats, cpu)) >= 0) {
		stats_cpu_counts(&m->pool.stats, (unsigned int)cpu, &counts);
		if ((r = metrics_sample_add_cpu(sample, (unsigned int)cpu,
		    &counts)) < 0)
			return r;
	}
	if (gen == NULL)
		return 0;
	sample->generation = gen->number;
	sample->steering = steer_method_name(gen->steer);
	sample->steering_config = steering_name(gen->conf->steering);
	sample->remaps = m->remaps;
	for (i = 0; i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		if (mw->retired)
			continue;
		if ((r = metrics_sample_add(sample, mw->id, mw->cpu,
		    mw->slot)) < 0)
			return r;
	}
	return 0;
}

static void
master_admin_reload(void *arg, struct admin_req *req)
{
	master_reload(arg, req);
}

static const struct admin_ops master_admin_ops = {
	.status = master_status_json,
	.reload = master_admin_reload,
};

static void
master_status_line(const struct generation *gen, char *buf, size_t len)
{
	size_t	 i;
	int	 n;

	n = snprintf(buf, len, "%zu workers on CPUs ", gen->nworkers);
	for (i = 0; i < gen->nworkers && n > 0 && (size_t)n < len - 8; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%u", i ? "," : "",
		    gen->workers[i].cpu);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", generation %u, steering %s",
		    gen->number, steer_method_name(gen->steer));
}

static void	master_stop(struct master *m);

static void
master_finish(struct master *m)
{
	event_base_loopbreak(m->base);
}

/* The first generation serves. */
static void
master_started(struct master *m, struct generation *gen)
{
	char	 status[512];

	m->starting = NULL;
	master_status_line(gen, status, sizeof(status));
	log_info("ready: %s", status);
	notify_ready(status);
	/* No pid file: the init script could not stop us, so do not run. */
	if (daemonize_ready(0) == -1) {
		m->exit_status = EXIT_CANTCREAT;
		master_stop(m);
	}
}

/*
 * The reload is answered once every old worker said it stopped accepting
 * (or is gone), so that from then on only the new generation takes
 * connections; a wedged old worker delays the answer by a bounded time.
 */
static void
master_handover_check(struct master *m)
{
	struct generation	*old = m->handover;
	size_t			 waiting;

	if (old == NULL)
		return;
	waiting = generation_accepting(old);
	if (waiting > 0 &&
	    stats_now_ns() - m->handover_ns < MASTER_HANDOVER_NS)
		return;
	if (waiting > 0)
		log_warnx("generation %u: %zu worker(s) did not say they stopped "
		    "accepting; answering the reload anyway", old->number,
		    waiting);
	m->handover = NULL;
	reload_answer_ok(&m->reloads, m->active->number);
	master_reload_done(m);
}

/* A new generation serves; the old one drains. */
static void
master_reloaded(struct master *m, struct generation *gen,
    struct generation *old)
{
	char	 status[256];

	snprintf(status, sizeof(status), "reloaded: generation %u with %zu "
	    "workers; generation %u draining", gen->number, gen->nworkers,
	    old->number);
	log_info("%s", status);
	notify_ready(status);
	m->handover = old;
	m->handover_ns = stats_now_ns();
	if (m->rescan != NULL)
		rescan_set_interval(m->rescan, gen->conf->rescan_interval);
	master_handover_check(m);
}

/*
 * The reload did not start a generation: the old one keeps serving.  The
 * reason is logged here, once, and answered with code (an ADMIN_CODE_*).
 */
static void
master_reload_failed(struct master *m, int code, const char *why)
{
	char	*status;

	log_errorx("reload failed: %s; generation %u keeps serving", why,
	    m->active->number);
	if (asprintf(&status, "reload failed: %s; still serving generation %u",
	    why, m->active->number) == -1)
		status = NULL;
	notify_ready(status != NULL ? status : "reload failed");
	free(status);
	reload_answer(&m->reloads, admin_error_doc(code, "reload failed: %s",
	    why));
	master_reload_done(m);
	generation_collect(&m->pool, m->handover);
}

/*
 * A generation could not start: a failed reload, or a failed start, after
 * which the master exits with status.  Either way its workers are killed.
 */
static void
master_gen_failed(struct master *m, struct generation *gen, int status,
    const char *why)
{
	if (gen->state == GEN_FAILED)
		return;
	generation_fail(gen);
	master_steer(m);
	if (m->active != NULL) {
		master_reload_failed(m, ADMIN_CODE_OSERR, why);
		return;
	}
	if (m->stopping)
		return;
	m->exit_status = status ? status : EXIT_SOFTWARE;
	m->stopping = 1;
	if (supervise_running(&m->pool.sup) == 0)
		master_finish(m);
}

/*
 * A failure found by the master itself, which nobody logged yet: at
 * start-up it is logged here; on a reload, master_reload_failed() logs it.
 */
static void
master_gen_failed_here(struct master *m, struct generation *gen,
    const char *why)
{
	if (why == NULL)
		why = "out of memory";
	if (m->active == NULL)
		log_errorx("%s", why);
	master_gen_failed(m, gen, EXIT_OSERR, why);
}

/* Every worker of gen is ready: it replaces the serving one, if any. */
static void
master_gen_ready(struct master *m, struct generation *gen)
{
	struct generation	*old = m->active;

	if (generation_activate(gen, old) == -1) {
		master_gen_failed(m, gen, EXIT_OSERR, "a listener's port is in "
		    "use by another program");
		return;
	}
	m->active = gen;
	m->last_generation = gen->number;
	master_steer(m);
	if (old == NULL)
		master_started(m, gen);
	else
		master_reloaded(m, gen, old);
}

/* Starts gen's next worker, or activates gen once all are ready. */
static void
master_gen_continue(struct master *m, struct generation *gen)
{
	char	*why = NULL;
	int	 r;

	if ((r = generation_start_next(gen, &why)) < 0) {
		master_gen_failed_here(m, gen, why);
		free(why);
	} else if (r > 0)
		master_gen_ready(m, gen);
}

/* The master runs on the CPUs that get no worker, when there are any. */
static void
master_pin_self(const struct generation *gen)
{
	struct cpuset	*rest;
	char		*list;

	if ((rest = generation_idle_cpus(gen)) == NULL)
		return;
	if (!cpuset_empty(rest)) {
		list = cpuset_format_list(rest);
		if (cpuset_set_affinity(0, rest) < 0)
			log_warn("cannot move the master to CPUs %s",
			    list ? list : "?");
		else
			log_info("master runs on CPUs %s", list ? list : "?");
		free(list);
	}
	cpuset_free(rest);
}

/*
 * Plans gen's workers and starts them, beside the generation serving now
 * (none at start-up).
 */
static void
master_gen_start(struct master *m, struct generation *gen)
{
	char	*why = NULL;
	int	 r;

	r = generation_plan(gen, m->active, m->last_generation + 1, &why);
	if (gen->plan != NULL)
		plan_conf_log_changes(gen->plan, &m->facts);
	if (r == -1) {
		master_gen_failed_here(m, gen, why);
		free(why);
		return;
	}
	if (m->active == NULL) {
		master_pin_self(gen);
		/*
		 * Before any worker binds: a socket already on a port is
		 * someone else's, and ours would take part of its flows until
		 * the check after binding (kept for two daemons starting at
		 * once).
		 */
		if (generation_check_ports(gen) == -1) {
			master_gen_failed(m, gen, EXIT_OSERR, "port in use");
			return;
		}
	}
	worker_nofile_raise(gen->conf);
	m->starting = gen;
	master_gen_continue(m, gen);
}

/* ---- What the workers report (struct supervise_ops). ---- */

static void
master_worker_ready(struct mworker *mw, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = mw->owner;

	generation_joined(mw);
	master_steer(m);
	if (gen->state == GEN_STARTING)
		master_gen_continue(m, gen);
	else
		supervise_send_go(mw);
	if (mw == m->remap.waiting) {
		m->remap.waiting = NULL;
		master_remap_continue(m);
	}
}

/* Its reason is logged once: here, or as the failed reload's reason. */
static void
master_worker_failed(struct mworker *mw, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = mw->owner;

	if (gen->state != GEN_STARTING || m->active == NULL)
		log_errorx("%s", mw->last_text);
	if (gen->state == GEN_STARTING)
		master_gen_failed(m, gen, mw->last_error, mw->last_text);
}

static void
master_worker_stopped(struct mworker *mw, void *arg)
{
	generation_let_go(mw);
	master_steer(arg);
	master_handover_check(arg);
}

/*
 * A worker's process ended: nothing to do while stopping or draining, the
 * start failed while starting, and a serving worker comes back.
 */
static void
master_worker_died(struct mworker *mw, enum mworker_state was, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = mw->owner;

	generation_let_go(mw);
	master_steer(m);
	if (mw == m->remap.waiting) {
		m->remap.waiting = NULL;
		master_remap_continue(m);
	}
	if (m->stopping || gen->state == GEN_DRAINING ||
	    gen->state == GEN_FAILED || mw->retired)
		return;
	if (gen->state == GEN_STARTING) {
		if (mw->last_text[0] == '\0')
			snprintf(mw->last_text, sizeof(mw->last_text),
			    "worker %u on CPU %u exited while starting",
			    mw->id, mw->cpu);
		master_gen_failed(m, gen, mw->last_error ? mw->last_error :
		    EXIT_SOFTWARE, mw->last_text);
		return;
	}
	supervise_respawn(mw, was);
	if (mw->state == MW_GAVE_UP) {
		/* Its sockets were closed: its CPU falls back. */
		generation_groups_sync(&m->pool);
		master_steer(m);
	}
}

/* While stopping or draining, a stop timer bounds the drain instead. */
static void
master_worker_stale(struct mworker *mw, uint64_t age_ns, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = mw->owner;

	if (gen->state == GEN_ACTIVE && !m->stopping && !mw->retired)
		supervise_replace(mw, age_ns);
}

static const struct supervise_ops master_supervise_ops = {
	.ready = master_worker_ready,
	.failed = master_worker_failed,
	.stopped = master_worker_stopped,
	.died = master_worker_died,
	.stale = master_worker_stale,
};

/* ---- Re-mapping to a changed machine. ---- */

/* The re-map is done: what waited for it may go. */
static void
master_remap_done(struct master *m)
{
	remap_free(&m->remap.rm);
	plan_free(m->remap.old);
	memset(&m->remap, 0, sizeof(m->remap));
	master_pin_self(m->active);
	master_steer(m);
	if (!m->stopping && m->starting == NULL && reload_next(&m->reloads))
		master_reload(m, NULL);
}

/* The workers whose CPU lost its queues drain; the program skips them. */
static void
master_remap_drain(struct master *m)
{
	struct generation	*gen = m->remap.gen;
	struct remap_step	*s;
	size_t			 i;

	for (i = 0; i < m->remap.rm.nsteps; i++) {
		s = &m->remap.rm.steps[i];
		if (s->action == REMAP_DRAIN)
			gen->workers[s->from].retired = 1;
	}
	master_steer(m);
	for (i = 0; i < m->remap.rm.nsteps; i++) {
		s = &m->remap.rm.steps[i];
		if (s->action == REMAP_DRAIN)
			generation_retire(&gen->workers[s->from]);
	}
}

/* Starts the next new worker, or, once all are ready, drains. */
static void
master_remap_continue(struct master *m)
{
	struct generation	*gen = m->remap.gen;
	struct remap_step	*s;
	struct mworker		*mw;
	int			 r;

	if (m->remap.gen == NULL || m->remap.waiting != NULL)
		return;
	if (m->stopping) {
		/* Those meant to drain stop anyway; off the old plan first. */
		master_remap_drain(m);
		master_remap_done(m);
		return;
	}
	while (m->remap.next < m->remap.rm.nsteps) {
		s = &m->remap.rm.steps[m->remap.next++];
		if (s->action != REMAP_START)
			continue;
		if ((mw = generation_add_worker(gen,
		    &gen->plan->workers[s->to])) == NULL) {
			log_warnx("re-map: no room for a worker on CPU %u",
			    gen->plan->workers[s->to].cpu);
			continue;
		}
		if ((r = supervise_fork(mw)) < 0) {
			log_warnx("re-map: worker %u on CPU %u: fork: %s",
			    mw->id, mw->cpu, strerror(-r));
			supervise_respawn(mw, MW_DOWN);
			continue;
		}
		m->remap.waiting = mw;
		return;
	}
	master_remap_drain(m);
	master_remap_done(m);
}

/*
 * The serving workers as a plan, to pair with a new one: map[k] is the
 * index in gen->workers of the plan's worker k.
 */
static int
master_remap_current(const struct generation *gen, struct plan *cur,
    size_t **map)
{
	const struct mworker	*mw;
	size_t			 i;

	memset(cur, 0, sizeof(*cur));
	cur->workers = calloc(gen->nworkers + 1, sizeof(*cur->workers));
	*map = calloc(gen->nworkers + 1, sizeof(**map));
	if (cur->workers == NULL || *map == NULL)
		return -ENOMEM;
	for (i = 0; i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		if (mw->retired)
			continue;
		cur->workers[cur->nworkers].id = mw->id;
		cur->workers[cur->nworkers].cpu = mw->cpu;
		cur->workers[cur->nworkers].queues = *mw->queues;
		(*map)[cur->nworkers++] = i;
	}
	return 0;
}

/*
 * Applies the pairing: kept workers take their queues from the new plan,
 * moved ones are re-pinned; new workers and drains follow, in turn.
 */
static void
master_remap_begin(struct master *m, struct generation *gen,
    struct plan *plan, const size_t *map)
{
	struct remap_step	*s;
	size_t			 i;

	m->remap.gen = gen;
	for (i = 0; i < m->remap.rm.nsteps; i++) {
		s = &m->remap.rm.steps[i];
		if (s->from >= 0)
			s->from = (int)map[s->from];
		if (s->action == REMAP_KEEP)
			gen->workers[s->from].queues = &plan->workers[s->to].queues;
		else if (s->action == REMAP_MOVE)
			generation_move(&gen->workers[s->from],
			    &plan->workers[s->to]);
	}
	m->remap.old = generation_set_plan(gen, plan);
	master_steer(m);
	master_remap_continue(m);
}

/*
 * The rescan: the plan discovered again for the serving configuration,
 * paired with the workers serving now; only what changed is touched.
 * Skipped while a reload or another re-map runs (the next rescan sees
 * the machine again).
 */
static void
master_rescan(void *arg, const char *why)
{
	struct master		*m = arg;
	struct generation	*gen = m->active;
	struct plan		*plan = NULL, cur;
	size_t			*map = NULL;
	char			*what;
	int			 r;

	if (m->stopping || gen == NULL || m->starting != NULL ||
	    m->remap.gen != NULL)
		return;
	memset(&cur, 0, sizeof(cur));
	r = plan_conf_discover(gen->conf, NULL, NULL, &plan);
	if (plan != NULL)
		plan_conf_log_changes(plan, &m->facts);
	if (r < 0 || plan == NULL || plan->nworkers == 0) {
		log_debug("rescan (%s): no usable plan now (%s); the workers "
		    "stay", why, r < 0 ? strerror(-r) : "no worker");
		goto out;
	}
	if (master_remap_current(gen, &cur, &map) < 0 ||
	    remap_plan(&cur, plan, &m->remap.rm) < 0) {
		log_warnx("rescan (%s): out of memory", why);
		goto out;
	}
	if (m->remap.rm.nchanged == 0 && !m->remap.rm.queues_changed) {
		remap_free(&m->remap.rm);
		goto out;
	}
	what = remap_describe(&m->remap.rm, &cur, plan);
	log_info("re-mapped (%s): %s", why, what ? what : "?");
	free(what);
	m->remaps++;
	master_remap_begin(m, gen, plan, map);
	plan = NULL;
out:
	plan_free(plan);
	free(cur.workers);
	free(map);
}

/* ---- Reloading. ---- */

static char *
master_join(const struct strv *errors)
{
	size_t	 i, len = 1;
	char	*text;

	for (i = 0; i < errors->n; i++)
		len += strlen(errors->v[i]) + 1;
	if ((text = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < errors->n; i++) {
		strcat(text, errors->v[i]);
		if (i + 1 < errors->n)
			strcat(text, "\n");
	}
	return text;
}

/* Reads the configuration again; NULL after logging every error. */
static struct config *
master_reload_read(struct master *m)
{
	const char	*path = m->active->conf->path;
	struct config	*conf = NULL;
	struct strv	 errors = { 0 };
	char		*text, status[400];
	size_t		 i;

	if (path == NULL)
		return config_defaults();
	if (config_load_host(path, &handler_catalogue, &conf, &errors) == 0) {
		strv_free(&errors);
		return conf;
	}
	config_free(conf);
	for (i = 0; i < errors.n; i++)
		log_errorx("%s", errors.v[i]);
	log_errorx("reload: %s is invalid; the running workers keep "
	    "serving with the last good configuration", path);
	text = master_join(&errors);
	snprintf(status, sizeof(status), "reload failed: %zu error(s) in %s; "
	    "still serving generation %u", errors.n, path, m->active->number);
	notify_ready(status);
	reload_answer(&m->reloads, admin_error_doc(ADMIN_CODE_CONFIG, "%s",
	    text ? text : "invalid configuration"));
	free(text);
	strv_free(&errors);
	return NULL;
}

static void
master_warn_fixed(const struct config *old, const struct config *conf)
{
	if (strcmp(old->admin_socket, conf->admin_socket) != 0)
		log_warnx("reload: daemon.admin_socket changes only on restart");
	if ((old->metrics == NULL) != (conf->metrics == NULL) ||
	    (old->metrics && strcmp(old->metrics, conf->metrics) != 0))
		log_warnx("reload: daemon.metrics changes only on restart");
	if ((old->user == NULL) != (conf->user == NULL) ||
	    (old->user && strcmp(old->user, conf->user) != 0))
		log_warnx("reload: daemon.user changes only on restart");
}

/*
 * A reload was asked for (req NULL: SIGHUP).  A valid configuration
 * starts a new generation beside the serving one; an invalid one changes
 * nothing.
 */
static void
master_reload(struct master *m, struct admin_req *req)
{
	struct generation	*gen;
	struct config		*conf;

	if (m->stopping) {
		reload_refuse(req, ADMIN_CODE_TEMPFAIL, MASTER_STOPPING_TEXT);
		return;
	}
	if (m->active == NULL) {
		reload_refuse(req, ADMIN_CODE_TEMPFAIL, "the daemon is still "
		    "starting; reload refused; ask again once it serves");
		return;
	}
	if (!reload_request(&m->reloads, req, m->starting != NULL ||
	    m->remap.gen != NULL))
		return;
	log_info("reloading %s", m->active->conf->path ?
	    m->active->conf->path : "the built-in defaults");
	notify_reloading();
	if ((conf = master_reload_read(m)) == NULL) {
		master_reload_done(m);
		return;
	}
	master_warn_fixed(m->active->conf, conf);
	log_setlevel(conf->log_level);
	if ((gen = generation_new(&m->pool, conf)) == NULL) {
		master_reload_failed(m, ADMIN_CODE_OSERR, "out of memory");
		return;
	}
	master_gen_start(m, gen);
}

/* The reload was answered; start the one asked for meanwhile, if any. */
static void
master_reload_done(struct master *m)
{
	m->starting = NULL;
	if (!m->stopping && reload_next(&m->reloads))
		master_reload(m, NULL);
}

/* ---- Life cycle. ---- */

static void
master_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen;

	log_warnx("workers still running after the shutdown timeout; "
	    "killing them");
	for (gen = m->pool.gens; gen != NULL; gen = gen->next)
		generation_signal(gen, SIGKILL);
}

static void
master_stop(struct master *m)
{
	struct generation	*gen;
	struct timeval		 tv;
	double			 t = 2.0;

	if (m->stopping)
		return;
	log_info("stopping: draining %zu workers",
	    supervise_running(&m->pool.sup));
	notify_stopping();
	m->stopping = 1;
	/* A reload queued or running now will not be done. */
	reload_refuse_all(&m->reloads, ADMIN_CODE_TEMPFAIL,
	    MASTER_STOPPING_TEXT);
	for (gen = m->pool.gens; gen != NULL; gen = gen->next) {
		if (gen->conf->shutdown_timeout + 2.0 > t)
			t = gen->conf->shutdown_timeout + 2.0;
		generation_signal(gen, gen->state == GEN_ACTIVE ||
		    gen->state == GEN_DRAINING ? SIGTERM : SIGKILL);
	}
	if (supervise_running(&m->pool.sup) == 0) {
		master_finish(m);
		return;
	}
	tv = seconds_timeval(t);
	m->stop_ev = evtimer_new(m->base, master_stop_timeout_cb, m);
	if (m->stop_ev == NULL || evtimer_add(m->stop_ev, &tv) == -1)
		master_stop_timeout_cb(-1, 0, m);
}

/* After SIGCHLD: the generations whose workers are all gone go too. */
static void
master_reaped(struct master *m)
{
	master_handover_check(m);
	generation_collect(&m->pool, m->handover);
	if (m->stopping && supervise_running(&m->pool.sup) == 0)
		master_finish(m);
}

/* Signals arrive through libevent, so real work is safe here. */
static void
master_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master	*m = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		master_stop(m);
		break;
	case SIGCHLD:
		supervise_reap(&m->pool.sup);
		master_reaped(m);
		break;
	case SIGHUP:
		master_reload(m, NULL);
		break;
	}
}

/* The watchdog ping says the master's own loop runs and supervises. */
static void
master_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;

	supervise_tick(&m->pool.sup);
	master_handover_check(m);
	notify_watchdog();
}

static int
master_events(struct master *m)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct timeval		 tick = { 1, 0 };
	uint64_t		 wd = notify_watchdog_usec();
	size_t			 i;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		m->sig_ev[i] = evsignal_new(m->base, sigs[i], master_signal_cb,
		    m);
		if (m->sig_ev[i] == NULL || evsignal_add(m->sig_ev[i], NULL))
			return -1;
	}
	/*
	 * Ping four times per watchdog interval, so that a loaded machine
	 * delaying a tick does not eat the margin, but do not spin.
	 */
	if (wd > 0 && wd / 4 < 1000000) {
		tick.tv_sec = 0;
		tick.tv_usec = (suseconds_t)(wd / 4 < 10000 ? 10000 : wd / 4);
	}
	m->tick_ev = event_new(m->base, -1, EV_PERSIST, master_tick_cb, m);
	if (m->tick_ev == NULL || event_add(m->tick_ev, &tick) == -1)
		return -1;
	return 0;
}

/* Seconds since the epoch, as a scrape says when the daemon started. */
static double
master_now(void)
{
	struct timespec	 ts;

	/* CLOCK_REALTIME cannot fail with a valid pointer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Who the workers become after binding, when daemon.user is set. */
static int
master_user(struct master *m, const struct config *conf)
{
	struct supervisor	*sup = &m->pool.sup;
	struct passwd		*pw;

	if (conf->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(conf->user)) == NULL) {
		log_errorx("daemon.user \"%s\": %s", conf->user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if ((m->user = strdup(conf->user)) == NULL)
		return -1;
	sup->user = m->user;
	sup->uid = pw->pw_uid;
	sup->gid = pw->pw_gid;
	sup->drop_privileges = geteuid() != pw->pw_uid;
	return 0;
}

/* Slots for a few generations at once: the old ones drain meanwhile. */
static int
master_stats(struct master *m)
{
	struct cpuset	*possible = NULL;
	size_t		 n = 64;

	if (cpuset_possible(NULL, &possible) == 0 &&
	    cpuset_last(possible) >= 0)
		n += (size_t)(cpuset_last(possible) + 1) * MASTER_SLOTS_PER_CPU;
	cpuset_free(possible);
	return generation_pool_init(&m->pool, n);
}

/*
 * tcp_migrate_req off: the doctor's check, logged in the words
 * "affinityd doctor" prints, so that the two never disagree.
 */
static void
master_check_sysctl(void)
{
	struct doctor_report	 rep = { 0 };

	if (doctor_check_tcp_migrate_req(NULL, &rep) == 0)
		doctor_log(&rep, NULL);
	doctor_report_free(&rep);
}

/* Frees everything, the configurations with their generations. */
static void
master_free(struct master *m)
{
	size_t	 i;

	rescan_stop(m->rescan);
	remap_free(&m->remap.rm);
	plan_free(m->remap.old);
	reload_refuse_all(&m->reloads, ADMIN_CODE_TEMPFAIL,
	    MASTER_STOPPING_TEXT);
	generation_pool_free(&m->pool);
	for (i = 0; i < ARRAY_SIZE(m->sig_ev); i++)
		if (m->sig_ev[i])
			event_free(m->sig_ev[i]);
	if (m->tick_ev)
		event_free(m->tick_ev);
	if (m->stop_ev)
		event_free(m->stop_ev);
	if (m->admin)
		admin_close(m->admin);
	metrics_close(m->metrics);
	free(m->user);
	strv_free(&m->facts);
	if (m->base)
		event_base_free(m->base);
}

/* The Prometheus endpoint, bound before any worker forks; fatal if not. */
static int
master_metrics(struct master *m, const struct config *conf)
{
	char	*why = NULL;

	m->metrics = metrics_listen(m->base,
	    (const struct sockaddr *)&conf->metrics_addr, conf->metrics_addrlen,
	    master_metrics_collect, m, &why);
	if (m->metrics == NULL) {
		log_errorx("daemon.metrics %s: %s", conf->metrics,
		    why ? why : "cannot listen");
		free(why);
		return -1;
	}
	log_info("metrics on http://%s/metrics", conf->metrics);
	return 0;
}

/* The event loop, the stats segment and the sockets the master answers. */
static int
master_setup(struct master *m, const struct config *conf)
{
	char	*why = NULL;

	if ((m->base = event_base_new()) == NULL || master_events(m) == -1 ||
	    master_stats(m) == -1) {
		log_errorx("cannot set up the master's event loop");
		return EXIT_OSERR;
	}
	m->pool.sup.base = m->base;
	m->pool.sup.pid = m->pid;
	m->pool.sup.ops = &master_supervise_ops;
	m->pool.sup.arg = m;
	m->admin = admin_listen(m->base, conf->admin_socket, &master_admin_ops,
	    m, &why);
	if (m->admin == NULL) {
		/* Most reasons name the admin socket already. */
		log_errorx("%s%s", why != NULL && strncmp(why, "admin socket",
		    12) == 0 ? "" : "admin socket: ", why ? why :
		    "cannot listen");
		free(why);
		return EXIT_OSERR;
	}
	if (conf->metrics != NULL && master_metrics(m, conf) == -1)
		return EXIT_OSERR;
	if ((m->rescan = rescan_start(m->base, conf->rescan_interval,
	    master_rescan, m)) == NULL)
		log_warnx("cannot set up the rescan; the plan changes only on "
		    "a reload");
	return 0;
}

/*
 * Runs the daemon on conf, which the first generation takes over at once;
 * returns the exit code.
 */
int
master_run(struct config *conf, const struct master_options *opts)
{
	struct master		 m;
	struct generation	*gen;
	int			 status;

	memset(&m, 0, sizeof(m));
	if ((gen = generation_new(&m.pool, conf)) == NULL) {
		log_errorx("out of memory");
		return EXIT_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	if (opts->daemonize &&
	    (status = daemonize_start(gen->conf->pid_file)) != 0)
		goto out;
	m.pid = getpid();
	m.start_time = master_now();
	if (master_user(&m, gen->conf) == -1) {
		status = EXIT_CONFIG;
		goto out;
	}
	master_check_sysctl();
	notify_mainpid(m.pid);
	if ((status = master_setup(&m, gen->conf)) != 0)
		goto out;
	master_gen_start(&m, gen);
	if (!m.stopping || supervise_running(&m.pool.sup) > 0)
		event_base_dispatch(m.base);
	status = m.exit_status;
	if (status == 0)
		log_info("stopped");
out:
	master_free(&m);
	daemonize_ready(status ? status : EXIT_SOFTWARE);
	daemonize_cleanup();
	return status;
}
