/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor*.c: every check's OK and its WARN or FAIL, on file trees made
 * here (proc, sys and etc below a sysroot) and plans written by hand in
 * the compact form "eth0 0=38@1[1] 1=39@0[0-3]{0-1}" (queue=IRQ@CPU,
 * the IRQ's CPUs, the RPS CPUs), with a stand-in for the steering
 * self-test; then the whole run on a driver fixture.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/irqcheck.h"
#include "topology/steer_selftest.h"
#include "topology/plan.h"
#include "topology/topology.h"
#include "tree.h"
#include "common/util.h"

#define FIXTURES	UNIT_SRCPATH("tests/fixtures/sysroot")

/* ---- Files, plans and reports. ---- */

/* One "Q=IRQ@CPU[IRQ_CPUS]{RPS_CPUS}" token; "-" for no IRQ or CPU. */
static void
parse_queue(const char *tok, struct topo_queue *q)
{
	const char	*p;
	char		*end;

	q->queue = (unsigned int)strtoul(tok, &end, 10);
	assert_true(*end == '=');
	p = end + 1;
	q->irq = *p == '-' ? -1 : (int)strtol(p, &end, 10);
	p = *p == '-' ? p + 1 : end;
	assert_true(*p == '@');
	p++;
	q->cpu = *p == '-' ? -1 : (int)strtol(p, &end, 10);
	p = *p == '-' ? p + 1 : end;
	if (*p == '[') {
		assert_non_null(end = strchr(p, ']'));
		assert_non_null(q->irq_cpus = strndup(p + 1,
		    (size_t)(end - p - 1)));
		p = end + 1;
	}
	if (*p == '{') {
		assert_non_null(end = strchr(p, '}'));
		assert_non_null(q->rps_cpus = strndup(p + 1,
		    (size_t)(end - p - 1)));
	}
}

/* One line: "IFACE token token ...". */
static void
parse_iface(char *line, struct topo_iface *ifc)
{
	char	*tok, *save = NULL;

	assert_non_null(tok = strtok_r(line, " ", &save));
	assert_non_null(ifc->name = strdup(tok));
	assert_non_null(ifc->driver = strdup("test"));
	ifc->source = TOPO_SOURCE_IRQ;
	assert_non_null(ifc->queues = calloc(16, sizeof(*ifc->queues)));
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		assert_true(ifc->nqueues < 16);
		parse_queue(tok, &ifc->queues[ifc->nqueues++]);
	}
}

/*
 * A plan: the map (lines as above), the CPUs the daemon may use, and the
 * worker CPUs (NULL: every allowed CPU that processes a queue).  Each
 * queue joins the worker of its CPU.
 */
static struct plan *
plan(const char *map, const char *allowed, const char *workers)
{
	struct plan		*plan;
	struct topology		*topo;
	struct plan_worker	*w;
	struct cpuset		*cpus;
	char			*text, *line, *save = NULL;
	size_t			 i, j, k;
	int			 cpu;

	assert_non_null(plan = calloc(1, sizeof(*plan)));
	assert_non_null(plan->topo = topo = calloc(1, sizeof(*topo)));
	assert_non_null(topo->ifaces = calloc(8, sizeof(*topo->ifaces)));
	assert_non_null(text = strdup(map));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		parse_iface(line, &topo->ifaces[topo->nifaces++]);
	free(text);
	assert_int_equal(cpuset_parse_list(allowed, &topo->allowed), 0);
	if (workers != NULL)
		assert_int_equal(cpuset_parse_list(workers, &cpus), 0);
	else {
		assert_non_null(cpus = cpuset_new());
		for (i = 0; i < topo->nifaces; i++)
			for (j = 0; j < topo->ifaces[i].nqueues; j++)
				if ((cpu = topo->ifaces[i].queues[j].cpu) >= 0 &&
				    cpuset_has(topo->allowed, (unsigned int)cpu))
					cpuset_add(cpus, (unsigned int)cpu);
	}
	assert_non_null(plan->workers = calloc(cpuset_count(cpus) + 1,
	    sizeof(*plan->workers)));
	CPUSET_FOREACH(cpu, cpus) {
		w = &plan->workers[plan->nworkers];
		w->id = (unsigned int)plan->nworkers++;
		w->cpu = (unsigned int)cpu;
		for (j = 0; j < topo->nifaces; j++)
			for (k = 0; k < topo->ifaces[j].nqueues; k++)
				if (topo->ifaces[j].queues[k].cpu == cpu)
					assert_int_equal(strv_addf(&w->queues,
					    "%s:%u", topo->ifaces[j].name,
					    topo->ifaces[j].queues[k].queue), 0);
	}
	cpuset_free(cpus);
	return plan;
}

