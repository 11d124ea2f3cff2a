/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets on the loopback: the options a worker's socket carries,
 * the errors a user reads when it cannot be opened, and the sock_diag check
 * that counts sockets of others on a listener's port.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "unit.h"

#include "config/config.h"
#include "worker/listener.h"
#include "master/sockdiag.h"
#include "common/util.h"

#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU	49
#endif

#define TEST_BACKLOG	37
#define TEST_NOBODY	65534

/* Set once in main(): whether sock_diag answers on this kernel. */
static int	have_diag;

struct tl {
	struct listener_conf	 lc;
	char			 name[32];
	char			 address[64];
};

static void
tl_setport(struct tl *t, uint16_t port)
{
	t->lc.port = port;
	if (t->lc.addr.ss_family == AF_INET)
		((struct sockaddr_in *)&t->lc.addr)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&t->lc.addr)->sin6_port = htons(port);
}

/* What config.c hands a worker: the address resolved, v6only default. */
static void
tl_init(struct tl *t, const char *name, enum listen_proto proto,
    const char *address, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&t->lc.addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&t->lc.addr;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->address, sizeof(t->address), "%s", address);
	t->lc.name = t->name;
	t->lc.address = t->address;
	t->lc.protocol = proto;
	t->lc.backlog = TEST_BACKLOG;
	t->lc.v6only = -1;
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		t->lc.addrlen = sizeof(*sin);
	} else {
		assert_int_equal(inet_pton(AF_INET6, address, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		t->lc.addrlen = sizeof(*sin6);
	}
	tl_setport(t, port);
}

static uint16_t
fd_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int
sockopt_int(int fd, int level, int name)
{
	int		 value = -12345;
	socklen_t	 len = sizeof(value);

	assert_int_equal(getsockopt(fd, level, name, &value, &len), 0);
	return value;
}

/* Opens a listener that must succeed, with the message checked unset. */
static int
open_ok(const struct tl *t, int cpu, enum steering steering)
{
	char	*why = (char *)"unset";
	int	 fd;

	fd = listener_open(&t->lc, cpu, steering, &why);
	if (fd < 0)
		fail_msg("listener_open: %s", why ? why : strerror(-fd));
	assert_null(why);
	return fd;
}

/* Opens the worker socket and points t at the port the kernel chose. */
static int
open_any_port(struct tl *t)
{
	int	 fd;

	fd = open_ok(t, 0, STEERING_INCOMING_CPU);
	tl_setport(t, fd_port(fd));
	return fd;
}

static uint64_t
cookie_of(int fd)
{
	uint64_t	 cookie = 0;

	assert_int_equal(listener_cookie(fd, &cookie), 0);
	return cookie;
}

/*
 * A socket of "someone else" on the port: SO_REUSEPORT as the same user
 * lets it join, which is exactly what the ownership check must catch.
 * v6only < 0 leaves IPV6_V6ONLY at the system default.
 */
static int
other_socket(enum listen_proto proto, const char *address, uint16_t port,
    int reuseport, int v6only)
{
	struct tl	 t;
	int		 fd;

	tl_init(&t, "other", proto, address, port);
	fd = socket(t.lc.addr.ss_family,
	    proto == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	if (reuseport)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT,
		    &reuseport, sizeof(reuseport)), 0);
	if (v6only >= 0)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    &v6only, sizeof(v6only)), 0);
	if (bind(fd, (struct sockaddr *)&t.lc.addr, t.lc.addrlen) == -1)
		fail_msg("bind %s port %u: %s", address, port, strerror(errno));
	if (proto == LISTEN_TCP)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static unsigned int
foreign(const struct tl *t, const uint64_t *cookies, size_t n)
{
	unsigned int	 nforeign = 12345;
	int		 r;

	r = sockdiag_foreign(&t->lc, cookies, n, &nforeign);
	if (r < 0)
		fail_msg("sockdiag_foreign: %s", strerror(-r));
	return nforeign;
}

