/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serving a worker's UDP socket: one persistent read event drains the
 * socket in batches with recvmmsg() and answers with sendmmsg(), each
 * reply sent from the address its datagram arrived on, so that a wildcard
 * listener on a multi-homed host answers from the address the client used.
 *
 * Datagrams count in datagrams and bytes but never in local/remote: the
 * receive CPU of an unconnected datagram cannot be observed.  A reply to
 * a source port below 1024 is never sent (another echo or chargen service
 * there would make a loop); such datagrams count in errors.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "worker/handler.h"
#include "common/log.h"
#include "worker/serve.h"
#include "common/stats.h"
#include "worker/udp.h"

#define UDP_BATCH		32	/* datagrams per system call */
#define UDP_ROUNDS		8	/* batches per wakeup (fairness) */
#define UDP_DGRAM_MAX		65536
#define UDP_PRIVILEGED_PORT	1024

union udp_cmsg {
	char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			    CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct cmsghdr	 align;
};

struct udp_listener {
	struct serve_listener	*sl;
	struct event		*ev;
	unsigned char		*inbuf;		/* UDP_BATCH datagrams */
	unsigned char		*outbuf;	/* the same */
	struct mmsghdr		 in[UDP_BATCH];
	struct mmsghdr		 out[UDP_BATCH];
	struct iovec		 iov_in[UDP_BATCH];
	struct iovec		 iov_out[UDP_BATCH];
	struct sockaddr_storage	 peer[UDP_BATCH];
	union udp_cmsg		 cmsg_in[UDP_BATCH];
	union udp_cmsg		 cmsg_out[UDP_BATCH];
};

/* recvmmsg() shortens the lengths it fills in: reset them for each batch. */
static void
udp_prepare(struct udp_listener *ul)
{
	struct msghdr	*m;
	int		 i;

	for (i = 0; i < UDP_BATCH; i++) {
		ul->iov_in[i].iov_base = ul->inbuf + (size_t)i * UDP_DGRAM_MAX;
		ul->iov_in[i].iov_len = UDP_DGRAM_MAX;
		m = &ul->in[i].msg_hdr;
		memset(m, 0, sizeof(*m));
		m->msg_name = &ul->peer[i];
		m->msg_namelen = sizeof(ul->peer[i]);
		m->msg_iov = &ul->iov_in[i];
		m->msg_iovlen = 1;
		m->msg_control = ul->cmsg_in[i].buf;
		m->msg_controllen = sizeof(ul->cmsg_in[i].buf);
	}
}

static int
udp_peer_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

/*
 * The control message that makes the reply leave from the address the
 * datagram was sent to.  IPv4: ipi_spec_dst is the local address the
 * kernel matched (the destination for unicast), ifindex 0 so that routing
 * picks the way out.  IPv6: the destination address, with the interface
 * only for link-local addresses, which need it.  A datagram from a
 * v4-mapped peer on a dual-stack socket carries IPV6_PKTINFO with a
 * v4-mapped address, and the kernel takes it back in the same form.
 * Returns the control length, 0 for none.
 */
static size_t
udp_reply_cmsg(const struct msghdr *in, union udp_cmsg *out)
{
	struct cmsghdr		*cm;
	struct in_pktinfo	 pi4;
	struct in6_pktinfo	 pi6;
	int			 have4 = 0, have6 = 0;

	for (cm = CMSG_FIRSTHDR(in); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)in, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi4, CMSG_DATA(cm), sizeof(pi4));
			have4 = 1;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			have6 = 1;
		}
	}
	memset(out, 0, sizeof(*out));
	cm = &out->align;
	if (have6 && !IN6_IS_ADDR_MULTICAST(&pi6.ipi6_addr)) {
		if (!IN6_IS_ADDR_LINKLOCAL(&pi6.ipi6_addr))
			pi6.ipi6_ifindex = 0;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi6));
		memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
		return CMSG_SPACE(sizeof(pi6));
	}
	if (have4 && !IN_MULTICAST(ntohl(pi4.ipi_spec_dst.s_addr))) {
		if (pi4.ipi_spec_dst.s_addr == INADDR_ANY)
			pi4.ipi_spec_dst = pi4.ipi_addr;
		pi4.ipi_ifindex = 0;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi4));
		memcpy(CMSG_DATA(cm), &pi4, sizeof(pi4));
		return CMSG_SPACE(sizeof(pi4));
	}
	return 0;
}