/* The checks' view of a tree, a plan and the built-in defaults. */
struct host {
	struct doctor_host	 h;
	struct config		*conf;
	struct plan		*plan;
	struct doctor_report	 rep;
};

static void
host_init(struct host *host, struct tree *t, struct plan *plan)
{
	memset(host, 0, sizeof(*host));
	assert_non_null(host->conf = config_defaults());
	host->plan = plan;
	host->h.sysroot = t->dir;
	host->h.conf = host->conf;
	host->h.plan = plan;
}

static void
host_free(struct host *host)
{
	doctor_report_free(&host->rep);
	plan_free(host->plan);
	config_free(host->conf);
}

/* Starts the next case on the same host: a new report (and plan). */
static void
host_reset(struct host *host, struct plan *plan)
{
	doctor_report_free(&host->rep);
	if (plan != NULL) {
		plan_free(host->plan);
		host->plan = plan;
		host->h.plan = plan;
	}
}

static void
show(const struct doctor_report *rep)
{
	size_t	 i;

	for (i = 0; i < rep->n; i++)
		print_message("%s %s: %s%s%s\n",
		    doctor_status_name(rep->v[i].status), rep->v[i].check,
		    rep->v[i].why, rep->v[i].fix ? " / fix: " : "",
		    rep->v[i].fix ? rep->v[i].fix : "");
}

/*
 * Asserts that exactly n findings of check have status and hold every
 * word (NULL-terminated) in their why or fix.
 */
static void
expect_n(const struct doctor_report *rep, size_t n, const char *check,
    enum doctor_status status, ...)
{
	const struct doctor_finding	*f;
	const char			*word;
	va_list				 ap;
	size_t				 i, found = 0;
	int				 all;

	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		if (strcmp(f->check, check) != 0 || f->status != status)
			continue;
		all = 1;
		va_start(ap, status);
		while ((word = va_arg(ap, const char *)) != NULL)
			if (strstr(f->why, word) == NULL &&
			    (f->fix == NULL || strstr(f->fix, word) == NULL))
				all = 0;
		va_end(ap);
		found += all;
	}
	if (found != n) {
		show(rep);
		fail_msg("%zu %s findings of %s, not %zu", found,
		    doctor_status_name(status), check, n);
	}
	/* Anything not OK says how to fix it. */
	for (i = 0; i < rep->n; i++)
		assert_true(rep->v[i].status == DOCTOR_OK ||
		    rep->v[i].fix != NULL);
}

#define expect(rep, check, status, ...) \
	expect_n((rep), 1, (check), (status), __VA_ARGS__, NULL)

/* No finding of check but OK ones. */
static void
expect_all_ok(const struct doctor_report *rep, const char *check)
{
	size_t	 i;

	for (i = 0; i < rep->n; i++)
		if (strcmp(rep->v[i].check, check) == 0 &&
		    rep->v[i].status != DOCTOR_OK) {
			show(rep);
			fail_msg("%s is not OK", check);
		}
}

/* ---- The report. ---- */

static void
test_report(void **state)
{
	struct doctor_report	 rep = { 0 };
	struct doctor_finding	*f;
	struct strv		 lines = { 0 };
	size_t			 i;

	(void)state;
	for (i = 0; i < 40; i++) {
		f = doctor_add(&rep, "x", i % 3 == 0 ? DOCTOR_FAIL : DOCTOR_OK,
		    "finding %zu", i);
		assert_non_null(f);
		if (f->status == DOCTOR_FAIL)
			doctor_fix(&rep, f, "fix %zu", i);
	}
	assert_int_equal(rep.n, 40);
	assert_int_equal(doctor_count(&rep, DOCTOR_FAIL), 14);
	assert_int_equal(doctor_count(&rep, DOCTOR_OK), 26);
	assert_string_equal(rep.v[39].why, "finding 39");
	assert_string_equal(rep.v[39].fix, "fix 39");
	assert_null(rep.v[38].fix);
	assert_string_equal(doctor_status_name(DOCTOR_WARN), "WARN");
	doctor_fix(&rep, NULL, "nothing happens");
	assert_int_equal(rep.nomem, 0);
	/* The daemon's lines: the findings that are not OK, with the fix. */
	assert_int_equal(doctor_warnings(&rep, &lines), 0);
	assert_int_equal(lines.n, 14);
	assert_string_equal(lines.v[13], "finding 39; fix: fix 39");
	strv_free(&lines);
	doctor_report_free(&rep);
	assert_int_equal(rep.n, 0);
}

/* ---- irqbalance. ---- */

