/*
 * Unit tests of the steering modules: the classic BPF program run through
 * a small interpreter of the instructions it uses (every CPU lands on its
 * socket's index, CPUs without one on the fallback, the size limit), the
 * program accepted by the kernel on a reuseport group, the choice "auto"
 * makes for each self-test outcome, and the self-test run on this machine.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "cpuset.h"
#include "steer_cbpf.h"
#include "steer_selftest.h"
#include "util.h"

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
	};

	return cmocka_run_group_tests_name("steer", tests, NULL, NULL);
}
