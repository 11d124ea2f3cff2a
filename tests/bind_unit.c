/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bind.c: the housekeeping CPUs of a plan (and the refusal when there are
 * none), the decision for each task, the housekeeping walk over
 * fabricated /proc trees (kernel threads, pinned tasks, threads, zombies,
 * malformed files), and real binds of a child process's three threads,
 * read back with sched_getaffinity.
 */
#include "acconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "tree.h"

#include "topology/bind.h"
#include "common/cpuset.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

#define CHILD_THREADS	3

static struct cpuset *
list(const char *text)
{
	struct cpuset	*set = NULL;

	assert_int_equal(cpuset_parse_list(text, &set), 0);
	return set;
}

static void
assert_list(const struct cpuset *set, const char *want)
{
	char	*got;

	assert_non_null(set);
	assert_non_null(got = cpuset_format_list(set));
	assert_string_equal(got, want);
	free(got);
}

/* A plan with one worker on each CPU of cpus. */
static struct plan *
plan_of(const char *cpus)
{
	struct plan	*plan;
	struct cpuset	*set = list(cpus);
	int		 cpu;

	assert_non_null(plan = calloc(1, sizeof(*plan)));
	assert_non_null(plan->workers = calloc(cpuset_count(set) + 1,
	    sizeof(*plan->workers)));
	CPUSET_FOREACH(cpu, set) {
		plan->workers[plan->nworkers].id = (unsigned int)plan->nworkers;
		plan->workers[plan->nworkers++].cpu = (unsigned int)cpu;
	}
	cpuset_free(set);
	return plan;
}

static void
test_housekeeping_cpus(void **state)
{
	static const struct {
		const char	*allowed;
		const char	*workers;
		const char	*want;		/* NULL: none left */
	} cases[] = {
		{ "0-15", "2-15", "0-1" },
		{ "0-3", "1,3", "0,2" },
		{ "0-1", "1", "0" },
		/* Excluded CPUs are allowed ones that get no worker. */
		{ "0-7", "4-7", "0-3" },
		{ "0-4095", "0-4093", "4094-4095" },
		{ "0-1", "0-1", NULL },
		{ "3", "3", NULL },
	};
	struct plan	*plan;
	struct cpuset	*allowed, *hk;
	size_t		 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("allowed %s, workers %s\n", cases[i].allowed,
		    cases[i].workers);
		allowed = list(cases[i].allowed);
		plan = plan_of(cases[i].workers);
		hk = NULL;
		if (cases[i].want == NULL) {
			assert_int_equal(bind_housekeeping_cpus(allowed, plan,
			    &hk), -ENOSPC);
			assert_null(hk);
		} else {
			assert_int_equal(bind_housekeeping_cpus(allowed, plan,
			    &hk), 0);
			assert_list(hk, cases[i].want);
		}
		/* The allowed set itself is left as it was. */
		assert_list(allowed, cases[i].allowed);
		cpuset_free(hk);
		cpuset_free(allowed);
		plan_free(plan);
	}
}

static void
test_decide(void **state)
{
	static const struct {
		unsigned long		 flags;
		const char		*from;
		const char		*hk;
		enum bind_action	 want;
		const char		*to;
	} cases[] = {
		{ 0, "0-15", "0-1", BIND_MOVE, "0-1" },
		{ 0, "1-5", "0-1", BIND_MOVE, "1" },
		{ 0, "0,8-9", "0-1,9", BIND_MOVE, "0,9" },
		/* Pinned to worker CPUs only: its choice is kept. */
		{ 0, "2-3", "0-1", BIND_KEPT, NULL },
		{ 0, "7", "0-1", BIND_KEPT, NULL },
		/* Already on housekeeping CPUs only. */
		{ 0, "0-1", "0-1", BIND_UNCHANGED, NULL },
		{ 0, "1", "0-1", BIND_UNCHANGED, NULL },
		/* Kernel threads, bound or not, and fixed-affinity tasks. */
		{ BIND_PF_KTHREAD | 0x8040, "0-15", "0-1", BIND_KTHREAD, NULL },
		{ BIND_PF_KTHREAD | BIND_PF_NO_SETAFFINITY, "5", "0-1",
		    BIND_KTHREAD, NULL },
		{ BIND_PF_NO_SETAFFINITY, "0-15", "0-1", BIND_KTHREAD, NULL },
		/* Beyond one cpu_set_t. */
		{ 0, "0-4095", "4000-4001", BIND_MOVE, "4000-4001" },
	};
	struct bind_task	 task;
	struct cpuset		*hk;
	size_t			 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("flags %#lx, mask %s, housekeeping %s\n",
		    cases[i].flags, cases[i].from, cases[i].hk);
		memset(&task, 0, sizeof(task));
		task.flags = cases[i].flags;
		task.from = list(cases[i].from);
		hk = list(cases[i].hk);
		assert_int_equal(bind_task_decide(&task, hk), 0);
		assert_string_equal(bind_action_name(task.action),
		    bind_action_name(cases[i].want));
		if (cases[i].to != NULL)
			assert_list(task.to, cases[i].to);
		else
			assert_null(task.to);
		assert_list(task.from, cases[i].from);
		bind_task_clear(&task);
		cpuset_free(hk);
	}
}

