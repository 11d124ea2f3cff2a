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

#include "config.h"
#include "listener.h"
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

	for (i = 0; mw->fds != NULL && i < mw->gen->conf->nlisteners; i++) {
		if (mw->fds[i] >= 0)
			close(mw->fds[i]);
		mw->fds[i] = -1;
	}
}

static int
supervise_cmp_int(const void *a, const void *b)
{
	int	 x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Closes every inherited descriptor but stdio, the control socket and the
 * worker's own sockets: another worker's socket kept open here would stay
 * in the SO_REUSEPORT group after the master let go of it, and an admin
 * client's connection would never see its reply end.
 */
static void
supervise_child_close_fds(const struct mworker *self, int ctl_fd)
{
	size_t	 n = 0, i, nl = self->gen->conf->nlisteners;
	int	*keep, low = 0;

	if ((keep = calloc(nl + 4, sizeof(*keep))) == NULL)
		_exit(EXIT_OSERR);
	keep[n++] = STDIN_FILENO;
	keep[n++] = STDOUT_FILENO;
	keep[n++] = STDERR_FILENO;
	keep[n++] = ctl_fd;
	for (i = 0; i < nl; i++)
		if (self->fds[i] >= 0)
			keep[n++] = self->fds[i];
	qsort(keep, n, sizeof(*keep), supervise_cmp_int);
	for (i = 0; i < n; i++) {
		if (keep[i] > low &&
		    close_range((unsigned int)low, (unsigned int)keep[i] - 1, 0)
		    == -1)
			_exit(EXIT_OSERR);
		low = keep[i] + 1;
	}
	if (close_range((unsigned int)low, ~0U, 0) == -1)
		_exit(EXIT_OSERR);
	free(keep);
}

/*
 * In the child, before anything else: the master's signal handlers would
 * write into the master's libevent signal pipe, and inherited descriptors
 * would keep other processes' sockets alive.
 */
static void
supervise_child_setup(struct master *m, struct mworker *self, int ctl_fd)
{
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(supervise_master_signals); i++)
		sigaction(supervise_master_signals[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != m->pid)
		_exit(EXIT_OSERR);
	supervise_child_close_fds(self, ctl_fd);
}

static void __attribute__((noreturn))
supervise_child(struct master *m, struct mworker *mw, int ctl_fd,
    const sigset_t *oldmask)
{
	struct worker_spec	 spec;
	char			 role[32];
	int			 held = 0;
	size_t			 i;

	supervise_child_setup(m, mw, ctl_fd);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	snprintf(role, sizeof(role), "worker %u", mw->id);
	log_procinit(role);
	for (i = 0; i < mw->gen->conf->nlisteners; i++)
		held |= mw->fds[i] >= 0;
	memset(&spec, 0, sizeof(spec));
	spec.id = mw->id;
	spec.cpu = mw->cpu;
	spec.generation = mw->gen->number;
	spec.conf = mw->gen->conf;
	spec.slot = mw->slot;
	spec.ctl_fd = ctl_fd;
	spec.fds = held ? mw->fds : NULL;
	spec.user = m->user;
	spec.uid = m->uid;
	spec.gid = m->gid;
	spec.drop_privileges = m->drop_privileges;
	_exit(worker_main(&spec));
}

void
supervise_send_go(struct mworker *mw)
{
	int	 r;

	if ((r = wmsg_send(mw->ctl_fd, WMSG_GO, 0, NULL, 0, NULL)) < 0)
		log_warnx("worker %u: sending go: %s", mw->id, strerror(-r));
}

/* A READY report: keep the sockets it made (first start only). */
static void
supervise_ready(struct mworker *mw, const struct wmsg *msg, const int *fds)
{
	size_t	 i, k = 0;

	for (i = 0; i < mw->gen->conf->nlisteners; i++) {
		if (mw->fds[i] >= 0)
			continue;
		if (k >= msg->nfds) {
			log_warnx("worker %u: reported %u sockets, expected more",
			    mw->id, msg->nfds);
			break;
		}
		mw->fds[i] = fds[k++];
		if (listener_cookie(mw->fds[i], &mw->cookies[i]) < 0)
			mw->cookies[i] = 0;
	}
	while (k < msg->nfds)
		close(fds[k++]);
	mw->state = MW_READY;
	log_info("worker %u (pid %d) of generation %u ready on CPU %u",
	    mw->id, (int)mw->pid, mw->gen->number, mw->cpu);
	if (mw->gen->state == GEN_STARTING)
		supervise_start_next(mw->gen);
	else
		supervise_send_go(mw);
}

static void
supervise_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mworker	*mw = arg;
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
		supervise_ready(mw, &msg, fds);
		break;
	case WMSG_ERROR:
		log_errorx("worker %u on CPU %u cannot start: %s", mw->id,
		    mw->cpu, msg.text);
		mw->last_error = msg.status;
		snprintf(mw->last_text, sizeof(mw->last_text), "worker %u on "
		    "CPU %u: %s", mw->id, mw->cpu, msg.text);
		if (mw->gen->state == GEN_STARTING)
			master_gen_failed(mw->gen, msg.status, mw->last_text);
		break;
	case WMSG_STOPPED:
		mw->stopped = 1;
		reload_handover_check(mw->gen->m);
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
supervise_start_next(struct generation *gen)
{
	char	 why[128];
	size_t	 i;
	int	 r;

	for (i = 0; i < gen->nworkers; i++) {
		if (gen->workers[i].state == MW_READY)
			continue;
		if (gen->workers[i].state == MW_STARTING)
			return 0;
		if ((r = supervise_fork(gen->m, &gen->workers[i])) < 0) {
			snprintf(why, sizeof(why), "worker %zu: fork: %s", i,
			    strerror(-r));
			log_errorx("%s", why);
			master_gen_failed(gen, EXIT_OSERR, why);
			return r;
		}
		return 0;
	}
	master_gen_ready(gen);
	return 0;
}

static void
supervise_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mworker	*mw = arg;
	int		 r;

	if (mw->gen->m->stopping || mw->state != MW_DOWN ||
	    mw->gen->state != GEN_ACTIVE)
		return;
	if ((r = supervise_fork(mw->gen->m, mw)) < 0) {
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
	struct generation	*gen;
	size_t			 i;

	for (gen = m->gens; gen != NULL; gen = gen->next)
		for (i = 0; i < gen->nworkers; i++)
			if (gen->workers[i].pid == pid)
				return &gen->workers[i];
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
	if (m->stopping || mw->gen->state == GEN_DRAINING ||
	    mw->gen->state == GEN_FAILED)
		return;
	if (mw->gen->state == GEN_STARTING) {
		if (mw->last_text[0] == '\0')
			snprintf(mw->last_text, sizeof(mw->last_text),
			    "worker %u on CPU %u exited while starting",
			    mw->id, mw->cpu);
		master_gen_failed(mw->gen, mw->last_error ? mw->last_error :
		    EXIT_SOFTWARE, mw->last_text);
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
	reload_handover_check(m);
	generation_collect(m);
	if (m->stopping && supervise_running(m) == 0)
		master_finish(m);
}

static void
supervise_check(struct master *m, struct mworker *mw, uint64_t now)
{
	uint64_t	 beat;

	if (mw->pid == 0)
		return;
	if (mw->state == MW_STARTING &&
	    now - mw->started_ns > SUPERVISE_START_TIMEOUT_NS) {
		log_errorx("worker %u (pid %d) did not get ready in time; "
		    "killing it", mw->id, (int)mw->pid);
		kill(mw->pid, SIGKILL);
		return;
	}
	/* While stopping or draining, a stop timer bounds the drain. */
	if (mw->state != MW_READY || mw->gen->state != GEN_ACTIVE ||
	    m->stopping)
		return;
	beat = STATS_GET(mw->slot, heartbeat_ns);
	if (beat == 0 || now <= beat || now - beat < SUPERVISE_STALE_NS)
		return;
	log_errorx("worker %u (pid %d) on CPU %u: no heartbeat for %.1f s "
	    "(stopped or wedged); replacing it", mw->id, (int)mw->pid,
	    mw->cpu, (double)(now - beat) / 1e9);
	kill(mw->pid, SIGKILL);
	/* Its heartbeat is judged again only after the respawn. */
	STATS_SET(mw->slot, heartbeat_ns, 0);
}

/* Once a second: start timeouts and stale heartbeats. */
void
supervise_tick(struct master *m)
{
	struct generation	*gen;
	uint64_t		 now = stats_now_ns();
	size_t			 i;

	for (gen = m->gens; gen != NULL; gen = gen->next)
		for (i = 0; i < gen->nworkers; i++)
			supervise_check(m, &gen->workers[i], now);
}

void
supervise_signal_gen(struct generation *gen, int sig)
{
	size_t	 i;

	for (i = 0; i < gen->nworkers; i++) {
		if (gen->workers[i].pid > 0)
			kill(gen->workers[i].pid, sig);
		if (gen->workers[i].respawn_ev)
			evtimer_del(gen->workers[i].respawn_ev);
	}
}

size_t
supervise_gen_running(const struct generation *gen)
{
	size_t	 i, n = 0;

	for (i = 0; i < gen->nworkers; i++)
		n += gen->workers[i].pid > 0;
	return n;
}

size_t
supervise_running(const struct master *m)
{
	const struct generation	*gen;
	size_t			 n = 0;

	for (gen = m->gens; gen != NULL; gen = gen->next)
		n += supervise_gen_running(gen);
	return n;
}
