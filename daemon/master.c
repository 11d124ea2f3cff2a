/*
 * The master: builds the worker plan, holds the admin socket, starts the
 * workers one by one, and then runs a libevent loop for signals, child
 * exits, heartbeats and admin requests.  It talks to systemd; workers
 * never do.
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
#include "listener.h"
#include "log.h"
#include "master.h"
#include "master_int.h"
#include "notify.h"
#include "plan.h"
#include "stats.h"
#include "topology.h"

static json_t *
master_status_json(void *arg)
{
	struct master	*m = arg;
	struct mworker	*mw;
	json_t		*doc, *workers, *w;
	size_t		 i;

	doc = json_object();
	workers = json_array();
	for (i = 0; i < m->nworkers; i++) {
		mw = &m->workers[i];
		w = status_worker_json(mw->id, mw->cpu, mw->queues, mw->slot,
		    mw->restarts);
		json_object_set_new(w, "pid", json_integer(mw->pid));
		json_object_set_new(w, "state", json_string(
		    mw->state == MW_READY ? "ready" :
		    mw->state == MW_STARTING ? "starting" :
		    mw->state == MW_GAVE_UP ? "failed" : "down"));
		json_array_append_new(workers, w);
	}
	json_object_set_new(doc, "workers", workers);
	json_object_set_new(doc, "generation", json_integer(m->generation));
	json_object_set_new(doc, "pid", json_integer(m->pid));
	json_object_set_new(doc, "steering",
	    json_string(steering_name(m->conf->steering)));
	return doc;
}

static const struct admin_ops master_admin_ops = {
	.status = master_status_json,
	.reload = NULL,
};

/* Every socket bound to a listener's port must be one of ours. */
static int
master_check_ports(struct master *m)
{
	uint64_t	*cookies;
	unsigned int	 nforeign;
	size_t		 l, i, n;
	int		 r, bad = 0;

	if ((cookies = calloc(m->nworkers, sizeof(*cookies))) == NULL)
		return -1;
	for (l = 0; l < m->conf->nlisteners && !bad; l++) {
		const struct listener_conf	*lc = &m->conf->listeners[l];

		for (i = n = 0; i < m->nworkers; i++)
			if (m->workers[i].fds[l] >= 0 &&
			    listener_cookie(m->workers[i].fds[l], &cookies[n]) == 0)
				n++;
		r = sockdiag_foreign(lc, cookies, n, &nforeign);
		if (r < 0) {
			log_warnx("listener \"%s\": cannot check who shares "
			    "port %u: %s; continuing", lc->name, lc->port,
			    strerror(-r));
		} else if (nforeign > 0) {
			log_errorx("listener \"%s\" (%s %s port %u): port in "
			    "use: %u socket(s) of another program share it "
			    "through SO_REUSEPORT", lc->name,
			    listen_proto_name(lc->protocol), lc->address,
			    lc->port, nforeign);
			bad = 1;
		}
	}
	free(cookies);
	return bad ? -1 : 0;
}

void
master_started(struct master *m)
{
	char	 status[256];
	size_t	 i;
	int	 n = 0;

	if (master_check_ports(m) == -1) {
		master_fail_start(m, EXIT_OSERR);
		return;
	}
	m->starting = 0;
	n = snprintf(status, sizeof(status), "%zu workers on CPUs ",
	    m->nworkers);
	for (i = 0; i < m->nworkers && n < (int)sizeof(status) - 8; i++)
		n += snprintf(status + n, sizeof(status) - (size_t)n, "%s%u",
		    i ? "," : "", m->workers[i].cpu);
	log_info("ready: %s, steering %s", status,
	    steering_name(m->conf->steering));
	notify_ready(status);
}

/* A first-generation worker failed: stop everything and exit non-zero. */
void
master_fail_start(struct master *m, int status)
{
	if (m->stopping)
		return;
	m->exit_status = status ? status : EXIT_SOFTWARE;
	m->stopping = 1;
	supervise_stop_all(m, SIGKILL);
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
	struct master	*m = arg;

	log_warnx("workers still running after the shutdown timeout; "
	    "killing them");
	supervise_stop_all(m, SIGKILL);
}

static void
master_stop(struct master *m)
{
	struct timeval	 tv;
	double		 t = m->conf->shutdown_timeout + 2.0;

	if (m->stopping)
		return;
	log_info("stopping: draining %zu workers", supervise_running(m));
	notify_stopping();
	m->stopping = 1;
	supervise_stop_all(m, SIGTERM);
	if (supervise_running(m) == 0) {
		master_finish(m);
		return;
	}
	tv.tv_sec = (time_t)t;
	tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
	m->stop_ev = evtimer_new(m->base, master_stop_timeout_cb, m);
	if (m->stop_ev == NULL || evtimer_add(m->stop_ev, &tv) == -1)
		supervise_stop_all(m, SIGKILL);
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
		log_warnx("SIGHUP: reloading is not supported by this "
		    "version, ignoring");
		break;
	}
}

