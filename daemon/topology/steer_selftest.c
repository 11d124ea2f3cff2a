/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The steering self-test: does SO_INCOMING_CPU steer inside a reuseport
 * group on this kernel, and does a classic BPF reuseport program?  Each
 * test opens a throw-away group of two sockets on a loopback port, one
 * per CPU, pins the calling thread to each CPU in turn and sends probes
 * (new TCP connections, datagrams from new sockets, so each has its own
 * hash); on loopback the sending CPU is the one that processes the
 * packet.  Then the pure choice between the methods.  Nothing here logs.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cpuset.h"
#include "common/stats.h"
#include "topology/steer_cbpf.h"
#include "topology/steer_selftest.h"

#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU	49
#endif

#define STEER_PROBES		8	/* per CPU and protocol */
#define STEER_WAIT_NS		(1000ULL * 1000000ULL)

/* One throw-away group: socket i serves cpus[i]. */
struct steer_group {
	int			 type;		/* SOCK_STREAM, SOCK_DGRAM */
	int			 fd[2];
	struct sockaddr_in	 addr;
};

const char *
steer_method_name(enum steer_method method)
{
	switch (method) {
	case STEER_METHOD_INCOMING_CPU:
		return "incoming-cpu";
	case STEER_METHOD_CBPF:
		return "cbpf";
	default:
		return "none";
	}
}

const char *
steer_outcome_name(enum steer_outcome outcome)
{
	switch (outcome) {
	case STEER_STEERS:
		return "steers";
	case STEER_HASHES:
		return "hashes";
	case STEER_FAILED:
		return "failed";
	default:
		return "not run";
	}
}

static void __attribute__((format(printf, 2, 3)))
steer_fail(struct steer_probe *p, const char *fmt, ...)
{
	va_list	 ap;

	p->outcome = STEER_FAILED;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static const char *
steer_proto(int type)
{
	return type == SOCK_STREAM ? "tcp" : "udp";
}

static void
steer_group_close(struct steer_group *g)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (g->fd[i] >= 0)
			close(g->fd[i]);
	g->fd[0] = g->fd[1] = -1;
}

static int
steer_setint(int fd, int name, int value)
{
	return setsockopt(fd, SOL_SOCKET, name, &value, sizeof(value));
}

/*
 * Socket i joins the group i-th (UDP at bind, TCP at listen), so with a
 * program its index is i.  The first takes a free port, the second joins.
 */
