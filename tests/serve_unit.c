/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serving, seen from a client: one worker's listeners on loopback sockets
 * made here, driven by a local event loop in this process (no master, no
 * fork), checked by what a client reads back and what the counters say.
 * The process is pinned to one CPU, so a loopback connection's incoming
 * CPU is the worker's CPU and every accepted connection counts as local.
 */
#include "acconfig.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "unit.h"

#include "config/config.h"
#include "common/cpuset.h"
#include "worker/handler.h"
#include "worker/listener.h"
#include "worker/serve.h"
#include "common/stats.h"
#include "worker/tcp.h"
#include "worker/udp.h"

#define TEST_DEADLINE_MS	10000
#define TEST_QUIET_STEPS	100	/* steps without progress: blocked */
#define TEST_TURN_MS		900
#define TEST_BODY		"hello, world\n"

struct srv;

/* One worker without its process: a loop, a stats slot in plain memory. */
static struct {
	struct event_base	*base;
	struct serve		 serve;
	struct stats_slot	 slot;
	unsigned int		 closed;	/* conn_closed hook calls */
	struct event		*watchdog;	/* bounds a turn of the loop */
	int			 overrun;
	struct srv		*srvs[4];	/* open listeners */
} W;

/* One listener of that worker, on a socket the test made. */
struct srv {
	struct listener_conf	 lc;
	struct serve_listener	 sl;
	char			 name[32];
	char			 handler[16];
	struct sockaddr_storage	 addr;		/* clients send here */
	socklen_t		 addrlen;
};

static int	test_cpu = -1;

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	W.overrun = 1;
	event_base_loopbreak(W.base);
}

/*
 * Runs what is ready in the worker's loop once, then lets the kernel
 * work.  A turn of the loop that does not end within TEST_TURN_MS means
 * a callback that keeps scheduling itself: a server spinning on the CPU.
 */
