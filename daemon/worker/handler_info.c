/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * info: tells the client where its flow landed, as the one-line contract
 * of DESIGN.md.  TCP: the line is written on accept and the connection
 * closes once it is written (a drain changes nothing).  UDP: every
 * datagram of at least INFO_UDP_MIN_REQUEST bytes is answered with the
 * line, without incoming_cpu, which an unconnected datagram does not have.
 */
#include "acconfig.h"

#include <event2/buffer.h>

#include "worker/handler.h"
#include "worker/serve.h"
#include "common/stats.h"

/*
 * A shorter datagram (an empty one, say) gets no answer: its source can be
 * forged, and a reply of some 40 bytes for nothing makes a cheap reflector
 * against that address.  Two bytes, as in "x\n", is what the contract's
 * checks send; a larger minimum would refuse them.
 */
#define INFO_UDP_MIN_REQUEST	2

static const struct serve_conn_ops info_ops = {
	.read = NULL,
};

static void
info_tcp_start(struct serve_listener *sl, evutil_socket_t fd,
    int incoming_cpu)
{
	struct serve_conn	*c;
	char			 line[256];
	int			 n;

	if ((c = serve_conn_new(sl, fd, sizeof(*c), &info_ops)) == NULL)
		return;
	n = serve_info_line(sl, incoming_cpu, line, sizeof(line));
	if (n < 0 || evbuffer_add(c->out, line, (size_t)n) == -1) {
		STATS_ADD(sl->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	serve_conn_finish(c);
}

static ssize_t
info_udp_reply(struct serve_listener *sl, const struct serve_datagram *dg,
    void *out, size_t outcap)
{
	int	 n;

	if (dg->len < INFO_UDP_MIN_REQUEST)
		return -1;
	if ((n = serve_info_line(sl, SERVE_NO_INCOMING_CPU, out, outcap)) < 0)
		return -1;
	return n;
}

const struct handler handler_info = {
	.name = "info",
	.tcp = 1,
	.udp = 1,
	.speaks_first = 1,
	.tcp_start = info_tcp_start,
	.udp_reply = info_udp_reply,
};
