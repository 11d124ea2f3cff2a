/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Doctor check on steering: whether the running kernel honours
 * SO_INCOMING_CPU in reuseport selection, as the steering self-test finds
 * on two of the plan's CPUs, and the method "auto" would pick, set against
 * topology.steering.  The self-test probes this kernel, not a sysroot's.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "common/cpuset.h"
#include "doctor/doctor.h"
#include "topology/plan.h"
#include "topology/steer_selftest.h"
#include "topology/topology.h"
#include "common/util.h"

/* topology.steering = incoming-cpu on a kernel whose groups hash. */
static void
doctor_steer_hashes(const struct steer_result *res,
    const struct steer_decision *dec, struct doctor_report *rep)
{
	struct doctor_finding	*f;

	f = doctor_add(rep, "steering", DOCTOR_FAIL, "this kernel ignores "
	    "SO_INCOMING_CPU in reuseport selection (self-test on CPUs %d "
	    "and %d: %u of %u TCP and %u of %u UDP probes reached their CPU's "
	    "socket), so with steering = \"incoming-cpu\" flows are hashed "
	    "over the workers; \"auto\" would pick %s: %s", res->cpus[0],
	    res->cpus[1], res->incoming_cpu.tcp.local,
	    res->incoming_cpu.tcp.sent, res->incoming_cpu.udp.local,
	    res->incoming_cpu.udp.sent, steer_method_name(dec->method),
	    dec->reason);
	doctor_fix(rep, f, "set topology.steering = \"auto\" (%s here), or "
	    "run Linux 6.2 or later, or a stable kernel with the reuseport "
	    "fix", steer_method_name(dec->method));
}

/* What the configured method does, given what the self-test found. */
static void
doctor_steer_report(enum steering conf, size_t nworkers,
    const struct steer_result *res, const struct steer_decision *dec,
    struct doctor_report *rep)
{
	struct doctor_finding	*f;
	enum steer_outcome	 in = res->incoming_cpu.outcome;
	const char		*pick = steer_method_name(dec->method);

	if (conf == STEERING_INCOMING_CPU && in == STEER_HASHES)
		doctor_steer_hashes(res, dec, rep);
	else if (conf == STEERING_NONE && dec->method != STEER_METHOD_NONE) {
		f = doctor_add(rep, "steering", DOCTOR_WARN, "steering = "
		    "\"none\" hashes flows over the workers, so about one in "
		    "%zu is served on its CPU, while \"auto\" would pick %s: "
		    "%s", nworkers, pick, dec->reason);
		doctor_fix(rep, f, "set topology.steering = \"auto\" (or "
		    "\"%s\")", pick);
	} else if (conf == STEERING_AUTO && dec->method == STEER_METHOD_NONE) {
		f = doctor_add(rep, "steering", DOCTOR_WARN, "steering = "
		    "\"auto\" falls back to hashing here: %s", dec->reason);
		doctor_fix(rep, f, "run Linux 6.2 or later, or a stable kernel "
		    "with the reuseport fix, or one that runs classic BPF "
		    "reuseport programs");
	} else if (conf == STEERING_CBPF &&
	    res->cbpf.outcome != STEER_STEERS &&
	    res->cbpf.outcome != STEER_NOT_RUN) {
		f = doctor_add(rep, "steering", DOCTOR_WARN, "steering = "
		    "\"cbpf\", but the classic BPF reuseport program does not "
		    "steer here (%s); \"auto\" would pick %s: %s",
		    res->cbpf.detail[0] ? res->cbpf.detail :
		    steer_outcome_name(res->cbpf.outcome), pick, dec->reason);
		doctor_fix(rep, f, "set topology.steering = \"auto\"");
	} else if (in == STEER_FAILED) {
		f = doctor_add(rep, "steering", DOCTOR_WARN, "the steering "
		    "self-test could not run (%s); \"auto\" would pick %s: %s",
		    res->incoming_cpu.detail, pick, dec->reason);
		doctor_fix(rep, f, "run the doctor as the daemon runs (same "
		    "user and cgroup), or set topology.steering by hand");
	} else if (conf == STEERING_AUTO)
		doctor_add(rep, "steering", DOCTOR_OK, "steering = \"auto\" "
		    "picks %s here: %s", pick, dec->reason);
	else
		doctor_add(rep, "steering", DOCTOR_OK, "steering = \"%s\" "
		    "serves here; \"auto\" would pick %s: %s",
		    steering_name(conf), pick, dec->reason);
}

/*
 * steering: runs the self-test (host->selftest, or steer_selftest() on
 * this machine) on the plan's worker CPUs, or its allowed CPUs when
 * there are fewer than two workers.  Below a sysroot without a stand-in
 * it is not run, and says so.
 */
int
doctor_check_steering(const struct doctor_host *host,
    struct doctor_report *rep)
{
	int			(*selftest)(const struct cpuset *,
				    struct steer_result *) = host->selftest;
	struct steer_result	 res;
	struct steer_decision	 dec;
	struct cpuset		*cpus;
	int			 r;

	if (selftest == NULL && host->sysroot != NULL &&
	    strcmp(host->sysroot, "/") != 0) {
		doctor_add(rep, "steering", DOCTOR_OK, "not tested: the "
		    "steering self-test probes the running kernel, not the "
		    "machine below %s", host->sysroot);
		return 0;
	}
	if (selftest == NULL)
		selftest = steer_selftest;
	if (plan_worker_cpus(host->plan, &cpus) < 0)
		return -ENOMEM;
	memset(&res, 0, sizeof(res));
	r = selftest(cpuset_count(cpus) >= 2 ? cpus : host->plan->topo->allowed,
	    &res);
	cpuset_free(cpus);
	if (r == -ENOMEM)
		return r;
	steer_decide(&res, &dec);
	doctor_steer_report(host->conf->steering, host->plan->nworkers, &res,
	    &dec, rep);
	return 0;
}
