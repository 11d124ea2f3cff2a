/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irqspread.c: which CPU each queue IRQ is written, in which order, what
 * is left alone, the warnings for writes that fail or do not take effect
 * and for a running irqbalance, all on trees made here where regular
 * files stand in for /proc/irq/N; then discover, spread and discover
 * again on a copy of a driver fixture, as the master does.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "common/cpuset.h"
#include "topology/irqspread.h"
#include "common/log.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "tree.h"
#include "common/util.h"

#define FIXTURES	UNIT_SRCPATH("tests/fixtures/sysroot")

/* ---- Files below the tree: paths, writes, reads. ---- */

static char *
fx_vpath(const struct tree *t, const char *fmt, va_list ap)
{
	char	*rel, *path;

	assert_true(vasprintf(&rel, fmt, ap) >= 0);
	assert_non_null(path = sysroot_path(t->dir, "%s", rel));
	free(rel);
	return path;
}

static char * LOG_PRINTF(2, 3)
fx_path(const struct tree *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*path;

	va_start(ap, fmt);
	path = fx_vpath(t, fmt, ap);
	va_end(ap);
	return path;
}

static void
fx_mkdirs(const char *path)
{
	char	*p, *slash;

	assert_non_null(p = strdup(path));
	for (slash = p + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*slash = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
	free(p);
}

static void
fx_assert_file(const struct tree *t, unsigned int irq, const char *file,
    const char *want)
{
	char	*path, *got = NULL;

	path = fx_path(t, "proc/irq/%u/%s", irq, file);
	if (read_file(path, &got, 4096) < 0 || strcmp(got, want) != 0)
		fail_msg("%s holds \"%s\", not \"%s\"", path,
		    got ? got : "(unreadable)", want);
	free(got);
	free(path);
}

/* ---- Plans made by hand: interfaces with queue IRQs. ---- */

struct plan_iface {
	const char	*name;
	int		 irqs[8];	/* -1: a queue without an IRQ; 0 ends */
};

static struct topology *
map_make(const struct plan_iface *ifaces, size_t n, const char *allowed)
{
	struct topology		*topo;
	struct topo_iface	*ifc;
	size_t			 i, j;

	assert_non_null(topo = calloc(1, sizeof(*topo)));
	assert_non_null(topo->ifaces = calloc(n, sizeof(*topo->ifaces)));
	topo->nifaces = n;
	for (i = 0; i < n; i++) {
		ifc = &topo->ifaces[i];
		assert_non_null(ifc->name = strdup(ifaces[i].name));
		assert_non_null(ifc->driver = strdup("test"));
		ifc->source = TOPO_SOURCE_IRQ;
		for (j = 0; j < 8 && ifaces[i].irqs[j] != 0; j++)
			;
		assert_non_null(ifc->queues = calloc(j + 1,
		    sizeof(*ifc->queues)));
		ifc->nqueues = j;
		for (j = 0; j < ifc->nqueues; j++) {
			ifc->queues[j].queue = (unsigned int)j;
			ifc->queues[j].irq = ifaces[i].irqs[j];
			ifc->queues[j].cpu = 0;
		}
	}
	assert_int_equal(cpuset_parse_list(allowed, &topo->allowed), 0);
	return topo;
}

/* Spreads over cpus; returns the warnings, which the caller frees. */
static struct strv
spread(const struct tree *t, const struct topology *topo, const char *cpus,
    unsigned int *changed)
{
	struct strv	 warnings = { 0 };
	struct cpuset	*set;

	assert_int_equal(cpuset_parse_list(cpus, &set), 0);
	assert_int_equal(irqspread_apply(t->dir, topo, set, &warnings,
	    changed), 0);
	cpuset_free(set);
	return warnings;
}

/* The one warning that holds every one of the words, NULL-terminated. */
static void
assert_warning(const struct strv *warnings, ...)
{
	const char	*word;
	va_list		 ap;
	size_t		 i, found = 0;
	int		 all;

	for (i = 0; i < warnings->n; i++) {
		all = 1;
		va_start(ap, warnings);
		while ((word = va_arg(ap, const char *)) != NULL)
			if (strstr(warnings->v[i], word) == NULL)
				all = 0;
		va_end(ap);
		found += all;
	}
	if (found != 1) {
		va_start(ap, warnings);
		word = va_arg(ap, const char *);
		va_end(ap);
		for (i = 0; i < warnings->n; i++)
			print_message("warning: %s\n", warnings->v[i]);
		fail_msg("%zu warnings hold \"%s\" and the rest, not 1", found,
		    word);
	}
}

static void
irq_files(struct tree *t, unsigned int irq, const char *smp)
{
	tree_putf(t, smp, "proc/irq/%u/smp_affinity_list", irq);
}

/*
 * Each interface's queue IRQs take the CPUs in turn from the lowest, in
 * queue order; every file gets exactly "CPU\n".
 */
static void
test_round_robin(void **state)
{
	struct tree		*t = *state;
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 40, 41, 42, 43, 44 } },
		{ "eth1", { 50, 51 } },
	};
	static const struct {
		unsigned int	 irq;
		const char	*cpu;
	} want[] = {
		{ 40, "1\n" }, { 41, "3\n" }, { 42, "4\n" }, { 43, "1\n" },
		{ 44, "3\n" }, { 50, "1\n" }, { 51, "3\n" },
	};
	struct topology	*topo;
	struct strv	 warnings;
	unsigned int	 changed, i;

	for (i = 0; i < ARRAY_SIZE(want); i++)
		irq_files(t, want[i].irq, "0-7\n");
	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-7");
	warnings = spread(t, topo, "1,3-4", &changed);
	for (i = 0; i < warnings.n; i++)
		print_message("warning: %s\n", warnings.v[i]);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(changed, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		fx_assert_file(t, want[i].irq, "smp_affinity_list",
		    want[i].cpu);

	/* Once in place, a second pass changes nothing. */
	strv_free(&warnings);
	warnings = spread(t, topo, "1,3-4", &changed);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(changed, 0);
	strv_free(&warnings);
	topology_free(topo);
}

