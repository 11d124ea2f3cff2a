/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the steering modules: the classic BPF program run through
 * a small interpreter of the instructions it uses (every CPU lands on its
 * socket's index, CPUs without one on the fallback, the size limit), the
 * program accepted by the kernel on a reuseport group, the choice "auto"
 * makes for each self-test outcome, the self-test run on this machine,
 * and the model of a reuseport group's order checked against the kernel.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "common/cpuset.h"
#include "topology/steer_cbpf.h"
#include "master/steer_group.h"
#include "topology/steer_selftest.h"
#include "common/util.h"

/*
 * Runs prog for a packet processed on cpu: only the instructions the
 * builder emits are known; anything else fails the test.
 */
static unsigned int
run_prog(const struct steer_cbpf *prog, unsigned int cpu)
{
	const struct sock_filter	*in;
	unsigned int			 a = 0, pc = 0, steps = 0;

	while (pc < prog->len) {
		assert_true(++steps <= STEER_CBPF_MAX_INSNS);
		in = &prog->insns[pc];
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_int_equal(in->k,
			    (unsigned int)(SKF_AD_OFF + SKF_AD_CPU));
			a = cpu;
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (a == in->k ? in->jt : in->jf);
			break;
		case BPF_ALU | BPF_MOD | BPF_K:
			assert_int_not_equal(in->k, 0);
			a %= in->k;
			pc++;
			break;
		case BPF_RET | BPF_K:
			return in->k;
		case BPF_RET | BPF_A:
			return a;
		default:
			fail_msg("unexpected instruction %#x at %u", in->code,
			    pc);
		}
	}
	fail_msg("the program ran off its end");
	return 0;
}

static void
test_cbpf_identity(void **state)
{
	int			 index[] = { 0, 1, 2, 3 };
	struct steer_cbpf	 prog;
	unsigned int		 cpu;

	(void)state;
	assert_int_equal(steer_cbpf_build(index, 4, &prog), 0);
	for (cpu = 0; cpu < 4; cpu++)
		assert_int_equal(run_prog(&prog, cpu), cpu);
	/* CPUs past the table: cpu % 4. */
	assert_int_equal(run_prog(&prog, 9), 1);
	/* ld, mod, ret a: no case is needed. */
	assert_int_equal(prog.len, 3);
	steer_cbpf_free(&prog);
}

/* Workers on CPUs 2, 5 and 7 whose sockets were shuffled by closes. */
static void
test_cbpf_shuffled(void **state)
{
	int			 index[] = { -1, -1, 4, -1, -1, 0, -1, 2 };
	unsigned int		 fb[] = { 4, 0, 2 };
	struct steer_cbpf	 prog;
	unsigned int		 cpu;

	(void)state;
	assert_int_equal(steer_cbpf_build(index, ARRAY_SIZE(index), &prog), 0);
	for (cpu = 0; cpu < 40; cpu++) {
		if (cpu < ARRAY_SIZE(index) && index[cpu] >= 0)
			assert_int_equal(run_prog(&prog, cpu), index[cpu]);
		else
			assert_int_equal(run_prog(&prog, cpu), fb[cpu % 3]);
	}
	steer_cbpf_free(&prog);
}

/* Two CPUs sharing one socket (a worker list with one CPU, say). */
static void
test_cbpf_one_socket(void **state)
{
	int			 index[] = { -1, 3, -1 };
	struct steer_cbpf	 prog;
	unsigned int		 cpu;

	(void)state;
	assert_int_equal(steer_cbpf_build(index, 3, &prog), 0);
	for (cpu = 0; cpu < 10; cpu++)
		assert_int_equal(run_prog(&prog, cpu), 3);
	steer_cbpf_free(&prog);
}

