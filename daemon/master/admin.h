/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin unix socket's server: the master answers one request per
 * connection ("status", "reload") with one JSON document (the format is
 * common/admin_proto.h; the client is cli/admin_client.h).
 */
#ifndef AFFINITYD_ADMIN_H
#define AFFINITYD_ADMIN_H

#include <jansson.h>

#include "common/admin_proto.h"
#include "common/util.h"

struct event_base;
struct admin;
struct admin_req;

struct admin_ops {
	/* Returns a new reference to the status document. */
	json_t	*(*status)(void *arg);
	/* Starts a reload; answers later with admin_reply(). May be NULL. */
	void	 (*reload)(void *arg, struct admin_req *req);
};

/*
 * Connections served at once.  A new client at the limit closes the
 * oldest one not waiting for a reload; when all wait for one, new clients
 * wait in the listen backlog.
 */
#define ADMIN_CONNS_MAX		64

/*
 * admin.c
 *
 * admin_listen() binds PATH (mode 0660; its missing parent directory is
 * made with mode 0750), replacing a stale socket file but refusing one a
 * live process answers on.  On failure it returns NULL and sets *why to a
 * malloc'd message.  The process must ignore SIGPIPE.  The ops must not
 * call admin_close().  admin_reply() answers a reload and takes over
 * doc's reference (NULL answers with an error); it is valid after the
 * client went away and after admin_close(), and frees req.
 * admin_error_doc() is the answer {"error": TEXT, "code": CODE} (text
 * that is not UTF-8 is escaped), or NULL when out of memory.
 * admin_set_timeout() changes ADMIN_TIMEOUT for connections accepted
 * later (tests).
 */
struct admin	*admin_listen(struct event_base *base, const char *path,
		    const struct admin_ops *ops, void *arg, char **why);
void		 admin_close(struct admin *admin);
void		 admin_reply(struct admin_req *req, json_t *doc);
json_t		*admin_error_doc(int code, const char *fmt, ...)
		    PRINTFLIKE(2, 3);
void		 admin_set_timeout(double seconds);

#endif