static void
test_irqbalance_pid(void **state)
{
	struct tree	*t = *state;

	tree_putf(t, "sshd\n", "proc/1/comm");
	tree_putf(t, "irqbalance-helper\n", "proc/17/comm");
	tree_putf(t, "", "proc/self/comm");
	assert_int_equal(irqcheck_irqbalance_pid(t->dir), 0);
	tree_putf(t, "irqbalance\n", "proc/4242/comm");
	assert_int_equal(irqcheck_irqbalance_pid(t->dir), 4242);
	/* No proc at all: an error, not a find. */
	assert_int_equal(irqcheck_irqbalance_pid("/nonexistent/doctor"),
	    -ENOENT);
}

static void
irqbalance(struct host *host)
{
	host_reset(host, NULL);
	assert_int_equal(doctor_check_irqbalance(host->h.sysroot,
	    host->plan->topo, &host->rep), 0);
}

static void
test_irqbalance(void **state)
{
	struct tree	*t = *state;
	struct host	 host;
	static const char cmdline[] = "/usr/sbin/irqbalance\0--foreground\0"
	    "-i\0" "38\0";

	host_init(&host, t, plan("eth0 0=38@0[0] 1=39@1[1]", "0-1", NULL));
	tree_putf(t, "sshd\n", "proc/1/comm");
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_OK, "not running");

	/* Running, told nothing: it will move both. */
	tree_putf(t, "irqbalance\n", "proc/700/comm");
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_FAIL, "pid 700", "38, 39",
	    "--banirq=38 --banirq=39", "systemctl disable --now irqbalance");

	/* One banned on its command line, one in the Debian file. */
	{
		char	*path;
		FILE	*f;

		assert_non_null(path = sysroot_path(t->dir,
		    "proc/700/cmdline"));
		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(fwrite(cmdline, 1, sizeof(cmdline) - 1, f),
		    sizeof(cmdline) - 1);
		assert_int_equal(fclose(f), 0);
		free(path);
	}
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_FAIL, "queue IRQs 39 ",
	    "--banirq=39\"");
	tree_putf(t, "# IRQBALANCE_ARGS=\"--banirq=1\"\n"
	    "IRQBALANCE_BANNED_CPUS=\"00000001\"\n"
	    "IRQBALANCE_ARGS=\"--banirq 39 --foreground\"\n",
	    "etc/default/irqbalance");
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_OK, "leaves all 2 queue IRQs "
	    "alone", "default/irqbalance");

	/* The banned CPUs alone do not keep it off the queue IRQs. */
	tree_putf(t, "IRQBALANCE_BANNED_CPULIST=0-1\n", "etc/default/irqbalance");
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_FAIL, "queue IRQs 39 ",
	    "IRQBALANCE_BANNED_CPULIST=0-1", "banned CPUs only");

	/* A policy script may ban them: a warning, not a failure. */
	tree_putf(t, "OPTIONS=\"--policyscript=/etc/irqbalance.d/policy\"\n",
	    "etc/sysconfig/irqbalance");
	tree_putf(t, "", "etc/default/irqbalance");
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_WARN, "/etc/irqbalance.d/policy",
	    "ban=true for IRQs 39");

	/* No queue IRQ in the plan: nothing for it to move. */
	host_reset(&host, plan("lo 0=-@-", "0-1", "0-1"));
	irqbalance(&host);
	expect(&host.rep, "irqbalance", DOCTOR_OK, "no queue IRQ");
	host_free(&host);
}

/* ---- Queue IRQs and workers. ---- */

static void
queues(struct host *host, struct plan *plan)
{
	host_reset(host, plan);
	assert_int_equal(doctor_check_queues(&host->h, &host->rep), 0);
}

static void
test_queues(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	host_init(&host, t, NULL);
	queues(&host, plan("eth0 0=30@0[0] 1=31@1[1]", "0-3", NULL));
	expect(&host.rep, "irq-affinity", DOCTOR_OK, "each of the 2 queue "
	    "IRQs");
	assert_int_equal(host.rep.n, 1);

	/* Spread over several CPUs; on an excluded CPU; on an offline one. */
	assert_int_equal(cpuset_add(host.conf->exclude_cpus, 2), 0);
	tree_putf(t, "0-2\n", "sys/devices/system/cpu/online");
	queues(&host, plan("eth0 0=30@0[0-1] 1=31@2[2] 2=32@3[3] "
	    "3=33@0[0]{0-1}", "0-1", NULL));
	expect(&host.rep, "irq-affinity", DOCTOR_WARN, "eth0 queue 0: IRQ 30",
	    "any of CPUs 0-1", "echo 0 > /proc/irq/30/smp_affinity_list");
	expect(&host.rep, "irq-affinity", DOCTOR_WARN, "eth0 queue 1",
	    "CPU 2", "exclude_cpus");
	expect(&host.rep, "irq-affinity", DOCTOR_WARN, "eth0 queue 2",
	    "CPU 3", "offline");
	/* Where RPS decides, the IRQ's spread does not matter. */
	expect_n(&host.rep, 3, "irq-affinity", DOCTOR_WARN, NULL);
	assert_int_equal(host.rep.n, 3);

	/* No queue with an IRQ of its own. */
	queues(&host, plan("lo 0=-@-", "0-2", "0-2"));
	expect(&host.rep, "irq-affinity", DOCTOR_OK, "no queue of the plan");
	host_free(&host);
}

