/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * topology.c and topology_print.c: the queue -> IRQ -> CPU map and the
 * worker plan of every committed sysroot fixture (one per driver family),
 * trees built here for what is too big or too odd to commit (4096 CPUs,
 * stacked devices, RPS, broken files), the JSON and table printers, and
 * this machine's own eth0.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "unit.h"

#include "common/cpuset.h"
#include "common/log.h"
#include "topology/netdev_nl.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "common/util.h"

#define FIXTURES	UNIT_SRCPATH("tests/fixtures/sysroot")

/* ---- Rendering a map compactly, so that a whole map is one string. ---- */

/*
 * One line per interface: "NAME DRIVER SOURCE" then per queue
 * " Q=IRQ@CPU[IRQ_CPUS]{RPS_CPUS}", "-" for none; then one line per
 * worker: "wID@CPU QUEUE,QUEUE".
 */
static char *
render(const struct plan *plan)
{
	const struct topology	*topo = plan->topo;
	const struct topo_iface	*ifc;
	const struct topo_queue	*q;
	char			*buf = NULL;
	size_t			 len = 0, i, j;
	FILE			*f;

	assert_non_null(f = open_memstream(&buf, &len));
	for (i = 0; i < topo->nifaces; i++) {
		ifc = &topo->ifaces[i];
		fprintf(f, "%s %s %s", ifc->name, ifc->driver,
		    topology_source_name(ifc->source));
		for (j = 0; j < ifc->nqueues; j++) {
			q = &ifc->queues[j];
			fprintf(f, " %u=", q->queue);
			if (q->irq < 0)
				fprintf(f, "-");
			else
				fprintf(f, "%d", q->irq);
			if (q->cpu < 0)
				fprintf(f, "@-");
			else
				fprintf(f, "@%d", q->cpu);
			if (q->irq_cpus != NULL)
				fprintf(f, "[%s]", q->irq_cpus);
			if (q->rps_cpus != NULL)
				fprintf(f, "{%s}", q->rps_cpus);
		}
		fprintf(f, "\n");
	}
	for (i = 0; i < plan->nworkers; i++) {
		fprintf(f, "w%u@%u ", plan->workers[i].id,
		    plan->workers[i].cpu);
		for (j = 0; j < plan->workers[i].queues.n; j++)
			fprintf(f, "%s%s", j ? "," : "",
			    plan->workers[i].queues.v[j]);
		fprintf(f, "\n");
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The plan's warnings: discovery's, then the decision's. */
static const char *
warning(const struct plan *plan, size_t i)
{
	if (i < plan->topo->warnings.n)
		return plan->topo->warnings.v[i];
	return plan->warnings.v[i - plan->topo->warnings.n];
}

static size_t
nwarnings(const struct plan *plan)
{
	return plan->topo->warnings.n + plan->warnings.n;
}

static void
show_warnings(const struct plan *plan)
{
	size_t	 i;

	for (i = 0; plan != NULL && i < nwarnings(plan); i++)
		print_message("warning: %s\n", warning(plan, i));
}

/* Counts the warnings holding every one of the given strings. */
static size_t
count_warnings(const struct plan *plan, ...)
{
	va_list		 ap;
	const char	*needle;
	size_t		 i, n = 0;
	int		 all;

	for (i = 0; i < nwarnings(plan); i++) {
		all = 1;
		va_start(ap, plan);
		while ((needle = va_arg(ap, const char *)) != NULL)
			if (strstr(warning(plan, i), needle) == NULL)
				all = 0;
		va_end(ap);
		n += all;
	}
	return n;
}

struct run {
	const char		*sysroot;
	const char * const	*ifaces;	/* NULL-terminated, or NULL */
	enum topo_workers	 workers;
	const char		*worker_cpus;
	const char		*exclude_cpus;
	netdev_nl_rx_irqs_fn	*netlink;	/* stands in for the kernel */
};

static int
discover(const struct run *run, struct plan **plan)
{
	struct topo_options	 o;
	struct cpuset		*list = NULL, *exclude = NULL;
	int			 r;

	memset(&o, 0, sizeof(o));
	o.sysroot = run->sysroot;
	o.ifaces = run->ifaces;
	while (run->ifaces != NULL && run->ifaces[o.nifaces] != NULL)
		o.nifaces++;
	o.workers = run->workers;
	if (run->worker_cpus != NULL)
		assert_int_equal(cpuset_parse_list(run->worker_cpus, &list), 0);
	if (run->exclude_cpus != NULL)
		assert_int_equal(cpuset_parse_list(run->exclude_cpus,
		    &exclude), 0);
	o.worker_cpus = list;
	o.exclude_cpus = exclude;
	o.netlink_rx_irqs = run->netlink;
	r = plan_discover(&o, plan);
	cpuset_free(list);
	cpuset_free(exclude);
	assert_non_null(*plan);
	show_warnings(*plan);
	return r;
}

/* Discovers, expects success and the whole map, and returns the plan. */
static struct plan *
expect_map(const struct run *run, const char *map)
{
	struct plan	*plan;
	char		*got;

	assert_int_equal(discover(run, &plan), 0);
	got = render(plan);
	assert_string_equal(got, map);
	free(got);
	return plan;
}

static char *
fixture(const char *name)
{
	char	*path;

	assert_non_null(path = sysroot_path(FIXTURES, "%s", name));
	return path;
}

/*
 * The fixtures depend on symlinks (device, driver); a copy that followed
 * them (tar -h) has lost what the code reads.
 */
static void
check_fixture_links(const char *root, const char *ifname)
{
	struct stat	 sb;
	char		*path;

	assert_non_null(path = sysroot_path(root, "sys/class/net/%s/device",
	    ifname));
	if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode))
		fail_msg("%s is not a symlink: the fixture tree was copied "
		    "following its links", path);
	free(path);
}

/* ---- The committed fixtures, one per driver family. ---- */

static void
test_virtio(void **state)
{
	struct plan	*plan;
	char		*root = fixture("virtio");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "eth0");
	plan = expect_map(&run,
	    "eth0 virtio_net irq 0=38@1[1]\n"
	    "w0@1 eth0:0\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	free(root);
}

/* The mlx5 fixture's map: eth1's IRQs may go to every CPU. */
#define MLX5_MAP \
	"eth0 mlx5_core irq 0=30@0[0] 1=31@1[1] 2=32@2[2] 3=33@3[3]\n" \
	"eth1 mlx5_core irq 0=37@0[0-3] 1=38@0[0-3] 2=39@0[0-3] " \
	"3=40@0[0-3]\n" \
	"w0@0 eth0:0,eth1:0,eth1:1,eth1:2,eth1:3\n" \
	"w1@1 eth0:1\n" \
	"w2@2 eth0:2\n" \
	"w3@3 eth0:3\n"

static void
test_mlx5(void **state)
{
	struct plan	*plan;
	char		*root = fixture("mlx5");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "eth0");
	plan = expect_map(&run, MLX5_MAP);
	/* eth1's IRQs are not pinned: smp_affinity_list 0-3. */
	assert_int_equal(count_warnings(plan, "eth1: queue ",
	    "may be delivered to CPUs 0-3; using CPU 0", NULL), 4);
	assert_int_equal(count_warnings(plan, "IRQ 37 may be delivered", NULL),
	    1);
	assert_int_equal(nwarnings(plan), 4);
	plan_free(plan);
	free(root);
}

