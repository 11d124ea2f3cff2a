/*
 * Worker supervision in the master: forking a worker with the signal and
 * event-base traps handled, reading its ready/error report, respawning it
 * on the same CPU with the sockets the master holds (with backoff when it
 * keeps dying), and replacing a worker whose heartbeat went stale.
 */
#include "acconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "master_int.h"
#include "stats.h"
#include "worker.h"

#define SUPERVISE_QUICK_DEATH_NS	(5ULL * 1000000000ULL)
#define SUPERVISE_MAX_QUICK_DEATHS	8
#define SUPERVISE_BACKOFF_MAX_MS	30000
#define SUPERVISE_START_TIMEOUT_NS	(30ULL * 1000000000ULL)
#define SUPERVISE_STALE_NS		(3ULL * 1000000000ULL)

static const int supervise_master_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGCHLD
};

static int	supervise_fork(struct master *m, struct mworker *mw);

static void
supervise_close_ctl(struct mworker *mw)
{
	if (mw->ctl_ev != NULL) {
		event_free(mw->ctl_ev);
		mw->ctl_ev = NULL;
	}
	if (mw->ctl_fd >= 0) {
		close(mw->ctl_fd);
		mw->ctl_fd = -1;
	}
}

void
supervise_close_held(struct mworker *mw)
{
	size_t	 i;

	for (i = 0; mw->fds != NULL && i < mw->m->conf->nlisteners; i++) {
		if (mw->fds[i] >= 0)
			close(mw->fds[i]);
		mw->fds[i] = -1;
	}
}

/*
 * In the child, before anything else: the master's signal handlers would
 * write into the master's libevent signal pipe, and the descriptors of the
 * other workers would keep their sockets alive after the master let go.
 */
static void
supervise_child_setup(struct master *m, struct mworker *self)
{
	struct sigaction	 sa;
	size_t			 i, j;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(supervise_master_signals); i++)
		sigaction(supervise_master_signals[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != m->pid)
		_exit(EXIT_OSERR);
	/* Else a lingering worker would make the next master see it in use. */
	if (m->admin != NULL)
		close(admin_fd(m->admin));
	for (i = 0; i < m->nworkers; i++) {
		struct mworker	*other = &m->workers[i];

		if (other == self)
			continue;
		if (other->ctl_fd >= 0)
			close(other->ctl_fd);
		for (j = 0; j < m->conf->nlisteners; j++)
			if (other->fds[j] >= 0)
				close(other->fds[j]);
	}
	log_procinit("worker");
}

static void __attribute__((noreturn))
supervise_child(struct master *m, struct mworker *mw, int ctl_fd,
    const sigset_t *oldmask)
{
	struct worker_spec	 spec;
	char			 role[32];
	int			 held = 0;
	size_t			 i;

	supervise_child_setup(m, mw);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	snprintf(role, sizeof(role), "worker %u", mw->id);
	log_procinit(role);
	for (i = 0; i < m->conf->nlisteners; i++)
		held |= mw->fds[i] >= 0;
	memset(&spec, 0, sizeof(spec));
	spec.id = mw->id;
	spec.cpu = mw->cpu;
	spec.generation = m->generation;
	spec.conf = m->conf;
	spec.slot = mw->slot;
	spec.ctl_fd = ctl_fd;
	spec.fds = held ? mw->fds : NULL;
	spec.user = m->user;
	spec.uid = m->uid;
	spec.gid = m->gid;
	spec.drop_privileges = m->drop_privileges;
	_exit(worker_main(&spec));
}

static void
supervise_send_go(struct mworker *mw)
{
	int	 r;

	if ((r = wmsg_send(mw->ctl_fd, WMSG_GO, 0, NULL, 0, NULL)) < 0)
		log_warnx("worker %u: sending go: %s", mw->id, strerror(-r));
}

/* A READY report: keep the sockets it made (first start only). */
static void
supervise_ready(struct master *m, struct mworker *mw, const struct wmsg *msg,
    const int *fds)
{
	size_t	 i, k = 0;

	for (i = 0; i < m->conf->nlisteners; i++) {
		if (mw->fds[i] >= 0)
			continue;
		if (k >= msg->nfds) {
			log_warnx("worker %u: reported %u sockets, expected more",
			    mw->id, msg->nfds);
			break;
		}
		mw->fds[i] = fds[k++];
	}
	while (k < msg->nfds)
		close(fds[k++]);
	mw->state = MW_READY;
	log_info("worker %u (pid %d) ready on CPU %u", mw->id, (int)mw->pid,
	    mw->cpu);
	if (m->starting)
		supervise_start_next(m);
	else
		supervise_send_go(mw);
}