static void
test_irq_moved(void **state)
{
	struct tree	*t = *state;
	struct host	 host;
	char		*smp, *eff;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	tree_putf(t, "2\n", "proc/irq/30/smp_affinity_list");
	tree_putf(t, "2\n", "proc/irq/30/effective_affinity_list");
	host_init(&host, t, NULL);
	queues(&host, plan("eth0 0=30@2[2]", "0-3", NULL));
	expect_all_ok(&host.rep, "irq-affinity");
	assert_int_equal(host.rep.n, 1);

	/* Asked for CPU 2, still delivered to 0: it moves at its next IRQ. */
	tree_putf(t, "0\n", "proc/irq/30/effective_affinity_list");
	queues(&host, plan("eth0 0=30@0[0]", "0-3", NULL));
	assert_non_null(smp = sysroot_path(t->dir,
	    "proc/irq/30/smp_affinity_list"));
	assert_non_null(eff = sysroot_path(t->dir,
	    "proc/irq/30/effective_affinity_list"));
	expect(&host.rep, "irq-moved", DOCTOR_WARN, "IRQ 30 (eth0 queue 0)",
	    smp, "CPU 2", eff, "still says 0", "next interrupt", "rescan");
	assert_int_equal(host.rep.n, 1);

	/* Written by irqspread, refused by the kernel. */
	host_reset(&host, NULL);
	tree_putf(t, "0-1\n", "proc/irq/30/smp_affinity_list");
	assert_int_equal(doctor_check_irq_moved(t->dir, 30, "eth0 queue 0", 3,
	    &host.rep), 1);
	expect(&host.rep, "irq-moved", DOCTOR_WARN, "CPU 3 was written",
	    "did not take it", "says 0", "echo 3 >");
	/* Where it was sent: nothing to say. */
	host_reset(&host, NULL);
	assert_int_equal(doctor_check_irq_moved(t->dir, 30, "eth0 queue 0", 0,
	    &host.rep), 0);
	assert_int_equal(host.rep.n, 0);
	free(smp);
	free(eff);
	host_free(&host);
}

static void
workers(struct host *host, struct plan *plan)
{
	host_reset(host, plan);
	assert_int_equal(doctor_check_workers(&host->h, &host->rep), 0);
}

static void
test_workers(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	host_init(&host, t, NULL);
	workers(&host, plan("eth0 0=30@0[0] 1=31@1[1]", "0-3", NULL));
	expect(&host.rep, "queue-sharing", DOCTOR_OK, "no two queues");
	expect(&host.rep, "worker-queues", DOCTOR_OK, "every worker CPU");

	workers(&host, plan("eth0 0=30@0[0] 1=31@0[0]\neth1 0=40@0[0]",
	    "0-3", "0-3"));
	expect(&host.rep, "queue-sharing", DOCTOR_WARN, "CPU 0 processes 3 "
	    "queues (eth0:0, eth0:1, eth1:0)", "ethtool -L");
	expect(&host.rep, "worker-queues", DOCTOR_WARN, "CPUs 1-3",
	    "process no RX queue");

	/* Every interface fell back: one worker per CPU, by design. */
	workers(&host, plan("lo 0=-@-", "0-3", "0-3"));
	expect(&host.rep, "worker-queues", DOCTOR_OK, "no queue maps");
	assert_int_equal(host.rep.n, 1);
	host_free(&host);
}

/* ---- RPS, RFS, XPS, threaded NAPI. ---- */

static void
net(struct host *host, struct plan *plan,
    int (*check)(const struct doctor_host *, struct doctor_report *))
{
	host_reset(host, plan);
	assert_int_equal(check(&host->h, &host->rep), 0);
}