/*
 * A relative sysroot finds the same interfaces as an absolute one: the
 * "auto" interface list is read below the root as given, not below "/".
 */
static void
test_relative_sysroot(void **state)
{
	struct plan	*plan;
	struct run	 run = { .sysroot = "mlx5" };
	char		*cwd;

	(void)state;
	assert_non_null(cwd = getcwd(NULL, 0));
	assert_int_equal(chdir(FIXTURES), 0);
	plan = expect_map(&run, MLX5_MAP);
	assert_int_equal(chdir(cwd), 0);
	plan_free(plan);
	free(cwd);
}

static void
test_ixgbe(void **state)
{
	struct plan	*plan;
	char		*root = fixture("ixgbe");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "eth1");
	plan = expect_map(&run,
	    "eth0 ixgbe irq 0=66@0[0] 1=67@1[1] 2=68@2[2] 3=69@3[3] "
	    "4=70@4[4] 5=71@5[5] 6=72@6[6] 7=73@7[7]\n"
	    "eth1 ixgbe irq 0=75@4[4] 1=76@5[5] 2=77@6[6] 3=78@7[7] "
	    "4=79@8[8] 5=80@9[9] 6=81@10[10] 7=82@11[11]\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n"
	    "w2@2 eth0:2\n"
	    "w3@3 eth0:3\n"
	    "w4@4 eth0:4,eth1:0\n"
	    "w5@5 eth0:5,eth1:1\n"
	    "w6@6 eth0:6,eth1:2\n"
	    "w7@7 eth0:7,eth1:3\n"
	    "w8@8 eth1:4\n"
	    "w9@9 eth1:5\n"
	    "w10@10 eth1:6\n"
	    "w11@11 eth1:7\n");
	/* eth1 runs threaded NAPI. */
	assert_int_equal(count_warnings(plan, "eth1: threaded NAPI",
	    "ixgbe/sys/class/net/eth1/threaded", NULL), 1);
	assert_int_equal(nwarnings(plan), 1);
	plan_free(plan);
	free(root);
}

static void
test_i40e(void **state)
{
	struct plan	*plan;
	char		*root = fixture("i40e");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "eth0");
	/* eth1 is down: only its misc and fdir vectors exist. */
	plan = expect_map(&run,
	    "eth0 i40e irq 0=33@0[0] 1=34@1[1] 2=35@2[2] 3=36@3[3]\n"
	    "eth1 i40e cpus 0=-@- 1=-@- 2=-@- 3=-@-\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n"
	    "w2@2 eth0:2\n"
	    "w3@3 eth0:3\n");
	assert_int_equal(count_warnings(plan, "eth1: no per-queue IRQs and "
	    "no RPS; one worker per allowed CPU", NULL), 1);
	assert_int_equal(nwarnings(plan), 1);
	plan_free(plan);
	free(root);
}

/* Discovery alone decides no worker; plan_make() does, from its map. */
static void
test_discover_no_plan(void **state)
{
	struct topology		*topo = NULL;
	struct plan		*plan = NULL;
	struct topo_options	 o;
	char			*root = fixture("i40e");

	(void)state;
	memset(&o, 0, sizeof(o));
	o.sysroot = root;
	o.workers = TOPO_WORKERS_RX_QUEUES;
	assert_int_equal(topology_discover(&o, &topo), 0);
	assert_int_equal(topo->nifaces, 2);
	assert_int_equal(plan_make(topo, &o, &plan), 0);
	assert_ptr_equal(plan->topo, topo);
	assert_int_equal(plan->nworkers, 4);
	plan_free(plan);
	free(root);
}

static void
test_ena(void **state)
{
	struct plan	*plan;
	char		*root = fixture("ena");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "enp39s0");
	/* Vectors 67-69 stayed allocated without a name. */
	plan = expect_map(&run,
	    "enp39s0 ena irq 0=66@0[0]\n"
	    "w0@0 enp39s0:0\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	free(root);
}

static void
test_gve(void **state)
{
	struct plan	*plan;
	char		*root = fixture("gve");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "ens4");
	/* Two notification blocks: the first serves TX, the second RX. */
	plan = expect_map(&run,
	    "ens4 gve irq 0=25@1[1]\n"
	    "w0@1 ens4:0\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	free(root);
}

static void
test_tg3(void **state)
{
	struct plan	*plan;
	char		*root = fixture("tg3");
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "eth0");
	/* RX queue N is vector rx-(N+1); eth1's vectors all sit on CPU 0. */
	plan = expect_map(&run,
	    "eth0 tg3 irq 0=162@4[4] 1=163@5[5] 2=164@6[6] 3=165@7[7]\n"
	    "eth1 tg3 irq 0=167@0[0] 1=168@0[0] 2=169@0[0] 3=170@0[0]\n"
	    "w0@0 eth1:0,eth1:1,eth1:2,eth1:3\n"
	    "w1@4 eth0:0\n"
	    "w2@5 eth0:1\n"
	    "w3@6 eth0:2\n"
	    "w4@7 eth0:3\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	free(root);
}

