/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Binding tasks to CPUs.  It owns two walks over a proc root: every thread
 * of one process bound to a set (the classic "bind CPUS PID"), and every
 * thread of every process narrowed to the housekeeping CPUs, which leaves
 * kernel threads and tasks pinned to worker CPUs alone; and the CPUs
 * those walks use, from a configuration's worker plan (bind_plan(), which
 * "bind --housekeeping" and "boot-config" share).  The walks return 0 or
 * a negative errno and log nothing: each task goes to a callback, and the
 * command decides what to print.
 */
#include "acconfig.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/bind.h"
#include "config/config.h"
#include "common/cpuset.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

/*
 * A task forked by a parent that was not moved yet, after the walk went
 * past the slot its PID took, keeps the old mask; so does a thread started
 * by a thread not moved yet.  Walking again until no new task turns up
 * catches them; the bound keeps a machine that forks without pause from
 * holding the walk forever.
 */
#define BIND_MAX_PASSES	3

/* /proc/PID/status is a few kB; a mask of 65536 CPUs fits easily. */
#define BIND_STATUS_MAX	(1024 * 1024)

/* Thread IDs already handled by an earlier pass, sorted. */
struct bind_seen {
	pid_t	*v;
	size_t	 n;
	size_t	 cap;
	size_t	 nsorted;
};

struct bind_ctx {
	const char		*proc;
	const struct cpuset	*hk;	/* housekeeping walk: the target */
	const struct cpuset	*set;	/* bind_pid(): the set to bind to */
	int			 flags;
	bind_task_cb		 cb;
	void			*arg;
	struct bind_stats	*stats;
	struct bind_seen	 seen;
	unsigned int		 found;	/* new tasks in this pass */
};

static int
bind_pid_cmp(const void *a, const void *b)
{
	pid_t	 x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int
bind_seen_has(const struct bind_seen *seen, pid_t tid)
{
	return seen->nsorted > 0 && bsearch(&tid, seen->v, seen->nsorted,
	    sizeof(*seen->v), bind_pid_cmp) != NULL;
}

static int
bind_seen_add(struct bind_seen *seen, pid_t tid)
{
	pid_t	*grown;
	size_t	 cap;

	if (seen->n == seen->cap) {
		cap = seen->cap ? seen->cap * 2 : 256;
		if ((grown = reallocarray(seen->v, cap, sizeof(*grown))) ==
		    NULL)
			return -ENOMEM;
		seen->v = grown;
		seen->cap = cap;
	}
	seen->v[seen->n++] = tid;
	return 0;
}

/* Called between passes: what this pass saw becomes searchable. */
static void
bind_seen_sort(struct bind_seen *seen)
{
	if (seen->n > 1)
		qsort(seen->v, seen->n, sizeof(*seen->v), bind_pid_cmp);
	seen->nsorted = seen->n;
}

/* The numeric entries of dir (PIDs or thread IDs), sorted. */
static int
bind_list_ids(const char *dir, pid_t **idsp, size_t *np)
{
	struct dirent	*de;
	DIR		*d;
	pid_t		*ids = NULL, *grown;
	size_t		 n = 0, cap = 0;
	unsigned int	 id;
	int		 r = 0;

	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (parse_uint(de->d_name, INT_MAX, &id) < 0 || id == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL) {
				r = -ENOMEM;
				break;
			}
			ids = grown;
		}
		ids[n++] = (pid_t)id;
	}
	closedir(d);
	if (r < 0) {
		free(ids);
		return r;
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), bind_pid_cmp);
	*idsp = ids;
	*np = n;
	return 0;
}

/*
 * The housekeeping CPUs: those the daemon may use (its cpuset, with the
 * excluded CPUs) that get no worker.  -ENOSPC when there is none.
 */
int
bind_housekeeping_cpus(const struct cpuset *allowed,
    const struct plan *planned, struct cpuset **hkp)
{
	struct cpuset	*hk;
	size_t		 i;

	if ((hk = cpuset_dup(allowed)) == NULL)
		return -ENOMEM;
	for (i = 0; i < planned->nworkers; i++)
		cpuset_del(hk, planned->workers[i].cpu);
	if (cpuset_empty(hk)) {
		cpuset_free(hk);
		return -ENOSPC;
	}
	*hkp = hk;
	return 0;
}

void
bind_plan_free(struct bind_plan *plan)
{
	cpuset_free(plan->allowed);
	cpuset_free(plan->workers);
	cpuset_free(plan->hk);
	memset(plan, 0, sizeof(*plan));
}

/* *why, or NULL when out of memory; returns status. */
static int PRINTFLIKE(3, 4)
bind_plan_fail(int status, char **why, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) == -1)
		*why = NULL;
	va_end(ap);
	return status;
}

