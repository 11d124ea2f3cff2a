/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A worker: pins itself to its CPU, opens (or takes over) one socket per
 * listener, reports ready to the master, drops privileges and serves from
 * its own event loop until SIGTERM, then drains within shutdown_timeout.
 * It never touches the master's event_base: that epoll instance is shared.
 */
#include "acconfig.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "worker/handler.h"
#include "worker/listener.h"
#include "common/log.h"
#include "worker/serve.h"
#include "common/stats.h"
#include "worker/tcp.h"
#include "worker/udp.h"
#include "common/util.h"
#include "common/wmsg.h"
#include "worker/worker.h"

/* config.c refuses more listeners than one ready message can carry. */
_Static_assert(CONFIG_MAX_LISTENERS <= WMSG_MAX_FDS,
    "a worker could not hand the master every listener's socket");

#define WORKER_HEARTBEAT_SEC	1
#define WORKER_GO_TIMEOUT_MS	60000

struct worker {
	const struct worker_spec	*spec;
	struct serve			 serve;
	struct serve_listener		*listeners;
	size_t				 nlisteners;
	int				 sig_fd;	/* signalfd: SIGTERM, SIGINT */
	struct event			*sig_ev;
	struct event			*heartbeat;
	struct event			*drain_timer;
	struct event			*ctl_ev;	/* the master's messages */
};

/*
 * Raises the soft open-file limit, which the workers forked next inherit,
 * to what one worker needs for max_connections (connections of all its
 * listeners count against it together), up to the hard limit; below
 * that, a worker runs out of descriptors first and then gives up idle
 * connections for new clients (tcp.c) as it would at max_connections.
 * Only raises: the limit may be above what is needed (systemd's
 * LimitNOFILE=), and then no system call is made.
 */
void
worker_nofile_raise(const struct config *conf)
{
	struct rlimit	 rl;
	rlim_t		 need;

	need = (rlim_t)config_worker_nofile(conf);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("setrlimit RLIMIT_NOFILE to %llu",
			    (unsigned long long)rl.rlim_cur);
			if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
				return;
		}
	}
	if (rl.rlim_cur >= need)
		return;
	log_warnx("open-file limit %llu (hard %llu) is below the %llu a "
	    "worker needs for max_connections = %d and %zu listeners: a "
	    "worker runs out of descriptors before %llu connections and "
	    "then closes its least recently active idle one for each new "
	    "client; raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower "
	    "daemon.max_connections", (unsigned long long)rl.rlim_cur,
	    (unsigned long long)rl.rlim_max, (unsigned long long)need,
	    conf->max_connections, conf->nlisteners,
	    (unsigned long long)rl.rlim_cur);
}

static int
worker_pin(const struct worker_spec *spec)
{
	struct cpuset	*set;
	int		 r, cpu;

	if ((set = cpuset_new()) == NULL)
		return wmsg_send(spec->ctl_fd, WMSG_ERROR, EXIT_OSERR, NULL, 0,
		    "out of memory"), -1;
	r = cpuset_add(set, spec->cpu);
	if (r == 0)
		r = cpuset_set_affinity(0, set);
	cpuset_free(set);
	if (r < 0) {
		wmsg_send(spec->ctl_fd, WMSG_ERROR, EXIT_OSERR, NULL, 0,
		    "sched_setaffinity to CPU %u: %s", spec->cpu, strerror(-r));
		return -1;
	}
	if ((cpu = sched_getcpu()) != (int)spec->cpu) {
		wmsg_send(spec->ctl_fd, WMSG_ERROR, EXIT_OSERR, NULL, 0,
		    "pinned to CPU %u but running on CPU %d", spec->cpu, cpu);
		return -1;
	}
	return 0;
}

