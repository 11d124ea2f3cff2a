/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Binding tasks to CPUs: every thread of a process, and the housekeeping
 * bind that narrows every movable task to the CPUs that get no worker.
 * Tasks are found below a proc root ("/proc", or a fixture tree).
 */
#ifndef AFFINITYD_BIND_H
#define AFFINITYD_BIND_H

#include <sys/types.h>

struct config;
struct cpuset;
struct plan;

/* The CPUs of a worker plan, as the boot binding sees them. */
struct bind_plan {
	struct cpuset	*allowed;	/* the cpuset's CPUs, excluded ones too */
	struct cpuset	*workers;	/* the CPUs that get a worker */
	struct cpuset	*hk;		/* allowed minus workers, never empty */
};

/* Task flags from /proc/PID/stat (include/linux/sched.h). */
#define BIND_PF_KTHREAD		0x00200000UL
#define BIND_PF_NO_SETAFFINITY	0x04000000UL

/* bind_housekeeping() flags. */
#define BIND_DRY_RUN		0x1

enum bind_action {
	BIND_MOVE,		/* narrowed to the housekeeping CPUs (or bound) */
	BIND_UNCHANGED,		/* already on housekeeping CPUs only */
	BIND_KEPT,		/* on worker CPUs only, on purpose: left alone */
	BIND_KTHREAD,		/* a kernel thread or fixed-affinity task */
	BIND_GONE,		/* exited while it was looked at */
	BIND_UNREADABLE,	/* its /proc files make no sense: skipped */
};

struct bind_task {
	pid_t			 pid;		/* its process */
	pid_t			 tid;
	char			 comm[64];
	char			 state;
	unsigned long		 flags;
	struct cpuset		*from;		/* its mask as read */
	struct cpuset		*to;		/* BIND_MOVE: the new mask */
	enum bind_action	 action;
	int			 error;		/* BIND_MOVE: 0 or -errno */
	char			*file;		/* BIND_UNREADABLE: the file */
	const char		*why;		/* BIND_UNREADABLE: what is wrong */
};

struct bind_stats {
	unsigned int	 moved;		/* tasks given a new mask */
	unsigned int	 unchanged;
	unsigned int	 kept;
	unsigned int	 kthreads;
	unsigned int	 failed;	/* setting the mask failed */
	unsigned int	 unreadable;
	unsigned int	 passes;	/* walks over the task list */
};

/* Called once per task looked at, after the decision (and the move). */
typedef void	(*bind_task_cb)(const struct bind_task *task, void *arg);

/*
 * bind.c
 *
 * bind_plan() discovers conf's worker plan below sysroot (logging its
 * warnings) and fills plan with its CPUs.  It returns 0, or an exit
 * status (sysexits) with *why saying what went wrong in one line
 * (malloc'd; NULL when out of memory) and plan empty.
 */
int	 bind_plan(const struct config *conf, const char *sysroot,
	    struct bind_plan *plan, char **why);
void	 bind_plan_free(struct bind_plan *plan);
int	 bind_housekeeping_cpus(const struct cpuset *allowed,
	    const struct plan *planned, struct cpuset **hk);
int	 bind_task_read(const char *proc, pid_t pid, pid_t tid,
	    struct bind_task *task);
int	 bind_task_decide(struct bind_task *task, const struct cpuset *hk);
void	 bind_task_clear(struct bind_task *task);
int	 bind_housekeeping(const char *proc, const struct cpuset *hk,
	    int flags, bind_task_cb cb, void *arg, struct bind_stats *stats);
int	 bind_pid(const char *proc, pid_t pid, const struct cpuset *set,
	    bind_task_cb cb, void *arg, struct bind_stats *stats);
const char *bind_action_name(enum bind_action action);

#endif