static void
test_vmxnet3(void **state)
{
	struct plan	*plan;
	char		*root = fixture("vmxnet3");
	const char	*only_eth0[] = { "eth0", NULL };
	struct run	 run = { .sysroot = root, .ifaces = only_eth0 };

	(void)state;
	check_fixture_links(root, "eth0");
	/* IRQ 56 has only the hex smp_affinity, a 128-bit mask: CPU 10. */
	plan = expect_map(&run,
	    "eth0 vmxnet3 irq 0=56@10[10] 1=57@1[1] 2=58@2[2] 3=59@3[3] "
	    "4=60@4[4] 5=61@5[5] 6=62@6[6] 7=63@7[7]\n"
	    "w0@1 eth0:1\n"
	    "w1@2 eth0:2\n"
	    "w2@3 eth0:3\n"
	    "w3@4 eth0:4\n"
	    "w4@5 eth0:5\n"
	    "w5@6 eth0:6\n"
	    "w6@7 eth0:7\n"
	    "w7@10 eth0:0\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	free(root);
}

/*
 * eth2 is an e1000 on a legacy INTx line: no msi_irqs, so its IRQ is
 * found by the name in /proc/interrupts, the interface's own.
 */
static void
test_vmxnet3_intx(void **state)
{
	struct plan	*plan;
	char		*root = fixture("vmxnet3");
	const char	*only_eth2[] = { "eth2", NULL };
	struct run	 run = { .sysroot = root, .ifaces = only_eth2 };

	(void)state;
	plan = expect_map(&run,
	    "eth2 e1000 irq 0=19@1[1]\n"
	    "w0@1 eth2:0\n");
	plan_free(plan);
	free(root);
}

static void
test_mana(void **state)
{
	struct plan	*plan;
	char		*root = fixture("mana");
	const char	*netvsc[] = { "eth0", NULL };
	const char	*expected =
	    "enP30832s1 mana irq 0=25@3[3] 1=26@2[2] 2=27@3[3] 3=28@0[0]\n"
	    "w0@0 enP30832s1:3\n"
	    "w1@2 enP30832s1:1\n"
	    "w2@3 enP30832s1:0,enP30832s1:2\n";
	struct run	 run = { .sysroot = root };

	(void)state;
	check_fixture_links(root, "enP30832s1");
	/* Every interface: netvsc's eth0 is listed as its VF, once. */
	plan = expect_map(&run, expected);
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	/* Asked for by name, the netvsc device gives the VF too. */
	run.ifaces = netvsc;
	plan = expect_map(&run, expected);
	plan_free(plan);
	free(root);
}

/* Workers = cpus: one per allowed CPU, queues processed there attached. */
static void
test_workers_cpus(void **state)
{
	struct plan	*plan;
	char		*root = fixture("tg3");
	const char	*eth0[] = { "eth0", NULL };
	struct run	 run = { .sysroot = root, .ifaces = eth0,
			    .workers = TOPO_WORKERS_CPUS,
			    .exclude_cpus = "8-15" };
	char		*allowed;

	(void)state;
	plan = expect_map(&run,
	    "eth0 tg3 irq 0=162@4[4] 1=163@5[5] 2=164@6[6] 3=165@7[7]\n"
	    "w0@0 \n"
	    "w1@1 \n"
	    "w2@2 \n"
	    "w3@3 \n"
	    "w4@4 eth0:0\n"
	    "w5@5 eth0:1\n"
	    "w6@6 eth0:2\n"
	    "w7@7 eth0:3\n");
	allowed = cpuset_format_list(plan->topo->allowed);
	assert_string_equal(allowed, "0-7");
	free(allowed);
	plan_free(plan);
	free(root);
}

/* Workers = an explicit list: only its allowed CPUs, others warned about. */
static void
test_workers_list(void **state)
{
	struct plan	*plan;
	char		*root = fixture("tg3");
	const char	*eth0[] = { "eth0", NULL };
	struct run	 run = { .sysroot = root, .ifaces = eth0,
			    .workers = TOPO_WORKERS_LIST,
			    .worker_cpus = "2,4,6,20", .exclude_cpus = "6" };

	(void)state;
	plan = expect_map(&run,
	    "eth0 tg3 irq 0=162@4[4] 1=163@5[5] 2=164@6[6] 3=165@7[7]\n"
	    "w0@2 \n"
	    "w1@4 eth0:0\n");
	assert_int_equal(count_warnings(plan, "CPU 6 ", "skipped", NULL), 1);
	assert_int_equal(count_warnings(plan, "CPU 20 ", "skipped", NULL), 1);
	/* The queue processed on the excluded CPU 6 is served by none. */
	assert_int_equal(count_warnings(plan, "eth0: queue 2 ", "CPU 6",
	    "no worker", NULL), 1);
	plan_free(plan);
	free(root);
}

/* exclude_cpus: a queue on an excluded CPU gets no worker, and says so. */
static void
test_exclude(void **state)
{
	struct plan	*plan;
	char		*root = fixture("mlx5");
	const char	*eth0[] = { "eth0", NULL };
	struct run	 run = { .sysroot = root, .ifaces = eth0,
			    .exclude_cpus = "0,2" };

	(void)state;
	plan = expect_map(&run,
	    "eth0 mlx5_core irq 0=30@0[0] 1=31@1[1] 2=32@2[2] 3=33@3[3]\n"
	    "w0@1 eth0:1\n"
	    "w1@3 eth0:3\n");
	assert_int_equal(count_warnings(plan, "eth0: queue 0 ", "CPU 0",
	    "no worker", NULL), 1);
	assert_int_equal(count_warnings(plan, "eth0: queue 2 ", "CPU 2",
	    "no worker", NULL), 1);
	assert_int_equal(nwarnings(plan), 2);
	plan_free(plan);
	free(root);
}

/* Nothing left to run on: an error, with a warning that says why. */
static void
test_no_workers(void **state)
{
	struct plan	*plan;
	char		*root = fixture("mlx5");
	const char	*eth0[] = { "eth0", NULL };
	struct run	 run = { .sysroot = root, .ifaces = eth0,
			    .exclude_cpus = "0-3" };

	(void)state;
	assert_int_equal(discover(&run, &plan), -EINVAL);
	assert_int_equal(plan->nworkers, 0);
	assert_int_equal(count_warnings(plan, "no worker", "exclude_cpus",
	    NULL), 1);
	plan_free(plan);
	/* Every queue on a CPU outside the allowed ones. */
	run.exclude_cpus = "0";
	run.ifaces = (const char *[]){ "eth1", NULL };
	assert_int_equal(discover(&run, &plan), -EINVAL);
	assert_int_equal(count_warnings(plan, "no worker: no queue is "
	    "processed on a CPU the daemon may use (1-3)", NULL), 1);
	plan_free(plan);
	/* An explicit list with no allowed CPU. */
	run.workers = TOPO_WORKERS_LIST;
	run.worker_cpus = "0,9";
	assert_int_equal(discover(&run, &plan), -EINVAL);
	assert_int_equal(count_warnings(plan, "no worker: none of the listed",
	    NULL), 1);
	plan_free(plan);
	free(root);
}

static void
test_missing_iface(void **state)
{
	struct plan	*plan;
	char		*root = fixture("mlx5");
	const char	*names[] = { "eth0", "eth9", NULL };
	struct run	 run = { .sysroot = root, .ifaces = names };

	(void)state;
	assert_int_equal(discover(&run, &plan), -ENODEV);
	assert_int_equal(count_warnings(plan, "eth9: no such interface",
	    "mlx5/sys/class/net/eth9", NULL), 1);
	plan_free(plan);
	free(root);
}

/* ---- Trees built at test time. ---- */

struct gen {
	char	 root[64];
};

static void
gen_mkdirs(const char *path)
{
	char	 buf[PATH_MAX], *p;

	assert_true(strlen(path) < sizeof(buf));
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static char *
gen_path(const struct gen *g, const char *fmt, va_list ap)
{
	char	*rel, *path;

	assert_true(vasprintf(&rel, fmt, ap) >= 0);
	assert_non_null(path = sysroot_path(g->root, "%s", rel));
	free(rel);
	return path;
}

static void
gen_parent(const char *path)
{
	char	*dir = strdup(path);

	assert_non_null(dir);
	*strrchr(dir, '/') = '\0';
	gen_mkdirs(dir);
	free(dir);
}

/* Writes text to a file below the tree, making its directories. */
static void LOG_PRINTF(3, 4)
gen_write(const struct gen *g, const char *text, const char *fmt, ...)
{
	va_list	 ap;
	char	*path;
	FILE	*f;

	va_start(ap, fmt);
	path = gen_path(g, fmt, ap);
	va_end(ap);
	gen_parent(path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static void LOG_PRINTF(2, 3)
gen_dir(const struct gen *g, const char *fmt, ...)
{
	va_list	 ap;
	char	*path;

	va_start(ap, fmt);
	path = gen_path(g, fmt, ap);
	va_end(ap);
	gen_mkdirs(path);
	free(path);
}

static void LOG_PRINTF(3, 4)
gen_link(const struct gen *g, const char *target, const char *fmt, ...)
{
	va_list	 ap;
	char	*path;

	va_start(ap, fmt);
	path = gen_path(g, fmt, ap);
	va_end(ap);
	gen_parent(path);
	if (symlink(target, path) != 0)
		fail_msg("symlink %s: %s", path, strerror(errno));
	free(path);
}

static int
gen_setup(void **state)
{
	struct gen	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	strcpy(g->root, "/tmp/topology_unit.XXXXXX");
	if (mkdtemp(g->root) == NULL) {
		free(g);
		return -1;
	}
	*state = g;
	return 0;
}

static int
gen_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
gen_teardown(void **state)
{
	struct gen	*g = *state;
	int		 r;

	r = nftw(g->root, gen_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(g);
	return r;
}

static void
gen_cpus(const struct gen *g, const char *online)
{
	gen_write(g, online, "sys/devices/system/cpu/online");
	gen_write(g, online, "sys/devices/system/cpu/possible");
}

/* /proc/interrupts: a header for ncpus and rows "IRQ: counts chip name". */
static void
gen_interrupts(const struct gen *g, unsigned int ncpus, const char *rows)
{
	char		*path;
	unsigned int	 i;
	FILE		*f;

	assert_non_null(path = sysroot_path(g->root, "proc/interrupts"));
	gen_parent(path);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%*s", 4, "");
	for (i = 0; i < ncpus; i++)
		fprintf(f, "CPU%-8u", i);
	fprintf(f, "\n%s", rows);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* One IRQ: its action directory and its affinity files. */
static void
gen_irq(const struct gen *g, unsigned int irq, const char *name,
    const char *effective, const char *smp_list)
{
	if (name != NULL)
		gen_dir(g, "proc/irq/%u/%s", irq, name);
	if (effective != NULL) {
		gen_write(g, effective, "proc/irq/%u/effective_affinity_list",
		    irq);
	}
	if (smp_list != NULL)
		gen_write(g, smp_list, "proc/irq/%u/smp_affinity_list", irq);
}

/*
 * A PCI NIC laid out as sysfs does: sys/class/net/IF links to the netdev
 * below its PCI device, which holds msi_irqs and the driver link.
 */
static void
gen_nic(const struct gen *g, const char *ifname, const char *bdf,
    const char *driver, unsigned int nqueues, unsigned int first_irq,
    unsigned int nirqs)
{
	char		 target[256];
	unsigned int	 i;

	snprintf(target, sizeof(target), "../../devices/pci0000:00/%s/net/%s",
	    bdf, ifname);
	gen_link(g, target, "sys/class/net/%s", ifname);
	snprintf(target, sizeof(target), "../../../%s", bdf);
	gen_link(g, target, "sys/devices/pci0000:00/%s/net/%s/device", bdf,
	    ifname);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s",
	    driver);
	gen_dir(g, "sys/bus/pci/drivers/%s", driver);
	gen_link(g, target, "sys/devices/pci0000:00/%s/driver", bdf);
	for (i = 0; i < nirqs; i++)
		gen_write(g, "msix\n", "sys/devices/pci0000:00/%s/msi_irqs/%u",
		    bdf, first_irq + i);
	for (i = 0; i < nqueues; i++) {
		gen_write(g, "0\n", "sys/devices/pci0000:00/%s/net/%s/queues/"
		    "rx-%u/rps_cpus", bdf, ifname, i);
		gen_dir(g, "sys/devices/pci0000:00/%s/net/%s/queues/tx-%u",
		    bdf, ifname, i);
	}
	gen_write(g, "0\n", "sys/devices/pci0000:00/%s/net/%s/threaded", bdf,
	    ifname);
}

/* A virtual interface (lo, veth, bond): no device link. */
static void
gen_virtual(const struct gen *g, const char *ifname, unsigned int nqueues)
{
	char		 target[256];
	unsigned int	 i;

	snprintf(target, sizeof(target), "../../devices/virtual/net/%s",
	    ifname);
	gen_link(g, target, "sys/class/net/%s", ifname);
	for (i = 0; i < nqueues; i++)
		gen_write(g, "0\n", "sys/devices/virtual/net/%s/queues/"
		    "rx-%u/rps_cpus", ifname, i);
}

/* Stacks upper on lower, as the kernel links them. */
static void
gen_lower(const struct gen *g, const char *upper, const char *lower)
{
	char	 target[256];

	snprintf(target, sizeof(target), "../../../../class/net/%s",
	    lower);
	gen_link(g, target, "sys/devices/virtual/net/%s/lower_%s", upper,
	    lower);
}

/*
 * Two ixgbe ports with two queues each, on a 4-CPU machine: eth0's on
 * CPUs 0-1, eth1's on 2-3.
 */
static void
gen_two_nics(const struct gen *g)
{
	char		 rows[1024], cpu[8], name[32], ifname[8];
	unsigned int	 port, q, irq;
	size_t		 len = 0;

	gen_cpus(g, "0-3\n");
	for (port = 0; port < 2; port++) {
		snprintf(name, sizeof(name), "0000:04:00.%u", port);
		snprintf(ifname, sizeof(ifname), "eth%u", port);
		gen_nic(g, ifname, name, "ixgbe", 2, 40 + port * 3, 3);
		for (q = 0; q < 3; q++) {
			irq = 40 + port * 3 + q;
			if (q == 0)
				snprintf(name, sizeof(name), "eth%u", port);
			else
				snprintf(name, sizeof(name), "eth%u-TxRx-%u",
				    port, q - 1);
			snprintf(cpu, sizeof(cpu), "%u\n", q == 0 ? 0 :
			    port * 2 + q - 1);
			gen_irq(g, irq, name, cpu, "0-3\n");
			len += (size_t)snprintf(rows + len, sizeof(rows) - len,
			    " %u:  0  0  0  0  PCI-MSI-edge  %s\n", irq, name);
		}
	}
	gen_interrupts(g, 4, rows);
	gen_virtual(g, "lo", 1);
}

/*
 * A 256-queue NIC on a 4096-CPU machine, its queue IRQs on CPUs
 * 4000-4095: masks far past one cpu_set_t, and queues q and q+96 sharing
 * a CPU and so a worker.
 */
static void
test_4096_cpus(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	struct run	 run = { .sysroot = g->root };
	char		 name[64], cpu[16], *path, *allowed;
	unsigned int	 q, i;
	FILE		*f;

	gen_cpus(g, "0-4095\n");
	gen_nic(g, "ens1f0np0", "0000:5e:00.0", "mlx5_core", 256, 100, 257);
	gen_irq(g, 356, "mlx5_async0@pci:0000:5e:00.0", "0\n", "0-4095\n");
	assert_non_null(path = sysroot_path(g->root, "proc/interrupts"));
	gen_parent(path);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%*s", 11, "");
	for (i = 0; i < 4096; i++)
		fprintf(f, "CPU%-8u", i);
	fprintf(f, "\n");
	for (q = 0; q <= 256; q++) {
		if (q < 256)
			snprintf(name, sizeof(name),
			    "mlx5_comp%u@pci:0000:5e:00.0", q);
		else
			snprintf(name, sizeof(name),
			    "mlx5_async0@pci:0000:5e:00.0");
		fprintf(f, "%4u: ", 100 + q);
		for (i = 0; i < 4096; i++)
			fprintf(f, "%10u ", i == 4000 + q % 96 ? 7u : 0u);
		fprintf(f, " PCI-MSIX-0000:5e:00.0 %u-edge      %s\n", q, name);
		if (q == 256)
			break;
		snprintf(cpu, sizeof(cpu), "%u\n", 4000 + q % 96);
		gen_irq(g, 100 + q, name, cpu, "0-4095\n");
	}
	assert_int_equal(fclose(f), 0);
	free(path);

	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->topo->nifaces, 1);
	assert_string_equal(plan->topo->ifaces[0].name, "ens1f0np0");
	assert_string_equal(plan->topo->ifaces[0].driver, "mlx5_core");
	assert_int_equal(plan->topo->ifaces[0].source, TOPO_SOURCE_IRQ);
	assert_int_equal(plan->topo->ifaces[0].nqueues, 256);
	for (q = 0; q < 256; q++) {
		snprintf(cpu, sizeof(cpu), "%u", 4000 + q % 96);
		assert_int_equal(plan->topo->ifaces[0].queues[q].queue, q);
		assert_int_equal(plan->topo->ifaces[0].queues[q].irq, 100 + q);
		assert_int_equal(plan->topo->ifaces[0].queues[q].cpu,
		    4000 + q % 96);
		assert_string_equal(plan->topo->ifaces[0].queues[q].irq_cpus,
		    cpu);
		assert_null(plan->topo->ifaces[0].queues[q].rps_cpus);
	}
	assert_int_equal(plan->nworkers, 96);
	for (i = 0; i < 96; i++) {
		assert_int_equal(plan->workers[i].id, i);
		assert_int_equal(plan->workers[i].cpu, 4000 + i);
		assert_int_equal(plan->workers[i].queues.n, i < 64 ? 3 : 2);
		snprintf(name, sizeof(name), "ens1f0np0:%u", i + 96);
		assert_string_equal(plan->workers[i].queues.v[1], name);
	}
	assert_non_null(allowed = cpuset_format_list(plan->topo->allowed));
	assert_string_equal(allowed, "0-4095");
	free(allowed);
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);

	run.workers = TOPO_WORKERS_CPUS;
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->nworkers, 4096);
	assert_int_equal(plan->workers[4095].cpu, 4095);
	assert_int_equal(plan->workers[4000].queues.n, 3);
	assert_int_equal(plan->workers[3999].queues.n, 0);
	plan_free(plan);
}

/* A bond over two NICs and a VLAN over the bond list the NICs. */
static void
test_stacked(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*bond[] = { "bond0", NULL };
	const char	*vlan[] = { "bond0.100", "eth1", NULL };
	const char	*loop[] = { "loopa", NULL };
	const char	*gone[] = { "bond1", NULL };
	const char	*map =
	    "eth0 ixgbe irq 0=41@0[0] 1=42@1[1]\n"
	    "eth1 ixgbe irq 0=44@2[2] 1=45@3[3]\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n"
	    "w2@2 eth1:0\n"
	    "w3@3 eth1:1\n";
	struct run	 run = { .sysroot = g->root, .ifaces = bond };

	gen_two_nics(g);
	gen_virtual(g, "bond0", 16);
	gen_lower(g, "bond0", "eth0");
	gen_lower(g, "bond0", "eth1");
	gen_virtual(g, "bond0.100", 1);
	gen_lower(g, "bond0.100", "bond0");
	gen_virtual(g, "loopa", 1);
	gen_virtual(g, "loopb", 1);
	gen_lower(g, "loopa", "loopb");
	gen_lower(g, "loopb", "loopa");
	gen_virtual(g, "bond1", 1);
	gen_lower(g, "bond1", "eth0");
	gen_lower(g, "bond1", "eth7");

	plan = expect_map(&run, map);
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	/* eth1, under the VLAN and asked for again, is listed once. */
	run.ifaces = vlan;
	plan = expect_map(&run, map);
	plan_free(plan);
	/* Every interface: the hardware ones only. */
	run.ifaces = NULL;
	plan = expect_map(&run, map);
	plan_free(plan);
	/* A loop of stacked devices is reported, not followed forever. */
	run.ifaces = loop;
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->topo->nifaces, 0);
	assert_int_equal(count_warnings(plan, "loopa: stacked devices loop",
	    "(loopa -> loopb -> loopa)", NULL), 1);
	plan_free(plan);
	/* A lower device that went away is skipped, and said so. */
	run.ifaces = gone;
	plan = expect_map(&run,
	    "eth0 ixgbe irq 0=41@0[0] 1=42@1[1]\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n");
	assert_int_equal(count_warnings(plan, "bond1: lower device eth7 is "
	    "gone", NULL), 1);
	plan_free(plan);
}

/*
 * RPS overrides the IRQ's CPU on the queues that set it, on any device;
 * both are reported.  A virtual device with RPS has source "rps".
 */
static void
test_rps(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", "lo", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };

	gen_two_nics(g);
	gen_write(g, "c\n", "sys/class/net/eth0/queues/rx-1/rps_cpus");
	gen_write(g, "8\n", "sys/class/net/lo/queues/rx-0/rps_cpus");
	plan = expect_map(&run,
	    "eth0 ixgbe irq 0=41@0[0] 1=42@2[1]{2-3}\n"
	    "lo unknown rps 0=-@3{3}\n"
	    "w0@0 eth0:0\n"
	    "w1@2 eth0:1\n"
	    "w2@3 lo:0\n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
}

/*
 * No per-queue IRQ and no RPS: one worker per allowed CPU, said so; as a
 * warning but for loopback, where it is expected.
 */
static void
test_fallback(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "lo", NULL };
	const char	*veth[] = { "veth1", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };

	gen_two_nics(g);
	plan = expect_map(&run,
	    "lo unknown cpus 0=-@-\n"
	    "w0@0 \n"
	    "w1@1 \n"
	    "w2@2 \n"
	    "w3@3 \n");
	assert_int_equal(nwarnings(plan), 0);
	plan_free(plan);
	gen_virtual(g, "veth1", 1);
	run.ifaces = veth;
	plan = expect_map(&run,
	    "veth1 unknown cpus 0=-@-\n"
	    "w0@0 \n"
	    "w1@1 \n"
	    "w2@2 \n"
	    "w3@3 \n");
	assert_int_equal(count_warnings(plan, "veth1: no per-queue IRQs and "
	    "no RPS; one worker per allowed CPU", NULL), 1);
	assert_int_equal(nwarnings(plan), 1);
	plan_free(plan);
	run.ifaces = names;
	run.exclude_cpus = "0";
	plan = expect_map(&run,
	    "lo unknown cpus 0=-@-\n"
	    "w0@1 \n"
	    "w1@2 \n"
	    "w2@3 \n");
	plan_free(plan);
}

/*
 * With no hardware interface, every interface but lo is listed; a virtual
 * interface takes no IRQ, whatever the IRQ names say.
 */
static void
test_auto_virtual(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	struct run	 run = { .sysroot = g->root };

	gen_cpus(g, "0-1\n");
	/* A container: the host's NIC IRQs are named after its own eth0. */
	gen_interrupts(g, 2, " 30:  5  0  PCI-MSI-edge  eth0-TxRx-0\n");
	gen_virtual(g, "lo", 1);
	gen_virtual(g, "veth1", 2);
	gen_virtual(g, "eth0", 1);
	gen_write(g, "bond0\n", "sys/class/net/bonding_masters");
	plan = expect_map(&run,
	    "eth0 unknown cpus 0=-@-\n"
	    "veth1 unknown cpus 0=-@- 1=-@-\n"
	    "w0@0 \n"
	    "w1@1 \n");
	assert_int_equal(nwarnings(plan), 2);
	plan_free(plan);
}

/* Broken affinity files: a warning naming the file, never a crash. */
static void
test_bad_affinity(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", "eth1", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };
	char		*path;

	gen_two_nics(g);
	/* Unreadable: a directory where the file should be. */
	assert_non_null(path = sysroot_path(g->root,
	    "proc/irq/42/effective_affinity_list"));
	assert_int_equal(unlink(path), 0);
	gen_dir(g, "proc/irq/42/effective_affinity_list");
	/* Malformed. */
	gen_write(g, "zz\n", "proc/irq/44/effective_affinity_list");
	gen_write(g, "not a mask\n", "sys/class/net/eth1/queues/rx-1/"
	    "rps_cpus");
	gen_write(g, "yes\n", "sys/class/net/eth1/threaded");
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(count_warnings(plan, "eth0: queue 1", path, NULL), 1);
	free(path);
	assert_non_null(path = sysroot_path(g->root,
	    "proc/irq/44/effective_affinity_list"));
	assert_int_equal(count_warnings(plan, "eth1: queue 0", path, NULL), 1);
	free(path);
	assert_non_null(path = sysroot_path(g->root,
	    "sys/class/net/eth1/queues/rx-1/rps_cpus"));
	assert_int_equal(count_warnings(plan, "eth1: queue 1", path, NULL), 1);
	free(path);
	assert_non_null(path = sysroot_path(g->root,
	    "sys/class/net/eth1/threaded"));
	assert_int_equal(count_warnings(plan, "eth1: malformed", path, NULL),
	    1);
	free(path);
	/* The IRQs are still known; the queues' CPUs are not. */
	assert_int_equal(plan->topo->ifaces[0].queues[1].irq, 42);
	assert_int_equal(plan->topo->ifaces[0].queues[1].cpu, -1);
	assert_int_equal(plan->topo->ifaces[1].queues[0].irq, 44);
	assert_int_equal(plan->topo->ifaces[1].queues[0].cpu, -1);
	assert_int_equal(plan->topo->ifaces[1].queues[1].cpu, 3);
	assert_int_equal(plan->nworkers, 2);
	plan_free(plan);
}

/*
 * A move in progress: smp_affinity_list names one CPU the kernel does not
 * deliver to yet.  The queue stays where it is processed now, and says
 * where it goes; a list of several CPUs is no move.
 */
static void
test_irq_moving(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", "eth1", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };

	gen_two_nics(g);
	gen_write(g, "3\n", "proc/irq/41/smp_affinity_list");
	gen_write(g, "1\n", "proc/irq/42/smp_affinity_list");
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->topo->ifaces[0].queues[0].cpu, 0);
	assert_int_equal(plan->topo->ifaces[0].queues[0].moving_to, 3);
	/* Written and delivered: settled. */
	assert_int_equal(plan->topo->ifaces[0].queues[1].cpu, 1);
	assert_int_equal(plan->topo->ifaces[0].queues[1].moving_to, -1);
	/* "0-3": not a move to one CPU. */
	assert_int_equal(plan->topo->ifaces[1].queues[0].moving_to, -1);
	plan_free(plan);
	/* It arrived. */
	gen_write(g, "3\n", "proc/irq/41/effective_affinity_list");
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->topo->ifaces[0].queues[0].cpu, 3);
	assert_int_equal(plan->topo->ifaces[0].queues[0].moving_to, -1);
	plan_free(plan);
}

