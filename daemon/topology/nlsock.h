/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A netlink request and its answer, read within bounds: the socket and
 * the receive loop that sock_diag and the netdev family share.
 */
#ifndef AFFINITYD_NLSOCK_H
#define AFFINITYD_NLSOCK_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

#define NLSOCK_BUFSIZE		32768	/* the kernel's largest dump message */
#define NLSOCK_TIMEOUT_SEC	5

/*
 * Parses one read: 0 when the answer is complete, 1 for more, or a
 * negative errno.
 */
typedef int	(*nlsock_parse_fn)(const void *buf, size_t len, uint32_t seq,
		    uint32_t portid, void *arg);

/*
 * nlsock.c
 *
 * nlsock_msg_ok() is mnl_nlmsg_ok() without its flaw: libmnl compares the
 * message's length as a signed int, so a length of 2 GiB or more passes
 * and the next message lies far outside the buffer.  Loops over received
 * messages use it instead.
 */
int	 nlsock_msg_ok(const struct nlmsghdr *nlh, int len);
int	 nlsock_open(int bus, struct mnl_socket **nlp);
int	 nlsock_exchange(struct mnl_socket *nl, void *buf,
	    const struct nlmsghdr *req, unsigned int max_reads,
	    nlsock_parse_fn parse, void *arg);

#endif