/* Opens this worker's sockets, or takes over the ones the master held. */
static int
worker_open_sockets(struct worker *w, int *fds, size_t *nnew)
{
	const struct worker_spec	*spec = w->spec;
	const struct config		*conf = spec->conf;
	char				*why = NULL;
	size_t				 i;
	int				 fd;

	*nnew = 0;
	for (i = 0; i < conf->nlisteners; i++) {
		if (spec->fds != NULL && spec->fds[i] >= 0) {
			/* Taken over: applies a backlog changed by a reload. */
			if (conf->listeners[i].protocol == LISTEN_TCP &&
			    listen(spec->fds[i], conf->listeners[i].backlog) == -1)
				log_warn("listener \"%s\": listen",
				    conf->listeners[i].name);
			w->listeners[i].fd = spec->fds[i];
			continue;
		}
		/* The master decided, resolving "auto" by its self-test. */
		fd = listener_open(&conf->listeners[i], (int)spec->cpu,
		    spec->incoming_cpu ? STEERING_INCOMING_CPU : STEERING_NONE,
		    &why);
		if (fd < 0) {
			wmsg_send(spec->ctl_fd, WMSG_ERROR, EXIT_OSERR, NULL, 0,
			    "%s", why ? why : strerror(-fd));
			free(why);
			return -1;
		}
		w->listeners[i].fd = fd;
		fds[(*nnew)++] = fd;
	}
	return 0;
}

static int
worker_drop_privileges(const struct worker_spec *spec)
{
	if (!spec->drop_privileges)
		return 0;
	if (initgroups(spec->user, spec->gid) == -1 || setgid(spec->gid) == -1 ||
	    setuid(spec->uid) == -1) {
		log_warn("dropping privileges to user %s", spec->user);
		return -1;
	}
	if (spec->uid != 0 && (setuid(0) != -1 || geteuid() != spec->uid)) {
		log_warnx("privileges were not dropped: uid 0 is still reachable");
		return -1;
	}
	return 0;
}

/* Blocks until the master says every check passed; false on EOF or error. */
static int
worker_wait_go(const struct worker_spec *spec)
{
	struct pollfd	 pfd = { .fd = spec->ctl_fd, .events = POLLIN };
	struct wmsg	 msg;
	int		 r;

	do
		r = poll(&pfd, 1, WORKER_GO_TIMEOUT_MS);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return 0;
	if (wmsg_recv(spec->ctl_fd, &msg, NULL, 0) <= 0)
		return 0;
	return msg.type == WMSG_GO;
}

static void
worker_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	int		 cpu = sched_getcpu();

	stats_heartbeat(w->serve.stats, cpu);
	STATS_SET(w->serve.stats, open_conns, w->serve.open_conns);
	if (cpu != w->serve.cpu) {
		STATS_ADD(w->serve.stats, cpu_mismatches, 1);
		log_errorx("running on CPU %d, not on CPU %d: affinity broken "
		    "(CPU taken offline?)", cpu, w->serve.cpu);
	}
}

/*
 * The master re-mapped this worker to another CPU (its queues moved
 * there): pin to it; the master already gave the sockets the new
 * SO_INCOMING_CPU.  A CPU it cannot run on ends the worker, whom the
 * master then respawns there or gives up on.
 */
static void
worker_move(struct worker *w, int cpu)
{
	struct cpuset	*set;
	int		 r = -ENOMEM, was = w->serve.cpu;

	if ((set = cpuset_new()) != NULL &&
	    (r = cpuset_add(set, (unsigned int)cpu)) == 0)
		r = cpuset_set_affinity(0, set);
	cpuset_free(set);
	if (r < 0) {
		log_errorx("moving to CPU %d: sched_setaffinity: %s; exiting",
		    cpu, strerror(-r));
		event_base_loopbreak(w->serve.base);
		return;
	}
	w->serve.cpu = cpu;
	log_info("moved from CPU %d to CPU %d, running on CPU %d", was, cpu,
	    sched_getcpu());
	stats_heartbeat(w->serve.stats, sched_getcpu());
}

