/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The queue of reload requests.  A request that arrives while no reload
 * runs is answered by the one it starts; requests that arrive while one
 * runs wait, and are answered by the single reload that follows it (so
 * a burst of requests costs two reloads, not one each, and requests that
 * share a reload share its outcome).  A request (or a SIGHUP, which has
 * no request) never gets lost, however many come: only running out of
 * memory refuses one.
 */
#include "acconfig.h"

#include <stdlib.h>

#include <jansson.h>

#include "common/admin_proto.h"
#include "master/admin.h"
#include "master/reload.h"

void
reload_refuse(struct admin_req *req, int code, const char *why)
{
	if (req != NULL)
		admin_reply(req, admin_error_doc(code, "%s", why));
}

/* Adds req to reqs; a request there is no room for is refused. */
static void
reload_add(struct reload_reqs *reqs, struct admin_req *req)
{
	struct admin_req	**grown;
	size_t			  cap;

	if (req == NULL)
		return;
	if (reqs->n == reqs->cap) {
		cap = reqs->cap ? 2 * reqs->cap : 16;
		if ((grown = reallocarray(reqs->v, cap, sizeof(*grown))) ==
		    NULL) {
			reload_refuse(req, ADMIN_CODE_OSERR,
			    "reload failed: out of memory");
			return;
		}
		reqs->v = grown;
		reqs->cap = cap;
	}
	reqs->v[reqs->n++] = req;
}

int
reload_request(struct reload_queue *q, struct admin_req *req, int busy)
{
	if (busy) {
		q->pending = 1;
		reload_add(&q->waiting, req);
		return 0;
	}
	reload_add(&q->running, req);
	return 1;
}

int
reload_next(struct reload_queue *q)
{
	size_t	 i;

	if (!q->pending)
		return 0;
	q->pending = 0;
	for (i = 0; i < q->waiting.n; i++)
		reload_add(&q->running, q->waiting.v[i]);
	q->waiting.n = 0;
	return 1;
}

/* Answers every request of reqs with doc, whose reference it takes. */
static void
reload_answer_reqs(struct reload_reqs *reqs, json_t *doc)
{
	size_t	 i;

	for (i = 0; i < reqs->n; i++)
		admin_reply(reqs->v[i], doc != NULL ? json_deep_copy(doc) :
		    NULL);
	reqs->n = 0;
	json_decref(doc);
}

void
reload_answer(struct reload_queue *q, json_t *doc)
{
	reload_answer_reqs(&q->running, doc);
}

void
reload_answer_ok(struct reload_queue *q, unsigned int generation)
{
	reload_answer(q, json_pack("{s:b, s:i}", ADMIN_KEY_OK, 1,
	    ADMIN_KEY_GENERATION, (int)generation));
}

void
reload_refuse_all(struct reload_queue *q, int code, const char *why)
{
	reload_answer(q, admin_error_doc(code, "%s", why));
	reload_answer_reqs(&q->waiting, admin_error_doc(code, "%s", why));
	q->pending = 0;
	free(q->running.v);
	free(q->waiting.v);
	q->running = (struct reload_reqs){ 0 };
	q->waiting = (struct reload_reqs){ 0 };
}