/*
 * An IRQ already on exactly its CPU is not written; queues without an
 * IRQ take no CPU; an IRQ shared by two queues keeps the first one's.
 */
static void
test_left_alone(void **state)
{
	struct tree		*t = *state;
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 60, -1, 61, 60, 62 } },
	};
	struct topology	*topo;
	struct strv	 warnings;
	unsigned int	 changed;

	irq_files(t, 60, "0");		/* in place; no newline: untouched */
	irq_files(t, 61, "0\n");	/* one CPU, but not its own */
	irq_files(t, 62, "0-1\n");	/* its CPU among others */
	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-1");
	warnings = spread(t, topo, "0-1", &changed);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(changed, 2);
	fx_assert_file(t, 60, "smp_affinity_list", "0");
	fx_assert_file(t, 61, "smp_affinity_list", "1\n");
	fx_assert_file(t, 62, "smp_affinity_list", "0\n");
	strv_free(&warnings);
	topology_free(topo);
}

/*
 * After a write the effective affinity is read back: 70 has none, so its
 * smp_affinity_list answers; 71's follows the write (a symlink stands in
 * for the kernel moving it); 72's stays put, a move the kernel keeps for
 * the next interrupt; 73's write vanishes (into /dev/null), as when the
 * kernel ignores it.
 */
static void
test_readback(void **state)
{
	struct tree		*t = *state;
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 70, 71, 72, 73 } },
	};
	struct topology	*topo;
	struct strv	 warnings;
	unsigned int	 changed;
	char		*path, *eff72, *eff73, *smp72, *smp73;

	irq_files(t, 70, "0-3\n");
	irq_files(t, 71, "0-3\n");
	irq_files(t, 72, "0-3\n");
	tree_putf(t, "0\n", "proc/irq/71/effective_affinity_list");
	tree_putf(t, "0\n", "proc/irq/72/effective_affinity_list");
	tree_putf(t, "0-1\n", "proc/irq/73/effective_affinity_list");
	path = fx_path(t, "proc/irq/71/effective_affinity_list");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("smp_affinity_list", path), 0);
	free(path);
	smp73 = fx_path(t, "proc/irq/73/smp_affinity_list");
	assert_int_equal(symlink("/dev/null", smp73), 0);
	eff72 = fx_path(t, "proc/irq/72/effective_affinity_list");
	eff73 = fx_path(t, "proc/irq/73/effective_affinity_list");
	smp72 = fx_path(t, "proc/irq/72/smp_affinity_list");

	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-3");
	warnings = spread(t, topo, "2-3", &changed);
	assert_int_equal(warnings.n, 2);
	assert_warning(&warnings, "IRQ 72 ", "eth0 queue 2", "CPU 2", smp72,
	    eff72, "still says 0", "next interrupt", NULL);
	assert_warning(&warnings, "IRQ 73 ", "eth0 queue 3", "CPU 3", smp73,
	    eff73, "says 0-1", "did not take it", NULL);
	/* 70 and 71 moved; 72 and 73 did not, as far as the kernel says. */
	assert_int_equal(changed, 2);
	fx_assert_file(t, 70, "smp_affinity_list", "2\n");
	fx_assert_file(t, 71, "smp_affinity_list", "3\n");
	fx_assert_file(t, 71, "effective_affinity_list", "3\n");
	fx_assert_file(t, 72, "smp_affinity_list", "2\n");
	free(eff72);
	free(eff73);
	free(smp72);
	free(smp73);
	strv_free(&warnings);
	topology_free(topo);
}