static void
step(void)
{
	struct timeval	 tv = { 0, TEST_TURN_MS * 1000 };

	assert_int_equal(evtimer_add(W.watchdog, &tv), 0);
	assert_int_not_equal(event_base_loop(W.base,
	    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
	evtimer_del(W.watchdog);
	if (W.overrun)
		fail_msg("the event loop did not come back within %d ms",
		    TEST_TURN_MS);
	poll(NULL, 0, 1);
}

/* Steps until cond holds; fails the test after TEST_DEADLINE_MS. */
#define WAIT_FOR(cond) do {						\
	uint64_t wait_end_ = now_ms() + TEST_DEADLINE_MS;		\
	while (!(cond)) {						\
		if (now_ms() > wait_end_)				\
			fail_msg("timed out waiting for %s", #cond);	\
		step();							\
	}								\
} while (0)

static void
worker_closed(struct serve *serve)
{
	W.closed++;
}

static int
setup(void **state)
{
	memset(&W, 0, sizeof(W));
	if ((W.base = event_base_new()) == NULL ||
	    (W.watchdog = evtimer_new(W.base, watchdog_cb, NULL)) == NULL)
		return -1;
	W.serve.base = W.base;
	W.serve.worker_id = 3;
	W.serve.cpu = test_cpu;
	W.serve.pid = getpid();
	W.serve.stats = &W.slot;
	W.serve.max_conns = 100;
	W.serve.conn_closed = worker_closed;
	return 0;
}

static void	srv_close(struct srv *);

/* Also cleans up after a test that failed half-way. */
static int
teardown(void **state)
{
	size_t	 i;

	serve_close_all(&W.serve);
	for (i = 0; i < ARRAY_SIZE(W.srvs); i++)
		if (W.srvs[i] != NULL)
			srv_close(W.srvs[i]);
	event_free(W.watchdog);
	event_base_free(W.base);
	return 0;
}

static void
sockaddr_set(struct sockaddr_storage *ss, socklen_t *len, const char *addr,
    uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	}
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/*
 * Opens a listener the way listener.c would (port 0: the kernel picks)
 * and starts serving it.  Clients reach it at dest (NULL: its address).
 * NULL when the address cannot be bound here (no IPv6).
 */
static struct srv *
srv_open(const char *handler, enum listen_proto proto, const char *addr,
    const char *dest)
{
	struct sockaddr_storage	 ss;
	struct srv		*s;
	socklen_t		 len;
	size_t			 i;
	int			 fd, off = 0;

	for (i = 0; i < ARRAY_SIZE(W.srvs) && W.srvs[i] != NULL; i++)
		;
	assert_true(i < ARRAY_SIZE(W.srvs));
	sockaddr_set(&ss, &len, addr, 0);
	fd = socket(ss.ss_family, (proto == LISTEN_TCP ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (proto == LISTEN_TCP && listen(fd, 128) == -1) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return NULL;
	}
	assert_non_null(s = calloc(1, sizeof(*s)));
	W.srvs[i] = s;
	snprintf(s->name, sizeof(s->name), "%s-%s", handler,
	    proto == LISTEN_TCP ? "tcp" : "udp");
	snprintf(s->handler, sizeof(s->handler), "%s", handler);
	s->lc.name = s->name;
	s->lc.handler = s->handler;
	s->lc.protocol = proto;
	s->lc.http_body = strcmp(handler, "http") == 0 ? TEST_BODY : NULL;
	sockaddr_set(&s->addr, &s->addrlen, dest ? dest : addr,
	    sockaddr_port(&ss));
	s->sl.serve = &W.serve;
	s->sl.conf = &s->lc;
	s->sl.handler = handler_find(handler);
	s->sl.fd = fd;
	assert_non_null(s->sl.handler);
	assert_int_equal(proto == LISTEN_TCP ? tcp_serve_start(&s->sl) :
	    udp_serve_start(&s->sl), 0);
	assert_non_null(s->sl.io);
	return s;
}

/* Stops serving (if still serving), closes the socket. */
static void
srv_close(struct srv *s)
{
	size_t	 i;

	if (s->lc.protocol == LISTEN_TCP)
		tcp_serve_stop(&s->sl);
	else
		udp_serve_stop(&s->sl);
	close(s->sl.fd);
	for (i = 0; i < ARRAY_SIZE(W.srvs); i++)
		if (W.srvs[i] == s)
			W.srvs[i] = NULL;
	free(s);
}

/* A connected, non-blocking client; the kernel completes the handshake. */
static int
cli_connect(const struct srv *s)
{
	int	 fd;

	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(fd, -1);
	assert_int_equal(connect(fd, (const struct sockaddr *)&s->addr,
	    s->addrlen), 0);
	assert_int_not_equal(fcntl(fd, F_SETFL, O_NONBLOCK), -1);
	return fd;
}

static void
cli_send_all(int fd, const void *buf, size_t len)
{
	uint64_t	 end = now_ms() + TEST_DEADLINE_MS;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else {
			assert_true(n == -1 && errno == EAGAIN);
			assert_true(now_ms() < end);
			step();
		}
	}
}

static void
cli_send_str(int fd, const char *s)
{
	cli_send_all(fd, s, strlen(s));
}

/*
 * Reads what is there into buf (cap bytes, kept NUL-terminated) after
 * *len; returns 1 at EOF, 0 if nothing more is there now.
 */
static int
cli_read_some(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t	 n;

	for (;;) {
		assert_true(*len < cap - 1);
		n = recv(fd, buf + *len, cap - 1 - *len, 0);
		if (n == 0)
			return 1;
		if (n == -1) {
			assert_true(errno == EAGAIN);
			return 0;
		}
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

/* Reads until EOF; returns the length. */
static size_t
cli_read_eof(int fd, char *buf, size_t cap)
{
	size_t	 len = 0;

	buf[0] = '\0';
	WAIT_FOR(cli_read_some(fd, buf, cap, &len));
	return len;
}

/* Counts occurrences of needle in haystack. */
static int
count_str(const char *haystack, const char *needle)
{
	int	 n = 0;

	while ((haystack = strstr(haystack, needle)) != NULL) {
		n++;
		haystack += strlen(needle);
	}
	return n;
}

/* Whether the key=value line has key, and its value in val. */
static int
line_value(const char *line, const char *key, char *val, size_t cap)
{
	char		 pat[64];
	const char	*p;
	size_t		 n;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = line; (p = strstr(p, pat)) != NULL; p++)
		if (p == line || p[-1] == ' ')
			break;
	if (p == NULL)
		return 0;
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= cap)
		return 0;
	memcpy(val, p, n);
	val[n] = '\0';
	return 1;
}

static void
test_handler_table(void **state)
{
	static const char	*names[] = {
		"echo", "discard", "info", "http"
	};
	struct config_handler_caps	 caps;
	const struct handler		*h;
	size_t				 i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		assert_non_null(h = handler_find(names[i]));
		assert_string_equal(h->name, names[i]);
		assert_true(h->tcp && h->tcp_start != NULL);
		/* What the configuration is told is the table's. */
		assert_int_equal(handler_catalogue.find(names[i], &caps), 0);
		assert_true(caps.tcp);
		assert_int_equal(caps.udp, strcmp(names[i], "http") != 0);
		assert_int_equal(caps.speaks_first, h->speaks_first);
	}
	assert_null(handler_find("chargen"));
	assert_int_equal(handler_catalogue.find("chargen", &caps), -ENOENT);
}

static void
test_info_line(void **state)
{
	struct listener_conf	 lc = { .name = (char *)"in fo=x" };
	struct serve_listener	 sl = { .serve = &W.serve, .conf = &lc };
	char			 buf[256], val[64], want[64];
	int			 n;

	n = serve_info_line(&sl, 5, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	snprintf(want, sizeof(want), "worker=3 cpu=%d pid=%ld incoming_cpu=5 "
	    "listener=in_fo_x\n", sched_getcpu(), (long)getpid());
	assert_string_equal(buf, want);
	assert_true(serve_info_line(&sl, SERVE_NO_INCOMING_CPU, buf,
	    sizeof(buf)) > 0);
	assert_false(line_value(buf, "incoming_cpu", val, sizeof(val)));
	assert_true(line_value(buf, "pid", val, sizeof(val)));
	assert_int_equal(serve_info_line(&sl, 5, buf, 10), -ENOSPC);
}

static void
test_echo_tcp(void **state)
{
	const size_t	 total = 1024 * 1024;
	struct srv	 *s;
	char		*out, *in;
	size_t		 sent = 0, got = 0, i;
	uint64_t	 end = now_ms() + TEST_DEADLINE_MS;
	ssize_t		 n;
	int		 fd;

	assert_non_null(s = srv_open("echo", LISTEN_TCP, "127.0.0.1", NULL));
	out = malloc(total);
	in = malloc(total);
	assert_true(out != NULL && in != NULL);
	for (i = 0; i < total; i++)
		out[i] = (char)(i * 7 + i / 251);
	fd = cli_connect(s);
	while (got < total) {
		assert_true(now_ms() < end);
		if (sent < total &&
		    (n = send(fd, out + sent, total - sent, MSG_NOSIGNAL)) > 0)
			sent += (size_t)n;
		while ((n = recv(fd, in + got, total - got, 0)) > 0)
			got += (size_t)n;
		assert_true(n == -1 && errno == EAGAIN);
		step();
	}
	assert_memory_equal(in, out, total);
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.accepted, 1);
	assert_int_equal(W.slot.local, 1);
	assert_int_equal(W.slot.remote, 0);
	assert_int_equal(W.slot.bytes_in, total);
	assert_int_equal(W.slot.bytes_out, total);
	assert_int_equal(W.slot.errors, 0);
	assert_int_equal(W.closed, 1);
	free(out);
	free(in);
	srv_close(s);
}

static void
test_discard_tcp(void **state)
{
	const size_t	 total = 200000;
	struct srv	 *s;
	char		*out, buf[64];
	int		 fd;

	assert_non_null(s = srv_open("discard", LISTEN_TCP, "127.0.0.1",
	    NULL));
	assert_non_null(out = calloc(1, total));
	fd = cli_connect(s);
	cli_send_all(fd, out, total);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	/* Nothing comes back, then the server closes after our FIN. */
	assert_int_equal(cli_read_eof(fd, buf, sizeof(buf)), 0);
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.bytes_in, total);
	assert_int_equal(W.slot.bytes_out, 0);
	assert_int_equal(W.slot.accepted, 1);
	assert_int_equal(W.slot.local, 1);
	assert_int_equal(W.closed, 1);
	free(out);
	srv_close(s);
}