static void
test_rps_rfs(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	host_init(&host, t, NULL);
	net(&host, plan("eth0 0=30@0[0] 1=31@1[1]", "0-3", NULL),
	    doctor_check_rps);
	expect(&host.rep, "rps", DOCTOR_OK, "RPS is off");
	expect(&host.rep, "rfs", DOCTOR_OK, "RFS is off");

	net(&host, plan("veth0 0=-@2{2}", "0-3", NULL), doctor_check_rps);
	expect(&host.rep, "rps", DOCTOR_OK, "to one CPU");

	/* RPS over several CPUs; RFS on: the table and a flow count. */
	tree_putf(t, "32768\n", "proc/sys/net/core/rps_sock_flow_entries");
	net(&host, plan("eth0 0=30@0[0]{0-3}", "0-3", NULL), doctor_check_rps);
	expect(&host.rep, "rps", DOCTOR_WARN, "eth0 queue 0", "CPUs 0-3",
	    "queues/rx-0/rps_cpus");
	expect(&host.rep, "rfs", DOCTOR_OK, "RFS is off", "= 32768");
	tree_putf(t, "4096\n", "sys/class/net/eth0/queues/rx-0/rps_flow_cnt");
	net(&host, NULL, doctor_check_rps);
	expect(&host.rep, "rfs", DOCTOR_WARN, "RFS is on", "32768",
	    "rps_sock_flow_entries=0");
	tree_putf(t, "0\n", "proc/sys/net/core/rps_sock_flow_entries");
	net(&host, NULL, doctor_check_rps);
	expect(&host.rep, "rfs", DOCTOR_OK, "RFS is off");
	host_free(&host);
}

static void
test_xps_threaded(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	host_init(&host, t, NULL);
	tree_putf(t, "1\n", "sys/class/net/eth0/queues/tx-0/xps_cpus");
	net(&host, plan("eth0 0=30@0[0] 1=31@1[1]", "0-3", NULL),
	    doctor_check_xps);
	expect(&host.rep, "xps", DOCTOR_OK, "one TX queue");

	/* Two TX queues, both for CPU 0: CPU 1 sends on either. */
	tree_putf(t, "1\n", "sys/class/net/eth0/queues/tx-1/xps_cpus");
	net(&host, NULL, doctor_check_xps);
	expect(&host.rep, "xps", DOCTOR_WARN, "eth0: worker CPU 1 is in no",
	    "tx-N/xps_cpus");
	tree_putf(t, "2\n", "sys/class/net/eth0/queues/tx-1/xps_cpus");
	net(&host, NULL, doctor_check_xps);
	expect(&host.rep, "xps", DOCTOR_OK, "every worker CPU");

	tree_putf(t, "0\n", "sys/class/net/eth0/threaded");
	net(&host, NULL, doctor_check_threaded);
	expect(&host.rep, "threaded-napi", DOCTOR_OK, "softirq");
	tree_putf(t, "1\n", "sys/class/net/eth0/threaded");
	net(&host, NULL, doctor_check_threaded);
	expect(&host.rep, "threaded-napi", DOCTOR_WARN, "napi/eth0-",
	    "echo 0 > /sys/class/net/eth0/threaded");
	host_free(&host);
}

/* ---- The kernel's steering, as stand-ins for the self-test find it. ---- */

static enum steer_outcome	 fake_in, fake_bpf;
static char			*fake_cpus;	/* the CPUs it was given */

static int
fake_selftest(const struct cpuset *cpus, struct steer_result *res)
{
	struct steer_count	 all = { 16, 16, 0 }, half = { 16, 8, 0 };

	free(fake_cpus);
	assert_non_null(fake_cpus = cpuset_format_list(cpus));
	memset(res, 0, sizeof(*res));
	res->cpus[0] = cpuset_first(cpus);
	res->cpus[1] = cpuset_next(cpus, res->cpus[0]);
	res->incoming_cpu.outcome = fake_in;
	res->cbpf.outcome = fake_bpf;
	res->incoming_cpu.tcp = res->incoming_cpu.udp =
	    fake_in == STEER_STEERS ? all : half;
	res->cbpf.tcp = res->cbpf.udp = fake_bpf == STEER_STEERS ? all : half;
	if (fake_in == STEER_FAILED)
		snprintf(res->incoming_cpu.detail,
		    sizeof(res->incoming_cpu.detail), "socket: %s",
		    strerror(EACCES));
	if (fake_bpf == STEER_FAILED)
		snprintf(res->cbpf.detail, sizeof(res->cbpf.detail),
		    "socket: %s", strerror(EACCES));
	return 0;
}

static void
steering(struct host *host, enum steering conf, enum steer_outcome in,
    enum steer_outcome bpf)
{
	host->conf->steering = conf;
	fake_in = in;
	fake_bpf = bpf;
	net(host, NULL, doctor_check_steering);
}

