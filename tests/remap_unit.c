/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of remap.c: which workers a re-discovered plan keeps, moves,
 * starts and drains, and the line the master logs about it.
 */
#include "acconfig.h"

#include <string.h>

#include "unit.h"

#include "master/remap.h"
#include "topology/plan.h"
#include "common/util.h"

/* A plan from "CPU:queue,queue CPU:..." (queues may be empty). */
static struct plan *
plan(const char *text)
{
	struct plan	*t;
	char		*copy, *tok, *save = NULL, *q, *qsave = NULL, *colon;

	assert_non_null(t = calloc(1, sizeof(*t)));
	assert_non_null(t->workers = calloc(16, sizeof(*t->workers)));
	assert_non_null(copy = strdup(text));
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		struct plan_worker *w = &t->workers[t->nworkers];

		w->id = (unsigned int)t->nworkers++;
		w->cpu = (unsigned int)strtoul(tok, &colon, 10);
		if (*colon != ':')
			continue;
		for (q = strtok_r(colon + 1, ",", &qsave); q != NULL;
		    q = strtok_r(NULL, ",", &qsave))
			assert_int_equal(strv_add(&w->queues, q), 0);
	}
	free(copy);
	return t;
}

/* Runs remap_plan and returns its description. */
static char *
diff(const char *a, const char *b, struct remap *rm)
{
	struct plan	*old = plan(a), *new = plan(b);
	char		*s;

	assert_int_equal(remap_plan(old, new, rm), 0);
	assert_non_null(s = remap_describe(rm, old, new));
	plan_free(old);
	plan_free(new);
	return s;
}

static void
test_nothing(void **state)
{
	struct remap	 rm;
	char		*s;

	(void)state;
	s = diff("0:eth0:0 1:eth0:1", "0:eth0:0 1:eth0:1", &rm);
	assert_int_equal(rm.nchanged, 0);
	assert_int_equal(rm.queues_changed, 0);
	assert_int_equal(rm.nsteps, 2);
	assert_string_equal(s, "nothing");
	free(s);
	remap_free(&rm);
}

/* irqbalance moved eth0:1 from CPU 1 to CPU 3. */
static void
test_move(void **state)
{
	struct remap	 rm;
	char		*s;

	(void)state;
	s = diff("0:eth0:0 1:eth0:1", "0:eth0:0 3:eth0:1", &rm);
	assert_int_equal(rm.nchanged, 1);
	assert_int_equal(rm.steps[1].action, REMAP_MOVE);
	assert_int_equal(rm.steps[1].from, 1);
	assert_int_equal(rm.steps[1].to, 1);
	assert_string_equal(s, "worker on CPU 1 moves to CPU 3 (eth0:1)");
	free(s);
	remap_free(&rm);
}

/* ethtool -L: a third queue, then back to one. */
static void
test_queue_count(void **state)
{
	struct remap	 rm;
	char		*s;

	(void)state;
	s = diff("0:eth0:0 1:eth0:1", "0:eth0:0 1:eth0:1 2:eth0:2", &rm);
	assert_int_equal(rm.nchanged, 1);
	assert_int_equal(rm.steps[2].action, REMAP_START);
	assert_string_equal(s, "new worker on CPU 2 (eth0:2)");
	free(s);
	remap_free(&rm);
	s = diff("0:eth0:0 1:eth0:1 2:eth0:2", "0:eth0:0", &rm);
	assert_int_equal(rm.nchanged, 2);
	assert_string_equal(s, "worker on CPU 1 drains; worker on CPU 2 "
	    "drains");
	free(s);
	remap_free(&rm);
}

/* Two queues on one CPU split apart: one stays, one moves. */
static void
test_split_and_merge(void **state)
{
	struct remap	 rm;
	char		*s;

	(void)state;
	s = diff("0:a:0,a:1", "0:a:0 1:a:1", &rm);
	assert_int_equal(rm.nchanged, 1);
	assert_int_equal(rm.queues_changed, 1);
	assert_string_equal(s, "new worker on CPU 1 (a:1)");
	free(s);
	remap_free(&rm);
	s = diff("0:a:0 1:a:1", "0:a:0,a:1", &rm);
	assert_string_equal(s, "worker on CPU 1 drains");
	free(s);
	remap_free(&rm);
}

/* A CPU list without queues: a CPU leaves the set and comes back. */
static void
test_cpu_set(void **state)
{
	struct remap	 rm;
	char		*s;

	(void)state;
	s = diff("0 1", "0", &rm);
	assert_string_equal(s, "worker on CPU 1 drains");
	free(s);
	remap_free(&rm);
	s = diff("0", "0 1", &rm);
	assert_string_equal(s, "new worker on CPU 1 (no queue)");
	free(s);
	remap_free(&rm);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_queue_count),
		cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_cpu_set),
	};

	return cmocka_run_group_tests_name("remap", tests, NULL, NULL);
}