static int
steer_group_join(struct steer_group *g, int i, int incoming_cpu,
    const char **step)
{
	socklen_t	 len = sizeof(g->addr);
	int		 fd;

	*step = "socket";
	fd = socket(AF_INET, g->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if ((g->fd[i] = fd) == -1)
		return -1;
	*step = "setsockopt SO_REUSEPORT";
	if (steer_setint(fd, SO_REUSEPORT, 1) == -1)
		return -1;
	*step = "setsockopt SO_INCOMING_CPU";
	if (incoming_cpu >= 0 &&
	    steer_setint(fd, SO_INCOMING_CPU, incoming_cpu) == -1)
		return -1;
	*step = "bind 127.0.0.1";
	if (bind(fd, (struct sockaddr *)&g->addr, sizeof(g->addr)) == -1)
		return -1;
	*step = "getsockname";
	if (getsockname(fd, (struct sockaddr *)&g->addr, &len) == -1)
		return -1;
	*step = "listen";
	if (g->type == SOCK_STREAM && listen(fd, 2 * STEER_PROBES) == -1)
		return -1;
	return 0;
}

/* Attaches the program that sends cpus[i] to index i. */
static int
steer_group_program(struct steer_group *g, const int cpus[2])
{
	struct steer_cbpf	 prog;
	size_t			 n, i;
	int			*index, r;

	n = (size_t)(cpus[0] > cpus[1] ? cpus[0] : cpus[1]) + 1;
	if ((index = calloc(n, sizeof(*index))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		index[i] = -1;
	index[cpus[0]] = 0;
	index[cpus[1]] = 1;
	r = steer_cbpf_build(index, n, &prog);
	free(index);
	if (r < 0)
		return r;
	r = steer_cbpf_attach(g->fd[0], &prog);
	steer_cbpf_free(&prog);
	return r;
}

static int
steer_group_open(struct steer_group *g, int type, enum steer_method method,
    const int cpus[2], struct steer_probe *p)
{
	const char	*step;
	int		 i, r;

	memset(g, 0, sizeof(*g));
	g->type = type;
	g->fd[0] = g->fd[1] = -1;
	g->addr.sin_family = AF_INET;
	g->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 2; i++) {
		if (steer_group_join(g, i, method == STEER_METHOD_INCOMING_CPU ?
		    cpus[i] : -1, &step) == -1) {
			steer_fail(p, "%s: %s: %s", steer_proto(type), step,
			    strerror(errno));
			return -1;
		}
	}
	if (method == STEER_METHOD_CBPF &&
	    (r = steer_group_program(g, cpus)) < 0) {
		steer_fail(p, "%s: setsockopt SO_ATTACH_REUSEPORT_CBPF: %s",
		    steer_proto(type), strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * Sends the probes from the CPU the thread runs on: datagrams from new
 * sockets, or connections whose sockets stay open (in cfds) until they
 * were accepted.
 */
static int
steer_send(const struct steer_group *g, int *cfds, const char **step)
{
	int	 i, fd;

	for (i = 0; i < STEER_PROBES; i++) {
		*step = "socket";
		fd = socket(AF_INET, g->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		if (g->type == SOCK_STREAM) {
			cfds[i] = fd;
			*step = "connect";
			if (connect(fd, (const struct sockaddr *)&g->addr,
			    sizeof(g->addr)) == -1 && errno != EINPROGRESS)
				return -1;
			continue;
		}
		*step = "sendto";
		if (sendto(fd, "?", 1, 0, (const struct sockaddr *)&g->addr,
		    sizeof(g->addr)) == -1) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* Takes what socket i received: connections or datagrams; -1 on error. */
static int
steer_take(const struct steer_group *g, int i)
{
	char	 byte;
	int	 n = 0, fd;

	for (;;) {
		if (g->type == SOCK_STREAM) {
			fd = accept4(g->fd[i], NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
		} else
			fd = (int)recv(g->fd[i], &byte, 1, MSG_DONTWAIT);
		if (fd >= 0) {
			n++;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return n;
		if (errno != EINTR && errno != ECONNABORTED)
			return -1;
	}
}

/* Waits, with a bound, for the probes sent from the CPU of socket mine. */
static int
steer_collect(const struct steer_group *g, int mine, struct steer_count *c)
{
	struct pollfd	 pfd[2];
	uint64_t	 deadline = stats_now_ns() + STEER_WAIT_NS, now;
	unsigned int	 got = 0;
	int		 i, n;

	while (got < STEER_PROBES && (now = stats_now_ns()) < deadline) {
		for (i = 0; i < 2; i++)
			pfd[i] = (struct pollfd){ .fd = g->fd[i],
			    .events = POLLIN };
		if (poll(pfd, 2, (int)((deadline - now) / 1000000) + 1) == -1 &&
		    errno != EINTR)
			return -1;
		for (i = 0; i < 2; i++) {
			if ((n = steer_take(g, i)) < 0)
				return -1;
			got += (unsigned int)n;
			if (i == mine)
				c->local += (unsigned int)n;
		}
	}
	c->sent += STEER_PROBES;
	c->lost += got < STEER_PROBES ? STEER_PROBES - got : 0;
	return 0;
}

/* Moves the thread to cpu and checks that it runs there. */
static int
steer_pin(int cpu, struct steer_probe *p)
{
	struct cpuset	*set;
	int		 r = -ENOMEM, now;

	if ((set = cpuset_new()) != NULL &&
	    (r = cpuset_add(set, (unsigned int)cpu)) == 0)
		r = cpuset_set_affinity(0, set);
	cpuset_free(set);
	if (r < 0) {
		steer_fail(p, "sched_setaffinity to CPU %d: %s", cpu,
		    strerror(-r));
		return -1;
	}
	if ((now = sched_getcpu()) != cpu) {
		steer_fail(p, "pinned to CPU %d but running on CPU %d", cpu,
		    now);
		return -1;
	}
	return 0;
}

/* One protocol: probes from each CPU in turn. */
static void
steer_run_proto(int type, enum steer_method method, const int cpus[2],
    struct steer_probe *p)
{
	struct steer_group	 g;
	struct steer_count	*c = type == SOCK_STREAM ? &p->tcp : &p->udp;
	const char		*step;
	int			 cfds[STEER_PROBES], i, k, r;

	if (steer_group_open(&g, type, method, cpus, p) == -1) {
		steer_group_close(&g);
		return;
	}
	for (i = 0; i < 2 && p->outcome != STEER_FAILED; i++) {
		for (k = 0; k < STEER_PROBES; k++)
			cfds[k] = -1;
		if (steer_pin(cpus[i], p) == 0) {
			r = steer_send(&g, cfds, &step);
			if (r == -1)
				steer_fail(p, "%s: %s: %s", steer_proto(type),
				    step, strerror(errno));
			else if (steer_collect(&g, i, c) == -1)
				steer_fail(p, "%s: receiving: %s",
				    steer_proto(type), strerror(errno));
		}
		for (k = 0; k < STEER_PROBES; k++)
			if (cfds[k] >= 0)
				close(cfds[k]);
	}
	steer_group_close(&g);
}

static void
steer_run(enum steer_method method, const int cpus[2], struct steer_probe *p)
{
	memset(p, 0, sizeof(*p));
	steer_run_proto(SOCK_STREAM, method, cpus, p);
	if (p->outcome != STEER_FAILED)
		steer_run_proto(SOCK_DGRAM, method, cpus, p);
	if (p->outcome == STEER_FAILED)
		return;
	if (p->tcp.lost + p->udp.lost > 0)
		steer_fail(p, "%u of %u probes reached no socket within %llu ms",
		    p->tcp.lost + p->udp.lost, p->tcp.sent + p->udp.sent,
		    (unsigned long long)(STEER_WAIT_NS / 1000000));
	else if (p->tcp.local == p->tcp.sent && p->udp.local == p->udp.sent)
		p->outcome = STEER_STEERS;
	else
		p->outcome = STEER_HASHES;
}

/* The first two CPUs of cpus, or of the process's cpuset. */
static int
steer_pick_cpus(const struct cpuset *cpus, int out[2])
{
	struct cpuset	*own = NULL;
	int		 r;

	out[0] = out[1] = -1;
	if (cpus == NULL) {
		if ((r = cpuset_allowed(NULL, &own)) < 0)
			return r;
		cpus = own;
	}
	out[0] = cpuset_first(cpus);
	if (out[0] >= 0)
		out[1] = cpuset_next(cpus, out[0]);
	if (out[1] < 0)
		out[0] = -1;
	cpuset_free(own);
	return 0;
}

/*
 * RPS on loopback moves the processing off the sending CPU, and the
 * probes would then prove nothing: 1 when it is set, with what it says.
 */
static int
steer_lo_rps(char *mask, size_t len)
{
	struct cpuset	*set = NULL;
	int		 r;

	r = cpuset_read_mask_file("/sys/class/net/lo/queues/rx-0/rps_cpus",
	    &set);
	if (r < 0 || set == NULL || cpuset_empty(set)) {
		cpuset_free(set);
		return 0;
	}
	snprintf(mask, len, "%d", cpuset_first(set));
	cpuset_free(set);
	return 1;
}

int
steer_selftest(const struct cpuset *cpus, struct steer_result *res)
{
	struct cpuset	*saved = NULL;
	char		 rps[16];
	int		 r;

	memset(res, 0, sizeof(*res));
	if ((r = steer_pick_cpus(cpus, res->cpus)) < 0 || res->cpus[0] < 0) {
		if (r < 0)
			snprintf(res->incoming_cpu.detail,
			    sizeof(res->incoming_cpu.detail),
			    "cannot read the allowed CPUs: %s", strerror(-r));
		else
			snprintf(res->incoming_cpu.detail,
			    sizeof(res->incoming_cpu.detail),
			    "fewer than two CPUs to test with");
		memcpy(res->cbpf.detail, res->incoming_cpu.detail,
		    sizeof(res->cbpf.detail));
		return r;
	}
	if (steer_lo_rps(rps, sizeof(rps))) {
		steer_fail(&res->incoming_cpu, "loopback has RPS (rps_cpus from "
		    "CPU %s): its packets are not processed on the sending CPU",
		    rps);
		res->cbpf = res->incoming_cpu;
		return 0;
	}
	if ((r = cpuset_get_affinity(0, &saved)) < 0)
		return r;
	steer_run(STEER_METHOD_INCOMING_CPU, res->cpus, &res->incoming_cpu);
	steer_run(STEER_METHOD_CBPF, res->cpus, &res->cbpf);
	r = cpuset_set_affinity(0, saved);
	cpuset_free(saved);
	return r;
}

/* What one test saw, for a reason line. */
static void
steer_describe(const struct steer_probe *p, char *buf, size_t len)
{
	if (p->outcome == STEER_FAILED || p->outcome == STEER_NOT_RUN)
		snprintf(buf, len, "%s", p->detail);
	else
		snprintf(buf, len, "TCP %u/%u, UDP %u/%u probes on the socket "
		    "of their CPU", p->tcp.local, p->tcp.sent, p->udp.local,
		    p->udp.sent);
}

void
steer_decide(const struct steer_result *res, struct steer_decision *dec)
{
	const struct steer_probe	*in = &res->incoming_cpu, *bpf = &res->cbpf;
	char				 a[176], b[176];

	steer_describe(in, a, sizeof(a));
	steer_describe(bpf, b, sizeof(b));
	if (in->outcome == STEER_NOT_RUN) {
		dec->method = STEER_METHOD_INCOMING_CPU;
		snprintf(dec->reason, sizeof(dec->reason), "self-test not run "
		    "(%s): with one CPU every flow is local whatever steers",
		    a);
	} else if (in->outcome == STEER_STEERS) {
		dec->method = STEER_METHOD_INCOMING_CPU;
		snprintf(dec->reason, sizeof(dec->reason), "SO_INCOMING_CPU "
		    "steers on this kernel (self-test on CPUs %d and %d: %s)",
		    res->cpus[0], res->cpus[1], a);
	} else if (in->outcome == STEER_FAILED &&
	    bpf->outcome == STEER_FAILED) {
		/* Nothing was learnt: the choice that is never worse than none. */
		dec->method = STEER_METHOD_INCOMING_CPU;
		snprintf(dec->reason, sizeof(dec->reason), "the self-test "
		    "could not run (%s); SO_INCOMING_CPU is set, which steers "
		    "where the kernel has the reuseport fix and hashes where "
		    "not", a);
	} else if (bpf->outcome == STEER_STEERS) {
		dec->method = STEER_METHOD_CBPF;
		snprintf(dec->reason, sizeof(dec->reason), "SO_INCOMING_CPU "
		    "does not steer on this kernel (%s%s); a classic BPF "
		    "reuseport program does (%s)", in->outcome == STEER_HASHES ?
		    "the group hashed: " : "", a, b);
	} else {
		dec->method = STEER_METHOD_NONE;
		snprintf(dec->reason, sizeof(dec->reason), "neither steers on "
		    "this kernel: SO_INCOMING_CPU: %s; classic BPF: %s; flows "
		    "are hashed over the workers", a, b);
	}
}