/*
 * A file that cannot be written: one warning naming the IRQ and the
 * file, and the others are still done.  As root a directory stands in
 * for the file, since root may write a read-only file.
 */
static void
test_unwritable(void **state)
{
	struct tree		*t = *state;
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 80, 81, 82 } },
	};
	struct topology	*topo;
	struct strv	 warnings;
	unsigned int	 changed;
	char		*path, *missing;

	irq_files(t, 80, "0-1\n");
	path = fx_path(t, "proc/irq/81/smp_affinity_list");
	if (geteuid() == 0) {
		fx_mkdirs(path);
	} else {
		irq_files(t, 81, "0-1\n");
		assert_int_equal(chmod(path, 0444), 0);
	}
	/* 82 has no affinity file at all: its IRQ went away meanwhile. */
	fx_mkdirs(missing = fx_path(t, "proc/irq/82"));
	free(missing);
	missing = fx_path(t, "proc/irq/82/smp_affinity_list");
	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-1");
	warnings = spread(t, topo, "0-1", &changed);
	assert_int_equal(warnings.n, 2);
	assert_warning(&warnings, "IRQ 81 ", "eth0 queue 1", "cannot write",
	    path, geteuid() == 0 ? strerror(EISDIR) : "needs root", NULL);
	assert_warning(&warnings, "IRQ 82 ", "cannot write", missing,
	    strerror(ENOENT), "stays on CPUs unknown", NULL);
	assert_int_equal(changed, 1);
	fx_assert_file(t, 80, "smp_affinity_list", "0\n");
	free(path);
	free(missing);
	strv_free(&warnings);
	topology_free(topo);
}

/* A running irqbalance is warned about, once, when IRQs were pinned. */
static void
test_irqbalance(void **state)
{
	struct tree		*t = *state;
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 90, 91 } },
	};
	static const struct plan_iface none[] = {
		{ "lo", { -1 } },
	};
	struct topology	*topo;
	struct strv	 warnings;
	unsigned int	 changed;

	tree_putf(t, "sshd\n", "proc/1/comm");
	tree_putf(t, "irqbalance-helper\n", "proc/17/comm");
	tree_putf(t, "irqbalance\n", "proc/4242/comm");

	irq_files(t, 90, "0\n");
	irq_files(t, 91, "1\n");
	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-1");
	warnings = spread(t, topo, "0-1", &changed);
	assert_int_equal(changed, 0);
	assert_int_equal(warnings.n, 1);
	assert_warning(&warnings, "irqbalance", "4242", NULL);
	strv_free(&warnings);
	topology_free(topo);

	/* No queue IRQ to pin: nothing for irqbalance to undo. */
	topo = map_make(none, ARRAY_SIZE(none), "0-1");
	warnings = spread(t, topo, "0-1", &changed);
	assert_int_equal(warnings.n, 0);
	strv_free(&warnings);
	topology_free(topo);
}

/* The CPUs to spread over, per worker mode; an empty set is refused. */
static void
test_targets(void **state)
{
	static const struct plan_iface ifaces[] = {
		{ "eth0", { 100 } },
	};
	struct topology	*topo;
	struct plan	 plan = { 0 };
	struct cpuset	*cpus, *empty;
	struct strv	 warnings = { 0 };
	unsigned int	 changed = 7;
	char		*list;

	(void)state;
	topo = map_make(ifaces, ARRAY_SIZE(ifaces), "0-3,6");
	plan.topo = topo;
	assert_non_null(plan.workers = calloc(2, sizeof(*plan.workers)));
	plan.workers[0].cpu = 2;
	plan.workers[1] = (struct plan_worker){ .id = 1, .cpu = 6 };
	plan.nworkers = 2;

	assert_int_equal(irqspread_targets(&plan, TOPO_WORKERS_RX_QUEUES,
	    &cpus), 0);
	assert_string_equal(list = cpuset_format_list(cpus), "0-3,6");
	free(list);
	cpuset_free(cpus);
	assert_int_equal(irqspread_targets(&plan, TOPO_WORKERS_CPUS, &cpus),
	    0);
	assert_string_equal(list = cpuset_format_list(cpus), "0-3,6");
	free(list);
	cpuset_free(cpus);
	assert_int_equal(irqspread_targets(&plan, TOPO_WORKERS_LIST, &cpus),
	    0);
	assert_string_equal(list = cpuset_format_list(cpus), "2,6");
	free(list);
	cpuset_free(cpus);

	assert_non_null(empty = cpuset_new());
	assert_int_equal(irqspread_apply("/nonexistent/irqspread", topo, empty,
	    &warnings, &changed), -EINVAL);
	assert_int_equal(changed, 0);
	assert_int_equal(warnings.n, 0);
	cpuset_free(empty);
	free(plan.workers);
	topology_free(topo);
}