/* The CPUs the daemon may use and their split, once the plan is known. */
static int
bind_plan_cpus(const struct plan *planned, const char *sysroot,
    struct bind_plan *plan, char **why)
{
	char	*list;
	int	 r;

	if ((r = cpuset_allowed(sysroot, &plan->allowed)) < 0)
		return bind_plan_fail(EXIT_OSERR, why, "cannot tell which CPUs "
		    "may be used: %s", read_file_error(r, NULL));
	if ((r = plan_worker_cpus(planned, &plan->workers)) == 0)
		r = bind_housekeeping_cpus(plan->allowed, planned, &plan->hk);
	if (r == -ENOSPC) {
		list = cpuset_format_list(plan->allowed);
		r = bind_plan_fail(EXIT_CONFIG, why, "no housekeeping CPU: "
		    "workers use every allowed CPU (%s); set "
		    "topology.exclude_cpus or topology.workers to leave at "
		    "least one CPU", list ? list : "?");
		free(list);
		return r;
	}
	if (r < 0)
		return bind_plan_fail(EXIT_OSERR, why, "%s", strerror(-r));
	return 0;
}

int
bind_plan(const struct config *conf, const char *sysroot,
    struct bind_plan *plan, char **why)
{
	struct plan	*planned = NULL;
	int		 r;

	memset(plan, 0, sizeof(*plan));
	*why = NULL;
	r = plan_conf_discover(conf, sysroot, NULL, &planned);
	if (planned != NULL)
		plan_conf_log_warnings(planned);
	if (r < 0)
		r = bind_plan_fail(r == -ENODEV ? EXIT_DATAERR : r == -EINVAL ?
		    EXIT_CONFIG : EXIT_OSERR, why, "no worker plan: %s",
		    r == -EINVAL ? "no worker" : read_file_error(r, NULL));
	else
		r = bind_plan_cpus(planned, sysroot, plan, why);
	if (r != 0)
		bind_plan_free(plan);
	plan_free(planned);
	return r;
}

/* Marks a task unreadable: file names what was wrong, why says how. */
static int
bind_task_unreadable(struct bind_task *task, char *file, const char *why,
    int error)
{
	task->action = BIND_UNREADABLE;
	task->file = file;
	task->why = why;
	task->error = error;
	return -EINVAL;
}

/* Command name, state and flags from the stat line. */
static int
bind_task_parse_stat(struct bind_task *task, const char *text)
{
	const char	*lp, *rp;
	size_t		 len;

	if ((lp = strchr(text, '(')) == NULL ||
	    (rp = strrchr(text, ')')) == NULL || rp < lp)
		return -1;
	len = (size_t)(rp - lp - 1);
	if (len >= sizeof(task->comm))
		len = sizeof(task->comm) - 1;
	memcpy(task->comm, lp + 1, len);
	task->comm[len] = '\0';
	/* state ppid pgrp session tty_nr tpgid flags (proc(5)) */
	if (sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %lu", &task->state,
	    &task->flags) != 2)
		return -1;
	return 0;
}

/* The Cpus_allowed_list line of a status file. */
static int
bind_task_parse_status(struct bind_task *task, const char *text,
    const char **why)
{
	static const char	 key[] = "Cpus_allowed_list:";
	const char		*p;
	char			*list;
	size_t			 len;
	int			 r;

	for (p = text; p != NULL; p = (p = strchr(p, '\n')) ? p + 1 : NULL)
		if (strncmp(p, key, sizeof(key) - 1) == 0)
			break;
	if (p == NULL) {
		*why = "no Cpus_allowed_list line";
		return -EINVAL;
	}
	p += sizeof(key) - 1;
	p += strspn(p, " \t");
	len = strcspn(p, "\n");
	if ((list = strndup(p, len)) == NULL)
		return -ENOMEM;
	r = cpuset_parse_list(list, &task->from);
	free(list);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && !cpuset_empty(task->from))
		return 0;
	*why = "Cpus_allowed_list is not a CPU list";
	return -EINVAL;
}

/*
 * Reads proc/PID/task/TID/name; the task is gone when the file is.  On
 * success the caller owns *path and *text.
 */
static int
bind_task_file(const char *proc, struct bind_task *task, const char *name,
    char **path, char **text)
{
	int	 r;

	if ((*path = sysroot_path(proc, "%d/task/%d/%s", (int)task->pid,
	    (int)task->tid, name)) == NULL)
		return -ENOMEM;
	if ((r = read_file(*path, text, BIND_STATUS_MAX)) == 0)
		return 0;
	if (r == -ENOENT || r == -ESRCH || r == -ENOMEM) {
		free(*path);
		return r == -ENOMEM ? r : -ESRCH;
	}
	return bind_task_unreadable(task, *path, "cannot be read", r);
}