/* irqmap's warnings about /proc/interrupts reach the caller. */
static void
test_bad_interrupts(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };
	char		*path;

	gen_two_nics(g);
	gen_interrupts(g, 4,
	    " 40:  0  0  0  0  PCI-MSI-edge  eth0\n"
	    " 41:  0  0  0  0  PCI-MSI-edge  eth0-TxRx-0\n"
	    " 4x2: 0  zero  PCI-MSI-edge  eth0-TxRx-1\n");
	assert_int_equal(discover(&run, &plan), 0);
	assert_non_null(path = sysroot_path(g->root, "proc/interrupts"));
	assert_int_equal(count_warnings(plan, path, NULL), 1);
	free(path);
	/* Names come from /proc/irq/N first: both queues are still found. */
	assert_int_equal(plan->topo->ifaces[0].queues[0].irq, 41);
	assert_int_equal(plan->topo->ifaces[0].queues[1].irq, 42);
	plan_free(plan);
}

/*
 * Without /proc/interrupts the names come from /proc/irq/N alone; without
 * the online CPUs nothing can be planned.
 */
static void
test_missing_files(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth1", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };
	char		*path;

	gen_two_nics(g);
	assert_non_null(path = sysroot_path(g->root, "proc/interrupts"));
	assert_int_equal(unlink(path), 0);
	plan = expect_map(&run,
	    "eth1 ixgbe irq 0=44@2[2] 1=45@3[3]\n"
	    "w0@2 eth1:0\n"
	    "w1@3 eth1:1\n");
	assert_int_equal(count_warnings(plan, "cannot read ", path,
	    strerror(ENOENT), NULL), 1);
	assert_int_equal(nwarnings(plan), 1);
	plan_free(plan);
	free(path);

	assert_non_null(path = sysroot_path(g->root,
	    "sys/devices/system/cpu/online"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(discover(&run, &plan), -ENOENT);
	assert_int_equal(count_warnings(plan, "cannot tell which CPUs", path,
	    NULL), 1);
	plan_free(plan);
	free(path);
}

/*
 * Two IRQs named for one queue (the same netdev name in another network
 * namespace): the lower one is used, and a warning says so.
 */
static void
test_contested(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };

	gen_two_nics(g);
	gen_write(g, "msix\n",
	    "sys/devices/pci0000:00/0000:04:00.0/msi_irqs/46");
	gen_irq(g, 46, "eth0-TxRx-1", "3\n", "0-3\n");
	plan = expect_map(&run,
	    "eth0 ixgbe irq 0=41@0[0] 1=42@1[1]\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n");
	assert_int_equal(count_warnings(plan, "eth0: queue 1: IRQs 42 and 46 "
	    "both name it; using IRQ 42", NULL), 1);
	assert_int_equal(nwarnings(plan), 1);
	plan_free(plan);
}

/* ---- Printers. ---- */

static void
json_check_string_or_null(json_t *obj, const char *key)
{
	json_t	*v = json_object_get(obj, key);

	assert_non_null(v);
	assert_true(json_is_string(v) || json_is_null(v));
}

static void
json_check_queue(json_t *q)
{
	json_t	*v;

	assert_true(json_is_integer(json_object_get(q, "queue")));
	v = json_object_get(q, "irq");
	assert_true(json_is_integer(v) || json_is_null(v));
	v = json_object_get(q, "cpu");
	assert_true(json_is_integer(v) || json_is_null(v));
	json_check_string_or_null(q, "irq_cpus");
	json_check_string_or_null(q, "rps_cpus");
}

/* The document "topology --json" prints, as text and read back. */
static json_t *
print_json(const struct plan *plan)
{
	json_error_t	 err;
	json_t		*doc;
	char		*buf;

	assert_non_null(doc = topology_json(plan));
	buf = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	assert_non_null(buf);
	if ((doc = json_loads(buf, 0, &err)) == NULL)
		fail_msg("not JSON: %s: %s", err.text, buf);
	free(buf);
	return doc;
}

/* The "topology --json" contract, read back. */
static void
test_json(void **state)
{
	struct gen	*g = *state;
	struct plan	*plan;
	const char	*names[] = { "eth0", "veth1", NULL };
	struct run	 run = { .sysroot = g->root, .ifaces = names };
	json_t		*doc, *ifaces, *ifc, *q, *w, *v;
	size_t		 i, j;

	gen_two_nics(g);
	/* Not lo, whose fallback is no warning: the list gets one. */
	gen_virtual(g, "veth1", 1);
	assert_int_equal(discover(&run, &plan), 0);
	doc = print_json(plan);
	plan_free(plan);

	ifaces = json_object_get(doc, "interfaces");
	assert_true(json_is_array(ifaces));
	assert_int_equal(json_array_size(ifaces), 2);
	json_array_foreach(ifaces, i, ifc) {
		assert_true(json_is_string(json_object_get(ifc, "name")));
		assert_true(json_is_string(json_object_get(ifc, "driver")));
		assert_true(json_is_string(json_object_get(ifc, "source")));
		assert_true(json_is_array(json_object_get(ifc, "queues")));
		json_array_foreach(json_object_get(ifc, "queues"), j, q)
			json_check_queue(q);
	}
	ifc = json_array_get(ifaces, 0);
	assert_string_equal(json_string_value(json_object_get(ifc, "name")),
	    "eth0");
	assert_string_equal(json_string_value(json_object_get(ifc, "driver")),
	    "ixgbe");
	assert_string_equal(json_string_value(json_object_get(ifc, "source")),
	    "irq");
	q = json_array_get(json_object_get(ifc, "queues"), 1);
	assert_int_equal(json_integer_value(json_object_get(q, "queue")), 1);
	assert_int_equal(json_integer_value(json_object_get(q, "irq")), 42);
	assert_int_equal(json_integer_value(json_object_get(q, "cpu")), 1);
	assert_string_equal(json_string_value(json_object_get(q, "irq_cpus")),
	    "1");
	assert_true(json_is_null(json_object_get(q, "rps_cpus")));
	/* veth1: no IRQ and no CPU, both null. */
	ifc = json_array_get(ifaces, 1);
	assert_string_equal(json_string_value(json_object_get(ifc, "source")),
	    "cpus");
	q = json_array_get(json_object_get(ifc, "queues"), 0);
	assert_true(json_is_null(json_object_get(q, "irq")));
	assert_true(json_is_null(json_object_get(q, "cpu")));
	assert_true(json_is_null(json_object_get(q, "irq_cpus")));

	v = json_object_get(doc, "workers");
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 2);
	json_array_foreach(v, i, w) {
		assert_int_equal(json_integer_value(json_object_get(w, "id")),
		    i);
		assert_int_equal(json_integer_value(json_object_get(w, "cpu")),
		    i);
		assert_true(json_is_array(json_object_get(w, "queues")));
	}
	w = json_array_get(v, 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(w, "queues"), 0)), "eth0:1");
	assert_string_equal(json_string_value(json_object_get(doc,
	    "allowed_cpus")), "0-3");
	v = json_object_get(doc, "warnings");
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 1);
	json_decref(doc);
}