static void
test_steering(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	host_init(&host, t, plan("eth0 0=30@1[1] 1=31@3[3]", "0-3", NULL));
	/* Below a sysroot the running kernel says nothing about it. */
	net(&host, NULL, doctor_check_steering);
	expect(&host.rep, "steering", DOCTOR_OK, "not tested");

	host.h.selftest = fake_selftest;
	steering(&host, STEERING_INCOMING_CPU, STEER_STEERS, STEER_STEERS);
	expect(&host.rep, "steering", DOCTOR_OK, "\"incoming-cpu\" serves",
	    "would pick incoming-cpu", "CPUs 1 and 3");
	assert_string_equal(fake_cpus, "1,3");
	steering(&host, STEERING_AUTO, STEER_STEERS, STEER_STEERS);
	expect(&host.rep, "steering", DOCTOR_OK, "\"auto\" picks "
	    "incoming-cpu");

	/* A kernel without the reuseport fix. */
	steering(&host, STEERING_INCOMING_CPU, STEER_HASHES, STEER_STEERS);
	expect(&host.rep, "steering", DOCTOR_FAIL, "ignores SO_INCOMING_CPU",
	    "8 of 16 TCP", "would pick cbpf", "steering = \"auto\" (cbpf "
	    "here)", "Linux 6.2");
	steering(&host, STEERING_AUTO, STEER_HASHES, STEER_STEERS);
	expect(&host.rep, "steering", DOCTOR_OK, "\"auto\" picks cbpf");
	steering(&host, STEERING_AUTO, STEER_HASHES, STEER_HASHES);
	expect(&host.rep, "steering", DOCTOR_WARN, "falls back to hashing");
	steering(&host, STEERING_CBPF, STEER_HASHES, STEER_HASHES);
	expect(&host.rep, "steering", DOCTOR_WARN, "\"cbpf\", but",
	    "does not steer");

	/* Hashing on purpose, where the kernel would steer. */
	steering(&host, STEERING_NONE, STEER_STEERS, STEER_STEERS);
	expect(&host.rep, "steering", DOCTOR_WARN, "about one in 2",
	    "\"auto\" would pick incoming-cpu");
	steering(&host, STEERING_NONE, STEER_HASHES, STEER_HASHES);
	expect(&host.rep, "steering", DOCTOR_OK, "\"none\" serves");

	/* Nothing learnt. */
	steering(&host, STEERING_AUTO, STEER_FAILED, STEER_FAILED);
	expect(&host.rep, "steering", DOCTOR_WARN, "could not run",
	    strerror(EACCES));
	free(fake_cpus);
	fake_cpus = NULL;
	host_free(&host);
}

/* ---- Sysctls and limits. ---- */

static void
test_sysctls(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	host_init(&host, t, plan("eth0 0=30@0[0]", "0-1", NULL));
	tree_putf(t, "4096\n", "proc/sys/net/core/somaxconn");
	net(&host, NULL, doctor_check_somaxconn);
	expect(&host.rep, "somaxconn", DOCTOR_OK, "= 4096", "largest 4096");
	host.conf->listeners[0].backlog = 8192;
	net(&host, NULL, doctor_check_somaxconn);
	expect(&host.rep, "somaxconn", DOCTOR_WARN, "backlog of 8192",
	    "somaxconn=8192");

	host_reset(&host, NULL);
	assert_int_equal(doctor_check_tcp_migrate_req(t->dir, &host.rep), 0);
	expect(&host.rep, "tcp-migrate-req", DOCTOR_WARN, "before 5.14");
	tree_putf(t, "0\n", "proc/sys/net/ipv4/tcp_migrate_req");
	host_reset(&host, NULL);
	assert_int_equal(doctor_check_tcp_migrate_req(t->dir, &host.rep), 0);
	expect(&host.rep, "tcp-migrate-req", DOCTOR_WARN, "is 0", "reset",
	    "tcp_migrate_req=1");
	tree_putf(t, "1\n", "proc/sys/net/ipv4/tcp_migrate_req");
	host_reset(&host, NULL);
	assert_int_equal(doctor_check_tcp_migrate_req(t->dir, &host.rep), 0);
	expect(&host.rep, "tcp-migrate-req", DOCTOR_OK, "is on");
	host_free(&host);
}

static void
test_nofile(void **state)
{
	struct tree	*t = *state;
	struct host	 host;
	static const char limits[] =
	    "Limit                     Soft Limit           Hard Limit"
	    "           Units     \n"
	    "Max processes             63459                63459"
	    "                processes \n"
	    "Max open files            %s                %s"
	    "                files     \n";
	char		 text[512];

	host_init(&host, t, plan("eth0 0=30@0[0] 1=31@1[1]", "0-1", NULL));
	snprintf(text, sizeof(text), limits, "1024", "524288");
	tree_putf(t, text, "proc/self/limits");
	net(&host, NULL, doctor_check_nofile);
	expect(&host.rep, "nofile", DOCTOR_FAIL, "is 1024 (hard 524288)",
	    "max_connections = 10000", "LimitNOFILE=", "cannot be seen");
	snprintf(text, sizeof(text), limits, "65536", "524288");
	tree_putf(t, text, "proc/self/limits");
	net(&host, NULL, doctor_check_nofile);
	expect(&host.rep, "nofile", DOCTOR_OK, ", 65536, covers");
	assert_int_equal(host.rep.n, 1);

	/* The system's table against every worker at once. */
	tree_putf(t, "15000\n", "proc/sys/fs/file-max");
	net(&host, NULL, doctor_check_nofile);
	expect(&host.rep, "nofile", DOCTOR_WARN, "fs.file-max = 15000",
	    "10000 x 2 = 20000");
	host_free(&host);
}

