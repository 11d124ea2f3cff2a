/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket's request parser: the input is what a client sends on
 * a real connection to an admin server in this process; the server must
 * answer with one JSON object per connection (or close), an error with
 * its code.
 */
#include "acconfig.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/admin_proto.h"
#include "master/admin.h"
#include "fuzz.h"

static struct event_base	*fuzz_base;
static struct admin		*fuzz_admin;
static char			 fuzz_path[108];

static json_t *
fuzz_status(void *arg)
{
	(void)arg;
	return json_pack("{s:[], s:i}", "workers", "generation", 1);
}

/* Answers at once, from the request's own call. */
static void
fuzz_reload(void *arg, struct admin_req *req)
{
	(void)arg;
	admin_reply(req, json_pack("{s:b, s:i}", "reloaded", 1,
	    "generation", 2));
}

static const struct admin_ops fuzz_ops = { fuzz_status, fuzz_reload };

static void
fuzz_admin_init(void)
{
	char	*why = NULL;

	snprintf(fuzz_path, sizeof(fuzz_path), "%s/admin.sock",
	    fuzz_scratch());
	if ((fuzz_base = event_base_new()) == NULL)
		abort();
	if ((fuzz_admin = admin_listen(fuzz_base, fuzz_path, &fuzz_ops, NULL,
	    &why)) == NULL) {
		fprintf(stderr, "fuzz: admin_listen: %s\n", why);
		exit(2);
	}
}

static int
fuzz_connect(void)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 fd;

	strcpy(sun.sun_path, fuzz_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1)
		abort();
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*doc;
	char	 buf[65536], *reply = NULL;
	size_t	 sent = 0, got = 0;
	ssize_t	 n;
	int	 fd, eof = 0, turns;

	if (fuzz_base == NULL)
		fuzz_admin_init();
	fd = fuzz_connect();
	/* Bounded: the server's deadline ends any connection in seconds. */
	for (turns = 0; !eof && turns < 200000; turns++) {
		if (sent < size && (n = send(fd, data + sent, size - sent,
		    MSG_NOSIGNAL)) > 0)
			sent += (size_t)n;
		else if (sent < size && n == -1 && errno != EAGAIN)
			sent = size;	/* the server closed: stop */
		if (sent == size)
			shutdown(fd, SHUT_WR);
		event_base_loop(fuzz_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			if ((reply = realloc(reply, got + (size_t)n + 1)) ==
			    NULL)
				abort();
			memcpy(reply + got, buf, (size_t)n);
			got += (size_t)n;
		}
		eof = n == 0 || (n == -1 && errno != EAGAIN);
	}
	if (!eof)
		abort();	/* the server never closed */
	/* One JSON object and a newline, or nothing; an error has a code. */
	if (got > 0) {
		reply[got] = '\0';
		if (reply[got - 1] != '\n' ||
		    (doc = json_loads(reply, 0, NULL)) == NULL ||
		    !json_is_object(doc))
			abort();
		if (json_object_get(doc, ADMIN_KEY_ERROR) != NULL &&
		    !json_is_integer(json_object_get(doc, ADMIN_KEY_CODE)))
			abort();
		json_decref(doc);
	}
	free(reply);
	close(fd);
	return 0;
}