static void
test_table(void **state)
{
	struct plan	*plan;
	char		*root = fixture("i40e"), *buf = NULL;
	struct run	 run = { .sysroot = root };
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(discover(&run, &plan), 0);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(topology_print_table(f, plan), 0);
	assert_int_equal(fclose(f), 0);
	print_message("%s", buf);
	assert_non_null(strstr(buf, "eth0  driver i40e  source irq\n"));
	assert_non_null(strstr(buf, "eth1  driver i40e  source cpus\n"));
	assert_non_null(strstr(buf, "  queue  irq  cpu  irq_cpus  rps_cpus\n"
	    "      0   33    0  0         -\n"));
	assert_non_null(strstr(buf, "      0    -    -  -         -\n"));
	assert_non_null(strstr(buf, "  worker  cpu  queues\n"
	    "       0    0  eth0:0\n"));
	assert_non_null(strstr(buf, "allowed CPUs: 0-3\n"));
	plan_free(plan);
	free(buf);
	free(root);
}

/* ---- The netdev netlink family, through a stand-in for the kernel. ---- */

/* What the stand-in answers, and what it was asked. */
static struct {
	int				 error;
	const struct netdev_nl_rxq	*rxq;
	size_t				 nrxq;
	unsigned int			 asked[8];
	size_t				 nasked;
} nl_fake;