/*
 * Reads one thread's command name, flags and mask below proc.  Returns 0,
 * -ESRCH when it is gone (or a zombie), -EINVAL when its files make no
 * sense (task->file and task->why say which and how), or -ENOMEM.
 */
int
bind_task_read(const char *proc, pid_t pid, pid_t tid,
    struct bind_task *task)
{
	const char	*why = NULL;
	char		*path, *text;
	int		 r;

	memset(task, 0, sizeof(*task));
	task->pid = pid;
	task->tid = tid;
	task->action = BIND_GONE;
	if ((r = bind_task_file(proc, task, "stat", &path, &text)) < 0)
		return r;
	r = bind_task_parse_stat(task, text);
	free(text);
	if (r < 0)
		return bind_task_unreadable(task, path, "no command name, "
		    "state and flags fields", 0);
	free(path);
	if (task->state == 'Z' || task->state == 'X')
		return -ESRCH;
	if ((r = bind_task_file(proc, task, "status", &path, &text)) < 0)
		return r;
	r = bind_task_parse_status(task, text, &why);
	free(text);
	if (r == -EINVAL)
		return bind_task_unreadable(task, path, why, 0);
	free(path);
	return r;
}

/*
 * Decides what the housekeeping bind does with a task read by
 * bind_task_read(): its mask intersected with the housekeeping CPUs,
 * unless it is a kernel thread, or that leaves nothing (it was pinned to
 * worker CPUs on purpose), or changes nothing.
 */
int
bind_task_decide(struct bind_task *task, const struct cpuset *hk)
{
	struct cpuset	*to;

	if (task->flags & (BIND_PF_KTHREAD | BIND_PF_NO_SETAFFINITY)) {
		task->action = BIND_KTHREAD;
		return 0;
	}
	if ((to = cpuset_dup(task->from)) == NULL)
		return -ENOMEM;
	cpuset_and(to, hk);
	if (cpuset_empty(to))
		task->action = BIND_KEPT;
	else if (cpuset_equal(to, task->from))
		task->action = BIND_UNCHANGED;
	else {
		task->action = BIND_MOVE;
		task->to = to;
		return 0;
	}
	cpuset_free(to);
	return 0;
}

void
bind_task_clear(struct bind_task *task)
{
	cpuset_free(task->from);
	cpuset_free(task->to);
	free(task->file);
	task->from = task->to = NULL;
	task->file = NULL;
}

/* Sets the new mask unless this is a dry run, then counts and reports. */
static void
bind_task_done(struct bind_ctx *ctx, struct bind_task *task)
{
	struct bind_stats	*stats = ctx->stats;

	if (task->action == BIND_MOVE && !(ctx->flags & BIND_DRY_RUN)) {
		task->error = cpuset_set_affinity(task->tid, task->to);
		if (task->error == -ESRCH)
			task->action = BIND_GONE;
	}
	switch (task->action) {
	case BIND_MOVE:
		if (task->error < 0)
			stats->failed++;
		else
			stats->moved++;
		break;
	case BIND_UNCHANGED:
		stats->unchanged++;
		break;
	case BIND_KEPT:
		stats->kept++;
		break;
	case BIND_KTHREAD:
		stats->kthreads++;
		break;
	case BIND_UNREADABLE:
		stats->unreadable++;
		break;
	case BIND_GONE:
		break;
	}
	if (ctx->cb != NULL)
		ctx->cb(task, ctx->arg);
}

/* One thread: read and decided (housekeeping) or bound to ctx->set. */
static int
bind_one(struct bind_ctx *ctx, pid_t pid, pid_t tid)
{
	struct bind_task	 task;
	int			 r = 0;

	if (ctx->set != NULL) {
		memset(&task, 0, sizeof(task));
		task.pid = pid;
		task.tid = tid;
		task.action = BIND_MOVE;
		if ((task.to = cpuset_dup(ctx->set)) == NULL)
			return -ENOMEM;
	} else if ((r = bind_task_read(ctx->proc, pid, tid, &task)) == 0)
		r = bind_task_decide(&task, ctx->hk);
	if (r == -ENOMEM) {
		bind_task_clear(&task);
		return r;
	}
	bind_task_done(ctx, &task);
	bind_task_clear(&task);
	return 0;
}

/* Reports a task directory that cannot be listed, once, not every pass. */
static int
bind_walk_unlisted(struct bind_ctx *ctx, pid_t pid, char *dir, int error)
{
	struct bind_task	 task;
	int			 r = 0;

	if (bind_seen_has(&ctx->seen, pid) ||
	    (r = bind_seen_add(&ctx->seen, pid)) < 0) {
		free(dir);
		return r;
	}
	memset(&task, 0, sizeof(task));
	task.pid = task.tid = pid;
	bind_task_unreadable(&task, dir, "cannot be listed", error);
	bind_task_done(ctx, &task);
	bind_task_clear(&task);
	return 0;
}

