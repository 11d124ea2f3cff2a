/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker supervision in the master: forking a worker with the signal and
 * event-base traps handled, reading its reports, respawning it on the
 * same CPU with the sockets the master holds (with backoff when it keeps
 * dying or cannot be forked, letting go of its sockets when it cannot be
 * back soon), and replacing a worker whose heartbeat went stale.  It decides
 * nothing about generations: every event goes to the owner through
 * struct supervise_ops, and the owner calls back down to act.
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

#include "config/config.h"
#include "worker/listener.h"
#include "common/log.h"
#include "common/stats.h"
#include "master/supervise.h"
#include "common/util.h"
#include "common/wmsg.h"
#include "worker/worker.h"

#define SUPERVISE_QUICK_DEATH_NS	(5ULL * 1000000000ULL)
#define SUPERVISE_MAX_QUICK_DEATHS	8
#define SUPERVISE_BACKOFF_MIN_MS	250
#define SUPERVISE_BACKOFF_MAX_MS	30000
#define SUPERVISE_HOLD_NS		(1ULL * 1000000000ULL)
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

/* Sets up mw for conf's listeners; its owner filled in who it is. */
int
supervise_worker_init(struct mworker *mw, struct supervisor *sup,
    const struct config *conf)
{
	size_t	 l, nl = conf->nlisteners;

	mw->sup = sup;
	mw->conf = conf;
	mw->ctl_fd = -1;
	mw->fds = malloc(sizeof(int) * (nl ? nl : 1));
	mw->inherit = calloc(nl ? nl : 1, sizeof(int));
	mw->cookies = calloc(nl ? nl : 1, sizeof(uint64_t));
	if (mw->fds == NULL || mw->inherit == NULL || mw->cookies == NULL)
		return -ENOMEM;
	for (l = 0; l < nl; l++)
		mw->fds[l] = -1;
	return 0;
}

/* Frees what supervise_worker_init() and the worker's life took. */
void
supervise_worker_clear(struct mworker *mw)
{
	if (mw->pid > 0)
		LIST_REMOVE(mw, entry);
	mw->pid = 0;
	supervise_close_ctl(mw);
	if (mw->respawn_ev)
		event_free(mw->respawn_ev);
	mw->respawn_ev = NULL;
	supervise_close_held(mw);
	free(mw->fds);
	free(mw->inherit);
	free(mw->cookies);
	mw->fds = NULL;
	mw->inherit = NULL;
	mw->cookies = NULL;
}

void
supervise_close_held(struct mworker *mw)
{
	size_t	 i;

	for (i = 0; mw->fds != NULL && i < mw->conf->nlisteners; i++) {
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
	size_t	 n = 0, i, nl = self->conf->nlisteners;
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
supervise_child_setup(const struct supervisor *sup, struct mworker *self,
    int ctl_fd)
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
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != sup->pid)
		_exit(EXIT_OSERR);
	supervise_child_close_fds(self, ctl_fd);
}

static void __attribute__((noreturn))
supervise_child(struct mworker *mw, int ctl_fd, const sigset_t *oldmask)
{
	const struct supervisor	*sup = mw->sup;
	struct worker_spec	 spec;
	char			 role[32];
	int			 held = 0;
	size_t			 i;

	supervise_child_setup(sup, mw, ctl_fd);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	snprintf(role, sizeof(role), "worker %u", mw->id);
	log_procinit(role);
	for (i = 0; i < mw->conf->nlisteners; i++)
		held |= mw->fds[i] >= 0;
	memset(&spec, 0, sizeof(spec));
	spec.id = mw->id;
	spec.cpu = mw->cpu;
	spec.incoming_cpu = mw->incoming_cpu;
	spec.generation = mw->generation;
	spec.conf = mw->conf;
	spec.slot = mw->slot;
	spec.ctl_fd = ctl_fd;
	spec.fds = held ? mw->fds : NULL;
	spec.user = sup->user;
	spec.uid = sup->uid;
	spec.gid = sup->gid;
	spec.drop_privileges = sup->drop_privileges;
	_exit(worker_main(&spec));
}

