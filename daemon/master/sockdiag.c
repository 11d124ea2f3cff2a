/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ownership check of a listener's port.  SO_REUSEPORT lets a second
 * instance, or any program of the same user, join our port and silently take
 * part of its traffic; after binding, sock_diag lists every socket on the
 * port and each one that is not ours (by SO_COOKIE) is counted.  A trial bind
 * without SO_REUSEPORT would race and trip over TIME_WAIT, so it is not used.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "config/config.h"
#include "topology/nlsock.h"
#include "master/sockdiag.h"

#define SOCKDIAG_MAX_READS	4096	/* about a million sockets */

/*
 * Where a socket accepts traffic, per address space: an IPv6 socket on "::"
 * without IPV6_V6ONLY, or on an IPv4-mapped address, takes IPv4 traffic.
 * A zero address is the wildcard of its space.
 */
struct sockdiag_ep {
	int		 in4;
	uint32_t	 a4;		/* network order */
	int		 in6;
	struct in6_addr	 a6;
};

struct sockdiag_scan {
	struct sockdiag_ep	 ours;
	uint16_t		 port;		/* host order */
	const uint64_t		*cookies;
	size_t			 ncookies;
	unsigned int		 nforeign;
};

static void
sockdiag_ep4(struct sockdiag_ep *ep, uint32_t a4)
{
	memset(ep, 0, sizeof(*ep));
	ep->in4 = 1;
	ep->a4 = a4;
}

static void
sockdiag_ep6(struct sockdiag_ep *ep, const struct in6_addr *a6, int v6only)
{
	uint32_t	 a4;

	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		memcpy(&a4, &a6->s6_addr[12], sizeof(a4));
		sockdiag_ep4(ep, a4);
		return;
	}
	memset(ep, 0, sizeof(*ep));
	ep->in6 = 1;
	ep->a6 = *a6;
	ep->in4 = IN6_IS_ADDR_UNSPECIFIED(a6) && !v6only;
}

/* Two sockets on one port compete when their addresses overlap. */
static int
sockdiag_compete(const struct sockdiag_ep *a, const struct sockdiag_ep *b)
{
	if (a->in4 && b->in4 &&
	    (a->a4 == b->a4 || a->a4 == INADDR_ANY || b->a4 == INADDR_ANY))
		return 1;
	if (a->in6 && b->in6 &&
	    (IN6_ARE_ADDR_EQUAL(&a->a6, &b->a6) ||
	    IN6_IS_ADDR_UNSPECIFIED(&a->a6) || IN6_IS_ADDR_UNSPECIFIED(&b->a6)))
		return 1;
	return 0;
}

static int
sockdiag_ours(const struct sockdiag_scan *scan, const struct inet_diag_msg *m)
{
	uint64_t	 cookie;
	size_t		 i;

	if (m->id.idiag_cookie[0] == INET_DIAG_NOCOOKIE &&
	    m->id.idiag_cookie[1] == INET_DIAG_NOCOOKIE)
		return 0;
	cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	for (i = 0; i < scan->ncookies; i++)
		if (scan->cookies[i] == cookie)
			return 1;
	return 0;
}

/* One socket of the dump: counted when it competes and is not ours. */
static int
sockdiag_socket(const struct nlmsghdr *nlh, struct sockdiag_scan *scan)
{
	const struct inet_diag_msg	*m;
	const struct nlattr		*attr;
	struct sockdiag_ep		 ep;
	struct in6_addr			 a6;
	int				 v6only = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return -EBADMSG;
	m = mnl_nlmsg_get_payload(nlh);
	/* A remote port means a connected socket: a client, not a rival. */
	if (ntohs(m->id.idiag_sport) != scan->port || m->id.idiag_dport != 0)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(attr) == INET_DIAG_SKV6ONLY &&
		    mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			v6only = mnl_attr_get_u8(attr);
	}
	switch (m->idiag_family) {
	case AF_INET:
		sockdiag_ep4(&ep, m->id.idiag_src[0]);
		break;
	case AF_INET6:
		memcpy(&a6, m->id.idiag_src, sizeof(a6));
		sockdiag_ep6(&ep, &a6, v6only);
		break;
	default:
		return 0;
	}
	if (sockdiag_compete(&scan->ours, &ep) && !sockdiag_ours(scan, m))
		scan->nforeign++;
	return 0;
}