static int
nl_fake_rx_irqs(unsigned int ifindex, struct netdev_nl_rxq **rxq,
    size_t *nrxq)
{
	*rxq = NULL;
	*nrxq = 0;
	assert_true(nl_fake.nasked < ARRAY_SIZE(nl_fake.asked));
	nl_fake.asked[nl_fake.nasked++] = ifindex;
	if (nl_fake.error < 0)
		return nl_fake.error;
	/* Handed over like the real answer: the caller frees it. */
	assert_non_null(*rxq = calloc(nl_fake.nrxq + 1, sizeof(**rxq)));
	memcpy(*rxq, nl_fake.rxq, nl_fake.nrxq * sizeof(**rxq));
	*nrxq = nl_fake.nrxq;
	return 0;
}

static void
nl_fake_set(int error, const struct netdev_nl_rxq *rxq, size_t nrxq)
{
	memset(&nl_fake, 0, sizeof(nl_fake));
	nl_fake.error = error;
	nl_fake.rxq = rxq;
	nl_fake.nrxq = nrxq;
}

/*
 * gen_two_nics() with ifindexes; the names tie eth0's queues 0 and 1 to
 * IRQs 41 and 42 (CPUs 0 and 1).
 */
static void
gen_two_nics_ifindex(const struct gen *g)
{
	gen_two_nics(g);
	gen_write(g, "2\n",
	    "sys/devices/pci0000:00/0000:04:00.0/net/eth0/ifindex");
	gen_write(g, "3\n",
	    "sys/devices/pci0000:00/0000:04:00.1/net/eth1/ifindex");
}