static int
have_ipv6(void)
{
	struct sockaddr_in6	 sin6 = { .sin6_family = AF_INET6 };
	int			 fd, ok;

	sin6.sin6_addr = in6addr_loopback;
	if ((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

/*
 * An independent look at the kernel's socket table, for facts getsockopt
 * does not show: a listener's backlog, TIME_WAIT and established sockets.
 */
struct diag_query {
	uint16_t		 port;
	uint64_t		 cookie;	/* 0: any */
	unsigned int		 count;
	struct inet_diag_msg	 msg;
};

static int
diag_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct diag_query		*q = arg;
	const struct inet_diag_msg	*m = mnl_nlmsg_get_payload(nlh);
	uint64_t			 cookie;

	assert_true(mnl_nlmsg_get_payload_len(nlh) >= sizeof(*m));
	cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	if (ntohs(m->id.idiag_sport) == q->port &&
	    (q->cookie == 0 || q->cookie == cookie)) {
		q->count++;
		q->msg = *m;
	}
	return MNL_CB_OK;
}

static unsigned int
diag_count(int family, int protocol, unsigned int states,
    struct diag_query *q)
{
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct inet_diag_req_v2	*req;
	char			 buf[32768];
	ssize_t			 n;
	int			 r = MNL_CB_OK;

	assert_non_null(nl = mnl_socket_open(NETLINK_SOCK_DIAG));
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 77;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = protocol;
	req->idiag_states = states;
	assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
	q->count = 0;
	while (r > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		assert_true(n > 0);
		r = mnl_cb_run(buf, n, 77, mnl_socket_get_portid(nl), diag_cb,
		    q);
		assert_true(r >= MNL_CB_STOP);
	}
	mnl_socket_close(nl);
	return q->count;
}

/* Waits, bounded, for the kernel to move a socket on the port to a state. */
static unsigned int
diag_wait(int family, unsigned int states, uint16_t port)
{
	struct diag_query	 q = { .port = port };
	struct timespec		 ms = { 0, 1000000 };
	int			 i;

	for (i = 0; i < 2000; i++) {
		if (diag_count(family, IPPROTO_TCP, states, &q) > 0)
			return q.count;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static void
test_describe(void **state)
{
	struct tl	 t;
	char		*s;

	(void)state;
	tl_init(&t, "echo", LISTEN_TCP, "127.0.0.1", 7777);
	assert_non_null(s = listener_describe(&t.lc));
	assert_string_equal(s, "\"echo\" (tcp 127.0.0.1:7777)");
	free(s);
	tl_init(&t, "echo-udp", LISTEN_UDP, "::1", 7777);
	assert_non_null(s = listener_describe(&t.lc));
	assert_string_equal(s, "\"echo-udp\" (udp [::1]:7777)");
	free(s);
	tl_init(&t, "any", LISTEN_TCP, "::", 80);
	assert_non_null(s = listener_describe(&t.lc));
	assert_string_equal(s, "\"any\" (tcp [::]:80)");
	free(s);
}

static void
test_cookie(void **state)
{
	struct tl	 t;
	uint64_t	 a, b, c = 42;
	int		 fa, fb, p[2];

	(void)state;
	tl_init(&t, "echo", LISTEN_TCP, "127.0.0.1", 0);
	fa = open_any_port(&t);
	fb = open_ok(&t, 0, STEERING_INCOMING_CPU);
	a = cookie_of(fa);
	b = cookie_of(fb);
	assert_true(a != 0 && b != 0 && a != b);
	assert_true(cookie_of(fa) == a);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(listener_cookie(p[0], &c), -ENOTSOCK);
	assert_int_equal(listener_cookie(-1, &c), -EBADF);
	assert_true(c == 42);
	close(p[0]);
	close(p[1]);
	close(fa);
	close(fb);
}

/* What every worker socket carries, whatever the protocol. */
static void
check_common(int fd)
{
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT), 1);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void
test_tcp_v4(void **state)
{
	struct diag_query	 q;
	struct tl		 t;
	int			 fd;

	(void)state;
	tl_init(&t, "echo", LISTEN_TCP, "127.0.0.1", 0);
	fd = open_any_port(&t);
	check_common(fd);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 1);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_INCOMING_CPU), 0);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_true(t.lc.port != 0);
	/* A listener's sock_diag "send queue" is its backlog, as in ss -l. */
	if (have_diag) {
		memset(&q, 0, sizeof(q));
		q.port = t.lc.port;
		q.cookie = cookie_of(fd);
		assert_int_equal(diag_count(AF_INET, IPPROTO_TCP,
		    1U << TCP_LISTEN, &q), 1);
		assert_int_equal(q.msg.idiag_wqueue, TEST_BACKLOG);
	}
	close(fd);
}