/*
 * A start failed in the master (out of descriptors, memory or
 * processes): what failed goes to mw->last_text.
 */
static int
supervise_start_failed(struct mworker *mw, const char *what, int error)
{
	snprintf(mw->last_text, sizeof(mw->last_text), "worker %u on CPU %u: "
	    "%s: %s", mw->id, mw->cpu, what, strerror(error));
	return -error;
}

void
supervise_send_go(struct mworker *mw)
{
	int	 r;

	if ((r = wmsg_send(mw->ctl_fd, WMSG_GO, 0, NULL, 0, NULL)) < 0)
		log_warnx("worker %u: sending go: %s", mw->id, strerror(-r));
}

/* Tells a serving worker that it serves mw->cpu from now on. */
void
supervise_send_move(struct mworker *mw)
{
	int	 r;

	if ((r = wmsg_send(mw->ctl_fd, WMSG_MOVE, (int)mw->cpu, NULL, 0,
	    NULL)) < 0)
		log_warnx("worker %u: sending move: %s", mw->id, strerror(-r));
}

/* A READY report: keep the sockets it made (first start only). */
static void
supervise_ready(struct mworker *mw, const struct wmsg *msg, const int *fds)
{
	size_t	 i, k = 0;

	for (i = 0; i < mw->conf->nlisteners; i++) {
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
	    mw->id, (int)mw->pid, mw->generation, mw->cpu);
	if (mw->start_failures > 0)
		log_info("worker %u on CPU %u started after %u failed tries",
		    mw->id, mw->cpu, mw->start_failures);
	mw->start_failures = 0;
	mw->sup->ops->ready(mw, mw->sup->arg);
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
	if (r == -EMFILE) {
		/* Its sockets are lost: a start that failed in the master. */
		supervise_start_failed(mw, "receiving its sockets", EMFILE);
		mw->master_failed = 1;
		supervise_close_ctl(mw);
		kill(mw->pid, SIGKILL);
		return;
	}
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
		/* Logged by the owner, once (a failed reload says it). */
		mw->last_error = msg.status;
		snprintf(mw->last_text, sizeof(mw->last_text), "worker %u on "
		    "CPU %u cannot start: %s", mw->id, mw->cpu, msg.text);
		mw->sup->ops->failed(mw, mw->sup->arg);
		break;
	case WMSG_STOPPED:
		mw->stopped = 1;
		mw->sup->ops->stopped(mw, mw->sup->arg);
		break;
	default:
		log_warnx("worker %u: unexpected message type %u", mw->id,
		    msg.type);
		break;
	}
}

/*
 * Forks mw's process; 0, or -errno with nothing started and the failed
 * step in mw->last_text.
 */
int
supervise_fork(struct mworker *mw)
{
	struct supervisor	*sup = mw->sup;
	sigset_t	 all, old;
	pid_t		 pid;
	int		 sv[2], saved;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return supervise_start_failed(mw, "socketpair", errno);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		supervise_child(mw, sv[1], &old);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid == -1) {
		close(sv[0]);
		return supervise_start_failed(mw, "fork", saved);
	}
	mw->pid = pid;
	LIST_INSERT_HEAD(&sup->live, mw, entry);
	mw->ctl_fd = sv[0];
	mw->state = MW_STARTING;
	mw->started_ns = stats_now_ns();
	mw->last_error = 0;
	mw->master_failed = 0;
	mw->last_text[0] = '\0';
	/* The slot still holds the last beat of a dead predecessor. */
	STATS_SET(mw->slot, heartbeat_ns, 0);
	mw->ctl_ev = event_new(sup->base, sv[0], EV_READ | EV_PERSIST,
	    supervise_ctl_cb, mw);
	if (mw->ctl_ev == NULL || event_add(mw->ctl_ev, NULL) == -1) {
		log_warnx("worker %u: cannot watch its control socket", mw->id);
		kill(pid, SIGKILL);
	}
	return 0;
}