/*
 * An IRQ for every RX queue: netlink's map wins over the names (here
 * crossed, as when names and vectors disagree), and the CPU still comes
 * from each IRQ's affinity.
 */
static void
test_netlink(void **state)
{
	const struct netdev_nl_rxq	 ans[] = { { 1, 41 }, { 0, 42 } };
	struct gen			*g = *state;
	struct plan			*plan;
	const char			*names[] = { "eth0", NULL };
	struct run			 run = { .sysroot = g->root,
					    .ifaces = names,
					    .netlink = nl_fake_rx_irqs };

	gen_two_nics_ifindex(g);
	nl_fake_set(0, ans, ARRAY_SIZE(ans));
	plan = expect_map(&run,
	    "eth0 ixgbe netlink 0=42@1[1] 1=41@0[0]\n"
	    "w0@0 eth0:1\n"
	    "w1@1 eth0:0\n");
	assert_int_equal(nwarnings(plan), 0);
	assert_int_equal(nl_fake.nasked, 1);
	assert_int_equal(nl_fake.asked[0], 2);
	plan_free(plan);
}

/*
 * A partial answer (queue 1 unlinked), an answer about queues sysfs does
 * not list, and no answer at all: the names decide, silently.
 */
static void
test_netlink_partial(void **state)
{
	const struct netdev_nl_rxq	 part[] = { { 0, 43 } };
	const struct netdev_nl_rxq	 other[] = { { 0, 43 }, { 1, 44 },
					    { 2, 45 } };
	const struct netdev_nl_rxq	 dup[] = { { 0, 43 }, { 0, 44 } };
	struct gen			*g = *state;
	struct plan			*plan;
	const char			*names[] = { "eth0", NULL };
	struct run			 run = { .sysroot = g->root,
					    .ifaces = names,
					    .netlink = nl_fake_rx_irqs };
	const char			*by_name =
	    "eth0 ixgbe irq 0=41@0[0] 1=42@1[1]\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n";

	gen_two_nics_ifindex(g);
	nl_fake_set(0, part, ARRAY_SIZE(part));
	plan = expect_map(&run, by_name);
	assert_int_equal(nwarnings(plan), 0);
	assert_int_equal(nl_fake.nasked, 1);
	plan_free(plan);

	/* Three queues named, the first two of them sysfs's: still whole. */
	nl_fake_set(0, other, ARRAY_SIZE(other));
	plan = expect_map(&run,
	    "eth0 ixgbe netlink 0=43@0[0] 1=44@2[2]\n"
	    "w0@0 eth0:0\n"
	    "w1@2 eth0:1\n");
	plan_free(plan);

	nl_fake_set(0, dup, ARRAY_SIZE(dup));
	plan = expect_map(&run, by_name);
	plan_free(plan);

	nl_fake_set(-ENOENT, NULL, 0);
	plan = expect_map(&run, by_name);
	assert_int_equal(nwarnings(plan), 0);
	assert_int_equal(nl_fake.nasked, 1);
	plan_free(plan);
}

