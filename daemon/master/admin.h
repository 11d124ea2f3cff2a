/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin unix socket: the master answers one request per connection
 * ("status", "reload") with one JSON document; the client side is what
 * "affinityd status" and "affinityd reload" use.
 */
#ifndef AFFINITYD_ADMIN_H
#define AFFINITYD_ADMIN_H

#include <sys/stat.h>

#include <jansson.h>

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
 * Seconds a client has, in all, to send its command, and then to read the
 * reply; bytes trickling in do not extend it.
 */
#define ADMIN_TIMEOUT		5.0
/* Longest command line, in bytes. */
#define ADMIN_LINE_MAX		256
/*
 * Connections served at once.  A new client at the limit closes the
 * oldest one not waiting for a reload; when all wait for one, new clients
 * wait in the listen backlog.
 */
#define ADMIN_CONNS_MAX		64

/*
 * admin.c: server (master)
 *
 * admin_listen() binds PATH (mode 0660; its missing parent directory is
 * made with mode 0750), replacing a stale socket file but refusing one a
 * live process answers on.  On failure it returns NULL and sets *why to a
 * malloc'd message.  The process must ignore SIGPIPE.  The ops must not
 * call admin_close().  admin_reply() answers a reload and takes over
 * doc's reference (NULL answers with an error); it is valid after the
 * client went away and after admin_close(), and frees req.
 * admin_set_timeout() changes ADMIN_TIMEOUT for connections accepted
 * later (tests).
 */
struct admin	*admin_listen(struct event_base *base, const char *path,
		    const struct admin_ops *ops, void *arg, char **why);
void		 admin_close(struct admin *admin);
void		 admin_reply(struct admin_req *req, json_t *doc);
void		 admin_set_timeout(double seconds);

/*
 * admin_dir_check() lstat()s the directory holding the socket PATH into
 * *st and refuses a symbolic link or a non-directory there; both the
 * daemon and the client use it before trusting that directory's owner.
 * NULL when it is a directory, else a malloc'd reason naming it.
 */
char		*admin_dir_check(const char *path, struct stat *st);

/*
 * admin.c: client
 *
 * Sends COMMAND and reads the JSON object that answers it into *reply.
 * Returns 0; -1 when the daemon answered {"error": ...}, whose text is
 * then *why; or another -errno when no answer could be had (-ENOENT and
 * -ECONNREFUSED: not running, -ETIMEDOUT, -EPROTO: not JSON), with a
 * message naming PATH in *why.  *why is malloc'd.  admin_request() waits
 * ADMIN_TIMEOUT seconds for each step; admin_request_timeout() waits
 * SECONDS (0: forever), e.g. for "reload" with --wait.
 */
int		 admin_request(const char *path, const char *command,
		    json_t **reply, char **why);
int		 admin_request_timeout(const char *path, const char *command,
		    double seconds, json_t **reply, char **why);

#endif