/* ---- Boot binding. ---- */

/* A task below proc: its stat line and its Cpus_allowed_list. */
static void
task(struct tree *t, int pid, const char *comm, unsigned long flags,
    const char *cpus)
{
	char	 text[256];

	snprintf(text, sizeof(text), "%d (%s) S 0 1 1 0 -1 %lu 0 0\n", pid,
	    comm, flags);
	tree_putf(t, text, "proc/%d/task/%d/stat", pid, pid);
	snprintf(text, sizeof(text), "Name:\t%s\nCpus_allowed_list:\t%s\n",
	    comm, cpus);
	tree_putf(t, text, "proc/%d/task/%d/status", pid, pid);
}

static void
test_housekeeping(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	host_init(&host, t, NULL);
	net(&host, plan("eth0 0=30@1[1] 1=31@2[2]", "1-3", "1-3"),
	    doctor_check_housekeeping);
	expect(&host.rep, "housekeeping", DOCTOR_OK, "CPU 0 can hold",
	    "worker CPUs 1-3");
	net(&host, plan("eth0 0=30@1[1]", "0-3", "0-3"),
	    doctor_check_housekeeping);
	expect(&host.rep, "housekeeping", DOCTOR_WARN, "(0-3) has a worker",
	    "exclude_cpus");
	host_free(&host);
}

static void
test_tasks(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	task(t, 1, "systemd", 0x400100, "0");
	task(t, 2, "kthreadd", 0x208040, "0-3");
	task(t, 50, "pinned", 0x400000, "3");
	host_init(&host, t, NULL);
	net(&host, plan("eth0 0=30@1[1]", "0-3", "1-3"), doctor_check_tasks);
	expect(&host.rep, "init-cpus", DOCTOR_OK, "CPUs 0, off the worker");
	expect(&host.rep, "task-cpus", DOCTOR_OK, "1 pinned there",
	    "1 kernel threads");

	task(t, 1, "systemd", 0x400100, "0-3");
	task(t, 60, "sshd", 0x400100, "0-3");
	task(t, 61, "cron", 0x400100, "0,2");
	net(&host, NULL, doctor_check_tasks);
	expect(&host.rep, "init-cpus", DOCTOR_WARN, "worker CPUs 1-3",
	    "Cpus_allowed_list 0-3", "boot-config --systemd");
	expect(&host.rep, "task-cpus", DOCTOR_WARN, "3 tasks",
	    "systemd 1, sshd 60, cron 61", "bind --housekeeping");
	host_free(&host);
}

static void
cmdline(struct host *host, struct tree *t, const char *line)
{
	tree_putf(t, line, "proc/cmdline");
	net(host, NULL, doctor_check_cmdline);
}

