/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo (RFC 862): every byte read is written back.  Input moves to the
 * output only while the output backlog is under SERVE_ECHO_BACKLOG (and
 * the worker's buffer budget allows, see serve_conn_room()); past
 * that reading stops (at most SERVE_INPUT_MAX waits in the input), so a
 * peer that sends but never reads holds a fixed amount of memory and its
 * own sends block.  A drain lets a connection
 * run until the peer closes or the worker's shutdown timeout.
 */
#include "acconfig.h"

#include <string.h>

#include <event2/buffer.h>

#include "worker/handler.h"
#include "worker/serve.h"
#include "common/stats.h"

/*
 * Moves as much input as the backlog allows, and stops reading while the
 * backlog is full; ends once everything the peer sent before its FIN is
 * written back.
 */
static void
echo_pump(struct serve_conn *c)
{
	struct evbuffer	*in = c->in, *out = c->out;
	size_t		 room = serve_conn_room(c, SERVE_ECHO_BACKLOG);

	if (room > 0 && evbuffer_remove_buffer(in, out, room) == -1) {
		STATS_ADD(c->serve->stats, errors, 1);
		serve_conn_close(c);
		return;
	}
	if (c->peer_eof && evbuffer_get_length(in) == 0) {
		serve_conn_finish(c);
		return;
	}
	serve_conn_hold(c, serve_conn_room(c, SERVE_ECHO_BACKLOG) == 0);
}

static const struct serve_conn_ops echo_ops = {
	.read = echo_pump,
	.write = echo_pump,
	.eof = echo_pump,
};

static void
echo_tcp_start(struct serve_listener *sl, evutil_socket_t fd,
    int incoming_cpu)
{
	serve_conn_new(sl, fd, sizeof(struct serve_conn), &echo_ops);
}

static ssize_t
echo_udp_reply(struct serve_listener *sl, const struct serve_datagram *dg,
    void *out, size_t outcap)
{
	if (dg->len > outcap)
		return -1;
	memcpy(out, dg->data, dg->len);
	return (ssize_t)dg->len;
}

const struct handler handler_echo = {
	.name = "echo",
	.tcp = 1,
	.udp = 1,
	.tcp_start = echo_tcp_start,
	.udp_reply = echo_udp_reply,
};