static void
master_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;

	supervise_tick(m);
	notify_watchdog();
}

static int
master_events(struct master *m)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct timeval		 tick = { 1, 0 };
	size_t			 i;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		m->sig_ev[i] = evsignal_new(m->base, sigs[i], master_signal_cb,
		    m);
		if (m->sig_ev[i] == NULL || evsignal_add(m->sig_ev[i], NULL))
			return -1;
	}
	m->tick_ev = event_new(m->base, -1, EV_PERSIST, master_tick_cb, m);
	if (m->tick_ev == NULL || event_add(m->tick_ev, &tick) == -1)
		return -1;
	return 0;
}

/* The master runs on the CPUs that get no worker, when there are any. */
static void
master_pin_self(struct master *m)
{
	struct cpuset	*rest;
	char		*list;
	size_t		 i;

	if ((rest = cpuset_dup(m->topo->allowed)) == NULL)
		return;
	for (i = 0; i < m->nworkers; i++)
		cpuset_del(rest, m->workers[i].cpu);
	if (!cpuset_empty(rest)) {
		list = cpuset_format_list(rest);
		if (cpuset_set_affinity(0, rest) < 0)
			log_warn("master: cannot move to CPUs %s", list);
		else
			log_info("master runs on CPUs %s", list ? list : "?");
		free(list);
	}
	cpuset_free(rest);
}

static int
master_plan(struct master *m)
{
	struct topo_worker	*tw;
	size_t			 i, l;
	int			 r;

	if ((r = plan_discover(m->conf, NULL, NULL, 0, &m->topo)) < 0 ||
	    m->topo->nworkers == 0) {
		if (m->topo)
			plan_log_warnings(m->topo);
		log_errorx("no worker plan: %s", r < 0 ? strerror(-r) :
		    "no usable CPU");
		return -1;
	}
	plan_log_warnings(m->topo);
	m->nworkers = m->topo->nworkers;
	if ((m->workers = calloc(m->nworkers, sizeof(*m->workers))) == NULL ||
	    stats_map(m->nworkers, &m->stats) < 0)
		return -1;
	for (i = 0; i < m->nworkers; i++) {
		tw = &m->topo->workers[i];
		m->workers[i] = (struct mworker){ .m = m, .id = tw->id,
		    .cpu = tw->cpu, .queues = &tw->queues, .ctl_fd = -1,
		    .slot = &m->stats.slots[i] };
		m->workers[i].fds = malloc(sizeof(int) * m->conf->nlisteners);
		if (m->workers[i].fds == NULL)
			return -1;
		for (l = 0; l < m->conf->nlisteners; l++)
			m->workers[i].fds[l] = -1;
	}
	return 0;
}

static int
master_user(struct master *m)
{
	struct passwd	*pw;

	if (m->conf->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(m->conf->user)) == NULL) {
		log_errorx("daemon.user \"%s\": %s", m->conf->user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	m->user = m->conf->user;
	m->uid = pw->pw_uid;
	m->gid = pw->pw_gid;
	m->drop_privileges = geteuid() != pw->pw_uid;
	return 0;
}

static void
master_free(struct master *m)
{
	size_t	 i;

	supervise_free(m);
	for (i = 0; i < ARRAY_SIZE(m->sig_ev); i++)
		if (m->sig_ev[i])
			event_free(m->sig_ev[i]);
	if (m->tick_ev)
		event_free(m->tick_ev);
	if (m->stop_ev)
		event_free(m->stop_ev);
	if (m->admin)
		admin_close(m->admin);
	stats_unmap(&m->stats);
	topology_free(m->topo);
	if (m->base)
		event_base_free(m->base);
}

int
master_run(struct config *conf, const struct master_options *opts)
{
	struct master	 m;
	char		*why = NULL;
	int		 status = EXIT_OSERR;

	memset(&m, 0, sizeof(m));
	m.conf = conf;
	m.pid = getpid();
	m.starting = 1;
	m.generation = 1;
	signal(SIGPIPE, SIG_IGN);
	if (master_user(&m) == -1) {
		status = EXIT_CONFIG;
		goto out;
	}
	if (master_plan(&m) == -1)
		goto out;
	if ((m.base = event_base_new()) == NULL || master_events(&m) == -1) {
		log_errorx("cannot set up the master's event loop");
		goto out;
	}
	m.admin = admin_listen(m.base, conf->admin_socket, &master_admin_ops,
	    &m, &why);
	if (m.admin == NULL) {
		log_errorx("admin socket: %s", why ? why : "cannot listen");
		free(why);
		goto out;
	}
	master_pin_self(&m);
	(void)opts;
	if (supervise_start_next(&m) == 0)
		event_base_dispatch(m.base);
	status = m.exit_status;
	if (status == 0)
		log_info("stopped");
out:
	master_free(&m);
	return status;
}