static void
test_info_tcp(void **state)
{
	struct srv	 *s;
	char		 buf[512], val[64], want[32];
	size_t		 len;
	int		 fd, i;

	assert_non_null(s = srv_open("info", LISTEN_TCP, "127.0.0.1", NULL));
	for (i = 0; i < 3; i++) {
		fd = cli_connect(s);
		/* The line, then EOF without anything sent. */
		len = cli_read_eof(fd, buf, sizeof(buf));
		close(fd);
		assert_true(len > 0 && buf[len - 1] == '\n');
		assert_int_equal(count_str(buf, "\n"), 1);
		assert_true(line_value(buf, "worker", val, sizeof(val)));
		assert_string_equal(val, "3");
		assert_true(line_value(buf, "cpu", val, sizeof(val)));
		snprintf(want, sizeof(want), "%d", test_cpu);
		assert_string_equal(val, want);
		assert_true(line_value(buf, "pid", val, sizeof(val)));
		snprintf(want, sizeof(want), "%ld", (long)getpid());
		assert_string_equal(val, want);
		assert_true(line_value(buf, "incoming_cpu", val, sizeof(val)));
		snprintf(want, sizeof(want), "%d", test_cpu);
		assert_string_equal(val, want);
		assert_true(line_value(buf, "listener", val, sizeof(val)));
		assert_string_equal(val, "info-tcp");
		assert_int_equal(W.slot.bytes_out, (i + 1) * len);
	}
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.accepted, 3);
	assert_int_equal(W.slot.local, 3);
	assert_int_equal(W.closed, 3);
	srv_close(s);
}