static void
supervise_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mworker	*mw = arg;
	struct master	*m = mw->m;
	struct wmsg	 msg;
	int		 fds[WMSG_MAX_FDS];
	ssize_t		 r;

	r = wmsg_recv(fd, &msg, fds, WMSG_MAX_FDS);
	if (r == -EAGAIN || r == -EINTR)
		return;
	if (r <= 0) {
		if (r < 0)
			log_warnx("worker %u: bad message: %s", mw->id,
			    strerror((int)-r));
		supervise_close_ctl(mw);	/* the exit is seen via SIGCHLD */
		return;
	}
	switch (msg.type) {
	case WMSG_READY:
		supervise_ready(m, mw, &msg, fds);
		break;
	case WMSG_ERROR:
		log_errorx("worker %u on CPU %u cannot start: %s", mw->id,
		    mw->cpu, msg.text);
		mw->last_error = msg.status;
		if (m->starting)
			master_fail_start(m, msg.status);
		break;
	default:
		log_warnx("worker %u: unexpected message type %u", mw->id,
		    msg.type);
		break;
	}
}

static int
supervise_fork(struct master *m, struct mworker *mw)
{
	sigset_t	 all, old;
	pid_t		 pid;
	int		 sv[2], saved;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -errno;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		supervise_child(m, mw, sv[1], &old);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid == -1) {
		close(sv[0]);
		return -saved;
	}
	mw->pid = pid;
	mw->ctl_fd = sv[0];
	mw->state = MW_STARTING;
	mw->started_ns = stats_now_ns();
	mw->last_error = 0;
	/* The slot still holds the last beat of a dead predecessor. */
	STATS_SET(mw->slot, heartbeat_ns, 0);
	mw->ctl_ev = event_new(m->base, sv[0], EV_READ | EV_PERSIST,
	    supervise_ctl_cb, mw);
	if (mw->ctl_ev == NULL || event_add(mw->ctl_ev, NULL) == -1) {
		log_warnx("worker %u: cannot watch its control socket", mw->id);
		kill(pid, SIGKILL);
	}
	return 0;
}

/*
 * Forks the next worker of the first generation, or, when all are ready,
 * lets the master finish the start.  One at a time, so a failure names
 * the first worker that hit it and nothing else is half-started.
 */
int
supervise_start_next(struct master *m)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].state == MW_READY)
			continue;
		if ((r = supervise_fork(m, &m->workers[i])) < 0) {
			log_errorx("worker %zu: fork: %s", i, strerror(-r));
			master_fail_start(m, EXIT_OSERR);
			return r;
		}
		return 0;
	}
	for (i = 0; i < m->nworkers; i++)
		supervise_send_go(&m->workers[i]);
	master_started(m);
	return 0;
}

static void
supervise_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mworker	*mw = arg;
	int		 r;

	if (mw->m->stopping || mw->state != MW_DOWN)
		return;
	if ((r = supervise_fork(mw->m, mw)) < 0) {
		log_errorx("worker %u: fork: %s", mw->id, strerror(-r));
		mw->quick_deaths++;
		return;
	}
	mw->restarts++;
}