static void
test_cbpf_limits(void **state)
{
	static int		 index[STEER_CBPF_MAX_INSNS];
	int			 none[] = { -1, -1 };
	struct steer_cbpf	 prog;
	size_t			 i, n = ARRAY_SIZE(index);

	(void)state;
	assert_int_equal(steer_cbpf_build(none, 2, &prog), -EINVAL);
	assert_null(prog.insns);
	/* Every CPU its own case: too long for the kernel. */
	for (i = 0; i < n; i++)
		index[i] = (int)(n - 1 - i);
	assert_int_equal(steer_cbpf_build(index, n, &prog), -E2BIG);
	/* Half as many fits, and still answers right. */
	for (i = 0; i < n / 4; i++)
		index[i] = (int)(n / 4 - 1 - i);
	assert_int_equal(steer_cbpf_build(index, n / 4, &prog), 0);
	assert_true(prog.len <= STEER_CBPF_MAX_INSNS);
	for (i = 0; i < n / 4; i++)
		assert_int_equal(run_prog(&prog, (unsigned int)i), index[i]);
	steer_cbpf_free(&prog);
}

/* The kernel takes the program on a group and lets it go again. */
static void
test_cbpf_attach(void **state)
{
	int			 index[] = { 1, 0 };
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	struct steer_cbpf	 prog;
	int			 fd[2], one = 1, i;

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 2; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(setsockopt(fd[i], SOL_SOCKET, SO_REUSEPORT,
		    &one, sizeof(one)), 0);
		assert_int_equal(bind(fd[i], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		assert_int_equal(getsockname(fd[i], (struct sockaddr *)&sin,
		    &len), 0);
	}
	assert_int_equal(steer_cbpf_build(index, 2, &prog), 0);
	assert_int_equal(steer_cbpf_attach(fd[1], &prog), 0);
	assert_int_equal(steer_cbpf_detach(fd[0]), 0);
	assert_int_equal(steer_cbpf_detach(fd[0]), -ENOENT);
	assert_int_equal(steer_cbpf_attach(-1, &prog), -EBADF);
	steer_cbpf_free(&prog);
	close(fd[0]);
	close(fd[1]);
}

static struct steer_probe
probe(enum steer_outcome outcome, unsigned int tcp_local,
    unsigned int udp_local)
{
	struct steer_probe	 p;

	memset(&p, 0, sizeof(p));
	p.outcome = outcome;
	p.tcp = (struct steer_count){ 16, tcp_local, 0 };
	p.udp = (struct steer_count){ 16, udp_local, 0 };
	return p;
}

/* A kernel with the reuseport fix (Linux 6.2 and later). */
static void
test_decide_fixed_kernel(void **state)
{
	struct steer_result	 res = { .cpus = { 0, 1 } };
	struct steer_decision	 dec;

	(void)state;
	res.incoming_cpu = probe(STEER_STEERS, 16, 16);
	res.cbpf = probe(STEER_STEERS, 16, 16);
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_INCOMING_CPU);
	assert_string_equal(steer_method_name(dec.method), "incoming-cpu");
	assert_non_null(strstr(dec.reason, "SO_INCOMING_CPU steers"));
	assert_non_null(strstr(dec.reason, "TCP 16/16, UDP 16/16"));
	assert_non_null(strstr(dec.reason, "CPUs 0 and 1"));
}

/* A kernel whose group hashes whatever SO_INCOMING_CPU says (5.15). */
static void
test_decide_old_kernel(void **state)
{
	struct steer_result	 res = { .cpus = { 2, 3 } };
	struct steer_decision	 dec;

	(void)state;
	res.incoming_cpu = probe(STEER_HASHES, 9, 7);
	res.cbpf = probe(STEER_STEERS, 16, 16);
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_CBPF);
	assert_string_equal(steer_method_name(dec.method), "cbpf");
	assert_non_null(strstr(dec.reason, "does not steer"));
	assert_non_null(strstr(dec.reason, "TCP 9/16, UDP 7/16"));
	assert_non_null(strstr(dec.reason, "classic BPF"));
}

