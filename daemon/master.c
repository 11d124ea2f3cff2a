/*
 * The master: holds the admin socket, starts the first generation of
 * workers one by one, and then runs a libevent loop for signals, child
 * exits, heartbeats, reloads and admin requests.  It talks to systemd;
 * workers never do.
 */
#include "acconfig.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "admin.h"
#include "config.h"
#include "cpuset.h"
#include "daemonize.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "master_int.h"
#include "metrics.h"
#include "notify.h"
#include "stats.h"
#include "topology.h"

#define MASTER_SLOTS_PER_CPU	8

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

static json_t *
master_status_json(void *arg)
{
	struct master		*m = arg;
	struct generation	*gen = m->active;
	struct mworker		*mw;
	json_t			*doc, *workers, *w;
	size_t			 i, draining = 0;

	doc = json_object();
	workers = json_array();
	for (i = 0; gen != NULL && i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		w = status_worker_json(mw->id, mw->cpu, mw->queues, mw->slot,
		    mw->restarts);
		json_object_set_new(w, "pid", json_integer(mw->pid));
		json_object_set_new(w, "state",
		    json_string(master_worker_state(mw)));
		json_array_append_new(workers, w);
	}
	for (gen = m->gens; gen != NULL; gen = gen->next)
		if (gen->state == GEN_DRAINING)
			draining += supervise_gen_running(gen);
	json_object_set_new(doc, "workers", workers);
	json_object_set_new(doc, "generation",
	    json_integer(m->active ? m->active->number : 0));
	json_object_set_new(doc, "draining_workers", json_integer(draining));
	json_object_set_new(doc, "pid", json_integer(m->pid));
	if (m->active != NULL)
		json_object_set_new(doc, "steering", json_string(
		    steering_name(m->active->conf->steering)));
	return doc;
}

/* The workers a scrape shows: those of the generation serving now. */
static int
master_metrics_collect(void *arg, struct metrics_sample *sample)
{
	struct master		*m = arg;
	struct generation	*gen = m->active;
	struct mworker		*mw;
	size_t			 i;
	int			 r;

	if (gen == NULL)
		return 0;
	sample->generation = gen->number;
	for (i = 0; i < gen->nworkers; i++) {
		mw = &gen->workers[i];
		if ((r = metrics_sample_add(sample, mw->id, mw->cpu,
		    mw->restarts, mw->slot)) < 0)
			return r;
	}
	return 0;
}

static void
master_admin_reload(void *arg, struct admin_req *req)
{
	reload_start(arg, req);
}

static const struct admin_ops master_admin_ops = {
	.status = master_status_json,
	.reload = master_admin_reload,
};

/*
 * The cookies of every socket any generation made, the one starting and
 * the draining ones too (all are in m->gens).
 */
static uint64_t *
master_cookies(const struct master *m, size_t *n)
{
	const struct generation	*gen;
	const struct mworker	*mw;
	uint64_t		*cookies;
	size_t			 cap = 1, i, l;

	for (gen = m->gens; gen != NULL; gen = gen->next)
		cap += gen->nworkers * gen->conf->nlisteners;
	if ((cookies = calloc(cap, sizeof(*cookies))) == NULL)
		return NULL;
	*n = 0;
	for (gen = m->gens; gen != NULL; gen = gen->next) {
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
master_check_ports(struct generation *gen)
{
	const struct config	*conf = gen->conf;
	uint64_t		*cookies;
	unsigned int		 nforeign;
	size_t			 l, n;
	int			 r, bad = 0;

	if ((cookies = master_cookies(gen->m, &n)) == NULL)
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
		    gen->number, steering_name(gen->conf->steering));
}

/* Every worker of a generation reported ready. */
void
master_gen_ready(struct generation *gen)
{
	struct master	*m = gen->m;
	char		 status[512];
	size_t		 i;

	if (m->active != NULL) {
		reload_ready(gen);
		return;
	}
	if (master_check_ports(gen) == -1) {
		master_gen_failed(gen, EXIT_OSERR, "port in use");
		return;
	}
	for (i = 0; i < gen->nworkers; i++)
		supervise_send_go(&gen->workers[i]);
	gen->state = GEN_ACTIVE;
	m->active = gen;
	m->last_generation = gen->number;
	master_status_line(gen, status, sizeof(status));
	log_info("ready: %s", status);
	notify_ready(status);
	daemonize_ready(0);
}

/* A generation could not start: a failed reload, or a failed start. */
void
master_gen_failed(struct generation *gen, int status, const char *why)
{
	struct master	*m = gen->m;

	if (gen->state == GEN_FAILED)
		return;
	if (m->active != NULL) {
		reload_failed(m, gen, why);
		return;
	}
	gen->state = GEN_FAILED;
	if (m->stopping)
		return;
	m->exit_status = status ? status : EXIT_SOFTWARE;
	m->stopping = 1;
	supervise_signal_gen(gen, SIGKILL);
	if (supervise_running(m) == 0)
		master_finish(m);
}

void
master_finish(struct master *m)
{
	event_base_loopbreak(m->base);
}

static void
master_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master		*m = arg;
	struct generation	*gen;

	log_warnx("workers still running after the shutdown timeout; "
	    "killing them");
	for (gen = m->gens; gen != NULL; gen = gen->next)
		supervise_signal_gen(gen, SIGKILL);
}