static void
test_udp_v4(void **state)
{
	struct tl	 t;
	int		 fd;

	(void)state;
	tl_init(&t, "echo-udp", LISTEN_UDP, "127.0.0.1", 0);
	fd = open_any_port(&t);
	check_common(fd);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	/*
	 * The kernel reads back what was set on the socket.  An unconnected
	 * UDP socket keeps it: only connected ones overwrite it with the CPU
	 * of each received packet; the "-1" often quoted for UDP is the
	 * initial value of a socket where nothing was set.
	 */
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_INCOMING_CPU), 0);
	assert_int_equal(sockopt_int(fd, IPPROTO_IP, IP_PKTINFO), 1);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	close(fd);
}

/* Without steering the socket keeps the kernel's initial -1. */
static void
test_no_steering(void **state)
{
	struct tl	 t;
	int		 fd;

	(void)state;
	tl_init(&t, "echo", LISTEN_TCP, "127.0.0.1", 0);
	fd = open_ok(&t, 1, STEERING_NONE);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_INCOMING_CPU), -1);
	close(fd);
	tl_init(&t, "echo-udp", LISTEN_UDP, "127.0.0.1", 0);
	fd = open_ok(&t, -1, STEERING_INCOMING_CPU);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_INCOMING_CPU), -1);
	check_common(fd);
	close(fd);
}

static void
test_v6_loopback(void **state)
{
	struct sockaddr_in6	 sin6;
	socklen_t		 len = sizeof(sin6);
	struct tl		 t;
	int			 fd;

	(void)state;
	if (!have_ipv6()) {
		printf("no IPv6 loopback: skipped\n");
		skip();
	}
	tl_init(&t, "echo", LISTEN_TCP, "::1", 0);
	fd = open_any_port(&t);
	check_common(fd);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_INCOMING_CPU), 0);
	assert_int_equal(sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr));
	close(fd);

	tl_init(&t, "echo-udp", LISTEN_UDP, "::1", 0);
	fd = open_any_port(&t);
	check_common(fd);
	assert_int_equal(sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
	close(fd);
}