/* Fabricated /proc trees below a fresh directory per test. */
static void
tree_mkdir(struct tree *t, const char *rel)
{
	char	*path;

	assert_non_null(path = sysroot_path(t->dir, "%s", rel));
	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
}

static void
tree_unlink(struct tree *t, const char *rel)
{
	char	*path;

	assert_non_null(path = sysroot_path(t->dir, "%s", rel));
	assert_int_equal(unlink(path), 0);
	free(path);
}

/* One thread's stat and status files, as the kernel writes them. */
static void
tree_task(struct tree *t, int pid, int tid, const char *comm, char state,
    unsigned long flags, const char *cpus)
{
	char	 rel[64], text[512];

	snprintf(rel, sizeof(rel), "%d/task/%d/stat", pid, tid);
	snprintf(text, sizeof(text), "%d (%s) %c 1 %d %d 0 -1 %lu 120 0 0 0 "
	    "3 4 0 0 20 0 1 0 42 1000 100 18446744073709551615\n", tid, comm,
	    state, pid, pid, flags);
	tree_put(t, rel, text);
	snprintf(rel, sizeof(rel), "%d/task/%d/status", pid, tid);
	snprintf(text, sizeof(text), "Name:\t%s\nState:\t%c\nTgid:\t%d\n"
	    "Pid:\t%d\nCpus_allowed:\tffff\nCpus_allowed_list:\t%s\n"
	    "Mems_allowed_list:\t0\n", comm, state, pid, tid, cpus);
	tree_put(t, rel, text);
}

/* What the callback saw, in order. */
struct seen {
	struct {
		int			 pid;
		int			 tid;
		enum bind_action	 action;
		char			 comm[64];
		char			 to[64];
		char			 why[128];
		int			 error;
	}		 v[64];
	size_t		 n;
};

static void
seen_cb(const struct bind_task *task, void *arg)
{
	struct seen	*s = arg;
	char		*to;

	assert_true(s->n < ARRAY_SIZE(s->v));
	s->v[s->n].pid = (int)task->pid;
	s->v[s->n].tid = (int)task->tid;
	s->v[s->n].action = task->action;
	s->v[s->n].error = task->error;
	snprintf(s->v[s->n].comm, sizeof(s->v[s->n].comm), "%s", task->comm);
	if (task->action == BIND_MOVE && task->to != NULL) {
		assert_non_null(to = cpuset_format_list(task->to));
		snprintf(s->v[s->n].to, sizeof(s->v[s->n].to), "%s", to);
		free(to);
	}
	if (task->action == BIND_UNREADABLE) {
		assert_non_null(task->file);
		assert_non_null(task->why);
		snprintf(s->v[s->n].why, sizeof(s->v[s->n].why), "%s: %s",
		    strstr(task->file, "/task/") ?
		    strrchr(task->file, '/') + 1 : task->file, task->why);
	}
	s->n++;
}

static void
assert_seen(const struct seen *s, size_t i, int pid, int tid,
    enum bind_action action)
{
	assert_true(i < s->n);
	print_message("  %d/%d: %s\n", s->v[i].pid, s->v[i].tid,
	    bind_action_name(s->v[i].action));
	assert_int_equal(s->v[i].pid, pid);
	assert_int_equal(s->v[i].tid, tid);
	assert_string_equal(bind_action_name(s->v[i].action),
	    bind_action_name(action));
}

