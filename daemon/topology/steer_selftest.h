/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The steering self-test and the choice it leads to.  Whether
 * SO_INCOMING_CPU steers inside a SO_REUSEPORT group depends on the
 * kernel's reuseport code (Linux 6.2, or a stable kernel that took the
 * fix), not on its version number, so the daemon tries it: two throw-away
 * reuseport sockets on loopback, one per CPU, and a sender pinned to each
 * CPU in turn, over TCP and UDP; then the same with a classic BPF
 * reuseport program instead of SO_INCOMING_CPU.
 *
 * Use:
 *
 *	struct steer_result	res;
 *	struct steer_decision	dec;
 *
 *	steer_selftest(NULL, &res);	// or the CPUs the workers may use
 *	steer_decide(&res, &dec);
 *	printf("steering %s: %s\n", steer_method_name(dec.method), dec.reason);
 *
 * steer_decide() is a pure function of the result, so a test can feed it
 * any outcome.
 */
#ifndef AFFINITYD_STEER_SELFTEST_H
#define AFFINITYD_STEER_SELFTEST_H

struct cpuset;

enum steer_method {
	STEER_METHOD_NONE,		/* the group's hash */
	STEER_METHOD_INCOMING_CPU,	/* SO_INCOMING_CPU on each socket */
	STEER_METHOD_CBPF,		/* a classic BPF reuseport program */
};

enum steer_outcome {
	STEER_NOT_RUN,		/* fewer than two CPUs to run it on */
	STEER_STEERS,		/* every probe reached its CPU's socket */
	STEER_HASHES,		/* some probes reached the other socket */
	STEER_FAILED,		/* could not be run: see detail */
};

/* One protocol's probes for one method, over both CPUs. */
struct steer_count {
	unsigned int	 sent;
	unsigned int	 local;		/* reached the socket of the sender's CPU */
	unsigned int	 lost;		/* reached no socket in time */
};

struct steer_probe {
	enum steer_outcome	 outcome;
	struct steer_count	 tcp;
	struct steer_count	 udp;
	char			 detail[160];	/* failure: "what: why" */
};

struct steer_result {
	int			 cpus[2];	/* CPUs tested; -1: none */
	struct steer_probe	 incoming_cpu;
	struct steer_probe	 cbpf;
};

struct steer_decision {
	enum steer_method	 method;
	char			 reason[512];	/* one line a person can read */
};

/*
 * steer_selftest.c
 *
 * steer_selftest() runs both tests on the first two CPUs of cpus (NULL:
 * the CPUs of the process's cpuset) and fills *res.  The calling thread
 * is pinned to each CPU in turn and gets its affinity back before the
 * return; it takes a few milliseconds.  Returns 0 when both tests ran to
 * an outcome (STEER_NOT_RUN included), or -errno for a failure of its
 * own (no memory, affinity not restored); the outcomes and details say
 * what happened to each test in any case.
 *
 * steer_decide() turns a result into a choice: incoming-cpu when it
 * steers (or when there was only one CPU to test, where any choice
 * serves every flow on its CPU, or when neither test could run at all,
 * loopback down say, where it is never worse than none), cbpf when only
 * the program steers, none when neither does; the reason says what was
 * measured.
 */
int		 steer_selftest(const struct cpuset *cpus,
		    struct steer_result *res);
void		 steer_decide(const struct steer_result *res,
		    struct steer_decision *dec);
const char	*steer_method_name(enum steer_method method);
const char	*steer_outcome_name(enum steer_outcome outcome);

#endif
