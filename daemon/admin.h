/*
 * The admin unix socket: the master answers one request per connection
 * ("status", "reload") with one JSON document; the client side is what
 * "affinityd status" and "affinityd reload" use.
 */
#ifndef AFFINITYD_ADMIN_H
#define AFFINITYD_ADMIN_H

#include <stdio.h>

#include <jansson.h>

struct event_base;
struct admin;
struct admin_req;
struct stats_slot;
struct strv;

struct admin_ops {
	/* Returns a new reference to the status document. */
	json_t	*(*status)(void *arg);
	/* Starts a reload; answers later with admin_reply(). May be NULL. */
	void	 (*reload)(void *arg, struct admin_req *req);
};

/* admin.c: server (master) */
struct admin	*admin_listen(struct event_base *base, const char *path,
		    const struct admin_ops *ops, void *arg, char **why);
void		 admin_close(struct admin *admin);
void		 admin_reply(struct admin_req *req, json_t *doc);

/* admin.c: client */
int		 admin_request(const char *path, const char *command,
		    json_t **reply, char **why);

/* status.c */
json_t	*status_worker_json(unsigned int id, unsigned int cpu,
	    const struct strv *queues, const struct stats_slot *slot,
	    unsigned int restarts);
int	 status_print_table(FILE *out, json_t *doc);

#endif
