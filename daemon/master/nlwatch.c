/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Watching rtnetlink for link and address changes: a non-blocking socket
 * in the link, IPv4 and IPv6 address groups, read from the owner's
 * libevent loop.  What changed is only named; the owner re-reads the
 * machine.  Nothing here logs.
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include <event2/event.h>

#include "topology/nlsock.h"
#include "master/nlwatch.h"

#define NLWATCH_MAX_READS	64	/* per wake-up; the rest comes next */

struct nlwatch {
	struct mnl_socket	*nl;
	struct event		*ev;
	nlwatch_fn		*fn;
	void			*arg;
	char			 what[64];	/* the first event of a batch */
};

static int
nlwatch_attr(const struct nlattr *attr, void *data)
{
	const char	**name = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* Names the first event of a batch. */
static int
nlwatch_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nlwatch	*nw = data;
	const char	*name = NULL;

	if (nw->what[0] != '\0')
		return MNL_CB_OK;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), nlwatch_attr,
		    &name);
		snprintf(nw->what, sizeof(nw->what), "link %s",
		    name != NULL ? name : "?");
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		snprintf(nw->what, sizeof(nw->what), "address");
		break;
	}
	return MNL_CB_OK;
}

static void
nlwatch_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nlwatch	*nw = arg;
	char		 buf[NLSOCK_BUFSIZE];
	unsigned int	 i;
	ssize_t		 n;

	nw->what[0] = '\0';
	for (i = 0; i < NLWATCH_MAX_READS; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOBUFS) {
			snprintf(nw->what, sizeof(nw->what), "events lost");
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, nlwatch_msg, nw);
	}
	if (nw->what[0] != '\0')
		nw->fn(nw->what, nw->arg);
}

struct nlwatch *
nlwatch_open(struct event_base *base, nlwatch_fn *fn, void *arg, char **why)
{
	struct nlwatch	*nw;
	const char	*step = "out of memory";
	int		 error = ENOMEM;

	*why = NULL;
	if ((nw = calloc(1, sizeof(*nw))) == NULL)
		goto bad;
	nw->fn = fn;
	nw->arg = arg;
	step = "socket";
	if ((nw->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == NULL) {
		error = errno;
		goto bad;
	}
	step = "bind to the link and address groups";
	if (mnl_socket_bind(nw->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) < 0) {
		error = errno;
		goto bad;
	}
	step = "event";
	nw->ev = event_new(base, mnl_socket_get_fd(nw->nl),
	    EV_READ | EV_PERSIST, nlwatch_read_cb, nw);
	if (nw->ev == NULL || event_add(nw->ev, NULL) == -1) {
		error = ENOMEM;
		goto bad;
	}
	return nw;
bad:
	if (asprintf(why, "rtnetlink: %s: %s", step, strerror(error)) == -1)
		*why = NULL;
	nlwatch_close(nw);
	return NULL;
}

void
nlwatch_close(struct nlwatch *nw)
{
	if (nw == NULL)
		return;
	if (nw->ev != NULL)
		event_free(nw->ev);
	if (nw->nl != NULL)
		mnl_socket_close(nw->nl);
	free(nw);
}