static int
connect4(int type, uint16_t port)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	int			 fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_true((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) >= 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int
accept_one(int lfd)
{
	struct pollfd	 pfd = { .fd = lfd, .events = POLLIN };
	int		 fd;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	return fd;
}

/* "::" takes IPv4 clients unless v6only says otherwise. */
static void
test_v6_any_tcp(void **state)
{
	struct tl	 t;
	int		 fd, c, s;

	(void)state;
	if (!have_ipv6()) {
		printf("no IPv6: skipped\n");
		skip();
	}
	tl_init(&t, "any", LISTEN_TCP, "::", 0);
	fd = open_any_port(&t);
	assert_int_equal(sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	assert_true((c = connect4(SOCK_STREAM, t.lc.port)) >= 0);
	s = accept_one(fd);
	close(s);
	close(c);
	close(fd);

	t.lc.v6only = 1;
	fd = open_any_port(&t);
	assert_int_equal(sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_int_equal(connect4(SOCK_STREAM, t.lc.port), -ECONNREFUSED);
	close(fd);
}

/* An IPv4 datagram to "::" says which address it came to. */
static void
test_v6_any_udp(void **state)
{
	struct tl		 t;
	struct in_pktinfo	 pi;
	struct cmsghdr		*cm;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct pollfd		 pfd;
	char			 data[16], cbuf[256];
	int			 fd, c, found = 0;

	(void)state;
	if (!have_ipv6()) {
		printf("no IPv6: skipped\n");
		skip();
	}
	tl_init(&t, "any-udp", LISTEN_UDP, "::", 0);
	fd = open_any_port(&t);
	check_common(fd);
	assert_int_equal(sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	assert_int_equal(sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
	assert_true((c = connect4(SOCK_DGRAM, t.lc.port)) >= 0);
	assert_int_equal(send(c, "ping", 4, 0), 4);

	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = data;
	iov.iov_len = sizeof(data);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	assert_int_equal(recvmsg(fd, &mh, 0), 4);
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		assert_int_equal(ntohl(pi.ipi_addr.s_addr), INADDR_LOOPBACK);
		found = 1;
	}
	assert_true(found);
	close(c);
	close(fd);
}

/* Two workers of one listener share the port through the reuseport group. */
static void
two_workers(enum listen_proto proto)
{
	struct tl	 t;
	int		 a, b;

	tl_init(&t, "echo", proto, "127.0.0.1", 0);
	a = open_any_port(&t);
	b = open_ok(&t, 1, STEERING_INCOMING_CPU);
	assert_int_equal(fd_port(b), t.lc.port);
	assert_int_equal(sockopt_int(b, SOL_SOCKET, SO_INCOMING_CPU), 1);
	close(a);
	close(b);
}

static void
test_two_workers_tcp(void **state)
{
	(void)state;
	two_workers(LISTEN_TCP);
}

static void
test_two_workers_udp(void **state)
{
	(void)state;
	two_workers(LISTEN_UDP);
}

static void
check_fails(const struct tl *t, int error, const char *expect)
{
	char	*why = NULL;
	int	 fd;

	fd = listener_open(&t->lc, 0, STEERING_INCOMING_CPU, &why);
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -error);
	assert_non_null(why);
	assert_string_equal(why, expect);
	free(why);
}

/* A port held without SO_REUSEPORT is in use, and the message says so. */
static void
plain_holder(enum listen_proto proto, const char *proto_name)
{
	struct tl	 t;
	char		 expect[128];
	int		 other;

	other = other_socket(proto, "127.0.0.1", 0, 0, -1);
	tl_init(&t, "echo", proto, "127.0.0.1", fd_port(other));
	snprintf(expect, sizeof(expect),
	    "listener \"echo\" (%s 127.0.0.1:%u): bind: Address already in use",
	    proto_name, t.lc.port);
	check_fails(&t, EADDRINUSE, expect);
	close(other);
}

static void
test_in_use_tcp(void **state)
{
	(void)state;
	plain_holder(LISTEN_TCP, "tcp");
}

static void
test_in_use_udp(void **state)
{
	(void)state;
	plain_holder(LISTEN_UDP, "udp");
}

static void
test_addr_not_avail(void **state)
{
	struct tl	 t;
	int		 fd;

	(void)state;
	tl_init(&t, "far", LISTEN_TCP, "192.0.2.1", 7777);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&t.lc.addr, t.lc.addrlen) == 0) {
		close(fd);
		printf("192.0.2.1 is bindable here (local or "
		    "ip_nonlocal_bind): skipped\n");
		skip();
	}
	close(fd);
	check_fails(&t, EADDRNOTAVAIL, "listener \"far\" (tcp 192.0.2.1:7777): "
	    "bind: Cannot assign requested address");
}

/*
 * Runs in a child that has dropped root (if it had it), so the test does
 * not depend on who runs it.  The exit status carries the verdict.
 */
static int
privileged_port_child(uint16_t port)
{
	struct tl	 t;
	char		 expect[128], *why = NULL;
	int		 fd, ok;

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(TEST_NOBODY, TEST_NOBODY, TEST_NOBODY) == -1 ||
	    setresuid(TEST_NOBODY, TEST_NOBODY, TEST_NOBODY) == -1))
		return 3;
	tl_init(&t, "low", LISTEN_TCP, "127.0.0.1", port);
	snprintf(expect, sizeof(expect),
	    "listener \"low\" (tcp 127.0.0.1:%u): bind: Permission denied",
	    port);
	fd = listener_open(&t.lc, 0, STEERING_INCOMING_CPU, &why);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	ok = fd == -EACCES && why != NULL && strcmp(why, expect) == 0;
	if (!ok)
		fprintf(stderr, "got %d: %s\n", fd, why ? why : "(null)");
	free(why);
	return ok ? 0 : 2;
}

