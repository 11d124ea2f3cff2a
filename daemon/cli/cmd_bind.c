/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * "affinityd bind": binds every thread of processes to CPUs, or with
 * --housekeeping narrows every movable task to the CPUs that get no
 * worker (topology/bind.c's bind_plan() gives them).
 */
#include "acconfig.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/affinityd.h"
#include "topology/bind.h"
#include "config/config.h"
#include "common/cpuset.h"
#include "common/log.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

struct cmd_bind_opts {
	int		 verbose;
	int		 dry_run;
	const char	*cpus;		/* the target set, formatted */
	unsigned int	 refused;	/* moves the kernel did not allow */
};

/*
 * The exit status for failed moves: 77 when the kernel refused them all
 * (EPERM: another user's task), as status and doctor say a refusal.
 */
static int
cmd_bind_failed_status(const struct cmd_bind_opts *opts,
    unsigned int failed)
{
	return opts->refused == failed ? EXIT_NOPERM : EXIT_OSERR;
}

/* The status of several PIDs: one failure's, or 71 when they differ. */
static int
cmd_bind_worse(int status, int next)
{
	if (status == 0 || status == next)
		return next;
	return EXIT_OSERR;
}

/* Counts a move the kernel refused for lack of permission. */
static void
cmd_bind_count_refusal(struct cmd_bind_opts *opts, int error)
{
	if (error == -EPERM || error == -EACCES)
		opts->refused++;
}

static void
cmd_bind_usage(FILE *out)
{
	fprintf(out,
	    "usage: affinityd bind CPUS PID ...\n"
	    "       affinityd bind --housekeeping [-c FILE] [-n] [-v]\n"
	    "\n"
	    "Binds every thread of each PID to CPUS, a CPU list (\"0-3,8\") or\n"
	    "a hex mask of any size (\"0xff\").\n"
	    "\n"
	    "With --housekeeping, narrows init and every task that may move to\n"
	    "the CPUs that get no worker in FILE's worker plan (the housekeeping\n"
	    "CPUs): each task's mask is intersected with them, so a task pinned\n"
	    "to worker CPUs keeps its choice; kernel threads are skipped.\n"
	    "\n"
	    "  --housekeeping      bind the system to the housekeeping CPUs\n"
	    "  -c, --config FILE   the configuration whose plan decides\n"
	    "  -n, --dry-run       print what would be done; change nothing\n"
	    "  -v, --verbose       print every task moved or kept\n");
}

/*
 * Loads FILE (or the defaults) and fills plan with the boot binding's
 * CPUs, saying what went wrong as command cmd; 0 or an exit status.
 */
int
cmd_bind_load_plan(const char *cmd, const char *path, const char *sysroot,
    struct bind_plan *plan)
{
	struct config	*conf = NULL;
	char		*why = NULL;
	int		 r;

	memset(plan, 0, sizeof(*plan));
	if ((r = cmd_sysroot_check(cmd, sysroot, EXIT_NOINPUT)) != 0 ||
	    (r = cmd_config_load(path, &conf)) != 0)
		return r;
	if ((r = bind_plan(conf, sysroot, plan, &why)) != 0)
		log_cmd_error("affinityd: %s: %s", cmd,
		    why != NULL ? why : strerror(ENOMEM));
	free(why);
	config_free(conf);
	return r;
}

/* Prints a thread that could not be bound. */
static void
cmd_bind_pid_cb(const struct bind_task *task, void *arg)
{
	struct cmd_bind_opts	*opts = arg;

	if (task->action != BIND_MOVE || task->error == 0)
		return;
	cmd_bind_count_refusal(opts, task->error);
	if (task->error == -EINVAL)
		log_cmd_error("affinityd: bind: pid %d tid %d: %s (no CPU "
		    "of %s that it may run on: offline, or outside its "
		    "cpuset)", (int)task->pid, (int)task->tid,
		    strerror(-task->error), opts->cpus);
	else
		log_cmd_error("affinityd: bind: pid %d tid %d: %s",
		    (int)task->pid, (int)task->tid, strerror(-task->error));
}

/* "bind CPUS PID ...": every PID is checked before any is bound. */
static int
cmd_bind_pids(int argc, char *argv[], struct cmd_bind_opts *opts)
{
	struct bind_stats	 stats;
	struct cpuset		*set = NULL;
	unsigned int		 pid;
	char			*list = NULL;
	int			 i, r, status = 0;

	if (argc < 2) {
		if (argc == 0)
			log_cmd_error("affinityd: bind: what to bind is "
			    "missing: CPUS and a PID (\"affinityd bind 0-1 "
			    "1234\"), or --housekeeping");
		else
			log_cmd_error("affinityd: bind: the PID is missing: "
			    "which process to bind to CPUs %s (\"affinityd "
			    "bind %s PID ...\")", argv[0], argv[0]);
		log_cmd_error("\"affinityd bind --help\" says more");
		return EXIT_USAGE;
	}
	r = cpuset_parse(argv[0], &set);
	if (r == -ENOMEM)
		return EXIT_OSERR;
	if (r < 0 || cpuset_empty(set)) {
		log_cmd_error("affinityd: bind: \"%s\" is not a CPU list "
		    "(\"0-3,8\") or a hex mask (\"0xff\") naming a CPU",
		    argv[0]);
		cpuset_free(set);
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		if (parse_uint(argv[i], INT_MAX, &pid) < 0 || pid == 0) {
			log_cmd_error("affinityd: bind: \"%s\" is not a "
			    "process ID", argv[i]);
			cpuset_free(set);
			return EXIT_USAGE;
		}
	}
	if ((list = cpuset_format_list(set)) == NULL) {
		cpuset_free(set);
		return EXIT_OSERR;
	}
	opts->cpus = list;
	for (i = 1; i < argc; i++) {
		(void)parse_uint(argv[i], INT_MAX, &pid);
		opts->refused = 0;
		r = bind_pid("/proc", (pid_t)pid, set, cmd_bind_pid_cb, opts,
		    &stats);
		if (r < 0) {
			log_cmd_error("affinityd: bind: pid %u: %s", pid,
			    strerror(-r));
			status = cmd_bind_worse(status, EXIT_OSERR);
			continue;
		}
		if (stats.failed > 0)
			status = cmd_bind_worse(status,
			    cmd_bind_failed_status(opts, stats.failed));
		if (stats.moved > 0)
			printf("pid %u: %u thread%s bound to %s\n", pid,
			    stats.moved, stats.moved == 1 ? "" : "s", list);
	}
	free(list);
	cpuset_free(set);
	return status;
}

/* Prints a task of the housekeeping walk, as verbose or errors ask. */
static void
cmd_bind_task_cb(const struct bind_task *task, void *arg)
{
	struct cmd_bind_opts	*opts = arg;
	char			*from = NULL, *to = NULL;

	switch (task->action) {
	case BIND_UNREADABLE:
		log_cmd_error("affinityd: bind: %s: %s%s%s, skipped",
		    task->file ? task->file : "?", task->why,
		    task->error ? ": " : "",
		    task->error ? strerror(-task->error) : "");
		return;
	case BIND_MOVE:
	case BIND_KEPT:
		break;
	default:
		return;
	}
	from = cpuset_format_list(task->from);
	if (task->action == BIND_MOVE)
		to = cpuset_format_list(task->to);
	if (task->action == BIND_MOVE && task->error < 0)
		cmd_bind_count_refusal(opts, task->error);
	if (task->action == BIND_MOVE && task->error < 0)
		log_cmd_error("affinityd: bind: pid %d tid %d (%s): %s",
		    (int)task->pid, (int)task->tid, task->comm,
		    strerror(-task->error));
	else if (task->action == BIND_MOVE && opts->verbose)
		printf("pid %d tid %d (%s): %s -> %s\n", (int)task->pid,
		    (int)task->tid, task->comm, from ? from : "?",
		    to ? to : "?");
	else if (task->action == BIND_KEPT && opts->verbose)
		printf("pid %d tid %d (%s): kept on %s, pinned to worker "
		    "CPUs\n", (int)task->pid, (int)task->tid, task->comm,
		    from ? from : "?");
	free(from);
	free(to);
}

static int
cmd_bind_housekeeping(const char *path, struct cmd_bind_opts *opts)
{
	struct bind_plan	 plan;
	struct bind_stats	 st;
	const char		*would;
	char			*list;
	int			 r;

	if ((r = cmd_bind_load_plan("bind", path, NULL, &plan)) != 0)
		return r;
	if ((list = cpuset_format_list(plan.hk)) == NULL) {
		bind_plan_free(&plan);
		return EXIT_OSERR;
	}
	opts->cpus = list;
	r = bind_housekeeping("/proc", plan.hk, opts->dry_run ? BIND_DRY_RUN :
	    0, cmd_bind_task_cb, opts, &st);
	if (r < 0) {
		log_cmd_error("affinityd: bind: /proc: %s", strerror(-r));
		r = EXIT_OSERR;
		goto out;
	}
	would = opts->dry_run ? "would " : "";
	printf("%s%s %u task%s to CPUs %s; %s%s %u pinned elsewhere; "
	    "%s%s %u kernel thread%s", would, opts->dry_run ? "move" : "moved",
	    st.moved, st.moved == 1 ? "" : "s", list, would,
	    opts->dry_run ? "keep" : "kept", st.kept, would,
	    opts->dry_run ? "skip" : "skipped", st.kthreads,
	    st.kthreads == 1 ? "" : "s");
	if (st.failed > 0)
		printf("; %u failed", st.failed);
	if (st.unreadable > 0)
		printf("; %u unreadable", st.unreadable);
	printf("\n");
	r = st.failed > 0 ? cmd_bind_failed_status(opts, st.failed) : 0;
out:
	free(list);
	bind_plan_free(&plan);
	return r;
}

int
cmd_bind(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "housekeeping", no_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_bind_opts	 opts = { 0 };
	const char		*path = NULL;
	int			 ch, housekeeping = 0;

	while ((ch = getopt_long(argc, argv, "+c:hnv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			cmd_bind_usage(stdout);
			return 0;
		case 'H':
			housekeeping = 1;
			break;
		case 'n':
			opts.dry_run = opts.verbose = 1;
			break;
		case 'v':
			opts.verbose = 1;
			break;
		default:
			cmd_bind_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (housekeeping) {
		if (argc > 0) {
			log_cmd_error("affinityd: bind: --housekeeping "
			    "takes no CPUS or PID");
			return EXIT_USAGE;
		}
		return cmd_bind_housekeeping(path, &opts);
	}
	if (path != NULL || opts.dry_run) {
		log_cmd_error("affinityd: bind: -c and --dry-run go with "
		    "--housekeeping");
		return EXIT_USAGE;
	}
	return cmd_bind_pids(argc, argv, &opts);
}