/* A machine of 4 CPUs whose workers have 2-3: housekeeping 0-1. */
static void
tree_machine(struct tree *t)
{
	tree_task(t, 1, 1, "init", 'S', 0x400100, "0-3");
	tree_task(t, 2, 2, "kthreadd", 'S', 0x208040, "0-3");
	tree_task(t, 3, 3, "ksoftirqd/2", 'S', 0x04208040, "2");
	/* A process with three threads, one pinned, one already bound. */
	tree_task(t, 10, 10, "app", 'S', 0x400000, "0-3");
	tree_task(t, 10, 11, "app-pinned", 'S', 0x400040, "2-3");
	tree_task(t, 10, 12, "app-bound", 'R', 0x400040, "1");
	tree_task(t, 20, 20, "odd) name (x", 'S', 0x400000, "0-1");
	tree_task(t, 30, 30, "defunct", 'Z', 0x400000, "0-3");
	/* Entries that are not tasks, and a process gone meanwhile. */
	tree_put(t, "self", "not a directory\n");
	tree_mkdir(t, "sys");
	tree_mkdir(t, "44");
}

static void
test_walk_fake_proc(void **state)
{
	struct tree		*t = *state;
	struct bind_stats	 st;
	struct cpuset		*hk = list("0-1");
	struct seen		*s;

	assert_non_null(s = calloc(1, sizeof(*s)));
	tree_machine(t);
	assert_int_equal(bind_housekeeping(t->dir, hk, BIND_DRY_RUN, seen_cb,
	    s, &st), 0);
	assert_int_equal(s->n, 8);
	assert_seen(s, 0, 1, 1, BIND_MOVE);
	assert_string_equal(s->v[0].to, "0-1");
	assert_string_equal(s->v[0].comm, "init");
	assert_seen(s, 1, 2, 2, BIND_KTHREAD);
	assert_seen(s, 2, 3, 3, BIND_KTHREAD);
	assert_seen(s, 3, 10, 10, BIND_MOVE);
	assert_seen(s, 4, 10, 11, BIND_KEPT);
	assert_seen(s, 5, 10, 12, BIND_UNCHANGED);
	assert_seen(s, 6, 20, 20, BIND_UNCHANGED);
	assert_string_equal(s->v[6].comm, "odd) name (x");
	assert_seen(s, 7, 30, 30, BIND_GONE);
	assert_int_equal(st.moved, 2);
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.unchanged, 2);
	assert_int_equal(st.kthreads, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.unreadable, 0);
	/* A dry run walks once and changes nothing. */
	assert_int_equal(st.passes, 1);
	cpuset_free(hk);
	free(s);
}

static void
test_walk_malformed(void **state)
{
	static const struct {
		const char	*rel;
		const char	*text;
		const char	*why;
	} cases[] = {
		{ "40/task/40/stat", "garbage\n", "stat: no command name" },
		{ "41/task/41/stat", "", "stat: no command name" },
		{ "42/task/42/stat", "42 (x\n", "stat: no command name" },
		{ "43/task/43/stat", "43 (x) S 1 2\n",
		    "stat: no command name" },
		{ "44/task/44/status", "Name:\tx\n", "status: no "
		    "Cpus_allowed_list line" },
		{ "45/task/45/status", "Cpus_allowed_list:\tbanana\n",
		    "status: Cpus_allowed_list is not a CPU list" },
		{ "46/task/46/status", "Cpus_allowed_list:\t\n",
		    "status: Cpus_allowed_list is not a CPU list" },
		{ "47/task/47/status", "Cpus_allowed_list:\t0-99999999\n",
		    "status: Cpus_allowed_list is not a CPU list" },
	};
	struct tree		*t = *state;
	struct bind_stats	 st;
	struct cpuset		*hk = list("0");
	struct seen		*s;
	size_t			 i;

	assert_non_null(s = calloc(1, sizeof(*s)));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		/* A good task, then the one file broken. */
		tree_task(t, 40 + (int)i, 40 + (int)i, "x", 'S', 0, "0-1");
		tree_put(t, cases[i].rel, cases[i].text);
	}
	/* Files that cannot be read, a task list that cannot be listed. */
	tree_task(t, 48, 48, "x", 'S', 0, "0-1");
	tree_unlink(t, "48/task/48/status");
	tree_mkdir(t, "48/task/48/status");
	tree_put(t, "49/task", "not a directory\n");
	tree_task(t, 50, 50, "fine", 'S', 0, "0-1");
	assert_int_equal(bind_housekeeping(t->dir, hk, BIND_DRY_RUN, seen_cb,
	    s, &st), 0);
	assert_int_equal(s->n, ARRAY_SIZE(cases) + 3);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("%s: %s\n", cases[i].rel, s->v[i].why);
		assert_seen(s, i, 40 + (int)i, 40 + (int)i, BIND_UNREADABLE);
		assert_true(strncmp(s->v[i].why, cases[i].why,
		    strlen(cases[i].why)) == 0);
	}
	assert_seen(s, i, 48, 48, BIND_UNREADABLE);
	assert_string_equal(s->v[i].why, "status: cannot be read");
	assert_int_equal(s->v[i].error, -EISDIR);
	assert_seen(s, ++i, 49, 49, BIND_UNREADABLE);
	assert_non_null(strstr(s->v[i].why, "49/task: cannot be listed"));
	assert_int_equal(s->v[i].error, -ENOTDIR);
	/* The walk went on past them. */
	assert_seen(s, ++i, 50, 50, BIND_MOVE);
	assert_int_equal(st.unreadable, ARRAY_SIZE(cases) + 2);
	assert_int_equal(st.moved, 1);
	cpuset_free(hk);
	free(s);
}

