/*
 * The master's state, shared by master.c (life cycle, signals, admin),
 * supervise.c (forking, readiness, respawn, heartbeats) and reload.c (a new
 * generation of workers, then draining the old one).
 */
#ifndef AFFINITYD_MASTER_INT_H
#define AFFINITYD_MASTER_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "stats.h"
#include "util.h"

struct admin;
struct admin_req;
struct config;
struct event;
struct event_base;
struct generation;
struct master;
struct metrics;
struct topology;

enum mworker_state {
	MW_DOWN,		/* not running; a respawn may be scheduled */
	MW_STARTING,		/* forked, not yet ready */
	MW_READY,		/* listening; serving once told to go */
	MW_GAVE_UP,		/* failed too often; its sockets are closed */
};

struct mworker {
	struct generation	*gen;
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
	int			*inherit;	/* 1: fds[i] came from the last generation */
	uint64_t		*cookies;	/* SO_COOKIE of each socket, 0: none */
	unsigned int		 restarts;
	unsigned int		 quick_deaths;	/* in a row, each soon after start */
	uint64_t		 started_ns;
	int			 last_error;	/* exit code a start failure asked for */
	int			 stopped;	/* said it no longer accepts */
	char			 last_text[560];
};

enum gen_state {
	GEN_STARTING,		/* workers forked one by one */
	GEN_ACTIVE,		/* serving */
	GEN_DRAINING,		/* told to stop; gone when its workers are */
	GEN_FAILED,		/* did not start; being torn down */
};

struct generation {
	struct master		*m;
	struct generation	*next;		/* in m->gens, newest first */
	unsigned int		 number;
	enum gen_state		 state;
	struct config		*conf;
	struct topology		*topo;
	struct mworker		*workers;
	size_t			 nworkers;
};

struct master {
	struct event_base	*base;
	struct generation	*gens;		/* newest first */
	struct generation	*active;
	struct generation	*starting;	/* a reload in progress */
	struct stats_segment	 stats;
	unsigned char		*slot_used;
	struct admin		*admin;
	struct metrics		*metrics;	/* NULL: daemon.metrics off */
	struct event		*sig_ev[4];
	struct event		*tick_ev;
	struct event		*stop_ev;
	struct admin_req	*reload_reqs[16];	/* the reload running */
	size_t			 nreload_reqs;
	struct admin_req	*reload_waiting[16];	/* the one after it */
	size_t			 nreload_waiting;
	int			 reload_pending;
	struct generation	*handover;	/* draining; the reload waits for it */
	uint64_t		 handover_ns;
	pid_t			 pid;
	int			 stopping;
	int			 exit_status;
	unsigned int		 last_generation;
	char			*user;
	uid_t			 uid;
	gid_t			 gid;
	int			 drop_privileges;
};

/* supervise.c */
int	 supervise_start_next(struct generation *gen);
void	 supervise_reap(struct master *m);
void	 supervise_tick(struct master *m);
void	 supervise_signal_gen(struct generation *gen, int sig);
size_t	 supervise_running(const struct master *m);
size_t	 supervise_gen_running(const struct generation *gen);
void	 supervise_send_go(struct mworker *mw);
void	 supervise_close_held(struct mworker *mw);

/* generation.c */
struct generation *generation_new(struct master *m, struct config *conf,
	    const struct generation *prev, char **why);
void	 generation_free(struct generation *gen);
void	 generation_release(struct generation *gen);
void	 generation_collect(struct master *m);

/* reload.c */
void	 reload_start(struct master *m, struct admin_req *req);
void	 reload_ready(struct generation *gen);
void	 reload_handover_check(struct master *m);
void	 reload_failed(struct master *m, struct generation *gen,
	    const char *why);

/* master.c */
void	 master_gen_ready(struct generation *gen);
void	 master_gen_failed(struct generation *gen, int status, const char *why);
void	 master_finish(struct master *m);
int	 master_check_ports(struct generation *gen);

#endif
