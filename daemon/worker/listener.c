/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets: each worker opens its own SO_REUSEPORT socket for every
 * listener, with SO_INCOMING_CPU set to the worker's CPU before bind so the
 * kernel hands it the flows that CPU processed.  Failures come back as
 * -errno with a message naming the listener and the step that failed; this
 * file logs nothing.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "worker/listener.h"
#include "common/util.h"

#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU	49
#endif
#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif

static const char *
listener_proto(const struct listener_conf *lc)
{
	return lc->protocol == LISTEN_TCP ? "tcp" : "udp";
}

/*
 * The resolved address is what was bound, so it is what the messages show;
 * the address as written stands in only when nothing was resolved.
 */
char *
listener_describe(const struct listener_conf *lc)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN], *s;
	int				 r;

	switch (lc->addr.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&lc->addr;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		r = asprintf(&s, "\"%s\" (%s %s:%u)", lc->name,
		    listener_proto(lc), host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&lc->addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		r = asprintf(&s, "\"%s\" (%s [%s]:%u)", lc->name,
		    listener_proto(lc), host, ntohs(sin6->sin6_port));
		break;
	default:
		r = asprintf(&s, "\"%s\" (%s %s:%u)", lc->name,
		    listener_proto(lc), lc->address ? lc->address : "?",
		    lc->port);
		break;
	}
	return r < 0 ? NULL : s;
}

static char *
listener_why(const struct listener_conf *lc, const char *step, int error)
{
	char	*desc, *s;
	int	 r;

	if ((desc = listener_describe(lc)) == NULL)
		return NULL;
	r = asprintf(&s, "listener %s: %s: %s", desc, step, strerror(error));
	free(desc);
	return r < 0 ? NULL : s;
}

static int
listener_setint(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

static int
listener_is_any6(const struct listener_conf *lc)
{
	const struct sockaddr_in6	*sin6;

	sin6 = (const struct sockaddr_in6 *)&lc->addr;
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

/*
 * "::" serves IPv4 as well unless v6only says otherwise, whatever
 * net.ipv6.bindv6only holds; other addresses keep the system default
 * unless v6only is set.
 */
static int
listener_set_v6only(int fd, const struct listener_conf *lc)
{
	if (listener_is_any6(lc))
		return listener_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    lc->v6only == 1);
	if (lc->v6only != -1)
		return listener_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    lc->v6only != 0);
	return 0;
}

/*
 * A UDP reply must leave from the address the datagram arrived on, or a
 * client of a wildcard or multi-address listener drops it: ask for the
 * destination address of every datagram.  A dual-stack IPv6 socket reports
 * IPv4-mapped datagrams with the IPv4 option, so it gets both.
 */
static int
listener_set_pktinfo(int fd, const struct listener_conf *lc,
    const char **step)
{
	socklen_t	 len;
	int		 v6only;

	if (lc->addr.ss_family == AF_INET) {
		*step = "setsockopt IP_PKTINFO";
		return listener_setint(fd, IPPROTO_IP, IP_PKTINFO, 1);
	}
	*step = "setsockopt IPV6_RECVPKTINFO";
	if (listener_setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == -1)
		return -1;
	*step = "getsockopt IPV6_V6ONLY";
	len = sizeof(v6only);
	if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == -1)
		return -1;
	if (v6only)
		return 0;
	*step = "setsockopt IP_PKTINFO";
	return listener_setint(fd, IPPROTO_IP, IP_PKTINFO, 1);
}

/*
 * Opens one worker's socket for a listener.  SO_INCOMING_CPU is set only
 * for steering "incoming-cpu" and cpu >= 0; otherwise the group hashes
 * flows, or a program the master attaches to the group picks.
 */
int
listener_open(const struct listener_conf *lc, int cpu, enum steering steering,
    char **why)
{
	const char	*step;
	int		 fd, type, error;

	if (why != NULL)
		*why = NULL;
	type = lc->protocol == LISTEN_TCP ? SOCK_STREAM : SOCK_DGRAM;
	step = "socket";
	fd = socket(lc->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto bad;
	step = "setsockopt SO_REUSEADDR";
	if (lc->protocol == LISTEN_TCP &&
	    listener_setint(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1)
		goto bad;
	step = "setsockopt SO_REUSEPORT";
	if (listener_setint(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
		goto bad;
	/* The kernel picks the group member by this value from the bind on. */
	step = "setsockopt SO_INCOMING_CPU";
	if (steering == STEERING_INCOMING_CPU && cpu >= 0 &&
	    listener_setint(fd, SOL_SOCKET, SO_INCOMING_CPU, cpu) == -1)
		goto bad;
	step = "setsockopt IPV6_V6ONLY";
	if (lc->addr.ss_family == AF_INET6 && listener_set_v6only(fd, lc) == -1)
		goto bad;
	if (lc->protocol == LISTEN_UDP &&
	    listener_set_pktinfo(fd, lc, &step) == -1)
		goto bad;
	step = "bind";
	if (bind(fd, (const struct sockaddr *)&lc->addr, lc->addrlen) == -1)
		goto bad;
	step = "listen";
	if (lc->protocol == LISTEN_TCP &&
	    listen(fd, lc->backlog > 0 ? lc->backlog : SOMAXCONN) == -1)
		goto bad;
	return fd;

bad:
	error = errno;
	if (fd != -1)
		close(fd);
	if (why != NULL)
		*why = listener_why(lc, step, error);
	return -error;
}

/*
 * The socket's cookie: how sock_diag names it, so the ownership check can
 * tell our sockets from others on the same port.
 */
int
listener_cookie(int fd, uint64_t *cookie)
{
	uint64_t	 value;
	socklen_t	 len = sizeof(value);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &value, &len) == -1)
		return -errno;
	if (len != sizeof(value))
		return -EINVAL;
	*cookie = value;
	return 0;
}

/*
 * Whether the kernel moves the connections queued on a listening socket
 * that closes to the other sockets of its SO_REUSEPORT group
 * (net.ipv4.tcp_migrate_req): 1 it does, 0 it resets them, -errno when
 * that cannot be read.
 */
int
listener_migrates(void)
{
	char		*value = NULL;
	unsigned int	 v;
	int		 r;

	if ((r = read_file_line("/proc/sys/net/ipv4/tcp_migrate_req",
	    &value)) < 0)
		return r;
	r = parse_uint(value, ~0U, &v);
	free(value);
	return r < 0 ? r : v != 0;
}