static void
master_stop(struct master *m)
{
	struct generation	*gen;
	struct timeval		 tv;
	double			 t = 2.0;

	if (m->stopping)
		return;
	log_info("stopping: draining %zu workers", supervise_running(m));
	notify_stopping();
	m->stopping = 1;
	for (gen = m->gens; gen != NULL; gen = gen->next) {
		if (gen->conf->shutdown_timeout + 2.0 > t)
			t = gen->conf->shutdown_timeout + 2.0;
		supervise_signal_gen(gen, gen->state == GEN_ACTIVE ||
		    gen->state == GEN_DRAINING ? SIGTERM : SIGKILL);
	}
	if (supervise_running(m) == 0) {
		master_finish(m);
		return;
	}
	tv.tv_sec = (time_t)t;
	tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
	m->stop_ev = evtimer_new(m->base, master_stop_timeout_cb, m);
	if (m->stop_ev == NULL || evtimer_add(m->stop_ev, &tv) == -1)
		master_stop_timeout_cb(-1, 0, m);
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
		supervise_reap(m);
		break;
	case SIGHUP:
		reload_start(m, NULL);
		break;
	}
}

/* The watchdog ping says the master's own loop runs and supervises. */
static void
master_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;

	supervise_tick(m);
	reload_handover_check(m);
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
	/* Ping at least twice per watchdog interval, but do not spin. */
	if (wd > 0 && wd / 2 < 1000000) {
		tick.tv_sec = 0;
		tick.tv_usec = (suseconds_t)(wd / 2 < 10000 ? 10000 : wd / 2);
	}
	m->tick_ev = event_new(m->base, -1, EV_PERSIST, master_tick_cb, m);
	if (m->tick_ev == NULL || event_add(m->tick_ev, &tick) == -1)
		return -1;
	return 0;
}

/* The master runs on the CPUs that get no worker, when there are any. */
static void
master_pin_self(const struct generation *gen)
{
	struct cpuset	*rest;
	char		*list;
	size_t		 i;

	if ((rest = cpuset_dup(gen->topo->allowed)) == NULL)
		return;
	for (i = 0; i < gen->nworkers; i++)
		cpuset_del(rest, gen->workers[i].cpu);
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

static int
master_user(struct master *m, const struct config *conf)
{
	struct passwd	*pw;

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
	m->uid = pw->pw_uid;
	m->gid = pw->pw_gid;
	m->drop_privileges = geteuid() != pw->pw_uid;
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
	if (stats_map(n, &m->stats) < 0)
		return -1;
	if ((m->slot_used = calloc(n, 1)) == NULL)
		return -1;
	return 0;
}

static void
master_check_sysctl(void)
{
	char	*value = NULL;

	if (read_file_line("/proc/sys/net/ipv4/tcp_migrate_req", &value) < 0)
		return;
	if (strcmp(value, "0") == 0)
		log_warnx("net.ipv4.tcp_migrate_req is 0: connections queued "
		    "on a socket that closes (fewer workers after a reload, "
		    "a worker given up) are reset instead of moved to the "
		    "other workers; the shipped sysctl.d file sets it to 1");
	free(value);
}

static void
master_free(struct master *m)
{
	struct generation	*gen;
	size_t			 i;

	while ((gen = m->gens) != NULL) {
		m->gens = gen->next;
		generation_free(gen);
	}
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
	stats_unmap(&m->stats);
	free(m->slot_used);
	free(m->user);
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

static int
master_setup(struct master *m, struct config *conf)
{
	struct generation	*gen;
	char			*why = NULL;

	if ((m->base = event_base_new()) == NULL || master_events(m) == -1 ||
	    master_stats(m) == -1) {
		log_errorx("cannot set up the master's event loop");
		config_free(conf);
		return EXIT_OSERR;
	}
	m->admin = admin_listen(m->base, conf->admin_socket, &master_admin_ops,
	    m, &why);
	if (m->admin == NULL) {
		log_errorx("admin socket: %s", why ? why : "cannot listen");
		free(why);
		config_free(conf);
		return EXIT_OSERR;
	}
	if (conf->metrics != NULL && master_metrics(m, conf) == -1) {
		config_free(conf);
		return EXIT_OSERR;
	}
	if ((gen = generation_new(m, conf, NULL, &why)) == NULL) {
		log_errorx("%s", why ? why : "out of memory");
		free(why);
		return EXIT_OSERR;
	}
	m->gens = gen;
	master_pin_self(gen);
	return 0;
}

/* Runs the daemon on conf, which it owns from now on; returns the exit code. */
int
master_run(struct config *conf, const struct master_options *opts)
{
	struct master	 m;
	int		 status;

	memset(&m, 0, sizeof(m));
	signal(SIGPIPE, SIG_IGN);
	if (opts->daemonize &&
	    (status = daemonize_start(conf->pid_file)) != 0) {
		config_free(conf);
		daemonize_ready(status);
		return status;
	}
	m.pid = getpid();
	if (master_user(&m, conf) == -1) {
		config_free(conf);
		daemonize_ready(EXIT_CONFIG);
		return EXIT_CONFIG;
	}
	master_check_sysctl();
	notify_mainpid(m.pid);
	if ((status = master_setup(&m, conf)) != 0) {
		master_free(&m);
		daemonize_ready(status);
		return status;
	}
	/*
	 * Before any worker binds: a socket already on a port is someone
	 * else's, and ours would take part of its flows until the check
	 * after binding (kept for two daemons starting at once).
	 */
	if (master_check_ports(m.gens) == -1) {
		master_free(&m);
		daemonize_ready(EXIT_OSERR);
		return EXIT_OSERR;
	}
	if (supervise_start_next(m.gens) == 0 && !m.stopping)
		event_base_dispatch(m.base);
	else if (m.stopping && supervise_running(&m) > 0)
		event_base_dispatch(m.base);
	status = m.exit_status;
	if (status == 0)
		log_info("stopped");
	master_free(&m);
	daemonize_ready(status ? status : EXIT_SOFTWARE);
	daemonize_cleanup();
	return status;
}