/* 250 ms, doubled for each failure in a row after the first, up to 30 s. */
static unsigned int
supervise_backoff_ms(unsigned int failures)
{
	unsigned int	 ms;

	if (failures == 0)
		return 0;
	if (failures - 1 >= 8)
		return SUPERVISE_BACKOFF_MAX_MS;
	ms = SUPERVISE_BACKOFF_MIN_MS << (failures - 1);
	return ms > SUPERVISE_BACKOFF_MAX_MS ? SUPERVISE_BACKOFF_MAX_MS : ms;
}

static void
supervise_give_up(struct mworker *mw)
{
	if (mw->respawn_ev != NULL)
		evtimer_del(mw->respawn_ev);
	mw->state = MW_GAVE_UP;
	supervise_close_held(mw);
}

static int
supervise_holds(const struct mworker *mw)
{
	size_t	 i;

	for (i = 0; mw->fds != NULL && i < mw->conf->nlisteners; i++)
		if (mw->fds[i] >= 0)
			return 1;
	return 0;
}

/*
 * The sockets the master holds keep a dead worker's accept queue for its
 * next process, but the kernel also keeps steering its CPU's new flows to
 * them, where nobody answers.  So they are held only while that process
 * is due within SUPERVISE_HOLD_NS of the death.  Once closed, the kernel
 * hashes the CPU's flows over the other workers' sockets (and moves the
 * queued connections there with net.ipv4.tcp_migrate_req = 1), and the
 * next process opens fresh sockets.  With tcp_migrate_req = 0 closing
 * resets the queued connections: a worker that keeps dying (sure to be
 * forked again after its back-off) keeps them then, and only a start
 * that failed in the master, with no end in sight, lets go of them.
 */
static void
supervise_hold_or_release(struct mworker *mw, unsigned int ms, int sure)
{
	uint64_t	 due;

	due = stats_now_ns() - mw->down_ns + (uint64_t)ms * 1000000ULL;
	if (due <= SUPERVISE_HOLD_NS || !supervise_holds(mw) ||
	    (sure && listener_migrates() != 1))
		return;
	log_warnx("worker %u on CPU %u cannot be back within %llu ms; closing "
	    "its sockets so the kernel steers its CPU's flows to the other "
	    "workers", mw->id, mw->cpu,
	    (unsigned long long)(SUPERVISE_HOLD_NS / 1000000ULL));
	supervise_close_held(mw);
}

static void	supervise_respawn_cb(evutil_socket_t fd, short what, void *arg);

/*
 * The next start of mw, in ms milliseconds; sure: after a death, not
 * after a start that failed in the master.
 */
static void
supervise_schedule(struct mworker *mw, unsigned int ms, int sure)
{
	struct timeval	 tv;

	supervise_hold_or_release(mw, ms, sure);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (mw->respawn_ev == NULL)
		mw->respawn_ev = evtimer_new(mw->sup->base, supervise_respawn_cb,
		    mw);
	if (mw->respawn_ev == NULL || evtimer_add(mw->respawn_ev, &tv) == -1) {
		log_errorx("worker %u on CPU %u: cannot schedule its respawn; "
		    "giving up on it and closing its sockets so its flows go "
		    "to the other workers", mw->id, mw->cpu);
		supervise_give_up(mw);
	}
}

/*
 * A start that failed in the master is the master's shortage, not the
 * worker's fault: it is retried with back-off for as long as it takes,
 * never given up.
 */
static void
supervise_retry(struct mworker *mw)
{
	unsigned int	 ms;

	ms = supervise_backoff_ms(++mw->start_failures);
	log_errorx("%s; retrying in %u ms", mw->last_text, ms);
	supervise_schedule(mw, ms, 0);
}

static void
supervise_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mworker	*mw = arg;

	/* The owner deletes this timer when the worker may not come back. */
	if (mw->state != MW_DOWN)
		return;
	if (supervise_fork(mw) < 0) {
		supervise_retry(mw);
		return;
	}
	mw->restarts++;
	/* Counted in the slot too, so that its CPU keeps the count. */
	STATS_ADD(mw->slot, restarts, 1);
}

/*
 * The owner wants mw back after its process ended: after a back-off
 * when it keeps dying (or failing to start) soon after starting, and
 * never again after too many such deaths in a row.
 */