/*
 * The kernel's error, for a request or at the end of a dump.  No handler
 * for the family or protocol (udp_diag not built) reads as sock_diag being
 * unavailable, which callers treat as a warning.
 */
static int
sockdiag_errno(int error)
{
	if (error == -ENOENT)
		return -EPROTONOSUPPORT;
	return error;
}

/* Returns 0 at the end of the dump, 1 for more, or a negative errno. */
static int
sockdiag_parse(const void *buf, size_t size, uint32_t seq, uint32_t portid,
    void *arg)
{
	struct sockdiag_scan	*scan = arg;
	const struct nlmsghdr	*nlh = buf;
	const struct nlmsgerr	*err;
	const int		*done;
	int			 len = (int)size, r;

	for (; nlsock_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) ||
		    !mnl_nlmsg_portid_ok(nlh, portid))
			continue;
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*done))
				return 0;
			done = mnl_nlmsg_get_payload(nlh);
			return *done < 0 ? sockdiag_errno(*done) : 0;
		case NLMSG_ERROR:
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
				return -EBADMSG;
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error < 0)
				return sockdiag_errno(err->error);
			break;
		case SOCK_DIAG_BY_FAMILY:
			if ((r = sockdiag_socket(nlh, scan)) < 0)
				return r;
			break;
		default:
			break;
		}
	}
	/* Bytes left over are a message cut short. */
	return len == 0 ? 1 : -EBADMSG;
}

static int
sockdiag_dump(struct mnl_socket *nl, char *buf, int family, int protocol,
    unsigned int seq, struct sockdiag_scan *scan)
{
	struct nlmsghdr		*nlh;
	struct inet_diag_req_v2	*req;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = protocol;
	/*
	 * Listening TCP sockets only: TIME_WAIT and connections are not
	 * competitors.  Unconnected UDP sockets are in TCP_CLOSE.
	 */
	req->idiag_states = protocol == IPPROTO_TCP ?
	    1U << TCP_LISTEN : 1U << TCP_CLOSE;
	return nlsock_exchange(nl, buf, nlh, SOCKDIAG_MAX_READS,
	    sockdiag_parse, scan);
}

/*
 * Counts the sockets that share lc's port and address (a wildcard on either
 * side overlaps) and whose cookie is not in cookies.  Our family is dumped,
 * then IPv4 for an IPv6 listener that takes IPv4 traffic ("::" without
 * v6only), or IPv6 for an IPv4 listener, since a dual-stack "::" socket
 * takes IPv4 traffic too.
 */
int
sockdiag_foreign(const struct listener_conf *lc, const uint64_t *cookies,
    size_t ncookies, unsigned int *nforeign)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	struct sockdiag_scan		 scan;
	struct mnl_socket		*nl = NULL;
	char				*buf;
	int				 protocol, r;

	memset(&scan, 0, sizeof(scan));
	scan.cookies = cookies;
	scan.ncookies = ncookies;
	switch (lc->addr.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&lc->addr;
		sockdiag_ep4(&scan.ours, sin->sin_addr.s_addr);
		scan.port = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&lc->addr;
		sockdiag_ep6(&scan.ours, &sin6->sin6_addr, lc->v6only == 1);
		scan.port = ntohs(sin6->sin6_port);
		break;
	default:
		return -EAFNOSUPPORT;
	}
	protocol = lc->protocol == LISTEN_TCP ? IPPROTO_TCP : IPPROTO_UDP;

	if ((buf = malloc(NLSOCK_BUFSIZE)) == NULL)
		return -ENOMEM;
	if ((r = nlsock_open(NETLINK_SOCK_DIAG, &nl)) < 0) {
		free(buf);
		return r;
	}
	r = sockdiag_dump(nl, buf, lc->addr.ss_family, protocol, 1, &scan);
	if (r == 0 && lc->addr.ss_family == AF_INET6 && scan.ours.in4)
		r = sockdiag_dump(nl, buf, AF_INET, protocol, 2, &scan);
	else if (r == 0 && lc->addr.ss_family == AF_INET) {
		r = sockdiag_dump(nl, buf, AF_INET6, protocol, 2, &scan);
		/* A kernel without IPv6 has no dual-stack socket to find. */
		if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
			r = 0;
	}
	mnl_socket_close(nl);
	free(buf);
	if (r < 0)
		return r;
	*nforeign = scan.nforeign;
	return 0;
}
