/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reload requests the admin socket brought in, and their answers:
 * those the running reload will answer, and those that wait for the
 * reload after it.  What a reload does is the master's business.
 */
#ifndef AFFINITYD_RELOAD_H
#define AFFINITYD_RELOAD_H

#include <stddef.h>

struct admin_req;

#define RELOAD_MAX_REQS	16

struct reload_queue {
	struct admin_req	*running[RELOAD_MAX_REQS];	/* the reload running */
	size_t			 nrunning;
	struct admin_req	*waiting[RELOAD_MAX_REQS];	/* the one after it */
	size_t			 nwaiting;
	int			 pending;	/* asked for while one ran */
};

/* reload.c */
void	 reload_refuse(struct admin_req *req, const char *why);
int	 reload_request(struct reload_queue *q, struct admin_req *req,
	    int busy);
int	 reload_next(struct reload_queue *q);
void	 reload_answer_ok(struct reload_queue *q, unsigned int generation);
void	 reload_answer_error(struct reload_queue *q, const char *why);

#endif