void
supervise_respawn(struct mworker *mw, enum mworker_state was)
{
	unsigned int	 ms;

	if (mw->master_failed) {
		mw->master_failed = 0;
		supervise_retry(mw);
		return;
	}
	if (stats_now_ns() - mw->started_ns < SUPERVISE_QUICK_DEATH_NS)
		mw->quick_deaths++;
	else
		mw->quick_deaths = 0;
	if (mw->quick_deaths >= SUPERVISE_MAX_QUICK_DEATHS) {
		log_errorx("worker %u on CPU %u died %u times in a row soon "
		    "after starting; giving up on it and closing its sockets "
		    "so its flows go to the other workers", mw->id, mw->cpu,
		    mw->quick_deaths);
		supervise_give_up(mw);
		return;
	}
	ms = supervise_backoff_ms(mw->quick_deaths);
	log_info("respawning worker %u on CPU %u in %u ms", mw->id, mw->cpu, ms);
	supervise_schedule(mw, ms, 1);
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
supervise_find(struct supervisor *sup, pid_t pid)
{
	struct mworker	*mw;

	LIST_FOREACH(mw, &sup->live, entry)
		if (mw->pid == pid)
			return mw;
	return NULL;
}

static void
supervise_exited(struct mworker *mw, int wstatus)
{
	enum mworker_state	 was = mw->state;

	supervise_log_exit(mw, wstatus);
	supervise_close_ctl(mw);
	LIST_REMOVE(mw, entry);
	mw->pid = 0;
	mw->state = MW_DOWN;
	mw->down_ns = stats_now_ns();
	mw->sup->ops->died(mw, was, mw->sup->arg);
}

/* SIGCHLD: reap every child that ended, and report each. */
void
supervise_reap(struct supervisor *sup)
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
		if ((mw = supervise_find(sup, pid)) == NULL) {
			log_debug("reaped unknown child %d", (int)pid);
			continue;
		}
		supervise_exited(mw, wstatus);
	}
}

static void
supervise_check(struct mworker *mw, uint64_t now)
{
	uint64_t	 beat;

	if (mw->state == MW_STARTING &&
	    now - mw->started_ns > SUPERVISE_START_TIMEOUT_NS) {
		log_errorx("worker %u (pid %d) did not get ready in time; "
		    "killing it", mw->id, (int)mw->pid);
		kill(mw->pid, SIGKILL);
		return;
	}
	if (mw->state != MW_READY)
		return;
	beat = STATS_GET(mw->slot, heartbeat_ns);
	if (beat == 0 || now <= beat || now - beat < SUPERVISE_STALE_NS)
		return;
	mw->sup->ops->stale(mw, now - beat, mw->sup->arg);
}

/* The owner judged mw's heartbeat too old: a new process replaces it. */
void
supervise_replace(struct mworker *mw, uint64_t age_ns)
{
	log_errorx("worker %u (pid %d) on CPU %u: no heartbeat for %.1f s "
	    "(stopped or wedged); replacing it", mw->id, (int)mw->pid,
	    mw->cpu, (double)age_ns / 1e9);
	kill(mw->pid, SIGKILL);
	/* Its heartbeat is judged again only after the respawn. */
	STATS_SET(mw->slot, heartbeat_ns, 0);
}

/* Once a second: start timeouts and stale heartbeats. */
void
supervise_tick(struct supervisor *sup)
{
	struct mworker	*mw;
	uint64_t	 now = stats_now_ns();

	/* Nothing here ends a process at once: the list stays as it is. */
	LIST_FOREACH(mw, &sup->live, entry)
		supervise_check(mw, now);
}

/* Signals mw's process, if any, and cancels a respawn it waits for. */
void
supervise_signal(struct mworker *mw, int sig)
{
	if (mw->pid > 0)
		kill(mw->pid, sig);
	if (mw->respawn_ev)
		evtimer_del(mw->respawn_ev);
}

/* Workers with a process, in every generation. */
size_t
supervise_running(const struct supervisor *sup)
{
	const struct mworker	*mw;
	size_t			 n = 0;

	LIST_FOREACH(mw, &sup->live, entry)
		n++;
	return n;
}