static void
test_decide_neither(void **state)
{
	struct steer_result	 res = { .cpus = { 0, 1 } };
	struct steer_decision	 dec;

	(void)state;
	res.incoming_cpu = probe(STEER_HASHES, 8, 8);
	res.cbpf = probe(STEER_FAILED, 0, 0);
	snprintf(res.cbpf.detail, sizeof(res.cbpf.detail), "tcp: setsockopt "
	    "SO_ATTACH_REUSEPORT_CBPF: Protocol not available");
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_NONE);
	assert_non_null(strstr(dec.reason, "Protocol not available"));
	/* Neither could run (loopback down): incoming-cpu, saying so. */
	res.incoming_cpu = res.cbpf;
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_INCOMING_CPU);
	assert_non_null(strstr(dec.reason, "could not run"));
	/* A failed SO_INCOMING_CPU with a working program is cbpf. */
	res.incoming_cpu = res.cbpf;
	res.cbpf = probe(STEER_STEERS, 16, 16);
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_CBPF);
}

static void
test_decide_one_cpu(void **state)
{
	struct steer_result	 res = { .cpus = { -1, -1 } };
	struct steer_decision	 dec;

	(void)state;
	snprintf(res.incoming_cpu.detail, sizeof(res.incoming_cpu.detail),
	    "fewer than two CPUs to test with");
	steer_decide(&res, &dec);
	assert_int_equal(dec.method, STEER_METHOD_INCOMING_CPU);
	assert_non_null(strstr(dec.reason, "fewer than two CPUs"));
}

/*
 * The self-test on this machine: it runs to an outcome for each method,
 * sends what it says it sent, and gives the thread its affinity back.
 */
static void
test_selftest_runs(void **state)
{
	struct steer_result	 res;
	struct steer_decision	 dec;
	struct cpuset		*before = NULL, *after = NULL;

	(void)state;
	assert_int_equal(cpuset_get_affinity(0, &before), 0);
	assert_int_equal(steer_selftest(NULL, &res), 0);
	assert_int_equal(cpuset_get_affinity(0, &after), 0);
	assert_true(cpuset_equal(before, after));
	cpuset_free(before);
	cpuset_free(after);
	steer_decide(&res, &dec);
	print_message("self-test: incoming-cpu %s (%s), cbpf %s; auto: %s: "
	    "%s\n", steer_outcome_name(res.incoming_cpu.outcome),
	    res.incoming_cpu.detail,
	    steer_outcome_name(res.cbpf.outcome),
	    steer_method_name(dec.method), dec.reason);
	if (res.cpus[0] < 0) {
		assert_int_equal(res.incoming_cpu.outcome, STEER_NOT_RUN);
		return;
	}
	assert_int_not_equal(res.incoming_cpu.outcome, STEER_FAILED);
	assert_int_equal(res.incoming_cpu.tcp.sent, 16);
	assert_int_equal(res.incoming_cpu.udp.sent, 16);
	/* Any kernel since 4.5 runs the program: it must steer. */
	assert_int_equal(res.cbpf.outcome, STEER_STEERS);
	assert_int_equal(res.cbpf.tcp.local, 16);
	assert_int_equal(res.cbpf.udp.local, 16);
}

static struct sockaddr_storage
loopback(uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return ss;
}

/* Joins append; a leave moves the last socket into the hole. */
static void
test_group_model(void **state)
{
	struct sockaddr_storage	 a = loopback(7000), b = loopback(7001);
	struct steer_groups	*sg;

	(void)state;
	assert_non_null(sg = steer_groups_new());
	for (uint64_t c = 1; c <= 5; c++)
		assert_int_equal(steer_groups_join(sg, SOCK_STREAM, &a, c), 0);
	assert_int_equal(steer_groups_join(sg, SOCK_DGRAM, &a, 10), 0);
	assert_int_equal(steer_groups_join(sg, SOCK_STREAM, &b, 20), 0);
	assert_int_equal(steer_groups_join(sg, SOCK_STREAM, &b, 20), -EEXIST);
	assert_int_equal(steer_groups_index(sg, 10), 0);
	assert_int_equal(steer_groups_index(sg, 20), 0);
	assert_int_equal(steer_groups_count(sg, 3), 5);
	/* [1 2 3 4 5] - 2 = [1 5 3 4]; - 1 = [4 5 3]. */
	assert_int_equal(steer_groups_leave(sg, 2), 0);
	assert_int_equal(steer_groups_index(sg, 5), 1);
	assert_int_equal(steer_groups_leave(sg, 1), 0);
	assert_int_equal(steer_groups_index(sg, 4), 0);
	assert_int_equal(steer_groups_index(sg, 5), 1);
	assert_int_equal(steer_groups_index(sg, 3), 2);
	assert_int_equal(steer_groups_index(sg, 1), -1);
	assert_int_equal(steer_groups_leave(sg, 1), -ENOENT);
	/* The last one leaving moves nothing. */
	assert_int_equal(steer_groups_leave(sg, 3), 0);
	assert_int_equal(steer_groups_count(sg, 4), 2);
	assert_int_equal(steer_groups_index(sg, 5), 1);
	steer_groups_free(sg);
}

