/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * discard (RFC 863): everything read is dropped, nothing is ever sent.
 * The connection ends when the peer closes; a drain lets it run until
 * then or until the worker's shutdown timeout.
 */
#include "acconfig.h"

#include "worker/handler.h"
#include "worker/serve.h"

/* No read hook: serve.c drops (and counts) the input. */
static const struct serve_conn_ops discard_ops = {
	.read = NULL,
};

static void
discard_tcp_start(struct serve_listener *sl, evutil_socket_t fd,
    int incoming_cpu)
{
	serve_conn_new(sl, fd, sizeof(struct serve_conn), &discard_ops);
}

static ssize_t
discard_udp_reply(struct serve_listener *sl, const struct serve_datagram *dg,
    void *out, size_t outcap)
{
	return -1;
}

const struct handler handler_discard = {
	.name = "discard",
	.tcp = 1,
	.udp = 1,
	.tcp_start = discard_tcp_start,
	.udp_reply = discard_udp_reply,
};
