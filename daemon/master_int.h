/*
 * The master's state, shared by master.c (life cycle, signals, admin) and
 * supervise.c (forking, readiness, respawn, heartbeats).
 */
#ifndef AFFINITYD_MASTER_INT_H
#define AFFINITYD_MASTER_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "stats.h"
#include "util.h"

struct admin;
struct config;
struct event;
struct event_base;
struct master;
struct topology;

enum mworker_state {
	MW_DOWN,		/* not running; a respawn may be scheduled */
	MW_STARTING,		/* forked, not yet ready */
	MW_READY,		/* serving */
	MW_GAVE_UP,		/* failed too often; its sockets are closed */
};

struct mworker {
	struct master		*m;
	unsigned int		 id;
	unsigned int		 cpu;
	const struct strv	*queues;
	struct stats_slot	*slot;
	enum mworker_state	 state;
	pid_t			 pid;
	int			 ctl_fd;
	struct event		*ctl_ev;
	struct event		*respawn_ev;
	int			*fds;		/* held sockets, -1: none */
	unsigned int		 restarts;
	unsigned int		 quick_deaths;	/* in a row, each soon after start */
	uint64_t		 started_ns;
	int			 last_error;	/* exit code a start failure asked for */
};

struct master {
	struct event_base	*base;
	struct config		*conf;
	struct topology		*topo;
	struct mworker		*workers;
	size_t			 nworkers;
	struct stats_segment	 stats;
	struct admin		*admin;
	struct event		*sig_ev[4];
	struct event		*tick_ev;
	struct event		*stop_ev;
	pid_t			 pid;
	int			 starting;	/* the first generation is not up yet */
	int			 stopping;
	int			 exit_status;
	unsigned int		 generation;
	const char		*user;
	uid_t			 uid;
	gid_t			 gid;
	int			 drop_privileges;
};

/* supervise.c */
int	 supervise_start_next(struct master *m);
void	 supervise_reap(struct master *m);
void	 supervise_tick(struct master *m);
void	 supervise_stop_all(struct master *m, int sig);
size_t	 supervise_running(const struct master *m);
void	 supervise_close_held(struct mworker *mw);
void	 supervise_free(struct master *m);

/* master.c */
void	 master_started(struct master *m);
void	 master_fail_start(struct master *m, int status);
void	 master_finish(struct master *m);

#endif