static void
test_group_program_targets(void **state)
{
	struct sockaddr_storage	 a = loopback(7000), b = loopback(7001);
	struct steer_target	 t[2] = { { 0, 1 }, { 1, 2 } };
	struct steer_groups	*sg;
	struct steer_cbpf	 prog;

	(void)state;
	assert_non_null(sg = steer_groups_new());
	assert_int_equal(steer_groups_join(sg, SOCK_DGRAM, &a, 1), 0);
	assert_int_equal(steer_groups_join(sg, SOCK_DGRAM, &b, 2), 0);
	assert_int_equal(steer_groups_program(sg, t, 2, &prog), -EINVAL);
	t[1].cookie = 3;
	assert_int_equal(steer_groups_program(sg, t, 2, &prog), -ENOENT);
	steer_groups_free(sg);
}

static int
pin(int cpu)
{
	struct cpuset	*set = cpuset_new();
	int		 r;

	assert_non_null(set);
	assert_int_equal(cpuset_add(set, (unsigned int)cpu), 0);
	r = cpuset_set_affinity(0, set);
	cpuset_free(set);
	return r == 0 && sched_getcpu() == cpu ? 0 : -1;
}

/* One probe from this CPU; returns the index in fds of the receiver. */
static int
probe_from_here(int type, const int *fds, size_t n,
    const struct sockaddr_storage *to)
{
	struct pollfd	 pfd[8];
	char		 byte;
	size_t		 i;
	int		 c, got = -1, fd;

	c = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	if (type == SOCK_STREAM)
		assert_int_equal(connect(c, (const struct sockaddr *)to,
		    sizeof(struct sockaddr_in)), 0);
	else
		assert_int_equal(sendto(c, "?", 1, 0,
		    (const struct sockaddr *)to, sizeof(struct sockaddr_in)),
		    1);
	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	assert_true(poll(pfd, n, 2000) > 0);
	for (i = 0; i < n; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		got = (int)i;
		if (type == SOCK_STREAM) {
			assert_true((fd = accept(fds[i], NULL, NULL)) >= 0);
			close(fd);
		} else
			assert_int_equal(recv(fds[i], &byte, 1, 0), 1);
	}
	close(c);
	return got;
}

/*
 * Six sockets join a group, two leave; the program built from the model
 * must still reach the sockets it names, from CPUs 0 and 1.
 */