/* Turns received datagram i into reply slot j; false when there is none. */
static int
udp_answer(struct udp_listener *ul, int i, int j)
{
	struct serve_listener	*sl = ul->sl;
	struct stats_slot	*stats = sl->serve->stats;
	struct msghdr		*in = &ul->in[i].msg_hdr, *out;
	struct serve_datagram	 dg;
	ssize_t			 len;
	void			*buf;

	STATS_ADD(stats, datagrams, 1);
	STATS_ADD(stats, bytes_in, ul->in[i].msg_len);
	if (in->msg_flags & MSG_TRUNC) {
		STATS_ADD(stats, errors, 1);
		return 0;
	}
	buf = ul->outbuf + (size_t)i * UDP_DGRAM_MAX;
	dg.data = ul->iov_in[i].iov_base;
	dg.len = ul->in[i].msg_len;
	dg.peer = (const struct sockaddr *)&ul->peer[i];
	dg.peerlen = in->msg_namelen;
	len = sl->handler->udp_reply(sl, &dg, buf, UDP_DGRAM_MAX);
	if (len < 0)
		return 0;
	if (udp_peer_port(dg.peer) < UDP_PRIVILEGED_PORT) {
		STATS_ADD(stats, errors, 1);
		return 0;
	}
	ul->iov_out[j].iov_base = buf;
	ul->iov_out[j].iov_len = (size_t)len;
	out = &ul->out[j].msg_hdr;
	memset(out, 0, sizeof(*out));
	out->msg_name = &ul->peer[i];
	out->msg_namelen = in->msg_namelen;
	out->msg_iov = &ul->iov_out[j];
	out->msg_iovlen = 1;
	out->msg_controllen = udp_reply_cmsg(in, &ul->cmsg_out[j]);
	out->msg_control = out->msg_controllen ? ul->cmsg_out[j].buf : NULL;
	return 1;
}

/*
 * Sends n replies.  A reply the kernel refuses (say, an unreachable
 * peer) is skipped; a full send buffer drops the rest, as UDP may.
 */
static void
udp_send(struct udp_listener *ul, int n)
{
	struct stats_slot	*stats = ul->sl->serve->stats;
	int			 sent = 0, r, k;

	while (sent < n) {
		r = sendmmsg(ul->sl->fd, ul->out + sent,
		    (unsigned int)(n - sent), MSG_DONTWAIT);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS) {
				STATS_ADD(stats, errors, (uint64_t)(n - sent));
				return;
			}
			log_debug("listener \"%s\": sendmmsg: %s",
			    ul->sl->conf->name, strerror(errno));
			STATS_ADD(stats, errors, 1);
			sent++;
			continue;
		}
		for (k = sent; k < sent + r; k++)
			STATS_ADD(stats, bytes_out, ul->out[k].msg_len);
		sent += r;
	}
}

/* Reads until the socket is empty, but at most UDP_ROUNDS batches. */
static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener	*ul = arg;
	int			 round, n, i, nout;

	for (round = 0; round < UDP_ROUNDS; round++) {
		udp_prepare(ul);
		n = recvmmsg(fd, ul->in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				log_debug("listener \"%s\": recvmmsg: %s",
				    ul->sl->conf->name, strerror(errno));
				STATS_ADD(ul->sl->serve->stats, errors, 1);
			}
			return;
		}
		for (i = 0, nout = 0; i < n; i++)
			nout += udp_answer(ul, i, nout);
		udp_send(ul, nout);
		if (n < UDP_BATCH)
			return;
	}
}

/* listener.c asks for the arrival address already; asking again is cheap. */
static int
udp_want_pktinfo(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 on = 1, r;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -errno;
	if (ss.ss_family == AF_INET)
		r = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	else if (ss.ss_family == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on));
	else
		return -EAFNOSUPPORT;
	return r == -1 ? -errno : 0;
}

static void
udp_listener_free(struct udp_listener *ul)
{
	if (ul->ev != NULL)
		event_free(ul->ev);
	free(ul->inbuf);
	free(ul->outbuf);
	free(ul);
}

int
udp_serve_start(struct serve_listener *sl)
{
	struct udp_listener	*ul;
	int			 r;

	if (sl->io != NULL)
		return -EALREADY;
	if (sl->handler == NULL || !sl->handler->udp ||
	    sl->handler->udp_reply == NULL)
		return -EPROTONOSUPPORT;
	if ((r = udp_want_pktinfo(sl->fd)) < 0)
		return r;
	if ((ul = calloc(1, sizeof(*ul))) == NULL)
		return -ENOMEM;
	ul->sl = sl;
	ul->inbuf = malloc((size_t)UDP_BATCH * UDP_DGRAM_MAX);
	ul->outbuf = malloc((size_t)UDP_BATCH * UDP_DGRAM_MAX);
	ul->ev = event_new(sl->serve->base, sl->fd, EV_READ | EV_PERSIST,
	    udp_read_cb, ul);
	if (ul->inbuf == NULL || ul->outbuf == NULL || ul->ev == NULL ||
	    event_add(ul->ev, NULL) == -1) {
		udp_listener_free(ul);
		return -ENOMEM;
	}
	sl->io = ul;
	return 0;
}

/*
 * Stops reading, once what already waits is answered: a socket that no
 * later worker takes over closes with its queue, and the datagrams the
 * kernel put there before the steering moved off it would be lost.  The
 * socket itself stays its opener's.
 */
void
udp_serve_stop(struct serve_listener *sl)
{
	if (sl->io == NULL)
		return;
	udp_read_cb(sl->fd, EV_READ, sl->io);
	udp_listener_free(sl->io);
	sl->io = NULL;
}