static int
udp_client(const char *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;

	sockaddr_set(&ss, &len, addr, port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void
udp_send_to(int fd, const struct srv *s, const void *buf, size_t len)
{
	assert_int_equal(sendto(fd, buf, len, 0,
	    (const struct sockaddr *)&s->addr, s->addrlen), (ssize_t)len);
}

/* Waits for one datagram; returns its length and where it came from. */
static size_t
udp_recv_from(int fd, char *buf, size_t cap, struct sockaddr_storage *from)
{
	socklen_t	 len = sizeof(*from);
	ssize_t		 n;

	WAIT_FOR((n = recvfrom(fd, buf, cap - 1, 0, (struct sockaddr *)from,
	    &len)) >= 0 || errno != EAGAIN);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static void
test_info_udp(void **state)
{
	struct sockaddr_storage	 from;
	struct srv		 *s;
	char			 buf[512], val[64];
	size_t			 len, out = 0;
	int			 fd, i;

	assert_non_null(s = srv_open("info", LISTEN_UDP, "127.0.0.1", NULL));
	assert_true((fd = udp_client("127.0.0.1", 0)) >= 0);
	/* Shorter than 2 bytes: no answer, no amplification. */
	udp_send_to(fd, s, "", 0);
	udp_send_to(fd, s, "a", 1);
	for (i = 0; i < 3; i++)
		udp_send_to(fd, s, "where?\n", 7);
	for (i = 0; i < 3; i++) {
		len = udp_recv_from(fd, buf, sizeof(buf), &from);
		out += len;
		assert_true(len > 0 && buf[len - 1] == '\n');
		assert_true(line_value(buf, "worker", val, sizeof(val)));
		assert_string_equal(val, "3");
		assert_true(line_value(buf, "cpu", val, sizeof(val)));
		assert_true(line_value(buf, "pid", val, sizeof(val)));
		assert_false(line_value(buf, "incoming_cpu", val, sizeof(val)));
		assert_true(line_value(buf, "listener", val, sizeof(val)));
		assert_string_equal(val, "info-udp");
	}
	assert_int_equal(W.slot.datagrams, 5);
	assert_int_equal(W.slot.bytes_in, 22);
	assert_int_equal(W.slot.bytes_out, out);
	assert_int_equal(W.slot.accepted + W.slot.local + W.slot.remote, 0);
	assert_int_equal(W.slot.errors, 0);
	close(fd);
	srv_close(s);
}

static int
sockaddr_is(const struct sockaddr_storage *ss, const char *addr)
{
	char	 text[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    text, sizeof(text));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, text,
		    sizeof(text));
	return strcmp(text, addr) == 0;
}

/*
 * A wildcard listener answers from the address the client sent to:
 * 127.0.0.2 here, where routing alone would pick 127.0.0.1.
 */
static void
test_udp_reply_address(void **state)
{
	struct sockaddr_storage	 from;
	struct srv		 *s;
	char			 buf[128];
	int			 fd;

	assert_non_null(s = srv_open("echo", LISTEN_UDP, "0.0.0.0",
	    "127.0.0.2"));
	assert_true((fd = udp_client("127.0.0.1", 0)) >= 0);
	udp_send_to(fd, s, "ping", 4);
	assert_int_equal(udp_recv_from(fd, buf, sizeof(buf), &from), 4);
	assert_string_equal(buf, "ping");
	assert_true(sockaddr_is(&from, "127.0.0.2"));
	assert_int_equal(sockaddr_port(&from), sockaddr_port(&s->addr));
	assert_int_equal(W.slot.bytes_in, 4);
	assert_int_equal(W.slot.bytes_out, 4);
	close(fd);
	srv_close(s);
}

/* A dual-stack "::" listener answers IPv4 (v4-mapped) and IPv6 peers. */
static void
test_udp_dual_stack(void **state)
{
	struct sockaddr_storage	 from;
	struct srv		*s, s6;
	char			 buf[128];
	int			 fd;

	if ((s = srv_open("echo", LISTEN_UDP, "::", "127.0.0.2")) == NULL ||
	    (fd = udp_client("::1", 0)) < 0) {
		skip();
		return;
	}
	close(fd);
	assert_true((fd = udp_client("127.0.0.1", 0)) >= 0);
	udp_send_to(fd, s, "four", 4);
	assert_int_equal(udp_recv_from(fd, buf, sizeof(buf), &from), 4);
	assert_string_equal(buf, "four");
	assert_true(sockaddr_is(&from, "127.0.0.2"));
	close(fd);

	s6 = *s;
	sockaddr_set(&s6.addr, &s6.addrlen, "::1", sockaddr_port(&s->addr));
	assert_true((fd = udp_client("::1", 0)) >= 0);
	udp_send_to(fd, &s6, "six", 3);
	assert_int_equal(udp_recv_from(fd, buf, sizeof(buf), &from), 3);
	assert_string_equal(buf, "six");
	assert_true(sockaddr_is(&from, "::1"));
	close(fd);
	assert_int_equal(W.slot.datagrams, 2);
	srv_close(s);
}

/*
 * Nothing answers a source port below 1024.  The datagram from port 1000
 * is queued before the one from an ordinary port, so once the second is
 * answered the first has been handled.
 */
static void
test_udp_privileged_port(void **state)
{
	struct sockaddr_storage	 from;
	struct srv		 *echo, *info;
	char			 buf[512];
	int			 low, high;

	low = udp_client("127.0.0.1", 1000);
	if (low == -EACCES || low == -EPERM) {
		print_message("cannot bind port 1000 without privileges: "
		    "skipping the privileged source port check\n");
		skip();
		return;
	}
	assert_true(low >= 0);
	assert_true((high = udp_client("127.0.0.1", 0)) >= 0);
	assert_non_null(echo = srv_open("echo", LISTEN_UDP, "127.0.0.1",
	    NULL));
	assert_non_null(info = srv_open("info", LISTEN_UDP, "127.0.0.1",
	    NULL));
	udp_send_to(low, echo, "loop", 4);
	udp_send_to(low, info, "loop", 4);
	udp_send_to(high, echo, "ok", 2);
	udp_send_to(high, info, "ok", 2);
	udp_recv_from(high, buf, sizeof(buf), &from);
	udp_recv_from(high, buf, sizeof(buf), &from);
	assert_int_equal(recv(low, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(W.slot.datagrams, 4);
	assert_int_equal(W.slot.errors, 2);
	close(low);
	close(high);
	srv_close(echo);
	srv_close(info);
}

/* Splits complete responses off buf; returns how many are complete. */
static int
http_responses(const char *buf, const char *bodies[], int max)
{
	const char	*p = buf, *hdr_end, *cl;
	int		 n = 0;
	long		 len;

	while (n < max && (hdr_end = strstr(p, "\r\n\r\n")) != NULL) {
		cl = strstr(p, "Content-Length: ");
		assert_true(cl != NULL && cl < hdr_end);
		len = strtol(cl + 16, NULL, 10);
		if ((long)strlen(hdr_end + 4) < len && bodies[n] != NULL)
			break;
		hdr_end += 4;
		p = hdr_end + (bodies[n] != NULL ? len : 0);
		n++;
	}
	return n;
}

static void
test_http_pipelined(void **state)
{
	static const char	*get2[] = { TEST_BODY, TEST_BODY };
	static const char	*head[] = { NULL };
	struct srv		 *s;
	char			 buf[4096], *second;
	size_t			 len = 0;
	int			 fd, eof = 0;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	fd = cli_connect(s);
	cli_send_str(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
	WAIT_FOR((eof = cli_read_some(fd, buf, sizeof(buf), &len)) ||
	    http_responses(buf, get2, 2) == 2);
	assert_false(eof);
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(second = strstr(buf + 1, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "Content-Type: text/plain\r\n"));
	assert_int_equal(count_str(buf, "Content-Length: 13\r\n"), 2);
	assert_int_equal(count_str(buf, "\r\n\r\n" TEST_BODY), 2);
	assert_null(strstr(buf, "Connection: close"));
	assert_int_equal(strlen(second) * 2, len);

	/* HEAD: the same headers, no body; the connection stays open. */
	len = 0;
	buf[0] = '\0';
	cli_send_str(fd, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
	WAIT_FOR((eof = cli_read_some(fd, buf, sizeof(buf), &len)) ||
	    http_responses(buf, head, 1) == 1);
	assert_false(eof);
	assert_non_null(strstr(buf, "Content-Length: 13\r\n"));
	assert_int_equal(strcmp(buf + len - 4, "\r\n\r\n"), 0);

	/* Connection: close gets its answer, then EOF. */
	cli_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "\r\n");
	len = cli_read_eof(fd, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_int_equal(strcmp(buf + len - strlen(TEST_BODY), TEST_BODY), 0);
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.accepted, 1);
	assert_int_equal(W.slot.local, 1);
	srv_close(s);
}

static void
test_http_10(void **state)
{
	static const char	*one[] = { TEST_BODY };
	struct srv		 *s;
	char			 buf[4096];
	size_t			 len = 0;
	int			 fd, eof = 0;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	/* HTTP/1.0 without keep-alive: closed after the answer. */
	fd = cli_connect(s);
	cli_send_str(fd, "GET / HTTP/1.0\r\n\r\n");
	cli_read_eof(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\n" TEST_BODY));

	/* HTTP/1.0 asking for keep-alive gets it. */
	buf[0] = '\0';
	fd = cli_connect(s);
	cli_send_str(fd, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	WAIT_FOR((eof = cli_read_some(fd, buf, sizeof(buf), &len)) ||
	    http_responses(buf, one, 1) == 1);
	assert_false(eof);
	assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.closed, 2);
	srv_close(s);
}

static void
test_http_bad_request(void **state)
{
	struct srv	 *s;
	char		 buf[4096], *big;
	size_t		 n = 100 * 1024;
	int		 fd;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	fd = cli_connect(s);
	cli_send_str(fd, "\x01\x02 garbage\r\n\r\n");
	cli_read_eof(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26), 0);
	assert_non_null(strstr(buf, "Connection: close\r\n"));

	/* A header larger than http-parser's bound (80 KiB). */
	assert_non_null(big = malloc(n));
	memset(big, 'a', n);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	fd = cli_connect(s);
	cli_send_all(fd, big, n);
	cli_read_eof(fd, buf, sizeof(buf));
	close(fd);
	free(big);
	assert_int_equal(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26), 0);
	WAIT_FOR(W.serve.open_conns == 0);
	srv_close(s);
}

static void
test_http_default_body(void **state)
{
	struct srv	 *s;
	char		 buf[4096];
	int		 fd;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	/* The answers are built when the listener starts serving. */
	tcp_serve_stop(&s->sl);
	s->lc.http_body = NULL;
	assert_int_equal(tcp_serve_start(&s->sl), 0);
	fd = cli_connect(s);
	cli_send_str(fd, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	cli_read_eof(fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(strstr(buf, "Content-Length: 3\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\nok\n"));
	WAIT_FOR(W.serve.open_conns == 0);
	srv_close(s);
}

/*
 * Draining: a keep-alive connection between requests stays open for its
 * next request, which gets its answer with "Connection: close", and so
 * does one in the middle of a request; one that sends nothing more is
 * closed after the grace second.
 */
static void
test_http_drain(void **state)
{
	static const char	*one[] = { TEST_BODY };
	struct srv		 *s;
	char			 buf[4096];
	size_t			 len = 0;
	int			 idle, busy, quiet, eof = 0;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	idle = cli_connect(s);
	cli_send_str(idle, "GET / HTTP/1.1\r\n\r\n");
	WAIT_FOR((eof = cli_read_some(idle, buf, sizeof(buf), &len)) ||
	    http_responses(buf, one, 1) == 1);
	assert_false(eof);
	busy = cli_connect(s);
	cli_send_str(busy, "GET / HTTP/1.1\r\n");
	quiet = cli_connect(s);
	WAIT_FOR(W.serve.open_conns == 3 &&
	    W.slot.bytes_in == strlen("GET / HTTP/1.1\r\n\r\n") +
	    strlen("GET / HTTP/1.1\r\n"));

	W.serve.draining = 1;
	tcp_serve_stop(&s->sl);
	assert_int_equal(W.serve.open_conns, 3);
	cli_send_str(idle, "GET / HTTP/1.1\r\n\r\n");
	cli_read_eof(idle, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	cli_send_str(busy, "Host: x\r\n\r\n");
	cli_read_eof(busy, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_int_equal(cli_read_eof(quiet, buf, sizeof(buf)), 0);
	close(idle);
	close(busy);
	close(quiet);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.closed, 3);
	srv_close(s);
}

/*
 * max_connections 1: a second connection waits in the accept queue until
 * the first closes, which shows as its info line arriving only then.
 */
static void
test_max_connections(void **state)
{
	struct srv	 *echo, *info;
	char		 buf[512];
	size_t		 len = 0;
	int		 a, b, i;

	W.serve.max_conns = 1;
	assert_non_null(echo = srv_open("echo", LISTEN_TCP, "127.0.0.1",
	    NULL));
	assert_non_null(info = srv_open("info", LISTEN_TCP, "127.0.0.1",
	    NULL));
	a = cli_connect(echo);
	WAIT_FOR(W.slot.accepted == 1);
	b = cli_connect(info);
	buf[0] = '\0';
	for (i = 0; i < TEST_QUIET_STEPS; i++) {
		step();
		assert_false(cli_read_some(b, buf, sizeof(buf), &len));
		assert_int_equal(len, 0);
	}
	assert_int_equal(W.slot.accepted, 1);
	assert_int_equal(W.serve.open_conns, 1);

	close(a);
	len = cli_read_eof(b, buf, sizeof(buf));
	close(b);
	assert_true(len > 0);
	assert_non_null(strstr(buf, "incoming_cpu="));
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.accepted, 2);
	assert_int_equal(W.closed, 2);
	srv_close(echo);
	srv_close(info);
}

static struct serve_conn *
only_conn(void)
{
	struct serve_conn	*c = TAILQ_FIRST(&W.serve.conns);

	assert_non_null(c);
	assert_null(TAILQ_NEXT(c, entry));
	return c;
}

/*
 * A client of s whose kernel buffers, and those of the connection's
 * server side, are small and fixed, so that a peer that does not read
 * blocks soon.  Returns once the server has taken the connection.
 */
static int
small_client(struct srv *s)
{
	int	 fd, small = 64 * 1024;

	assert_int_equal(setsockopt(s->sl.fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(setsockopt(s->sl.fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(fd, -1);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&s->addr, s->addrlen),
	    0);
	assert_int_not_equal(fcntl(fd, F_SETFL, O_NONBLOCK), -1);
	WAIT_FOR(!TAILQ_EMPTY(&W.serve.conns));
	return fd;
}

/*
 * Sends buf without reading anything until the sends block: nothing
 * goes for TEST_QUIET_STEPS turns of the server's loop.  Returns how
 * much went; *maxout and *maxin are the largest the server's buffers got.
 */
static size_t
send_until_blocked(int fd, const char *buf, size_t total, size_t *maxout,
    size_t *maxin)
{
	struct serve_conn	*c = only_conn();
	uint64_t		 end = now_ms() + TEST_DEADLINE_MS;
	size_t			 sent = 0, o, in;
	ssize_t			 n;
	int			 quiet = 0;

	*maxout = *maxin = 0;
	while (quiet < TEST_QUIET_STEPS) {
		assert_true(now_ms() < end);
		assert_true(sent < total);
		n = send(fd, buf + sent, total - sent, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			quiet = 0;
		} else {
			assert_true(n == -1 && errno == EAGAIN);
			quiet++;
		}
		step();
		o = evbuffer_get_length(c->out);
		in = evbuffer_get_length(c->in);
		*maxout = o > *maxout ? o : *maxout;
		*maxin = in > *maxin ? in : *maxin;
	}
	/* Blocked, the server has nothing to do: no callback runs again. */
	assert_int_equal(event_base_get_num_events(W.base,
	    EVENT_BASE_COUNT_ACTIVE), 0);
	return sent;
}

/*
 * A peer that sends 16 MiB and never reads: the server's buffers stay
 * under their bounds, and the peer's sends block well before 16 MiB.
 */
static void
test_echo_slow_reader(void **state)
{
	const size_t	 total = 16 * 1024 * 1024;
	struct srv	*s;
	size_t		 sent, maxout, maxin;
	char		*buf;
	int		 fd;

	assert_non_null(s = srv_open("echo", LISTEN_TCP, "127.0.0.1", NULL));
	assert_non_null(buf = calloc(1, total));
	fd = small_client(s);
	sent = send_until_blocked(fd, buf, total, &maxout, &maxin);
	print_message("echo: %zu bytes sent before blocking, server buffers "
	    "at most %zu out, %zu in\n", sent, maxout, maxin);
	assert_true(sent < 4 * 1024 * 1024);
	assert_true(maxout <= SERVE_ECHO_BACKLOG);
	assert_true(maxin <= SERVE_INPUT_MAX);
	assert_true(maxout > 0);
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_true(TAILQ_EMPTY(&W.serve.conns));
	free(buf);
	srv_close(s);
}

/*
 * Pipelined requests from a peer that does not read: the answers waiting
 * stay bounded and the peer blocks; once it reads, every request gets its
 * answer, in order and whole.
 */
static void
test_http_backlog(void **state)
{
	static const char	 req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char	 resp[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
	    TEST_BODY;
	const size_t		 nreq = 100000, rlen = sizeof(resp) - 1;
	const size_t		 total = nreq * (sizeof(req) - 1);
	struct srv		*s;
	char			*buf, in[65536];
	size_t			 sent, got = 0, maxout, maxin, i;
	uint64_t		 end;
	ssize_t			 n;
	int			 fd;

	assert_non_null(s = srv_open("http", LISTEN_TCP, "127.0.0.1", NULL));
	assert_non_null(buf = malloc(total));
	for (i = 0; i < nreq; i++)
		memcpy(buf + i * (sizeof(req) - 1), req, sizeof(req) - 1);
	fd = small_client(s);
	sent = send_until_blocked(fd, buf, total, &maxout, &maxin);
	print_message("http: %zu of %zu bytes of requests sent before "
	    "blocking, server buffers at most %zu out, %zu in\n", sent, total,
	    maxout, maxin);
	assert_true(maxout <= SERVE_HTTP_BACKLOG + rlen);
	assert_true(maxin <= SERVE_INPUT_MAX);

	/* Now read: every answer arrives, in order. */
	end = now_ms() + 3 * TEST_DEADLINE_MS;
	while (got < nreq * rlen) {
		assert_true(now_ms() < end);
		if (sent < total && (n = send(fd, buf + sent, total - sent,
		    MSG_NOSIGNAL)) > 0)
			sent += (size_t)n;
		while ((n = recv(fd, in, sizeof(in), 0)) > 0)
			for (i = 0; i < (size_t)n; i++, got++)
				if (in[i] != resp[got % rlen])
					fail_msg("answer differs at byte %zu",
					    got);
		assert_true(n == -1 && errno == EAGAIN);
		step();
	}
	close(fd);
	WAIT_FOR(W.serve.open_conns == 0);
	assert_int_equal(W.slot.bytes_in, total);
	assert_int_equal(W.slot.bytes_out, nreq * rlen);
	free(buf);
	srv_close(s);
}

/*
 * Out of file descriptors: accept fails with EMFILE, and the listener
 * pauses instead of failing again at once; the connection is accepted
 * once descriptors are free again.
 */
static void
test_accept_emfile(void **state)
{
	struct rlimit	 old, low;
	struct srv	 *s;
	char		 buf[512];
	int		 fd, probe, fill[64], nfill = 0, i;
	uint64_t	 errors, t;
	const char	*preload = getenv("LD_PRELOAD");

	/*
	 * Under valgrind an accept() past the descriptor limit takes the
	 * connection off the queue and closes it: not what a kernel does.
	 */
	if (preload != NULL && strstr(preload, "vgpreload") != NULL) {
		print_message("running under valgrind: skipping the EMFILE "
		    "back-off check\n");
		skip();
		return;
	}
	assert_non_null(s = srv_open("info", LISTEN_TCP, "127.0.0.1", NULL));
	fd = cli_connect(s);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* Room for a few more descriptors, then use them up. */
	assert_true((probe = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	close(probe);
	low = old;
	low.rlim_cur = (rlim_t)probe + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfill < (int)ARRAY_SIZE(fill) &&
	    (fill[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1)
		nfill++;
	assert_int_equal(errno, EMFILE);

	WAIT_FOR(W.slot.errors > 0);
	errors = W.slot.errors;
	t = now_ms();
	while (now_ms() - t < 300)
		step();
	/* 100 ms pauses: a handful of tries, not one per loop turn. */
	print_message("accept failed %llu times in 300 ms\n",
	    (unsigned long long)(W.slot.errors - errors));
	assert_true(W.slot.errors - errors <= 5);
	assert_int_equal(W.slot.accepted, 0);

	for (i = 0; i < nfill; i++)
		close(fill[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(cli_read_eof(fd, buf, sizeof(buf)) > 0);
	close(fd);
	assert_int_equal(W.slot.accepted, 1);
	WAIT_FOR(W.serve.open_conns == 0);
	srv_close(s);
}

/* Pins this process, and so both ends of every loopback flow, to one CPU. */
static void
pin_cpu(void)
{
	struct cpuset	*set = NULL, *one;
	int		 cpu;

	if (cpuset_get_affinity(0, &set) < 0 || (cpu = cpuset_first(set)) < 0)
		unit_skip_all("cannot read the test's CPU affinity");
	cpuset_free(set);
	if ((one = cpuset_new()) == NULL ||
	    cpuset_add(one, (unsigned int)cpu) < 0 ||
	    cpuset_set_affinity(0, one) < 0 || sched_getcpu() != cpu)
		unit_skip_all("cannot pin the test to one CPU");
	cpuset_free(one);
	test_cpu = cpu;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handler_table),
		cmocka_unit_test_setup_teardown(test_info_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_echo_tcp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_discard_tcp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_info_tcp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_info_udp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_reply_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_dual_stack, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_privileged_port,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_pipelined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_10, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_bad_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_default_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_drain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_echo_slow_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_backlog, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accept_emfile, setup,
		    teardown),
	};

	pin_cpu();
	/* TEST_FILTER=test_http_* runs only the tests that match. */
	if (getenv("TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