static void
group_kernel(int type)
{
	struct sockaddr_storage	 addr = loopback(0);
	struct steer_groups	*sg;
	struct steer_target	 t[2];
	struct steer_cbpf	 prog;
	struct cpuset		*saved = NULL;
	socklen_t		 len = sizeof(struct sockaddr_in);
	uint64_t		 cookie[6];
	int			 fd[6], live[4], one = 1, i, k;

	assert_non_null(sg = steer_groups_new());
	for (i = 0; i < 6; i++) {
		fd[i] = socket(AF_INET, type | SOCK_CLOEXEC, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(setsockopt(fd[i], SOL_SOCKET, SO_REUSEPORT,
		    &one, sizeof(one)), 0);
		assert_int_equal(bind(fd[i], (struct sockaddr *)&addr, len), 0);
		assert_int_equal(getsockname(fd[i], (struct sockaddr *)&addr,
		    &len), 0);
		if (type == SOCK_STREAM)
			assert_int_equal(listen(fd[i], 8), 0);
		assert_int_equal(getsockopt(fd[i], SOL_SOCKET, SO_COOKIE,
		    &cookie[i], &(socklen_t){ sizeof(cookie[i]) }), 0);
		assert_int_equal(steer_groups_join(sg, type, &addr,
		    cookie[i]), 0);
	}
	/* 1 leaves: 5 moves to index 1; then 0 leaves: 4 moves to 0. */
	for (i = 1; i >= 0; i--) {
		close(fd[i]);
		assert_int_equal(steer_groups_leave(sg, cookie[i]), 0);
	}
	assert_int_equal(steer_groups_index(sg, cookie[4]), 0);
	assert_int_equal(steer_groups_index(sg, cookie[5]), 1);
	for (k = 0; k < 4; k++)
		live[k] = fd[k + 2];
	/* CPU 0 to socket 5 (moved once), CPU 1 to socket 4 (moved). */
	t[0] = (struct steer_target){ 0, cookie[5] };
	t[1] = (struct steer_target){ 1, cookie[4] };
	assert_int_equal(steer_groups_program(sg, t, 2, &prog), 0);
	steer_cbpf_free(&prog);
	assert_int_equal(steer_groups_attach(sg, t, 2, fd[3]), 0);
	assert_int_equal(cpuset_get_affinity(0, &saved), 0);
	for (k = 0; k < 8; k++) {
		assert_int_equal(pin(0), 0);
		assert_int_equal(probe_from_here(type, live, 4, &addr), 3);
		assert_int_equal(pin(1), 0);
		assert_int_equal(probe_from_here(type, live, 4, &addr), 2);
	}
	assert_int_equal(cpuset_set_affinity(0, saved), 0);
	cpuset_free(saved);
	/* Taken away once; a second time there is nothing to take. */
	assert_int_equal(steer_groups_detach(sg, cookie[2], fd[2]), 0);
	assert_int_equal(steer_cbpf_detach(fd[2]), -ENOENT);
	assert_int_equal(steer_groups_detach(sg, cookie[2], fd[2]), 0);
	for (i = 2; i < 6; i++)
		close(fd[i]);
	steer_groups_free(sg);
}

static void
test_group_kernel_udp(void **state)
{
	(void)state;
	group_kernel(SOCK_DGRAM);
}

static void
test_group_kernel_tcp(void **state)
{
	(void)state;
	group_kernel(SOCK_STREAM);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_cbpf_identity),
		cmocka_unit_test(test_cbpf_shuffled),
		cmocka_unit_test(test_cbpf_one_socket),
		cmocka_unit_test(test_cbpf_limits),
		cmocka_unit_test(test_cbpf_attach),
		cmocka_unit_test(test_decide_fixed_kernel),
		cmocka_unit_test(test_decide_old_kernel),
		cmocka_unit_test(test_decide_neither),
		cmocka_unit_test(test_decide_one_cpu),
		cmocka_unit_test(test_selftest_runs),
		cmocka_unit_test(test_group_model),
		cmocka_unit_test(test_group_program_targets),
	};
	const struct CMUnitTest	 kernel[] = {
		cmocka_unit_test(test_group_kernel_udp),
		cmocka_unit_test(test_group_kernel_tcp),
	};

	struct cpuset		*cpus = NULL;
	int			 failed;

	failed = cmocka_run_group_tests_name("steer", tests, NULL, NULL);
	/* The model against the kernel needs CPUs 0 and 1 to send from. */
	if (cpuset_allowed(NULL, &cpus) == 0 && cpuset_has(cpus, 0) &&
	    cpuset_has(cpus, 1))
		failed += cmocka_run_group_tests_name("steer group order",
		    kernel, NULL, NULL);
	else
		print_message("steer group order: skipped, CPUs 0 and 1 are "
		    "not both usable here\n");
	cpuset_free(cpus);
	return failed == 0 ? 0 : 1;
}
