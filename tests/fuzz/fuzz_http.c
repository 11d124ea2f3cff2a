/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The http handler through its read path: the input is what a peer sends
 * on a connection (a socketpair) served by handler_http on an event loop
 * in this process.  The connection must end (the peer half-closes after
 * sending), every answer must be an HTTP/1.1 status line, and nothing may
 * leak or overflow.  The first byte picks how the input is cut into
 * writes, so requests split anywhere.
 */
#include "acconfig.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "fuzz.h"
#include "worker/handler.h"
#include "worker/serve.h"
#include "common/stats.h"

static struct event_base	*fuzz_base;
static struct serve		 fuzz_serve;
static struct stats_slot	 fuzz_slot;
static struct listener_conf	 fuzz_lc;
static struct serve_listener	 fuzz_sl;

static void
fuzz_http_init(void)
{
	if ((fuzz_base = event_base_new()) == NULL)
		abort();
	fuzz_serve.base = fuzz_base;
	fuzz_serve.stats = &fuzz_slot;
	fuzz_serve.pid = getpid();
	fuzz_lc.name = "http";
	fuzz_lc.handler = "http";
	fuzz_lc.protocol = LISTEN_TCP;
	fuzz_lc.http_body = "hello\n";
	fuzz_sl.serve = &fuzz_serve;
	fuzz_sl.conf = &fuzz_lc;
	fuzz_sl.handler = &handler_http;
	fuzz_sl.fd = -1;
}

/* Each answer starts with a status line; bodies are "hello\n" or errors. */
static void
fuzz_check_output(const char *out, size_t len)
{
	if (len > 0 && (len < 9 || memcmp(out, "HTTP/1.1 ", 9) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 buf[65536], *out = NULL;
	size_t	 sent = 0, got = 0, step;
	ssize_t	 n;
	int	 sv[2], turns, closed = 0;

	if (fuzz_base == NULL)
		fuzz_http_init();
	if (size == 0)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		abort();
	serve_conn_start(&fuzz_serve);
	fuzz_sl.handler->tcp_start(&fuzz_sl, sv[0], 0);
	for (turns = 0; fuzz_serve.open_conns > 0; turns++) {
		if (turns > 100000)
			abort();	/* the connection never ended */
		if (sent < size) {
			n = send(sv[1], data + sent, size - sent < step ?
			    size - sent : step, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				sent = size;
		}
		if (sent == size && !closed) {
			shutdown(sv[1], SHUT_WR);
			closed = 1;
		}
		/* Blocks for the lingering close's timer when nothing else. */
		event_base_loop(fuzz_base, EVLOOP_ONCE |
		    (sent < size ? EVLOOP_NONBLOCK : 0));
		while ((n = recv(sv[1], buf, sizeof(buf), 0)) > 0) {
			/* Keep the first bytes only: enough to check. */
			if (got < 64) {
				if ((out = realloc(out, got + (size_t)n)) ==
				    NULL)
					abort();
				memcpy(out + got, buf, (size_t)n);
			}
			got += (size_t)n;
		}
	}
	fuzz_check_output(out, got < 64 ? got : 64);
	free(out);
	close(sv[1]);
	return 0;
}
