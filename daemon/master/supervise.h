/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker processes as the master sees them: forking one, reading its
 * reports, respawning it, and judging its heartbeat.  What a report means
 * is for the owner to decide: supervise.c tells it through the ops it was
 * given and acts only when the owner calls back down.
 */
#ifndef AFFINITYD_SUPERVISE_H
#define AFFINITYD_SUPERVISE_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

struct config;
struct event;
struct event_base;
struct mworker;
struct stats_slot;
struct strv;

enum mworker_state {
	MW_DOWN,		/* not running; a respawn may be scheduled */
	MW_STARTING,		/* forked, not yet ready */
	MW_READY,		/* listening; serving once told to go */
	MW_GAVE_UP,		/* failed too often; its sockets are closed */
};

/*
 * What happened to a worker.  Each is called from the master's loop, last
 * in the function that saw the event, so the owner may free the worker
 * (once its process is gone) before returning.
 */
struct supervise_ops {
	/* It listens and handed over its sockets; it waits for "go". */
	void	(*ready)(struct mworker *mw, void *arg);
	/*
	 * It said it cannot start (mw->last_error, mw->last_text, which the
	 * owner logs).
	 */
	void	(*failed)(struct mworker *mw, void *arg);
	/* It stopped accepting and drains (mw->stopped is set). */
	void	(*stopped)(struct mworker *mw, void *arg);
	/* Its process ended; was is the state it was in. */
	void	(*died)(struct mworker *mw, enum mworker_state was, void *arg);
	/* A ready worker's heartbeat is age_ns old. */
	void	(*stale)(struct mworker *mw, uint64_t age_ns, void *arg);
};

/* What every worker the master forks shares. */
struct supervisor {
	struct event_base		*base;
	pid_t				 pid;		/* the master's */
	const char			*user;		/* daemon.user, when dropping */
	uid_t				 uid;
	gid_t				 gid;
	int				 drop_privileges;
	const struct supervise_ops	*ops;
	void				*arg;
	LIST_HEAD(, mworker)		 live;		/* with a process */
};

struct mworker {
	struct supervisor	*sup;
	void			*owner;		/* the owner's; not read here */
	const struct config	*conf;
	unsigned int		 generation;
	unsigned int		 id;
	unsigned int		 cpu;
	const struct strv	*queues;
	struct stats_slot	*slot;
	int			 incoming_cpu;	/* its new sockets get SO_INCOMING_CPU */
	int			 retired;	/* re-mapped away: drains, not respawned */
	enum mworker_state	 state;
	pid_t			 pid;
	int			 ctl_fd;
	struct event		*ctl_ev;
	struct event		*respawn_ev;
	int			*fds;		/* held sockets, -1: none */
	int			*inherit;	/* 1: fds[i] came from the last generation */
	uint64_t		*cookies;	/* SO_COOKIE of each socket, 0: none */
	unsigned int		 restarts;
	unsigned int		 quick_deaths;	/* in a row, each soon after start */
	unsigned int		 start_failures; /* in a row, in the master */
	uint64_t		 started_ns;
	uint64_t		 down_ns;	/* when its last process ended */
	int			 last_error;	/* exit code a start failure asked for */
	int			 stopped;	/* said it no longer accepts */
	int			 master_failed;	/* its start failed in the master */
	char			 last_text[560];
	LIST_ENTRY(mworker)	 entry;		/* in sup->live while pid > 0 */
};

/* supervise.c */
int	 supervise_worker_init(struct mworker *mw, struct supervisor *sup,
	    const struct config *conf);
void	 supervise_worker_clear(struct mworker *mw);
int	 supervise_fork(struct mworker *mw);
void	 supervise_send_go(struct mworker *mw);
void	 supervise_send_move(struct mworker *mw);
void	 supervise_signal(struct mworker *mw, int sig);
void	 supervise_respawn(struct mworker *mw, enum mworker_state was);
void	 supervise_replace(struct mworker *mw, uint64_t age_ns);
void	 supervise_close_held(struct mworker *mw);
void	 supervise_reap(struct supervisor *sup);
void	 supervise_tick(struct supervisor *sup);
size_t	 supervise_running(const struct supervisor *sup);

#endif