static void
worker_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct wmsg	 msg;
	ssize_t		 r;

	r = wmsg_recv(fd, &msg, NULL, 0);
	if (r == -EAGAIN || r == -EINTR)
		return;
	if (r <= 0) {
		/* The master is gone: PR_SET_PDEATHSIG ends this process. */
		event_del(w->ctl_ev);
		return;
	}
	if (msg.type == WMSG_MOVE && msg.status >= 0)
		worker_move(w, msg.status);
	else
		log_warnx("unexpected message %u from the master", msg.type);
}

static void
worker_conn_closed(struct serve *serve)
{
	if (serve->draining && serve->open_conns == 0)
		event_base_loopbreak(serve->base);
}

static void
worker_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	log_warnx("shutdown timeout: closing %u open connections",
	    w->serve.open_conns);
	event_base_loopbreak(w->serve.base);
}

/* Stops accepting; the loop ends when the last connection closes. */
static void
worker_stop(struct worker *w)
{
	struct timeval	 tv;
	double		 t = w->spec->conf->shutdown_timeout;
	size_t		 i;

	if (w->serve.draining)
		return;
	w->serve.draining = 1;
	STATS_SET(w->serve.stats, draining, 1);
	for (i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].conf->protocol == LISTEN_TCP)
			tcp_serve_stop(&w->listeners[i]);
		else
			udp_serve_stop(&w->listeners[i]);
		/*
		 * The queue is served: let go of the socket now, so one that
		 * no new generation took over closes (and the kernel moves
		 * what arrives meanwhile to the group's other sockets)
		 * instead of queuing connections nobody will accept.
		 */
		if (w->listeners[i].fd >= 0) {
			close(w->listeners[i].fd);
			w->listeners[i].fd = -1;
		}
	}
	/* A reload is answered once the old workers no longer accept. */
	if (wmsg_send(w->spec->ctl_fd, WMSG_STOPPED, 0, NULL, 0, NULL) < 0)
		log_debug("telling the master it stopped accepting failed");
	log_debug("stopping with %u open connections", w->serve.open_conns);
	if (w->serve.open_conns == 0) {
		event_base_loopbreak(w->serve.base);
		return;
	}
	tv = seconds_timeval(t);
	w->drain_timer = evtimer_new(w->serve.base, worker_drain_timeout_cb, w);
	if (w->drain_timer == NULL || evtimer_add(w->drain_timer, &tv) == -1)
		event_base_loopbreak(w->serve.base);
}

/*
 * Signals come through a signalfd rather than evsignal: libevent keeps one
 * process-wide signal base, still pointing at the master's after fork().
 */
static void
worker_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker			*w = arg;
	struct signalfd_siginfo		 si;
	ssize_t				 got;

	while ((got = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			worker_stop(w);
	}
}

static int
worker_signals(struct worker *w)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	w->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->sig_fd == -1)
		return -1;
	w->sig_ev = event_new(w->serve.base, w->sig_fd, EV_READ | EV_PERSIST,
	    worker_signal_cb, w);
	if (w->sig_ev == NULL || event_add(w->sig_ev, NULL) == -1)
		return -1;
	return 0;
}

static int
worker_start_serving(struct worker *w)
{
	struct timeval	 beat = { WORKER_HEARTBEAT_SEC, 0 };
	size_t		 i;
	int		 r;

	for (i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].conf->protocol == LISTEN_TCP)
			r = tcp_serve_start(&w->listeners[i]);
		else
			r = udp_serve_start(&w->listeners[i]);
		if (r < 0) {
			log_warnx("listener \"%s\": cannot serve: %s",
			    w->listeners[i].conf->name, strerror(-r));
			return -1;
		}
	}
	w->heartbeat = event_new(w->serve.base, -1, EV_PERSIST,
	    worker_heartbeat_cb, w);
	w->ctl_ev = event_new(w->serve.base, w->spec->ctl_fd,
	    EV_READ | EV_PERSIST, worker_ctl_cb, w);
	if (worker_signals(w) == -1 || w->heartbeat == NULL ||
	    event_add(w->heartbeat, &beat) == -1 || w->ctl_ev == NULL ||
	    event_add(w->ctl_ev, NULL) == -1) {
		log_warnx("cannot set up the worker's events");
		return -1;
	}
	worker_heartbeat_cb(-1, 0, w);
	return 0;
}