static void
test_privileged_port(void **state)
{
	unsigned int	 start;
	char		*line;
	pid_t		 pid;
	int		 status;

	(void)state;
	if (read_file_line("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    &line) < 0) {
		printf("no ip_unprivileged_port_start: skipped\n");
		skip();
	}
	assert_int_equal(parse_uint(line, 65535, &start), 0);
	free(line);
	if (start == 0) {
		printf("every port is unprivileged here: skipped\n");
		skip();
	}
	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(privileged_port_child((uint16_t)(start - 1)));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Our two workers, with and without their cookies. */
static void
diag_ours_only(enum listen_proto proto)
{
	struct tl	 t;
	uint64_t	 cookies[2];
	int		 a, b;

	tl_init(&t, "echo", proto, "127.0.0.1", 0);
	a = open_any_port(&t);
	b = open_ok(&t, 1, STEERING_INCOMING_CPU);
	cookies[0] = cookie_of(a);
	cookies[1] = cookie_of(b);
	assert_int_equal(foreign(&t, cookies, 2), 0);
	assert_int_equal(foreign(&t, cookies, 1), 1);
	assert_int_equal(foreign(&t, NULL, 0), 2);
	close(a);
	close(b);
}

static void
test_diag_ours_tcp(void **state)
{
	(void)state;
	diag_ours_only(LISTEN_TCP);
}

static void
test_diag_ours_udp(void **state)
{
	(void)state;
	diag_ours_only(LISTEN_UDP);
}

/*
 * Another program's SO_REUSEPORT socket counts on our address or the
 * wildcard, not on another address or another port.
 */
static void
diag_others(enum listen_proto proto)
{
	struct tl	 t;
	uint64_t	 cookie;
	uint16_t	 other_port;
	int		 fd, o;

	tl_init(&t, "echo", proto, "127.0.0.1", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	assert_int_equal(foreign(&t, &cookie, 1), 0);

	o = other_socket(proto, "127.0.0.1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	o = other_socket(proto, "0.0.0.0", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	o = other_socket(proto, "127.0.0.2", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	o = other_socket(proto, "127.0.0.1", 0, 1, -1);
	other_port = fd_port(o);
	assert_true(other_port != t.lc.port);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	close(fd);
}

static void
test_diag_others_tcp(void **state)
{
	(void)state;
	diag_others(LISTEN_TCP);
}

static void
test_diag_others_udp(void **state)
{
	(void)state;
	diag_others(LISTEN_UDP);
}

/*
 * Connections on the port, live or in TIME_WAIT, are not competitors: the
 * server closes first so its side is the one left in TIME_WAIT.
 */
static void
test_diag_tcp_connections(void **state)
{
	struct diag_query	 q;
	struct tl		 t;
	uint64_t		 cookie;
	char			 c;
	int			 fd, cl, srv;

	(void)state;
	tl_init(&t, "echo", LISTEN_TCP, "127.0.0.1", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	assert_true((cl = connect4(SOCK_STREAM, t.lc.port)) >= 0);
	srv = accept_one(fd);
	memset(&q, 0, sizeof(q));
	q.port = t.lc.port;
	assert_int_equal(diag_count(AF_INET, IPPROTO_TCP,
	    1U << TCP_ESTABLISHED, &q), 1);
	assert_int_equal(foreign(&t, &cookie, 1), 0);

	close(srv);
	assert_int_equal(read(cl, &c, 1), 0);
	close(cl);
	assert_true(diag_wait(AF_INET, 1U << TCP_TIME_WAIT, t.lc.port) > 0);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(fd);
}

/* A connected UDP socket on the port is a client; an unconnected one is not. */
static void
test_diag_udp_connected(void **state)
{
	struct sockaddr_in	 to = { .sin_family = AF_INET };
	struct tl		 t;
	uint64_t		 cookie;
	int			 fd, o;

	(void)state;
	tl_init(&t, "echo-udp", LISTEN_UDP, "127.0.0.1", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	o = other_socket(LISTEN_UDP, "127.0.0.1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(9);
	assert_int_equal(connect(o, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	close(fd);
}

/* IPv4 and IPv6 overlap through "::" without IPV6_V6ONLY. */
static void
diag_dual_stack(enum listen_proto proto)
{
	struct tl	 t;
	uint64_t	 cookie;
	int		 fd, o;

	tl_init(&t, "any", proto, "::", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	o = other_socket(proto, "127.0.0.1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	close(fd);

	tl_init(&t, "any6", proto, "::", 0);
	t.lc.v6only = 1;
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	o = other_socket(proto, "127.0.0.1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	o = other_socket(proto, "::1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	close(fd);

	tl_init(&t, "echo", proto, "127.0.0.1", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	o = other_socket(proto, "::", t.lc.port, 1, 0);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	o = other_socket(proto, "::", t.lc.port, 1, 1);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	close(fd);

	tl_init(&t, "echo6", proto, "::1", 0);
	fd = open_any_port(&t);
	cookie = cookie_of(fd);
	o = other_socket(proto, "127.0.0.1", t.lc.port, 1, -1);
	assert_int_equal(foreign(&t, &cookie, 1), 0);
	close(o);
	o = other_socket(proto, "::", t.lc.port, 1, 1);
	assert_int_equal(foreign(&t, &cookie, 1), 1);
	close(o);
	close(fd);
}

static void
test_diag_dual_stack_tcp(void **state)
{
	(void)state;
	if (!have_ipv6()) {
		printf("no IPv6: skipped\n");
		skip();
	}
	diag_dual_stack(LISTEN_TCP);
}

static void
test_diag_dual_stack_udp(void **state)
{
	(void)state;
	if (!have_ipv6()) {
		printf("no IPv6: skipped\n");
		skip();
	}
	diag_dual_stack(LISTEN_UDP);
}

/*
 * Replies the kernel does not send on demand (errors, cut messages, a dump
 * that never ends) come from a stand-in for libmnl's receive; everything
 * else passes through to the real one.
 */
static char	 fake_buf[4096];
static size_t	 fake_len;
static int	 fake_repeat;
static int	 fake_errno;

ssize_t
mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size)
{
	static ssize_t	(*real)(const struct mnl_socket *, void *, size_t);
	size_t		 len = fake_len;

	if (fake_errno != 0) {
		errno = fake_errno;
		fake_errno = 0;
		return -1;
	}
	if (len == 0) {
		if (real == NULL)
			*(void **)&real = dlsym(RTLD_NEXT,
			    "mnl_socket_recvfrom");
		assert_non_null(real);
		return real(nl, buf, size);
	}
	assert_true(len <= size);
	memcpy(buf, fake_buf, len);
	if (!fake_repeat)
		fake_len = 0;
	return (ssize_t)len;
}

static void *
fake_put(uint16_t type, uint32_t seq, size_t payload)
{
	struct nlmsghdr	*nlh;
	void		*p;

	assert_true(fake_len + NLMSG_SPACE(payload) <= sizeof(fake_buf));
	nlh = mnl_nlmsg_put_header(fake_buf + fake_len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	p = mnl_nlmsg_put_extra_header(nlh, payload);
	fake_len += nlh->nlmsg_len;
	return p;
}

/* A listening socket of someone else on [::1]:port, cookie 5. */
static void
fake_socket(uint32_t seq, uint16_t port)
{
	struct inet_diag_msg	*m;

	m = fake_put(SOCK_DIAG_BY_FAMILY, seq, sizeof(*m));
	m->idiag_family = AF_INET6;
	m->idiag_state = TCP_LISTEN;
	m->id.idiag_sport = htons(port);
	memcpy(m->id.idiag_src, &in6addr_loopback, sizeof(in6addr_loopback));
	m->id.idiag_cookie[0] = 5;
}

static void
fake_error(uint32_t seq, int error)
{
	struct nlmsgerr	*e;

	e = fake_put(NLMSG_ERROR, seq, sizeof(*e));
	e->error = error;
}

static void
fake_done(uint32_t seq, int error)
{
	int	*done;

	done = fake_put(NLMSG_DONE, seq, sizeof(*done));
	*done = error;
}

static void
fake_reset(void)
{
	memset(fake_buf, 0, sizeof(fake_buf));
	fake_len = 0;
	fake_repeat = 0;
	fake_errno = 0;
}

/* The listener the crafted replies speak of: one dump, of IPv6, seq 1. */
static int
fake_foreign(unsigned int *n)
{
	struct tl	 t;
	int		 r;

	tl_init(&t, "echo6", LISTEN_TCP, "::1", 7777);
	*n = 12345;
	r = sockdiag_foreign(&t.lc, NULL, 0, n);
	fake_reset();
	return r;
}

static void
test_diag_replies(void **state)
{
	unsigned int	 n;

	(void)state;
	fake_reset();
	fake_socket(99, 7777);		/* an answer to some other request */
	fake_socket(1, 7778);		/* another port */
	fake_socket(1, 7777);
	fake_done(1, 0);
	assert_int_equal(fake_foreign(&n), 0);
	assert_int_equal(n, 1);

	fake_error(1, -ENOENT);		/* no inet_diag handler */
	assert_int_equal(fake_foreign(&n), -EPROTONOSUPPORT);
	assert_int_equal(n, 12345);
	fake_error(1, -EPERM);
	assert_int_equal(fake_foreign(&n), -EPERM);
	fake_socket(1, 7777);
	fake_done(1, -ENOBUFS);
	assert_int_equal(fake_foreign(&n), -ENOBUFS);
	assert_int_equal(n, 12345);
	fake_errno = ENOSPC;		/* libmnl's word for MSG_TRUNC */
	assert_int_equal(fake_foreign(&n), -ENOSPC);
}

static void
test_diag_bad_replies(void **state)
{
	unsigned int	 n;

	(void)state;
	fake_reset();
	fake_socket(1, 7777);
	fake_len -= 8;			/* the last message cut short */
	assert_int_equal(fake_foreign(&n), -EBADMSG);
	fake_put(SOCK_DIAG_BY_FAMILY, 1, 4);	/* too short a payload */
	assert_int_equal(fake_foreign(&n), -EBADMSG);
	fake_put(NLMSG_ERROR, 1, 2);
	assert_int_equal(fake_foreign(&n), -EBADMSG);
	fake_socket(1, 7777);		/* a dump that never ends */
	fake_repeat = 1;
	assert_int_equal(fake_foreign(&n), -EOVERFLOW);
	assert_int_equal(n, 12345);
}

/*
 * Whether sock_diag answers for TCP and UDP at all; a kernel without it
 * (or without udp_diag) gives -EPROTONOSUPPORT.  Any other error is left
 * for the tests to report.
 */
static int
diag_probe(void)
{
	struct tl	 t;
	unsigned int	 n;
	int		 proto, fd, r;

	for (proto = LISTEN_TCP; proto <= LISTEN_UDP; proto++) {
		tl_init(&t, "probe", (enum listen_proto)proto, "127.0.0.1", 0);
		if ((fd = listener_open(&t.lc, -1, STEERING_NONE, NULL)) < 0)
			return 1;
		tl_setport(&t, fd_port(fd));
		r = sockdiag_foreign(&t.lc, NULL, 0, &n);
		close(fd);
		if (r == -EPROTONOSUPPORT)
			return 0;
	}
	return 1;
}

int
main(void)
{
	const struct CMUnitTest listener_tests[] = {
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_tcp_v4),
		cmocka_unit_test(test_udp_v4),
		cmocka_unit_test(test_no_steering),
		cmocka_unit_test(test_v6_loopback),
		cmocka_unit_test(test_v6_any_tcp),
		cmocka_unit_test(test_v6_any_udp),
		cmocka_unit_test(test_two_workers_tcp),
		cmocka_unit_test(test_two_workers_udp),
		cmocka_unit_test(test_in_use_tcp),
		cmocka_unit_test(test_in_use_udp),
		cmocka_unit_test(test_addr_not_avail),
		cmocka_unit_test(test_privileged_port),
	};
	const struct CMUnitTest sockdiag_tests[] = {
		cmocka_unit_test(test_diag_ours_tcp),
		cmocka_unit_test(test_diag_ours_udp),
		cmocka_unit_test(test_diag_others_tcp),
		cmocka_unit_test(test_diag_others_udp),
		cmocka_unit_test(test_diag_tcp_connections),
		cmocka_unit_test(test_diag_udp_connected),
		cmocka_unit_test(test_diag_dual_stack_tcp),
		cmocka_unit_test(test_diag_dual_stack_udp),
		cmocka_unit_test(test_diag_replies),
		cmocka_unit_test(test_diag_bad_replies),
	};
	int	 failed;

	have_diag = diag_probe();
	if (!have_diag)
		printf("sock_diag (NETLINK_SOCK_DIAG) is unavailable: "
		    "the ownership check cannot be tested\n");
	failed = cmocka_run_group_tests_name("listener", listener_tests,
	    NULL, NULL);
	if (failed)
		return 1;
	if (!have_diag)
		unit_skip_all("sock_diag unavailable; listener tests passed");
	failed = cmocka_run_group_tests_name("sockdiag", sockdiag_tests,
	    NULL, NULL);
	return failed ? 1 : 0;
}
