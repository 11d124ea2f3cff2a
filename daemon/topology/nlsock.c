/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Netlink sockets that never hang their caller: a receive timeout, and a
 * bound on the reads of one answer.  The kernel answers at once, so a
 * timeout means something is wrong, not slow.  Also the check that keeps
 * a walk over received messages inside the buffer.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>

#include <libmnl/libmnl.h>

#include "topology/nlsock.h"

int
nlsock_msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) &&
	    nlh->nlmsg_len <= (unsigned int)len && mnl_nlmsg_ok(nlh, len);
}

int
nlsock_open(int bus, struct mnl_socket **nlp)
{
	struct mnl_socket	*nl;
	struct timeval		 tv = { .tv_sec = NLSOCK_TIMEOUT_SEC };
	int			 error;

	if ((nl = mnl_socket_open2(bus, SOCK_CLOEXEC)) == NULL)
		return -errno;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		error = errno;
		mnl_socket_close(nl);
		return -error;
	}
	*nlp = nl;
	return 0;
}

/*
 * Sends req and hands each read (into buf, NLSOCK_BUFSIZE bytes) to parse
 * until it says the answer is complete, for at most max_reads reads.
 */
int
nlsock_exchange(struct mnl_socket *nl, void *buf, const struct nlmsghdr *req,
    unsigned int max_reads, nlsock_parse_fn parse, void *arg)
{
	uint32_t	 seq = req->nlmsg_seq;
	unsigned int	 i;
	ssize_t		 n;
	int		 r;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) == -1)
		return -errno;
	for (i = 0; i < max_reads; i++) {
		n = mnl_socket_recvfrom(nl, buf, NLSOCK_BUFSIZE);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		r = parse(buf, (size_t)n, seq, mnl_socket_get_portid(nl), arg);
		if (r <= 0)
			return r;
	}
	return -EOVERFLOW;
}