static void
test_walk_missing_proc(void **state)
{
	struct tree		*t = *state;
	struct bind_stats	 st;
	struct cpuset		*hk = list("0");
	char			*gone;

	assert_non_null(gone = sysroot_path(t->dir, "nothing-here"));
	assert_int_equal(bind_housekeeping(gone, hk, 0, NULL, NULL, &st),
	    -ENOENT);
	/* An empty proc root: nothing to do. */
	assert_int_equal(bind_housekeeping(t->dir, hk, 0, NULL, NULL, &st), 0);
	assert_int_equal(st.moved + st.kept + st.unchanged + st.kthreads, 0);
	assert_int_equal(bind_pid(t->dir, 99, hk, NULL, NULL, &st), -ESRCH);
	free(gone);
	cpuset_free(hk);
}

/*
 * A child process with CHILD_THREADS threads that wait until they are
 * killed, or until the test is gone (EOF on the go pipe).
 */
struct child {
	pid_t	 pid;
	pid_t	 tids[CHILD_THREADS];
	int	 go;			/* closing it ends the child */
};

struct child_arg {
	int	 ready;
	int	 go;
};

static void *
child_thread(void *p)
{
	struct child_arg	*a = p;
	pid_t			 tid = gettid();
	char			 c;

	if (write(a->ready, &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	while (read(a->go, &c, 1) > 0)
		;
	_exit(0);
}

static void
child_start(struct child *c)
{
	struct child_arg	 a;
	pthread_t		 th;
	int			 ready[2], go[2], i;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_true((c->pid = fork()) >= 0);
	if (c->pid == 0) {
		close(ready[0]);
		close(go[1]);
		a.ready = ready[1];
		a.go = go[0];
		for (i = 1; i < CHILD_THREADS; i++)
			if (pthread_create(&th, NULL, child_thread, &a) != 0)
				_exit(1);
		child_thread(&a);
	}
	close(ready[1]);
	close(go[0]);
	c->go = go[1];
	for (i = 0; i < CHILD_THREADS; i++)
		assert_int_equal(read(ready[0], &c->tids[i],
		    sizeof(c->tids[i])), sizeof(c->tids[i]));
	close(ready[0]);
}

/*
 * SIGKILL rather than an exit, so that a checker following the fork
 * (valgrind) does not report the forked copy's memory.
 */
static void
child_stop(struct child *c)
{
	int	 status;

	assert_int_equal(kill(c->pid, SIGKILL), 0);
	close(c->go);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Every thread of the child runs on set. */
static void
assert_child_on(const struct child *c, const struct cpuset *set)
{
	struct cpuset	*got;
	int		 i;

	for (i = 0; i < CHILD_THREADS; i++) {
		assert_int_equal(cpuset_get_affinity(c->tids[i], &got), 0);
		assert_true(cpuset_equal(got, set));
		cpuset_free(got);
	}
}

static void
test_bind_pid_threads(void **state)
{
	struct bind_stats	 st;
	struct cpuset		*mine, *first, *last;
	struct seen		*s;
	struct child		 c;

	(void)state;
	assert_non_null(s = calloc(1, sizeof(*s)));
	assert_int_equal(cpuset_get_affinity(0, &mine), 0);
	first = cpuset_new();
	last = cpuset_new();
	assert_int_equal(cpuset_add(first, (unsigned int)cpuset_first(mine)),
	    0);
	assert_int_equal(cpuset_add(last, (unsigned int)cpuset_last(mine)), 0);
	child_start(&c);
	assert_child_on(&c, mine);

	/* To the last CPU, then to the first: each thread follows. */
	assert_int_equal(bind_pid("/proc", c.pid, last, seen_cb, s, &st), 0);
	assert_int_equal(st.moved, CHILD_THREADS);
	assert_int_equal(st.failed, 0);
	assert_child_on(&c, last);
	assert_int_equal(bind_pid("/proc", c.pid, first, NULL, NULL, &st), 0);
	assert_int_equal(st.moved, CHILD_THREADS);
	assert_child_on(&c, first);
	assert_int_equal(s->n, CHILD_THREADS);
	assert_int_equal(s->v[0].tid, (int)c.pid);

	child_stop(&c);
	/* A process that is gone. */
	assert_int_equal(bind_pid("/proc", c.pid, first, NULL, NULL, &st),
	    -ESRCH);
	cpuset_free(mine);
	cpuset_free(first);
	cpuset_free(last);
	free(s);
}

static void
test_bind_pid_refused(void **state)
{
	struct bind_stats	 st;
	struct cpuset		*mine, *nowhere = list("4000");
	struct seen		*s;
	struct child		 c;
	size_t			 i;

	(void)state;
	assert_non_null(s = calloc(1, sizeof(*s)));
	assert_int_equal(cpuset_get_affinity(0, &mine), 0);
	child_start(&c);
	/* CPU 4000 does not exist: every thread refuses, and keeps its mask. */
	assert_int_equal(bind_pid("/proc", c.pid, nowhere, seen_cb, s, &st),
	    0);
	assert_int_equal(st.moved, 0);
	assert_int_equal(st.failed, CHILD_THREADS);
	assert_int_equal(s->n, CHILD_THREADS);
	for (i = 0; i < s->n; i++)
		assert_int_equal(s->v[i].error, -EINVAL);
	assert_child_on(&c, mine);
	child_stop(&c);
	cpuset_free(mine);
	cpuset_free(nowhere);
	free(s);
}

/*
 * The housekeeping walk on a fabricated tree whose tasks are the child's
 * real threads: the mask comes from the tree, the move is real.
 */
static void
test_walk_moves_real_threads(void **state)
{
	struct tree		*t = *state;
	struct bind_stats	 st;
	struct cpuset		*mine, *hk;
	struct child		 c;
	int			 i;

	assert_int_equal(cpuset_get_affinity(0, &mine), 0);
	hk = cpuset_new();
	assert_int_equal(cpuset_add(hk, (unsigned int)cpuset_last(mine)), 0);
	child_start(&c);
	for (i = 0; i < CHILD_THREADS; i++)
		tree_task(t, (int)c.pid, (int)c.tids[i], "child", 'S', 0x400040,
		    "0-1023");
	tree_put(t, "7/task", "not a directory\n");
	assert_int_equal(bind_housekeeping(t->dir, hk, 0, NULL, NULL, &st), 0);
	assert_int_equal(st.moved, CHILD_THREADS);
	assert_int_equal(st.failed, 0);
	/* Reported once, not once per walk. */
	assert_int_equal(st.unreadable, 1);
	/* A second walk looked for tasks started meanwhile, and found none. */
	assert_int_equal(st.passes, 2);
	assert_child_on(&c, hk);
	child_stop(&c);
	cpuset_free(mine);
	cpuset_free(hk);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_housekeeping_cpus),
		cmocka_unit_test(test_decide),
		cmocka_unit_test_setup_teardown(test_walk_fake_proc,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_malformed,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_missing_proc,
		    tree_setup, tree_teardown),
		cmocka_unit_test(test_bind_pid_threads),
		cmocka_unit_test(test_bind_pid_refused),
		cmocka_unit_test_setup_teardown(test_walk_moves_real_threads,
		    tree_setup, tree_teardown),
	};
	struct cpuset		*mine;

	if (cpuset_get_affinity(0, &mine) != 0)
		unit_skip_all("sched_getaffinity refused");
	if (cpuset_set_affinity(0, mine) != 0) {
		cpuset_free(mine);
		unit_skip_all("sched_setaffinity refused");
	}
	cpuset_free(mine);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
