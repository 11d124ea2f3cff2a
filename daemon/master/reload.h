/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reload requests the admin socket brought in, and their answers:
 * those the running reload will answer, and those that wait for the
 * reload after it.  What a reload does is the master's business.
 */
#ifndef AFFINITYD_RELOAD_H
#define AFFINITYD_RELOAD_H

#include <stddef.h>

#include <jansson.h>

struct admin_req;

/* Requests answered together; grows as they come. */
struct reload_reqs {
	struct admin_req	**v;
	size_t			 n;
	size_t			 cap;
};

struct reload_queue {
	struct reload_reqs	 running;	/* the reload running */
	struct reload_reqs	 waiting;	/* the one after it */
	int			 pending;	/* asked for while one ran */
};

/*
 * reload.c
 *
 * reload_refuse() answers req (NULL, a signal: nothing) with an error of
 * code (an ADMIN_CODE_*).  reload_request() files a request (NULL: a
 * signal) and says whether the caller starts a reload now (1) or one runs
 * (busy) and it was queued for the next (0).  reload_next() moves the
 * waiting requests to running once the running reload was answered (1
 * when a reload was asked for meanwhile, to be started).
 * reload_answer_ok() and reload_answer() (with doc, whose reference it
 * takes: an admin_error_doc(), say) answer the running requests;
 * reload_refuse_all() answers every request, running and waiting (the
 * daemon stops), and frees the queue.
 */
void	 reload_refuse(struct admin_req *req, int code, const char *why);
int	 reload_request(struct reload_queue *q, struct admin_req *req,
	    int busy);
int	 reload_next(struct reload_queue *q);
void	 reload_answer_ok(struct reload_queue *q, unsigned int generation);
void	 reload_answer(struct reload_queue *q, json_t *doc);
void	 reload_refuse_all(struct reload_queue *q, int code, const char *why);

#endif