/*
 * Nothing is asked for an interface without an ifindex file or without a
 * device (virtual: no IRQ of its own).
 */
static void
test_netlink_not_asked(void **state)
{
	const struct netdev_nl_rxq	 ans[] = { { 0, 42 }, { 1, 41 } };
	struct gen			*g = *state;
	struct plan			*plan;
	const char			*names[] = { "eth0", "lo", NULL };
	struct run			 run = { .sysroot = g->root,
					    .ifaces = names,
					    .netlink = nl_fake_rx_irqs };

	gen_two_nics(g);
	gen_write(g, "1\n", "sys/devices/virtual/net/lo/ifindex");
	nl_fake_set(0, ans, ARRAY_SIZE(ans));
	plan = expect_map(&run,
	    "eth0 ixgbe irq 0=41@0[0] 1=42@1[1]\n"
	    "lo unknown cpus 0=-@-\n"
	    "w0@0 eth0:0\n"
	    "w1@1 eth0:1\n");
	assert_int_equal(nl_fake.nasked, 0);
	plan_free(plan);
}

/* ---- This machine. ---- */

static int	 machine_irq;

/* The IRQ of eth0's first RX virtqueue, by its /proc/irq/N/<dev>-input.0. */
static int
machine_virtio_rx_irq(void)
{
	struct dirent	*de;
	DIR		*dir;
	char		 link[PATH_MAX], path[PATH_MAX * 2], *bus;
	ssize_t		 len;
	int		 irq = -1;

	len = readlink("/sys/class/net/eth0/device", link, sizeof(link) - 1);
	if (len <= 0)
		return -1;
	link[len] = '\0';
	bus = strrchr(link, '/') != NULL ? strrchr(link, '/') + 1 : link;
	if (strncmp(bus, "virtio", 6) != 0 || (dir = opendir("/proc/irq")) ==
	    NULL)
		return -1;
	while (irq < 0 && (de = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/irq/%s/%s-input.0",
		    de->d_name, bus);
		if (access(path, F_OK) == 0)
			irq = atoi(de->d_name);
	}
	closedir(dir);
	return irq;
}

static void
test_machine(void **state)
{
	struct plan	*plan;
	const char	*names[] = { "eth0", NULL };
	struct run	 run = { .sysroot = "/", .ifaces = names };

	(void)state;
	assert_int_equal(discover(&run, &plan), 0);
	assert_int_equal(plan->topo->nifaces, 1);
	assert_string_equal(plan->topo->ifaces[0].name, "eth0");
	assert_string_equal(plan->topo->ifaces[0].driver, "virtio_net");
	/* Netlink where the kernel and virtio_net link NAPIs to IRQs. */
	print_message("eth0: source %s\n",
	    topology_source_name(plan->topo->ifaces[0].source));
	assert_true(plan->topo->ifaces[0].source == TOPO_SOURCE_NETLINK ||
	    plan->topo->ifaces[0].source == TOPO_SOURCE_IRQ);
	assert_true(plan->topo->ifaces[0].nqueues >= 1);
	assert_int_equal(plan->topo->ifaces[0].queues[0].queue, 0);
	assert_int_equal(plan->topo->ifaces[0].queues[0].irq, machine_irq);
	assert_true(plan->topo->ifaces[0].queues[0].cpu >= 0);
	assert_true(plan->nworkers >= 1);
	plan_free(plan);
}

int
main(void)
{
	const struct CMUnitTest fixtures[] = {
		cmocka_unit_test(test_virtio),
		cmocka_unit_test(test_mlx5),
		cmocka_unit_test(test_relative_sysroot),
		cmocka_unit_test(test_ixgbe),
		cmocka_unit_test(test_i40e),
		cmocka_unit_test(test_discover_no_plan),
		cmocka_unit_test(test_ena),
		cmocka_unit_test(test_gve),
		cmocka_unit_test(test_tg3),
		cmocka_unit_test(test_vmxnet3),
		cmocka_unit_test(test_vmxnet3_intx),
		cmocka_unit_test(test_mana),
		cmocka_unit_test(test_workers_cpus),
		cmocka_unit_test(test_workers_list),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_no_workers),
		cmocka_unit_test(test_missing_iface),
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_4096_cpus, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_stacked, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_rps, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_fallback, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_auto_virtual, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_bad_affinity, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_irq_moving, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_bad_interrupts, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_contested, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_json, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_netlink, gen_setup,
		    gen_teardown),
		cmocka_unit_test_setup_teardown(test_netlink_partial,
		    gen_setup, gen_teardown),
		cmocka_unit_test_setup_teardown(test_netlink_not_asked,
		    gen_setup, gen_teardown),
	};
	const struct CMUnitTest machine[] = {
		cmocka_unit_test(test_machine),
	};
	int	 r;

	if ((r = cmocka_run_group_tests_name("fixtures", fixtures, NULL,
	    NULL)) != 0)
		return r;
	if ((machine_irq = machine_virtio_rx_irq()) < 0)
		unit_skip_all("this machine's eth0 has no virtio*-input.0 IRQ");
	return cmocka_run_group_tests_name("machine", machine, NULL, NULL);
}