/* ---- Discover, spread, discover again, on a copy of a fixture. ---- */

static const char *copy_from;
static const char *copy_to;

static int
copy_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	char	*dst, *text, link[PATH_MAX];
	ssize_t	 n;
	FILE	*f;
	int	 r = 0;

	(void)ftw;
	if (asprintf(&dst, "%s%s", copy_to, path + strlen(copy_from)) < 0)
		return -1;
	if (flag == FTW_D)
		r = mkdir(dst, 0755) == 0 || errno == EEXIST ? 0 : -1;
	else if (flag == FTW_SL) {
		if ((n = readlink(path, link, sizeof(link) - 1)) < 0)
			r = -1;
		else {
			link[n] = '\0';
			r = symlink(link, dst);
		}
	} else if (flag == FTW_F && S_ISREG(sb->st_mode)) {
		if (read_file(path, &text, 1 << 20) < 0 ||
		    (f = fopen(dst, "w")) == NULL)
			r = -1;
		else {
			fputs(text, f);
			r = fclose(f) == 0 ? 0 : -1;
		}
		if (r == 0 || text != NULL)
			free(text);
	}
	if (r != 0)
		print_message("cannot copy %s to %s: %s\n", path, dst,
		    strerror(errno));
	free(dst);
	return r;
}

/*
 * The ixgbe fixture's eth0 has eight queue IRQs, one on each of CPUs 0-7.
 * Spread over CPUs 1-2 they become 1, 2, 1, 2, ...; discovery then sees
 * the queues there and plans workers on CPUs 1 and 2 only.  The copy lacks
 * effective_affinity_list, which a regular file could not keep in step.
 */
static void
test_rediscover(void **state)
{
	struct tree		*t = *state;
	const char		*ifname = "eth0";
	struct topo_options	 opts = { 0 };
	struct plan		*plan;
	struct strv		 warnings;
	struct cpuset		*cpus;
	unsigned int		 changed, cpu;
	size_t			 j, nirq = 0;
	char			*src, *path;

	assert_non_null(src = sysroot_path(FIXTURES, "ixgbe"));
	copy_from = src;
	copy_to = t->dir;
	assert_int_equal(nftw(src, copy_one, 16, FTW_PHYS), 0);
	free(src);
	opts.sysroot = t->dir;
	opts.ifaces = &ifname;
	opts.nifaces = 1;
	opts.workers = TOPO_WORKERS_RX_QUEUES;
	assert_int_equal(plan_discover(&opts, &plan), 0);
	assert_int_equal(plan->topo->nifaces, 1);
	for (j = 0; j < plan->topo->ifaces[0].nqueues; j++) {
		if (plan->topo->ifaces[0].queues[j].irq < 0)
			continue;
		nirq++;
		path = fx_path(t, "proc/irq/%d/effective_affinity_list",
		    plan->topo->ifaces[0].queues[j].irq);
		unlink(path);
		free(path);
	}
	assert_true(nirq >= 2);

	assert_int_equal(cpuset_parse_list("1-2", &cpus), 0);
	warnings = (struct strv){ 0 };
	assert_int_equal(irqspread_apply(t->dir, plan->topo, cpus, &warnings,
	    &changed), 0);
	assert_int_equal(warnings.n, 0);
	assert_true(changed >= 1);
	plan_free(plan);
	cpuset_free(cpus);

	assert_int_equal(plan_discover(&opts, &plan), 0);
	for (j = 0, cpu = 1; j < plan->topo->ifaces[0].nqueues; j++) {
		if (plan->topo->ifaces[0].queues[j].irq < 0)
			continue;
		assert_int_equal(plan->topo->ifaces[0].queues[j].cpu, cpu);
		cpu = cpu == 1 ? 2 : 1;
	}
	assert_int_equal(plan->nworkers, 2);
	assert_int_equal(plan->workers[0].cpu, 1);
	assert_int_equal(plan->workers[1].cpu, 2);
	plan_free(plan);
	strv_free(&warnings);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_robin, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_left_alone, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_readback, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_irqbalance, tree_setup,
		    tree_teardown),
		cmocka_unit_test(test_targets),
		cmocka_unit_test_setup_teardown(test_rediscover, tree_setup,
		    tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