static void
test_cmdline(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	host_init(&host, t, plan("eth0 0=30@1[1] 1=31@2[2] 2=32@3[3]", "0-3",
	    NULL));
	cmdline(&host, t, "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
	expect(&host.rep, "isolcpus", DOCTOR_OK, "no isolcpus=");
	expect(&host.rep, "nohz-full", DOCTOR_OK, "no nohz_full=");
	expect(&host.rep, "irqaffinity", DOCTOR_OK, "no irqaffinity=");

	cmdline(&host, t, "root=/dev/sda1 isolcpus=domain,1-3 nohz_full=2 "
	    "irqaffinity=0 -- isolcpus=0\n");
	expect(&host.rep, "isolcpus", DOCTOR_OK, "isolcpus=domain,1-3 keeps");
	expect(&host.rep, "nohz-full", DOCTOR_WARN, "nohz_full=2 covers",
	    "accounting");
	expect(&host.rep, "irqaffinity", DOCTOR_WARN, "irqaffinity=0",
	    "off worker CPUs 1-3", "spread");

	host.conf->irq_affinity = IRQ_AFFINITY_SPREAD;
	cmdline(&host, t, "isolcpus=managed_irq,domain,1-3 nohz_full=0 "
	    "irqaffinity=0\n");
	expect(&host.rep, "isolcpus", DOCTOR_WARN, "managed_irq",
	    "isolcpus=domain,1-3");
	expect(&host.rep, "nohz-full", DOCTOR_OK, "leaves the worker CPUs");
	expect(&host.rep, "irqaffinity", DOCTOR_OK, "moves the queue IRQs");

	cmdline(&host, t, "isolcpus=0-3 irqaffinity=0-3 nohz_full=x\n");
	expect(&host.rep, "isolcpus", DOCTOR_WARN, "housekeeping CPUs 0");
	expect(&host.rep, "irqaffinity", DOCTOR_OK, "irqaffinity=0-3");
	expect(&host.rep, "nohz-full", DOCTOR_WARN, "not a CPU list");
	host_free(&host);
}

static void
test_cpuset(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "0-3\n", "sys/devices/system/cpu/online");
	tree_putf(t, "0::/affinityd.slice/affinityd.service\n", "proc/self/cgroup");
	tree_putf(t, "0-3\n", "sys/fs/cgroup/affinityd.slice/cpuset.cpus.effective");
	host_init(&host, t, NULL);
	net(&host, plan("eth0 0=30@1[1] 1=31@3[3]", "0-3", NULL),
	    doctor_check_cpuset);
	expect(&host.rep, "cpuset", DOCTOR_OK, "every online CPU (0-3)",
	    "affinityd.slice/cpuset.cpus.effective");
	expect(&host.rep, "cpu-quota", DOCTOR_OK, "no CPU quota");

	/* Hides CPU 3, where eth0:1 is processed; a quota of one CPU. */
	tree_putf(t, "0-2\n", "sys/fs/cgroup/affinityd.slice/cpuset.cpus.effective");
	tree_putf(t, "100000 100000\n", "sys/fs/cgroup/affinityd.slice/cpu.max");
	tree_putf(t, "max 100000\n",
	    "sys/fs/cgroup/affinityd.slice/affinityd.service/cpu.max");
	net(&host, NULL, doctor_check_cpuset);
	expect(&host.rep, "cpuset", DOCTOR_WARN, "holds CPUs 0-2",
	    "hides CPU 3", "eth0:1", "AllowedCPUs=");
	expect(&host.rep, "cpu-quota", DOCTOR_WARN, "1.00 CPUs",
	    "its 2 workers", "CPUQuota=");

	/* Hides CPU 3, where nothing is processed. */
	tree_putf(t, "400000 100000\n", "sys/fs/cgroup/affinityd.slice/cpu.max");
	net(&host, plan("eth0 0=30@1[1]", "0-2", NULL), doctor_check_cpuset);
	expect(&host.rep, "cpuset", DOCTOR_OK, "hides CPU 3, where no queue");
	expect(&host.rep, "cpu-quota", DOCTOR_OK, "covers every worker");
	host_free(&host);
}

/* ---- The whole run. ---- */

/* mlx5: eth1's IRQs are not pinned (0-3), so CPU 0 has five queues. */
static void
test_run_fixture(void **state)
{
	struct tree		*t = *state;
	struct topo_options	 o;
	struct host		 host;
	struct plan		*plan;

	memset(&o, 0, sizeof(o));
	o.sysroot = FIXTURES "/mlx5";
	assert_int_equal(plan_discover(&o, &plan), 0);
	host_init(&host, t, plan);
	host.h.sysroot = o.sysroot;
	assert_int_equal(doctor_run(&host.h, &host.rep), 0);
	expect(&host.rep, "plan", DOCTOR_OK, "4 workers on CPUs 0-3 for 8 RX "
	    "queues of 2 interfaces");
	expect_n(&host.rep, 4, "irq-affinity", DOCTOR_WARN, "eth1 queue",
	    "any of CPUs 0-3", NULL);
	expect(&host.rep, "queue-sharing", DOCTOR_WARN, "CPU 0 processes 5");
	expect(&host.rep, "irqbalance", DOCTOR_OK, "not running");
	assert_int_equal(doctor_count(&host.rep, DOCTOR_FAIL), 0);
	host_free(&host);
}

/* No plan: one FAIL, and the checks that need a plan are left out. */
static void
test_run_no_plan(void **state)
{
	struct tree	*t = *state;
	struct host	 host;

	tree_putf(t, "1\n", "proc/sys/net/ipv4/tcp_migrate_req");
	host_init(&host, t, NULL);
	host.h.plan_error = -EINVAL;
	assert_int_equal(doctor_run(&host.h, &host.rep), 0);
	expect(&host.rep, "plan", DOCTOR_FAIL, "no worker plan",
	    "affinityd topology");
	expect(&host.rep, "tcp-migrate-req", DOCTOR_OK, "is on");
	expect_n(&host.rep, 0, "irqbalance", DOCTOR_OK, NULL);
	assert_int_equal(doctor_count(&host.rep, DOCTOR_FAIL), 1);
	host_free(&host);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report),
		cmocka_unit_test_setup_teardown(test_irqbalance_pid,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_irqbalance, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_queues, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_irq_moved, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_workers, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_rps_rfs, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_xps_threaded, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_steering, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_sysctls, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_nofile, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_housekeeping, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_tasks, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_cmdline, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_cpuset, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_run_fixture, tree_setup,
		    tree_teardown),
		cmocka_unit_test_setup_teardown(test_run_no_plan, tree_setup,
		    tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