static void
supervise_schedule_respawn(struct master *m, struct mworker *mw)
{
	struct timeval	 tv = { 0, 0 };
	unsigned int	 ms = 0, shift;

	if (stats_now_ns() - mw->started_ns < SUPERVISE_QUICK_DEATH_NS)
		mw->quick_deaths++;
	else
		mw->quick_deaths = 0;
	if (mw->quick_deaths >= SUPERVISE_MAX_QUICK_DEATHS) {
		log_errorx("worker %u on CPU %u died %u times in a row soon "
		    "after starting; giving up on it and closing its sockets "
		    "so its flows go to the other workers", mw->id, mw->cpu,
		    mw->quick_deaths);
		mw->state = MW_GAVE_UP;
		supervise_close_held(mw);
		return;
	}
	if (mw->quick_deaths > 0) {
		shift = mw->quick_deaths - 1;
		ms = shift >= 8 ? SUPERVISE_BACKOFF_MAX_MS : 250U << shift;
		if (ms > SUPERVISE_BACKOFF_MAX_MS)
			ms = SUPERVISE_BACKOFF_MAX_MS;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	log_info("respawning worker %u on CPU %u in %u ms", mw->id, mw->cpu, ms);
	if (mw->respawn_ev == NULL)
		mw->respawn_ev = evtimer_new(m->base, supervise_respawn_cb, mw);
	if (mw->respawn_ev == NULL || evtimer_add(mw->respawn_ev, &tv) == -1)
		log_errorx("worker %u: cannot schedule its respawn", mw->id);
}

static void
supervise_log_exit(const struct mworker *mw, int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		log_info("worker %u (pid %d) on CPU %u exited", mw->id,
		    (int)mw->pid, mw->cpu);
	else if (WIFEXITED(wstatus))
		log_warnx("worker %u (pid %d) on CPU %u exited with status %d",
		    mw->id, (int)mw->pid, mw->cpu, WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		log_warnx("worker %u (pid %d) on CPU %u terminated by signal "
		    "%d (%s)", mw->id, (int)mw->pid, mw->cpu,
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
}

static struct mworker *
supervise_find(struct master *m, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < m->nworkers; i++)
		if (m->workers[i].pid == pid)
			return &m->workers[i];
	return NULL;
}

static void
supervise_exited(struct master *m, struct mworker *mw, int wstatus)
{
	enum mworker_state	 was = mw->state;

	supervise_log_exit(mw, wstatus);
	supervise_close_ctl(mw);
	mw->pid = 0;
	mw->state = MW_DOWN;
	if (m->stopping)
		return;
	if (m->starting) {
		master_fail_start(m, mw->last_error ? mw->last_error :
		    EXIT_SOFTWARE);
		return;
	}
	if (was == MW_STARTING && mw->last_error != 0)
		mw->quick_deaths = SUPERVISE_MAX_QUICK_DEATHS - 1;
	supervise_schedule_respawn(m, mw);
}

/* SIGCHLD: reap every child that ended, and act on each. */
void
supervise_reap(struct master *m)
{
	struct mworker	*mw;
	pid_t		 pid;
	int		 wstatus;

	for (;;) {
		pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if ((mw = supervise_find(m, pid)) == NULL) {
			log_debug("reaped unknown child %d", (int)pid);
			continue;
		}
		supervise_exited(m, mw, wstatus);
	}
	if (m->stopping && supervise_running(m) == 0)
		master_finish(m);
}

/* Once a second: start timeouts and stale heartbeats. */
void
supervise_tick(struct master *m)
{
	struct mworker	*mw;
	uint64_t	 now = stats_now_ns(), beat;
	size_t		 i;

	for (i = 0; i < m->nworkers; i++) {
		mw = &m->workers[i];
		if (mw->pid == 0)
			continue;
		if (mw->state == MW_STARTING &&
		    now - mw->started_ns > SUPERVISE_START_TIMEOUT_NS) {
			log_errorx("worker %u (pid %d) did not get ready in "
			    "time; killing it", mw->id, (int)mw->pid);
			kill(mw->pid, SIGKILL);
			continue;
		}
		/* While stopping, the stop timer bounds the drain instead. */
		if (mw->state != MW_READY || m->starting || m->stopping)
			continue;
		beat = STATS_GET(mw->slot, heartbeat_ns);
		if (beat == 0 || now <= beat || now - beat < SUPERVISE_STALE_NS)
			continue;
		log_errorx("worker %u (pid %d) on CPU %u: no heartbeat for "
		    "%.1f s (stopped or wedged); replacing it", mw->id,
		    (int)mw->pid, mw->cpu, (double)(now - beat) / 1e9);
		kill(mw->pid, SIGKILL);
		/* Its heartbeat is judged again only after the respawn. */
		STATS_SET(mw->slot, heartbeat_ns, 0);
	}
}

void
supervise_stop_all(struct master *m, int sig)
{
	size_t	 i;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid > 0)
			kill(m->workers[i].pid, sig);
		if (m->workers[i].respawn_ev)
			evtimer_del(m->workers[i].respawn_ev);
	}
}

size_t
supervise_running(const struct master *m)
{
	size_t	 i, n = 0;

	for (i = 0; i < m->nworkers; i++)
		n += m->workers[i].pid > 0;
	return n;
}

void
supervise_free(struct master *m)
{
	size_t	 i;

	for (i = 0; i < m->nworkers; i++) {
		supervise_close_ctl(&m->workers[i]);
		supervise_close_held(&m->workers[i]);
		if (m->workers[i].respawn_ev)
			event_free(m->workers[i].respawn_ev);
		free(m->workers[i].fds);
	}
	free(m->workers);
	m->workers = NULL;
	m->nworkers = 0;
}