/*
 * Every thread of pid not handled by an earlier pass.  -ESRCH when the
 * process is gone; a task directory that cannot be listed otherwise is
 * reported as an unreadable task.
 */
static int
bind_walk_process(struct bind_ctx *ctx, pid_t pid)
{
	pid_t			*tids = NULL;
	size_t			 i, n = 0;
	char			*dir;
	int			 r;

	if ((dir = sysroot_path(ctx->proc, "%d/task", (int)pid)) == NULL)
		return -ENOMEM;
	if ((r = bind_list_ids(dir, &tids, &n)) < 0) {
		if (r == -ENOENT || r == -ESRCH || r == -ENOMEM) {
			free(dir);
			return r == -ENOMEM ? r : -ESRCH;
		}
		return bind_walk_unlisted(ctx, pid, dir, r);
	}
	free(dir);
	for (i = 0, r = 0; i < n && r == 0; i++) {
		if (bind_seen_has(&ctx->seen, tids[i]))
			continue;
		if ((r = bind_seen_add(&ctx->seen, tids[i])) == 0)
			r = bind_one(ctx, pid, tids[i]);
		ctx->found++;
	}
	free(tids);
	return r;
}

/* One walk over every process below proc. */
static int
bind_walk_all(struct bind_ctx *ctx)
{
	pid_t	*pids;
	size_t	 i, n;
	int	 r;

	if ((r = bind_list_ids(ctx->proc, &pids, &n)) < 0)
		return r;
	for (i = 0, r = 0; i < n && (r == 0 || r == -ESRCH); i++)
		r = bind_walk_process(ctx, pids[i]);
	free(pids);
	return r == -ESRCH ? 0 : r;
}

/*
 * Narrows every task below proc (a PID namespace's /proc, or a fixture
 * tree) to the housekeeping CPUs hk, as bind_task_decide() says; with
 * BIND_DRY_RUN it only decides.  cb sees every task.  Returns 0, or
 * -errno when proc cannot be listed or memory ran out.
 */
int
bind_housekeeping(const char *proc, const struct cpuset *hk, int flags,
    bind_task_cb cb, void *arg, struct bind_stats *stats)
{
	struct bind_ctx	 ctx;
	int		 r;

	memset(stats, 0, sizeof(*stats));
	memset(&ctx, 0, sizeof(ctx));
	ctx.proc = proc;
	ctx.hk = hk;
	ctx.flags = flags;
	ctx.cb = cb;
	ctx.arg = arg;
	ctx.stats = stats;
	do {
		ctx.found = 0;
		stats->passes++;
		if ((r = bind_walk_all(&ctx)) < 0)
			break;
		bind_seen_sort(&ctx.seen);
	} while (!(flags & BIND_DRY_RUN) && ctx.found > 0 &&
	    stats->passes < BIND_MAX_PASSES);
	free(ctx.seen.v);
	return r;
}

/*
 * Binds every thread of pid to set; cb sees each one (action BIND_MOVE
 * with its error, or BIND_GONE).  Returns 0, -ESRCH when there is no
 * such process below proc, or -ENOMEM.
 */
int
bind_pid(const char *proc, pid_t pid, const struct cpuset *set,
    bind_task_cb cb, void *arg, struct bind_stats *stats)
{
	struct bind_ctx	 ctx;
	int		 r;

	memset(stats, 0, sizeof(*stats));
	memset(&ctx, 0, sizeof(ctx));
	ctx.proc = proc;
	ctx.set = set;
	ctx.cb = cb;
	ctx.arg = arg;
	ctx.stats = stats;
	do {
		ctx.found = 0;
		stats->passes++;
		if ((r = bind_walk_process(&ctx, pid)) < 0)
			break;
		bind_seen_sort(&ctx.seen);
	} while (ctx.found > 0 && stats->passes < BIND_MAX_PASSES);
	if (r == -ESRCH && stats->passes > 1)
		r = 0;		/* it was bound, then it exited */
	if (r == 0 && stats->moved + stats->failed == 0)
		r = -ESRCH;	/* every thread exited meanwhile */
	free(ctx.seen.v);
	return r;
}

const char *
bind_action_name(enum bind_action action)
{
	switch (action) {
	case BIND_MOVE:
		return "move";
	case BIND_UNCHANGED:
		return "unchanged";
	case BIND_KEPT:
		return "kept";
	case BIND_KTHREAD:
		return "kernel thread";
	case BIND_GONE:
		return "gone";
	case BIND_UNREADABLE:
		return "unreadable";
	}
	return "unknown";
}