static void
worker_free(struct worker *w)
{
	size_t	 i;

	/* Connections still open after a drain timeout end here. */
	if (w->serve.base != NULL)
		serve_close_all(&w->serve);

	for (i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].io == NULL)
			continue;
		if (w->listeners[i].conf->protocol == LISTEN_TCP)
			tcp_serve_stop(&w->listeners[i]);
		else
			udp_serve_stop(&w->listeners[i]);
	}
	if (w->sig_ev)
		event_free(w->sig_ev);
	if (w->sig_fd >= 0)
		close(w->sig_fd);
	if (w->heartbeat)
		event_free(w->heartbeat);
	if (w->drain_timer)
		event_free(w->drain_timer);
	if (w->ctl_ev)
		event_free(w->ctl_ev);
	free(w->listeners);
}

static int
worker_setup(struct worker *w, const struct worker_spec *spec)
{
	const struct config	*conf = spec->conf;
	size_t			 i;

	memset(w, 0, sizeof(*w));
	w->spec = spec;
	w->sig_fd = -1;
	w->nlisteners = conf->nlisteners;
	if ((w->listeners = calloc(conf->nlisteners, sizeof(*w->listeners)))
	    == NULL)
		return -1;
	w->serve.worker_id = spec->id;
	w->serve.cpu = (int)spec->cpu;
	w->serve.pid = getpid();
	w->serve.stats = spec->slot;
	w->serve.max_conns = (unsigned int)conf->max_connections;
	w->serve.budget = (size_t)conf->buffer_budget_kib * 1024;
	w->serve.conn_closed = worker_conn_closed;
	w->serve.owner = w;
	for (i = 0; i < conf->nlisteners; i++) {
		w->listeners[i].serve = &w->serve;
		w->listeners[i].conf = &conf->listeners[i];
		w->listeners[i].handler =
		    handler_find(conf->listeners[i].handler);
		w->listeners[i].fd = -1;
	}
	return 0;
}

/*
 * Runs the worker and returns its exit status.  Start-up failures are
 * reported to the master, which decides what they mean.
 */
int
worker_main(const struct worker_spec *spec)
{
	struct worker	 w;
	int		 fds[WMSG_MAX_FDS];
	size_t		 nnew;
	int		 status = EXIT_OSERR;

	if (spec->conf->nlisteners > WMSG_MAX_FDS)
		return EXIT_CONFIG;
	if (worker_setup(&w, spec) == -1)
		return EXIT_OSERR;
	if (worker_pin(spec) == -1 || worker_open_sockets(&w, fds, &nnew) == -1)
		goto out;
	if (wmsg_send(spec->ctl_fd, WMSG_READY, 0, fds, nnew, NULL) < 0) {
		log_warn("reporting ready to the master");
		goto out;
	}
	if (worker_drop_privileges(spec) == -1 || !worker_wait_go(spec))
		goto out;
	if ((w.serve.base = event_base_new()) == NULL) {
		log_warnx("cannot create an event base");
		goto out;
	}
	/* Counters survive a respawn: status shows totals per CPU. */
	stats_slot_respawn(spec->slot, w.serve.pid);
	if (worker_start_serving(&w) == 0 &&
	    event_base_dispatch(w.serve.base) != -1)
		status = 0;
out:
	worker_free(&w);
	if (w.serve.base)
		event_base_free(w.serve.base);
	return status;
}
